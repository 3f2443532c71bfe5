"""Addresses, orders, their items and their status history."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import Base, TimestampMixin, UTCDateTime, enum_column, utcnow
from app.delivery.models import DeliveryZone


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    PROCESSING = "PROCESSING"
    QUALITY_APPROVED = "QUALITY_APPROVED"
    SHIPPED = "SHIPPED"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    ARRIVED = "ARRIVED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    RETURNED = "RETURNED"


class PaymentMethod(enum.StrEnum):
    MPESA = "MPESA"
    CARD = "CARD"
    CASH = "CASH"


class PaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"  # some, not all, of what was captured went back
    REFUNDED = "REFUNDED"


class Address(TimestampMixin, Base):
    __tablename__ = "addresses"
    __table_args__ = (
        # At most one default address per customer, enforced by the database too.
        Index(
            "uq_addresses_one_default_per_user",
            "user_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(50), default="Home")
    recipient_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(12))
    county: Mapped[str] = mapped_column(String(100))
    town: Mapped[str] = mapped_column(String(100))
    street: Mapped[str] = mapped_column(String(255))
    landmark: Mapped[str | None] = mapped_column(String(255))
    delivery_zone_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_zones.id", ondelete="RESTRICT"), index=True
    )
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    delivery_zone: Mapped[DeliveryZone] = relationship()


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("subtotal >= 0", name="subtotal_non_negative"),
        CheckConstraint("delivery_fee >= 0", name="delivery_fee_non_negative"),
        # Exact on PostgreSQL's NUMERIC; SQLite's REAL sums are not, so it is skipped there.
        CheckConstraint("total = subtotal + delivery_fee", name="total_is_sum").ddl_if(
            dialect="postgresql"
        ),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
        Index("ix_orders_payment_expiry", "status", "payment_due_at"),
        # Sales by delivery day (the supplier portal's reports): delivered orders only.
        Index(
            "ix_orders_delivered_at",
            "delivered_at",
            postgresql_where=text("delivered_at IS NOT NULL"),
            sqlite_where=text("delivered_at IS NOT NULL"),
        ),
        # The admin list's filters, newest first.
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_county_created", "delivery_county", "created_at"),
        Index("ix_orders_method_created", "payment_method", "created_at"),
        # The admin search (``q``): substrings of the order number (trigrams, PostgreSQL).
        Index(
            "ix_orders_order_number_trgm",
            "order_number",
            postgresql_using="gin",
            postgresql_ops={"order_number": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus), default=OrderStatus.PENDING
    )
    payment_status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING, index=True
    )
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    subtotal: Mapped[Decimal]
    delivery_fee: Mapped[Decimal]
    total: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="KES")
    notes: Mapped[str | None] = mapped_column(Text)

    # Where it goes: the address as it was when ordered (addresses can change later).
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("addresses.id", ondelete="SET NULL"), index=True
    )
    delivery_zone_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_zones.id", ondelete="RESTRICT"), index=True
    )
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_phone: Mapped[str] = mapped_column(String(12))
    delivery_county: Mapped[str] = mapped_column(String(100))
    delivery_town: Mapped[str] = mapped_column(String(100))
    delivery_street: Mapped[str] = mapped_column(String(255))
    delivery_landmark: Mapped[str | None] = mapped_column(String(255))
    estimated_delivery_days: Mapped[int] = mapped_column(default=1)
    delivery_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # A delivery company's order (its agents see it); set with delivery_agent_id or alone.
    delivery_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_companies.id", ondelete="SET NULL"), index=True
    )

    payment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    delivery_agent: Mapped[User | None] = relationship(foreign_keys=[delivery_agent_id])
    delivery_zone: Mapped[DeliveryZone] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    history: Mapped[list[OrderStatusHistory]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderStatusHistory.id"
    )


class OrderItem(Base):
    """A line of an order, with the price, commission and supplier frozen at checkout."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        CheckConstraint("commission_rate >= 0 AND commission_rate < 1", name="commission_rate"),
        Index("ix_order_items_supplier_order", "supplier_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT")
    )
    product_name: Mapped[str] = mapped_column(String(200))
    product_sku: Mapped[str | None] = mapped_column(String(64))
    unit_price: Mapped[Decimal]
    quantity: Mapped[int]
    line_total: Mapped[Decimal]
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    commission_amount: Mapped[Decimal]
    returned_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    # The product's warranty as sold, and when it ends (set at delivery).
    warranty_months: Mapped[int] = mapped_column(default=0, server_default="0")
    warranty_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def supplier_earning(self) -> Decimal:
        return self.line_total - self.commission_amount


class OrderStatusHistory(Base):
    """Every status or payment-status change: who, when, from, to, why."""

    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(20), default="status")
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    # Indexed: the admin activity timeline reads the latest changes.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    order: Mapped[Order] = relationship(back_populates="history")
    changed_by: Mapped[User | None] = relationship()


class OrderNote(Base):
    """A staff note on an order (support's follow-ups): who wrote what, when. Internal:
    never shown to the customer; never changed (a correction is another note)."""

    __tablename__ = "order_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()
