"""Reading the rollups: sums over the buckets that cover a range or each period of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, literal, or_, select, union_all

from app.analytics.receivers import MEASURES
from app.calendar import cover
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
        # rounded to cents: SQLite sums money as floats, whose last bits would break ties
        largest = func.round(func.sum(getattr(model, order_by)), 2)
        statement = statement.order_by(largest.desc(), *dims)
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
    depth: int = 100,
) -> dict[tuple, dict[str, int | Decimal]]:
    """The same answer as ``sums(model, first, last, (member,), where=where, order_by=by,
    limit=limit)`` (the ``limit`` members with the largest sums of ``by``, ties by member)
    without summing every member of a long range: a threshold ranking over the buckets
    that cover the range (``by`` is never negative).

    Each round reads every bucket's next rows, largest first (an index walk each), down
    to ``depth`` rows a bucket, eight times deeper each round. A member not yet read in a
    bucket has at most the last value read there (nothing once the bucket is read
    whole), so a member read nowhere sums to at most those last values' total, and a
    member read somewhere to at most what was read plus the other buckets' last values.
    Once the ``limit``-th largest sum read is above every unread member's bound and few
    members read can still reach it, their missing rows are looked up (one more read)
    and their exact sums decide. Sales spread evenly over many members would need deep
    reads: past ``TOP_MAX_DEPTH`` rows a bucket, or while unread members could still sum
    to ``TOP_GIVE_UP_RATIO`` times the cut, the database sums every member instead.
    """
    buckets = cover(first, last)
    measures = MEASURES[model]
    column, ranked = getattr(model, member), measures.index(by)
    columns = [getattr(model, name) for name in measures]
    seen: dict[object, dict[int, tuple]] = defaultdict(dict)
    lower: dict[object, Decimal] = defaultdict(Decimal)
    last_read = [ZERO] * len(buckets)
    unread = set(range(len(buckets)))  # buckets with rows left to read
    read = 0
    while True:
        counts = [0] * len(buckets)
        page = [
            select(literal(index).label("list"), column, *columns)
            .where(model.grain == grain, model.bucket == start, *where)
            .order_by(columns[ranked].desc(), column.desc())
            .offset(read)
            .limit(depth - read)
            .subquery()
            for index, (grain, start) in enumerate(buckets)
            if index in unread
        ]
        for index, key, *values in _rows(page):
            seen[key][index] = values
            lower[key] += values[ranked]
            counts[index] += 1
            last_read[index] = values[ranked]
        for index in list(unread):
            if counts[index] < depth - read:
                unread.discard(index)
                last_read[index] = ZERO
        read = depth
        contenders = _contenders(seen, lower, last_read, unread, limit)
        if contenders is not None and contenders is not GIVE_UP:
            break
        if contenders is GIVE_UP or depth >= TOP_MAX_DEPTH:
            return sums(model, first, last, (member,), where=where, order_by=by, limit=limit)
        depth *= 8
    missing = [
        select(literal(index).label("list"), column, *columns)
        .where(
            model.grain == grain,
            model.bucket == start,
            *where,
            column.in_([key for key in contenders if index not in seen[key]]),
        )
        .subquery()
        for index, (grain, start) in enumerate(buckets)
        if index in unread
    ]
    for index, key, *values in _rows(missing):
        seen[key][index] = values
    totals = {
        key: [sum(values[i] for values in seen[key].values()) for i in range(len(measures))]
        for key in contenders
    }
    best = sorted(totals, key=lambda key: (-totals[key][ranked], key))[:limit]
    return {
        (key,): {name: exact(name, totals[key][i]) for i, name in enumerate(measures)}
        for key in best
    }


TOP_MAX_DEPTH = 800
TOP_MAX_CONTENDERS = 500
TOP_GIVE_UP_RATIO = 2  # unread members may sum to twice the cut: the sales are spread evenly
GIVE_UP: list = []


def _contenders(seen, lower, last_read, unread, limit) -> list | None:
    """The members read that may still be among the ``limit`` largest, once no unread
    member can be and they are few; None: read deeper; ``GIVE_UP``: deeper reads would
    hardly settle it (sales spread evenly)."""
    if len(lower) < limit:
        return list(lower) if not unread else None
    unread_bound = sum(last_read, ZERO)
    cut = sorted(lower.values(), reverse=True)[limit - 1]
    if unread and unread_bound >= cut:
        return GIVE_UP if unread_bound > TOP_GIVE_UP_RATIO * cut else None
    # A member's bound: what was read of it plus the last values of the buckets where
    # it was not read.
    contenders = [
        key
        for key, total in lower.items()
        if total + unread_bound - sum(last_read[i] for i in seen[key]) >= cut
    ]
    return contenders if len(contenders) <= TOP_MAX_CONTENDERS or not unread else None


def _rows(parts: list) -> list:
    """The rows of several bounded reads, in one statement."""
    if not parts:
        return []
    return db.session.execute(union_all(*(select(part) for part in parts))).all()
