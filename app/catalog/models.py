"""Categories, brands and products."""

from __future__ import annotations

import enum
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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SupplierProfile, enum_column
from app.db import Base, TimestampMixin

DEFAULT_COMMISSION_RATE = Decimal("0.1000")


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
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=DEFAULT_COMMISSION_RATE)
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
        UniqueConstraint("supplier_id", "sku"),
        Index("ix_products_active_created", "is_active", "created_at"),
        Index("ix_products_active_price", "is_active", "price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT"), index=True
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
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    sold_count: Mapped[int] = mapped_column(default=0, server_default="0")

    supplier: Mapped[SupplierProfile] = relationship()
    category: Mapped[Category] = relationship()
    brand: Mapped[Brand | None] = relationship()

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def effective_commission_rate(self) -> Decimal:
        if self.commission_rate is not None:
            return self.commission_rate
        return self.category.commission_rate if self.category else DEFAULT_COMMISSION_RATE


class ProductSlug(Base):
    """Every slug a product has had, so old links keep resolving after a rename."""

    __tablename__ = "product_slugs"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(220), unique=True)
