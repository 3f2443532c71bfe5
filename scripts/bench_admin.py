"""Admin figures benchmark: a million orders on PostgreSQL, read through the Flask test client.

    .venv/bin/python scripts/bench_admin.py [--database-url URL] [--orders 1000000]
        [--repeat 30] [--skip-load] [--popularity zipf|uniform]

The database (``BENCH_DATABASE_URL`` or ``--database-url``; default
``postgresql://postgres@127.0.0.1:5432/qg_analytics_bench``, created if absent) is
emptied and loaded by server-side ``generate_series`` statements, never the ORM per row:
``--orders`` orders over two years (3 items each, ``orders / 100`` suppliers with 5
products each, ``0.3 x orders`` customers; which product an item is of follows
``--popularity``: ``zipf``, a few products selling most, or ``uniform``, all alike, the
rankings' worst case), their status history (placed, paid, final
status), the ledger entries the receivers would have posted (order paid, items and
order delivered, cancelled and refunded) and some carts. Then ``flask analytics
rebuild``'s function builds the rollups, and each endpoint is requested ``--repeat``
times after 3 warm-ups: p50 / p95 and SQL statements per request. Targets: dashboard,
analytics (90 days by day), financial report (12 months by month) and the user search
p95 <= 150 ms; CSV export of a year's daily financial report <= 2 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/qg_analytics_bench"
COUNTIES = [
    "Nairobi",
    "Mombasa",
    "Kisumu",
    "Nakuru",
    "Kiambu",
    "Machakos",
    "Kajiado",
    "Uasin-Gishu",
    "Kakamega",
    "Meru",
    "Nyeri",
    "Kericho",
    "Bungoma",
    "Kilifi",
    "Kitui",
    "Embu",
    "Murang'a",
    "Laikipia",
    "Nandi",
    "Narok",
    "Bomet",
    "Kisii",
    "Nyamira",
    "Migori",
    "Homa-Bay",
    "Siaya",
    "Busia",
    "Vihiga",
    "Trans-Nzoia",
    "Baringo",
    "Elgeyo-Marakwet",
    "West-Pokot",
    "Samburu",
    "Turkana",
    "Marsabit",
    "Isiolo",
    "Mandera",
    "Wajir",
    "Garissa",
    "Tana-River",
    "Lamu",
    "Taita-Taveta",
    "Kwale",
    "Makueni",
    "Kirinyaga",
    "Nyandarua",
    "Tharaka-Nithi",
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = psycopg2.connect(url.replace(parts.path, "/postgres"))
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    server.close()


# Which product each item is of. ``zipf``: popularity falls as 1 / rank (a log-uniform rank,
# spread over the ids by a permutation), as shops sell: a few products sell most, a long
# tail a little; ``uniform``: every product alike, the worst case for the rankings.
PICKS = {
    "zipf": "1 + ((floor(power({products}, (i::bigint * 2654435761 % 4294967296)::float8"
    " / 4294967296))::bigint - 1) * 7919 % {products})::int",
    "uniform": "1 + ((i::bigint * 2654435761) % {products})::int",
}


def load(url: str, orders: int, popularity: str = "zipf") -> None:
    """Empty the schema and load the data set with set-based SQL."""
    from app.extensions import db

    suppliers = max(orders // 100, 10)
    customers = max(orders * 3 // 10, 10)
    products = suppliers * 5
    items = orders * 3
    db.drop_all()
    db.create_all()
    db.session.commit()
    counties = "ARRAY[" + ",".join("'" + c.replace("'", "''") + "'" for c in COUNTIES) + "]"
    steps = [
        (
            "users",
            f"""
            INSERT INTO users (id, email, first_name, last_name, phone, role, auth_provider,
                               is_active, email_verified_at, created_at, updated_at)
            SELECT g,
                   CASE WHEN g <= {customers} THEN 'customer' || g ELSE 'supplier' || g END
                       || '@example.co.ke',
                   (ARRAY['Wanjiku','Otieno','Akinyi','Kamau','Njeri','Mutua'])[1 + g % 6],
                   'User' || g,
                   '2547' || lpad((g % 100000000)::text, 8, '0'),
                   CASE WHEN g <= {customers} THEN 'CUSTOMER' ELSE 'SUPPLIER' END,
                   'LOCAL', true, now(),
                   now() - interval '730 days' * (1 - g::float / {customers + suppliers}),
                   now()
            FROM generate_series(1, {customers + suppliers}) g;
            INSERT INTO users (id, email, first_name, last_name, role, auth_provider,
                               is_active, email_verified_at, created_at, updated_at)
            VALUES ({customers + suppliers + 1}, 'bench-admin@example.co.ke', 'Bench',
                    'Admin', 'ADMIN', 'LOCAL', true, now(), now(), now());
            SELECT setval(pg_get_serial_sequence('users', 'id'), {customers + suppliers + 1});
            """,
        ),
        (
            "suppliers, catalogue, zones",
            f"""
            INSERT INTO supplier_profiles (id, user_id, business_name, is_approved, status,
                                           created_at, updated_at)
            SELECT s, {customers} + s, 'Supplier ' || s, s % 100 <> 0,
                   CASE WHEN s % 100 <> 0 THEN 'APPROVED' ELSE 'PENDING' END, now(), now()
            FROM generate_series(1, {suppliers}) s;
            INSERT INTO categories (id, name, slug, suggested_specs, commission_rate,
                                    is_active, created_at, updated_at)
            SELECT c, 'Category ' || c, 'category-' || c, '{{}}', 0.1, true, now(), now()
            FROM generate_series(1, 60) c;
            INSERT INTO delivery_zones (id, name, fee, estimated_days, is_active,
                                        created_at, updated_at)
            SELECT z, 'Zone ' || z, 250, 2, true, now(), now() FROM generate_series(1, 10) z;
            INSERT INTO products (id, supplier_id, category_id, name, slug, description, price,
                                  stock, condition, warranty_months, specs, images, is_active,
                                  rating_sum, rating_count, rating_average, sold_count,
                                  created_at, updated_at)
            SELECT p, 1 + (p - 1) % {suppliers}, 1 + p % 60, 'Product ' || p, 'product-' || p,
                   '', 100 + (p * 37 % 500) * 50, p % 40, 'NEW', 12, '{{}}', '[]', true,
                   0, 0, 0, 0, now(), now()
            FROM generate_series(1, {products}) p;
            """,
        ),
        (
            "orders (with items summed first)",
            f"""
            CREATE UNLOGGED TABLE bench_items AS
            SELECT i AS id, (i - 1) / 3 + 1 AS order_id, p AS product_id,
                   1 + (p - 1) % {suppliers} AS supplier_id,
                   (100 + (p * 37 % 500) * 50)::numeric(12, 2) AS unit_price,
                   1 + (i % 5 = 0)::int AS quantity
            FROM generate_series(1, {items}) i,
                 LATERAL (SELECT {PICKS[popularity].format(products=products)} AS p) pick;
            CREATE UNLOGGED TABLE bench_orders AS
            SELECT o.id,
                   now() - interval '730 days' * (1 - o.id::float / {orders}) AS created_at,
                   CASE WHEN o.id % 10 < 5 THEN 'MPESA' WHEN o.id % 10 < 8 THEN 'CARD'
                        ELSE 'CASH' END AS method,
                   sum(i.unit_price * i.quantity) AS subtotal
            FROM generate_series(1, {orders}) o(id)
            JOIN bench_items i ON i.order_id = o.id
            GROUP BY o.id;
            ALTER TABLE bench_orders ADD COLUMN status text, ADD COLUMN paid boolean;
            UPDATE bench_orders SET
                status = CASE
                    WHEN created_at > now() - interval '3 days' THEN
                        (ARRAY['PENDING','PROCESSING','SHIPPED','ARRIVED'])[1 + id % 4]
                    WHEN id % 100 < 12 THEN 'CANCELLED'
                    ELSE 'DELIVERED' END,
                paid = CASE WHEN created_at > now() - interval '3 days'
                            THEN NOT (id % 4 = 0 OR method = 'CASH')
                            ELSE NOT (id % 100 < 7 OR (method = 'CASH' AND id % 100 < 12))
                       END;
            """,
        ),
    ]
    steps += [
        (
            "orders, items, history",
            f"""
            INSERT INTO orders (id, order_number, customer_id, status, payment_status,
                                payment_method, subtotal, delivery_fee, total, currency,
                                delivery_zone_id, recipient_name, recipient_phone,
                                delivery_county, delivery_town, delivery_street,
                                estimated_delivery_days, paid_at, delivered_at, cancelled_at,
                                created_at, updated_at)
            SELECT id, 'QG-B-' || id, 1 + (id::bigint * 7919 % {customers})::int, status,
                   CASE WHEN paid AND status = 'CANCELLED' THEN 'REFUNDED'
                        WHEN paid THEN 'COMPLETED' ELSE 'PENDING' END,
                   method, subtotal, 250, subtotal + 250, 'KES', 1 + id % 10, 'Customer',
                   '254712345678', ({counties})[1 + id % {len(COUNTIES)}], 'Town', 'Street',
                   2,
                   CASE WHEN paid AND method = 'CASH' THEN created_at + interval '2 days'
                        WHEN paid THEN created_at + interval '3 minutes' END,
                   CASE WHEN status = 'DELIVERED' THEN created_at + interval '2 days' END,
                   CASE WHEN status = 'CANCELLED' THEN created_at + interval '1 hour' END,
                   created_at, created_at
            FROM bench_orders;
            SELECT setval(pg_get_serial_sequence('orders', 'id'), {orders});
            INSERT INTO order_items (id, order_id, product_id, supplier_id, product_name,
                                     unit_price, quantity, line_total, commission_rate,
                                     commission_amount, returned_quantity)
            SELECT id, order_id, product_id, supplier_id, 'Product ' || product_id, unit_price,
                   quantity, unit_price * quantity, 0.1, round(unit_price * quantity * 0.1, 2), 0
            FROM bench_items;
            SELECT setval(pg_get_serial_sequence('order_items', 'id'), {items});
            INSERT INTO order_status_history (order_id, field, from_status, to_status, created_at)
            SELECT id, 'status', NULL, 'PENDING', created_at FROM bench_orders
            UNION ALL
            SELECT id, 'status', 'PENDING', 'PAID', created_at + interval '3 minutes'
            FROM bench_orders WHERE paid AND method <> 'CASH'
            UNION ALL
            SELECT id, 'status', NULL, status,
                   created_at + CASE WHEN status = 'DELIVERED' THEN interval '2 days'
                                     ELSE interval '1 hour' END
            FROM bench_orders WHERE status IN ('DELIVERED', 'CANCELLED');
            """,
        ),
        (
            "ledger",
            f"""
            INSERT INTO ledger_accounts (id, key, code)
            VALUES (1, 'MPESA_CLEARING', 'MPESA_CLEARING'),
                   (2, 'PAYSTACK_CLEARING', 'PAYSTACK_CLEARING'),
                   (3, 'CASH_COLLECTED', 'CASH_COLLECTED'), (4, 'ORDERS_HELD', 'ORDERS_HELD'),
                   (5, 'REFUNDS_OWED', 'REFUNDS_OWED'),
                   (6, 'COMMISSION_REVENUE', 'COMMISSION_REVENUE'),
                   (7, 'DELIVERY_REVENUE', 'DELIVERY_REVENUE');
            INSERT INTO ledger_accounts (id, key, code, supplier_id)
            SELECT 100 + s, 'SUPPLIER_ON_HOLD:' || s, 'SUPPLIER_ON_HOLD', s
            FROM generate_series(1, {suppliers}) s;
            SELECT setval(pg_get_serial_sequence('ledger_accounts', 'id'), {100 + suppliers});
            CREATE UNLOGGED TABLE bench_clearing AS
            SELECT id, CASE method WHEN 'MPESA' THEN 1 WHEN 'CARD' THEN 2 ELSE 3 END AS account
            FROM bench_orders;
            -- order paid
            INSERT INTO ledger_entries (id, event_key, kind, occurred_at, posted_at, order_id)
            SELECT o.id, 'order-paid:' || o.id, 'order-paid', o.paid_at, o.paid_at, o.id
            FROM orders o WHERE o.paid_at IS NOT NULL;
            INSERT INTO ledger_lines (entry_id, account_id, amount)
            SELECT o.id, c.account, o.total FROM orders o JOIN bench_clearing c USING (id)
            WHERE o.paid_at IS NOT NULL
            UNION ALL
            SELECT id, 4, -total FROM orders WHERE paid_at IS NOT NULL;
            -- delivered: the order's fee, then each item
            INSERT INTO ledger_entries (id, event_key, kind, occurred_at, posted_at, order_id)
            SELECT {orders} + id, 'order-delivered:' || id, 'order-delivered', delivered_at,
                   delivered_at, id
            FROM orders WHERE delivered_at IS NOT NULL;
            INSERT INTO ledger_lines (entry_id, account_id, amount)
            SELECT {orders} + id, 4, delivery_fee FROM orders WHERE delivered_at IS NOT NULL
            UNION ALL
            SELECT {orders} + id, 7, -delivery_fee FROM orders WHERE delivered_at IS NOT NULL;
            INSERT INTO ledger_entries (id, event_key, kind, occurred_at, posted_at, order_id,
                                        supplier_id)
            SELECT {2 * orders} + i.id, 'item-delivered:' || i.id, 'item-delivered',
                   o.delivered_at, o.delivered_at, o.id, i.supplier_id
            FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE o.delivered_at IS NOT NULL;
            INSERT INTO ledger_lines (entry_id, account_id, amount, order_item_id, release_at)
            SELECT {2 * orders} + i.id, 4, i.line_total, i.id, NULL
            FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE o.delivered_at IS NOT NULL
            UNION ALL
            SELECT {2 * orders} + i.id, 100 + i.supplier_id,
                   -(i.line_total - i.commission_amount), i.id,
                   o.delivered_at + interval '7 days'
            FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE o.delivered_at IS NOT NULL
            UNION ALL
            SELECT {2 * orders} + i.id, 6, -i.commission_amount, i.id, NULL
            FROM order_items i JOIN orders o ON o.id = i.order_id
            WHERE o.delivered_at IS NOT NULL;
            -- paid, then cancelled: owed back, then refunded
            INSERT INTO ledger_entries (id, event_key, kind, occurred_at, posted_at, order_id)
            SELECT {5 * orders} + id, 'order-cancelled:' || id, 'order-cancelled',
                   cancelled_at, cancelled_at, id
            FROM orders WHERE status = 'CANCELLED' AND paid_at IS NOT NULL
            UNION ALL
            SELECT {6 * orders} + id, 'refund-settled:' || id, 'refund-settled',
                   cancelled_at + interval '1 day', cancelled_at + interval '1 day', id
            FROM orders WHERE status = 'CANCELLED' AND paid_at IS NOT NULL;
            INSERT INTO ledger_lines (entry_id, account_id, amount)
            SELECT {5 * orders} + id, 4, total FROM orders
            WHERE status = 'CANCELLED' AND paid_at IS NOT NULL
            UNION ALL
            SELECT {5 * orders} + id, 5, -total FROM orders
            WHERE status = 'CANCELLED' AND paid_at IS NOT NULL
            UNION ALL
            SELECT {6 * orders} + o.id, 5, o.total FROM orders o
            WHERE o.status = 'CANCELLED' AND o.paid_at IS NOT NULL
            UNION ALL
            SELECT {6 * orders} + o.id, c.account, -o.total
            FROM orders o JOIN bench_clearing c USING (id)
            WHERE o.status = 'CANCELLED' AND o.paid_at IS NOT NULL;
            SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), {7 * orders});
            """,
        ),
        (
            "carts",
            f"""
            INSERT INTO carts (id, user_id, created_at, updated_at)
            SELECT g, g, now(), now() FROM generate_series(1, {customers // 6}) g;
            INSERT INTO cart_items (cart_id, product_id, quantity, price_when_added,
                                    created_at, updated_at)
            SELECT g, 1 + g % {products}, 1, 100, now() - interval '1 hour' * (g % 2000), now()
            FROM generate_series(1, {customers // 6}) g;
            DROP TABLE bench_items, bench_orders, bench_clearing;
            """,
        ),
    ]
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql)
            log(f"loaded {name} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        log(f"vacuum analyze in {time.perf_counter() - started:.1f} s")
    connection.close()


def build_rollups() -> float:
    from app.analytics.rebuild import rebuild
    from app.calendar import next_month, today
    from app.extensions import db

    started = time.perf_counter()
    last = today()
    day = last - timedelta(days=731)
    while day <= last:
        end = min(last, next_month(day) - timedelta(days=1))
        rebuild(day, end)
        db.session.commit()
        day = end + timedelta(days=1)
    elapsed = time.perf_counter() - started
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    log(f"rollups rebuilt (two years) in {elapsed:.1f} s")
    return elapsed


class StatementCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._tick)

    def _tick(self, *args, **kwargs):
        self.count += 1


def measure(name, request, counter, repeat: int) -> dict:
    for _ in range(3):
        request()
    times, statements = [], []
    for _ in range(repeat):
        before = counter.count
        started = time.perf_counter()
        response = request()
        times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.count - before)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {response.status_code} {response.get_data()[:300]}")
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return {
        "name": name,
        "p50": statistics.median(times),
        "p95": p95,
        "statements": max(statements),
    }


def user_search_setup(db) -> None:
    """The trigram indexes a ``q`` search on name / email / phone is served by."""
    db.session.execute(db.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    for column in ("email", "first_name", "last_name", "phone"):
        db.session.execute(
            db.text(
                f"CREATE INDEX IF NOT EXISTS ix_bench_users_{column}_trgm "
                f"ON users USING gin (lower({column}) gin_trgm_ops)"
            )
        )
    db.session.commit()
    db.session.execute(db.text("ANALYZE users"))
    db.session.commit()


def main() -> None:
    logging.getLogger("app.access").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--popularity", choices=sorted(PICKS), default="zipf", help="which products sell"
    )
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded database")
    parser.add_argument(
        "--rebuild", action="store_true", help="with --skip-load: rebuild the rollups anyway"
    )
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789abcdef0123456789")
    os.environ.setdefault("JWT_SECRET_KEY", "bench-jwt-secret-0123456789abcdef0123456789")
    os.environ["RATELIMIT_ENABLED"] = "false"
    ensure_database(args.database_url)

    from app import create_app
    from app.auth.models import User
    from app.auth.tokens import start_session
    from app.calendar import today
    from app.extensions import db

    app = create_app("production")
    results = []
    with app.app_context():
        if not args.skip_load:
            log(f"loading {args.orders:,} orders into {args.database_url}")
            started = time.perf_counter()
            load(args.database_url, args.orders, args.popularity)
            log(f"load done in {time.perf_counter() - started:.1f} s")
        if not args.skip_load or args.rebuild:
            db.create_all()  # rollup tables added since the load
            for table in db.metadata.sorted_tables:  # and indexes added to older tables
                for index in table.indexes:
                    index.create(db.engine, checkfirst=True)
            build_rollups()
            user_search_setup(db)
        admin = db.session.scalar(db.select(User).where(User.email == "bench-admin@example.co.ke"))
        _, tokens = start_session(admin, user_agent="bench", ip_address="127.0.0.1")
        db.session.commit()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        counter = StatementCounter(db.engine)
        client = app.test_client()
        last = today()

        def get(path, **query):
            return lambda: client.get(path, query_string=query, headers=headers)

        year_ago = (last - timedelta(days=364)).isoformat()
        results.append(measure("dashboard", get("/api/admin/dashboard"), counter, args.repeat))
        results.append(
            measure(
                "analytics 90 days by day",
                get(
                    "/api/admin/analytics",
                    **{"from": (last - timedelta(days=89)).isoformat(), "to": last.isoformat()},
                ),
                counter,
                args.repeat,
            )
        )
        results.append(
            measure(
                "financial 12 months by month",
                get(
                    "/api/admin/reports/financial",
                    **{
                        "from": (last.replace(day=1) - timedelta(days=335))
                        .replace(day=1)
                        .isoformat(),
                        "to": last.isoformat(),
                        "interval": "month",
                    },
                ),
                counter,
                args.repeat,
            )
        )
        if "/api/admin/users" in {rule.rule for rule in app.url_map.iter_rules()}:
            search = get("/api/admin/users", q="wanjiku")
            label = "GET /api/admin/users?q=wanjiku"
        else:
            statement = db.text(
                "SELECT id, email, first_name, last_name, role FROM users "
                "WHERE lower(email) LIKE :q OR lower(first_name) LIKE :q "
                "OR lower(last_name) LIKE :q OR lower(phone) LIKE :q "
                "ORDER BY id DESC LIMIT 20"
            )

            class Done:
                status_code = 200

            def search():
                db.session.execute(statement, {"q": "%user12345%"}).all()
                db.session.rollback()
                return Done

            label = "user search (equivalent indexed query; no /api/admin/users here)"
        results.append(measure(label, search, counter, args.repeat))
        started = time.perf_counter()
        exports = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(
                "/api/admin/reports/financial",
                query_string={"from": year_ago, "to": last.isoformat(), "format": "csv"},
                headers=headers,
            )
            body = response.get_data()
            exports.append(time.perf_counter() - started)
        log(f"CSV export of a year by day: {len(body):,} bytes, worst of 5 {max(exports):.3f} s")

    print()
    print(f"{'request':70} {'p50 ms':>8} {'p95 ms':>8} {'SQL/req':>8}")
    for result in results:
        verdict = "ok" if result["p95"] <= 150 else "OVER 150 ms"
        print(
            f"{result['name']:70} {result['p50']:8.1f} {result['p95']:8.1f} "
            f"{result['statements']:8d}  {verdict}"
        )
    verdict = "ok" if max(exports) <= 2 else "OVER 2 s"
    print(f"{'CSV export, a year by day (worst of 5)':70} {max(exports) * 1000:8.0f} ms  {verdict}")


if __name__ == "__main__":
    main()
