"""Google sign-in against Google's real wire formats, faked with ``responses``."""

import json
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pyotp
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from app.auth.models import AuthProvider, User
from app.extensions import db
from app.services import google_oauth as google
from tests.auth.conftest import emails, fresh
from tests.factories.auth import UserFactory

CLIENT_ID = "1234567890-abc123def456.apps.googleusercontent.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "6f7254101f56e41cf35c9926de84a2d552b4c6f1"


def jwks() -> dict:
    key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [key | {"kid": KID, "use": "sig", "alg": "RS256"}]}


def id_token(key=KEY, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "azp": CLIENT_ID,
        "aud": CLIENT_ID,
        "sub": "110169484474386276334",
        "email": "Akinyi.Otieno@gmail.com",
        "email_verified": True,
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
        "name": "Akinyi Otieno",
        "picture": "https://lh3.googleusercontent.com/a/ACg8ocJ-photo=s96-c",
        "given_name": "Akinyi",
        "family_name": "Otieno",
        "locale": "en",
        "iat": now,
        "exp": now + 3600,
    } | overrides
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture
def google_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setitem(app.config, "GOOGLE_CLIENT_SECRET", "GOCSPX-test-secret")
    monkeypatch.setitem(app.extensions, "google", google.build_google(app.config))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        fake.get(google.CERTS_URL, json=jwks())
        yield fake


def _token_login(client, token, **more):
    return client.post("/api/auth/google/token", json={"id_token": token, **more})


def test_without_client_id_google_is_not_configured(client):
    for response in (
        client.get("/api/auth/google"),
        client.get("/api/auth/google/callback?code=x&state=y"),
        _token_login(client, "whatever"),
    ):
        assert response.status_code == 503
        assert response.json["error"]["code"] == "PROVIDER_NOT_CONFIGURED"


def test_id_token_creates_a_verified_google_account(client, google_configured):
    response = _token_login(client, id_token())

    assert response.status_code == 200
    data = response.json["data"]
    assert data["access_token"] and data["refresh_token"]
    user = data["user"]
    assert user["email"] == "akinyi.otieno@gmail.com"
    assert (user["first_name"], user["last_name"]) == ("Akinyi", "Otieno")
    assert user["auth_provider"] == "GOOGLE" and user["is_verified"] is True
    assert user["has_password"] is False
    assert emails("welcome")
    certs_call = google_configured.calls[0]
    assert certs_call.request.url == google.CERTS_URL


def test_second_sign_in_finds_the_same_account(client, google_configured):
    _token_login(client, id_token())
    _token_login(client, id_token(email="renamed@gmail.com"))

    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_existing_local_account_is_linked_not_duplicated(client, google_configured):
    local = UserFactory(email="akinyi.otieno@gmail.com", unverified=True)

    response = _token_login(client, id_token())

    assert response.json["data"]["user"]["id"] == local.id
    assert fresh(local).google_sub == "110169484474386276334"
    assert local.auth_provider == AuthProvider.LOCAL and local.is_verified
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_unverified_google_email_does_not_take_over_an_account(client, google_configured):
    UserFactory(email="akinyi.otieno@gmail.com")

    response = _token_login(client, id_token(email_verified=False))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "EMAIL_TAKEN"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: id_token(aud="someone-else.apps.googleusercontent.com"), id="aud"),
        pytest.param(lambda: id_token(iss="https://evil.example.com"), id="iss"),
        pytest.param(lambda: id_token(exp=int(time.time()) - 10), id="expired"),
        pytest.param(lambda: id_token(key=OTHER_KEY), id="signature"),
        pytest.param(lambda: "not-a-jwt", id="garbage"),
    ],
)
def test_bad_id_tokens_are_refused(client, google_configured, token):
    response = _token_login(client, token())

    assert response.status_code == 401
    assert response.json["error"]["code"] == "INVALID_TOKEN"
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_google_keys_unreachable_is_a_provider_error(client, google_configured):
    google_configured.replace(responses.GET, google.CERTS_URL, status=503)

    response = _token_login(client, id_token())

    assert response.status_code == 502
    assert response.json["error"]["code"] == "PROVIDER_ERROR"


def test_two_factor_applies_to_google_sign_in(client, google_configured):
    user = UserFactory(google=True, two_factor=True, google_sub="110169484474386276334")

    needs = _token_login(client, id_token())
    assert needs.json["error"]["code"] == "TWO_FACTOR_REQUIRED"
    ok = _token_login(client, id_token(), totp_code=pyotp.TOTP(user.totp_secret).now())
    assert ok.status_code == 200


def test_disabled_google_account(client, google_configured):
    UserFactory(google=True, disabled=True, google_sub="110169484474386276334")

    assert _token_login(client, id_token()).json["error"]["code"] == "ACCOUNT_DISABLED"


# --- authorization-code flow ----------------------------------------------------------
def _start(client):
    response = client.get("/api/auth/google")
    assert response.status_code == 200
    return response


def _fake_exchange(fake, status=200, body=None):
    fake.post(
        google.TOKEN_URL,
        status=status,
        json=body
        or {
            "access_token": "ya29.a0AfB_byC-fake-access-token",
            "expires_in": 3599,
            "scope": "openid https://www.googleapis.com/auth/userinfo.email "
            "https://www.googleapis.com/auth/userinfo.profile",
            "token_type": "Bearer",
            "id_token": id_token(),
        },
    )
    fake.get(
        google.USERINFO_URL,
        json={
            "sub": "110169484474386276334",
            "name": "Akinyi Otieno",
            "given_name": "Akinyi",
            "family_name": "Otieno",
            "picture": "https://lh3.googleusercontent.com/a/ACg8ocJ-photo=s96-c",
            "email": "akinyi.otieno@gmail.com",
            "email_verified": True,
            "locale": "en",
        },
    )


def test_authorization_url_and_state_cookie(client, google_configured):
    response = _start(client)

    data = response.json["data"]
    url = urlparse(data["authorization_url"])
    query = parse_qs(url.query)
    assert url.netloc == "accounts.google.com"
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email profile"]
    assert query["state"] == [data["state"]]
    assert query["redirect_uri"] == ["http://localhost:5000/api/auth/google/callback"]
    cookie = response.headers["Set-Cookie"]
    assert "qg_oauth_state=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_callback_exchanges_the_code_and_signs_in(client, google_configured):
    state = _start(client).json["data"]["state"]
    _fake_exchange(google_configured)

    response = client.get(f"/api/auth/google/callback?code=4/0AX4XfWh-code&state={state}&scope=x")

    assert response.status_code == 200, response.json
    assert response.json["data"]["user"]["email"] == "akinyi.otieno@gmail.com"
    exchange = next(c for c in google_configured.calls if c.request.url == google.TOKEN_URL)
    sent = parse_qs(exchange.request.body)
    assert sent["code"] == ["4/0AX4XfWh-code"]
    assert sent["grant_type"] == ["authorization_code"]
    assert sent["client_secret"] == ["GOCSPX-test-secret"]
    userinfo = next(c for c in google_configured.calls if c.request.url == google.USERINFO_URL)
    assert userinfo.request.headers["Authorization"] == "Bearer ya29.a0AfB_byC-fake-access-token"


def test_callback_redirects_a_browser_to_the_frontend(client, google_configured):
    state = _start(client).json["data"]["state"]
    _fake_exchange(google_configured)

    response = client.get(
        f"/api/auth/google/callback?code=c&state={state}", headers={"Accept": "text/html"}
    )

    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    assert location.netloc == "localhost:5173"
    assert set(parse_qs(location.fragment)) == {"access_token", "refresh_token"}


def test_callback_refuses_a_state_from_another_browser(app, client, google_configured):
    _start(client)
    other_state = _start(app.test_client()).json["data"]["state"]

    response = client.get(f"/api/auth/google/callback?code=c&state={other_state}")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "INVALID_STATE"


def test_callback_without_the_cookie(app, google_configured):
    response = app.test_client().get("/api/auth/google/callback?code=c&state=abc")

    assert response.json["error"]["code"] == "INVALID_STATE"


def test_callback_with_a_used_code(client, google_configured):
    state = _start(client).json["data"]["state"]
    google_configured.post(
        google.TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Bad Request"},
    )

    response = client.get(f"/api/auth/google/callback?code=used&state={state}")

    assert response.status_code == 400
    assert response.json["error"]["code"] == "INVALID_OAUTH_CODE"


def test_callback_when_the_user_cancels(client, google_configured):
    state = _start(client).json["data"]["state"]

    response = client.get(f"/api/auth/google/callback?error=access_denied&state={state}")

    assert response.json["error"]["code"] == "OAUTH_DENIED"


@pytest.mark.parametrize(("query", "field"), [("", "state"), ("?state=abc", "code")])
def test_callback_missing_parameters(client, google_configured, query, field):
    response = client.get(f"/api/auth/google/callback{query}")

    assert response.status_code == 400
    assert field in response.json["error"]["details"]
