"""Query strings and responses of the admin figures."""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange
from app.calendar import INTERVALS, MAX_DAYS, today
from app.fields import Money, Timestamp

DEFAULT_DAYS = 30


class RangeQuerySchema(OrderedRange, ma.Schema):
    """``from``/``to``: Nairobi days, inclusive (default: the last 30 days, today
    included); ``interval``: the periods' length."""

    from_ = ma.fields.Date(
        data_key="from",
        attribute="from",
        metadata={"description": "First Nairobi day, inclusive (default: 29 days before to)."},
    )
    to = ma.fields.Date(metadata={"description": "Last Nairobi day, inclusive (default: today)."})
    interval = ma.fields.String(
        load_default="day",
        validate=validate.OneOf(INTERVALS),
        metadata={"description": "Period length; a day interval covers at most 366 days."},
    )

    @ma.post_load
    def _defaults_and_length(self, data, **kwargs):
        data.setdefault("to", today())
        data.setdefault("from", data["to"] - timedelta(days=DEFAULT_DAYS - 1))
        if data["from"] > data["to"]:
            raise ma.ValidationError("'from' must not be after 'to'.", field_name="from")
        days = (data["to"] - data["from"]).days + 1
        limit = MAX_DAYS[data["interval"]]
        if days > limit:
            raise ma.ValidationError(
                f"At interval={data['interval']} a range covers at most {limit} days.",
                field_name="to",
            )
        return data


class ReportQuerySchema(RangeQuerySchema):
    format = ma.fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv", "xlsx")),
        metadata={"description": "``csv`` / ``xlsx``: the report as a streamed file."},
    )


class ReconciliationQuerySchema(ReportQuerySchema):
    limit = ma.fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "JSON only: rows listed per section (counts cover all)."},
    )


# -- financial report ----------------------------------------------------------------
FIGURE_DESCRIPTIONS = {
    "gmv": "Item subtotals of the orders paid in the period.",
    "delivery_fees": "Delivery fees of the orders delivered (platform and agent shares).",
    "agent_fees": "Delivery agents' share of those fees.",
    "commission_revenue": "Commission recognised on delivered items (less reversals).",
    "restocking_fees": "Restocking fees kept on returns.",
    "refunds": "Refunds the providers confirmed.",
    "supplier_payouts": "Supplier payouts confirmed.",
    "agent_payouts": "Agent payouts confirmed.",
    "payouts_in_flight": "Payouts sent, not yet confirmed, at the end of the period.",
    "held_for_undelivered": "Customers' money held for undelivered orders, at the end.",
    "cash_held_by_agents": "Cash collected by agents, not yet handed in, at the end.",
    "net_revenue": "Commission, delivery, rounding and restocking revenue less return costs.",
}
FiguresSchema = ma.Schema.from_dict(
    {
        name: Money(allow_negative=True, metadata={"description": text})
        for name, text in FIGURE_DESCRIPTIONS.items()
    },
    name="FinancialFigures",
)


class PeriodFiguresSchema(FiguresSchema):
    start = ma.fields.Date()
    end = ma.fields.Date()


class FinancialReportSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    totals = ma.fields.Nested(FiguresSchema)
    periods = ma.fields.List(ma.fields.Nested(PeriodFiguresSchema))
    by_payment_method = ma.fields.Dict(
        keys=ma.fields.String(metadata={"example": "MPESA"}),
        values=ma.fields.Nested(FiguresSchema),
        metadata={"description": "Totals per payment method; NONE: entries of no order."},
    )


# -- analytics -------------------------------------------------------------------------
class OrderFiguresSchema(ma.Schema):
    orders_placed = ma.fields.Integer()
    orders_paid = ma.fields.Integer()
    sales = Money(metadata={"description": "Item subtotals of the orders paid."})
    average_order_value = Money()


class SeriesPointSchema(OrderFiguresSchema):
    start = ma.fields.Date()
    end = ma.fields.Date()


class AnalyticsTotalsSchema(OrderFiguresSchema):
    items_sold = ma.fields.Integer()
    carts_left = ma.fields.Integer(
        metadata={"description": "Carts given items in the range and not checked out."}
    )
    cart_conversion_rate = ma.fields.Decimal(
        as_string=True,
        metadata={
            "description": "orders placed / (orders placed + carts left)",
            "example": "0.4200",
        },
    )


class BreakdownSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(allow_none=True)
    sales = Money()
    items_sold = ma.fields.Integer()


class MethodBreakdownSchema(ma.Schema):
    payment_method = ma.fields.String()
    sales = Money()
    items_sold = ma.fields.Integer()


class CountyBreakdownSchema(ma.Schema):
    county = ma.fields.String()
    sales = Money()
    orders_paid = ma.fields.Integer()


class AnalyticsSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    totals = ma.fields.Nested(AnalyticsTotalsSchema)
    series = ma.fields.List(
        ma.fields.Nested(SeriesPointSchema), metadata={"description": "One point per period."}
    )
    by_payment_method = ma.fields.List(ma.fields.Nested(MethodBreakdownSchema))
    by_category = ma.fields.List(ma.fields.Nested(BreakdownSchema))
    by_supplier = ma.fields.List(
        ma.fields.Nested(BreakdownSchema), metadata={"description": "The top 10 by sales."}
    )
    by_county = ma.fields.List(ma.fields.Nested(CountyBreakdownSchema))
    top_products = ma.fields.List(
        ma.fields.Nested(BreakdownSchema), metadata={"description": "The top 10 by sales."}
    )


# -- dashboard -------------------------------------------------------------------------
class WindowSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    orders_by_status = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Orders reaching each status in the window (PENDING: placed)."},
    )
    gmv = Money()
    revenue = Money(allow_negative=True, metadata={"description": "The report's net_revenue."})
    new_customers = ma.fields.Integer()
    new_suppliers = ma.fields.Integer()


class AmountCountSchema(ma.Schema):
    count = ma.fields.Integer()
    amount = Money()


class CurrentSchema(ma.Schema):
    pending_supplier_approvals = ma.fields.Integer()
    returns_awaiting_decision = ma.fields.Integer()
    refunds_due = ma.fields.Nested(AmountCountSchema)
    payouts_unknown = ma.fields.Integer()
    unassigned_deliveries = ma.fields.Integer()
    low_stock = ma.fields.Integer()
    late_deliveries = ma.fields.Integer()


class DashboardSchema(ma.Schema):
    windows = ma.fields.Dict(
        keys=ma.fields.String(metadata={"example": "7d"}), values=ma.fields.Nested(WindowSchema)
    )
    current = ma.fields.Nested(CurrentSchema)


# -- reconciliation ----------------------------------------------------------------------
class ReconciliationRowSchema(ma.Schema):
    section = ma.fields.String()
    problem = ma.fields.String(metadata={"example": "AMOUNT_MISMATCH"})
    occurred_at = Timestamp()
    order_number = ma.fields.String(allow_none=True)
    provider = ma.fields.String(allow_none=True)
    reference = ma.fields.String(allow_none=True)
    provider_reference = ma.fields.String(allow_none=True)
    status = ma.fields.String(allow_none=True)
    amount = Money(allow_none=True)
    amount_received = Money(allow_none=True)
    detail = ma.fields.String(allow_none=True)


class ReconciliationSectionSchema(ma.Schema):
    count = ma.fields.Integer()
    amount = Money()
    items = ma.fields.List(ma.fields.Nested(ReconciliationRowSchema))


class ReconciliationSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    flagged_payments = ma.fields.Nested(ReconciliationSectionSchema)
    unknown_payments = ma.fields.Nested(ReconciliationSectionSchema)
    refunds = ma.fields.Nested(ReconciliationSectionSchema)
    transfers_in_flight = ma.fields.Nested(ReconciliationSectionSchema)
    cash_not_handed_in = ma.fields.Nested(ReconciliationSectionSchema)
