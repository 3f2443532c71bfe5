"""Requests to change a party's payout number."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import Base, UTCDateTime, enum_column, utcnow
from app.ledger.models import Party


class RequestStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"  # withdrawn by the party
    SUPERSEDED = "SUPERSEDED"  # replaced by the party's newer request


_PENDING = text("status = 'PENDING'")


class PayoutNumberRequest(Base):
    """A change of ``party``'s payout number from ``old_number`` to ``new_number``.

    ``party_id``: the supplier profile id (``SUPPLIER``) or the agent's user id
    (``AGENT``); ``user_id``: the user who is told of each step. At most one ``PENDING``
    request per party (a partial unique index).
    """

    __tablename__ = "payout_number_requests"
    __table_args__ = (
        Index(
            "uq_payout_number_requests_one_pending",
            "party",
            "party_id",
            unique=True,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
        Index("ix_payout_number_requests_party", "party", "party_id", "id"),
        Index("ix_payout_number_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[Party] = mapped_column(enum_column(Party))
    party_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    old_number: Mapped[str] = mapped_column(String(12))
    new_number: Mapped[str] = mapped_column(String(12))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
