"""The offline card checkout: registered only when ``PAYMENTS_SIMULATOR`` is on.

``POST /api/payments/card/initiate`` returns an ``authorization_url`` pointing here.
The page shows the amount with Pay and Decline buttons; each builds the webhook
Paystack would send, signs it with the simulator's secret, and POSTs it to our own
``/api/payments/card/webhook`` through the app, so the production webhook code runs.
"""

from __future__ import annotations

from flask import current_app, render_template
from sqlalchemy import select

from app.api import Blueprint
from app.errors import NotFound
from app.extensions import db
from app.money import format_money
from app.payments.models import Payment, PaymentProvider
from app.services import paystack_gateway

blp = Blueprint(
    "payments_simulator",
    __name__,
    url_prefix="/api/payments/simulator",
    description="Offline payment simulator (exists only when PAYMENTS_SIMULATOR is on)",
)
HTML = {
    "200": {
        "description": "An HTML page",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


def _card_payment(reference: str) -> Payment:
    payment = db.session.scalar(
        select(Payment).where(
            Payment.reference == reference, Payment.provider == PaymentProvider.PAYSTACK
        )
    )
    if payment is None:
        raise NotFound("No card checkout has this reference")
    return payment


def _page(payment: Payment, **extra):
    return render_template(
        "payments/simulator_card.html",
        payment=payment,
        order=payment.order,
        amount=format_money(payment.amount),
        **extra,
    )


@blp.route("/card/<reference>")
@blp.doc(security=[], summary="Simulated Paystack checkout page", responses=HTML)
def card_page(reference: str):
    return _page(_card_payment(reference))


@blp.route("/card/<reference>/<any(pay, decline):action>", methods=["POST"])
@blp.doc(
    security=[],
    summary="Press Pay or Decline: posts a signed Paystack webhook to /api/payments/card/webhook",
    responses=HTML,
)
def card_action(reference: str, action: str):
    payment = _card_payment(reference)
    body, signature = paystack_gateway().webhook(
        paid=action == "pay",
        reference=payment.reference,
        amount=payment.amount,
        currency=payment.currency,
        email=payment.payer_email or "customer@example.com",
        metadata={"order_id": payment.order_id},
    )
    return_url = (payment.provider_response or {}).get("callback_url")
    db.session.rollback()  # hold nothing while the webhook runs
    with current_app.app_context():  # a fresh context: its own database session
        delivered = current_app.test_client().post(
            "/api/payments/card/webhook",
            data=body,
            content_type="application/json",
            headers={"x-paystack-signature": signature},
        )
    payment = _card_payment(reference)
    return _page(
        payment, result=action, webhook_status=delivered.status_code, return_url=return_url
    )
