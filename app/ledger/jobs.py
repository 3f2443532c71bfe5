"""Scheduled ledger work: supplier earnings leave their hold when its time has passed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import aliased

from app.db import utcnow
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import EntryKind, LedgerAccount, LedgerEntry, LedgerLine, OrderHold
from app.ledger.operations import Line, Posting, post_many, sum_to_cents

RELEASE_BATCH = 500


def release_earnings(now: datetime | None = None, batch_size: int = RELEASE_BATCH) -> int:
    """Move each delivered item's on-hold money whose ``release_at`` has passed to the
    supplier's AVAILABLE (``hold-released:<item>``); returns the entries posted.

    Batched: a few statements per ``batch_size`` items. An item released before (by this
    run, an earlier one or a concurrent worker) has its event key taken and is skipped,
    so the job can run again at any time. A delivery undone (its entry reversed) holds
    nothing: the hold runs from the delivery that stood. An order on hold (``OrderHold``: a disputed
    delivery) waits. What is released is what the item still has on hold (a return may
    have taken part of it back); nothing left posts an entry without lines, closing the
    hold. The candidates' on-hold lines are row-locked first, as a return's debit locks
    them (``app.returns.accounting``): the sum read next already counts a return committed
    meanwhile, and a return waiting on the lock then finds the hold released and debits
    AVAILABLE instead.
    """
    now = now or utcnow()
    released = 0
    done, undone = aliased(LedgerEntry), aliased(LedgerEntry)
    while True:
        candidates = db.session.execute(
            select(LedgerLine.order_item_id, LedgerAccount.supplier_id, LedgerEntry.order_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
            .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
            .where(
                LedgerLine.release_at <= now,
                LedgerLine.order_item_id.is_not(None),
                LedgerAccount.code == A.SUPPLIER_ON_HOLD,
                ~exists().where(OrderHold.order_id == LedgerEntry.order_id),
                ~exists().where(undone.reverses_id == LedgerEntry.id),
                ~exists().where(
                    done.event_key
                    == literal(f"{EntryKind.HOLD_RELEASED}:")
                    + cast(LedgerLine.order_item_id, String)
                ),
            )
            .order_by(LedgerLine.release_at, LedgerLine.id)
            .limit(batch_size)
            .with_for_update(of=LedgerLine)
        ).all()
        if not candidates:
            return released
        on_hold = dict(
            db.session.execute(
                select(LedgerLine.order_item_id, func.sum(LedgerLine.amount))
                .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
                .where(
                    LedgerAccount.code == A.SUPPLIER_ON_HOLD,
                    LedgerLine.order_item_id.in_([item_id for item_id, _, _ in candidates]),
                )
                .group_by(LedgerLine.order_item_id)
            ).all()
        )
        postings = []
        for item_id, supplier_id, order_id in candidates:
            amount = -sum_to_cents(on_hold.get(item_id))
            lines = [
                Line(A.SUPPLIER_ON_HOLD, amount, supplier_id, item_id),
                Line(A.SUPPLIER_AVAILABLE, -amount, supplier_id, item_id),
            ]
            postings.append(
                Posting(
                    f"{EntryKind.HOLD_RELEASED}:{item_id}",
                    EntryKind.HOLD_RELEASED,
                    lines if amount > 0 else [],
                    now,
                    order_id,
                    supplier_id,
                )
            )
        released += len(post_many(postings))
        if len(candidates) < batch_size:
            return released
