"""M-Pesa and cash refunds by B2C, Daraja faked at the HTTP boundary in its real format
(``tests/daraja.py``): whole shillings rounded up, the cents borne by the platform, a
timeout is unknown (never sent twice), a refusal leaves the refund PENDING, a failed
result is retried with a new transfer."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from app.auth.models import UserRole
from app.disbursements.models import Disbursement
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.operations import balance
from app.orders.models import PaymentMethod
from app.payments.models import Refund
from app.returns.operations import review
from tests import daraja as fake
from tests.factories.catalog import ProductFactory
from tests.factories.returns import delivered_order, request_return

D = Decimal


@pytest.fixture
def approved(customer, role_user):
    """An approved return of an M-Pesa order: KES 1,499.99 owed (B2C: 1,500)."""
    order = delivered_order(customer, [(ProductFactory(price=D("1499.99")), 2)])
    ret = request_return(order)
    review(role_user(UserRole.ADMIN), ret.id, "APPROVE", None)
    db.session.commit()
    return ret


@pytest.fixture
def finance(role_user, auth_headers):
    return auth_headers(role_user(UserRole.FINANCE_ADMIN))


def transfers() -> list[Disbursement]:
    db.session.expire_all()
    return list(db.session.scalars(select(Disbursement).order_by(Disbursement.id)))


def test_a_refund_goes_back_by_b2c_rounded_up_and_settles_on_the_result(
    client, daraja, approved, finance, assert_books_balance
):
    sent = fake.accept_b2c(daraja)
    path = f"/api/admin/returns/{approved.id}/process-refund"
    response = client.post(path, json={}, headers=finance)
    assert response.status_code == 200, response.json
    assert response.json["data"]["refund"]["status"] == "PROCESSING"
    body = json.loads(sent.calls[0].request.body)
    assert (body["Amount"], body["PartyB"]) == ("1500", "254712345678")
    again = client.post(path, json={}, headers=finance)
    assert again.status_code == 200 and sent.call_count == 1  # the double click sent nothing
    manual = client.post(
        f"/api/admin/refunds/{approved.refund_id}/process",
        json={"method": "MANUAL", "reference": "X1"},
        headers=finance,
    )
    assert manual.status_code == 200 and manual.json["data"]["status"] == "PROCESSING"

    (transfer,) = transfers()
    result = fake.b2c_success(
        transfer.originator_conversation_id, transfer.conversation_id, 1500, "TKL1AB2CD3"
    )
    assert client.post("/api/payments/b2c/result", json=result).status_code == 200
    refund = db.session.get(Refund, approved.refund_id)
    assert (refund.status, refund.paid_amount, refund.provider_reference) == (
        "COMPLETED",
        D("1500.00"),
        "TKL1AB2CD3",
    )
    assert db.session.get(type(approved), approved.id).status == "REFUND_COMPLETED"
    assert balance(A.RETURN_COSTS) == D("0.01")  # the platform bears the cent
    assert balance(A.REFUNDS_OWED) == 0
    assert_books_balance()


def test_daraja_refusing_leaves_the_refund_pending_and_the_same_transfer_is_sent_later(
    client, daraja, approved, finance, assert_books_balance
):
    daraja.post(fake.B2C_URL, status=500, json=fake.error_body())
    path = f"/api/admin/refunds/{approved.refund_id}/process"
    refused = client.post(path, json={}, headers=finance)
    assert (refused.status_code, refused.json["error"]["code"]) == (502, "PROVIDER_ERROR")
    assert db.session.get(Refund, approved.refund_id).status == "PENDING"
    (first,) = transfers()
    assert first.status == "PENDING"

    daraja.remove("POST", fake.B2C_URL)
    accepted = fake.accept_b2c(daraja)
    sent = client.post(path, json={}, headers=finance)
    assert sent.json["data"]["status"] == "PROCESSING"
    assert [t.id for t in transfers()] == [first.id]  # the same transfer, not a second one
    assert json.loads(accepted.calls[0].request.body)["OriginatorConversationID"] == (
        first.originator_conversation_id
    )
    assert_books_balance()


def test_a_timeout_is_unknown_and_a_failed_result_is_retried_with_a_new_transfer(
    client, daraja, approved, finance, assert_books_balance
):
    daraja.post(fake.B2C_URL, body=requests.ReadTimeout("slow"))
    path = f"/api/admin/refunds/{approved.refund_id}/process"
    unknown = client.post(path, json={}, headers=finance)
    assert unknown.status_code == 200 and unknown.json["data"]["status"] == "PROCESSING"
    (first,) = transfers()
    assert first.unknown
    client.post(path, json={}, headers=finance)
    assert len(daraja.calls) == 2  # the token and one B2C request: never sent twice

    failure = fake.b2c_failure(first.originator_conversation_id, "AG_20261202_00001")
    assert client.post("/api/payments/b2c/result", json=failure).status_code == 200
    refund = db.session.get(Refund, approved.refund_id)
    assert refund.status == "FAILED" and "initiator" in refund.failure_reason
    assert balance(A.REFUNDS_OWED) == D("-1499.99")  # still owed

    still_failed = client.post(path, json={}, headers=finance)
    assert still_failed.json["error"]["code"] == "REFUND_FAILED"
    daraja.remove("POST", fake.B2C_URL)
    fake.accept_b2c(daraja)
    retried = client.post(f"/api/admin/refunds/{approved.refund_id}/retry", headers=finance)
    assert retried.status_code == 200, retried.json
    assert (retried.json["data"]["status"], retried.json["data"]["attempts"]) == ("PROCESSING", 2)
    first_again, second = transfers()
    assert second.originator_conversation_id != first_again.originator_conversation_id
    result = fake.b2c_success(second.originator_conversation_id, second.conversation_id, 1500)
    client.post("/api/payments/b2c/result", json=result)
    assert db.session.get(Refund, approved.refund_id).status == "COMPLETED"
    assert_books_balance()


def test_a_cash_refund_goes_to_the_customers_phone_from_mpesa(
    client, daraja, customer, role_user, finance, assert_books_balance
):
    order = delivered_order(
        customer, [(ProductFactory(price=D("1000.50")), 2)], method=PaymentMethod.CASH
    )
    ret = request_return(order)
    review(role_user(UserRole.ADMIN), ret.id, "APPROVE", None)
    db.session.commit()
    sent = fake.accept_b2c(daraja)
    response = client.post(f"/api/admin/returns/{ret.id}/process-refund", json={}, headers=finance)
    assert response.status_code == 200, response.json
    body = json.loads(sent.calls[0].request.body)
    assert (body["Amount"], body["PartyB"]) == ("1001", customer.phone)
    (transfer,) = transfers()
    client.post(
        "/api/payments/b2c/result",
        json=fake.b2c_success(transfer.originator_conversation_id, transfer.conversation_id, 1001),
    )
    assert balance(A.MPESA_CLEARING) == D("-1001.00")  # it left M-Pesa
    assert balance(A.RETURN_COSTS) == D("0.50")
    assert_books_balance()


def test_under_ten_shillings_is_refunded_by_hand(client, customer, role_user, finance):
    order = delivered_order(customer, [(ProductFactory(price=D("5.00")), 1)])
    ret = request_return(order, reason="CHANGED_MIND")
    review(role_user(UserRole.ADMIN), ret.id, "APPROVE", None)
    db.session.commit()
    small = client.post(f"/api/admin/returns/{ret.id}/process-refund", json={}, headers=finance)
    assert (small.status_code, small.json["error"]["code"]) == (422, "REFUND_TOO_SMALL")
    assert transfers() == []


def test_a_failed_b2c_refund_may_be_recorded_paid_by_hand(
    client, daraja, approved, finance, assert_books_balance
):
    fake.accept_b2c(daraja)
    path = f"/api/admin/refunds/{approved.refund_id}/process"
    client.post(path, json={}, headers=finance)
    (transfer,) = transfers()
    failure = fake.b2c_failure(transfer.originator_conversation_id, transfer.conversation_id)
    client.post("/api/payments/b2c/result", json=failure)
    paid = client.post(path, json={"method": "MANUAL", "reference": "BANK-TRF-9"}, headers=finance)
    assert paid.status_code == 200, paid.json
    assert (paid.json["data"]["status"], paid.json["data"]["paid_amount"]) == ("COMPLETED", None)
    assert balance(A.RETURN_COSTS) == 0 and balance(A.REFUNDS_OWED) == 0
    assert_books_balance()
