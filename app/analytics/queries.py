"""Reading the rollups: sums over the buckets that cover a range or each period of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, literal, or_, select, union_all

from app.analytics.calendar import cover
from app.analytics.receivers import MEASURES
from app.extensions import db
from app.ledger.operations import sum_to_cents
from app.money import ZERO

INTEGER_MEASURES = frozenset({"items", "orders"})


def exact(name: str, value) -> int | Decimal:
    """A summed measure as an exact int (counts) or Decimal cents (money)."""
    return int(value or 0) if name in INTEGER_MEASURES else sum_to_cents(value)


def _in_buckets(model, buckets: Sequence[tuple[str, date]]):
    by_grain: dict[str, list[date]] = defaultdict(list)
    for grain, start in buckets:
        by_grain[grain].append(start)
    return or_(
        *(
            and_(model.grain == grain, model.bucket.in_(starts))
            for grain, starts in sorted(by_grain.items())
        )
    )


def sums_by_period(
    model,
    ranges: Sequence[tuple[date, date]],
    dimensions: Sequence[str] = (),
    *,
    where: Sequence = (),
) -> list[dict[tuple, dict[str, int | Decimal]]]:
    """For each (first, last) range: {dimension values: {measure: exact sum}}, from the
    fewest buckets that cover the range (the ranges must not overlap)."""
    owner: dict[tuple[str, date], int] = {}
    for index, (first, last) in enumerate(ranges):
        for bucket in cover(first, last):
            owner[bucket] = index
    result: list[dict[tuple, dict]] = [{} for _ in ranges]
    if not owner:
        return result
    measures = MEASURES[model]
    dims = [getattr(model, name) for name in dimensions]
    rows = db.session.execute(
        select(
            model.grain,
            model.bucket,
            *dims,
            *(func.sum(getattr(model, name)) for name in measures),
        )
        .where(_in_buckets(model, list(owner)), *where)
        .group_by(model.grain, model.bucket, *dims)
    )
    raw: list[dict[tuple, list]] = [defaultdict(lambda: [0] * len(measures)) for _ in ranges]
    for row in rows:
        grain, bucket = row[0], row[1]
        if isinstance(bucket, str):  # SQLite hands a Date back as text after a GROUP BY
            bucket = date.fromisoformat(bucket)
        key = tuple(row[2 : 2 + len(dims)])
        values = row[2 + len(dims) :]
        sums = raw[owner[(grain, bucket)]][key]
        for i, value in enumerate(values):
            sums[i] += value or 0
    for index, groups in enumerate(raw):
        result[index] = {
            key: {name: exact(name, sums[i]) for i, name in enumerate(measures)}
            for key, sums in groups.items()
        }
    return result


def sums(
    model,
    first: date,
    last: date,
    dimensions: Sequence[str] = (),
    *,
    where: Sequence = (),
    order_by: str | None = None,
    limit: int | None = None,
) -> dict[tuple, dict[str, int | Decimal]]:
    """{dimension values: {measure: exact sum}} over ``first``..``last``, summed by the
    database (optionally only the ``limit`` largest by the measure ``order_by``)."""
    measures = MEASURES[model]
    dims = [getattr(model, name) for name in dimensions]
    totals = [func.sum(getattr(model, name)).label(name) for name in measures]
    statement = (
        select(*dims, *totals).where(_in_buckets(model, cover(first, last)), *where).group_by(*dims)
    )
    if order_by is not None:
        statement = statement.order_by(func.sum(getattr(model, order_by)).desc(), *dims)
    if limit is not None:
        statement = statement.limit(limit)
    result = {}
    for row in db.session.execute(statement):
        key = tuple(row[: len(dims)])
        result[key] = {name: exact(name, row[len(dims) + i]) for i, name in enumerate(measures)}
    return result


def sums_by_window(
    model,
    windows: dict[str, tuple[date, date]],
    dimensions: Sequence[str] = (),
    *,
    where: Sequence = (),
) -> dict[str, dict[tuple, dict[str, int | Decimal]]]:
    """For each named (first, last) window, windows that may overlap (today, 7 and 30
    days): {dimension values: {measure: exact sum}}, from one read of the day rows that
    span them all."""
    first = min(start for start, _ in windows.values())
    last = max(end for _, end in windows.values())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    by_day = sums_by_period(model, [(day, day) for day in days], dimensions, where=where)
    measures = MEASURES[model]
    result: dict[str, dict[tuple, dict]] = {}
    for name, (start, end) in windows.items():
        totals: dict[tuple, dict] = {}
        for day, groups in zip(days, by_day, strict=True):
            if start <= day <= end:
                for key, values in groups.items():
                    current = totals.setdefault(key, dict.fromkeys(measures, 0))
                    for measure in measures:
                        current[measure] += values[measure]
        result[name] = totals
    return result


def top(
    model,
    first: date,
    last: date,
    member: str,
    *,
    by: str,
    limit: int,
    where: Sequence = (),
    depth: int = 40,
) -> dict[tuple, dict[str, int | Decimal]]:
    """The same answer as ``sums(model, first, last, (member,), where=where, order_by=by,
    limit=limit)`` (the ``limit`` members with the largest sums of ``by``, ties by member),
    without summing every member of a long range: a threshold ranking over the covering
    buckets (``by`` is never negative).

    Each round reads the ``depth`` largest rows of every bucket (an index walk each). A
    member missing from a bucket's list has at most that list's last value there (0 once
    the list is shorter than ``depth``: the bucket is read whole), so a member seen
    nowhere sums to at most their total, and a member seen somewhere to at most what was
    seen plus the last values of the lists it is missing from. Once the ``limit``-th
    largest seen sum is above every member never seen, the ranking is among the members
    seen whose bound reaches it: their exact sums decide (one more read). Otherwise the
    lists go four times deeper."""
    buckets = cover(first, last)
    if not buckets:
        return {}
    column, measure = getattr(model, member), getattr(model, by)
    while True:
        lists = union_all(
            *(
                select(
                    select(literal(index).label("list"), column, measure)
                    .where(model.grain == grain, model.bucket == start, *where)
                    .order_by(measure.desc())
                    .limit(depth)
                    .subquery()
                )
                for index, (grain, start) in enumerate(buckets)
            )
        )
        seen: dict[object, dict[int, Decimal]] = defaultdict(dict)
        lengths, last_value = [0] * len(buckets), [ZERO] * len(buckets)
        for index, key, value in db.session.execute(lists):
            value = sum_to_cents(value)
            seen[key][index] = value
            lengths[index] += 1
            last_value[index] = value
        bounds = [
            value if n == depth else ZERO for n, value in zip(lengths, last_value, strict=True)
        ]
        unseen_bound = sum(bounds, ZERO)
        lower = {key: sum(values.values(), ZERO) for key, values in seen.items()}
        if len(lower) >= limit:
            cut = sorted(lower.values(), reverse=True)[limit - 1]
            if unseen_bound < cut or unseen_bound == ZERO:
                contenders = [
                    key
                    for key, values in seen.items()
                    if lower[key] + sum((b for i, b in enumerate(bounds) if i not in values), ZERO)
                    >= cut
                ]
                return sums(
                    model,
                    first,
                    last,
                    (member,),
                    where=(*where, column.in_(contenders)),
                    order_by=by,
                    limit=limit,
                )
        elif unseen_bound == ZERO:  # every bucket read whole: fewer members than ``limit``
            return sums(model, first, last, (member,), where=where, order_by=by, limit=limit)
        depth *= 4
