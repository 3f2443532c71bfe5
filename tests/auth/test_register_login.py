from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import passwords
from app.auth.models import Session, User, UserRole
from app.db import utcnow
from app.extensions import db
from tests.auth.conftest import audit_actions, emails, fresh
from tests.factories.auth import PASSWORD, SupplierProfileFactory, UserFactory

NEW = {
    "email": "  Wanjiku@Example.CO.KE ",
    "password": "Safari2024",
    "first_name": "Wanjiku",
    "last_name": "Kamau",
    "phone": "0712345678",
}


def test_register_customer_signs_in_and_sends_verification(client):
    response = client.post("/api/auth/register", json=NEW)

    assert response.status_code == 201
    data = response.json["data"]
    assert data["access_token"] and data["refresh_token"]
    user = data["user"]
    assert user["email"] == "wanjiku@example.co.ke"
    assert user["role"] == "CUSTOMER" and user["phone"] == "254712345678"
    assert user["is_verified"] is False and user["customer_profile"] is not None
    for secret in ("password", "password_hash", "totp_secret", "recovery_codes"):
        assert secret not in user
    stored = db.session.scalar(select(User))
    assert stored.password_hash.startswith("$2b$") and PASSWORD not in stored.password_hash
    [mail] = emails("verify_email")
    assert mail.to_address == "wanjiku@example.co.ke" and mail.body_html
    assert "auth.register" in audit_actions()


def test_register_supplier_starts_unapproved(client):
    body = NEW | {"role": "SUPPLIER", "business_name": "Westlands Phones"}
    response = client.post("/api/auth/register", json=body)

    assert response.status_code == 201
    profile = response.json["data"]["user"]["supplier_profile"]
    assert profile["business_name"] == "Westlands Phones" and profile["is_approved"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short1A"}, "password"),
        ({"password": "alllowercase1"}, "password"),
        ({"password": "ALLUPPERCASE1"}, "password"),
        ({"password": "NoDigitsHere"}, "password"),
        ({"password": "Aa1" + "x" * 70}, "password"),
        ({"first_name": "   "}, "first_name"),
        ({"phone": "12345"}, "phone"),
        ({"role": "ADMIN"}, "role"),
        ({"role": "DELIVERY_AGENT"}, "role"),
        ({"role": "SUPPLIER"}, "business_name"),
        ({"business_name": "Not a supplier"}, "business_name"),
        ({"is_approved": True}, "is_approved"),
    ],
)
def test_register_rejects_bad_fields(client, change, field):
    response = client.post("/api/auth/register", json=NEW | change)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json["error"]["details"]
    assert db.session.scalar(select(User)) is None


def test_register_missing_fields_named(client):
    response = client.post("/api/auth/register", json={})

    assert response.status_code == 400
    assert set(response.json["error"]["details"]) == {
        "email",
        "password",
        "first_name",
        "last_name",
    }


def test_register_duplicate_email_any_case_is_409(client):
    UserFactory(email="wanjiku@example.co.ke")

    response = client.post("/api/auth/register", json=NEW)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "EMAIL_TAKEN"


def test_login_is_case_insensitive_and_opens_a_session(client, login):
    user = UserFactory(email="otieno@example.co.ke")

    response = client.post(
        "/api/auth/login",
        json={"email": "OTIENO@example.co.ke", "password": PASSWORD},
        headers={"User-Agent": "QG-Android/2.1"},
        environ_base={"REMOTE_ADDR": "41.90.1.2"},
    )

    assert response.status_code == 200
    assert response.json["data"]["user"]["id"] == user.id
    session = db.session.scalar(select(Session))
    assert (session.user_agent, session.ip_address) == ("QG-Android/2.1", "41.90.1.2")
    assert fresh(user).last_login_at is not None
    assert "auth.login" in audit_actions()


@pytest.mark.parametrize("email", ["nobody@example.co.ke", "known@example.co.ke"])
def test_bad_credentials_look_the_same(login, email):
    UserFactory(email="known@example.co.ke")

    response = login(email, "WrongPass1")

    assert response.status_code == 401
    assert response.json["error"]["code"] == "INVALID_CREDENTIALS"
    assert response.json["message"] == "Invalid email or password"
    assert audit_actions("auth.login_failed") == ["auth.login_failed"]


def test_login_does_bcrypt_work_for_unknown_email(login, monkeypatch):
    calls = []
    real = passwords.bcrypt.checkpw
    monkeypatch.setattr(
        passwords.bcrypt, "checkpw", lambda pw, hashed: calls.append(1) or real(pw, hashed)
    )

    assert login("ghost@example.co.ke", "Whatever1").status_code == 401
    assert calls == [1]


def test_oauth_only_account_cannot_password_login(login):
    user = UserFactory(google=True)

    assert login(user.email, "Anything1").json["error"]["code"] == "INVALID_CREDENTIALS"


def test_ten_failures_lock_the_account_for_15_minutes(login):
    user = UserFactory()
    for _ in range(10):
        assert login(user.email, "WrongPass1").status_code == 401

    response = login(user.email)  # the right password, while locked

    assert response.status_code == 401
    assert response.json["error"]["code"] == "INVALID_CREDENTIALS"
    locked_until = fresh(user).locked_until
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)
    assert audit_actions("auth.account_locked") == ["auth.account_locked"]

    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login(user.email).status_code == 200
    assert fresh(user).failed_login_count == 0


def test_failures_outside_the_window_do_not_add_up(login):
    user = UserFactory()
    for _ in range(9):
        login(user.email, "WrongPass1")
    user.failed_login_window_start = utcnow() - timedelta(minutes=16)
    db.session.commit()

    login(user.email, "WrongPass1")

    assert fresh(user).locked_until is None and user.failed_login_count == 1


def test_disabled_account_cannot_log_in(login):
    user = UserFactory(disabled=True)

    response = login(user.email)

    assert response.status_code == 403
    assert response.json["error"]["code"] == "ACCOUNT_DISABLED"


def test_unapproved_supplier_can_log_in(login):
    user = SupplierProfileFactory(pending=True).user

    response = login(user.email)

    assert response.status_code == 200
    assert response.json["data"]["user"]["supplier_profile"]["is_approved"] is False


def test_login_validation(client):
    response = client.post("/api/auth/login", json={"email": "x@example.co.ke", "role": "ADMIN"})

    assert response.status_code == 400
    assert set(response.json["error"]["details"]) == {"password", "role"}


def test_me_returns_the_user_without_secrets(client, auth_headers):
    user = SupplierProfileFactory(user__two_factor=True).user

    response = client.get("/api/auth/me", headers=auth_headers(user))

    assert response.status_code == 200
    data = response.json["data"]
    assert data["role"] == UserRole.SUPPLIER and data["two_factor_enabled"] is True
    assert data["supplier_profile"]["is_approved"] is True
    assert "totp_secret" not in data and "password_hash" not in data
    assert user.totp_secret not in response.get_data(as_text=True)


def test_me_needs_a_token(client):
    response = client.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json["error"]["code"] == "UNAUTHORIZED"


def test_login_rehashes_at_the_configured_cost(app, login):
    user = UserFactory()
    app.config["BCRYPT_ROUNDS"] = 5
    try:
        assert login(user.email).status_code == 200
    finally:
        app.config["BCRYPT_ROUNDS"] = 4
    assert fresh(user).password_hash.startswith("$2b$05$")
