"""Request and response schemas of the back office."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.admin.bulk import MAX_IDS
from app.api import OrderedRange
from app.auth.models import SupplierStatus, UserRole
from app.auth.schemas import SupplierProfileSchema, UserSchema
from app.fields import Id, Timestamp, rate
from app.orders.models import OrderStatus
from app.orders.schemas import OrderQuerySchema
from app.pagination import PaginationSchema


def _query_text(description: str) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": description}
    )


def _reason(required: bool = False) -> ma.fields.String:
    return ma.fields.String(required=required, validate=validate.Length(min=3, max=500))


def _ids() -> ma.fields.List:
    return ma.fields.List(
        Id(strict=True),
        required=True,
        validate=validate.Length(min=1, max=MAX_IDS),
        metadata={"description": f"1 to {MAX_IDS} ids; each is handled on its own"},
    )


# ---- bulk results -----------------------------------------------------------------------
class BulkErrorSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()


class BulkItemSchema(ma.Schema):
    id = ma.fields.Integer()
    ok = ma.fields.Boolean()
    result = ma.fields.String(
        metadata={"description": "what was done (e.g. updated, unchanged), or refused"}
    )
    error = ma.fields.Nested(BulkErrorSchema, allow_none=True)


class BulkResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BulkItemSchema))
    succeeded = ma.fields.Integer()
    failed = ma.fields.Integer(metadata={"description": "refused ids are left unchanged"})


# ---- users ------------------------------------------------------------------------------
class UserQuerySchema(PaginationSchema):
    role = ma.fields.Enum(UserRole)
    status = ma.fields.String(validate=validate.OneOf(("active", "disabled")))
    verified = ma.fields.Boolean()
    q = _query_text("Words each found in the email, first or last name, or phone.")


class SupplierSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    business_name = ma.fields.String()
    status = ma.fields.String()


class AdminUserSchema(UserSchema):
    """A user in the admin list: the other profiles are on the detail."""

    class Meta:
        exclude = ("customer_profile", "admin_profile", "delivery_agent_profile")

    supplier_profile = ma.fields.Nested(SupplierSummarySchema, allow_none=True)


class AdminUserDetailSchema(UserSchema):
    locked_until = Timestamp(allow_none=True)
    open_sessions = ma.fields.Integer(metadata={"description": "sessions not signed out"})


class UserStatusSchema(ma.Schema):
    active = ma.fields.Boolean(required=True)
    reason = _reason()

    @ma.validates_schema
    def _reason_to_disable(self, data, **kwargs):
        if data.get("active") is False and not data.get("reason"):
            raise ma.ValidationError("A reason is required to disable an account.", "reason")


class UserRoleSchema(ma.Schema):
    role = ma.fields.Enum(UserRole, required=True)
    business_name = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Needed when making someone a supplier."},
    )


class UserBulkSchema(ma.Schema):
    ids = _ids()
    action = ma.fields.String(required=True, validate=validate.OneOf(("activate", "deactivate")))
    reason = _reason()

    @ma.validates_schema
    def _reason_to_disable(self, data, **kwargs):
        if data.get("action") == "deactivate" and not data.get("reason"):
            raise ma.ValidationError("A reason is required to disable accounts.", "reason")


# ---- suppliers --------------------------------------------------------------------------
class SupplierQuerySchema(PaginationSchema):
    status = ma.fields.Enum(SupplierStatus)
    q = _query_text("Part of the business name or the owner's email.")


class SupplierOwnerSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()
    is_verified = ma.fields.Boolean()


class AdminSupplierSchema(SupplierProfileSchema):
    status_reason = ma.fields.String(allow_none=True)
    status_changed_at = Timestamp(allow_none=True)
    commission_rate = ma.fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"type": "string", "format": "decimal", "example": "0.0800"},
    )
    created_at = Timestamp()
    user = ma.fields.Nested(SupplierOwnerSchema)


class ReasonSchema(ma.Schema):
    reason = _reason(required=True)


class CommissionSchema(ma.Schema):
    commission_rate = rate(
        "0.5",
        required=True,
        metadata={"example": "0.0800", "description": "0 to 0.5; for orders placed from now on"},
    )


# ---- catalogue --------------------------------------------------------------------------
class AdminProductQuerySchema(PaginationSchema):
    q = _query_text("Part of the product's name or SKU.")
    supplier_id = Id()
    category_id = Id()
    brand_id = Id()
    is_active = ma.fields.Boolean(metadata={"description": "omit for active and inactive"})
    low_stock = ma.fields.Boolean(
        metadata={"description": "stock at or below the low_stock_threshold setting"}
    )


class ProductBulkSchema(ma.Schema):
    ids = _ids()
    action = ma.fields.String(
        required=True,
        validate=validate.OneOf(("activate", "deactivate", "delete", "set_category")),
    )
    category_id = Id(strict=True, metadata={"description": "with set_category"})

    @ma.validates_schema
    def _category_for_set_category(self, data, **kwargs):
        if data.get("action") == "set_category" and data.get("category_id") is None:
            raise ma.ValidationError("Required with set_category.", "category_id")


# ---- orders -----------------------------------------------------------------------------
class AdminOrderQuerySchema(OrderQuerySchema):
    supplier_id = Id(metadata={"description": "orders holding an item of this supplier"})
    agent_id = Id(metadata={"description": "the delivery agent's user id"})
    county = ma.fields.String(validate=validate.Length(min=1, max=100))


class OrderNoteCreateSchema(ma.Schema):
    body = ma.fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=1000),
            validate.Regexp(r"[\s\S]*\S", error="The note is empty."),
        ],
        metadata={"description": "The note (internal: the customer never sees it)."},
    )


class OrderNoteSchema(ma.Schema):
    id = Id(dump_only=True)
    order_id = Id(dump_only=True)
    author_id = Id(dump_only=True, allow_none=True)
    author_name = ma.fields.Function(
        lambda note: note.author.full_name if note.author else None, dump_only=True
    )
    body = ma.fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


class OrderBulkSchema(ma.Schema):
    ids = _ids()
    status = ma.fields.Enum(OrderStatus, required=True)
    note = _reason()

    @ma.validates_schema
    def _reason_to_cancel(self, data, **kwargs):
        if data.get("status") == OrderStatus.CANCELLED and not data.get("note"):
            raise ma.ValidationError("A reason is required when staff cancel.", "note")


# ---- audit and timeline -----------------------------------------------------------------
class AuditQuerySchema(OrderedRange, PaginationSchema):
    actor_id = Id()
    action = ma.fields.String(validate=validate.Length(min=1, max=64))
    object_type = ma.fields.String(validate=validate.Length(min=1, max=64))
    object_id = ma.fields.String(validate=validate.Length(min=1, max=64))
    from_ = Timestamp(data_key="from", attribute="from", metadata={"description": "inclusive"})
    to = Timestamp(metadata={"description": "inclusive"})
    format = ma.fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv: every matching entry as one streamed file"},
    )


class AuditLogSchema(ma.Schema):
    id = ma.fields.Integer()
    created_at = Timestamp()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    object_type = ma.fields.String(attribute="target_type", allow_none=True)
    object_id = ma.fields.String(attribute="target_id", allow_none=True)
    details = ma.fields.Dict(metadata={"description": "before/after and the reason, if any"})
    ip_address = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)


class TimelineEventSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "audit or order"})
    id = ma.fields.Integer(metadata={"description": "the audit entry's or history row's id"})
    created_at = Timestamp()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    object_type = ma.fields.String(allow_none=True)
    object_id = ma.fields.String(allow_none=True)
    order_number = ma.fields.String(allow_none=True)
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
