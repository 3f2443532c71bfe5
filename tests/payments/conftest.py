"""Payment test helpers: orders to pay, callback/webhook builders, real provider clients."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.money import cents
from app.services.mpesa import MpesaClient
from app.services.paystack import PaystackClient
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory

MPESA_BASE = "https://sandbox.safaricom.co.ke"
PAYSTACK_BASE = "https://api.paystack.co"


@pytest.fixture
def order(customer):
    """A PENDING M-Pesa order of KES 1,499.50 (1,249.50 + 250.00 delivery)."""
    product = ProductFactory(price=Decimal("1249.50"))
    return OrderFactory(items=[(product, 1)], customer=customer)


@pytest.fixture
def card_order(customer):
    return OrderFactory(
        items=[(ProductFactory(price=Decimal("1250.00")), 2)], customer=customer, card=True
    )


@pytest.fixture
def cash_order(customer):
    return OrderFactory(
        items=[(ProductFactory(price=Decimal("1250.00")), 1)], customer=customer, cash=True
    )


def stk_callback(
    payment, *, code=0, amount=None, receipt="NLJ7RT61SV", amount_text=None, desc=None
):
    """Safaricom's callback body as text, numbers as numbers (``amount_text`` writes e.g. 1.00)."""
    callback = {
        "MerchantRequestID": payment.merchant_request_id,
        "CheckoutRequestID": payment.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": desc
        or ("The service request is processed successfully." if code == 0 else "Failed"),
    }
    if code == 0:
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": "__AMOUNT__"},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": 20261123140311},
                {"Name": "PhoneNumber", "Value": 254712345678},
            ]
        }
    text = json.dumps({"Body": {"stkCallback": callback}})
    value = amount_text or str(int(amount if amount is not None else payment.amount))
    return text.replace('"__AMOUNT__"', value)


def query_reply(result_code="0", desc="The service request is processed successfully."):
    return {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": "1",
        "CheckoutRequestID": "x",
        "ResultCode": result_code,
        "ResultDesc": desc,
    }


def post_callback(client, body, token=None):
    url = "/api/payments/mpesa/callback" + (f"?token={token}" if token else "")
    return client.post(url, data=body, content_type="application/json")


def paystack_event(event, payment=None, **data):
    payload = {
        "id": 4099260516,
        "domain": "test",
        "status": "success",
        "reference": payment.reference if payment else "unknown-ref",
        "amount": cents(payment.amount) if payment else 100,
        "gateway_response": "Successful",
        "channel": "card",
        "currency": "KES",
        "metadata": {"order_id": payment.order_id} if payment else "",
        "customer": {"id": 1, "email": "buyer@example.co.ke"},
    }
    payload.update(data)
    return json.dumps({"event": event, "data": payload}, separators=(",", ":")).encode()


def post_webhook(app, client, body, signature=None):
    gateway = app.extensions["paystack"]
    return client.post(
        "/api/payments/card/webhook",
        data=body,
        content_type="application/json",
        headers={
            "x-paystack-signature": signature if signature is not None else gateway.sign(body)
        },
    )


@pytest.fixture
def real_mpesa(app, monkeypatch):
    """The real Daraja client in place of the simulator (fake Daraja with ``responses``)."""
    client = MpesaClient(
        base_url=MPESA_BASE,
        consumer_key="key",
        consumer_secret="secret",
        shortcode="174379",
        passkey="passkey",
        callback_url="https://api.quantumgear.co.ke/api/payments/mpesa/callback",
        callback_token="cb-token",
    )
    monkeypatch.setitem(app.extensions, "mpesa", client)
    return client


@pytest.fixture
def real_paystack(app, monkeypatch):
    client = PaystackClient(secret_key="sk_test_fake", base_url=PAYSTACK_BASE)
    monkeypatch.setitem(app.extensions, "paystack", client)
    return client
