"""The supplier's dashboard, analytics and order lines: indexed aggregates over their
order lines (``ix_order_items_supplier_order``), joined to their orders by key.

Days are Africa/Nairobi days (UTC+3 all year: Kenya keeps no daylight saving time): a
range ``from``..``to`` covers ``from`` 00:00 to the end of ``to``, Nairobi time.
Sales are counted when delivered: an order line counts in the range its order was
delivered in (``DELIVERED``, or ``RETURNED`` after it), at its snapshotted price and
commission, so ``net`` is what the ledger credited the supplier (line total less
commission). ``orders_by_status`` counts the supplier's orders *placed* in the range, by
their status now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select

from app.calendar import day_start, month_start, next_month, sql_local_day, today, week_start
from app.catalog.models import Category, Product
from app.catalog.visibility import current_dialect
from app.errors import ValidationFailed
from app.extensions import db
from app.ledger.operations import SupplierBalances, sum_to_cents, supplier_balances
from app.money import ZERO
from app.orders.models import Order, OrderItem, OrderStatus
from app.pagination import Page, paginate
from app.settings import setting
from app.signals import supplier_returns_asked

DEFAULT_DAYS = 30
SOLD = (OrderStatus.DELIVERED, OrderStatus.RETURNED)
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Range:
    """Nairobi days ``first``..``last`` and their UTC bounds (``end`` excluded)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))


def day_range(params: dict[str, Any], default_days: int = DEFAULT_DAYS) -> Range:
    """``from``/``to`` as given; the missing ends: the last ``default_days`` days to today."""
    last = params.get("to") or max(today(), params.get("from") or date.min)
    first = params.get("from") or last - timedelta(days=default_days - 1)
    return Range(first, last)


def _within(column, span: Range) -> list[ColumnElement[bool]]:
    return [column >= span.start, column < span.end]


def _sold(supplier_id: int, span: Range) -> list[ColumnElement[bool]]:
    """The supplier's order lines delivered within the range."""
    return [
        OrderItem.supplier_id == supplier_id,
        Order.status.in_(SOLD),
        *_within(Order.delivered_at, span),
    ]


def _figures():
    """(items, sales, commission) columns of a group of order lines."""
    return (
        func.coalesce(func.sum(OrderItem.quantity), 0),
        func.sum(OrderItem.line_total),
        func.sum(OrderItem.commission_amount),
    )


@dataclass
class Figures:
    items: int = 0
    sales: Decimal = ZERO
    commission: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.sales - self.commission

    @classmethod
    def of(cls, items, sales, commission) -> Figures:
        return cls(int(items or 0), sum_to_cents(sales), sum_to_cents(commission))

    def add(self, other: Figures) -> None:
        self.items += other.items
        self.sales += other.sales
        self.commission += other.commission


# ---- dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    start_date: date
    end_date: date
    orders_by_status: dict[str, int]
    items_sold: int
    gross_sales: Decimal
    commission: Decimal
    net_earnings: Decimal
    balances: SupplierBalances
    returns: dict[str, Any]
    top_products: list[dict[str, Any]]
    low_stock: list[Product]


def returns_between(supplier_id: int, span: Range, items_delivered: int) -> dict[str, Any]:
    """The returns domain's answer (``supplier_returns_asked``); none without it."""
    count = items_returned = 0
    for _, answer in supplier_returns_asked.send(supplier_id, start=span.start, end=span.end):
        count += answer["count"]
        items_returned += answer["items_returned"]
    rate = Decimal(items_returned) / items_delivered if items_delivered else Decimal(0)
    return {
        "count": count,
        "items_returned": items_returned,
        "rate": str(rate.quantize(RATE_PLACES)),
    }


def dashboard(supplier_id: int, params: dict[str, Any]) -> Dashboard:
    span = day_range(params)
    placed = db.session.execute(
        select(Order.status, func.count(func.distinct(Order.id)))
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(OrderItem.supplier_id == supplier_id, *_within(Order.created_at, span))
        .group_by(Order.status)
    ).all()
    by_status = {status.value: 0 for status in OrderStatus} | {
        status.value: count for status, count in placed
    }
    sold = Figures.of(
        *db.session.execute(
            select(*_figures())
            .join(Order, Order.id == OrderItem.order_id)
            .where(*_sold(supplier_id, span))
        ).one()
    )
    items, sales, commission = _figures()
    top = db.session.execute(
        select(Product.id, Product.name, items, sales, commission)
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .join(Product, Product.id == OrderItem.product_id)
        .where(*_sold(supplier_id, span))
        .group_by(Product.id, Product.name)
        .order_by(items.desc(), sales.desc(), Product.id)
        .limit(5)
    ).all()
    low_stock = db.session.scalars(
        select(Product)
        .where(
            Product.supplier_id == supplier_id,
            Product.is_active,
            Product.stock <= setting("low_stock_threshold"),
        )
        .order_by(Product.stock, Product.id)
        .limit(5)
    ).all()
    return Dashboard(
        start_date=span.first,
        end_date=span.last,
        orders_by_status=by_status,
        items_sold=sold.items,
        gross_sales=sold.sales,
        commission=sold.commission,
        net_earnings=sold.net,
        balances=supplier_balances(supplier_id),
        returns=returns_between(supplier_id, span, sold.items),
        top_products=[_breakdown(row) for row in top],
        low_stock=list(low_stock),
    )


def _breakdown(row) -> dict[str, Any]:
    key, name, *figures = row
    result = Figures.of(*figures)
    return {
        "id": key,
        "name": name,
        "items": result.items,
        "sales": result.sales,
        "commission": result.commission,
        "net": result.net,
    }


# ---- analytics --------------------------------------------------------------------------

MAX_ANALYTICS_DAYS = 732


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


PERIOD_STARTS: dict[str, Callable[[date], date]] = {
    "day": lambda day: day,
    "week": week_start,  # weeks start on Monday
    "month": month_start,
}


def _next_period(start: date, interval: str) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return next_month(start)


@dataclass
class Analytics:
    start_date: date
    end_date: date
    interval: str
    series: list[dict[str, Any]] = field(default_factory=list)
    by_product: list[dict[str, Any]] = field(default_factory=list)
    by_category: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)


def _period_row(start: date, figures: Figures) -> dict[str, Any]:
    return {
        "period": start,
        "items": figures.items,
        "sales": figures.sales,
        "commission": figures.commission,
        "net": figures.net,
    }


def analytics(supplier_id: int, params: dict[str, Any]) -> Analytics:
    """Per-day sums in SQL (one row per Nairobi day with sales), rolled up into the
    interval's periods (every period of the range present, zeros included); per product
    and per category (its category now), by sales."""
    span = day_range(params)
    if (span.last - span.first).days >= MAX_ANALYTICS_DAYS:
        raise ValidationFailed(details={"from": [f"A range is at most {MAX_ANALYTICS_DAYS} days."]})
    interval = params["interval"]
    day = sql_local_day(Order.delivered_at, current_dialect()).label("day")
    days = db.session.execute(
        select(day, *_figures())
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .where(*_sold(supplier_id, span))
        .group_by(day)
    ).all()
    period_of = PERIOD_STARTS[interval]
    periods: dict[date, Figures] = {}
    start = period_of(span.first)
    while start <= span.last:
        periods[start] = Figures()
        start = _next_period(start, interval)
    total = Figures()
    for value, *figures in days:
        sums = Figures.of(*figures)
        periods[period_of(_as_date(value))].add(sums)
        total.add(sums)

    items, sales, commission = _figures()
    base = (
        select()
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .join(Product, Product.id == OrderItem.product_id)
        .where(*_sold(supplier_id, span))
    )
    by_product = db.session.execute(
        base.add_columns(Product.id, Product.name, items, sales, commission)
        .group_by(Product.id, Product.name)
        .order_by(sales.desc(), Product.id)
    ).all()
    by_category = db.session.execute(
        base.join(Category, Category.id == Product.category_id)
        .add_columns(Category.id, Category.name, items, sales, commission)
        .group_by(Category.id, Category.name)
        .order_by(sales.desc(), Category.id)
    ).all()
    return Analytics(
        start_date=span.first,
        end_date=span.last,
        interval=interval,
        series=[_period_row(start, figures) for start, figures in periods.items()],
        by_product=[_breakdown(row) for row in by_product],
        by_category=[_breakdown(row) for row in by_category],
        totals=_period_row(span.first, total),
    )


# ---- order lines --------------------------------------------------------------------------


def order_lines(supplier_id: int, params: dict[str, Any]) -> Page:
    """The supplier's order lines, newest order first (``status``; ``from``/``to``: the
    day the order was placed). Only what the supplier needs: never the customer's
    contact details."""
    conditions = [OrderItem.supplier_id == supplier_id]
    if params.get("status") is not None:
        conditions.append(Order.status == params["status"])
    if params.get("from") is not None or params.get("to") is not None:
        span = day_range(params, default_days=1)
        if params.get("from") is not None:
            conditions.append(Order.created_at >= span.start)
        if params.get("to") is not None:
            conditions.append(Order.created_at < span.end)
    statement = (
        select(
            OrderItem.id,
            Order.id,
            Order.order_number,
            Order.status,
            Order.created_at,
            Order.delivered_at,
            OrderItem.product_id,
            OrderItem.product_name,
            OrderItem.product_sku,
            OrderItem.quantity,
            OrderItem.unit_price,
            OrderItem.line_total,
            OrderItem.commission_rate,
            OrderItem.commission_amount,
            Order.delivery_town,
            Order.delivery_county,
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(*conditions)
        .order_by(Order.created_at.desc(), OrderItem.id.desc())
    )
    count = (
        select(func.count())
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .where(*conditions)
    )
    page = paginate(statement, params, count=count, rows=True)
    page.items = [_order_line(row) for row in page.items]
    return page


def _order_line(row) -> dict[str, Any]:
    (
        item_id,
        order_id,
        number,
        status,
        placed_at,
        delivered_at,
        product_id,
        name,
        sku,
        quantity,
        unit_price,
        line_total,
        rate,
        commission,
        town,
        county,
    ) = row
    return {
        "id": item_id,
        "order_id": order_id,
        "order_number": number,
        "status": status,
        "ordered_at": placed_at,
        "delivered_at": delivered_at,
        "product_id": product_id,
        "product_name": name,
        "product_sku": sku,
        "quantity": quantity,
        "unit_price": unit_price,
        "line_total": line_total,
        "commission_rate": rate,
        "commission": commission,
        "net": line_total - commission,
        "delivery_town": town,
        "delivery_county": county,
    }
