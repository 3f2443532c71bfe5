"""Catalog speed benchmark: 100,000 products on PostgreSQL, served by gunicorn.

    flock /tmp/qg-bench.lock .venv/bin/python scripts/bench_catalog.py [--products N] [--reload]

Creates (once) and loads the database ``qg_bench_catalog`` (again when the products'
columns differ from the models; indexes are brought in line with them on every run),
starts gunicorn with the production configuration on a free localhost port and reports
p50/p95 latency of the default list, a filtered + sorted list, search and
product-by-slug (one client, sequential requests), then the throughput of the list
endpoint against ``/api/health`` with 16 concurrent clients.
Targets: list p95 <= 25 ms, search p95 <= 40 ms, detail p95 <= 10 ms, list throughput
>= 35 % of health's.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_server import gunicorn  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "qg_bench_catalog"
WORDS = [
    "Samsung",
    "Galaxy",
    "Tecno",
    "Infinix",
    "Xiaomi",
    "Redmi",
    "Apple",
    "iPhone",
    "HP",
    "Lenovo",
    "Dell",
    "LG",
    "Sony",
    "Hisense",
    "JBL",
    "Oraimo",
    "Anker",
    "Pro",
    "Max",
    "Ultra",
    "Lite",
    "Plus",
    "Mini",
    "Slim",
    "Smart",
    "Wireless",
    "Charger",
    "Earbuds",
    "Laptop",
    "Monitor",
    "Speaker",
    "Tablet",
    "Phone",
    "Camera",
    "Watch",
    "Console",
    "Router",
    "Keyboard",
    "Mouse",
]
FILLER = [
    "battery",
    "display",
    "warranty",
    "genuine",
    "original",
    "fast",
    "charging",
    "dual",
    "sim",
    "camera",
    "megapixel",
    "storage",
    "memory",
    "processor",
    "octa",
    "core",
    "bluetooth",
    "wifi",
    "usb",
    "type-c",
    "screen",
    "inch",
    "resolution",
    "hd",
    "durable",
    "lightweight",
    "slim",
    "design",
    "colour",
    "black",
    "silver",
    "blue",
    "gold",
    "kenya",
    "delivery",
    "nairobi",
    "official",
    "sealed",
    "box",
    "accessories",
    "included",
    "long",
    "lasting",
    "performance",
    "gaming",
    "streaming",
]
SEARCHES = ("sams", "galaxy phone", "wireless earbuds", "lenovo laptop", "iphone pro", "smart tv")


def ensure_database(url: str) -> None:
    connection = psycopg2.connect(f"{SERVER}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    connection.close()


def load(count: int, reload: bool) -> None:
    """Schema from the models, then ``count`` products with realistic spread."""
    from sqlalchemy import func, insert, inspect, select, text, true

    from app import create_app
    from app.auth.models import SupplierProfile, User, UserRole
    from app.catalog.models import (
        Brand,
        Category,
        Product,
        ProductSearch,
        ProductSlug,
        recount_listed,
        refresh_documents,
    )
    from app.db import utcnow
    from app.extensions import db

    app = create_app("development")
    with app.app_context():
        if reload:
            db.drop_all()
        db.create_all()
        loaded = db.session.scalar(select(func.count(Product.id)))
        db.session.close()  # no open transaction may block the DROP below
        columns = {column["name"] for column in inspect(db.engine).get_columns("products")}
        if loaded >= count and columns == set(Product.__table__.columns.keys()):
            for model in (Product, ProductSearch):
                sync_indexes(db.engine, model.__table__)
            recount_listed(db.session)  # the bulk load bypassed the ORM's counters
            db.session.commit()
            return
        db.drop_all()
        db.create_all()
        print(f"loading {count} products...", flush=True)
        started = time.perf_counter()
        rng = random.Random(7)
        roots = [Category(name=n, slug=n.lower()) for n in ("Phones", "Computing", "Audio", "TV")]
        leaves = [
            Category(name=f"{root.name} {kind}", slug=f"{root.slug}-{kind}", parent=root)
            for root in roots
            for kind in ("new", "accessories", "premium", "budget")
        ]
        brands = [Brand(name=f"{w} {i}", slug=f"{w.lower()}-{i}") for i, w in enumerate(WORDS)]
        suppliers = [
            SupplierProfile(
                user=User(
                    email=f"bench{i}@example.co.ke",
                    first_name="Bench",
                    last_name=str(i),
                    role=UserRole.SUPPLIER,
                    email_verified_at=utcnow(),
                ),
                business_name=f"Bench Supplier {i}",
                is_approved=i % 10 != 0,
            )
            for i in range(50)
        ]
        db.session.add_all(roots + leaves + brands + suppliers)
        db.session.flush()
        now = utcnow()
        batch = []
        for n in range(count):
            name = " ".join(rng.sample(WORDS, 3)) + f" {n}"
            batch.append(
                {
                    "supplier_id": rng.choice(suppliers).id,
                    "category_id": rng.choice(leaves).id,
                    "brand_id": rng.choice(brands).id,
                    "name": name,
                    "slug": f"product-{n}",
                    "sku": f"B-{n}",
                    "description": f"{name}. " + " ".join(rng.choices(FILLER, k=25)),
                    "price": Decimal(rng.randrange(500, 300000)),
                    "stock": rng.randrange(0, 50),
                    "images": ["https://cdn.example.com/p.jpg"],
                    "specs": {"ram_gb": rng.choice((2, 4, 8, 16))},
                    "is_active": rng.random() > 0.05,
                    "rating_average": Decimal(rng.randrange(0, 500)) / 100,
                    "sold_count": rng.randrange(0, 1000),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == 5000:
                db.session.execute(insert(Product), batch)
                batch = []
        if batch:
            db.session.execute(insert(Product), batch)
        db.session.execute(
            insert(ProductSlug).from_select(
                ["product_id", "slug"], select(Product.id, Product.slug)
            )
        )
        refresh_documents(db.session, true())
        recount_listed(db.session)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)


def sync_indexes(engine, table) -> None:
    """Recreate the table's indexes that differ from the models (columns, method, partial
    predicate, included columns) and drop those the models no longer declare."""
    from sqlalchemy import inspect, text

    def shape(columns, using, where, include) -> tuple:
        where = "" if where is None else str(where)
        return tuple(columns), using or "btree", where, tuple(include or ())

    existing = {
        index["name"]: shape(
            index["column_names"],
            index["dialect_options"].get("postgresql_using"),
            index["dialect_options"].get("postgresql_where"),
            index["dialect_options"].get("postgresql_include"),
        )
        for index in inspect(engine).get_indexes(table.name)
        if not index.get("duplicates_constraint")
    }
    declared = {}
    for index in table.indexes:
        options = index.dialect_options["postgresql"]
        columns = [column.name for column in index.columns]
        declared[index.name] = (
            index,
            shape(columns, options["using"], options["where"], options["include"]),
        )
    changed = False
    with engine.begin() as connection:
        for name, current in existing.items():
            if name not in declared or declared[name][1] != current:
                connection.execute(text(f'DROP INDEX "{name}"'))
        for name, (index, wanted) in declared.items():
            if existing.get(name) != wanted:
                print(f"creating index {name}...", flush=True)
                index.create(connection)
                changed = True
    if changed:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {table.name}"))


def listed_slugs(url: str, count: int) -> list[str]:
    """Random slugs of listed products (active, approved supplier)."""
    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.slug FROM products p JOIN supplier_profiles s ON s.id = p.supplier_id "
            "WHERE p.is_active AND s.is_approved ORDER BY random() LIMIT %s",
            (count,),
        )
        slugs = [row[0] for row in cursor.fetchall()]
    connection.close()
    return slugs


def latencies(session: requests.Session, urls: list[str]) -> tuple[float, float]:
    timings = []
    for url in urls:
        started = time.perf_counter()
        response = session.get(url, timeout=10)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:200])
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def throughput(url: str, clients: int, per_client: int) -> float:
    def worker():
        with requests.Session() as session:
            for _ in range(per_client):
                assert session.get(url, timeout=30).status_code == 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * per_client / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--reload", action="store_true", help="drop and reload the data")
    parser.add_argument("--requests", type=int, default=300, help="per latency scenario")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    args = parser.parse_args()

    # SIGTERM (timeout, kill) unwinds like Ctrl-C, so the finally below stops gunicorn.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    url = f"{SERVER}/{DATABASE}"
    env = os.environ | {
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "false",
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    ensure_database(url)
    load(args.products, args.reload)

    # Served as in production (development pretty-prints every JSON response).
    server_env = env | {
        "FLASK_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "JWT_SECRET_KEY": secrets.token_hex(32),
    }
    with gunicorn(server_env, workers=args.workers) as port:
        base = f"http://127.0.0.1:{port}/api"
        rng = random.Random(1)
        n = args.requests
        scenarios = {
            "default list": [f"{base}/products?page={rng.randint(1, 5)}" for _ in range(n)],
            "filtered + sorted list": [
                f"{base}/products?category={rng.choice(['phones', 'audio', 'tv-budget'])}"
                f"&min_price={rng.randrange(1000, 50000)}&max_price={rng.randrange(60000, 250000)}"
                f"&in_stock=true&sort_by={rng.choice(['price_asc', 'price_desc', 'rating'])}"
                for _ in range(n)
            ],
            "search": [f"{base}/products?search={rng.choice(SEARCHES)}" for _ in range(n)],
            "product by slug": [f"{base}/products/slug/{slug}" for slug in listed_slugs(url, n)],
        }
        with requests.Session() as session:
            for urls in scenarios.values():  # warm up every worker's connections and caches
                latencies(session, urls[:20])
            results = {name: latencies(session, urls) for name, urls in scenarios.items()}
        with requests.Session() as session:
            total = session.get(f"{base}/products").json()["meta"]["total"]
        health_rps = throughput(f"{base}/health", 16, 150)
        list_rps = throughput(f"{base}/products", 16, 150)

    targets = {
        "default list": 25,
        "filtered + sorted list": 25,
        "search": 40,
        "product by slug": 10,
    }
    print(f"\n{args.products} products ({total} listed), gunicorn {args.workers} workers\n")
    print(f"{'scenario':<24}{'p50 ms':>9}{'p95 ms':>9}{'target p95':>12}")
    for name, (p50, p95) in results.items():
        verdict = "ok" if p95 <= targets[name] else "MISSED"
        print(f"{name:<24}{p50:>9.1f}{p95:>9.1f}{targets[name]:>9} ms {verdict}")
    ratio = list_rps / health_rps
    print(
        f"\nthroughput, 16 clients: /api/health {health_rps:.0f} req/s, "
        f"/api/products {list_rps:.0f} req/s = {ratio:.0%} of health (target >= 35%)"
    )


if __name__ == "__main__":
    main()
