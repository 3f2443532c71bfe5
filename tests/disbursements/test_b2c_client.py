"""The Daraja B2C and Transaction Status client, and the parsers of what Safaricom posts
back, against the documented wire format."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses

from app.errors import ProviderError
from app.services.http import ProviderTimeout
from app.services.mpesa import (
    DarajaError,
    DuplicateRequest,
    MalformedCallback,
    MpesaClient,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_transaction_status_result,
)
from tests import daraja as fake


@pytest.fixture
def client():
    return MpesaClient(
        base_url=fake.BASE,
        consumer_key="key",
        consumer_secret="secret",
        shortcode="174379",
        passkey="passkey",
        callback_url="https://api.example.co.ke/api/payments/mpesa/callback",
        callback_token="s3cret",
        initiator_name="testapi",
        security_credential="CRED==",
        b2c_shortcode="600992",
        backend_url="https://api.example.co.ke",
    )


def pay(client, amount="1500"):
    return client.b2c_payment(
        originator_conversation_id="QG-PAYOUT-abc",
        phone="254705912645",
        amount=Decimal(amount),
        remarks="Quantum Gear payout 7",
        occasion="2026-12-07T07:00",
    )


@responses.activate
def test_b2c_sends_the_documented_request(client):
    fake.token(responses.mock)
    call = fake.accept_b2c(responses.mock)

    accepted = pay(client)

    request = call.calls[0].request
    assert request.url == fake.B2C_URL
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "OriginatorConversationID": "QG-PAYOUT-abc",
        "InitiatorName": "testapi",
        "SecurityCredential": "CRED==",
        "CommandID": "BusinessPayment",
        "Amount": "1500",
        "PartyA": "600992",
        "PartyB": "254705912645",
        "Remarks": "Quantum Gear payout 7",
        "QueueTimeOutURL": "https://api.example.co.ke/api/payments/b2c/timeout?token=s3cret",
        "ResultURL": "https://api.example.co.ke/api/payments/b2c/result?token=s3cret",
        "Occassion": "2026-12-07T07:00",
    }
    assert accepted.originator_conversation_id == "QG-PAYOUT-abc"
    assert accepted.conversation_id.startswith("AG_")


def test_b2c_refuses_cents_and_small_amounts(client):
    for amount in ("1500.50", "9"):
        with pytest.raises(ValueError):
            pay(client, amount)


@responses.activate
def test_a_refusal_is_a_daraja_error_and_a_duplicate_is_told_apart(client):
    fake.token(responses.mock)
    responses.post(fake.B2C_URL, status=500, json=fake.error_body())
    with pytest.raises(DarajaError) as refused:
        pay(client)
    assert not isinstance(refused.value, DuplicateRequest)
    assert refused.value.status == 502
    responses.replace(
        responses.POST,
        fake.B2C_URL,
        status=500,
        json=fake.error_body("500.002.1001", "Duplicate OriginatorConversationID."),
    )
    with pytest.raises(DuplicateRequest):
        pay(client)


@responses.activate
def test_no_answer_is_a_timeout_and_no_connection_is_not(client):
    fake.token(responses.mock)
    responses.post(fake.B2C_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeout):
        pay(client)
    responses.replace(responses.POST, fake.B2C_URL, body=requests.ConnectionError("down"))
    with pytest.raises(ProviderError) as down:
        pay(client)
    assert not isinstance(down.value, ProviderTimeout)


@responses.activate
def test_transaction_status_sends_both_conversation_id_keys(client):
    fake.token(responses.mock)
    call = responses.post(fake.STATUS_URL, json=fake.status_ack())

    accepted = client.transaction_status("QG-PAYOUT-abc")

    body = json.loads(call.calls[0].request.body)
    assert body == {
        "Initiator": "testapi",
        "SecurityCredential": "CRED==",
        "CommandID": "TransactionStatusQuery",
        "OriginalConversationID": "QG-PAYOUT-abc",
        "OriginatorConversationID": "QG-PAYOUT-abc",
        "PartyA": "600992",
        "IdentifierType": "4",
        "ResultURL": "https://api.example.co.ke/api/payments/b2c/status/result?token=s3cret",
        "QueueTimeOutURL": "https://api.example.co.ke/api/payments/b2c/status/timeout?token=s3cret",
        "Remarks": "Transfer status",
        "Occasion": "Reconciliation",
    }
    assert accepted.conversation_id.startswith("AG_")


def test_a_success_result_as_safaricom_sends_it():
    result = parse_b2c_result(fake.b2c_success("QG-1", "AG_1", 10))
    assert result.succeeded
    assert (result.amount, result.receipt) == (Decimal("10"), "SG632NMUAB")
    assert result.completed_at == "06.07.2024 22:48:52"


def test_string_codes_single_items_and_reference_lists_are_read():
    body = fake.b2c_success("QG-1", "AG_1", 10)
    body["Result"]["ResultCode"] = "0"
    body["Result"]["ResultParameters"]["ResultParameter"] = {
        "Key": "TransactionAmount",
        "Value": "10.00",
    }
    body["Result"]["ReferenceData"]["ReferenceItem"] = [{"Key": "QueueTimeoutURL", "Value": "x"}]
    result = parse_b2c_result(body)
    assert result.succeeded and result.amount == Decimal("10.00") and result.receipt is None


def test_a_failure_has_no_result_parameters():
    result = parse_b2c_result(fake.b2c_failure("QG-1", "AG_1"))
    assert not result.succeeded
    assert (result.result_code, result.amount) == ("2001", None)


@pytest.mark.parametrize(
    "body", [{}, {"Result": {}}, {"Result": {"ResultCode": True}}, [], {"Result": "x"}]
)
def test_bodies_that_are_not_results_are_malformed(body):
    with pytest.raises(MalformedCallback):
        parse_b2c_result(body)


def test_both_timeout_shapes_name_the_transfer():
    assert parse_b2c_timeout(fake.timeout_result_shape("QG-1", "AG_1")).conversation_id == "AG_1"
    echoed = parse_b2c_timeout(fake.timeout_echo_shape("QG-1", 10, "254705912645"))
    assert echoed.originator_conversation_id == "QG-1"
    with pytest.raises(MalformedCallback):
        parse_b2c_timeout({"Amount": "10"})


@pytest.mark.parametrize("spaced", [False, True])
def test_status_results_with_or_without_spaces(spaced):
    status = parse_transaction_status_result(fake.status_completed("QG-1", 300, spaced=spaced))
    assert status.completed and not status.failed
    assert status.transfer_originator_conversation_id == "QG-1"
    assert (status.receipt, status.amount) == ("MBN31H462N", Decimal("300"))
    assert status.query_conversation_id == "AG_20180223_0000493344ae97d86f75"


def test_a_status_failure_settles_nothing():
    status = parse_transaction_status_result(fake.status_failure())
    assert not status.completed and not status.failed
    assert status.result_code == "2001"
