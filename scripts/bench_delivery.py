"""Dispatch at scale: 10,000 orders waiting for 500 agents, in PostgreSQL.

    .venv/bin/python scripts/bench_delivery.py [--orders 10000] [--agents 500] [--zones 10]
        [--database-url postgresql://postgres@127.0.0.1:5432/qg_delivery]

It recreates the tables of the database it is given (drop and create: use a scratch
database), bulk-loads one supplier product, ``--zones`` zones, ``--agents`` available
agents each serving two zones (some already busy with a live delivery), and
``--orders`` quality-approved paid orders spread over the zones; then, in process through
the API with an admin's token, it times ``GET /api/delivery/admin/orders/unassigned``
(first and last page) and ``POST /api/delivery/admin/orders/auto-assign-all``, counting
the SQL statements each runs. The whole run is repeated with a tenth of the agents to
show auto-assign-all's statements do not grow with the number of agents.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SCHEDULER_ENABLED", "false")
os.environ.setdefault("RATELIMIT_ENABLED", "false")


def seed(db, orders: int, agents: int, zones: int) -> int:
    """Bulk rows; returns the admin's user id."""
    from app.auth.models import AdminProfile, DeliveryAgentProfile, SupplierProfile, User, UserRole
    from app.catalog.models import Category, Product
    from app.db import utcnow
    from app.delivery.models import DeliveryZone
    from app.dispatch.models import AgentZone, DeliveryAssignment
    from app.orders.models import Order, OrderItem

    now = utcnow()

    def users(rows):
        return list(db.session.scalars(insert(User).returning(User.id), rows))

    base = {"password_hash": None, "email_verified_at": now, "created_at": now, "updated_at": now}
    admin_id, customer_id, supplier_user = users(
        [
            base
            | {
                "email": "bench-admin@qg.test",
                "first_name": "A",
                "last_name": "B",
                "role": UserRole.ADMIN,
            },
            base
            | {
                "email": "bench-customer@qg.test",
                "first_name": "C",
                "last_name": "D",
                "role": UserRole.CUSTOMER,
            },
            base
            | {
                "email": "bench-supplier@qg.test",
                "first_name": "S",
                "last_name": "E",
                "role": UserRole.SUPPLIER,
            },
        ]
    )
    db.session.execute(insert(AdminProfile), [{"user_id": admin_id}])
    supplier_id = db.session.scalar(
        insert(SupplierProfile)
        .returning(SupplierProfile.id)
        .values(user_id=supplier_user, business_name="Bench Ltd", is_approved=True)
    )
    category_id = db.session.scalar(
        insert(Category)
        .returning(Category.id)
        .values(name="Phones", slug="phones", suggested_specs={})
    )
    product_id = db.session.scalar(
        insert(Product)
        .returning(Product.id)
        .values(
            supplier_id=supplier_id,
            category_id=category_id,
            name="Bench phone",
            slug="bench-phone",
            description="A phone",
            price=Decimal("1000.00"),
            stock=1_000_000,
            condition="NEW",
        )
    )
    zone_ids = list(
        db.session.scalars(
            insert(DeliveryZone).returning(DeliveryZone.id),
            [
                {
                    "name": f"Zone {z}",
                    "counties": f"County {z}",
                    "fee": Decimal("250.00"),
                    "estimated_days": 1,
                }
                for z in range(zones)
            ],
        )
    )
    agent_ids = users(
        [
            base
            | {
                "email": f"agent{a}@qg.test",
                "first_name": "Agent",
                "last_name": str(a),
                "role": UserRole.DELIVERY_AGENT,
            }
            for a in range(agents)
        ]
    )
    db.session.execute(
        insert(DeliveryAgentProfile),
        [
            {"user_id": a, "is_available": True, "mpesa_payout_number": "254722000111"}
            for a in agent_ids
        ],
    )
    db.session.execute(
        insert(AgentZone),
        [
            {"agent_id": a, "zone_id": zone_ids[(i + k) % zones], "created_at": now}
            for i, a in enumerate(agent_ids)
            for k in range(2)
        ],
    )
    order_rows = [
        {
            "order_number": f"QG-BENCH-{n:07d}",
            "customer_id": customer_id,
            "status": "QUALITY_APPROVED",
            "payment_status": "COMPLETED",
            "payment_method": "MPESA",
            "subtotal": Decimal("1000.00"),
            "delivery_fee": Decimal("250.00"),
            "total": Decimal("1250.00"),
            "delivery_zone_id": zone_ids[n % zones],
            "recipient_name": "Bench",
            "recipient_phone": "254712345678",
            "delivery_county": "Nairobi",
            "delivery_town": "Town",
            "delivery_street": "Street",
            "paid_at": now - timedelta(minutes=n),
            "created_at": now,
            "updated_at": now,
        }
        for n in range(orders + agents // 5)
    ]
    order_ids = list(db.session.scalars(insert(Order).returning(Order.id), order_rows))
    db.session.execute(
        insert(OrderItem),
        [
            {
                "order_id": o,
                "product_id": product_id,
                "supplier_id": supplier_id,
                "product_name": "Bench phone",
                "unit_price": Decimal("1000.00"),
                "quantity": 1,
                "line_total": Decimal("1000.00"),
                "commission_rate": Decimal("0.1000"),
                "commission_amount": Decimal("100.00"),
            }
            for o in order_ids
        ],
    )
    # a fifth of the agents already carry one live delivery
    busy = order_ids[orders:]
    db.session.execute(
        insert(DeliveryAssignment),
        [
            {
                "order_id": o,
                "agent_id": agent_ids[i * 5],
                "method": "MANUAL",
                "status": "ACTIVE",
                "assigned_at": now,
            }
            for i, o in enumerate(busy)
        ],
    )
    db.session.commit()
    return admin_id


class Counter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._tick)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._tick)

    def _tick(self, *args, **kwargs):
        self.count += 1


def measure(app, orders: int, agents: int, zones: int) -> dict:
    from app.auth.models import User
    from app.auth.tokens import start_session
    from app.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        admin_id = seed(db, orders, agents, zones)
        seeded = time.perf_counter() - started
        _, tokens = start_session(db.session.get(User, admin_id))
        db.session.commit()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        db.session.remove()
        client = app.test_client()
        figures = {"orders": orders, "agents": agents, "seed_s": round(seeded, 1)}
        for label, query in (
            ("unassigned_first_page", "?per_page=100"),
            ("unassigned_last_page", f"?per_page=100&page={orders // 100}"),
        ):
            with Counter(db.engine) as counter:
                started = time.perf_counter()
                response = client.get(
                    f"/api/delivery/admin/orders/unassigned{query}", headers=headers
                )
                elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.json
            assert response.json["meta"]["total"] == orders, response.json["meta"]
            figures[label] = {"ms": round(elapsed * 1000, 1), "statements": counter.count}
        with Counter(db.engine) as counter:
            started = time.perf_counter()
            response = client.post("/api/delivery/admin/orders/auto-assign-all", headers=headers)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.json
        data = response.json["data"]
        loads = sorted(data["by_agent"].values())
        figures["auto_assign_all"] = {
            "s": round(elapsed, 2),
            "statements": counter.count,
            "assigned": data["assigned"],
            "left_unassigned": data["left_unassigned"],
            "per_agent_min_max": (loads[0], loads[-1]) if loads else None,
        }
        db.session.remove()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--zones", type=int, default=10)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/qg_delivery"
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    from app import create_app

    app = create_app("development")
    for agents in (args.agents, max(args.agents // 10, 2)):
        figures = measure(app, args.orders, agents, args.zones)
        print(figures, flush=True)


if __name__ == "__main__":
    main()
