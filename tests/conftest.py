"""One fixture set for the whole suite.

The database is PostgreSQL when ``TEST_DATABASE_URL`` is set (CI), else a SQLite file
in a temporary folder. Tables are created once per session; every test starts from
empty tables (they are emptied after each test), so tests are independent and code
under test may commit, open new connections and run threads as it does in production.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

# Uploaded images of the suite go to a throw-away folder, never the repository's instance/.
os.environ["UPLOAD_DIR"] = tempfile.mkdtemp(prefix="qg-uploads-")
if not os.environ.get("TEST_DATABASE_URL"):
    _tmp = tempfile.mkdtemp(prefix="qg-test-")
    os.environ["TEST_DATABASE_URL"] = f"sqlite:///{_tmp}/test.db"

from app import create_app  # noqa: E402
from app.auth.models import UserRole  # noqa: E402
from app.auth.tokens import start_session  # noqa: E402
from app.extensions import db as _db  # noqa: E402
from app.extensions import limiter  # noqa: E402
from tests.factories.auth import (  # noqa: E402
    AdminProfileFactory,
    SupplierProfileFactory,
    UserFactory,
)


def is_postgres() -> bool:
    return os.environ["TEST_DATABASE_URL"].startswith(("postgres://", "postgresql"))


def pytest_collection_modifyitems(config, items):
    if is_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def app():
    app = create_app("testing")
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _empty_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))  # children first
    if _db.engine.dialect.name != "postgresql":
        for table in tables:
            _db.session.execute(table.delete())
        _db.session.commit()
        return
    # DELETE of the few rows a test wrote is much cheaper than TRUNCATE, which
    # rewrites the files of every table and index; sequences restart as before.
    filled = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
    )
    non_empty = set(_db.session.scalars(text(filled)))
    try:
        for table in tables:
            if table.name in non_empty:
                _db.session.execute(table.delete())
        _db.session.commit()
    except IntegrityError:  # rows that only go in one statement: start from scratch
        _db.session.rollback()
        names = ", ".join(f'"{t.name}"' for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} CASCADE"))
        _db.session.commit()
    _db.session.execute(
        text(
            "SELECT setval(c.oid, 1, false) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
        )
    )
    _db.session.commit()


@pytest.fixture(autouse=True)
def db(app):
    """The database, inside an app context; emptied after each test."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        _empty_tables()
        _db.session.remove()


@pytest.fixture(autouse=True)
def upload_dir(app):
    """UPLOAD_DIR, emptied after each test (like the tables)."""
    yield Path(app.config["UPLOAD_DIR"])
    for entry in Path(app.config["UPLOAD_DIR"]).iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth_headers(app):
    """``auth_headers(user)`` -> headers with a fresh access token for that user."""

    def make(user, **extra) -> dict[str, str]:
        _, tokens = start_session(user, user_agent="pytest", ip_address="127.0.0.1")
        _db.session.commit()
        return {"Authorization": f"Bearer {tokens['access_token']}", **extra}

    return make


@pytest.fixture
def customer():
    return UserFactory(role=UserRole.CUSTOMER)


@pytest.fixture
def supplier():
    """An approved, verified supplier's user (``user.supplier_profile`` is set)."""
    return SupplierProfileFactory().user


@pytest.fixture
def admin():
    return AdminProfileFactory().user


@pytest.fixture
def role_user():
    """``role_user(UserRole.FINANCE_ADMIN)`` -> a verified user with that role."""

    def make(role: UserRole, **kwargs):
        if role == UserRole.SUPPLIER:
            return SupplierProfileFactory(**kwargs).user
        if role in (
            UserRole.ADMIN,
            UserRole.PRODUCT_MANAGER,
            UserRole.FINANCE_ADMIN,
            UserRole.SUPPORT_ADMIN,
        ):
            return AdminProfileFactory(user__role=role, **kwargs).user
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def customer_headers(customer, auth_headers):
    return auth_headers(customer)


@pytest.fixture
def supplier_headers(supplier, auth_headers):
    return auth_headers(supplier)


@pytest.fixture
def admin_headers(admin, auth_headers):
    return auth_headers(admin)


@pytest.fixture
def rate_limits():
    """``rate_limits(create_app("testing"))`` enforces rate limits on that app for this test.

    Tests run with RATELIMIT_ENABLED off. The app must not have served a request yet
    (Flask-Limiter adds request hooks), so pass a fresh one. Flask-Limiter's switch is
    one process-wide flag: it is turned back off, counters emptied, when the test ends.
    """
    enabled, apps = limiter.enabled, []

    def enable(target_app):
        target_app.config["RATELIMIT_ENABLED"] = True
        limiter.init_app(target_app)
        limiter.reset()
        apps.append(target_app)
        return target_app

    yield enable
    for target_app in apps:
        target_app.config["RATELIMIT_ENABLED"] = False
        limiter.reset()
    limiter.enabled = enabled


@pytest.fixture
def assert_books_balance():
    """``assert_books_balance()`` after a money scenario: ``flask ledger check`` passes
    (every entry balances, money in = held + revenue + owed + paid out); the report."""
    from app.ledger.cli import check_books

    def check():
        report = check_books()
        assert report.ok, report.discrepancy
        return report

    return check


@pytest.fixture
def daraja(app):
    """The app talks to a real ``MpesaClient`` whose Daraja is faked with ``responses``
    (``tests/daraja.py`` has the wire bodies); yields the ``RequestsMock``, the token
    endpoint already answering. The simulator is back after the test."""
    import responses

    from app.services.mpesa import MpesaClient
    from tests import daraja as fake

    simulator = app.extensions["mpesa"]
    app.extensions["mpesa"] = MpesaClient.from_config(
        app.config
        | {
            "MPESA_BASE_URL": fake.BASE,
            "MPESA_CONSUMER_KEY": "key",
            "MPESA_CONSUMER_SECRET": "secret",
            "MPESA_PASSKEY": "passkey",
            "MPESA_INITIATOR_NAME": "testapi",
            "MPESA_SECURITY_CREDENTIAL": "RC6E9WDxXR4b9X2c6z3gp0oC5Th==",
        }
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.token(mock)
        yield mock
    app.extensions["mpesa"] = simulator
