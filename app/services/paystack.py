"""Paystack (cards): initialize, verify, and the webhook signature check.

``PaystackClient`` speaks Paystack's wire format over the shared HTTP session;
``PaystackSimulator`` has the same methods for offline use: its checkout is a local page
(``/api/payments/simulator/card/<reference>``) whose Pay and Decline buttons post a
webhook signed with the simulator's secret to our own webhook endpoint.
``build_paystack(config)`` picks one; the instance lives in ``app.extensions["paystack"]``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from app.errors import ProviderError, ProviderNotConfigured
from app.money import MAX_AMOUNT, cents
from app.services.http import DEFAULT_TIMEOUT, json_body, send

PROVIDER = "Paystack"
SIMULATOR_SECRET = "sk_test_quantum_gear_simulator"


class PaystackError(ProviderError):
    def __init__(self, message: str, *, http_status: int = 0, code: str | None = None):
        super().__init__(
            f"Paystack error: {message}",
            details={"provider": "PAYSTACK", "http_status": http_status, "error_code": code},
        )


@dataclass(frozen=True)
class Checkout:
    authorization_url: str
    access_code: str
    reference: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class Transaction:
    """A transaction as verify or a charge webhook reports it (``amount`` in cents)."""

    reference: str
    status: str  # success / failed / reversed / abandoned / ongoing / pending ...
    amount: int | None
    currency: str | None
    id: str | None
    gateway_response: str | None
    email: str | None
    raw: dict[str, Any]

    @property
    def final(self) -> bool:
        return self.status in {"success", "failed", "reversed"}


def _int(value: Any) -> int | None:
    """Paystack amounts arrive as numbers or numeric strings (refund events).

    Whole cents only: anything else (``"NaN"``, ``149950.5``, absurd sizes) is None,
    never rounded towards an amount that would match.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    if not amount.is_finite() or abs(amount) >= cents(MAX_AMOUNT):
        return None
    if amount != amount.to_integral_value():
        return None
    return int(amount)


@dataclass(frozen=True)
class ProviderRefund:
    """A refund as ``POST /refund`` or ``GET /refund/:id`` reports it (``amount`` in
    cents). ``status``: pending / processing / processed / failed / needs-attention."""

    id: str
    status: str
    amount: int | None
    currency: str | None
    raw: dict[str, Any]


class PaystackRejected(PaystackError):
    """Paystack answered and refused (``status: false`` with a 4xx): the request itself
    cannot succeed as sent (e.g. "Transaction has been fully reversed")."""


def parse_refund(data: Any) -> ProviderRefund:
    """The ``data`` of a refund response; ValueError when it holds no refund id."""
    if (
        not isinstance(data, dict)
        or isinstance(data.get("id"), bool)
        or data.get("id")
        in (
            None,
            "",
        )
    ):
        raise ValueError("refund data without an id")
    return ProviderRefund(
        id=str(data["id"]),
        status=str(data.get("status") or "").lower(),
        amount=_int(data.get("amount")),
        currency=data.get("currency") if isinstance(data.get("currency"), str) else None,
        raw=data,
    )


def parse_transaction(data: Any) -> Transaction:
    """A ``data`` object of verify or ``charge.*`` webhooks; ValueError when unusable."""
    if not isinstance(data, dict) or not isinstance(data.get("reference"), str):
        raise ValueError("transaction data without a reference")
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    return Transaction(
        reference=data["reference"],
        status=str(data.get("status") or "").lower(),
        amount=_int(data.get("amount")),
        currency=data.get("currency") if isinstance(data.get("currency"), str) else None,
        id=str(data["id"]) if data.get("id") is not None else None,
        gateway_response=data.get("gateway_response"),
        email=customer.get("email"),
        raw=data,
    )


class PaystackGateway:
    """What the real client and the simulator share: the secret and the signature check."""

    simulated = False

    def __init__(
        self,
        *,
        secret_key: str | None,
        base_url: str = "https://api.paystack.co",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ):
        self.secret_key = secret_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.secret_key)

    def sign(self, raw_body: bytes) -> str:
        """Lowercase hex HMAC-SHA512 of the raw body, keyed with the secret key."""
        if not self.secret_key:
            raise ProviderNotConfigured("Paystack is not configured")
        return hmac.new(self.secret_key.encode(), raw_body, hashlib.sha512).hexdigest()

    def verify_signature(self, raw_body: bytes, signature: str | None) -> bool:
        """Constant-time check of ``x-paystack-signature``; False when no secret is set."""
        if not self.secret_key or not signature or not signature.isascii():
            return False  # compare_digest refuses non-ASCII text: a forged header, not a 500
        return hmac.compare_digest(self.sign(raw_body), signature.strip().lower())

    def initialize(
        self,
        *,
        email: str,
        amount: Decimal,
        currency: str,
        reference: str,
        callback_url: str,
        metadata: dict[str, Any],
    ) -> Checkout:
        raise NotImplementedError

    def verify(self, reference: str) -> Transaction | None:
        raise NotImplementedError

    def refund(
        self,
        *,
        transaction: str,
        amount: Decimal,
        currency: str,
        customer_note: str,
        merchant_note: str,
    ) -> ProviderRefund:
        """``POST /refund``: queue a refund of ``amount`` of a completed transaction."""
        raise NotImplementedError

    def fetch_refund(self, refund_id: str) -> ProviderRefund | None:
        """``GET /refund/:id``: the refund now, or None when Paystack does not know it."""
        raise NotImplementedError


class PaystackClient(PaystackGateway):
    """The real Paystack API (test or live mode is decided by the key)."""

    def _call(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        if not self.configured:
            raise ProviderNotConfigured(
                "Paystack is not configured", details={"provider": "PAYSTACK"}
            )
        response = send(
            PROVIDER,
            method,
            f"{self.base_url}{path}",
            headers={"Authorization": f"Bearer {self.secret_key}"},
            timeout=self.timeout,
            **kwargs,
        )
        return response.status_code, json_body(response)

    def initialize(
        self,
        *,
        email: str,
        amount: Decimal,
        currency: str,
        reference: str,
        callback_url: str,
        metadata: dict[str, Any],
    ) -> Checkout:
        status, body = self._call(
            "POST",
            "/transaction/initialize",
            json={
                "email": email,
                "amount": cents(amount),  # integer, in cents
                "currency": currency,
                "reference": reference,
                "callback_url": callback_url,
                "metadata": metadata,
                "channels": ["card"],
            },
        )
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if status != 200 or body.get("status") is not True or not data.get("authorization_url"):
            raise PaystackError(
                str(body.get("message") or f"HTTP {status}"),
                http_status=status,
                code=body.get("code"),
            )
        return Checkout(
            authorization_url=data["authorization_url"],
            access_code=str(data.get("access_code") or ""),
            reference=str(data.get("reference") or reference),
            raw=body,
        )

    def verify(self, reference: str) -> Transaction | None:
        """The transaction, or None when Paystack has never seen the reference."""
        status, body = self._call("GET", f"/transaction/verify/{quote(reference, safe='')}")
        if status in (400, 404) and "not found" in str(body.get("message") or "").lower():
            return None  # 400 in real traffic, 404 in the OpenAPI file
        return self._answer(status, body, parse_transaction, "verify")

    @staticmethod
    def _answer(status: int, body: dict, parse, what: str, error=PaystackError):
        """``parse`` of a successful answer's ``data``; else ``error`` with Paystack's
        message (a success whose data cannot be read is a PaystackError)."""
        if status == 200 and body.get("status") is True:
            try:
                return parse(body.get("data"))
            except ValueError:
                raise PaystackError(f"unexpected {what} response", http_status=status) from None
        raise error(
            str(body.get("message") or f"HTTP {status}"), http_status=status, code=body.get("code")
        )

    def refund(
        self,
        *,
        transaction: str,
        amount: Decimal,
        currency: str,
        customer_note: str,
        merchant_note: str,
    ) -> ProviderRefund:
        status, body = self._call(
            "POST",
            "/refund",
            json={
                "transaction": transaction,
                "amount": cents(amount),  # integer, in cents
                "currency": currency,
                "customer_note": customer_note,
                "merchant_note": merchant_note,
            },
        )
        refused = 400 <= status < 500 and status != 429
        return self._answer(
            status, body, parse_refund, "refund", PaystackRejected if refused else PaystackError
        )

    def fetch_refund(self, refund_id: str) -> ProviderRefund | None:
        status, body = self._call("GET", f"/refund/{quote(refund_id, safe='')}")
        if status == 404:
            return None
        return self._answer(status, body, parse_refund, "refund")


class PaystackSimulator(PaystackGateway):
    """Paystack without a network; checkout happens on our local simulator page."""

    simulated = True

    def __init__(self, *, backend_url: str, **kwargs):
        kwargs["secret_key"] = kwargs.get("secret_key") or SIMULATOR_SECRET
        super().__init__(**kwargs)
        self.backend_url = backend_url.rstrip("/")

    def initialize(
        self,
        *,
        email: str,
        amount: Decimal,
        currency: str,
        reference: str,
        callback_url: str,
        metadata: dict[str, Any],
    ) -> Checkout:
        access_code = secrets.token_hex(8)
        url = f"{self.backend_url}/api/payments/simulator/card/{quote(reference, safe='')}"
        return Checkout(
            authorization_url=url,
            access_code=access_code,
            reference=reference,
            raw={
                "status": True,
                "message": "Authorization URL created",
                "data": {
                    "authorization_url": url,
                    "access_code": access_code,
                    "reference": reference,
                },
            },
        )

    def verify(self, reference: str) -> Transaction | None:
        """Until a button is pressed the customer is still on the page: ``abandoned``.

        Pressing one delivers the webhook at once, which settles the payment, so a
        pending payment never needs more than this from the simulator.
        """
        return Transaction(
            reference=reference,
            status="abandoned",
            amount=None,
            currency=None,
            id=None,
            gateway_response="The transaction was not completed",
            email=None,
            raw={"reference": reference, "status": "abandoned"},
        )

    def refund(
        self,
        *,
        transaction: str,
        amount: Decimal,
        currency: str,
        customer_note: str,
        merchant_note: str,
    ) -> ProviderRefund:
        """Queued, as Paystack answers; ``fetch_refund`` then finds it processed."""
        refund_id = str(secrets.randbelow(9 * 10**8) + 10**8)
        data = {
            "id": int(refund_id),
            "status": "pending",
            "amount": cents(amount),
            "currency": currency,
            "transaction": {"reference": transaction, "currency": currency},
            "customer_note": customer_note,
            "merchant_note": merchant_note,
        }
        return parse_refund(data)

    def fetch_refund(self, refund_id: str) -> ProviderRefund | None:
        """A simulated refund is processed by the time anyone asks."""
        return ProviderRefund(
            id=refund_id, status="processed", amount=None, currency=None, raw={"id": refund_id}
        )

    def webhook(
        self, *, paid: bool, reference: str, amount: Decimal, currency: str, email: str, metadata
    ) -> tuple[bytes, str]:
        """The compact JSON body Paystack would send, and its signature header value.

        Pay sends ``charge.success``. Decline sends ``charge.failed``: it is not in
        Paystack's official event list, so production also learns about failures
        through verify, but our handler accepts it defensively.
        """
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        data = {
            "id": secrets.randbelow(9 * 10**9) + 10**9,
            "domain": "test",
            "status": "success" if paid else "failed",
            "reference": reference,
            "amount": cents(amount),
            "message": None,
            "gateway_response": "Successful" if paid else "Declined",
            "paid_at": now if paid else None,
            "created_at": now,
            "channel": "card",
            "currency": currency,
            "ip_address": "127.0.0.1",
            "metadata": metadata,
            "fees": cents(amount) * 29 // 1000 if paid else None,
            "customer": {"id": 1, "email": email, "customer_code": "CUS_simulator"},
            "authorization": {
                "authorization_code": "AUTH_simulator",
                "bin": "408408",
                "last4": "4081",
                "exp_month": "12",
                "exp_year": "2030",
                "channel": "card",
                "card_type": "visa ",
                "bank": "TEST BANK",
                "country_code": "KE",
                "brand": "visa",
                "reusable": True,
            },
        }
        event = "charge.success" if paid else "charge.failed"
        body = json.dumps({"event": event, "data": data}, separators=(",", ":")).encode()
        return body, self.sign(body)


def build_paystack(config: Mapping[str, Any]) -> PaystackGateway:
    if config["PAYMENTS_SIMULATOR"]:
        return PaystackSimulator(
            secret_key=config["PAYSTACK_SECRET_KEY"],
            base_url=config["PAYSTACK_BASE_URL"],
            backend_url=config["BACKEND_URL"],
        )
    return PaystackClient(
        secret_key=config["PAYSTACK_SECRET_KEY"], base_url=config["PAYSTACK_BASE_URL"]
    )
