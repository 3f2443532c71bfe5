"""Dispatch factories: agents serving zones, delivery companies, orders ready to go."""

from decimal import Decimal

import factory

from app.auth.models import DeliveryCompany
from app.db import utcnow
from app.dispatch.models import AgentZone
from app.extensions import db
from app.orders.models import OrderStatus, PaymentMethod, PaymentStatus
from app.signals import order_paid
from tests.factories.auth import DeliveryAgentProfileFactory
from tests.factories.base import Factory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory, OrderFactory


class DeliveryCompanyFactory(Factory):
    class Meta:
        model = DeliveryCompany

    name = factory.Sequence(lambda n: f"Courier {n} Ltd")
    contact_email = factory.Sequence(lambda n: f"ops{n}@courier.co.ke")


def agent_serving(*zones, **profile):
    """A delivery agent's user (available, with a profile) serving ``zones``."""
    agent = DeliveryAgentProfileFactory(**profile).user
    for zone in zones:
        db.session.add(AgentZone(agent_id=agent.id, zone_id=zone.id))
    db.session.commit()
    return agent


def ready_order(zone=None, *, cash: bool = False, status=OrderStatus.QUALITY_APPROVED, **kwargs):
    """An order ready to go in ``zone``: an M-Pesa order paid (its payment posted to the
    ledger), or a cash order not paid yet."""
    zone = zone or DeliveryZoneFactory()
    product = ProductFactory(price=Decimal("1000.00"), commission_rate=Decimal("0.1000"))
    if cash:
        kwargs.update(payment_method=PaymentMethod.CASH, payment_status=PaymentStatus.PENDING)
    else:
        kwargs.update(payment_status=PaymentStatus.COMPLETED, paid_at=utcnow())
    order = OrderFactory(delivery_zone=zone, status=status, items=[(product, 1)], **kwargs)
    if not cash:
        order_paid.send(order, actor_id=None, via="MPESA")
        db.session.commit()
    return order
