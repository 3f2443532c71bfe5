"""What shoppers read: a listed product (by id or slug) and the product list, with its
filters, sorts and search pages."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.auth.models import SupplierProfile
from app.catalog import cards, search
from app.catalog.models import Brand, Category, Product, ProductSearch, ProductSlug
from app.catalog.visibility import current_dialect, listed
from app.errors import NotFound
from app.extensions import db
from app.fields import MAX_ID
from app.pagination import Page, paginate

# The category, brand and supplier of a listed product: only what their references show.
REFERENCES = (
    joinedload(Product.category).load_only(Category.id, Category.name, Category.slug),
    joinedload(Product.brand).load_only(Brand.id, Brand.name, Brand.slug, Brand.logo_url),
    joinedload(Product.supplier).load_only(SupplierProfile.id, SupplierProfile.business_name),
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
    # The total: count(*) of the products alone, without the cards' joins.
    order = cards.sort_order(sort_by)
    return paginate(
        cards.select_cards().where(*listed(), *filters).order_by(*order),
        params,
        count=select(func.count()).select_from(Product).where(*listed(), *filters),
    )


def _unfiltered_page(sort_by: str, params: dict[str, Any]) -> Page:
    """A page of all listed products, in one statement. A page past the end is counted
    separately."""
    page, per_page = params["page"], params["per_page"]
    statement = cards.page_statement(current_dialect(), sort_by)
    rows = db.session.execute(statement, {"limit": per_page, "offset": (page - 1) * per_page}).all()
    if not rows:
        total = db.session.scalar(cards.listed_total())
        return Page(items=[], page=page, per_page=per_page, total=total)
    return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=rows[0][1])


def _search_page(
    words: list[str], filters: list[ColumnElement[bool]], sort_by: str, params
) -> Page:
    """One page of the listed products matching ``words``, by relevance or ``sort_by``:
    the matches are ranked on their search rows, with the total (``count(*) OVER ()``),
    then the page's cards are loaded. A page past the end is counted separately."""
    page, per_page = params["page"], params["per_page"]
    dialect = current_dialect()
    matches, rank = search.match(dialect, ProductSearch.search_vector, Product.name, words)
    if sort_by != "relevance":
        rank = None
    found = select(ProductSearch.product_id.label("id")).where(*listed(ProductSearch), matches)
    # Filters, other sorts and SQLite's rank (name hits first) need the products.
    if filters or rank is None or dialect != "postgresql":
        found = found.join(Product, Product.id == ProductSearch.product_id).where(*filters)
    total = func.count().over().label("total")
    if rank is None:
        order = cards.sort_order(sort_by)
        ranked = found.add_columns(total).order_by(*order)
    else:
        # OFFSET 0: PostgreSQL keeps this subquery apart from the window over it.
        ranks = (
            found.add_columns(ProductSearch.created_at, rank.label("rank"))
            .offset(0)
            .subquery("matches")
        )
        ranked = select(ranks.c.id, ranks.c.rank, total).order_by(
            ranks.c.rank.desc(), ranks.c.created_at.desc(), ranks.c.id.desc()
        )
    ranked = ranked.limit(per_page).offset((page - 1) * per_page).subquery("ranked")
    order = cards.sort_order(sort_by)
    if rank is not None:
        order = (ranked.c.rank.desc(), *cards.sort_order("newest"))
    rows = db.session.execute(
        cards.select_cards(ranked.c.total).join(ranked, ranked.c.id == Product.id).order_by(*order)
    ).all()
    if not rows:
        count = select(func.count()).select_from(found.subquery())
        return Page(items=[], page=page, per_page=per_page, total=db.session.scalar(count))
    return Page(items=[row[0] for row in rows], page=page, per_page=per_page, total=rows[0][1])
