"""The supplier's statement: the ledger lines on their accounts, with what the platform
owes them after each line.

A supplier's accounts (``SUPPLIER_ON_HOLD`` / ``_AVAILABLE`` / ``_IN_FLIGHT``) are
credit-normal: the ledger stores what the platform owes as negative amounts, so the
statement shows each line negated (positive = the platform owes the supplier more).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from app import spreadsheets
from app.extensions import db
from app.fields import Timestamp
from app.ledger.models import SUPPLIER_ACCOUNTS, LedgerAccount, LedgerEntry, LedgerLine
from app.ledger.operations import sum_to_cents
from app.money import ZERO
from app.orders.models import Order
from app.pagination import Page, paginate

STATEMENT_COLUMNS = (
    "entry_id",
    "occurred_at",
    "kind",
    "event_key",
    "order_number",
    "account",
    "amount",
    "balance",
)

TIMESTAMP = Timestamp()


@dataclass(frozen=True)
class StatementRow:
    """One line on one of the supplier's accounts; ``balance``: what the platform owes
    the supplier (on hold + available + in flight) once this line is counted."""

    entry_id: int
    occurred_at: datetime
    kind: str
    event_key: str
    order_number: str | None
    account: str
    amount: Decimal
    balance: Decimal


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _supplier_lines(supplier_id: int, params: dict[str, Any]) -> list:
    """The filter: lines on this supplier's accounts, within ``from``..``to`` (whole days)."""
    conditions = [
        LedgerAccount.supplier_id == supplier_id,
        LedgerAccount.code.in_(SUPPLIER_ACCOUNTS),
    ]
    if params.get("from") is not None:
        conditions.append(LedgerEntry.occurred_at >= _start_of(params["from"]))
    if params.get("to") is not None and params["to"] < date.max:  # the last day: no bound
        conditions.append(LedgerEntry.occurred_at < _start_of(params["to"] + timedelta(days=1)))
    return conditions


def _joined(statement: Select) -> Select:
    return statement.join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id).join(
        LedgerEntry, LedgerEntry.id == LedgerLine.entry_id
    )


def _opening_balance(supplier_id: int, start: date | None) -> Decimal:
    """What the platform owed the supplier before ``start`` (nothing without a start)."""
    if start is None:
        return ZERO
    total = db.session.scalar(
        _joined(select(func.sum(LedgerLine.amount))).where(
            *_supplier_lines(supplier_id, {}), LedgerEntry.occurred_at < _start_of(start)
        )
    )
    return -sum_to_cents(total)


def _statement(supplier_id: int, params: dict[str, Any]) -> tuple[Select, Select]:
    """(rows oldest first with the running sum of the range, their count)."""
    order = (LedgerEntry.occurred_at, LedgerEntry.id, LedgerLine.id)
    running = func.sum(LedgerLine.amount).over(order_by=order, rows=(None, 0))
    conditions = _supplier_lines(supplier_id, params)
    rows = (
        _joined(
            select(
                LedgerEntry.id,
                LedgerEntry.occurred_at,
                LedgerEntry.kind,
                LedgerEntry.event_key,
                Order.order_number,
                LedgerAccount.code,
                LedgerLine.amount,
                running,
            )
        )
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .where(*conditions)
        .order_by(*order)
    )
    count = _joined(select(func.count(LedgerLine.id))).where(*conditions)
    return rows, count


def _rows(results: Sequence, opening: Decimal) -> list[StatementRow]:
    return [
        StatementRow(
            entry_id=entry_id,
            occurred_at=occurred_at,
            kind=kind,
            event_key=event_key,
            order_number=order_number,
            account=code.removeprefix("SUPPLIER_"),
            amount=-sum_to_cents(amount),
            balance=opening - sum_to_cents(running),
        )
        for entry_id, occurred_at, kind, event_key, order_number, code, amount, running in results
    ]


def statement_page(supplier_id: int, params: dict[str, Any]) -> Page:
    """One page of the statement (``params``: ``from``, ``to``, ``page``, ``per_page``)."""
    rows, count = _statement(supplier_id, params)
    page = paginate(rows, params, count=count, rows=True)
    page.items = _rows(page.items, _opening_balance(supplier_id, params.get("from")))
    return page


def statement_csv(supplier_id: int, params: dict[str, Any]):
    """(content, mimetype, filename): the whole ``from``..``to`` statement, oldest first,
    one row per line; amounts are numbers, text cells inert (``app.spreadsheets``)."""
    rows, _ = _statement(supplier_id, params)
    lines = _rows(db.session.execute(rows).all(), _opening_balance(supplier_id, params.get("from")))
    cells = [
        [
            line.entry_id,
            TIMESTAMP.serialize("occurred_at", line),
            line.kind,
            line.event_key,
            line.order_number or "",
            line.account,
            line.amount,
            line.balance,
        ]
        for line in lines
    ]
    return spreadsheets.write("csv", [STATEMENT_COLUMNS, *cells], "supplier-statement")
