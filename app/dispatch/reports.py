"""What agents and admins see at a glance: dashboards, agents' figures, late orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select

from app.auth.models import User
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.dispatch import agents as agent_ops
from app.dispatch.assignment import (
    OLDEST_PAYMENT_FIRST,
    available_offers,
    waiting_for_dispatch,
)
from app.dispatch.cod import cash_held_by
from app.dispatch.models import (
    AgentZone,
    AssignmentStatus,
    CodCollection,
    CodStatus,
    Confirmation,
    Delivery,
    DeliveryAssignment,
    DeliveryOffer,
    OfferStatus,
    RequestStatus,
    ZoneRequest,
)
from app.dispatch.payouts import net_payable
from app.extensions import db
from app.ledger.models import AccountCode, LedgerAccount, LedgerLine
from app.ledger.operations import agent_balances, sum_to_cents
from app.orders.models import Order, OrderStatus
from app.orders.visibility import LIST_LOADS
from app.pagination import Page, paginate

S = OrderStatus
# An order under way: being prepared or on its way, not delivered yet.
UNDER_WAY = (S.PROCESSING, S.QUALITY_APPROVED, S.SHIPPED, S.OUT_FOR_DELIVERY, S.ARRIVED)
OPEN_STATUSES = (S.PAID, *UNDER_WAY)
LATE_LIST_LIMIT = 50


# Agents -------------------------------------------------------------------------------
def agent_dashboard(agent: User) -> dict[str, Any]:
    by_status = dict(
        db.session.execute(
            select(Order.status, func.count())
            .where(Order.delivery_agent_id == agent.id)
            .group_by(Order.status)
        ).all()
    )
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    delivered_today = db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.delivered_by_id == agent.id, Delivery.delivered_at >= today)
    )
    offers = len(available_offers(agent))
    profile = agent_ops.profile_of(agent)
    earnings = agent_balances(agent.id)
    cash_held = cash_held_by(agent.id)
    return {
        "agent_id": agent.id,
        "is_available": profile.is_available,
        "live_deliveries": sum(by_status.get(status, 0) for status in UNDER_WAY),
        "by_status": {str(status): count for status, count in by_status.items()},
        "delivered_total": by_status.get(S.DELIVERED, 0),
        "delivered_today": delivered_today or 0,
        "open_requests": offers,
        "earnings": earnings,
        "cash_held": cash_held,
        "payable": net_payable(earnings.available, cash_held),
        "zone_ids": agent_ops.zone_ids_of(agent.id),
    }


def agent_rows(params: dict[str, Any]) -> Page:
    """Agents with their zones, live deliveries, deliveries made and cash held: a few
    queries per page, whatever its size."""
    page = paginate(agent_ops.agents_statement().order_by(User.id), params)
    ids = [agent.id for agent in page.items]
    figures = _figures(ids)
    page.items = [{"agent": agent, **figures[agent.id]} for agent in page.items]
    return page


def _figures(agent_ids: list[int]) -> dict[int, dict[str, Any]]:
    figures = {
        agent_id: {
            "zone_ids": [],
            "live_deliveries": 0,
            "delivered_total": 0,
            "cash_held": Decimal("0.00"),
        }
        for agent_id in agent_ids
    }
    if not agent_ids:
        return figures
    for agent_id, zone_id in db.session.execute(
        select(AgentZone.agent_id, AgentZone.zone_id)
        .where(AgentZone.agent_id.in_(agent_ids))
        .order_by(AgentZone.zone_id)
    ):
        figures[agent_id]["zone_ids"].append(zone_id)
    for agent_id, live, delivered in db.session.execute(
        select(
            DeliveryAssignment.agent_id,
            func.sum(case((DeliveryAssignment.status == AssignmentStatus.ACTIVE, 1), else_=0)),
            func.sum(case((DeliveryAssignment.status == AssignmentStatus.DELIVERED, 1), else_=0)),
        )
        .where(DeliveryAssignment.agent_id.in_(agent_ids))
        .group_by(DeliveryAssignment.agent_id)
    ):
        figures[agent_id]["live_deliveries"] = int(live or 0)
        figures[agent_id]["delivered_total"] = int(delivered or 0)
    for agent_id, held in db.session.execute(
        select(LedgerAccount.agent_id, func.sum(LedgerLine.amount))
        .join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.agent_id.in_(agent_ids),
            LedgerAccount.code == AccountCode.AGENT_CASH_HELD,
        )
        .group_by(LedgerAccount.agent_id)
    ):
        figures[agent_id]["cash_held"] = sum_to_cents(held)
    return figures


def agent_stats(agent: User) -> dict[str, Any]:
    figures = _figures([agent.id])[agent.id]
    attempts = db.session.execute(
        select(
            func.coalesce(func.sum(Delivery.failed_attempts), 0),
            func.sum(case((Delivery.confirmation == Confirmation.DISPUTED, 1), else_=0)),
            func.max(Delivery.delivered_at),
        )
        .join(Order, Order.id == Delivery.order_id)
        .where(Order.delivery_agent_id == agent.id)
    ).one()
    return {
        "agent": agent,
        **figures,
        "failed_attempts": int(attempts[0] or 0),
        "open_disputes": int(attempts[1] or 0),
        "last_delivered_at": attempts[2],
    }


# Admins -------------------------------------------------------------------------------
def due_at():
    """When an order should have been delivered: ``estimated_delivery_days`` after its
    payment (a cash order: after it was placed)."""
    start = func.coalesce(Order.paid_at, Order.created_at)
    if db.session.get_bind().dialect.name == "postgresql":
        return start + func.make_interval(0, 0, 0, Order.estimated_delivery_days)
    return func.datetime(
        start, literal("+") + cast(Order.estimated_delivery_days, String) + literal(" days")
    )


def is_late(now: datetime | None = None):
    """Orders still on their way past their due time (``due_at``)."""
    now = now or utcnow()
    moment = (
        now
        if db.session.get_bind().dialect.name == "postgresql"
        else now.strftime("%Y-%m-%d %H:%M:%S")
    )
    return and_(Order.status.in_(OPEN_STATUSES), due_at() < moment)


def late_orders(now: datetime | None = None, limit: int = LATE_LIST_LIMIT) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order)
            .where(is_late(now))
            .options(*LIST_LOADS)
            .order_by(*OLDEST_PAYMENT_FIRST)
            .limit(limit)
        )
    )


def admin_dashboard() -> dict[str, Any]:
    now = utcnow()
    by_status = dict(
        db.session.execute(
            select(Order.status, func.count())
            .where(Order.status.in_((S.SHIPPED, S.OUT_FOR_DELIVERY, S.ARRIVED)))
            .group_by(Order.status)
        ).all()
    )
    confirmations = dict(
        db.session.execute(
            select(Delivery.confirmation, func.count())
            .where(Delivery.confirmation.in_((Confirmation.PENDING, Confirmation.DISPUTED)))
            .group_by(Delivery.confirmation)
        ).all()
    )
    cash = db.session.execute(
        select(func.count(), func.sum(CodCollection.amount)).where(
            CodCollection.status == CodStatus.COLLECTED, CodCollection.agent_id.is_not(None)
        )
    ).one()
    late = late_orders(now)
    return {
        "unassigned": db.session.scalar(
            select(func.count()).select_from(Order).where(waiting_for_dispatch())
        ),
        "live_assignments": db.session.scalar(
            select(func.count())
            .select_from(DeliveryAssignment)
            .where(DeliveryAssignment.status == AssignmentStatus.ACTIVE)
        ),
        "out_for_delivery": by_status.get(S.OUT_FOR_DELIVERY, 0),
        "arrived": by_status.get(S.ARRIVED, 0),
        "pending_confirmations": confirmations.get(Confirmation.PENDING, 0),
        "disputed": confirmations.get(Confirmation.DISPUTED, 0),
        "open_requests": db.session.scalar(
            select(func.count())
            .select_from(DeliveryOffer)
            .where(DeliveryOffer.status == OfferStatus.OPEN, DeliveryOffer.expires_at > now)
        ),
        "pending_zone_requests": db.session.scalar(
            select(func.count())
            .select_from(ZoneRequest)
            .where(ZoneRequest.status == RequestStatus.PENDING)
        ),
        "cash_held_count": cash[0] or 0,
        "cash_held_total": sum_to_cents(cash[1]),
        "late_deliveries": late,
    }


def zones_overview() -> list[dict[str, Any]]:
    """Every zone with its agents and its orders waiting or on their way."""
    zones = list(db.session.scalars(select(DeliveryZone).order_by(DeliveryZone.name)))
    agents: dict[int, list[int]] = {}
    for zone_id, agent_id in db.session.execute(
        select(AgentZone.zone_id, AgentZone.agent_id).order_by(AgentZone.agent_id)
    ):
        agents.setdefault(zone_id, []).append(agent_id)
    open_orders = dict(
        db.session.execute(
            select(Order.delivery_zone_id, func.count())
            .where(Order.status.in_(UNDER_WAY))
            .group_by(Order.delivery_zone_id)
        ).all()
    )
    waiting = dict(
        db.session.execute(
            select(Order.delivery_zone_id, func.count())
            .where(waiting_for_dispatch())
            .group_by(Order.delivery_zone_id)
        ).all()
    )
    return [
        {
            "zone": zone,
            "agent_ids": agents.get(zone.id, []),
            "open_orders": open_orders.get(zone.id, 0),
            "unassigned_orders": waiting.get(zone.id, 0),
        }
        for zone in zones
    ]
