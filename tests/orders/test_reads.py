from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.auth.models import UserRole
from app.db import utcnow
from tests.factories.auth import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory


@contextmanager
def count_statements(db):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def ids(response):
    return [order["id"] for order in response.json["data"]]


def test_customers_list_only_their_orders(client, customer, customer_headers):
    mine = [OrderFactory(customer=customer) for _ in range(2)]
    OrderFactory()

    response = client.get("/api/orders", headers=customer_headers)

    assert response.status_code == 200
    assert ids(response) == [mine[1].id, mine[0].id]
    assert response.json["meta"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}


def test_suppliers_see_only_their_items_and_their_subtotal(client, supplier, supplier_headers):
    mine = ProductFactory(supplier=supplier.supplier_profile, price=Decimal("1000.00"))
    theirs = ProductFactory(price=Decimal("5000.00"))
    order = OrderFactory(paid=True, items=[(mine, 2), (theirs, 1)])
    OrderFactory(items=[(theirs, 1)])

    listed = client.get("/api/orders", headers=supplier_headers)
    detail = client.get(f"/api/orders/{order.id}", headers=supplier_headers)

    assert ids(listed) == [order.id]
    for data in (listed.json["data"][0], detail.json["data"]):
        assert [item["product_id"] for item in data["items"]] == [mine.id]
        assert data["subtotal"] == "2000.00"
        assert data["items"][0]["commission_amount"] == "200.00"
        assert data["items"][0]["supplier_earning"] == "1800.00"
        for hidden in (
            "total",
            "delivery_fee",
            "customer",
            "recipient_phone",
            "delivery_street",
            "delivery_landmark",
        ):
            assert hidden not in data


def test_admin_sees_everything_with_commissions(client, admin_headers):
    order = OrderFactory(items=[(ProductFactory(price=Decimal("100.00")), 1)])
    data = client.get(f"/api/orders/{order.id}", headers=admin_headers).json["data"]
    assert data["items"][0]["commission_rate"] == "0.1000"
    assert data["customer"]["email"] == order.customer.email
    assert data["total"] == "350.00"


def test_delivery_agents_see_their_assignments(client, role_user, auth_headers):
    agent = role_user(UserRole.DELIVERY_AGENT)
    assigned = OrderFactory(shipped=True, delivery_agent_id=agent.id, items=[(ProductFactory(), 1)])
    OrderFactory(shipped=True)
    response = client.get("/api/orders", headers=auth_headers(agent))
    assert ids(response) == [assigned.id]
    assert "commission_amount" not in response.json["data"][0]["items"][0]


def test_someone_elses_order_is_404(client, customer_headers, supplier_headers):
    order = OrderFactory(items=[(ProductFactory(), 1)])
    assert client.get(f"/api/orders/{order.id}", headers=customer_headers).status_code == 404
    assert client.get(f"/api/orders/{order.id}", headers=supplier_headers).status_code == 404
    assert client.get("/api/orders/424242", headers=customer_headers).status_code == 404
    assert client.get(f"/api/orders/{order.id}").status_code == 401


def test_admin_filters_and_search(client, admin_headers, db):
    wanjiru = UserFactory(email="wanjiru@example.co.ke")
    paid = OrderFactory(paid=True, customer=wanjiru)
    cash = OrderFactory(cash=True, order_number="QG-20261101-CASH42")
    old = OrderFactory(card=True)
    old.created_at = utcnow() - timedelta(days=10)
    db.session.commit()

    def query(**params):
        return ids(client.get("/api/orders", query_string=params, headers=admin_headers))

    assert query(status="PAID") == [paid.id]
    assert query(payment_status="COMPLETED") == [paid.id]
    assert query(payment_method="CASH") == [cash.id]
    assert query(q="wanjiru@") == [paid.id]
    assert query(q="cash42") == [cash.id]
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(query(**{"from": since})) == {paid.id, cash.id}
    until = (utcnow() - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert query(to=until) == [old.id]
    assert query(per_page=1, page=2) == [paid.id]  # newest first: cash, paid, old


@pytest.mark.parametrize(
    "params",
    [
        {"status": "LOST"},
        {"from": "yesterday"},
        {"page": "x"},
        {"from": "2026-02-01", "to": "2026-01-01"},
    ],
)
def test_bad_filters_are_400(client, admin_headers, params):
    response = client.get("/api/orders", query_string=params, headers=admin_headers)
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["admin", "supplier", "customer"])
def test_listing_does_not_query_per_order(
    client, db, auth_headers, supplier, customer, admin, role
):
    user = {"admin": admin, "supplier": supplier, "customer": customer}[role]
    headers = auth_headers(user)
    product = ProductFactory(supplier=supplier.supplier_profile)

    def statements_for(n):
        for _ in range(n):
            OrderFactory(customer=customer, items=[(product, 1), (ProductFactory(), 2)])
        with count_statements(db) as statements:
            response = client.get("/api/orders", headers=headers)
        assert response.status_code == 200
        return len(statements), len(response.json["data"])

    few, listed_few = statements_for(1)
    many, listed_many = statements_for(6)
    assert (listed_few, listed_many) == (1, 7)
    assert many == few
