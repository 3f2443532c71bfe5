"""Marshmallow fields for the API's data conventions (money, phones, UTC times)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from app.money import format_money, parse_money
from app.phone import normalize_phone
from app.services import image_storage

# Row ids are INTEGER columns (PostgreSQL int4): a larger number can name no row, and
# handing one to the database fails (OverflowError on SQLite, DataError on PostgreSQL).
MAX_ID = 2**31 - 1


class Id(ma.fields.Integer):
    """A row id in a request: a whole number from 1 to ``MAX_ID``, else 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Money(ma.fields.Field):
    """Accepts a number or numeric string with at most two decimals; dumps ``"1499.00"``."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "1499.00")
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_money(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_money(value, allow_negative=self.allow_negative)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class Phone(ma.fields.String):
    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "254712345678")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_phone(text)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class Timestamp(ma.fields.DateTime):
    """ISO 8601 in UTC with a ``Z``: ``2026-11-22T14:03:11Z``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def rate(maximum: str = "1", *, max_inclusive: bool = True, **kwargs) -> ma.fields.Decimal:
    """A rate from 0 to ``maximum`` with up to four places, dumped as a string
    (``"0.1000"``); documented as one, with numeric bounds (apispec would write them as
    the strings ``"0.0000"``/``"1.0000"``, an invalid OpenAPI document)."""
    metadata = kwargs.setdefault("metadata", {})
    metadata.setdefault("example", "0.1000")
    metadata.update(type="string", format="decimal", minimum=0, maximum=float(maximum))
    return ma.fields.Decimal(
        places=4,
        as_string=True,
        validate=validate.Range(min=0, max=Decimal(maximum), max_inclusive=max_inclusive),
        **kwargs,
    )


def allowed_image_url(url: str) -> bool:
    """Our own upload (the storage's URL prefix), or an HTTPS URL on ALLOWED_IMAGE_HOSTS
    (no credentials, no other port): never ``javascript:``, ``http:`` or an internal host."""
    if any(url.startswith(prefix) for prefix in image_storage().url_prefixes()):
        return True
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    hosts = {host.lower() for host in current_app.config["ALLOWED_IMAGE_HOSTS"]}
    return (
        parts.scheme == "https"
        and parts.username is None
        and parts.password is None
        and port in (None, 443)
        and (parts.hostname or "") in hosts
        and bool(parts.path.strip("/"))
    )


class ImageURL(ma.fields.String):
    """An image URL a page may show: see ``allowed_image_url``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Length(max=500))
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "One of our uploads, or an HTTPS URL on ALLOWED_IMAGE_HOSTS."
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        url = super()._deserialize(value, attr, data, **kwargs)
        if not allowed_image_url(url):
            raise ma.ValidationError(
                "Use an image uploaded here (POST /api/uploads/product) or an HTTPS URL "
                "on an allowed image host."
            )
        return url
