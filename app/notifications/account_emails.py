"""Account events, in the app and by email: the receivers of the accounts signals
(``app/signals.py``).

Each exists only if the change that sent the signal commits (``notify``); the codes and
tokens the signal carries go into the email only, never into the in-app notification.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.auth.models import OTPPurpose, User
from app.notifications.operations import notify
from app.settings import setting
from app.signals import (
    email_verified,
    otp_issued,
    password_changed,
    password_reset_requested,
    verification_requested,
)

# What a code asked for on its own is for: (subject, "use this code to ...").
OTP_PURPOSES = {
    OTPPurpose.PASSWORD_RESET: ("Your {store} password reset code", "reset your password"),
}

CODE_SENT = "A verification code was sent to your email."


def _minutes(valid_for: timedelta) -> int:
    return int(valid_for.total_seconds() // 60)


def _send_code_and_link(
    user: User,
    event: str,
    title: str,
    subject: str,
    template: str,
    path: str,
    *,
    code: str,
    token: str,
    valid_for: timedelta,
) -> None:
    """An email with the six-digit code and the same thing as a link to ``path``; in the
    app, only that it was sent."""
    notify(
        user,
        event,
        title=title,
        body=CODE_SENT,
        email=(subject, template),
        user=user,
        code=code,
        minutes=_minutes(valid_for),
        link=f"{current_app.config['FRONTEND_URL']}/{path}?token={token}",
    )


@verification_requested.connect
def send_verification_email(user: User, **secrets) -> None:
    subject = f"Verify your {setting('store_name')} email address"
    _send_code_and_link(
        user,
        "verification-requested",
        "Verify your email address",
        subject,
        "verify_email",
        "verify-email",
        **secrets,
    )


@email_verified.connect
def send_welcome_email(user: User, **_) -> None:
    subject = f"Welcome to {setting('store_name')}"
    notify(
        user,
        "welcome",
        title=subject,
        body="Your email address is verified.",
        email=(subject, "welcome"),
        user=user,
    )


@password_reset_requested.connect
def send_password_reset_email(user: User, **secrets) -> None:
    subject = f"Reset your {setting('store_name')} password"
    _send_code_and_link(
        user,
        "password-reset-requested",
        "Password reset requested",
        subject,
        "password_reset",
        "reset-password",
        **secrets,
    )


@otp_issued.connect
def send_code_email(
    user: User, *, purpose: OTPPurpose, code: str, valid_for: timedelta, **_
) -> None:
    subject, use = OTP_PURPOSES[purpose]
    subject = subject.format(store=setting("store_name"))
    notify(
        user,
        "otp-issued",
        title=f"Use a code to {use}",
        body=CODE_SENT,
        email=(subject, "otp"),
        user=user,
        code=code,
        purpose=use,
        minutes=_minutes(valid_for),
    )


@password_changed.connect
def send_password_changed_email(user: User, **_) -> None:
    subject = f"Your {setting('store_name')} password was changed"
    notify(
        user,
        "password-changed",
        title="Your password was changed",
        body="If this was not you, reset your password and contact us.",
        email=(subject, "password_changed"),
        user=user,
    )
