"""M-Pesa through HTTP: initiate, Safaricom's callbacks, query, reconciliation."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import responses
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.db import utcnow
from app.extensions import db
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderStatus, OrderStatusHistory, PaymentMethod, PaymentStatus
from app.orders.state import change_status
from app.payments import settlement
from app.payments.jobs import reconcile_pending_payments
from app.payments.models import Payment, ProviderEvent, Refund
from app.services.mpesa import account_reference
from tests.concurrency import run_together
from tests.factories.auth import UserFactory
from tests.factories.payments import PaymentFactory
from tests.payments.conftest import MPESA_BASE, post_callback, query_reply, stk_callback

INITIATE = "/api/payments/mpesa/initiate"
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def paid_transitions(order_id):
    return db.session.scalar(
        select(func.count()).where(
            OrderStatusHistory.order_id == order_id, OrderStatusHistory.to_status == "PAID"
        )
    )


def events(outcome=None):
    stmt = select(ProviderEvent).order_by(ProviderEvent.id)
    if outcome:
        stmt = stmt.where(ProviderEvent.outcome == outcome)
    return db.session.scalars(stmt).all()


# -- initiate, with the simulator ------------------------------------------------------------


def test_simulated_stk_push_completes_through_our_callback(client, customer_headers, order):
    response = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712 345 678"}, headers=customer_headers
    )

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data["checkout_request_id"].startswith("ws_CO_") and data["merchant_request_id"]
    assert data["customer_message"] == "Success. Request accepted for processing"
    assert data["amount"] == "1500.00"  # KES 1,499.50 rounded up to whole shillings
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status, order.paid_at is not None) == (
        OrderStatus.PAID,
        PaymentStatus.COMPLETED,
        True,
    )
    payment = db.session.scalar(select(Payment))
    assert payment.receipt and payment.amount_received == Decimal("1500.00")
    assert payment.payer_phone == "254712345678"
    [event] = events()
    assert (event.outcome, event.authentic, event.payment_id) == ("COMPLETED", True, payment.id)
    assert json.loads(event.payload)["Body"]["stkCallback"]["ResultCode"] == 0
    [email] = db.session.scalars(select(OutboxEmail)).all()
    assert email.to_address == order.customer.email and order.order_number in email.subject

    status = client.get(f"/api/payments/status/{order.id}", headers=customer_headers).json["data"]
    assert status["payment_status"] == "COMPLETED" and status["payment_method"] == "MPESA"
    assert status["payments"][0]["receipt"] == payment.receipt


def test_phone_ending_in_zero_cancels_and_the_order_stays_payable(client, customer_headers, order):
    response = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345670"}, headers=customer_headers
    )
    assert response.status_code == 201
    payment = db.session.scalar(select(Payment))
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "1032")
    assert payment.failure_reason == "The payment was cancelled on the phone"
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.FAILED)

    retry = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=customer_headers
    )
    assert retry.status_code == 201
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.COMPLETED)


def test_unpaid_card_order_may_switch_to_mpesa(client, customer_headers, card_order):
    assert (
        client.post(
            INITIATE,
            json={"order_id": card_order.id, "phone": "0712345678"},
            headers=customer_headers,
        ).status_code
        == 201
    )
    assert fresh(Order, card_order.id).payment_method == PaymentMethod.MPESA


def test_idempotency_key_replays_without_a_second_push(client, customer_headers, order):
    headers = {**customer_headers, "Idempotency-Key": "pay-1"}
    first = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=headers
    )
    again = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=headers
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert db.session.scalar(select(func.count(Payment.id))) == 1


@pytest.mark.parametrize(
    "state,code",
    [
        ({"paid": True}, "ALREADY_PAID"),
        ({"status": OrderStatus.CANCELLED}, "ORDER_NOT_PAYABLE"),
        ({"cash": True}, "CASH_ORDER"),
    ],
)
def test_orders_that_cannot_be_paid_are_refused(client, customer_headers, customer, state, code):
    from tests.factories.catalog import ProductFactory
    from tests.factories.orders import OrderFactory

    order = OrderFactory(items=[(ProductFactory(), 1)], customer=customer, **state)
    response = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=customer_headers
    )
    assert (response.status_code, response.json["error"]["code"]) == (409, code)
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_expired_order_is_refused(client, customer_headers, order):
    order.payment_due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=customer_headers
    )
    assert response.json["error"]["code"] == "ORDER_NOT_PAYABLE"


def test_someone_elses_order_is_404_and_bad_phone_is_400(
    client, auth_headers, customer_headers, order
):
    stranger = auth_headers(UserFactory())
    assert (
        client.post(
            INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=stranger
        ).status_code
        == 404
    )
    bad = client.post(
        INITIATE, json={"order_id": order.id, "phone": "12345"}, headers=customer_headers
    )
    assert (bad.status_code, list(bad.json["error"]["details"])) == (400, ["phone"])
    assert (
        client.post(INITIATE, json={"order_id": order.id, "phone": "0712345678"}).status_code == 401
    )


# -- initiate, against Daraja's wire format -------------------------------------------------


@responses.activate
def test_initiate_sends_the_order_to_daraja(client, customer_headers, order, real_mpesa):
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    push = responses.post(
        f"{MPESA_BASE}/mpesa/stkpush/v1/processrequest",
        json={
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        },
    )
    response = client.post(
        INITIATE, json={"order_id": order.id, "phone": "+254 712 345 678"}, headers=customer_headers
    )

    assert response.status_code == 201
    assert response.json["data"]["checkout_request_id"] == "ws_CO_191220191020363925"
    body = json.loads(push.calls[0].request.body)
    assert (body["Amount"], body["PhoneNumber"]) == (1500, "254712345678")
    assert body["AccountReference"] == account_reference(order.order_number)
    assert body["CallBackURL"].endswith("/api/payments/mpesa/callback?token=cb-token")
    payment = db.session.scalar(select(Payment))
    assert (payment.status, payment.merchant_request_id) == (
        PaymentStatus.PENDING,
        "29115-34620561-1",
    )
    assert fresh(Order, order.id).status == OrderStatus.PENDING

    again = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=customer_headers
    )
    assert (again.status_code, again.json["error"]["code"]) == (409, "PAYMENT_IN_PROGRESS")


@responses.activate
@pytest.mark.parametrize("failure", [requests.ConnectionError(), requests.ReadTimeout()])
def test_provider_down_is_502_and_leaves_the_order_untouched(
    client, customer_headers, order, real_mpesa, failure
):
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    responses.post(f"{MPESA_BASE}/mpesa/stkpush/v1/processrequest", body=failure)
    response = client.post(
        INITIATE, json={"order_id": order.id, "phone": "0712345678"}, headers=customer_headers
    )
    assert (response.status_code, response.json["error"]["code"]) == (502, "PROVIDER_ERROR")
    db.session.rollback()  # what the request's teardown does: nothing was committed
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.PENDING)
    assert db.session.scalar(select(func.count(Payment.id))) == 0


# -- callbacks ----------------------------------------------------------------------------------


@pytest.fixture
def pending(order):
    return PaymentFactory(order=order)


def test_success_callback_completes_once(client, pending, order):
    body = stk_callback(pending, amount_text="1500.00")
    first = post_callback(client, body)
    duplicate = post_callback(client, body)
    assert first.status_code == duplicate.status_code == 200
    assert first.json == duplicate.json == ACCEPTED
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.receipt, payment.amount_received) == (
        PaymentStatus.COMPLETED,
        "NLJ7RT61SV",
        Decimal("1500.00"),
    )
    assert fresh(Order, order.id).status == OrderStatus.PAID
    assert paid_transitions(order.id) == 1
    assert [e.outcome for e in events()] == ["COMPLETED", "DUPLICATE"]
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1


@pytest.mark.parametrize(
    "code,reason",
    [
        (1, "Insufficient M-Pesa balance"),
        (1032, "The payment was cancelled on the phone"),
        (1037, "The phone could not be reached"),
        (2001, "Wrong M-Pesa PIN"),
        (1019, "The M-Pesa request expired"),
        (8006, "The security credential is locked."),
    ],
)
def test_failure_codes_fail_the_attempt_with_the_reason(client, pending, order, code, reason):
    response = post_callback(
        client, stk_callback(pending, code=code, desc="The security credential is locked.")
    )
    assert response.json == ACCEPTED
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.failure_code, payment.failure_reason) == (
        PaymentStatus.FAILED,
        str(code),
        reason,
    )
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.FAILED)


def test_a_late_failure_never_undoes_a_success(client, pending, order):
    post_callback(client, stk_callback(pending))
    post_callback(client, stk_callback(pending, code=1032))
    assert fresh(Payment, pending.id).status == PaymentStatus.COMPLETED
    assert events()[-1].outcome == "LATE_FAILURE_IGNORED"


@pytest.mark.parametrize("amount", [1, 1499, 1501])
def test_a_different_amount_is_flagged_never_paid(client, pending, order, amount):
    assert post_callback(client, stk_callback(pending, amount=amount)).json == ACCEPTED
    payment = fresh(Payment, pending.id)
    assert payment.flagged and payment.status == PaymentStatus.FAILED
    assert payment.amount_received == Decimal(amount)
    assert fresh(Order, order.id).status == OrderStatus.PENDING
    assert events()[-1].outcome == "AMOUNT_MISMATCH"


def test_unknown_checkout_id_is_recorded(client, order):
    ghost = PaymentFactory.build(order=order, checkout_request_id="ws_CO_unknown")
    assert post_callback(client, stk_callback(ghost)).json == ACCEPTED
    [event] = events()
    assert (event.outcome, event.external_id) == ("UNKNOWN_PAYMENT", "ws_CO_unknown")


@pytest.mark.parametrize(
    "body",
    ["not json", "", "[]", '{"Body": {}}', '{"Body": {"stkCallback": {"CheckoutRequestID": "x"}}}'],
)
def test_malformed_bodies_are_recorded_and_acknowledged(client, body):
    response = client.post(
        "/api/payments/mpesa/callback", data=body, content_type="application/json"
    )
    assert (response.status_code, response.json) == (200, ACCEPTED)
    [event] = events()
    assert (event.outcome, event.payload) == ("MALFORMED", body)


def test_a_body_with_nul_bytes_is_recorded_and_acknowledged(client):
    """No text column holds NUL: the body is stored with U+FFFD in its place."""
    response = client.post(
        "/api/payments/mpesa/callback", data=b"\x00{\x00}", content_type="application/json"
    )
    assert (response.status_code, response.json) == (200, ACCEPTED)
    [event] = events()
    assert (event.outcome, event.payload) == ("MALFORMED", "\ufffd{\ufffd}")


def test_order_ids_beyond_the_integer_range_are_400(client, customer_headers):
    huge = 2**71
    for path, body in (
        ("mpesa/initiate", {"order_id": huge, "phone": "0712345678"}),
        ("mpesa/query", {"order_id": huge}),
        ("card/initiate", {"order_id": huge}),
    ):
        response = client.post(f"/api/payments/{path}", json=body, headers=customer_headers)
        assert response.status_code == 400, path
        assert "order_id" in response.json["error"]["details"]


@pytest.mark.parametrize("amount_text", ['"NaN"', '"Infinity"', "-1500", '"-1500"', "1e20"])
def test_impossible_amounts_are_recorded_as_malformed(client, pending, amount_text):
    response = post_callback(client, stk_callback(pending, amount_text=amount_text))
    assert (response.status_code, response.json) == (200, ACCEPTED)
    assert events()[-1].outcome == "MALFORMED"
    assert fresh(Payment, pending.id).status == PaymentStatus.PENDING


def test_success_without_amount_is_not_trusted(client, pending):
    body = json.loads(stk_callback(pending))
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"].pop(0)
    post_callback(client, json.dumps(body))
    assert fresh(Payment, pending.id).status == PaymentStatus.PENDING
    assert events()[-1].outcome == "MALFORMED"


def test_callback_token_is_required_when_set(app, client, pending, monkeypatch):
    monkeypatch.setitem(app.config, "MPESA_CALLBACK_TOKEN", "s3cret")
    body = stk_callback(pending)
    for token in (None, "wrong"):
        response = post_callback(client, body, token=token)
        assert (response.status_code, response.json["error"]["code"]) == (
            403,
            "INVALID_CALLBACK_TOKEN",
        )
    assert fresh(Payment, pending.id).status == PaymentStatus.PENDING
    assert [(e.authentic, e.outcome) for e in events()] == [
        (False, "REJECTED"),
        (False, "REJECTED"),
    ]
    assert post_callback(client, body, token="s3cret").json == ACCEPTED
    assert fresh(Payment, pending.id).status == PaymentStatus.COMPLETED


def test_payment_for_a_cancelled_order_is_kept_flagged_with_a_refund_due(client, pending, order):
    order = fresh(Order, order.id)
    change_status(order, OrderStatus.CANCELLED, note="expired")
    db.session.commit()

    post_callback(client, stk_callback(pending))

    payment = fresh(Payment, pending.id)
    assert payment.status == PaymentStatus.COMPLETED and payment.flagged
    order = fresh(Order, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.COMPLETED)
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.cause, refund.amount, refund.status, refund.payment_id) == (
        "LATE_PAYMENT",
        Decimal("1500.00"),
        "PENDING",
        payment.id,
    )


def test_second_payment_of_a_paid_order_is_refunded(client, order):
    first, second = PaymentFactory(order=order), PaymentFactory(order=order)
    post_callback(client, stk_callback(first, receipt="AAAAAAAAA1"))
    post_callback(client, stk_callback(second, receipt="AAAAAAAAA2"))
    assert paid_transitions(order.id) == 1
    [refund] = db.session.scalars(select(Refund)).all()
    assert (refund.payment_id, refund.cause) == (second.id, "DUPLICATE_PAYMENT")


def test_a_reused_receipt_is_flagged(client, order):
    first, second = PaymentFactory(order=order), PaymentFactory(order=order)
    post_callback(client, stk_callback(first))
    post_callback(client, stk_callback(second))
    payment = fresh(Payment, second.id)
    assert payment.flagged and payment.status == PaymentStatus.PENDING
    assert events()[-1].outcome == "RECEIPT_REUSED"


@pytest.mark.postgres
def test_parallel_duplicate_callbacks_settle_once(app, pending, order):
    body = stk_callback(pending)

    def send(client):
        return post_callback(client, body).status_code

    statuses = run_together(app, [send] * 8)

    assert statuses == [200] * 8
    assert paid_transitions(order.id) == 1
    outcomes = sorted(e.outcome for e in events())
    assert outcomes == ["COMPLETED"] + ["DUPLICATE"] * 7
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1


# -- query and reconciliation ---------------------------------------------------------------------


@responses.activate
def test_query_applies_a_final_result(client, customer_headers, pending, order, real_mpesa):
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    responses.post(f"{MPESA_BASE}/mpesa/stkpushquery/v1/query", json=query_reply())
    response = client.post(
        "/api/payments/mpesa/query",
        json={"checkout_request_id": pending.checkout_request_id},
        headers=customer_headers,
    )
    assert response.status_code == 200
    assert response.json["data"]["status"] == "COMPLETED"
    assert fresh(Order, order.id).status == OrderStatus.PAID


@responses.activate
@pytest.mark.parametrize(
    "amount,flagged,outcome", [(None, False, "DUPLICATE"), (1, True, "AMOUNT_MISMATCH")]
)
def test_callback_after_the_query_stores_the_receipt(
    client, customer_headers, pending, order, real_mpesa, amount, flagged, outcome
):
    """The query carries no receipt: the callback that follows must still record it, and
    one reporting another amount is flagged (the payment stays paid: finance looks)."""
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    responses.post(f"{MPESA_BASE}/mpesa/stkpushquery/v1/query", json=query_reply())
    client.post("/api/payments/mpesa/query", json={"order_id": order.id}, headers=customer_headers)
    assert fresh(Payment, pending.id).status == PaymentStatus.COMPLETED

    callback = stk_callback(pending, amount=amount)
    assert post_callback(client, callback, token="cb-token").json == ACCEPTED
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.flagged) == (PaymentStatus.COMPLETED, flagged)
    assert events()[-1].outcome == outcome
    if flagged:
        assert "reported 1 KES" in payment.flag_reason
    else:
        assert (payment.receipt, payment.payer_phone) == ("NLJ7RT61SV", "254712345678")
    assert paid_transitions(order.id) == 1


@responses.activate
def test_query_still_processing_leaves_it_pending(client, customer_headers, pending, real_mpesa):
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    responses.post(
        f"{MPESA_BASE}/mpesa/stkpushquery/v1/query",
        status=500,
        json={
            "requestId": "ws_CO_1",
            "errorCode": "500.001.1001",
            "errorMessage": "The transaction is being processed",
        },
    )
    response = client.post(
        "/api/payments/mpesa/query", json={"order_id": pending.order_id}, headers=customer_headers
    )
    assert response.json["data"]["status"] == "PENDING"


def test_query_needs_exactly_one_key_and_scopes_to_the_owner(
    client, customer_headers, auth_headers, pending
):
    both = client.post(
        "/api/payments/mpesa/query",
        json={"order_id": 1, "checkout_request_id": "x"},
        headers=customer_headers,
    )
    assert both.status_code == 400
    stranger = auth_headers(UserFactory())
    other = client.post(
        "/api/payments/mpesa/query",
        json={"checkout_request_id": pending.checkout_request_id},
        headers=stranger,
    )
    assert other.status_code == 404


@responses.activate
def test_reconcile_job_settles_old_pending_attempts(pending, order, real_mpesa):
    young = PaymentFactory(order=order)
    pending.created_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    query = responses.post(
        f"{MPESA_BASE}/mpesa/stkpushquery/v1/query",
        json=query_reply("1037", "DS timeout user cannot be reached"),
    )

    assert reconcile_pending_payments() == {"checked": 1, "settled": 1, "errors": 0}
    assert (
        json.loads(query.calls[0].request.body)["CheckoutRequestID"] == pending.checkout_request_id
    )
    payment = fresh(Payment, pending.id)
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "1037")
    assert fresh(Payment, young.id).status == PaymentStatus.PENDING


@responses.activate
def test_reconcile_job_survives_a_provider_outage(pending, real_mpesa):
    pending.created_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    responses.get(f"{MPESA_BASE}/oauth/v1/generate", body=requests.ConnectionError())
    assert reconcile_pending_payments() == {"checked": 1, "settled": 0, "errors": 1}
    assert fresh(Payment, pending.id).status == PaymentStatus.PENDING


@responses.activate
def test_reconcile_job_goes_on_after_an_unexpected_error(pending, order, real_mpesa, monkeypatch):
    """One attempt that cannot be processed (a database error, a bug) must not stop the
    job on every run: the attempts behind it are still settled."""
    second = PaymentFactory(order=order)
    pending.created_at = utcnow() - timedelta(minutes=4)
    second.created_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    real_query = settlement.query_mpesa_payment

    def query(payment):
        if payment.id == pending.id:
            raise OperationalError("SELECT", {}, Exception("deadlock detected"))
        return real_query(payment)

    monkeypatch.setattr(settlement, "query_mpesa_payment", query)
    responses.get(
        f"{MPESA_BASE}/oauth/v1/generate", json={"access_token": "tok", "expires_in": "3599"}
    )
    responses.post(f"{MPESA_BASE}/mpesa/stkpushquery/v1/query", json=query_reply())

    assert reconcile_pending_payments() == {"checked": 2, "settled": 1, "errors": 1}
    assert fresh(Payment, pending.id).status == PaymentStatus.PENDING
    assert fresh(Payment, second.id).status == PaymentStatus.COMPLETED


def test_reconcile_job_replays_a_callback_that_came_before_its_attempt(client, order):
    early = PaymentFactory.build(order=order, checkout_request_id="ws_CO_early")
    post_callback(client, stk_callback(early))
    assert events()[0].outcome == "UNKNOWN_PAYMENT"
    payment = PaymentFactory(
        order=order, checkout_request_id="ws_CO_early", created_at=utcnow() - timedelta(minutes=3)
    )

    assert reconcile_pending_payments()["settled"] == 1
    assert fresh(Payment, payment.id).status == PaymentStatus.COMPLETED
    assert fresh(Order, order.id).status == OrderStatus.PAID
