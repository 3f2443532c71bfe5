"""No payment without Safaricom: a success callback is confirmed by an STK Push Query.

The real Daraja client, faked at the HTTP boundary with ``responses``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import responses
from sqlalchemy import func, select

from app.config import ConfigError, DevelopmentConfig, ProductionConfig
from app.db import utcnow
from app.extensions import db
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderStatus, PaymentStatus
from app.payments.jobs import reconcile_pending_payments
from app.payments.models import Payment, ProviderEvent
from tests.factories.payments import PaymentFactory
from tests.payments.conftest import MPESA_BASE, post_callback, query_reply, stk_callback

QUERY = f"{MPESA_BASE}/mpesa/stkpushquery/v1/query"
PRODUCTION_ENV = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "DATABASE_URL": "postgres://qg:pw@db.internal:5432/quantum_gear",
    "MPESA_CONSUMER_KEY": "live-key",
    "MPESA_CONSUMER_SECRET": "live-secret",
    "MPESA_PASSKEY": "live-passkey",
    "PAYSTACK_SECRET_KEY": "sk_live_x",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


BEING_PROCESSED = {
    "requestId": "ws_CO_191220191020363925",
    "errorCode": "500.001.1001",
    "errorMessage": "The transaction is being processed",
}


@pytest.fixture
def daraja(app, real_mpesa, monkeypatch):
    """Confirmation on, Daraja faked: register the STK query's answer on it."""
    monkeypatch.setitem(app.config, "MPESA_CONFIRM_CALLBACKS", True)
    with responses.RequestsMock() as fake:
        fake.get(
            f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
        )
        yield fake


@pytest.fixture
def pending(order):
    payment = PaymentFactory(order=order)
    db.session.commit()
    return payment


def callback_events():
    return db.session.scalars(select(ProviderEvent).order_by(ProviderEvent.id)).all()


def test_a_forged_success_the_query_says_was_cancelled_pays_nothing(client, daraja, pending, order):
    daraja.post(QUERY, json=query_reply("1032", "Request cancelled by user"))

    response = post_callback(client, stk_callback(pending, receipt="FORGED0001"))

    assert response.status_code == 200
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.failure_code, payment.receipt) == (
        PaymentStatus.FAILED,
        "1032",
        None,
    )
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.FAILED)
    [event] = callback_events()
    assert (event.outcome, event.payment_id) == ("FAILED", pending.id)
    assert "FORGED0001" in event.payload  # stored as received
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0


def test_a_success_the_query_confirms_pays_once(client, daraja, pending, order):
    daraja.post(QUERY, json=query_reply())
    body = stk_callback(pending, receipt="NLJ7RT61SV")

    post_callback(client, body)
    post_callback(client, body)

    assert len(daraja.calls) == 2  # the token and one query: the duplicate asks nothing
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.receipt) == (PaymentStatus.COMPLETED, "NLJ7RT61SV")
    assert fresh(Order, order.id).status == OrderStatus.PAID
    assert [e.outcome for e in callback_events()] == ["COMPLETED", "DUPLICATE"]
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"status": 500, "json": BEING_PROCESSED}, id="being-processed"),
        pytest.param({"body": requests.ConnectionError()}, id="unreachable"),
    ],
)
def test_an_unconfirmed_success_stays_pending_until_the_reconcile_job_pays_it(
    client, daraja, pending, order, answer
):
    daraja.post(QUERY, **answer)

    post_callback(client, stk_callback(pending, receipt="NLJ7RT61SV"))

    assert fresh(Payment, pending.id).status == PaymentStatus.PENDING
    assert fresh(Order, order.id).status == OrderStatus.PENDING
    [event] = callback_events()
    assert (event.outcome, event.payment_id) == ("UNCONFIRMED", pending.id)

    daraja.replace(responses.POST, QUERY, json=query_reply())
    payment = fresh(Payment, pending.id)
    payment.created_at = utcnow() - timedelta(minutes=3)
    db.session.commit()

    assert reconcile_pending_payments() == {"checked": 1, "settled": 1, "errors": 0}
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.receipt) == (PaymentStatus.COMPLETED, "NLJ7RT61SV")
    assert fresh(Order, order.id).status == OrderStatus.PAID
    assert [e.outcome for e in callback_events()] == ["COMPLETED"]  # acted on once
    assert reconcile_pending_payments()["checked"] == 0


def test_confirmation_is_on_by_default(tmp_path):
    assert DevelopmentConfig(environ={}, instance_path=str(tmp_path)).MPESA_CONFIRM_CALLBACKS
    off = DevelopmentConfig(environ={"MPESA_CONFIRM_CALLBACKS": "false"}, instance_path=".")
    assert off.MPESA_CONFIRM_CALLBACKS is False


def test_production_with_live_mpesa_refuses_to_start_without_a_callback_token(tmp_path):
    with pytest.raises(ConfigError) as refused:
        ProductionConfig(environ=PRODUCTION_ENV, instance_path=str(tmp_path))
    assert str(refused.value) == (
        "Configuration error: MPESA_CALLBACK_TOKEN must be set when FLASK_ENV=production"
    )


@pytest.mark.parametrize(
    "more",
    [
        pytest.param({"MPESA_CALLBACK_TOKEN": "cb-token"}, id="token"),
        pytest.param({"PAYMENTS_SIMULATOR": "true"}, id="simulator"),
    ],
)
def test_production_starts_with_a_token_or_the_simulator(tmp_path, more):
    config = ProductionConfig(environ=PRODUCTION_ENV | more, instance_path=str(tmp_path))
    assert config.ENV_NAME == "production"
