"""The supplier portal's query strings and responses."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange
from app.catalog.schemas import ProductManageSchema
from app.fields import Money, Timestamp
from app.orders.models import OrderStatus
from app.pagination import PaginationSchema
from app.payout_numbers.schemas import PayoutNumberRequestSchema


class StatementQuerySchema(OrderedRange, PaginationSchema):
    from_ = ma.fields.Date(
        data_key="from", attribute="from", metadata={"description": "First day (UTC), inclusive."}
    )
    to = ma.fields.Date(metadata={"description": "Last day (UTC), inclusive."})
    format = ma.fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "``csv``: the whole range as a file, unpaginated."},
    )


class StatementRowSchema(ma.Schema):
    entry_id = ma.fields.Integer()
    occurred_at = Timestamp()
    kind = ma.fields.String(metadata={"example": "item-delivered"})
    event_key = ma.fields.String(metadata={"example": "item-delivered:42"})
    order_number = ma.fields.String(allow_none=True)
    account = ma.fields.String(metadata={"example": "ON_HOLD"})
    amount = Money(
        allow_negative=True,
        metadata={"description": "Positive: the platform owes you more; negative: less."},
    )
    balance = Money(
        allow_negative=True,
        metadata={
            "description": "What the platform owes you (on hold + available + in flight) "
            "after this line."
        },
    )


class BalancesSchema(ma.Schema):
    on_hold = Money(metadata={"description": "Delivered items' earnings within the hold."})
    available = Money(metadata={"description": "Released earnings, to be paid out."})
    in_flight = Money(metadata={"description": "Payouts sent, not yet confirmed."})
    paid_out_total = Money(metadata={"description": "Every payout confirmed so far."})


# ---- reports ------------------------------------------------------------------------------


def _day(description: str) -> dict:
    return {"metadata": {"description": f"{description} (an Africa/Nairobi day), inclusive."}}


class ReportRangeSchema(OrderedRange, ma.Schema):
    """``from``..``to``: Nairobi days; by default the last 30 days up to today."""

    from_ = ma.fields.Date(data_key="from", attribute="from", **_day("First day"))
    to = ma.fields.Date(**_day("Last day"))


class AnalyticsQuerySchema(ReportRangeSchema):
    interval = ma.fields.String(
        load_default="day",
        validate=validate.OneOf(("day", "week", "month")),
        metadata={"description": "Periods of the series (weeks start on Monday)."},
    )


class ReturnsSummarySchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Returns asked in the range."})
    items_returned = ma.fields.Integer()
    rate = ma.fields.String(
        metadata={
            "example": "0.0250",
            "description": "Items returned / items delivered in the range (a decimal).",
        }
    )


class SupplierBreakdownSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    items = ma.fields.Integer()
    sales = Money()
    commission = Money()
    net = Money()


class LowStockSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    sku = ma.fields.String(allow_none=True)
    stock = ma.fields.Integer()


class SupplierDashboardSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="start_date")
    to = ma.fields.Date(attribute="end_date")
    orders_by_status = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Your orders placed in the range, by their status now."},
    )
    items_sold = ma.fields.Integer(metadata={"description": "Items delivered in the range."})
    gross_sales = Money()
    commission = Money()
    net_earnings = Money(metadata={"description": "Gross sales less commission."})
    balances = ma.fields.Nested(BalancesSchema)
    returns = ma.fields.Nested(ReturnsSummarySchema)
    top_products = ma.fields.List(ma.fields.Nested(SupplierBreakdownSchema))
    low_stock = ma.fields.List(ma.fields.Nested(LowStockSchema))


class PeriodSchema(ma.Schema):
    period = ma.fields.Date(metadata={"description": "The first day of the period."})
    items = ma.fields.Integer()
    sales = Money()
    commission = Money()
    net = Money()


class SupplierAnalyticsSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="start_date")
    to = ma.fields.Date(attribute="end_date")
    interval = ma.fields.String()
    series = ma.fields.List(ma.fields.Nested(PeriodSchema))
    totals = ma.fields.Nested(PeriodSchema)
    by_product = ma.fields.List(ma.fields.Nested(SupplierBreakdownSchema))
    by_category = ma.fields.List(ma.fields.Nested(SupplierBreakdownSchema))


class OrderLineQuerySchema(OrderedRange, PaginationSchema):
    status = ma.fields.Enum(OrderStatus)
    from_ = ma.fields.Date(data_key="from", attribute="from", **_day("Placed from"))
    to = ma.fields.Date(**_day("Placed until"))


class OrderLineSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The order line's id."})
    order_id = ma.fields.Integer()
    order_number = ma.fields.String()
    status = ma.fields.Enum(OrderStatus)
    ordered_at = Timestamp()
    delivered_at = Timestamp(allow_none=True)
    product_id = ma.fields.Integer()
    product_name = ma.fields.String()
    product_sku = ma.fields.String(allow_none=True)
    quantity = ma.fields.Integer()
    unit_price = Money()
    line_total = Money()
    commission_rate = ma.fields.Decimal(places=4, as_string=True)
    commission = Money()
    net = Money(metadata={"description": "Line total less commission: your earning."})
    delivery_town = ma.fields.String()
    delivery_county = ma.fields.String()


# ---- products -----------------------------------------------------------------------------


class OwnProductQuerySchema(PaginationSchema):
    is_active = ma.fields.Boolean()
    max_stock = ma.fields.Integer(
        validate=validate.Range(min=0), metadata={"description": "Stock at most this."}
    )


class OwnProductSchema(ProductManageSchema):
    units_sold = ma.fields.Integer(
        attribute="sold_count", metadata={"description": "Units ordered, less cancelled."}
    )


class ProductStatusSchema(ma.Schema):
    is_active = ma.fields.Boolean(required=True)


# ---- profile and terms --------------------------------------------------------------------


class TermsSchema(ma.Schema):
    version = ma.fields.String()
    effective_date = ma.fields.Date(allow_none=True)
    commission_rate = ma.fields.Decimal(places=4, as_string=True)
    commission_rule = ma.fields.String()
    payout_rules = ma.fields.List(ma.fields.String())
    text = ma.fields.String()


class TermsStatusSchema(ma.Schema):
    current_version = ma.fields.String()
    accepted_version = ma.fields.String(allow_none=True)
    accepted_at = Timestamp(allow_none=True)
    accepted_ip = ma.fields.String(allow_none=True)
    accepted_current = ma.fields.Boolean()


class TermsAcceptSchema(ma.Schema):
    version = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))


class ProfileSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "Your supplier id."})
    business_name = ma.fields.String()
    business_registration_number = ma.fields.String(allow_none=True)
    kra_pin = ma.fields.String(allow_none=True)
    business_address = ma.fields.String(allow_none=True)
    email = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    is_approved = ma.fields.Boolean()
    approved_at = Timestamp(allow_none=True)
    mpesa_payout_number = ma.fields.String(
        allow_none=True, metadata={"description": "Where payouts go now."}
    )
    pending_payout_number_change = ma.fields.Nested(PayoutNumberRequestSchema, allow_none=True)
    commission_rate = ma.fields.Decimal(places=4, as_string=True)
    terms = ma.fields.Nested(TermsStatusSchema)
