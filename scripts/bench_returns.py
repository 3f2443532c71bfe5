"""Returns statistics at volume: stats, analytics and a supplier's list, timed in-process.

    .venv/bin/python scripts/bench_returns.py [--returns 20000] [--lines 100000]
        [--suppliers 50] [--products 2000] [--rounds 10]
        [--database-url postgresql://postgres@127.0.0.1:5432/qg_returns]

It (re)creates the tables of its database, loads ``--lines`` delivered order lines
(one per order) and ``--returns`` returns of them spread over 90 days, statuses and
reasons, then times each read ``--rounds`` times (p50 / max, milliseconds) and prints the
plan of the supplier's stats query, to show it runs on the indexes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNIT = Decimal("1000.00")


def load(args) -> None:
    from sqlalchemy import insert, select

    from app.auth.models import SupplierProfile, User, UserRole
    from app.catalog.models import Brand, Category, Product
    from app.delivery.models import DeliveryZone
    from app.extensions import db
    from app.orders.models import Order, OrderItem, PaymentMethod
    from app.returns.models import ReturnReason, ReturnRequest, ReturnStatus

    db.drop_all()
    db.create_all()
    rng = random.Random(7)
    now = datetime.now(UTC)
    customer = User(
        email="bench@example.co.ke", first_name="B", last_name="M", role=UserRole.CUSTOMER
    )
    zone = DeliveryZone(name="Bench", fee=Decimal("250.00"))
    category, brand = Category(name="Phones", slug="phones"), Brand(name="B", slug="b")
    db.session.add_all([customer, zone, category, brand])
    db.session.flush()
    users = (
        db.session.execute(
            insert(User).returning(User.id),
            [
                {
                    "email": f"s{n}@example.co.ke",
                    "first_name": "S",
                    "last_name": str(n),
                    "role": UserRole.SUPPLIER,
                }
                for n in range(args.suppliers)
            ],
        )
        .scalars()
        .all()
    )
    suppliers = (
        db.session.execute(
            insert(SupplierProfile).returning(SupplierProfile.id),
            [
                {"user_id": u, "business_name": f"Supplier {n}", "is_approved": True}
                for n, u in enumerate(users)
            ],
        )
        .scalars()
        .all()
    )
    products = db.session.execute(
        insert(Product).returning(Product.id, Product.supplier_id),
        [
            {
                "supplier_id": suppliers[n % len(suppliers)],
                "category_id": category.id,
                "brand_id": brand.id,
                "name": f"Product {n}",
                "slug": f"product-{n}",
                "description": "-",
                "price": UNIT,
                "stock": 100,
            }
            for n in range(args.products)
        ],
    ).all()
    orders = (
        db.session.execute(
            insert(Order).returning(Order.id),
            [
                {
                    "order_number": f"QG-B-{n:07d}",
                    "customer_id": customer.id,
                    "status": "DELIVERED",
                    "payment_status": "COMPLETED",
                    "payment_method": PaymentMethod.MPESA,
                    "subtotal": UNIT,
                    "delivery_fee": zone.fee,
                    "total": UNIT + zone.fee,
                    "delivery_zone_id": zone.id,
                    "recipient_name": "B",
                    "recipient_phone": "254712345678",
                    "delivery_county": "Nairobi",
                    "delivery_town": "N",
                    "delivery_street": "S",
                    "delivered_at": now - timedelta(days=rng.uniform(0, 90)),
                }
                for n in range(args.lines)
            ],
        )
        .scalars()
        .all()
    )
    lines = []
    for order_id in orders:
        product_id, supplier_id = rng.choice(products)
        lines.append(
            {
                "order_id": order_id,
                "product_id": product_id,
                "supplier_id": supplier_id,
                "product_name": "P",
                "unit_price": UNIT,
                "quantity": 1,
                "line_total": UNIT,
                "commission_rate": Decimal("0.1"),
                "commission_amount": Decimal("100.00"),
            }
        )
    items = db.session.execute(
        insert(OrderItem).returning(
            OrderItem.id, OrderItem.order_id, OrderItem.product_id, OrderItem.supplier_id
        ),
        lines,
    ).all()
    statuses, reasons = list(ReturnStatus), list(ReturnReason)
    rows = []
    for n, (item_id, order_id, product_id, supplier_id) in enumerate(
        rng.sample(items, args.returns)
    ):
        created = now - timedelta(days=rng.uniform(0, 90))
        status = rng.choice(statuses)
        decided = created + timedelta(hours=rng.uniform(1, 96))
        rows.append(
            {
                "return_number": f"RT-B-{n:07d}",
                "order_id": order_id,
                "order_item_id": item_id,
                "customer_id": customer.id,
                "supplier_id": supplier_id,
                "product_id": product_id,
                "quantity": 1,
                "reason": rng.choice(reasons),
                "type": "RETURN",
                "images": [],
                "status": status,
                "refund_amount": UNIT,
                "supplier_deduction": Decimal("900.00"),
                "commission_refund": Decimal("100.00"),
                "restocking_fee": Decimal("0.00"),
                "platform_cost": Decimal("0.00"),
                "delivery_fee_refund": Decimal("0.00"),
                "supplier_respond_by": created + timedelta(hours=48),
                "created_at": created,
                "updated_at": created,
                "decided_at": decided if status not in ("REQUESTED", "CANCELLED") else None,
                "supplier_responded_at": decided if rng.random() < 0.7 else None,
                "refunded_at": decided + timedelta(hours=5)
                if status in ("REFUND_COMPLETED", "COMPLETED")
                else None,
            }
        )
    db.session.execute(insert(ReturnRequest), rows)
    db.session.commit()
    assert db.session.scalar(select(db.func.count(ReturnRequest.id))) == args.returns


def timed(function, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--suppliers", type=int, default=50)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/qg_returns")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url

    from sqlalchemy import text

    from app import create_app
    from app.auth.models import User
    from app.extensions import db
    from app.returns import operations, stats
    from app.returns.models import ReturnRequest

    app = create_app("development")
    with app.app_context():
        started = time.perf_counter()
        load(args)
        print(
            f"loaded {args.lines} delivered lines, {args.returns} returns "
            f"in {time.perf_counter() - started:.1f}s"
        )
        db.session.execute(text("ANALYZE"))
        now = datetime.now(UTC)
        month = {"from": now - timedelta(days=30), "to": now}
        supplier_id = db.session.scalar(db.select(ReturnRequest.supplier_id).limit(1))
        admin = User(role="ADMIN")
        page = {"page": 1, "per_page": 20} | month
        checks = {
            "stats, all returns, 30 days": lambda: stats.return_stats(month),
            "stats, one supplier, 30 days": lambda: stats.return_stats(month, supplier_id),
            "analytics, all, 30 days": lambda: stats.return_analytics(month),
            "analytics, all, no range": lambda: stats.return_analytics({}),
            "admin list, page 1, 30 days": lambda: db.session.scalars(
                operations.list_statement(admin, page).limit(20)
            ).all(),
        }
        for name, check in checks.items():
            p50, worst = timed(check, args.rounds)
            print(f"{name:32s} p50 {p50:8.1f} ms   max {worst:8.1f} ms")
        plan = (
            db.session.execute(
                text(
                    "EXPLAIN SELECT status, count(id) FROM returns WHERE supplier_id = :s "
                    "AND created_at >= :f AND created_at <= :t GROUP BY status"
                ),
                {"s": supplier_id, "f": month["from"], "t": month["to"]},
            )
            .scalars()
            .all()
        )
        print("plan of a supplier's stats query:\n  " + "\n  ".join(plan))


if __name__ == "__main__":
    main()
