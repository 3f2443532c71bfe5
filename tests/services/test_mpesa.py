"""The Daraja client against Daraja's documented wire format (``responses``)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from app.errors import ProviderError
from app.services.mpesa import (
    EAT,
    MalformedCallback,
    MpesaClient,
    account_reference,
    parse_stk_callback,
)

BASE = "https://sandbox.safaricom.co.ke"
TOKEN_URL = f"{BASE}/oauth/v1/generate"
STK_URL = f"{BASE}/mpesa/stkpush/v1/processrequest"
QUERY_URL = f"{BASE}/mpesa/stkpushquery/v1/query"
ACCEPTED = {
    "MerchantRequestID": "2654-4b64-97ff-b827b542881d3130",
    "CheckoutRequestID": "ws_CO_1007202409152617172396192",
    "ResponseCode": "0",
    "ResponseDescription": "Success. Request accepted for processing",
    "CustomerMessage": "Success. Request accepted for processing",
}


@pytest.fixture
def client():
    return MpesaClient(
        base_url=BASE,
        consumer_key="key",
        consumer_secret="secret",
        shortcode="174379",
        passkey="passkey",
        callback_url="https://api.example.co.ke/api/payments/mpesa/callback",
        callback_token="s3cret",
    )


def token(expires_in="3599", access_token="tok-1"):
    return responses.get(
        TOKEN_URL,
        json={"access_token": access_token, "expires_in": expires_in},
        match=[matchers.query_param_matcher({"grant_type": "client_credentials"})],
    )


def push(client, phone="254712345678", amount="1499.50"):
    return client.stk_push(
        phone=phone,
        amount=Decimal(amount),
        reference="QG-20261123-000042",
        description="Quantum Gear",
    )


@responses.activate
def test_stk_push_sends_the_documented_request(client):
    token_call = token()
    push_call = responses.post(STK_URL, json=ACCEPTED)
    before = datetime.now(UTC)

    result = push(client)

    assert result.checkout_request_id == ACCEPTED["CheckoutRequestID"]
    assert result.merchant_request_id == ACCEPTED["MerchantRequestID"]
    auth = token_call.calls[0].request.headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"key:secret").decode()
    request = push_call.calls[0].request
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.req_kwargs["timeout"] == (5.0, 30.0)
    assert token_call.calls[0].request.req_kwargs["timeout"] == (5.0, 30.0)
    body = json.loads(request.body)
    stamp = body["Timestamp"]
    sent_at = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    assert before - timedelta(seconds=2) <= sent_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert base64.b64decode(body["Password"]).decode() == f"174379passkey{stamp}"
    assert body["Amount"] == 1500  # whole shillings, rounded up
    assert body["PartyA"] == body["PhoneNumber"] == "254712345678"
    assert body["BusinessShortCode"] == body["PartyB"] == "174379"
    assert body["TransactionType"] == "CustomerPayBillOnline"
    assert (
        body["CallBackURL"] == "https://api.example.co.ke/api/payments/mpesa/callback?token=s3cret"
    )
    assert body["AccountReference"] == "QG1123000042"
    assert len(body["TransactionDesc"]) <= 13


def test_account_reference_is_at_most_twelve_letters_or_digits():
    assert account_reference("QG-20261123-000042") == "QG1123000042"
    assert account_reference("QG-42") == "QG42"


@responses.activate
@pytest.mark.parametrize("expires_in", ["3599", 3599])
def test_token_is_cached_whatever_the_type_of_expires_in(client, expires_in):
    token_call = token(expires_in=expires_in)
    responses.post(STK_URL, json=ACCEPTED)
    push(client)
    push(client)
    assert len(token_call.calls) == 1


@responses.activate
def test_token_is_renewed_shortly_before_it_expires(client):
    token_call = token(expires_in="0")
    responses.post(STK_URL, json=ACCEPTED)
    push(client)
    push(client)
    assert len(token_call.calls) == 2


@responses.activate
@pytest.mark.parametrize(
    "status,body",
    [
        (401, {}),
        (
            404,
            {
                "requestId": "1-2-3",
                "errorCode": "404.001.03",
                "errorMessage": "Invalid Access Token",
            },
        ),
    ],
)
def test_a_rejected_token_is_renewed_once_and_the_call_retried(client, status, body):
    responses.get(TOKEN_URL, json={"access_token": "old", "expires_in": "3599"})
    responses.get(TOKEN_URL, json={"access_token": "new", "expires_in": "3599"})
    responses.post(STK_URL, status=status, json=body)
    responses.post(STK_URL, json=ACCEPTED)

    assert push(client).checkout_request_id == ACCEPTED["CheckoutRequestID"]
    auths = [
        call.request.headers["Authorization"]
        for call in responses.calls
        if call.request.url == STK_URL
    ]
    assert auths == ["Bearer old", "Bearer new"]


@responses.activate
def test_a_token_rejected_twice_is_a_provider_error(client):
    token()
    responses.post(STK_URL, status=401, json={})
    with pytest.raises(ProviderError):
        push(client)
    assert len([c for c in responses.calls if c.request.url == STK_URL]) == 2


@responses.activate
def test_wrong_credentials_give_a_provider_error(client):
    responses.get(TOKEN_URL, status=400, body="")
    with pytest.raises(ProviderError) as caught:
        push(client)
    assert caught.value.status == 502


@responses.activate
def test_daraja_error_body_is_a_provider_error_with_its_code(client):
    token()
    responses.post(
        STK_URL,
        status=400,
        json={
            "requestId": "9458-79414631-1",
            "errorCode": "400.002.02",
            "errorMessage": "Bad Request - Invalid PhoneNumber",
        },
    )
    with pytest.raises(ProviderError) as caught:
        push(client)
    assert caught.value.details["error_code"] == "400.002.02"
    assert "Invalid PhoneNumber" in caught.value.message


@responses.activate
@pytest.mark.parametrize(
    "failure", [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError()]
)
def test_timeouts_and_network_failures_are_provider_errors(client, failure):
    token()
    responses.post(STK_URL, body=failure)
    with pytest.raises(ProviderError) as caught:
        push(client)
    assert caught.value.code == "PROVIDER_ERROR"


@responses.activate
def test_query_sends_password_and_reads_string_result_codes(client):
    token()
    call = responses.post(
        QUERY_URL,
        json={
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": "25811-34836046-1",
            "CheckoutRequestID": "ws_CO_290920211026123753",
            "ResultCode": "1032",
            "ResultDesc": "Request cancelled by user",
        },
    )
    result = client.stk_query("ws_CO_290920211026123753")
    assert (result.pending, result.result_code) == (False, "1032")
    body = json.loads(call.calls[0].request.body)
    assert body["CheckoutRequestID"] == "ws_CO_290920211026123753"
    assert base64.b64decode(body["Password"]).decode() == f"174379passkey{body['Timestamp']}"
    assert call.calls[0].request.req_kwargs["timeout"] == (5.0, 30.0)


@responses.activate
@pytest.mark.parametrize(
    "status,body",
    [
        (
            500,
            {
                "requestId": "ws_CO_20022018230142206",
                "errorCode": "500.001.1001",
                "errorMessage": "The transaction is being processed",
            },
        ),
        (
            200,
            {
                "ResponseCode": "0",
                "ResultCode": "4999",
                "ResultDesc": "The transaction is still under processing",
            },
        ),
    ],
)
def test_query_still_processing_is_pending(client, status, body):
    token()
    responses.post(QUERY_URL, status=status, json=body)
    assert client.stk_query("ws_CO_1").pending is True


@responses.activate
def test_query_spike_arrest_is_a_provider_error(client):
    token()
    responses.post(
        QUERY_URL,
        status=500,
        json={
            "requestId": "x",
            "errorCode": "500.003.02",
            "errorMessage": "Error Occurred: Spike Arrest Violation",
        },
    )
    with pytest.raises(ProviderError):
        client.stk_query("ws_CO_1")


def _callback(items, code=0):
    callback = {
        "MerchantRequestID": "1",
        "CheckoutRequestID": "ws_CO_1",
        "ResultCode": code,
        "ResultDesc": "x",
    }
    if items is not None:
        callback["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": callback}}


@pytest.mark.parametrize("text", ["1", "1.0", "1.00", "150"])
def test_callback_amount_is_read_exactly_however_it_is_written(text):
    data = json.loads(
        json.dumps(_callback([{"Name": "Amount", "Value": 0}])).replace(
            '"Value": 0', f'"Value": {text}'
        )
    )
    assert parse_stk_callback(data).amount == Decimal(text)


def test_callback_items_are_read_by_name_with_balance_without_value():
    parsed = parse_stk_callback(
        _callback(
            [
                {"Name": "Amount", "Value": 1.00},
                {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": 20191219102115},
                {"Name": "PhoneNumber", "Value": 254708374149},
            ]
        )
    )
    assert parsed.result_code == "0"
    assert (parsed.receipt, parsed.phone, parsed.transaction_date) == (
        "NLJ7RT61SV",
        "254708374149",
        "20191219102115",
    )


def test_failure_callbacks_have_no_metadata():
    parsed = parse_stk_callback(_callback(None, code=1032))
    assert (parsed.result_code, parsed.amount, parsed.receipt) == ("1032", None, None)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"Body": {}},
        {"Body": {"stkCallback": {"ResultCode": 0}}},
        _callback(None, code=None),
        _callback([{"Name": "Amount", "Value": "lots"}]),
        _callback([{"Name": "Amount", "Value": "NaN"}]),
        _callback([{"Name": "Amount", "Value": "Infinity"}]),
        _callback([{"Name": "Amount", "Value": -1500}]),
        _callback([{"Name": "Amount", "Value": 1e20}]),
        _callback([{"Name": "MpesaReceiptNumber", "Value": "N" * 101}]),
        _callback([{"Name": "MpesaReceiptNumber", "Value": "NLJ\x007RT61SV"}]),
        {"Body": "stkCallback"},
        {"Body": {"stkCallback": {"CheckoutRequestID": "ws\x00", "ResultCode": 0}}},
        {
            "Body": {
                "stkCallback": {"CheckoutRequestID": "ws", "ResultCode": 0, "CallbackMetadata": "x"}
            }
        },
        _callback(5),
    ],
)
def test_unusable_callbacks_are_malformed(data):
    with pytest.raises(MalformedCallback):
        parse_stk_callback(data)
