"""Ledger accounts, journal entries and their lines (the chart: ``app/ledger/__init__.py``)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, enum_column, utcnow


class AccountCode(enum.StrEnum):
    MPESA_CLEARING = "MPESA_CLEARING"
    PAYSTACK_CLEARING = "PAYSTACK_CLEARING"
    CASH_COLLECTED = "CASH_COLLECTED"
    BANK_CLEARING = "BANK_CLEARING"
    AGENT_CASH_HELD = "AGENT_CASH_HELD"
    ORDERS_HELD = "ORDERS_HELD"
    SUPPLIER_ON_HOLD = "SUPPLIER_ON_HOLD"
    SUPPLIER_AVAILABLE = "SUPPLIER_AVAILABLE"
    SUPPLIER_IN_FLIGHT = "SUPPLIER_IN_FLIGHT"
    AGENT_ON_HOLD = "AGENT_ON_HOLD"
    AGENT_AVAILABLE = "AGENT_AVAILABLE"
    AGENT_IN_FLIGHT = "AGENT_IN_FLIGHT"
    REFUNDS_OWED = "REFUNDS_OWED"
    COMMISSION_REVENUE = "COMMISSION_REVENUE"
    DELIVERY_REVENUE = "DELIVERY_REVENUE"
    ROUNDING_REVENUE = "ROUNDING_REVENUE"
    RESTOCKING_REVENUE = "RESTOCKING_REVENUE"
    RETURN_COSTS = "RETURN_COSTS"


class AccountGroup(enum.StrEnum):
    MONEY_IN = "money in"
    HELD = "held"
    OWED = "owed"
    REVENUE = "revenue"


A = AccountCode
GROUPS: dict[AccountCode, AccountGroup] = {
    A.MPESA_CLEARING: AccountGroup.MONEY_IN,
    A.PAYSTACK_CLEARING: AccountGroup.MONEY_IN,
    A.CASH_COLLECTED: AccountGroup.MONEY_IN,
    A.BANK_CLEARING: AccountGroup.MONEY_IN,
    A.AGENT_CASH_HELD: AccountGroup.MONEY_IN,
    A.ORDERS_HELD: AccountGroup.HELD,
    A.SUPPLIER_ON_HOLD: AccountGroup.OWED,
    A.SUPPLIER_AVAILABLE: AccountGroup.OWED,
    A.SUPPLIER_IN_FLIGHT: AccountGroup.OWED,
    A.AGENT_ON_HOLD: AccountGroup.OWED,
    A.AGENT_AVAILABLE: AccountGroup.OWED,
    A.AGENT_IN_FLIGHT: AccountGroup.OWED,
    A.REFUNDS_OWED: AccountGroup.OWED,
    A.COMMISSION_REVENUE: AccountGroup.REVENUE,
    A.DELIVERY_REVENUE: AccountGroup.REVENUE,
    A.ROUNDING_REVENUE: AccountGroup.REVENUE,
    A.RESTOCKING_REVENUE: AccountGroup.REVENUE,
    A.RETURN_COSTS: AccountGroup.REVENUE,  # contra-revenue: a debit balance
}
SUPPLIER_ACCOUNTS = frozenset({A.SUPPLIER_ON_HOLD, A.SUPPLIER_AVAILABLE, A.SUPPLIER_IN_FLIGHT})
AGENT_ACCOUNTS = frozenset({A.AGENT_ON_HOLD, A.AGENT_AVAILABLE, A.AGENT_IN_FLIGHT})
# Every account kept once per agent: what the platform owes them, and the cash they hold.
PER_AGENT_ACCOUNTS = AGENT_ACCOUNTS | {A.AGENT_CASH_HELD}


class Party(enum.StrEnum):
    """Whom the platform owes and pays: a supplier (by supplier profile id) or a delivery
    agent (by user id)."""

    SUPPLIER = "SUPPLIER"
    AGENT = "AGENT"


class PartyRole(enum.StrEnum):
    """The three accounts every party has."""

    ON_HOLD = "ON_HOLD"
    AVAILABLE = "AVAILABLE"
    IN_FLIGHT = "IN_FLIGHT"


PARTY_ACCOUNTS: dict[Party, dict[PartyRole, AccountCode]] = {
    Party.SUPPLIER: {
        PartyRole.ON_HOLD: A.SUPPLIER_ON_HOLD,
        PartyRole.AVAILABLE: A.SUPPLIER_AVAILABLE,
        PartyRole.IN_FLIGHT: A.SUPPLIER_IN_FLIGHT,
    },
    Party.AGENT: {
        PartyRole.ON_HOLD: A.AGENT_ON_HOLD,
        PartyRole.AVAILABLE: A.AGENT_AVAILABLE,
        PartyRole.IN_FLIGHT: A.AGENT_IN_FLIGHT,
    },
}


def party_account(party: Party, role: PartyRole) -> AccountCode:
    """``party_account(Party.AGENT, PartyRole.AVAILABLE)`` -> ``AGENT_AVAILABLE``."""
    return PARTY_ACCOUNTS[Party(party)][PartyRole(role)]


class EntryKind(enum.StrEnum):
    ORDER_PAID = "order-paid"
    ORDER_CANCELLED = "order-cancelled"
    REFUND_DUE = "refund-due"
    REFUND_SETTLED = "refund-settled"
    ITEM_DELIVERED = "item-delivered"
    ORDER_DELIVERED = "order-delivered"
    HOLD_RELEASED = "hold-released"
    REVERSAL = "reversal"
    RETURN_APPROVED = "return-approved"
    # Posted by payouts (``app/payouts``), per attempt (``<kind>:<disbursement id>``):
    # sent moves available money in flight, confirmed moves it out (``paid_out_total``),
    # failed brings it back to available.
    PAYOUT_SENT = "payout-sent"
    PAYOUT_CONFIRMED = "payout-confirmed"
    PAYOUT_FAILED = "payout-failed"
    # Posted by delivery events: an agent's earning leaves its hold once the customer
    # confirms (or the confirmation window closes); cash an agent held is handed in.
    AGENT_EARNING_RELEASED = "agent-earning-released"
    COD_VERIFIED = "cod-verified"


def account_key(
    code: AccountCode, supplier_id: int | None = None, agent_id: int | None = None
) -> str:
    """The account's unique name: ``ORDERS_HELD``, ``SUPPLIER_ON_HOLD:12``,
    ``AGENT_AVAILABLE:a7`` (an agent's accounts by user id)."""
    if (code in SUPPLIER_ACCOUNTS) != (supplier_id is not None):
        raise ValueError(f"{code} is {'' if code in SUPPLIER_ACCOUNTS else 'not '}per supplier")
    if (code in PER_AGENT_ACCOUNTS) != (agent_id is not None):
        raise ValueError(f"{code} is {'' if code in PER_AGENT_ACCOUNTS else 'not '}per agent")
    if supplier_id is not None:
        return f"{code}:{supplier_id}"
    if agent_id is not None:
        return f"{code}:a{agent_id}"
    return code


class LedgerAccount(Base):
    """An account of the chart, for the platform, one supplier or one delivery agent;
    created when first used."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[AccountCode] = mapped_column(enum_column(AccountCode))
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )


class LedgerEntry(Base):
    """One business event's movement of money; its lines sum to zero. Never changed."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"), unique=True
    )
    memo: Mapped[str | None] = mapped_column(String(255))

    lines: Mapped[list[LedgerLine]] = relationship(
        back_populates="entry", order_by="LedgerLine.id", viewonly=True
    )


class LedgerLine(Base):
    """A signed amount (debit positive) on one account. ``release_at``: when the money on
    a supplier's hold becomes available; ``order_item_id``: the item it is for."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # A supplier's balances: an index-only sum per account on PostgreSQL.
        Index("ix_ledger_lines_account", "account_id", postgresql_include=["amount"]),
        # The release job's candidates: only the lines that carry a release time.
        Index(
            "ix_ledger_lines_release_at",
            "release_at",
            postgresql_where=text("release_at IS NOT NULL"),
            sqlite_where=text("release_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal]
    order_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_items.id", ondelete="RESTRICT"), index=True
    )
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entry: Mapped[LedgerEntry] = relationship(back_populates="lines", viewonly=True)
    account: Mapped[LedgerAccount] = relationship(viewonly=True)


class OrderHold(Base):
    """An order whose earnings stay on hold whatever their ``release_at`` (a disputed
    delivery), until the hold is lifted."""

    __tablename__ = "ledger_order_holds"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
@event.listens_for(LedgerLine, "before_update")
@event.listens_for(LedgerLine, "before_delete")
def _refuse_changes(mapper, connection, target) -> None:
    raise TypeError("ledger entries are never changed or deleted: post a reversing entry")
