"""Agents, their zones and zone requests, and delivery companies.

An agent is a DELIVERY_AGENT user (``Order.delivery_agent_id`` names them by user id)
with a ``DeliveryAgentProfile``. Functions flush and never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import joinedload

from app.auth.models import DeliveryAgentProfile, DeliveryCompany, User, UserRole
from app.db import conflict_insert, lock_or_404, utcnow
from app.delivery.models import DeliveryZone
from app.dispatch.models import AgentZone, RequestStatus, ZoneRequest
from app.errors import Conflict, NotFound
from app.extensions import db
from app.pagination import Page, paginate


# Agents -----------------------------------------------------------------------------
def find_agent(agent_id: int) -> User:
    """A delivery agent by user id (404 ``UNKNOWN_AGENT`` for anyone else)."""
    user = db.session.get(User, agent_id)
    if user is None or user.role != UserRole.DELIVERY_AGENT:
        raise NotFound(
            "No such delivery agent", code="UNKNOWN_AGENT", details={"agent_id": agent_id}
        )
    return user


def profile_of(agent: User) -> DeliveryAgentProfile:
    """The agent's profile, made on first use (an agent account may predate it)."""
    if agent.delivery_agent_profile is None:
        agent.delivery_agent_profile = DeliveryAgentProfile(user_id=agent.id)
        db.session.flush()
    return agent.delivery_agent_profile


def update_profile(agent: User, data: dict[str, Any]) -> DeliveryAgentProfile:
    profile = profile_of(agent)
    for name, value in data.items():
        setattr(profile, name, value)
    db.session.flush()
    return profile


def zone_ids_of(agent_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(AgentZone.zone_id)
            .where(AgentZone.agent_id == agent_id)
            .order_by(AgentZone.zone_id)
        )
    )


def zones_for(agent: User) -> list[dict[str, Any]]:
    """Every active zone, with ``serving`` true for the agent's."""
    serving = set(zone_ids_of(agent.id))
    zones = db.session.scalars(
        select(DeliveryZone).where(DeliveryZone.is_active.is_(True)).order_by(DeliveryZone.name)
    )
    return [{"zone": zone, "serving": zone.id in serving} for zone in zones]


def active_zones_named(zone_ids: list[int]) -> list[DeliveryZone]:
    """These active zones; 404 ``UNKNOWN_ZONE`` listing any that is not one."""
    found = list(
        db.session.scalars(
            select(DeliveryZone).where(
                DeliveryZone.id.in_(zone_ids), DeliveryZone.is_active.is_(True)
            )
        )
    )
    missing = sorted(set(zone_ids) - {zone.id for zone in found})
    if missing:
        raise NotFound(
            "No such active delivery zone", code="UNKNOWN_ZONE", details={"zone_ids": missing}
        )
    return found


def set_zones(agent: User, zone_ids: list[int]) -> list[int]:
    """The agent serves exactly these zones from now on."""
    wanted = {zone.id for zone in active_zones_named(list(set(zone_ids)))}
    db.session.execute(
        delete(AgentZone).where(AgentZone.agent_id == agent.id, AgentZone.zone_id.not_in(wanted))
    )
    _serve(agent.id, wanted)
    return zone_ids_of(agent.id)


def _serve(agent_id: int, zone_ids: set[int]) -> None:
    if zone_ids:
        now = utcnow()
        db.session.execute(
            conflict_insert(AgentZone)
            .values([{"agent_id": agent_id, "zone_id": z, "created_at": now} for z in zone_ids])
            .on_conflict_do_nothing()
        )
    db.session.flush()


# Zone requests ----------------------------------------------------------------------
def request_zone(agent: User, zone_id: int, note: str | None) -> ZoneRequest:
    """Ask to serve a zone: 409 ``ALREADY_SERVING`` or ``REQUEST_PENDING`` when moot."""
    active_zones_named([zone_id])
    if zone_id in zone_ids_of(agent.id):
        raise Conflict("You already serve this zone", code="ALREADY_SERVING")
    pending = select(
        exists().where(
            ZoneRequest.agent_id == agent.id,
            ZoneRequest.zone_id == zone_id,
            ZoneRequest.status == RequestStatus.PENDING,
        )
    )
    if db.session.scalar(pending):
        raise Conflict("You already asked for this zone", code="REQUEST_PENDING")
    request = ZoneRequest(agent_id=agent.id, zone_id=zone_id, note=note)
    db.session.add(request)
    db.session.flush()
    return request


def _locked_request(request_id: int) -> ZoneRequest:
    return lock_or_404(ZoneRequest, request_id, message="Zone request not found")


def _check_pending(request: ZoneRequest) -> None:
    if request.status != RequestStatus.PENDING:
        raise Conflict(
            f"This request is already {request.status}",
            code="REQUEST_NOT_PENDING",
            details={"status": str(request.status)},
        )


def cancel_zone_request(agent: User, request_id: int) -> ZoneRequest:
    request = _locked_request(request_id)
    if request.agent_id != agent.id:
        raise NotFound("Zone request not found")
    _check_pending(request)
    request.status, request.decided_at = RequestStatus.CANCELLED, utcnow()
    db.session.flush()
    return request


def decide_zone_request(
    request_id: int, *, approve: bool, actor: User, note: str | None
) -> ZoneRequest:
    """Approve (the agent serves the zone from now on) or reject a pending request."""
    request = _locked_request(request_id)
    _check_pending(request)
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by_id, request.decided_at = actor.id, utcnow()
    if note:
        request.note = note
    if approve:
        _serve(request.agent_id, {request.zone_id})
    db.session.flush()
    return request


def list_zone_requests(params: dict[str, Any], agent: User | None = None) -> Page:
    statement = select(ZoneRequest)
    if agent is not None:
        statement = statement.where(ZoneRequest.agent_id == agent.id)
    if params.get("status") is not None:
        statement = statement.where(ZoneRequest.status == params["status"])
    return paginate(
        statement.order_by(ZoneRequest.created_at.desc(), ZoneRequest.id.desc()), params
    )


# Companies --------------------------------------------------------------------------
def list_companies() -> list[DeliveryCompany]:
    return list(db.session.scalars(select(DeliveryCompany).order_by(DeliveryCompany.name)))


def find_company(company_id: int, *, active_only: bool = False) -> DeliveryCompany:
    company = db.session.get(DeliveryCompany, company_id)
    if company is None or (active_only and not company.is_active):
        raise NotFound(
            "No such delivery company", code="UNKNOWN_COMPANY", details={"company_id": company_id}
        )
    return company


def save_company(company: DeliveryCompany | None, data: dict[str, Any]) -> DeliveryCompany:
    name = data.get("name")
    if name is not None and (company is None or name.lower() != company.name.lower()):
        taken = exists().where(func.lower(DeliveryCompany.name) == name.lower())
        if db.session.scalar(select(taken)):
            raise Conflict("A delivery company with this name exists", code="COMPANY_EXISTS")
    if company is None:
        company = DeliveryCompany()
        db.session.add(company)
    for field, value in data.items():
        setattr(company, field, value)
    db.session.flush()
    return company


def agents_statement():
    return (
        select(User)
        .where(User.role == UserRole.DELIVERY_AGENT)
        .options(
            joinedload(User.delivery_agent_profile).joinedload(
                DeliveryAgentProfile.delivery_company
            )
        )
    )
