from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth.models import OTP, OTPPurpose
from app.db import utcnow
from app.extensions import db
from tests.auth.conftest import code_in, emails, fresh, token_in
from tests.factories.auth import UserFactory


def _send(client, email, purpose="EMAIL_VERIFICATION"):
    return client.post("/api/auth/send-otp", json={"email": email, "purpose": purpose})


def test_send_otp_answers_the_same_for_unknown_emails(client):
    user = UserFactory(unverified=True)

    known, unknown = _send(client, user.email), _send(client, "ghost@example.co.ke")

    assert known.status_code == unknown.status_code == 200
    assert known.json["message"] == unknown.json["message"]
    assert [mail.to_address for mail in emails()] == [user.email]


def test_codes_are_hashed_at_rest(client):
    user = UserFactory(unverified=True)
    _send(client, user.email)

    code = code_in(emails("verify_email")[0])
    otp = db.session.scalar(select(OTP))
    assert code not in otp.code_hash and len(otp.code_hash) == 64
    assert otp.expires_at - otp.created_at == timedelta(minutes=10)


def test_verify_otp_verifies_the_email_and_welcomes(client):
    user = UserFactory(unverified=True)
    _send(client, user.email)
    code = code_in(emails("verify_email")[0])

    response = client.post("/api/auth/verify-otp", json={"email": user.email, "code": code})

    assert response.status_code == 200
    assert response.json["data"]["verified"] is True
    assert fresh(user).is_verified
    assert [mail.to_address for mail in emails("welcome")] == [user.email]
    again = client.post("/api/auth/verify-otp", json={"email": user.email, "code": code})
    assert again.json["error"]["code"] == "INVALID_OTP"  # single use


def test_a_new_code_replaces_the_old_one(client):
    user = UserFactory(unverified=True)
    _send(client, user.email)
    _send(client, user.email)
    old, new = (code_in(mail) for mail in emails("verify_email"))

    if old != new:
        response = client.post("/api/auth/verify-otp", json={"email": user.email, "code": old})
        assert response.json["error"]["code"] == "INVALID_OTP"
    response = client.post("/api/auth/verify-otp", json={"email": user.email, "code": new})
    assert response.status_code == 200


def test_five_wrong_attempts_kill_the_code(client):
    user = UserFactory(unverified=True)
    _send(client, user.email)
    code = code_in(emails("verify_email")[0])
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    remaining = []
    for _ in range(5):
        response = client.post("/api/auth/verify-otp", json={"email": user.email, "code": wrong})
        assert response.status_code == 400
        remaining.append(response.json["error"]["details"]["attempts_remaining"])
    response = client.post("/api/auth/verify-otp", json={"email": user.email, "code": code})

    assert remaining == [4, 3, 2, 1, 0]
    assert response.status_code == 400
    assert response.json["error"]["code"] == "OTP_EXPIRED"
    assert not fresh(user).is_verified


def test_expired_code(client):
    user = UserFactory(unverified=True)
    _send(client, user.email)
    code = code_in(emails("verify_email")[0])
    db.session.execute(update(OTP).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    response = client.post("/api/auth/verify-otp", json={"email": user.email, "code": code})

    assert response.json["error"]["code"] == "OTP_EXPIRED"


def test_verify_otp_without_any_code_sent(client):
    response = client.post(
        "/api/auth/verify-otp", json={"email": "ghost@example.co.ke", "code": "123456"}
    )

    assert response.status_code == 400
    assert response.json["error"]["code"] == "INVALID_OTP"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.co.ke", "code": "12345"}, "code"),
        ({"email": "a@example.co.ke", "code": "abcdef"}, "code"),
        ({"email": "a@example.co.ke", "code": "123456", "purpose": "LOGIN"}, "purpose"),
        ({"code": "123456"}, "email"),
    ],
)
def test_verify_otp_validation(client, body, field):
    response = client.post("/api/auth/verify-otp", json=body)

    assert response.status_code == 400
    assert field in response.json["error"]["details"]


def test_password_reset_code_buys_a_reset_token(client):
    user = UserFactory()
    _send(client, user.email, "PASSWORD_RESET")
    code = code_in(emails("otp")[0])

    response = client.post(
        "/api/auth/verify-otp",
        json={"email": user.email, "code": code, "purpose": "PASSWORD_RESET"},
    )

    token = response.json["data"]["reset_token"]
    reset = client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": "BrandNew2025"}
    )
    assert reset.status_code == 200


def test_codes_are_per_purpose(client):
    user = UserFactory(unverified=True)
    _send(client, user.email)
    code = code_in(emails("verify_email")[0])

    response = client.post(
        "/api/auth/verify-otp",
        json={"email": user.email, "code": code, "purpose": "PASSWORD_RESET"},
    )

    assert response.json["error"]["code"] == "INVALID_OTP"
    assert db.session.scalar(select(OTP.purpose)) == OTPPurpose.EMAIL_VERIFICATION


def test_verify_email_with_the_link_token(client):
    user = UserFactory(unverified=True)
    client.post("/api/auth/resend-verification", json={"email": user.email})
    token = token_in(emails("verify_email")[0])

    response = client.post("/api/auth/verify-email", json={"token": token})

    assert response.status_code == 200
    assert response.json["data"]["user"]["is_verified"] is True


def test_verify_email_with_email_and_code(client):
    user = UserFactory(unverified=True)
    client.post("/api/auth/resend-verification", json={"email": user.email.upper()})
    code = code_in(emails("verify_email")[0])

    response = client.post("/api/auth/verify-email", json={"email": user.email, "code": code})

    assert response.status_code == 200 and fresh(user).is_verified


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"token": "tampered.token.value"}, 400, "INVALID_TOKEN"),
        ({}, 400, "VALIDATION_ERROR"),
        ({"email": "a@example.co.ke"}, 400, "VALIDATION_ERROR"),
        ({"token": "x", "code": "123456"}, 400, "VALIDATION_ERROR"),
    ],
)
def test_verify_email_bad_input(client, body, status, code):
    response = client.post("/api/auth/verify-email", json=body)

    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_resend_verification_skips_verified_and_unknown(client):
    verified = UserFactory()

    for email in (verified.email, "ghost@example.co.ke"):
        response = client.post("/api/auth/resend-verification", json={"email": email})
        assert response.status_code == 200
    assert emails() == []


def test_customers_can_shop_before_verifying(client, signed_in):
    """Registration signs in; verification is required only where @verified_required."""
    data = signed_in(UserFactory(unverified=True))

    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {data['access_token']}"})

    assert me.status_code == 200 and me.json["data"]["is_verified"] is False
