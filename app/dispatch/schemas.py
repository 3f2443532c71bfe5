"""Dispatch request and response schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import PartialLoad
from app.delivery.schemas import DeliveryZoneSchema
from app.dispatch.models import (
    AssignmentMethod,
    AssignmentStatus,
    CodStatus,
    Confirmation,
    OfferStatus,
    RequestStatus,
    Resolution,
)
from app.dispatch.proof import AGENT_MOVES
from app.fields import Id, Money, Phone, Timestamp, rate
from app.orders.models import OrderStatus
from app.orders.schemas import OrderSchema, OrderSummarySchema
from app.pagination import PaginationSchema
from app.payouts.models import PayoutStatus


def _text(maximum: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


# Agents and companies -------------------------------------------------------------------
class CompanySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = _text(200, required=True)
    contact_email = ma.fields.Email(allow_none=True, validate=validate.Length(max=255))
    contact_phone = Phone(allow_none=True)
    fee_share_rate = rate(
        allow_none=True,
        metadata={"description": "The company's share of a delivery fee (null: AGENT_FEE_RATE)."},
    )
    is_active = ma.fields.Boolean(load_default=True)
    created_at = Timestamp(dump_only=True)


class CompanyUpdateSchema(PartialLoad, CompanySchema):
    pass


class CompanyBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class AgentProfileSchema(ma.Schema):
    """An agent's own profile: vehicle and availability (the payout number is changed
    through ``PUT /delivery/agent/update-mpesa``)."""

    user_id = ma.fields.Integer(dump_only=True)
    vehicle_type = ma.fields.String(allow_none=True, validate=validate.Length(max=50))
    vehicle_registration = ma.fields.String(allow_none=True, validate=validate.Length(max=20))
    is_available = ma.fields.Boolean()
    mpesa_payout_number = ma.fields.String(dump_only=True, allow_none=True)
    delivery_fee_percentage = ma.fields.Decimal(as_string=True, dump_only=True, allow_none=True)
    delivery_company = ma.fields.Nested(CompanyBriefSchema, dump_only=True, allow_none=True)


class AgentProfileUpdateSchema(PartialLoad, AgentProfileSchema):
    pass


class AgentUserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()


class AgentRowSchema(ma.Schema):
    agent = ma.fields.Nested(AgentUserSchema)
    profile = ma.fields.Nested(
        AgentProfileSchema, attribute="agent.delivery_agent_profile", allow_none=True
    )
    zone_ids = ma.fields.List(ma.fields.Integer())
    live_deliveries = ma.fields.Integer()
    delivered_total = ma.fields.Integer()
    cash_held = Money()


class AgentStatsSchema(AgentRowSchema):
    failed_attempts = ma.fields.Integer()
    open_disputes = ma.fields.Integer()
    last_delivered_at = Timestamp(allow_none=True)


class AgentZonesSchema(ma.Schema):
    zone_ids = ma.fields.List(Id(strict=True), required=True, validate=validate.Length(max=200))


class AgentZonesResultSchema(ma.Schema):
    agent_id = ma.fields.Integer()
    zone_ids = ma.fields.List(ma.fields.Integer())


class ServingZoneSchema(ma.Schema):
    zone = ma.fields.Nested(DeliveryZoneSchema)
    serving = ma.fields.Boolean()


# Zone requests ----------------------------------------------------------------------------
class ZoneRequestSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    agent_id = ma.fields.Integer(dump_only=True)
    zone_id = Id(required=True, strict=True)
    status = ma.fields.Enum(RequestStatus, dump_only=True)
    note = ma.fields.String(allow_none=True, validate=validate.Length(max=500))
    decided_by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    decided_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class ZoneRequestQuerySchema(PaginationSchema):
    status = ma.fields.Enum(RequestStatus)


class ZoneRequestDecisionSchema(ma.Schema):
    note = ma.fields.String(allow_none=True, validate=validate.Length(max=500))


# Assignment -------------------------------------------------------------------------------
class AssignSchema(ma.Schema):
    agent_id = Id(required=True, strict=True)


class ForceAssignSchema(AssignSchema):
    note = _text(500, required=True)


class AssignCompanySchema(ma.Schema):
    company_id = Id(required=True, strict=True)
    tracking_reference = _text(100, required=True)


class AssignmentSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    agent_id = ma.fields.Integer(allow_none=True)
    company_id = ma.fields.Integer(allow_none=True)
    tracking_reference = ma.fields.String(allow_none=True)
    company_fee_share = Money(allow_none=True)
    method = ma.fields.Enum(AssignmentMethod)
    status = ma.fields.Enum(AssignmentStatus)
    note = ma.fields.String(allow_none=True)
    assigned_by_id = ma.fields.Integer(allow_none=True)
    assigned_at = Timestamp()


class AutoAssignAllSchema(ma.Schema):
    assigned = ma.fields.Integer()
    left_unassigned = ma.fields.Integer(
        metadata={"description": "Waiting orders no available agent serves."}
    )
    by_agent = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class UnassignedQuerySchema(PaginationSchema):
    zone_id = Id(strict=False)


class OfferSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    status = ma.fields.Enum(OfferStatus)
    expires_at = Timestamp()
    created_at = Timestamp()
    accepted_by_id = ma.fields.Integer(allow_none=True)
    closed_at = Timestamp(allow_none=True)


class OfferQuerySchema(PaginationSchema):
    status = ma.fields.Enum(OfferStatus)


class OfferedOrderSchema(ma.Schema):
    id = ma.fields.Integer()
    order_number = ma.fields.String()
    delivery_zone_id = ma.fields.Integer()
    delivery_county = ma.fields.String()
    delivery_town = ma.fields.String()
    delivery_fee = Money()
    payment_method = ma.fields.String()
    total = Money()


class AvailableRequestSchema(ma.Schema):
    offer = ma.fields.Nested(OfferSchema)
    order = ma.fields.Nested(OfferedOrderSchema)


# Delivering -------------------------------------------------------------------------------
class AgentOrderQuerySchema(PaginationSchema):
    status = ma.fields.Enum(OrderStatus)


class AgentStatusSchema(ma.Schema):
    status = ma.fields.String(
        required=True,
        validate=validate.OneOf(list(AGENT_MOVES)),
        metadata={"description": "DELIVERED only through confirm-delivery."},
    )
    note = ma.fields.String(allow_none=True, validate=validate.Length(max=400))

    @ma.validates_schema
    def note_for_failure(self, data, **kwargs):
        if data.get("status") == "FAILED_ATTEMPT" and not data.get("note"):
            raise ma.ValidationError("Say why the attempt failed.", "note")


class ConfirmDeliverySchema(ma.Schema):
    code = ma.fields.String(
        validate=validate.Regexp(r"^\d{6}$", error="The code is six digits."),
        metadata={"description": "The customer's code; an admin may leave it out and give notes."},
    )
    recipient_name = _text(200, required=True)
    photo_url = ma.fields.URL(allow_none=True, validate=validate.Length(max=500))
    notes = ma.fields.String(allow_none=True, validate=validate.Length(max=1000))


class DeliverySchema(ma.Schema):
    order_id = ma.fields.Integer()
    recipient_name = ma.fields.String(allow_none=True)
    photo_url = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    delivered_by_id = ma.fields.Integer(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    failed_attempts = ma.fields.Integer()
    code_locked = ma.fields.Boolean()
    confirmation = ma.fields.Enum(Confirmation, allow_none=True)
    confirmed_at = Timestamp(allow_none=True)
    dispute_reason = ma.fields.String(allow_none=True)
    disputed_at = Timestamp(allow_none=True)
    resolution = ma.fields.Enum(Resolution, allow_none=True)
    resolution_note = ma.fields.String(allow_none=True)
    resolved_at = Timestamp(allow_none=True)


class AgentOrderSchema(OrderSchema):
    """An order as its agent sees it (the recipient's phone goes 24 h after delivery)."""

    delivery = ma.fields.Nested(DeliverySchema, allow_none=True)


class DisputeSchema(ma.Schema):
    reason = _text(1000, required=True)


class ResolveDisputeSchema(ma.Schema):
    resolution = ma.fields.Enum(Resolution, required=True)
    note = _text(1000, required=True)


class ConfirmationQuerySchema(PaginationSchema):
    pass


# Cash on delivery ---------------------------------------------------------------------------
class CollectCodSchema(ma.Schema):
    amount = Money(required=True)


class VerifyCodSchema(ma.Schema):
    reference = _text(100, required=True)


class CodCollectionSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    payment_id = ma.fields.Integer()
    collected_by_id = ma.fields.Integer()
    agent_id = ma.fields.Integer(allow_none=True)
    amount = Money()
    status = ma.fields.Enum(CodStatus)
    collected_at = Timestamp()
    verified_by_id = ma.fields.Integer(allow_none=True)
    verified_at = Timestamp(allow_none=True)
    reference = ma.fields.String(allow_none=True)


class CodQuerySchema(PaginationSchema):
    status = ma.fields.Enum(CodStatus)


# Dashboards -------------------------------------------------------------------------------
class EarningsSchema(ma.Schema):
    on_hold = Money()
    available = Money()
    in_flight = Money()
    paid_out_total = Money()


class AgentDashboardSchema(ma.Schema):
    agent_id = ma.fields.Integer()
    is_available = ma.fields.Boolean()
    live_deliveries = ma.fields.Integer()
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    delivered_total = ma.fields.Integer()
    delivered_today = ma.fields.Integer()
    open_requests = ma.fields.Integer()
    earnings = ma.fields.Nested(EarningsSchema)
    cash_held = Money(metadata={"description": "Cash collected and not yet handed in."})
    payable = Money(
        metadata={
            "description": "What the next payout carries: available earnings less cash held "
            "(nothing while the cash held covers the earnings)."
        }
    )
    zone_ids = ma.fields.List(ma.fields.Integer())


class AdminDashboardSchema(ma.Schema):
    unassigned = ma.fields.Integer()
    live_assignments = ma.fields.Integer()
    out_for_delivery = ma.fields.Integer()
    arrived = ma.fields.Integer()
    pending_confirmations = ma.fields.Integer()
    disputed = ma.fields.Integer()
    open_requests = ma.fields.Integer()
    pending_zone_requests = ma.fields.Integer()
    cash_held_count = ma.fields.Integer()
    cash_held_total = Money()
    late_deliveries = ma.fields.List(
        ma.fields.Nested(OrderSummarySchema),
        metadata={"description": "Orders past estimated_delivery_days from payment (oldest 50)."},
    )


class ZoneOverviewSchema(ma.Schema):
    zone = ma.fields.Nested(DeliveryZoneSchema)
    agent_ids = ma.fields.List(ma.fields.Integer())
    open_orders = ma.fields.Integer()
    unassigned_orders = ma.fields.Integer()


class JobResultSchema(ma.Schema):
    count = ma.fields.Integer()


# Agent pay ------------------------------------------------------------------------------------
class PayoutQuerySchema(PaginationSchema):
    status = ma.fields.Enum(PayoutStatus)


class AgentPayNowSchema(ma.Schema):
    amount = Money(
        metadata={"description": "Whole shillings; default: everything payable."},
    )


class PayoutRunSchema(ma.Schema):
    period = ma.fields.String()
    payouts = ma.fields.Integer()
    accepted = ma.fields.Integer()
    unknown = ma.fields.Integer()
    refused = ma.fields.Integer()
    resumed = ma.fields.Integer()
    skipped = ma.fields.Boolean()


class PendingPaymentSchema(ma.Schema):
    agent = ma.fields.Nested(AgentUserSchema)
    available = Money()
    on_hold = Money()
    cash_held = Money()
    payable = Money(metadata={"description": "Available less cash held (what pay-now sends)."})
