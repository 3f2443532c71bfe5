"""Two-factor sign-in: TOTP codes (each time step used once) and recovery codes.

Functions flush and never commit; the view commits once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import pyotp
from sqlalchemy import update

from app.auth.models import User
from app.auth.passwords import check_current_password
from app.common.audit import record_audit
from app.errors import BadRequest, Conflict
from app.extensions import db

RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Quantum Gear"


def _invalid_code() -> BadRequest:
    return BadRequest(
        "This code is not valid", code="INVALID_OTP", details={"code": ["Not a valid code."]}
    )


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


def accept_second_factor(user: User, code: str) -> bool:
    """A TOTP code or an unused recovery code (which is then spent)."""
    code = code.strip().replace(" ", "")
    if code.isdigit() and len(code) == 6:
        return _accept_totp(user, code)
    # Read under a lock on the user's row: parallel logins spend a code once, and two
    # codes used at once are both struck off the list written back.
    db.session.refresh(user, ["recovery_codes"], with_for_update=True)
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
    check_current_password(user, password, "password")
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
        if not accept_second_factor(user, code):
            raise _invalid_code()
    else:
        check_current_password(user, password, "password")
    user.totp_enabled = False
    user.totp_secret = user.recovery_codes = user.totp_last_step = None
    record_audit("auth.2fa_disabled", user, details={"with": "code" if code else "password"})
    return {"two_factor_enabled": False}
