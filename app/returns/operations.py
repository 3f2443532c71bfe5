"""Returns: the one table of status changes, and every step of the three-party flow.

A return moves only along ``TRANSITIONS`` through ``change_return_status``, which records
the change (who, when, from, to, note: the timeline) and sends ``return_status_changed``.
Every change locks the order's row, then the return's (the order a refund's settlement
takes too: order, payment, refund, return), so two admins, a supplier and an admin, or a
customer cancelling while a decision is made, are served one after the other: the second
finds the return moved and gets 409 ``INVALID_TRANSITION``. Functions flush, never commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from app.auth.models import User, UserRole
from app.auth.permissions import roles_for
from app.catalog.models import Product
from app.common.audit import record_audit
from app.db import lock_or_404, lock_row, utcnow
from app.errors import InsufficientStock, InvalidTransition, NotFound, Unprocessable
from app.extensions import db
from app.orders.models import Order, OrderItem, OrderStatus, PaymentStatus
from app.orders.state import change_status, lock_order
from app.orders.visibility import Redacted
from app.payments.models import RefundCause
from app.payments.refunds import record_refund_due
from app.returns.accounting import lock_hold, post_return_approved
from app.returns.models import (
    ItemCondition,
    Replacement,
    ReplacementStatus,
    ReturnEvent,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    ReturnType,
    SupplierDecision,
    WarrantyResolution,
)
from app.returns.policy import RefundPolicy, refund_policy
from app.settings import setting
from app.signals import return_status_changed

S = ReturnStatus
# Nobody has decided yet: the customer may cancel (before an admin or the supplier
# took it further), an admin may approve or reject.
UNDECIDED = frozenset({S.REQUESTED, S.PENDING, S.SUPPLIER_REVIEW, S.PENDING_REVIEW, S.DISPUTED})
CANCELLABLE = frozenset({S.REQUESTED, S.PENDING, S.SUPPLIER_REVIEW})
WAITING_ON_SUPPLIER = frozenset({S.REQUESTED, S.PENDING, S.SUPPLIER_REVIEW})
# Approved: its units count as returned.
APPROVED_STATES = frozenset({S.APPROVED, S.ITEM_RECEIVED, S.REFUND_COMPLETED, S.COMPLETED})
FINAL = frozenset({S.REJECTED, S.CANCELLED, S.COMPLETED})

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.REQUESTED: frozenset(
        {S.SUPPLIER_REVIEW, S.APPROVED, S.DISPUTED, S.PENDING_REVIEW, S.REJECTED, S.CANCELLED}
    ),
    S.PENDING: frozenset(
        {S.SUPPLIER_REVIEW, S.APPROVED, S.DISPUTED, S.PENDING_REVIEW, S.REJECTED, S.CANCELLED}
    ),
    S.SUPPLIER_REVIEW: frozenset(
        {S.APPROVED, S.DISPUTED, S.PENDING_REVIEW, S.REJECTED, S.CANCELLED}
    ),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED}),
    S.DISPUTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.ITEM_RECEIVED, S.REFUND_COMPLETED, S.COMPLETED}),
    S.ITEM_RECEIVED: frozenset({S.COMPLETED}),
    S.REFUND_COMPLETED: frozenset({S.COMPLETED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.COMPLETED: frozenset(),
}

ADMIN_VIEWERS = roles_for("returns.read")  # the admins who see every return
# Who bears what is between the supplier and the platform: not shown to customers.
HIDDEN_FROM_CUSTOMERS = frozenset({"supplier_deduction", "commission_refund", "platform_cost"})
MAX_NOTE = 1000


def change_return_status(
    ret: ReturnRequest,
    new: ReturnStatus,
    *,
    actor: User | None = None,
    note: str | None = None,
) -> ReturnRequest:
    """Move a return along ``TRANSITIONS`` (else 409), recording it on the timeline."""
    old = ret.status
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(
            f"A return cannot go from {old} to {new}",
            details={
                "from": str(old),
                "to": str(new),
                "allowed": sorted(str(s) for s in TRANSITIONS[old]),
            },
        )
    _record(ret, old, new, actor, note)
    return ret


def _record(
    ret: ReturnRequest,
    old: ReturnStatus | None,
    new: ReturnStatus,
    actor: User | None,
    note: str | None,
) -> None:
    ret.status = new
    ret.events.append(
        ReturnEvent(
            from_status=str(old) if old is not None else None,
            to_status=str(new),
            actor_id=actor.id if actor is not None else None,
            actor_role=str(actor.role) if actor is not None else None,
            note=note[:MAX_NOTE] if note else None,
        )
    )
    db.session.flush()
    return_status_changed.send(
        ret, old=old, new=new, actor_id=actor.id if actor is not None else None, note=note
    )


# -- finding -------------------------------------------------------------------------


def scope(user: User):
    """The condition of the returns ``user`` may see: their own, their products', or all
    (admins); a role with no returns sees none (403 at the route)."""
    if user.role == UserRole.CUSTOMER:
        return ReturnRequest.customer_id == user.id
    if user.role == UserRole.SUPPLIER:
        return ReturnRequest.supplier_id == user.supplier_profile.id
    return user.role in ADMIN_VIEWERS


def present(ret: ReturnRequest, user: User) -> ReturnRequest | Redacted:
    """The return as ``user`` may see it."""
    return Redacted(ret, HIDDEN_FROM_CUSTOMERS) if user.role == UserRole.CUSTOMER else ret


def find_return(user: User, return_id: int) -> ReturnRequest:
    """A return ``user`` may see; anyone else's is 404 like an unknown one."""
    ret = db.session.scalar(select(ReturnRequest).where(ReturnRequest.id == return_id, scope(user)))
    if ret is None:
        raise NotFound("Return not found")
    return ret


def _lock(ret: ReturnRequest) -> tuple[Order, ReturnRequest]:
    """The order's row lock, then the return's (fresh values)."""
    return lock_order(ret.order_id), lock_row(ReturnRequest, ret.id)


def list_statement(user: User, params: dict[str, Any]):
    conditions = [scope(user)]
    if params.get("status"):
        conditions.append(ReturnRequest.status == params["status"])
    if params.get("reason"):
        conditions.append(ReturnRequest.reason == params["reason"])
    if params.get("type"):
        conditions.append(ReturnRequest.type == params["type"])
    if params.get("from"):
        conditions.append(ReturnRequest.created_at >= params["from"])
    if params.get("to"):
        conditions.append(ReturnRequest.created_at <= params["to"])
    return (
        select(ReturnRequest)
        .where(*conditions)
        .order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc())
    )


# -- the customer ----------------------------------------------------------------------


def _open_quantity(item_id: int, leaving_out: int | None = None) -> int:
    """Units of the item in returns nobody has decided yet."""
    query = select(func.coalesce(func.sum(ReturnRequest.quantity), 0)).where(
        ReturnRequest.order_item_id == item_id, ReturnRequest.status.in_(UNDECIDED)
    )
    if leaving_out is not None:
        query = query.where(ReturnRequest.id != leaving_out)
    return int(db.session.scalar(query))


def _whole_order_back(order: Order, item: OrderItem, quantity: int, pending: int) -> bool:
    """After ``quantity`` more units of ``item`` (and ``pending`` others in open returns of
    the order), every unit of the order is returned."""
    ordered = sum(i.quantity for i in order.items)
    returned = sum(i.returned_quantity for i in order.items)
    return returned + pending + quantity >= ordered


def policy_for(
    ret: ReturnRequest, order: Order, *, counting_open: bool, resolution=None
) -> RefundPolicy:
    """The policy's answer for this return now: at its creation (``counting_open``: other
    open returns of the order count towards "the whole order comes back"), or at its
    approval (only what was approved before counts)."""
    item = ret.item
    pending = 0
    if counting_open:
        others = select(func.coalesce(func.sum(ReturnRequest.quantity), 0)).where(
            ReturnRequest.order_id == order.id, ReturnRequest.status.in_(UNDECIDED)
        )
        if ret.id is not None:
            others = others.where(ReturnRequest.id != ret.id)
        pending = int(db.session.scalar(others))
    return refund_policy(
        reason=ret.reason,
        unit_price=item.unit_price,
        quantity=ret.quantity,
        item_quantity=item.quantity,
        commission_amount=item.commission_amount,
        already_returned=item.returned_quantity,
        restocking_fee_rate=Decimal(str(setting("restocking_fee_rate"))),
        delivery_fee=order.delivery_fee,
        whole_order_back=_whole_order_back(order, item, ret.quantity, pending),
        resolution=resolution,
    )


def _return_type(order: Order, item: OrderItem, reason: ReturnReason, now: datetime) -> ReturnType:
    window = timedelta(days=int(setting("return_window_days")))
    if order.delivered_at is not None and now <= order.delivered_at + window:
        return ReturnType.RETURN
    under_warranty = item.warranty_expires_at is not None and now <= item.warranty_expires_at
    if reason == ReturnReason.DEFECTIVE and under_warranty:
        return ReturnType.WARRANTY
    raise Unprocessable(
        f"Returns are accepted within {window.days} days of delivery"
        + ("; a defect is covered while the warranty runs" if item.warranty_months else ""),
        code="RETURN_WINDOW_CLOSED",
        details={
            "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
            "return_window_days": window.days,
            "warranty_expires_at": (
                item.warranty_expires_at.isoformat() if item.warranty_expires_at else None
            ),
        },
    )


def create_return(customer: User, args: dict[str, Any]) -> ReturnRequest:
    """A customer's return of ``quantity`` units of an item of their delivered order."""
    # Locked: two requests for the same item count each other.
    order = lock_or_404(
        Order, args["order_id"], Order.customer_id == customer.id, message="Order not found"
    )
    item = next((i for i in order.items if i.id == args["order_item_id"]), None)
    if item is None:
        raise NotFound("Order item not found")
    if order.status != OrderStatus.DELIVERED:
        raise Unprocessable(
            "Only a delivered order can be returned",
            code="ORDER_NOT_DELIVERED",
            details={"status": str(order.status)},
        )
    if order.payment_status not in (PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED):
        raise Unprocessable(
            "This order's payment is not confirmed yet; contact support",
            code="ORDER_NOT_PAID",
            details={"payment_status": str(order.payment_status)},
        )
    now = utcnow()
    return_type = _return_type(order, item, args["reason"], now)
    available = item.quantity - item.returned_quantity - _open_quantity(item.id)
    if args["quantity"] > available:
        raise Unprocessable(
            f"Only {max(available, 0)} of this item can still be returned",
            code="RETURN_QUANTITY_EXCEEDED",
            details={"requested": args["quantity"], "available": max(available, 0)},
        )
    hours = current_app.config["SUPPLIER_RETURN_RESPONSE_HOURS"]
    ret = ReturnRequest(
        return_number=f"RT-{now:%Y%m%d}-{secrets.token_hex(4).upper()}",
        order_id=order.id,
        item=item,
        customer_id=customer.id,
        supplier_id=item.supplier_id,
        product_id=item.product_id,
        quantity=args["quantity"],
        reason=args["reason"],
        type=return_type,
        description=args.get("description"),
        images=list(args.get("images") or []),
        supplier_respond_by=now + timedelta(hours=hours),
        status=S.REQUESTED,
    )
    for column, value in policy_for(ret, order, counting_open=True).as_columns().items():
        setattr(ret, column, value)
    db.session.add(ret)
    db.session.flush()
    _record(ret, None, S.REQUESTED, customer, args.get("description"))
    return ret


def cancel_return(customer: User, return_id: int, note: str | None) -> ReturnRequest:
    ret = find_return(customer, return_id)
    _, ret = _lock(ret)
    if ret.status not in CANCELLABLE:
        raise InvalidTransition(
            "A return can be cancelled only before anyone has decided on it",
            details={"from": str(ret.status), "to": str(S.CANCELLED)},
        )
    ret.cancelled_at = utcnow()
    return change_return_status(ret, S.CANCELLED, actor=customer, note=note)


# -- the supplier ----------------------------------------------------------------------


def acknowledge(supplier: User, return_id: int, note: str | None = None) -> ReturnRequest:
    """The supplier has seen it: SUPPLIER_REVIEW (again: nothing changes)."""
    ret = find_return(supplier, return_id)
    _, ret = _lock(ret)
    if ret.status == S.SUPPLIER_REVIEW:
        return ret
    ret.supplier_acknowledged_at = utcnow()
    return change_return_status(ret, S.SUPPLIER_REVIEW, actor=supplier, note=note)


def respond(supplier: User, return_id: int, args: dict[str, Any]) -> ReturnRequest:
    """ACCEPT approves it (a warranty claim with the supplier's ``resolution``); DISPUTE
    (with a reason) sends it to an admin."""
    ret = find_return(supplier, return_id)
    lock_hold(ret.order_item_id)  # an acceptance may debit it (see app.returns.accounting)
    order, ret = _lock(ret)
    decision = args["decision"]
    target = S.APPROVED if decision == SupplierDecision.ACCEPT else S.DISPUTED
    if ret.status not in WAITING_ON_SUPPLIER:
        raise InvalidTransition(
            "This return is no longer waiting on the supplier",
            details={"from": str(ret.status), "to": str(target)},
        )
    resolution = args.get("resolution")
    if decision == SupplierDecision.ACCEPT and ret.type == ReturnType.WARRANTY:
        if resolution is None:
            raise Unprocessable(
                "Accepting a warranty claim needs a resolution: REPAIR, REPLACEMENT or REFUND",
                code="RESOLUTION_REQUIRED",
            )
    elif resolution is not None:
        raise Unprocessable(
            "A resolution is chosen only when accepting a warranty claim",
            code="RESOLUTION_NOT_APPLICABLE",
        )
    now = utcnow()
    ret.supplier_acknowledged_at = ret.supplier_acknowledged_at or now
    ret.supplier_responded_at = now
    ret.supplier_decision = decision
    ret.supplier_response = args.get("reason")
    if target == S.DISPUTED:
        return change_return_status(ret, S.DISPUTED, actor=supplier, note=args.get("reason"))
    return _approve(order, ret, supplier, args.get("reason"), resolution)


# -- the admin ---------------------------------------------------------------------------


def review(admin: User, return_id: int, decision: str, reason: str | None) -> ReturnRequest:
    """APPROVE or REJECT an undecided return. Rejecting, and approving over the supplier's
    dispute, need a ``reason`` (422 ``REASON_REQUIRED``)."""
    ret = find_return(admin, return_id)
    lock_hold(ret.order_item_id)  # an approval may debit it (see app.returns.accounting)
    order, ret = _lock(ret)
    target = S.APPROVED if decision == "APPROVE" else S.REJECTED
    if ret.status not in UNDECIDED:
        raise InvalidTransition(
            f"This return was already decided ({ret.status})",
            details={"from": str(ret.status), "to": str(target)},
        )
    overruling = target == S.APPROVED and ret.status == S.DISPUTED
    if (target == S.REJECTED or overruling) and not (reason and reason.strip()):
        raise Unprocessable(
            "A reason is required to reject a return"
            if target == S.REJECTED
            else "A reason is required to approve over the supplier's dispute",
            code="REASON_REQUIRED",
        )
    if target == S.REJECTED:
        ret.decided_at, ret.decided_by_id, ret.decision_reason = utcnow(), admin.id, reason
        return change_return_status(ret, S.REJECTED, actor=admin, note=reason)
    resolution = WarrantyResolution.REFUND if ret.type == ReturnType.WARRANTY else None
    return _approve(order, ret, admin, reason, resolution)


def _approve(
    order: Order,
    ret: ReturnRequest,
    actor: User,
    note: str | None,
    resolution: WarrantyResolution | None,
) -> ReturnRequest:
    """Approval's effects, all in this transaction: the policy fixed, the units counted
    as returned, the refund recorded as due, the ledger entry, the order RETURNED once
    every unit came back, a warranty replacement's shipment."""
    item = ret.item
    now = utcnow()
    ret.resolution = resolution
    ret.decided_at, ret.decided_by_id, ret.decision_reason = now, actor.id, note
    policy = policy_for(ret, order, counting_open=False, resolution=resolution)
    for column, value in policy.as_columns().items():
        setattr(ret, column, value)
    takes_back = resolution not in (WarrantyResolution.REPAIR, WarrantyResolution.REPLACEMENT)
    if takes_back:
        item.returned_quantity += ret.quantity
    change_return_status(ret, S.APPROVED, actor=actor, note=note)
    if ret.refund_amount > 0:
        refund = record_refund_due(
            order,
            reason=f"Return {ret.return_number} ({ret.reason})",
            requested_by_id=actor.id,
            cause=RefundCause.RETURN,
            key=f"return:{ret.id}",
            amount=ret.refund_amount,
        )
        if refund is None:
            raise Unprocessable(
                "This order has no completed payment to refund", code="ORDER_NOT_PAID"
            )
        ret.refund_id = refund.id
        post_return_approved(ret)
    if takes_back and all(i.returned_quantity >= i.quantity for i in order.items):
        note = f"Return {ret.return_number}"
        change_status(order, OrderStatus.RETURNED, actor_id=actor.id, note=note)
    if resolution == WarrantyResolution.REPLACEMENT:
        _ship_replacement(ret, order)
    db.session.flush()
    return ret


def _ship_replacement(ret: ReturnRequest, order: Order) -> None:
    """A zero-priced replacement to the order's address, its stock taken now (422
    ``INSUFFICIENT_STOCK`` otherwise: the supplier then chooses another resolution)."""
    taken = db.session.execute(
        update(Product)
        .where(Product.id == ret.product_id, Product.stock >= ret.quantity)
        .values(stock=Product.stock - ret.quantity)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise InsufficientStock(
            "Not enough stock to ship a replacement",
            details={"product_id": ret.product_id, "requested": ret.quantity},
        )
    db.session.add(
        Replacement(
            return_id=ret.id,
            product_id=ret.product_id,
            quantity=ret.quantity,
            address={
                "recipient_name": order.recipient_name,
                "phone": order.recipient_phone,
                "county": order.delivery_county,
                "town": order.delivery_town,
                "street": order.delivery_street,
                "landmark": order.delivery_landmark,
            },
        )
    )


def update_status(admin: User, return_id: int, args: dict[str, Any]) -> ReturnRequest:
    """``ITEM_RECEIVED`` (with ``item_condition``): the item came back; a RESELLABLE one
    goes back into stock, once. ``COMPLETED``: the admin closes it (a ``note`` says why),
    which also happens by itself once the refund is completed and the item received."""
    ret = find_return(admin, return_id)
    _, ret = _lock(ret)
    note = args.get("note")
    if args["status"] == S.ITEM_RECEIVED:
        return receive_item(ret, admin, args["item_condition"], note)
    if not (note and note.strip()):
        raise Unprocessable("Closing a return needs a note", code="NOTE_REQUIRED")
    ret.completed_at = utcnow()
    return change_return_status(ret, S.COMPLETED, actor=admin, note=note)


def receive_item(
    ret: ReturnRequest, admin: User, condition: ItemCondition, note: str | None
) -> ReturnRequest:
    if ret.received_at is not None or ret.status not in (S.APPROVED, S.REFUND_COMPLETED):
        raise InvalidTransition(
            "The item can be recorded received once, after the return is approved",
            details={"from": str(ret.status), "to": str(S.ITEM_RECEIVED)},
        )
    ret.item_condition = condition
    ret.received_at = utcnow()
    if condition == ItemCondition.RESELLABLE and ret.restocked_at is None:
        db.session.execute(
            update(Product)
            .where(Product.id == ret.product_id)
            .values(stock=Product.stock + ret.quantity)
            .execution_options(synchronize_session=False)
        )
        ret.restocked_at = ret.received_at
    note = note or f"Item received ({condition})"
    if ret.status == S.REFUND_COMPLETED:
        ret.completed_at = ret.received_at
        return change_return_status(ret, S.COMPLETED, actor=admin, note=note)
    return change_return_status(ret, S.ITEM_RECEIVED, actor=admin, note=note)


def refund_completed(ret: ReturnRequest) -> None:
    """The return's refund was confirmed (locked by the caller): REFUND_COMPLETED, or
    COMPLETED when the item is already back; a return an admin closed only notes it."""
    ret.refunded_at = utcnow()
    if ret.status == S.APPROVED:
        change_return_status(ret, S.REFUND_COMPLETED, note="Refund completed")
    elif ret.status == S.ITEM_RECEIVED:
        ret.completed_at = ret.refunded_at
        change_return_status(ret, S.COMPLETED, note="Refund completed; item received")
    else:
        db.session.flush()


def escalate(ret: ReturnRequest) -> None:
    """No supplier answer in time: PENDING_REVIEW (by the system)."""
    ret.escalated_at = utcnow()
    hours = current_app.config["SUPPLIER_RETURN_RESPONSE_HOURS"]
    change_return_status(
        ret, S.PENDING_REVIEW, note=f"The supplier did not answer within {hours} hours"
    )


REPLACEMENT_NEXT = {
    ReplacementStatus.PENDING: ReplacementStatus.SHIPPED,
    ReplacementStatus.SHIPPED: ReplacementStatus.DELIVERED,
}


def move_replacement(ret: ReturnRequest, status: ReplacementStatus, admin: User) -> None:
    """A replacement's shipment moves PENDING -> SHIPPED -> DELIVERED, each once."""
    _, ret = _lock(ret)
    replacement = ret.replacement
    if REPLACEMENT_NEXT.get(replacement.status) != status:
        raise InvalidTransition(
            f"A replacement cannot go from {replacement.status} to {status}",
            details={"from": str(replacement.status), "to": str(status)},
        )
    replacement.status = status
    stamp = "shipped_at" if status == ReplacementStatus.SHIPPED else "delivered_at"
    setattr(replacement, stamp, utcnow())
    record_audit("return.replacement", ret, actor_id=admin.id, details={"status": str(status)})
    db.session.flush()
