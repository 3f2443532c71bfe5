"""Kenyan days, the periods of a report and the rollup buckets that cover them.

Every figure is bucketed by its ``Africa/Nairobi`` day (EAT, UTC+3 all year: Kenya keeps
no daylight saving time). Rollup rows exist at three grains: a day (``D``), a Monday-to-
Sunday week (``W``) and a calendar month (``M``), each keyed by its first day. A range of
days is read as the fewest whole buckets that cover it exactly (``cover``): 90 days are
about 2 months, 3 weeks and 12 days instead of 90 days of rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, literal_column
from sqlalchemy.sql import ColumnElement

NAIROBI = ZoneInfo("Africa/Nairobi")
DAY, WEEK, MONTH = "D", "W", "M"
GRAINS = (DAY, WEEK, MONTH)
INTERVALS = ("day", "week", "month")
MAX_DAYS = {"day": 366, "week": 3660, "month": 3660}


def local_day(moment: datetime) -> date:
    """The Nairobi day of a UTC instant."""
    return moment.astimezone(NAIROBI).date()


def today() -> date:
    return local_day(datetime.now(UTC))


def day_start(day: date) -> datetime:
    """The UTC instant the Nairobi day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=NAIROBI).astimezone(UTC)


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the Nairobi days ``first`` to ``last`` inclusive."""
    return day_start(first), day_start(last + timedelta(days=1))


def sql_local_day(column, dialect: str) -> ColumnElement:
    """The Nairobi day of a UTC timestamp column, computed by the database."""
    if dialect == "postgresql":
        return cast(func.timezone("Africa/Nairobi", column), Date)
    # SQLite stores UTC text and has no zone database; Nairobi is UTC+3 all year.
    return func.date(column, literal_column("'+3 hours'"))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_end(grain: str, start: date) -> date:
    """The last day of the bucket that starts on ``start``."""
    if grain == DAY:
        return start
    if grain == WEEK:
        return start + timedelta(days=6)
    return next_month(start) - timedelta(days=1)


def buckets_of(day: date) -> tuple[tuple[str, date], ...]:
    """The three buckets a day's figures are added to."""
    return ((DAY, day), (WEEK, week_start(day)), (MONTH, month_start(day)))


def cover(first: date, last: date) -> list[tuple[str, date]]:
    """The fewest whole buckets, in order, whose days are exactly ``first``..``last``."""
    buckets, day = [], first
    while day <= last:
        if day.day == 1 and bucket_end(MONTH, day) <= last:
            grain = MONTH
        elif (
            day.weekday() == 0
            and bucket_end(WEEK, day) <= last
            and not (
                # a week running into a month that fits whole would hide that month
                bucket_end(WEEK, day) >= next_month(day)
                and bucket_end(MONTH, next_month(day)) <= last
            )
        ):
            grain = WEEK
        else:
            grain = DAY
        buckets.append((grain, day))
        day = bucket_end(grain, day) + timedelta(days=1)
    return buckets


def periods(first: date, last: date, interval: str) -> list[tuple[date, date]]:
    """The report's periods: days, Monday weeks or calendar months, clipped to the range."""
    result, start = [], first
    while start <= last:
        if interval == "day":
            end = start
        elif interval == "week":
            end = week_start(start) + timedelta(days=6)
        else:
            end = next_month(start) - timedelta(days=1)
        end = min(end, last)
        result.append((start, end))
        start = end + timedelta(days=1)
    return result
