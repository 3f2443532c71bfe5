"""Every scheduled job, registered in one place.

Jobs are plain functions of their domain (``<domain>/jobs.py``, ``payments/expiry.py``)
that take no request. APScheduler runs them inside the web process; before a run does
anything it claims its slot by inserting a ``JobRun`` row (unique per job and slot), so N
workers on M machines run it once.
``flask jobs list`` / ``flask jobs run NAME`` run them by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import IntegrityError

from app.common.models import JobRun
from app.db import utcnow
from app.extensions import db

log = logging.getLogger(__name__)
SLOT_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", imported when the job runs
    interval_seconds: int
    description: str

    def load(self) -> Callable[[], object]:
        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)


JOBS: tuple[Job, ...] = (
    Job(
        "purge_idempotency_keys",
        "app.common.idempotency:purge_expired_idempotency_keys",
        3600,
        "Forget Idempotency-Keys older than 24 hours",
    ),
    Job(
        "expire_unpaid_orders",
        "app.payments.expiry:expire_unpaid_orders",
        60,
        "Cancel M-Pesa/card orders unpaid after ORDER_PAYMENT_TIMEOUT_MINUTES; release stock",
    ),
    Job(
        "reconcile_pending_payments",
        "app.payments.jobs:reconcile_pending_payments",
        60,
        "Query M-Pesa / verify Paystack for payments pending over 2 minutes",
    ),
    Job(
        "reconcile_catalog_listing",
        "app.catalog.jobs:reconcile_listing",
        86400,
        "Recount the listed totals and rebuild stale or missing search rows (nightly)",
    ),
    Job(
        "release_earnings",
        "app.ledger.jobs:release_earnings",
        3600,
        "Move supplier earnings past their hold (EARNINGS_HOLD_DAYS) to available",
    ),
    Job(
        "send_outbox_emails",
        "app.notifications.jobs:send_outbox_emails",
        60,
        "Send queued emails; retry failed ones with back-off up to MAIL_MAX_ATTEMPTS, then DEAD",
    ),
    Job(
        "purge_orphan_uploads",
        "app.uploads.jobs:purge_orphan_uploads",
        86400,
        "Delete uploaded images not attached to anything 24 hours after upload",
    ),
)


def find_job(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def claim_run(job: Job, slot: str) -> JobRun | None:
    """Insert the (job, slot) row; None when another worker already has it."""
    run = JobRun(job_name=job.name, slot=slot)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def execute(job: Job, slot: str) -> JobRun | None:
    run = claim_run(job, slot)
    if run is None:
        log.info("job %s slot %s already claimed elsewhere", job.name, slot)
        return None
    started = time.perf_counter()
    try:
        result = job.load()()
        db.session.commit()
        run.status, run.result = "SUCCEEDED", repr(result)[:2000]
    except Exception as exc:  # a failing job must not kill the scheduler thread
        db.session.rollback()
        log.exception("job %s failed", job.name)
        run = db.session.get(JobRun, run.id)
        run.status, run.result = "FAILED", f"{type(exc).__name__}: {exc}"[:2000]
    run.finished_at = utcnow()
    db.session.commit()
    log.info("job %s %s in %.0f ms", job.name, run.status, (time.perf_counter() - started) * 1000)
    return run


def slot_for(job: Job, moment: datetime) -> str:
    """The interval a scheduled fire time belongs to: the same for every worker."""
    epoch = int(moment.timestamp())
    return str(epoch - epoch % job.interval_seconds)


def start_scheduler(app: Flask) -> BackgroundScheduler | None:
    if not app.config["SCHEDULER_ENABLED"] or app.extensions.get("qg_scheduler"):
        return app.extensions.get("qg_scheduler")
    scheduler = BackgroundScheduler(timezone="UTC")

    def runner(job: Job):
        with app.app_context():
            execute(job, slot_for(job, utcnow()))
            db.session.remove()

    for job in JOBS:
        scheduler.add_job(
            runner,
            "interval",
            seconds=job.interval_seconds,
            start_date=SLOT_EPOCH,  # every worker fires on the same slot boundaries
            args=[job],
            id=job.name,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    scheduler.start()
    app.extensions["qg_scheduler"] = scheduler
    log.info("scheduler started with %d jobs", len(JOBS))
    return scheduler


def register_jobs_cli(app: Flask) -> None:
    @app.cli.group("jobs")
    def jobs_group():
        """List and run scheduled jobs."""

    @jobs_group.command("list")
    def list_jobs():
        for job in JOBS:
            click.echo(f"{job.name:32} every {job.interval_seconds:>6}s  {job.description}")

    @jobs_group.command("run")
    @click.argument("name")
    def run_job(name: str):
        try:
            job = find_job(name)
        except KeyError:
            raise click.ClickException(f"unknown job {name!r}; see 'flask jobs list'") from None
        run = execute(job, f"manual-{utcnow().strftime('%Y%m%dT%H%M%S.%f')}")
        click.echo(f"{job.name}: {run.status} {run.result or ''}")
        if run.status != "SUCCEEDED":
            raise SystemExit(1)
