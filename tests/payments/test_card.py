"""Paystack cards through HTTP: initiate, the simulator page, webhooks, verify."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.money import cents
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.payments.models import Payment, ProviderEvent, Refund
from app.payments.refunds import record_refund_due
from tests.factories.payments import PaymentFactory
from tests.payments.conftest import PAYSTACK_BASE, paystack_event, post_webhook

INITIATE = "/api/payments/card/initiate"


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def last_event():
    return db.session.scalars(select(ProviderEvent).order_by(ProviderEvent.id.desc())).first()


def test_simulated_card_checkout_pays_through_the_signed_webhook(
    client, customer_headers, card_order
):
    response = client.post(INITIATE, json={"order_id": card_order.id}, headers=customer_headers)
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data["authorization_url"].endswith(f"/api/payments/simulator/card/{data['reference']}")
    assert data["access_code"] and data["amount"] == "2750.00"

    page = client.get(f"/api/payments/simulator/card/{data['reference']}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"KES 2750.00" in page.data and b"Decline" in page.data

    paid = client.post(f"/api/payments/simulator/card/{data['reference']}/pay")
    assert paid.status_code == 200 and b"COMPLETED" in paid.data
    order = fresh(Order, card_order.id)
    assert (order.status, order.payment_status, order.payment_method) == (
        OrderStatus.PAID,
        PaymentStatus.COMPLETED,
        PaymentMethod.CARD,
    )
    event = last_event()
    assert (event.kind, event.authentic, event.outcome) == ("charge.success", True, "COMPLETED")


def test_simulated_decline_fails_the_attempt(client, customer_headers, card_order):
    reference = client.post(
        INITIATE, json={"order_id": card_order.id}, headers=customer_headers
    ).json["data"]["reference"]
    client.post(f"/api/payments/simulator/card/{reference}/decline")
    payment = db.session.scalar(select(Payment))
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "FAILED")
    order = fresh(Order, card_order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.FAILED)


def test_simulator_endpoints_exist_only_when_the_simulator_is_on(app, client, monkeypatch):
    paths = client.get("/api/openapi.json").json["paths"]
    assert "/api/payments/simulator/card/{reference}" in paths
    monkeypatch.setenv("PAYMENTS_SIMULATOR", "false")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    real = create_app("development")
    assert real.extensions["paystack"].simulated is False
    assert not [r for r in real.url_map.iter_rules() if "simulator" in r.rule]
    assert (
        "/api/payments/simulator/card/{reference}"
        not in real.test_client().get("/api/openapi.json").json["paths"]
    )


@responses.activate
def test_initiate_opens_a_paystack_checkout(client, customer_headers, card_order, real_paystack):
    call = responses.post(
        f"{PAYSTACK_BASE}/transaction/initialize",
        json={
            "status": True,
            "message": "Authorization URL created",
            "data": {
                "authorization_url": "https://checkout.paystack.com/abc",
                "access_code": "abc",
                "reference": "x",
            },
        },
    )
    response = client.post(INITIATE, json={"order_id": card_order.id}, headers=customer_headers)
    assert response.status_code == 201
    assert response.json["data"]["authorization_url"] == "https://checkout.paystack.com/abc"
    body = json.loads(call.calls[0].request.body)
    payment = db.session.scalar(select(Payment))
    assert (body["amount"], body["currency"], body["reference"]) == (
        275000,
        "KES",
        payment.reference,
    )
    assert (
        body["metadata"]["order_id"] == card_order.id and body["email"] == card_order.customer.email
    )
    assert call.calls[0].request.req_kwargs["timeout"] == (5.0, 30.0)


@responses.activate
def test_paystack_down_is_502_with_the_order_untouched(
    client, customer_headers, card_order, real_paystack
):
    responses.post(f"{PAYSTACK_BASE}/transaction/initialize", body=requests.ConnectTimeout())
    response = client.post(INITIATE, json={"order_id": card_order.id}, headers=customer_headers)
    assert (response.status_code, response.json["error"]["code"]) == (502, "PROVIDER_ERROR")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert fresh(Order, card_order.id).payment_status == PaymentStatus.PENDING


# -- webhooks --------------------------------------------------------------------------------


@pytest.fixture
def attempt(card_order):
    return PaymentFactory(order=card_order, card=True)


def test_charge_success_completes_once(app, client, attempt, card_order):
    body = paystack_event("charge.success", attempt)
    first, again = post_webhook(app, client, body), post_webhook(app, client, body)
    assert first.status_code == again.status_code == 200
    assert (first.json["data"]["outcome"], again.json["data"]["outcome"]) == (
        "COMPLETED",
        "DUPLICATE",
    )
    payment = fresh(Payment, attempt.id)
    assert (payment.status, payment.receipt, payment.amount_received) == (
        PaymentStatus.COMPLETED,
        "4099260516",
        Decimal("2750.00"),
    )
    assert fresh(Order, card_order.id).status == OrderStatus.PAID


@pytest.mark.parametrize("change", [{"amount": 100}, {"amount": "274999"}, {"currency": "NGN"}])
def test_wrong_amount_or_currency_is_flagged_never_paid(app, client, attempt, card_order, change):
    response = post_webhook(app, client, paystack_event("charge.success", attempt, **change))
    assert response.json["data"]["outcome"] == "AMOUNT_MISMATCH"
    payment = fresh(Payment, attempt.id)
    assert payment.flagged and payment.status == PaymentStatus.FAILED
    assert fresh(Order, card_order.id).status == OrderStatus.PENDING


@pytest.mark.parametrize("change", [{"currency": None}, {"amount": "275000.9"}])
def test_a_charge_without_currency_or_whole_cents_is_not_paid(app, client, attempt, change):
    """Amount and currency are both checked: a missing currency is not "KES", and a
    fractional cents value is not rounded down to the expected amount."""
    response = post_webhook(app, client, paystack_event("charge.success", attempt, **change))
    assert response.json["data"]["outcome"] == "AMOUNT_MISMATCH"
    payment = fresh(Payment, attempt.id)
    assert payment.flagged and payment.status == PaymentStatus.FAILED


def test_amount_sent_as_a_string_is_accepted(app, client, attempt):
    post_webhook(app, client, paystack_event("charge.success", attempt, amount="275000"))
    assert fresh(Payment, attempt.id).status == PaymentStatus.COMPLETED


@pytest.mark.parametrize("signature", ["", "0" * 128, "not-hex", "\u00e9" * 128])
def test_bad_signature_is_401_and_recorded(app, client, attempt, signature):
    response = post_webhook(
        app, client, paystack_event("charge.success", attempt), signature=signature
    )
    assert (response.status_code, response.json["error"]["code"]) == (401, "INVALID_SIGNATURE")
    assert fresh(Payment, attempt.id).status == PaymentStatus.PENDING
    event = last_event()
    assert (event.authentic, event.outcome) == (False, "REJECTED")


def test_a_body_with_nul_bytes_is_recorded_and_refused(app, client):
    response = post_webhook(app, client, b"\x01\x00|", signature="0" * 128)
    assert response.status_code == 401
    event = last_event()
    assert (event.outcome, event.payload) == ("REJECTED", "\x01\ufffd|")


def test_signature_over_other_bytes_is_rejected(app, client, attempt):
    body = paystack_event("charge.success", attempt)
    signature = app.extensions["paystack"].sign(body)
    pretty = json.dumps(json.loads(body), indent=2).encode()
    assert post_webhook(app, client, pretty, signature=signature).status_code == 401


@pytest.mark.parametrize(
    "body,outcome",
    [
        (paystack_event("charge.success"), "UNKNOWN_PAYMENT"),
        (b'{"event":"subscription.create","data":{}}', "IGNORED"),
        (b"not json", "MALFORMED"),
        (b'{"event":"charge.success","data":{"amount":1}}', "MALFORMED"),
    ],
)
def test_unknown_and_unusable_events_are_stored_and_acknowledged(app, client, body, outcome):
    response = post_webhook(app, client, body)
    assert response.status_code == 200 and response.json["data"]["outcome"] == outcome
    assert last_event().payload == body.decode()


# A string in Paystack's samples; a number must not break the lookup (PostgreSQL).
@pytest.mark.parametrize("refund_reference", ["132013318360", 132013318360])
def test_refund_processed_updates_the_refund_and_payment(app, client, card_order, refund_reference):
    payment = PaymentFactory(order=card_order, card=True, completed=True)
    order = fresh(Order, card_order.id)
    order.payment_status = PaymentStatus.COMPLETED
    refund = record_refund_due(order, reason="Cancelled by customer")
    db.session.commit()
    body = json.dumps(
        {
            "event": "refund.processed",
            "data": {
                "status": "processed",
                "transaction_reference": payment.reference,
                "refund_reference": refund_reference,
                "amount": "275000",
                "currency": "KES",
            },
        }
    ).encode()

    assert post_webhook(app, client, body).json["data"]["outcome"] == "REFUND_UPDATED"
    assert post_webhook(app, client, body).json["data"]["outcome"] == "DUPLICATE"
    refund = fresh(Refund, refund.id)
    assert (refund.status, refund.provider_reference) == ("COMPLETED", "132013318360")
    assert fresh(Payment, payment.id).status == PaymentStatus.REFUNDED
    assert fresh(Order, card_order.id).payment_status == PaymentStatus.REFUNDED


# -- verify ---------------------------------------------------------------------------------


def verify_reply(payment, status="success", amount=None):
    return {
        "status": True,
        "message": "Verification successful",
        "data": {
            "id": 4099260516,
            "status": status,
            "reference": payment.reference,
            "amount": amount or cents(payment.amount),
            "currency": "KES",
            "metadata": "",
            "gateway_response": "Successful",
        },
    }


@responses.activate
def test_card_verify_applies_a_missed_webhook(
    client, customer_headers, attempt, card_order, real_paystack
):
    call = responses.get(
        f"{PAYSTACK_BASE}/transaction/verify/{attempt.reference}", json=verify_reply(attempt)
    )
    response = client.post(
        "/api/payments/card/verify", json={"reference": attempt.reference}, headers=customer_headers
    )
    assert response.status_code == 200 and response.json["data"]["status"] == "COMPLETED"
    assert call.calls[0].request.headers["Authorization"] == "Bearer sk_test_fake"
    assert fresh(Order, card_order.id).status == OrderStatus.PAID


@responses.activate
@pytest.mark.parametrize("status,expected", [("abandoned", "PENDING"), ("failed", "FAILED")])
def test_verify_by_order_follows_the_transaction(
    client, customer_headers, attempt, card_order, real_paystack, status, expected
):
    responses.get(
        f"{PAYSTACK_BASE}/transaction/verify/{attempt.reference}",
        json=verify_reply(attempt, status=status),
    )
    response = client.get(f"/api/payments/verify/{card_order.id}", headers=customer_headers)
    assert response.status_code == 200
    assert response.json["data"]["payments"][0]["status"] == expected


@responses.activate
def test_verify_with_a_wrong_amount_is_not_paid(
    client, customer_headers, attempt, card_order, real_paystack
):
    responses.get(
        f"{PAYSTACK_BASE}/transaction/verify/{attempt.reference}",
        json=verify_reply(attempt, amount=100),
    )
    client.post(
        "/api/payments/card/verify", json={"reference": attempt.reference}, headers=customer_headers
    )
    assert fresh(Order, card_order.id).status == OrderStatus.PENDING
    assert fresh(Payment, attempt.id).flagged
