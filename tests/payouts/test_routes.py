"""The payout endpoints as clients see them."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from app.auth.models import UserRole
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.operations import balance, supplier_balances
from app.payouts.models import Payout
from tests import daraja as fake
from tests.concurrency import run_together
from tests.factories.payouts import earn, paying_supplier

PAY = "/api/payments/supplier/payout"


def payouts() -> int:
    return db.session.scalar(select(func.count(Payout.id)))


@pytest.fixture
def finance(role_user, auth_headers):
    return auth_headers(role_user(UserRole.FINANCE_ADMIN))


def test_finance_pays_a_supplier_with_the_simulator(client, finance, assert_books_balance):
    supplier = paying_supplier()
    earn(supplier.id, "1200.40")
    response = client.post(
        PAY, json={"supplier_id": supplier.id, "amount": "1000"}, headers=finance
    )
    assert response.status_code == 201, response.json
    payout = response.json["data"]
    assert (payout["amount"], payout["currency"], payout["status"]) == (
        "1000.00",
        "KES",
        "COMPLETED",  # the simulator's result came back at once (tests: no delay)
    )
    assert payout["receipt"] and payout["originator_conversation_id"].startswith("QG-PAYOUT-")
    assert supplier_balances(supplier.id).available == Decimal("200.40")
    assert assert_books_balance().paid_out == Decimal("1000.00")


@pytest.mark.parametrize("amount", ["10.50", "9", "0", "-100", "abc", "1e3x", 12.345, True])
def test_bad_amounts_are_400_and_write_nothing(client, finance, amount):
    supplier = paying_supplier()
    earn(supplier.id, "500.00")
    response = client.post(
        PAY, json={"supplier_id": supplier.id, "amount": amount}, headers=finance
    )
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert payouts() == 0


@pytest.mark.parametrize(
    ("change", "amount", "code"),
    [
        ({"mpesa_payout_number": None}, None, "PAYOUT_NUMBER_MISSING"),
        ({"terms_accepted_at": None}, None, "TERMS_NOT_ACCEPTED"),
        ({}, "500.01", "VALIDATION_ERROR"),
        ({}, "501", "INSUFFICIENT_BALANCE"),
    ],
)
def test_what_cannot_be_paid_is_refused(client, finance, change, amount, code):
    supplier = paying_supplier(**change)
    earn(supplier.id, "500.00")
    body = {"supplier_id": supplier.id} | ({"amount": amount} if amount else {})
    response = client.post(PAY, json=body, headers=finance)
    assert response.json["error"]["code"] == code
    assert response.status_code == (400 if code == "VALIDATION_ERROR" else 422)
    assert payouts() == 0


def test_only_finance_and_admins_pay(
    client, auth_headers, admin_headers, supplier_headers, customer_headers
):
    supplier = paying_supplier()
    earn(supplier.id, "500.00")
    body = {"supplier_id": supplier.id}
    assert client.post(PAY, json=body, headers=supplier_headers).status_code == 403
    assert client.post(PAY, json=body, headers=customer_headers).status_code == 403
    assert client.post(PAY, json={"supplier_id": 999999}, headers=admin_headers).status_code == 404
    assert client.post(PAY, json=body, headers=admin_headers).status_code == 201


def test_an_idempotent_request_pays_once(client, finance):
    supplier = paying_supplier()
    earn(supplier.id, "500.00")
    headers = finance | {"Idempotency-Key": "pay-1"}
    first = client.post(PAY, json={"supplier_id": supplier.id}, headers=headers)
    second = client.post(PAY, json={"supplier_id": supplier.id}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert payouts() == 1


def test_daraja_down_leaves_the_payout_pending_and_the_money_available(
    client, finance, daraja, assert_books_balance
):
    daraja.post(fake.B2C_URL, body=requests.ConnectionError("down"))
    supplier = paying_supplier()
    earn(supplier.id, "500.00")
    response = client.post(PAY, json={"supplier_id": supplier.id}, headers=finance)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "PROVIDER_ERROR"
    payout_id = response.json["error"]["details"]["payout_id"]
    assert db.session.get(Payout, payout_id).status == "PENDING"
    assert supplier_balances(supplier.id).available == Decimal("500.00")
    again = client.post(PAY, json={"supplier_id": supplier.id}, headers=finance)
    assert again.status_code == 409 and again.json["error"]["code"] == "PAYOUT_IN_PROGRESS"

    daraja.remove("POST", fake.B2C_URL)
    sent = fake.accept_b2c(daraja)
    resend = client.post(f"/api/admin/payouts/{payout_id}/mpesa", headers=finance)
    assert resend.status_code == 200, resend.json
    assert resend.json["data"]["status"] == "PROCESSING"
    assert len(sent.calls) == 1
    assert supplier_balances(supplier.id).in_flight == Decimal("500.00")
    assert_books_balance()


def test_cancel_and_record_by_hand(client, finance, daraja, assert_books_balance):
    daraja.post(fake.B2C_URL, status=500, json=fake.error_body())
    supplier = paying_supplier()
    earn(supplier.id, "800.00")
    payout_id = client.post(
        PAY, json={"supplier_id": supplier.id, "amount": "300"}, headers=finance
    ).json["error"]["details"]["payout_id"]
    cancelled = client.post(f"/api/admin/payouts/{payout_id}/cancel", headers=finance)
    assert cancelled.status_code == 200 and cancelled.json["data"]["status"] == "CANCELLED"
    assert client.post(f"/api/admin/payouts/{payout_id}/cancel", headers=finance).status_code == 409

    second = client.post(PAY, json={"supplier_id": supplier.id, "amount": "500"}, headers=finance)
    second_id = second.json["error"]["details"]["payout_id"]
    bad = client.put(
        f"/api/admin/payouts/{second_id}/process",
        json={"method": "MPESA", "reference": "x1"},
        headers=finance,
    )
    assert bad.status_code == 400
    done = client.put(
        f"/api/admin/payouts/{second_id}/process",
        json={"method": "BANK_TRANSFER", "reference": "EQ-778812"},
        headers=finance,
    )
    assert done.status_code == 200, done.json
    assert (done.json["data"]["status"], done.json["data"]["reference"]) == (
        "COMPLETED",
        "EQ-778812",
    )
    assert balance(A.BANK_CLEARING) == Decimal("-500.00")
    assert supplier_balances(supplier.id).paid_out_total == Decimal("500.00")
    assert client.post(f"/api/admin/payouts/{second_id}/cancel", headers=finance).status_code == 409
    assert_books_balance()


def test_suppliers_see_only_their_payouts(client, auth_headers, finance):
    mine, theirs = paying_supplier(), paying_supplier()
    for supplier in (mine, theirs):
        earn(supplier.id, "500.00")
        client.post(PAY, json={"supplier_id": supplier.id}, headers=finance)
    listed = client.get("/api/supplier/payouts", headers=auth_headers(mine.user)).json
    assert [p["supplier_id"] for p in listed["data"]] == [mine.id]
    assert listed["meta"]["total"] == 1
    admin_list = client.get(
        "/api/admin/payouts", query_string={"status": "COMPLETED"}, headers=finance
    )
    assert admin_list.json["meta"]["total"] == 2
    assert (
        client.get(
            "/api/admin/payouts", query_string={"status": "NOPE"}, headers=finance
        ).status_code
        == 400
    )


def test_pay_now_and_the_pending_payments_screen(client, finance):
    owed, paid_up = paying_supplier(), paying_supplier()
    earn(owed.id, "750.50")
    screen = client.get("/api/delivery/admin/suppliers/pending-payments", headers=finance)
    assert screen.status_code == 200
    assert [(r["supplier_id"], r["available"], r["payable"]) for r in screen.json["data"]] == [
        (owed.id, "750.50", "750.00")
    ]
    paid = client.post(f"/api/delivery/admin/suppliers/{owed.id}/pay-now", headers=finance)
    assert paid.status_code == 201 and paid.json["data"]["amount"] == "750.00"
    nothing = client.post(f"/api/delivery/admin/suppliers/{paid_up.id}/pay-now", headers=finance)
    assert nothing.status_code == 422 and nothing.json["error"]["code"] == "INSUFFICIENT_BALANCE"


def test_batch_send_answers_per_id(client, finance, daraja):
    daraja.post(fake.B2C_URL, status=500, json=fake.error_body())
    a, b = paying_supplier(), paying_supplier()
    ids = []
    for supplier in (a, b):
        earn(supplier.id, "300.00")
        ids.append(
            client.post(PAY, json={"supplier_id": supplier.id}, headers=finance).json["error"][
                "details"
            ]["payout_id"]
        )
    client.post(f"/api/admin/payouts/{ids[1]}/cancel", headers=finance)
    daraja.remove("POST", fake.B2C_URL)
    fake.accept_b2c(daraja)
    response = client.post(
        "/api/admin/payouts/batch-mpesa", json={"ids": [*ids, 999999]}, headers=finance
    )
    assert response.status_code == 200
    results = response.json["data"]
    assert [(r["payout_id"], r["ok"], r["status"]) for r in results] == [
        (ids[0], True, "PROCESSING"),
        (ids[1], False, "CANCELLED"),
        (999999, False, None),
    ]
    assert results[2]["error"]["code"] == "NOT_FOUND"


def test_generate_runs_the_period_once(client, finance):
    supplier = paying_supplier()
    earn(supplier.id, "300.00")
    first = client.post("/api/admin/payouts/generate", headers=finance).json["data"]
    second = client.post("/api/admin/payouts/generate", headers=finance).json["data"]
    assert (first["payouts"], second["payouts"]) == (1, 0)


def test_the_supplier_sees_what_the_next_run_pays(client, auth_headers):
    supplier = paying_supplier(mpesa_payout_number=None)
    earn(supplier.id, "99.99")
    pending = client.get("/api/supplier/payouts/pending", headers=auth_headers(supplier.user)).json[
        "data"
    ]
    assert pending["eligible"] is False
    assert set(pending["blocked_by"]) == {"PAYOUT_NUMBER_MISSING", "BELOW_MINIMUM"}
    assert (pending["available"], pending["amount"], pending["min_amount"]) == (
        "99.99",
        "0.00",
        "100.00",
    )
    assert pending["next_run_at"].endswith("Z")


@pytest.mark.postgres
def test_two_admins_paying_one_supplier_send_one_request(app, finance, daraja):
    sent = fake.accept_b2c(daraja)
    supplier = paying_supplier()
    earn(supplier.id, "500.00")
    body = {"supplier_id": supplier.id}

    def pay(client):
        return client.post(PAY, json=body, headers=finance).status_code

    codes = run_together(app, [pay, pay, pay])
    assert sorted(codes) == [201, 409, 409]
    assert len(sent.calls) == 1
    assert payouts() == 1
