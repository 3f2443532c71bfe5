"""Products, categories, brands, delivery zones, reviews and bulk import"""

from __future__ import annotations

from flask import send_file

from app import spreadsheets
from app.api import Blueprint
from app.auth.access import (
    auth_required,
    current_user,
    customer_required,
    optional_user,
    requires,
)
from app.auth.models import UserRole
from app.catalog import importer, products, reviews, taxonomy
from app.catalog import operations as ops
from app.catalog.models import Brand, Category
from app.catalog.schemas import (
    AdminListQuerySchema,
    BrandSchema,
    BrandUpdateSchema,
    CategorySchema,
    CategoryTreeSchema,
    CategoryUpdateSchema,
    DeleteResultSchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportResultSchema,
    ProductDetailSchema,
    ProductManageSchema,
    ProductQuerySchema,
    ProductSchema,
    ProductUpdateSchema,
    ProductWriteSchema,
    ReviewSchema,
    ReviewUpdateSchema,
    TemplateQuerySchema,
)
from app.db import get_or_404
from app.delivery import operations as zones
from app.delivery.models import DeliveryZone
from app.delivery.schemas import DeliveryZoneSchema, DeliveryZoneUpdateSchema
from app.extensions import db
from app.pagination import PaginationSchema

blp = Blueprint(
    "catalog",
    __name__,
    url_prefix="/api/products",
    description="Products, categories, brands, delivery zones, reviews and bulk import",
)

supplier_writer = auth_required([UserRole.SUPPLIER], verified=True, approved_supplier=True)
product_editor = auth_required(
    [UserRole.SUPPLIER, UserRole.PRODUCT_MANAGER], verified=True, approved_supplier=True
)
catalog_manager = requires("catalogue.manage")
review_moderator = auth_required([UserRole.CUSTOMER, UserRole.SUPPORT_ADMIN])


def _include_inactive(query: dict) -> bool:
    user = optional_user()
    return query["include_inactive"] and user is not None and ops.can_manage_all(user)


# ---- products -------------------------------------------------------------------------


@blp.route("", methods=["GET"])
@blp.arguments(ProductQuerySchema, location="query")
@blp.response(200, ProductSchema, paginated=True)
def list_products(query):
    """List products: filter, search and sort (active products of approved suppliers)."""
    return products.list_products(query)


@blp.route("", methods=["POST"])
@blp.response(201, ProductManageSchema, message="Product created")
@supplier_writer
@blp.arguments(ProductWriteSchema)
def create_product(data):
    """Create a product (approved, verified suppliers)."""
    user = current_user()
    product = ops.create_product(user.supplier_profile, data, user)
    db.session.commit()
    return product


@blp.route("/<int:product_id>", methods=["GET"])
@blp.response(200, ProductDetailSchema)
def get_product(product_id):
    """A listed product by id."""
    return products.get_listed_product(product_id)


@blp.route("/slug/<slug>", methods=["GET"])
@blp.response(200, ProductDetailSchema)
def get_product_by_slug(slug):
    """A listed product by its slug (former slugs still resolve)."""
    return products.get_listed_product_by_slug(slug)


@blp.route("/<int:product_id>", methods=["PUT"])
@blp.response(200, ProductManageSchema, message="Product updated")
@product_editor
@blp.arguments(ProductUpdateSchema)
def update_product(data, product_id):
    """Update a product: its supplier, or admins and product managers (any product)."""
    user = current_user()
    product = ops.get_managed_product(product_id, user)
    ops.update_product(product, data, user)
    db.session.commit()
    return product


@blp.route("/<int:product_id>", methods=["DELETE"])
@blp.response(200, DeleteResultSchema, message="Product removed")
@product_editor
def delete_product(product_id):
    """Delete a product; one that orders reference is deactivated instead."""
    product = ops.get_managed_product(product_id, current_user())
    result = ops.delete_product(product)
    db.session.commit()
    return {"id": product_id, "result": result}


# ---- reviews --------------------------------------------------------------------------


@blp.route("/<int:product_id>/reviews", methods=["GET"])
@blp.arguments(PaginationSchema, location="query")
@blp.response(200, ReviewSchema, paginated=True)
def list_reviews(query, product_id):
    """Reviews of a product, newest first."""
    return reviews.list_reviews(product_id, query)


@blp.route("/<int:product_id>/reviews", methods=["POST"])
@blp.response(201, ReviewSchema, message="Review added")
@customer_required
@blp.arguments(ReviewSchema)
def add_review(data, product_id):
    """Review a product that was delivered to you (one review per product)."""
    review = reviews.add_review(product_id, current_user(), data)
    db.session.commit()
    return review


@blp.route("/<int:product_id>/reviews/<int:review_id>", methods=["PUT"])
@blp.response(200, ReviewSchema, message="Review updated")
@customer_required
@blp.arguments(ReviewUpdateSchema)
def update_review(data, product_id, review_id):
    """Edit your own review."""
    review = reviews.get_review(product_id, review_id, current_user())
    reviews.update_review(review, data)
    db.session.commit()
    return review


@blp.route("/<int:product_id>/reviews/<int:review_id>", methods=["DELETE"])
@blp.response(200, message="Review removed")
@review_moderator
def delete_review(product_id, review_id):
    """Remove a review: your own, or any (support admins)."""
    user = current_user()
    owner = None if user.role != UserRole.CUSTOMER else user
    review = reviews.get_review(product_id, review_id, owner)
    reviews.delete_review(review, user)
    db.session.commit()
    return None


# ---- bulk import ----------------------------------------------------------------------


def _spreadsheet(description: str) -> dict:
    """The documented 200 of a view that sends a CSV or XLSX file."""
    return {
        "description": description,
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in (spreadsheets.CSV_TYPE, spreadsheets.XLSX_TYPE)
        },
    }


@blp.route("/import", methods=["POST"])
@blp.response(200, ImportResultSchema, message="Import processed")
@blp.alt_response(422, description="Some rows are invalid: nothing was imported")
@supplier_writer
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
def import_products(query, files):
    """Create or update your products from a CSV or XLSX file (up to 5,000 rows).

    Rows whose SKU matches one of your products update it. With any bad row nothing is
    imported (422, every bad row listed) unless ``partial=true``; ``dry_run=true``
    only validates.
    """
    user = current_user()
    result = importer.import_file(user.supplier_profile, files["file"], user, **query)
    db.session.commit()
    return result


@blp.route("/import/template", methods=["GET"])
@blp.arguments(TemplateQuerySchema, location="query")
@blp.doc(
    responses={"200": _spreadsheet("A CSV or XLSX file with the import columns and one example.")}
)
@supplier_writer
def import_template(query):
    """Download the bulk import template (``format=csv`` or ``xlsx``)."""
    content, mimetype, filename = importer.template(query["format"])
    return send_file(content, mimetype=mimetype, as_attachment=True, download_name=filename)


@blp.route("/import/errors", methods=["POST"])
@blp.arguments(TemplateQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.doc(
    responses={"200": _spreadsheet("The invalid rows as sent, each with its line and errors.")}
)
@supplier_writer
def import_error_report(query, files):
    """Download a file's invalid rows with their errors (``format=csv`` or ``xlsx``),
    to correct and upload again. Nothing is imported."""
    content, mimetype, filename = importer.error_report(files["file"], query["format"])
    return send_file(content, mimetype=mimetype, as_attachment=True, download_name=filename)


# ---- categories, brands, delivery zones -----------------------------------------------


@blp.route("/categories", methods=["GET"])
@blp.arguments(AdminListQuerySchema, location="query")
@blp.response(200, CategoryTreeSchema(many=True))
def list_categories(query):
    """The category tree with product counts and suggested specs."""
    return taxonomy.category_tree(_include_inactive(query))


@blp.route("/categories", methods=["POST"])
@blp.response(201, CategorySchema, message="Category created")
@catalog_manager
@blp.arguments(CategorySchema)
def create_category(data):
    """Create a category (admins and product managers)."""
    category = taxonomy.save_category(None, data)
    db.session.commit()
    return category


@blp.route("/categories/<int:category_id>", methods=["PUT"])
@blp.response(200, CategorySchema, message="Category updated")
@catalog_manager
@blp.arguments(CategoryUpdateSchema)
def update_category(data, category_id):
    """Update a category; renaming it refreshes its products' search data."""
    category = taxonomy.save_category(get_or_404(Category, category_id), data)
    db.session.commit()
    return category


@blp.route("/categories/<int:category_id>", methods=["DELETE"])
@blp.response(200, CategorySchema, message="Category retired")
@catalog_manager
def retire_category(category_id):
    """Retire a category (it must have no active products or sub-categories)."""
    category = taxonomy.retire_category(get_or_404(Category, category_id))
    db.session.commit()
    return category


@blp.route("/brands", methods=["GET"])
@blp.arguments(AdminListQuerySchema, location="query")
@blp.response(200, BrandSchema(many=True))
def list_brands(query):
    """Brands, by name."""
    return taxonomy.listing(Brand, _include_inactive(query))


@blp.route("/brands", methods=["POST"])
@blp.response(201, BrandSchema, message="Brand created")
@catalog_manager
@blp.arguments(BrandSchema)
def create_brand(data):
    """Create a brand (admins and product managers)."""
    brand = taxonomy.save_brand(None, data)
    db.session.commit()
    return brand


@blp.route("/brands/<int:brand_id>", methods=["PUT"])
@blp.response(200, BrandSchema, message="Brand updated")
@catalog_manager
@blp.arguments(BrandUpdateSchema)
def update_brand(data, brand_id):
    """Update a brand."""
    brand = taxonomy.save_brand(get_or_404(Brand, brand_id), data)
    db.session.commit()
    return brand


@blp.route("/brands/<int:brand_id>", methods=["DELETE"])
@blp.response(200, BrandSchema, message="Brand retired")
@catalog_manager
def retire_brand(brand_id):
    """Retire a brand: it is no longer offered for new products."""
    brand = taxonomy.save_brand(get_or_404(Brand, brand_id), {"is_active": False})
    db.session.commit()
    return brand


@blp.route("/delivery-zones", methods=["GET"])
@blp.arguments(AdminListQuerySchema, location="query")
@blp.response(200, DeliveryZoneSchema(many=True))
def list_delivery_zones(query):
    """Delivery zones with fee, estimated days and free-delivery threshold."""
    return taxonomy.listing(DeliveryZone, _include_inactive(query))


@blp.route("/delivery-zones", methods=["POST"])
@blp.response(201, DeliveryZoneSchema, message="Delivery zone created")
@catalog_manager
@blp.arguments(DeliveryZoneSchema)
def create_delivery_zone(data):
    """Create a delivery zone (admins and product managers)."""
    zone = zones.save_zone(None, data)
    db.session.commit()
    return zone


@blp.route("/delivery-zones/<int:zone_id>", methods=["PUT"])
@blp.response(200, DeliveryZoneSchema, message="Delivery zone updated")
@catalog_manager
@blp.arguments(DeliveryZoneUpdateSchema)
def update_delivery_zone(data, zone_id):
    """Update a delivery zone."""
    zone = zones.save_zone(get_or_404(DeliveryZone, zone_id), data)
    db.session.commit()
    return zone


@blp.route("/delivery-zones/<int:zone_id>", methods=["DELETE"])
@blp.response(200, DeliveryZoneSchema, message="Delivery zone retired")
@catalog_manager
def retire_delivery_zone(zone_id):
    """Retire a delivery zone: no longer offered at checkout."""
    zone = zones.save_zone(get_or_404(DeliveryZone, zone_id), {"is_active": False})
    db.session.commit()
    return zone
