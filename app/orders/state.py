"""The order state machine: one table of allowed transitions, one of who may make them,
every change recorded.

Each change is announced here, inside its transaction (``app/signals.py``):
``order_status_changed`` (and ``order_delivered``, ``order_undelivered``) by
``change_status``,
``order_payment_status_changed`` (and ``order_paid``) by ``change_payment_status``.
"""

from __future__ import annotations

from app.auth.models import User, UserRole
from app.db import lock_or_404, utcnow
from app.errors import Forbidden, InvalidTransition
from app.extensions import db
from app.orders.models import Order, OrderStatus, OrderStatusHistory, PaymentMethod, PaymentStatus
from app.signals import (
    order_delivered,
    order_paid,
    order_payment_status_changed,
    order_status_changed,
    order_undelivered,
)

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAID, S.PROCESSING, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.QUALITY_APPROVED, S.CANCELLED}),
    # An agent may take a quality-approved order straight out (picking it up ships it).
    S.QUALITY_APPROVED: frozenset({S.SHIPPED, S.OUT_FOR_DELIVERY}),
    S.SHIPPED: frozenset({S.OUT_FOR_DELIVERY}),
    # Back to SHIPPED: a failed delivery attempt (the agent still has it).
    S.OUT_FOR_DELIVERY: frozenset({S.ARRIVED, S.DELIVERED, S.SHIPPED}),
    S.ARRIVED: frozenset({S.DELIVERED, S.SHIPPED}),
    # Back to SHIPPED: a disputed delivery found not delivered (``order_undelivered``).
    S.DELIVERED: frozenset({S.RETURNED, S.SHIPPED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}

R = UserRole
# Who may move an order to which status, the same through every endpoint that moves one
# (PUT /orders/<id>/status, POST /orders/<id>/cancel, and PUT /orders/<id>/payment, which
# makes a pending order PAID). From the seed's API table: status and payment changes are
# admin work, cancelling is the customer's; each admin sub-role keeps to its own work.
# - ADMIN: every move.
# - FINANCE_ADMIN: PAID, and only by recording a completed payment (payments are its
#   work; it neither cancels nor ships).
# - SUPPORT_ADMIN: cancels, on a customer's behalf (giving a reason).
# - PRODUCT_MANAGER: the catalogue, never an order.
# - SUPPLIER: prepares orders made entirely of their own items (PROCESSING, then
#   QUALITY_APPROVED); an order mixing suppliers is moved by an admin.
# - CUSTOMER: cancels their own order.
# - DELIVERY_AGENT: the delivery legs of orders assigned to them: out for delivery,
#   arrived, and back to SHIPPED after a failed attempt. DELIVERED is not in the row: it
#   is reached only with the customer's code (``POST /delivery/orders/<id>/confirm-delivery``).
# Returns (RETURNED) get their row later; a role without a row moves nothing. The order
# must also be one the user sees (else 404).
ROLE_TARGETS: dict[UserRole, frozenset[OrderStatus]] = {
    R.ADMIN: frozenset(S) - {S.PENDING},
    R.FINANCE_ADMIN: frozenset({S.PAID}),
    R.SUPPORT_ADMIN: frozenset({S.CANCELLED}),
    R.PRODUCT_MANAGER: frozenset(),
    R.SUPPLIER: frozenset({S.PROCESSING, S.QUALITY_APPROVED}),
    R.CUSTOMER: frozenset({S.CANCELLED}),
    R.DELIVERY_AGENT: frozenset({S.OUT_FOR_DELIVERY, S.ARRIVED, S.SHIPPED}),
}


def roles_moving_to(status: OrderStatus) -> frozenset[UserRole]:
    return frozenset(role for role, targets in ROLE_TARGETS.items() if status in targets)


def check_may_move(user: User, order: Order, target: OrderStatus) -> None:
    """403 unless ``user``'s role may move orders to ``target`` (and, for a supplier, the
    order is made entirely of their items)."""
    allowed = ROLE_TARGETS.get(user.role, frozenset())
    if target not in allowed:
        raise Forbidden(
            f"A {user.role} may not move an order to {target}",
            details={"allowed": sorted(str(status) for status in allowed)},
        )
    if user.role == R.SUPPLIER and any(
        item.supplier_id != user.supplier_profile.id for item in order.items
    ):
        raise Forbidden("This order also holds other suppliers' items; an admin moves it")


# The timestamp an order gets the first time it reaches a status.
_STAMPED_ON = {S.PAID: "paid_at", S.DELIVERED: "delivered_at", S.CANCELLED: "cancelled_at"}

P = PaymentStatus
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.COMPLETED, P.FAILED}),
    P.FAILED: frozenset({P.PENDING, P.COMPLETED}),
    P.COMPLETED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.PARTIALLY_REFUNDED: frozenset({P.REFUNDED}),
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
    return lock_or_404(Order, order_id, message="Order not found")


def is_paid(order: Order) -> bool:
    """Paid in full: the payment completed and the order took it (a PENDING M-Pesa or card
    order has still to become PAID; money reaching a CANCELLED order is owed back).

    It turns true at most once per order: COMPLETED and PAID are never re-entered, and
    REFUNDED and CANCELLED are final. The change that turns it true stamps ``paid_at``
    (if unset) and sends ``order_paid``.
    """
    return (
        order.payment_status == P.COMPLETED
        and order.status != S.CANCELLED
        and not (order.status == S.PENDING and order.payment_method != PaymentMethod.CASH)
    )


def _stamp_if_now_paid(order: Order, was_paid: bool) -> bool:
    """Whether the change being made pays the order; it then stamps ``paid_at`` if unset
    (before the change's flush, so ``order_paid``'s receivers see the final value)."""
    now_paid = not was_paid and is_paid(order)
    if now_paid and order.paid_at is None:
        order.paid_at = utcnow()
    return now_paid


def change_status(
    order: Order,
    new_status: OrderStatus,
    *,
    actor_id: int | None = None,
    note: str | None = None,
    via: str | None = None,
) -> Order:
    """Move the order along the table; ``via`` names how it was paid if this pays it (the
    payment method's name by default, "ADMIN" for a payment recorded by hand)."""
    if new_status not in allowed_next(order):
        raise InvalidTransition(
            f"An order cannot go from {order.status} to {new_status}",
            details={
                "from": str(order.status),
                "to": str(new_status),
                "allowed": sorted(str(s) for s in allowed_next(order)),
            },
        )
    old, was_paid = order.status, is_paid(order)
    record_history(order, "status", old, new_status, actor_id=actor_id, note=note)
    order.status = new_status
    undelivered = old == S.DELIVERED and new_status != S.RETURNED
    if undelivered:
        order.delivered_at = None  # the next delivery stamps its own time
    stamp = _STAMPED_ON.get(new_status)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, utcnow())
    now_paid = _stamp_if_now_paid(order, was_paid)
    db.session.flush()
    order_status_changed.send(order, old=old, new=new_status, actor_id=actor_id, note=note)
    if new_status == S.DELIVERED:
        order_delivered.send(order, actor_id=actor_id)
    if undelivered:
        order_undelivered.send(order, actor_id=actor_id, note=note)
    if now_paid:
        order_paid.send(order, actor_id=actor_id, via=via or str(order.payment_method))
    return order


def change_payment_status(
    order: Order,
    new_status: PaymentStatus,
    *,
    actor_id: int | None = None,
    note: str | None = None,
    via: str | None = None,
) -> Order:
    """Move the payment status along its table (``via``: as for ``change_status``)."""
    if new_status not in PAYMENT_TRANSITIONS[order.payment_status]:
        raise InvalidTransition(
            f"Payment status cannot go from {order.payment_status} to {new_status}",
            details={"from": str(order.payment_status), "to": str(new_status)},
        )
    old, was_paid = order.payment_status, is_paid(order)
    record_history(order, "payment_status", old, new_status, actor_id=actor_id, note=note)
    order.payment_status = new_status
    now_paid = _stamp_if_now_paid(order, was_paid)
    db.session.flush()
    order_payment_status_changed.send(order, old=old, new=new_status, actor_id=actor_id, note=note)
    if now_paid:
        order_paid.send(order, actor_id=actor_id, via=via or str(order.payment_method))
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
