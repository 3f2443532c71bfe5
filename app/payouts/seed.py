"""Demo money for development: supplier1 sold two items (paid by M-Pesa, delivered a
week ago, earnings released) and was paid out once, through the M-Pesa simulator.

Idempotent: nothing is done once supplier1 has a completed payout. Runs only with the
simulator (it answers at once here: its callbacks go through the app's own WSGI stack).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.cart.operations import add_item, lock_cart
from app.catalog.models import Product
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.delivery.operations import save_zone
from app.extensions import db
from app.ledger.jobs import release_earnings
from app.orders.checkout import place_order
from app.orders.models import Address, OrderStatus, PaymentMethod
from app.orders.operations import create_address, set_status
from app.payments.attempts import start_mpesa_payment
from app.payouts import operations as ops
from app.payouts.models import Payout, PayoutStatus
from app.services import mpesa_gateway
from app.supplier.terms import current_terms_version

DELIVERY = ("PROCESSING", "QUALITY_APPROVED", "SHIPPED", "OUT_FOR_DELIVERY", "ARRIVED")


def _user(mailbox: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == f"{mailbox}@quantumgear.co.ke"))


def seed() -> str:
    gateway = mpesa_gateway()
    supplier_user, customer, admin = _user("supplier1"), _user("customer"), _user("admin")
    if not gateway.simulated or None in (supplier_user, customer, admin):
        return "skipped (needs the M-Pesa simulator and the demo accounts)"
    supplier = supplier_user.supplier_profile
    done = select(Payout.id).where(
        Payout.supplier_id == supplier.id, Payout.status == PayoutStatus.COMPLETED
    )
    if db.session.scalar(done.limit(1)) is not None:
        return "supplier1 already has a completed payout"
    products = db.session.scalars(
        select(Product)
        .where(Product.supplier_id == supplier.id, Product.is_active, Product.stock > 1)
        .order_by(Product.id)
        .limit(2)
    ).all()
    if not products:
        return "skipped (supplier1 has no products in stock)"
    supplier.terms_version = current_terms_version()
    supplier.terms_accepted_at = supplier.terms_accepted_at or utcnow()
    delay, gateway.delay_seconds = gateway.delay_seconds, 0  # results delivered at once
    try:
        for product in products:
            _delivered_order(customer, admin, product)
        release_earnings()
        payout = ops.pay_supplier(supplier.id, None, actor_id=admin.id)
        payout = ops.dispatch(payout)
    finally:
        gateway.delay_seconds = delay
    db.session.refresh(payout)
    return f"supplier1: 2 delivered orders, payout #{payout.id} KES {payout.amount} {payout.status}"


def _delivered_order(customer: User, admin: User, product: Product) -> None:
    """One M-Pesa order of ``product``, paid through the simulator and delivered by an
    admin as if a week ago (so its hold is over)."""
    zone = db.session.scalar(select(DeliveryZone).where(DeliveryZone.is_active).limit(1))
    if zone is None:
        zone = save_zone(
            None, {"name": "Nairobi CBD", "counties": "Nairobi", "fee": 200, "estimated_days": 1}
        )
    address = db.session.scalar(
        select(Address).where(Address.user_id == customer.id, Address.delivery_zone_id == zone.id)
    ) or create_address(
        customer,
        {
            "label": "Home",
            "recipient_name": f"{customer.first_name} {customer.last_name}",
            "phone": customer.phone or "254712345678",
            "county": zone.counties.split(",")[0].strip(),
            "town": "Westlands",
            "street": "Waiyaki Way 12",
            "delivery_zone_id": zone.id,
        },
    )
    add_item(lock_cart(customer.id), product.id, 1)
    order = place_order(customer, address=address, zone=zone, payment_method=PaymentMethod.MPESA)
    db.session.commit()
    start_mpesa_payment(order, customer.phone or "254712345678")
    db.session.commit()  # the simulator's callback pays it now
    db.session.refresh(order)
    for status in DELIVERY:
        set_status(order, OrderStatus(status), actor=admin, note="seed")
    hold = current_app.config["EARNINGS_HOLD_DAYS"]
    order.delivered_at = utcnow() - timedelta(days=hold + 1)
    set_status(order, OrderStatus.DELIVERED, actor=admin, note="seed")
    db.session.commit()
