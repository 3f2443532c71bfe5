"""What the payments domain does when an order changes (``app/signals.py``)."""

from __future__ import annotations

from app.orders.models import Order
from app.payments.operations import record_refund_due
from app.signals import order_cancelled


@order_cancelled.connect
def owe_the_payment_back(
    order: Order, *, actor_id: int | None, reason: str, was_paid: bool, **_
) -> None:
    """A cancelled order that was paid gets a refund due (once; see ``record_refund_due``)."""
    if was_paid:
        record_refund_due(order, reason=reason, requested_by_id=actor_id)
