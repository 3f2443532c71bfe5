"""Payment factories: ``PaymentFactory(order=order)`` is a pending STK push for the order.

Traits: ``card=True`` (a pending Paystack checkout), ``completed=True``.
"""

import json
import secrets
from decimal import Decimal

import factory

from app.db import utcnow
from app.money import whole_shillings
from app.orders.models import PaymentMethod, PaymentStatus
from app.payments.models import Payment, PaymentProvider
from tests.factories.base import Factory


class PaymentFactory(Factory):
    class Meta:
        model = Payment

    order = None  # required: the order this attempt pays
    order_id = factory.LazyAttribute(lambda o: o.order.id)
    method = PaymentMethod.MPESA
    provider = PaymentProvider.MPESA
    amount = factory.LazyAttribute(lambda o: Decimal(whole_shillings(o.order.total)))
    currency = "KES"
    status = PaymentStatus.PENDING
    reference = factory.Sequence(lambda n: f"MP-{n}-{secrets.token_hex(4).upper()}")
    checkout_request_id = factory.Sequence(lambda n: f"ws_CO_2311202614030{n:04d}254712345678")
    merchant_request_id = factory.Sequence(lambda n: f"29115-3462{n:04d}-1")
    payer_phone = "254712345678"

    class Params:
        card = factory.Trait(
            method=PaymentMethod.CARD,
            provider=PaymentProvider.PAYSTACK,
            amount=factory.LazyAttribute(lambda o: o.order.total),
            reference=factory.Sequence(lambda n: f"QG-{n}-{secrets.token_hex(4).upper()}"),
            checkout_request_id=None,
            merchant_request_id=None,
            payer_phone=None,
            payer_email="buyer@example.co.ke",
        )
        completed = factory.Trait(
            status=PaymentStatus.COMPLETED,
            amount_received=factory.SelfAttribute("amount"),
            completed_at=factory.LazyFunction(utcnow),
            receipt=factory.Sequence(lambda n: f"SIM{n:07d}"),
        )

    @classmethod
    def _create(cls, model_class, *args, order=None, **kwargs):
        return super()._create(model_class, *args, **kwargs)


PAYSTACK = "https://api.paystack.co"


def paystack_refund(refund_id=3018284, amount=149999, reference="T685312322670591"):
    """Paystack's answer to POST /refund (section 9 of the wire-format reference)."""
    return {
        "status": True,
        "message": "Refund has been queued for processing",
        "data": {
            "transaction": {
                "id": 1004723697,
                "domain": "test",
                "reference": reference,
                "amount": 2 * amount,
                "paid_at": "2026-11-20T18:34:11.000Z",
                "channel": "card",
                "currency": "KES",
            },
            "integration": 412829,
            "deducted_amount": 0,
            "channel": None,
            "merchant_note": f"Refund for transaction {reference} by finance@example.co.ke",
            "customer_note": f"Refund for transaction {reference}",
            "status": "pending",
            "refunded_by": "finance@example.co.ke",
            "expected_at": "2026-12-09T09:21:17.016Z",
            "currency": "KES",
            "domain": "test",
            "amount": amount,
            "fully_deducted": False,
            "id": refund_id,
            "createdAt": "2026-12-02T09:21:17.122Z",
            "updatedAt": "2026-12-02T09:21:17.122Z",
        },
    }


def refund_event(event, reference, amount, refund_reference="132013318360"):
    """A refund webhook as Paystack sends it: the amount a string, no refund id."""
    data = {
        "status": event.removeprefix("refund."),
        "transaction_reference": reference,
        "refund_reference": refund_reference,
        "amount": str(amount),
        "currency": "KES",
        "processor": "mpgs_zen",
        "customer": {"first_name": "Achieng", "last_name": "Otieno", "email": "a@example.co.ke"},
        "integration": 412829,
        "domain": "test",
    }
    return json.dumps({"event": event, "data": data}, separators=(",", ":")).encode()
