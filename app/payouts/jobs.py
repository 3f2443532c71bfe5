"""Scheduled payouts: suppliers on PAYOUT_SCHEDULE (the delivery domain runs its agents)."""

from __future__ import annotations

from decimal import Decimal

from apscheduler.triggers.cron import CronTrigger

from app.db import utcnow
from app.ledger.models import Party
from app.payouts.runs import RunSummary, run_payouts, supplier_eligibility
from app.scheduler import cron_slot, find_job
from app.settings import setting


def payout_trigger() -> CronTrigger:
    """The supplier payout calendar: the scheduler's ``run_supplier_payouts`` job's
    (``payout_schedule`` in PAYOUT_TIMEZONE)."""
    return find_job("run_supplier_payouts").trigger()


def current_period(now=None) -> str:
    """The supplier payout period: the latest PAYOUT_SCHEDULE time (``2026-12-07T07:00``,
    in PAYOUT_TIMEZONE); a run at any time before the next one belongs to it."""
    return cron_slot(payout_trigger(), now or utcnow())


def run_supplier_payouts(period: str | None = None) -> RunSummary:
    """Every approved, active supplier with the current terms and a payout number whose
    available balance reaches ``payout_min_amount`` gets one payout for the period."""
    minimum = Decimal(str(setting("payout_min_amount")))
    return run_payouts(
        Party.SUPPLIER, supplier_eligibility(minimum), period=period or current_period()
    )
