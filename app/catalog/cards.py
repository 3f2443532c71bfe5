"""The product list's read model: a card per product, as a plain dict of what
``ProductSchema`` shows, selected from columns (no ORM entities), and the cached
statement of an unfiltered page."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Bundle

from app.auth.models import SupplierProfile
from app.catalog.models import Brand, Category, ListedCount, Product, derived_fields
from app.catalog.visibility import listed

SORT_ORDERS = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price.asc(), Product.id.asc()),
    "price_desc": (Product.price.desc(), Product.id.desc()),
    "name": (Product.name.asc(), Product.id.asc()),
    "rating": (Product.rating_average.desc(), Product.rating_count.desc(), Product.id.desc()),
    "popularity": (Product.sold_count.desc(), Product.id.desc()),
}


def sort_order(sort_by: str) -> tuple:
    """The ``ORDER BY`` of a sort (``newest`` for any other, such as ``relevance``)."""
    return SORT_ORDERS.get(sort_by, SORT_ORDERS["newest"])


class _Reference(Bundle):
    """A reference as a dict, or None (no brand): one dict per referenced row within a
    result (``SharedRef`` serialises each once per response)."""

    def create_row_processor(self, query, procs, labels):
        dicts: dict[tuple, dict[str, Any]] = {}

        def proc(row):
            values = tuple(get(row) for get in procs)
            if values[0] is None:
                return None
            if values not in dicts:
                dicts[values] = dict(zip(labels, values, strict=True))
            return dicts[values]

        return proc


class _Card(Bundle):
    """A product card: its columns and references, plus ``derived_fields`` (the rating's
    columns only go into ``rating``)."""

    def create_row_processor(self, query, procs, labels):
        def proc(row):
            card = dict(zip(labels, [get(row) for get in procs], strict=True))
            card.update(
                derived_fields(
                    card["stock"],
                    card["images"],
                    card.pop("rating_average"),
                    card.pop("rating_count"),
                )
            )
            return card

        return proc


# What a product card shows (no description or specs).
CARD = _Card(
    "card",
    Product.id,
    Product.name,
    Product.slug,
    Product.sku,
    Product.price,
    Product.compare_at_price,
    Product.stock,
    Product.condition,
    Product.warranty_months,
    Product.images,
    Product.rating_average,
    Product.rating_count,
    Product.is_active,
    Product.created_at,
    Product.updated_at,
    _Reference("category", Category.id, Category.name, Category.slug),
    _Reference("brand", Brand.id, Brand.name, Brand.slug, Brand.logo_url),
    _Reference("supplier", SupplierProfile.id, SupplierProfile.business_name),
)


def select_cards(*columns) -> Select:
    """``CARD`` (and ``columns``) of products, joined to their references."""
    return (
        select(CARD, *columns)
        .select_from(Product)
        .outerjoin(Product.category)
        .outerjoin(Product.brand)
        .outerjoin(Product.supplier)
    )


def listed_total() -> Select:
    """The number of listed products: the sum of the approved suppliers' counters
    (``ListedCount``)."""
    return (
        select(func.coalesce(func.sum(ListedCount.active_products), 0))
        .join(SupplierProfile, SupplierProfile.id == ListedCount.supplier_id)
        .where(SupplierProfile.is_approved)
    )


@functools.cache
def page_statement(dialect: str, sort_by: str) -> Select:
    """A page (``limit``, ``offset`` bound at execution) of all listed products as cards,
    with their total; built once per database kind and sort."""
    return (
        select_cards(listed_total().scalar_subquery().label("total"))
        .where(*listed())
        .order_by(*sort_order(sort_by))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
