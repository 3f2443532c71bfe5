"""Cash on delivery: the collector takes exactly the order's total, once; an admin
records that the cash was handed in.

Collecting completes the order's cash payment (``payments.attempts.confirm_cash_payment``:
``order_paid`` then posts Dr the collecting agent's AGENT_CASH_HELD / Cr ORDERS_HELD;
cash staff take goes to CASH_COLLECTED); ``verify`` records the hand-in (``cod_verified``:
Dr CASH_COLLECTED / Cr AGENT_CASH_HELD). Functions flush, never commit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.auth.models import User, UserRole
from app.db import utcnow
from app.dispatch.models import CodCollection, CodStatus
from app.errors import Conflict, Unprocessable
from app.extensions import db
from app.ledger.models import AccountCode
from app.ledger.operations import balance
from app.money import format_money
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.state import lock_order
from app.orders.visibility import LIST_LOADS, lock_visible_order
from app.pagination import Page, paginate
from app.payments.attempts import confirm_cash_payment
from app.signals import cod_verified

S = OrderStatus
# An agent collects at the door; staff (a pickup point) once the order is being prepared.
AGENT_COLLECTS_IN = frozenset({S.OUT_FOR_DELIVERY, S.ARRIVED, S.DELIVERED})
STAFF_COLLECTS_IN = frozenset(
    {S.PROCESSING, S.QUALITY_APPROVED, S.SHIPPED, S.OUT_FOR_DELIVERY, S.ARRIVED, S.DELIVERED}
)


def collect(user: User, order_id: int, amount: Decimal) -> CodCollection:
    """Take the cash for a cash order: exactly its total (422 ``COD_AMOUNT_MISMATCH``,
    nothing recorded), once (a repeat answers the first collection). An order ``user``
    may not see is 404."""
    order = lock_visible_order(user, order_id)
    existing = db.session.scalar(select(CodCollection).where(CodCollection.order_id == order.id))
    if existing is not None:
        return existing
    if order.payment_method != PaymentMethod.CASH:
        raise Conflict("This order is not paid in cash", code="NOT_A_CASH_ORDER")
    is_agent = user.role == UserRole.DELIVERY_AGENT
    allowed = AGENT_COLLECTS_IN if is_agent else STAFF_COLLECTS_IN
    if order.status not in allowed or order.payment_status == PaymentStatus.COMPLETED:
        raise Conflict(
            f"Cash cannot be collected for an order that is {order.status}"
            + (" and already paid" if order.payment_status == PaymentStatus.COMPLETED else ""),
            code="COD_NOT_COLLECTABLE",
            details={"status": str(order.status), "payment_status": str(order.payment_status)},
        )
    if amount != order.total:
        raise Unprocessable(
            "The cash collected must be exactly the order total",
            code="COD_AMOUNT_MISMATCH",
            details={"expected": format_money(order.total), "received": format_money(amount)},
        )
    payment = confirm_cash_payment(order, amount, actor_id=user.id)
    collection = CodCollection(
        order_id=order.id,
        payment_id=payment.id,
        collected_by_id=user.id,
        agent_id=user.id if is_agent else None,
        amount=amount,
        collected_at=payment.completed_at or utcnow(),
    )
    db.session.add(collection)
    db.session.flush()
    return collection


def verify(order_id: int, reference: str, *, actor: User) -> CodCollection:
    """Record that the collected cash was handed in (409 when not collected or done)."""
    order = lock_order(order_id)
    collection = db.session.scalar(
        select(CodCollection)
        .where(CodCollection.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if collection is None:
        raise Conflict("No cash was collected for this order", code="COD_NOT_COLLECTED")
    if collection.status == CodStatus.VERIFIED:
        raise Conflict(
            "This cash was already handed in",
            code="COD_ALREADY_VERIFIED",
            details={"reference": collection.reference},
        )
    collection.status, collection.reference = CodStatus.VERIFIED, reference
    collection.verified_by_id, collection.verified_at = actor.id, utcnow()
    db.session.flush()
    cod_verified.send(
        order,
        agent_id=collection.agent_id,
        amount=collection.amount,
        reference=reference,
        actor_id=actor.id,
    )
    return collection


def collections(params: dict[str, Any], *, agent: User | None = None) -> Page:
    statement = select(CodCollection)
    if agent is not None:
        statement = statement.where(CodCollection.agent_id == agent.id)
    if params.get("status") is not None:
        statement = statement.where(CodCollection.status == params["status"])
    return paginate(
        statement.order_by(CodCollection.collected_at.desc(), CodCollection.id.desc()), params
    )


def cash_held_by(agent_id: int) -> Decimal:
    """Cash the agent collected and has not handed in yet (their AGENT_CASH_HELD)."""
    return balance(AccountCode.AGENT_CASH_HELD, agent_id=agent_id)


def awaiting_cash(params: dict[str, Any]) -> Page:
    """Cash orders on their way or delivered whose cash is not collected yet."""
    return paginate(
        select(Order)
        .where(
            Order.payment_method == PaymentMethod.CASH,
            Order.payment_status != PaymentStatus.COMPLETED,
            Order.status.in_(AGENT_COLLECTS_IN | {S.SHIPPED}),
        )
        .options(*LIST_LOADS)
        .order_by(Order.created_at, Order.id),
        params,
    )
