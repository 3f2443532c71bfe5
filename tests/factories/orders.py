from datetime import timedelta
from decimal import Decimal

import factory

from app.auth.models import UserRole
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.orders.checkout import order_item_snapshot
from app.orders.models import (
    Address,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from tests.factories.auth import UserFactory
from tests.factories.base import Factory


class DeliveryZoneFactory(Factory):
    class Meta:
        model = DeliveryZone

    name = factory.Sequence(lambda n: f"Zone {n}")
    counties = "Nairobi"
    fee = Decimal("250.00")
    estimated_days = 1
    free_delivery_threshold = None


def first_county(zone: DeliveryZone) -> str:
    """A county the zone covers: addresses and orders are in their zone."""
    return zone.counties.split(",")[0].strip()


class AddressFactory(Factory):
    class Meta:
        model = Address

    user_id = factory.LazyAttribute(lambda o: UserFactory(role=UserRole.CUSTOMER).id)
    label = "Home"
    recipient_name = "Wanjiku Kamau"
    phone = "254712345678"
    county = factory.LazyAttribute(lambda o: first_county(o.delivery_zone))
    town = "Westlands"
    street = "Waiyaki Way 12"
    delivery_zone = factory.SubFactory(DeliveryZoneFactory)
    is_default = False


class OrderFactory(Factory):
    """An order with its items built from ``items=[(product, quantity), ...]``.

    Stock is NOT decremented (use the checkout operation for that); the money is
    computed exactly like checkout does, from each product's current price and rate.
    """

    class Meta:
        model = Order

    order_number = factory.Sequence(lambda n: f"QG-20261123-{n:06d}")
    customer = factory.SubFactory(UserFactory, role=UserRole.CUSTOMER)
    status = OrderStatus.PENDING
    payment_status = PaymentStatus.PENDING
    payment_method = PaymentMethod.MPESA
    delivery_zone = factory.SubFactory(DeliveryZoneFactory)
    delivery_fee = factory.LazyAttribute(lambda o: o.delivery_zone.fee)
    subtotal = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.subtotal + o.delivery_fee)
    payment_due_at = factory.LazyAttribute(
        lambda o: (
            None if o.payment_method == PaymentMethod.CASH else utcnow() + timedelta(minutes=30)
        )
    )
    recipient_name = "Wanjiku Kamau"
    recipient_phone = "254712345678"
    delivery_county = factory.LazyAttribute(lambda o: first_county(o.delivery_zone))
    delivery_town = "Westlands"
    delivery_street = "Waiyaki Way 12"

    class Params:
        paid = factory.Trait(
            status=OrderStatus.PAID,
            payment_status=PaymentStatus.COMPLETED,
            paid_at=factory.LazyFunction(utcnow),
        )
        processing = factory.Trait(
            status=OrderStatus.PROCESSING,
            payment_status=PaymentStatus.COMPLETED,
            paid_at=factory.LazyFunction(utcnow),
        )
        shipped = factory.Trait(
            status=OrderStatus.SHIPPED,
            payment_status=PaymentStatus.COMPLETED,
            paid_at=factory.LazyFunction(utcnow),
        )
        expired = factory.Trait(
            payment_due_at=factory.LazyFunction(lambda: utcnow() - timedelta(minutes=1))
        )
        cash = factory.Trait(payment_method=PaymentMethod.CASH)
        card = factory.Trait(payment_method=PaymentMethod.CARD)

    @factory.post_generation
    def items(order, create, extracted, **kwargs):
        for product, quantity in extracted or ():
            order.items.append(order_item_snapshot(product, quantity))
        order.subtotal = sum((item.line_total for item in order.items), Decimal("0.00"))
        order.total = order.subtotal + order.delivery_fee
        if create:
            factory_session = OrderFactory._meta.sqlalchemy_session_factory()
            factory_session.commit()
