"""The ledger's postings, hung on the domain events of ``app/signals.py``.

Each receiver posts one entry per business event under its event key (a signal sent
twice posts once) and raises on anything wrong, failing the sender's transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import delete, func, select

from app.auth.models import DeliveryAgentProfile, User, UserRole
from app.db import utcnow
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import (
    EntryKind,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    OrderHold,
    Party,
    PartyRole,
)
from app.ledger.operations import (
    Line,
    Posting,
    held_for_order,
    insert_once,
    party_line,
    post,
    post_many,
    reversal,
)
from app.money import CENTS
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.payments.models import Payment, PaymentProvider, Refund, RefundCause, RefundMethod
from app.settings import setting
from app.signals import (
    cod_verified,
    delivery_confirmed,
    delivery_dispute_resolved,
    delivery_disputed,
    order_cancelled,
    order_delivered,
    order_paid,
    order_undelivered,
    refund_due,
    refund_settled,
)

log = logging.getLogger(__name__)

CLEARING_OF_PROVIDER = {
    PaymentProvider.MPESA: A.MPESA_CLEARING,
    PaymentProvider.PAYSTACK: A.PAYSTACK_CLEARING,
    PaymentProvider.CASH: A.CASH_COLLECTED,
}
CLEARING_OF_METHOD = {
    PaymentMethod.MPESA: A.MPESA_CLEARING,
    PaymentMethod.CARD: A.PAYSTACK_CLEARING,
    PaymentMethod.CASH: A.CASH_COLLECTED,
}
# Money paid for an order that could not take it: owed back at once, never held.
UNAPPLIED_CAUSES = frozenset({RefundCause.LATE_PAYMENT, RefundCause.DUPLICATE_PAYMENT})


def _clearing(payment: Payment | None, order: Order) -> A:
    if payment is not None:
        return CLEARING_OF_PROVIDER[payment.provider]
    return CLEARING_OF_METHOD[order.payment_method]


def _money_in_line(payment: Payment | None, order: Order, amount: Decimal) -> Line:
    """Where received money is: at its provider, or cash in the hands of the delivery
    agent who collected it (their AGENT_CASH_HELD until it is handed in)."""
    if payment is not None and payment.provider == PaymentProvider.CASH and payment.recorded_by_id:
        collector = db.session.get(User, payment.recorded_by_id)
        if collector is not None and collector.role == UserRole.DELIVERY_AGENT:
            return Line(A.AGENT_CASH_HELD, amount, agent_id=collector.id)
    return Line(_clearing(payment, order), amount)


@order_paid.connect
def post_order_paid(order: Order, **_: object) -> None:
    """Dr the provider's clearing / Cr ORDERS_HELD: what was received (M-Pesa's
    whole-shilling round-up included; a finance admin's manual mark: the total)."""
    if order.status == OrderStatus.CANCELLED:
        return  # paid after it was cancelled: the LATE_PAYMENT refund due posts it
    payment = db.session.scalar(
        select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.status == PaymentStatus.COMPLETED,
            ~Payment.flagged,
        )
        .order_by(Payment.completed_at, Payment.id)
        .limit(1)
    )
    received = payment.captured if payment else order.total
    post(
        f"order-paid:{order.id}",
        EntryKind.ORDER_PAID,
        [_money_in_line(payment, order, received), Line(A.ORDERS_HELD, -received)],
        occurred_at=order.paid_at,
        order_id=order.id,
    )


@order_cancelled.connect
def post_order_cancelled(order: Order, *, was_paid: bool, **_: object) -> None:
    """Dr ORDERS_HELD / Cr REFUNDS_OWED: everything the order holds is owed back."""
    if not was_paid:
        return
    held = held_for_order(order.id)
    if held <= 0:
        log.warning("order %s cancelled as paid, but the ledger holds nothing for it", order.id)
        return
    post(
        f"order-cancelled:{order.id}",
        EntryKind.ORDER_CANCELLED,
        [Line(A.ORDERS_HELD, held), Line(A.REFUNDS_OWED, -held)],
        occurred_at=order.cancelled_at,
        order_id=order.id,
    )


@refund_due.connect
def post_refund_due(refund: Refund, **_: object) -> None:
    """A late or duplicate payment: Dr its clearing / Cr REFUNDS_OWED (a cancelled paid
    order's refund is posted by ``order_cancelled``)."""
    if refund.cause not in UNAPPLIED_CAUSES:
        return
    post(
        f"refund-due:{refund.id}",
        EntryKind.REFUND_DUE,
        [
            Line(_clearing(refund.payment, refund.order), refund.amount),
            Line(A.REFUNDS_OWED, -refund.amount),
        ],
        occurred_at=refund.created_at,
        order_id=refund.order_id,
    )


@refund_settled.connect
def post_refund_settled(refund: Refund, **_: object) -> None:
    """Dr REFUNDS_OWED / Cr clearing: the money went back. A refund started at the
    provider (never owed first) takes the order's held money instead. A B2C refund leaves
    M-Pesa (a cash order's too) as whole shillings: Cr MPESA_CLEARING what was sent, and
    the cents it rounded up are the platform's cost (Dr RETURN_COSTS)."""
    owed = A.ORDERS_HELD if refund.cause == RefundCause.PROVIDER else A.REFUNDS_OWED
    paid = refund.paid_amount or refund.amount
    b2c = refund.method == RefundMethod.MPESA_B2C
    clearing = A.MPESA_CLEARING if b2c else _clearing(refund.payment, refund.order)
    post(
        f"refund-settled:{refund.id}",
        EntryKind.REFUND_SETTLED,
        [
            Line(owed, refund.amount),
            Line(A.RETURN_COSTS, paid - refund.amount),
            Line(clearing, -paid),
        ],
        occurred_at=refund.completed_at,
        order_id=refund.order_id,
    )


def _delivery_round(order: Order) -> int:
    """Which delivery of the order this is: 1, or one more for each delivery undone."""
    delivered = select(LedgerEntry.id).where(
        LedgerEntry.order_id == order.id, LedgerEntry.kind == EntryKind.ORDER_DELIVERED
    )
    undone = db.session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.reverses_id.in_(delivered))
    )
    return 1 + (undone or 0)


def delivery_keys(order: Order, round_: int) -> list[str]:
    """The event keys one delivery of the order posts (the first without a suffix)."""
    suffix = "" if round_ == 1 else f":r{round_}"
    return [f"item-delivered:{item.id}{suffix}" for item in order.items] + [
        f"order-delivered:{order.id}{suffix}"
    ]


@order_delivered.connect
def post_order_delivered(order: Order, **_: object) -> None:
    """Per item: Dr ORDERS_HELD line total / Cr the supplier's ON_HOLD (line total less
    the snapshotted commission, released EARNINGS_HOLD_DAYS after delivery) and
    COMMISSION_REVENUE. Per order: the delivery fee to DELIVERY_REVENUE, and what the
    customer paid above the total (M-Pesa's round-up) to ROUNDING_REVENUE; the agent who
    delivered it gets their share of the fee on hold (``agent_fee``), released when the
    customer confirms (``delivery_confirmed``). A delivery after one undone
    (``order_undelivered``) posts under keys of its own (``:r2``...)."""
    item_keys = delivery_keys(order, _delivery_round(order))
    order_key = item_keys.pop()
    delivered_at = order.delivered_at or utcnow()
    release_at = delivered_at + timedelta(days=current_app.config["EARNINGS_HOLD_DAYS"])
    round_up = max(held_for_order(order.id) - order.total, Decimal("0.00"))
    postings = [
        Posting(
            item_key,
            EntryKind.ITEM_DELIVERED,
            [
                Line(A.ORDERS_HELD, item.line_total, order_item_id=item.id),
                Line(
                    A.SUPPLIER_ON_HOLD,
                    -(item.line_total - item.commission_amount),
                    item.supplier_id,
                    item.id,
                    release_at,
                ),
                Line(A.COMMISSION_REVENUE, -item.commission_amount, order_item_id=item.id),
            ],
            delivered_at,
            order.id,
            item.supplier_id,
        )
        for item, item_key in zip(order.items, item_keys, strict=True)
    ]
    agent_share = agent_fee(order)
    fee_lines = [
        Line(A.ORDERS_HELD, order.delivery_fee + round_up),
        Line(A.DELIVERY_REVENUE, -(order.delivery_fee - agent_share)),
        Line(A.ROUNDING_REVENUE, -round_up),
    ]
    if agent_share:
        fee_lines.append(
            party_line(Party.AGENT, order.delivery_agent_id, PartyRole.ON_HOLD, -agent_share)
        )
    postings.append(
        Posting(
            order_key,
            EntryKind.ORDER_DELIVERED,
            fee_lines,
            delivered_at,
            order.id,
            agent_id=order.delivery_agent_id if agent_share else None,
        )
    )
    post_many(postings)


def agent_fee(order: Order) -> Decimal:
    """The delivering agent's share of the order's delivery fee: their own
    ``delivery_fee_percentage``, else the ``agent_fee_rate`` setting (nothing for an order
    without an agent, e.g. one a delivery company carried)."""
    if order.delivery_agent_id is None or not order.delivery_fee:
        return Decimal("0.00")
    profile = db.session.scalar(
        select(DeliveryAgentProfile).where(DeliveryAgentProfile.user_id == order.delivery_agent_id)
    )
    rate = profile.delivery_fee_percentage if profile is not None else None
    if rate is None:
        rate = setting("agent_fee_rate")
    return (order.delivery_fee * Decimal(str(rate))).quantize(CENTS, rounding=ROUND_HALF_UP)


@delivery_confirmed.connect
def release_agent_earning(order: Order, **_: object) -> None:
    """The customer confirmed (or the window closed, or a dispute was resolved for the
    agent): the agent's share of this delivery moves from ON_HOLD to AVAILABLE."""
    order_key = delivery_keys(order, _delivery_round(order))[-1]
    rows = db.session.execute(
        select(LedgerAccount.agent_id, LedgerLine.amount)
        .join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(LedgerEntry.event_key == order_key, LedgerAccount.code == A.AGENT_ON_HOLD)
    ).all()
    post_many(
        [
            Posting(
                f"{EntryKind.AGENT_EARNING_RELEASED}:{order_key}",
                EntryKind.AGENT_EARNING_RELEASED,
                [
                    party_line(Party.AGENT, agent_id, PartyRole.ON_HOLD, -amount),
                    party_line(Party.AGENT, agent_id, PartyRole.AVAILABLE, amount),
                ],
                order_id=order.id,
                agent_id=agent_id,
            )
            for agent_id, amount in rows
        ]
    )


@cod_verified.connect
def post_cash_handed_in(
    order: Order, *, agent_id: int | None, amount: Decimal, reference: str, **_: object
) -> None:
    """Dr CASH_COLLECTED / Cr the agent's AGENT_CASH_HELD: the cash an agent collected
    reached the platform (cash staff took was CASH_COLLECTED from the start)."""
    if agent_id is None:
        return
    post(
        f"{EntryKind.COD_VERIFIED}:{order.id}",
        EntryKind.COD_VERIFIED,
        [Line(A.CASH_COLLECTED, amount), Line(A.AGENT_CASH_HELD, -amount, agent_id=agent_id)],
        order_id=order.id,
        memo=f"Handed in: {reference}",
    )


@order_undelivered.connect
def reverse_delivery(order: Order, *, note: str | None = None, **_: object) -> None:
    """A delivery found not made: its entries are reversed, the money is held for the
    order again (the next delivery posts afresh)."""
    memo = (note or "Delivery undone")[:255]
    post_many([reversal(key, memo=memo) for key in delivery_keys(order, _delivery_round(order))])


@delivery_disputed.connect
def hold_disputed_order(order: Order, **_: object) -> None:
    """A disputed delivery's earnings stay on hold until the dispute is resolved."""
    insert_once(
        OrderHold, {"order_id": order.id, "reason": "DELIVERY_DISPUTED", "created_at": utcnow()}
    )


@delivery_dispute_resolved.connect
def lift_dispute_hold(order: Order, **_: object) -> None:
    db.session.execute(delete(OrderHold).where(OrderHold.order_id == order.id))
