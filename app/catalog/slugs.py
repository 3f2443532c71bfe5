"""Slugs: URL names made from names, unique per table, and the check that one is free."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import exists, or_, select

from app.errors import Conflict
from app.extensions import db


def slugify(text: str, max_length: int = 200) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(text: str, column) -> str:
    """``text`` slugified, with ``-2``, ``-3``... when ``column`` already holds it."""
    base = slugify(text)
    taken = set(
        db.session.scalars(select(column).where(or_(column == base, column.like(f"{base}-%"))))
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def ensure_free(slug: str, column, message: str) -> None:
    if db.session.scalar(select(exists().where(column == slug))):
        raise Conflict(message, code="SLUG_TAKEN", details={"slug": slug})
