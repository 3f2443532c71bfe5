"""Google sign-in: the same account by Google id, else by verified email, else a new one.

Flushes and never commits; the view commits once.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.accounts import create_user, email_taken, find_user
from app.auth.models import AuthProvider, User
from app.auth.signin import account_disabled, require_second_factor, sign_in
from app.auth.verification import mark_verified, send_verification
from app.common.audit import record_audit
from app.extensions import db
from app.services.google_oauth import GoogleIdentity
from app.signals import email_verified


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
                raise email_taken()
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
                email_verified.send(user)
            else:
                send_verification(user)
    if not user.is_active:
        raise account_disabled()
    require_second_factor(user, totp_code)
    return sign_in(user, method="google", user_agent=user_agent, ip_address=ip_address)
