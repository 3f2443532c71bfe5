"""The supplier portal's statement and balances, from real ledger postings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.extensions import db
from app.ledger.jobs import release_earnings
from app.ledger.models import AccountCode as A
from app.ledger.operations import Line, post
from app.orders.models import OrderStatus
from app.signals import order_delivered, order_paid
from tests.factories.auth import SupplierProfileFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory

D = Decimal
DELIVERED_A = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DELIVERED_B = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
RELEASED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # A's hold (7 days) is over, B's is not
# (account, amount, what is owed after it) of the supplier's whole statement
FULL = [
    ("ON_HOLD", "900.00", "900.00"),
    ("ON_HOLD", "2187.94", "3087.94"),
    ("ON_HOLD", "-900.00", "2187.94"),
    ("AVAILABLE", "900.00", "3087.94"),
]


def delivered_order(customer, items, at):
    order = OrderFactory(items=items, customer=customer, paid=True)
    PaymentFactory(order=order, completed=True)
    order_paid.send(order, actor_id=None, via="MPESA")
    order.status, order.delivered_at = OrderStatus.DELIVERED, at
    order_delivered.send(order, actor_id=None)
    db.session.commit()
    return order


@pytest.fixture
def books(supplier, customer, assert_books_balance):
    """The supplier's two delivered items (900.00 and 2,187.94 net), the first released;
    another supplier's item delivered in the first order."""
    profile = supplier.supplier_profile
    router = ProductFactory(supplier=profile, price=D("1000.00"), commission_rate=D("0.1000"))
    cables = ProductFactory(supplier=profile, price=D("1250.25"), commission_rate=D("0.1250"))
    other = ProductFactory(price=D("4000.00"), commission_rate=D("0.0500"))
    first = delivered_order(customer, [(router, 1), (other, 1)], DELIVERED_A)
    second = delivered_order(customer, [(cables, 2)], DELIVERED_B)
    assert release_earnings(now=RELEASED) == 2  # the router and the other supplier's item
    db.session.commit()
    assert_books_balance()
    return {
        "first": first,
        "second": second,
        "router_item": first.items[0],
        "other_item": first.items[1],
        "cables_item": second.items[0],
        "other_supplier": other.supplier.user,
    }


def rows(response):
    assert response.status_code == 200, response.json
    return [
        (row["event_key"], row["account"], row["amount"], row["balance"])
        for row in response.json["data"]
    ]


def test_the_statement_lists_each_line_with_what_is_owed_after_it(client, supplier_headers, books):
    response = client.get("/api/supplier/ledger", headers=supplier_headers)

    router, cables = books["router_item"].id, books["cables_item"].id
    assert rows(response) == [
        (f"item-delivered:{router}", "ON_HOLD", "900.00", "900.00"),
        # 2 x 1,250.25 = 2,500.50 less 12.5% (312.56)
        (f"item-delivered:{cables}", "ON_HOLD", "2187.94", "3087.94"),
        (f"hold-released:{router}", "ON_HOLD", "-900.00", "2187.94"),
        (f"hold-released:{router}", "AVAILABLE", "900.00", "3087.94"),
    ]
    first = response.json["data"][0]
    assert first["kind"] == "item-delivered"
    assert first["order_number"] == books["first"].order_number
    assert first["occurred_at"] == "2026-03-02T10:00:00Z"
    assert response.json["data"][2]["occurred_at"] == "2026-03-10T12:00:00Z"
    assert response.json["meta"] == {"page": 1, "per_page": 20, "total": 4, "pages": 1}


def test_another_suppliers_entries_never_appear(client, auth_headers, supplier_headers, books):
    other_key = f"item-delivered:{books['other_item'].id}"
    mine = client.get("/api/supplier/ledger", headers=supplier_headers).json["data"]
    assert other_key not in {row["event_key"] for row in mine}

    other_user = books["other_supplier"]
    theirs = rows(client.get("/api/supplier/ledger", headers=auth_headers(other_user)))
    # 4,000.00 less 5% (200.00)
    assert [key for key, *_ in theirs] == [other_key] + [
        f"hold-released:{books['other_item'].id}"
    ] * 2
    assert theirs[-1][3] == "3800.00"


def test_a_later_page_carries_the_running_total_of_the_rows_before_it(
    client, supplier_headers, books
):
    response = client.get("/api/supplier/ledger?per_page=2&page=2", headers=supplier_headers)

    assert [(account, amount, total) for _, account, amount, total in rows(response)] == FULL[2:]
    assert response.json["meta"]["total"] == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=2026-03-06&to=2026-03-06", FULL[1:2]),
        ("to=2026-03-05", FULL[:1]),
        ("from=2026-03-03", FULL[1:]),
        ("from=2026-03-11", []),
        ("from=0001-01-01&to=9999-12-31", FULL),
    ],
)
def test_from_and_to_are_whole_days_and_the_total_starts_from_the_balance_before(
    client, supplier_headers, books, query, expected
):
    response = client.get(f"/api/supplier/ledger?{query}", headers=supplier_headers)

    assert [(account, amount, total) for _, account, amount, total in rows(response)] == expected


def test_the_statement_takes_a_constant_number_of_ledger_queries(client, supplier_headers, books):
    statements = []

    def record(conn, cursor, statement, *args):
        if "ledger_lines" in statement:
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/api/supplier/ledger?from=2026-03-01", headers=supplier_headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(response.json["data"]) == 4
    assert len(statements) == 3  # the count, the rows, the balance before ``from``


@pytest.mark.parametrize(
    "query",
    ["from=2026-13-01", "to=yesterday", "from=2026-03-06&to=2026-03-05", "format=pdf"],
)
def test_bad_dates_or_format_are_a_400(client, supplier_headers, query):
    response = client.get(f"/api/supplier/ledger?{query}", headers=supplier_headers)

    assert response.status_code == 400
    assert response.json["success"] is False


def test_the_csv_is_the_whole_range_with_inert_cells(client, supplier, supplier_headers, books):
    # An event whose text a spreadsheet would run as a formula.
    post(
        '=HYPERLINK("http://evil")',
        "+cmd",
        [
            Line(A.SUPPLIER_AVAILABLE, D("-5.00"), supplier.supplier_profile.id),
            Line(A.COMMISSION_REVENUE, D("5.00")),
        ],
        occurred_at=datetime(2026, 3, 11, tzinfo=UTC),
    )
    db.session.commit()

    response = client.get(
        "/api/supplier/ledger?format=csv&per_page=1&from=2026-03-03", headers=supplier_headers
    )

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "supplier-statement.csv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert (
        text.splitlines()[0]
        == "entry_id,occurred_at,kind,event_key,order_number,account,amount,balance"
    )
    table = list(csv.reader(io.StringIO(text)))
    assert [row[3:] for row in table[1:]] == [
        [
            f"item-delivered:{books['cables_item'].id}",
            books["second"].order_number,
            "ON_HOLD",
            "2187.94",
            "3087.94",
        ],
        [
            f"hold-released:{books['router_item'].id}",
            books["first"].order_number,
            "ON_HOLD",
            "-900.00",
            "2187.94",
        ],
        [
            f"hold-released:{books['router_item'].id}",
            books["first"].order_number,
            "AVAILABLE",
            "900.00",
            "3087.94",
        ],
        ['\'=HYPERLINK("http://evil")', "", "AVAILABLE", "5.00", "3092.94"],
    ]
    assert table[3][1] == "2026-03-10T12:00:00Z"
    assert table[4][2] == "'+cmd"


def test_balances_are_the_ledgers(client, supplier_headers, books):
    response = client.get("/api/supplier/balances", headers=supplier_headers)

    assert response.status_code == 200
    assert response.json["data"] == {
        "on_hold": "2187.94",
        "available": "900.00",
        "in_flight": "0.00",
        "paid_out_total": "0.00",
    }


def test_a_supplier_without_entries_has_an_empty_statement_and_zero_balances(
    client, supplier_headers
):
    statement = client.get("/api/supplier/ledger", headers=supplier_headers)
    balances = client.get("/api/supplier/balances", headers=supplier_headers)

    assert statement.json["data"] == [] and statement.json["meta"]["total"] == 0
    assert set(balances.json["data"].values()) == {"0.00"}


@pytest.mark.parametrize("path", ["/api/supplier/ledger", "/api/supplier/balances"])
def test_only_approved_suppliers_may_see_the_portal(client, auth_headers, customer, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth_headers(customer)).status_code == 403
    pending = SupplierProfileFactory(pending=True).user
    response = client.get(path, headers=auth_headers(pending))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "SUPPLIER_NOT_APPROVED"
