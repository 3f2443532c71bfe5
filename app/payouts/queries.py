"""What payouts look like from outside: lists, what the next run would pay, who is owed."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from app.auth.models import SupplierProfile
from app.db import utcnow
from app.errors import ApiError
from app.extensions import db
from app.ledger.models import LedgerAccount, LedgerLine, Party, PartyRole, party_account
from app.ledger.operations import sum_to_cents, supplier_balances
from app.pagination import Page, paginate
from app.payouts import operations as ops
from app.payouts.jobs import payout_trigger
from app.payouts.models import Payout
from app.payouts.runs import join_available
from app.settings import setting
from app.supplier.terms import accepted_current_terms


def _day(value) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


def payouts_page(params: dict[str, Any], *, supplier_id: int | None = None) -> Page:
    """Payouts, newest first; ``supplier_id`` scopes them to one supplier."""
    conditions = []
    scope = supplier_id if supplier_id is not None else params.get("supplier_id")
    if scope is not None:
        conditions.append(Payout.supplier_id == scope)
    if params.get("status"):
        conditions.append(Payout.status == params["status"])
    if params.get("from"):
        conditions.append(Payout.created_at >= _day(params["from"]))
    if params.get("to"):
        conditions.append(Payout.created_at < _day(params["to"]) + timedelta(days=1))
    return paginate(
        select(Payout).where(*conditions).order_by(Payout.created_at.desc(), Payout.id.desc()),
        params,
        count=select(func.count(Payout.id)).where(*conditions),
    )


def pending_payout(supplier: SupplierProfile) -> dict[str, Any]:
    """What the next scheduled run would pay this supplier, and what is still on hold
    (by release time)."""
    balances = supplier_balances(supplier.id)
    minimum = Decimal(str(setting("payout_min_amount")))
    amount = ops.whole_shillings_down(balances.available)
    blocked = []
    if not supplier.mpesa_payout_number:
        blocked.append("PAYOUT_NUMBER_MISSING")
    if not accepted_current_terms(supplier):
        blocked.append("TERMS_NOT_ACCEPTED")
    if amount < max(minimum, ops.MINIMUM):
        blocked.append("BELOW_MINIMUM")
    trigger = payout_trigger()
    return {
        "available": balances.available,
        "amount": amount if not blocked else Decimal("0"),
        "min_amount": minimum,
        "eligible": not blocked,
        "blocked_by": blocked,
        "next_run_at": trigger.get_next_fire_time(None, utcnow()),
        "in_flight": balances.in_flight,
        "on_hold": balances.on_hold,
        "on_hold_parts": _on_hold_parts(supplier.id),
    }


def _on_hold_parts(supplier_id: int) -> list[dict[str, Any]]:
    """What each delivered item still has on hold, summed by release time."""
    rows = db.session.execute(
        select(func.max(LedgerLine.release_at), func.sum(LedgerLine.amount))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(
            LedgerAccount.supplier_id == supplier_id,
            LedgerAccount.code == party_account(Party.SUPPLIER, PartyRole.ON_HOLD),
        )
        .group_by(LedgerLine.order_item_id)
    ).all()
    parts: dict[datetime, Decimal] = defaultdict(Decimal)
    for release_at, total in rows:
        held = -sum_to_cents(total)
        if held > 0 and release_at is not None:
            parts[release_at] += held
    return [{"release_at": at, "amount": amount} for at, amount in sorted(parts.items())]


def suppliers_owed(params: dict[str, Any]) -> Page:
    """Suppliers with money available, most owed first."""
    available = -func.sum(LedgerLine.amount)
    suppliers = select(
        SupplierProfile.id.label("supplier_id"),
        SupplierProfile.business_name,
        SupplierProfile.mpesa_payout_number,
        SupplierProfile.terms_accepted_at,
        SupplierProfile.terms_version,
        available.label("available"),
    )
    statement = (
        join_available(suppliers, Party.SUPPLIER, SupplierProfile.id)
        .group_by(SupplierProfile.id)
        .having(available > 0)
        .order_by(available.desc(), SupplierProfile.id)
    )
    page = paginate(statement, params, rows=True)
    page.items = [
        {
            "supplier_id": row.supplier_id,
            "business_name": row.business_name,
            "mpesa_payout_number": row.mpesa_payout_number,
            "terms_accepted": accepted_current_terms(row),
            "available": sum_to_cents(row.available),
            "payable": ops.whole_shillings_down(sum_to_cents(row.available)),
        }
        for row in page.items
    ]
    return page


def send_many(ids: list[int], *, actor_id: int) -> list[dict[str, Any]]:
    """``batch-mpesa``: each payout sent (or retried) on its own; one result per id."""
    results = []
    for payout_id in dict.fromkeys(ids):
        try:
            payout = ops.dispatch(ops.prepare_resend(payout_id, actor_id=actor_id))
            results.append({"payout_id": payout_id, "ok": True, "status": str(payout.status)})
        except ApiError as exc:
            db.session.rollback()
            payout = db.session.get(Payout, payout_id)
            results.append(
                {
                    "payout_id": payout_id,
                    "ok": False,
                    "status": str(payout.status) if payout else None,
                    "error": {"code": exc.code, "message": exc.message},
                }
            )
    return results
