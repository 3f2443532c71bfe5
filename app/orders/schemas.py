"""Order and address schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange, PartialLoad
from app.delivery.schemas import DeliveryZoneSchema
from app.fields import Id, Money, Phone, Timestamp
from app.orders.models import OrderStatus, PaymentMethod, PaymentStatus
from app.pagination import PaginationSchema


def _text(maximum: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


# Addresses --------------------------------------------------------------------------
class AddressSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    label = _text(50, load_default="Home")
    recipient_name = _text(200, required=True)
    phone = Phone(required=True)
    county = _text(100, required=True)
    town = _text(100, required=True)
    street = _text(255, required=True)
    landmark = ma.fields.String(validate=validate.Length(max=255), allow_none=True)
    delivery_zone_id = Id(required=True, strict=True)
    delivery_zone = ma.fields.Nested(DeliveryZoneSchema, dump_only=True)
    is_default = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Making an address the default clears the previous one."},
    )
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class AddressUpdateSchema(PartialLoad, AddressSchema):
    """Every field optional: only those sent change."""


# Checkout ---------------------------------------------------------------------------
class CheckoutSchema(ma.Schema):
    address_id = Id(required=True, strict=True)
    delivery_zone_id = Id(
        strict=True,
        allow_none=True,
        metadata={
            "description": "The address's delivery zone, the default; another one is 422 "
            "ZONE_MISMATCH."
        },
    )
    payment_method = ma.fields.Enum(PaymentMethod, required=True)
    notes = ma.fields.String(validate=validate.Length(max=1000), allow_none=True)


# Orders -----------------------------------------------------------------------------
class OrderItemSchema(ma.Schema):
    id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    supplier_id = ma.fields.Integer()
    product_name = ma.fields.String()
    product_sku = ma.fields.String(allow_none=True)
    quantity = ma.fields.Integer()
    returned_quantity = ma.fields.Integer()
    warranty_months = ma.fields.Integer(metadata={"description": "The warranty it was sold with."})
    warranty_expires_at = Timestamp(
        allow_none=True, metadata={"description": "Set at delivery: delivery + warranty_months."}
    )
    unit_price = Money()
    line_total = Money()
    commission_rate = ma.fields.Decimal(
        as_string=True,
        metadata={
            "description": "Admins and suppliers only.",
            "type": "string",
            "format": "decimal",
            "example": "0.1000",
        },
    )
    commission_amount = Money(metadata={"description": "Admins and suppliers only."})
    supplier_earning = Money(metadata={"description": "Admins and suppliers only."})


class OrderHistorySchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "status or payment_status"})
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    changed_by_id = ma.fields.Integer(allow_none=True)
    changed_by_role = ma.fields.String(attribute="changed_by.role", allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = Timestamp()


class OrderCustomerSchema(ma.Schema):
    id = ma.fields.Integer()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    email = ma.fields.String()


class ZoneSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class OrderSummarySchema(ma.Schema):
    """An order in a list. Suppliers see only their items and their subtotal."""

    id = ma.fields.Integer()
    order_number = ma.fields.String()
    status = ma.fields.Enum(OrderStatus)
    payment_status = ma.fields.Enum(PaymentStatus)
    payment_method = ma.fields.Enum(PaymentMethod)
    currency = ma.fields.String()
    subtotal = Money()
    delivery_fee = Money()
    total = Money()
    notes = ma.fields.String(allow_none=True)
    customer = ma.fields.Nested(OrderCustomerSchema)
    address_id = ma.fields.Integer(allow_none=True)
    delivery_zone = ma.fields.Nested(ZoneSummarySchema)
    recipient_name = ma.fields.String()
    recipient_phone = ma.fields.String()
    delivery_county = ma.fields.String()
    delivery_town = ma.fields.String()
    delivery_street = ma.fields.String()
    delivery_landmark = ma.fields.String(allow_none=True)
    estimated_delivery_days = ma.fields.Integer()
    delivery_agent_id = ma.fields.Integer(allow_none=True)
    delivery_company_id = ma.fields.Integer(allow_none=True)
    payment_due_at = Timestamp(
        allow_none=True,
        metadata={"description": "Unpaid M-Pesa/card orders are cancelled after this."},
    )
    paid_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    cancelled_at = Timestamp(allow_none=True)
    cancellation_reason = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    items = ma.fields.List(ma.fields.Nested(OrderItemSchema))


class DeliveryAgentSchema(ma.Schema):
    id = ma.fields.Integer()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class OrderSchema(OrderSummarySchema):
    """One order with its history of status and payment-status changes."""

    delivery_agent = ma.fields.Nested(
        DeliveryAgentSchema,
        allow_none=True,
        metadata={"description": "Who delivers it (once assigned)."},
    )

    history = ma.fields.List(ma.fields.Nested(OrderHistorySchema))
    delivery_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The customer only, while the order is OUT_FOR_DELIVERY or "
            "ARRIVED: the six-digit code to give the delivery agent."
        },
    )


class OrderQuerySchema(OrderedRange, PaginationSchema):
    status = ma.fields.Enum(OrderStatus)
    payment_status = ma.fields.Enum(PaymentStatus)
    payment_method = ma.fields.Enum(PaymentMethod)
    from_ = Timestamp(data_key="from", attribute="from", metadata={"description": "inclusive"})
    to = Timestamp(metadata={"description": "inclusive"})
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of an order number or of the customer's email."},
    )


class StatusChangeSchema(ma.Schema):
    status = ma.fields.Enum(OrderStatus, required=True)
    note = ma.fields.String(validate=validate.Length(max=500), allow_none=True)


class PaymentChangeSchema(ma.Schema):
    payment_status = ma.fields.Enum(PaymentStatus, required=True)
    note = ma.fields.String(validate=validate.Length(max=500), allow_none=True)


class CancelSchema(ma.Schema):
    reason = ma.fields.String(
        validate=validate.Length(min=3, max=500),
        metadata={"description": "Optional for the customer; required when an admin cancels."},
    )
