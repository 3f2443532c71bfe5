"""Product writes: create, update, delete (suppliers their own, product managers any).

Plain functions that flush and never commit; the view (or script) commits once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select

from app.auth.models import SupplierProfile, User, UserRole
from app.catalog.models import Brand, Category, Product, ProductSlug
from app.catalog.slugs import ensure_free, unique_slug
from app.common.audit import record_audit, record_change, snapshot
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.signals import product_deleting, product_images_set

PRODUCT_MANAGERS = (UserRole.ADMIN, UserRole.PRODUCT_MANAGER)
SPEC_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def can_manage_all(user: User) -> bool:
    return user.role in PRODUCT_MANAGERS


def get_managed_product(product_id: int, user: User) -> Product:
    """A product the caller may edit: their own (suppliers) or any (product managers)."""
    product = db.session.get(Product, product_id)
    if product is None or not (
        can_manage_all(user)
        or (user.supplier_profile and product.supplier_id == user.supplier_profile.id)
    ):
        raise NotFound("Product not found")
    return product


def _active_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None or not category.is_active:
        raise ValidationFailed(details={"category_id": ["Unknown category."]})
    return category


def _active_brand(brand_id: int | None) -> Brand | None:
    if brand_id is None:
        return None
    brand = db.session.get(Brand, brand_id)
    if brand is None or not brand.is_active:
        raise ValidationFailed(details={"brand_id": ["Unknown brand."]})
    return brand


def spec_errors(category: Category, specs: dict[str, Any]) -> dict[str, list[str]]:
    """Type mismatches of specs against the category's suggested spec keys."""
    errors = {}
    for key, value in specs.items():
        kind = (category.suggested_specs or {}).get(key)
        if kind in SPEC_CHECKS and not SPEC_CHECKS[kind](value):
            errors[key] = [f"Must be a {kind}."]
    return errors


def _check_specs(category: Category, specs: dict[str, Any]) -> None:
    errors = spec_errors(category, specs)
    if errors:
        raise ValidationFailed(details={"specs": errors})


def _check_commission(user: User, data: dict[str, Any]) -> None:
    if "commission_rate" in data and not can_manage_all(user):
        raise Forbidden("Only admins can set a product's commission rate")


# What an audit entry of a product change compares (before and after).
AUDITED_FIELDS = (
    "name",
    "sku",
    "price",
    "compare_at_price",
    "stock",
    "is_active",
    "category_id",
    "brand_id",
    "condition",
    "warranty_months",
    "commission_rate",
)


def create_product(supplier: SupplierProfile, data: dict[str, Any], actor: User) -> Product:
    _check_commission(actor, data)
    category = _active_category(data.pop("category_id"))
    brand = _active_brand(data.pop("brand_id", None))
    _check_specs(category, data.get("specs", {}))
    if data.get("sku") and db.session.scalar(
        select(exists().where(Product.supplier_id == supplier.id, Product.sku == data["sku"]))
    ):
        raise Conflict("You already have a product with this SKU", code="SKU_TAKEN")
    slug = unique_slug(data["name"], ProductSlug.slug)
    product = Product(supplier=supplier, category=category, brand=brand, slug=slug, **data)
    db.session.add(product)
    db.session.flush()
    db.session.add(ProductSlug(product_id=product.id, slug=slug))
    record_audit(
        "product.created",
        product,
        details={"price": str(product.price), "stock": product.stock},
    )
    product_images_set.send(product, images=list(product.images or []))
    return product


def update_product(product: Product, data: dict[str, Any], actor: User) -> Product:
    _check_commission(actor, data)
    before = snapshot(product, AUDITED_FIELDS)
    category_changed = "category_id" in data
    if category_changed:
        product.category = _active_category(data.pop("category_id"))
    if "brand_id" in data:
        product.brand = _active_brand(data.pop("brand_id"))
    if "specs" in data or category_changed:
        _check_specs(product.category, data.get("specs", product.specs))
    price = data.get("price", product.price)
    compare_at = data.get("compare_at_price", product.compare_at_price)
    if compare_at is not None and compare_at <= price:
        raise ValidationFailed(details={"compare_at_price": ["Must be greater than the price."]})
    if data.get("sku") and data["sku"] != product.sku:
        taken = select(Product.id).where(
            Product.supplier_id == product.supplier_id, Product.sku == data["sku"]
        )
        if db.session.scalar(select(exists(taken))):
            raise Conflict("You already have a product with this SKU", code="SKU_TAKEN")
    if "slug" in data and data["slug"] != product.slug:
        new_slug = data.pop("slug")
        ensure_free(new_slug, ProductSlug.slug, "This slug is already used")
        db.session.add(ProductSlug(product_id=product.id, slug=new_slug))
        product.slug = new_slug
    data.pop("slug", None)
    for field, value in data.items():
        setattr(product, field, value)
    db.session.flush()
    record_change("product.updated", product, AUDITED_FIELDS, before)
    if "images" in data:
        product_images_set.send(product, images=list(product.images or []))
    return product


def delete_product(product: Product) -> str:
    """Delete it, or deactivate it when another domain keeps it (``product_deleting``:
    orders keep the products they reference). Returns what was done."""
    try:
        with db.session.begin_nested():
            product_deleting.send(product)
    except Conflict:
        product.is_active = False
        record_audit("product.deactivated", product)
        db.session.flush()
        return "deactivated"
    record_audit("product.deleted", product, details={"name": product.name, "sku": product.sku})
    db.session.execute(delete(ProductSlug).where(ProductSlug.product_id == product.id))
    db.session.delete(product)
    db.session.flush()
    return "deleted"
