"""Delivery zones and fee quotes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.api import PartialLoad
from app.fields import Id, Money, Timestamp


class DeliveryZoneSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))
    counties = ma.fields.String(allow_none=True, validate=validate.Length(max=500))
    fee = Money(required=True)
    estimated_days = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=60))
    free_delivery_threshold = Money(allow_none=True)
    is_active = ma.fields.Boolean()
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class DeliveryZoneUpdateSchema(PartialLoad, DeliveryZoneSchema):
    pass


class DeliveryQuoteArgsSchema(ma.Schema):
    """The zone is named by its id or found from a county: exactly one of them."""

    delivery_zone_id = Id(strict=True)
    county = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The active zone covering it (the cheapest if several)."},
    )
    subtotal = Money(required=True)

    @ma.validates_schema
    def one_zone(self, data, **kwargs):
        if ("delivery_zone_id" in data) == ("county" in data):
            raise ma.ValidationError(
                "Send exactly one of delivery_zone_id or county", "delivery_zone_id"
            )


class DeliveryQuoteSchema(ma.Schema):
    delivery_zone_id = ma.fields.Integer(attribute="zone.id")
    zone_name = ma.fields.String(attribute="zone.name")
    subtotal = Money()
    fee = Money()
    free_delivery = ma.fields.Boolean()
    free_delivery_threshold = Money(attribute="zone.free_delivery_threshold", allow_none=True)
    estimated_days = ma.fields.Integer(attribute="zone.estimated_days")
    total = Money()
