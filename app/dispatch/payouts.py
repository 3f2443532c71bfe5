"""Paying delivery agents: their available earnings less the cash they still hold, by
the payouts engine (``app.payouts``: B2C, exactly once, a timeout is unknown).

The scheduled run (``run_agent_payouts``, AGENT_PAYOUT_SCHEDULE in PAYOUT_TIMEZONE) pays
every active agent with a payout number whose payable amount (AVAILABLE less
AGENT_CASH_HELD) reaches KES 10: no payout while the cash held covers the earnings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select

from app.auth.models import DeliveryAgentProfile, User, UserRole
from app.common.audit import record_audit
from app.db import lock_row, utcnow
from app.dispatch.agents import find_agent
from app.dispatch.cod import cash_held_by
from app.errors import NotFound, Unprocessable
from app.extensions import db
from app.ledger.models import AccountCode, LedgerAccount, LedgerLine, Party
from app.ledger.operations import agent_balances, sum_to_cents
from app.money import ZERO, format_money
from app.pagination import Page, paginate
from app.payouts.models import Payout
from app.payouts.operations import (
    MINIMUM,
    check_amount,
    create_payout,
    ensure_none_open,
    whole_shillings_down,
)
from app.payouts.runs import RunSummary, run_payouts
from app.scheduler import cron_slot, find_job


def _per_agent(code: AccountCode, sign: int):
    return (
        select(LedgerAccount.agent_id, (sign * func.sum(LedgerLine.amount)).label("amount"))
        .join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
        .where(LedgerAccount.code == code)
        .group_by(LedgerAccount.agent_id)
        .subquery()
    )


def agent_eligibility(minimum: Decimal = MINIMUM) -> Select:
    """``(party_id, phone, available)`` of every active agent with a payout number whose
    available earnings less the cash they hold reach ``minimum``; ``available`` is that
    net amount (what a payout may carry)."""
    available = _per_agent(AccountCode.AGENT_AVAILABLE, -1)
    held = _per_agent(AccountCode.AGENT_CASH_HELD, 1)
    payable = available.c.amount - func.coalesce(held.c.amount, 0)
    return (
        select(
            User.id.label("party_id"),
            DeliveryAgentProfile.mpesa_payout_number.label("phone"),
            payable.label("available"),
        )
        .join(DeliveryAgentProfile, DeliveryAgentProfile.user_id == User.id)
        .join(available, available.c.agent_id == User.id)
        .outerjoin(held, held.c.agent_id == User.id)
        .where(
            User.role == UserRole.DELIVERY_AGENT,
            User.is_active.is_(True),
            DeliveryAgentProfile.mpesa_payout_number.is_not(None),
            payable >= minimum,
        )
    )


def current_period(now=None) -> str:
    """The latest AGENT_PAYOUT_SCHEDULE time (in PAYOUT_TIMEZONE): ``2026-12-02T18:00``."""
    return cron_slot(find_job("run_agent_payouts").trigger(), now or utcnow())


def run_agent_payouts(period: str | None = None) -> RunSummary:
    """One payout per agent per period, of what is payable (see the module doc)."""
    return run_payouts(
        Party.AGENT,
        agent_eligibility(),
        period=period or current_period(),
        remarks="Quantum Gear delivery earnings",
    )


def net_payable(available: Decimal, cash_held: Decimal) -> Decimal:
    """What a payout may carry: earnings available less the cash still held, or nothing."""
    return max(available - cash_held, ZERO)


def payable(agent_id: int) -> tuple[Decimal, Decimal, Decimal]:
    """(available, cash held, payable): see ``net_payable``."""
    available = agent_balances(agent_id).available
    held = cash_held_by(agent_id)
    return available, held, net_payable(available, held)


def pay_now(agent_id: int, amount: Decimal | None, *, actor_id: int) -> Payout:
    """A payout of ``amount`` (default: everything payable, in whole shillings), written
    PENDING with its transfer; ``app.payouts.operations.dispatch`` sends it."""
    if amount is not None:
        check_amount(amount)
    agent = lock_row(User, agent_id)
    if agent is None or agent.role != UserRole.DELIVERY_AGENT:
        find_agent(agent_id)  # raises UNKNOWN_AGENT
    profile = agent.delivery_agent_profile
    if profile is None or not profile.mpesa_payout_number:
        raise Unprocessable(
            "This agent has no M-Pesa payout number",
            code="PAYOUT_NUMBER_MISSING",
            details={"agent_id": agent.id},
        )
    ensure_none_open(Party.AGENT, agent.id)
    available, held, net = payable(agent.id)
    amount = whole_shillings_down(net) if amount is None else amount
    if amount < MINIMUM or amount > net:
        raise Unprocessable(
            "Nothing that large is payable: earnings available less cash held",
            code="INSUFFICIENT_BALANCE",
            details={
                "available": format_money(available),
                "cash_held": format_money(held),
                "payable": format_money(net),
                "requested": format_money(amount),
            },
        )
    payout = create_payout(
        Party.AGENT, agent.id, amount, profile.mpesa_payout_number, actor_id=actor_id
    )
    record_audit(
        "payout.created", payout, actor_id=actor_id, details={"amount": format_money(amount)}
    )
    return payout


def find_agent_payout(payout_id: int, agent: User | None = None) -> Payout:
    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.party != Party.AGENT or (agent and payout.agent_id != agent.id):
        raise NotFound("Payout not found")
    return payout


def list_payouts(params: dict[str, Any], agent: User | None = None) -> Page:
    statement = select(Payout).where(Payout.party == Party.AGENT)
    if agent is not None:
        statement = statement.where(Payout.agent_id == agent.id)
    if params.get("status") is not None:
        statement = statement.where(Payout.status == params["status"])
    return paginate(statement.order_by(Payout.created_at.desc(), Payout.id.desc()), params)


def pending_payments(params: dict[str, Any]) -> Page:
    """Agents with earnings or cash held: what each is owed, holds and may be paid."""
    available = _per_agent(AccountCode.AGENT_AVAILABLE, -1)
    on_hold = _per_agent(AccountCode.AGENT_ON_HOLD, -1)
    held = _per_agent(AccountCode.AGENT_CASH_HELD, 1)
    statement = (
        select(
            User,
            func.coalesce(available.c.amount, 0).label("available"),
            func.coalesce(on_hold.c.amount, 0).label("on_hold"),
            func.coalesce(held.c.amount, 0).label("cash_held"),
        )
        .outerjoin(available, available.c.agent_id == User.id)
        .outerjoin(on_hold, on_hold.c.agent_id == User.id)
        .outerjoin(held, held.c.agent_id == User.id)
        .where(
            User.role == UserRole.DELIVERY_AGENT,
            and_(
                func.coalesce(available.c.amount, 0)
                + func.coalesce(on_hold.c.amount, 0)
                + func.coalesce(held.c.amount, 0)
                != 0
            ),
        )
        .order_by(User.id)
    )
    page = paginate(statement, params, rows=True)
    page.items = [_pending_row(*row) for row in page.items]
    return page


def _pending_row(agent: User, available, on_hold, cash_held) -> dict[str, Any]:
    available, on_hold, cash_held = map(sum_to_cents, (available, on_hold, cash_held))
    return {
        "agent": agent,
        "available": available,
        "on_hold": on_hold,
        "cash_held": cash_held,
        "payable": net_payable(available, cash_held),
    }
