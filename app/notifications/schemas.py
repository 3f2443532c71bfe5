"""In-app notifications: what the inbox shows."""

from __future__ import annotations

import marshmallow as ma

from app.fields import Timestamp
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
