"""In-app notifications: what the inbox shows."""

from __future__ import annotations

import marshmallow as ma

from app.fields import Timestamp
from app.notifications.models import OutboxStatus
from app.pagination import PaginationSchema


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    event = ma.fields.String(metadata={"description": "e.g. order-placed, payment-received"})
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.String(
        allow_none=True, metadata={"description": "a path on the storefront, e.g. /orders/7"}
    )
    order_id = ma.fields.Integer(allow_none=True)
    read = ma.fields.Function(lambda notification: notification.read_at is not None)
    read_at = Timestamp(allow_none=True)
    created_at = Timestamp()


class NotificationQuerySchema(PaginationSchema):
    unread_only = ma.fields.Boolean(load_default=False)


class UnreadCountSchema(ma.Schema):
    unread = ma.fields.Integer()


class MarkedReadSchema(ma.Schema):
    marked_read = ma.fields.Integer(metadata={"description": "how many were unread"})


class OutboxEmailSchema(ma.Schema):
    id = ma.fields.Integer()
    to = ma.fields.String(attribute="to_address")
    subject = ma.fields.String()
    template = ma.fields.String()
    status = ma.fields.String(
        metadata={"enum": [status.value for status in OutboxStatus], "example": "DEAD"}
    )
    attempts = ma.fields.Integer()
    next_attempt_at = Timestamp(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    context = ma.fields.Dict(allow_none=True, metadata={"description": "The event's data."})
    created_at = Timestamp()
    sent_at = Timestamp(allow_none=True)


class OutboxQuerySchema(PaginationSchema):
    status = ma.fields.Enum(OutboxStatus)
    to = ma.fields.Email(metadata={"description": "Only emails to this address."})
