"""Sending B2C transfers and acting on what Daraja says about them (see the package doc).

``create_disbursement``/``create_disbursements``, ``cancel_disbursement`` and
``handle_callback`` flush and never commit. ``send`` is a boundary: it commits the claim
before the HTTP calls and the answers after them, so a callback that races the answer
finds the transfer, and a crash leaves it SENDING (re-sent only with the same
OriginatorConversationID, never paid twice).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, insert, or_, select, update

from app.db import utcnow
from app.disbursements.models import (
    CallbackKind,
    CallbackOutcome,
    Disbursement,
    DisbursementCallback,
    DisbursementPurpose,
)
from app.disbursements.models import DisbursementStatus as S
from app.errors import ApiError, Conflict
from app.extensions import db
from app.services import mpesa_gateway
from app.services.http import ProviderTimeout
from app.services.mpesa import (
    DuplicateRequest,
    MalformedCallback,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_transaction_status_result,
)
from app.signals import disbursement_settled, disbursements_sent

log = logging.getLogger(__name__)
Out = CallbackOutcome
# Daraja's limits of one B2C transfer: whole shillings, KES 10 to 250,000.
B2C_MINIMUM = Decimal("10")
B2C_MAXIMUM = Decimal("250000")


def new_originator_conversation_id(purpose: DisbursementPurpose) -> str:
    """Ours, unique per attempt: ``QG-PAYOUT-<20 hex>``."""
    return f"QG-{purpose}-{secrets.token_hex(10)}"


def _row(
    purpose: DisbursementPurpose,
    subject_id: int,
    phone: str,
    amount: Decimal,
    remarks: str,
    occasion: str | None,
) -> dict:
    if amount != amount.to_integral_value() or not B2C_MINIMUM <= amount <= B2C_MAXIMUM:
        raise ValueError(f"a B2C transfer is whole shillings, 10 to 250,000: {amount}")
    now = utcnow()
    return {
        "purpose": DisbursementPurpose(purpose),
        "subject_id": subject_id,
        "phone": phone,
        "amount": amount,
        "remarks": remarks[:100],
        "occasion": occasion[:100] if occasion else None,
        "originator_conversation_id": new_originator_conversation_id(purpose),
        "status": S.PENDING,
        "unknown": False,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def create_disbursement(
    purpose: DisbursementPurpose,
    subject_id: int,
    *,
    phone: str,
    amount: Decimal,
    remarks: str,
    occasion: str | None = None,
) -> Disbursement:
    """Write a PENDING transfer (nothing is sent until ``send``). A subject with a
    transfer still open (PENDING, SENDING, SENT) cannot have another: IntegrityError."""
    disbursement = Disbursement(**_row(purpose, subject_id, phone, amount, remarks, occasion))
    db.session.add(disbursement)
    db.session.flush()
    return disbursement


def create_disbursements(
    purpose: DisbursementPurpose, transfers: Sequence[tuple[int, str, Decimal, str]]
) -> dict[int, int]:
    """Many PENDING transfers in one statement: (subject id, phone, amount, remarks) ->
    ``{subject id: disbursement id}``."""
    if not transfers:
        return {}
    rows = [_row(purpose, *transfer, None) for transfer in transfers]
    result = db.session.execute(
        insert(Disbursement).returning(Disbursement.subject_id, Disbursement.id), rows
    )
    return dict(result.all())


def cancel_disbursement(disbursement: Disbursement) -> None:
    """Withdraw a transfer that was never sent; one in flight or final: 409."""
    moved = db.session.execute(
        update(Disbursement)
        .where(Disbursement.id == disbursement.id, Disbursement.status == S.PENDING)
        .values(status=S.CANCELLED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.refresh(disbursement)
        raise Conflict(
            f"A transfer that is {disbursement.status} cannot be cancelled",
            code="INVALID_TRANSITION",
            details={"disbursement_id": disbursement.id, "status": str(disbursement.status)},
        )
    db.session.refresh(disbursement)


# -- sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """What one request did: ACCEPTED, UNKNOWN (maybe sent: a timeout, a duplicate),
    REFUSED (not sent; back to PENDING), SKIPPED (not PENDING: nothing was sent)."""

    disbursement_id: int
    status: str
    conversation_id: str | None = None
    error: ApiError | None = None

    @property
    def refused(self) -> bool:
        return self.status == "REFUSED"

    @property
    def unknown(self) -> bool:
        return self.status == "UNKNOWN"


def send(ids: Iterable[int], *, resend_in_flight: bool = False) -> dict[int, SendOutcome]:
    """Send these PENDING transfers (with ``resend_in_flight``, also those left SENDING by
    a crash, under the same OriginatorConversationID). Commits: see the module doc."""
    ids = sorted(set(ids))
    claimable = [S.PENDING, S.SENDING] if resend_in_flight else [S.PENDING]
    now = utcnow()
    claimed = db.session.execute(
        update(Disbursement)
        .where(Disbursement.id.in_(ids), Disbursement.status.in_(claimable))
        .values(status=S.SENDING, attempts=Disbursement.attempts + 1, sent_at=now, updated_at=now)
        .returning(
            Disbursement.id,
            Disbursement.originator_conversation_id,
            Disbursement.phone,
            Disbursement.amount,
            Disbursement.remarks,
            Disbursement.occasion,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    outcomes = {i: SendOutcome(i, "SKIPPED") for i in ids}
    gateway = mpesa_gateway()
    rows = sorted(claimed)
    if gateway.concurrency > 1 and len(rows) > 1:  # requests in parallel, no app context
        with ThreadPoolExecutor(max_workers=min(gateway.concurrency, len(rows))) as pool:
            answers = list(pool.map(lambda row: _request(gateway, row), rows))
    else:
        answers = [_request(gateway, row) for row in rows]
    outcomes |= {answer.disbursement_id: answer for answer in answers}
    _record(outcomes)
    db.session.commit()
    return outcomes


def _request(gateway, row) -> SendOutcome:
    try:
        accepted = gateway.b2c_payment(
            originator_conversation_id=row.originator_conversation_id,
            phone=row.phone,
            amount=row.amount,
            remarks=row.remarks,
            occasion=row.occasion,
        )
    except (ProviderTimeout, DuplicateRequest) as exc:  # it may have gone out
        log.warning("B2C %s: outcome unknown (%s)", row.originator_conversation_id, exc.message)
        return SendOutcome(row.id, "UNKNOWN", error=exc)
    except ApiError as exc:  # refused or unreachable: nothing was sent
        log.warning("B2C %s refused: %s", row.originator_conversation_id, exc.message)
        return SendOutcome(row.id, "REFUSED", error=exc)
    return SendOutcome(row.id, "ACCEPTED", conversation_id=accepted.conversation_id or None)


def _record(outcomes: dict[int, SendOutcome]) -> None:
    """A constant number of single statements for the whole batch (no per-row UPDATE):
    refusals back to PENDING, the others' ConversationIDs, unknown flags, and SENT for
    those no racing callback settled first (locked, so each is announced once)."""
    table = Disbursement.__table__
    now = utcnow()
    refused = [o for o in outcomes.values() if o.refused]
    if refused:
        db.session.execute(
            update(table)
            .where(
                table.c.id.in_([o.disbursement_id for o in refused]), table.c.status == S.SENDING
            )
            .values(
                status=S.PENDING,
                last_error=case(
                    {o.disbursement_id: o.error.message[:500] for o in refused}, value=table.c.id
                ),
                updated_at=now,
            )
        )
    out = {o.disbursement_id: o for o in outcomes.values() if o.status in ("ACCEPTED", "UNKNOWN")}
    if not out:
        return
    statuses = dict(
        db.session.execute(
            select(table.c.id, table.c.status)
            .where(table.c.id.in_(list(out)))
            .order_by(table.c.id)
            .with_for_update()
        ).all()
    )
    conversations = {i: o.conversation_id for i, o in out.items() if o.conversation_id}
    if conversations:
        db.session.execute(
            update(table)
            .where(table.c.id.in_(list(conversations)), table.c.conversation_id.is_(None))
            .values(conversation_id=case(conversations, value=table.c.id), updated_at=now)
        )
    unknown = [i for i, o in out.items() if o.unknown and statuses[i] in (S.SENDING, S.SENT)]
    if unknown:
        db.session.execute(
            update(table)
            .where(table.c.id.in_(unknown))
            .values(
                unknown=True,
                last_error=case({i: out[i].error.message[:500] for i in unknown}, value=table.c.id),
                updated_at=now,
            )
        )
    sending = [i for i, status in statuses.items() if status == S.SENDING]
    if not sending:
        return
    db.session.execute(
        update(table).where(table.c.id.in_(sending)).values(status=S.SENT, updated_at=now)
    )
    announce_sent(_locked(sending))


def _locked(ids: Iterable[int]) -> list[Disbursement]:
    return list(
        db.session.scalars(
            select(Disbursement)
            .where(Disbursement.id.in_(list(ids)))
            .order_by(Disbursement.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def announce_sent(disbursements: Sequence[Disbursement]) -> None:
    """``disbursements_sent`` once per purpose for transfers that just became SENT."""
    by_purpose: dict[DisbursementPurpose, list[Disbursement]] = defaultdict(list)
    for disbursement in disbursements:
        by_purpose[disbursement.purpose].append(disbursement)
    for purpose, group in by_purpose.items():
        disbursements_sent.send(purpose, disbursements=group)


def _mark_sent(disbursement: Disbursement) -> None:
    """A result proves the request went out, whatever our side recorded so far (even a
    transfer cancelled after Daraja seemed to refuse it: the money moved)."""
    if disbursement.status in (S.PENDING, S.SENDING, S.CANCELLED):
        disbursement.status = S.SENT
        disbursement.sent_at = disbursement.sent_at or utcnow()
        db.session.flush()
        announce_sent([disbursement])


def _settle(
    disbursement: Disbursement,
    status: S,
    *,
    code: str | None,
    desc: str | None,
    receipt: str | None = None,
    amount: Decimal | None = None,
) -> None:
    _mark_sent(disbursement)
    disbursement.status = status
    disbursement.unknown = False
    disbursement.result_code = code[:32] if code else None
    disbursement.result_desc = desc[:500] if desc else None
    disbursement.receipt = receipt
    disbursement.amount_reported = amount
    disbursement.settled_at = utcnow()
    db.session.flush()
    disbursement_settled.send(disbursement, status=status)


# -- callbacks ---------------------------------------------------------------------------


def record_callback(
    kind: CallbackKind, raw_body: bytes, *, authentic: bool
) -> DisbursementCallback:
    """Store a callback as received, before anything acts on it (bad bytes kept as U+FFFD)."""
    callback = DisbursementCallback(
        kind=kind,
        payload=raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        authentic=authentic,
        outcome=None if authentic else Out.REJECTED,
    )
    db.session.add(callback)
    db.session.flush()
    return callback


def _finish(
    callback: DisbursementCallback,
    outcome: str,
    detail: str | None = None,
    *,
    external_id: str | None = None,
    disbursement: Disbursement | None = None,
) -> str:
    callback.outcome = outcome
    callback.detail = detail[:500] if detail else None
    callback.external_id = external_id[:100] if external_id else callback.external_id
    if disbursement is not None:
        callback.disbursement_id = disbursement.id
    callback.processed_at = utcnow()
    db.session.flush()
    return outcome


def _find(*, originator: str | None = None, conversation: str | None = None, query=None):
    conditions = []
    if originator:
        conditions.append(Disbursement.originator_conversation_id == originator)
    if conversation:
        conditions.append(Disbursement.conversation_id == conversation)
    if query:
        conditions.append(Disbursement.status_query_id == query)
    if not conditions:
        return None
    # One locked read. The row is chosen by id (the subquery runs once, before the lock
    # is waited for): a transfer whose status query id changes meanwhile is still found.
    found = select(Disbursement.id).where(or_(*conditions)).limit(1).scalar_subquery()
    return db.session.scalar(
        select(Disbursement)
        .where(Disbursement.id == found)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def handle_callback(callback: DisbursementCallback) -> str:
    """Act on a stored callback once; what it did is its ``outcome``."""
    try:
        body = json.loads(callback.payload)
        handler = HANDLERS[callback.kind]
        return handler(callback, body)
    except (ValueError, MalformedCallback) as exc:
        return _finish(callback, Out.MALFORMED, str(exc))


def _target(callback: DisbursementCallback, external_id: str | None, **ids):
    """The transfer a callback names, locked, or the outcome when there is none to act
    on (an unknown id is kept for reconciliation; a final transfer makes a duplicate)."""
    disbursement = _find(**ids)
    if disbursement is None:
        outcome = _finish(
            callback, Out.UNKNOWN_TRANSFER, "No transfer has this id", external_id=external_id
        )
        return None, outcome
    if disbursement.status in (S.COMPLETED, S.FAILED):
        outcome = _finish(
            callback,
            Out.DUPLICATE,
            f"already {disbursement.status}",
            external_id=external_id,
            disbursement=disbursement,
        )
        return None, outcome
    return disbursement, None


def _on_result(callback: DisbursementCallback, body) -> str:
    result = parse_b2c_result(body)
    external_id = result.originator_conversation_id or result.conversation_id
    disbursement, done = _target(
        callback,
        external_id,
        originator=result.originator_conversation_id,
        conversation=result.conversation_id,
    )
    if done:
        return done
    if disbursement.conversation_id is None and result.conversation_id:
        disbursement.conversation_id = result.conversation_id
    if not result.succeeded:
        _settle(disbursement, S.FAILED, code=result.result_code, desc=result.result_desc)
        return _finish(callback, Out.FAILED, external_id=external_id, disbursement=disbursement)
    if result.amount != disbursement.amount:
        return _flag_mismatch(callback, disbursement, result.amount, external_id)
    _settle(
        disbursement,
        S.COMPLETED,
        code=result.result_code,
        desc=result.result_desc,
        receipt=result.receipt or result.transaction_id,
        amount=result.amount,
    )
    return _finish(callback, Out.COMPLETED, external_id=external_id, disbursement=disbursement)


def _flag_mismatch(callback, disbursement: Disbursement, amount, external_id) -> str:
    """A success for another amount is never a completion: in flight, for a human."""
    _mark_sent(disbursement)
    disbursement.unknown = True
    disbursement.amount_reported = amount
    disbursement.last_error = f"M-Pesa reported {amount} for a transfer of {disbursement.amount}"
    return _finish(
        callback,
        Out.AMOUNT_MISMATCH,
        disbursement.last_error,
        external_id=external_id,
        disbursement=disbursement,
    )


def _on_timeout(callback: DisbursementCallback, body) -> str:
    timeout = parse_b2c_timeout(body)
    external_id = timeout.originator_conversation_id or timeout.conversation_id
    disbursement, done = _target(
        callback,
        external_id,
        originator=timeout.originator_conversation_id,
        conversation=timeout.conversation_id,
    )
    if done:
        return done
    _mark_sent(disbursement)
    disbursement.unknown = True
    disbursement.last_error = "M-Pesa queue timeout: outcome unknown until a status query"
    return _finish(
        callback, Out.UNKNOWN_FLAGGED, external_id=external_id, disbursement=disbursement
    )


def _on_status_result(callback: DisbursementCallback, body) -> str:
    status = parse_transaction_status_result(body)
    external_id = status.transfer_originator_conversation_id or status.query_conversation_id
    disbursement, done = _target(
        callback,
        external_id,
        originator=status.transfer_originator_conversation_id,
        conversation=status.transfer_conversation_id,
        query=status.query_conversation_id,
    )
    if done:
        return done
    if status.completed:
        if status.amount is not None and status.amount != disbursement.amount:
            return _flag_mismatch(callback, disbursement, status.amount, external_id)
        _settle(
            disbursement,
            S.COMPLETED,
            code=status.result_code,
            desc=f"Transaction Status: {status.status}",
            receipt=status.receipt,
            amount=status.amount,
        )
        return _finish(callback, Out.COMPLETED, external_id=external_id, disbursement=disbursement)
    if status.failed:
        _settle(
            disbursement,
            S.FAILED,
            code=status.result_code,
            desc=f"Transaction Status: {status.status}",
        )
        return _finish(callback, Out.FAILED, external_id=external_id, disbursement=disbursement)
    detail = f"{status.result_code} {status.result_desc or ''} {status.status or ''}".strip()
    return _finish(
        callback, Out.STILL_UNKNOWN, detail, external_id=external_id, disbursement=disbursement
    )


def _on_status_timeout(callback: DisbursementCallback, body) -> str:
    timeout = parse_b2c_timeout(body)
    disbursement = _find(query=timeout.conversation_id)
    return _finish(
        callback,
        Out.STILL_UNKNOWN,
        "The status query timed out",
        external_id=timeout.conversation_id or timeout.originator_conversation_id,
        disbursement=disbursement,
    )


HANDLERS = {
    CallbackKind.B2C_RESULT: _on_result,
    CallbackKind.B2C_TIMEOUT: _on_timeout,
    CallbackKind.STATUS_RESULT: _on_status_result,
    CallbackKind.STATUS_TIMEOUT: _on_status_timeout,
}


def query_status(disbursement: Disbursement, *, now=None) -> None:
    """Ask Transaction Status about a transfer; its Result settles it later (flushes;
    a provider error is recorded and raised)."""
    disbursement.status_checked_at = now or utcnow()
    try:
        accepted = mpesa_gateway().transaction_status(disbursement.originator_conversation_id)
    except ApiError as exc:
        disbursement.last_error = f"status query: {exc.message}"[:500]
        db.session.flush()
        raise
    disbursement.status_query_id = accepted.conversation_id or None
    db.session.flush()
