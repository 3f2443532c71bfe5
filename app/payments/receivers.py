"""What payments does when another domain's event happens (``app/signals.py``)."""

from __future__ import annotations

from app.orders.models import Order
from app.payments.refunds import record_refund_due
from app.signals import order_cancelled


@order_cancelled.connect
def refund_cancelled_order(
    order: Order, *, actor_id: int | None, reason: str, was_paid: bool, **_: object
) -> None:
    """A paid order was cancelled: its payment is owed back (once per order and cause)."""
    if was_paid:
        record_refund_due(order, reason=reason, requested_by_id=actor_id)
