"""Demo returns in different states, for the seeded customer (``seed_all.py``).

Each scenario is a delivered, M-Pesa-paid order of one seeded product (its ``notes`` name
the scenario, so running the seed again finds it and adds nothing), then a return taken
through the real operations to its state: waiting on the supplier, acknowledged,
disputed, approved (refund due) and completed (refunded by hand, item back in stock).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.auth import accounts
from app.auth.seed import DOMAIN
from app.catalog.models import Product
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.extensions import db
from app.money import whole_shillings
from app.orders.checkout import new_order_number, order_item_snapshot
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.state import change_payment_status, change_status
from app.payments.models import Payment, PaymentProvider, RefundMethod
from app.payments.refunds import process_refund
from app.returns import operations
from app.returns.models import ItemCondition, ReturnReason, ReturnRequest, SupplierDecision

# (scenario, reason, final state)
SCENARIOS = (
    ("requested", ReturnReason.WRONG_ITEM, "REQUESTED"),
    ("reviewing", ReturnReason.MISSING_PARTS, "SUPPLIER_REVIEW"),
    ("disputed", ReturnReason.NOT_AS_DESCRIBED, "DISPUTED"),
    ("approved", ReturnReason.CHANGED_MIND, "APPROVED"),
    ("completed", ReturnReason.DEFECTIVE, "COMPLETED"),
)
LEGS = (
    OrderStatus.PROCESSING,
    OrderStatus.QUALITY_APPROVED,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.ARRIVED,
    OrderStatus.DELIVERED,
)


def _delivered_order(customer, product: Product, zone: DeliveryZone, note: str) -> Order:
    item = order_item_snapshot(product, 1)
    total = item.line_total + zone.fee
    order = Order(
        order_number=new_order_number(),
        customer_id=customer.id,
        payment_method=PaymentMethod.MPESA,
        subtotal=item.line_total,
        delivery_fee=zone.fee,
        total=total,
        notes=note,
        delivery_zone_id=zone.id,
        recipient_name=f"{customer.first_name} {customer.last_name}",
        recipient_phone=customer.phone or "254712345678",
        delivery_county=zone.counties.split(",")[0].strip(),
        delivery_town="Westlands",
        delivery_street="Waiyaki Way 12",
        items=[item],
    )
    db.session.add(order)
    db.session.flush()
    amount = Decimal(whole_shillings(total))
    db.session.add(
        Payment(
            order_id=order.id,
            method=PaymentMethod.MPESA,
            provider=PaymentProvider.MPESA,
            amount=amount,
            amount_received=amount,
            status=PaymentStatus.COMPLETED,
            reference=f"SEED-{order.order_number}",
            receipt=f"SEED{order.id:06d}",
            payer_phone=order.recipient_phone,
            completed_at=utcnow(),
        )
    )
    change_payment_status(order, PaymentStatus.COMPLETED, via="MPESA")
    change_status(order, OrderStatus.PAID)
    for status in LEGS:
        change_status(order, status, note="Seeded")
    return order


def seed() -> str:
    customer = accounts.find_user(f"customer@{DOMAIN}")
    admin = accounts.find_user(f"admin@{DOMAIN}")
    zone = db.session.scalar(select(DeliveryZone).order_by(DeliveryZone.id).limit(1))
    products = db.session.scalars(
        select(Product).where(Product.is_active).order_by(Product.id).limit(len(SCENARIOS))
    ).all()
    if customer is None or admin is None or zone is None or len(products) < len(SCENARIOS):
        return "skipped (seed accounts and the catalog first)"
    added = 0
    for (scenario, reason, state), product in zip(SCENARIOS, products, strict=True):
        note = f"seed:returns:{scenario}"
        if db.session.scalar(select(Order.id).where(Order.notes == note)) is not None:
            continue
        order = _delivered_order(customer, product, zone, note)
        ret = operations.create_return(
            customer,
            {
                "order_id": order.id,
                "order_item_id": order.items[0].id,
                "quantity": 1,
                "reason": reason,
                "description": f"Demo return ({scenario})",
                "images": ["https://res.cloudinary.com/demo/image/upload/sample.jpg"],
            },
        )
        _take_to(ret, state, product.supplier.user, admin)
        added += 1
    total = db.session.scalar(select(db.func.count(ReturnRequest.id)))
    return f"{added} returns added ({total} in all)"


def _take_to(ret: ReturnRequest, state: str, supplier, admin) -> None:
    if state == "REQUESTED":
        return
    operations.acknowledge(supplier, ret.id)
    if state == "DISPUTED":
        operations.respond(
            supplier, ret.id, {"decision": SupplierDecision.DISPUTE, "reason": "Works here"}
        )
    if state in ("APPROVED", "COMPLETED"):
        operations.review(admin, ret.id, "APPROVE", "Demo approval")
    if state == "COMPLETED":
        process_refund(
            ret.refund_id, actor_id=admin.id, method=RefundMethod.MANUAL, reference="SEEDREFUND"
        )
        operations.update_status(
            admin,
            ret.id,
            {"status": "ITEM_RECEIVED", "item_condition": ItemCondition.RESELLABLE, "note": None},
        )
