"""Out for delivery, the customer's code, proof of delivery, failed attempts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.db import utcnow
from app.dispatch.models import AssignmentStatus, Delivery, DeliveryAssignment
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.operations import agent_balances, balance
from app.notifications.models import Notification, OutboxEmail
from app.orders.models import OrderStatus
from tests.dispatch.helpers import assigned_order, code_of, deliver, delivered_order, move

S = OrderStatus


def test_going_out_sends_the_customer_a_code_only_they_see(client, admin_headers, auth_headers):
    order, agent = assigned_order(client, admin_headers)
    agent_headers, customer_headers = auth_headers(agent), auth_headers(order.customer)
    assert code_of(client, order, customer_headers) is None  # not on its way yet

    response = move(client, agent_headers, order, "OUT_FOR_DELIVERY")

    assert response.status_code == 200, response.json
    assert response.json["data"]["status"] == "OUT_FOR_DELIVERY"
    code = code_of(client, order, customer_headers)
    assert code is not None and len(code) == 6 and code.isdigit()
    seen = client.get(f"/api/orders/{order.id}", headers=customer_headers).json["data"]
    assert seen["delivery_agent"]["id"] == agent.id and seen["delivery_agent"]["phone"]
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.template == "delivery_code"))
    assert email.to_address == order.customer.email and code in email.body_text
    note = db.session.scalar(select(Notification).where(Notification.event == "delivery-code"))
    assert note.user_id == order.customer_id and code not in note.body
    # every status change tells the customer
    assert db.session.scalar(
        select(OutboxEmail).where(
            OutboxEmail.template == "order_status", OutboxEmail.to_address == order.customer.email
        )
    )
    stored = db.session.scalar(select(Delivery).where(Delivery.order_id == order.id))
    assert stored.code_hash != code and len(stored.code_hash) == 64
    agent_view = client.get(f"/api/delivery/orders/{order.id}", headers=agent_headers).json["data"]
    assert "delivery_code" not in agent_view or agent_view["delivery_code"] is None
    admin_view = client.get(f"/api/orders/{order.id}", headers=admin_headers).json["data"]
    assert admin_view.get("delivery_code") is None


def test_delivering_with_the_code_moves_the_order_and_posts_the_delivery(
    client, admin_headers, auth_headers, assert_books_balance
):
    order, agent = assigned_order(client, admin_headers)
    agent_headers = auth_headers(agent)
    move(client, agent_headers, order, "OUT_FOR_DELIVERY")
    assert move(client, agent_headers, order, "ARRIVED").status_code == 200
    code = code_of(client, order, auth_headers(order.customer))

    response = deliver(
        client, order, agent_headers, code, photo_url="https://img.example/p.jpg", notes="Gate B"
    )

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["recipient_name"] == "Wanjiku Kamau" and data["photo_url"].endswith("p.jpg")
    assert data["confirmation"] == "PENDING" and data["delivered_at"]
    db.session.expire_all()
    assert order.status == S.DELIVERED and order.delivered_at is not None
    assignment = db.session.scalar(
        select(DeliveryAssignment).where(DeliveryAssignment.order_id == order.id)
    )
    assert assignment.status == AssignmentStatus.DELIVERED
    assert balance(A.DELIVERY_REVENUE) == -Decimal("75.00")
    assert agent_balances(agent.id).on_hold == Decimal("175.00")  # 0.70 of the fee
    assert balance(A.ORDERS_HELD) == 0
    assert_books_balance()


def test_wrong_codes_count_and_five_lock_the_code(client, admin_headers, auth_headers):
    order, agent = assigned_order(client, admin_headers)
    agent_headers = auth_headers(agent)
    move(client, agent_headers, order, "OUT_FOR_DELIVERY")
    code = code_of(client, order, auth_headers(order.customer))
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    for left in (4, 3, 2, 1, 0):
        r = deliver(client, order, agent_headers, wrong)
        assert r.status_code == 422 and r.json["error"]["code"] == "WRONG_DELIVERY_CODE"
        assert r.json["error"]["details"]["attempts_left"] == left
    locked = deliver(client, order, agent_headers, code)

    assert locked.status_code == 409 and locked.json["error"]["code"] == "CODE_LOCKED"
    db.session.expire_all()
    assert order.status == S.OUT_FOR_DELIVERY
    bad = client.post(
        f"/api/delivery/orders/{order.id}/confirm-delivery",
        json={"recipient_name": "W"},
        headers=admin_headers,
    )
    assert bad.status_code == 400 and "notes" in bad.json["error"]["details"]
    by_admin = client.post(
        f"/api/delivery/orders/{order.id}/confirm-delivery",
        json={"recipient_name": "Wanjiku", "notes": "Customer confirmed by phone"},
        headers=admin_headers,
    )
    assert by_admin.status_code == 200, by_admin.json
    db.session.expire_all()
    assert order.status == S.DELIVERED


def test_agent_moves_follow_the_table(client, admin_headers, auth_headers):
    order, agent = assigned_order(client, admin_headers)
    headers = auth_headers(agent)

    assert move(client, headers, order, "ARRIVED").status_code == 409  # not out yet
    assert move(client, headers, order, "DELIVERED").status_code == 400  # only with the code
    no_code = client.post(
        f"/api/delivery/orders/{order.id}/confirm-delivery",
        json={"recipient_name": "W"},
        headers=headers,
    )
    assert no_code.status_code == 409  # not out for delivery yet
    assert move(client, headers, order, "OUT_FOR_DELIVERY").status_code == 200
    missing_note = move(client, headers, order, "FAILED_ATTEMPT")
    assert missing_note.status_code == 400 and "note" in missing_note.json["error"]["details"]

    failed = move(client, headers, order, "FAILED_ATTEMPT", note="Nobody home")

    assert failed.status_code == 200, failed.json
    assert failed.json["data"]["status"] == "SHIPPED"
    assert failed.json["data"]["delivery"]["failed_attempts"] == 1
    assert "Nobody home" in failed.json["data"]["history"][-1]["note"]
    # out again: the same code still works
    assert move(client, headers, order, "OUT_FOR_DELIVERY").status_code == 200
    code = code_of(client, order, auth_headers(order.customer))
    assert deliver(client, order, headers, code).status_code == 200
    # and through the orders endpoint an agent cannot set DELIVERED either
    other, _ = assigned_order(client, admin_headers, agent=agent)
    r = client.put(f"/api/orders/{other.id}/status", json={"status": "DELIVERED"}, headers=headers)
    assert r.status_code == 403


def test_the_agent_loses_the_phone_a_day_after_delivery(client, admin_headers, auth_headers):
    order, agent = delivered_order(client, admin_headers, auth_headers)
    headers = auth_headers(agent)
    assert client.get(f"/api/delivery/orders/{order.id}", headers=headers).json["data"][
        "recipient_phone"
    ]

    order.delivered_at = utcnow() - timedelta(hours=25)
    db.session.commit()

    detail = client.get(f"/api/delivery/orders/{order.id}", headers=headers).json["data"]
    assert "recipient_phone" not in detail
    assert detail["recipient_name"] == "Wanjiku Kamau"
    assert (
        "recipient_phone" not in client.get(f"/api/orders/{order.id}", headers=headers).json["data"]
    )
