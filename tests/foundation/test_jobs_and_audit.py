"""Operator commands (``flask jobs``), run claiming, and the audit helper."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.common.audit import record_audit
from app.common.models import AuditLog, IdempotencyKey, JobRun
from app.db import utcnow
from app.extensions import db
from app.scheduler import JOBS, Job, claim_run, execute, find_job, slot_for
from tests.factories.auth import UserFactory

runs = {"count": 0}
COUNTING = Job("probe_counting", f"{__name__}:count_run", 60, "test job")
FAILING = Job("probe_failing", f"{__name__}:fail_run", 60, "test job")


def count_run() -> int:
    runs["count"] += 1
    return runs["count"]


def fail_run() -> None:
    raise RuntimeError("job blew up")


@pytest.fixture(autouse=True)
def reset_runs():
    runs["count"] = 0


def test_jobs_list_names_every_job(app):
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for job in JOBS:
        assert job.name in result.output
    assert "purge_idempotency_keys" in result.output


def test_jobs_run_purges_expired_idempotency_keys(app, customer):
    old = IdempotencyKey(
        user_id=customer.id,
        key="old",
        method="POST",
        path="/api/orders",
        fingerprint="f" * 64,
        created_at=utcnow() - timedelta(hours=25),
    )
    fresh = IdempotencyKey(
        user_id=customer.id, key="new", method="POST", path="/api/orders", fingerprint="f" * 64
    )
    db.session.add_all([old, fresh])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run", "purge_idempotency_keys"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purge_idempotency_keys: SUCCEEDED 1"
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["new"]
    run = db.session.scalar(select(JobRun))
    assert (run.job_name, run.status) == ("purge_idempotency_keys", "SUCCEEDED")
    assert run.finished_at is not None


def test_jobs_run_unknown_name_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["jobs", "run", "nope"])
    assert result.exit_code != 0
    assert "unknown job 'nope'" in result.output


def test_a_failing_job_is_recorded_and_does_not_raise():
    run = execute(FAILING, "slot-1")
    assert run.status == "FAILED" and "job blew up" in run.result
    assert run.finished_at is not None


def test_a_slot_is_claimed_once():
    assert claim_run(COUNTING, "slot-1") is not None
    assert claim_run(COUNTING, "slot-1") is None
    assert claim_run(COUNTING, "slot-2") is not None
    assert claim_run(FAILING, "slot-1") is not None


def test_two_workers_firing_for_the_same_slot_run_the_job_once(app):
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with app.app_context():
            barrier.wait()
            run = execute(COUNTING, "2026-11-23T10:00")
            results.append(run.status if run else None)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=str) == [None, "SUCCEEDED"]
    assert runs["count"] == 1
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_slots_are_the_same_for_every_worker_within_an_interval():
    job = find_job("purge_idempotency_keys")
    start = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    assert slot_for(job, start) == slot_for(job, start + timedelta(minutes=59))
    assert slot_for(job, start) != slot_for(job, start + timedelta(hours=1))


def test_scheduler_is_off_in_tests(app):
    assert app.config["SCHEDULER_ENABLED"] is False
    assert "qg_scheduler" not in app.extensions


# --- audit ---------------------------------------------------------------------------


def test_record_audit_in_a_request_records_who_what_and_where(app, customer):
    target = UserFactory()
    with app.test_request_context(
        "/api/x", headers={"X-Request-ID": "audit-1"}, environ_base={"REMOTE_ADDR": "10.0.0.7"}
    ):
        app.preprocess_request()
        from flask import g

        g.user_id = customer.id
        record_audit("user.disable", target, details={"reason": "fraud"})
        db.session.commit()
    entry = db.session.scalar(select(AuditLog))
    assert entry.actor_id == customer.id
    assert (entry.action, entry.target_type, entry.target_id) == (
        "user.disable",
        "User",
        str(target.id),
    )
    assert entry.details == {"reason": "fraud"}
    assert (entry.ip_address, entry.request_id) == ("10.0.0.7", "audit-1")
    assert entry.created_at.tzinfo is not None


def test_record_audit_outside_a_request_and_rolled_back_with_the_change(customer):
    record_audit("job.payout", customer, actor_id=None)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0
    entry = record_audit("job.payout", None, details={"count": 3})
    db.session.commit()
    assert (entry.actor_id, entry.target_type, entry.ip_address, entry.request_id) == (
        None,
        None,
        None,
        None,
    )
