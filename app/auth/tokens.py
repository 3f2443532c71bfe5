"""Login sessions, the JWT pairs bound to them, their revocation, and signed email links.

Every login opens a ``Session`` row; its access and refresh tokens carry the session id
(``sid``). The refresh token's ``jti`` is the session's current one: refreshing rotates
it, and presenting an older refresh token again (reuse: it was stolen, or replayed)
revokes the whole session. Revocation lives in the database and, when ``REDIS_URL`` is
set, is mirrored into Redis so that every worker checks access tokens without a query.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import redis
from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session as OrmSession

from app.auth.models import Session, User
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import BadRequest, Unauthorized
from app.extensions import db

log = logging.getLogger(__name__)

PASSWORD_RESET_MAX_AGE = 3600
EMAIL_VERIFICATION_MAX_AGE = 24 * 3600


# --- token pairs ---------------------------------------------------------------------
def _issue(user: User, session_id: int, refresh_jti: str) -> dict[str, str]:
    claims = {"role": str(user.role), "sid": session_id}
    return {
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh_token": create_refresh_token(
            identity=str(user.id), additional_claims=claims | {"jti": refresh_jti}
        ),
    }


def start_session(
    user: User, *, user_agent: str | None = None, ip_address: str | None = None
) -> tuple[Session, dict[str, str]]:
    """Open a login session (flushes) and return it with its first token pair."""
    now = utcnow()
    session = Session(
        user_id=user.id,
        refresh_jti=str(uuid.uuid4()),
        user_agent=(user_agent or "")[:500] or None,
        ip_address=(ip_address or "")[:64] or None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    )
    db.session.add(session)
    db.session.flush()
    return session, _issue(user, session.id, session.refresh_jti)


def rotate_session(user: User, claims: dict[str, Any]) -> dict[str, str]:
    """Swap the refresh token ``claims`` came from for a new pair (flushes).

    The swap is one conditional UPDATE, so of two requests racing with the same refresh
    token only one wins; the loser is treated as reuse and the session is revoked.
    """
    session_id, used_jti, new_jti = claims["sid"], claims["jti"], str(uuid.uuid4())
    now = utcnow()
    swapped = db.session.execute(
        update(Session)
        .where(
            Session.id == session_id,
            Session.refresh_jti == used_jti,
            Session.revoked_at.is_(None),
        )
        .values(
            refresh_jti=new_jti,
            previous_refresh_jti=used_jti,
            last_seen_at=now,
            expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if swapped != 1:
        user_id = user.id
        db.session.rollback()  # nothing else to keep; frees the row for the revocation
        _revoke_for_reuse(session_id, user_id)
        raise Unauthorized("This session has been signed out", code="TOKEN_REVOKED")
    return _issue(user, session_id, new_jti)


# --- revocation ----------------------------------------------------------------------
def revoke_sessions(
    user_id: int, *, reason: str, only: int | None = None, keep: int | None = None
) -> list[int]:
    """Revoke the user's open sessions (``only`` one, or all but ``keep``); flushes."""
    query = select(Session.id).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if only is not None:
        query = query.where(Session.id == only)
    if keep is not None:
        query = query.where(Session.id != keep)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(Session)
            .where(Session.id.in_(ids))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session="fetch")
        )
        _mirror_revocations(ids)
    return ids


def _revoke_for_reuse(session_id: int, user_id: int) -> None:
    """A rotated-out refresh token came back: revoke its session at once.

    This must hold even though the request then fails with 401, so it commits in its
    own transaction rather than the request's.
    """
    with OrmSession(db.engine) as apart:
        apart.execute(
            update(Session)
            .where(Session.id == session_id, Session.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason="REFRESH_TOKEN_REUSE")
        )
        entry = record_audit(
            "auth.refresh_token_reuse", actor_id=user_id, details={"session_id": session_id}
        )
        db.session.expunge(entry)
        apart.add(entry)
        apart.commit()
    for row in list(db.session.identity_map.values()):
        if isinstance(row, Session) and row.id == session_id:
            db.session.expire(row)
    _mirror_revocations([session_id])
    log.warning("refresh token reuse: session %s of user %s revoked", session_id, user_id)


def _redis() -> redis.Redis | None:
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    client = current_app.extensions.get("qg_auth_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        current_app.extensions["qg_auth_redis"] = client
    return client


def revoked_session_key(session_id: int) -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}auth:revoked-session:{session_id}"


def _mirror_revocations(session_ids: list[int]) -> None:
    client = _redis()
    if client is None:
        return
    ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    try:
        with client.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.set(revoked_session_key(session_id), 1, ex=ttl)
            pipe.execute()
    except redis.RedisError as exc:  # the database stays authoritative
        log.error("could not mirror session revocation to Redis: %s", exc)


def _revoked_in_redis(session_id: int) -> bool | None:
    """True/False from Redis, or None when Redis is not configured or unreachable."""
    client = _redis()
    if client is None:
        return None
    try:
        return bool(client.exists(revoked_session_key(session_id)))
    except redis.RedisError as exc:
        log.warning("Redis unreachable, checking revocation in the database: %s", exc)
        return None


@functools.cache
def _session_check() -> Select:
    """The session's state and its user, in one query built once: it runs on every
    authenticated request, where building it, or loading the session as an object,
    costs more than the query."""
    return (
        select(User, Session.revoked_at, Session.refresh_jti, Session.last_seen_at)
        .join(Session.user)
        .where(Session.id == bindparam("session_id"))
    )


def is_session_revoked(payload: dict) -> bool:
    """The JWT blocklist check, run on every authenticated request."""
    session_id = payload.get("sid")
    if session_id is None:
        return True
    if payload.get("type") != "refresh":
        cached = _revoked_in_redis(session_id)
        if cached is not None:
            return cached
    row = db.session.execute(_session_check(), {"session_id": session_id}).first()
    if row is None or row.revoked_at is not None:
        return True
    # ``g`` holds on to the user (the identity map only keeps weak references), so the
    # access check that reads it next finds it loaded.
    g.session_user = row.User
    if payload.get("type") == "refresh" and payload.get("jti") != row.refresh_jti:
        _revoke_for_reuse(session_id, row.User.id)
        return True
    _touch(session_id, row.last_seen_at)
    return False


LAST_SEEN_RESOLUTION = timedelta(minutes=5)


def _touch(session_id: int, last_seen_at: datetime) -> None:
    """Keep ``last_seen_at`` roughly current: at most one small write per session per 5 min.

    It runs on its own connection because read-only requests never commit.
    """
    now = utcnow()
    if last_seen_at > now - LAST_SEEN_RESOLUTION:
        return
    with db.engine.begin() as connection:
        connection.execute(
            update(Session)
            .where(Session.id == session_id, Session.last_seen_at <= now - LAST_SEEN_RESOLUTION)
            .values(last_seen_at=now)
        )


# --- signed links (password reset, email verification) --------------------------------
def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does: a reset link works once."""
    return hashlib.sha256(f"{user.password_hash}".encode()).hexdigest()[:32]


def password_reset_token(user: User) -> str:
    return _serializer("password-reset").dumps({"uid": user.id, "fp": _password_fingerprint(user)})


def email_verification_token(user: User) -> str:
    return _serializer("verify-email").dumps({"uid": user.id, "email": user.email})


def _load(token: str, salt: str, max_age: int) -> dict:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadRequest("This link has expired, ask for a new one", code="TOKEN_EXPIRED") from None
    except BadSignature:
        raise BadRequest("This link is not valid", code="INVALID_TOKEN") from None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        raise BadRequest("This link is not valid", code="INVALID_TOKEN")
    return data


def user_from_password_reset_token(token: str) -> User:
    data = _load(token, "password-reset", PASSWORD_RESET_MAX_AGE)
    user = db.session.get(User, data["uid"])
    if user is None or not user.is_active or data.get("fp") != _password_fingerprint(user):
        raise BadRequest("This link is not valid", code="INVALID_TOKEN")
    return user


def user_from_email_verification_token(token: str) -> User:
    data = _load(token, "verify-email", EMAIL_VERIFICATION_MAX_AGE)
    user = db.session.get(User, data["uid"])
    if user is None or user.email != data.get("email"):
        raise BadRequest("This link is not valid", code="INVALID_TOKEN")
    return user


# --- Google sign-in state (bound to the browser by a signed cookie) ---------------------
OAUTH_STATE_COOKIE = "qg_oauth_state"
OAUTH_STATE_MAX_AGE = 600


def new_oauth_state() -> tuple[str, str]:
    """A fresh ``state`` for Google's URL and the signed cookie value that binds it."""
    state = secrets.token_urlsafe(24)
    return state, _serializer("google-oauth-state").dumps(state)


def check_oauth_state(state: str, cookie: str | None) -> None:
    """The callback's ``state`` must be the one this browser was given, within 10 minutes."""
    try:
        expected = _serializer("google-oauth-state").loads(
            cookie or "", max_age=OAUTH_STATE_MAX_AGE
        )
    except BadSignature:  # SignatureExpired included
        expected = None
    if not isinstance(expected, str) or not hmac.compare_digest(expected, state):
        raise BadRequest(
            "This sign-in request did not start here or has expired, start again",
            code="INVALID_STATE",
        )
