"""Signing up and in: registration, login (lockout, second factor) and sessions.

Functions flush and never commit; the view commits once. Failed logins and lockouts
are written apart (``bookkeeping``), so they outlive the error answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.auth import tokens
from app.auth.accounts import create_user, find_user
from app.auth.bookkeeping import apart, audit_apart
from app.auth.models import Session, User
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.two_factor import accept_second_factor
from app.auth.verification import send_verification
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import Forbidden, NotFound, Unauthorized
from app.extensions import db
from app.pagination import Page, paginate
from app.signals import supplier_applied

MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("Invalid email or password", code="INVALID_CREDENTIALS")


def account_disabled() -> Forbidden:
    return Forbidden("This account has been disabled", code="ACCOUNT_DISABLED")


def register(data: dict[str, Any], *, user_agent: str | None, ip_address: str | None) -> dict:
    """Self-service sign-up as a customer or (unapproved) supplier; signs the user in."""
    user = create_user(
        email=data["email"],
        password=data["password"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        phone=data.get("phone"),
        role=data["role"],
        business_name=data.get("business_name"),
    )
    record_audit("auth.register", user, actor_id=user.id, details={"role": str(user.role)})
    if user.supplier_profile is not None:
        db.session.flush()
        supplier_applied.send(user.supplier_profile)
    send_verification(user)
    return sign_in(user, method="register", user_agent=user_agent, ip_address=ip_address)


# --- login, sessions -----------------------------------------------------------------
def login(
    email: str,
    password: str,
    totp_code: str | None,
    *,
    user_agent: str | None,
    ip_address: str | None,
) -> dict:
    """Check the credentials (the same work whether or not the account exists)."""
    user = find_user(email)
    password_ok = verify_password(password, user.password_hash if user else None)
    now = utcnow()
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or locked or not password_ok:
        _record_failed_login(user, email, reason="locked" if locked else "password")
        raise _invalid_credentials()
    if not user.is_active:
        raise account_disabled()
    require_second_factor(user, totp_code)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return sign_in(user, method="password", user_agent=user_agent, ip_address=ip_address)


def require_second_factor(user: User, totp_code: str | None) -> None:
    """With 2FA on, a login needs a fresh TOTP code or a recovery code."""
    if not user.totp_enabled:
        return
    if not totp_code:
        raise Unauthorized("Enter the code from your authenticator app", code="TWO_FACTOR_REQUIRED")
    if not accept_second_factor(user, totp_code):
        _record_failed_login(user, user.email, reason="two_factor")
        raise Unauthorized("This code is not valid", code="INVALID_OTP")


def _record_failed_login(user: User | None, email: str, *, reason: str) -> None:
    """Count the failure (ten in 15 minutes lock the account for 15) and audit it."""
    with apart() as session:
        if user is None:
            audit_apart(session, "auth.login_failed", details={"email": email, "reason": reason})
            return
        audit_apart(session, "auth.login_failed", user, details={"reason": reason})
        if reason == "locked":
            return
        row = session.get(User, user.id, with_for_update=True)
        now = utcnow()
        window = row.failed_login_window_start
        if window is None or now - window > FAILED_LOGIN_WINDOW:
            row.failed_login_window_start, row.failed_login_count = now, 0
        row.failed_login_count += 1
        if row.failed_login_count >= MAX_FAILED_LOGINS:
            row.locked_until = now + LOCKOUT
            row.failed_login_count, row.failed_login_window_start = 0, None
            audit_apart(
                session,
                "auth.account_locked",
                user,
                details={"until": row.locked_until.isoformat()},
            )


def sign_in(user: User, *, method: str, user_agent: str | None, ip_address: str | None) -> dict:
    user.failed_login_count, user.failed_login_window_start, user.locked_until = 0, None, None
    user.last_login_at = utcnow()
    session, pair = tokens.start_session(user, user_agent=user_agent, ip_address=ip_address)
    record_audit(
        "auth.login", user, actor_id=user.id, details={"method": method, "session_id": session.id}
    )
    return {"user": user, **pair}


def logout(user: User, session_id: int) -> None:
    tokens.revoke_sessions(user.id, reason="LOGOUT", only=session_id)
    record_audit("auth.logout", user, details={"session_id": session_id})


def list_sessions(user: User, params: dict[str, Any], current_session_id: int) -> Page:
    """The user's open sessions, newest first, the caller's own marked ``current``."""
    page = paginate(
        select(Session)
        .where(
            Session.user_id == user.id,
            Session.revoked_at.is_(None),
            Session.expires_at > utcnow(),
        )
        .order_by(Session.last_seen_at.desc(), Session.id.desc()),
        params,
    )
    for session in page.items:
        session.current = session.id == current_session_id
    return page


def revoke_session(user: User, session_id: int) -> None:
    """Sign one of the user's sessions out (404 for someone else's or an unknown one)."""
    if not tokens.revoke_sessions(user.id, reason="REVOKED_BY_USER", only=session_id):
        raise NotFound("Session not found")
    record_audit("auth.session_revoked", user, details={"session_id": session_id})
