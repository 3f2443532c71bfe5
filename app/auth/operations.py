"""Account rules: registration, login, codes, passwords, 2FA, Google, profiles.

Functions flush and never commit; the view (or CLI command) commits once. The only
exception is security bookkeeping that must outlive the error answer that follows it
(failed logins and lockouts, wrong OTP attempts): ``_apart`` writes it in a transaction
of its own, like the refresh-token reuse revocation in ``tokens``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pyotp
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from app.auth import tokens
from app.auth.models import (
    ADMIN_ROLES,
    OTP,
    AdminProfile,
    AuthProvider,
    CustomerProfile,
    DeliveryAgentProfile,
    OTPPurpose,
    Session,
    SupplierProfile,
    User,
    UserRole,
)
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from app.extensions import db
from app.notifications.email import send_email_after_commit
from app.pagination import Page, paginate
from app.services.google_oauth import GoogleIdentity

MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
OTP_TTL = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Quantum Gear"


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("Invalid email or password", code="INVALID_CREDENTIALS")


def _invalid_code() -> BadRequest:
    return BadRequest(
        "This code is not valid", code="INVALID_OTP", details={"code": ["Not a valid code."]}
    )


def _account_disabled() -> Forbidden:
    return Forbidden("This account has been disabled", code="ACCOUNT_DISABLED")


@contextmanager
def _apart(*changed: Any) -> Iterator[OrmSession]:
    """A transaction of its own, committed even though the request will fail.

    ``changed`` are this request's copies of the rows it updates: they are expired,
    so the request's session reads them again rather than trust stale values.
    """
    with OrmSession(db.engine) as session:
        yield session
        session.commit()
    for row in changed:
        db.session.expire(row)


def _audit_apart(session: OrmSession, action: str, target: Any = None, **kwargs) -> None:
    entry = record_audit(action, target, **kwargs)
    db.session.expunge(entry)
    session.add(entry)


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


# --- accounts ------------------------------------------------------------------------
def create_user(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    role: UserRole = UserRole.CUSTOMER,
    phone: str | None = None,
    business_name: str | None = None,
    verified: bool = False,
    approved: bool = False,
    provider: AuthProvider = AuthProvider.LOCAL,
) -> User:
    """A new user with the profile of their role (flushes); 409 ``EMAIL_TAKEN`` if taken."""
    email = email.strip().lower()
    if find_user(email) is not None:
        raise _email_taken()
    now = utcnow()
    user = User(
        email=email,
        password_hash=hash_password(password) if password else None,
        password_changed_at=now if password else None,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        role=role,
        auth_provider=provider,
        email_verified_at=now if verified else None,
    )
    attach_profile(user, business_name=business_name, approved=approved)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:  # a concurrent registration won the race for this email
        raise _email_taken() from None
    return user


def _email_taken() -> Conflict:
    return Conflict(
        "An account with this email already exists",
        code="EMAIL_TAKEN",
        details={"email": ["An account with this email already exists."]},
    )


def attach_profile(user: User, *, business_name: str | None, approved: bool) -> None:
    """Give ``user`` the profile row its role needs, if it has none yet."""
    if user.role == UserRole.CUSTOMER and user.customer_profile is None:
        user.customer_profile = CustomerProfile()
    elif user.role == UserRole.SUPPLIER and user.supplier_profile is None:
        if not business_name:
            raise ValidationFailed(details={"business_name": ["Suppliers need a business name."]})
        user.supplier_profile = SupplierProfile(
            business_name=business_name,
            is_approved=approved,
            approved_at=utcnow() if approved else None,
        )
    elif user.role == UserRole.DELIVERY_AGENT and user.delivery_agent_profile is None:
        user.delivery_agent_profile = DeliveryAgentProfile()
    elif user.role in ADMIN_ROLES and user.admin_profile is None:
        user.admin_profile = AdminProfile()


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
    _send_verification(user)
    return _sign_in(user, method="register", user_agent=user_agent, ip_address=ip_address)


def set_role(user: User, role: UserRole, *, business_name: str | None = None) -> User:
    """Operator action: change a user's role (an operator-made supplier is approved)."""
    previous = user.role
    user.role = role
    attach_profile(user, business_name=business_name, approved=True)
    record_audit("auth.role_changed", user, details={"from": str(previous), "to": str(role)})
    return user


def disable_user(user: User) -> User:
    user.is_active = False
    tokens.revoke_sessions(user.id, reason="ACCOUNT_DISABLED")
    record_audit("auth.account_disabled", user)
    return user


def enable_user(user: User) -> User:
    user.is_active = True
    user.locked_until = None
    record_audit("auth.account_enabled", user)
    return user


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
        raise _account_disabled()
    _require_second_factor(user, totp_code)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return _sign_in(user, method="password", user_agent=user_agent, ip_address=ip_address)


def _require_second_factor(user: User, totp_code: str | None) -> None:
    """With 2FA on, a login needs a fresh TOTP code or a recovery code."""
    if not user.totp_enabled:
        return
    if not totp_code:
        raise Unauthorized("Enter the code from your authenticator app", code="TWO_FACTOR_REQUIRED")
    if not _accept_second_factor(user, totp_code):
        _record_failed_login(user, user.email, reason="two_factor")
        raise Unauthorized("This code is not valid", code="INVALID_OTP")


def _record_failed_login(user: User | None, email: str, *, reason: str) -> None:
    """Count the failure (ten in 15 minutes lock the account for 15) and audit it."""
    with _apart(*([user] if user else [])) as session:
        if user is None:
            _audit_apart(session, "auth.login_failed", details={"email": email, "reason": reason})
            return
        _audit_apart(session, "auth.login_failed", user, details={"reason": reason})
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
            _audit_apart(
                session,
                "auth.account_locked",
                user,
                details={"until": row.locked_until.isoformat()},
            )


def _sign_in(user: User, *, method: str, user_agent: str | None, ip_address: str | None) -> dict:
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


def check_otp(email: str, purpose: OTPPurpose, code: str) -> None:
    """Consume the current code or fail: 10 minutes, five attempts, then a new code."""
    otp = db.session.scalar(
        select(OTP)
        .where(OTP.email == email, OTP.purpose == purpose, OTP.consumed_at.is_(None))
        .order_by(OTP.id.desc())
        .limit(1)
    )
    if otp is None:
        raise BadRequest("This code is not valid, request a new one", code="INVALID_OTP")
    if otp.expires_at <= utcnow() or otp.attempts >= OTP_MAX_ATTEMPTS:
        raise BadRequest("This code has expired, request a new one", code="OTP_EXPIRED")
    if not hmac.compare_digest(otp.code_hash, _code_hash(email, purpose, code)):
        with _apart(otp) as session:
            session.execute(update(OTP).where(OTP.id == otp.id).values(attempts=OTP.attempts + 1))
        remaining = max(OTP_MAX_ATTEMPTS - otp.attempts, 0)  # re-read after the increment
        raise BadRequest(
            "This code is not valid",
            code="INVALID_OTP",
            details={"attempts_remaining": remaining},
        )
    consumed = db.session.execute(
        update(OTP)
        .where(OTP.id == otp.id, OTP.consumed_at.is_(None))
        .values(consumed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if consumed != 1:
        raise BadRequest("This code is not valid, request a new one", code="INVALID_OTP")


def send_otp(email: str, purpose: OTPPurpose) -> None:
    """Email a code if there is an account for it; the answer never says whether there is."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    if purpose == OTPPurpose.EMAIL_VERIFICATION:
        if not user.is_verified:
            _send_verification(user)
        return
    code = issue_otp(user.email, purpose)
    send_email_after_commit(
        user.email,
        "Your Quantum Gear password reset code",
        "otp",
        user=user,
        code=code,
        purpose="reset your password",
        minutes=int(OTP_TTL.total_seconds() // 60),
    )


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


def _send_verification(user: User) -> None:
    code = issue_otp(user.email, OTPPurpose.EMAIL_VERIFICATION)
    token = tokens.email_verification_token(user)
    send_email_after_commit(
        user.email,
        "Verify your Quantum Gear email address",
        "verify_email",
        user=user,
        code=code,
        minutes=int(OTP_TTL.total_seconds() // 60),
        link=f"{current_app.config['FRONTEND_URL']}/verify-email?token={token}",
    )


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
    send_email_after_commit(user.email, "Welcome to Quantum Gear", "welcome", user=user)


# --- passwords -----------------------------------------------------------------------
def forgot_password(email: str) -> None:
    """Email a reset link (and code) if the account exists; the same answer either way."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    token = tokens.password_reset_token(user)
    code = issue_otp(user.email, OTPPurpose.PASSWORD_RESET)
    send_email_after_commit(
        user.email,
        "Reset your Quantum Gear password",
        "password_reset",
        user=user,
        code=code,
        minutes=int(OTP_TTL.total_seconds() // 60),
        link=f"{current_app.config['FRONTEND_URL']}/reset-password?token={token}",
    )
    record_audit("auth.password_reset_requested", user, actor_id=user.id)


def _set_password(user: User, new_password: str, *, action: str, keep_session: int | None) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    revoked = tokens.revoke_sessions(user.id, reason="PASSWORD_CHANGED", keep=keep_session)
    record_audit(action, user, details={"sessions_revoked": len(revoked)})
    send_email_after_commit(
        user.email, "Your Quantum Gear password was changed", "password_changed", user=user
    )


def reset_password(token: str, new_password: str) -> None:
    """Single use: the token is bound to the current password hash. Signs out everywhere."""
    user = tokens.user_from_password_reset_token(token)
    _set_password(user, new_password, action="auth.password_reset", keep_session=None)
    user.failed_login_count, user.failed_login_window_start, user.locked_until = 0, None, None
    mark_verified(user)  # the reset link reached the inbox


def _check_current_password(user: User, password: str, field: str) -> None:
    if not verify_password(password, user.password_hash):
        raise BadRequest(
            "The password is not correct",
            code="INVALID_PASSWORD",
            details={field: ["The password is not correct."]},
        )


def change_password(user: User, current: str, new: str, *, session_id: int) -> None:
    _check_current_password(user, current, "current_password")
    _set_password(user, new, action="auth.password_changed", keep_session=session_id)


def set_password(user: User, new_password: str, *, session_id: int) -> None:
    """For accounts made with Google: add a password (once; then use change-password)."""
    if user.has_password:
        raise Conflict(
            "This account already has a password, use change-password",
            code="PASSWORD_ALREADY_SET",
        )
    _set_password(user, new_password, action="auth.password_set", keep_session=session_id)


# --- two-factor ----------------------------------------------------------------------
def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _matching_step(user: User, code: str) -> int | None:
    """The time step whose code ``code`` is (±1 step of drift), if newer than the last used."""
    totp = pyotp.TOTP(user.totp_secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_totp(user: User, code: str) -> bool:
    """A valid code, used once: claiming its step is one conditional UPDATE (no replay)."""
    step = _matching_step(user, code)
    if step is None:
        return False
    last = User.totp_last_step
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, (last.is_(None)) | (last < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed == 1:
        user.totp_last_step = step
    return claimed == 1


def _accept_second_factor(user: User, code: str) -> bool:
    """A TOTP code or an unused recovery code (which is then spent)."""
    code = code.strip().replace(" ", "")
    if code.isdigit() and len(code) == 6:
        return _accept_totp(user, code)
    hashes = json.loads(user.recovery_codes or "[]")
    digest = _recovery_hash(code)
    if digest not in hashes:
        return False
    hashes.remove(digest)
    user.recovery_codes = json.dumps(hashes)
    record_audit("auth.recovery_code_used", user, actor_id=user.id, details={"left": len(hashes)})
    return True


def enable_two_factor(user: User, password: str) -> dict:
    """Start 2FA set-up: a new secret, on only once ``verify_two_factor`` sees a code."""
    if user.totp_enabled:
        raise Conflict("Two-factor authentication is already on", code="TWO_FACTOR_ALREADY_ENABLED")
    _check_current_password(user, password, "password")
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return {"secret": user.totp_secret, "otpauth_uri": uri}


def verify_two_factor(user: User, code: str) -> dict:
    if user.totp_enabled:
        raise Conflict("Two-factor authentication is already on", code="TWO_FACTOR_ALREADY_ENABLED")
    if user.totp_secret is None:
        raise Conflict("Call enable-2fa first", code="TWO_FACTOR_NOT_SET_UP")
    if not _accept_totp(user, code):
        raise _invalid_code()
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = json.dumps([_recovery_hash(c) for c in codes])
    user.totp_enabled = True
    record_audit("auth.2fa_enabled", user)
    return {"two_factor_enabled": True, "recovery_codes": codes}


def disable_two_factor(user: User, *, code: str | None, password: str | None) -> dict:
    if not user.totp_enabled:
        raise Conflict("Two-factor authentication is not on", code="TWO_FACTOR_NOT_ENABLED")
    if code:
        if not _accept_second_factor(user, code):
            raise _invalid_code()
    else:
        _check_current_password(user, password, "password")
    user.totp_enabled = False
    user.totp_secret = user.recovery_codes = user.totp_last_step = None
    record_audit("auth.2fa_disabled", user, details={"with": "code" if code else "password"})
    return {"two_factor_enabled": False}


# --- Google --------------------------------------------------------------------------
def google_sign_in(
    identity: GoogleIdentity,
    *,
    totp_code: str | None,
    user_agent: str | None,
    ip_address: str | None,
) -> dict:
    """Sign in with Google: the same account by Google id, else by verified email, else new."""
    user = db.session.scalar(select(User).where(User.google_sub == identity.sub))
    if user is None:
        user = find_user(identity.email)
        if user is not None:
            if not identity.email_verified or user.google_sub is not None:
                raise _email_taken()
            user.google_sub = identity.sub
            user.avatar_url = user.avatar_url or identity.picture
            record_audit("auth.google_linked", user, actor_id=user.id)
            mark_verified(user)
        else:
            user = create_user(
                email=identity.email,
                password=None,
                first_name=(identity.given_name or identity.email.split("@")[0])[:100],
                last_name=(identity.family_name or "")[:100],
                verified=identity.email_verified,
                provider=AuthProvider.GOOGLE,
            )
            user.google_sub = identity.sub
            user.avatar_url = identity.picture
            record_audit("auth.register", user, actor_id=user.id, details={"method": "google"})
            if identity.email_verified:
                send_email_after_commit(user.email, "Welcome to Quantum Gear", "welcome", user=user)
            else:
                _send_verification(user)
    if not user.is_active:
        raise _account_disabled()
    _require_second_factor(user, totp_code)
    return _sign_in(user, method="google", user_agent=user_agent, ip_address=ip_address)


# --- profile -------------------------------------------------------------------------
PROFILE_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"phone", "date_of_birth", "marketing_opt_in"}),
    "supplier": frozenset(
        {
            "phone",
            "business_name",
            "business_registration_number",
            "kra_pin",
            "business_address",
            "mpesa_payout_number",
        }
    ),
    "delivery_agent": frozenset(
        {"phone", "vehicle_type", "vehicle_registration", "mpesa_payout_number"}
    ),
    "admin": frozenset({"phone", "department", "title"}),
}
REQUIRED_PROFILE_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"phone"}),
    "supplier": frozenset({"phone", "business_name", "kra_pin"}),
    "delivery_agent": frozenset({"phone", "vehicle_type"}),
    "admin": frozenset(),
}


def _profile_kind(role: UserRole) -> str:
    if role in ADMIN_ROLES:
        return "admin"
    return {UserRole.SUPPLIER: "supplier", UserRole.DELIVERY_AGENT: "delivery_agent"}.get(
        role, "customer"
    )


def update_profile(user: User, data: dict[str, Any]) -> User:
    """Name, phone and avatar: nothing else can be set here (the schema sees to it)."""
    for field, value in data.items():
        setattr(user, field, value)
    return user


def complete_profile(user: User, data: dict[str, Any]) -> User:
    """Fill in the fields of the user's role; fields of other roles are refused."""
    kind = _profile_kind(user.role)
    errors = {
        field: [f"Not a field of a {kind.replace('_', ' ')} profile."]
        for field in sorted(set(data) - PROFILE_FIELDS[kind])
    }
    if errors:
        raise ValidationFailed(details=errors)
    attach_profile(user, business_name=data.get("business_name"), approved=False)
    profile = {
        "customer": user.customer_profile,
        "supplier": user.supplier_profile,
        "delivery_agent": user.delivery_agent_profile,
        "admin": user.admin_profile,
    }[kind]
    if "mpesa_payout_number" in data and not user.is_verified:
        raise Forbidden("Verify your email address first", code="EMAIL_NOT_VERIFIED")
    for field, value in data.items():
        setattr(user if field == "phone" else profile, field, value)
    missing = {
        field: ["Missing data for required field."]
        for field in sorted(REQUIRED_PROFILE_FIELDS[kind])
        if getattr(user if field == "phone" else profile, field) in (None, "")
    }
    if missing:
        raise ValidationFailed(details=missing)
    record_audit("auth.profile_completed", user, actor_id=user.id, details={"fields": sorted(data)})
    return user
