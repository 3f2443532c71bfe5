"""The Paystack client against Paystack's documented wire format (``responses``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses

from app.errors import ProviderError
from app.money import cents, from_subunits
from app.services.paystack import PaystackClient, PaystackSimulator, parse_transaction

BASE = "https://api.paystack.co"


@pytest.fixture
def client():
    return PaystackClient(secret_key="sk_test_fake", base_url=BASE)


def initialize(client, amount="1499.50"):
    return client.initialize(
        email="buyer@example.co.ke",
        amount=Decimal(amount),
        currency="KES",
        reference="QG-7-ABC123",
        callback_url="http://localhost:5173/orders/7/payment-return",
        metadata={"order_id": 7},
    )


@responses.activate
def test_initialize_sends_amount_in_cents_with_the_secret_key(client):
    call = responses.post(
        f"{BASE}/transaction/initialize",
        json={
            "status": True,
            "message": "Authorization URL created",
            "data": {
                "authorization_url": "https://checkout.paystack.com/3ni8kdavz62431k",
                "access_code": "3ni8kdavz62431k",
                "reference": "QG-7-ABC123",
            },
        },
    )
    checkout = initialize(client)
    assert (checkout.authorization_url, checkout.access_code) == (
        "https://checkout.paystack.com/3ni8kdavz62431k",
        "3ni8kdavz62431k",
    )
    request = call.calls[0].request
    assert request.headers["Authorization"] == "Bearer sk_test_fake"
    assert request.headers["Content-Type"] == "application/json"
    assert request.req_kwargs["timeout"] == (5.0, 30.0)
    body = json.loads(request.body)
    assert body["amount"] == 149950 and isinstance(body["amount"], int)
    assert (body["email"], body["currency"], body["reference"]) == (
        "buyer@example.co.ke",
        "KES",
        "QG-7-ABC123",
    )
    assert body["metadata"] == {"order_id": 7}
    assert body["callback_url"] == "http://localhost:5173/orders/7/payment-return"


@responses.activate
def test_initialize_error_is_a_provider_error(client):
    responses.post(
        f"{BASE}/transaction/initialize",
        status=400,
        json={
            "status": False,
            "message": "Currency not supported by merchant",
            "type": "validation_error",
        },
    )
    with pytest.raises(ProviderError) as caught:
        initialize(client)
    assert "Currency not supported" in caught.value.message


@responses.activate
def test_timeout_is_a_provider_error(client):
    responses.post(f"{BASE}/transaction/initialize", body=requests.ReadTimeout())
    with pytest.raises(ProviderError):
        initialize(client)


@responses.activate
def test_verify_reads_the_transaction(client):
    call = responses.get(
        f"{BASE}/transaction/verify/QG-7-ABC123",
        json={
            "status": True,
            "message": "Verification successful",
            "data": {
                "id": 4099260516,
                "status": "success",
                "reference": "QG-7-ABC123",
                "amount": 149950,
                "currency": "KES",
                "metadata": "",
                "gateway_response": "Successful",
                "customer": {"email": "buyer@example.co.ke"},
            },
        },
    )
    transaction = client.verify("QG-7-ABC123")
    assert (transaction.status, transaction.amount, transaction.currency, transaction.id) == (
        "success",
        149950,
        "KES",
        "4099260516",
    )
    assert call.calls[0].request.headers["Authorization"] == "Bearer sk_test_fake"
    assert call.calls[0].request.req_kwargs["timeout"] == (5.0, 30.0)


@pytest.mark.parametrize(
    "amount,cents",
    [(149950, 149950), ("149950", 149950), (149950.0, 149950), ("149950.00", 149950)]
    + [(odd, None) for odd in ("1499.5e2x", "NaN", "Infinity", "149950.5", True, [1])],
)
def test_amounts_are_whole_cents_as_numbers_or_strings(amount, cents):
    """Unusable amounts are None (never a crash, never rounded to a matching value)."""
    assert parse_transaction({"reference": "QG-1", "amount": amount}).amount == cents


@responses.activate
@pytest.mark.parametrize(
    "status,message",
    [(400, "Transaction reference not found."), (404, "Transaction reference not found")],
)
def test_verify_of_an_unknown_reference_is_none(client, status, message):
    responses.get(
        f"{BASE}/transaction/verify/nope", status=status, json={"status": False, "message": message}
    )
    assert client.verify("nope") is None


def test_signature_matches_the_documented_test_vector(client):
    body = (
        b'{"event":"charge.success","data":{"reference":"ord_123","amount":150000,'
        b'"currency":"KES","status":"success"}}'
    )
    expected = (
        "82bb93c79d0ecc6df06efd18e14e6ed8da8dfb294cd759c8f4267857a121ca2c"
        "9a88960f6f4832ec28d447676923267456fddbf978d65e11c53482502cdea9ea"
    )
    assert client.sign(body) == expected
    assert client.verify_signature(body, expected)
    assert not client.verify_signature(body + b" ", expected)
    assert not client.verify_signature(body, None)
    assert not PaystackClient(secret_key=None).verify_signature(body, expected)


def test_simulator_webhook_is_compact_json_signed_with_its_secret():
    simulator = PaystackSimulator(secret_key=None, backend_url="http://localhost:5000")
    body, signature = simulator.webhook(
        paid=True,
        reference="QG-1-A",
        amount=Decimal("10.50"),
        currency="KES",
        email="a@b.co",
        metadata={"order_id": 1},
    )
    assert b": " not in body and simulator.verify_signature(body, signature)
    data = json.loads(body)
    assert (data["event"], data["data"]["amount"], data["data"]["currency"]) == (
        "charge.success",
        1050,
        "KES",
    )
    assert (
        simulator.initialize(
            email="a@b.co",
            amount=Decimal(1),
            currency="KES",
            reference="QG-1-A",
            callback_url="x",
            metadata={},
        ).authorization_url
        == "http://localhost:5000/api/payments/simulator/card/QG-1-A"
    )


@pytest.mark.parametrize(
    ("subunits", "amount"),
    [(149950, "1499.50"), (100, "1.00"), (1, "0.01"), (0, "0.00"), (999999999999, "9999999999.99")],
)
def test_subunits_turn_back_into_exact_money(subunits, amount):
    assert from_subunits(subunits) == Decimal(amount)
    assert str(from_subunits(subunits)) == amount
    assert cents(from_subunits(subunits)) == subunits
