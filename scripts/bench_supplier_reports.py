"""Supplier portal reports: one supplier with 50,000 delivered order lines over a year
(and another supplier's lines among them), on PostgreSQL; the mean time of the
dashboard, analytics and order-line endpoints through the app.

    .venv/bin/python scripts/bench_supplier_reports.py [--lines 50000]
        [--database-url postgresql://postgres@127.0.0.1:5432/qg_bench_portal]

It (re)creates its own database (never the one in DATABASE_URL), loads the rows in bulk
and calls each endpoint five times after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_server import recreate_database  # noqa: E402

PATHS = (
    "/api/supplier/dashboard",
    "/api/supplier/dashboard?from={year_ago}",
    "/api/supplier/analytics?from={year_ago}&interval=week",
    "/api/supplier/analytics?from={year_ago}&interval=day",
    "/api/supplier/orders?status=DELIVERED&page=50",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/qg_bench_portal"
    )
    args = parser.parse_args()
    recreate_database(args.database_url)
    os.environ["TEST_DATABASE_URL"] = args.database_url

    from app import create_app
    from app.auth.tokens import start_session
    from app.db import utcnow
    from app.extensions import db
    from app.orders.models import Order, OrderItem
    from app.supplier.reports import nairobi_today
    from tests.factories.auth import SupplierProfileFactory
    from tests.factories.catalog import CategoryFactory, ProductFactory
    from tests.factories.orders import DeliveryZoneFactory

    app = create_app("testing")
    with app.app_context():
        db.create_all()
        supplier = SupplierProfileFactory()
        categories = [CategoryFactory() for _ in range(5)]
        products = [
            ProductFactory(supplier=supplier, category=categories[i % 5]) for i in range(40)
        ]
        other = ProductFactory()
        zone = DeliveryZoneFactory()
        now, price, commission = utcnow(), Decimal("1000.00"), Decimal("100.00")
        orders = []
        for i in range(args.lines):
            at = now - timedelta(minutes=random.randint(0, 525_600))
            orders.append(
                {
                    "order_number": f"B-{i}",
                    "customer_id": supplier.user_id,
                    "status": "DELIVERED",
                    "payment_status": "COMPLETED",
                    "payment_method": "MPESA",
                    "subtotal": price,
                    "delivery_fee": Decimal("0.00"),
                    "total": price,
                    "delivery_zone_id": zone.id,
                    "recipient_name": "Bench",
                    "recipient_phone": "254712345678",
                    "delivery_county": "Nairobi",
                    "delivery_town": "Westlands",
                    "delivery_street": "Bench Road",
                    "created_at": at,
                    "updated_at": at,
                    "delivered_at": at,
                }
            )
        ids = db.session.execute(insert(Order).returning(Order.id), orders).scalars().all()
        db.session.execute(
            insert(OrderItem),
            [
                {
                    "order_id": order_id,
                    "product_id": product.id,
                    "supplier_id": product.supplier_id,
                    "product_name": product.name,
                    "unit_price": price,
                    "quantity": 1,
                    "line_total": price,
                    "commission_rate": Decimal("0.1000"),
                    "commission_amount": commission,
                }
                for i, order_id in enumerate(ids)
                for product in [products[i % 40] if i % 10 else other]
            ],
        )
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        _, tokens = start_session(supplier.user, user_agent="bench", ip_address="127.0.0.1")
        db.session.commit()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        client = app.test_client()
        year_ago = (nairobi_today() - timedelta(days=364)).isoformat()
        print(f"{args.lines} order lines, {args.lines - args.lines // 10} of the supplier")
        for template in PATHS:
            path = template.format(year_ago=year_ago)
            assert client.get(path, headers=headers).status_code == 200
            start = time.perf_counter()
            for _ in range(5):
                assert client.get(path, headers=headers).status_code == 200
            print(f"{(time.perf_counter() - start) / 5 * 1000:6.0f} ms  GET {path}")
        db.session.remove()


if __name__ == "__main__":
    main()
