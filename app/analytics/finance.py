"""The financial report: each figure is a sum of ledger movements (``LEDGER_FIGURES``).

Every figure but ``gmv`` is read from the ledger (through its rollup, ``LedgerRollup``):
``LEDGER_FIGURES`` is the one table saying which account's debits or credits, of which
entry kinds, make each figure. A flow figure is what moved within the period; a balance
figure (``BALANCES``) is the account's balance at the end of the period. Accounts and
kinds that no entry uses yet simply sum to zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.analytics.models import BreakdownRollup, LedgerRollup
from app.analytics.queries import sums, sums_by_period, sums_by_window
from app.calendar import DAY
from app.extensions import db
from app.ledger.models import GROUPS, AccountGroup
from app.money import ZERO

CREDIT, DEBIT, NET_CREDIT, NET_DEBIT = "credit", "debit", "net credit", "net debit"
# The ledger's own grouping of its chart (RETURN_COSTS is contra revenue: its debits
# reduce the net).
MONEY_IN = tuple(str(code) for code, group in GROUPS.items() if group == AccountGroup.MONEY_IN)
REVENUE = tuple(str(code) for code, group in GROUPS.items() if group == AccountGroup.REVENUE)


@dataclass(frozen=True)
class Term:
    """The ``side`` of ``account``'s lines (all kinds, or only ``kinds``)."""

    account: str
    side: str
    kinds: tuple[str, ...] | None = None


# figure -> the terms it sums. Balance figures are read as at the end of each period.
LEDGER_FIGURES: dict[str, tuple[Term, ...]] = {
    # What customers paid for delivery of the orders delivered: the platform's share
    # and the agents' fee (credited to the agent's on-hold account on delivery).
    "delivery_fees": (Term("DELIVERY_REVENUE", NET_CREDIT), Term("AGENT_ON_HOLD", CREDIT)),
    "agent_fees": (Term("AGENT_ON_HOLD", CREDIT),),
    "commission_revenue": (Term("COMMISSION_REVENUE", NET_CREDIT),),
    "restocking_fees": (Term("RESTOCKING_REVENUE", NET_CREDIT),),
    # Money that went back to customers (the provider confirmed the refund).
    "refunds": tuple(Term(account, CREDIT, ("refund-settled",)) for account in MONEY_IN),
    "supplier_payouts": (Term("SUPPLIER_IN_FLIGHT", DEBIT, ("payout-confirmed",)),),
    "agent_payouts": (Term("AGENT_IN_FLIGHT", DEBIT, ("payout-confirmed",)),),
    "payouts_in_flight": (
        Term("SUPPLIER_IN_FLIGHT", NET_CREDIT),
        Term("AGENT_IN_FLIGHT", NET_CREDIT),
    ),
    "held_for_undelivered": (Term("ORDERS_HELD", NET_CREDIT),),
    "cash_held_by_agents": (Term("AGENT_CASH_HELD", NET_DEBIT),),
    "net_revenue": tuple(Term(account, NET_CREDIT) for account in REVENUE),
}
BALANCES = frozenset({"payouts_in_flight", "held_for_undelivered", "cash_held_by_agents"})
# The report's keys, in order: ``gmv`` (item subtotals of the orders paid in the period,
# from the sales rollups) then the ledger's figures.
FIGURES = ("gmv", *LEDGER_FIGURES)
PAYMENT_METHODS = ("MPESA", "CARD", "CASH", "NONE")  # NONE: entries of no order (payouts)


def _term_value(term: Term, debit: Decimal, credit: Decimal) -> Decimal:
    return {CREDIT: credit, DEBIT: debit, NET_CREDIT: credit - debit, NET_DEBIT: debit - credit}[
        term.side
    ]


# account -> the (figure, term) pairs that read it
_TERMS_OF_ACCOUNT: dict[str, list[tuple[str, Term]]] = defaultdict(list)
for _name, _terms in LEDGER_FIGURES.items():
    for _term in _terms:
        _TERMS_OF_ACCOUNT[_term.account].append((_name, _term))


def _figures(ledger: dict[tuple, dict], gmv: Decimal) -> dict[str, Decimal]:
    """The figures of one period from its ledger sums {(account, kind): {debit, credit}}."""
    figures = dict.fromkeys(FIGURES, ZERO)
    figures["gmv"] = gmv
    for (account, kind), moved in ledger.items():
        for name, term in _TERMS_OF_ACCOUNT.get(account, ()):
            if term.kinds is None or kind in term.kinds:
                figures[name] += _term_value(term, moved["debit"], moved["credit"])
    return figures


def _balance_accounts() -> set[str]:
    return {term.account for name in BALANCES for term in LEDGER_FIGURES[name]}


def _opening(first: date) -> dict[str, dict[tuple, dict]]:
    """The balance accounts' sums before ``first``, by payment method then (account,
    None): read from the fewest buckets since the first day rolled up."""
    earliest = db.session.scalar(
        select(func.min(LedgerRollup.bucket)).where(LedgerRollup.grain == DAY)
    )
    opening: dict[str, dict[tuple, dict]] = defaultdict(dict)
    if earliest is None or earliest >= first:
        return opening
    before = sums(
        LedgerRollup,
        earliest,
        first - timedelta(days=1),
        ("payment_method", "account"),
        where=(LedgerRollup.account.in_(sorted(_balance_accounts())),),
    )
    for (method, account), values in before.items():
        opening[method or "NONE"][(account, None)] = values
    return opening


def _add(target: dict[tuple, dict], key: tuple, sums: dict) -> None:
    current = target.setdefault(key, {"debit": ZERO, "credit": ZERO})
    current["debit"] += sums["debit"]
    current["credit"] += sums["credit"]


def financial_report(first: date, last: date, ranges: list[tuple[date, date]]) -> dict[str, object]:
    """``totals``, ``periods`` (one per range, same keys) and ``by_payment_method``
    (each method's totals), in exact Decimal."""
    ledger = sums_by_period(LedgerRollup, ranges, ("payment_method", "account", "kind"))
    sales = sums_by_period(
        BreakdownRollup,
        ranges,
        ("member",),
        where=(BreakdownRollup.dimension == "payment_method",),
    )
    running = _opening(first)  # per method: {(account, kind): sums}, balances only
    balance_accounts = _balance_accounts()
    periods, moved_total = [], defaultdict(lambda: defaultdict(dict))
    for (start, end), moved, sold in zip(ranges, ledger, sales, strict=True):
        by_method: dict[str, dict[tuple, dict]] = defaultdict(dict)
        for (method, account, kind), period_sums in moved.items():
            method = method or "NONE"
            _add(by_method[method], (account, kind), period_sums)
            _add(moved_total[method], (account, kind), period_sums)
            if account in balance_accounts:
                _add(running[method], (account, None), period_sums)
        gmv = sum((values["gmv"] for values in sold.values()), ZERO)
        flows = _figures(_merge(by_method.values()), gmv)
        closing = _figures(_merge(running.values()), ZERO)
        periods.append({"start": start, "end": end, **_with_balances(flows, closing)})
    gmv_by_method = defaultdict(lambda: ZERO)
    for sold in sales:
        for (method,), values in sold.items():
            gmv_by_method[method] += values["gmv"]
    totals = _with_balances(
        _figures(_merge(moved_total.values()), sum(gmv_by_method.values(), ZERO)),
        _figures(_merge(running.values()), ZERO),
    )
    by_payment_method = {
        method: _with_balances(
            _figures(moved_total.get(method, {}), gmv_by_method.get(method, ZERO)),
            _figures(running.get(method, {}), ZERO),
        )
        for method in PAYMENT_METHODS
    }
    return {
        "from": first,
        "to": last,
        "totals": totals,
        "periods": periods,
        "by_payment_method": by_payment_method,
    }


def _merge(groups) -> dict[tuple, dict]:
    merged: dict[tuple, dict] = {}
    for group in groups:
        for key, values in group.items():
            _add(merged, key, values)
    return merged


def _with_balances(flows: dict[str, Decimal], closing: dict[str, Decimal]) -> dict:
    return {name: closing[name] if name in BALANCES else flows[name] for name in FIGURES}


def window_flows(windows: dict[str, tuple[date, date]]) -> dict[str, dict[str, Decimal]]:
    """The flow figures (all but the balances) of overlapping windows, by name, from one
    read of the day rows that span them (the dashboard's GMV and revenue)."""
    ledger = sums_by_window(LedgerRollup, windows, ("account", "kind"))
    sales = sums_by_window(
        BreakdownRollup, windows, (), where=(BreakdownRollup.dimension == "payment_method",)
    )
    return {
        name: _figures(ledger[name], sales[name].get((), {}).get("gmv", ZERO)) for name in windows
    }
