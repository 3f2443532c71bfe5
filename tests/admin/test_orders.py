"""Orders in the back office: every filter, a constant number of statements per page,
and bulk status changes through the one state machine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.common.models import AuditLog
from app.db import utcnow
from app.orders.models import Order, OrderStatus, PaymentStatus
from tests.admin.statements import count_statements
from tests.factories.auth import DeliveryAgentProfileFactory, UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory, OrderFactory


@pytest.fixture
def support_headers(role_user, auth_headers):
    return auth_headers(role_user(UserRole.SUPPORT_ADMIN))


def order_ids(client, headers, **query) -> list[int]:
    response = client.get("/api/admin/orders", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return [order["id"] for order in response.json["data"]]


def test_every_filter(client, db, role_user, auth_headers):
    headers = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    agent = DeliveryAgentProfileFactory().user
    mombasa = DeliveryZoneFactory(counties="Mombasa")
    product = ProductFactory()
    wanjiku = UserFactory(first_name="Wanjiku", email="wanjiku@example.co.ke")
    cash = OrderFactory(cash=True, customer=wanjiku, delivery_zone=mombasa)
    paid = OrderFactory(paid=True, items=[(product, 1)], delivery_agent_id=agent.id)
    old = OrderFactory(card=True)
    old.created_at = utcnow() - timedelta(days=40)
    db.session.commit()

    assert order_ids(client, headers, status="PAID") == [paid.id]
    assert order_ids(client, headers, payment_status="COMPLETED") == [paid.id]
    assert order_ids(client, headers, payment_method="CASH") == [cash.id]
    assert order_ids(client, headers, supplier_id=product.supplier_id) == [paid.id]
    assert order_ids(client, headers, agent_id=agent.id) == [paid.id]
    assert order_ids(client, headers, county="Mombasa") == [cash.id]
    since = (utcnow() - timedelta(days=1)).isoformat()
    assert old.id not in order_ids(client, headers, **{"from": since})
    until = (utcnow() - timedelta(days=30)).isoformat()
    assert order_ids(client, headers, to=until) == [old.id]
    assert order_ids(client, headers, q="wanjiku") == [cash.id]
    assert order_ids(client, headers, q=paid.order_number) == [paid.id]
    assert len(order_ids(client, headers)) == 3
    inverted = client.get(
        "/api/admin/orders", query_string={"from": since, "to": until}, headers=headers
    )
    assert inverted.status_code == 400
    for bad in ("status=LOST", "supplier_id=0", "agent_id=x", "payment_method=BARTER"):
        assert client.get(f"/api/admin/orders?{bad}", headers=headers).status_code == 400, bad


def test_a_page_costs_the_same_statements_for_2_or_12_orders(client, admin_headers):
    def page():
        assert client.get("/api/admin/orders?per_page=50", headers=admin_headers).status_code == 200

    for _ in range(2):
        OrderFactory(items=[(ProductFactory(), 2)])
    few = count_statements(page)
    for _ in range(10):
        OrderFactory(items=[(ProductFactory(), 1), (ProductFactory(), 1)])
    assert count_statements(page) == few


def test_bulk_update_goes_through_the_state_machine(client, db, admin, admin_headers):
    ready = OrderFactory(processing=True)
    unpaid = OrderFactory()  # M-Pesa, PENDING: cannot skip payment
    response = client.post(
        "/api/admin/orders/bulk-update",
        json={"ids": [ready.id, unpaid.id, 999999], "status": "QUALITY_APPROVED"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.json
    results = {result["id"]: result for result in response.json["data"]["results"]}
    assert results[ready.id]["result"] == "updated"
    assert results[unpaid.id]["error"]["code"] == "INVALID_TRANSITION"
    assert results[999999]["error"]["code"] == "NOT_FOUND"
    db.session.expire_all()
    assert db.session.get(Order, ready.id).status == OrderStatus.QUALITY_APPROVED
    assert db.session.get(Order, unpaid.id).status == OrderStatus.PENDING
    history = db.session.get(Order, ready.id).history[-1]
    assert (history.from_status, history.to_status, history.changed_by_id) == (
        "PROCESSING",
        "QUALITY_APPROVED",
        admin.id,
    )
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "order.status_changed"))
    assert entry.details["before"] == {"status": "PROCESSING"}


def test_support_admins_only_cancel_and_stock_returns(client, db, support_headers):
    product = ProductFactory(stock=5)
    paid = OrderFactory(paid=True, items=[(product, 2)])
    processing = OrderFactory(processing=True)
    moved = client.post(
        "/api/admin/orders/bulk-update",
        json={"ids": [processing.id], "status": "QUALITY_APPROVED"},
        headers=support_headers,
    )
    assert moved.json["data"]["results"][0]["error"]["code"] == "FORBIDDEN"
    no_reason = client.post(
        "/api/admin/orders/bulk-update",
        json={"ids": [paid.id], "status": "CANCELLED"},
        headers=support_headers,
    )
    assert no_reason.status_code == 400 and "note" in no_reason.json["error"]["details"]
    cancelled = client.post(
        "/api/admin/orders/bulk-update",
        json={"ids": [paid.id], "status": "CANCELLED", "note": "Customer called to cancel"},
        headers=support_headers,
    )
    assert cancelled.json["data"]["succeeded"] == 1
    db.session.expire_all()
    order = db.session.get(Order, paid.id)
    assert order.status == OrderStatus.CANCELLED and order.payment_status == PaymentStatus.COMPLETED
    assert order.cancellation_reason == "Customer called to cancel"
    assert db.session.get(type(product), product.id).stock == 7
    assert db.session.get(Order, processing.id).status == OrderStatus.PROCESSING


def test_support_admins_keep_internal_notes_on_an_order(
    client, db, role_user, auth_headers, support_headers
):
    order = OrderFactory(paid=True)
    path = f"/api/admin/orders/{order.id}/notes"

    first = client.post(
        path, json={"body": "Customer asked to deliver after 5pm"}, headers=support_headers
    )
    second = client.post(path, json={"body": "  Rider confirmed  "}, headers=support_headers)

    assert first.status_code == 201, first.json
    assert second.json["data"]["body"] == "Rider confirmed"
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    listed = client.get(path, headers=finance)  # finance reads orders, notes included
    assert [note["body"] for note in listed.json["data"]] == [
        "Rider confirmed",
        "Customer asked to deliver after 5pm",
    ]
    assert listed.json["data"][0]["author_name"]
    refused = client.post(path, json={"body": "x"}, headers=finance)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "FORBIDDEN"
    blank = client.post(path, json={"body": "   "}, headers=support_headers)
    assert blank.status_code == 400 and "body" in blank.json["error"]["details"]
    missing = client.post(
        "/api/admin/orders/999999/notes", json={"body": "x"}, headers=support_headers
    )
    assert missing.status_code == 404
    audited = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "order.note_added")
    ).all()
    assert len(audited) == 2 and {entry.target_id for entry in audited} == {str(order.id)}
    customer = auth_headers(order.customer)
    shown = client.get(f"/api/orders/{order.id}", headers=customer).get_data(as_text=True)
    assert "Rider confirmed" not in shown  # internal: never shown to the customer
