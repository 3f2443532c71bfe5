"""Settling payments: every provider answer moves an attempt at most once.

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

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.money import from_subunits
from app.orders.models import Order, OrderStatus, PaymentStatus
from app.orders.state import change_payment_status, change_status, lock_order
from app.payments.attempts import (
    PaymentSummary,
    lock_payment,
    move_payment,
    payment_summary,
    payments_of,
    sync_order_payment_status,
)
from app.payments.models import Outcome, Payment, PaymentProvider, RefundCause
from app.payments.refunds import record_refund_due
from app.services import mpesa_gateway, paystack_gateway
from app.services.mpesa import StkQueryResult, describe_result
from app.services.paystack import Transaction
from app.signals import payment_settled

log = logging.getLogger(__name__)
P = PaymentStatus


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


# -- settling -----------------------------------------------------------------------------


def apply_result(payment: Payment, result: ProviderResult) -> str:
    """Apply a provider's answer to one attempt, exactly once; returns the ``Outcome``."""
    if result.status == "pending":
        return Outcome.PENDING
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
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
        failed = move_payment(payment, P.FAILED, (P.PENDING,))
        if failed:
            payment.failure_code = "AMOUNT_MISMATCH"
            payment.failure_reason = "The amount paid did not match the amount asked"
        _keep_raw(payment, "amount_mismatch", result.raw)
        sync_order_payment_status(order, note="Payment amount did not match")
        if failed:
            payment_settled.send(payment, outcome=Outcome.AMOUNT_MISMATCH, paid_order=False)
        log.warning("payment %s: amount mismatch flagged (%s)", payment.id, payment.flag_reason)
        return Outcome.AMOUNT_MISMATCH
    if _receipt_taken(payment, result.receipt):
        payment.flagged = True
        payment.flag_reason = f"Receipt {result.receipt} already belongs to another payment"
        _keep_raw(payment, "receipt_reused", result.raw)
        return Outcome.RECEIPT_REUSED
    if not move_payment(payment, P.COMPLETED, (P.PENDING, P.FAILED)):
        return Outcome.DUPLICATE
    payment.receipt = result.receipt or payment.receipt
    payment.amount_received = result.amount
    payment.completed_at = utcnow()
    payment.failure_code = payment.failure_reason = None
    if result.payer and payment.provider == PaymentProvider.MPESA:
        payment.payer_phone = result.payer[:12]
    _keep_raw(payment, "result", result.raw)
    db.session.flush()
    paid_order = _settle_order(order, payment)
    payment_settled.send(payment, outcome=Outcome.COMPLETED, paid_order=paid_order)
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
    settled_amount = payment.captured
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
    if not move_payment(payment, P.FAILED, (P.PENDING,)):
        return Outcome.DUPLICATE
    payment.failure_code = (result.code or "FAILED")[:32]
    payment.failure_reason = (result.reason or "The payment failed")[:500]
    _keep_raw(payment, "result", result.raw)
    db.session.flush()
    sync_order_payment_status(order, note=f"Payment failed: {payment.failure_reason}")
    payment_settled.send(payment, outcome=Outcome.FAILED, paid_order=False)
    return Outcome.FAILED


def _keep_raw(payment: Payment, key: str, raw: dict[str, Any] | None) -> None:
    if raw is not None:
        payment.provider_response = {**(payment.provider_response or {}), key: raw}


def _settle_order(order: Order, payment: Payment) -> bool:
    """The order is paid by ``payment`` (True), or the money is owed back (False)."""
    if order.status == OrderStatus.PENDING and order.payment_status != P.COMPLETED:
        order.payment_method = payment.method
        note = f"Paid by {payment.provider} {payment.receipt or payment.reference}"
        order.paid_at = payment.completed_at  # before the change that sends order_paid
        change_status(order, OrderStatus.PAID, note=note)
        change_payment_status(order, P.COMPLETED, note=note)
        return True
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
    return False


def card_result(transaction: Transaction) -> ProviderResult:
    """Only ``success`` with an amount pays; ``failed``/``reversed`` fail; the rest wait."""
    if transaction.status == "success":
        amount = from_subunits(transaction.amount) if transaction.amount is not None else None
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


# -- asking the providers (lost callbacks) ---------------------------------------------------


def query_mpesa_payment(payment: Payment) -> Payment:
    """Ask Daraja for a pending STK push's result and apply it like a callback would."""
    if payment.status != P.PENDING or not payment.checkout_request_id:
        return payment
    answer = mpesa_gateway().stk_query(payment.checkout_request_id)
    if not answer.pending:
        apply_result(payment, stk_query_result(payment, answer))
    return payment


def stk_query_result(payment: Payment, answer: StkQueryResult) -> ProviderResult:
    """A final STK Push Query answer as a ``ProviderResult``."""
    if answer.result_code == "0":
        # The query carries no amount or receipt: it confirms the push we sent, which
        # asked for exactly payment.amount (the receipt arrives with the callback).
        return ProviderResult(
            "success", amount=payment.amount, currency=payment.currency, raw=answer.raw
        )
    code = answer.result_code or "FAILED"
    return ProviderResult(
        "failed", code=code, reason=describe_result(code, answer.result_desc), raw=answer.raw
    )


def verify_card_payment(payment: Payment) -> Payment:
    """Ask Paystack for the transaction and apply it like the webhook would."""
    if payment.status != P.PENDING:
        return payment
    transaction = paystack_gateway().verify(payment.reference)
    if transaction is not None:
        apply_result(payment, card_result(transaction))
    return payment


def verify_order_payment(order: Order) -> PaymentSummary:
    """Re-check every pending attempt of the order with its provider, then summarise."""
    for payment in payments_of(order):
        if payment.status != P.PENDING:
            continue
        if payment.provider == PaymentProvider.MPESA:
            query_mpesa_payment(payment)
        elif payment.provider == PaymentProvider.PAYSTACK:
            verify_card_payment(payment)
    db.session.refresh(order)
    return payment_summary(order)
