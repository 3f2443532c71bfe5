"""Order events (``app/signals.py``): sent once, by the operation that makes the change,
inside its transaction."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.errors import Conflict
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderStatus, PaymentStatus
from app.orders.state import change_payment_status, change_status
from app.signals import (
    order_cancelled,
    order_delivered,
    order_paid,
    order_payment_status_changed,
    order_placed,
    order_status_changed,
)
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory

ORDER_SIGNALS = (
    order_placed,
    order_status_changed,
    order_payment_status_changed,
    order_paid,
    order_cancelled,
    order_delivered,
)


@pytest.fixture
def events():
    """Every order event sent during the test: (name, order id, status then, kwargs)."""
    sent: list[tuple[str, int, OrderStatus, dict]] = []
    with ExitStack() as stack:
        for signal in ORDER_SIGNALS:

            def record(order, _name=signal.name, **kwargs):
                sent.append((_name, order.id, order.status, kwargs))

            stack.enter_context(signal.connected_to(record))
        yield sent


def named(events, name):
    return [event for event in events if event[0] == name]


def fresh(db, order):
    db.session.expire_all()
    return db.session.get(Order, order.id)


def test_checkout_sends_order_placed(checkout, fill_cart, customer, events):
    fill_cart((ProductFactory(stock=3), 1))
    response = checkout("MPESA")
    assert response.status_code == 201
    [(_, order_id, status, kwargs)] = named(events, "order-placed")
    assert (order_id, status, kwargs) == (
        response.json["data"]["id"],
        "PENDING",
        {"actor_id": customer.id},
    )


def test_every_status_change_is_sent_and_delivered_once(client, admin, admin_headers, events):
    order = OrderFactory(paid=True, items=[(ProductFactory(), 1)])
    path = ["PROCESSING", "QUALITY_APPROVED", "SHIPPED", "OUT_FOR_DELIVERY", "ARRIVED", "DELIVERED"]
    for status in path:
        body = {"status": status, "note": f"to {status}"}
        assert (
            client.put(
                f"/api/orders/{order.id}/status", json=body, headers=admin_headers
            ).status_code
            == 200
        )

    changes = [
        (e[3]["old"], e[3]["new"], e[3]["actor_id"], e[3]["note"])
        for e in named(events, "order-status-changed")
    ]
    assert changes == [
        (old, new, admin.id, f"to {new}") for old, new in zip(["PAID", *path], path, strict=False)
    ]
    assert named(events, "order-delivered") == [
        ("order-delivered", order.id, "DELIVERED", {"actor_id": admin.id})
    ]
    assert named(events, "order-paid") == []


def test_cancelling_sends_order_cancelled_with_was_paid(client, customer, customer_headers, events):
    unpaid = OrderFactory(customer=customer, items=[(ProductFactory(), 1)])
    paid = OrderFactory(customer=customer, paid=True, items=[(ProductFactory(), 1)])
    PaymentFactory(order=paid, completed=True)
    for order in (unpaid, paid):
        response = client.post(
            f"/api/orders/{order.id}/cancel",
            json={"reason": "No longer needed"},
            headers=customer_headers,
        )
        assert response.status_code == 200

    assert [(e[1], e[3]) for e in named(events, "order-cancelled")] == [
        (unpaid.id, {"actor_id": customer.id, "reason": "No longer needed", "was_paid": False}),
        (paid.id, {"actor_id": customer.id, "reason": "No longer needed", "was_paid": True}),
    ]


def test_order_paid_once_when_a_finance_admin_records_the_payment(
    client, role_user, auth_headers, events
):
    finance = role_user(UserRole.FINANCE_ADMIN)
    order = OrderFactory(items=[(ProductFactory(), 1)])
    url = f"/api/orders/{order.id}/payment"
    assert (
        client.put(
            url, json={"payment_status": "COMPLETED"}, headers=auth_headers(finance)
        ).status_code
        == 200
    )

    # Sent once the order is PAID, though its payment status moved first.
    assert named(events, "order-paid") == [
        ("order-paid", order.id, "PAID", {"actor_id": finance.id, "via": "ADMIN"})
    ]
    [payment_change] = named(events, "order-payment-status-changed")
    assert (payment_change[3]["old"], payment_change[3]["new"]) == ("PENDING", "COMPLETED")


def test_order_paid_once_when_an_mpesa_payment_settles(client, customer, customer_headers, events):
    order = OrderFactory(customer=customer, items=[(ProductFactory(), 1)])
    response = client.post(
        "/api/payments/mpesa/initiate",
        json={"order_id": order.id, "phone": "0712345678"},
        headers=customer_headers,
    )
    assert response.status_code == 201
    assert named(events, "order-paid") == [
        ("order-paid", order.id, "PAID", {"actor_id": None, "via": "MPESA"})
    ]


def test_order_paid_once_when_cash_is_collected(client, admin, admin_headers, events):
    order = OrderFactory(cash=True, items=[(ProductFactory(), 1)])
    body = {"order_id": order.id, "amount": str(order.total)}
    for _ in range(2):
        assert (
            client.post("/api/payments/cash/confirm", json=body, headers=admin_headers).status_code
            == 200
        )
    assert named(events, "order-paid") == [
        ("order-paid", order.id, "PENDING", {"actor_id": admin.id, "via": "CASH"})
    ]


def test_money_reaching_a_cancelled_order_does_not_pay_it(db, events):
    order = OrderFactory(items=[(ProductFactory(), 1)])
    change_status(order, OrderStatus.CANCELLED, note="expired")
    change_payment_status(order, PaymentStatus.COMPLETED, note="late payment; refund due")
    assert named(events, "order-paid") == []
    assert len(named(events, "order-payment-status-changed")) == 1


def test_a_failing_receiver_fails_the_change(client, admin_headers, db):
    order = OrderFactory(paid=True, items=[(ProductFactory(), 1)])

    def refuse(order, **kwargs):
        raise Conflict("A receiver refused", code="REFUSED")

    with order_status_changed.connected_to(refuse):
        response = client.put(
            f"/api/orders/{order.id}/status", json={"status": "PROCESSING"}, headers=admin_headers
        )

    assert response.status_code == 409
    assert response.json["error"]["code"] == "REFUSED"
    order = fresh(db, order)
    assert order.status == OrderStatus.PAID
    assert [h.to_status for h in order.history] == []
    assert db.session.scalars(select(OutboxEmail)).all() == []


def test_status_emails_follow_the_events(client, role_user, auth_headers, customer, db):
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    order = OrderFactory(customer=customer, items=[(ProductFactory(), 1)])
    client.put(
        f"/api/orders/{order.id}/payment", json={"payment_status": "COMPLETED"}, headers=finance
    )
    client.post(
        f"/api/orders/{order.id}/cancel",
        json={},
        headers=auth_headers(customer),
    )
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [(e.to_address, e.subject) for e in emails] == [
        (customer.email, f"Order {order.order_number}: Paid"),
        (customer.email, f"Order {order.order_number}: Cancelled"),
    ]
    assert "will be refunded" in emails[1].body_text
