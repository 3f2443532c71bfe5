"""Return request, response and query schemas."""

from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange
from app.fields import Id, Money, Timestamp
from app.pagination import PaginationSchema
from app.returns.models import (
    ItemCondition,
    ReplacementStatus,
    ReturnReason,
    ReturnStatus,
    ReturnType,
    SupplierDecision,
    WarrantyResolution,
)
from app.returns.policy import EVIDENCE_REQUIRED

MAX_IMAGES = 8
MAX_URL = 500


class HttpsUrl(ma.fields.String):
    """An image's address: an absolute ``https://`` URL with a host (the upload's)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = urlsplit(text)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in text):
            raise ma.ValidationError("Not an https:// URL.")
        return text


def _note(maximum: int = 1000, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(max=maximum), allow_none=True, **kwargs)


class ReturnCreateSchema(ma.Schema):
    order_id = Id(required=True, strict=True)
    order_item_id = Id(required=True, strict=True)
    quantity = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=1000)
    )
    reason = ma.fields.Enum(ReturnReason, required=True)
    description = ma.fields.String(validate=validate.Length(min=1, max=2000), allow_none=True)
    images = ma.fields.List(
        HttpsUrl(validate=validate.Length(max=MAX_URL)),
        validate=validate.Length(max=MAX_IMAGES),
        load_default=list,
        metadata={
            "description": f"Evidence: up to {MAX_IMAGES} https URLs (from "
            "`POST /uploads/return`). DEFECTIVE and DAMAGED_IN_TRANSIT need at least one."
        },
    )

    @ma.validates_schema
    def _evidence(self, data, **kwargs):
        if data.get("reason") in EVIDENCE_REQUIRED and not data.get("images"):
            raise ma.ValidationError(
                f"At least one image is required for {data['reason']}.", field_name="images"
            )


class ReturnQuerySchema(OrderedRange, PaginationSchema):
    status = ma.fields.Enum(ReturnStatus)
    reason = ma.fields.Enum(ReturnReason)
    type = ma.fields.Enum(ReturnType)
    from_ = Timestamp(data_key="from", attribute="from", metadata={"description": "inclusive"})
    to = Timestamp(metadata={"description": "inclusive"})


class PeriodSchema(OrderedRange, ma.Schema):
    from_ = Timestamp(data_key="from", attribute="from", metadata={"description": "inclusive"})
    to = Timestamp(metadata={"description": "inclusive"})


class NoteSchema(ma.Schema):
    note = _note()


class RespondSchema(ma.Schema):
    decision = ma.fields.Enum(SupplierDecision, required=True)
    reason = _note(metadata={"description": "Required to dispute."})
    resolution = ma.fields.Enum(
        WarrantyResolution,
        metadata={"description": "Accepting a WARRANTY claim: REPAIR, REPLACEMENT or REFUND."},
    )

    @ma.validates_schema
    def _dispute_reason(self, data, **kwargs):
        if (
            data.get("decision") == SupplierDecision.DISPUTE
            and not (data.get("reason") or "").strip()
        ):
            raise ma.ValidationError("A reason is required to dispute.", field_name="reason")


class ReturnReviewSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["APPROVE", "REJECT"]))
    reason = _note(metadata={"description": "Required to reject, and to approve over a dispute."})


class ReturnDecisionSchema(ma.Schema):
    """``/admin/returns/<id>/approve`` and ``/reject``: the decision is in the path."""

    reason = _note(metadata={"description": "Required to reject, and to approve over a dispute."})
    notes = _note(metadata={"description": "The original web app's name for `reason`."})


class StatusUpdateSchema(ma.Schema):
    status = ma.fields.Enum(
        ReturnStatus,
        required=True,
        metadata={"description": "ITEM_RECEIVED (with item_condition) or COMPLETED (with note)."},
    )
    item_condition = ma.fields.Enum(ItemCondition)
    note = _note()

    @ma.validates_schema
    def _shape(self, data, **kwargs):
        status = data.get("status")
        if status not in (ReturnStatus.ITEM_RECEIVED, ReturnStatus.COMPLETED):
            raise ma.ValidationError("Only ITEM_RECEIVED or COMPLETED.", field_name="status")
        if status == ReturnStatus.ITEM_RECEIVED and data.get("item_condition") is None:
            raise ma.ValidationError(
                "item_condition is required with ITEM_RECEIVED.", field_name="item_condition"
            )


class ReplacementUpdateSchema(ma.Schema):
    status = ma.fields.Enum(ReplacementStatus, required=True)


class ReturnEventSchema(ma.Schema):
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor_id = ma.fields.Integer(allow_none=True)
    actor_role = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = Timestamp()


class ReplacementSchema(ma.Schema):
    id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    quantity = ma.fields.Integer()
    status = ma.fields.Enum(ReplacementStatus)
    address = ma.fields.Dict()
    shipped_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)


class ReturnRefundSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    method = ma.fields.String(allow_none=True)
    amount = Money()
    completed_at = Timestamp(allow_none=True)


class ReturnItemSchema(ma.Schema):
    id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    product_name = ma.fields.String()
    unit_price = Money()
    quantity = ma.fields.Integer()
    returned_quantity = ma.fields.Integer()
    warranty_months = ma.fields.Integer()
    warranty_expires_at = Timestamp(allow_none=True)


class ReturnSchema(ma.Schema):
    id = ma.fields.Integer()
    return_number = ma.fields.String()
    order_id = ma.fields.Integer()
    order_number = ma.fields.String(attribute="order.order_number")
    order_item_id = ma.fields.Integer()
    item = ma.fields.Nested(ReturnItemSchema)
    customer_id = ma.fields.Integer()
    supplier_id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    quantity = ma.fields.Integer()
    reason = ma.fields.Enum(ReturnReason)
    type = ma.fields.Enum(ReturnType)
    description = ma.fields.String(allow_none=True)
    images = ma.fields.List(ma.fields.String())
    status = ma.fields.Enum(ReturnStatus)
    refund_amount = Money(metadata={"description": "What the customer gets (the policy)."})
    supplier_deduction = Money(
        metadata={"description": "Taken from the supplier's earnings (suppliers and admins)."}
    )
    commission_refund = Money(metadata={"description": "Suppliers and admins only."})
    restocking_fee = Money()
    platform_cost = Money(metadata={"description": "Suppliers and admins only."})
    delivery_fee_refund = Money()
    currency = ma.fields.Constant("KES")
    supplier_respond_by = Timestamp()
    supplier_acknowledged_at = Timestamp(allow_none=True)
    supplier_responded_at = Timestamp(allow_none=True)
    supplier_decision = ma.fields.Enum(SupplierDecision, allow_none=True)
    supplier_response = ma.fields.String(allow_none=True)
    resolution = ma.fields.Enum(WarrantyResolution, allow_none=True)
    escalated_at = Timestamp(allow_none=True)
    decided_at = Timestamp(allow_none=True)
    decided_by_id = ma.fields.Integer(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)
    item_condition = ma.fields.Enum(ItemCondition, allow_none=True)
    received_at = Timestamp(allow_none=True)
    restocked_at = Timestamp(allow_none=True)
    refund_id = ma.fields.Integer(allow_none=True)
    refunded_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    cancelled_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class ReturnDetailSchema(ReturnSchema):
    timeline = ma.fields.List(ma.fields.Nested(ReturnEventSchema), attribute="events")
    refund = ma.fields.Nested(
        ReturnRefundSchema, allow_none=True, metadata={"description": "Once approved."}
    )
    replacement = ma.fields.Nested(ReplacementSchema, allow_none=True)


class RateRowSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String(allow_none=True)
    units_returned = ma.fields.Integer()
    units_delivered = ma.fields.Integer()
    return_rate = ma.fields.Decimal(as_string=True, allow_none=True)


class RateTablesSchema(ma.Schema):
    by_supplier = ma.fields.List(ma.fields.Nested(RateRowSchema))
    by_product = ma.fields.List(ma.fields.Nested(RateRowSchema))
    by_category = ma.fields.List(ma.fields.Nested(RateRowSchema))


class ReturnStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    units_requested = ma.fields.Integer()
    units_returned = ma.fields.Integer()
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    by_reason = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    refunded_amount = Money()
    supplier_deductions = Money()
    restocking_fees = Money()
    supplier_response_rate = ma.fields.Float(allow_none=True)
    median_hours_to_decision = ma.fields.Float(allow_none=True)
    median_hours_to_refund = ma.fields.Float(allow_none=True)


class ReturnAnalyticsSchema(ReturnStatsSchema):
    return_rates = ma.fields.Nested(RateTablesSchema)
    from_ = Timestamp(data_key="from", attribute="from", allow_none=True)
    to = Timestamp(allow_none=True)
