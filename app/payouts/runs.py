"""Payout runs: every eligible payee of a party paid once per period, in batches.

``run_payouts(party, eligible, period=...)`` is generic: the caller gives the party and
its eligibility rule as a query; suppliers' rule is ``supplier_eligibility`` (the job
``run_supplier_payouts`` in ``jobs.py``); the delivery domain adds its agents' rule.

A batch is a constant number of statements whatever its size: pick the next payees
(no payout for this period, none open), insert their payouts and transfers, commit,
send the transfers (``app.disbursements.operations.send``: the answers are recorded and
``disbursements_sent`` moves every payout of the batch in one go). Killed half-way, the
next run of the same period first re-sends what was left PENDING or SENDING (the same
OriginatorConversationID: Daraja refuses a duplicate, so nobody is paid twice) and then
goes on with the payees not yet paid (nobody is skipped). Two runs of one party at once
on PostgreSQL: the second finds the run's advisory lock taken and does nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, and_, case, exists, func, select, text, update

from app.auth.models import SupplierProfile, User
from app.db import conflict_insert, utcnow
from app.disbursements import operations as transfers
from app.disbursements.models import Disbursement, DisbursementPurpose, DisbursementStatus
from app.extensions import db
from app.ledger.models import LedgerAccount, LedgerLine, Party, PartyRole, party_account
from app.ledger.operations import sum_to_cents
from app.payouts.models import Payout, PayoutMethod, PayoutStatus
from app.payouts.operations import MINIMUM, whole_shillings_down
from app.supplier.terms import current_terms_version

log = logging.getLogger(__name__)
RUN_BATCH = 500


@dataclass
class RunSummary:
    party: str
    period: str
    payouts: int = 0  # created by this run
    accepted: int = 0
    unknown: int = 0
    refused: int = 0  # left PENDING: Daraja down or refusing (the next run re-sends)
    resumed: int = 0  # left PENDING/SENDING by an earlier run of the period, sent again
    batches: int = 0
    skipped: bool = False  # another worker is running this party's payouts
    payout_ids: list[int] = field(default_factory=list, repr=False)


def _owner(party: Party):
    return Payout.supplier_id if party == Party.SUPPLIER else Payout.agent_id


def join_available(statement: Select, party: Party, owner) -> Select:
    """``statement`` joined to the lines of the AVAILABLE account of the party whose id is
    the column ``owner`` (``SupplierProfile.id``, ``User.id``): group by the owner and
    ``-func.sum(LedgerLine.amount)`` is what the platform owes it now."""
    account_owner = LedgerAccount.supplier_id if party == Party.SUPPLIER else LedgerAccount.agent_id
    return statement.join(
        LedgerAccount,
        and_(
            account_owner == owner,
            LedgerAccount.code == party_account(party, PartyRole.AVAILABLE),
        ),
    ).join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)


def supplier_eligibility(minimum: Decimal) -> Select:
    """Approved suppliers of active accounts, with a payout number and the current terms
    accepted, whose AVAILABLE balance is at least ``minimum``: ``(party_id, phone,
    available)``."""
    available = -func.sum(LedgerLine.amount)
    payees = select(
        SupplierProfile.id.label("party_id"),
        SupplierProfile.mpesa_payout_number.label("phone"),
        available.label("available"),
    ).join(User, User.id == SupplierProfile.user_id)
    return (
        join_available(payees, Party.SUPPLIER, SupplierProfile.id)
        .where(
            SupplierProfile.is_approved,
            User.is_active,
            SupplierProfile.mpesa_payout_number.is_not(None),
            SupplierProfile.terms_accepted_at.is_not(None),
            SupplierProfile.terms_version == current_terms_version(),
        )
        .group_by(SupplierProfile.id, SupplierProfile.mpesa_payout_number)
        .having(available >= max(minimum, MINIMUM))
    )


@contextmanager
def run_lock(party: Party, period: str) -> Iterator[bool]:
    """PostgreSQL: a session advisory lock on its own connection for the whole run
    (released if the worker dies); True when taken. SQLite has one writer: always True."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(f"payout-run:{party}".encode()).digest()[:8], "big")
    key -= 1 << 63 if key >= 1 << 63 else 0
    with db.engine.connect() as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        connection.commit()
        try:
            yield bool(taken)
        finally:
            if taken:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()


def run_payouts(
    party: Party,
    eligible: Select,
    *,
    period: str,
    batch_size: int = RUN_BATCH,
    remarks: str = "Quantum Gear payout",
) -> RunSummary:
    """Pay every payee ``eligible`` names (columns ``party_id``, ``phone``,
    ``available``) one payout for ``period``: the available balance in whole shillings
    (the cents wait for the next run). Commits per batch; see the module doc."""
    summary = RunSummary(str(party), period)
    with run_lock(party, period) as taken:
        if not taken:
            summary.skipped = True
            log.info("payout run %s %s is running elsewhere", party, period)
            return summary
        _resume(party, period, batch_size, summary)
        while True:
            picked = _next_batch(party, eligible, period, batch_size)
            if not picked:
                break
            summary.batches += 1
            ids = _create(party, period, picked, remarks)
            summary.payouts += len(ids)
            summary.payout_ids.extend(ids.values())
            db.session.commit()
            _count(summary, transfers.send(list(ids)))
            if len(picked) < batch_size:
                break
    log.info("payout run %s", summary)
    return summary


def _next_batch(party: Party, eligible: Select, period: str, batch_size: int) -> list:
    payees = eligible.subquery()
    owner = _owner(party)
    return db.session.execute(
        select(payees.c.party_id, payees.c.phone, payees.c.available)
        .where(
            ~exists().where(owner == payees.c.party_id, Payout.period == period),
            ~exists().where(
                owner == payees.c.party_id,
                Payout.status.in_([PayoutStatus.PENDING, PayoutStatus.PROCESSING]),
            ),
            payees.c.available >= MINIMUM,
        )
        .order_by(payees.c.party_id)
        .limit(batch_size)
    ).all()


def _create(party: Party, period: str, picked: list, remarks: str) -> dict[int, int]:
    """Payouts and their transfers for the batch: ``{disbursement id: payout id}``."""
    now = utcnow()
    owner_key = "supplier_id" if party == Party.SUPPLIER else "agent_id"
    other_key = "agent_id" if party == Party.SUPPLIER else "supplier_id"
    rows = []
    for party_id, phone, available in picked:
        amount = whole_shillings_down(sum_to_cents(available))
        rows.append(
            {
                "party": party,
                owner_key: party_id,
                other_key: None,
                "period": period,
                "amount": amount,
                "phone": phone,
                "status": PayoutStatus.PENDING,
                "method": PayoutMethod.MPESA,
                "attempts": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    table = Payout.__table__
    created = db.session.execute(
        conflict_insert(table)
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.phone, table.c.amount),
        rows,
    ).all()
    if not created:
        return {}
    by_payout = transfers.create_disbursements(
        DisbursementPurpose.PAYOUT,
        [
            (payout_id, phone, amount, f"{remarks} {payout_id}")
            for payout_id, phone, amount in created
        ],
    )
    db.session.execute(
        update(table)
        .where(table.c.id.in_(list(by_payout)))
        .values(disbursement_id=case(by_payout, value=table.c.id))
    )
    return {d: p for p, d in by_payout.items()}


def _resume(party: Party, period: str, batch_size: int, summary: RunSummary) -> None:
    """Send again what an earlier run of the period left PENDING or SENDING."""
    last = 0
    while True:
        ids = db.session.scalars(
            select(Disbursement.id)
            .join(Payout, Payout.disbursement_id == Disbursement.id)
            .where(
                Payout.party == party,
                Payout.period == period,
                Payout.status == PayoutStatus.PENDING,
                Disbursement.status.in_([DisbursementStatus.PENDING, DisbursementStatus.SENDING]),
                Disbursement.id > last,
            )
            .order_by(Disbursement.id)
            .limit(batch_size)
        ).all()
        db.session.commit()
        if not ids:
            return
        summary.resumed += len(ids)
        _count(summary, transfers.send(ids, resend_in_flight=True))
        last = ids[-1]


def _count(summary: RunSummary, outcomes) -> None:
    for outcome in outcomes.values():
        if outcome.status == "ACCEPTED":
            summary.accepted += 1
        elif outcome.unknown:
            summary.unknown += 1
        elif outcome.refused:
            summary.refused += 1
