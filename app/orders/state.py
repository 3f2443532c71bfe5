"""The order state machine: one table of allowed transitions, every change recorded."""

from __future__ import annotations

from sqlalchemy import select

from app.db import utcnow
from app.errors import InvalidTransition, NotFound
from app.extensions import db
from app.orders.models import Order, OrderStatus, OrderStatusHistory, PaymentMethod, PaymentStatus

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAID, S.PROCESSING, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.QUALITY_APPROVED, S.CANCELLED}),
    S.QUALITY_APPROVED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.OUT_FOR_DELIVERY}),
    S.OUT_FOR_DELIVERY: frozenset({S.ARRIVED}),
    S.ARRIVED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}

# The timestamp an order gets the first time it reaches a status.
_STAMPED_ON = {S.PAID: "paid_at", S.DELIVERED: "delivered_at", S.CANCELLED: "cancelled_at"}

P = PaymentStatus
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.COMPLETED, P.FAILED}),
    P.FAILED: frozenset({P.PENDING, P.COMPLETED}),
    P.COMPLETED: frozenset({P.REFUNDED}),
    P.REFUNDED: frozenset(),
}


def allowed_next(order: Order) -> frozenset[OrderStatus]:
    allowed = TRANSITIONS[order.status]
    if order.status == S.PENDING:
        # Cash is paid on delivery, so it skips PAID; the others must be paid first.
        allowed -= {S.PAID} if order.payment_method == PaymentMethod.CASH else {S.PROCESSING}
    return allowed


def lock_order(order_id: int) -> Order:
    """Load an order holding its row lock until commit (serialises concurrent changes)."""
    order = db.session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound("Order not found")
    return order


def change_status(
    order: Order, new_status: OrderStatus, *, actor_id: int | None = None, note: str | None = None
) -> Order:
    if new_status not in allowed_next(order):
        raise InvalidTransition(
            f"An order cannot go from {order.status} to {new_status}",
            details={
                "from": str(order.status),
                "to": str(new_status),
                "allowed": sorted(str(s) for s in allowed_next(order)),
            },
        )
    record_history(order, "status", order.status, new_status, actor_id=actor_id, note=note)
    order.status = new_status
    stamp = _STAMPED_ON.get(new_status)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, utcnow())
    db.session.flush()
    return order


def change_payment_status(
    order: Order, new_status: PaymentStatus, *, actor_id: int | None = None, note: str | None = None
) -> Order:
    if new_status not in PAYMENT_TRANSITIONS[order.payment_status]:
        raise InvalidTransition(
            f"Payment status cannot go from {order.payment_status} to {new_status}",
            details={"from": str(order.payment_status), "to": str(new_status)},
        )
    record_history(
        order, "payment_status", order.payment_status, new_status, actor_id=actor_id, note=note
    )
    order.payment_status = new_status
    db.session.flush()
    return order


def record_history(
    order: Order,
    field: str,
    old: str | None,
    new: str,
    *,
    actor_id: int | None = None,
    note: str | None = None,
) -> None:
    """Append one history row (who, when, from, to, why); it is written with the order."""
    order.history.append(
        OrderStatusHistory(
            field=field,
            from_status=str(old) if old is not None else None,
            to_status=str(new),
            changed_by_id=actor_id,
            note=note,
        )
    )
