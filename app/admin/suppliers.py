"""Merchant applications: the supplier list by status, decisions and commission.

A registering supplier is PENDING; admins (and support admins) approve or reject it, and
may later suspend it (its products leave the catalogue: ``catalog.visibility.listed``
reads ``is_approved``; its payouts are held) or reinstate it. The supplier is told of
every decision in the app and by email (``supplier_status_changed``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from app.auth.accounts import set_supplier_status
from app.auth.models import SupplierProfile, SupplierStatus, User
from app.common.audit import record_audit
from app.db import lock_or_404
from app.errors import InvalidTransition
from app.extensions import db
from app.pagination import Page, paginate
from app.signals import supplier_status_changed

S = SupplierStatus
# Which decision may follow which status.
TRANSITIONS: dict[SupplierStatus, frozenset[SupplierStatus]] = {
    S.PENDING: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.SUSPENDED}),
    S.SUSPENDED: frozenset({S.APPROVED}),  # reinstated
    S.REJECTED: frozenset({S.APPROVED}),  # reconsidered
}


def list_suppliers(params: dict[str, Any]) -> Page:
    conditions = []
    if params.get("status") is not None:
        conditions.append(SupplierProfile.status == params["status"])
    if params.get("q"):
        pattern = f"%{params['q'].strip()}%"
        conditions.append(
            or_(SupplierProfile.business_name.ilike(pattern), User.email.ilike(pattern))
        )
    statement = (
        select(SupplierProfile)
        .join(SupplierProfile.user)
        .options(contains_eager(SupplierProfile.user))
        .where(*conditions)
        .order_by(SupplierProfile.created_at.desc(), SupplierProfile.id.desc())
    )
    count = (
        select(func.count())
        .select_from(SupplierProfile)
        .join(SupplierProfile.user)
        .where(*conditions)
    )
    return paginate(statement, params, count=count)


def _lock(profile_id: int) -> SupplierProfile:
    return lock_or_404(SupplierProfile, profile_id, message="Supplier not found")


def decide(
    profile_id: int, status: SupplierStatus, *, actor_id: int, reason: str | None = None
) -> SupplierProfile:
    """Approve, reject or suspend (flushes); 409 ``INVALID_TRANSITION`` off the table."""
    profile = _lock(profile_id)
    if status not in TRANSITIONS[profile.status]:
        raise InvalidTransition(
            f"A {profile.status} supplier cannot become {status}",
            details={
                "from": str(profile.status),
                "to": str(status),
                "allowed": sorted(str(s) for s in TRANSITIONS[profile.status]),
            },
        )
    old = set_supplier_status(profile, status, actor_id=actor_id, reason=reason)
    db.session.flush()
    record_audit(
        f"supplier.{str(status).lower()}",
        profile,
        actor_id=actor_id,
        details={
            "before": {"status": str(old)},
            "after": {"status": str(status)},
            "reason": reason,
        },
    )
    supplier_status_changed.send(profile, old=old, new=status, actor_id=actor_id, reason=reason)
    return profile


def set_commission(profile_id: int, rate: Decimal, *, actor_id: int) -> SupplierProfile:
    """The supplier's agreed rate, for orders placed from now on (order lines keep the
    rate they were placed with)."""
    profile = _lock(profile_id)
    old = profile.commission_rate
    profile.commission_rate = rate
    db.session.flush()
    record_audit(
        "supplier.commission_changed",
        profile,
        actor_id=actor_id,
        details={
            "before": {"commission_rate": None if old is None else str(old)},
            "after": {"commission_rate": str(rate)},
        },
    )
    return profile
