"""Races on PostgreSQL: every provider answer for one order at once, one thread each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from sqlalchemy import func, select

from app.db import utcnow
from app.errors import Unprocessable
from app.extensions import db
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderStatus, OrderStatusHistory, PaymentStatus
from app.payments.jobs import reconcile_pending_payments
from app.payments.models import Payment, ProviderEvent, Refund
from app.payments.refunds import record_refund_due
from tests.concurrency import run_together
from tests.factories.payments import PaymentFactory
from tests.payments.conftest import (
    MPESA_BASE,
    paystack_event,
    post_callback,
    post_webhook,
    stk_callback,
)

pytestmark = pytest.mark.postgres


def paid_transitions(order_id):
    return db.session.scalar(
        select(func.count()).where(
            OrderStatusHistory.order_id == order_id, OrderStatusHistory.to_status == "PAID"
        )
    )


def test_mpesa_and_card_succeeding_together_pay_once_and_owe_the_other_back(app, order):
    """Two methods succeed for one order: one pays it, the other is kept and refunded."""
    mpesa = PaymentFactory(order=order)
    card = PaymentFactory(order=order, card=True)
    db.session.commit()
    callback = stk_callback(mpesa)
    webhook = paystack_event("charge.success", card)

    def send_callback(client):
        return post_callback(client, callback).status_code

    def send_webhook(client):
        return post_webhook(app, client, webhook).status_code

    statuses = run_together(app, [send_callback, send_webhook] * 4)

    assert statuses == [200] * 8
    db.session.expire_all()
    assert paid_transitions(order.id) == 1
    payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [p.status for p in payments] == [PaymentStatus.COMPLETED] * 2
    [late] = [p for p in payments if p.flagged]
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.payment_id, refund.cause, refund.amount) == (
        late.id,
        "DUPLICATE_PAYMENT",
        late.amount_received,
    )
    paid = db.session.get(Order, order.id)
    assert (paid.status, paid.payment_status) == (OrderStatus.PAID, PaymentStatus.COMPLETED)
    assert paid.payment_method == next(p for p in payments if not p.flagged).method
    outcomes = sorted(e.outcome for e in db.session.scalars(select(ProviderEvent)))
    assert outcomes == ["COMPLETED"] * 2 + ["DUPLICATE"] * 6
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1


@responses.activate
def test_callback_query_and_job_together_settle_once(app, order, customer_headers, real_mpesa):
    pending = PaymentFactory(order=order, created_at=utcnow() - timedelta(minutes=3))
    db.session.commit()
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    responses.post(
        f"{MPESA_BASE}/mpesa/stkpushquery/v1/query",
        json={
            "ResponseCode": "0",
            "ResultCode": "0",
            "ResultDesc": "The service request is processed successfully.",
        },
    )
    callback = stk_callback(pending)

    def send_callback(client):
        return post_callback(client, callback, token="cb-token").status_code

    def query(client):
        return client.post(
            "/api/payments/mpesa/query", json={"order_id": order.id}, headers=customer_headers
        ).status_code

    def verify(client):
        return client.get(f"/api/payments/verify/{order.id}", headers=customer_headers).status_code

    def job(client):
        reconcile_pending_payments()
        return 200

    statuses = run_together(app, [send_callback, query, verify, job] * 2)

    assert statuses == [200] * 8
    db.session.expire_all()
    assert paid_transitions(order.id) == 1
    payment = db.session.get(Payment, pending.id)
    assert (payment.status, payment.receipt, payment.flagged) == (
        PaymentStatus.COMPLETED,
        "NLJ7RT61SV",
        False,
    )
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1


def test_partial_refunds_recorded_together_never_exceed_the_payment(app, order):
    """Four returns of KES 600 each on a KES 1,500 payment, at once: two fit, two are refused."""
    payment = PaymentFactory(order=order, completed=True)
    db.session.commit()
    order_id, payment_id = order.id, payment.id

    def refund(index):
        def action(client):
            try:
                record_refund_due(
                    db.session.get(Order, order_id),
                    reason="Returned",
                    payment=db.session.get(Payment, payment_id),
                    key=f"return:{index}",
                    amount=Decimal("600.00"),
                )
                db.session.commit()
                return "recorded"
            except Unprocessable as exc:
                db.session.rollback()
                return exc.code

        return action

    results = run_together(app, [refund(index) for index in range(4)])

    assert sorted(results) == ["REFUND_EXCEEDS_PAYMENT"] * 2 + ["recorded"] * 2
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(Refund.amount))) == Decimal("1200.00")
