import pytest
from sqlalchemy import event

from app.auth.models import UserRole


@pytest.fixture
def manager_headers(role_user, auth_headers):
    return auth_headers(role_user(UserRole.PRODUCT_MANAGER))


@pytest.fixture
def count_statements(db):
    """``with count_statements() as statements:`` -> the SQL statements run inside."""

    class Counter:
        def __init__(self):
            self.statements: list[str] = []

        def __enter__(self):
            event.listen(db.engine, "before_cursor_execute", self._record)
            return self.statements

        def __exit__(self, *exc):
            event.remove(db.engine, "before_cursor_execute", self._record)

        def _record(self, conn, cursor, statement, *args):
            self.statements.append(statement)

    return Counter
