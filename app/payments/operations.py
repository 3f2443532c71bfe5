"""Payment rules: start attempts, settle them exactly once, record refunds due.

Every provider answer (STK callback, STK query, Paystack webhook or verify) becomes a
``ProviderResult`` and goes through ``apply_result``, which locks the order and then
the payment (always in that order), re-checks, and moves the payment at most once:

- success with the expected amount and currency completes the payment; the order goes
  ``PENDING -> PAID`` (its ``payment_method`` follows the payment that succeeded);
- any other amount is recorded and flagged, never paid (the attempt fails);
- a success for an attempt already completed changes nothing but fills in what the
  first answer lacked (the receipt after an STK query); a different amount is flagged;
- a failure fails a pending attempt only: a late failure never undoes a success, and
  the order stays payable;
- a payment completing for an order that was meanwhile CANCELLED (expired) does not
  revive it: the payment is COMPLETED and flagged, the order's payment status becomes
  COMPLETED, and a PENDING refund (cause ``LATE_PAYMENT``) is recorded. The same goes
  for a second payment of an order already paid (``DUPLICATE_PAYMENT``).

Functions flush and never commit; the view or job commits.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import attributes

from app.auth.models import ADMIN_ROLES, User
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.money import format_money, whole_shillings
from app.notifications.email import send_email_after_commit
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.state import change_payment_status, change_status, lock_order
from app.payments.models import (
    Payment,
    PaymentProvider,
    ProviderEvent,
    Refund,
    RefundCause,
    RefundStatus,
)
from app.services import mpesa, paystack
from app.services.mpesa import MalformedCallback, describe_result, parse_stk_callback
from app.services.paystack import Transaction, parse_transaction

log = logging.getLogger(__name__)

# A second STK push to the same customer within a minute is refused by M-Pesa
# ("Unable to lock subscriber"), so we refuse it first.
MPESA_RETRY_AFTER_SECONDS = 60
P = PaymentStatus


class Outcome:
    """What happened to a callback, webhook or query (``ProviderEvent.outcome``)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    DUPLICATE = "DUPLICATE"
    LATE_FAILURE_IGNORED = "LATE_FAILURE_IGNORED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    RECEIPT_REUSED = "RECEIPT_REUSED"
    UNKNOWN_PAYMENT = "UNKNOWN_PAYMENT"
    MALFORMED = "MALFORMED"
    REJECTED = "REJECTED"  # bad token or signature
    IGNORED = "IGNORED"  # an event we do not act on
    REFUND_UPDATED = "REFUND_UPDATED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class ProviderResult:
    status: Literal["success", "failed", "pending"]
    amount: Decimal | None = None
    currency: str | None = None
    receipt: str | None = None
    code: str | None = None
    reason: str | None = None
    payer: str | None = None
    raw: dict[str, Any] | None = None


@dataclass(frozen=True)
class PaymentSummary:
    order: Order
    payments: list[Payment]


# -- loading and checks ---------------------------------------------------------------


def order_for(user: User, order_id: int) -> Order:
    """The order if ``user`` owns it (admins see every order); otherwise 404."""
    order = db.session.get(Order, order_id)
    if order is None or (order.customer_id != user.id and user.role not in ADMIN_ROLES):
        raise NotFound("Order not found")
    return order


def payment_for(user: User, **criteria) -> Payment:
    payment = db.session.scalar(select(Payment).filter_by(**criteria))
    if payment is None:
        raise NotFound("Payment not found")
    order_for(user, payment.order_id)
    return payment


def ensure_payable(order: Order) -> None:
    if order.payment_method == PaymentMethod.CASH:
        raise Conflict(
            "This order is paid in cash on delivery", code="CASH_ORDER", details=_state(order)
        )
    if order.payment_status == P.COMPLETED or order.status == OrderStatus.PAID:
        raise Conflict("This order is already paid", code="ALREADY_PAID", details=_state(order))
    if order.status != OrderStatus.PENDING:
        raise Conflict(
            f"An order that is {order.status} cannot be paid",
            code="ORDER_NOT_PAYABLE",
            details=_state(order),
        )
    if order.payment_due_at is not None and order.payment_due_at < utcnow():
        raise Conflict(
            "The time to pay for this order has run out",
            code="ORDER_NOT_PAYABLE",
            details=_state(order),
        )


def _state(order: Order) -> dict[str, str]:
    return {
        "status": str(order.status),
        "payment_status": str(order.payment_status),
        "payment_method": str(order.payment_method),
    }


def _new_reference(prefix: str, order: Order) -> str:
    """Unique per attempt; letters, digits and ``-`` only (Paystack's reference rules)."""
    return f"{prefix}-{order.id}-{secrets.token_hex(5).upper()}"


def _lock_payment(payment_id: int) -> Payment:
    return db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _move(payment: Payment, new: PaymentStatus, allowed: tuple[PaymentStatus, ...]) -> bool:
    """Compare-and-set on the row: under any concurrency only one caller wins."""
    moved = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(allowed))
        .values(status=new, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:
        attributes.set_committed_value(payment, "status", new)
    return moved == 1


def _payments_of(order: Order) -> list[Payment]:
    return list(
        db.session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id))
    )


def _sync_order_payment_status(order: Order, note: str) -> None:
    """While unpaid, the order's payment status follows its attempts."""
    if order.status != OrderStatus.PENDING or order.payment_status in (P.COMPLETED, P.REFUNDED):
        return
    statuses = {payment.status for payment in _payments_of(order)}
    target = P.PENDING if P.PENDING in statuses or not statuses else P.FAILED
    if target != order.payment_status:
        change_payment_status(order, target, note=note)


# -- starting attempts ------------------------------------------------------------------


def start_mpesa_payment(order: Order, phone: str) -> Payment:
    """Send an STK Push for the order's total, rounded up to whole shillings."""
    order = lock_order(order.id)
    ensure_payable(order)
    recent = db.session.scalar(
        select(Payment).where(
            Payment.order_id == order.id,
            Payment.provider == PaymentProvider.MPESA,
            Payment.status == P.PENDING,
            Payment.created_at > utcnow() - timedelta(seconds=MPESA_RETRY_AFTER_SECONDS),
        )
    )
    if recent is not None:
        raise Conflict(
            "An M-Pesa prompt was sent moments ago; complete it or wait a minute",
            code="PAYMENT_IN_PROGRESS",
            details={"checkout_request_id": recent.checkout_request_id},
        )
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.MPESA,
        provider=PaymentProvider.MPESA,
        amount=Decimal(whole_shillings(order.total)),
        currency=order.currency,
        reference=_new_reference("MP", order),
        payer_phone=phone,
    )
    db.session.add(payment)
    db.session.flush()  # our row exists before Daraja is called
    push = mpesa().stk_push(
        phone=phone, amount=payment.amount, reference=order.order_number, description="Quantum Gear"
    )
    payment.checkout_request_id = push.checkout_request_id
    payment.merchant_request_id = push.merchant_request_id or None
    payment.provider_response = {"stk_push": push.raw}
    _sync_order_payment_status(order, note="M-Pesa payment started")
    db.session.flush()
    return payment


def start_card_payment(order: Order) -> Payment:
    """Open a Paystack checkout for the order's total (in cents)."""
    order = lock_order(order.id)
    ensure_payable(order)
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.CARD,
        provider=PaymentProvider.PAYSTACK,
        amount=order.total,
        currency=order.currency,
        reference=_new_reference("QG", order),
        payer_email=order.customer.email,
    )
    db.session.add(payment)
    db.session.flush()
    callback_url = f"{current_app.config['FRONTEND_URL']}/orders/{order.id}/payment-return"
    checkout = paystack().initialize(
        email=order.customer.email,
        amount=payment.amount,
        currency=payment.currency,
        reference=payment.reference,
        callback_url=callback_url,
        metadata={"order_id": order.id, "order_number": order.order_number},
    )
    payment.provider_response = {
        "initialize": checkout.raw,
        "callback_url": callback_url,
        "authorization_url": checkout.authorization_url,
        "access_code": checkout.access_code,
    }
    _sync_order_payment_status(order, note="Card payment started")
    db.session.flush()
    return payment


def confirm_cash_payment(order: Order, amount: Decimal, *, actor_id: int) -> Payment:
    """Record the cash collected for a cash-on-delivery order; twice changes nothing."""
    order = lock_order(order.id)
    if order.payment_method != PaymentMethod.CASH:
        raise Conflict(
            "Only cash on delivery orders are confirmed here",
            code="NOT_A_CASH_ORDER",
            details=_state(order),
        )
    existing = db.session.scalar(
        select(Payment).where(
            Payment.order_id == order.id,
            Payment.provider == PaymentProvider.CASH,
            Payment.status == P.COMPLETED,
        )
    )
    if existing is not None:
        return existing
    if order.status == OrderStatus.CANCELLED:
        raise Conflict("This order was cancelled", code="ORDER_NOT_PAYABLE", details=_state(order))
    if amount != order.total:
        raise Unprocessable(
            "The cash received must equal the order total",
            code="AMOUNT_MISMATCH",
            details={"expected": format_money(order.total), "received": format_money(amount)},
        )
    now = utcnow()
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.CASH,
        provider=PaymentProvider.CASH,
        amount=order.total,
        amount_received=amount,
        currency=order.currency,
        status=P.COMPLETED,
        reference=f"CASH-{order.order_number}",
        completed_at=now,
        recorded_by_id=actor_id,
    )
    db.session.add(payment)
    db.session.flush()
    change_payment_status(order, P.COMPLETED, actor_id=actor_id, note="Cash received")
    order.paid_at = now
    record_audit(
        "payment.cash_confirmed",
        payment,
        actor_id=actor_id,
        details={"amount": format_money(amount)},
    )
    _email_confirmation(order, payment)
    return payment


# -- settling -----------------------------------------------------------------------------


def apply_result(payment: Payment, result: ProviderResult) -> str:
    """Apply a provider's answer to one attempt, exactly once; returns the ``Outcome``."""
    if result.status == "pending":
        return Outcome.PENDING
    order = lock_order(payment.order_id)
    payment = _lock_payment(payment.id)
    if result.status == "success":
        return _complete(order, payment, result)
    return _fail(order, payment, result)


def _complete(order: Order, payment: Payment, result: ProviderResult) -> str:
    if payment.status in (P.COMPLETED, P.REFUNDED):
        return _confirm_completed(payment, result)
    if result.amount != payment.amount or result.currency != payment.currency:
        payment.flagged = True
        payment.flag_reason = (
            f"Provider reported {result.amount} {result.currency or ''}, "
            f"expected {payment.amount} {payment.currency}"
        )[:500]
        payment.amount_received = result.amount
        if _move(payment, P.FAILED, (P.PENDING,)):
            payment.failure_code = "AMOUNT_MISMATCH"
            payment.failure_reason = "The amount paid did not match the amount asked"
        _keep_raw(payment, "amount_mismatch", result.raw)
        _sync_order_payment_status(order, note="Payment amount did not match")
        log.warning("payment %s: amount mismatch flagged (%s)", payment.id, payment.flag_reason)
        return Outcome.AMOUNT_MISMATCH
    if _receipt_taken(payment, result.receipt):
        payment.flagged = True
        payment.flag_reason = f"Receipt {result.receipt} already belongs to another payment"
        _keep_raw(payment, "receipt_reused", result.raw)
        return Outcome.RECEIPT_REUSED
    if not _move(payment, P.COMPLETED, (P.PENDING, P.FAILED)):
        return Outcome.DUPLICATE
    payment.receipt = result.receipt or payment.receipt
    payment.amount_received = result.amount
    payment.completed_at = utcnow()
    payment.failure_code = payment.failure_reason = None
    if result.payer and payment.provider == PaymentProvider.MPESA:
        payment.payer_phone = result.payer[:12]
    _keep_raw(payment, "result", result.raw)
    db.session.flush()
    _settle_order(order, payment)
    return Outcome.COMPLETED


def _receipt_taken(payment: Payment, receipt: str | None) -> bool:
    """Another attempt already holds this provider receipt (receipts are unique)."""
    if not receipt:
        return False
    other = db.session.scalar(
        select(Payment.id).where(Payment.receipt == receipt, Payment.id != payment.id)
    )
    return other is not None


def _confirm_completed(payment: Payment, result: ProviderResult) -> str:
    """A success for an attempt already completed: a duplicate, or the callback after
    the query completed it (the query carries no receipt). Fill in what the first answer
    lacked; an answer that disagrees on the money is flagged for finance."""
    settled_amount = payment.amount_received or payment.amount
    if result.amount != settled_amount or result.currency != payment.currency:
        payment.flagged = True
        payment.flag_reason = (
            f"Provider later reported {result.amount} {result.currency or ''} for a payment "
            f"completed at {settled_amount} {payment.currency}"
        )[:500]
        _keep_raw(payment, "amount_mismatch", result.raw)
        log.warning("payment %s: amount mismatch flagged (%s)", payment.id, payment.flag_reason)
        return Outcome.AMOUNT_MISMATCH
    if result.receipt and not payment.receipt and not _receipt_taken(payment, result.receipt):
        payment.receipt = result.receipt
        if result.payer and payment.provider == PaymentProvider.MPESA:
            payment.payer_phone = result.payer[:12]
        _keep_raw(payment, "confirmation", result.raw)
    return Outcome.DUPLICATE


def _fail(order: Order, payment: Payment, result: ProviderResult) -> str:
    if payment.status in (P.COMPLETED, P.REFUNDED):
        return Outcome.LATE_FAILURE_IGNORED
    if not _move(payment, P.FAILED, (P.PENDING,)):
        return Outcome.DUPLICATE
    payment.failure_code = (result.code or "FAILED")[:32]
    payment.failure_reason = (result.reason or "The payment failed")[:500]
    _keep_raw(payment, "result", result.raw)
    db.session.flush()
    _sync_order_payment_status(order, note=f"Payment failed: {payment.failure_reason}")
    return Outcome.FAILED


def _keep_raw(payment: Payment, key: str, raw: dict[str, Any] | None) -> None:
    if raw is not None:
        payment.provider_response = {**(payment.provider_response or {}), key: raw}


def _settle_order(order: Order, payment: Payment) -> None:
    if order.status == OrderStatus.PENDING and order.payment_status != P.COMPLETED:
        order.payment_method = payment.method
        note = f"Paid by {payment.provider} {payment.receipt or payment.reference}"
        change_status(order, OrderStatus.PAID, note=note)
        change_payment_status(order, P.COMPLETED, note=note)
        order.paid_at = payment.completed_at
        _email_confirmation(order, payment)
        return
    # Money arrived for an order that cannot take it: keep it visible and owe it back.
    cancelled = order.status == OrderStatus.CANCELLED
    cause = RefundCause.LATE_PAYMENT if cancelled else RefundCause.DUPLICATE_PAYMENT
    payment.flagged = True
    payment.flag_reason = (
        "Paid after the order was cancelled; refund due"
        if cancelled
        else "The order was already paid; refund due"
    )
    if order.payment_status in (P.PENDING, P.FAILED):
        change_payment_status(order, P.COMPLETED, note=payment.flag_reason)
    record_refund_due(order, reason=payment.flag_reason, payment=payment, cause=cause)
    log.warning("payment %s flagged: %s", payment.id, payment.flag_reason)


def _email_confirmation(order: Order, payment: Payment) -> None:
    send_email_after_commit(
        order.customer.email,
        f"Payment received for order {order.order_number}",
        "payment_confirmation",
        order=order,
        payment=payment,
        customer=order.customer,
        amount=format_money(payment.amount_received or payment.amount),
    )


def record_refund_due(
    order: Order,
    *,
    reason: str,
    requested_by_id: int | None = None,
    payment: Payment | None = None,
    cause: str = RefundCause.ORDER_CANCELLED,
) -> Refund | None:
    """A PENDING refund of a completed payment, once per (payment, cause).

    Without ``payment`` the order's completed payment is refunded (the one that paid
    it). Returns None when nothing was paid (e.g. an unpaid cash order), so callers
    may call it for any cancelled order. Call it with the order row locked.
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
    existing = db.session.scalar(
        select(Refund).where(Refund.payment_id == payment.id, Refund.cause == str(cause))
    )
    if existing is not None:
        return existing
    refund = Refund(
        order_id=order.id,
        payment_id=payment.id,
        amount=payment.amount_received or payment.amount,
        currency=payment.currency,
        cause=str(cause),
        reason=reason[:500],
        requested_by_id=requested_by_id,
    )
    db.session.add(refund)
    db.session.flush()
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


# -- callbacks and webhooks ----------------------------------------------------------------


def record_provider_event(
    provider: PaymentProvider, kind: str, raw_body: bytes, *, authentic: bool
) -> ProviderEvent:
    """Store a callback or webhook as received, before anything acts on it.

    Bytes that are not UTF-8 text, and NUL (which no text column holds), are kept as
    U+FFFD: the body is evidence, so it is stored whatever it contains.
    """
    event = ProviderEvent(
        provider=provider,
        kind=kind,
        payload=raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        authentic=authentic,
        outcome=None if authentic else Outcome.REJECTED,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _finish(
    event: ProviderEvent,
    outcome: str,
    detail: str | None = None,
    *,
    external_id: str | None = None,
    payment: Payment | None = None,
) -> str:
    """Record what the event did. Set only now: linking the event to the payment
    earlier would take a key-share lock on the payment row before the order lock,
    and parallel duplicates would deadlock."""
    event.outcome = outcome
    event.external_id = external_id[:100] if external_id else event.external_id
    event.payment_id = payment.id if payment is not None else event.payment_id
    event.detail = detail[:500] if detail else None
    event.processed_at = utcnow()
    db.session.flush()
    return outcome


def handle_mpesa_callback(event: ProviderEvent) -> str:
    """Act on a stored STK callback (also used to replay one that came too early)."""
    try:
        callback = parse_stk_callback(json.loads(event.payload))
    except (ValueError, MalformedCallback) as exc:
        return _finish(event, Outcome.MALFORMED, str(exc))
    checkout_request_id = callback.checkout_request_id
    payment = db.session.scalar(
        select(Payment).where(Payment.checkout_request_id == checkout_request_id)
    )
    if payment is None:
        return _finish(
            event,
            Outcome.UNKNOWN_PAYMENT,
            "No attempt has this CheckoutRequestID",
            external_id=checkout_request_id,
        )
    raw = json.loads(event.payload)["Body"]["stkCallback"]
    if callback.result_code == "0":
        if callback.amount is None:
            return _finish(
                event,
                Outcome.MALFORMED,
                "Success without CallbackMetadata Amount",
                external_id=checkout_request_id,
                payment=payment,
            )
        result = ProviderResult(
            "success",
            amount=callback.amount,
            currency=payment.currency,
            receipt=callback.receipt,
            payer=callback.phone,
            raw=raw,
        )
    else:
        result = ProviderResult(
            "failed",
            code=callback.result_code,
            reason=describe_result(callback.result_code, callback.result_desc),
            raw=raw,
        )
    outcome = apply_result(payment, result)
    return _finish(event, outcome, external_id=checkout_request_id, payment=payment)


def handle_paystack_webhook(event: ProviderEvent) -> str:
    """Act on a verified Paystack webhook: charges settle payments, refunds update them."""
    try:
        body = json.loads(event.payload)
        name, data = str(body["event"]), body["data"]
    except (ValueError, KeyError, TypeError):
        return _finish(event, Outcome.MALFORMED, "Not a Paystack event")
    event.kind = name[:64]
    if name in ("charge.success", "charge.failed"):
        try:
            transaction = parse_transaction(data)
        except ValueError as exc:
            return _finish(event, Outcome.MALFORMED, str(exc))
        reference = transaction.reference
        payment = _paystack_payment(reference)
        if payment is None:
            return _finish(
                event,
                Outcome.UNKNOWN_PAYMENT,
                "No attempt has this reference",
                external_id=reference,
            )
        outcome = apply_result(payment, card_result(transaction))
        return _finish(event, outcome, external_id=reference, payment=payment)
    if name.startswith("refund.") and isinstance(data, dict):
        return _apply_refund_event(event, name, data)
    return _finish(event, Outcome.IGNORED, f"{name} is not acted on")


def _paystack_payment(reference: str) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(
            Payment.reference == reference, Payment.provider == PaymentProvider.PAYSTACK
        )
    )


def card_result(transaction: Transaction) -> ProviderResult:
    """Only ``success`` with an amount pays; ``failed``/``reversed`` fail; the rest wait."""
    if transaction.status == "success":
        amount = Decimal(transaction.amount) / 100 if transaction.amount is not None else None
        return ProviderResult(
            "success",
            amount=amount,
            currency=transaction.currency,
            receipt=transaction.id,
            raw=transaction.raw,
        )
    if transaction.status in ("failed", "reversed"):
        return ProviderResult(
            "failed",
            code=transaction.status.upper(),
            reason=transaction.gateway_response or f"The card payment {transaction.status}",
            raw=transaction.raw,
        )
    return ProviderResult("pending")


REFUND_STATUSES = {
    "pending": RefundStatus.PROCESSING,
    "processing": RefundStatus.PROCESSING,
    "needs-attention": RefundStatus.PROCESSING,
    "processed": RefundStatus.COMPLETED,
    "failed": RefundStatus.FAILED,
}


def _apply_refund_event(event: ProviderEvent, name: str, data: dict) -> str:
    reference = data.get("transaction_reference")
    status = REFUND_STATUSES.get(str(data.get("status") or name.removeprefix("refund.")))
    if not isinstance(reference, str) or status is None:
        return _finish(event, Outcome.MALFORMED, "Refund event without transaction_reference")
    payment = _paystack_payment(reference)
    if payment is None:
        return _finish(
            event, Outcome.UNKNOWN_PAYMENT, "No attempt has this reference", external_id=reference
        )
    order = lock_order(payment.order_id)
    payment = _lock_payment(payment.id)
    provider_reference = data.get("refund_reference")  # a string in the samples; maybe a number
    if isinstance(provider_reference, bool) or provider_reference in (None, ""):
        provider_reference = None
    else:
        provider_reference = str(provider_reference)[:100]
    refund = None
    if provider_reference:
        refund = db.session.scalar(
            select(Refund).where(Refund.provider_reference == provider_reference)
        )
    if refund is None:
        refund = db.session.scalar(
            select(Refund)
            .where(
                Refund.payment_id == payment.id,
                Refund.status.in_([RefundStatus.PENDING, RefundStatus.PROCESSING]),
            )
            .order_by(Refund.id)
            .limit(1)
        )
    if refund is None:
        cents_value = parse_transaction(
            {"reference": reference, "amount": data.get("amount")}
        ).amount
        refund = record_refund_due(
            order,
            reason="Refund started at Paystack",
            payment=payment,
            cause=RefundCause.PROVIDER,
        )
        if cents_value:
            refund.amount = Decimal(cents_value) / 100
    if refund.status in (RefundStatus.COMPLETED, RefundStatus.FAILED) or refund.status == status:
        return _finish(event, Outcome.DUPLICATE, external_id=reference, payment=payment)
    refund.status = status
    refund.provider_reference = provider_reference or refund.provider_reference
    if status == RefundStatus.COMPLETED:
        refund.completed_at = utcnow()
        db.session.flush()
        refunded = db.session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment.id, Refund.status == RefundStatus.COMPLETED
            )
        )
        if Decimal(str(refunded)) >= (payment.amount_received or payment.amount):
            _move(payment, P.REFUNDED, (P.COMPLETED,))
            if order.payment_status == P.COMPLETED and not any(
                p.status == P.COMPLETED for p in _payments_of(order)
            ):
                change_payment_status(order, P.REFUNDED, note="Refunded at Paystack")
    return _finish(
        event,
        Outcome.REFUND_UPDATED,
        f"refund {refund.id} {status}",
        external_id=reference,
        payment=payment,
    )


# -- asking the providers (lost callbacks) ---------------------------------------------------


def query_mpesa_payment(payment: Payment) -> Payment:
    """Ask Daraja for a pending STK push's result and apply it like a callback would."""
    if payment.status != P.PENDING or not payment.checkout_request_id:
        return payment
    answer = mpesa().stk_query(payment.checkout_request_id)
    if answer.pending:
        return payment
    if answer.result_code == "0":
        # The query carries no amount or receipt: it confirms the push we sent, which
        # asked for exactly payment.amount (the receipt arrives with the callback).
        result = ProviderResult(
            "success", amount=payment.amount, currency=payment.currency, raw=answer.raw
        )
    else:
        code = answer.result_code or "FAILED"
        result = ProviderResult(
            "failed", code=code, reason=describe_result(code, answer.result_desc), raw=answer.raw
        )
    apply_result(payment, result)
    return payment


def verify_card_payment(payment: Payment) -> Payment:
    """Ask Paystack for the transaction and apply it like the webhook would."""
    if payment.status != P.PENDING:
        return payment
    transaction = paystack().verify(payment.reference)
    if transaction is not None:
        apply_result(payment, card_result(transaction))
    return payment


def latest_pending_payment(order: Order) -> Payment | None:
    return db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == P.PENDING)
        .order_by(Payment.id.desc())
        .limit(1)
    )


def latest_mpesa_payment(order: Order) -> Payment:
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.provider == PaymentProvider.MPESA)
        .order_by(Payment.id.desc())
        .limit(1)
    )
    if payment is None:
        raise NotFound("This order has no M-Pesa payment")
    return payment


def verify_order_payment(order: Order) -> PaymentSummary:
    """Re-check every pending attempt of the order with its provider, then summarise."""
    for payment in _payments_of(order):
        if payment.status != P.PENDING:
            continue
        if payment.provider == PaymentProvider.MPESA:
            query_mpesa_payment(payment)
        elif payment.provider == PaymentProvider.PAYSTACK:
            verify_card_payment(payment)
    db.session.refresh(order)
    return payment_summary(order)


def payment_summary(order: Order) -> PaymentSummary:
    return PaymentSummary(order=order, payments=_payments_of(order))


def payment_methods() -> list[dict[str, Any]]:
    config = current_app.config
    return [
        {
            "code": PaymentMethod.MPESA,
            "name": "M-Pesa",
            "description": "Pay from your phone with an M-Pesa STK Push prompt",
            "enabled": mpesa().configured,
            "simulated": mpesa().simulated,
        },
        {
            "code": PaymentMethod.CARD,
            "name": "Card",
            "description": "Visa or Mastercard through Paystack",
            "enabled": paystack().configured,
            "simulated": paystack().simulated,
        },
        {
            "code": PaymentMethod.CASH,
            "name": "Cash on delivery",
            "description": "Pay the delivery agent when your order arrives",
            "enabled": True,
            "simulated": False,
            "max_total": Decimal(config["COD_MAX_TOTAL"]),
        },
    ]
