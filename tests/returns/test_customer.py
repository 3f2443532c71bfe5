"""The customer's side: asking for a return, every refusal, following and cancelling it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import UserRole
from app.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.orders.models import PaymentMethod
from app.returns.models import ReturnRequest
from tests.factories.auth import UserFactory
from tests.factories.orders import OrderFactory
from tests.factories.returns import delivered_order
from tests.returns.conftest import IMAGE


def body(order, item=None, **overrides):
    item = item or order.items[0]
    return {
        "order_id": order.id,
        "order_item_id": item.id,
        "quantity": 1,
        "reason": "WRONG_ITEM",
        "description": "Sent the blue one",
        "images": [IMAGE],
    } | overrides


def test_a_customer_asks_for_a_return_and_sees_the_refund_before_anyone_decides(
    client, order, customer_headers, supplier, supplier_headers
):
    response = client.post(
        "/api/returns", json=body(order), headers=customer_headers | {"Idempotency-Key": "r-1"}
    )
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data["status"] == "REQUESTED" and data["type"] == "RETURN"
    assert data["refund_amount"] == "1499.99"
    assert "supplier_deduction" not in data and "commission_refund" not in data
    seen_by_supplier = client.get(
        f"/api/supplier/returns/{data['id']}", headers=supplier_headers
    ).json["data"]
    assert seen_by_supplier["supplier_deduction"] == "1349.99"  # less the 10 % commission
    assert data["order_number"] == order.order_number
    assert [(e["from_status"], e["to_status"]) for e in data["timeline"]] == [(None, "REQUESTED")]
    assert data["supplier_respond_by"]
    replay = client.post(
        "/api/returns", json=body(order), headers=customer_headers | {"Idempotency-Key": "r-1"}
    )
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert db.session.scalar(select(func.count(ReturnRequest.id))) == 1
    told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {order.customer_id, supplier.id}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "DEFECTIVE", "images": []}, "images"),
        ({"reason": "DAMAGED_IN_TRANSIT", "images": []}, "images"),
        ({"images": ["http://example.com/a.jpg"]}, "images"),
        ({"images": ["javascript:alert(1)"]}, "images"),
        ({"images": [IMAGE] * 9}, "images"),
        ({"images": ["https://cdn.example.com/" + "a" * 500]}, "images"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "1"}, "quantity"),
        ({"reason": "BORED"}, "reason"),
    ],
)
def test_malformed_requests_are_400_and_write_nothing(
    client, order, customer_headers, overrides, field
):
    response = client.post("/api/returns", json=body(order, **overrides), headers=customer_headers)
    assert response.status_code == 400, response.json
    assert field in response.json["error"]["details"]
    assert db.session.scalar(select(func.count(ReturnRequest.id))) == 0


def test_someone_elses_order_or_an_item_of_another_order_is_404(client, order, shop, auth_headers):
    stranger = auth_headers(UserFactory(role=UserRole.CUSTOMER))
    assert client.post("/api/returns", json=body(order), headers=stranger).status_code == 404
    other = delivered_order(UserFactory(role=UserRole.CUSTOMER), [(shop["phone"], 1)])
    mixed = body(order, item=other.items[0])
    owner = auth_headers(order.customer)
    assert client.post("/api/returns", json=mixed, headers=owner).status_code == 404


def test_only_a_delivered_order_within_the_window_and_the_quantity_left(
    client, customer, shop, customer_headers
):
    pending = OrderFactory(customer=customer, items=[(shop["phone"], 1)])
    refused = client.post("/api/returns", json=body(pending), headers=customer_headers)
    assert (refused.status_code, refused.json["error"]["code"]) == (422, "ORDER_NOT_DELIVERED")

    late = delivered_order(customer, [(shop["phone"], 2)], days_ago=8)
    refused = client.post("/api/returns", json=body(late), headers=customer_headers)
    assert (refused.status_code, refused.json["error"]["code"]) == (422, "RETURN_WINDOW_CLOSED")

    fresh = delivered_order(customer, [(shop["phone"], 2)])
    first = client.post("/api/returns", json=body(fresh), headers=customer_headers)
    assert first.status_code == 201
    too_many = client.post("/api/returns", json=body(fresh, quantity=2), headers=customer_headers)
    assert (too_many.status_code, too_many.json["error"]["code"]) == (
        422,
        "RETURN_QUANTITY_EXCEEDED",
    )
    assert too_many.json["error"]["details"]["available"] == 1


def test_after_the_window_a_defect_is_a_warranty_claim_while_the_warranty_runs(
    client, customer, shop, customer_headers
):
    late = delivered_order(customer, [(shop["phone"], 1)], days_ago=30)
    item = late.items[0]
    assert item.warranty_months == 12
    expires = item.warranty_expires_at
    assert (
        late.delivered_at + timedelta(days=364) < expires < late.delivered_at + timedelta(days=367)
    )
    shown = client.get(f"/api/orders/{late.id}", headers=customer_headers).json["data"]
    assert shown["items"][0]["warranty_expires_at"]

    claim = client.post(
        "/api/returns", json=body(late, reason="DEFECTIVE"), headers=customer_headers
    )
    assert claim.status_code == 201, claim.json
    assert claim.json["data"]["type"] == "WARRANTY"

    item.warranty_expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    expired = client.post(
        "/api/returns", json=body(late, reason="DEFECTIVE"), headers=customer_headers
    )
    assert expired.json["error"]["code"] == "RETURN_WINDOW_CLOSED"


def test_the_customer_cancels_before_a_decision_but_not_after(
    client, order, customer_headers, supplier_headers
):
    first = client.post("/api/returns", json=body(order), headers=customer_headers).json["data"]
    cancelled = client.post(f"/api/returns/{first['id']}/cancel", json={}, headers=customer_headers)
    assert cancelled.status_code == 200 and cancelled.json["data"]["status"] == "CANCELLED"
    again = client.post(f"/api/returns/{first['id']}/cancel", json={}, headers=customer_headers)
    assert (again.status_code, again.json["error"]["code"]) == (409, "INVALID_TRANSITION")

    second = client.post("/api/returns", json=body(order), headers=customer_headers).json["data"]
    accepted = client.post(
        f"/api/supplier/returns/{second['id']}/respond",
        json={"decision": "ACCEPT"},
        headers=supplier_headers,
    )
    assert accepted.json["data"]["status"] == "APPROVED"
    late = client.post(f"/api/returns/{second['id']}/cancel", json={}, headers=customer_headers)
    assert late.status_code == 409


def test_lists_are_scoped_to_who_asks(
    client, order, shop, customer_headers, supplier_headers, auth_headers, admin_as
):
    phone, laptop = order.items
    for item in (phone, laptop):
        created = client.post("/api/returns", json=body(order, item=item), headers=customer_headers)
        assert created.status_code == 201
    other_supplier = auth_headers(shop["other_supplier"])
    stranger = auth_headers(UserFactory(role=UserRole.CUSTOMER))

    def ids(headers, path="/api/returns", **query):
        response = client.get(path, headers=headers, query_string=query)
        assert response.status_code == 200, response.json
        return [r["order_item_id"] for r in response.json["data"]]

    assert sorted(ids(customer_headers)) == sorted([phone.id, laptop.id])
    assert ids(supplier_headers) == [phone.id]
    assert ids(supplier_headers, "/api/supplier/returns") == [phone.id]
    assert ids(other_supplier) == [laptop.id]
    assert ids(stranger) == []
    assert len(ids(admin_as(UserRole.FINANCE_ADMIN), "/api/admin/returns")) == 2
    assert ids(admin_as(), status="CANCELLED") == []
    mine = client.get("/api/returns", headers=customer_headers).json["data"][0]["id"]
    the_phone_return = next(
        r["id"]
        for r in client.get("/api/returns", headers=customer_headers).json["data"]
        if r["order_item_id"] == phone.id
    )
    assert client.get(f"/api/returns/{mine}", headers=stranger).status_code == 404
    assert (
        client.get(f"/api/supplier/returns/{the_phone_return}", headers=other_supplier).status_code
        == 404
    )
    assert client.get("/api/admin/returns", headers=customer_headers).status_code == 403
    assert client.get("/api/returns", headers=admin_as(UserRole.PRODUCT_MANAGER)).status_code == 403


def test_a_cash_order_delivered_but_not_yet_confirmed_cannot_be_returned(
    client, customer, shop, customer_headers
):
    order = OrderFactory(
        customer=customer, items=[(shop["phone"], 1)], payment_method=PaymentMethod.CASH
    )
    order.status, order.delivered_at = "DELIVERED", utcnow()
    db.session.commit()
    refused = client.post("/api/returns", json=body(order), headers=customer_headers)
    assert refused.json["error"]["code"] == "ORDER_NOT_PAID"
    assert db.session.scalar(select(func.count(ReturnRequest.id))) == 0
