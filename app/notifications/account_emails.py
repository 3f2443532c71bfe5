"""Account emails: the receivers of the accounts signals (``app/signals.py``).

Each email goes out only if the change that sent the signal commits
(``send_email_after_commit``); the codes and tokens they carry come with the signal.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.auth.models import OTPPurpose, User
from app.notifications.email import send_email_after_commit
from app.signals import (
    email_verified,
    otp_issued,
    password_changed,
    password_reset_requested,
    verification_requested,
)

# What a code asked for on its own is for: (subject, "use this code to ...").
OTP_PURPOSES = {
    OTPPurpose.PASSWORD_RESET: ("Your Quantum Gear password reset code", "reset your password"),
}


def _minutes(valid_for: timedelta) -> int:
    return int(valid_for.total_seconds() // 60)


def _send_code_and_link(
    user: User,
    subject: str,
    template: str,
    path: str,
    *,
    code: str,
    token: str,
    valid_for: timedelta,
) -> None:
    """An email with the six-digit code and the same thing as a link to ``path``."""
    send_email_after_commit(
        user.email,
        subject,
        template,
        user=user,
        code=code,
        minutes=_minutes(valid_for),
        link=f"{current_app.config['FRONTEND_URL']}/{path}?token={token}",
    )


@verification_requested.connect
def send_verification_email(user: User, **secrets) -> None:
    subject = "Verify your Quantum Gear email address"
    _send_code_and_link(user, subject, "verify_email", "verify-email", **secrets)


@email_verified.connect
def send_welcome_email(user: User, **_) -> None:
    send_email_after_commit(user.email, "Welcome to Quantum Gear", "welcome", user=user)


@password_reset_requested.connect
def send_password_reset_email(user: User, **secrets) -> None:
    subject = "Reset your Quantum Gear password"
    _send_code_and_link(user, subject, "password_reset", "reset-password", **secrets)


@otp_issued.connect
def send_code_email(
    user: User, *, purpose: OTPPurpose, code: str, valid_for: timedelta, **_
) -> None:
    subject, use = OTP_PURPOSES[purpose]
    send_email_after_commit(
        user.email,
        subject,
        "otp",
        user=user,
        code=code,
        purpose=use,
        minutes=_minutes(valid_for),
    )


@password_changed.connect
def send_password_changed_email(user: User, **_) -> None:
    send_email_after_commit(
        user.email, "Your Quantum Gear password was changed", "password_changed", user=user
    )
