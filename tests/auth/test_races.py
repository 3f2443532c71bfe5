"""One-time codes stay one-time under concurrent requests (PostgreSQL: real threads,
each with its own connection)."""

from __future__ import annotations

from collections import Counter

import pyotp
import pytest
from sqlalchemy import func, select

from app.auth.models import OTP, Session
from app.extensions import db
from tests.auth.conftest import code_in, emails
from tests.concurrency import run_together
from tests.factories.auth import PASSWORD, UserFactory

pytestmark = pytest.mark.postgres


def with_recovery_codes(client, auth_headers):
    """A user with 2FA on, and their recovery codes."""
    user = UserFactory()
    headers = auth_headers(user)
    secret = client.post("/api/auth/enable-2fa", json={"password": PASSWORD}, headers=headers).json[
        "data"
    ]["secret"]
    codes = client.post(
        "/api/auth/verify-2fa", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    ).json["data"]["recovery_codes"]
    return user, codes


def logging_in(email, code):
    def action(client):
        body = {"email": email, "password": PASSWORD, "totp_code": code}
        response = client.post("/api/auth/login", json=body)
        return response.status_code, response.json.get("error", {}).get("code")

    return action


def sessions_of(user) -> int:
    return db.session.scalar(select(func.count()).where(Session.user_id == user.id))


def test_one_recovery_code_used_by_parallel_logins_opens_one_session(app, client, auth_headers):
    user, codes = with_recovery_codes(client, auth_headers)
    before = sessions_of(user)

    results = run_together(app, [logging_in(user.email, codes[0])] * 8)

    assert Counter(results) == {(200, None): 1, (401, "INVALID_OTP"): 7}
    assert sessions_of(user) == before + 1


def test_one_totp_code_used_by_parallel_logins_opens_one_session(app):
    """The losers' failed logins are counted apart while their UPDATE still locks the row."""
    user = UserFactory(two_factor=True)
    before = sessions_of(user)

    results = run_together(app, [logging_in(user.email, pyotp.TOTP(user.totp_secret).now())] * 8)

    assert Counter(results) == {(200, None): 1, (401, "INVALID_OTP"): 7}
    assert sessions_of(user) == before + 1


def test_two_recovery_codes_used_at_once_are_both_spent(app, client, auth_headers, login):
    user, codes = with_recovery_codes(client, auth_headers)

    results = run_together(app, [logging_in(user.email, code) for code in codes[:2]])

    assert results == [(200, None), (200, None)]
    assert [login(user.email, totp_code=code).status_code for code in codes[:2]] == [401, 401]
    assert login(user.email, totp_code=codes[2]).status_code == 200


def test_parallel_wrong_guesses_get_five_checks_in_all(app, client):
    user = UserFactory(unverified=True)
    client.post("/api/auth/send-otp", json={"email": user.email, "purpose": "EMAIL_VERIFICATION"})
    wrong = f"{(int(code_in(emails('verify_email')[0])) + 1) % 10**6:06d}"

    def guessing(client):
        body = {"email": user.email, "code": wrong}
        response = client.post("/api/auth/verify-otp", json=body)
        return response.status_code, response.json["error"]["code"]

    results = run_together(app, [guessing] * 12)

    assert Counter(results) == {(400, "INVALID_OTP"): 5, (400, "OTP_EXPIRED"): 7}
    assert db.session.scalar(select(OTP.attempts)) == 5
