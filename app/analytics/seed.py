"""Demo activity for the dashboard: three months of orders, their ledger and rollups.

Orders ``QG-DEMO-*`` of the demo customer, placed over the last 90 Nairobi days, most
delivered, some cancelled or still on their way, with their status history; the ledger
entries the ledger's receivers post for them (by calling those rules with the orders'
own timestamps); then ``rebuild`` sums the rollups. Safe to run again: nothing is added
once the demo orders exist.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.analytics.rebuild import rebuild
from app.auth.models import User, UserRole
from app.calendar import NAIROBI, today
from app.catalog.models import Product
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.extensions import db
from app.ledger.receivers import post_order_delivered, post_order_paid
from app.orders.checkout import order_item_snapshot
from app.orders.models import Order, OrderStatus, OrderStatusHistory, PaymentMethod, PaymentStatus

DAYS = 90
PREFIX = "QG-DEMO-"


def _history(order: Order, to_status: OrderStatus, at, from_status=None) -> None:
    db.session.add(
        OrderStatusHistory(
            order=order,
            field="status",
            from_status=from_status,
            to_status=to_status,
            note="Demo",
            created_at=at,
        )
    )


def seed() -> str:
    if db.session.scalar(select(Order.id).where(Order.order_number.like(f"{PREFIX}%")).limit(1)):
        return "demo orders already present"
    customer = db.session.scalar(select(User).where(User.role == UserRole.CUSTOMER).limit(1))
    products = list(db.session.scalars(select(Product).where(Product.is_active).limit(40)))
    zone = db.session.scalar(select(DeliveryZone).where(DeliveryZone.is_active).limit(1))
    if customer is None or not products or zone is None:
        return "skipped: seed accounts and the catalogue first"
    rng = random.Random(19)
    last = today()
    first = last - timedelta(days=DAYS - 1)
    placed = 0
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        for _ in range(rng.randint(0, 4)):
            placed += 1
            _demo_order(rng, placed, day, last, customer, products, zone)
    rebuild(first, last)
    return f"{placed} demo orders over {DAYS} days, rollups rebuilt"


def _demo_order(rng, number, day, last, customer, products, zone) -> None:
    """One order placed on ``day``; nothing about it happens after now (today's orders
    are placed before now, deliveries not yet due are still on their way)."""
    now = utcnow()
    created = datetime.combine(day, time(8 + rng.randint(0, 11), rng.randint(0, 59)), NAIROBI)
    created = min(created, now - timedelta(minutes=rng.randint(5, 90)))
    method = rng.choice(
        [PaymentMethod.MPESA, PaymentMethod.MPESA, PaymentMethod.CARD, PaymentMethod.CASH]
    )
    items = [
        order_item_snapshot(p, rng.randint(1, 2)) for p in rng.sample(products, rng.randint(1, 3))
    ]
    subtotal = sum(item.line_total for item in items)
    order = Order(
        order_number=f"{PREFIX}{number:05d}",
        customer_id=customer.id,
        status=OrderStatus.PENDING,
        payment_status=PaymentStatus.PENDING,
        payment_method=method,
        subtotal=subtotal,
        delivery_fee=zone.fee,
        total=subtotal + zone.fee,
        delivery_zone_id=zone.id,
        recipient_name=f"{customer.first_name} {customer.last_name}",
        recipient_phone=customer.phone or "254712345678",
        delivery_county=rng.choice(["Nairobi", "Nairobi", "Kiambu", "Mombasa", "Nakuru", "Kisumu"]),
        delivery_town="Town",
        delivery_street="Demo Street 1",
        estimated_delivery_days=zone.estimated_days,
        items=items,
        created_at=created,
    )
    db.session.add(order)
    _history(order, OrderStatus.PENDING, created)
    recent = (last - day).days < 3
    fate = rng.random()
    if fate < 0.1:
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = min(created + timedelta(hours=2), now)
        order.cancellation_reason = "Changed my mind"
        _history(order, OrderStatus.CANCELLED, order.cancelled_at, OrderStatus.PENDING)
        db.session.flush()
        return
    if method != PaymentMethod.CASH:
        order.paid_at = min(created + timedelta(minutes=3), now)
        order.status, order.payment_status = OrderStatus.PAID, PaymentStatus.COMPLETED
        _history(order, OrderStatus.PAID, order.paid_at, OrderStatus.PENDING)
    delivered_at = created + timedelta(days=zone.estimated_days or 1)
    if (recent and fate < 0.6) or delivered_at > now:
        if method == PaymentMethod.CASH:
            order.status = OrderStatus.PROCESSING
            _history(order, OrderStatus.PROCESSING, min(created + timedelta(hours=1), now))
        db.session.flush()
        if order.paid_at:
            post_order_paid(order)
        return
    order.delivered_at = delivered_at
    if method == PaymentMethod.CASH:
        order.paid_at, order.payment_status = order.delivered_at, PaymentStatus.COMPLETED
    order.status = OrderStatus.DELIVERED
    _history(order, OrderStatus.DELIVERED, order.delivered_at)
    db.session.flush()
    if method != PaymentMethod.CASH:
        post_order_paid(order)
    post_order_delivered(order)
    if method == PaymentMethod.CASH:
        post_order_paid(order)
