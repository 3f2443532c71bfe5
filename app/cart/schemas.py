"""Cart request and response schemas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.catalog.schemas import ProductSchema
from app.fields import Id, Money

# Quantities must be whole and >= 1 (else 400); more than the stock is a 422
# INSUFFICIENT_STOCK from the operation, which knows the stock.
QUANTITY = validate.Range(min=1, error="Quantity must be at least 1.")


class CartItemSchema(ma.Schema):
    id = ma.fields.Integer()
    product = ma.fields.Nested(ProductSchema)
    quantity = ma.fields.Integer()
    unit_price = Money(metadata={"description": "Today's price, what checkout charges."})
    price_when_added = Money()
    line_total = Money()


class CartSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CartItemSchema))
    subtotal = Money()
    item_count = ma.fields.Integer(metadata={"description": "Total quantity of all lines."})
    currency = ma.fields.Constant("KES")


class CartCountSchema(ma.Schema):
    item_count = ma.fields.Integer(metadata={"description": "Total quantity of all lines."})
    line_count = ma.fields.Integer(metadata={"description": "Number of distinct products."})


class AddItemSchema(ma.Schema):
    product_id = Id(required=True, strict=True)
    quantity = ma.fields.Integer(load_default=1, strict=True, validate=QUANTITY)


class UpdateItemSchema(ma.Schema):
    quantity = ma.fields.Integer(required=True, strict=True, validate=QUANTITY)


class LineCheckSchema(ma.Schema):
    item_id = ma.fields.Integer(attribute="item.id")
    product_id = ma.fields.Integer(attribute="product.id")
    product_name = ma.fields.String(attribute="product.name")
    quantity = ma.fields.Integer(attribute="item.quantity")
    available = ma.fields.Integer(attribute="product.stock")
    is_active = ma.fields.Boolean(attribute="product.is_active")
    price_when_added = Money(attribute="item.price_when_added")
    current_price = Money(attribute="product.price")
    price_change = Money(allow_negative=True)
    issues = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Any of PRICE_CHANGED, INSUFFICIENT_STOCK, UNAVAILABLE."},
    )


class CartCheckSchema(ma.Schema):
    valid = ma.fields.Boolean(
        metadata={"description": "True when the cart has items and none has an issue."}
    )
    items = ma.fields.List(ma.fields.Nested(LineCheckSchema), attribute="lines")
    subtotal = Money()
