"""Catalog rules: visibility, listing, slugs, product writes, categories, reviews.

Plain functions that flush and never commit; the view (or script) commits once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    delete,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Bundle, joinedload

from app.auth.models import SupplierProfile, User, UserRole
from app.cart.models import CartItem
from app.catalog import search
from app.catalog.models import (
    Brand,
    Category,
    ListedCount,
    Product,
    ProductSearch,
    ProductSlug,
    Review,
    refresh_documents,
)
from app.catalog.visibility import current_dialect, listed
from app.common.audit import record_audit
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.fields import MAX_ID
from app.money import CENTS
from app.orders.models import Order, OrderItem, OrderStatus
from app.pagination import Page, paginate

PRODUCT_MANAGERS = (UserRole.ADMIN, UserRole.PRODUCT_MANAGER)
SPEC_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}
SORT_ORDERS = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price.asc(), Product.id.asc()),
    "price_desc": (Product.price.desc(), Product.id.desc()),
    "name": (Product.name.asc(), Product.id.asc()),
    "rating": (Product.rating_average.desc(), Product.rating_count.desc(), Product.id.desc()),
    "popularity": (Product.sold_count.desc(), Product.id.desc()),
}


# ---- slugs ----------------------------------------------------------------------------


def slugify(text: str, max_length: int = 200) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(text: str, column) -> str:
    """``text`` slugified, with ``-2``, ``-3``... when ``column`` already holds it."""
    base = slugify(text)
    taken = set(
        db.session.scalars(select(column).where(or_(column == base, column.like(f"{base}-%"))))
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _ensure_free(slug: str, column, message: str) -> None:
    if db.session.scalar(select(exists().where(column == slug))):
        raise Conflict(message, code="SLUG_TAKEN", details={"slug": slug})


# ---- visibility and loading -----------------------------------------------------------


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


# ---- listing --------------------------------------------------------------------------


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


# ---- product writes -------------------------------------------------------------------


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


def _audit_changes(product: Product, before: dict[str, Any]) -> None:
    changes = {
        field: {"from": str(old), "to": str(getattr(product, field))}
        for field, old in before.items()
        if old != getattr(product, field)
    }
    if changes:
        record_audit("product.updated", product, details=changes)


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
    return product


def update_product(product: Product, data: dict[str, Any], actor: User) -> Product:
    _check_commission(actor, data)
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
        _ensure_free(new_slug, ProductSlug.slug, "This slug is already used")
        db.session.add(ProductSlug(product_id=product.id, slug=new_slug))
        product.slug = new_slug
    data.pop("slug", None)
    before = {field: getattr(product, field) for field in ("price", "stock", "is_active")}
    for field, value in data.items():
        setattr(product, field, value)
    _audit_changes(product, before)
    db.session.flush()
    return product


def delete_product(product: Product) -> str:
    """Delete it, or deactivate it when orders reference it. Returns what was done."""
    if db.session.scalar(select(exists().where(OrderItem.product_id == product.id))):
        product.is_active = False
        record_audit("product.deactivated", product)
        db.session.flush()
        return "deactivated"
    record_audit("product.deleted", product, details={"name": product.name, "sku": product.sku})
    db.session.execute(delete(CartItem).where(CartItem.product_id == product.id))
    db.session.execute(delete(ProductSlug).where(ProductSlug.product_id == product.id))
    db.session.delete(product)
    db.session.flush()
    return "deleted"


# ---- categories, brands, delivery zones -----------------------------------------------


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
    if category is None:
        category = Category(slug=data.pop("slug", None) or unique_slug(data["name"], Category.slug))
        db.session.add(category)
        record_audit("category.created", details={"name": data["name"]})
    elif "slug" in data and data["slug"] != category.slug:
        _ensure_free(data["slug"], Category.slug, "This slug is already used")
    if data.get("is_active") is False:
        _check_retirable(category)
    renamed = category.id is not None and data.get("name", category.name) != category.name
    for field, value in data.items():
        setattr(category, field, value)
    db.session.flush()
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
    if brand is None:
        brand = Brand(slug=data.pop("slug", None) or unique_slug(data["name"], Brand.slug))
        db.session.add(brand)
    elif "slug" in data and data["slug"] != brand.slug:
        _ensure_free(data["slug"], Brand.slug, "This slug is already used")
    renamed = brand.id is not None and data.get("name", brand.name) != brand.name
    for field, value in data.items():
        setattr(brand, field, value)
    db.session.flush()
    if renamed:
        refresh_documents(db.session, Product.brand_id == brand.id)
    return brand


def listing(model, include_inactive: bool) -> list:
    statement = select(model).order_by(model.name)
    if not include_inactive:
        statement = statement.where(model.is_active)
    return list(db.session.scalars(statement))


# ---- reviews --------------------------------------------------------------------------


def _lock_product(product_id: int) -> Product:
    """The listed product, locked so concurrent reviews recompute its rating in turn."""
    product = db.session.scalar(
        select(Product)
        .join(Product.supplier)
        .where(Product.id == product_id, Product.is_active, SupplierProfile.is_approved)
        .with_for_update(of=Product)
    )
    if product is None:
        raise NotFound("Product not found")
    return product


def refresh_rating(product: Product) -> None:
    """Recompute the product's rating from its reviews (exact, never incremental drift)."""
    db.session.flush()
    count, total = db.session.execute(
        select(func.count(Review.id), func.coalesce(func.sum(Review.rating), 0)).where(
            Review.product_id == product.id
        )
    ).one()
    product.rating_count = count
    product.rating_sum = int(total)
    product.rating_average = (
        (Decimal(int(total)) / count).quantize(CENTS) if count else Decimal("0.00")
    )


def has_received(user: User, product_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(OrderItem.product_id == product_id, OrderItem.order_id == Order.id)
                .where(Order.customer_id == user.id, Order.status == OrderStatus.DELIVERED)
            )
        )
    )


def add_review(product_id: int, user: User, data: dict[str, Any]) -> Review:
    product = _lock_product(product_id)
    if not has_received(user, product.id):
        raise Forbidden(
            "You can review a product once it has been delivered to you", code="NOT_PURCHASED"
        )
    if db.session.scalar(
        select(exists().where(Review.product_id == product.id, Review.user_id == user.id))
    ):
        raise Conflict("You have already reviewed this product", code="ALREADY_REVIEWED")
    review = Review(product=product, user=user, **data)
    db.session.add(review)
    refresh_rating(product)
    return review


def get_review(product_id: int, review_id: int, user: User | None = None) -> Review:
    """A review of that product; with ``user``, only that user's own review."""
    review = db.session.get(Review, review_id)
    if (
        review is None
        or review.product_id != product_id
        or (user is not None and review.user_id != user.id)
    ):
        raise NotFound("Review not found")
    return review


def update_review(review: Review, data: dict[str, Any]) -> Review:
    product = _lock_product(review.product_id)
    for field, value in data.items():
        setattr(review, field, value)
    refresh_rating(product)
    return review


def delete_review(review: Review, actor: User) -> None:
    product = _lock_product(review.product_id)
    if review.user_id != actor.id:
        record_audit(
            "review.removed",
            review,
            details={"product_id": review.product_id, "rating": review.rating},
        )
    db.session.delete(review)
    refresh_rating(product)


def list_reviews(product_id: int, params: dict[str, Any]) -> Page:
    get_listed_product(product_id)
    statement = (
        select(Review)
        .where(Review.product_id == product_id)
        .options(joinedload(Review.user))
        .order_by(Review.created_at.desc(), Review.id.desc())
    )
    return paginate(statement, params)
