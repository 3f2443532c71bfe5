import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from app.auth import tokens
from app.auth.models import Session
from app.extensions import db
from tests.auth.conftest import audit_actions, bearer, code_in, emails, fresh, token_in
from tests.factories.auth import PASSWORD, UserFactory

NEW_PASSWORD = "NewSecret2025"


def _reset(client, token, password=NEW_PASSWORD):
    return client.post("/api/auth/reset-password", json={"token": token, "new_password": password})


def test_forgot_password_same_answer_and_mail_only_for_real_accounts(client):
    user = UserFactory()

    known = client.post("/api/auth/forgot-password", json={"email": user.email})
    unknown = client.post("/api/auth/forgot-password", json={"email": "ghost@example.co.ke"})

    assert known.status_code == unknown.status_code == 200
    assert known.json == unknown.json
    [mail] = emails("password_reset")
    assert mail.to_address == user.email and "reset-password?token=" in mail.body_text
    assert code_in(mail)


def test_reset_password_works_once_and_signs_out_everywhere(client, signed_in, login):
    user = UserFactory()
    session = signed_in(user)
    client.post("/api/auth/forgot-password", json={"email": user.email})
    token = token_in(emails("password_reset")[0])

    response = _reset(client, token)

    assert response.status_code == 200
    assert login(user.email, NEW_PASSWORD).status_code == 200
    assert login(user.email, PASSWORD).status_code == 401
    me = client.get("/api/auth/me", headers=bearer(session["access_token"]))
    assert me.json["error"]["code"] == "TOKEN_REVOKED"
    second = _reset(client, token, "Another2025x")
    assert second.status_code == 400 and second.json["error"]["code"] == "INVALID_TOKEN"
    assert "auth.password_reset" in audit_actions()
    assert emails("password_changed")


def test_reset_password_unlocks_the_account(client, login):
    user = UserFactory()
    for _ in range(10):
        login(user.email, "WrongPass1")
    client.post("/api/auth/forgot-password", json={"email": user.email})

    _reset(client, token_in(emails("password_reset")[0]))

    assert fresh(user).locked_until is None
    assert login(user.email, NEW_PASSWORD).status_code == 200


def test_reset_token_expires_after_an_hour(app, client, monkeypatch):
    user = UserFactory()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
    with app.test_request_context():
        token = tokens.password_reset_token(user)
    monkeypatch.undo()

    response = _reset(client, token)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"token": "garbage", "new_password": NEW_PASSWORD}, "INVALID_TOKEN", None),
        ({"token": "garbage", "new_password": "weak"}, "VALIDATION_ERROR", "new_password"),
        ({"new_password": NEW_PASSWORD}, "VALIDATION_ERROR", "token"),
    ],
)
def test_reset_password_bad_input(client, body, code, field):
    response = client.post("/api/auth/reset-password", json=body)

    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    if field:
        assert field in response.json["error"]["details"]


def test_email_verification_token_cannot_reset_a_password(app, client):
    user = UserFactory()
    with app.test_request_context():
        token = tokens.email_verification_token(user)

    assert _reset(client, token).json["error"]["code"] == "INVALID_TOKEN"


def test_change_password_keeps_this_session_and_revokes_the_others(client, signed_in, login):
    user = UserFactory()
    this, other = signed_in(user), signed_in(user)

    response = client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(this["access_token"]),
    )

    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=bearer(this["access_token"])).status_code == 200
    assert client.get("/api/auth/me", headers=bearer(other["access_token"])).status_code == 401
    assert login(user.email, NEW_PASSWORD).status_code == 200
    revoked = db.session.scalars(select(Session.revoked_reason)).all()
    assert "PASSWORD_CHANGED" in revoked
    assert "auth.password_changed" in audit_actions()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"current_password": "WrongPass1", "new_password": NEW_PASSWORD},
            400,
            "INVALID_PASSWORD",
            "current_password",
        ),
        (
            {"current_password": PASSWORD, "new_password": "nodigits"},
            400,
            "VALIDATION_ERROR",
            "new_password",
        ),
        (
            {"current_password": PASSWORD, "new_password": PASSWORD},
            400,
            "VALIDATION_ERROR",
            "new_password",
        ),
    ],
)
def test_change_password_bad_input(client, customer, auth_headers, body, status, code, field):
    response = client.post("/api/auth/change-password", json=body, headers=auth_headers(customer))

    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert field in response.json["error"]["details"]


def test_change_password_needs_a_token(client):
    response = client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 401


def test_set_password_for_google_accounts(client, auth_headers, login):
    user = UserFactory(google=True)
    headers = auth_headers(user)

    response = client.post(
        "/api/auth/set-password", json={"new_password": NEW_PASSWORD}, headers=headers
    )

    assert response.status_code == 200
    assert login(user.email, NEW_PASSWORD).status_code == 200
    again = client.post(
        "/api/auth/set-password", json={"new_password": "Other2025x"}, headers=headers
    )
    assert again.status_code == 409
    assert again.json["error"]["code"] == "PASSWORD_ALREADY_SET"
