import time

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import InvalidToken

from tests.auth.conftest import audit_actions, fresh
from tests.factories.auth import PASSWORD, UserFactory


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted, and never a replay of ``now()``)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _enable(client, headers, password=PASSWORD):
    return client.post("/api/auth/enable-2fa", json={"password": password}, headers=headers)


def test_enable_verify_then_login_needs_a_code(client, auth_headers, login):
    user = UserFactory()
    headers = auth_headers(user)

    setup = _enable(client, headers)
    assert setup.status_code == 200
    secret = setup.json["data"]["secret"]
    assert setup.json["data"]["otpauth_uri"].startswith("otpauth://totp/Quantum%20Gear:")
    assert fresh(user).totp_enabled is False  # not on until confirmed

    confirm = client.post(
        "/api/auth/verify-2fa", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert confirm.status_code == 200
    codes = confirm.json["data"]["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert fresh(user).totp_enabled is True
    assert "auth.2fa_enabled" in audit_actions()

    without = login(user.email)
    assert without.status_code == 401
    assert without.json["error"]["code"] == "TWO_FACTOR_REQUIRED"
    assert login(user.email, totp_code=next_code(secret)).status_code == 200


def test_enable_2fa_needs_the_password(client, auth_headers):
    response = _enable(client, auth_headers(UserFactory()), "WrongPass1")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "INVALID_PASSWORD"


def test_enable_2fa_twice_is_a_conflict(client, auth_headers):
    response = _enable(client, auth_headers(UserFactory(two_factor=True)))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "TWO_FACTOR_ALREADY_ENABLED"


def test_verify_2fa_without_setup_or_with_a_wrong_code(client, auth_headers):
    user = UserFactory()
    headers = auth_headers(user)

    not_set_up = client.post("/api/auth/verify-2fa", json={"code": "123456"}, headers=headers)
    assert not_set_up.status_code == 409
    assert not_set_up.json["error"]["code"] == "TWO_FACTOR_NOT_SET_UP"

    secret = _enable(client, headers).json["data"]["secret"]
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 10**6:06d}"
    response = client.post("/api/auth/verify-2fa", json={"code": wrong}, headers=headers)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "INVALID_OTP"
    assert fresh(user).totp_enabled is False


def test_wrong_and_replayed_codes_are_refused(login):
    user = UserFactory(two_factor=True)
    code = pyotp.TOTP(user.totp_secret).now()
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    bad = login(user.email, totp_code=wrong)
    assert bad.status_code == 401 and bad.json["error"]["code"] == "INVALID_OTP"
    assert login(user.email, totp_code=code).status_code == 200
    replay = login(user.email, totp_code=code)
    assert replay.status_code == 401 and replay.json["error"]["code"] == "INVALID_OTP"


def test_wrong_password_with_2fa_is_still_invalid_credentials(login):
    user = UserFactory(two_factor=True)

    response = login(user.email, "WrongPass1", totp_code=pyotp.TOTP(user.totp_secret).now())

    assert response.json["error"]["code"] == "INVALID_CREDENTIALS"


def test_recovery_codes_work_once(client, auth_headers, login):
    user = UserFactory()
    headers = auth_headers(user)
    secret = _enable(client, headers).json["data"]["secret"]
    codes = client.post(
        "/api/auth/verify-2fa", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    ).json["data"]["recovery_codes"]

    assert login(user.email, totp_code=codes[0]).status_code == 200
    assert login(user.email, totp_code=codes[0]).status_code == 401
    assert login(user.email, totp_code=codes[1].upper()).status_code == 200
    assert "auth.recovery_code_used" in audit_actions()


@pytest.mark.parametrize("how", ["code", "password"])
def test_disable_2fa(client, auth_headers, login, how):
    user = UserFactory(two_factor=True)
    body = {"code": pyotp.TOTP(user.totp_secret).now()} if how == "code" else {"password": PASSWORD}

    response = client.post("/api/auth/disable-2fa", json=body, headers=auth_headers(user))

    assert response.status_code == 200
    assert response.json["data"]["two_factor_enabled"] is False
    assert fresh(user).totp_secret is None and user.recovery_codes is None
    assert login(user.email).status_code == 200
    assert "auth.2fa_disabled" in audit_actions()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "VALIDATION_ERROR"),
        ({"code": "000000x"}, 400, "INVALID_OTP"),
        ({"password": "WrongPass1"}, 400, "INVALID_PASSWORD"),
    ],
)
def test_disable_2fa_bad_input(client, auth_headers, body, status, code):
    user = UserFactory(two_factor=True)

    response = client.post("/api/auth/disable-2fa", json=body, headers=auth_headers(user))

    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert fresh(user).totp_enabled is True


def test_disable_2fa_when_off(client, auth_headers):
    response = client.post(
        "/api/auth/disable-2fa", json={"password": PASSWORD}, headers=auth_headers(UserFactory())
    )

    assert response.status_code == 409
    assert response.json["error"]["code"] == "TWO_FACTOR_NOT_ENABLED"


def test_the_totp_secret_is_sealed_at_rest(client, auth_headers, db):
    user = UserFactory()
    secret = _enable(client, auth_headers(user)).json["data"]["secret"]

    stored = db.session.execute(
        sa.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user.id}
    ).scalar_one()
    assert secret not in stored and len(stored) > 100  # a Fernet token, not the seed
    assert fresh(user).totp_secret == secret


def test_sealed_secrets_still_open_after_the_secret_key_rotates(app, client, auth_headers, login):
    user = UserFactory()
    secret = _enable(client, auth_headers(user)).json["data"]["secret"]
    old_key = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "rotated-key", [old_key]
        confirm = client.post(
            "/api/auth/verify-2fa",
            json={"code": pyotp.TOTP(secret).now()},
            headers=auth_headers(user),
        )
        assert confirm.status_code == 200

        app.config["SECRET_KEY_FALLBACKS"] = []  # the old key retired: the seed is unreadable
        with pytest.raises(InvalidToken):
            fresh(user).totp_secret  # noqa: B018
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = old_key, []
