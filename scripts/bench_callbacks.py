"""Callback storm: 1,000 M-Pesa STK callbacks (10 % duplicates) against a local gunicorn.

    .venv/bin/python scripts/bench_callbacks.py [--callbacks 1000] [--duplicates 0.1]
        [--concurrency 32] [--workers 4] [--threads 4]
        [--database-url postgresql://postgres@127.0.0.1:5432/qg_bench_callbacks]

It (re)creates its own PostgreSQL database, seeds one pending order and STK attempt per
unique callback, starts ``gunicorn run:app`` on it (scheduler and rate limits off, a
callback token on), fires the callbacks from concurrent senders in random order (every
duplicate is the very same body Safaricom would resend), then reports callbacks/s and
checks in the database that every attempt was settled exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import normalize_database_url  # noqa: E402
from scripts.bench_server import gunicorn, recreate_database  # noqa: E402

TOKEN = "bench-callback-token"


def seed(url: str, count: int) -> list[dict]:
    """Tables from the models, one customer, ``count`` pending orders with an attempt each."""
    os.environ["DATABASE_URL"] = url
    from app import create_app
    from app.auth.models import User, UserRole
    from app.delivery.models import DeliveryZone
    from app.extensions import db
    from app.orders.models import Order, PaymentMethod
    from app.payments.models import Payment, PaymentProvider

    app = create_app("development")
    with app.app_context():
        db.create_all()
        user = User(
            email="bench@example.co.ke",
            first_name="Bench",
            last_name="Mark",
            role=UserRole.CUSTOMER,
        )
        zone = DeliveryZone(name="Bench zone", fee=Decimal("250.00"))
        db.session.add_all([user, zone])
        db.session.flush()
        total = Decimal("1499.50")
        db.session.execute(
            insert(Order),
            [
                {
                    "order_number": f"QG-BENCH-{n:06d}",
                    "customer_id": user.id,
                    "payment_method": PaymentMethod.MPESA,
                    "subtotal": total - zone.fee,
                    "delivery_fee": zone.fee,
                    "total": total,
                    "delivery_zone_id": zone.id,
                    "recipient_name": "Bench",
                    "recipient_phone": "254712345678",
                    "delivery_county": "Nairobi",
                    "delivery_town": "Nairobi",
                    "delivery_street": "Bench street",
                }
                for n in range(count)
            ],
        )
        order_ids = db.session.scalars(select(Order.id).order_by(Order.id)).all()
        rows = [
            {
                "order_id": order_id,
                "method": PaymentMethod.MPESA,
                "provider": PaymentProvider.MPESA,
                "amount": Decimal("1500.00"),
                "reference": f"MP-BENCH-{n}",
                "checkout_request_id": f"ws_CO_BENCH{n:08d}",
                "merchant_request_id": f"29115-{n:08d}-1",
                "payer_phone": "254712345678",
            }
            for n, order_id in enumerate(order_ids)
        ]
        db.session.execute(insert(Payment), rows)
        db.session.commit()
    return rows


def callback_body(row: dict, n: int) -> bytes:
    """A success callback as Safaricom writes it (Amount written ``1500.00``)."""
    body = {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": row["merchant_request_id"],
                "CheckoutRequestID": row["checkout_request_id"],
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": "__AMOUNT__"},
                        {"Name": "MpesaReceiptNumber", "Value": f"BN{n:08d}"},
                        {"Name": "Balance"},
                        {"Name": "TransactionDate", "Value": 20261123140311},
                        {"Name": "PhoneNumber", "Value": 254712345678},
                    ]
                },
            }
        }
    }
    return json.dumps(body).replace('"__AMOUNT__"', "1500.00").encode()


def server_env(url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_ENV": "development",
        "SCHEDULER_ENABLED": "false",
        "RATELIMIT_ENABLED": "false",
        "MPESA_CALLBACK_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }


def fire(port: int, bodies: list[bytes], concurrency: int) -> tuple[float, list[int]]:
    url = f"http://127.0.0.1:{port}/api/payments/mpesa/callback?token={TOKEN}"
    local = threading.local()

    def send(body: bytes) -> int:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        response = session.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=60
        )
        ok = response.status_code == 200 and response.json() == {
            "ResultCode": 0,
            "ResultDesc": "Accepted",
        }
        return 200 if ok else response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(send, bodies))
    return time.perf_counter() - started, statuses


def verify(url: str, unique: int, total: int) -> dict[str, int]:
    from app.orders.models import Order, OrderStatusHistory
    from app.payments.models import Payment, ProviderEvent

    engine = create_engine(normalize_database_url(url))
    with engine.connect() as connection:
        paid_per_order = (
            select(OrderStatusHistory.order_id, func.count().label("n"))
            .where(OrderStatusHistory.field == "status", OrderStatusHistory.to_status == "PAID")
            .group_by(OrderStatusHistory.order_id)
            .subquery()
        )
        facts = {
            "events_stored": connection.scalar(select(func.count(ProviderEvent.id))),
            "payments_completed": connection.scalar(
                select(func.count()).where(Payment.status == "COMPLETED")
            ),
            "orders_paid": connection.scalar(select(func.count()).where(Order.status == "PAID")),
            "orders_paid_more_than_once": connection.scalar(
                select(func.count()).select_from(paid_per_order).where(paid_per_order.c.n > 1)
            ),
            "outcome_completed": connection.scalar(
                select(func.count()).where(ProviderEvent.outcome == "COMPLETED")
            ),
            "outcome_duplicate": connection.scalar(
                select(func.count()).where(ProviderEvent.outcome == "DUPLICATE")
            ),
            "outcome_other": connection.scalar(
                select(func.count()).where(ProviderEvent.outcome.not_in(["COMPLETED", "DUPLICATE"]))
            ),
        }
    engine.dispose()
    expected = {
        "events_stored": total,
        "payments_completed": unique,
        "orders_paid": unique,
        "orders_paid_more_than_once": 0,
        "outcome_completed": unique,
        "outcome_duplicate": total - unique,
        "outcome_other": 0,
    }
    return {key: (facts[key], expected[key]) for key in facts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/qg_bench_callbacks"
    )
    args = parser.parse_args()

    duplicates = round(args.callbacks * args.duplicates)
    unique = args.callbacks - duplicates
    recreate_database(args.database_url)
    rows = seed(args.database_url, unique)
    bodies = [callback_body(row, n) for n, row in enumerate(rows)]
    rng = random.Random(7)
    bodies += [rng.choice(bodies) for _ in range(duplicates)]
    rng.shuffle(bodies)

    env = server_env(args.database_url, args.port)
    with gunicorn(env, workers=args.workers, threads=args.threads, port=args.port) as port:
        elapsed, statuses = fire(port, bodies, args.concurrency)

    checks = verify(args.database_url, unique, args.callbacks)
    failures = [s for s in statuses if s != 200]
    print(
        json.dumps(
            {
                "callbacks": args.callbacks,
                "unique": unique,
                "duplicates": duplicates,
                "concurrency": args.concurrency,
                "gunicorn": f"{args.workers} workers x {args.threads} threads",
                "seconds": round(elapsed, 2),
                "callbacks_per_second": round(args.callbacks / elapsed, 1),
                "non_accepted_responses": len(failures),
                "checks": {k: {"found": f, "expected": e} for k, (f, e) in checks.items()},
            },
            indent=2,
        )
    )
    ok = not failures and all(found == expected for found, expected in checks.values())
    print("OK: zero double settlements" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
