"""Cash on delivery, payment status, payment methods and refunds due."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth.models import UserRole
from app.extensions import db
from app.orders.models import Order, OrderStatus, PaymentStatus
from app.payments.models import Payment, Refund
from app.payments.refunds import record_refund_due
from tests.factories.auth import UserFactory
from tests.factories.payments import PaymentFactory

CONFIRM = "/api/payments/cash/confirm"


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def finance_headers(role_user, auth_headers):
    return auth_headers(role_user(UserRole.FINANCE_ADMIN))


def test_finance_admin_confirms_cash_once(client, finance_headers, cash_order):
    first = client.post(
        CONFIRM, json={"order_id": cash_order.id, "amount": "1500.00"}, headers=finance_headers
    )
    again = client.post(
        CONFIRM, json={"order_id": cash_order.id, "amount": 1500}, headers=finance_headers
    )
    assert first.status_code == again.status_code == 200
    assert first.json["data"]["id"] == again.json["data"]["id"]
    assert first.json["data"]["status"] == "COMPLETED" and first.json["data"]["provider"] == "CASH"
    order = fresh(Order, cash_order.id)
    assert (order.status, order.payment_status, order.paid_at is not None) == (
        OrderStatus.PENDING,
        PaymentStatus.COMPLETED,
        True,
    )
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_admin_may_confirm_but_customers_may_not(
    client, admin_headers, customer_headers, cash_order
):
    assert (
        client.post(
            CONFIRM, json={"order_id": cash_order.id, "amount": "1500"}, headers=customer_headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            CONFIRM, json={"order_id": cash_order.id, "amount": "1500"}, headers=admin_headers
        ).status_code
        == 200
    )


def test_cash_amount_must_equal_the_total(client, finance_headers, cash_order):
    response = client.post(
        CONFIRM, json={"order_id": cash_order.id, "amount": "1499.99"}, headers=finance_headers
    )
    assert (response.status_code, response.json["error"]["code"]) == (422, "AMOUNT_MISMATCH")
    assert response.json["error"]["details"] == {"expected": "1500.00", "received": "1499.99"}


def test_cash_confirm_refuses_other_methods_and_cancelled_orders(
    client, finance_headers, order, cash_order
):
    other = client.post(
        CONFIRM, json={"order_id": order.id, "amount": "1499.50"}, headers=finance_headers
    )
    assert (other.status_code, other.json["error"]["code"]) == (409, "NOT_A_CASH_ORDER")
    cash_order.status = OrderStatus.CANCELLED
    db.session.commit()
    cancelled = client.post(
        CONFIRM, json={"order_id": cash_order.id, "amount": "1500"}, headers=finance_headers
    )
    assert (cancelled.status_code, cancelled.json["error"]["code"]) == (409, "ORDER_NOT_PAYABLE")


def test_status_is_for_the_owner_and_admins(
    client, customer_headers, admin_headers, auth_headers, order
):
    PaymentFactory(order=order)
    mine = client.get(f"/api/payments/status/{order.id}", headers=customer_headers)
    assert mine.status_code == 200
    data = mine.json["data"]
    assert (data["order_id"], data["payment_status"], data["payment_method"], data["total"]) == (
        order.id,
        "PENDING",
        "MPESA",
        "1499.50",
    )
    [payment] = data["payments"]
    assert set(payment) >= {
        "provider",
        "reference",
        "status",
        "amount",
        "receipt",
        "failure_reason",
        "created_at",
    }
    assert payment["created_at"].endswith("Z")
    assert client.get(f"/api/payments/status/{order.id}", headers=admin_headers).status_code == 200
    assert (
        client.get(
            f"/api/payments/status/{order.id}", headers=auth_headers(UserFactory())
        ).status_code
        == 404
    )
    assert client.get("/api/payments/status/999999", headers=customer_headers).status_code == 404
    assert client.get(f"/api/payments/status/{order.id}").status_code == 401


def test_methods_are_public_and_say_what_is_enabled(client):
    response = client.get("/api/payments/methods")
    assert response.status_code == 200
    methods = {m["code"]: m for m in response.json["data"]}
    assert set(methods) == {"MPESA", "CARD", "CASH"}
    assert methods["MPESA"]["enabled"] and methods["MPESA"]["simulated"]
    assert methods["CASH"]["max_total"] == "50000.00"


def test_record_refund_due_is_once_per_order_and_cause(order):
    payment = PaymentFactory(order=order, completed=True)
    first = record_refund_due(order, reason="Customer cancelled", requested_by_id=None)
    again = record_refund_due(order, reason="Customer cancelled again")
    db.session.commit()
    assert first.id == again.id
    assert (first.amount, first.status, first.cause, first.payment_id) == (
        Decimal("1500.00"),
        "PENDING",
        "ORDER_CANCELLED",
        payment.id,
    )
    assert db.session.scalar(select(func.count(Refund.id))) == 1


def test_record_refund_due_without_a_payment_is_none(order):
    PaymentFactory(order=order)  # pending, not paid
    assert record_refund_due(order, reason="Cancelled") is None
