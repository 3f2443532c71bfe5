"""The admin console's figures: dashboard, analytics, financial and reconciliation reports."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, stream_with_context

from app import spreadsheets
from app.analytics import dashboard as dashboard_figures
from app.analytics import reconciliation
from app.analytics.finance import FIGURES, financial_report
from app.analytics.sales import analytics
from app.analytics.schemas import (
    AnalyticsSchema,
    DashboardSchema,
    FinancialReportSchema,
    RangeQuerySchema,
    ReconciliationQuerySchema,
    ReconciliationSchema,
    ReportQuerySchema,
)
from app.api import Blueprint, envelope_schema
from app.auth.access import requires
from app.calendar import periods

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/admin",
    description="Admin figures: dashboard, analytics, financial and reconciliation reports",
)


def _file_doc(schema) -> dict:
    """The documented 200: the JSON envelope, or with ``format`` a CSV or XLSX file."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "responses": {
            "200": {
                "description": "The report, or with ``format=csv|xlsx`` a streamed file.",
                "content": {
                    "application/json": {
                        "schema": envelope_schema(schema, many=False, paginated=False)
                    },
                    spreadsheets.CSV_TYPE: binary,
                    spreadsheets.XLSX_TYPE: binary,
                },
            }
        }
    }


def _download(kind: str, rows: Iterator, name: str, title: str) -> Response:
    chunks, mimetype, filename = spreadsheets.stream(kind, rows, name, title=title)
    return Response(
        stream_with_context(chunks),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/dashboard", methods=["GET"])
@requires("overview.read")
@blp.response(200, DashboardSchema)
def get_dashboard():
    """Today, the last 7 and 30 Nairobi days, and what needs attention now.

    Windows: orders reaching each status (PENDING: placed), GMV, net revenue (the
    financial report's figures), new customers and suppliers. Now: pending supplier
    approvals, refunds due, low stock (``low_stock_threshold``), late deliveries.
    Every admin role may read it.
    """
    return dashboard_figures.dashboard()


@blp.route("/analytics", methods=["GET"])
@requires("overview.read")
@blp.arguments(RangeQuerySchema, location="query")
@blp.response(200, AnalyticsSchema)
def get_analytics(params):
    """Sales and orders over ``from``..``to`` (Nairobi days, inclusive): totals, average
    order value, cart conversion, a chart-ready ``series`` (one point per ``interval``),
    and sales by payment method, category, supplier, county and product."""
    ranges = periods(params["from"], params["to"], params["interval"])
    return analytics(params["from"], params["to"], ranges)


def _financial_rows(report: dict) -> Iterator[list]:
    yield ["row", "start", "end", *FIGURES]
    for period in report["periods"]:
        yield ["period", period["start"].isoformat(), period["end"].isoformat()] + [
            period[name] for name in FIGURES
        ]
    first, last = report["from"].isoformat(), report["to"].isoformat()
    yield ["total", first, last] + [report["totals"][name] for name in FIGURES]
    for method, figures in report["by_payment_method"].items():
        yield [f"method {method}", first, last] + [figures[name] for name in FIGURES]


@blp.route("/reports/financial", methods=["GET"])
@blp.doc(**_file_doc(FinancialReportSchema))
@requires("finance.reports")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, FinancialReportSchema)
def get_financial_report(params):
    """The ledger's figures over ``from``..``to``: ``totals``, one entry of ``periods``
    per ``interval`` (the same keys), and ``by_payment_method``. Balances
    (``payouts_in_flight``, ``held_for_undelivered``, ``cash_held_by_agents``) are as at
    the end of the period. ADMIN and FINANCE_ADMIN."""
    ranges = periods(params["from"], params["to"], params["interval"])
    report = financial_report(params["from"], params["to"], ranges)
    if params["format"] == "json":
        return report
    name = f"financial-{params['from']}-{params['to']}"
    return _download(params["format"], _financial_rows(report), name, "Financial")


def _reconciliation_rows(params) -> Iterator[list]:
    yield list(reconciliation.COLUMNS)
    for row in reconciliation.rows(params["from"], params["to"]):
        yield [row[column] for column in reconciliation.COLUMNS]


@blp.route("/reports/reconciliation", methods=["GET"])
@blp.doc(**_file_doc(ReconciliationSchema))
@requires("finance.reports")
@blp.arguments(ReconciliationQuerySchema, location="query")
@blp.response(200, ReconciliationSchema)
def get_reconciliation(params):
    """What our records say against what the providers said, ``from``..``to``: flagged
    payments (AMOUNT_MISMATCH, DUPLICATE, LATE, FLAGGED), callbacks for no payment of ours
    (UNKNOWN), refunds owed or failed, with the provider references. JSON lists the first
    ``limit`` rows of each section; ``csv``/``xlsx`` stream every row. ADMIN and
    FINANCE_ADMIN."""
    if params["format"] == "json":
        return reconciliation.report(params["from"], params["to"], limit=params["limit"])
    name = f"reconciliation-{params['from']}-{params['to']}"
    return _download(params["format"], _reconciliation_rows(params), name, "Reconciliation")
