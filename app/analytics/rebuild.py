"""``flask analytics rebuild --from --to``: the rollups recomputed from raw rows.

Day rows of the range are deleted and summed again from orders, their status history,
items and the ledger, by set-based ``INSERT .. SELECT`` (a million orders take one pass,
no Python per row); then every week and month bucket touching the range is summed again
from its day rows. The result equals what the receivers (``app.analytics.receivers``)
wrote as the events happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import String, and_, case, cast, delete, func, insert, literal, select

from app.analytics.models import ROLLUPS, BreakdownRollup, LedgerRollup, OrderRollup
from app.analytics.receivers import MEASURES, PAYMENT_COMPLETED, key_columns
from app.calendar import (
    DAY,
    MONTH,
    WEEK,
    bucket_end,
    month_start,
    next_month,
    sql_local_day,
    utc_bounds,
    week_start,
)
from app.catalog.models import Product
from app.extensions import db
from app.ledger.models import LedgerAccount, LedgerEntry, LedgerLine
from app.orders.models import Order, OrderItem, OrderStatusHistory


@dataclass(frozen=True)
class RebuildReport:
    first: date
    last: date
    day_rows: int
    coarse_rows: int


def _insert(model, select_statement) -> int:
    columns = list(select_statement.selected_columns.keys())
    result = db.session.execute(insert(model).from_select(columns, select_statement))
    return result.rowcount or 0


def _day_rows(first: date, last: date) -> int:
    start, end = utc_bounds(first, last)
    dialect = db.session.get_bind().dialect.name

    def day(column):
        return sql_local_day(column, dialect).label("bucket")

    grain = literal(DAY).label("grain")
    written = 0

    # Statuses reached (PENDING: placed), by the history row's day.
    changed = day(OrderStatusHistory.created_at)
    written += _insert(
        OrderRollup,
        select(
            grain,
            changed,
            OrderStatusHistory.to_status.label("event"),
            Order.payment_method.label("payment_method"),
            Order.delivery_county.label("county"),
            func.count().label("orders"),
            func.sum(Order.subtotal).label("amount"),
        )
        .join(Order, Order.id == OrderStatusHistory.order_id)
        .where(
            OrderStatusHistory.field == "status",
            OrderStatusHistory.created_at >= start,
            OrderStatusHistory.created_at < end,
        )
        .group_by(
            changed, OrderStatusHistory.to_status, Order.payment_method, Order.delivery_county
        ),
    )
    # Orders paid in full, by ``paid_at``.
    paid = day(Order.paid_at)
    paid_in_range = and_(Order.paid_at >= start, Order.paid_at < end)
    written += _insert(
        OrderRollup,
        select(
            grain,
            paid,
            literal(PAYMENT_COMPLETED).label("event"),
            Order.payment_method.label("payment_method"),
            Order.delivery_county.label("county"),
            func.count().label("orders"),
            func.sum(Order.subtotal).label("amount"),
        )
        .where(paid_in_range)
        .group_by(paid, Order.payment_method, Order.delivery_county),
    )
    # Items of orders paid, by ``paid_at``: one breakdown at a time (the category is the
    # product's, as the receiver reads it).
    members = {
        "supplier": cast(OrderItem.supplier_id, String),
        "category": cast(Product.category_id, String),
        "product": cast(OrderItem.product_id, String),
        "payment_method": cast(Order.payment_method, String),
    }
    for dimension, member in members.items():
        statement = (
            select(
                grain,
                paid,
                literal(dimension).label("dimension"),
                member.label("member"),
                func.sum(OrderItem.quantity).label("items"),
                func.sum(OrderItem.line_total).label("gmv"),
            )
            .join(Order, Order.id == OrderItem.order_id)
            .where(paid_in_range)
            .group_by(paid, member)
        )
        if dimension == "category":
            statement = statement.join(Product, Product.id == OrderItem.product_id)
        written += _insert(BreakdownRollup, statement)
    occurred = day(LedgerEntry.occurred_at)
    method = func.coalesce(Order.payment_method, "")
    written += _insert(
        LedgerRollup,
        select(
            grain,
            occurred,
            LedgerAccount.code.label("account"),
            LedgerEntry.kind.label("kind"),
            method.label("payment_method"),
            func.sum(case((LedgerLine.amount > 0, LedgerLine.amount), else_=0)).label("debit"),
            func.sum(case((LedgerLine.amount < 0, -LedgerLine.amount), else_=0)).label("credit"),
        )
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.occurred_at >= start, LedgerEntry.occurred_at < end)
        .group_by(occurred, LedgerAccount.code, LedgerEntry.kind, method),
    )
    return written


def _coarse_buckets(first: date, last: date) -> list[tuple[str, date]]:
    """The week and month buckets that hold a day of the range."""
    buckets = []
    start = week_start(first)
    while start <= last:
        buckets.append((WEEK, start))
        start += timedelta(days=7)
    start = month_start(first)
    while start <= last:
        buckets.append((MONTH, start))
        start = next_month(start)
    return buckets


def _coarse_rows(first: date, last: date) -> int:
    """Sum each week and month bucket touching the range again from its day rows."""
    written = 0
    for model in ROLLUPS:
        dimensions = [
            getattr(model, name) for name in key_columns(model) if name not in ("grain", "bucket")
        ]
        for grain, start in _coarse_buckets(first, last):
            db.session.execute(delete(model).where(model.grain == grain, model.bucket == start))
            written += _insert(
                model,
                select(
                    literal(grain).label("grain"),
                    literal(start, type_=model.bucket.type).label("bucket"),
                    *dimensions,
                    *(func.sum(getattr(model, name)).label(name) for name in MEASURES[model]),
                )
                .where(
                    model.grain == DAY,
                    model.bucket >= start,
                    model.bucket <= bucket_end(grain, start),
                )
                .group_by(*dimensions),
            )
    return written


def rebuild(first: date, last: date) -> RebuildReport:
    """Recompute every rollup row of the Nairobi days ``first``..``last`` (flushes)."""
    for model in ROLLUPS:
        db.session.execute(
            delete(model).where(model.grain == DAY, model.bucket >= first, model.bucket <= last)
        )
    day_rows = _day_rows(first, last)
    coarse_rows = _coarse_rows(first, last)
    return RebuildReport(first, last, day_rows, coarse_rows)
