"""What shoppers read: a listed product (by id or slug) and the product list, with its
filters, sorts and search pages."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, func, or_, select
from sqlalchemy.orm import Bundle, joinedload

from app.auth.models import SupplierProfile
from app.catalog import search
from app.catalog.models import Brand, Category, ListedCount, Product, ProductSearch, ProductSlug
from app.catalog.visibility import current_dialect, listed
from app.errors import NotFound
from app.extensions import db
from app.fields import MAX_ID
from app.pagination import Page, paginate

SORT_ORDERS = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price.asc(), Product.id.asc()),
    "price_desc": (Product.price.desc(), Product.id.desc()),
    "name": (Product.name.asc(), Product.id.asc()),
    "rating": (Product.rating_average.desc(), Product.rating_count.desc(), Product.id.desc()),
    "popularity": (Product.sold_count.desc(), Product.id.desc()),
}


# The category, brand and supplier of a listed product: only what their references show.
REFERENCES = (
    joinedload(Product.category).load_only(Category.id, Category.name, Category.slug),
    joinedload(Product.brand).load_only(Brand.id, Brand.name, Brand.slug, Brand.logo_url),
    joinedload(Product.supplier).load_only(SupplierProfile.id, SupplierProfile.business_name),
)


class _Reference(Bundle):
    """A reference as a dict, or None (no brand): one dict per referenced row within a
    result, so that ``SharedRef`` serialises it once per response."""

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
    """A product card as a dict with what ``ProductSchema`` shows, built from plain
    columns: a list page needs no ORM entities (their loading costs more CPU than the
    query). ``in_stock``, ``cover_image`` and ``rating`` as ``Product`` computes them."""

    def create_row_processor(self, query, procs, labels):
        def proc(row):
            card = dict(zip(labels, [get(row) for get in procs], strict=True))
            card["in_stock"] = card["stock"] > 0
            card["cover_image"] = card["images"][0] if card["images"] else None
            card["rating"] = {"average": card["rating_average"], "count": card["rating_count"]}
            return card

        return proc


# What a product card shows (no description or specs), selected by ``_cards()``.
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


def _cards(*columns) -> Select:
    """``CARD`` (and ``columns``) of products, joined to their references."""
    return (
        select(CARD, *columns)
        .select_from(Product)
        .outerjoin(Product.category)
        .outerjoin(Product.brand)
        .outerjoin(Product.supplier)
    )


def listed_products() -> Select:
    """Listed products with everything the detail page shows."""
    return select(Product).where(*listed()).options(*REFERENCES)


def get_listed_product(product_id: int) -> Product:
    product = db.session.scalar(listed_products().where(Product.id == product_id))
    if product is None:
        raise NotFound("Product not found")
    return product


def get_listed_product_by_slug(slug: str) -> Product:
    """By its current slug, or any slug it had before."""
    old = select(ProductSlug.product_id).where(ProductSlug.slug == slug).scalar_subquery()
    product = db.session.scalar(
        listed_products().where(or_(Product.slug == slug, Product.id == old)).limit(1)
    )
    if product is None:
        raise NotFound("Product not found")
    return product


def _category_ids(value: str) -> list[int]:
    """The category (by id or slug) and all its descendants."""
    rows = db.session.execute(select(Category.id, Category.slug, Category.parent_id)).all()
    root = next((r.id for r in rows if str(r.id) == value or r.slug == value), None)
    if root is None:
        return []
    children = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row.id)
    ids, stack = [], [root]
    while stack:
        current = stack.pop()
        if current not in ids:
            ids.append(current)
            stack.extend(children[current])
    return ids


def _by_id_or_slug(model, value: str):
    """``value`` is an id when it is ASCII digits (``"²"`` is a digit to ``str.isdigit``)."""
    if not (value.isascii() and value.isdigit()):
        return model.slug == value
    number = int(value)
    return model.id == number if number <= MAX_ID else false()


def list_products(params: dict[str, Any]) -> Page:
    filters: list[ColumnElement[bool]] = []
    if "category" in params:
        filters.append(Product.category_id.in_(_category_ids(params["category"])))
    if "brand" in params:
        brand = select(Brand.id).where(_by_id_or_slug(Brand, params["brand"])).scalar_subquery()
        filters.append(Product.brand_id == brand)
    if "min_price" in params:
        filters.append(Product.price >= params["min_price"])
    if "max_price" in params:
        filters.append(Product.price <= params["max_price"])
    if "condition" in params:
        filters.append(Product.condition == params["condition"])
    if "in_stock" in params:
        filters.append(Product.stock > 0 if params["in_stock"] else Product.stock == 0)
    if "supplier" in params:
        filters.append(Product.supplier_id == params["supplier"])

    words = search.terms(params.get("search") or "")
    sort_by = params.get("sort_by") or ("relevance" if words else "newest")
    if words:
        return _search_page(words, filters, sort_by, params)
    if not filters:
        return _unfiltered_page(sort_by, params)
    # Counted on the products alone, as count(*): the covering indexes answer it (not a
    # count over the cards' joins, nor of a column they do not hold).
    order = SORT_ORDERS.get(sort_by, SORT_ORDERS["newest"])
    return paginate(
        _cards().where(*listed(), *filters).order_by(*order),
        params,
        count=select(func.count()).select_from(Product).where(*listed(), *filters),
    )


def _listed_total() -> Select:
    """The number of listed products: the sum of the approved suppliers' counters
    (exact, see ``ListedCount``), not a count of every listed product."""
    return (
        select(func.coalesce(func.sum(ListedCount.active_products), 0))
        .join(SupplierProfile, SupplierProfile.id == ListedCount.supplier_id)
        .where(SupplierProfile.is_approved)
    )


@functools.cache
def _unfiltered_statement(dialect: str, sort_by: str) -> Select:
    """A page of all listed products with their total, built once per database kind
    and order: building the statement and its cache key costs a quarter of the page's
    CPU."""
    order = SORT_ORDERS.get(sort_by, SORT_ORDERS["newest"])
    return (
        _cards(_listed_total().scalar_subquery().label("total"))
        .where(*listed())
        .order_by(*order)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _unfiltered_page(sort_by: str, params: dict[str, Any]) -> Page:
    """A page of all listed products, in one statement. A page past the end is counted
    separately."""
    page, per_page = params["page"], params["per_page"]
    statement = _unfiltered_statement(current_dialect(), sort_by)
    rows = db.session.execute(statement, {"limit": per_page, "offset": (page - 1) * per_page}).all()
    if not rows:
        total = db.session.scalar(_listed_total())
        return Page(items=[], page=page, per_page=per_page, total=total)
    return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=rows[0][1])


def _search_page(
    words: list[str], filters: list[ColumnElement[bool]], sort_by: str, params
) -> Page:
    """One page of the listed products matching ``words``, by relevance or ``sort_by``.

    Every match must be ranked (or sorted): a narrow subquery does it on the search rows
    (ids and sort keys only) and takes the total in the same pass (``count(*) OVER
    ()``), then only the page's products are loaded. A page past the end is counted
    separately.
    """
    page, per_page = params["page"], params["per_page"]
    dialect = current_dialect()
    matches, rank = search.match(dialect, ProductSearch.search_vector, Product.name, words)
    if sort_by != "relevance":
        rank = None
    found = select(ProductSearch.product_id.label("id")).where(*listed(ProductSearch), matches)
    # The search rows alone answer an unfiltered search by relevance on PostgreSQL;
    # filters, other sorts and SQLite's rank (name hits first) need the products.
    if filters or rank is None or dialect != "postgresql":
        found = found.join(Product, Product.id == ProductSearch.product_id).where(*filters)
    total = func.count().over().label("total")
    if rank is None:
        order = SORT_ORDERS.get(sort_by, SORT_ORDERS["newest"])
        ranked = found.add_columns(total).order_by(*order)
    else:
        # OFFSET 0 keeps PostgreSQL from merging the subquery: the rank is computed
        # while the rows are read, so the window keeps (id, created_at, rank) per
        # match instead of whole rows with their search documents.
        ranks = (
            found.add_columns(ProductSearch.created_at, rank.label("rank"))
            .offset(0)
            .subquery("matches")
        )
        ranked = select(ranks.c.id, ranks.c.rank, total).order_by(
            ranks.c.rank.desc(), ranks.c.created_at.desc(), ranks.c.id.desc()
        )
    ranked = ranked.limit(per_page).offset((page - 1) * per_page).subquery("ranked")
    order = SORT_ORDERS.get(sort_by, SORT_ORDERS["newest"])
    if rank is not None:
        order = (ranked.c.rank.desc(), *SORT_ORDERS["newest"])
    rows = db.session.execute(
        _cards(ranked.c.total).join(ranked, ranked.c.id == Product.id).order_by(*order)
    ).all()
    if not rows:
        count = select(func.count()).select_from(found.subquery())
        return Page(items=[], page=page, per_page=per_page, total=db.session.scalar(count))
    return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=rows[0][1])
