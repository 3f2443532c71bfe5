"""Request and response schemas of the catalog."""

from __future__ import annotations

from contextvars import ContextVar

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from app.api import PartialLoad
from app.catalog.models import ProductCondition
from app.fields import Id, ImageURL, Money, Timestamp, rate
from app.money import CENTS, MAX_PRICE
from app.pagination import PaginationSchema

MAX_IMAGES = 10
MAX_SPECS = 50
SPEC_TYPES = ("string", "number", "integer", "boolean")
SORTS = ("relevance", "newest", "price_asc", "price_desc", "name", "rating", "popularity")
SLUG = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Use lower-case letters, digits, -.")
HTTP_URL = validate.URL(schemes={"http", "https"}, require_tld=False)


def _rate(**kwargs) -> ma.fields.Decimal:
    """A rate from 0 to under 1 (``app.fields.rate``)."""
    return rate("1", max_inclusive=False, **kwargs)


def _name(**kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=1, max=120), **kwargs)


class SpecValue(ma.fields.Field):
    """A spec value: a string, number or boolean (or a list of strings)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str | bool | int | float) and value is not None:
            if isinstance(value, str) and len(value) > 500:
                raise ma.ValidationError("Spec values are at most 500 characters.")
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 20:
            return value
        raise ma.ValidationError("Use a string, number, boolean or list of strings.")


def _specs(**kwargs) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(min=1, max=50)),
        values=SpecValue(),
        validate=validate.Length(max=MAX_SPECS),
        metadata={"example": {"ram_gb": 8, "colour": "Black"}},
        **kwargs,
    )


# ---- references nested in products -------------------------------------------------


# The references serialised so far in the current ``ProductSchema.dump``.
_shared: ContextVar[dict | None] = ContextVar("shared_references", default=None)


class SharedRef(ma.fields.Nested):
    """A reference that the products of one response share (category, brand, supplier):
    serialised once per ``ProductSchema.dump``, however many products point to it."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        dumped = _shared.get()
        if dumped is None or nested_obj is None:
            return super()._serialize(nested_obj, attr, obj, **kwargs)
        key = (self.name, id(nested_obj))  # the objects outlive the dump
        if key not in dumped:
            dumped[key] = super()._serialize(nested_obj, attr, obj, **kwargs)
        return dumped[key]


class CategoryRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    slug = ma.fields.String()


class BrandRefSchema(CategoryRefSchema):
    logo_url = ma.fields.String(allow_none=True)


class SupplierRefSchema(ma.Schema):
    id = ma.fields.Integer()
    business_name = ma.fields.String()


class RatingSchema(ma.Schema):
    average = ma.fields.Float(metadata={"example": 4.5})
    count = ma.fields.Integer()


# ---- products -------------------------------------------------------------------------


class ProductSchema(ma.Schema):
    """A product as listed: what a product card needs."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    slug = ma.fields.String()
    sku = ma.fields.String(allow_none=True)
    price = Money()
    compare_at_price = Money()
    stock = ma.fields.Integer()
    in_stock = ma.fields.Boolean()
    condition = ma.fields.Enum(ProductCondition)
    warranty_months = ma.fields.Integer()
    images = ma.fields.List(ma.fields.String())
    cover_image = ma.fields.String(allow_none=True)
    category = SharedRef(CategoryRefSchema)
    brand = SharedRef(BrandRefSchema, allow_none=True)
    supplier = SharedRef(SupplierRefSchema)
    rating = ma.fields.Nested(RatingSchema)
    is_active = ma.fields.Boolean()
    created_at = Timestamp()
    updated_at = Timestamp()

    def dump(self, obj, *, many=None):
        token = _shared.set({})
        try:
            return super().dump(obj, many=many)
        finally:
            _shared.reset(token)


class ProductDetailSchema(ProductSchema):
    description = ma.fields.String()
    specs = ma.fields.Dict()


class ProductManageSchema(ProductDetailSchema):
    """What the owner and admins see after a write: commission terms included."""

    commission_rate = _rate(attribute="effective_commission_rate")
    commission_rate_override = _rate(attribute="commission_rate", allow_none=True)


class ProductWriteSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=validate.Length(max=20000))
    sku = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    price = Money(required=True, validate=validate.Range(min=CENTS, max=MAX_PRICE))
    compare_at_price = Money(allow_none=True, validate=validate.Range(min=CENTS, max=MAX_PRICE))
    stock = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=1_000_000))
    category_id = Id(required=True)
    brand_id = Id(allow_none=True)
    condition = ma.fields.Enum(ProductCondition, load_default=ProductCondition.NEW)
    warranty_months = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=120))
    specs = _specs(load_default=dict)
    images = ma.fields.List(
        ImageURL(),
        load_default=list,
        validate=validate.Length(max=MAX_IMAGES),
        metadata={
            "description": "Image URLs, the first is the cover: our uploads "
            "(POST /api/uploads/product) or HTTPS URLs on ALLOWED_IMAGE_HOSTS."
        },
    )
    commission_rate = _rate(
        allow_none=True, metadata={"description": "Admins only: per-product commission override."}
    )
    is_active = ma.fields.Boolean()

    @ma.validates_schema
    def _compare_at_above_price(self, data, **kwargs):
        price, compare_at = data.get("price"), data.get("compare_at_price")
        if price is not None and compare_at is not None and compare_at <= price:
            raise ma.ValidationError(
                "Must be greater than the price.", field_name="compare_at_price"
            )


class ProductUpdateSchema(PartialLoad, ProductWriteSchema):
    """Only the fields sent change."""

    slug = ma.fields.String(
        validate=[validate.Length(min=1, max=220), SLUG],
        metadata={"description": "A new slug; the old one keeps resolving."},
    )


class DeleteResultSchema(ma.Schema):
    id = ma.fields.Integer()
    result = ma.fields.String(
        metadata={"description": "`deleted`, or `deactivated` when orders reference it"}
    )


class ProductQuerySchema(PaginationSchema):
    category = ma.fields.String(
        validate=validate.Length(max=140), metadata={"description": "Category id or slug."}
    )
    brand = ma.fields.String(
        validate=validate.Length(max=140), metadata={"description": "Brand id or slug."}
    )
    search = ma.fields.String(validate=validate.Length(max=200))
    min_price = Money()
    max_price = Money()
    condition = ma.fields.Enum(ProductCondition)
    in_stock = ma.fields.Boolean()
    supplier = Id(metadata={"description": "Supplier id."})
    sort_by = ma.fields.String(
        validate=validate.OneOf(SORTS),
        metadata={"description": "Default: relevance when searching, else newest."},
    )

    @ma.validates_schema
    def _bounds(self, data, **kwargs):
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("Must not be below min_price.", field_name="max_price")


# ---- categories, brands, delivery zones ----------------------------------------------


class CategorySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = _name(required=True)
    slug = ma.fields.String(validate=[validate.Length(min=1, max=140), SLUG])
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))
    parent_id = Id(allow_none=True)
    image_url = ma.fields.String(allow_none=True, validate=[HTTP_URL, validate.Length(max=500)])
    suggested_specs = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(min=1, max=50)),
        values=ma.fields.String(validate=validate.OneOf(SPEC_TYPES)),
        validate=validate.Length(max=MAX_SPECS),
        metadata={"example": {"ram_gb": "integer", "colour": "string"}},
    )
    commission_rate = _rate()
    is_active = ma.fields.Boolean()
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class CategoryUpdateSchema(PartialLoad, CategorySchema):
    pass


class CategoryTreeSchema(CategorySchema):
    product_count = ma.fields.Integer(
        dump_only=True, metadata={"description": "Listed products, sub-categories included."}
    )
    children = ma.fields.List(ma.fields.Nested(lambda: CategoryTreeSchema()), dump_only=True)


class BrandSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = _name(required=True)
    slug = ma.fields.String(validate=[validate.Length(min=1, max=140), SLUG])
    logo_url = ma.fields.String(allow_none=True, validate=[HTTP_URL, validate.Length(max=500)])
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))
    is_active = ma.fields.Boolean()
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class BrandUpdateSchema(PartialLoad, BrandSchema):
    pass


class AdminListQuerySchema(ma.Schema):
    include_inactive = ma.fields.Boolean(
        load_default=False, metadata={"description": "Admins: include retired entries."}
    )


# ---- reviews --------------------------------------------------------------------------


class ReviewerSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.Function(lambda user: f"{user.first_name} {user.last_name[:1]}.".strip())


class ReviewSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    product_id = ma.fields.Integer(dump_only=True)
    user = ma.fields.Nested(ReviewerSchema, dump_only=True)
    rating = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=150))
    body = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class ReviewUpdateSchema(PartialLoad, ReviewSchema):
    pass


# ---- bulk import ----------------------------------------------------------------------


class ImportFileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "A .csv or .xlsx file."})


class ImportQuerySchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "Validate only."})
    partial = ma.fields.Boolean(
        load_default=False, metadata={"description": "Import the good rows despite bad ones."}
    )


class TemplateQuerySchema(ma.Schema):
    format = ma.fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ImportRowErrorSchema(ma.Schema):
    line = ma.fields.Integer(metadata={"description": "Line in the file (header is line 1)."})
    sku = ma.fields.String(allow_none=True)
    errors = ma.fields.Dict(metadata={"example": {"price": ["Not a valid amount."]}})


class ImportResultSchema(ma.Schema):
    dry_run = ma.fields.Boolean()
    partial = ma.fields.Boolean()
    imported = ma.fields.Boolean(metadata={"description": "Whether anything was written."})
    total_rows = ma.fields.Integer()
    valid_rows = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Nested(ImportRowErrorSchema))
