"""Which products are listed: the one rule the catalogue, the cart and checkout share."""

from __future__ import annotations

from sqlalchemy import ColumnElement, all_, func, select

from app.auth.models import SupplierProfile
from app.catalog.models import Product, ProductSearch
from app.extensions import db


def current_dialect() -> str:
    return db.session.get_bind().dialect.name


def listed(model: type[Product | ProductSearch] = Product) -> list[ColumnElement[bool]]:
    """The criteria of listed products: active, of an approved supplier (on the products
    or on their search rows, which copy those columns)."""
    if current_dialect() == "postgresql":
        # "Not one of the (few) unapproved suppliers" (supplier_id is a required foreign
        # key): a cheap per-row test that PostgreSQL checks on the covering indexes'
        # entries or the rows it reads anyway; an IN (subquery) or join plans worse.
        unapproved = select(SupplierProfile.id).where(~SupplierProfile.is_approved)
        return [
            model.is_active,
            model.supplier_id != all_(func.array(unapproved.scalar_subquery())),
        ]
    approved = select(SupplierProfile.id).where(SupplierProfile.is_approved)
    return [model.is_active, model.supplier_id.in_(approved)]
