"""Who delivers which order: assignment by hand, automatic, offered to agents, forced,
or to a delivery company.

One live (ACTIVE) assignment per order: every path takes the order's row lock first
(``lock_order``), so of two admins assigning at once one wins and the other gets 409
``ALREADY_ASSIGNED``; a unique partial index backs it. Offers are locked after their
order, in the same order on every path (no deadlock between an agent accepting and an
admin assigning). Functions flush and never commit.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    Select,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from app.auth.models import DeliveryAgentProfile, User, UserRole
from app.db import lock_row, utcnow
from app.dispatch.agents import find_agent, find_company
from app.dispatch.models import (
    AgentZone,
    AssignmentMethod,
    AssignmentStatus,
    DeliveryAssignment,
    DeliveryOffer,
    OfferRecipient,
    OfferStatus,
)
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.money import CENTS
from app.notifications.operations import notify_many
from app.orders.models import Order, OrderStatus, OrderStatusHistory, PaymentMethod
from app.orders.state import lock_order, record_history
from app.orders.visibility import LIST_LOADS
from app.pagination import Page, paginate
from app.settings import setting

S = OrderStatus
READY = frozenset({S.QUALITY_APPROVED, S.SHIPPED})
ON_THE_ROAD = frozenset({S.OUT_FOR_DELIVERY, S.ARRIVED})
# Orders auto-assign-all takes per round of statements (a few statements per batch).
AUTO_ASSIGN_BATCH = 2000
# Oldest payment first (orders not paid yet, such as cash ones, last), then by id.
OLDEST_PAYMENT_FIRST = (Order.paid_at.is_(None), Order.paid_at, Order.id)


def ready_to_go():
    """Orders ready to go: quality approved or shipped; cash orders from PROCESSING."""
    return or_(
        Order.status.in_(READY),
        and_(Order.payment_method == PaymentMethod.CASH, Order.status == S.PROCESSING),
    )


def is_ready(order: Order) -> bool:
    return order.status in READY or (
        order.payment_method == PaymentMethod.CASH and order.status == S.PROCESSING
    )


def waiting_for_dispatch():
    """Orders waiting for dispatch: ready to go, with no live assignment."""
    live = exists().where(
        DeliveryAssignment.order_id == Order.id,
        DeliveryAssignment.status == AssignmentStatus.ACTIVE,
    )
    return and_(ready_to_go(), ~live)


def live_assignment(order_id: int) -> DeliveryAssignment | None:
    return db.session.scalar(
        select(DeliveryAssignment).where(
            DeliveryAssignment.order_id == order_id,
            DeliveryAssignment.status == AssignmentStatus.ACTIVE,
        )
    )


def _check_ready(order: Order) -> None:
    if not is_ready(order):
        raise Conflict(
            f"An order that is {order.status} is not ready to be assigned",
            code="ORDER_NOT_READY",
            details={"status": str(order.status)},
        )


def _check_unassigned(order: Order) -> None:
    live = live_assignment(order.id)
    if live is not None:
        raise Conflict(
            "This order already has a delivery assignment",
            code="ALREADY_ASSIGNED",
            details={"agent_id": live.agent_id, "company_id": live.company_id},
        )


# Eligible agents ----------------------------------------------------------------------
def _workload():
    """Per agent: live deliveries and the time of their latest assignment (idle since)."""
    return (
        select(
            DeliveryAssignment.agent_id.label("agent_id"),
            func.sum(
                case((DeliveryAssignment.status == AssignmentStatus.ACTIVE, 1), else_=0)
            ).label("live"),
            func.max(DeliveryAssignment.assigned_at).label("last_assigned_at"),
        )
        .where(DeliveryAssignment.agent_id.is_not(None))
        .group_by(DeliveryAssignment.agent_id)
        .subquery()
    )


def eligible_agents(zone_ids) -> Select:
    """(agent id, zone id, live, last assigned) of active, available agents serving any
    of ``zone_ids``, least busy first, then longest idle (never assigned: first)."""
    workload = _workload()
    live = func.coalesce(workload.c.live, 0)
    return (
        select(
            AgentZone.agent_id, AgentZone.zone_id, live.label("live"), workload.c.last_assigned_at
        )
        .join(User, User.id == AgentZone.agent_id)
        .join(DeliveryAgentProfile, DeliveryAgentProfile.user_id == User.id)
        .outerjoin(workload, workload.c.agent_id == User.id)
        .where(
            AgentZone.zone_id.in_(zone_ids),
            User.role == UserRole.DELIVERY_AGENT,
            User.is_active.is_(True),
            DeliveryAgentProfile.is_available.is_(True),
        )
        .order_by(
            live,
            workload.c.last_assigned_at.is_not(None),
            workload.c.last_assigned_at,
            AgentZone.agent_id,
        )
    )


def pick_agent(zone_id: int) -> int | None:
    """The agent auto-assignment chooses for a zone: one query, no per-agent loop."""
    row = db.session.execute(eligible_agents([zone_id]).limit(1)).first()
    return row.agent_id if row else None


def _check_eligible(agent: User, order: Order) -> None:
    profile = agent.delivery_agent_profile
    serves = db.session.scalar(
        select(
            exists().where(
                AgentZone.agent_id == agent.id, AgentZone.zone_id == order.delivery_zone_id
            )
        )
    )
    reasons = []
    if not agent.is_active:
        reasons.append("the account is disabled")
    if profile is None or not profile.is_available:
        reasons.append("the agent is not available")
    if not serves:
        reasons.append("the agent does not serve the order's zone")
    if reasons:
        raise Unprocessable(
            "This agent cannot take this order: " + "; ".join(reasons),
            code="AGENT_NOT_ELIGIBLE",
            details={"agent_id": agent.id, "zone_id": order.delivery_zone_id, "reasons": reasons},
        )


# Assigning ----------------------------------------------------------------------------
def _end(live: DeliveryAssignment | None) -> None:
    if live is not None:
        live.status, live.ended_at = AssignmentStatus.ENDED, utcnow()
        db.session.flush()  # the unique live index sees it ended before the new row


def _close_open_offers(order_id: int, *, keep: int | None = None) -> None:
    condition = [DeliveryOffer.order_id == order_id, DeliveryOffer.status == OfferStatus.OPEN]
    if keep is not None:
        condition.append(DeliveryOffer.id != keep)
    db.session.execute(
        update(DeliveryOffer)
        .where(*condition)
        .values(status=OfferStatus.CANCELLED, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _give_to_agent(
    order: Order,
    agent: User,
    *,
    method: AssignmentMethod,
    actor_id: int | None,
    note: str | None = None,
    keep_offer: int | None = None,
) -> DeliveryAssignment:
    previous = order.delivery_agent_id
    _close_open_offers(order.id, keep=keep_offer)
    assignment = DeliveryAssignment(
        order_id=order.id,
        agent_id=agent.id,
        method=method,
        note=note,
        assigned_by_id=actor_id,
    )
    db.session.add(assignment)
    order.delivery_agent_id, order.delivery_company_id = agent.id, None
    record_history(
        order,
        "delivery_agent",
        str(previous) if previous else None,
        str(agent.id),
        actor_id=actor_id,
        note=note or f"Assigned ({method.lower()})",
    )
    db.session.flush()
    notify_many(
        [agent.id],
        "delivery-assigned",
        title=f"Order {order.order_number} is yours to deliver",
        body=f"Deliver to {order.delivery_town}, {order.delivery_county}.",
        path=f"/delivery/orders/{order.id}",
        order_id=order.id,
    )
    return assignment


def assign(order_id: int, agent_id: int, *, actor: User) -> DeliveryAssignment:
    """Give a ready, unassigned order to an eligible agent (409 if someone has it)."""
    order = lock_order(order_id)
    agent = find_agent(agent_id)
    _check_ready(order)
    _check_unassigned(order)
    _check_eligible(agent, order)
    return _give_to_agent(order, agent, method=AssignmentMethod.MANUAL, actor_id=actor.id)


def force_assign(order_id: int, agent_id: int, *, actor: User, note: str) -> DeliveryAssignment:
    """Reassign an order, even one out for delivery, to an active agent (with a note)."""
    order = lock_order(order_id)
    agent = find_agent(agent_id)
    if not (is_ready(order) or order.status in ON_THE_ROAD):
        raise Conflict(
            f"An order that is {order.status} cannot be reassigned",
            code="ORDER_NOT_READY",
            details={"status": str(order.status)},
        )
    if not agent.is_active:
        raise Unprocessable("This agent's account is disabled", code="AGENT_NOT_ELIGIBLE")
    live = live_assignment(order.id)
    if live is not None and live.agent_id == agent.id:
        raise Conflict("This agent already has the order", code="ALREADY_ASSIGNED")
    _end(live)
    return _give_to_agent(
        order, agent, method=AssignmentMethod.FORCED, actor_id=actor.id, note=note
    )


def auto_assign(order_id: int, *, actor: User | None) -> DeliveryAssignment:
    """The least busy eligible agent of the order's zone (ties: the longest idle)."""
    order = lock_order(order_id)
    _check_ready(order)
    _check_unassigned(order)
    agent_id = pick_agent(order.delivery_zone_id)
    if agent_id is None:
        raise Unprocessable(
            "No available agent serves this order's zone",
            code="NO_AGENT_AVAILABLE",
            details={"zone_id": order.delivery_zone_id},
        )
    return _give_to_agent(
        order,
        db.session.get(User, agent_id),
        method=AssignmentMethod.AUTO,
        actor_id=actor.id if actor else None,
    )


def assign_company(
    order_id: int, company_id: int, tracking_reference: str, *, actor: User
) -> DeliveryAssignment:
    """Hand an order to a delivery company with its tracking reference; the company's
    share of the delivery fee (its ``fee_share_rate``, else AGENT_FEE_RATE) is recorded."""
    order = lock_order(order_id)
    company = find_company(company_id, active_only=True)
    _check_ready(order)
    _check_unassigned(order)
    _close_open_offers(order.id)
    rate = (
        company.fee_share_rate if company.fee_share_rate is not None else setting("agent_fee_rate")
    )
    assignment = DeliveryAssignment(
        order_id=order.id,
        company_id=company.id,
        tracking_reference=tracking_reference,
        company_fee_share=(order.delivery_fee * Decimal(rate)).quantize(CENTS),
        method=AssignmentMethod.COMPANY,
        assigned_by_id=actor.id,
    )
    db.session.add(assignment)
    order.delivery_agent_id, order.delivery_company_id = None, company.id
    record_history(
        order,
        "delivery_company",
        None,
        str(company.id),
        actor_id=actor.id,
        note=f"{company.name}, tracking {tracking_reference}",
    )
    db.session.flush()
    return assignment


def unassign(order: Order) -> None:
    """The order goes back to assignment (a delivery found not made)."""
    _end(live_assignment(order.id))
    db.session.execute(
        update(DeliveryAssignment)
        .where(
            DeliveryAssignment.order_id == order.id,
            DeliveryAssignment.status == AssignmentStatus.DELIVERED,
        )
        .values(status=AssignmentStatus.ENDED, ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    order.delivery_agent_id = order.delivery_company_id = None
    db.session.flush()


# Auto-assigning every waiting order ---------------------------------------------------
@dataclass
class AutoAssignResult:
    assigned: int = 0
    left_unassigned: int = 0
    by_agent: dict[int, int] = field(default_factory=dict)


def auto_assign_all(*, actor: User | None, batch_size: int = AUTO_ASSIGN_BATCH) -> AutoAssignResult:
    """Assign every waiting order to the least busy eligible agent of its zone (ties:
    the longest idle), oldest payment first.

    A constant number of statements per batch of orders, whatever the number of agents:
    the waiting orders (one query), then per batch: lock them (skipping those another
    transaction holds, and any assigned meanwhile), every eligible agent of their zones
    with their workload (one query), and the assignments, the orders' agents and their
    history written in bulk. The choice is made in memory with one heap per zone,
    updated as each order is given out.
    """
    result = AutoAssignResult()
    now = utcnow()
    waiting = db.session.execute(
        select(Order.id, Order.delivery_zone_id, Order.delivery_agent_id)
        .where(waiting_for_dispatch())
        .order_by(*OLDEST_PAYMENT_FIRST)
    ).all()
    for start in range(0, len(waiting), batch_size):
        batch = waiting[start : start + batch_size]
        ids = [order_id for order_id, _, _ in batch]
        locked = set(
            db.session.scalars(
                select(Order.id)
                .where(Order.id.in_(ids), ready_to_go())
                .with_for_update(skip_locked=True, of=Order)
            )
        )
        locked -= set(  # assigned by hand since the list was read
            db.session.scalars(
                select(DeliveryAssignment.order_id).where(
                    DeliveryAssignment.order_id.in_(locked),
                    DeliveryAssignment.status == AssignmentStatus.ACTIVE,
                )
            )
        )
        orders = [row for row in batch if row[0] in locked]
        picks = _choose(orders)
        result.left_unassigned += len(orders) - len(picks)
        if picks:
            _write_assignments(orders, picks, actor_id=actor.id if actor else None, now=now)
            result.assigned += len(picks)
            for agent_id in picks.values():
                result.by_agent[agent_id] = result.by_agent.get(agent_id, 0) + 1
    return result


def _choose(orders) -> dict[int, int]:
    """{order id: agent id}: each order to the least busy agent of its zone."""
    zone_ids = {zone_id for _, zone_id, _ in orders}
    epoch = datetime.min.replace(tzinfo=utcnow().tzinfo)
    load: dict[int, tuple[int, datetime]] = {}
    heaps: dict[int, list[tuple[int, datetime, int]]] = {}
    for agent_id, zone_id, live, last in db.session.execute(eligible_agents(zone_ids)):
        load[agent_id] = (int(live), last or epoch)
        heaps.setdefault(zone_id, []).append((int(live), last or epoch, agent_id))
    for heap in heaps.values():
        heapq.heapify(heap)
    now = utcnow()
    picks: dict[int, int] = {}
    for order_id, zone_id, _ in orders:
        heap = heaps.get(zone_id)
        while heap:
            live, last, agent_id = heap[0]
            if load[agent_id] != (live, last):  # stale: the agent took an order elsewhere
                heapq.heapreplace(heap, (*load[agent_id], agent_id))
                continue
            picks[order_id] = agent_id
            load[agent_id] = (live + 1, now)
            heapq.heapreplace(heap, (live + 1, now, agent_id))
            break
    return picks


def _write_assignments(orders, picks: dict[int, int], *, actor_id: int | None, now) -> None:
    ids = list(picks)
    db.session.execute(
        insert(DeliveryAssignment),
        [
            {
                "order_id": order_id,
                "agent_id": agent_id,
                "method": AssignmentMethod.AUTO,
                "status": AssignmentStatus.ACTIVE,
                "assigned_by_id": actor_id,
                "assigned_at": now,
            }
            for order_id, agent_id in picks.items()
        ],
    )
    live_agent = (
        select(DeliveryAssignment.agent_id)
        .where(
            DeliveryAssignment.order_id == Order.id,
            DeliveryAssignment.status == AssignmentStatus.ACTIVE,
        )
        .scalar_subquery()
    )
    db.session.execute(
        update(Order)
        .where(Order.id.in_(ids))
        .values(delivery_agent_id=live_agent, delivery_company_id=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    previous = {order_id: agent_id for order_id, _, agent_id in orders}
    db.session.execute(
        insert(OrderStatusHistory),
        [
            {
                "order_id": order_id,
                "field": "delivery_agent",
                "from_status": str(previous[order_id]) if previous.get(order_id) else None,
                "to_status": str(agent_id),
                "changed_by_id": actor_id,
                "note": "Assigned (auto)",
                "created_at": now,
            }
            for order_id, agent_id in picks.items()
        ],
    )
    db.session.execute(
        update(DeliveryOffer)
        .where(DeliveryOffer.order_id.in_(ids), DeliveryOffer.status == OfferStatus.OPEN)
        .values(status=OfferStatus.CANCELLED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    counts: dict[int, int] = {}
    for agent_id in picks.values():
        counts[agent_id] = counts.get(agent_id, 0) + 1
    for count in set(counts.values()):
        notify_many(
            [agent_id for agent_id, n in counts.items() if n == count],
            "delivery-assigned",
            title=f"{count} new order{'s' if count > 1 else ''} to deliver",
            body="See your deliveries.",
            path="/delivery/orders",
        )


# Offers -------------------------------------------------------------------------------
def offer_to_agents(order_id: int, *, actor: User) -> DeliveryOffer:
    """Offer a ready, unassigned order to every eligible agent of its zone; it expires
    after DELIVERY_OFFER_MINUTES."""
    order = lock_order(order_id)
    _check_ready(order)
    _check_unassigned(order)
    open_offer = db.session.scalar(
        select(DeliveryOffer.id).where(
            DeliveryOffer.order_id == order.id,
            DeliveryOffer.status == OfferStatus.OPEN,
            DeliveryOffer.expires_at > utcnow(),
        )
    )
    if open_offer is not None:
        raise Conflict(
            "This order is already on offer", code="OFFER_OPEN", details={"offer_id": open_offer}
        )
    _close_open_offers(order.id)  # an expired one the job has not closed yet
    agent_ids = list(
        dict.fromkeys(
            row.agent_id for row in db.session.execute(eligible_agents([order.delivery_zone_id]))
        )
    )
    if not agent_ids:
        raise Unprocessable(
            "No available agent serves this order's zone",
            code="NO_AGENT_AVAILABLE",
            details={"zone_id": order.delivery_zone_id},
        )
    now = utcnow()
    offer = DeliveryOffer(
        order_id=order.id,
        expires_at=now + timedelta(minutes=current_app.config["DELIVERY_OFFER_MINUTES"]),
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(offer)
    db.session.flush()
    db.session.execute(
        insert(OfferRecipient),
        [{"offer_id": offer.id, "agent_id": agent_id} for agent_id in agent_ids],
    )
    notify_many(
        agent_ids,
        "delivery-offered",
        title=f"Order {order.order_number} is on offer",
        body=f"To {order.delivery_town}; the first to accept gets it.",
        path="/delivery/available-requests",
        order_id=order.id,
    )
    return offer


def _offer_for(agent: User, offer_id: int) -> DeliveryOffer:
    offer = db.session.scalar(
        select(DeliveryOffer)
        .join(OfferRecipient, OfferRecipient.offer_id == DeliveryOffer.id)
        .where(DeliveryOffer.id == offer_id, OfferRecipient.agent_id == agent.id)
    )
    if offer is None:
        raise NotFound("Delivery request not found")
    return offer


def _check_open(offer: DeliveryOffer, now: datetime) -> None:
    if offer.status != OfferStatus.OPEN or offer.expires_at <= now:
        status = OfferStatus.EXPIRED if offer.status == OfferStatus.OPEN else offer.status
        raise Conflict(
            "This delivery request is no longer open",
            code="REQUEST_GONE",
            details={"status": str(status)},
        )


def accept_offer(agent: User, offer_id: int) -> DeliveryAssignment:
    """The first eligible agent to accept gets the order; the others get 409
    ``REQUEST_GONE``."""
    offer = _offer_for(agent, offer_id)
    order = lock_order(offer.order_id)  # the order first, then its offer: one lock order
    offer = lock_row(DeliveryOffer, offer_id)
    now = utcnow()
    _check_open(offer, now)
    recipient = db.session.get(OfferRecipient, (offer.id, agent.id))
    if recipient.rejected_at is not None:
        raise Conflict("You turned this request down", code="REQUEST_GONE")
    _check_unassigned(order)
    _check_eligible(agent, order)
    assignment = _give_to_agent(
        order, agent, method=AssignmentMethod.OFFER, actor_id=agent.id, keep_offer=offer.id
    )
    offer.status, offer.accepted_by_id, offer.closed_at = OfferStatus.ACCEPTED, agent.id, now
    db.session.flush()
    return assignment


def reject_offer(agent: User, offer_id: int) -> DeliveryOffer:
    offer = _offer_for(agent, offer_id)
    _check_open(offer, utcnow())
    recipient = db.session.get(OfferRecipient, (offer.id, agent.id))
    recipient.rejected_at = recipient.rejected_at or utcnow()
    db.session.flush()
    return offer


def available_offers(agent: User) -> list[dict[str, Any]]:
    """Open offers made to the agent that they have not turned down, soonest to expire first."""
    rows = db.session.execute(
        select(DeliveryOffer, Order)
        .join(OfferRecipient, OfferRecipient.offer_id == DeliveryOffer.id)
        .join(Order, Order.id == DeliveryOffer.order_id)
        .where(
            OfferRecipient.agent_id == agent.id,
            OfferRecipient.rejected_at.is_(None),
            DeliveryOffer.status == OfferStatus.OPEN,
            DeliveryOffer.expires_at > utcnow(),
        )
        .order_by(DeliveryOffer.expires_at, DeliveryOffer.id)
    ).all()
    return [{"offer": offer, "order": order} for offer, order in rows]


def expire_offers(now: datetime | None = None) -> int:
    """Close the open offers whose time has run out; how many."""
    now = now or utcnow()
    return db.session.execute(
        update(DeliveryOffer)
        .where(DeliveryOffer.status == OfferStatus.OPEN, DeliveryOffer.expires_at <= now)
        .values(status=OfferStatus.EXPIRED, closed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def list_offers(params: dict[str, Any]) -> Page:
    statement = select(DeliveryOffer)
    if params.get("status") is not None:
        statement = statement.where(DeliveryOffer.status == params["status"])
    return paginate(
        statement.order_by(DeliveryOffer.created_at.desc(), DeliveryOffer.id.desc()), params
    )


def unassigned_orders(params: dict[str, Any]) -> Page:
    """Orders waiting for dispatch, oldest payment first."""
    conditions = [waiting_for_dispatch()]
    if params.get("zone_id") is not None:
        conditions.append(Order.delivery_zone_id == params["zone_id"])
    return paginate(
        select(Order).where(*conditions).options(*LIST_LOADS).order_by(*OLDEST_PAYMENT_FIRST),
        params,
        count=select(func.count()).select_from(Order).where(*conditions),
    )
