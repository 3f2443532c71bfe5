"""Payouts to suppliers and delivery agents."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, enum_column
from app.disbursements.models import Disbursement
from app.ledger.models import Party


class PayoutStatus(enum.StrEnum):
    PENDING = "PENDING"  # created; not sent, or Daraja refused it (the money is available)
    PROCESSING = "PROCESSING"  # the B2C request went out (the money is in flight)
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # the money is back to available; may be retried
    CANCELLED = "CANCELLED"


class PayoutMethod(enum.StrEnum):
    MPESA = "MPESA"  # B2C through the API
    MPESA_MANUAL = "MPESA_MANUAL"  # sent by hand from the M-Pesa portal
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"


OPEN = ("PENDING", "PROCESSING")
_OPEN_SQL = "status IN ('PENDING', 'PROCESSING')"


class Payout(TimestampMixin, Base):
    """One payment of a party's available money: one period for scheduled runs (unique per
    party), at most one open (PENDING/PROCESSING) per party, one B2C attempt in flight
    (``disbursement``: the current attempt)."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount >= 10", name="amount_at_least_ten"),
        CheckConstraint(
            "(party = 'SUPPLIER' AND supplier_id IS NOT NULL AND agent_id IS NULL) OR "
            "(party = 'AGENT' AND agent_id IS NOT NULL AND supplier_id IS NULL)",
            name="one_payee",
        ),
        UniqueConstraint("supplier_id", "period", name="uq_payouts_supplier_period"),
        UniqueConstraint("agent_id", "period", name="uq_payouts_agent_period"),
        Index(
            "ux_payouts_open_supplier",
            "supplier_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        Index(
            "ux_payouts_open_agent",
            "agent_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        Index("ix_payouts_status_created", "status", "created_at"),
        Index("ix_payouts_period", "party", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[Party] = mapped_column(enum_column(Party))
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    period: Mapped[str | None] = mapped_column(String(32))  # None: paid on demand
    amount: Mapped[Decimal]
    phone: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[PayoutStatus] = mapped_column(
        enum_column(PayoutStatus), default=PayoutStatus.PENDING
    )
    method: Mapped[PayoutMethod] = mapped_column(
        enum_column(PayoutMethod), default=PayoutMethod.MPESA
    )
    disbursement_id: Mapped[int | None] = mapped_column(
        ForeignKey("disbursements.id", ondelete="RESTRICT"), unique=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    receipt: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    disbursement: Mapped[Disbursement | None] = relationship()

    @property
    def party_id(self) -> int:
        return self.supplier_id if self.party == Party.SUPPLIER else self.agent_id

    @property
    def unknown(self) -> bool:
        """In flight with its outcome unknown (a timeout): a status query will tell."""
        return bool(self.disbursement and self.disbursement.unknown)

    @property
    def originator_conversation_id(self) -> str | None:
        return self.disbursement.originator_conversation_id if self.disbursement else None

    @property
    def conversation_id(self) -> str | None:
        return self.disbursement.conversation_id if self.disbursement else None
