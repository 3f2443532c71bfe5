"""M-Pesa B2C transfers and every callback Daraja sent about them."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, UTCDateTime, enum_column, utcnow


class DisbursementPurpose(enum.StrEnum):
    PAYOUT = "PAYOUT"  # a supplier's or an agent's payout (app/payouts)
    REFUND = "REFUND"  # money back to a customer (returns)


class DisbursementStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


S = DisbursementStatus
OPEN_STATUSES = (S.PENDING, S.SENDING, S.SENT)
IN_FLIGHT_STATUSES = (S.SENDING, S.SENT)
FINAL_STATUSES = (S.COMPLETED, S.FAILED, S.CANCELLED)


class Disbursement(TimestampMixin, Base):
    """One B2C transfer. At most one open transfer per subject (a partial unique index):
    a retry exists only once the previous attempt is final."""

    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint("amount >= 10", name="amount_at_least_ten"),
        Index(
            "ux_disbursements_open_subject",
            "purpose",
            "subject_id",
            unique=True,
            postgresql_where=text("status IN ('PENDING', 'SENDING', 'SENT')"),
            sqlite_where=text("status IN ('PENDING', 'SENDING', 'SENT')"),
        ),
        Index("ix_disbursements_subject", "purpose", "subject_id"),
        Index("ix_disbursements_status_sent_at", "status", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[DisbursementPurpose] = mapped_column(enum_column(DisbursementPurpose))
    subject_id: Mapped[int]
    phone: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal]
    remarks: Mapped[str] = mapped_column(String(100))
    occasion: Mapped[str | None] = mapped_column(String(100))
    originator_conversation_id: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    status: Mapped[DisbursementStatus] = mapped_column(
        enum_column(DisbursementStatus), default=S.PENDING
    )
    # Sent but its outcome not known (a timeout): only Transaction Status or a late
    # result settles it; it is never sent again.
    unknown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(default=0)  # requests made with this id
    last_error: Mapped[str | None] = mapped_column(String(500))
    result_code: Mapped[str | None] = mapped_column(String(32))
    result_desc: Mapped[str | None] = mapped_column(String(500))
    receipt: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount_reported: Mapped[Decimal | None]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last Transaction Status query's ConversationID: its Result names the query.
    status_query_id: Mapped[str | None] = mapped_column(String(100), index=True)

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES


class CallbackKind(enum.StrEnum):
    B2C_RESULT = "B2C_RESULT"
    B2C_TIMEOUT = "B2C_TIMEOUT"
    STATUS_RESULT = "STATUS_RESULT"
    STATUS_TIMEOUT = "STATUS_TIMEOUT"


class CallbackOutcome:
    """What a stored callback did (``DisbursementCallback.outcome``)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    UNKNOWN_FLAGGED = "UNKNOWN_FLAGGED"  # a queue timeout: in flight, outcome unknown
    STILL_UNKNOWN = "STILL_UNKNOWN"  # a status answer that settles nothing
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    DUPLICATE = "DUPLICATE"
    UNKNOWN_TRANSFER = "UNKNOWN_TRANSFER"  # kept; replayed by the reconcile job
    MALFORMED = "MALFORMED"
    REJECTED = "REJECTED"  # wrong token
    ERROR = "ERROR"


class DisbursementCallback(Base):
    """Every B2C / Transaction Status callback as received, stored before it is acted on."""

    __tablename__ = "disbursement_callbacks"
    __table_args__ = (
        Index("ix_disbursement_callbacks_outcome", "outcome", "received_at"),
        Index("ix_disbursement_callbacks_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CallbackKind] = mapped_column(enum_column(CallbackKind))
    payload: Mapped[str] = mapped_column(Text)
    authentic: Mapped[bool] = mapped_column(Boolean, default=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    disbursement_id: Mapped[int | None] = mapped_column(
        ForeignKey("disbursements.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
