"""Posting to the ledger: balanced entries, once per event key; balances are sums of lines.

``post`` and ``post_many`` write with ``INSERT .. ON CONFLICT (event_key) DO NOTHING``:
of N concurrent posts of one event key exactly one writes (the others wait for its
transaction and then find the key taken), so a replayed callback, a re-run job or a
signal sent twice posts once. Functions flush and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from app.db import conflict_insert, utcnow
from app.errors import NotFound
from app.extensions import db
from app.ledger.models import (
    AccountCode,
    EntryKind,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    Party,
    PartyRole,
    account_key,
    party_account,
)
from app.money import CENTS, ZERO
from app.signals import ledger_posted


class UnbalancedEntry(ValueError):
    """An entry whose lines do not sum to exactly zero (or carry sub-cent amounts)."""


@dataclass(frozen=True)
class Line:
    """One side of an entry: debit positive, credit negative. A supplier's account names
    its ``supplier_id``, an agent's its ``agent_id`` (``party_line`` builds either)."""

    account: AccountCode
    amount: Decimal
    supplier_id: int | None = None
    order_item_id: int | None = None
    release_at: datetime | None = None
    agent_id: int | None = None

    @property
    def key(self) -> str:
        return account_key(self.account, self.supplier_id, self.agent_id)


def party_line(
    party: Party,
    party_id: int,
    role: PartyRole,
    amount: Decimal,
    *,
    order_item_id: int | None = None,
    release_at: datetime | None = None,
) -> Line:
    """A line on a supplier's or an agent's ON_HOLD / AVAILABLE / IN_FLIGHT account."""
    owner = {"supplier_id": party_id} if party == Party.SUPPLIER else {"agent_id": party_id}
    return Line(
        party_account(party, role),
        amount,
        order_item_id=order_item_id,
        release_at=release_at,
        **owner,
    )


@dataclass(frozen=True)
class Posting:
    event_key: str
    kind: str
    lines: Sequence[Line]
    occurred_at: datetime | None = None
    order_id: int | None = None
    supplier_id: int | None = None
    memo: str | None = None
    reverses_id: int | None = None
    agent_id: int | None = None


def _check(posting: Posting) -> list[Line]:
    """The entry's non-zero lines (a commission of 0.00 writes no line), once checked."""
    lines = []
    for line in posting.lines:
        amount = Decimal(line.amount)
        if amount != amount.quantize(CENTS):
            raise UnbalancedEntry(f"{posting.event_key}: {amount} is not a whole number of cents")
        if amount:
            lines.append(line)
    total = sum((line.amount for line in lines), ZERO)
    if total != 0:
        raise UnbalancedEntry(f"{posting.event_key}: lines sum to {total}, not 0")
    if len(posting.event_key) > 120:
        raise ValueError(f"event key too long: {posting.event_key!r}")
    return lines


def account_ids(accounts: Iterable[Line]) -> dict[str, int]:
    """The ids of the accounts these lines name, by key, creating the missing ones."""
    wanted = {line.key: line for line in accounts}
    if not wanted:
        return {}
    found_query = select(LedgerAccount.key, LedgerAccount.id).where(LedgerAccount.key.in_(wanted))
    found = dict(db.session.execute(found_query).all())
    missing = [key for key in wanted if key not in found]
    if missing:
        rows = [
            {
                "key": key,
                "code": wanted[key].account,
                "supplier_id": wanted[key].supplier_id,
                "agent_id": wanted[key].agent_id,
            }
            for key in missing
        ]
        table = LedgerAccount.__table__
        db.session.execute(  # RETURNING: the driver batches the rows into few INSERTs
            conflict_insert(table)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.id),
            rows,
        )
        found = dict(db.session.execute(found_query).all())
    return found


def insert_once(model, row: dict) -> None:
    """Insert a row unless its key is taken (a hold placed twice is placed once)."""
    db.session.execute(conflict_insert(model).values(row).on_conflict_do_nothing())


def post_many(postings: Sequence[Posting]) -> set[str]:
    """Post entries; returns the event keys written (those already posted are skipped).

    A constant number of statements per call, whatever the number of entries.
    """
    checked = [(posting, _check(posting)) for posting in postings]
    if not checked:
        return set()
    ids = account_ids(line for _, lines in checked for line in lines)
    now = utcnow()
    entry_rows = [
        {
            "event_key": posting.event_key,
            "kind": str(posting.kind),
            "occurred_at": posting.occurred_at or now,
            "posted_at": now,
            "order_id": posting.order_id,
            "supplier_id": posting.supplier_id,
            "agent_id": posting.agent_id,
            "memo": posting.memo[:255] if posting.memo else None,
            "reverses_id": posting.reverses_id,
        }
        for posting, _ in checked
    ]
    db.session.flush()  # the rows a receiver's lines refer to are written first
    # executemany form: one cached statement, batched into multi-row INSERTs by the
    # driver layer (compiling a fresh VALUES list of hundreds of rows costs more).
    table = LedgerEntry.__table__
    written = dict(
        db.session.execute(
            conflict_insert(table)
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(table.c.event_key, table.c.id),
            entry_rows,
        ).all()
    )
    line_rows = [
        {
            "entry_id": written[posting.event_key],
            "account_id": ids[line.key],
            "amount": line.amount,
            "order_item_id": line.order_item_id,
            "release_at": line.release_at,
        }
        for posting, lines in checked
        if posting.event_key in written
        for line in lines
    ]
    if line_rows:
        db.session.execute(conflict_insert(LedgerLine.__table__), line_rows)
    if written:
        now_posted = tuple(posting for posting, _ in checked if posting.event_key in written)
        lines = {posting.event_key: lines for posting, lines in checked}
        ledger_posted.send(now_posted, lines=lines, posted_at=now)
    return set(written)


def post(
    event_key: str,
    kind: str,
    lines: Sequence[Line],
    *,
    occurred_at: datetime | None = None,
    order_id: int | None = None,
    supplier_id: int | None = None,
    memo: str | None = None,
) -> bool:
    """Post one balanced entry; False when this event key was already posted."""
    posting = Posting(event_key, kind, lines, occurred_at, order_id, supplier_id, memo)
    return bool(post_many([posting]))


def reverse(event_key: str, *, memo: str, occurred_at: datetime | None = None) -> bool:
    """Post the mirror image of an entry (``reversal:<event key>``); once per entry."""
    return bool(post_many([reversal(event_key, memo=memo, occurred_at=occurred_at)]))


def reversal(event_key: str, *, memo: str, occurred_at: datetime | None = None) -> Posting:
    """The mirror image of an entry, to post (``reversal:<event key>``, once per entry)."""
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.event_key == event_key))
    if entry is None:
        raise NotFound(f"No ledger entry {event_key!r}")
    lines = [
        Line(
            account.code,
            -line.amount,
            account.supplier_id,
            line.order_item_id,
            agent_id=account.agent_id,
        )
        for line, account in db.session.execute(
            select(LedgerLine, LedgerAccount)
            .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
            .where(LedgerLine.entry_id == entry.id)
            .order_by(LedgerLine.id)
        )
    ]
    return Posting(
        f"reversal:{event_key}",
        EntryKind.REVERSAL,
        lines,
        occurred_at,
        entry.order_id,
        entry.supplier_id,
        memo,
        reverses_id=entry.id,
        agent_id=entry.agent_id,
    )


def sum_to_cents(total) -> Decimal:
    """A SUM from the database as exact cents."""
    # SQLite sums NUMERIC as REAL: back to exact cents (exact at NUMERIC(12, 2) sizes).
    return Decimal(str(total or 0)).quantize(CENTS)


def balance(
    code: AccountCode, supplier_id: int | None = None, agent_id: int | None = None
) -> Decimal:
    """The sum of the account's lines: debit positive (money in), credit negative."""
    total = db.session.scalar(
        select(func.sum(LedgerLine.amount))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerAccount.key == account_key(code, supplier_id, agent_id))
    )
    return sum_to_cents(total)


@dataclass(frozen=True)
class PartyBalances:
    """What the platform owes a supplier or an agent, as positive amounts, and what it
    has paid them."""

    on_hold: Decimal = ZERO
    available: Decimal = ZERO
    in_flight: Decimal = ZERO
    paid_out_total: Decimal = ZERO


SupplierBalances = PartyBalances  # the name the supplier portal knows


def party_balances(party: Party, party_id: int) -> PartyBalances:
    """One indexed query: the party's accounts (by owner), their lines (by account)."""
    owner = (
        LedgerAccount.supplier_id == party_id
        if party == Party.SUPPLIER
        else LedgerAccount.agent_id == party_id
    )
    paid_out = case((LedgerEntry.kind == EntryKind.PAYOUT_CONFIRMED, LedgerLine.amount), else_=0)
    rows = db.session.execute(
        select(LedgerAccount.code, func.sum(LedgerLine.amount), func.sum(paid_out))
        .join(LedgerLine, LedgerLine.account_id == LedgerAccount.id)
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(owner)
        .group_by(LedgerAccount.code)
    ).all()
    totals = {code: (-sum_to_cents(total), sum_to_cents(out)) for code, total, out in rows}

    def owed(role: PartyRole, column: int = 0) -> Decimal:
        return totals.get(party_account(party, role), (ZERO, ZERO))[column]

    return PartyBalances(
        on_hold=owed(PartyRole.ON_HOLD),
        available=owed(PartyRole.AVAILABLE),
        in_flight=owed(PartyRole.IN_FLIGHT),
        paid_out_total=owed(PartyRole.IN_FLIGHT, 1),
    )


def supplier_balances(supplier_id: int) -> PartyBalances:
    return party_balances(Party.SUPPLIER, supplier_id)


def agent_balances(agent_id: int) -> PartyBalances:
    """A delivery agent's balances (``agent_id``: the agent's user id)."""
    return party_balances(Party.AGENT, agent_id)


def held_for_order(order_id: int) -> Decimal:
    """What ``ORDERS_HELD`` holds for one order (what its customer paid, not yet moved on)."""
    total = db.session.scalar(
        select(func.sum(LedgerLine.amount))
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(LedgerEntry.order_id == order_id, LedgerAccount.key == AccountCode.ORDERS_HELD)
    )
    return -sum_to_cents(total)
