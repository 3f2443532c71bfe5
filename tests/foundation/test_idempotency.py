"""``Idempotency-Key`` (API.md): replay, reuse, in progress, expiry, stale locks, failures."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.common.models import AuditLog, IdempotencyKey
from app.db import utcnow
from app.extensions import db
from tests.foundation import probe

URL = "/api/probe/audits"


@pytest.fixture
def post(probe_client, customer, auth_headers):
    headers = auth_headers(customer)

    def send(body, key="key-1", client=probe_client, **extra):
        all_headers = headers | extra
        if key is not None:
            all_headers["Idempotency-Key"] = key
        return client.post(URL, json=body, headers=all_headers)

    return send


def audit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditLog))


def key_row() -> IdempotencyKey | None:
    db.session.expire_all()
    return db.session.scalar(select(IdempotencyKey))


def test_same_key_and_body_replays_the_first_response(post):
    first = post({"action": "pay"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    second = post({"action": "pay"})
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json == first.json
    assert audit_count() == 1 and probe.calls["write"] == 1


def test_without_a_key_every_request_runs(post):
    assert post({"action": "pay"}, key=None).status_code == 201
    assert post({"action": "pay"}, key=None).status_code == 201
    assert audit_count() == 2 and key_row() is None


def test_keys_belong_to_one_user(post, probe_client, auth_headers, role_user):
    from app.auth.models import UserRole

    post({"action": "pay"})
    other = auth_headers(role_user(UserRole.CUSTOMER), **{"Idempotency-Key": "key-1"})
    response = probe_client.post(URL, json={"action": "pay"}, headers=other)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert audit_count() == 2


def test_same_key_with_a_different_body_is_422(post):
    post({"action": "pay"})
    response = post({"action": "refund"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert audit_count() == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_key_length_is_validated(post, key):
    response = post({"action": "pay"}, key=key)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert "Idempotency-Key" in response.json["error"]["details"]
    assert audit_count() == 0


def test_a_key_still_in_progress_is_409(post):
    post({"action": "pay"})
    db.session.execute(update(IdempotencyKey).values(response_status=None, locked_at=utcnow()))
    db.session.commit()
    response = post({"action": "pay"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert audit_count() == 1


def test_a_key_left_by_a_crashed_worker_is_taken_over_after_the_timeout(post, probe_app):
    post({"action": "pay"})
    timeout = probe_app.config["IDEMPOTENCY_LOCK_TIMEOUT_SECONDS"]
    stale = utcnow() - timedelta(seconds=timeout + 1)
    db.session.execute(update(IdempotencyKey).values(response_status=None, locked_at=stale))
    db.session.commit()
    response = post({"action": "pay"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert audit_count() == 2
    assert key_row().response_status == 201 and key_row().locked_at is None


def test_keys_expire_after_24_hours(post):
    post({"action": "pay"})
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    response = post({"action": "something else entirely"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert audit_count() == 2


def test_a_4xx_is_stored_and_replayed_and_writes_nothing(post):
    first = post({"action": "pay", "behaviour": "conflict"})
    assert first.status_code == 409 and first.json["error"]["code"] == "ALREADY_DONE"
    second = post({"action": "pay", "behaviour": "conflict"})
    assert second.status_code == 409 and second.headers["Idempotent-Replayed"] == "true"
    assert second.json["error"] == first.json["error"]
    assert probe.calls["write"] == 1
    assert audit_count() == 0  # the row the view flushed was rolled back


@pytest.mark.parametrize(("behaviour", "status"), [("provider", 502), ("crash", 500)])
def test_a_5xx_releases_the_key_so_the_client_can_retry(post, behaviour, status):
    response = post({"action": "pay", "behaviour": behaviour})
    assert response.status_code == status
    assert key_row() is None and audit_count() == 0
    retry = post({"action": "pay", "behaviour": behaviour})
    assert retry.status_code == status and "Idempotent-Replayed" not in retry.headers
    assert probe.calls["write"] == 2


def test_a_request_while_the_first_is_running_gets_409_then_the_replay(post, probe_app):
    results = {}
    first = threading.Thread(
        target=lambda: results.update(
            first=post({"action": "pay", "behaviour": "wait"}, client=probe_app.test_client())
        )
    )
    first.start()
    try:
        for _ in range(500):  # the first request claims the key before its view runs
            if key_row() is not None:
                break
            threading.Event().wait(0.01)
        busy = post({"action": "pay", "behaviour": "wait"})
        assert busy.status_code == 409
        assert busy.json["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    finally:
        probe.release_waiting.set()
        first.join(timeout=30)
    assert results["first"].status_code == 201
    replay = post({"action": "pay", "behaviour": "wait"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert audit_count() == 1


@pytest.mark.postgres
def test_identical_first_requests_racing_run_once(post, probe_app):
    barrier = threading.Barrier(6)
    responses = []

    def send():
        client = probe_app.test_client()
        barrier.wait()
        responses.append(post({"action": "pay"}, client=client))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(responses) == 6
    fresh = [
        r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    ]
    assert len(fresh) == 1
    for response in responses:
        assert response.status_code in (201, 409)
        if response.status_code == 409:
            assert response.json["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert audit_count() == 1


def test_purge_job_forgets_only_expired_keys(post, probe_app):
    from app.common.idempotency import purge_expired_idempotency_keys

    post({"action": "old"}, key="old")
    post({"action": "new"}, key="new")
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "old")
        .values(created_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    assert purge_expired_idempotency_keys() == 1
    assert [k.key for k in db.session.scalars(select(IdempotencyKey))] == ["new"]
