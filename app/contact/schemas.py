"""Contact form, contact details and support-inbox schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.auth.schemas import Email, Text
from app.contact.models import ContactStatus
from app.fields import Phone, Timestamp
from app.pagination import PaginationSchema


class ContactFormSchema(ma.Schema):
    name = Text(120, required=True)
    email = Email(required=True)
    phone = Phone(allow_none=True, metadata={"description": "A Kenyan number, optional."})
    subject = Text(200, required=True)
    message = Text(5000, required=True)
    order_number = Text(32, allow_none=True, metadata={"example": "QG-20261202-0001"})
    website = ma.fields.String(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"description": "Leave empty (a field hidden from people, filled by bots)."},
    )


class ContactReceiptSchema(ma.Schema):
    received = ma.fields.Boolean(required=True)


class SocialLinksSchema(ma.Schema):
    facebook = ma.fields.String()
    instagram = ma.fields.String()
    x = ma.fields.String()
    tiktok = ma.fields.String()


class ContactInfoSchema(ma.Schema):
    phone = ma.fields.String()
    whatsapp = ma.fields.String()
    whatsapp_url = ma.fields.String()
    email = ma.fields.String()
    address = ma.fields.String()
    hours = ma.fields.String()
    social = ma.fields.Nested(SocialLinksSchema)


class ContactMessageSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    subject = ma.fields.String()
    message = ma.fields.String()
    order_number = ma.fields.String(allow_none=True)
    status = ma.fields.Enum(ContactStatus)
    note = ma.fields.String(allow_none=True)
    ip_address = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class ContactMessageQuerySchema(PaginationSchema):
    status = ma.fields.Enum(ContactStatus)
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of the sender's name or email, or of the subject."},
    )


class ContactMessageUpdateSchema(ma.Schema):
    status = ma.fields.Enum(ContactStatus)
    note = ma.fields.String(validate=validate.Length(max=2000), allow_none=True)

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send a status or a note.", field_name="_schema")
