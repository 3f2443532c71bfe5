"""The supplier's own catalogue: listed with stock and units sold. Writes go through the
catalog's operations (``app.catalog.operations``: the same validation, slugs and audit
as ``/api/products``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.catalog.models import Product
from app.pagination import Page, paginate

# Everything a managed product shows (its commission needs the whole category row).
MANAGED = (
    joinedload(Product.category),
    joinedload(Product.brand),
    joinedload(Product.supplier),
)


def list_own_products(supplier_id: int, params: dict[str, Any]) -> Page:
    """Newest first; ``is_active`` and ``max_stock`` (stock at most) filter."""
    conditions = [Product.supplier_id == supplier_id]
    if params.get("is_active") is not None:
        conditions.append(Product.is_active.is_(params["is_active"]))
    if params.get("max_stock") is not None:
        conditions.append(Product.stock <= params["max_stock"])
    return paginate(
        select(Product)
        .where(*conditions)
        .options(*MANAGED)
        .order_by(Product.created_at.desc(), Product.id.desc()),
        params,
        count=select(func.count()).select_from(Product).where(*conditions),
    )
