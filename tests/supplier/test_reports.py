"""The dashboard, analytics and order lines, to the cent, on a hand-built data set: orders
paid, then delivered by an admin through ``PUT /orders/<id>/status`` (the ledger posts
through its receivers)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, update

from app.extensions import db
from app.orders.models import Order
from app.signals import order_paid, supplier_returns_asked
from tests.factories.auth import SupplierProfileFactory
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory

D = Decimal
TO_DELIVERED = ("PROCESSING", "QUALITY_APPROVED", "SHIPPED", "OUT_FOR_DELIVERY", "ARRIVED")
# Order A is delivered at 01:30 Nairobi on 3 March (still 2 March in UTC); B on 9 March.
DELIVERED_A = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
DELIVERED_B = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


def paid_order(customer, items):
    order = OrderFactory(items=items, customer=customer, paid=True)
    PaymentFactory(order=order, completed=True)
    order_paid.send(order, actor_id=None, via="MPESA")
    db.session.commit()
    return order


def move(client, headers, order, *statuses):
    for status in statuses:
        response = client.put(
            f"/api/orders/{order.id}/status", json={"status": status}, headers=headers
        )
        assert response.status_code == 200, response.json


@pytest.fixture
def shop(client, supplier, customer, admin_headers, assert_books_balance):
    """The supplier's phone (1,000.00 at 10%) and case (250.40 at 5%, 3 left), their
    inactive product (none left) and another supplier's tablet. Order A (2 phones and the
    tablet) and B (3 cases) delivered; C (1 phone) being processed."""
    profile = supplier.supplier_profile
    phones, accessories = CategoryFactory(name="Phones"), CategoryFactory(name="Accessories")
    phone = ProductFactory(
        supplier=profile,
        name="Phone",
        category=phones,
        price=D("1000.00"),
        commission_rate=D("0.1000"),
        stock=20,
    )
    case = ProductFactory(
        supplier=profile,
        name="Case",
        category=accessories,
        price=D("250.40"),
        commission_rate=D("0.0500"),
        stock=3,
    )
    retired = ProductFactory(supplier=profile, name="Retired", stock=0, is_active=False)
    tablet = ProductFactory(name="Tablet", price=D("4000.00"), commission_rate=D("0.0500"))
    first = paid_order(customer, [(phone, 2), (tablet, 1)])
    second = paid_order(customer, [(case, 3)])
    third = paid_order(customer, [(phone, 1)])
    for order in (first, second):
        move(client, admin_headers, order, *TO_DELIVERED, "DELIVERED")
    move(client, admin_headers, third, "PROCESSING")
    assert_books_balance()
    return {
        "phone": phone,
        "case": case,
        "retired": retired,
        "tablet": tablet,
        "orders": (first, second, third),
        "phones": phones,
        "accessories": accessories,
    }


def backdate(shop):
    """A and B as if placed and delivered in March 2026 (C placed on 10 March)."""
    first, second, third = shop["orders"]
    for order, at in ((first, DELIVERED_A), (second, DELIVERED_B)):
        db.session.execute(
            update(Order).where(Order.id == order.id).values(created_at=at, delivered_at=at)
        )
    db.session.execute(
        update(Order)
        .where(Order.id == third.id)
        .values(created_at=datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    )
    db.session.commit()


def data(response, status=200):
    assert response.status_code == status, response.json
    return response.json["data"]


def test_the_dashboard_counts_the_last_30_days_to_the_cent(client, supplier_headers, shop):
    board = data(client.get("/api/supplier/dashboard", headers=supplier_headers))

    phone, case = shop["phone"], shop["case"]
    assert board["orders_by_status"]["DELIVERED"] == 2
    assert board["orders_by_status"]["PROCESSING"] == 1
    assert sum(board["orders_by_status"].values()) == 3  # every status listed, the rest 0
    # 2 x 1,000.00 (10%: 200.00) + 3 x 250.40 = 751.20 (5%: 37.56)
    assert (board["items_sold"], board["gross_sales"]) == (5, "2751.20")
    assert (board["commission"], board["net_earnings"]) == ("237.56", "2513.64")
    assert board["balances"] == {
        "on_hold": "2513.64",
        "available": "0.00",
        "in_flight": "0.00",
        "paid_out_total": "0.00",
    }
    assert board["returns"] == {"count": 0, "items_returned": 0, "rate": "0.0000"}
    assert board["top_products"] == [
        {
            "id": case.id,
            "name": "Case",
            "items": 3,
            "sales": "751.20",
            "commission": "37.56",
            "net": "713.64",
        },
        {
            "id": phone.id,
            "name": "Phone",
            "items": 2,
            "sales": "2000.00",
            "commission": "200.00",
            "net": "1800.00",
        },
    ]
    # at or below LOW_STOCK_THRESHOLD (5), active only
    assert board["low_stock"] == [{"id": case.id, "name": "Case", "sku": case.sku, "stock": 3}]
    today = board["to"]
    assert (datetime.fromisoformat(today) - datetime.fromisoformat(board["from"])).days == 29


def test_dashboard_days_are_nairobi_days(client, supplier_headers, shop):
    backdate(shop)

    nairobi_day = data(
        client.get(
            "/api/supplier/dashboard?from=2026-03-03&to=2026-03-03", headers=supplier_headers
        )
    )
    utc_day = data(
        client.get(
            "/api/supplier/dashboard?from=2026-03-02&to=2026-03-02", headers=supplier_headers
        )
    )

    assert (nairobi_day["items_sold"], nairobi_day["gross_sales"]) == (2, "2000.00")
    assert nairobi_day["orders_by_status"]["DELIVERED"] == 1
    assert (utc_day["items_sold"], utc_day["gross_sales"]) == (0, "0.00")
    assert utc_day["top_products"] == []
    # the balances are what is owed now, whatever the range
    assert utc_day["balances"]["on_hold"] == "2513.64"


def test_the_returns_domain_answers_the_returns_question(client, supplier, supplier_headers, shop):
    asked = []

    def answer(supplier_id, *, start, end):
        asked.append((supplier_id, start, end))
        return {"count": 1, "items_returned": 2}

    with supplier_returns_asked.connected_to(answer):
        board = data(
            client.get(
                "/api/supplier/dashboard?from=2026-01-01&to=2099-12-31", headers=supplier_headers
            )
        )

    assert board["returns"] == {"count": 1, "items_returned": 2, "rate": "0.4000"}  # 2 of 5
    assert asked == [
        (
            supplier.supplier_profile.id,
            datetime(2025, 12, 31, 21, 0, tzinfo=UTC),  # 1 January, 00:00 Nairobi
            datetime(2099, 12, 31, 21, 0, tzinfo=UTC),
        )
    ]


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (
            "week",
            [
                ("2026-02-23", 0, "0.00", "0.00", "0.00"),
                ("2026-03-02", 2, "2000.00", "200.00", "1800.00"),
                ("2026-03-09", 3, "751.20", "37.56", "713.64"),
            ],
        ),
        ("month", [("2026-03-01", 5, "2751.20", "237.56", "2513.64")]),
    ],
)
def test_analytics_series_by_week_and_month(client, supplier_headers, shop, interval, expected):
    backdate(shop)

    result = data(
        client.get(
            f"/api/supplier/analytics?from=2026-03-01&to=2026-03-10&interval={interval}",
            headers=supplier_headers,
        )
    )

    assert [
        (row["period"], row["items"], row["sales"], row["commission"], row["net"])
        for row in result["series"]
    ] == expected
    assert result["totals"]["sales"] == "2751.20"


def test_analytics_by_day_with_every_day_and_the_breakdowns(client, supplier_headers, shop):
    backdate(shop)

    result = data(
        client.get(
            "/api/supplier/analytics?from=2026-03-01&to=2026-03-10", headers=supplier_headers
        )
    )

    series = {row["period"]: (row["items"], row["sales"]) for row in result["series"]}
    assert len(series) == 10 and result["interval"] == "day"
    assert series["2026-03-02"] == (0, "0.00")
    assert series["2026-03-03"] == (2, "2000.00")  # 01:30 in Nairobi
    assert series["2026-03-09"] == (3, "751.20")
    assert [
        (row["name"], row["items"], row["sales"], row["net"]) for row in result["by_product"]
    ] == [
        ("Phone", 2, "2000.00", "1800.00"),
        ("Case", 3, "751.20", "713.64"),
    ]
    assert [(row["id"], row["name"], row["commission"]) for row in result["by_category"]] == [
        (shop["phones"].id, "Phones", "200.00"),
        (shop["accessories"].id, "Accessories", "37.56"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "interval=year",
        "from=2026-03-10&to=2026-03-01",
        "from=2024-01-01&to=2026-03-01",  # more than 732 days
        "from=yesterday",
    ],
)
def test_analytics_refuses_bad_queries(client, supplier_headers, query):
    response = client.get(f"/api/supplier/analytics?{query}", headers=supplier_headers)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


def lines(response):
    return [
        (
            row["order_number"],
            row["status"],
            row["product_name"],
            row["quantity"],
            row["unit_price"],
            row["line_total"],
            row["commission"],
            row["net"],
        )
        for row in data(response)
    ]


def test_order_lines_show_the_suppliers_own_lines_without_customer_contacts(
    client, supplier_headers, shop
):
    first, second, third = shop["orders"]
    response = client.get("/api/supplier/orders", headers=supplier_headers)

    assert lines(response) == [
        (third.order_number, "PROCESSING", "Phone", 1, "1000.00", "1000.00", "100.00", "900.00"),
        (second.order_number, "DELIVERED", "Case", 3, "250.40", "751.20", "37.56", "713.64"),
        (first.order_number, "DELIVERED", "Phone", 2, "1000.00", "2000.00", "200.00", "1800.00"),
    ]
    row = response.json["data"][0]
    assert row["delivery_town"] == "Westlands"
    text = str(response.json)
    assert "recipient" not in text and "phone" not in row and "email" not in text
    assert first.recipient_phone not in text and first.customer.email not in text
    assert response.json["meta"]["total"] == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=DELIVERED", [1, 0]),
        ("status=PROCESSING", [2]),
        ("status=CANCELLED", []),
        ("from=2026-03-03&to=2026-03-09", [1, 0]),  # placed 03-03 01:30 and 03-09 Nairobi
        ("to=2026-03-02", []),
        ("from=2026-03-10", [2]),
        ("per_page=1&page=2", [1]),
    ],
)
def test_order_lines_filter_by_status_and_placing_day(
    client, supplier_headers, shop, query, expected
):
    backdate(shop)
    numbers = [shop["orders"][index].order_number for index in expected]

    response = client.get(f"/api/supplier/orders?{query}", headers=supplier_headers)

    assert [row[0] for row in lines(response)] == numbers


@pytest.mark.parametrize("query", ["status=LOST", "from=2026-03-10&to=2026-03-01", "page=x"])
def test_order_lines_refuse_bad_filters(client, supplier_headers, query):
    response = client.get(f"/api/supplier/orders?{query}", headers=supplier_headers)

    assert response.status_code == 400


def test_another_suppliers_figures_are_theirs_alone(client, auth_headers, shop):
    other = auth_headers(shop["tablet"].supplier.user)

    board = data(client.get("/api/supplier/dashboard", headers=other))
    mine = data(client.get("/api/supplier/orders", headers=other))

    assert (board["items_sold"], board["gross_sales"], board["net_earnings"]) == (
        1,
        "4000.00",
        "3800.00",
    )
    assert [row["product_name"] for row in mine] == ["Tablet"]


def test_reports_take_a_constant_number_of_queries(client, supplier_headers, shop, customer):
    def count(path):
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path, headers=supplier_headers).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    paths = ("/api/supplier/orders", "/api/supplier/dashboard", "/api/supplier/analytics")
    before = [count(path) for path in paths]
    for _ in range(3):
        paid_order(customer, [(shop["phone"], 1), (shop["case"], 1)])

    assert [count(path) for path in paths] == before


@pytest.mark.parametrize(
    "path", ["/api/supplier/dashboard", "/api/supplier/analytics", "/api/supplier/orders"]
)
def test_reports_are_for_approved_suppliers_only(client, auth_headers, customer_headers, path):
    pending = auth_headers(SupplierProfileFactory(pending=True).user)

    assert client.get(path).status_code == 401
    assert client.get(path, headers=customer_headers).status_code == 403
    response = client.get(path, headers=pending)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "SUPPLIER_NOT_APPROVED"
