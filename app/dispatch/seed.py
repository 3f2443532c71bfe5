"""Sample delivery data: a company, agents serving zones, orders at every delivery stage.

Idempotent: the company and agents are matched by name and email, the orders by their
order numbers (``QG-SEED-DLV-..``, made once, moved through the real operations so their
history, codes and ledger entries are what production would hold). Runs after the
accounts and catalog seeders (it uses their demo admin, customer, products and zones).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.auth import accounts
from app.auth.models import DeliveryCompany, User, UserRole
from app.catalog.models import Product
from app.delivery.models import DeliveryZone
from app.dispatch import agents as agent_ops
from app.dispatch import assignment, cod, proof
from app.extensions import db
from app.orders.checkout import order_item_snapshot
from app.orders.models import Address, Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.operations import create_address, set_payment_status
from app.orders.state import change_status

DOMAIN = "quantumgear.co.ke"
PASSWORD = "QuantumGear2024"
COMPANY = "Sendy Couriers Ltd"
# mailbox, first name, last name, phone, with the company
AGENTS = (
    ("delivery", "David", "Kiprop", "254722000111", False),
    ("rider2", "Esther", "Njeri", "254722000112", False),
    ("courier", "Kevin", "Omondi", "254722000113", True),
)
S = OrderStatus
# number, payment, where it gets to
STAGES = (
    (1, PaymentMethod.MPESA, "WAITING"),
    (2, PaymentMethod.CASH, "WAITING"),
    (3, PaymentMethod.MPESA, "OFFERED"),
    (4, PaymentMethod.MPESA, "ASSIGNED"),
    (5, PaymentMethod.MPESA, "OUT_FOR_DELIVERY"),
    (6, PaymentMethod.CASH, "ARRIVED"),
    (7, PaymentMethod.MPESA, "DELIVERED"),
    (8, PaymentMethod.MPESA, "CONFIRMED"),
    (9, PaymentMethod.MPESA, "DISPUTED"),
    (10, PaymentMethod.CASH, "CASH_COLLECTED"),
    (11, PaymentMethod.CASH, "CASH_VERIFIED"),
    (12, PaymentMethod.MPESA, "COMPANY"),
)


def _user(mailbox: str) -> User | None:
    return accounts.find_user(f"{mailbox}@{DOMAIN}")


def seed() -> str:
    admin, customer = _user("admin"), _user("customer")
    zones = list(
        db.session.scalars(
            select(DeliveryZone).where(DeliveryZone.is_active.is_(True)).order_by(DeliveryZone.id)
        )
    )
    if admin is None or customer is None or not zones:
        return "skipped (seed accounts and catalog first)"
    company = db.session.scalar(select(DeliveryCompany).where(DeliveryCompany.name == COMPANY))
    if company is None:
        company = agent_ops.save_company(
            None,
            {"name": COMPANY, "contact_email": f"ops@{DOMAIN}", "fee_share_rate": Decimal("0.65")},
        )
    agents = [_agent(*row, company=company) for row in AGENTS]
    for agent in agents:
        agent_ops.set_zones(agent, [zone.id for zone in zones])
    zone = next((z for z in zones if z.counties), zones[0])
    made = sum(
        _order(number, method, stage, customer, admin, agents, company, zone)
        for number, method, stage in STAGES
    )
    db.session.flush()
    return (
        f"1 delivery company, {len(agents)} agents in {len(zones)} zones, "
        f"{made} new orders of {len(STAGES)}"
    )


def _agent(mailbox, first_name, last_name, phone, in_company, *, company) -> User:
    user = _user(mailbox)
    if user is None:
        user = accounts.create_user(
            email=f"{mailbox}@{DOMAIN}",
            password=PASSWORD,
            first_name=first_name,
            last_name=last_name,
            role=UserRole.DELIVERY_AGENT,
            phone=phone,
            verified=True,
        )
    profile = agent_ops.profile_of(user)
    profile.mpesa_payout_number = profile.mpesa_payout_number or phone
    profile.vehicle_type = profile.vehicle_type or "Motorbike"
    profile.is_available = True
    profile.delivery_company_id = company.id if in_company else None
    db.session.flush()
    return user


def _order(number, method, stage, customer, admin, agents, company, zone) -> bool:
    order_number = f"QG-SEED-DLV-{number:02d}"
    if db.session.scalar(select(Order.id).where(Order.order_number == order_number)):
        return False
    address = customer_address(customer, zone)
    product = db.session.scalar(
        select(Product).where(Product.is_active.is_(True)).order_by(Product.id).limit(1)
    )
    if product is None:
        return False
    zone = address.delivery_zone
    item = order_item_snapshot(product, 1)
    order = Order(
        order_number=order_number,
        customer_id=customer.id,
        payment_method=method,
        payment_status=PaymentStatus.PENDING,
        status=S.PENDING,
        subtotal=item.line_total,
        delivery_fee=zone.fee,
        total=item.line_total + zone.fee,
        address_id=address.id,
        delivery_zone_id=zone.id,
        recipient_name=address.recipient_name,
        recipient_phone=address.phone,
        delivery_county=address.county,
        delivery_town=address.town,
        delivery_street=address.street,
        delivery_landmark=address.landmark,
        estimated_delivery_days=zone.estimated_days,
        items=[item],
    )
    db.session.add(order)
    db.session.flush()
    if method != PaymentMethod.CASH:
        set_payment_status(order, PaymentStatus.COMPLETED, actor_id=admin.id, note="Seed payment")
    change_status(order, S.PROCESSING, actor_id=admin.id)
    change_status(order, S.QUALITY_APPROVED, actor_id=admin.id)
    if stage == "WAITING":
        return True
    if stage == "OFFERED":
        assignment.offer_to_agents(order.id, actor=admin)
        return True
    if stage == "COMPANY":
        assignment.assign_company(order.id, company.id, f"SND-{number:05d}", actor=admin)
        return True
    agent = agents[number % 2]
    assignment.assign(order.id, agent.id, actor=admin)
    if stage == "ASSIGNED":
        return True
    proof.agent_move(agent, order.id, "OUT_FOR_DELIVERY", None)
    if stage == "OUT_FOR_DELIVERY":
        return True
    proof.agent_move(agent, order.id, "ARRIVED", None)
    if stage == "ARRIVED":
        return True
    code = proof.code_to_show(order)
    proof.confirm_delivery(
        agent, order.id, {"code": code, "recipient_name": address.recipient_name}
    )
    if stage in ("CASH_COLLECTED", "CASH_VERIFIED"):
        cod.collect(agent, order.id, order.total)
    if stage == "CASH_VERIFIED":
        cod.verify(order.id, f"DEP-{number:04d}", actor=admin)
    if stage in ("CONFIRMED", "CASH_VERIFIED"):
        proof.confirm_receipt(customer, order.id)
    if stage == "DISPUTED":
        proof.dispute(customer, order.id, "The box was empty")
    return True


def customer_address(customer: User, zone: DeliveryZone) -> Address:
    """The demo customer's default address, saved once in ``zone``."""
    address = db.session.scalar(
        select(Address)
        .where(Address.user_id == customer.id)
        .order_by(Address.is_default.desc(), Address.id)
        .limit(1)
    )
    if address is not None:
        return address
    return create_address(
        customer,
        {
            "label": "Home",
            "recipient_name": customer.full_name,
            "phone": customer.phone or "254712345678",
            "county": (zone.counties or "Nairobi").split(",")[0].strip(),
            "town": "Westlands",
            "street": "Waiyaki Way 12",
            "landmark": "Opposite the Sarit Centre",
            "delivery_zone_id": zone.id,
            "is_default": True,
        },
    )
