"""``GET /admin/dashboard``: small named figures in two registries.

``WINDOW_FIGURES`` are computed for each window (today, the last 7 and 30 Nairobi days,
today included); ``CURRENT_FIGURES`` describe now. A figure whose rows another domain
owns (returns awaiting a decision, payouts in an unknown state, unassigned deliveries) is
added to a registry by that domain's merge; until then it is absent, never zero.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select

from app.analytics.calendar import today, utc_bounds
from app.analytics.finance import financial_report
from app.analytics.models import OrderRollup
from app.analytics.queries import sums
from app.auth.models import SupplierProfile, User, UserRole
from app.catalog.models import Product
from app.db import utcnow
from app.extensions import db
from app.ledger.operations import sum_to_cents
from app.orders.models import Order, OrderStatus
from app.payments.models import Refund, RefundStatus
from app.settings import setting

WINDOWS = {"today": 1, "7d": 7, "30d": 30}
# Orders still on their way to the customer: late once past their estimated days.
UNDELIVERED = (
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.QUALITY_APPROVED,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.ARRIVED,
)


def orders_by_status(first: date, last: date) -> dict[str, Any]:
    """Orders reaching each status in the window (PENDING: placed)."""
    reached = sums(OrderRollup, first, last, ("event",))
    return {
        "orders_by_status": {
            str(status): reached.get((str(status),), {}).get("orders", 0) for status in OrderStatus
        }
    }


def money(first: date, last: date) -> dict[str, Any]:
    """GMV and net revenue: the financial report's totals for the window."""
    totals = financial_report(first, last, [(first, last)])["totals"]
    return {"gmv": totals["gmv"], "revenue": totals["net_revenue"]}


def signups(first: date, last: date) -> dict[str, int]:
    start, end = utc_bounds(first, last)
    counts = dict(
        db.session.execute(
            select(User.role, func.count())
            .where(
                User.role.in_((UserRole.CUSTOMER, UserRole.SUPPLIER)),
                User.created_at >= start,
                User.created_at < end,
            )
            .group_by(User.role)
        ).all()
    )
    return {
        "new_customers": counts.get(UserRole.CUSTOMER, 0),
        "new_suppliers": counts.get(UserRole.SUPPLIER, 0),
    }


def pending_supplier_approvals() -> int:
    return db.session.scalar(
        select(func.count()).select_from(SupplierProfile).where(~SupplierProfile.is_approved)
    )


def refunds_due() -> dict[str, Any]:
    count, amount = db.session.execute(
        select(func.count(), func.sum(Refund.amount)).where(
            Refund.status.in_((RefundStatus.PENDING, RefundStatus.PROCESSING))
        )
    ).one()
    return {"count": count, "amount": sum_to_cents(amount)}


def low_stock() -> int:
    """Listed products at or below the ``low_stock_threshold`` setting."""
    return db.session.scalar(
        select(func.count())
        .select_from(Product)
        .where(Product.is_active, Product.stock <= setting("low_stock_threshold"))
    )


def late_deliveries() -> int:
    """Undelivered orders older than their zone's estimated delivery days."""
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        due = Order.created_at + func.make_interval(0, 0, 0, Order.estimated_delivery_days)
        late = due < now
    else:
        due = func.datetime(
            Order.created_at,
            literal_column("'+' || estimated_delivery_days || ' days'"),
        )
        late = due < func.datetime(now.strftime("%Y-%m-%d %H:%M:%S"))
    return db.session.scalar(
        select(func.count()).select_from(Order).where(Order.status.in_(UNDELIVERED), late)
    )


# Each returns {figure name: value} for the window first..last.
WINDOW_FIGURES: dict[str, Callable[[date, date], dict[str, Any]]] = {
    "orders_by_status": orders_by_status,
    "money": money,
    "signups": signups,
}
CURRENT_FIGURES: dict[str, Callable[[], Any]] = {
    "pending_supplier_approvals": pending_supplier_approvals,
    "refunds_due": refunds_due,
    "low_stock": low_stock,
    "late_deliveries": late_deliveries,
}


def dashboard() -> dict[str, Any]:
    last = today()
    windows = {}
    for name, days in WINDOWS.items():
        first = last - timedelta(days=days - 1)
        figures: dict[str, Any] = {"from": first, "to": last}
        for figure in WINDOW_FIGURES.values():
            figures |= figure(first, last)
        windows[name] = figures
    return {"windows": windows, "current": {name: f() for name, f in CURRENT_FIGURES.items()}}
