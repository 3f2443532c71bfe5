"""The demo seed gives the dashboard three months of activity, once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.analytics import seed as analytics_seed
from app.auth import seed as auth_seed
from app.catalog import seed as catalog_seed
from app.db import utcnow
from app.ledger.models import LedgerEntry
from app.orders.models import Order, OrderStatusHistory
from tests.analytics.test_rollups import snapshot


def test_seed_fills_the_dashboard_and_is_idempotent(
    db, client, admin_headers, assert_books_balance
):
    for _ in range(2):
        for module in (auth_seed, catalog_seed, analytics_seed):
            module.seed()
            db.session.commit()
    orders = db.session.scalar(select(func.count(Order.id)))
    assert orders > 60
    now = utcnow()
    for column in (
        Order.created_at,
        Order.paid_at,
        Order.delivered_at,
        Order.cancelled_at,
        OrderStatusHistory.created_at,
        LedgerEntry.occurred_at,
    ):
        assert db.session.scalar(select(func.max(column))) <= now, column  # nothing ahead
    assert_books_balance()
    data = client.get("/api/admin/dashboard", headers=admin_headers).json["data"]
    assert Decimal(data["windows"]["30d"]["gmv"]) > 0
    assert Decimal(data["windows"]["30d"]["revenue"]) > 0
    kept = snapshot()
    from datetime import timedelta

    from app.analytics.rebuild import rebuild
    from app.calendar import today

    rebuild(today() - timedelta(days=100), today())
    db.session.commit()
    assert snapshot() == kept
