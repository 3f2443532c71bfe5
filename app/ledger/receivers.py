"""The ledger's postings, hung on the domain events of ``app/signals.py``.

Each receiver posts one entry per business event under its event key (a signal sent
twice posts once) and raises on anything wrong, failing the sender's transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import EntryKind
from app.ledger.operations import Line, Posting, held_for_order, post, post_many
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.payments.models import Payment, PaymentProvider, Refund, RefundCause, RefundMethod
from app.signals import order_cancelled, order_delivered, order_paid, refund_due, refund_settled

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
        [Line(_clearing(payment, order), received), Line(A.ORDERS_HELD, -received)],
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


@order_delivered.connect
def post_order_delivered(order: Order, **_: object) -> None:
    """Per item: Dr ORDERS_HELD line total / Cr the supplier's ON_HOLD (line total less
    the snapshotted commission, released EARNINGS_HOLD_DAYS after delivery) and
    COMMISSION_REVENUE. Per order: the delivery fee to DELIVERY_REVENUE, and what the
    customer paid above the total (M-Pesa's round-up) to ROUNDING_REVENUE."""
    delivered_at = order.delivered_at or utcnow()
    release_at = delivered_at + timedelta(days=current_app.config["EARNINGS_HOLD_DAYS"])
    round_up = max(held_for_order(order.id) - order.total, Decimal("0.00"))
    postings = [
        Posting(
            f"item-delivered:{item.id}",
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
        for item in order.items
    ]
    postings.append(
        Posting(
            f"order-delivered:{order.id}",
            EntryKind.ORDER_DELIVERED,
            [
                Line(A.ORDERS_HELD, order.delivery_fee + round_up),
                Line(A.DELIVERY_REVENUE, -order.delivery_fee),
                Line(A.ROUNDING_REVENUE, -round_up),
            ],
            delivered_at,
            order.id,
        )
    )
    post_many(postings)
