"""Safaricom Daraja (M-Pesa): OAuth, STK Push, STK Push Query, B2C and Transaction Status.

``MpesaClient`` speaks Daraja's wire format over the shared HTTP session;
``MpesaSimulator`` has the same methods and stands in when ``PAYMENTS_SIMULATOR`` is on:
it answers like Daraja and, a few seconds after the request is committed, POSTs a
realistic STK callback to our own ``CallBackURL`` (numbers ending in ``0`` cancel with
ResultCode 1032), or a B2C / Transaction Status Result to our ``ResultURL`` (a B2C to a
number ending in ``0`` fails with ResultCode 2040). ``build_mpesa(config)`` picks one;
the instance lives in ``app.extensions["mpesa"]``.
Wire details: ``shared/reference/daraja-paystack-wire-formats.md``.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import current_app

from app.db import after_commit
from app.errors import ProviderError, ProviderNotConfigured
from app.extensions import db
from app.money import MAX_AMOUNT, whole_shillings
from app.services.http import DEFAULT_TIMEOUT, json_body, send

log = logging.getLogger(__name__)

PROVIDER = "M-Pesa"
EAT = timezone(timedelta(hours=3), "EAT")  # Kenya has no daylight saving time
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
STILL_PROCESSING_CODES = {"4999"}
TOKEN_REFRESH_MARGIN_SECONDS = 300

# ResultCode -> what we tell the customer (Daraja's ResultDesc text varies over time).
RESULT_REASONS = {
    "1": "Insufficient M-Pesa balance",
    "17": "A payment of the same amount was made moments ago; wait two minutes",
    "1001": "Another M-Pesa transaction is in progress on this phone",
    "1019": "The M-Pesa request expired",
    "1025": "M-Pesa could not send the payment prompt",
    "1032": "The payment was cancelled on the phone",
    "1037": "The phone could not be reached",
    "2001": "Wrong M-Pesa PIN",
    "9999": "M-Pesa could not send the payment prompt",
}


def describe_result(code: str, description: str | None) -> str:
    return RESULT_REASONS.get(code) or (description or f"M-Pesa result {code}")[:500]


def callback_token_matches(expected: str | None, given: str) -> bool:
    """A callback came back with the ``?token=`` our callback URLs carry
    (``MpesaGateway.with_token``); any callback passes when no token is set."""
    return not expected or hmac.compare_digest(given.encode(), expected.encode())


def nairobi_timestamp(moment: datetime | None = None) -> str:
    """``YYYYMMDDHHMMSS`` in Kenyan time (Daraja rejects UTC clocks in some setups)."""
    return (moment or datetime.now(UTC)).astimezone(EAT).strftime("%Y%m%d%H%M%S")


def account_reference(order_number: str) -> str:
    """Letters and digits only, at most 12: ``QG-20261123-000042`` -> ``QG1123000042``."""
    compact = re.sub(r"[^A-Za-z0-9]", "", order_number)
    return compact if len(compact) <= 12 else compact[:2] + compact[-10:]


class DarajaError(ProviderError):
    """Daraja answered with its error body (``requestId``, ``errorCode``, ``errorMessage``)."""

    def __init__(self, message: str, *, error_code: str | None = None, http_status: int = 0):
        super().__init__(
            f"M-Pesa error: {message}",
            details={"provider": "MPESA", "error_code": error_code, "http_status": http_status},
        )
        self.error_code = error_code
        self.provider_message = message


class DuplicateRequest(DarajaError):
    """B2C ``500.002.1001 Duplicate OriginatorConversationID.``: Daraja already has a
    request with this id, so it was sent before (its outcome is unknown here)."""


class MalformedCallback(ValueError):
    """A callback body that is not Safaricom's shape (``Body.stkCallback``, ``Result``)."""


@dataclass(frozen=True)
class StkPushResponse:
    merchant_request_id: str
    checkout_request_id: str
    customer_message: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class StkQueryResult:
    """A query's answer: ``pending`` while M-Pesa is still waiting for the customer."""

    pending: bool
    result_code: str | None = None
    result_desc: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StkCallback:
    merchant_request_id: str | None
    checkout_request_id: str
    result_code: str
    result_desc: str | None
    amount: Decimal | None = None
    receipt: str | None = None
    phone: str | None = None
    transaction_date: str | None = None


def _metadata_text(value: Any) -> str | None:
    """Callback numbers (PhoneNumber, TransactionDate) compared as strings."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if "\x00" in text:  # no database column can hold it; Safaricom never sends it
        raise MalformedCallback("a callback value contains a NUL character")
    return text


def parse_stk_callback(data: Any) -> StkCallback:
    """Read Safaricom's callback exactly as sent (numbers as numbers, items by name)."""
    try:
        callback = data["Body"]["stkCallback"]
        checkout_request_id = callback["CheckoutRequestID"]
        result_code = callback["ResultCode"]
    except (KeyError, TypeError):
        raise MalformedCallback("missing Body.stkCallback CheckoutRequestID/ResultCode") from None
    if not isinstance(checkout_request_id, str) or not 0 < len(checkout_request_id) <= 100:
        raise MalformedCallback("CheckoutRequestID is not a string")
    if "\x00" in checkout_request_id:
        raise MalformedCallback("CheckoutRequestID contains a NUL character")
    if isinstance(result_code, bool) or not isinstance(result_code, int | str):
        raise MalformedCallback("ResultCode is neither a number nor a string")
    metadata = callback.get("CallbackMetadata") or {}
    items = (metadata.get("Item") or []) if isinstance(metadata, dict) else None
    if isinstance(items, dict):  # a single item sent as an object
        items = [items]
    if not isinstance(items, list):
        raise MalformedCallback("CallbackMetadata.Item is not a list of items")
    values = {
        item["Name"]: item.get("Value")  # "Balance" comes without a Value
        for item in items
        if isinstance(item, dict) and isinstance(item.get("Name"), str)
    }
    amount = None
    if values.get("Amount") is not None and not isinstance(values["Amount"], bool):
        try:
            amount = Decimal(str(values["Amount"]))  # 1, 1.0 or 1.00
        except InvalidOperation:
            raise MalformedCallback("Amount is not a number") from None
        if not amount.is_finite() or not 0 <= amount < MAX_AMOUNT:
            raise MalformedCallback("Amount is not a possible amount")
    receipt = _metadata_text(values.get("MpesaReceiptNumber"))
    if receipt is not None and len(receipt) > 100:
        raise MalformedCallback("MpesaReceiptNumber is too long")
    merchant = callback.get("MerchantRequestID")
    return StkCallback(
        merchant_request_id=merchant if isinstance(merchant, str) else None,
        checkout_request_id=checkout_request_id,
        result_code=str(result_code).strip(),
        result_desc=_metadata_text(callback.get("ResultDesc")),
        amount=amount,
        receipt=receipt,
        phone=_metadata_text(values.get("PhoneNumber")),
        transaction_date=_metadata_text(values.get("TransactionDate")),
    )


# -- B2C and Transaction Status: what Daraja sends back --------------------------------

B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"
# TransactionStatus values that say the queried transfer did not and will not happen.
FAILED_TRANSFER_STATUSES = frozenset({"cancelled", "declined", "expired", "failed"})


@dataclass(frozen=True)
class B2CAccepted:
    """Daraja's synchronous acknowledgement of a B2C request or a status query."""

    originator_conversation_id: str
    conversation_id: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class B2CResult:
    """A B2C Result callback: ``ResultCode`` 0 paid ``amount`` with ``receipt``."""

    originator_conversation_id: str | None
    conversation_id: str | None
    result_code: str
    result_desc: str | None
    transaction_id: str | None = None
    receipt: str | None = None
    amount: Decimal | None = None
    completed_at: str | None = None
    receiver: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.result_code == "0"


@dataclass(frozen=True)
class B2CTimeout:
    """A QueueTimeOutURL hit: a Result-like body or an echo of our request."""

    originator_conversation_id: str | None
    conversation_id: str | None


@dataclass(frozen=True)
class TransactionStatusResult:
    """A Transaction Status Result. The outer ids are the query's; ``transfer_*`` ids,
    ``receipt``, ``status`` and ``amount`` are the queried transfer's."""

    query_originator_conversation_id: str | None
    query_conversation_id: str | None
    result_code: str
    result_desc: str | None
    transfer_originator_conversation_id: str | None = None
    transfer_conversation_id: str | None = None
    receipt: str | None = None
    status: str | None = None
    amount: Decimal | None = None

    @property
    def completed(self) -> bool:
        return self.result_code == "0" and (self.status or "").lower() == "completed"

    @property
    def failed(self) -> bool:
        """Only an explicit final failure counts; anything else stays unknown."""
        return self.result_code == "0" and (self.status or "").lower() in FAILED_TRANSFER_STATUSES


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def _as_list(value: Any) -> list:
    """``ResultParameter`` / ``ReferenceItem``: a list of items, or one item as an object."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise MalformedCallback("expected a list of Key/Value items")


def _parameters(result: dict) -> dict[str, Any]:
    """``ResultParameters.ResultParameter`` by key, ignoring spaces and case; the first
    of a repeated key wins (D3 lists ``DebitPartyName`` twice)."""
    params = result.get("ResultParameters")
    if params is None or params == "":
        return {}
    if not isinstance(params, dict):
        raise MalformedCallback("ResultParameters is not an object")
    values: dict[str, Any] = {}
    for item in _as_list(params.get("ResultParameter")):
        if isinstance(item, dict) and isinstance(item.get("Key"), str):
            values.setdefault(_key(item["Key"]), item.get("Value"))
    return values


def _text(value: Any, limit: int = 100) -> str | None:
    text = _metadata_text(value)
    if text is not None and len(text) > limit:
        raise MalformedCallback("a callback value is too long")
    return text


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())  # 10, "300", 10.0
    except InvalidOperation:
        raise MalformedCallback("the amount is not a number") from None
    if not amount.is_finite() or not 0 <= amount < MAX_AMOUNT:
        raise MalformedCallback("the amount is not a possible amount")
    return amount


def _result(data: Any) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("Result"), dict):
        raise MalformedCallback("missing Result")
    result = data["Result"]
    code = result.get("ResultCode")
    if isinstance(code, bool) or not isinstance(code, int | str) or str(code).strip() == "":
        raise MalformedCallback("ResultCode is neither a number nor a string")
    return result


def parse_b2c_result(data: Any) -> B2CResult:
    """Read a B2C Result as Safaricom sends it: codes and amounts as numbers or strings,
    one ``ResultParameter`` as an object or a list, no ``ResultParameters`` on failure."""
    result = _result(data)
    values = _parameters(result)
    return B2CResult(
        originator_conversation_id=_text(result.get("OriginatorConversationID")),
        conversation_id=_text(result.get("ConversationID")),
        result_code=str(result["ResultCode"]).strip(),
        result_desc=_text(result.get("ResultDesc"), 500),
        transaction_id=_text(result.get("TransactionID")),
        receipt=_text(values.get("transactionreceipt")),
        amount=_amount(values.get("transactionamount")),
        completed_at=_text(values.get("transactioncompleteddatetime")),
        receiver=_text(values.get("receiverpartypublicname"), 200),
    )


def parse_b2c_timeout(data: Any) -> B2CTimeout:
    """A QueueTimeOutURL body: ``{"Result": {...}}`` or an echo of the request."""
    if not isinstance(data, dict):
        raise MalformedCallback("the timeout body is not an object")
    body = data["Result"] if isinstance(data.get("Result"), dict) else data
    originator = _text(body.get("OriginatorConversationID"))
    conversation = _text(body.get("ConversationID"))
    if originator is None and conversation is None:
        raise MalformedCallback("the timeout names no OriginatorConversationID/ConversationID")
    return B2CTimeout(originator, conversation)


def parse_transaction_status_result(data: Any) -> TransactionStatusResult:
    """A Transaction Status Result: keys with or without spaces, values as strings or
    numbers, the transfer's ids and receipt inside ``ResultParameters``."""
    result = _result(data)
    values = _parameters(result)
    return TransactionStatusResult(
        query_originator_conversation_id=_text(result.get("OriginatorConversationID")),
        query_conversation_id=_text(result.get("ConversationID")),
        result_code=str(result["ResultCode"]).strip(),
        result_desc=_text(result.get("ResultDesc"), 500),
        transfer_originator_conversation_id=_text(values.get("originatorconversationid")),
        transfer_conversation_id=_text(values.get("conversationid")),
        receipt=_text(values.get("receiptno")),
        status=_text(values.get("transactionstatus")),
        amount=_amount(values.get("amount")),
    )


class MpesaGateway:
    """What the real client and the simulator share: settings and the request body."""

    simulated = False
    # B2C requests a batch may have in flight at once (Daraja answers in about a second);
    # the simulator works inside the caller's transaction, so one at a time.
    concurrency = 8

    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str | None,
        consumer_secret: str | None,
        shortcode: str,
        passkey: str | None,
        callback_url: str,
        callback_token: str | None = None,
        initiator_name: str | None = None,
        security_credential: str | None = None,
        b2c_shortcode: str | None = None,
        backend_url: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ):
        self.base_url = base_url.rstrip("/")
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.shortcode = str(shortcode)
        self.passkey = passkey
        self.callback_token = callback_token
        self.stk_callback_url = self.with_token(callback_url)
        # B2C (payouts, refunds) reuses the token cache and _post with these settings.
        self.initiator_name = initiator_name
        self.security_credential = security_credential
        self.b2c_shortcode = str(b2c_shortcode or self.shortcode)
        if backend_url is None:  # the STK callback's origin
            parts = urlsplit(callback_url)
            backend_url = f"{parts.scheme}://{parts.netloc}"
        backend = backend_url.rstrip("/")
        self.b2c_result_url = self.with_token(f"{backend}/api/payments/b2c/result")
        self.b2c_timeout_url = self.with_token(f"{backend}/api/payments/b2c/timeout")
        self.status_result_url = self.with_token(f"{backend}/api/payments/b2c/status/result")
        self.status_timeout_url = self.with_token(f"{backend}/api/payments/b2c/status/timeout")
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **extra) -> MpesaGateway:
        return cls(
            base_url=config["MPESA_BASE_URL"],
            consumer_key=config["MPESA_CONSUMER_KEY"],
            consumer_secret=config["MPESA_CONSUMER_SECRET"],
            shortcode=config["MPESA_SHORTCODE"],
            passkey=config["MPESA_PASSKEY"],
            callback_url=config["MPESA_CALLBACK_URL"],
            callback_token=config["MPESA_CALLBACK_TOKEN"],
            initiator_name=config["MPESA_INITIATOR_NAME"],
            security_credential=config["MPESA_SECURITY_CREDENTIAL"],
            b2c_shortcode=config["MPESA_B2C_SHORTCODE"],
            backend_url=config["BACKEND_URL"],
            **extra,
        )

    @property
    def configured(self) -> bool:
        return bool(self.consumer_key and self.consumer_secret and self.passkey)

    @property
    def b2c_configured(self) -> bool:
        return bool(
            self.consumer_key
            and self.consumer_secret
            and self.initiator_name
            and self.security_credential
        )

    def with_token(self, url: str) -> str:
        if not self.callback_token:
            return url
        return f"{url}{'&' if '?' in url else '?'}{urlencode({'token': self.callback_token})}"

    def password(self, timestamp: str) -> str:
        raw = f"{self.shortcode}{self.passkey}{timestamp}"
        return base64.b64encode(raw.encode()).decode()

    def stk_push_body(
        self, *, phone: str, amount: Decimal, reference: str, description: str
    ) -> dict[str, Any]:
        timestamp = nairobi_timestamp()  # one value for both Password and Timestamp
        return {
            "BusinessShortCode": self.shortcode,
            "Password": self.password(timestamp),
            "Timestamp": timestamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": whole_shillings(amount),
            "PartyA": phone,
            "PartyB": self.shortcode,
            "PhoneNumber": phone,
            "CallBackURL": self.stk_callback_url,
            "AccountReference": account_reference(reference),
            "TransactionDesc": description[:13],
        }

    def stk_query_body(self, checkout_request_id: str) -> dict[str, Any]:
        timestamp = nairobi_timestamp()
        return {
            "BusinessShortCode": self.shortcode,
            "Password": self.password(timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_request_id,
        }

    def b2c_body(
        self,
        *,
        originator_conversation_id: str,
        phone: str,
        amount: Decimal,
        remarks: str,
        occasion: str | None = None,
    ) -> dict[str, Any]:
        """Section 5's request: ``Amount`` whole shillings (a string, as in Daraja's
        sample); ``Remarks`` 2-100 characters; ``Occassion`` spelt as Daraja spells it."""
        if amount != amount.to_integral_value() or amount < 10:
            raise ValueError(f"a B2C amount is whole shillings, at least 10: {amount}")
        body = {
            "OriginatorConversationID": originator_conversation_id,
            "InitiatorName": self.initiator_name,
            "SecurityCredential": self.security_credential,
            "CommandID": "BusinessPayment",
            "Amount": str(int(amount)),
            "PartyA": self.b2c_shortcode,
            "PartyB": phone,
            "Remarks": (remarks or "Payment")[:100].ljust(2, "."),
            "QueueTimeOutURL": self.b2c_timeout_url,
            "ResultURL": self.b2c_result_url,
        }
        if occasion:
            body["Occassion"] = occasion[:100]
        return body

    def transaction_status_body(
        self, originator_conversation_id: str, *, remarks: str = "Transfer status"
    ) -> dict[str, Any]:
        """Section 7's request for a B2C transfer without a receipt: the conversation id
        under both disputed keys, ``IdentifierType`` "4" (our shortcode)."""
        return {
            "Initiator": self.initiator_name,
            "SecurityCredential": self.security_credential,
            "CommandID": "TransactionStatusQuery",
            "OriginalConversationID": originator_conversation_id,
            "OriginatorConversationID": originator_conversation_id,
            "PartyA": self.b2c_shortcode,
            "IdentifierType": "4",
            "ResultURL": self.status_result_url,
            "QueueTimeOutURL": self.status_timeout_url,
            "Remarks": remarks[:100],
            "Occasion": "Reconciliation",
        }

    def stk_push(
        self, *, phone: str, amount: Decimal, reference: str, description: str
    ) -> StkPushResponse:
        raise NotImplementedError

    def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        raise NotImplementedError

    def b2c_payment(
        self,
        *,
        originator_conversation_id: str,
        phone: str,
        amount: Decimal,
        remarks: str,
        occasion: str | None = None,
    ) -> B2CAccepted:
        """Send money to ``phone``. Raises ``DarajaError`` when refused (nothing sent),
        ``DuplicateRequest`` when this id was sent before, ``ProviderTimeout`` when the
        request went out unanswered, ``ProviderError`` when Daraja was unreachable."""
        payload = self.b2c_body(
            originator_conversation_id=originator_conversation_id,
            phone=phone,
            amount=amount,
            remarks=remarks,
            occasion=occasion,
        )
        return self._send_b2c(payload)

    def transaction_status(self, originator_conversation_id: str) -> B2CAccepted:
        """Ask for a transfer's outcome; the answer comes later to the status ResultURL.
        The returned ids are the query's."""
        return self._send_status(self.transaction_status_body(originator_conversation_id))

    def _send_b2c(self, payload: dict[str, Any]) -> B2CAccepted:
        raise NotImplementedError

    def _send_status(self, payload: dict[str, Any]) -> B2CAccepted:
        raise NotImplementedError


class MpesaClient(MpesaGateway):
    """The real Daraja API."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()

    def access_token(self, *, stale: str | None = None) -> str:
        """The cached OAuth token, fetched when missing, about to expire, or ``stale``."""
        with self._token_lock:
            if self._token and self._token != stale and time.monotonic() < self._token_expires_at:
                return self._token
            if not self.configured:
                raise ProviderNotConfigured(
                    "M-Pesa is not configured", details={"provider": "MPESA"}
                )
            response = send(
                PROVIDER,
                "GET",
                f"{self.base_url}/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                auth=(self.consumer_key, self.consumer_secret),
                timeout=self.timeout,
            )
            body = json_body(response)
            if response.status_code != 200 or not body.get("access_token"):
                # Wrong key/secret: HTTP 400 with an empty body.
                raise DarajaError(
                    body.get("errorMessage") or "authentication failed",
                    error_code=body.get("errorCode"),
                    http_status=response.status_code,
                )
            try:
                lifetime = int(str(body.get("expires_in", "3599")))  # "3599" or 3599
            except ValueError:
                lifetime = 3599
            self._token = body["access_token"]
            margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime // 2)
            self._token_expires_at = time.monotonic() + lifetime - margin
            return self._token

    @staticmethod
    def _token_rejected(status: int, body: dict) -> bool:
        code = str(body.get("errorCode") or "")
        return status == 401 or code == "404.001.03" or code.startswith("401.")

    def _post(self, path: str, payload: dict[str, Any]) -> tuple[int, dict]:
        """POST with the Bearer token; a rejected token is renewed once and retried."""
        token = self.access_token()
        for attempt in (1, 2):
            response = send(
                PROVIDER,
                "POST",
                f"{self.base_url}{path}",
                json=payload,  # json= also sets Content-Type: application/json
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
            body = json_body(response)
            if attempt == 1 and self._token_rejected(response.status_code, body):
                log.info("M-Pesa rejected the cached token; renewing it once")
                token = self.access_token(stale=token)
                continue
            return response.status_code, body
        raise AssertionError("unreachable")

    @staticmethod
    def _error(status: int, body: dict) -> DarajaError:
        return DarajaError(
            str(body.get("errorMessage") or body.get("ResponseDescription") or f"HTTP {status}"),
            error_code=body.get("errorCode") or body.get("ResponseCode"),
            http_status=status,
        )

    def stk_push(
        self, *, phone: str, amount: Decimal, reference: str, description: str
    ) -> StkPushResponse:
        payload = self.stk_push_body(
            phone=phone, amount=amount, reference=reference, description=description
        )
        status, body = self._post("/mpesa/stkpush/v1/processrequest", payload)
        if status != 200 or str(body.get("ResponseCode")) != "0" or "CheckoutRequestID" not in body:
            raise self._error(status, body)
        return StkPushResponse(
            merchant_request_id=str(body.get("MerchantRequestID", "")),
            checkout_request_id=str(body["CheckoutRequestID"]),
            customer_message=str(body.get("CustomerMessage") or ""),
            raw=body,
        )

    def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        status, body = self._post(
            "/mpesa/stkpushquery/v1/query", self.stk_query_body(checkout_request_id)
        )
        if status == 200 and "ResultCode" in body:
            code = str(body["ResultCode"]).strip()  # a string here, a number in callbacks
            if code in STILL_PROCESSING_CODES:
                return StkQueryResult(pending=True, raw=body)
            return StkQueryResult(
                pending=False, result_code=code, result_desc=body.get("ResultDesc"), raw=body
            )
        message = str(body.get("errorMessage") or "").lower()
        if body.get("errorCode") == "500.001.1001" and "processed" in message:
            return StkQueryResult(pending=True, raw=body)  # "The transaction is being processed"
        raise self._error(status, body)

    def _accepted(self, path: str, payload: dict[str, Any]) -> B2CAccepted:
        if not self.b2c_configured:
            raise ProviderNotConfigured(
                "M-Pesa B2C is not configured (MPESA_INITIATOR_NAME, MPESA_SECURITY_CREDENTIAL)",
                details={"provider": "MPESA"},
            )
        status, body = self._post(path, payload)
        if status == 200 and str(body.get("ResponseCode", "")).strip() == "0":
            return B2CAccepted(
                originator_conversation_id=str(
                    body.get("OriginatorConversationID") or payload["OriginatorConversationID"]
                ),
                conversation_id=str(body.get("ConversationID") or ""),
                raw=body,
            )
        error = self._error(status, body)
        if "duplicate" in error.provider_message.lower():
            raise DuplicateRequest(
                error.provider_message, error_code=error.error_code, http_status=status
            )
        raise error

    def _send_b2c(self, payload: dict[str, Any]) -> B2CAccepted:
        return self._accepted(B2C_PATH, payload)

    def _send_status(self, payload: dict[str, Any]) -> B2CAccepted:
        return self._accepted(STATUS_PATH, payload)


# -- the simulator ---------------------------------------------------------------------


def simulated_outcome(phone: str) -> tuple[int, str]:
    """Numbers ending in 0 cancel (so failures can be tried); the rest pay."""
    if phone.endswith("0"):
        return 1032, "Request cancelled by user"
    return 0, "The service request is processed successfully."


def simulated_b2c_outcome(phone: str) -> tuple[int, str]:
    """B2C to a number ending in 0 fails as Daraja fails an ineligible recipient."""
    if phone.endswith("0"):
        return 2040, (
            "Credit Party customer type (Unregistered or Registered Customer) "
            "can't be supported by the service."
        )
    return 0, "The service request is processed successfully."


def _receipt() -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))


def _conversation_id(now: datetime) -> str:
    return f"AG_{now.astimezone(EAT).strftime('%Y%m%d')}_{secrets.token_hex(10)}"


@dataclass(frozen=True)
class SimulatedTransfer:
    phone: str
    amount: int
    conversation_id: str
    result_code: int
    result_desc: str
    receipt: str
    moment: datetime


class MpesaSimulator(MpesaGateway):
    """Daraja without a network: answers like Daraja, then calls us back by itself.

    The callback is POSTed ``delay_seconds`` after the request's transaction commits,
    from a background thread over HTTP to ``CallBackURL`` (``BACKEND_URL`` by default);
    with a delay of 0 (tests) it is delivered at once through the app's own WSGI stack.
    Either way the production callback view handles it. Stateless across workers: the
    CheckoutRequestID carries the time and phone, which is all ``stk_query`` needs.
    """

    simulated = True
    concurrency = 1

    def __init__(self, *, delay_seconds: int = 3, **kwargs):
        kwargs["passkey"] = kwargs.get("passkey") or SANDBOX_PASSKEY
        kwargs["initiator_name"] = kwargs.get("initiator_name") or "testapi"
        kwargs["security_credential"] = kwargs.get("security_credential") or "simulated"
        super().__init__(**kwargs)
        self.delay_seconds = delay_seconds
        # B2C transfers this process accepted, by OriginatorConversationID: what
        # transaction_status answers from (an id it never saw is "not found").
        self._transfers: dict[str, SimulatedTransfer] = {}
        self._transfers_lock = threading.Lock()

    @property
    def b2c_configured(self) -> bool:
        return True

    def _send_b2c(self, payload: dict[str, Any]) -> B2CAccepted:
        originator_conversation_id = payload["OriginatorConversationID"]
        phone = payload["PartyB"]
        now = datetime.now(UTC)
        code, desc = simulated_b2c_outcome(phone)
        transfer = SimulatedTransfer(
            phone, int(payload["Amount"]), _conversation_id(now), code, desc, _receipt(), now
        )
        with self._transfers_lock:
            if originator_conversation_id in self._transfers:
                raise DuplicateRequest(
                    "Duplicate OriginatorConversationID.",
                    error_code="500.002.1001",
                    http_status=500,
                )
            self._transfers[originator_conversation_id] = transfer
        body = json.dumps(self.b2c_result_body(originator_conversation_id, transfer))
        app = current_app._get_current_object()
        after_commit(db.session(), lambda: self._deliver(app, payload["ResultURL"], body))
        raw = {
            "ConversationID": transfer.conversation_id,
            "OriginatorConversationID": originator_conversation_id,
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        return B2CAccepted(originator_conversation_id, transfer.conversation_id, raw)

    def _send_status(self, body: dict[str, Any]) -> B2CAccepted:
        originator_conversation_id = body["OriginatorConversationID"]
        now = datetime.now(UTC)
        query_ids = (
            f"{secrets.randbelow(99999)}-{secrets.randbelow(9999999)}-1",
            _conversation_id(now),
        )
        with self._transfers_lock:
            transfer = self._transfers.get(originator_conversation_id)
        result = self.status_result_body(originator_conversation_id, transfer, *query_ids)
        text = json.dumps(result)
        app = current_app._get_current_object()
        after_commit(db.session(), lambda: self._deliver(app, body["ResultURL"], text))
        raw = {
            "OriginatorConversationID": query_ids[0],
            "ConversationID": query_ids[1],
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        return B2CAccepted(query_ids[0], query_ids[1], raw)

    @staticmethod
    def b2c_result_body(
        originator_conversation_id: str, transfer: SimulatedTransfer
    ) -> dict[str, Any]:
        """A B2C Result as Safaricom writes it (section 5): numbers as numbers, no
        ResultParameters on failure."""
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": transfer.result_code,
            "ResultDesc": transfer.result_desc,
            "OriginatorConversationID": originator_conversation_id,
            "ConversationID": transfer.conversation_id,
            "TransactionID": transfer.receipt,
            "ReferenceData": {
                "ReferenceItem": {
                    "Key": "QueueTimeoutURL",
                    "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit",
                }
            },
        }
        if transfer.result_code == 0:
            completed = transfer.moment.astimezone(EAT).strftime("%d.%m.%Y %H:%M:%S")
            result["ResultParameters"] = {
                "ResultParameter": [
                    {"Key": "TransactionAmount", "Value": transfer.amount},
                    {"Key": "TransactionReceipt", "Value": transfer.receipt},
                    {
                        "Key": "ReceiverPartyPublicName",
                        "Value": f"{transfer.phone} - SIMULATED RECIPIENT",
                    },
                    {"Key": "TransactionCompletedDateTime", "Value": completed},
                    {"Key": "B2CUtilityAccountAvailableFunds", "Value": 8959269.60},
                    {"Key": "B2CWorkingAccountAvailableFunds", "Value": 1199371.00},
                    {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
                    {"Key": "B2CChargesPaidAccountAvailableFunds", "Value": -1980.00},
                ]
            }
        return {"Result": result}

    def status_result_body(
        self,
        originator_conversation_id: str,
        transfer: SimulatedTransfer | None,
        query_originator_id: str,
        query_conversation_id: str,
    ) -> dict[str, Any]:
        """A Transaction Status Result (section 7): ``Completed`` with the receipt, or
        ``Declined`` for a failed transfer; an id never sent is not found."""
        result: dict[str, Any] = {
            "ConversationID": query_conversation_id,
            "OriginatorConversationID": query_originator_id,
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": "Reconciliation"}},
            "ResultType": 0,
        }
        if transfer is None:
            result |= {
                "ResultCode": 2001,
                "ResultDesc": "The format of parameter null is invalid.",
                "TransactionID": "MBN0000000",
            }
            return {"Result": result}
        stamp = nairobi_timestamp(transfer.moment)
        completed = transfer.result_code == 0
        result |= {
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "TransactionID": "MBN0000000",
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "DebitPartyName", "Value": f"{self.b2c_shortcode} - Quantum Gear"},
                    {"Key": "CreditPartyName", "Value": f"{transfer.phone} - SIMULATED"},
                    {"Key": "OriginatorConversationID", "Value": originator_conversation_id},
                    {"Key": "InitiatedTime", "Value": stamp},
                    {"Key": "DebitAccountType", "Value": "Utility Account"},
                    {"Key": "DebitPartyCharges", "Value": "Fee For B2C Payment|KES|22.40"},
                    {"Key": "TransactionReason"},
                    {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
                    {
                        "Key": "TransactionStatus",
                        "Value": "Completed" if completed else "Declined",
                    },
                    {"Key": "FinalisedTime", "Value": stamp},
                    {"Key": "Amount", "Value": str(transfer.amount)},
                    {"Key": "ConversationID", "Value": transfer.conversation_id},
                    {"Key": "ReceiptNo", "Value": transfer.receipt if completed else ""},
                ]
            },
        }
        return {"Result": result}

    @property
    def configured(self) -> bool:
        return True

    def stk_push(
        self, *, phone: str, amount: Decimal, reference: str, description: str
    ) -> StkPushResponse:
        payload = self.stk_push_body(
            phone=phone, amount=amount, reference=reference, description=description
        )
        now = datetime.now(UTC)
        checkout_request_id = (
            f"ws_CO_{now.astimezone(EAT).strftime('%d%m%Y%H%M%S')}"
            f"{now.microsecond // 1000:03d}{phone}{secrets.token_hex(1)}"
        )
        merchant_request_id = "-".join(
            [
                secrets.token_hex(2),
                secrets.token_hex(2),
                secrets.token_hex(2),
                secrets.token_hex(10),
            ]
        )
        body = self.callback_body(
            merchant_request_id, checkout_request_id, payload["Amount"], phone, now
        )
        app = current_app._get_current_object()
        after_commit(db.session(), lambda: self._deliver(app, payload["CallBackURL"], body))
        message = "Success. Request accepted for processing"
        return StkPushResponse(
            merchant_request_id=merchant_request_id,
            checkout_request_id=checkout_request_id,
            customer_message=message,
            raw={
                "MerchantRequestID": merchant_request_id,
                "CheckoutRequestID": checkout_request_id,
                "ResponseCode": "0",
                "ResponseDescription": message,
                "CustomerMessage": message,
            },
        )

    def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        match = re.fullmatch(r"ws_CO_(\d{14})\d{3}(\d{12})[0-9a-f]{2}", checkout_request_id)
        if match is None:
            raise DarajaError(
                "The transaction does not Exist", error_code="500.001.1001", http_status=500
            )
        started = datetime.strptime(match.group(1), "%d%m%Y%H%M%S").replace(tzinfo=EAT)
        if datetime.now(UTC) - started < timedelta(seconds=self.delay_seconds):
            return StkQueryResult(pending=True)
        code, desc = simulated_outcome(match.group(2))
        return StkQueryResult(pending=False, result_code=str(code), result_desc=desc)

    @staticmethod
    def callback_body(
        merchant_request_id: str,
        checkout_request_id: str,
        amount: int,
        phone: str,
        moment: datetime,
    ) -> str:
        """A callback as Safaricom writes it: numbers as numbers, Amount like ``1500.00``."""
        code, desc = simulated_outcome(phone)
        callback: dict[str, Any] = {
            "MerchantRequestID": merchant_request_id,
            "CheckoutRequestID": checkout_request_id,
            "ResultCode": code,
            "ResultDesc": desc,
        }
        if code == 0:
            callback["CallbackMetadata"] = {
                "Item": [
                    {"Name": "Amount", "Value": "__AMOUNT__"},
                    {"Name": "MpesaReceiptNumber", "Value": _receipt()},
                    {"Name": "Balance"},
                    {"Name": "TransactionDate", "Value": int(nairobi_timestamp(moment))},
                    {"Name": "PhoneNumber", "Value": int(phone)},
                ]
            }
        text = json.dumps({"Body": {"stkCallback": callback}})
        return text.replace('"__AMOUNT__"', f"{amount}.00")

    def _deliver(self, app, url: str, body: str) -> None:
        if self.delay_seconds <= 0:
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            with app.app_context():  # a fresh context: its own database session
                app.test_client().post(target, data=body, content_type="application/json")
            return
        timer = threading.Timer(self.delay_seconds, self._post_callback, args=(url, body))
        timer.daemon = True
        timer.start()

    def _post_callback(self, url: str, body: str) -> None:
        try:
            response = send(
                "M-Pesa simulator",
                "POST",
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=(5.0, 30.0),
            )
            log.info("simulated M-Pesa callback delivered: HTTP %s", response.status_code)
        except ProviderError:
            log.warning("simulated M-Pesa callback to %s failed; reconciliation will query", url)


def build_mpesa(config: Mapping[str, Any]) -> MpesaGateway:
    if config["PAYMENTS_SIMULATOR"]:
        return MpesaSimulator.from_config(
            config, delay_seconds=config["PAYMENTS_SIMULATOR_DELAY_SECONDS"]
        )
    return MpesaClient.from_config(config)
