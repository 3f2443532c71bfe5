"""The rollups, kept up to date in the transaction of each event (``app/signals.py``).

Every receiver turns its event into additions to rollup keys (``add``): one upsert per
table (``INSERT .. ON CONFLICT DO UPDATE SET m = m + excluded.m``) for the day, week and
month buckets at once, keys in a fixed order so concurrent transactions lock rows in
the same order. ``flask analytics rebuild`` recomputes the same rows from raw rows
(``app.analytics.rebuild``); a test checks both agree after a random mix of events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.analytics.models import BreakdownRollup, LedgerRollup, OrderRollup
from app.calendar import buckets_of, local_day
from app.catalog.models import Product
from app.db import conflict_insert, utcnow
from app.extensions import db
from app.orders.models import Order, OrderStatusHistory
from app.signals import ledger_posted, order_paid, order_placed, order_status_changed

PAYMENT_COMPLETED = "PAYMENT_COMPLETED"
# BreakdownRollup's dimensions (each member is an id, or the payment method's name).
BREAKDOWNS = ("supplier", "category", "product", "payment_method")
MEASURES = {
    BreakdownRollup: ("items", "gmv"),
    OrderRollup: ("orders", "amount"),
    LedgerRollup: ("debit", "credit"),
}


def key_columns(model) -> tuple[str, ...]:
    return tuple(column.name for column in model.__table__.primary_key.columns)


def add(model, day_rows: Iterable[tuple[Any, dict[str, Any]]]) -> None:
    """Add ``(day, {column: value})`` rows (dimensions and measures) to every bucket of
    their day, summing rows of one key first."""
    keys, measures = key_columns(model), MEASURES[model]
    totals: dict[tuple, list] = defaultdict(lambda: [0] * len(measures))
    for day, values in day_rows:
        for grain, bucket in buckets_of(day):
            row = {**values, "grain": grain, "bucket": bucket}
            sums = totals[tuple(row[name] for name in keys)]
            for index, name in enumerate(measures):
                sums[index] += values[name]
    if not totals:
        return
    rows = [
        dict(zip(keys, key, strict=True)) | dict(zip(measures, sums, strict=True))
        for key, sums in sorted(totals.items())
    ]
    insert = conflict_insert(model).values(rows)
    db.session.execute(
        insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: getattr(model, name) + insert.excluded[name] for name in measures},
        )
    )


def _last_status_change(order: Order) -> OrderStatusHistory | None:
    """The history row the change just appended (``orders.state.record_history``)."""
    return next((row for row in reversed(order.history) if row.field == "status"), None)


def _order_event(order: Order, event: str, moment: datetime | None) -> None:
    add(
        OrderRollup,
        [
            (
                local_day(moment or utcnow()),
                {
                    "event": event,
                    "payment_method": str(order.payment_method),
                    "county": order.delivery_county,
                    "orders": 1,
                    "amount": order.subtotal,
                },
            )
        ],
    )


@order_placed.connect
@order_status_changed.connect
def count_status_reached(order: Order, **_: object) -> None:
    """The order reached its status (PENDING: placed), on the day its history says."""
    change = _last_status_change(order)
    _order_event(order, str(order.status), change.created_at if change else None)


@order_paid.connect
def count_sale(order: Order, **_: object) -> None:
    """An order paid in full: its items are sold (GMV), on its ``paid_at`` day."""
    day = local_day(order.paid_at or utcnow())
    _order_event(order, PAYMENT_COMPLETED, order.paid_at)
    product_ids = sorted({item.product_id for item in order.items})
    categories = dict(
        db.session.execute(
            select(Product.id, Product.category_id).where(Product.id.in_(product_ids))
        ).all()
    )
    method = str(order.payment_method)
    add(
        BreakdownRollup,
        [
            (
                day,
                {
                    "dimension": dimension,
                    "member": str(member),
                    "items": item.quantity,
                    "gmv": item.line_total,
                },
            )
            for item in order.items
            for dimension, member in (
                ("supplier", item.supplier_id),
                ("category", categories[item.product_id]),
                ("product", item.product_id),
                ("payment_method", method),
            )
        ],
    )


@ledger_posted.connect
def sum_ledger_lines(postings, *, lines, posted_at: datetime, **_: object) -> None:
    """Each new entry's lines, by the entry's day, account, kind and order's method."""
    order_ids = sorted({posting.order_id for posting in postings if posting.order_id})
    methods = (
        dict(
            db.session.execute(
                select(Order.id, Order.payment_method).where(Order.id.in_(order_ids))
            ).all()
        )
        if order_ids
        else {}
    )
    rows = []
    for posting in postings:
        day = local_day(posting.occurred_at or posted_at)
        method = str(methods[posting.order_id]) if posting.order_id else ""
        for line in lines[posting.event_key]:
            rows.append(
                (
                    day,
                    {
                        "account": str(line.account),
                        "kind": str(posting.kind),
                        "payment_method": method,
                        "debit": max(line.amount, 0),
                        "credit": max(-line.amount, 0),
                    },
                )
            )
    add(LedgerRollup, rows)
