"""The rollups kept by the receivers equal a recomputation from raw rows."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.analytics import queries
from app.analytics.models import ROLLUPS, BreakdownRollup
from app.analytics.queries import exact, top
from app.analytics.rebuild import rebuild
from app.analytics.receivers import MEASURES, add, key_columns
from app.calendar import DAY, MONTH, WEEK, cover, local_day, periods, today
from app.extensions import db
from app.orders.models import OrderStatus
from tests.factories.catalog import ProductFactory


def snapshot() -> dict:
    """Every rollup row, measures exact, zero rows left out (a rebuild writes none)."""
    rows = {}
    for model in ROLLUPS:
        for row in db.session.scalars(select(model)):
            key = (model.__tablename__, *(str(getattr(row, c)) for c in key_columns(model)))
            values = tuple(exact(name, getattr(row, name)) for name in MEASURES[model])
            if any(values):
                rows[key] = values
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_mix_of_events_rolls_up_as_a_rebuild_does(shop, seed, assert_books_balance):
    rng = random.Random(seed)
    products = [
        ProductFactory(price=Decimal(rng.randint(100, 500000)) / 100, stock=1000) for _ in range(4)
    ]
    for _ in range(8):
        lines = [(p, rng.randint(1, 3)) for p in rng.sample(products, rng.randint(1, 3))]
        method = rng.choice(["MPESA", "CARD", "CASH"])
        order = shop.place(lines, method, county=rng.choice(["Nairobi", "Nakuru", "Kisumu"]))
        fate = rng.choice(["placed", "paid", "delivered", "cancelled", "refunded"])
        if method == "CASH":
            if fate in ("delivered", "paid"):
                shop.deliver(order)
                shop.collect_cash(order)
            elif fate != "placed":
                shop.cancel(order)
            continue
        if fate == "placed":
            continue
        if fate == "cancelled":
            shop.cancel(order)
            continue
        shop.pay(order)
        if fate == "delivered":
            shop.deliver(order)
        elif fate == "refunded":
            shop.move(order, OrderStatus.PROCESSING)
            shop.cancel(order)
            shop.settle_refunds(order)
    assert_books_balance()
    kept = snapshot()
    assert kept, "the receivers wrote nothing"

    day = today()
    rebuild(day - timedelta(days=40), day)
    db.session.commit()
    assert snapshot() == kept


def test_cover_uses_whole_months_and_weeks():
    from datetime import date

    buckets = cover(date(2026, 9, 3), date(2026, 12, 1))
    days = sum(((min(date(2026, 12, 1), _end(g, s)) - s).days + 1) for g, s in buckets)
    assert days == 90
    assert (MONTH, date(2026, 10, 1)) in buckets and (MONTH, date(2026, 11, 1)) in buckets
    assert any(grain == WEEK for grain, _ in buckets)
    assert len(buckets) < 15
    assert cover(date(2026, 9, 3), date(2026, 9, 3)) == [(DAY, date(2026, 9, 3))]


def _end(grain, start):
    from app.calendar import bucket_end

    return bucket_end(grain, start)


def test_a_nairobi_day_starts_at_21_utc_the_day_before():
    from datetime import UTC, date, datetime

    assert local_day(datetime(2026, 11, 30, 21, 0, tzinfo=UTC)) == date(2026, 12, 1)
    assert local_day(datetime(2026, 11, 30, 20, 59, tzinfo=UTC)) == date(2026, 11, 30)
    assert periods(date(2026, 11, 28), date(2026, 12, 3), "week") == [
        (date(2026, 11, 28), date(2026, 11, 29)),
        (date(2026, 11, 30), date(2026, 12, 3)),
    ]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(
    "shape, shallow", [("flat", False), ("skewed", False), ("ties", False), ("ties", True)]
)
def test_a_ranking_reads_the_same_top_members_as_summing_every_member(
    shape, shallow, seed, db, monkeypatch
):
    """``queries.top`` (a few rows per bucket, deeper rounds as needed) equals the
    ranking by summing every member's rows, whatever the ranges, limits and first depths
    (ties by member); also when it gives up early and lets the database sum every member
    (``shallow``: whole shillings, which SQLite's floating sums keep exact)."""
    if shallow:
        monkeypatch.setattr(queries, "TOP_MAX_DEPTH", 4)
        monkeypatch.setattr(queries, "TOP_MAX_CONTENDERS", 2)
    rng = random.Random(f"{seed}-{shape}")
    first_day = date(2026, 6, 1)
    rows = []
    for day_number in range(130):
        day = first_day + timedelta(days=day_number)
        for member in rng.sample(range(1, 300), rng.randint(0, 40)):
            if shape == "flat":
                gmv = Decimal(rng.randint(100, 100000)) / 100
            elif shape == "skewed":  # a few members sell most, as shops do
                gmv = Decimal(int(rng.paretovariate(1.2) * 1000)) / 100
            else:
                gmv = Decimal(rng.choice([500, 1000]))
            rows.append(
                (day, {"dimension": "product", "member": str(member), "items": 1, "gmv": gmv})
            )
        rows.append(
            (day, {"dimension": "supplier", "member": "1", "items": 1, "gmv": Decimal("1000000")})
        )  # another breakdown never leaks in
    add(BreakdownRollup, rows)
    db.session.commit()
    product = (BreakdownRollup.dimension == "product",)

    for _ in range(25):
        start = first_day + timedelta(days=rng.randint(-5, 120))
        end = start + timedelta(days=rng.randint(0, 100))
        limit, depth = rng.choice([1, 3, 10, 50]), rng.choice([1, 2, 5, 40])
        totals: dict[str, list] = {}
        for grain, bucket in cover(start, end):
            for row in db.session.scalars(
                select(BreakdownRollup).where(
                    BreakdownRollup.grain == grain, BreakdownRollup.bucket == bucket, *product
                )
            ):
                items, gmv = totals.setdefault(row.member, [0, Decimal("0.00")])
                totals[row.member] = [items + row.items, gmv + row.gmv]
        best = sorted(totals, key=lambda member: (-totals[member][1], member))[:limit]
        expected = {(m,): {"items": totals[m][0], "gmv": totals[m][1]} for m in best}

        ranked = top(
            BreakdownRollup, start, end, "member", by="gmv", limit=limit, where=product, depth=depth
        )

        assert list(ranked.items()) == list(expected.items()), (start, end, limit, depth)
