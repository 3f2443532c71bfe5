"""Payout rules: who may be paid how much, sending (by B2C) or recording (by hand) a
payout, retrying after a confirmed failure, cancelling; the ledger postings of each.

Functions flush and never commit, except ``dispatch`` (a boundary around the B2C call,
see ``app.disbursements.operations.send``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select

from app.auth.models import SupplierProfile, User
from app.common.audit import record_audit
from app.db import lock_or_404, lock_row, utcnow
from app.disbursements import operations as transfers
from app.disbursements.models import DisbursementPurpose, DisbursementStatus
from app.errors import BadRequest, Conflict, NotFound, ProviderError, Unprocessable
from app.extensions import db
from app.ledger.models import AccountCode, EntryKind, Party, PartyRole
from app.ledger.operations import Line, Posting, party_balances, party_line, post_many
from app.money import format_money
from app.notifications.operations import notify
from app.payouts.models import Payout, PayoutMethod, PayoutStatus
from app.supplier.terms import accepted_current_terms

MINIMUM = transfers.B2C_MINIMUM
MAXIMUM = transfers.B2C_MAXIMUM  # a larger balance is paid over several runs
MANUAL_CLEARING = {
    PayoutMethod.MPESA_MANUAL: AccountCode.MPESA_CLEARING,
    PayoutMethod.BANK_TRANSFER: AccountCode.BANK_CLEARING,
    PayoutMethod.CASH: AccountCode.CASH_COLLECTED,
}


def whole_shillings_down(amount: Decimal) -> Decimal:
    """What a payout can carry of a balance: whole shillings, at most KES 250,000; the
    cents (and anything above) wait for the next payout."""
    return min(amount.to_integral_value(rounding=ROUND_FLOOR), MAXIMUM)


# -- postings ---------------------------------------------------------------------------


def _posting(payout: Payout, event_key: str, kind: str, lines) -> Posting:
    return Posting(
        event_key,
        kind,
        lines,
        supplier_id=payout.supplier_id,
        agent_id=payout.agent_id,
        memo=f"payout {payout.id}",
    )


def sent_posting(payout: Payout, event_key: str) -> Posting:
    """Dr the party's AVAILABLE / Cr its IN_FLIGHT."""
    return _posting(
        payout,
        event_key,
        EntryKind.PAYOUT_SENT,
        [
            party_line(payout.party, payout.party_id, PartyRole.AVAILABLE, payout.amount),
            party_line(payout.party, payout.party_id, PartyRole.IN_FLIGHT, -payout.amount),
        ],
    )


def confirmed_posting(payout: Payout, event_key: str, clearing: AccountCode) -> Posting:
    """Dr IN_FLIGHT / Cr the money's clearing account: it left the platform."""
    return _posting(
        payout,
        event_key,
        EntryKind.PAYOUT_CONFIRMED,
        [
            party_line(payout.party, payout.party_id, PartyRole.IN_FLIGHT, payout.amount),
            Line(clearing, -payout.amount),
        ],
    )


def failed_posting(payout: Payout, event_key: str) -> Posting:
    """Dr IN_FLIGHT / Cr AVAILABLE: the money never left."""
    return _posting(
        payout,
        event_key,
        EntryKind.PAYOUT_FAILED,
        [
            party_line(payout.party, payout.party_id, PartyRole.IN_FLIGHT, payout.amount),
            party_line(payout.party, payout.party_id, PartyRole.AVAILABLE, -payout.amount),
        ],
    )


# -- loading ----------------------------------------------------------------------------


def lock_payout(payout_id: int) -> Payout:
    return lock_or_404(Payout, payout_id, message="Payout not found")


def payee(payout: Payout) -> User:
    if payout.party == Party.SUPPLIER:
        return db.session.get(SupplierProfile, payout.supplier_id).user
    return db.session.get(User, payout.agent_id)


def payout_notice(payout: Payout, what: str) -> None:
    """Tell the payee a payout was sent, completed or failed (in the app and by email)."""
    amount = format_money(payout.amount)
    titles = {
        "sent": f"Payout of KES {amount} sent",
        "completed": f"Payout of KES {amount} completed",
        "failed": f"Payout of KES {amount} failed",
    }
    bodies = {
        "sent": f"KES {amount} is on its way to {payout.phone}.",
        "completed": f"KES {amount} was paid"
        + (f" (receipt {payout.receipt})." if payout.receipt else "."),
        "failed": f"KES {amount} could not be sent: {payout.failure_reason}. "
        "The money is back in your available balance.",
    }
    user = payee(payout)
    path = "/supplier/payouts" if payout.party == Party.SUPPLIER else "/delivery/payouts"
    notify(
        user,
        f"payout-{what}",
        title=titles[what],
        body=bodies[what],
        path=path,
        email=(titles[what], f"payout_{what}"),
        user=user,
        payout=payout,
        amount=amount,
        payouts_path=path,
    )


# -- checks -----------------------------------------------------------------------------


def check_amount(amount: Decimal) -> None:
    """Whole shillings, 10 to 250,000 (a 400: the request itself is wrong)."""
    if amount != amount.to_integral_value() or not MINIMUM <= amount <= MAXIMUM:
        raise BadRequest(
            "A payout is whole shillings, from KES 10 to KES 250,000",
            code="VALIDATION_ERROR",
            details={"amount": ["Must be whole shillings, from 10 to 250000."]},
        )


def check_supplier(supplier: SupplierProfile) -> None:
    if not supplier.mpesa_payout_number:
        raise Unprocessable(
            "This supplier has no M-Pesa payout number",
            code="PAYOUT_NUMBER_MISSING",
            details={"supplier_id": supplier.id},
        )
    if not accepted_current_terms(supplier):
        raise Unprocessable(
            "This supplier has not accepted the current supplier terms",
            code="TERMS_NOT_ACCEPTED",
            details={"supplier_id": supplier.id},
        )


def check_available(
    party: Party, party_id: int, amount: Decimal, *, available: Decimal | None = None
) -> Decimal:
    """``amount`` is at most what the payee may be paid: ``available`` when given (a
    domain's own rule, e.g. an agent's earnings less cash held), else the balance."""
    if available is None:
        available = party_balances(party, party_id).available
    if amount > available:
        raise Unprocessable(
            "The amount is more than the available balance",
            code="INSUFFICIENT_BALANCE",
            details={"available": format_money(available), "requested": format_money(amount)},
        )
    return available


def ensure_none_open(party: Party, party_id: int) -> None:
    column = Payout.supplier_id if party == Party.SUPPLIER else Payout.agent_id
    open_payout = db.session.scalar(
        select(Payout).where(
            column == party_id,
            Payout.status.in_([PayoutStatus.PENDING, PayoutStatus.PROCESSING]),
        )
    )
    if open_payout is not None:
        raise Conflict(
            "A payout to this payee is already in progress",
            code="PAYOUT_IN_PROGRESS",
            details={"payout_id": open_payout.id, "status": str(open_payout.status)},
        )


def lock_supplier(supplier_id: int) -> SupplierProfile:
    supplier = lock_row(SupplierProfile, supplier_id)
    if supplier is None or not supplier.is_approved:
        raise NotFound("Supplier not found")
    return supplier


# -- creating and sending ----------------------------------------------------------------


def create_payout(
    party: Party,
    party_id: int,
    amount: Decimal,
    phone: str,
    *,
    period: str | None = None,
    actor_id: int | None = None,
) -> Payout:
    """A PENDING payout with its first B2C attempt (nothing sent yet). The caller has
    locked the payee and checked what may be paid."""
    owner = {"supplier_id": party_id} if party == Party.SUPPLIER else {"agent_id": party_id}
    payout = Payout(
        party=party,
        amount=amount,
        phone=phone,
        period=period,
        status=PayoutStatus.PENDING,
        method=PayoutMethod.MPESA,
        requested_by_id=actor_id,
        attempts=0,
        **owner,
    )
    db.session.add(payout)
    db.session.flush()
    new_attempt(payout)
    return payout


def new_attempt(payout: Payout) -> None:
    """A new B2C transfer (a new OriginatorConversationID) for the payout."""
    disbursement = transfers.create_disbursement(
        DisbursementPurpose.PAYOUT,
        payout.id,
        phone=payout.phone,
        amount=payout.amount,
        remarks=f"Quantum Gear payout {payout.id}",
        occasion=payout.period or "Payout",
    )
    payout.disbursement_id = disbursement.id
    payout.attempts += 1
    db.session.flush()


def pay_supplier(supplier_id: int, amount: Decimal | None, *, actor_id: int) -> Payout:
    """A payout of ``amount`` (default: the whole available balance in whole shillings),
    written PENDING with its transfer; ``dispatch`` sends it once committed."""
    if amount is not None:
        check_amount(amount)
    supplier = lock_supplier(supplier_id)
    check_supplier(supplier)
    ensure_none_open(Party.SUPPLIER, supplier.id)
    available = party_balances(Party.SUPPLIER, supplier.id).available
    if amount is None:
        amount = whole_shillings_down(available)
        if amount < MINIMUM:
            raise Unprocessable(
                "The available balance is below KES 10, the smallest payout",
                code="INSUFFICIENT_BALANCE",
                details={"available": format_money(available)},
            )
    check_available(Party.SUPPLIER, supplier.id, amount, available=available)
    payout = create_payout(
        Party.SUPPLIER, supplier.id, amount, supplier.mpesa_payout_number, actor_id=actor_id
    )
    record_audit(
        "payout.created", payout, actor_id=actor_id, details={"amount": format_money(amount)}
    )
    return payout


def dispatch(payout: Payout) -> Payout:
    """Send the payout's PENDING transfer. Commits (before and after the HTTP call).
    Daraja down or refusing -> 502 ``PROVIDER_ERROR`` naming the payout, left PENDING;
    no answer in time -> 502 too, the payout PROCESSING and ``unknown`` (never resent)."""
    disbursement_id = payout.disbursement_id
    db.session.commit()
    outcome = transfers.send([disbursement_id])[disbursement_id]
    db.session.refresh(payout)
    if outcome.refused or outcome.unknown:
        details = dict(outcome.error.details or {})
        details |= {"payout_id": payout.id, "status": str(payout.status)}
        if outcome.unknown:
            details["unknown"] = True
            message = (
                "M-Pesa did not confirm the request; the payout is in flight and its "
                "outcome will be checked with M-Pesa"
            )
        else:
            message = f"{outcome.error.message}; the payout is left PENDING"
        raise ProviderError(message, details=details)
    if outcome.status == "SKIPPED":
        raise Conflict(
            "This payout is already being sent",
            code="PAYOUT_IN_PROGRESS",
            details={"payout_id": payout.id, "status": str(payout.status)},
        )
    return payout


def prepare_resend(
    payout_id: int,
    *,
    actor_id: int,
    payable: Callable[[int], Decimal] | None = None,
) -> Payout:
    """``POST /admin/payouts/<id>/mpesa``: a PENDING payout is sent again (its transfer
    was never sent, or refused); a FAILED one gets a new attempt (new
    OriginatorConversationID) to the payee's current number if the money is available
    (``payable(payee id)``: the payee's own rule of what may be paid, checked once the
    payout is locked; default: the available balance)."""
    payout = lock_payout(payout_id)
    if payout.status == PayoutStatus.PENDING:
        current = payout.disbursement
        if current is not None and current.status in (
            DisbursementStatus.SENDING,
            DisbursementStatus.SENT,
        ):
            raise Conflict(
                "This payout is already in flight",
                code="PAYOUT_IN_PROGRESS",
                details={"payout_id": payout.id},
            )
        if current is None or current.status != DisbursementStatus.PENDING:
            new_attempt(payout)
        return payout
    if payout.status != PayoutStatus.FAILED:
        raise Conflict(
            f"A payout that is {payout.status} cannot be sent",
            code="INVALID_TRANSITION",
            details={"payout_id": payout.id, "status": str(payout.status)},
        )
    phone = _current_number(payout)
    ensure_none_open(payout.party, payout.party_id)
    check_available(
        payout.party,
        payout.party_id,
        payout.amount,
        available=None if payable is None else payable(payout.party_id),
    )
    payout.phone = phone
    payout.status = PayoutStatus.PENDING
    payout.failure_reason = None
    new_attempt(payout)
    record_audit("payout.retried", payout, actor_id=actor_id)
    return payout


def _current_number(payout: Payout) -> str:
    if payout.party == Party.SUPPLIER:
        supplier = lock_supplier(payout.supplier_id)
        check_supplier(supplier)
        return supplier.mpesa_payout_number
    return payout.phone


def _withdraw_unsent_attempt(payout_id: int) -> Payout:
    """Cancel a PENDING payout's unsent transfer (before locking the payout: transfers
    are always locked before their payout), then lock the payout."""
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("Payout not found")
    attempt = payout.disbursement
    if (
        payout.status == PayoutStatus.PENDING
        and attempt is not None
        and attempt.status == DisbursementStatus.PENDING
    ):
        transfers.cancel_disbursement(attempt)  # 409 once it is being sent
    return lock_payout(payout_id)


def cancel_payout(payout_id: int, *, actor_id: int) -> Payout:
    """Only PENDING (never sent) or FAILED payouts; the money stays available."""
    payout = _withdraw_unsent_attempt(payout_id)
    if payout.status not in (PayoutStatus.PENDING, PayoutStatus.FAILED):
        raise Conflict(
            f"A payout that is {payout.status} cannot be cancelled",
            code="INVALID_TRANSITION",
            details={"payout_id": payout.id, "status": str(payout.status)},
        )
    if payout.disbursement is not None and payout.disbursement.in_flight:
        raise Conflict(
            "This payout is being sent", code="PAYOUT_IN_PROGRESS", details={"payout_id": payout.id}
        )
    payout.status = PayoutStatus.CANCELLED
    payout.cancelled_at = utcnow()
    db.session.flush()
    record_audit("payout.cancelled", payout, actor_id=actor_id)
    return payout


def process_manually(
    payout_id: int, method: PayoutMethod, reference: str, *, actor_id: int
) -> Payout:
    """Record a PENDING or FAILED payout as paid outside the API (bank transfer, M-Pesa
    portal, cash) with its reference: the same entries as a B2C payout, once."""
    if method == PayoutMethod.MPESA:
        raise Unprocessable("Use the M-Pesa send for B2C payouts", code="INVALID_METHOD")
    payout = _withdraw_unsent_attempt(payout_id)
    if payout.status not in (PayoutStatus.PENDING, PayoutStatus.FAILED) or (
        payout.disbursement is not None and payout.disbursement.in_flight
    ):
        raise Conflict(
            f"A payout that is {payout.status} cannot be recorded as paid",
            code="INVALID_TRANSITION",
            details={"payout_id": payout.id, "status": str(payout.status)},
        )
    check_available(payout.party, payout.party_id, payout.amount)
    key = f"manual-{payout.id}"
    post_many(
        [
            sent_posting(payout, f"{EntryKind.PAYOUT_SENT}:{key}"),
            confirmed_posting(
                payout, f"{EntryKind.PAYOUT_CONFIRMED}:{key}", MANUAL_CLEARING[method]
            ),
        ]
    )
    now = utcnow()
    payout.status = PayoutStatus.COMPLETED
    payout.method = method
    payout.reference = reference
    payout.failure_reason = None
    payout.sent_at = payout.sent_at or now
    payout.completed_at = now
    db.session.flush()
    record_audit(
        "payout.processed_manually",
        payout,
        actor_id=actor_id,
        details={"method": str(method), "reference": reference},
    )
    payout_notice(payout, "completed")
    return payout
