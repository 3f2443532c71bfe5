"""Scheduled return work: a supplier's silence is not an answer."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.returns import operations
from app.returns.models import ReturnRequest

log = logging.getLogger(__name__)
BATCH = 200


def escalate_stale_returns(now: datetime | None = None) -> int:
    """Returns still waiting on their supplier past ``supplier_respond_by`` go to admin
    review (PENDING_REVIEW); returns how many. Each row is taken with SKIP LOCKED, so a
    supplier answering at that moment (who holds the row) wins, and the job leaves it."""
    now = now or utcnow()
    moved = 0
    while True:
        stale = db.session.scalars(
            select(ReturnRequest)
            .where(
                ReturnRequest.status.in_(operations.WAITING_ON_SUPPLIER),
                ReturnRequest.supplier_respond_by <= now,
            )
            .order_by(ReturnRequest.supplier_respond_by, ReturnRequest.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for ret in stale:
            operations.escalate(ret)
        moved += len(stale)
        db.session.commit()
        if len(stale) < BATCH:
            log.info("escalated %s stale returns", moved)
            return moved
