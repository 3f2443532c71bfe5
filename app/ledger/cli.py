"""``flask ledger check``: prove the books balance (``check_books`` does the work)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import click
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import GROUPS, AccountGroup, LedgerAccount, LedgerEntry, LedgerLine
from app.ledger.operations import ZERO, sum_to_cents


@dataclass
class BooksReport:
    entries: int = 0
    lines: int = 0
    money_in: Decimal = ZERO  # every shilling received (the money-in accounts' debits)
    held: Decimal = ZERO
    revenue: Decimal = ZERO
    owed: Decimal = ZERO
    paid_out: Decimal = ZERO  # every shilling that left (the money-in accounts' credits)
    discrepancy: str | None = None

    @property
    def ok(self) -> bool:
        return self.discrepancy is None

    def summary(self) -> str:
        return (
            f"{self.entries} entries, {self.lines} lines; money in {self.money_in} = "
            f"held {self.held} + revenue {self.revenue} + owed {self.owed} "
            f"+ paid out {self.paid_out}"
        )


def check_books() -> BooksReport:
    """Recompute the books from every line, in exact Decimal, and compare: each entry
    balances, all lines sum to zero, each account's database total equals the recomputed
    one, and money in = held + revenue + owed + paid out. Stops at the first discrepancy."""
    report = BooksReport()
    report.entries = db.session.scalar(select(func.count(LedgerEntry.id))) or 0
    accounts = {account.id: account for account in db.session.scalars(select(LedgerAccount))}
    by_account: dict[int, Decimal] = defaultdict(lambda: ZERO)
    entry_id, entry_total = None, ZERO
    rows = db.session.execute(
        select(LedgerLine.entry_id, LedgerLine.account_id, LedgerLine.amount)
        .order_by(LedgerLine.entry_id, LedgerLine.id)
        .execution_options(yield_per=5000)
    )
    for line_entry_id, account_id, amount in rows:
        if line_entry_id != entry_id:
            if entry_total:
                return _fail(report, _unbalanced(entry_id, entry_total))
            entry_id, entry_total = line_entry_id, ZERO
        entry_total += amount
        by_account[account_id] += amount
        report.lines += 1
        if GROUPS[accounts[account_id].code] == AccountGroup.MONEY_IN:
            if amount > 0:
                report.money_in += amount
            else:
                report.paid_out -= amount
    if entry_total:
        return _fail(report, _unbalanced(entry_id, entry_total))
    grand_total = sum(by_account.values(), ZERO)
    if grand_total:
        return _fail(report, f"all lines sum to {grand_total}, not 0")
    stored = dict(
        db.session.execute(
            select(LedgerLine.account_id, func.sum(LedgerLine.amount)).group_by(
                LedgerLine.account_id
            )
        ).all()
    )
    for account_id, account in sorted(accounts.items()):
        total, recomputed = sum_to_cents(stored.get(account_id)), by_account[account_id]
        if total != recomputed:
            return _fail(
                report,
                f"account {account.key}: the database sums {total}, its lines {recomputed}",
            )
    totals = dict.fromkeys(AccountGroup, ZERO)
    for account_id, total in by_account.items():
        totals[GROUPS[accounts[account_id].code]] += total
    report.held = -totals[AccountGroup.HELD]
    report.revenue = -totals[AccountGroup.REVENUE]
    report.owed = -totals[AccountGroup.OWED]
    if report.money_in != report.held + report.revenue + report.owed + report.paid_out:
        return _fail(report, f"money in does not equal what it became: {report.summary()}")
    return report


def _unbalanced(entry_id: int, total: Decimal) -> str:
    key = db.session.scalar(select(LedgerEntry.event_key).where(LedgerEntry.id == entry_id))
    return f"entry {key} (id {entry_id}) does not balance: its lines sum to {total}"


def _fail(report: BooksReport, discrepancy: str) -> BooksReport:
    report.discrepancy = discrepancy
    return report


def register_cli(app: Flask) -> None:
    @app.cli.group("ledger")
    def ledger_group():
        """The money ledger."""

    @ledger_group.command("check")
    def check():
        """Prove the books balance; exits 1 with the first discrepancy."""
        report = check_books()
        click.echo(report.summary())
        if not report.ok:
            click.echo(f"ledger check FAILED: {report.discrepancy}", err=True)
            raise SystemExit(1)
        click.echo("ledger check passed")
