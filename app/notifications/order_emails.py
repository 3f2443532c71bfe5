"""The customer's emails about their order, sent on the order events (``app/signals.py``).

Each is queued on the transaction that made the change (``send_email_after_commit``), so
it goes out only if that change commits.
"""

from __future__ import annotations

from app.auth.models import User
from app.extensions import db
from app.notifications.email import send_email_after_commit
from app.orders.models import Order, OrderStatus
from app.signals import order_placed, order_status_changed


@order_placed.connect
def email_order_confirmation(order: Order, **_) -> None:
    # Checkout writes the order past the unit of work: its customer is not loaded on it,
    # but is in the session (identity map, no query).
    customer = db.session.get(User, order.customer_id)
    send_email_after_commit(
        customer.email,
        f"Order {order.order_number} received",
        "order_confirmation",
        order=order,
        customer=customer,
    )


@order_status_changed.connect
def email_status_change(
    order: Order, *, new: OrderStatus, actor_id: int | None, note: str | None, **_
) -> None:
    """Every status change, except PAID reached by a provider's settlement (no actor):
    the customer gets the payment confirmation for that one."""
    if new == OrderStatus.PAID and actor_id is None:
        return
    send_email_after_commit(
        order.customer.email,
        f"Order {order.order_number}: {order.status.replace('_', ' ').title()}",
        "order_status",
        order=order,
        customer=order.customer,
        note=note,
    )
