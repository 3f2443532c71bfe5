"""Provider event intake: every STK callback and Paystack webhook is stored as received
(``ProviderEvent``), then acted on once; ``ProviderEvent.outcome`` says what it did.

Functions flush and never commit; the view or job commits.
"""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import select

from app.db import utcnow
from app.errors import ApiError
from app.extensions import db
from app.money import from_subunits
from app.orders.models import PaymentStatus
from app.orders.state import lock_order
from app.payments.attempts import lock_payment
from app.payments.models import Outcome, Payment, PaymentProvider, ProviderEvent
from app.payments.refunds import PROVIDER_STATUSES, apply_provider_refund
from app.payments.settlement import ProviderResult, apply_result, card_result, stk_query_result
from app.services import mpesa_gateway
from app.services.mpesa import MalformedCallback, describe_result, parse_stk_callback
from app.services.paystack import parse_transaction


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
    """Act on a stored STK callback (also used to replay one that came too early, or one
    not confirmed yet).

    With ``MPESA_CONFIRM_CALLBACKS`` a success pays only once an STK Push Query agrees:
    a failed or cancelled answer fails the attempt; "still processing" or a provider
    error leaves it pending (``UNCONFIRMED``) for ``reconcile_pending_payments``.
    """
    try:
        body = json.loads(event.payload)
        callback = parse_stk_callback(body)
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
    raw = body["Body"]["stkCallback"]
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
        if _needs_confirmation(payment):
            try:
                answer = mpesa_gateway().stk_query(checkout_request_id)
            except ApiError as exc:
                detail = f"Not confirmed: the STK query failed ({exc.message})"
                return _finish(
                    event,
                    Outcome.UNCONFIRMED,
                    detail,
                    external_id=checkout_request_id,
                    payment=payment,
                )
            if answer.pending:
                return _finish(
                    event,
                    Outcome.UNCONFIRMED,
                    "Not confirmed: M-Pesa is still processing the payment",
                    external_id=checkout_request_id,
                    payment=payment,
                )
            if answer.result_code != "0":
                result = stk_query_result(payment, answer)
    else:
        result = ProviderResult(
            "failed",
            code=callback.result_code,
            reason=describe_result(callback.result_code, callback.result_desc),
            raw=raw,
        )
    outcome = apply_result(payment, result)
    return _finish(event, outcome, external_id=checkout_request_id, payment=payment)


def _needs_confirmation(payment: Payment) -> bool:
    """A success for an attempt not yet paid is checked with M-Pesa first."""
    return current_app.config["MPESA_CONFIRM_CALLBACKS"] and payment.status not in (
        PaymentStatus.COMPLETED,
        PaymentStatus.REFUNDED,
    )


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


def _apply_refund_event(event: ProviderEvent, name: str, data: dict) -> str:
    reference = data.get("transaction_reference")
    status = PROVIDER_STATUSES.get(str(data.get("status") or name.removeprefix("refund.")))
    if not isinstance(reference, str) or status is None:
        return _finish(event, Outcome.MALFORMED, "Refund event without transaction_reference")
    payment = _paystack_payment(reference)
    if payment is None:
        return _finish(
            event, Outcome.UNKNOWN_PAYMENT, "No attempt has this reference", external_id=reference
        )
    order = lock_order(payment.order_id)
    payment = lock_payment(payment.id)
    provider_reference = data.get("refund_reference")  # a string in the samples; maybe a number
    if isinstance(provider_reference, bool) or provider_reference in (None, ""):
        provider_reference = None
    else:
        provider_reference = str(provider_reference)[:100]
    cents_value = parse_transaction({"reference": reference, "amount": data.get("amount")}).amount
    refund = apply_provider_refund(
        order,
        payment,
        status,
        provider_reference=provider_reference,
        amount=from_subunits(cents_value) if cents_value else None,
    )
    if refund is None:
        return _finish(event, Outcome.DUPLICATE, external_id=reference, payment=payment)
    return _finish(
        event,
        Outcome.REFUND_UPDATED,
        f"refund {refund.id} {status}",
        external_id=reference,
        payment=payment,
    )
