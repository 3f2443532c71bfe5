"""A small shop driven through the real operations, so every signal (and rollup) fires."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.orders.checkout import place_order
from app.orders.models import OrderStatus, PaymentMethod, PaymentStatus
from app.orders.operations import cancel_order, set_payment_status, set_status
from app.payments.attempts import confirm_cash_payment
from app.payments.models import Refund, RefundStatus
from app.payments.refunds import change_refund_status
from tests.factories.auth import UserFactory
from tests.factories.cart import CartFactory
from tests.factories.orders import AddressFactory, DeliveryZoneFactory
from tests.factories.payments import PaymentFactory

SHIPPING = (
    OrderStatus.QUALITY_APPROVED,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.ARRIVED,
    OrderStatus.DELIVERED,
)


class Shop:
    """``place``, ``pay``, ``deliver``, ``cancel``, ``settle_refund``: each one commit."""

    def __init__(self, admin, zone):
        self.admin, self.zone = admin, zone

    def place(self, lines, method="MPESA", county=None):
        customer = UserFactory(role="CUSTOMER")
        address = AddressFactory(user_id=customer.id, delivery_zone=self.zone)
        if county:
            address.county = county
        CartFactory(user=customer, items=list(lines))
        order = place_order(
            customer, address=address, zone=self.zone, payment_method=PaymentMethod(method)
        )
        db.session.commit()
        return order

    def pay(self, order):
        """An M-Pesa or card payment the provider completed, recorded on the order."""
        card = order.payment_method == PaymentMethod.CARD
        PaymentFactory(order=order, completed=True, card=card, amount=order.total)
        set_payment_status(order, PaymentStatus.COMPLETED, actor_id=self.admin.id, note="paid")
        db.session.commit()

    def move(self, order, *statuses):
        for status in statuses:
            set_status(order, status, actor=self.admin, note=None)
            db.session.commit()

    def deliver(self, order):
        self.move(order, OrderStatus.PROCESSING, *SHIPPING)

    def collect_cash(self, order):
        confirm_cash_payment(order, order.total, actor_id=self.admin.id)
        db.session.commit()

    def cancel(self, order):
        cancel_order(order, actor_id=self.admin.id, reason="Out of stock at the supplier")
        db.session.commit()

    def settle_refunds(self, order):
        for refund in db.session.scalars(db.select(Refund).where(Refund.order_id == order.id)):
            change_refund_status(refund, RefundStatus.COMPLETED)
        db.session.commit()


@pytest.fixture
def shop(admin):
    return Shop(admin, DeliveryZoneFactory(name="Nairobi CBD", fee=Decimal("250.00")))
