"""The migrations build exactly the schema the models describe (PostgreSQL only)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import normalize_database_url
from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_database_url():
    """A brand-new, empty PostgreSQL database on the test server, dropped afterwards."""
    server = make_url(normalize_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"qg_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_on_empty_database_matches_the_models(empty_database_url):
    url = empty_database_url.render_as_string(hide_password=False)
    # `flask db upgrade` exactly as an operator runs it (a separate process: Alembic's
    # logging setup must not reconfigure this one's loggers).
    env = {**os.environ, "FLASK_ENV": "development", "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, db.metadata)
            version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()
    assert version
    assert not differences, "the migrations do not build the models' schema:\n" + "\n".join(
        map(str, differences)
    )
