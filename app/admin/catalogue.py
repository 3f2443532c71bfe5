"""Products across every supplier (inactive ones too), their bulk actions and export.

Writes go through the catalog's own operations (``app/catalog/operations.py``): the same
rules, audit entries and signals as the product endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, or_, select

from app.admin.bulk import for_each
from app.auth.models import SupplierProfile, User
from app.catalog import operations as ops
from app.catalog.models import Brand, Category, Product
from app.catalog.products import REFERENCES
from app.db import get_or_404
from app.extensions import db
from app.pagination import Page, paginate
from app.settings import setting

EXPORT_COLUMNS = (
    "id",
    "name",
    "sku",
    "supplier_id",
    "supplier",
    "category",
    "brand",
    "price",
    "stock",
    "is_active",
    "created_at",
)


def _conditions(params: dict[str, Any]) -> list:
    conditions = []
    for name, column in (
        ("supplier_id", Product.supplier_id),
        ("category_id", Product.category_id),
        ("brand_id", Product.brand_id),
        ("is_active", Product.is_active),
    ):
        if params.get(name) is not None:
            conditions.append(column == params[name])
    if params.get("low_stock") is not None:
        low = Product.stock <= setting("low_stock_threshold")
        conditions.append(low if params["low_stock"] else ~low)
    if params.get("q"):
        pattern = f"%{params['q'].strip()}%"
        conditions.append(or_(Product.name.ilike(pattern), Product.sku.ilike(pattern)))
    return conditions


def list_products(params: dict[str, Any]) -> Page:
    conditions = _conditions(params)
    statement = (
        select(Product)
        .where(*conditions)
        .options(*REFERENCES)
        .order_by(Product.created_at.desc(), Product.id.desc())
    )
    count = select(func.count()).select_from(Product).where(*conditions)
    return paginate(statement, params, count=count)


def toggle_status(product_id: int, actor: User) -> Product:
    product = get_or_404(Product, product_id)
    return ops.update_product(product, {"is_active": not product.is_active}, actor)


def _set_active(product_id: int, active: bool, actor: User) -> str:
    product = get_or_404(Product, product_id)
    if product.is_active == active:
        return "unchanged"
    ops.update_product(product, {"is_active": active}, actor)
    return "activated" if active else "deactivated"


def _set_category(product_id: int, category_id: int, actor: User) -> str:
    product = get_or_404(Product, product_id)
    if product.category_id == category_id:
        return "unchanged"
    ops.update_product(product, {"category_id": category_id}, actor)
    return "updated"


def bulk_action(ids: list[int], action: str, actor: User, category_id: int | None) -> dict:
    """Per id: ``activate``, ``deactivate``, ``delete`` (deactivated when orders keep it)
    or ``set_category``; a refused id changes nothing."""
    steps = {
        "activate": lambda product_id: _set_active(product_id, True, actor),
        "deactivate": lambda product_id: _set_active(product_id, False, actor),
        "delete": lambda product_id: ops.delete_product(get_or_404(Product, product_id)),
        "set_category": lambda product_id: _set_category(product_id, category_id, actor),
    }
    return for_each(ids, steps[action])


def export_rows(params: dict[str, Any]) -> Iterator[tuple]:
    """The header, then every matching product, read in batches."""
    yield EXPORT_COLUMNS
    statement = (
        select(
            Product.id,
            Product.name,
            Product.sku,
            Product.supplier_id,
            SupplierProfile.business_name,
            Category.name,
            Brand.name,
            Product.price,
            Product.stock,
            Product.is_active,
            Product.created_at,
        )
        .join(SupplierProfile, SupplierProfile.id == Product.supplier_id)
        .join(Category, Category.id == Product.category_id)
        .outerjoin(Brand, Brand.id == Product.brand_id)
        .where(*_conditions(params))
        .order_by(Product.id)
        .execution_options(yield_per=1000)
    )
    for row in db.session.execute(statement):
        *cells, created_at = row
        yield (*cells, created_at.isoformat().replace("+00:00", "Z"))
