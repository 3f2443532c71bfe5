"""Categories (the tree, its product counts), brands and the admin lists by name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select

from app.catalog.models import Brand, Category, Product, refresh_documents
from app.catalog.slugs import ensure_free, unique_slug
from app.catalog.visibility import listed
from app.common.audit import record_change, snapshot
from app.errors import Conflict, ValidationFailed
from app.extensions import db

# The fields an audit entry of a category or brand write compares.
CATEGORY_FIELDS = (
    "name",
    "slug",
    "description",
    "parent_id",
    "image_url",
    "commission_rate",
    "is_active",
)
BRAND_FIELDS = ("name", "slug", "logo_url", "is_active")


def category_tree(include_inactive: bool = False) -> list[Category]:
    """Root categories with ``children`` and ``product_count`` (descendants included)."""
    statement = select(Category).order_by(Category.name)
    if not include_inactive:
        statement = statement.where(Category.is_active)
    categories = list(db.session.scalars(statement))
    counts = dict(
        db.session.execute(
            select(Product.category_id, func.count()).where(*listed()).group_by(Product.category_id)
        ).all()
    )
    by_id = {category.id: category for category in categories}
    for category in categories:
        category.children = []
    roots = []
    for category in categories:
        parent = by_id.get(category.parent_id)
        (parent.children if parent else roots).append(category)

    def total(category: Category) -> int:
        category.product_count = counts.get(category.id, 0) + sum(
            total(child) for child in category.children
        )
        return category.product_count

    for root in roots:
        total(root)
    return roots


def _check_parent(category: Category | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = db.session.get(Category, parent_id)
    if parent is None:
        raise ValidationFailed(details={"parent_id": ["Unknown category."]})
    seen = parent
    while seen is not None:
        if category is not None and seen.id == category.id:
            raise ValidationFailed(
                details={"parent_id": ["A category cannot be inside itself or its children."]}
            )
        seen = seen.parent


def save_category(category: Category | None, data: dict[str, Any]) -> Category:
    """Create (``category`` None) or update a category."""
    if "parent_id" in data:
        _check_parent(category, data["parent_id"])
    before = None if category is None else snapshot(category, CATEGORY_FIELDS)
    if category is None:
        category = Category(slug=data.pop("slug", None) or unique_slug(data["name"], Category.slug))
        db.session.add(category)
    elif "slug" in data and data["slug"] != category.slug:
        ensure_free(data["slug"], Category.slug, "This slug is already used")
    if data.get("is_active") is False:
        _check_retirable(category)
    renamed = category.id is not None and data.get("name", category.name) != category.name
    for field, value in data.items():
        setattr(category, field, value)
    db.session.flush()
    record_change("category.saved", category, CATEGORY_FIELDS, before)
    if renamed:
        refresh_documents(db.session, Product.category_id == category.id)
    return category


def _check_retirable(category: Category) -> None:
    if category.id is None:
        return
    in_use = or_(
        exists().where(Product.category_id == category.id, Product.is_active),
        exists().where(Category.parent_id == category.id, Category.is_active),
    )
    if db.session.scalar(select(in_use)):
        raise Conflict(
            "Move or retire its active products and sub-categories first",
            code="CATEGORY_NOT_EMPTY",
        )


def retire_category(category: Category) -> Category:
    return save_category(category, {"is_active": False})


def save_brand(brand: Brand | None, data: dict[str, Any]) -> Brand:
    if "name" in data and data["name"] != (brand.name if brand else None):
        taken = select(exists().where(func.lower(Brand.name) == data["name"].lower()))
        if db.session.scalar(taken):
            raise Conflict("A brand with this name exists", code="BRAND_EXISTS")
    before = None if brand is None else snapshot(brand, BRAND_FIELDS)
    if brand is None:
        brand = Brand(slug=data.pop("slug", None) or unique_slug(data["name"], Brand.slug))
        db.session.add(brand)
    elif "slug" in data and data["slug"] != brand.slug:
        ensure_free(data["slug"], Brand.slug, "This slug is already used")
    renamed = brand.id is not None and data.get("name", brand.name) != brand.name
    for field, value in data.items():
        setattr(brand, field, value)
    db.session.flush()
    record_change("brand.saved", brand, BRAND_FIELDS, before)
    if renamed:
        refresh_documents(db.session, Product.brand_id == brand.id)
    return brand


def listing(model, include_inactive: bool) -> list:
    statement = select(model).order_by(model.name)
    if not include_inactive:
        statement = statement.where(model.is_active)
    return list(db.session.scalars(statement))
