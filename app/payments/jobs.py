"""Scheduled payment work: no payment depends on a callback arriving."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.errors import ApiError
from app.extensions import db
from app.orders.models import PaymentStatus
from app.payments import events, refunds, settlement
from app.payments.models import (
    Outcome,
    Payment,
    PaymentProvider,
    ProviderEvent,
    Refund,
    RefundMethod,
    RefundStatus,
)

log = logging.getLogger(__name__)

PENDING_FOR = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=2)  # older attempts are left to finance, not polled forever
BATCH = 50


def reconcile_pending_payments() -> dict[str, int]:
    """Settle M-Pesa and card attempts still pending after 2 minutes.

    First an STK callback that arrived before its attempt was committed (stored as
    UNKNOWN_PAYMENT), or a success callback the STK query has not confirmed yet
    (UNCONFIRMED), is replayed; otherwise M-Pesa is queried and Paystack verified,
    and the answer applied exactly as a callback would. One commit per attempt, so a
    provider error on one does not hold back the others.
    """
    now = utcnow()
    payments = db.session.scalars(
        select(Payment)
        .where(
            Payment.status == PaymentStatus.PENDING,
            Payment.provider.in_([PaymentProvider.MPESA, PaymentProvider.PAYSTACK]),
            Payment.created_at < now - PENDING_FOR,
            Payment.created_at > now - GIVE_UP_AFTER,
        )
        .order_by(Payment.created_at)
        .limit(BATCH)
    ).all()
    counts = {"checked": 0, "settled": 0, "errors": 0}
    for payment_id in [payment.id for payment in payments]:
        payment = db.session.get(Payment, payment_id)
        counts["checked"] += 1
        try:
            _reconcile(payment)
            settled = payment.status != PaymentStatus.PENDING
            db.session.commit()
        except ApiError as exc:  # provider down or refusing: try again next run
            db.session.rollback()
            log.warning("reconcile payment %s: %s", payment_id, exc.message)
            counts["errors"] += 1
            continue
        except Exception:  # a database error or a bug on one attempt must not stall the rest
            db.session.rollback()
            log.exception("reconcile payment %s failed", payment_id)
            counts["errors"] += 1
            continue
        counts["settled"] += settled
    return counts


def _reconcile(payment: Payment) -> None:
    if payment.provider == PaymentProvider.PAYSTACK:
        settlement.verify_card_payment(payment)
        return
    early = db.session.scalar(
        select(ProviderEvent)
        .where(
            ProviderEvent.provider == PaymentProvider.MPESA,
            ProviderEvent.external_id == payment.checkout_request_id,
            ProviderEvent.outcome.in_([Outcome.UNKNOWN_PAYMENT, Outcome.UNCONFIRMED]),
        )
        .order_by(ProviderEvent.id)
        .limit(1)
    )
    if early is not None:
        outcome = events.handle_mpesa_callback(early)
        if payment.status != PaymentStatus.PENDING or outcome == Outcome.UNCONFIRMED:
            return  # settled, or M-Pesa was just asked
    settlement.query_mpesa_payment(payment)


def reconcile_processing_refunds() -> dict[str, int]:
    """Ask Paystack about card refunds sent over 2 minutes ago and still PROCESSING (a
    webhook may never come); one commit per refund."""
    now = utcnow()
    refund_ids = db.session.scalars(
        select(Refund.id)
        .where(
            Refund.status == RefundStatus.PROCESSING,
            Refund.method == RefundMethod.PAYSTACK,
            Refund.processed_at < now - PENDING_FOR,
            Refund.processed_at > now - GIVE_UP_AFTER * 15,
        )
        .order_by(Refund.processed_at)
        .limit(BATCH)
    ).all()
    counts = {"checked": 0, "settled": 0, "errors": 0}
    for refund_id in refund_ids:
        counts["checked"] += 1
        try:
            refund = refunds.check_refund(refund_id)
            settled = refund.status != RefundStatus.PROCESSING
            db.session.commit()
        except ApiError as exc:
            db.session.rollback()
            log.warning("reconcile refund %s: %s", refund_id, exc.message)
            counts["errors"] += 1
            continue
        counts["settled"] += settled
    return counts
