"""What Safaricom posts to the B2C callback URLs (documented; read by the parsers)."""

from __future__ import annotations

import marshmallow as ma


class B2CAckSchema(ma.Schema):
    ResultCode = ma.fields.Integer(metadata={"example": 0})
    ResultDesc = ma.fields.String(metadata={"example": "Accepted"})


class B2CResultBodySchema(ma.Schema):
    """Section 5's Result: ``{"Result": {ResultType, ResultCode, ResultDesc,
    OriginatorConversationID, ConversationID, TransactionID, ResultParameters,
    ReferenceData}}`` (numbers or strings, lists or single items)."""

    Result = ma.fields.Dict(required=True)
