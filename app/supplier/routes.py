"""The supplier portal: an approved supplier's figures, orders, products, profile, terms,
statement and balances"""

from __future__ import annotations

from flask import request, send_file

from app import spreadsheets
from app.api import Blueprint, envelope_schema
from app.auth.access import current_user, supplier_required, verified_supplier_required
from app.catalog import operations as catalog
from app.catalog.schemas import DeleteResultSchema, ProductUpdateSchema, ProductWriteSchema
from app.extensions import db
from app.ledger.operations import supplier_balances
from app.supplier import operations as ops
from app.supplier import products, profile, reports, terms
from app.supplier.schemas import (
    AnalyticsQuerySchema,
    BalancesSchema,
    OrderLineQuerySchema,
    OrderLineSchema,
    OwnProductQuerySchema,
    OwnProductSchema,
    ProductStatusSchema,
    ProfileSchema,
    ReportRangeSchema,
    StatementQuerySchema,
    StatementRowSchema,
    SupplierAnalyticsSchema,
    SupplierDashboardSchema,
    TermsAcceptSchema,
    TermsSchema,
    TermsStatusSchema,
)

# The documented 200: a page of rows, or with ``format=csv`` the whole range as a file.
STATEMENT_PAGE = envelope_schema(StatementRowSchema, many=False, paginated=True)

blp = Blueprint(
    "supplier",
    __name__,
    url_prefix="/api/supplier",
    description="The supplier portal: an approved supplier's figures, orders, products, "
    "profile, terms, statement and balances",
)


@blp.route("/ledger", methods=["GET"])
@blp.doc(
    responses={
        "200": {
            "description": "A page of the statement, or with ``format=csv`` the whole range.",
            "content": {
                "application/json": {"schema": STATEMENT_PAGE},
                spreadsheets.CSV_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
)
@supplier_required
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, StatementRowSchema, paginated=True)
def get_ledger(params):
    """Your statement: every movement of what the platform owes you, oldest first.

    One row per ledger line on your accounts (``ON_HOLD``, ``AVAILABLE``, ``IN_FLIGHT``):
    ``amount`` is positive when the platform owes you more, and ``balance`` is what it owes
    you in all (on hold + available + in flight) after that row, counting everything before
    ``from``. ``from``/``to`` are whole UTC days, inclusive. ``format=csv`` downloads the
    whole range as one file.
    """
    supplier_id = current_user().supplier_profile.id
    if params["format"] == "csv":
        content, mimetype, filename = ops.statement_csv(supplier_id, params)
        return send_file(content, mimetype=mimetype, as_attachment=True, download_name=filename)
    return ops.statement_page(supplier_id, params)


@blp.route("/balances", methods=["GET"])
@supplier_required
@blp.response(200, BalancesSchema)
def get_balances():
    """What the platform owes you now, by account, and what it has paid you so far."""
    return supplier_balances(current_user().supplier_profile.id)


# ---- dashboard, analytics, order lines --------------------------------------------------


def _supplier_id() -> int:
    return current_user().supplier_profile.id


@blp.route("/dashboard", methods=["GET"])
@supplier_required
@blp.arguments(ReportRangeSchema, location="query")
@blp.response(200, SupplierDashboardSchema)
def get_dashboard(params):
    """Your figures for ``from``..``to`` (Nairobi days; the last 30 days by default).

    Sales (``items_sold``, ``gross_sales``, ``commission``, ``net_earnings``,
    ``top_products``) count the items of your orders delivered in the range;
    ``orders_by_status`` your orders placed in it, by their status now; ``balances`` what
    the platform owes you now (the ledger); ``returns`` the returns asked in the range and
    items returned per item delivered; ``low_stock`` your active products at or below the
    low-stock threshold, fewest first.
    """
    return reports.dashboard(_supplier_id(), params)


@blp.route("/analytics", methods=["GET"])
@supplier_required
@blp.arguments(AnalyticsQuerySchema, location="query")
@blp.response(200, SupplierAnalyticsSchema)
def get_analytics(params):
    """Your delivered sales over time (``interval`` day, week or month; every period of
    the range is present) and by product and by category, by sales. At most 732 days."""
    return reports.analytics(_supplier_id(), params)


@blp.route("/orders", methods=["GET"])
@supplier_required
@blp.arguments(OrderLineQuerySchema, location="query")
@blp.response(200, OrderLineSchema, paginated=True)
def get_order_lines(params):
    """Your order lines, newest order first (``status``; ``from``/``to``: the Nairobi day
    the order was placed), with your commission and net earning. The customer's contact
    details are not shown."""
    return reports.order_lines(_supplier_id(), params)


# ---- your products ----------------------------------------------------------------------


@blp.route("/products", methods=["GET"])
@supplier_required
@blp.arguments(OwnProductQuerySchema, location="query")
@blp.response(200, OwnProductSchema, paginated=True)
def list_own_products(params):
    """Your products, active or not, newest first, with stock and units sold."""
    return products.list_own_products(_supplier_id(), params)


@blp.route("/products", methods=["POST"])
@blp.response(201, OwnProductSchema, message="Product created")
@verified_supplier_required
@blp.arguments(ProductWriteSchema)
def create_own_product(data):
    """Create a product (the same rules as ``POST /products``)."""
    user = current_user()
    product = catalog.create_product(user.supplier_profile, data, user)
    db.session.commit()
    return product


@blp.route("/products/<int:product_id>", methods=["GET"])
@blp.response(200, OwnProductSchema)
@blp.alt_response(404, description="No such product of yours")
@supplier_required
def get_own_product(product_id):
    """One of your products (another supplier's: 404)."""
    return catalog.get_managed_product(product_id, current_user())


@blp.route("/products/<int:product_id>", methods=["PUT"])
@blp.response(200, OwnProductSchema, message="Product updated")
@blp.alt_response(404, description="No such product of yours")
@verified_supplier_required
@blp.arguments(ProductUpdateSchema)
def update_own_product(data, product_id):
    """Update one of your products (the same rules as ``PUT /products/<id>``)."""
    return _update_own(product_id, data)


def _update_own(product_id: int, data: dict):
    user = current_user()
    product = catalog.update_product(catalog.get_managed_product(product_id, user), data, user)
    db.session.commit()
    return product


@blp.route("/products/<int:product_id>", methods=["DELETE"])
@blp.response(200, DeleteResultSchema, message="Product removed")
@blp.alt_response(404, description="No such product of yours")
@verified_supplier_required
def delete_own_product(product_id):
    """Delete one of your products; one that orders reference is deactivated instead."""
    result = catalog.delete_product(catalog.get_managed_product(product_id, current_user()))
    db.session.commit()
    return {"id": product_id, "result": result}


@blp.route("/products/<int:product_id>/status", methods=["PATCH"])
@blp.response(200, OwnProductSchema, message="Product status updated")
@blp.alt_response(404, description="No such product of yours")
@verified_supplier_required
@blp.arguments(ProductStatusSchema)
def set_own_product_status(data, product_id):
    """Activate or deactivate one of your products (``is_active``)."""
    return _update_own(product_id, data)


# ---- profile and terms ------------------------------------------------------------------


@blp.route("/profile", methods=["GET"])
@supplier_required
@blp.response(200, ProfileSchema)
def get_profile():
    """Your business details, payout number and its pending change, commission rate and
    terms status. Change the payout number with ``PUT /supplier/profile/payment-phone``."""
    return profile.profile(current_user().supplier_profile)


@blp.route("/terms", methods=["GET"])
@supplier_required
@blp.response(200, TermsSchema)
def get_terms():
    """The supplier terms in force: version, effective date, text, commission and payout
    rules (with your commission rate)."""
    return terms.current_terms(current_user().supplier_profile)


@blp.route("/terms/status", methods=["GET"])
@supplier_required
@blp.response(200, TermsStatusSchema)
def get_terms_status():
    """Which version you accepted, when and from where; whether it is the one in force
    (payouts need it)."""
    return terms.terms_status(current_user().supplier_profile)


@blp.route("/terms/accept", methods=["POST"])
@blp.response(200, TermsStatusSchema, message="Terms accepted")
@blp.alt_response(409, description="Not the version in force (TERMS_VERSION_OUTDATED)")
@supplier_required
@blp.arguments(TermsAcceptSchema)
def accept_terms(data):
    """Accept the terms in force (``version``: the one you read; an old or unknown one is
    409 ``TERMS_VERSION_OUTDATED``). Your IP address and the time are recorded; accepting
    again keeps the first acceptance."""
    result = terms.accept_terms(
        current_user().supplier_profile, data["version"], request.remote_addr
    )
    db.session.commit()
    return result
