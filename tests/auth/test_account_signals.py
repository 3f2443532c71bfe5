"""Account changes send their signals (``app/signals.py``, accounts); the emails are
their receivers' (``app/notifications/account_emails.py``) and carry what came with them."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from app.auth.models import OTPPurpose, User
from app.signals import (
    email_verified,
    otp_issued,
    password_changed,
    password_reset_requested,
    verification_requested,
)
from tests.auth.conftest import bearer, code_in, emails, token_in
from tests.factories.auth import PASSWORD, UserFactory

TEN_MINUTES = timedelta(minutes=10)


@contextmanager
def recording(signal):
    """The ``(sender, kwargs)`` of every ``signal`` sent inside the block."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append((sender, kwargs))

    with signal.connected_to(receiver):
        yield sent


def test_sign_up_requests_verification_with_the_code_and_token_the_email_carries(client):
    body = {
        "email": "new@example.co.ke",
        "password": PASSWORD,
        "first_name": "Wanjiku",
        "last_name": "Kamau",
    }
    with recording(verification_requested) as sent:
        assert client.post("/api/auth/register", json=body).status_code == 201

    [(user, kwargs)] = sent
    assert isinstance(user, User) and user.email == "new@example.co.ke"
    [mail] = emails("verify_email", to="new@example.co.ke")
    assert kwargs == {"code": code_in(mail), "token": token_in(mail), "valid_for": TEN_MINUTES}


def test_verifying_the_email_sends_email_verified_once(client):
    user = UserFactory(unverified=True)
    client.post("/api/auth/resend-verification", json={"email": user.email})
    token = token_in(emails("verify_email")[0])

    with recording(email_verified) as sent:
        for _ in range(2):
            client.post("/api/auth/verify-email", json={"token": token})

    assert [(sender.id, kwargs) for sender, kwargs in sent] == [(user.id, {})]
    assert [mail.to_address for mail in emails("welcome")] == [user.email]


def test_password_reset_codes_travel_with_their_signals(client):
    user = UserFactory()

    with recording(password_reset_requested) as reset, recording(otp_issued) as code:
        client.post("/api/auth/forgot-password", json={"email": user.email})
        client.post("/api/auth/send-otp", json={"email": user.email, "purpose": "PASSWORD_RESET"})

    [mail] = emails("password_reset")
    assert [(s.id, kw) for s, kw in reset] == [
        (user.id, {"code": code_in(mail), "token": token_in(mail), "valid_for": TEN_MINUTES})
    ]
    [mail] = emails("otp")
    assert [(s.id, kw) for s, kw in code] == [
        (
            user.id,
            {"purpose": OTPPurpose.PASSWORD_RESET, "code": code_in(mail), "valid_for": TEN_MINUTES},
        )
    ]


def test_changing_the_password_sends_password_changed(client, signed_in):
    user = UserFactory()
    session = signed_in(user)

    with recording(password_changed) as sent:
        client.post(
            "/api/auth/change-password",
            json={"current_password": PASSWORD, "new_password": "NewSecret2025"},
            headers=bearer(session["access_token"]),
        )

    assert [(sender.id, kwargs) for sender, kwargs in sent] == [(user.id, {})]
    assert [mail.to_address for mail in emails("password_changed")] == [user.email]
