from decimal import Decimal

import factory

from app.auth.models import UserRole
from app.orders.models import (
    Address,
    DeliveryZone,
    Order,
    OrderItem,
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


class AddressFactory(Factory):
    class Meta:
        model = Address

    user_id = factory.LazyAttribute(lambda o: UserFactory(role=UserRole.CUSTOMER).id)
    label = "Home"
    recipient_name = "Wanjiku Kamau"
    phone = "254712345678"
    county = "Nairobi"
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
    total = Decimal("0.00")
    recipient_name = "Wanjiku Kamau"
    recipient_phone = "254712345678"
    delivery_county = "Nairobi"
    delivery_town = "Westlands"
    delivery_street = "Waiyaki Way 12"

    class Params:
        paid = factory.Trait(status=OrderStatus.PAID, payment_status=PaymentStatus.COMPLETED)
        cash = factory.Trait(payment_method=PaymentMethod.CASH)
        card = factory.Trait(payment_method=PaymentMethod.CARD)

    @factory.post_generation
    def items(order, create, extracted, **kwargs):
        for product, quantity in extracted or ():
            line_total = product.price * quantity
            rate = product.effective_commission_rate
            order.items.append(
                OrderItem(
                    product_id=product.id,
                    supplier_id=product.supplier_id,
                    product_name=product.name,
                    product_sku=product.sku,
                    unit_price=product.price,
                    quantity=quantity,
                    line_total=line_total,
                    commission_rate=rate,
                    commission_amount=(line_total * rate).quantize(Decimal("0.01")),
                )
            )
        order.subtotal = sum((item.line_total for item in order.items), Decimal("0.00"))
        order.total = order.subtotal + order.delivery_fee
        if create:
            factory_session = OrderFactory._meta.sqlalchemy_session_factory()
            factory_session.commit()

