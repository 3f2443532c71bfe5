"""The supplier portal's query strings and responses."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange
from app.fields import Money, Timestamp
from app.pagination import PaginationSchema


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
