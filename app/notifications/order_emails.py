"""What the customer is told of their order, on the order events (``app/signals.py``):
an in-app notification and an email (``notify``), both on the transaction that made the
change, so they exist only if that change commits.
"""

from __future__ import annotations

from app.auth.models import User
from app.extensions import db
from app.notifications.operations import notify
from app.orders.models import Order, OrderStatus
from app.signals import order_placed, order_status_changed


@order_placed.connect
def email_order_confirmation(order: Order, **_) -> None:
    # Checkout writes the order past the unit of work: its customer is not loaded on it,
    # but is in the session (identity map, no query).
    customer = db.session.get(User, order.customer_id)
    subject = f"Order {order.order_number} received"
    notify(
        customer,
        "order-placed",
        title=subject,
        body="We have received your order; we will let you know as it moves.",
        path=f"/orders/{order.id}",
        order=order,
        email=(subject, "order_confirmation"),
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
    status = order.status.replace("_", " ").title()
    subject = f"Order {order.order_number}: {status}"
    notify(
        order.customer,
        "order-status-changed",
        title=subject,
        body=note or f"Your order is now {status.lower()}.",
        path=f"/orders/{order.id}",
        order=order,
        email=(subject, "order_status"),
        customer=order.customer,
        note=note,
    )
