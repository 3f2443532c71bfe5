"""Product search: PostgreSQL full-text search, with a portable ``LIKE`` fallback.

Each product has a search row (``ProductSearch``) whose ``search_vector`` is, on
PostgreSQL, a weighted ``tsvector`` (name A, brand and category names B, description C)
behind a GIN index; on SQLite the same words as lower-case text. The database computes
it from the product row (``document()`` is the SQL expression that
``app.catalog.models.refresh_documents`` writes) whenever a product's searched fields
change, or its brand or category is renamed. Queries use prefix matching, so "sams"
finds "Samsung", ranked by ``ts_rank_cd`` (name hits rank first on SQLite).
"""

from __future__ import annotations

import re

from sqlalchemy import (
    ColumnElement,
    Text,
    TypeDecorator,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

MAX_TERMS = 8
TERM = re.compile(r"[^\W_]+")
# A fixed configuration makes to_tsvector() immutable and index-friendly.
CONFIG = literal_column("'english'::regconfig")

_brands = table("brands", column("id"), column("name"))
_categories = table("categories", column("id"), column("name"))


class SearchVector(TypeDecorator):
    """``tsvector`` on PostgreSQL, plain text elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TSVECTOR())
        return dialect.type_descriptor(Text())


def terms(query: str) -> list[str]:
    """The words of a search box query, lower-cased, at most ``MAX_TERMS``."""
    return TERM.findall(query.lower())[:MAX_TERMS]


def document(dialect: str, name, description, brand_id, category_id) -> ColumnElement:
    """SQL computing a product's search document from its (column or bound) values."""
    brand = select(_brands.c.name).where(_brands.c.id == brand_id).scalar_subquery()
    category = select(_categories.c.name).where(_categories.c.id == category_id).scalar_subquery()
    names = func.coalesce(brand, "") + literal(" ") + func.coalesce(category, "")
    if dialect == "postgresql":

        def weighted(text, weight: str):
            return func.setweight(func.to_tsvector(CONFIG, func.coalesce(text, "")), weight)

        return (
            weighted(name, "A").op("||")(weighted(names, "B")).op("||")(weighted(description, "C"))
        )
    return func.lower(
        func.coalesce(name, "")
        + literal(" ")
        + names
        + literal(" ")
        + func.coalesce(description, "")
    )


def match(dialect: str, vector, name, words: list[str]) -> tuple[ColumnElement, ColumnElement]:
    """(filter, rank) for rows whose document contains every word as a prefix."""
    if dialect == "postgresql":
        query = func.to_tsquery(CONFIG, " & ".join(f"{word}:*" for word in words))
        return vector.op("@@")(query), func.ts_rank_cd(vector, query)
    # SQLite: every word somewhere in the document; words found in the name rank first.
    rank = sum(
        (case((func.lower(name).like(f"%{word}%"), 1), else_=0) for word in words), literal(0)
    )
    return and_(*(vector.like(f"%{word}%") for word in words)), rank
