"""Request and response schemas of the payments API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import OrderedRange
from app.fields import Id, Money, Phone, Timestamp
from app.pagination import PaginationSchema
from app.payments.models import RefundCause, RefundMethod, RefundStatus


class OrderRefSchema(ma.Schema):
    order_id = Id(required=True, strict=True)


class MpesaInitiateSchema(OrderRefSchema):
    phone = Phone(required=True)


class MpesaQuerySchema(ma.Schema):
    checkout_request_id = ma.fields.String(validate=ma.validate.Length(min=1, max=100))
    order_id = Id(strict=True)

    @ma.validates_schema
    def one_of(self, data, **kwargs):
        if ("checkout_request_id" in data) == ("order_id" in data):
            raise ma.ValidationError(
                "Send either checkout_request_id or order_id.", field_name="_schema"
            )


class CardVerifySchema(ma.Schema):
    reference = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))


class CashConfirmSchema(OrderRefSchema):
    amount = Money(required=True)


class StkPushSchema(ma.Schema):
    payment_id = ma.fields.Integer(attribute="id")
    order_id = ma.fields.Integer()
    reference = ma.fields.String()
    checkout_request_id = ma.fields.String(metadata={"example": "ws_CO_191220191020363925"})
    merchant_request_id = ma.fields.String(metadata={"example": "29115-34620561-1"})
    customer_message = ma.fields.Function(
        lambda p: (p.provider_response or {}).get("stk_push", {}).get("CustomerMessage"),
        metadata={"example": "Success. Request accepted for processing"},
    )
    amount = Money(metadata={"description": "Whole shillings asked of M-Pesa"})
    status = ma.fields.String()


class CardCheckoutSchema(ma.Schema):
    payment_id = ma.fields.Integer(attribute="id")
    order_id = ma.fields.Integer()
    authorization_url = ma.fields.Function(
        lambda p: (p.provider_response or {}).get("authorization_url"),
        metadata={"example": "https://checkout.paystack.com/3ni8kdavz62431k"},
    )
    access_code = ma.fields.Function(lambda p: (p.provider_response or {}).get("access_code"))
    reference = ma.fields.String()
    amount = Money()
    currency = ma.fields.String()


class PaymentSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    method = ma.fields.String(metadata={"example": "MPESA"})
    provider = ma.fields.String(metadata={"example": "MPESA"})
    reference = ma.fields.String()
    checkout_request_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"example": "COMPLETED"})
    amount = Money()
    amount_received = Money(allow_none=True)
    currency = ma.fields.String(metadata={"example": "KES"})
    receipt = ma.fields.String(allow_none=True, metadata={"example": "NLJ7RT61SV"})
    failure_code = ma.fields.String(allow_none=True, metadata={"example": "1032"})
    failure_reason = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    completed_at = Timestamp(allow_none=True)


class PaymentStatusSchema(ma.Schema):
    order_id = ma.fields.Integer(attribute="order.id")
    order_number = ma.fields.String(attribute="order.order_number")
    order_status = ma.fields.String(attribute="order.status")
    payment_status = ma.fields.String(attribute="order.payment_status")
    payment_method = ma.fields.String(attribute="order.payment_method")
    total = Money(attribute="order.total")
    currency = ma.fields.String(attribute="order.currency")
    paid_at = Timestamp(attribute="order.paid_at", allow_none=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema))


class PaymentMethodSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "MPESA"})
    name = ma.fields.String()
    description = ma.fields.String()
    enabled = ma.fields.Boolean()
    simulated = ma.fields.Boolean(
        metadata={"description": "True when the built-in simulator stands in for the provider"}
    )
    max_total = Money(metadata={"description": "Largest order total allowed (cash only)"})


# -- provider-facing shapes (documented; the views read the raw body themselves) ----------


class StkCallbackItemSchema(ma.Schema):
    Name = ma.fields.String(required=True)
    Value = ma.fields.Raw(metadata={"description": "Number or string; absent for Balance"})


class StkCallbackMetadataSchema(ma.Schema):
    Item = ma.fields.List(ma.fields.Nested(StkCallbackItemSchema))


class StkCallbackBodySchema(ma.Schema):
    MerchantRequestID = ma.fields.String()
    CheckoutRequestID = ma.fields.String(required=True)
    ResultCode = ma.fields.Integer(required=True, metadata={"example": 0})
    ResultDesc = ma.fields.String()
    CallbackMetadata = ma.fields.Nested(StkCallbackMetadataSchema)


class StkCallbackEnvelopeSchema(ma.Schema):
    stkCallback = ma.fields.Nested(StkCallbackBodySchema, required=True)  # noqa: N815


class StkCallbackSchema(ma.Schema):
    """Safaricom's STK callback, exactly as Daraja POSTs it."""

    Body = ma.fields.Nested(StkCallbackEnvelopeSchema, required=True)


class CallbackAckSchema(ma.Schema):
    ResultCode = ma.fields.Integer(metadata={"example": 0})
    ResultDesc = ma.fields.String(metadata={"example": "Accepted"})


class PaystackWebhookSchema(ma.Schema):
    """Paystack's webhook: ``{"event": "charge.success", "data": {...}}``, compact JSON."""

    event = ma.fields.String(required=True, metadata={"example": "charge.success"})
    data = ma.fields.Dict(required=True)


class WebhookAckSchema(ma.Schema):
    event_id = ma.fields.Integer(attribute="id")
    outcome = ma.fields.String(metadata={"example": "COMPLETED"})


# Refunds (admin) -------------------------------------------------------------------
class ProcessRefundSchema(ma.Schema):
    method = ma.fields.Enum(
        RefundMethod,
        metadata={
            "description": "Default: the original payment's (card: PAYSTACK; M-Pesa and "
            "cash: MPESA_B2C). MANUAL records a refund paid by hand (needs `reference`)."
        },
    )
    reference = ma.fields.String(validate=validate.Length(min=1, max=100))

    @ma.validates_schema
    def _reference(self, data, **kwargs):
        if data.get("method") == RefundMethod.MANUAL and not data.get("reference"):
            raise ma.ValidationError("A MANUAL refund needs its reference.", field_name="reference")


class RefundQuerySchema(OrderedRange, PaginationSchema):
    status = ma.fields.Enum(RefundStatus)
    cause = ma.fields.Enum(RefundCause)
    method = ma.fields.Enum(RefundMethod)
    order_id = Id()
    from_ = Timestamp(data_key="from", attribute="from", metadata={"description": "inclusive"})
    to = Timestamp(metadata={"description": "inclusive"})


class RefundSchema(ma.Schema):
    id = ma.fields.Integer()
    key = ma.fields.String(
        metadata={"description": "What it is for: cancel:<order>, return:<return>, ..."}
    )
    order_id = ma.fields.Integer()
    order_number = ma.fields.String(attribute="order.order_number")
    payment_id = ma.fields.Integer(allow_none=True)
    payment_method = ma.fields.String(attribute="payment.method", allow_none=True)
    payment_reference = ma.fields.String(attribute="payment.reference", allow_none=True)
    amount = Money()
    paid_amount = Money(
        allow_none=True,
        metadata={"description": "What left when it differs: M-Pesa B2C, whole shillings."},
    )
    currency = ma.fields.String()
    status = ma.fields.Enum(RefundStatus)
    cause = ma.fields.String()
    reason = ma.fields.String()
    method = ma.fields.Enum(RefundMethod, allow_none=True)
    provider_refund_id = ma.fields.String(allow_none=True)
    provider_reference = ma.fields.String(allow_none=True)
    manual_reference = ma.fields.String(allow_none=True)
    failure_reason = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer()
    requested_by_id = ma.fields.Integer(allow_none=True)
    processed_by_id = ma.fields.Integer(allow_none=True)
    processed_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
