"""Returns: ``delivered_order(...)`` is a paid order taken through the real state machine
to DELIVERED (so the ledger holds its payment and the suppliers' earnings), and
``request_return(...)`` asks a return of one of its items as the customer would."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.db import utcnow
from app.extensions import db
from app.money import whole_shillings
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.state import change_payment_status, change_status
from app.payments.attempts import confirm_cash_payment
from app.returns import operations
from app.returns.models import ReturnReason, ReturnRequest
from app.returns.seed import LEGS
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory


def delivered_order(customer, items, *, method=PaymentMethod.MPESA, days_ago=0) -> Order:
    """``items``: ``[(product, quantity), ...]``; paid by ``method`` and delivered
    ``days_ago`` days ago (the delivery time is set before the signal goes out)."""
    order = OrderFactory(customer=customer, items=items, payment_method=method, payment_due_at=None)
    if method != PaymentMethod.CASH:
        if method == PaymentMethod.CARD:
            PaymentFactory(order=order, card=True, completed=True, amount=order.total)
        else:
            amount = Decimal(whole_shillings(order.total))
            PaymentFactory(order=order, completed=True, amount=amount)
        change_payment_status(order, PaymentStatus.COMPLETED, via=str(method))
        change_status(order, OrderStatus.PAID)
    for status in LEGS:
        if status == OrderStatus.DELIVERED:
            order.delivered_at = utcnow() - timedelta(days=days_ago)
        change_status(order, status)
    if method == PaymentMethod.CASH:
        confirm_cash_payment(order, order.total, actor_id=None)
    db.session.commit()
    return order


def request_return(
    order: Order,
    item=None,
    *,
    quantity: int = 1,
    reason: ReturnReason = ReturnReason.WRONG_ITEM,
    images=("https://res.cloudinary.com/qg/image/upload/v1/returns/a.jpg",),
) -> ReturnRequest:
    item = item or order.items[0]
    ret = operations.create_return(
        order.customer,
        {
            "order_id": order.id,
            "order_item_id": item.id,
            "quantity": quantity,
            "reason": reason,
            "description": "Not what I ordered",
            "images": list(images),
        },
    )
    db.session.commit()
    return ret
