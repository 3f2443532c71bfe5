"""Pagination: the query-string schema of list endpoints and the ``Page`` they return."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select

from app.extensions import db

MAX_PER_PAGE = 100
# Far beyond any real list; keeps OFFSET inside a BIGINT (page=10**30 is clamped, not a 500).
MAX_PAGE = 1_000_000


@dataclass
class Page:
    """One page of a list endpoint's results and the numbers for ``meta``."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def meta(self) -> dict[str, int]:
        pages = math.ceil(self.total / self.per_page) if self.total else 0
        return {"page": self.page, "per_page": self.per_page, "total": self.total, "pages": pages}


class ClampedInteger(ma.fields.Integer):
    """An integer query parameter clamped into a range instead of rejected."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        return min(max(number, self.minimum), self.maximum)


class PaginationSchema(ma.Schema):
    """Query string of every list endpoint; subclass it to add filters."""

    page = ClampedInteger(minimum=1, maximum=MAX_PAGE, load_default=1)
    per_page = ClampedInteger(minimum=1, maximum=MAX_PER_PAGE, load_default=20)


def paginate(
    statement: Select,
    params: dict[str, Any],
    *,
    unique: bool = False,
    count: Select | None = None,
    rows: bool = False,
) -> Page:
    """Run ``statement`` for one page (``params`` from a ``PaginationSchema``).

    ``count``: a statement giving the total, when counting ``statement`` itself (with
    its joins) would cost more than needed. ``rows``: the items are the result's rows (for
    a statement of several columns), not its first column's values.
    """
    page, per_page = params["page"], params["per_page"]
    if count is None:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = db.session.scalar(count)
    statement = statement.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(statement) if rows else db.session.scalars(statement)
    items = list(result.unique() if unique else result)
    return Page(items=items, page=page, per_page=per_page, total=total or 0)
