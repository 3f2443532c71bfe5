"""Payment factories: ``PaymentFactory(order=order)`` is a pending STK push for the order.

Traits: ``card=True`` (a pending Paystack checkout), ``completed=True``.
"""

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
