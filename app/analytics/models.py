"""Rollups: the admin figures, pre-summed per Nairobi bucket (``app.calendar``).

Each table is keyed by ``grain`` (D, W, M) and ``bucket`` (the bucket's first day) plus its
dimensions; its measures are sums. Rows are added to in the same transaction as the event
(``app.analytics.receivers``) and recomputed from raw rows by ``flask analytics rebuild``.
Dimensions are never NULL ('' stands for "none") so each key is one row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.cart.models import CartItem
from app.catalog.models import Product
from app.db import Base, MoneyType
from app.ledger.models import LedgerEntry
from app.orders.models import Order


class Total(MoneyType):
    """A sum of money over many rows: NUMERIC(16, 2), exact cents like ``MoneyType``."""

    impl = Numeric(16, 2, asdecimal=True)
    cache_ok = True


class BreakdownRollup(Base):
    """Items of orders paid in the bucket, by one ``dimension`` at a time: ``member`` is
    the supplier's, category's or product's id, or the payment method. One narrow key per
    breakdown, so a ranking over months reads a few rows per member; each bucket's
    members by sales through ``ix_analytics_breakdowns_ranking`` (``queries.top``)."""

    __tablename__ = "analytics_breakdowns"
    __table_args__ = (
        Index(
            "ix_analytics_breakdowns_ranking",
            "dimension",
            "grain",
            "bucket",
            "gmv",
            "member",
            postgresql_include=["items"],
        ),
    )

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    bucket: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    member: Mapped[str] = mapped_column(String(32), primary_key=True)
    items: Mapped[int] = mapped_column(default=0)
    gmv: Mapped[Decimal] = mapped_column(Total(), default=0)


class OrderRollup(Base):
    """Orders reaching an ``event`` in the bucket: a status (PENDING: placed) or
    ``PAYMENT_COMPLETED`` (paid in full); ``amount`` sums their item subtotals."""

    __tablename__ = "analytics_orders"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    bucket: Mapped[date] = mapped_column(Date, primary_key=True)
    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_method: Mapped[str] = mapped_column(String(16), primary_key=True)
    county: Mapped[str] = mapped_column(String(100), primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)
    amount: Mapped[Decimal] = mapped_column(Total(), default=0)


class LedgerRollup(Base):
    """Ledger lines by the entry's Nairobi day: per account code, entry kind and the
    order's payment method ('' for entries without an order), debits and credits apart."""

    __tablename__ = "analytics_ledger"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    bucket: Mapped[date] = mapped_column(Date, primary_key=True)
    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_method: Mapped[str] = mapped_column(String(16), primary_key=True)
    debit: Mapped[Decimal] = mapped_column(Total(), default=0)
    credit: Mapped[Decimal] = mapped_column(Total(), default=0)


ROLLUPS = (BreakdownRollup, OrderRollup, LedgerRollup)

# The indexes the dashboard's live counts and the rebuild's range reads use (declared here:
# they serve these figures).
Index("ix_orders_paid_at", Order.paid_at)
Index("ix_ledger_entries_occurred_at", LedgerEntry.occurred_at)
Index("ix_cart_items_created_at", CartItem.created_at, CartItem.cart_id)
Index(
    "ix_products_active_stock",
    Product.stock,
    postgresql_where=text("is_active"),
    sqlite_where=text("is_active"),
)
