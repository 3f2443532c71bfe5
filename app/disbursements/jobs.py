"""Scheduled B2C work: no transfer depends on a callback arriving."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, or_, select

from app.db import utcnow
from app.disbursements.models import (
    IN_FLIGHT_STATUSES,
    CallbackOutcome,
    Disbursement,
    DisbursementCallback,
)
from app.disbursements.operations import handle_callback, query_status
from app.errors import ApiError
from app.extensions import db

log = logging.getLogger(__name__)
BATCH = 100
REPLAY_FOR = timedelta(days=7)


def reconcile_disbursements(now=None) -> dict[str, int]:
    """Replay callbacks that came before their transfer was known, then ask Transaction
    Status about transfers in flight longer than PAYOUT_RECONCILE_AFTER_MINUTES (and not
    asked within that time). One commit per transfer: one provider error holds back none
    of the others. The answers arrive at the status ResultURL and settle them there."""
    now = now or utcnow()
    counts = {"replayed": 0, "queried": 0, "errors": 0}
    for callback_id in _early_callbacks(now):
        handle_callback(db.session.get(DisbursementCallback, callback_id))
        db.session.commit()
        counts["replayed"] += 1
    after = timedelta(minutes=current_app.config["PAYOUT_RECONCILE_AFTER_MINUTES"])
    stale = db.session.scalars(
        select(Disbursement.id)
        .where(
            Disbursement.status.in_(IN_FLIGHT_STATUSES),
            Disbursement.sent_at < now - after,
            or_(
                Disbursement.status_checked_at.is_(None),
                Disbursement.status_checked_at < now - after,
            ),
        )
        .order_by(Disbursement.sent_at)
        .limit(BATCH)
    ).all()
    for disbursement_id in stale:
        disbursement = db.session.get(Disbursement, disbursement_id)
        try:
            query_status(disbursement, now=now)
            counts["queried"] += 1
        except ApiError as exc:
            log.warning("status query for transfer %s: %s", disbursement_id, exc.message)
            counts["errors"] += 1
        db.session.commit()
    return counts


def _early_callbacks(now) -> list[int]:
    """Stored callbacks for an unknown id that a transfer now carries."""
    known = exists().where(
        or_(
            Disbursement.originator_conversation_id == DisbursementCallback.external_id,
            Disbursement.conversation_id == DisbursementCallback.external_id,
            Disbursement.status_query_id == DisbursementCallback.external_id,
        )
    )
    return list(
        db.session.scalars(
            select(DisbursementCallback.id)
            .where(
                DisbursementCallback.outcome == CallbackOutcome.UNKNOWN_TRANSFER,
                DisbursementCallback.received_at > now - REPLAY_FOR,
                known,
            )
            .order_by(DisbursementCallback.id)
            .limit(BATCH)
        )
    )
