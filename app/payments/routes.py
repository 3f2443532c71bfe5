"""Payments: M-Pesa, cards and cash"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, jsonify, request

from app.api import Blueprint
from app.auth.access import current_user, customer_required, login_required, requires
from app.common.idempotency import idempotent
from app.errors import Forbidden, Unauthorized
from app.extensions import db
from app.payments import attempts, events, settlement
from app.payments.models import Outcome, PaymentProvider, ProviderEvent
from app.payments.schemas import (
    CallbackAckSchema,
    CardCheckoutSchema,
    CardVerifySchema,
    CashConfirmSchema,
    MpesaInitiateSchema,
    MpesaQuerySchema,
    OrderRefSchema,
    PaymentMethodSchema,
    PaymentSchema,
    PaymentStatusSchema,
    PaystackWebhookSchema,
    StkCallbackSchema,
    StkPushSchema,
    WebhookAckSchema,
)
from app.services import paystack_gateway
from app.services.mpesa import callback_token_matches

log = logging.getLogger(__name__)
blp = Blueprint(
    "payments", __name__, url_prefix="/api/payments", description="Payments: M-Pesa, cards and cash"
)


def _json_body_doc(schema) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _act(handler: Callable[[ProviderEvent], str], event_id: int) -> ProviderEvent:
    """Run a stored event's handler and commit; a failure is recorded, never a 500.

    The event is already committed, so nothing is lost: ``reconcile_pending_payments``
    asks the provider for any attempt left pending.
    """
    try:
        handler(db.session.get(ProviderEvent, event_id))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("provider event %s could not be processed", event_id)
        event = db.session.get(ProviderEvent, event_id)
        event.outcome, event.detail = Outcome.ERROR, "Processing failed; see the log"
        db.session.commit()
    return db.session.get(ProviderEvent, event_id)


@blp.route("/mpesa/initiate", methods=["POST"])
@customer_required
@idempotent
@blp.arguments(MpesaInitiateSchema)
@blp.response(201, StkPushSchema, message="M-Pesa prompt sent to the phone")
@blp.doc(
    description="Sends an STK Push for the order total rounded up to whole shillings. "
    "Honours `Idempotency-Key`. 409 `ALREADY_PAID` / `ORDER_NOT_PAYABLE` / `CASH_ORDER` / "
    "`PAYMENT_IN_PROGRESS`; 502 `PROVIDER_ERROR` leaves the order untouched."
)
def mpesa_initiate(args):
    order = attempts.order_for(current_user(), args["order_id"])
    payment = attempts.start_mpesa_payment(order, args["phone"])
    db.session.commit()
    return payment


@blp.route("/mpesa/callback", methods=["POST"])
@blp.doc(
    security=[],
    requestBody=_json_body_doc(StkCallbackSchema),
    description="Safaricom's STK callback. Stored as received, then applied once per "
    'CheckoutRequestID. Answers 200 `{"ResultCode": 0, "ResultDesc": "Accepted"}` '
    "(not the envelope) for every recorded callback, duplicates, unknown ids and unusable "
    "bodies included; 403 when `MPESA_CALLBACK_TOKEN` is set and `?token=` does not match.",
)
@blp.alt_response(200, schema=CallbackAckSchema, description="Recorded")
@blp.alt_response(403, description="Missing or wrong callback token (still recorded)")
def mpesa_callback():
    authentic = callback_token_matches(
        current_app.config["MPESA_CALLBACK_TOKEN"], request.args.get("token", "")
    )
    event = events.record_provider_event(
        PaymentProvider.MPESA, "stk_callback", request.get_data(), authentic=authentic
    )
    db.session.commit()  # stored before anything acts on it
    if not authentic:
        raise Forbidden("Invalid callback token", code="INVALID_CALLBACK_TOKEN")
    _act(events.handle_mpesa_callback, event.id)
    return jsonify(ResultCode=0, ResultDesc="Accepted")


@blp.route("/mpesa/query", methods=["POST"])
@login_required
@blp.arguments(MpesaQuerySchema)
@blp.response(200, PaymentSchema, message="M-Pesa payment checked")
@blp.doc(
    description="Asks Daraja for the result of an STK push (by `checkout_request_id`, or "
    "the latest attempt of `order_id`) and applies a final answer exactly as the callback "
    "would; 'still processing' leaves it PENDING."
)
def mpesa_query(args):
    user = current_user()
    if "checkout_request_id" in args:
        payment = attempts.payment_for(user, checkout_request_id=args["checkout_request_id"])
    else:
        payment = attempts.latest_mpesa_payment(attempts.order_for(user, args["order_id"]))
    settlement.query_mpesa_payment(payment)
    db.session.commit()
    return payment


@blp.route("/status/<int:order_id>")
@login_required
@blp.response(200, PaymentStatusSchema, message="Payment status")
def payment_status(order_id: int):
    return attempts.payment_summary(attempts.order_for(current_user(), order_id))


@blp.route("/verify/<int:order_id>")
@login_required
@blp.response(200, PaymentStatusSchema, message="Payment verified")
@blp.doc(
    description="Re-checks every pending attempt of the order with M-Pesa or Paystack "
    "and applies the answers, so a missed callback or webhook is never a lost payment."
)
def verify_payment(order_id: int):
    summary = settlement.verify_order_payment(attempts.order_for(current_user(), order_id))
    db.session.commit()
    return summary


@blp.route("/cash/confirm", methods=["POST"])
@requires("finance.payments")
@blp.arguments(CashConfirmSchema)
@blp.response(200, PaymentSchema, message="Cash payment recorded")
@blp.doc(
    description="Finance admins and admins record the cash collected for a cash on "
    "delivery order. The amount must equal the total (422 `AMOUNT_MISMATCH`); confirming "
    "again returns the first record; other methods 409 `NOT_A_CASH_ORDER`."
)
def cash_confirm(args):
    user = current_user()
    order = attempts.order_for(user, args["order_id"])
    payment = attempts.confirm_cash_payment(order, args["amount"], actor_id=user.id)
    db.session.commit()
    return payment


@blp.route("/card/initiate", methods=["POST"])
@customer_required
@idempotent
@blp.arguments(OrderRefSchema)
@blp.response(201, CardCheckoutSchema, message="Card checkout opened")
@blp.doc(
    description="Opens a Paystack checkout for the order total (a new reference per "
    "attempt). Redirect the customer to `authorization_url`. Honours `Idempotency-Key`."
)
def card_initiate(args):
    order = attempts.order_for(current_user(), args["order_id"])
    payment = attempts.start_card_payment(order)
    db.session.commit()
    return payment


@blp.route("/card/verify", methods=["POST"])
@login_required
@blp.arguments(CardVerifySchema)
@blp.response(200, PaymentSchema, message="Card payment checked")
def card_verify(args):
    payment = attempts.payment_for(
        current_user(), reference=args["reference"], provider=PaymentProvider.PAYSTACK
    )
    settlement.verify_card_payment(payment)
    db.session.commit()
    return payment


@blp.route("/card/webhook", methods=["POST"])
@blp.response(200, WebhookAckSchema, message="Webhook received")
@blp.doc(
    security=[],
    requestBody=_json_body_doc(PaystackWebhookSchema),
    description="Paystack's webhook. `x-paystack-signature` (HMAC-SHA512 of the raw body "
    "with the secret key) is checked before the body is parsed: 401 `INVALID_SIGNATURE` "
    "otherwise (still recorded). `charge.success` settles a payment once per reference "
    "after checking amount and currency; refund events update refunds; others are stored "
    "and acknowledged.",
)
@blp.alt_response(401, description="Bad signature (recorded)")
def card_webhook():
    raw = request.get_data()
    authentic = paystack_gateway().verify_signature(
        raw, request.headers.get("x-paystack-signature")
    )
    event = events.record_provider_event(
        PaymentProvider.PAYSTACK, "webhook", raw, authentic=authentic
    )
    db.session.commit()  # stored before anything acts on it
    if not authentic:
        raise Unauthorized("Invalid webhook signature", code="INVALID_SIGNATURE")
    return _act(events.handle_paystack_webhook, event.id)


@blp.route("/methods")
@blp.response(200, PaymentMethodSchema(many=True), message="Payment methods")
@blp.doc(security=[])
def payment_methods():
    return attempts.payment_methods()
