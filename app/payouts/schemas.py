"""Payout requests, filters and responses."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange
from app.fields import Money, Timestamp
from app.pagination import PaginationSchema
from app.payouts.models import PayoutMethod, PayoutStatus


class PayoutSchema(ma.Schema):
    id = ma.fields.Integer()
    party = ma.fields.String(metadata={"example": "SUPPLIER"})
    supplier_id = ma.fields.Integer(allow_none=True)
    agent_id = ma.fields.Integer(allow_none=True)
    period = ma.fields.String(
        allow_none=True,
        metadata={"description": "The scheduled run's time (Nairobi); null: paid on demand."},
    )
    amount = Money()
    currency = ma.fields.Constant("KES")
    phone = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"example": "PROCESSING"})
    method = ma.fields.String(metadata={"example": "MPESA"})
    unknown = ma.fields.Boolean(
        metadata={"description": "In flight, outcome unknown (a timeout): being checked."}
    )
    attempts = ma.fields.Integer()
    receipt = ma.fields.String(allow_none=True, metadata={"example": "SG632NMUAB"})
    reference = ma.fields.String(allow_none=True)
    failure_reason = ma.fields.String(allow_none=True)
    originator_conversation_id = ma.fields.String(allow_none=True)
    conversation_id = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    sent_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    failed_at = Timestamp(allow_none=True)
    cancelled_at = Timestamp(allow_none=True)


class PayoutRequestSchema(ma.Schema):
    supplier_id = ma.fields.Integer(required=True, validate=validate.Range(min=1))
    amount = Money(
        load_default=None,
        metadata={
            "description": "Whole shillings, at least 10, at most the available balance; "
            "default: the whole available balance (its cents stay for the next payout)."
        },
    )


class PayNowSchema(ma.Schema):
    """The pay-now screen sends nothing: the whole available balance is paid."""


class PayoutListQuerySchema(OrderedRange, PaginationSchema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in PayoutStatus]))
    supplier_id = ma.fields.Integer(validate=validate.Range(min=1))
    from_ = ma.fields.Date(data_key="from", attribute="from", metadata={"description": "UTC day"})
    to = ma.fields.Date(metadata={"description": "UTC day, inclusive"})


class ManualPayoutSchema(ma.Schema):
    method = ma.fields.String(
        required=True,
        validate=validate.OneOf([m.value for m in PayoutMethod if m != PayoutMethod.MPESA]),
        metadata={"example": "BANK_TRANSFER"},
    )
    reference = ma.fields.String(
        required=True,
        validate=validate.Length(min=2, max=100),
        metadata={"description": "The bank transfer's or M-Pesa's reference."},
    )


class BatchRequestSchema(ma.Schema):
    ids = ma.fields.List(
        ma.fields.Integer(validate=validate.Range(min=1)),
        required=True,
        validate=validate.Length(min=1, max=100),
    )


class BatchResultSchema(ma.Schema):
    payout_id = ma.fields.Integer()
    ok = ma.fields.Boolean()
    status = ma.fields.String(allow_none=True)
    error = ma.fields.Dict(allow_none=True, metadata={"example": {"code": "PROVIDER_ERROR"}})


class RunSummarySchema(ma.Schema):
    party = ma.fields.String()
    period = ma.fields.String(metadata={"example": "2026-12-07T07:00"})
    payouts = ma.fields.Integer(metadata={"description": "Payouts created by this run"})
    accepted = ma.fields.Integer()
    unknown = ma.fields.Integer()
    refused = ma.fields.Integer(metadata={"description": "Left PENDING (Daraja refused)"})
    resumed = ma.fields.Integer()
    batches = ma.fields.Integer()
    skipped = ma.fields.Boolean(metadata={"description": "A run was already going"})


class HoldPartSchema(ma.Schema):
    release_at = Timestamp()
    amount = Money()


class PendingPayoutSchema(ma.Schema):
    available = Money()
    amount = Money(metadata={"description": "What the next run pays: whole shillings."})
    min_amount = Money(metadata={"description": "The smallest scheduled payout."})
    eligible = ma.fields.Boolean()
    blocked_by = ma.fields.List(ma.fields.String(), metadata={"example": ["PAYOUT_NUMBER_MISSING"]})
    next_run_at = Timestamp()
    in_flight = Money()
    on_hold = Money()
    on_hold_parts = ma.fields.List(ma.fields.Nested(HoldPartSchema))


class PendingSupplierSchema(ma.Schema):
    supplier_id = ma.fields.Integer()
    business_name = ma.fields.String()
    mpesa_payout_number = ma.fields.String(allow_none=True)
    terms_accepted = ma.fields.Boolean()
    available = Money()
    payable = Money(metadata={"description": "Whole shillings of the available balance"})
