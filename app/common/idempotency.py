"""``Idempotency-Key`` for unsafe endpoints (API.md, "Idempotency").

The first request with a key claims it (a row, committed before the view runs; the
unique (user, key) constraint settles two identical first requests racing). When the
view finishes, its response (2xx or 4xx) is stored and replayed for the same key and
body; a 5xx or crash releases the key so the client may retry. A key whose worker
died is released after ``IDEMPOTENCY_LOCK_TIMEOUT_SECONDS``; keys live 24 hours.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from flask import Response, current_app, g, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.common.models import IdempotencyKey
from app.db import utcnow
from app.errors import BadRequest, Conflict, Unprocessable
from app.extensions import db

HEADER = "Idempotency-Key"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _find(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )


def _claim(user_id: int, key: str, fingerprint: str) -> IdempotencyKey | Response:
    """Own the key (returns the row) or answer for it (returns the replayed response)."""
    now = utcnow()
    ttl = timedelta(hours=current_app.config["IDEMPOTENCY_KEY_TTL_HOURS"])
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < now - ttl,
        )
    )
    record = IdempotencyKey(
        user_id=user_id,
        key=key,
        method=request.method,
        path=request.path[:255],
        fingerprint=fingerprint,
        locked_at=now,
        created_at=now,
    )
    db.session.add(record)
    try:
        db.session.commit()
        return record
    except IntegrityError:
        db.session.rollback()

    existing = _find(user_id, key)
    if existing is None:  # released between our insert and this read: let the client retry
        raise Conflict("This request is already being processed", code="IDEMPOTENCY_IN_PROGRESS")
    if existing.fingerprint != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request",
            code="IDEMPOTENCY_KEY_REUSED",
        )
    if existing.response_status is not None:
        replay = Response(
            existing.response_body, status=existing.response_status, mimetype="application/json"
        )
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    stale_before = now - timedelta(seconds=current_app.config["IDEMPOTENCY_LOCK_TIMEOUT_SECONDS"])
    taken = db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == existing.id, IdempotencyKey.locked_at < stale_before)
        .values(locked_at=now)
    ).rowcount
    db.session.commit()
    if taken == 1:
        return db.session.get(IdempotencyKey, existing.id)
    raise Conflict("This request is already being processed", code="IDEMPOTENCY_IN_PROGRESS")


def _release(record_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
    db.session.commit()


def idempotent(view):
    """Honour ``Idempotency-Key`` on an authenticated view.

    Place it under the auth decorator (it needs the caller) and above ``@blp.response``
    (it stores the finished JSON response)::

        @blp.route("/orders", methods=["POST"])
        @blp.arguments(CheckoutSchema)
        @customer_required
        @idempotent
        @blp.response(201, OrderSchema, message="Order created")
        def create_order(data): ...
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise BadRequest(
                "Idempotency-Key must be 1 to 255 characters",
                code="VALIDATION_ERROR",
                details={HEADER: ["Length must be between 1 and 255."]},
            )
        user_id = g.get("user_id")
        if user_id is None:
            raise RuntimeError("@idempotent needs an authenticated view")

        claimed = _claim(user_id, key, _fingerprint())
        if isinstance(claimed, Response):
            return claimed
        record_id = claimed.id
        try:
            response = make_response(view(*args, **kwargs))
        except Exception as error:
            # Answer as the error handlers would, so that a 4xx is stored and replayed;
            # whatever the view had written is rolled back first.
            db.session.rollback()
            response = make_response(current_app.handle_user_exception(error))
        except BaseException:
            _release(record_id)
            raise
        if response.status_code >= 500:
            _release(record_id)
            return response
        db.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == record_id)
            .values(
                response_status=response.status_code,
                response_body=response.get_data(as_text=True),
                locked_at=None,
            )
        )
        db.session.commit()
        return response

    return wrapper


def purge_expired_idempotency_keys() -> int:
    """Scheduled: forget keys older than their 24-hour lifetime."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_TTL_HOURS"])
    removed = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
    ).rowcount
    db.session.commit()
    return removed
