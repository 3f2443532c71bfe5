"""The payment events (``app/signals.py``): what is sent, once, and the email they send."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notifications.models import OutboxEmail
from app.orders.models import Order, PaymentStatus
from app.payments.models import Payment, Refund
from app.payments.refunds import record_refund_due
from app.signals import payment_settled, refund_due, refund_settled
from tests.factories.payments import PaymentFactory
from tests.payments.conftest import post_callback, post_webhook, stk_callback


@contextmanager
def caught(signal):
    sent = []

    def receiver(sender, **kwargs):
        sent.append((sender, kwargs))

    with signal.connected_to(receiver):
        yield sent


def emails() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_a_successful_callback_settles_the_payment_once_and_emails_the_customer(client, order):
    payment = PaymentFactory(order=order)
    db.session.commit()
    with caught(payment_settled) as sent:
        post_callback(client, stk_callback(payment))
        post_callback(client, stk_callback(payment))

    assert [(p.id, kw) for p, kw in sent] == [
        (payment.id, {"outcome": "COMPLETED", "paid_order": True})
    ]
    [email] = emails()
    assert (email.to_address, email.subject, email.template) == (
        order.customer.email,
        f"Payment received for order {order.order_number}",
        "payment_confirmation",
    )
    assert "1500.00" in email.body_text


@pytest.mark.parametrize(
    ("callback", "outcome"),
    [
        (lambda p: stk_callback(p, code=1032, desc="Request cancelled by user"), "FAILED"),
        (lambda p: stk_callback(p, amount=1), "AMOUNT_MISMATCH"),
    ],
)
def test_a_failed_payment_is_settled_without_an_email(client, order, callback, outcome):
    payment = PaymentFactory(order=order)
    db.session.commit()
    with caught(payment_settled) as sent:
        post_callback(client, callback(payment))

    assert [(p.id, kw) for p, kw in sent] == [
        (payment.id, {"outcome": outcome, "paid_order": False})
    ]
    assert emails() == []


def test_money_for_an_order_already_paid_is_owed_back_without_an_email(client, order):
    first, second = PaymentFactory(order=order), PaymentFactory(order=order)
    db.session.commit()
    post_callback(client, stk_callback(first, receipt="RCPT000001"))
    with caught(payment_settled) as settled, caught(refund_due) as due:
        post_callback(client, stk_callback(second, receipt="RCPT000002"))

    assert [(p.id, kw) for p, kw in settled] == [
        (second.id, {"outcome": "COMPLETED", "paid_order": False})
    ]
    [(refund, _)] = due
    assert (refund.payment_id, refund.cause) == (second.id, "DUPLICATE_PAYMENT")
    assert len(emails()) == 1  # the first payment's


def test_refund_due_is_sent_once_per_key(order):
    PaymentFactory(order=order, completed=True)
    with caught(refund_due) as sent:
        first = record_refund_due(order, reason="Cancelled")
        record_refund_due(order, reason="Cancelled")
    assert [refund.id for refund, _ in sent] == [first.id]


def test_refund_settled_only_when_the_provider_confirms(app, client, card_order):
    payment = PaymentFactory(order=card_order, card=True, completed=True)
    order = db.session.get(Order, card_order.id)
    order.payment_status = PaymentStatus.COMPLETED
    refund = record_refund_due(order, reason="Cancelled by customer")
    db.session.commit()

    def event(status):
        data = {"status": status, "transaction_reference": payment.reference, "amount": "250000"}
        return json.dumps({"event": f"refund.{status}", "data": data}).encode()

    with caught(refund_settled) as sent:
        post_webhook(app, client, event("pending"))
        assert sent == []
        post_webhook(app, client, event("processed"))
        post_webhook(app, client, event("processed"))
    assert [r.id for r, _ in sent] == [refund.id]
    assert db.session.get(Refund, refund.id).status == "COMPLETED"
    assert db.session.get(Payment, payment.id).status == PaymentStatus.REFUNDED
