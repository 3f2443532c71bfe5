"""The back office: users, supplier applications, catalogue, orders, audit, the admins'
feed and activity timeline (who may call what: the role table, app/auth/permissions.py)"""

from __future__ import annotations

from app import spreadsheets
from app.admin import audit, catalogue, suppliers, users
from app.admin import orders as admin_orders
from app.admin.bulk import for_each
from app.admin.schemas import (
    AdminOrderQuerySchema,
    AdminProductQuerySchema,
    AdminSupplierSchema,
    AdminUserDetailSchema,
    AdminUserSchema,
    AuditLogSchema,
    AuditQuerySchema,
    BulkResultSchema,
    CommissionSchema,
    OrderBulkSchema,
    OrderNoteCreateSchema,
    OrderNoteSchema,
    ProductBulkSchema,
    ReasonSchema,
    SupplierQuerySchema,
    TimelineEventSchema,
    UserBulkSchema,
    UserQuerySchema,
    UserRoleSchema,
    UserStatusSchema,
)
from app.api import Blueprint, ErrorEnvelopeSchema, envelope_schema
from app.auth.access import current_user, requires
from app.auth.models import SupplierStatus
from app.catalog import taxonomy
from app.catalog.models import Brand
from app.catalog.schemas import (
    AdminListQuerySchema,
    BrandSchema,
    CategorySchema,
    CategoryTreeSchema,
    ProductManageSchema,
    ProductSchema,
)
from app.db import get_or_404
from app.delivery import operations as zones
from app.delivery.models import DeliveryZone
from app.delivery.schemas import DeliveryZoneSchema, DeliveryZoneUpdateSchema
from app.extensions import db
from app.notifications import operations as notifications
from app.notifications.schemas import NotificationQuerySchema, NotificationSchema
from app.orders.schemas import OrderSummarySchema
from app.orders.visibility import list_orders
from app.pagination import PaginationSchema

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/api/admin",
    description="The back office: users, suppliers, catalogue, orders, audit, admins' feed",
)


def _refused(status: int, codes: str) -> dict:
    return {"status_code": status, "schema": ErrorEnvelopeSchema, "description": codes}


def _csv(description: str, schema) -> dict:
    """The documented 200 of a list that ``format=csv`` downloads as a file."""
    return {
        "200": {
            "description": description,
            "content": {
                "application/json": {"schema": envelope_schema(schema, many=False, paginated=True)},
                spreadsheets.CSV_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


# ---- users ------------------------------------------------------------------------------
@blp.route("/users", methods=["GET"])
@blp.response(200, AdminUserSchema, paginated=True)
@requires("users.read")
@blp.arguments(UserQuerySchema, location="query")
def list_users(params):
    """Users, newest first: filter by ``role``, ``status`` (active/disabled), ``verified``;
    ``q`` finds words in the email, names or phone."""
    return users.list_users(params)


@blp.route("/users/<int:user_id>", methods=["GET"])
@blp.response(200, AdminUserDetailSchema)
@requires("users.read")
def get_user(user_id):
    """One user with their profiles and how many sessions are open."""
    return users.get_user(user_id)


@blp.route("/users/<int:user_id>/status", methods=["PUT"])
@blp.response(200, AdminUserDetailSchema, message="Account status updated")
@blp.alt_response(**_refused(403, "FORBIDDEN, SELF_CHANGE: your own or (support) an admin"))
@blp.alt_response(**_refused(409, "LAST_ADMIN: the last active ADMIN"))
@requires("users.status")
@blp.arguments(UserStatusSchema)
def set_user_status(data, user_id):
    """Enable or disable an account (a ``reason`` is required to disable). Disabling
    signs the user out of every session at once. Support admins manage non-admin
    accounts; the last active ADMIN cannot be disabled."""
    users.set_active(current_user(), user_id, data["active"], data.get("reason"))
    db.session.commit()
    return users.get_user(user_id)


@blp.route("/users/<int:user_id>/role", methods=["PUT"])
@blp.response(200, AdminUserDetailSchema, message="Role updated")
@blp.alt_response(**_refused(403, "FORBIDDEN, SELF_CHANGE"))
@blp.alt_response(**_refused(409, "LAST_ADMIN: the last active ADMIN cannot be demoted"))
@requires("users.role")
@blp.arguments(UserRoleSchema)
def set_user_role(data, user_id):
    """Change a user's role (ADMIN only; not your own). The last active ADMIN cannot be
    demoted, also when two admins try at once."""
    users.set_role(current_user(), user_id, data["role"], data.get("business_name"))
    db.session.commit()
    return users.get_user(user_id)


@blp.route("/users/bulk-action", methods=["POST"])
@blp.response(200, BulkResultSchema, message="Bulk action processed")
@requires("users.status")
@blp.arguments(UserBulkSchema)
def bulk_users(data):
    """``activate`` or ``deactivate`` each id on its own: the answer lists every id's
    result; a refused id (unknown, yourself, an admin for support, the last ADMIN) is left
    unchanged."""
    actor, active = current_user(), data["action"] == "activate"
    result = for_each(
        data["ids"], lambda user_id: users.set_active(actor, user_id, active, data.get("reason"))
    )
    db.session.commit()
    return result


# ---- suppliers --------------------------------------------------------------------------
@blp.route("/suppliers", methods=["GET"])
@blp.response(200, AdminSupplierSchema, paginated=True)
@requires("suppliers.read")
@blp.arguments(SupplierQuerySchema, location="query")
def list_suppliers(params):
    """Supplier applications and accounts, newest first, by ``status``
    (PENDING, APPROVED, REJECTED, SUSPENDED); ``q`` in the business name or email."""
    return suppliers.list_suppliers(params)


@blp.route("/suppliers/<int:supplier_id>/approve", methods=["PUT"])
@blp.response(200, AdminSupplierSchema, message="Supplier approved")
@blp.alt_response(**_refused(409, "INVALID_TRANSITION"))
@requires("suppliers.review")
def approve_supplier(supplier_id):
    """Approve a PENDING (or reinstate a SUSPENDED, or reconsider a REJECTED) supplier;
    they are emailed the decision. ``<id>`` is the supplier profile id."""
    profile = suppliers.decide(supplier_id, SupplierStatus.APPROVED, actor_id=current_user().id)
    db.session.commit()
    return profile


@blp.route("/suppliers/<int:supplier_id>/reject", methods=["PUT"])
@blp.response(200, AdminSupplierSchema, message="Supplier rejected")
@blp.alt_response(**_refused(409, "INVALID_TRANSITION"))
@requires("suppliers.review")
@blp.arguments(ReasonSchema)
def reject_supplier(data, supplier_id):
    """Reject a PENDING application, giving a ``reason`` (emailed to the applicant)."""
    profile = suppliers.decide(
        supplier_id, SupplierStatus.REJECTED, actor_id=current_user().id, reason=data["reason"]
    )
    db.session.commit()
    return profile


@blp.route("/suppliers/<int:supplier_id>/suspend", methods=["PUT"])
@blp.response(200, AdminSupplierSchema, message="Supplier suspended")
@blp.alt_response(**_refused(409, "INVALID_TRANSITION"))
@requires("suppliers.review")
@blp.arguments(ReasonSchema)
def suspend_supplier(data, supplier_id):
    """Suspend an APPROVED supplier: their products leave the catalogue at once and
    their payouts are held until reinstated (``approve``)."""
    profile = suppliers.decide(
        supplier_id, SupplierStatus.SUSPENDED, actor_id=current_user().id, reason=data["reason"]
    )
    db.session.commit()
    return profile


@blp.route("/suppliers/<int:supplier_id>/commission", methods=["PUT"])
@blp.response(200, AdminSupplierSchema, message="Commission updated")
@requires("suppliers.commission")
@blp.arguments(CommissionSchema)
def set_supplier_commission(data, supplier_id):
    """Set the supplier's commission rate (0 to 0.5): it applies to orders placed from
    now on (each order line keeps the rate it was placed with). A product's own rate
    still comes first; the supplier's rate comes before its category's."""
    profile = suppliers.set_commission(
        supplier_id, data["commission_rate"], actor_id=current_user().id
    )
    db.session.commit()
    return profile


# ---- catalogue: the same operations as /api/products/... ---------------------------------
@blp.route("/categories", methods=["GET"])
@blp.response(200, CategoryTreeSchema(many=True))
@requires("catalogue.manage")
@blp.arguments(AdminListQuerySchema, location="query")
def list_categories(query):
    """The category tree (``include_inactive`` for retired ones too)."""
    return taxonomy.category_tree(query["include_inactive"])


@blp.route("/categories", methods=["POST"])
@blp.response(201, CategorySchema, message="Category created")
@requires("catalogue.manage")
@blp.arguments(CategorySchema)
def create_category(data):
    """Create a category (as ``POST /api/products/categories``)."""
    category = taxonomy.save_category(None, data)
    db.session.commit()
    return category


@blp.route("/brands", methods=["GET"])
@blp.response(200, BrandSchema(many=True))
@requires("catalogue.manage")
@blp.arguments(AdminListQuerySchema, location="query")
def list_brands(query):
    """Brands by name (``include_inactive`` for retired ones too)."""
    return taxonomy.listing(Brand, query["include_inactive"])


@blp.route("/brands", methods=["POST"])
@blp.response(201, BrandSchema, message="Brand created")
@requires("catalogue.manage")
@blp.arguments(BrandSchema)
def create_brand(data):
    """Create a brand (as ``POST /api/products/brands``)."""
    brand = taxonomy.save_brand(None, data)
    db.session.commit()
    return brand


@blp.route("/delivery-zones", methods=["GET"])
@blp.response(200, DeliveryZoneSchema(many=True))
@requires("catalogue.manage")
@blp.arguments(AdminListQuerySchema, location="query")
def list_delivery_zones(query):
    """Delivery zones by name (``include_inactive`` for retired ones too)."""
    return taxonomy.listing(DeliveryZone, query["include_inactive"])


@blp.route("/delivery-zones", methods=["POST"])
@blp.response(201, DeliveryZoneSchema, message="Delivery zone created")
@requires("catalogue.manage")
@blp.arguments(DeliveryZoneSchema)
def create_delivery_zone(data):
    """Create a delivery zone (as ``POST /api/products/delivery-zones``)."""
    zone = zones.save_zone(None, data)
    db.session.commit()
    return zone


@blp.route("/delivery-zones/<int:zone_id>", methods=["PUT"])
@blp.response(200, DeliveryZoneSchema, message="Delivery zone updated")
@requires("catalogue.manage")
@blp.arguments(DeliveryZoneUpdateSchema)
def update_delivery_zone(data, zone_id):
    """Update a delivery zone (as ``PUT /api/products/delivery-zones/<id>``)."""
    zone = zones.save_zone(get_or_404(DeliveryZone, zone_id), data)
    db.session.commit()
    return zone


@blp.route("/products", methods=["GET"])
@blp.response(200, ProductSchema, paginated=True)
@requires("catalogue.manage")
@blp.arguments(AdminProductQuerySchema, location="query")
def list_products(params):
    """Every supplier's products, inactive ones included, newest first: by supplier,
    category, brand, ``is_active``, ``low_stock`` (the ``low_stock_threshold`` setting),
    ``q`` in the name or SKU."""
    return catalogue.list_products(params)


@blp.route("/products/<int:product_id>/toggle-status", methods=["PUT"])
@blp.response(200, ProductManageSchema, message="Product status updated")
@requires("catalogue.manage")
def toggle_product_status(product_id):
    """Activate an inactive product, or deactivate an active one."""
    product = catalogue.toggle_status(product_id, current_user())
    db.session.commit()
    return product


@blp.route("/products/bulk-action", methods=["POST"])
@blp.response(200, BulkResultSchema, message="Bulk action processed")
@requires("catalogue.manage")
@blp.arguments(ProductBulkSchema)
def bulk_products(data):
    """``activate``, ``deactivate``, ``delete`` (a product that orders reference is
    deactivated instead) or ``set_category`` (with ``category_id``) each id on its own;
    the answer lists every id's result, and a refused id is left unchanged."""
    result = catalogue.bulk_action(
        data["ids"], data["action"], current_user(), data.get("category_id")
    )
    db.session.commit()
    return result


@blp.route("/products/export-csv", methods=["GET"])
@blp.doc(
    responses={
        "200": {
            "description": "Every matching product, one row each, streamed.",
            "content": {spreadsheets.CSV_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
@requires("catalogue.manage")
@blp.arguments(AdminProductQuerySchema, location="query")
def export_products(params):
    """The products matching the list's filters as a CSV file (streamed; text cells that
    a spreadsheet would run as formulas are made inert)."""
    return spreadsheets.csv_download(catalogue.export_rows(params), "products")


# ---- orders -----------------------------------------------------------------------------
@blp.route("/orders", methods=["GET"])
@blp.response(200, OrderSummarySchema, paginated=True)
@requires("orders.read")
@blp.arguments(AdminOrderQuerySchema, location="query")
def list_all_orders(params):
    """Every order, newest first: by ``status``, ``payment_status``, ``payment_method``,
    ``supplier_id``, ``agent_id``, ``county``, ``from``/``to``; ``q`` in the order number
    or the customer's email, name or phone."""
    return list_orders(current_user(), params)


@blp.route("/orders/bulk-update", methods=["POST"])
@blp.response(200, BulkResultSchema, message="Bulk update processed")
@requires("orders.update")
@blp.arguments(OrderBulkSchema)
def bulk_update_orders(data):
    """Move each order to ``status`` through the order state machine: the same moves and
    the same who-may-what as ``PUT /api/orders/<id>/status`` (support admins cancel only;
    cancelling needs a ``note``). The answer lists every id's result; a refused id
    (off the table, not yours to move, unknown) is left unchanged."""
    result = admin_orders.bulk_update(data["ids"], data["status"], current_user(), data.get("note"))
    db.session.commit()
    return result


@blp.route("/orders/<int:order_id>/notes", methods=["GET"])
@blp.response(200, OrderNoteSchema(many=True))
@requires("orders.read")
def list_order_notes(order_id):
    """The order's internal notes, newest first."""
    return admin_orders.notes_of(order_id)


@blp.route("/orders/<int:order_id>/notes", methods=["POST"])
@blp.response(201, OrderNoteSchema, message="Note added")
@requires("orders.notes")
@blp.arguments(OrderNoteCreateSchema)
def add_order_note(data, order_id):
    """Add an internal note to the order (support's follow-ups; audited)."""
    note = admin_orders.add_note(order_id, data["body"].strip(), current_user())
    db.session.commit()
    return note


# ---- audit, feed, timeline ----------------------------------------------------------------
@blp.route("/audit-logs", methods=["GET"])
@blp.doc(responses=_csv("A page of entries, or with ``format=csv`` all of them.", AuditLogSchema))
@blp.response(200, AuditLogSchema, paginated=True)
@requires("audit.read")
@blp.arguments(AuditQuerySchema, location="query")
def list_audit_logs(params):
    """Who did what to which object, newest first: by ``actor_id``, ``action``,
    ``object_type``, ``object_id``, ``from``/``to``; ``format=csv`` streams every
    matching entry."""
    if params["format"] == "csv":
        return spreadsheets.csv_download(audit.audit_csv_rows(params), "audit-logs")
    return audit.list_audit_logs(params)


@blp.route("/notifications", methods=["GET"])
@blp.response(200, NotificationSchema, paginated=True)
@requires("notifications.own")
@blp.arguments(NotificationQuerySchema, location="query")
def list_admin_notifications(params):
    """Your admin feed, newest first: new supplier applications and what other domains
    raise for admins (disputes, flagged payments, payout failures)."""
    return notifications.list_notifications(current_user(), params)


@blp.route("/notifications/<int:notification_id>/read", methods=["PUT"])
@blp.response(200, NotificationSchema, message="Notification marked read")
@requires("notifications.own")
def mark_admin_notification_read(notification_id):
    """Mark one of your notifications read (someone else's is 404)."""
    notification = notifications.mark_read(current_user(), notification_id)
    db.session.commit()
    return notification


@blp.route("/activity-timeline", methods=["GET"])
@blp.response(200, TimelineEventSchema, paginated=True)
@requires("overview.read")
@blp.arguments(PaginationSchema, location="query")
def activity_timeline(params):
    """The latest audit entries and order status changes, merged, newest first."""
    return audit.timeline(params)
