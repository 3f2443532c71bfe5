"""The Paystack client's refunds against the documented wire format (``responses``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses

from app.errors import ProviderError
from app.services.paystack import PaystackClient, PaystackRejected, PaystackSimulator
from tests.factories.payments import paystack_refund

BASE = "https://api.paystack.co"


@pytest.fixture
def client():
    return PaystackClient(secret_key="sk_test_fake", base_url=BASE)


def refund(client, amount="1499.99"):
    return client.refund(
        transaction="QG-7-ABC123",
        amount=Decimal(amount),
        currency="KES",
        customer_note="Refund for order QG-1",
        merchant_note="Refund 3 (return:9)",
    )


@responses.activate
def test_a_refund_is_posted_in_cents_and_its_id_kept(client):
    call = responses.post(f"{BASE}/refund", json=paystack_refund(refund_id=3018284, amount=149999))
    answer = refund(client)
    assert (answer.id, answer.status, answer.amount) == ("3018284", "pending", 149999)
    sent = call.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sk_test_fake"
    assert json.loads(sent.body) == {
        "transaction": "QG-7-ABC123",
        "amount": 149999,
        "currency": "KES",
        "customer_note": "Refund for order QG-1",
        "merchant_note": "Refund 3 (return:9)",
    }


@responses.activate
def test_a_refusal_is_rejected_and_an_outage_a_provider_error(client):
    responses.post(
        f"{BASE}/refund",
        status=400,
        json={
            "status": False,
            "message": "Transaction has been fully reversed",
            "type": "api_error",
            "code": "transaction_reversed",
        },
    )
    with pytest.raises(PaystackRejected) as refused:
        refund(client)
    assert refused.value.details["error_code"] == "transaction_reversed"
    responses.replace(responses.POST, f"{BASE}/refund", status=503, json={"status": False})
    with pytest.raises(ProviderError) as down:
        refund(client)
    assert not isinstance(down.value, PaystackRejected)
    responses.replace(responses.POST, f"{BASE}/refund", body=requests.ReadTimeout())
    with pytest.raises(ProviderError):
        refund(client)


@responses.activate
def test_fetching_a_refund_reads_its_status(client):
    data = {
        "integration": 100982,
        "transaction": 1641,
        "dispute": None,
        "settlement": None,
        "domain": "live",
        "amount": 500000,
        "deducted_amount": 500000,
        "fully_deducted": True,
        "currency": "KES",
        "channel": "migs",
        "status": "processed",
        "refunded_by": "ops@example.co.ke",
        "refunded_at": "2026-01-12T10:54:47.000Z",
        "id": 1,
        "createdAt": "2026-01-10T21:10:59.000Z",
    }
    responses.get(
        f"{BASE}/refund/1", json={"status": True, "message": "Refund retrieved", "data": data}
    )
    answer = client.fetch_refund("1")
    assert (answer.id, answer.status, answer.amount) == ("1", "processed", 500000)
    responses.get(
        f"{BASE}/refund/2", status=404, json={"status": False, "message": "Refund not found"}
    )
    assert client.fetch_refund("2") is None


def test_the_simulator_queues_then_reports_processed():
    simulator = PaystackSimulator(backend_url="http://localhost:5000")
    answer = simulator.refund(
        transaction="QG-1",
        amount=Decimal("10.00"),
        currency="KES",
        customer_note="c",
        merchant_note="m",
    )
    assert answer.status == "pending" and answer.amount == 1000
    assert simulator.fetch_refund(answer.id).status == "processed"
