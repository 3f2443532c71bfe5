"""Every scheduled job, registered in one place.

Jobs are plain functions of their domain (``<domain>/jobs.py``, ``payments/expiry.py``)
that take no request. APScheduler runs them inside the web process; before a run does
anything it claims its slot by inserting a ``JobRun`` row (unique per job and slot), so N
workers on M machines run it once. A job runs every ``interval_seconds`` (slots: the
intervals since the epoch) or on a calendar: ``cron`` names a runtime setting (or a config
key) holding a crontab, read in ``timezone`` (a config key); its slot is the scheduled
fire time, the same for every worker (``cron_slot``).
``flask jobs list`` / ``flask jobs run NAME`` run them by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from app.common.models import JobRun
from app.db import utcnow
from app.extensions import db
from app.settings import SETTINGS, setting

log = logging.getLogger(__name__)
SLOT_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", imported when the job runs
    interval_seconds: int
    description: str
    cron: str | None = None  # a setting (or config key) holding a crontab
    timezone: str | None = None  # the config key of the crontab's timezone

    def load(self) -> Callable[[], object]:
        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)

    def trigger(self) -> CronTrigger:
        """The calendar of a cron job, read now (an operator may change the setting)."""
        crontab = setting(self.cron) if self.cron in SETTINGS else current_app.config[self.cron]
        zone = current_app.config[self.timezone] if self.timezone else "UTC"
        return CronTrigger.from_crontab(crontab, timezone=zone)


def last_fire_time(trigger: CronTrigger, moment: datetime) -> datetime:
    """The latest scheduled time at or before ``moment`` (searched back up to 366 days)."""
    for lookback in (timedelta(days=1), timedelta(days=32), timedelta(days=366)):
        fire, last = trigger.get_next_fire_time(None, moment - lookback), None
        while fire is not None and fire <= moment:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if last is not None:
            return last
    raise ValueError("the schedule has no time in the past year")


def cron_slot(trigger: CronTrigger, moment: datetime) -> str:
    """The fire time ``moment`` belongs to, in the schedule's timezone: ``2026-12-07T07:00``."""
    return last_fire_time(trigger, moment).strftime("%Y-%m-%dT%H:%M")


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
        "reconcile_processing_refunds",
        "app.payments.jobs:reconcile_processing_refunds",
        300,
        "Ask Paystack about card refunds still PROCESSING after 2 minutes",
    ),
    Job(
        "escalate_stale_returns",
        "app.returns.jobs:escalate_stale_returns",
        3600,
        "Returns unanswered by their supplier (SUPPLIER_RETURN_RESPONSE_HOURS) go to admins",
    ),
    Job(
        "release_earnings",
        "app.ledger.jobs:release_earnings",
        3600,
        "Move supplier earnings past their hold (EARNINGS_HOLD_DAYS) to available",
    ),
    Job(
        "expire_delivery_offers",
        "app.dispatch.jobs:expire_delivery_offers",
        60,
        "Close orders offered to agents once DELIVERY_OFFER_MINUTES have passed",
    ),
    Job(
        "auto_confirm_deliveries",
        "app.dispatch.jobs:auto_confirm_deliveries",
        900,
        "Confirm deliveries the customer neither confirmed nor disputed in DELIVERY_CONFIRM_HOURS",
    ),
    Job(
        "run_supplier_payouts",
        "app.payouts.jobs:run_supplier_payouts",
        0,
        "Pay every supplier's available balance >= payout_min_amount by M-Pesa B2C",
        cron="payout_schedule",
        timezone="PAYOUT_TIMEZONE",
    ),
    Job(
        "run_agent_payouts",
        "app.dispatch.payouts:run_agent_payouts",
        0,
        "Pay every agent's available earnings less cash held by M-Pesa B2C",
        cron="AGENT_PAYOUT_SCHEDULE",
        timezone="PAYOUT_TIMEZONE",
    ),
    Job(
        "reconcile_payouts",
        "app.disbursements.jobs:reconcile_disbursements",
        300,
        "Transaction Status for B2C payouts/refunds in flight over "
        "PAYOUT_RECONCILE_AFTER_MINUTES; replay early callbacks",
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
    """The interval (or calendar time) a scheduled fire time belongs to: the same for
    every worker."""
    if job.cron:
        return cron_slot(job.trigger(), moment)
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
        if job.cron:
            with app.app_context():
                timing = {"trigger": job.trigger()}
        else:
            timing = {
                "trigger": "interval",
                "seconds": job.interval_seconds,
                "start_date": SLOT_EPOCH,  # every worker fires on the same slot boundaries
            }
        scheduler.add_job(
            runner,
            **timing,
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
            when = f"cron {job.cron}" if job.cron else f"every {job.interval_seconds:>6}s"
            click.echo(f"{job.name:32} {when:21} {job.description}")

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
