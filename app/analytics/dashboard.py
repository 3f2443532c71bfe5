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

from sqlalchemy import func, select

from app.analytics.finance import window_flows
from app.analytics.models import OrderRollup
from app.analytics.queries import sums_by_window
from app.auth.models import SupplierProfile, SupplierStatus, User, UserRole
from app.calendar import sql_local_day, today, utc_bounds
from app.catalog.models import Product
from app.disbursements.models import Disbursement, DisbursementStatus
from app.dispatch.assignment import waiting_for_dispatch
from app.dispatch.reports import is_late
from app.extensions import db
from app.ledger.operations import sum_to_cents
from app.orders.models import Order, OrderStatus
from app.payments.models import Refund, RefundStatus
from app.returns.models import ReturnRequest
from app.returns.operations import UNDECIDED
from app.settings import setting

WINDOWS = {"today": 1, "7d": 7, "30d": 30}


Windows = dict[str, tuple[date, date]]


def orders_by_status(windows: Windows) -> dict[str, dict[str, Any]]:
    """Orders reaching each status in the window (PENDING: placed)."""
    reached = sums_by_window(OrderRollup, windows, ("event",))
    return {
        name: {
            "orders_by_status": {
                str(status): reached[name].get((str(status),), {}).get("orders", 0)
                for status in OrderStatus
            }
        }
        for name in windows
    }


def money(windows: Windows) -> dict[str, dict[str, Any]]:
    """GMV and net revenue: the financial report's figures for the window."""
    flows = window_flows(windows)
    return {
        name: {"gmv": flows[name]["gmv"], "revenue": flows[name]["net_revenue"]} for name in windows
    }


def signups(windows: Windows) -> dict[str, dict[str, int]]:
    first = min(start for start, _ in windows.values())
    last = max(end for _, end in windows.values())
    start, end = utc_bounds(first, last)
    day = sql_local_day(User.created_at, db.session.get_bind().dialect.name)
    rows = db.session.execute(
        select(User.role, day, func.count())
        .where(
            User.role.in_((UserRole.CUSTOMER, UserRole.SUPPLIER)),
            User.created_at >= start,
            User.created_at < end,
        )
        .group_by(User.role, day)
    ).all()
    result = {}
    for name, (window_start, window_end) in windows.items():
        counts = {UserRole.CUSTOMER: 0, UserRole.SUPPLIER: 0}
        for role, joined, count in rows:
            joined = date.fromisoformat(joined) if isinstance(joined, str) else joined
            if window_start <= joined <= window_end:
                counts[role] += count
        result[name] = {
            "new_customers": counts[UserRole.CUSTOMER],
            "new_suppliers": counts[UserRole.SUPPLIER],
        }
    return result


def pending_supplier_approvals() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(SupplierProfile)
        .where(SupplierProfile.status == SupplierStatus.PENDING)
    )


def returns_awaiting_decision() -> int:
    """Returns nobody has approved or rejected yet (the supplier's answer included)."""
    return db.session.scalar(
        select(func.count()).select_from(ReturnRequest).where(ReturnRequest.status.in_(UNDECIDED))
    )


def payouts_unknown() -> int:
    """B2C transfers (payouts and refunds) sent whose outcome M-Pesa has not told yet after
    a queue timeout: the reconcile job asks Transaction Status about them."""
    return db.session.scalar(
        select(func.count())
        .select_from(Disbursement)
        .where(Disbursement.unknown, Disbursement.status == DisbursementStatus.SENT)
    )


def unassigned_deliveries() -> int:
    """Orders ready to go out with no live assignment (the dispatch queue)."""
    return db.session.scalar(select(func.count()).select_from(Order).where(waiting_for_dispatch()))


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
    """Orders still on their way past their due time (the dispatch rule, ``is_late``)."""
    return db.session.scalar(select(func.count()).select_from(Order).where(is_late()))


# Each returns {window name: {figure name: value}} for the windows it is given.
WINDOW_FIGURES: dict[str, Callable[[Windows], dict[str, dict[str, Any]]]] = {
    "orders_by_status": orders_by_status,
    "money": money,
    "signups": signups,
}
CURRENT_FIGURES: dict[str, Callable[[], Any]] = {
    "pending_supplier_approvals": pending_supplier_approvals,
    "returns_awaiting_decision": returns_awaiting_decision,
    "refunds_due": refunds_due,
    "payouts_unknown": payouts_unknown,
    "unassigned_deliveries": unassigned_deliveries,
    "low_stock": low_stock,
    "late_deliveries": late_deliveries,
}


def dashboard() -> dict[str, Any]:
    last = today()
    windows = {name: (last - timedelta(days=days - 1), last) for name, days in WINDOWS.items()}
    figures: dict[str, dict[str, Any]] = {
        name: {"from": first, "to": end} for name, (first, end) in windows.items()
    }
    for figure in WINDOW_FIGURES.values():
        for name, values in figure(windows).items():
            figures[name] |= values
    return {"windows": figures, "current": {name: f() for name, f in CURRENT_FIGURES.items()}}
