import uuid
from datetime import timedelta

import pytest
import redis
from flask_jwt_extended import decode_token
from sqlalchemy import select

from app.auth import tokens
from app.auth.models import Session
from app.db import utcnow
from app.errors import ApiError
from app.extensions import db
from tests.auth.conftest import audit_actions, bearer, fresh
from tests.factories.auth import UserFactory


def test_tokens_carry_the_session_and_configured_lifetimes(app, signed_in):
    data = signed_in(UserFactory())
    access, refresh = decode_token(data["access_token"]), decode_token(data["refresh_token"])

    assert access["sid"] == refresh["sid"] == db.session.scalar(select(Session.id))
    assert access["exp"] - access["iat"] == 900
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600


def test_refresh_rotates_the_pair(client, signed_in):
    first = signed_in(UserFactory())

    response = client.post("/api/auth/refresh", headers=bearer(first["refresh_token"]))

    assert response.status_code == 200
    second = response.json["data"]
    assert set(second) == {"access_token", "refresh_token"}
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/auth/me", headers=bearer(second["access_token"])).status_code == 200
    again = client.post("/api/auth/refresh", headers=bearer(second["refresh_token"]))
    assert again.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_session(client, signed_in):
    first = signed_in(UserFactory())
    second = client.post("/api/auth/refresh", headers=bearer(first["refresh_token"])).json["data"]

    reuse = client.post("/api/auth/refresh", headers=bearer(first["refresh_token"]))

    assert reuse.status_code == 401
    assert reuse.json["error"]["code"] == "TOKEN_REVOKED"
    # the thief's and the owner's newer tokens die with the session
    for token in (second["refresh_token"],):
        assert client.post("/api/auth/refresh", headers=bearer(token)).status_code == 401
    me = client.get("/api/auth/me", headers=bearer(second["access_token"]))
    assert me.json["error"]["code"] == "TOKEN_REVOKED"
    session = db.session.scalar(select(Session))
    assert session.revoked_reason == "REFRESH_TOKEN_REUSE"
    assert "auth.refresh_token_reuse" in audit_actions()


def test_losing_a_refresh_race_counts_as_reuse(app, signed_in):
    user = UserFactory()
    data = signed_in(user)
    claims = decode_token(data["refresh_token"])
    with app.test_request_context():
        tokens.rotate_session(user, claims)
        db.session.commit()
        with pytest.raises(ApiError) as raised:
            tokens.rotate_session(user, claims)
    assert raised.value.code == "TOKEN_REVOKED"
    assert db.session.scalar(select(Session.revoked_at)) is not None


def test_access_token_cannot_refresh_and_refresh_token_cannot_access(client, signed_in):
    data = signed_in(UserFactory())

    assert client.post("/api/auth/refresh", headers=bearer(data["access_token"])).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(data["refresh_token"])).status_code == 401


def test_expired_access_token_is_token_expired(app, client):
    user = UserFactory()
    with app.test_request_context():
        session, _ = tokens.start_session(user)
        db.session.commit()
        from flask_jwt_extended import create_access_token

        expired = create_access_token(
            str(user.id), additional_claims={"sid": session.id}, expires_delta=timedelta(seconds=-1)
        )

    response = client.get("/api/auth/me", headers=bearer(expired))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "TOKEN_EXPIRED"


def test_garbage_token_is_unauthorized(client):
    response = client.get("/api/auth/me", headers=bearer("not.a.jwt"))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "UNAUTHORIZED"


def test_logout_revokes_access_and_refresh(client, signed_in):
    data = signed_in(UserFactory())

    response = client.post("/api/auth/logout", headers=bearer(data["access_token"]))

    assert response.status_code == 200
    for call in (
        client.get("/api/auth/me", headers=bearer(data["access_token"])),
        client.post("/api/auth/refresh", headers=bearer(data["refresh_token"])),
    ):
        assert call.status_code == 401
        assert call.json["error"]["code"] == "TOKEN_REVOKED"


def test_logout_leaves_other_sessions(client, signed_in):
    user = UserFactory()
    phone, laptop = signed_in(user), signed_in(user)

    client.post("/api/auth/logout", headers=bearer(phone["access_token"]))

    assert client.get("/api/auth/me", headers=bearer(laptop["access_token"])).status_code == 200


def test_sessions_list_marks_current_and_hides_revoked(client, signed_in):
    user = UserFactory()
    old, current = signed_in(user), signed_in(user)
    revoked = signed_in(user)
    client.post("/api/auth/logout", headers=bearer(revoked["access_token"]))
    signed_in(UserFactory())  # someone else's

    response = client.get("/api/auth/sessions", headers=bearer(current["access_token"]))

    assert response.status_code == 200
    assert response.json["meta"]["total"] == 2
    by_id = {row["id"]: row for row in response.json["data"]}
    current_sid = decode_token(current["access_token"])["sid"]
    assert by_id[current_sid]["current"] is True
    assert by_id[decode_token(old["access_token"])["sid"]]["current"] is False
    assert by_id[current_sid]["created_at"].endswith("Z")


def test_revoke_one_session(client, signed_in):
    user = UserFactory()
    mine, other = signed_in(user), signed_in(user)
    other_sid = decode_token(other["access_token"])["sid"]

    response = client.delete(
        f"/api/auth/sessions/{other_sid}", headers=bearer(mine["access_token"])
    )

    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=bearer(other["access_token"])).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(mine["access_token"])).status_code == 200


def test_cannot_revoke_someone_elses_session(client, signed_in):
    mine, theirs = signed_in(UserFactory()), signed_in(UserFactory())
    their_sid = decode_token(theirs["access_token"])["sid"]

    for sid in (their_sid, 999999):
        response = client.delete(f"/api/auth/sessions/{sid}", headers=bearer(mine["access_token"]))
        assert response.status_code == 404
    assert client.get("/api/auth/me", headers=bearer(theirs["access_token"])).status_code == 200


def test_disabled_account_is_refused_whatever_its_token(client, signed_in):
    user = UserFactory()
    data = signed_in(user)
    user.is_active = False
    db.session.commit()

    for response in (
        client.get("/api/auth/me", headers=bearer(data["access_token"])),
        client.post("/api/auth/refresh", headers=bearer(data["refresh_token"])),
    ):
        assert response.status_code == 403
        assert response.json["error"]["code"] == "ACCOUNT_DISABLED"


def test_expired_sessions_are_not_listed(client, signed_in):
    user = UserFactory()
    current = signed_in(user)
    signed_in(user)
    stale = db.session.scalars(select(Session).order_by(Session.id)).first()
    stale.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    response = client.get("/api/auth/sessions", headers=bearer(current["access_token"]))

    assert response.json["meta"]["total"] == 1


def test_requests_keep_last_seen_current_without_a_write_per_request(client, signed_in):
    data = signed_in(UserFactory())
    session = db.session.scalar(select(Session))
    long_ago = utcnow() - timedelta(hours=2)
    session.last_seen_at = long_ago
    db.session.commit()

    assert client.get("/api/auth/me", headers=bearer(data["access_token"])).status_code == 200
    db.session.expire_all()
    seen = db.session.scalar(select(Session)).last_seen_at
    assert seen > utcnow() - timedelta(minutes=1)

    assert client.get("/api/auth/me", headers=bearer(data["access_token"])).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Session)).last_seen_at == seen


# --- Redis ---------------------------------------------------------------------------
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def with_redis(app, monkeypatch):
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"qg-test-{uuid.uuid4().hex}:"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "REDIS_KEY_PREFIX", prefix)
    app.extensions.pop("qg_auth_redis", None)
    yield client
    app.extensions.pop("qg_auth_redis", None)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_revocation_is_mirrored_to_redis(app, client, signed_in, with_redis):
    data = signed_in(UserFactory())
    sid = decode_token(data["access_token"])["sid"]

    client.post("/api/auth/logout", headers=bearer(data["access_token"]))

    with app.test_request_context():
        key = tokens.revoked_session_key(sid)
    assert with_redis.exists(key) == 1
    assert 0 < with_redis.ttl(key) <= 7 * 24 * 3600


def test_access_tokens_are_checked_in_redis(app, client, signed_in, with_redis):
    """Another worker revoked the session: Redis says so, and that is enough."""
    data = signed_in(UserFactory())
    sid = decode_token(data["access_token"])["sid"]
    with app.test_request_context():
        with_redis.set(tokens.revoked_session_key(sid), 1)

    response = client.get("/api/auth/me", headers=bearer(data["access_token"]))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "TOKEN_REVOKED"
    assert db.session.scalar(select(Session.revoked_at)) is None


def test_unreachable_redis_falls_back_to_the_database(app, client, signed_in, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    app.extensions.pop("qg_auth_redis", None)
    try:
        data = signed_in(UserFactory())
        assert client.get("/api/auth/me", headers=bearer(data["access_token"])).status_code == 200
        client.post("/api/auth/logout", headers=bearer(data["access_token"]))
        me = client.get("/api/auth/me", headers=bearer(data["access_token"]))
        assert me.json["error"]["code"] == "TOKEN_REVOKED"
    finally:
        app.extensions.pop("qg_auth_redis", None)
    assert fresh(db.session.scalar(select(Session))).revoked_reason == "LOGOUT"
