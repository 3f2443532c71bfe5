import pytest

from app import create_app
from tests.factories.auth import UserFactory


@pytest.fixture
def limited(rate_limits):
    """A client of an app with rate limits on (counters emptied after the test)."""
    return rate_limits(create_app("testing")).test_client()


def _assert_limited(response):
    assert response.status_code == 429
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) > 0


def test_login_is_limited_per_account(limited):
    body = {"email": "target@example.co.ke", "password": "Guess12345"}
    for _ in range(10):
        assert limited.post("/api/auth/login", json=body).status_code == 401

    _assert_limited(limited.post("/api/auth/login", json=body))
    other = limited.post("/api/auth/login", json=body | {"email": "other@example.co.ke"})
    assert other.status_code == 401


def test_register_is_limited_per_ip(limited):
    def register(n, ip):
        return limited.post(
            "/api/auth/register",
            json={
                "email": f"new{n}@example.co.ke",
                "password": "Password123",
                "first_name": "A",
                "last_name": "B",
            },
            environ_base={"REMOTE_ADDR": ip},
        )

    for n in range(10):
        assert register(n, "41.90.0.1").status_code == 201
    _assert_limited(register(10, "41.90.0.1"))
    assert register(11, "41.90.0.2").status_code == 201


def test_otp_and_forgot_password_are_limited_per_account(limited):
    user = UserFactory()
    for path in ("/api/auth/send-otp", "/api/auth/forgot-password"):
        for _ in range(5):
            assert limited.post(path, json={"email": user.email}).status_code == 200
        _assert_limited(limited.post(path, json={"email": user.email}))


def test_two_factor_endpoints_are_limited_per_user(limited, auth_headers):
    headers = auth_headers(UserFactory())
    for _ in range(10):
        response = limited.post("/api/auth/verify-2fa", json={"code": "123456"}, headers=headers)
        assert response.status_code == 409

    _assert_limited(limited.post("/api/auth/verify-2fa", json={"code": "123456"}, headers=headers))


def test_limits_are_off_when_disabled(client):
    body = {"email": "target@example.co.ke", "password": "Guess12345"}

    statuses = {client.post("/api/auth/login", json=body).status_code for _ in range(12)}

    assert statuses == {401}
