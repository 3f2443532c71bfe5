"""Refunds: money owed back to a customer, the one table of their status changes, and
sending them (Paystack, M-Pesa B2C, or by hand) exactly once.

A refund is recorded PENDING (a paid order cancelled, money that arrived for an order
that could not take it, an approved return, a refund started at the provider) and then
moves only along ``TRANSITIONS``, through ``change_refund_status``: PROCESSING once the
provider *accepted* it, COMPLETED only once the provider *confirmed* it (webhook or a
status check), FAILED when refused (an admin may retry: back to PENDING). Functions
flush and never commit.

Locks, always in this order: the order, the payment, the refund (then a return, by the
receivers of ``refund_settled``). A refund is sent while its row is locked, and only
from PENDING: a double click, two admins or a replayed request find it PROCESSING and
send nothing; a webhook racing a status check waits for the order lock and then finds
the refund already moved.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import func, select

from app.common.audit import record_audit
from app.db import get_or_404, lock_or_404, utcnow
from app.disbursements import operations as transfers
from app.disbursements.models import (
    OPEN_STATUSES,
    Disbursement,
    DisbursementPurpose,
    DisbursementStatus,
)
from app.errors import Conflict, InvalidTransition, Unprocessable
from app.extensions import db
from app.money import CENTS, format_money, whole_shillings
from app.orders.models import Order, PaymentStatus
from app.orders.state import change_payment_status, lock_order
from app.payments.attempts import lock_payment, move_payment, payments_of
from app.payments.models import (
    Payment,
    PaymentProvider,
    Refund,
    RefundCause,
    RefundMethod,
    RefundStatus,
)
from app.services import paystack_gateway
from app.services.http import ProviderTimeout
from app.services.paystack import PaystackRejected, ProviderRefund
from app.signals import refund_due, refund_settled

log = logging.getLogger(__name__)
P = PaymentStatus
R = RefundStatus
TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    R.PENDING: frozenset({R.PROCESSING, R.COMPLETED, R.FAILED}),
    R.PROCESSING: frozenset({R.COMPLETED, R.FAILED}),
    R.COMPLETED: frozenset(),
    R.FAILED: frozenset({R.PENDING}),  # an admin's retry
}
# Paystack's refund statuses (webhooks and GET /refund/:id) as ours.
PROVIDER_STATUSES = {
    "pending": R.PROCESSING,
    "processing": R.PROCESSING,
    "needs-attention": R.PROCESSING,
    "processed": R.COMPLETED,
    "failed": R.FAILED,
}
# The method that pays a refund back the way the money came in.
ORIGINAL_METHOD = {
    PaymentProvider.PAYSTACK: RefundMethod.PAYSTACK,
    PaymentProvider.MPESA: RefundMethod.MPESA_B2C,
    PaymentProvider.CASH: RefundMethod.MPESA_B2C,
}
# Money that arrived for an order that could not take it: its payment is refunded whole.
UNAPPLIED_CAUSES = frozenset({RefundCause.LATE_PAYMENT, RefundCause.DUPLICATE_PAYMENT})


def change_refund_status(refund: Refund, new_status: RefundStatus) -> Refund:
    """Move a refund along ``TRANSITIONS``; anything else is an ``InvalidTransition``.

    COMPLETED sends ``refund_settled`` and brings the payment's and the order's payment
    status up to date (call it with the order and payment rows locked)."""
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
        refund.failure_reason = None
    db.session.flush()
    if new_status == R.COMPLETED:
        refund_settled.send(refund)
        _update_payment_status(refund)
    return refund


NOT_FAILED = (R.PENDING, R.PROCESSING, R.COMPLETED)


def refunded_total(
    payment_id: int,
    statuses: tuple[RefundStatus, ...],
    *,
    leaving_out: int | None = None,
    column=Refund.amount,
) -> Decimal:
    """The sum of ``column`` over the payment's refunds in ``statuses`` (``leaving_out``:
    one refund not counted), in exact cents."""
    query = select(func.coalesce(func.sum(column), 0)).where(
        Refund.payment_id == payment_id, Refund.status.in_(statuses)
    )
    if leaving_out is not None:
        query = query.where(Refund.id != leaving_out)
    return Decimal(str(db.session.scalar(query))).quantize(CENTS)


def _update_payment_status(refund: Refund) -> None:
    """After a refund completed: a payment whose money all went back is REFUNDED; the
    order is REFUNDED when no completed payment is left, PARTIALLY_REFUNDED before that.

    All of a payment went back when its completed refunds reach what it captured, or,
    for the payment that paid the order, the order's total (M-Pesa's whole-shilling
    round-up is the platform's, ``ROUNDING_REVENUE``)."""
    payment, order = refund.payment, refund.order
    if payment is None:
        return
    refunded = refunded_total(payment.id, (R.COMPLETED,))
    whole = payment.captured
    if refund.cause not in UNAPPLIED_CAUSES and not payment.flagged:
        whole = min(whole, order.total)
    if refunded >= whole:
        move_payment(payment, P.REFUNDED, (P.COMPLETED,))
    if refund.cause in UNAPPLIED_CAUSES:
        return  # the order's own payment is untouched
    if order.payment_status not in (P.COMPLETED, P.PARTIALLY_REFUNDED):
        return
    if not any(p.status == P.COMPLETED for p in payments_of(order)):
        change_payment_status(order, P.REFUNDED, note=f"Refund {refund.id} completed")
    elif order.payment_status == P.COMPLETED:
        change_payment_status(order, P.PARTIALLY_REFUNDED, note=f"Refund {refund.id} completed")


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
    (422 ``REFUND_EXCEEDS_PAYMENT``). Call it with the order row locked: the payment's
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
    amount = payment.captured if amount is None else amount
    _check_fits(payment, amount)
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


def _check_fits(payment: Payment, amount: Decimal, *, leaving_out: int | None = None) -> None:
    """422 unless ``amount`` fits in what the payment captured beside its other refunds
    that have not failed (``leaving_out``: a refund being retried)."""
    captured = payment.captured
    refunded = refunded_total(payment.id, NOT_FAILED, leaving_out=leaving_out)
    if refunded + amount > captured:
        raise Unprocessable(
            "The refunds of a payment cannot exceed what it captured",
            code="REFUND_EXCEEDS_PAYMENT",
            details={
                "captured": format_money(captured),
                "refunded": format_money(refunded),
                "requested": format_money(amount),
            },
        )


def default_key(order: Order, payment: Payment, cause: str) -> str:
    """A cancellation is refunded once per order; the other causes once per payment."""
    if cause == RefundCause.ORDER_CANCELLED:
        return f"cancel:{order.id}"
    return f"{str(cause).lower().replace('_', '-')}:{payment.id}"


def lock_refund(refund_id: int) -> Refund:
    return lock_or_404(Refund, refund_id, message="Refund not found")


def _lock_all(refund_id: int) -> Refund:
    """The refund with its order, payment and own row locked, in that order."""
    refund = get_or_404(Refund, refund_id)
    lock_order(refund.order_id)
    if refund.payment_id is not None:
        lock_payment(refund.payment_id)
    return lock_refund(refund_id)


def apply_provider_refund(
    order: Order,
    payment: Payment,
    status: RefundStatus,
    *,
    provider_reference: str | None,
    amount: Decimal | None,
) -> Refund | None:
    """What the provider says of a refund of ``payment``; None when it changes nothing.

    The refund is found by the provider's reference, else the payment's open refund
    already sent (PROCESSING) of the same amount, else its oldest open one, else one we
    sent of that amount that a status check settled first; otherwise it was started at
    the provider and is recorded here. Call it with the order and the payment
    rows locked.
    """
    refund = None
    if provider_reference:
        refund = db.session.scalar(
            select(Refund).where(Refund.provider_reference == provider_reference)
        )
    if refund is None:
        open_refunds = select(Refund).where(
            Refund.payment_id == payment.id, Refund.status.in_([R.PENDING, R.PROCESSING])
        )
        if amount is not None:
            refund = db.session.scalar(
                open_refunds.where(Refund.amount == amount)
                .order_by((Refund.status == R.PROCESSING).desc(), Refund.id)
                .limit(1)
            )
        if refund is None:
            refund = db.session.scalar(open_refunds.order_by(Refund.id).limit(1))
    if refund is None and amount is not None:
        # One we sent and a status check already settled, before this event named it.
        refund = db.session.scalar(
            select(Refund)
            .where(
                Refund.payment_id == payment.id,
                Refund.provider_refund_id.is_not(None),
                Refund.provider_reference.is_(None),
                Refund.amount == amount,
            )
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
    refund = lock_refund(refund.id)
    refund.provider_reference = provider_reference or refund.provider_reference
    if status not in TRANSITIONS[refund.status] or status == R.PENDING:
        db.session.flush()
        return None
    if status == R.FAILED:
        refund.failure_reason = "Paystack reports the refund failed"
    change_refund_status(refund, status)
    return refund


# -- sending ------------------------------------------------------------------------


def refund_method(refund: Refund, requested: RefundMethod | None) -> RefundMethod:
    """The original payment's way back, or MANUAL; another provider's is a 422."""
    original = ORIGINAL_METHOD[refund.payment.provider] if refund.payment else None
    if requested is None:
        if original is None:
            raise Unprocessable(
                "This refund has no payment to send it through: record it with method MANUAL",
                code="REFUND_METHOD_REQUIRED",
            )
        return original
    if requested not in (RefundMethod.MANUAL, original):
        raise Unprocessable(
            f"A refund goes back the way the money came in ({original}) or MANUAL",
            code="REFUND_METHOD_MISMATCH",
            details={"allowed": sorted(str(m) for m in {RefundMethod.MANUAL, original} if m)},
        )
    return requested


def process_refund(
    refund_id: int,
    *,
    actor_id: int | None,
    method: RefundMethod | None = None,
    reference: str | None = None,
) -> Refund:
    """Send a PENDING refund once: Paystack ``POST /refund`` (PROCESSING until its
    confirmation), M-Pesa B2C, or MANUAL with the ``reference`` of a refund paid by hand
    (COMPLETED at once). A refund already sent is returned as it is; a FAILED one needs
    ``retry_refund``, or MANUAL. A provider that cannot be reached raises 502 and leaves it PENDING;
    a provider's refusal marks it FAILED with the reason.
    """
    return _process(_lock_all(refund_id), actor_id=actor_id, method=method, reference=reference)


def _process(
    refund: Refund,
    *,
    actor_id: int | None,
    method: RefundMethod | None,
    reference: str | None = None,
) -> Refund:
    """``process_refund`` of a refund locked with ``_lock_all``."""
    if refund.status in (R.PROCESSING, R.COMPLETED):
        return refund
    if refund.status == R.FAILED and method == RefundMethod.MANUAL:
        if refund.payment is not None:  # paid by hand after all: owed again first
            _check_fits(refund.payment, refund.amount, leaving_out=refund.id)
        change_refund_status(refund, R.PENDING)
    if refund.status == R.FAILED:
        raise Conflict(
            "This refund failed; retry it (or record it paid by hand with method MANUAL)",
            code="REFUND_FAILED",
            details={"refund_id": refund.id},
        )
    chosen = refund_method(refund, method)
    if chosen == RefundMethod.MANUAL:
        if not reference:
            raise Unprocessable(
                "A refund paid by hand needs its reference", code="REFERENCE_REQUIRED"
            )
        _withdraw_transfer(refund)
        _sent(refund, chosen, actor_id)
        refund.manual_reference = reference[:100]
        refund.paid_amount = None
        change_refund_status(refund, R.COMPLETED)
    elif chosen == RefundMethod.PAYSTACK:
        _send_paystack(refund, actor_id)
    else:
        _prepare_transfer(refund, actor_id)
    record_audit(
        "payment.refund_processed",
        refund,
        actor_id=actor_id,
        details={"method": str(chosen), "status": str(refund.status)},
    )
    return refund


def open_transfer(refund_id: int) -> Disbursement | None:
    """The refund's B2C transfer not yet settled (at most one: a unique index)."""
    return db.session.scalar(
        select(Disbursement).where(
            Disbursement.purpose == DisbursementPurpose.REFUND,
            Disbursement.subject_id == refund_id,
            Disbursement.status.in_(OPEN_STATUSES),
        )
    )


def _b2c_target(refund: Refund) -> tuple[str, Decimal]:
    """Where and how much: the phone that paid (cash: the customer's), the refund rounded
    up to whole shillings but never above what the payment still holds beside its other
    refunds (counted at what they sent)."""
    payment, order = refund.payment, refund.order
    if payment.provider == PaymentProvider.CASH:
        phone = order.customer.phone or order.recipient_phone
    else:
        phone = payment.payer_phone or order.recipient_phone
    others = refunded_total(
        payment.id,
        NOT_FAILED,
        leaving_out=refund.id,
        column=func.coalesce(Refund.paid_amount, Refund.amount),
    )
    room = int(payment.captured - others)  # whole shillings left
    amount = Decimal(min(whole_shillings(refund.amount), room))
    if amount < transfers.B2C_MINIMUM:
        raise Unprocessable(
            "M-Pesa B2C sends at least KES 10: pay this refund by hand and record it with "
            "method MANUAL",
            code="REFUND_TOO_SMALL",
            details={"amount": format_money(refund.amount), "minimum": "10.00"},
        )
    return phone, amount


def _prepare_transfer(refund: Refund, actor_id: int | None) -> None:
    """Write the refund's B2C transfer (PENDING: ``send_refund`` sends it after the
    commit); one already open is sent again as it is, never doubled."""
    if open_transfer(refund.id) is not None:
        return
    phone, amount = _b2c_target(refund)
    _sent(refund, RefundMethod.MPESA_B2C, actor_id)
    refund.paid_amount = amount
    transfers.create_disbursement(
        DisbursementPurpose.REFUND,
        refund.id,
        phone=phone,
        amount=amount,
        remarks=f"Refund {refund.order.order_number}",
        occasion=refund.key,
    )


def _withdraw_transfer(refund: Refund) -> None:
    """Before a refund is recorded paid by hand: a B2C transfer never sent is cancelled;
    one that left (or may have) forbids it (409 ``REFUND_IN_FLIGHT``)."""
    transfer = open_transfer(refund.id)
    if transfer is None:
        return
    if transfer.status != DisbursementStatus.PENDING:
        raise Conflict(
            "An M-Pesa transfer of this refund is in flight; wait for its result",
            code="REFUND_IN_FLIGHT",
            details={"disbursement_id": transfer.id, "status": str(transfer.status)},
        )
    transfers.cancel_disbursement(transfer)


def send_refund(
    refund_id: int,
    *,
    actor_id: int | None,
    method: RefundMethod | None = None,
    reference: str | None = None,
    retry: bool = False,
) -> Refund:
    """``process_refund`` (or ``retry_refund``), committed, then a B2C transfer it wrote
    sent: a boundary (it commits). Daraja unreachable or refusing: 502, the refund stays
    PENDING with its transfer, sent again by the next call; a timeout leaves it in
    flight, for the B2C result or Transaction Status to settle."""
    if retry:
        retry_refund(refund_id, actor_id=actor_id)
    else:
        process_refund(refund_id, actor_id=actor_id, method=method, reference=reference)
    db.session.commit()
    transfer = open_transfer(refund_id)
    if transfer is not None and transfer.status == DisbursementStatus.PENDING:
        outcome = transfers.send([transfer.id])[transfer.id]
        if outcome.refused:
            raise outcome.error
    refund = db.session.get(Refund, refund_id)
    db.session.refresh(refund)
    return refund


def _refund_of(disbursement: Disbursement) -> Refund | None:
    """The refund a REFUND transfer pays, row-locked (None: no such refund, logged)."""
    if db.session.get(Refund, disbursement.subject_id) is None:
        log.error("B2C transfer %s names no refund %s", disbursement.id, disbursement.subject_id)
        return None
    return _lock_all(disbursement.subject_id)


def transfer_sent(disbursement: Disbursement) -> None:
    """Its B2C transfer left (or may have): PROCESSING."""
    refund = _refund_of(disbursement)
    if refund is not None and refund.status == R.PENDING:
        change_refund_status(refund, R.PROCESSING)


def transfer_settled(disbursement: Disbursement, status: DisbursementStatus) -> None:
    """Its B2C transfer's result: COMPLETED (with M-Pesa's receipt) or FAILED (retryable)."""
    refund = _refund_of(disbursement)
    if refund is None:
        return
    if refund.status == R.PENDING:
        change_refund_status(refund, R.PROCESSING)
    if refund.status != R.PROCESSING:
        return
    if status == DisbursementStatus.COMPLETED:
        refund.provider_reference = disbursement.receipt
        change_refund_status(refund, R.COMPLETED)
    else:
        refund.failure_reason = (disbursement.result_desc or "M-Pesa B2C failed")[:500]
        change_refund_status(refund, R.FAILED)


def _sent(refund: Refund, method: RefundMethod, actor_id: int | None) -> None:
    refund.method = method
    refund.processed_by_id = actor_id
    refund.processed_at = utcnow()
    refund.attempts += 1


def _send_paystack(refund: Refund, actor_id: int | None) -> None:
    payment = refund.payment
    try:
        answer = paystack_gateway().refund(
            transaction=payment.reference,
            amount=refund.amount,
            currency=refund.currency,
            customer_note=f"Refund for order {refund.order.order_number}",
            merchant_note=f"Refund {refund.id} ({refund.key})",
        )
    except PaystackRejected as refused:
        _sent(refund, RefundMethod.PAYSTACK, actor_id)
        refund.failure_reason = refused.message[:500]
        change_refund_status(refund, R.FAILED)
        return
    except ProviderTimeout:
        # The request went out and no answer came: Paystack may have made the refund, so
        # it is never sent again. It stays PROCESSING until Paystack's webhook (matched by
        # payment and amount, ``apply_provider_refund``) settles it.
        log.warning("refund %s: Paystack did not answer; awaiting its webhook", refund.id)
        _sent(refund, RefundMethod.PAYSTACK, actor_id)
        change_refund_status(refund, R.PROCESSING)
        return
    _sent(refund, RefundMethod.PAYSTACK, actor_id)
    refund.provider_refund_id = answer.id
    _apply_answer(refund, answer)


def _apply_answer(refund: Refund, answer: ProviderRefund) -> None:
    status = PROVIDER_STATUSES.get(answer.status, R.PROCESSING)
    if refund.status == R.PENDING and status == R.COMPLETED:
        change_refund_status(refund, R.PROCESSING)
    if status != refund.status and status in TRANSITIONS[refund.status]:
        if status == R.FAILED:
            refund.failure_reason = f"Paystack reports the refund {answer.status}"
        change_refund_status(refund, status)


def check_refund(refund_id: int) -> Refund:
    """Ask Paystack (``GET /refund/:id``) about a refund sent and not yet confirmed."""
    return _check(_lock_all(refund_id))


def _check(refund: Refund) -> Refund:
    """``check_refund`` of a refund locked with ``_lock_all``."""
    if refund.status != R.PROCESSING:
        return refund
    if refund.method != RefundMethod.PAYSTACK or not refund.provider_refund_id:
        return refund
    answer = paystack_gateway().fetch_refund(refund.provider_refund_id)
    if answer is not None:
        _apply_answer(refund, answer)
    return refund


def retry_refund(refund_id: int, *, actor_id: int | None) -> Refund:
    """FAILED: back to PENDING (if it still fits the payment) and sent again by the same
    method; PROCESSING: its status checked with the provider; PENDING: sent."""
    refund = _lock_all(refund_id)
    if refund.status == R.COMPLETED:
        raise InvalidTransition(
            "This refund is completed", details={"from": str(refund.status), "to": "PENDING"}
        )
    if refund.status == R.PROCESSING:
        return _check(refund)
    method = refund.method if refund.method != RefundMethod.MANUAL else None
    if refund.status == R.FAILED:
        if refund.payment is not None:
            _check_fits(refund.payment, refund.amount, leaving_out=refund.id)
        change_refund_status(refund, R.PENDING)
    return _process(refund, actor_id=actor_id, method=method)
