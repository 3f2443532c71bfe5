"""scripts/backup_db.sh and scripts/restore_db.sh against the local PostgreSQL server."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import normalize_database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


@pytest.fixture
def make_database():
    """``make_database()`` -> URL of a new empty database (all dropped afterwards)."""
    server = make_url(normalize_database_url(os.environ["TEST_DATABASE_URL"]))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    names = []

    def make():
        name = f"qg_backup_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def sql(url: str, statement: str):
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def run(script: str, *args: str, database_url: str, **env: str):
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        env={**os.environ, "DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def source(make_database):
    url = make_database()
    sql(url, "CREATE TABLE products (id serial PRIMARY KEY, name text, price numeric(12, 2))")
    sql(url, "INSERT INTO products (name, price) VALUES ('Pixel 9', 99999.00), ('Cable', 499.50)")
    return url


def test_backup_writes_a_timestamped_gzipped_custom_dump(source, tmp_path):
    result = run("backup_db.sh", database_url=source, BACKUP_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip().splitlines()[-1])
    database = make_url(source).database
    assert path.parent == tmp_path
    assert re.fullmatch(rf"{database}-\d{{8}}T\d{{6}}Z\.dump\.gz", path.name)
    with gzip.open(path, "rb") as dump:
        assert dump.read(5) == b"PGDMP"  # pg_dump's custom format
    assert list(tmp_path.iterdir()) == [path]  # no partial file left behind


def test_backup_accepts_heroku_style_urls(source, tmp_path):
    assert source.startswith("postgresql+psycopg2://")  # the other tests use this form
    url = source.replace("postgresql+psycopg2://", "postgres://", 1)
    result = run("backup_db.sh", database_url=url, BACKUP_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_backup_deletes_backups_older_than_30_days(source, tmp_path):
    old = tmp_path / "qg-20200101T000000Z.dump.gz"
    recent = tmp_path / "qg-20200102T000000Z.dump.gz"
    unrelated = tmp_path / "notes.txt"
    for path, age_days in ((old, 31), (recent, 29), (unrelated, 400)):
        path.write_bytes(b"x")
        stamp = time.time() - age_days * 86400
        os.utime(path, (stamp, stamp))
    result = run("backup_db.sh", database_url=source, BACKUP_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert not old.exists()
    assert recent.exists() and unrelated.exists()
    assert "qg-20200101T000000Z.dump.gz" in result.stderr


def test_backup_refuses_without_a_postgres_url(tmp_path):
    result = run("backup_db.sh", database_url="", BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0 and "DATABASE_URL is not set" in result.stderr
    result = run("backup_db.sh", database_url="sqlite:///x.db", BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0 and "not a PostgreSQL URL" in result.stderr


def test_restore_into_an_empty_database_then_refuse_then_force(source, make_database, tmp_path):
    backup = run("backup_db.sh", database_url=source, BACKUP_DIR=str(tmp_path))
    dump = backup.stdout.strip().splitlines()[-1]
    target = make_database()

    restored = run("restore_db.sh", dump, database_url=target)
    assert restored.returncode == 0, restored.stderr
    rows = sql(target, "SELECT name, price::text FROM products ORDER BY id")
    assert rows == [("Pixel 9", "99999.00"), ("Cable", "499.50")]

    sql(target, "UPDATE products SET price = 1 WHERE name = 'Cable'")
    refused = run("restore_db.sh", dump, database_url=target)
    assert refused.returncode != 0
    assert "refusing to restore over a non-empty database" in refused.stderr
    assert sql(target, "SELECT price::text FROM products WHERE name = 'Cable'") == [("1.00",)]

    forced = run("restore_db.sh", "--force", dump, database_url=target)
    assert forced.returncode == 0, forced.stderr
    assert sql(target, "SELECT price::text FROM products WHERE name = 'Cable'") == [("499.50",)]
    # the sequence came back too: new rows do not collide with restored ids
    sql(target, "INSERT INTO products (name, price) VALUES ('Case', 10)")


def test_restore_rejects_missing_or_corrupt_files(make_database, tmp_path):
    target = make_database()
    missing = run("restore_db.sh", str(tmp_path / "nope.dump.gz"), database_url=target)
    assert missing.returncode != 0 and "no such backup file" in missing.stderr
    corrupt = tmp_path / "corrupt.dump.gz"
    corrupt.write_bytes(b"not gzip")
    bad = run("restore_db.sh", str(corrupt), database_url=target)
    assert bad.returncode != 0 and "not a gzip file" in bad.stderr
    usage = run("restore_db.sh", database_url=target)
    assert usage.returncode != 0 and "usage:" in usage.stderr
