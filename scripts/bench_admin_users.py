"""The admin user search at scale: p95 of ``GET /api/admin/users`` over N users.

    .venv/bin/python scripts/bench_admin_users.py [--users 300000] [--runs 40]
        [--database-url postgresql://postgres@127.0.0.1:5432/qg_bench_admin_users]

It (re)creates its own PostgreSQL database with the models' schema (trigram indexes
included), loads N users in one INSERT ... SELECT, then times each query through the app
(in-process test client, one admin's token) and counts its SQL statements.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_server import recreate_database  # noqa: E402

QUERIES = (
    {"q": "wanjiku"},
    {"q": "kamau wanjiku"},
    {"q": "user123456"},
    {"q": "0712345"},
    {"role": "SUPPLIER"},
    {"status": "disabled"},
    {"verified": "false", "role": "CUSTOMER"},
    {"page": 500},
)


LOAD = """
INSERT INTO users (email, password_hash, first_name, last_name, phone, role, auth_provider,
                   is_active, email_verified_at, totp_enabled, failed_login_count,
                   created_at, updated_at)
SELECT 'user' || n || '@example.co.ke', 'x',
       (ARRAY['Wanjiku','Otieno','Achieng','Kamau','Mwangi','Njeri','Kiprop','Halima'])[1 + n % 8],
       (ARRAY['Kamau','Odhiambo','Mutua','Wambui','Cheruiyot','Abdi','Njoroge'])[1 + n % 7],
       '2547' || lpad((n::bigint * 7919 % 100000000)::text, 8, '0'),
       CASE WHEN n % 30 = 0 THEN 'SUPPLIER' ELSE 'CUSTOMER' END, 'LOCAL',
       n % 50 <> 0, CASE WHEN n % 10 = 0 THEN NULL ELSE now() END, false, 0,
       now() - (n || ' minutes')::interval, now()
FROM generate_series(1, :users) AS n
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/qg_bench_admin_users"
    )
    args = parser.parse_args()
    recreate_database(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, RATELIMIT_ENABLED="false")

    from app import create_app
    from app.auth.models import UserRole
    from app.auth.tokens import start_session
    from app.extensions import db
    from tests.factories.auth import AdminProfileFactory

    app = create_app("development")
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        db.session.execute(text(LOAD), {"users": args.users})
        db.session.commit()
        db.session.execute(text("ANALYZE users"))
        db.session.commit()
        print(f"loaded {args.users:,} users in {time.perf_counter() - started:.1f}s")
        admin = AdminProfileFactory(user__role=UserRole.ADMIN, user__email="bench@qg.co.ke").user
        _, tokens = start_session(admin)
        db.session.commit()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        client = app.test_client()
        print(f"{'query':40} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>4} {'total':>8}")
        for query in QUERIES:
            timings = []
            for _ in range(args.runs):
                statements.clear()
                started = time.perf_counter()
                response = client.get("/api/admin/users", query_string=query, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.json
            p95 = statistics.quantiles(timings, n=20)[-1]
            total = response.json["meta"]["total"]
            print(
                f"{str(query):40} {statistics.median(timings):8.1f} {p95:8.1f} "
                f"{len(statements):4d} {total:8,d}"
            )
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
