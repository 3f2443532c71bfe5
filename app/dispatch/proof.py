"""Delivering: an agent's moves, proof of delivery with the customer's code, the
customer's confirmation or dispute, and an admin's resolution of a dispute.

The code: six digits made when the order goes out for delivery, sent to the customer
(email and notification) and shown on their ``GET /orders/<id>``; stored hashed (HMAC,
to check it) and sealed (to show it to its customer). Five wrong codes lock it; an
admin then confirms with a note. Functions flush and never commit, except that a wrong
code is counted even though its request fails (``confirm_delivery``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from app.auth.models import User, UserRole
from app.db import conflict_insert, utcnow
from app.dispatch import assignment as assigning
from app.dispatch.models import (
    CODE_MAX_ATTEMPTS,
    AssignmentStatus,
    Confirmation,
    Delivery,
    DeliveryAssignment,
    Resolution,
)
from app.errors import Conflict, Forbidden, NotFound, Unprocessable, ValidationFailed
from app.extensions import db
from app.notifications.operations import notify
from app.orders.models import Order, OrderStatus
from app.orders.state import change_status, check_may_move, lock_order
from app.orders.visibility import lock_visible_order
from app.pagination import Page, paginate
from app.signals import (
    delivery_confirmed,
    delivery_dispute_resolved,
    delivery_disputed,
)

S = OrderStatus
# What an agent may ask for on PUT /delivery/orders/<id>/status, and the order status
# each becomes (a failed attempt brings the order back to SHIPPED, still theirs).
AGENT_MOVES = {
    "OUT_FOR_DELIVERY": S.OUT_FOR_DELIVERY,
    "ARRIVED": S.ARRIVED,
    "FAILED_ATTEMPT": S.SHIPPED,
}


# The delivery record --------------------------------------------------------------------
def delivery_of(order_id: int, *, lock: bool = False) -> Delivery:
    """The order's delivery record, made on first use (written only when missing)."""
    statement = select(Delivery).where(Delivery.order_id == order_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    delivery = db.session.scalar(statement)
    if delivery is not None:
        return delivery
    now = utcnow()
    db.session.execute(
        conflict_insert(Delivery)
        .values(order_id=order_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["order_id"])
    )
    return db.session.scalar(statement)


def find_delivery(order_id: int) -> Delivery | None:
    return db.session.scalar(select(Delivery).where(Delivery.order_id == order_id))


def _code_hash(order_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"delivery|{order_id}|{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(order: Order) -> str | None:
    """A code for the order's delivery (once: a second trip out keeps it), sent to the
    customer; None when it already has one."""
    delivery = delivery_of(order.id, lock=True)
    if delivery.code_hash is not None:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    delivery.code_hash, delivery.code_sealed = _code_hash(order.id, code), code
    delivery.code_issued_at = utcnow()
    db.session.flush()
    customer = order.customer
    notify(
        customer,
        "delivery-code",
        title=f"Order {order.order_number}: your delivery code",
        body="Your order is on its way. Your delivery code is on the order's page and in "
        "your email: give it to the agent when you receive the order.",
        path=f"/orders/{order.id}",
        order=order,
        email=(f"Order {order.order_number}: your delivery code", "delivery_code"),
        customer=customer,
        code=code,
    )
    return code


def code_to_show(order: Order) -> str | None:
    delivery = find_delivery(order.id)
    return delivery.code_sealed if delivery is not None else None


# An agent's moves ---------------------------------------------------------------------
def agent_move(agent: User, order_id: int, move: str, note: str | None) -> Order:
    """OUT_FOR_DELIVERY, ARRIVED, or FAILED_ATTEMPT (with a note: back to SHIPPED) of one
    of the agent's orders (anyone else's is 404)."""
    target = AGENT_MOVES[move]
    order = lock_visible_order(agent, order_id)
    check_may_move(agent, order, target)
    if move == "FAILED_ATTEMPT":
        if order.status not in assigning.ON_THE_ROAD:
            raise Conflict(
                "Only an order out for delivery can have a failed attempt",
                code="INVALID_TRANSITION",
                details={"from": str(order.status), "to": move},
            )
        delivery = delivery_of(order.id, lock=True)
        delivery.failed_attempts += 1
        note = f"Delivery attempt failed: {note}"
    elif move == "OUT_FOR_DELIVERY" and order.status not in (S.QUALITY_APPROVED, S.SHIPPED):
        raise Conflict(
            f"An order that is {order.status} cannot go out for delivery",
            code="INVALID_TRANSITION",
            details={"from": str(order.status), "to": move},
        )
    return change_status(order, target, actor_id=agent.id, note=note)


def confirm_delivery(user: User, order_id: int, data: dict[str, Any]) -> Delivery:
    """Deliver with the customer's code (an admin may confirm with a note instead).

    A wrong code is counted and committed before the 422 (``WRONG_DELIVERY_CODE``);
    the fifth locks the code (409 ``CODE_LOCKED``): an admin confirms it then. An order
    ``user`` may not see is 404.
    """
    order = lock_visible_order(user, order_id)
    if order.status not in assigning.ON_THE_ROAD:
        raise Conflict(
            f"An order that is {order.status} cannot be delivered now",
            code="INVALID_TRANSITION",
            details={"from": str(order.status), "to": str(S.DELIVERED)},
        )
    delivery = delivery_of(order.id, lock=True)
    code = data.get("code")
    if user.is_admin:
        if user.role not in (UserRole.ADMIN, UserRole.SUPPORT_ADMIN):
            raise Forbidden()
        if code is None and not data.get("notes"):
            raise ValidationFailed(
                details={"notes": ["An admin confirming without the code gives a note."]}
            )
    elif code is None:
        raise ValidationFailed(details={"code": ["Missing data for required field."]})
    if code is not None:
        _check_code(delivery, order, code)
    now = utcnow()
    delivery.recipient_name = data["recipient_name"]
    delivery.photo_url = data.get("photo_url")
    delivery.notes = data.get("notes")
    delivery.delivered_by_id = user.id
    delivery.delivered_at = now
    db.session.flush()
    note = f"Delivered to {data['recipient_name']}" + (
        "" if code else f" (confirmed by staff: {data.get('notes')})"
    )
    change_status(order, S.DELIVERED, actor_id=user.id, note=note)
    return delivery


def _check_code(delivery: Delivery, order: Order, code: str) -> None:
    if delivery.code_hash is None:
        raise Conflict("No delivery code was issued for this order", code="NO_DELIVERY_CODE")
    if delivery.code_locked:
        raise Conflict(
            "Too many wrong codes: an admin must confirm this delivery",
            code="CODE_LOCKED",
        )
    if hmac.compare_digest(delivery.code_hash, _code_hash(order.id, code)):
        return
    delivery.failed_code_attempts += 1
    left = CODE_MAX_ATTEMPTS - delivery.failed_code_attempts
    db.session.commit()  # the wrong guess counts, although this request fails
    raise Unprocessable(
        "The delivery code is wrong",
        code="WRONG_DELIVERY_CODE",
        details={"attempts_left": max(left, 0)},
    )


def record_delivered(order: Order) -> None:
    """On DELIVERED (by code or by an admin): the customer's confirmation window opens
    and the live assignment is done."""
    delivery = delivery_of(order.id, lock=True)
    delivery.delivered_at = order.delivered_at
    delivery.confirmation, delivery.confirmed_at = Confirmation.PENDING, None
    delivery.dispute_reason = delivery.disputed_at = None
    delivery.resolution = delivery.resolution_note = None
    delivery.resolved_by_id = delivery.resolved_at = None
    db.session.execute(
        update(DeliveryAssignment)
        .where(
            DeliveryAssignment.order_id == order.id,
            DeliveryAssignment.status == AssignmentStatus.ACTIVE,
        )
        .values(status=AssignmentStatus.DELIVERED, ended_at=order.delivered_at)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


# The customer's confirmation ------------------------------------------------------------
def _window() -> timedelta:
    return timedelta(hours=current_app.config["DELIVERY_CONFIRM_HOURS"])


def _customers_delivered_order(user: User, order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None or order.customer_id != user.id:
        raise NotFound("Order not found")
    return order


def _move_confirmation(order_id: int, new: Confirmation, **values) -> bool:
    """Compare-and-set from PENDING: of a confirmation, a dispute and the job, one wins."""
    moved = db.session.execute(
        update(Delivery)
        .where(Delivery.order_id == order_id, Delivery.confirmation == Confirmation.PENDING)
        .values(confirmation=new, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved == 1


def _not_pending(order_id: int) -> Conflict:
    delivery = find_delivery(order_id)
    state = delivery.confirmation if delivery else None
    return Conflict(
        "This delivery is not awaiting your confirmation" + (f" (it is {state})" if state else ""),
        code="NOT_AWAITING_CONFIRMATION",
        details={"confirmation": str(state) if state else None},
    )


def confirm_receipt(user: User, order_id: int) -> Delivery:
    order = _customers_delivered_order(user, order_id)
    if not _move_confirmation(order.id, Confirmation.CONFIRMED, confirmed_at=utcnow()):
        raise _not_pending(order.id)
    delivery_confirmed.send(order, actor_id=user.id, how="CUSTOMER")
    return _fresh(order.id)


def dispute(user: User, order_id: int, reason: str) -> Delivery:
    """Within DELIVERY_CONFIRM_HOURS of delivery (422 ``DISPUTE_WINDOW_CLOSED`` after)."""
    order = _customers_delivered_order(user, order_id)
    delivery = find_delivery(order.id)
    now = utcnow()
    if (
        delivery is not None
        and delivery.confirmation == Confirmation.PENDING
        and delivery.delivered_at is not None
        and now - delivery.delivered_at > _window()
    ):
        raise Unprocessable(
            "The time to dispute this delivery has passed",
            code="DISPUTE_WINDOW_CLOSED",
            details={"hours": current_app.config["DELIVERY_CONFIRM_HOURS"]},
        )
    if not _move_confirmation(
        order.id, Confirmation.DISPUTED, disputed_at=now, dispute_reason=reason
    ):
        raise _not_pending(order.id)
    delivery_disputed.send(order, actor_id=user.id, reason=reason)
    return _fresh(order.id)


def _fresh(order_id: int) -> Delivery:
    return db.session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order_id)
        .execution_options(populate_existing=True)
    )


def auto_confirm(now: datetime | None = None) -> int:
    """Confirm every delivery left unconfirmed DELIVERY_CONFIRM_HOURS after it was made;
    how many. A dispute made meanwhile wins or loses as one row update."""
    now = now or utcnow()
    order_ids = list(
        db.session.scalars(
            update(Delivery)
            .where(
                Delivery.confirmation == Confirmation.PENDING,
                Delivery.delivered_at <= now - _window(),
            )
            .values(confirmation=Confirmation.AUTO_CONFIRMED, confirmed_at=now, updated_at=now)
            .returning(Delivery.order_id)
            .execution_options(synchronize_session=False)
        )
    )
    if order_ids:
        for order in db.session.scalars(select(Order).where(Order.id.in_(order_ids))):
            delivery_confirmed.send(order, actor_id=None, how="AUTO")
    return len(order_ids)


# Disputes -------------------------------------------------------------------------------
def resolve_dispute(order_id: int, resolution: Resolution, note: str, *, actor: User) -> Delivery:
    """DELIVERED stands; NOT_DELIVERED: back to SHIPPED and to assignment (what the
    delivery posted is undone); RETURN: stays delivered, a return/refund is to be opened
    (``delivery_dispute_resolved``)."""
    order = lock_order(order_id)
    delivery = delivery_of(order.id, lock=True)
    if delivery.confirmation != Confirmation.DISPUTED:
        raise Conflict(
            "This order has no open dispute",
            code="NOT_DISPUTED",
            details={"confirmation": str(delivery.confirmation) if delivery.confirmation else None},
        )
    now = utcnow()
    delivery.confirmation = Confirmation.RESOLVED
    delivery.resolution, delivery.resolution_note = resolution, note
    delivery.resolved_by_id, delivery.resolved_at = actor.id, now
    db.session.flush()
    if resolution == Resolution.NOT_DELIVERED:
        assigning.unassign(order)
        delivery.code_hash = delivery.code_sealed = delivery.code_issued_at = None
        delivery.failed_code_attempts = 0
        change_status(order, S.SHIPPED, actor_id=actor.id, note=f"Not delivered: {note}")
    delivery_dispute_resolved.send(order, resolution=str(resolution), note=note, actor_id=actor.id)
    if resolution != Resolution.NOT_DELIVERED:  # it was delivered: the agent earned it
        delivery_confirmed.send(order, actor_id=actor.id, how="DISPUTE_RESOLVED")
    notify(
        order.customer,
        "delivery-dispute-resolved",
        title=f"Order {order.order_number}: your dispute was resolved",
        body=_RESOLUTION_TEXT[resolution] + (f" {note}" if note else ""),
        path=f"/orders/{order.id}",
        order=order,
    )
    return delivery


_RESOLUTION_TEXT = {
    Resolution.DELIVERED: "We found the order was delivered.",
    Resolution.NOT_DELIVERED: "We found the order was not delivered; it will be delivered again.",
    Resolution.RETURN: "A return will be opened for your order.",
}


def deliveries_by_confirmation(confirmation: Confirmation, params: dict[str, Any]) -> Page:
    return paginate(
        select(Delivery)
        .where(Delivery.confirmation == confirmation)
        .order_by(Delivery.delivered_at, Delivery.id),
        params,
    )
