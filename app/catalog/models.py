"""Categories, brands and products."""

from __future__ import annotations

import enum
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.auth.models import SupplierProfile, User
from app.catalog.search import SearchVector, document
from app.db import CONFLICT_INSERTS, Base, TimestampMixin, enum_column
from app.settings import setting

_ACTIVE = text("is_active")


def commission_rate(
    product_rate: Decimal | None,
    category_rate: Decimal | None,
    supplier_rate: Decimal | None = None,
) -> Decimal:
    """The platform's rate on a product: its own override, else its supplier's agreed
    rate (``PUT /api/admin/suppliers/<id>/commission``), else its category's default,
    else the ``default_commission_rate`` setting. Order lines snapshot it at checkout,
    so a change applies to future orders only."""
    for rate in (product_rate, supplier_rate, category_rate):
        if rate is not None:
            return rate
    return Decimal(setting("default_commission_rate"))


def derived_fields(
    stock: int, images: list[str], rating_average: Decimal, rating_count: int
) -> dict[str, Any]:
    """What a product shows that is computed from its columns: ``in_stock``,
    ``cover_image`` and ``rating`` (``Product``'s properties, the list's cards)."""
    return {
        "in_stock": stock > 0,
        "cover_image": images[0] if images else None,
        "rating": {"average": rating_average, "count": rating_count},
    }


class ProductCondition(enum.StrEnum):
    NEW = "NEW"
    REFURBISHED = "REFURBISHED"


class Category(TimestampMixin, Base):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("commission_rate >= 0 AND commission_rate < 1", name="commission_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    image_url: Mapped[str | None] = mapped_column(String(500))
    # {"ram_gb": "number", "colour": "string", ...}: spec keys suggested to suppliers
    suggested_specs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commission_rate: Mapped[Decimal] = mapped_column(
        Numeric(5, 4), default=lambda: Decimal(setting("default_commission_rate"))
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Brand(TimestampMixin, Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    logo_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint(
            "commission_rate IS NULL OR (commission_rate >= 0 AND commission_rate < 1)",
            name="commission_rate",
        ),
        CheckConstraint("compare_at_price IS NULL OR compare_at_price > 0", name="compare_at"),
        CheckConstraint("warranty_months >= 0", name="warranty_non_negative"),
        CheckConstraint("rating_count >= 0", name="rating_count_non_negative"),
        UniqueConstraint("supplier_id", "sku"),
        # Public lists only show active products: partial indexes (on PostgreSQL) over
        # the active rows, one per sort order with its tie-breakers, so a page is read
        # in index order; "category_price" (covering) answers the total of category,
        # price and stock filters from the index alone. The unfiltered total comes from
        # ListedCount, search from ProductSearch.
        Index("ix_products_listed_created", "created_at", "id", postgresql_where=_ACTIVE),
        Index("ix_products_listed_price", "price", "id", postgresql_where=_ACTIVE),
        Index("ix_products_listed_name", "name", "id", postgresql_where=_ACTIVE),
        Index(
            "ix_products_listed_rating",
            "rating_average",
            "rating_count",
            "id",
            postgresql_where=_ACTIVE,
        ),
        Index("ix_products_listed_sold", "sold_count", "id", postgresql_where=_ACTIVE),
        Index(
            "ix_products_listed_category_price",
            "category_id",
            "price",
            postgresql_include=["stock", "supplier_id"],
            postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT"), index=True, active_history=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    brand_id: Mapped[int | None] = mapped_column(
        ForeignKey("brands.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    sku: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal]
    compare_at_price: Mapped[Decimal | None]
    stock: Mapped[int] = mapped_column(default=0)
    condition: Mapped[ProductCondition] = mapped_column(
        enum_column(ProductCondition), default=ProductCondition.NEW
    )
    warranty_months: Mapped[int] = mapped_column(default=0)
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Per-product override set by admins; None means the category's rate applies.
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    # active_history: the old value is known when it changes (see ListedCount).
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), active_history=True
    )
    # Exact rating aggregates, recomputed from the reviews whenever one changes.
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_average: Mapped[Decimal] = mapped_column(
        Numeric(3, 2), default=Decimal("0.00"), server_default="0"
    )
    sold_count: Mapped[int] = mapped_column(default=0, server_default="0")

    supplier: Mapped[SupplierProfile] = relationship()
    category: Mapped[Category] = relationship()
    brand: Mapped[Brand | None] = relationship()

    @property
    def cover_image(self) -> str | None:
        return self._derived()["cover_image"]

    @property
    def rating(self) -> dict[str, Any]:
        return self._derived()["rating"]

    @property
    def in_stock(self) -> bool:
        return self._derived()["in_stock"]

    def _derived(self) -> dict[str, Any]:
        return derived_fields(self.stock, self.images, self.rating_average, self.rating_count)

    @property
    def effective_commission_rate(self) -> Decimal:
        category_rate = self.category.commission_rate if self.category else None
        supplier_rate = self.supplier.commission_rate if self.supplier else None
        return commission_rate(self.commission_rate, category_rate, supplier_rate)


class ListedCount(Base):
    """Each supplier's number of active products, so that the total of the unfiltered
    product list is exact without counting ~every product on each request.

    Kept in the flushing transaction by the session events below (inserts, deletes and
    changes of ``is_active`` or ``supplier_id`` through the ORM, in increments, so that
    concurrent writers add up); writes that bypass the ORM unit of work (bulk inserts,
    ``update(Product)`` of those columns) must call ``recount_listed()``.
    """

    __tablename__ = "listed_counts"
    __table_args__ = (CheckConstraint("active_products >= 0", name="active_products"),)

    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    active_products: Mapped[int] = mapped_column(default=0, server_default="0")


class ProductSearch(Base):
    """A product's search document (name A, brand and category names B, description C;
    see ``app.catalog.search``) with the columns a search filters and ties on.

    Apart from the product row so that a search, which reads the document of every
    match to rank it, reads only these narrow rows (not whole products with their
    descriptions), and product writes that leave the document alone (stock, ratings)
    neither rewrite it nor touch the GIN index. Written by the database from the
    product row (``refresh_documents``) whenever the ORM flushes a product change to a
    searched or copied column; writes that bypass the ORM must call
    ``refresh_documents()`` themselves.
    """

    __tablename__ = "product_search"
    __table_args__ = (
        # Searches only look for active products; fastupdate off: a write updates the
        # index at once instead of queueing in a pending list that every search scans.
        Index(
            "ix_product_search_vector",
            "search_vector",
            postgresql_using="gin",
            postgresql_where=_ACTIVE,
            postgresql_with={"fastupdate": "off"},
        ).ddl_if(dialect="postgresql"),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    # Copies of the product's columns: listed() and the "newest" tie-break.
    supplier_id: Mapped[int]
    created_at: Mapped[datetime]
    is_active: Mapped[bool]
    search_vector: Mapped[str] = mapped_column(SearchVector())


class ProductSlug(Base):
    """Every slug a product has had, so old links keep resolving after a rename."""

    __tablename__ = "product_slugs"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(220), unique=True)


class Review(TimestampMixin, Base):
    """A customer's review of a product they received: one per customer and product."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "user_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_reviews_product_created", "product_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int]
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text, default="")

    product: Mapped[Product] = relationship()
    user: Mapped[User] = relationship()


# Product attributes the search row is computed from.
_SEARCHED = (
    "name",
    "description",
    "brand",
    "brand_id",
    "category",
    "category_id",
    "supplier",
    "supplier_id",
    "is_active",
)


def _original(product: Product, key: str):
    history = inspect(product).attrs[key].history
    return (history.deleted or history.unchanged or history.added)[0]


@event.listens_for(Session, "before_flush")
def _load_deleted_products(session, flush_context, instances) -> None:
    for product in session.deleted:
        if isinstance(product, Product):  # loads what the delta below needs, if expired
            _ = product.is_active, product.supplier_id


@event.listens_for(Session, "after_flush")
def _count_listed(session, flush_context) -> None:
    deltas: Counter[int] = Counter()
    for product in session.new:
        if isinstance(product, Product) and product.is_active:
            deltas[product.supplier_id] += 1
    for product in session.deleted:
        if isinstance(product, Product) and _original(product, "is_active"):
            deltas[_original(product, "supplier_id")] -= 1
    for product in session.dirty:
        if isinstance(product, Product):
            if _original(product, "is_active"):
                deltas[_original(product, "supplier_id")] -= 1
            if product.is_active:
                deltas[product.supplier_id] += 1
    if not deltas:
        return
    table = ListedCount.__table__
    insert = CONFLICT_INSERTS[session.get_bind().dialect.name]
    for supplier_id, delta in sorted(deltas.items()):  # one lock order: no deadlocks
        if delta < 0:  # the product was counted: the supplier's row exists
            session.execute(
                table.update()
                .where(table.c.supplier_id == supplier_id)
                .values(active_products=table.c.active_products + delta)
            )
        elif delta > 0:
            session.execute(
                insert(table)
                .values(supplier_id=supplier_id, active_products=delta)
                .on_conflict_do_update(
                    index_elements=[table.c.supplier_id],
                    set_={"active_products": table.c.active_products + delta},
                )
            )


@event.listens_for(Session, "after_flush")
def _write_search_rows(session, flush_context) -> None:
    new = [product for product in session.new if isinstance(product, Product)]
    changed = [
        product
        for product in session.dirty
        if isinstance(product, Product)
        and any(inspect(product).attrs[key].history.has_changes() for key in _SEARCHED)
    ]
    if new or changed:
        refresh_documents(session, Product.id.in_([product.id for product in new + changed]))
    deleted = [product.id for product in session.deleted if isinstance(product, Product)]
    if deleted:  # the foreign key cascades too, where the database enforces it
        table = ProductSearch.__table__
        session.execute(table.delete().where(table.c.product_id.in_(deleted)))


def _document_row(dialect: str) -> tuple:
    """A product's search row, computed from its row (``ProductSearch``'s columns, in order)."""
    return (
        Product.id,
        Product.supplier_id,
        Product.created_at,
        Product.is_active,
        document(dialect, Product.name, Product.description, Product.brand_id, Product.category_id),
    )


def refresh_documents(session, criterion) -> None:
    """(Re)write the search rows of the products matching ``criterion`` from their rows."""
    dialect = session.get_bind().dialect.name
    table = ProductSearch.__table__
    columns = [column.name for column in table.columns]
    statement = CONFLICT_INSERTS[dialect](table).from_select(
        columns, select(*_document_row(dialect)).where(criterion)
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.product_id],
            set_={column: statement.excluded[column] for column in columns[1:]},
        )
    )


def refresh_stale_documents(session, criterion) -> int:
    """Rewrite the search rows of the products matching ``criterion`` that are missing or
    differ from their rows (those products locked meanwhile); returns how many."""
    dialect = session.get_bind().dialect.name
    table = ProductSearch.__table__
    stale = or_(
        *(
            stored.is_distinct_from(fresh)
            for stored, fresh in zip(table.columns, _document_row(dialect), strict=True)
        )
    )
    ids = session.scalars(
        select(Product.id)
        .outerjoin(table, table.c.product_id == Product.id)
        .where(criterion, stale)
        .with_for_update(of=Product)
    ).all()
    if ids:
        refresh_documents(session, Product.id.in_(ids))
    return len(ids)


def recount_listed(session) -> int:
    """Make ``ListedCount`` exact again from the products (after writes that bypass the
    ORM); returns how many counters were wrong. The counters are locked meanwhile, so
    concurrent product writes still add up."""
    dialect = session.get_bind().dialect.name
    table = ListedCount.__table__
    if dialect == "postgresql":
        session.execute(text("LOCK TABLE listed_counts IN SHARE ROW EXCLUSIVE MODE"))
    counted = dict(session.execute(select(table.c.supplier_id, table.c.active_products)).all())
    actual = dict(
        session.execute(
            select(Product.supplier_id, func.count())
            .where(Product.is_active)
            .group_by(Product.supplier_id)
        ).all()
    )
    wrong = [
        {"supplier_id": supplier_id, "active_products": actual.get(supplier_id, 0)}
        for supplier_id in sorted(counted.keys() | actual.keys())
        if counted.get(supplier_id, 0) != actual.get(supplier_id, 0)
    ]
    if wrong:
        statement = CONFLICT_INSERTS[dialect](table).values(wrong)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.supplier_id],
                set_={"active_products": statement.excluded.active_products},
            )
        )
    return len(wrong)
