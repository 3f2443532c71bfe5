"""Rate limits of the abuse-prone auth endpoints: one per client IP, one per account.

The account is the ``email`` of the request body (login, register, OTP, password reset)
or the authenticated user (2FA). ``RATELIMIT_ENABLED=false`` turns every limit off for
that app; the check reads the app's own config, so apps built side by side (tests)
each keep their setting even though the ``limiter`` singleton is shared.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter


@limiter.request_filter
def _limits_disabled() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _email_key() -> str:
    """The account named in the body; without one, the client IP (never a shared bucket)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return f"account:{email.strip().lower()}"
    return f"ip:{get_remote_address()}"


def _user_key() -> str:
    return f"user:{g.get('user_id', '-')}"


def per_ip_and_email(per_ip: str, per_email: str):
    """Limit a public endpoint per client IP and per ``email`` in the body."""

    def decorator(view):
        view = limiter.limit(per_email, key_func=_email_key)(view)
        return limiter.limit(per_ip, key_func=get_remote_address)(view)

    return decorator


def per_ip_and_user(per_ip: str, per_user: str):
    """Limit an authenticated endpoint per client IP and per user (place under the guard)."""

    def decorator(view):
        view = limiter.limit(per_user, key_func=_user_key)(view)
        return limiter.limit(per_ip, key_func=get_remote_address)(view)

    return decorator


# Decorators: every view they decorate gets limits (and counters) of its own.
def login(view):
    return per_ip_and_email("30 per minute;300 per hour", "10 per minute")(view)


def register(view):
    return per_ip_and_email("10 per minute;50 per hour", "5 per hour")(view)


def send_code(view):
    return per_ip_and_email("10 per minute;60 per hour", "5 per 15 minutes")(view)


def check_code(view):
    return per_ip_and_email("30 per minute", "10 per minute")(view)


def sensitive(view):
    """2FA and password changes of a signed-in user."""
    return per_ip_and_user("30 per minute", "10 per minute")(view)
