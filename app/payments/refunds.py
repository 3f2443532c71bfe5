"""Refunds: money owed back to a customer, and the one table of their status changes.

A refund is recorded PENDING (a paid order cancelled, money that arrived for an order
that could not take it, a refund started at the provider) and then moves only along
``TRANSITIONS``, through ``change_refund_status``. Functions flush and never commit.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.common.audit import record_audit
from app.db import utcnow
from app.errors import Conflict, InvalidTransition
from app.extensions import db
from app.money import format_money
from app.orders.models import Order, PaymentStatus
from app.orders.state import change_payment_status
from app.payments.attempts import lock_payment, move_payment, payments_of
from app.payments.models import Payment, Refund, RefundCause, RefundStatus
from app.signals import refund_due, refund_settled

P = PaymentStatus
R = RefundStatus
TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    R.PENDING: frozenset({R.PROCESSING, R.COMPLETED, R.FAILED}),
    R.PROCESSING: frozenset({R.COMPLETED, R.FAILED}),
    R.COMPLETED: frozenset(),
    R.FAILED: frozenset(),
}


def change_refund_status(refund: Refund, new_status: RefundStatus) -> Refund:
    """Move a refund along ``TRANSITIONS``; anything else is an ``InvalidTransition``."""
    allowed = TRANSITIONS[refund.status]
    if new_status not in allowed:
        raise InvalidTransition(
            f"A refund cannot go from {refund.status} to {new_status}",
            details={
                "from": str(refund.status),
                "to": str(new_status),
                "allowed": sorted(str(s) for s in allowed),
            },
        )
    refund.status = new_status
    if new_status == R.COMPLETED:
        refund.completed_at = utcnow()
    db.session.flush()
    if new_status == R.COMPLETED:
        refund_settled.send(refund)
    return refund


def record_refund_due(
    order: Order,
    *,
    reason: str,
    requested_by_id: int | None = None,
    payment: Payment | None = None,
    cause: str = RefundCause.ORDER_CANCELLED,
    key: str | None = None,
    amount: Decimal | None = None,
) -> Refund | None:
    """A PENDING refund of a completed payment, once per ``key``.

    Without ``payment`` the order's completed payment is refunded (the one that paid
    it). Returns None when nothing was paid (e.g. an unpaid cash order), so callers
    may call it for any cancelled order. ``key`` defaults to ``cancel:<order id>`` for a
    cancellation and ``<cause>:<payment id>`` otherwise; ``amount`` to all the payment
    captured. The payment's refunds that have not failed never exceed what it captured
    (409 ``REFUND_EXCEEDS_PAYMENT``). Call it with the order row locked: the payment's
    row lock is taken here, so that check holds under concurrency.
    """
    if payment is None:
        payment = db.session.scalar(
            select(Payment)
            .where(Payment.order_id == order.id, Payment.status == P.COMPLETED)
            .order_by(Payment.flagged, Payment.completed_at, Payment.id)
            .limit(1)
        )
        if payment is None:
            return None
    payment = lock_payment(payment.id)
    key = key or default_key(order, payment, cause)
    existing = db.session.scalar(select(Refund).where(Refund.key == key))
    if existing is not None:
        return existing
    captured = payment.captured
    amount = captured if amount is None else amount
    refunded = Decimal(
        str(
            db.session.scalar(
                select(func.coalesce(func.sum(Refund.amount), 0)).where(
                    Refund.payment_id == payment.id, Refund.status != R.FAILED
                )
            )
        )
    )
    if refunded + amount > captured:
        raise Conflict(
            "The refunds of a payment cannot exceed what it captured",
            code="REFUND_EXCEEDS_PAYMENT",
            details={
                "captured": format_money(captured),
                "refunded": format_money(refunded),
                "requested": format_money(amount),
            },
        )
    refund = Refund(
        key=key,
        order_id=order.id,
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        cause=str(cause),
        reason=reason[:500],
        requested_by_id=requested_by_id,
    )
    db.session.add(refund)
    db.session.flush()
    refund_due.send(refund)
    record_audit(
        "payment.refund_due",
        refund,
        actor_id=requested_by_id,
        details={
            "payment_id": payment.id,
            "cause": str(cause),
            "amount": format_money(refund.amount),
        },
    )
    return refund


def default_key(order: Order, payment: Payment, cause: str) -> str:
    """A cancellation is refunded once per order; the other causes once per payment."""
    if cause == RefundCause.ORDER_CANCELLED:
        return f"cancel:{order.id}"
    return f"{str(cause).lower().replace('_', '-')}:{payment.id}"


def apply_provider_refund(
    order: Order,
    payment: Payment,
    status: RefundStatus,
    *,
    provider_reference: str | None,
    amount: Decimal | None,
) -> Refund | None:
    """What the provider says of a refund of ``payment``; None when it changes nothing.

    The refund is found by the provider's reference, else the payment's oldest open
    refund; a refund started at the provider is recorded here. Once every completed
    refund covers the payment, the payment (and, with no other completed payment, the
    order) becomes REFUNDED. Call it with the order and the payment rows locked.
    """
    refund = None
    if provider_reference:
        refund = db.session.scalar(
            select(Refund).where(Refund.provider_reference == provider_reference)
        )
    if refund is None:
        refund = db.session.scalar(
            select(Refund)
            .where(Refund.payment_id == payment.id, Refund.status.in_([R.PENDING, R.PROCESSING]))
            .order_by(Refund.id)
            .limit(1)
        )
    if refund is None:
        refund = record_refund_due(
            order,
            reason="Refund started at Paystack",
            payment=payment,
            cause=RefundCause.PROVIDER,
            key=f"paystack:{provider_reference}" if provider_reference else None,
            amount=amount,
        )
    if status not in TRANSITIONS[refund.status]:
        return None
    change_refund_status(refund, status)
    refund.provider_reference = provider_reference or refund.provider_reference
    if status == R.COMPLETED:
        refunded = db.session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment.id, Refund.status == R.COMPLETED
            )
        )
        if Decimal(str(refunded)) >= payment.captured:
            move_payment(payment, P.REFUNDED, (P.COMPLETED,))
            if order.payment_status == P.COMPLETED and not any(
                p.status == P.COMPLETED for p in payments_of(order)
            ):
                change_payment_status(order, P.REFUNDED, note="Refunded at Paystack")
    return refund
