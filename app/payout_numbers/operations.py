"""Setting and changing payout numbers; functions flush and never commit.

Every change locks the party's profile row first (``SELECT .. FOR UPDATE``), so two
requests of one party, or two admins deciding one request, run one after the other: the
second finds the first's outcome (one decision, never two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.auth.models import DeliveryAgentProfile, SupplierProfile, User
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.ledger.models import Party
from app.notifications.operations import notify
from app.pagination import Page, paginate
from app.payout_numbers.models import PayoutNumberRequest, RequestStatus

# Where the party manages its payout number in the web app.
PROFILE_PATHS = {Party.SUPPLIER: "/supplier/profile", Party.AGENT: "/delivery/profile"}


@dataclass(frozen=True)
class Payee:
    """A party whose payouts go to ``profile.mpesa_payout_number``."""

    party: Party
    party_id: int
    profile: SupplierProfile | DeliveryAgentProfile
    user: User


@dataclass(frozen=True)
class NumberState:
    """A party's payout number and its pending change (the answer of every change)."""

    mpesa_payout_number: str | None
    pending_change: PayoutNumberRequest | None
    outcome: str | None = None  # SET, REQUESTED, UNCHANGED, CANCELLED


# Each party's profile, the column its id is, and what a missing one is called.
PROFILES = {
    Party.SUPPLIER: (SupplierProfile, SupplierProfile.id, "Supplier not found"),
    Party.AGENT: (DeliveryAgentProfile, DeliveryAgentProfile.user_id, "Delivery agent not found"),
}


def payee(party: Party, party_id: int, *, lock: bool = False) -> Payee:
    """The supplier (by profile id) or agent (by user id); locked for a change when
    ``lock``; unknown: 404."""
    model, key, missing = PROFILES[party]
    query = select(model).where(key == party_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    profile = db.session.scalar(query)
    if profile is None:
        raise NotFound(missing)
    return Payee(party, party_id, profile, profile.user)


def supplier_payee(supplier_id: int, *, lock: bool = False) -> Payee:
    return payee(Party.SUPPLIER, supplier_id, lock=lock)


def agent_payee(user_id: int, *, lock: bool = False) -> Payee:
    return payee(Party.AGENT, user_id, lock=lock)


def pending_request(payee: Payee) -> PayoutNumberRequest | None:
    return db.session.scalar(
        select(PayoutNumberRequest)
        .where(
            PayoutNumberRequest.party == payee.party,
            PayoutNumberRequest.party_id == payee.party_id,
            PayoutNumberRequest.status == RequestStatus.PENDING,
        )
        .execution_options(populate_existing=True)
    )


def state(payee: Payee, outcome: str | None = None) -> NumberState:
    return NumberState(payee.profile.mpesa_payout_number, pending_request(payee), outcome)


def masked(number: str | None) -> str:
    """``2547****5678``: enough to recognise a number in a message, not to copy it."""
    return "" if not number else f"{number[:4]}****{number[-4:]}"


def _tell(payee: Payee, step: str, title: str, body: str, **context: Any) -> None:
    notify(
        payee.user,
        f"payout-number-{step}",
        title=title,
        body=body,
        path=PROFILE_PATHS[payee.party],
        email=(f"Quantum Gear: {title.lower()}", "payout_number"),
        user=payee.user,
        step=step,
        message=body,
    )


def _audit(action: str, target, payee: Payee, **details: Any) -> None:
    record_audit(
        f"payout_number.{action}",
        target,
        details={"party": str(payee.party), "party_id": payee.party_id, **details},
    )


def request_change(payee: Payee, number: str) -> NumberState:
    """Set the first payout number at once, or ask for a change (``payee`` locked).

    The same number as now: 422 ``PAYOUT_NUMBER_UNCHANGED``. The number already asked
    for: the open request is kept as it is. Another number: a new request replaces the
    open one (``SUPERSEDED``).
    """
    profile = payee.profile
    current = profile.mpesa_payout_number
    if current is None:
        profile.mpesa_payout_number = number
        _audit("set", profile, payee, number=number)
        _tell(
            payee,
            "set",
            "Payout number set",
            f"Your payouts will be sent to {masked(number)}.",
        )
        db.session.flush()
        return state(payee, "SET")
    if number == current:
        raise Unprocessable("This is already your payout number", code="PAYOUT_NUMBER_UNCHANGED")
    open_request = pending_request(payee)
    if open_request is not None and open_request.new_number == number:
        return NumberState(current, open_request, "UNCHANGED")
    if open_request is not None:
        open_request.status, open_request.decided_at = RequestStatus.SUPERSEDED, utcnow()
        _audit("superseded", open_request, payee, new_number=open_request.new_number)
        db.session.flush()  # the one-pending index sees it closed before the new one
    request = PayoutNumberRequest(
        party=payee.party,
        party_id=payee.party_id,
        user_id=payee.user.id,
        old_number=current,
        new_number=number,
    )
    db.session.add(request)
    db.session.flush()
    _audit("requested", request, payee, old_number=current, new_number=number)
    replaced = " It replaces your earlier request." if open_request is not None else ""
    _tell(
        payee,
        "requested",
        "Payout number change requested",
        f"You asked to receive payouts on {masked(number)} instead of {masked(current)}. "
        f"An administrator will review it; until then payouts go to {masked(current)}."
        f"{replaced} If this was not you, contact support and change your password.",
    )
    return NumberState(current, request, "REQUESTED")


def cancel_change(payee: Payee) -> NumberState:
    """Withdraw the open request (``payee`` locked); none: 404."""
    request = pending_request(payee)
    if request is None:
        raise NotFound("You have no pending payout number change")
    request.status, request.decided_at = RequestStatus.CANCELLED, utcnow()
    _audit("cancelled", request, payee, new_number=request.new_number)
    _tell(
        payee,
        "cancelled",
        "Payout number change withdrawn",
        f"Your request to receive payouts on {masked(request.new_number)} was withdrawn; "
        f"payouts keep going to {masked(payee.profile.mpesa_payout_number)}.",
    )
    db.session.flush()
    return NumberState(payee.profile.mpesa_payout_number, None, "CANCELLED")


def decide(payee: Payee, *, approve: bool, admin: User, reason: str | None = None):
    """An admin approves or rejects the party's open request (``payee`` locked).

    No request ever: 404; the latest one already decided (or withdrawn): 409
    ``PAYOUT_NUMBER_REQUEST_CLOSED``. Approving moves the party's payouts to the new
    number from now on.
    """
    request = db.session.scalar(
        select(PayoutNumberRequest)
        .where(
            PayoutNumberRequest.party == payee.party,
            PayoutNumberRequest.party_id == payee.party_id,
        )
        .order_by(PayoutNumberRequest.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound("No payout number change was requested")
    if request.status != RequestStatus.PENDING:
        raise Conflict(
            f"This payout number change is already {request.status.lower()}",
            code="PAYOUT_NUMBER_REQUEST_CLOSED",
            details={"request_id": request.id, "status": str(request.status)},
        )
    request.decided_at, request.decided_by_id = utcnow(), admin.id
    if approve:
        request.status = RequestStatus.APPROVED
        payee.profile.mpesa_payout_number = request.new_number
        _audit(
            "approved", request, payee, old_number=request.old_number, new_number=request.new_number
        )
        _tell(
            payee,
            "approved",
            "Payout number change approved",
            f"Your payouts will now be sent to {masked(request.new_number)}.",
        )
    else:
        request.status, request.reason = RequestStatus.REJECTED, reason
        _audit("rejected", request, payee, new_number=request.new_number, reason=reason)
        why = f" Reason: {reason}" if reason else ""
        _tell(
            payee,
            "rejected",
            "Payout number change rejected",
            f"Your request to receive payouts on {masked(request.new_number)} was rejected; "
            f"payouts keep going to {masked(request.old_number)}.{why}",
        )
    db.session.flush()
    return request


@dataclass(frozen=True)
class RequestRow:
    """A request as admins list it, naming its party."""

    request: PayoutNumberRequest
    party_name: str
    email: str

    def __getattr__(self, name: str):
        return getattr(self.request, name)


def list_requests(params: dict[str, Any]) -> Page:
    """Requests, newest first (``status``: PENDING by default; ``party``), with each
    party's name and email in the same query."""
    conditions = []
    if params.get("status") is not None:
        conditions.append(PayoutNumberRequest.status == params["status"])
    if params.get("party") is not None:
        conditions.append(PayoutNumberRequest.party == params["party"])
    name = func.coalesce(SupplierProfile.business_name, User.first_name + " " + User.last_name)
    statement = (
        select(PayoutNumberRequest, name, User.email)
        .join(User, User.id == PayoutNumberRequest.user_id)
        .outerjoin(
            SupplierProfile,
            (PayoutNumberRequest.party == Party.SUPPLIER)
            & (SupplierProfile.id == PayoutNumberRequest.party_id),
        )
        .where(*conditions)
        .order_by(PayoutNumberRequest.created_at.desc(), PayoutNumberRequest.id.desc())
    )
    count = select(func.count()).select_from(PayoutNumberRequest).where(*conditions)
    page = paginate(statement, params, count=count, rows=True)
    page.items = [
        RequestRow(request, party_name, email) for request, party_name, email in page.items
    ]
    return page
