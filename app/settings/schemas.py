"""Settings as the admin screen reads and writes them."""

from __future__ import annotations

import marshmallow as ma

from app.api import PartialLoad
from app.fields import Timestamp
from app.settings import SETTINGS


class SettingSchema(ma.Schema):
    key = ma.fields.String()
    value = ma.fields.Raw(metadata={"description": "Decimals and money as strings"})
    default = ma.fields.Raw(metadata={"description": "The environment's value"})
    description = ma.fields.String()
    public = ma.fields.Boolean(metadata={"description": "Shown by GET /api/settings/public"})
    overridden = ma.fields.Boolean()
    updated_at = Timestamp(allow_none=True)
    updated_by_id = ma.fields.Integer(allow_none=True)


# Only the keys sent change; each is validated by its own rule (one field per setting,
# from the one table of settings), unknown keys are refused.
SettingsUpdateSchema = type(
    "SettingsUpdateSchema",
    (PartialLoad, ma.Schema),
    {key: entry.field() for key, entry in SETTINGS.items()},
)

PublicSettingsSchema = ma.Schema.from_dict(
    {key: entry.field() for key, entry in SETTINGS.items() if entry.public},
    name="PublicSettingsSchema",
)
