"""Login sessions and the JWT pairs bound to them."""

from __future__ import annotations

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from app.auth.models import Session, User
from app.db import utcnow
from app.extensions import db


def _pair(user: User, session: Session) -> dict[str, str]:
    claims = {"role": str(user.role), "sid": session.id}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    session.refresh_jti = decode_token(refresh)["jti"]
    return {"access_token": access, "refresh_token": refresh}


def start_session(
    user: User, *, user_agent: str | None = None, ip_address: str | None = None
) -> tuple[Session, dict[str, str]]:
    """Open a login session (flushes) and return it with its first token pair."""
    now = utcnow()
    session = Session(
        user_id=user.id,
        refresh_jti="pending",
        user_agent=(user_agent or "")[:500] or None,
        ip_address=ip_address,
        created_at=now,
        last_seen_at=now,
        expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    )
    db.session.add(session)
    db.session.flush()
    tokens = _pair(user, session)
    db.session.flush()
    return session, tokens


def is_session_revoked(payload: dict) -> bool:
    session_id = payload.get("sid")
    if session_id is None:
        return True
    session = db.session.get(Session, session_id)
    if session is None or session.revoked_at is not None:
        return True
    return bool(payload.get("type") == "refresh" and payload.get("jti") != session.refresh_jti)
