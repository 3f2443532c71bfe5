"""Exact figures on a known set of orders, read through HTTP, against hand-computed values
and against the ledger itself."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.analytics.finance import LEDGER_FIGURES, Term
from app.auth.models import UserRole
from app.calendar import today, utc_bounds
from app.extensions import db
from app.ledger.models import LedgerAccount, LedgerEntry, LedgerLine
from app.ledger.operations import sum_to_cents
from tests.factories.catalog import CategoryFactory, ProductFactory

D = Decimal


@pytest.fixture
def known_day(shop, assert_books_balance):
    """Five orders today (Nairobi), by hand:

    O1 MPESA  2 x A (1,000.00 @10%)      paid, delivered
    O2 CARD   1 x B (2,500.00 @5%)       paid, cancelled, refund settled
    O3 CASH   1 x A + 1 x B              delivered, then cash collected
    O4 MPESA  1 x A                      paid, not delivered
    O5 MPESA  1 x B                      placed only
    Every order pays 250.00 delivery.
    """
    phones = CategoryFactory(name="Phones")
    a = ProductFactory(
        price=D("1000.00"), commission_rate=D("0.1000"), category=phones, name="Phone A", stock=50
    )
    b = ProductFactory(price=D("2500.00"), commission_rate=D("0.0500"), name="Laptop B", stock=50)
    o1 = shop.place([(a, 2)], "MPESA", county="Nairobi")
    shop.pay(o1)
    shop.deliver(o1)
    o2 = shop.place([(b, 1)], "CARD", county="Kiambu")
    shop.pay(o2)
    shop.cancel(o2)
    shop.settle_refunds(o2)
    o3 = shop.place([(a, 1), (b, 1)], "CASH", county="Nairobi")
    shop.deliver(o3)
    shop.collect_cash(o3)
    o4 = shop.place([(a, 1)], "MPESA", county="Mombasa")
    shop.pay(o4)
    shop.place([(b, 1)], "MPESA", county="Nairobi")
    assert_books_balance()
    return {"a": a, "b": b, "suppliers": (a.supplier_id, b.supplier_id)}


EXPECTED = {
    "gmv": "9000.00",  # 2,000 + 2,500 + 3,500 + 1,000
    "delivery_fees": "500.00",  # O1 and O3 delivered
    "agent_fees": "0.00",
    "commission_revenue": "425.00",  # 200 + (100 + 125)
    "restocking_fees": "0.00",
    "refunds": "2750.00",  # O2 in full
    "supplier_payouts": "0.00",
    "agent_payouts": "0.00",
    "payouts_in_flight": "0.00",
    "held_for_undelivered": "1250.00",  # O4
    "cash_held_by_agents": "0.00",
    "net_revenue": "925.00",  # commission + delivery
}


def report(client, headers, **params):
    response = client.get("/api/admin/reports/financial", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response


def test_the_financial_report_gives_every_figure_exactly(known_day, client, admin_headers):
    day = today()
    data = report(
        client, admin_headers, **{"from": str(day - timedelta(days=2)), "to": str(day)}
    ).json["data"]
    assert data["totals"] == EXPECTED
    assert [p["start"] for p in data["periods"]] == [
        str(day - timedelta(days=2)),
        str(day - timedelta(days=1)),
        str(day),
    ]
    assert data["periods"][-1] == {"start": str(day), "end": str(day), **EXPECTED}
    assert data["periods"][0]["gmv"] == "0.00"
    methods = data["by_payment_method"]
    assert methods["MPESA"]["gmv"] == "3000.00"
    assert methods["CARD"]["gmv"] == "2500.00"
    assert methods["CASH"]["gmv"] == "3500.00"
    assert methods["CARD"]["refunds"] == "2750.00"
    assert methods["MPESA"]["held_for_undelivered"] == "1250.00"
    assert methods["CASH"]["commission_revenue"] == "225.00"
    assert methods["NONE"]["net_revenue"] == "0.00"


def _ledger_sum(term: Term, first, last) -> Decimal:
    start, end = utc_bounds(first, last)
    statement = (
        select(func.sum(LedgerLine.amount))
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.code == term.account, LedgerEntry.occurred_at < end)
    )
    if term.kinds:
        statement = statement.where(LedgerEntry.kind.in_(term.kinds))
    if term.side in ("credit", "debit"):
        sign = LedgerLine.amount < 0 if term.side == "credit" else LedgerLine.amount > 0
        statement = statement.where(sign)
    total = sum_to_cents(db.session.scalar(statement))
    return -total if term.side in ("credit", "net credit") else total


def test_the_reports_totals_are_the_ledgers_sums(known_day, client, admin_headers):
    day = today()
    totals = report(client, admin_headers, **{"from": str(day), "to": str(day)}).json["data"][
        "totals"
    ]
    for name, terms in LEDGER_FIGURES.items():
        expected = sum((_ledger_sum(term, day, day) for term in terms), D("0.00"))
        assert totals[name] == f"{expected:.2f}", name


def test_the_dashboard_shows_the_reports_numbers(known_day, client, admin_headers):
    data = client.get("/api/admin/dashboard", headers=admin_headers).json["data"]
    today_window = data["windows"]["today"]
    assert today_window["gmv"] == EXPECTED["gmv"]
    assert today_window["revenue"] == EXPECTED["net_revenue"]
    assert data["windows"]["30d"]["gmv"] == EXPECTED["gmv"]
    assert today_window["orders_by_status"] | {} == {
        "PENDING": 5,
        "PAID": 3,
        "PROCESSING": 2,
        "QUALITY_APPROVED": 2,
        "SHIPPED": 2,
        "OUT_FOR_DELIVERY": 2,
        "ARRIVED": 2,
        "DELIVERED": 2,
        "CANCELLED": 1,
        "RETURNED": 0,
    }
    assert today_window["new_customers"] == 5
    current = data["current"]
    assert current["refunds_due"] == {"count": 0, "amount": "0.00"}
    assert current["late_deliveries"] == 0
    assert current["low_stock"] == 0
    assert current["returns_awaiting_decision"] == 0
    assert current["payouts_unknown"] == 0
    assert current["unassigned_deliveries"] == 0  # every shipped order went on to delivery


def test_the_dashboard_counts_what_waits_on_an_admin(shop, client, admin_headers):
    from app.disbursements.models import DisbursementPurpose
    from app.disbursements.operations import create_disbursement
    from app.orders.models import OrderStatus
    from tests.factories.auth import UserFactory
    from tests.factories.payouts import paying_supplier
    from tests.factories.returns import delivered_order, request_return

    product = ProductFactory(price=Decimal("1000.00"), stock=10)
    delivered = delivered_order(UserFactory(role="CUSTOMER"), [(product, 2)])
    request_return(delivered)  # REQUESTED: undecided
    waiting = shop.place([(product, 1)])
    shop.pay(waiting)
    shop.move(waiting, OrderStatus.PROCESSING, OrderStatus.QUALITY_APPROVED)  # ready to go
    supplier = paying_supplier()
    transfer = create_disbursement(
        DisbursementPurpose.PAYOUT,
        supplier.id,
        phone=supplier.mpesa_payout_number,
        amount=Decimal("500"),
        remarks="Payout",
    )
    transfer.status, transfer.unknown = "SENT", True  # a queue timeout: outcome unknown
    db.session.commit()

    current = client.get("/api/admin/dashboard", headers=admin_headers).json["data"]["current"]
    assert current["returns_awaiting_decision"] == 1
    assert current["payouts_unknown"] == 1
    assert current["unassigned_deliveries"] == 1


def test_analytics_breaks_sales_down(known_day, client, admin_headers):
    day = today()
    response = client.get(
        "/api/admin/analytics",
        query_string={"from": str(day - timedelta(days=6)), "to": str(day)},
        headers=admin_headers,
    )
    data = response.json["data"]
    assert data["totals"]["orders_placed"] == 5
    assert data["totals"]["orders_paid"] == 4
    assert data["totals"]["sales"] == "9000.00"
    assert data["totals"]["average_order_value"] == "2250.00"
    assert data["totals"]["items_sold"] == 6
    assert data["totals"]["cart_conversion_rate"] == "1.0000"  # every cart checked out
    assert len(data["series"]) == 7 and data["series"][-1]["sales"] == "9000.00"
    assert {row["payment_method"]: row["sales"] for row in data["by_payment_method"]} == {
        "CARD": "2500.00",
        "CASH": "3500.00",
        "MPESA": "3000.00",
    }
    assert data["top_products"][0]["name"] == "Laptop B"
    assert data["top_products"][0]["sales"] == "5000.00"
    assert {row["county"]: row["orders_paid"] for row in data["by_county"]} == {
        "Nairobi": 2,
        "Kiambu": 1,
        "Mombasa": 1,
    }
    assert {row["name"]: row["sales"] for row in data["by_category"]}["Phones"] == "4000.00"
    assert sum(D(row["sales"]) for row in data["by_supplier"]) == D("9000.00")


def test_csv_and_xlsx_stream_numbers_as_numbers(known_day, client, admin_headers):
    day = str(today())
    response = report(client, admin_headers, **{"from": day, "to": day, "format": "csv"})
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["row", "start", "end", "gmv"]
    total = next(row for row in rows if row[0] == "total")
    assert total[3] == "9000.00"
    response = report(client, admin_headers, **{"from": day, "to": day, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    assert values[0][3] == "gmv"
    total = next(row for row in values if row[0] == "total")
    assert total[3] == 9000  # a number, not text


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days by day
        {"interval": "hour"},
        {"from": "yesterday"},
        {"format": "pdf"},
    ],
)
def test_bad_ranges_are_400(client, admin_headers, params):
    response = client.get(
        "/api/admin/reports/financial", query_string=params, headers=admin_headers
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


def test_a_year_by_month_is_fine(client, admin_headers):
    response = client.get(
        "/api/admin/reports/financial",
        query_string={"from": "2025-01-01", "to": "2026-06-30", "interval": "month"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert len(response.json["data"]["periods"]) == 18


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (role, path, allowed)
        for path, roles in {
            "/api/admin/dashboard": {"ADMIN", "FINANCE_ADMIN", "SUPPORT_ADMIN", "PRODUCT_MANAGER"},
            "/api/admin/analytics": {"ADMIN", "FINANCE_ADMIN", "SUPPORT_ADMIN", "PRODUCT_MANAGER"},
            "/api/admin/reports/financial": {"ADMIN", "FINANCE_ADMIN"},
            "/api/admin/reports/reconciliation": {"ADMIN", "FINANCE_ADMIN"},
        }.items()
        for role in UserRole
        for allowed in [str(role) in roles]
    ],
)
def test_who_reads_the_figures(client, role_user, auth_headers, role, path, allowed):
    response = client.get(path, headers=auth_headers(role_user(role)))
    assert response.status_code == (200 if allowed else 403), response.json
    if not allowed:
        assert response.json["error"]["code"] == "FORBIDDEN"


def test_analytics_by_week_gives_monday_weeks_clipped_to_the_range(client, admin_headers):
    response = client.get(
        "/api/admin/analytics",
        query_string={"from": "2026-11-28", "to": "2026-12-10", "interval": "week"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert [(p["start"], p["end"]) for p in response.json["data"]["series"]] == [
        ("2026-11-28", "2026-11-29"),
        ("2026-11-30", "2026-12-06"),
        ("2026-12-07", "2026-12-10"),
    ]
    assert response.json["data"]["totals"]["orders_placed"] == 0
    assert response.json["data"]["totals"]["cart_conversion_rate"] == "0.0000"


def test_analytics_refuses_an_inverted_range(client, admin_headers):
    response = client.get(
        "/api/admin/analytics",
        query_string={"from": "2026-12-10", "to": "2026-12-01"},
        headers=admin_headers,
    )
    assert response.status_code == 400
    assert "from" in response.json["error"]["details"]
