"""Checkout benchmark: concurrent buyers against a real gunicorn server on PostgreSQL.

    .venv/bin/python scripts/bench_checkout.py [--buyers 50] [--rounds 10] [--workers 4]

It creates its own database (``qg_bench_checkout`` on the local server, dropped at the
end unless ``--keep-db``), builds the schema and the data, starts gunicorn on a free
localhost port and runs two scenarios, each with ``--buyers`` threads that check out
``--rounds`` prepared carts one after the other (every cart belongs to its own
customer, so each checkout is a real, independent order):

- hot: every cart holds 1 unit of one of 5 products whose stock runs out mid-run;
- distinct: every cart holds 1-3 units of 1-3 products drawn from 5,000.

For each it reports orders/s (successful orders over the scenario's wall time),
checkout latency p50/p95, answers by status, 5xx count, and the oversell count: units
sold beyond a product's initial stock, plus products whose final stock differs from
initial stock minus units ordered. Everything runs on localhost with bounded loops.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import normalize_database_url  # noqa: E402
from scripts.bench_server import gunicorn  # noqa: E402

HOT_PRODUCTS = 5
DISTINCT_PRODUCTS = 5000


@dataclass
class Buyer:
    token: str
    address_id: int


@dataclass
class Result:
    name: str
    wall_seconds: float
    busy_seconds: float  # CPU time the whole machine spent (server, database, load)
    stolen_seconds: float  # CPU time the hypervisor gave to other machines
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)


def recreate_database(server_url: str, name: str, *, drop_only: bool = False) -> None:
    engine = create_engine(
        normalize_database_url(f"{server_url}/postgres"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "JWT_SECRET_KEY": "bench-jwt-secret-0123456789abcdef0123456789",
        "JWT_ACCESS_TOKEN_EXPIRES": "3600",
        "RATELIMIT_ENABLED": "false",
        "SCHEDULER_ENABLED": "false",
        "PAYMENTS_SIMULATOR": "true",
        "LOG_LEVEL": "WARNING",
    }


def initial_stock(args) -> dict[str, int]:
    """Per product kind: hot products run out after ~60% of the hot checkouts."""
    return {"hot": args.buyers * args.rounds * 6 // 10 // HOT_PRODUCTS, "item": 1000}


def prepare(env: dict[str, str], args) -> dict[str, list]:
    """Schema, products and one customer with an address and a filled cart per checkout."""
    os.environ.update(env)
    from app import create_app
    from app.auth.models import SupplierProfile, User, UserRole
    from app.auth.tokens import start_session
    from app.cart.models import Cart, CartItem
    from app.catalog.models import Category, Product
    from app.db import utcnow
    from app.delivery.models import DeliveryZone
    from app.extensions import db
    from app.orders.models import Address

    rng = random.Random(42)
    app = create_app("production")
    carts_per_scenario = args.buyers * args.rounds
    with app.app_context():
        db.create_all()
        supplier_user = User(
            email="bench-supplier@example.co.ke",
            first_name="Bench",
            last_name="Supplier",
            role=UserRole.SUPPLIER,
            email_verified_at=utcnow(),
        )
        supplier = SupplierProfile(
            user=supplier_user,
            business_name="Bench Electronics",
            is_approved=True,
            approved_at=utcnow(),
        )
        category = Category(name="Phones", slug="phones")
        zone = DeliveryZone(
            name="Nairobi", counties="Nairobi", fee=Decimal("250.00"), estimated_days=1
        )
        db.session.add_all([supplier, category, zone])
        db.session.flush()

        def product(n: int, stock: int, kind: str) -> Product:
            return Product(
                supplier_id=supplier.id,
                category_id=category.id,
                name=f"{kind} {n}",
                slug=f"{kind}-{n}",
                sku=f"{kind.upper()}-{n:05d}",
                price=Decimal("1499.99"),
                stock=stock,
            )

        hot = [product(n, initial_stock(args)["hot"], "hot") for n in range(HOT_PRODUCTS)]
        distinct = [
            product(n, initial_stock(args)["item"], "item") for n in range(DISTINCT_PRODUCTS)
        ]
        db.session.add_all(hot + distinct)
        db.session.flush()

        scenarios: dict[str, list] = {}
        for name, lines_for in (
            ("hot", lambda: [(rng.choice(hot), 1)]),
            (
                "distinct",
                lambda: [(p, rng.randint(1, 3)) for p in rng.sample(distinct, rng.randint(1, 3))],
            ),
        ):
            buyers = []
            for i in range(carts_per_scenario):
                user = User(
                    email=f"{name}-{i}@example.co.ke",
                    first_name="Buyer",
                    last_name=str(i),
                    role=UserRole.CUSTOMER,
                    email_verified_at=utcnow(),
                )
                address = Address(
                    recipient_name="Buyer",
                    phone="254712345678",
                    county="Nairobi",
                    town="Westlands",
                    street=f"Street {i}",
                    delivery_zone_id=zone.id,
                    is_default=True,
                )
                db.session.add(user)
                db.session.flush()
                address.user_id = user.id
                cart = Cart(user_id=user.id)
                cart.items = [
                    CartItem(product_id=p.id, quantity=q, price_when_added=p.price)
                    for p, q in lines_for()
                ]
                db.session.add_all([address, cart])
                db.session.flush()
                _, tokens = start_session(user, user_agent="bench", ip_address="127.0.0.1")
                buyers.append(Buyer(tokens["access_token"], address.id))
            scenarios[name] = buyers
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return scenarios


def worker_connections(buyers: int, workers: int, threads: int) -> str:
    """Each gunicorn worker's share of the buyers' keep-alive connections, capped.

    Without the cap, the buyers' connections, all opened in the same instant, are mostly
    accepted by whichever worker wakes first and stay with it: one process (one core,
    one GIL) then serves the whole run. Above its share a worker stops accepting and
    closes surplus keep-alive connections, so a client reconnects to a less busy one,
    as a load balancer in front of the workers would spread them.
    """
    return f"--worker-connections={-(-buyers // workers) + threads}"


def machine_cpu() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far, from /proc/stat.

    Throughput on a shared virtual machine moves with its neighbours' load; CPU time
    per checkout moves much less, so it is reported too (0 where /proc is missing)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def run_scenario(name: str, port: int, buyers: list[Buyer], threads: int) -> Result:
    """``threads`` buyers, each on its own keep-alive connection (http.client: the load
    generator shares the server's cores, so it must cost as little as possible); requests
    are encoded before the clock starts."""
    queues = [
        [
            (
                json.dumps({"address_id": buyer.address_id, "payment_method": "MPESA"}),
                {"Authorization": f"Bearer {buyer.token}", "Content-Type": "application/json"},
            )
            for buyer in buyers[i::threads]
        ]
        for i in range(threads)
    ]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    answers: list[list[tuple[int, str | None]]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        for body, headers in queues[index]:
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/orders", body=body, headers=headers)
                response = connection.getresponse()
                status, payload = response.status, response.read()
            except (OSError, http.client.HTTPException) as error:  # counted, never hidden
                connection.close()
                status, payload = 0, json.dumps({"error": {"code": type(error).__name__}})
            latencies[index].append(time.perf_counter() - started)
            code = None
            if not 200 <= status < 300:
                code = json.loads(payload).get("error", {}).get("code")
            answers[index].append((status, code))
        connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started, (busy, stolen) = time.perf_counter(), machine_cpu()
    for thread in pool:
        thread.join()
    busy_after, stolen_after = machine_cpu()
    result = Result(name, time.perf_counter() - started, busy_after - busy, stolen_after - stolen)
    for index in range(threads):
        result.latencies.extend(latencies[index])
        for status, code in answers[index]:
            result.statuses[status] += 1
            if code:
                result.codes[code] += 1
    return result


def oversell(database_url: str, initial: dict[str, int]) -> tuple[int, int]:
    """(units sold beyond initial stock, products whose stock does not add up)."""
    from app.catalog.models import Product
    from app.orders.models import Order, OrderItem, OrderStatus

    engine = create_engine(normalize_database_url(database_url))
    with engine.connect() as conn:
        ordered = dict(
            conn.execute(
                select(OrderItem.product_id, func.sum(OrderItem.quantity))
                .join(Order, Order.id == OrderItem.order_id)
                .where(Order.status != OrderStatus.CANCELLED)
                .group_by(OrderItem.product_id)
            ).all()
        )
        rows = conn.execute(select(Product.id, Product.slug, Product.stock))
        beyond = mismatched = 0
        for product_id, slug, stock in rows:
            units = ordered.get(product_id, 0)
            start = initial[slug.split("-")[0]]
            beyond += max(0, units - start)
            mismatched += stock != start - units or stock < 0
    engine.dispose()
    return beyond, mismatched


def report(result: Result) -> None:
    latencies = sorted(result.latencies)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    orders = result.statuses.get(201, 0)
    errors_5xx = sum(n for status, n in result.statuses.items() if status >= 500)
    print(
        f"{result.name:9} checkouts={len(latencies):5} orders={orders:5} "
        f"orders/s={orders / result.wall_seconds:7.1f} "
        f"checkouts/s={len(latencies) / result.wall_seconds:7.1f} "
        f"p50={statistics.median(latencies) * 1000:6.1f}ms p95={p95 * 1000:6.1f}ms "
        f"cpu/checkout={result.busy_seconds / len(latencies) * 1000:5.2f}ms "
        f"stolen={result.stolen_seconds / result.wall_seconds / os.cpu_count():4.0%} "
        f"5xx={errors_5xx} statuses={dict(result.statuses)} codes={dict(result.codes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=50, help="concurrent buyers (threads)")
    parser.add_argument("--rounds", type=int, default=10, help="checkouts per buyer")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="qg_bench_checkout")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.buyers <= 500 or not 1 <= args.rounds <= 100:
        parser.error("--buyers must be 1..500 and --rounds 1..100")

    database_url = f"{args.server}/{args.database}"
    recreate_database(args.server, args.database)
    env = server_env(database_url)
    started = time.perf_counter()
    scenarios = prepare(env, args)
    print(
        f"prepared {sum(map(len, scenarios.values()))} carts in "
        f"{time.perf_counter() - started:.1f}s"
    )

    options = [worker_connections(args.buyers, args.workers, args.threads)]
    with gunicorn(env, workers=args.workers, threads=args.threads, options=options) as port:
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}; "
            f"{args.buyers} buyers x {args.rounds} checkouts each"
        )
        for name, buyers in scenarios.items():
            report(run_scenario(name, port, buyers, args.buyers))
    beyond, mismatched = oversell(database_url, initial_stock(args))
    print(f"oversell: {beyond} units sold beyond stock, {mismatched} products not adding up")
    if not args.keep_db:
        recreate_database(args.server, args.database, drop_only=True)


if __name__ == "__main__":
    main()
