"""Payout number requests and answers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.fields import Phone, Timestamp
from app.ledger.models import Party
from app.pagination import PaginationSchema
from app.payout_numbers.models import RequestStatus


class NumberChangeSchema(ma.Schema):
    mpesa_number = Phone(
        required=True,
        metadata={"description": "A Kenyan mobile number: 07XXXXXXXX, 01XXXXXXXX, 2547..."},
    )


class PayoutNumberRequestSchema(ma.Schema):
    id = ma.fields.Integer()
    party = ma.fields.Enum(Party)
    party_id = ma.fields.Integer(
        metadata={"description": "The supplier profile id (SUPPLIER) or agent user id (AGENT)."}
    )
    old_number = ma.fields.String()
    new_number = ma.fields.String()
    status = ma.fields.Enum(RequestStatus)
    created_at = Timestamp()
    decided_at = Timestamp(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class AdminRequestSchema(PayoutNumberRequestSchema):
    party_name = ma.fields.String(metadata={"description": "Business name, or agent's name."})
    email = ma.fields.String()


class NumberStateSchema(ma.Schema):
    outcome = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "What this call did: SET (took effect at once), REQUESTED "
            "(waits for an admin), UNCHANGED (that change was already asked for), CANCELLED."
        },
    )
    mpesa_payout_number = ma.fields.String(
        allow_none=True, metadata={"description": "Where payouts go now."}
    )
    pending_change = ma.fields.Nested(PayoutNumberRequestSchema, allow_none=True)


class RequestQuerySchema(PaginationSchema):
    status = ma.fields.Enum(
        RequestStatus,
        load_default=RequestStatus.PENDING,
        metadata={"description": "PENDING by default."},
    )
    party = ma.fields.Enum(Party)


class RejectSchema(ma.Schema):
    reason = ma.fields.String(validate=validate.Length(max=500), load_default=None)
