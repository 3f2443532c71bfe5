"""Finding accounts by what an admin types: each word is part of the email, a name or
the phone (``User.search_text``; on PostgreSQL a trigram index lookup)."""

from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy.sql import ColumnElement

from app.auth.models import User

MAX_SEARCH_WORDS = 5


def contains(column, text: str) -> ColumnElement:
    """``column`` holds ``text`` (case-insensitive; ``%`` and ``_`` are plain characters)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def users_matching(q: str) -> ColumnElement:
    """Each word of ``q`` (the first MAX_SEARCH_WORDS) is in the user's ``search_text``."""
    return and_(*(contains(User.search_text, word) for word in q.split()[:MAX_SEARCH_WORDS]))
