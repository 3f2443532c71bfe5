"""How many SQL statements a piece of code runs (no N+1 on the admin lists)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event

from app.extensions import db


def recorded_statements(run: Callable[[], object]) -> list[str]:
    """The SQL statements ``run`` sends, in order."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


def count_statements(run: Callable[[], object]) -> int:
    return len(recorded_statements(run))
