"""Payouts follow their B2C transfers (``app/signals.py``): sent -> PROCESSING with the
money in flight; settled -> COMPLETED (paid out) or FAILED (money back to available)."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from app.db import utcnow
from app.disbursements.models import Disbursement, DisbursementPurpose, DisbursementStatus
from app.extensions import db
from app.ledger.models import AccountCode, EntryKind
from app.ledger.operations import post_many
from app.payouts.models import Payout, PayoutStatus
from app.payouts.operations import (
    confirmed_posting,
    failed_posting,
    lock_payout,
    payout_notice,
    sent_posting,
)
from app.signals import disbursement_settled, disbursements_sent

log = logging.getLogger(__name__)


@disbursements_sent.connect
def payouts_sent(purpose, *, disbursements: list[Disbursement], **_: object) -> None:
    """A constant number of statements per batch: the payouts, their entries, their update.
    Only a payout sent on its own (an admin's) tells its payee now; a run's payees hear
    when M-Pesa confirms."""
    if purpose != DisbursementPurpose.PAYOUT:
        return
    by_subject = {d.subject_id: d for d in disbursements}
    payouts = db.session.scalars(
        select(Payout).where(Payout.id.in_(list(by_subject))).order_by(Payout.id)
    ).all()
    post_many(
        [
            sent_posting(payout, f"{EntryKind.PAYOUT_SENT}:{by_subject[payout.id].id}")
            for payout in payouts
        ]
    )
    db.session.execute(
        update(Payout)
        .where(Payout.id.in_([payout.id for payout in payouts]))
        .values(status=PayoutStatus.PROCESSING, sent_at=utcnow())
    )
    if len(payouts) == 1:
        payout_notice(payouts[0], "sent")


@disbursement_settled.connect
def payout_settled(disbursement: Disbursement, *, status: str, **_: object) -> None:
    if disbursement.purpose != DisbursementPurpose.PAYOUT:
        return
    payout = lock_payout(disbursement.subject_id)
    if status == DisbursementStatus.COMPLETED:
        post_many(
            [
                confirmed_posting(
                    payout,
                    f"{EntryKind.PAYOUT_CONFIRMED}:{disbursement.id}",
                    AccountCode.MPESA_CLEARING,
                )
            ]
        )
        payout.status = PayoutStatus.COMPLETED
        payout.receipt = disbursement.receipt
        payout.completed_at = disbursement.settled_at
        payout.failure_reason = None
        db.session.flush()
        payout_notice(payout, "completed")
        return
    post_many([failed_posting(payout, f"{EntryKind.PAYOUT_FAILED}:{disbursement.id}")])
    payout.status = PayoutStatus.FAILED
    payout.failed_at = disbursement.settled_at
    reason = disbursement.result_desc or "M-Pesa refused the transfer"
    payout.failure_reason = f"{reason} (M-Pesa result {disbursement.result_code})"[:500]
    db.session.flush()
    payout_notice(payout, "failed")
