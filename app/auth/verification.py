"""Codes and passwords: one-time codes, email verification, password reset and change.

Functions flush and never commit; the view commits once. A wrong code's attempt is
counted apart (``bookkeeping``), so it outlives the error answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth import tokens
from app.auth.accounts import find_user
from app.auth.bookkeeping import apart
from app.auth.models import OTP, OTPPurpose, User
from app.auth.passwords import check_current_password, hash_password
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import BadRequest, Conflict
from app.extensions import db
from app.signals import (
    email_verified,
    otp_issued,
    password_changed,
    password_reset_requested,
    verification_requested,
)

OTP_TTL = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5


# --- one-time codes ------------------------------------------------------------------
def _code_hash(email: str, purpose: OTPPurpose, code: str) -> str:
    """Keyed, so a leaked table cannot be brute-forced offline (a million codes only)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{email}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def issue_otp(email: str, purpose: OTPPurpose) -> str:
    """A new six-digit code for (email, purpose); earlier ones stop working. Flushes."""
    now = utcnow()
    db.session.execute(
        update(OTP)
        .where(OTP.email == email, OTP.purpose == purpose, OTP.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        OTP(
            email=email,
            purpose=purpose,
            code_hash=_code_hash(email, purpose, code),
            expires_at=now + OTP_TTL,
            created_at=now,
        )
    )
    db.session.flush()
    return code


def _used_up() -> BadRequest:
    return BadRequest("This code has expired, request a new one", code="OTP_EXPIRED")


def check_otp(email: str, purpose: OTPPurpose, code: str) -> None:
    """Consume the current code or fail: 10 minutes, five attempts, then a new code.

    Each answer is won by one conditional UPDATE of the code's row, so parallel guesses
    get five checks in all: a wrong guess claims one of the attempts left (apart, so the
    count outlives the error), the right code consumes the row while attempts are left.
    A guess that finds none left is refused the same way, right or wrong.
    """
    otp = db.session.scalar(
        select(OTP)
        .where(OTP.email == email, OTP.purpose == purpose, OTP.consumed_at.is_(None))
        .order_by(OTP.id.desc())
        .limit(1)
    )
    if otp is None:
        raise BadRequest("This code is not valid, request a new one", code="INVALID_OTP")
    if otp.expires_at <= utcnow() or otp.attempts >= OTP_MAX_ATTEMPTS:
        raise _used_up()
    still_open = (
        update(OTP)
        .where(OTP.id == otp.id, OTP.consumed_at.is_(None), OTP.attempts < OTP_MAX_ATTEMPTS)
        .execution_options(synchronize_session=False)
    )
    if hmac.compare_digest(otp.code_hash, _code_hash(email, purpose, code)):
        if db.session.execute(still_open.values(consumed_at=utcnow())).rowcount != 1:
            raise _used_up()
        return
    with apart() as session:
        counted = session.execute(still_open.values(attempts=OTP.attempts + 1)).rowcount
    if counted != 1:
        raise _used_up()
    remaining = max(OTP_MAX_ATTEMPTS - otp.attempts, 0)  # read again after the count
    raise BadRequest(
        "This code is not valid",
        code="INVALID_OTP",
        details={"attempts_remaining": remaining},
    )


def send_otp(email: str, purpose: OTPPurpose) -> None:
    """Email a code if there is an account for it; the answer never says whether there is."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    if purpose == OTPPurpose.EMAIL_VERIFICATION:
        if not user.is_verified:
            send_verification(user)
        return
    code = issue_otp(user.email, purpose)
    otp_issued.send(user, purpose=purpose, code=code, valid_for=OTP_TTL)


def verify_otp(email: str, purpose: OTPPurpose, code: str) -> dict:
    """Check a code: it verifies the email, or buys a password-reset token."""
    if purpose == OTPPurpose.EMAIL_VERIFICATION:
        verify_email(email=email, code=code)
        return {"purpose": purpose, "verified": True}
    check_otp(email, purpose, code)
    user = _code_owner(email)
    return {"purpose": purpose, "verified": True, "reset_token": tokens.password_reset_token(user)}


def _code_owner(email: str) -> User:
    user = find_user(email)
    if user is None or not user.is_active:  # codes are only ever sent to active accounts
        raise BadRequest("This code is not valid, request a new one", code="INVALID_OTP")
    return user


def send_verification(user: User) -> None:
    """A new verification code and link for ``user`` (the email goes with the signal)."""
    code = issue_otp(user.email, OTPPurpose.EMAIL_VERIFICATION)
    token = tokens.email_verification_token(user)
    verification_requested.send(user, code=code, token=token, valid_for=OTP_TTL)


def resend_verification(email: str) -> None:
    send_otp(email, OTPPurpose.EMAIL_VERIFICATION)


def verify_email(
    *, token: str | None = None, email: str | None = None, code: str | None = None
) -> User:
    """Verify with the emailed link's token, or with the email and its six-digit code."""
    if token is not None:
        user = tokens.user_from_email_verification_token(token)
    else:
        check_otp(email, OTPPurpose.EMAIL_VERIFICATION, code)
        user = _code_owner(email)
    mark_verified(user)
    return user


def mark_verified(user: User) -> None:
    """Verify the email once (welcome email on the first time)."""
    if user.is_verified:
        return
    user.email_verified_at = utcnow()
    db.session.execute(
        update(OTP)
        .where(
            OTP.email == user.email,
            OTP.purpose == OTPPurpose.EMAIL_VERIFICATION,
            OTP.consumed_at.is_(None),
        )
        .values(consumed_at=utcnow())
    )
    record_audit("auth.email_verified", user, actor_id=user.id)
    email_verified.send(user)


# --- passwords -----------------------------------------------------------------------
def forgot_password(email: str) -> None:
    """Email a reset link (and code) if the account exists; the same answer either way."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    token = tokens.password_reset_token(user)
    code = issue_otp(user.email, OTPPurpose.PASSWORD_RESET)
    password_reset_requested.send(user, code=code, token=token, valid_for=OTP_TTL)
    record_audit("auth.password_reset_requested", user, actor_id=user.id)


def _set_password(user: User, new_password: str, *, action: str, keep_session: int | None) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    revoked = tokens.revoke_sessions(user.id, reason="PASSWORD_CHANGED", keep=keep_session)
    record_audit(action, user, details={"sessions_revoked": len(revoked)})
    password_changed.send(user)


def reset_password(token: str, new_password: str) -> None:
    """Single use: the token is bound to the current password hash. Signs out everywhere."""
    user = tokens.user_from_password_reset_token(token)
    _set_password(user, new_password, action="auth.password_reset", keep_session=None)
    user.failed_login_count, user.failed_login_window_start, user.locked_until = 0, None, None
    mark_verified(user)  # the reset link reached the inbox


def change_password(user: User, current: str, new: str, *, session_id: int) -> None:
    check_current_password(user, current, "current_password")
    _set_password(user, new, action="auth.password_changed", keep_session=session_id)


def set_password(user: User, new_password: str, *, session_id: int) -> None:
    """For accounts made with Google: add a password (once; then use change-password)."""
    if user.has_password:
        raise Conflict(
            "This account already has a password, use change-password",
            code="PASSWORD_ALREADY_SET",
        )
    _set_password(user, new_password, action="auth.password_set", keep_session=session_id)
