"""Agents' zones and zone requests, assignments, offers, each order's delivery record
(proof, confirmation, dispute) and cash collected on delivery."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, SealedString, TimestampMixin, UTCDateTime, enum_column, utcnow


class AgentZone(Base):
    """A zone an agent (a DELIVERY_AGENT user) serves."""

    __tablename__ = "agent_zones"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_zones.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RequestStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class ZoneRequest(TimestampMixin, Base):
    """An agent asking to serve a zone; an admin approves or rejects it."""

    __tablename__ = "agent_zone_requests"
    __table_args__ = (
        Index(
            "uq_agent_zone_requests_pending",
            "agent_id",
            "zone_id",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
        Index("ix_agent_zone_requests_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("delivery_zones.id", ondelete="CASCADE"))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.PENDING
    )
    note: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AssignmentMethod(enum.StrEnum):
    MANUAL = "MANUAL"
    AUTO = "AUTO"
    OFFER = "OFFER"
    FORCED = "FORCED"
    COMPANY = "COMPANY"


class AssignmentStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"  # live: the order is the agent's (or company's) to deliver
    DELIVERED = "DELIVERED"
    ENDED = "ENDED"  # replaced by another assignment, or the order came back


class DeliveryAssignment(Base):
    """Who delivers an order: an agent, or a company (with its tracking reference).
    At most one ACTIVE assignment per order (a unique partial index)."""

    __tablename__ = "delivery_assignments"
    __table_args__ = (
        Index(
            "uq_delivery_assignments_live",
            "order_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
            sqlite_where=text("status = 'ACTIVE'"),
        ),
        Index("ix_delivery_assignments_agent_status", "agent_id", "status", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_companies.id", ondelete="SET NULL"), index=True
    )
    tracking_reference: Mapped[str | None] = mapped_column(String(100))
    company_fee_share: Mapped[Decimal | None]
    method: Mapped[AssignmentMethod] = mapped_column(enum_column(AssignmentMethod))
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus), default=AssignmentStatus.ACTIVE
    )
    note: Mapped[str | None] = mapped_column(String(500))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OfferStatus(enum.StrEnum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class DeliveryOffer(Base):
    """An order offered to every eligible agent (``notify-agents``): the first to accept
    gets it. At most one OPEN offer per order."""

    __tablename__ = "delivery_offers"
    __table_args__ = (
        Index(
            "uq_delivery_offers_open",
            "order_id",
            unique=True,
            postgresql_where=text("status = 'OPEN'"),
            sqlite_where=text("status = 'OPEN'"),
        ),
        Index("ix_delivery_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.OPEN)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OfferRecipient(Base):
    """An agent an offer went to, and whether they turned it down."""

    __tablename__ = "delivery_offer_recipients"

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_offers.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Confirmation(enum.StrEnum):
    PENDING = "PENDING"  # delivered; the customer may confirm or dispute
    CONFIRMED = "CONFIRMED"
    AUTO_CONFIRMED = "AUTO_CONFIRMED"
    DISPUTED = "DISPUTED"
    RESOLVED = "RESOLVED"  # a dispute an admin decided (``resolution``)


class Resolution(enum.StrEnum):
    DELIVERED = "DELIVERED"
    NOT_DELIVERED = "NOT_DELIVERED"
    RETURN = "RETURN"


class Delivery(TimestampMixin, Base):
    """An order's delivery: its code (hashed to check it, sealed to show it to the
    customer), the proof taken at the door, the customer's confirmation or dispute."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_confirmation", "confirmation", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_sealed: Mapped[str | None] = mapped_column(SealedString())
    code_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_code_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    photo_url: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    delivered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmation: Mapped[Confirmation | None] = mapped_column(enum_column(Confirmation))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispute_reason: Mapped[str | None] = mapped_column(String(1000))
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[Resolution | None] = mapped_column(enum_column(Resolution))
    resolution_note: Mapped[str | None] = mapped_column(String(1000))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def code_locked(self) -> bool:
        return self.failed_code_attempts >= CODE_MAX_ATTEMPTS


CODE_MAX_ATTEMPTS = 5


class CodStatus(enum.StrEnum):
    COLLECTED = "COLLECTED"  # the collector holds the cash
    VERIFIED = "VERIFIED"  # handed in to the platform


class CodCollection(TimestampMixin, Base):
    """Cash taken for a cash-on-delivery order (once per order), and its hand-in."""

    __tablename__ = "cod_collections"
    __table_args__ = (Index("ix_cod_collections_status", "status", "collected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    collected_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # The agent who holds the cash (None: staff took it, e.g. at a pickup point).
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal]
    status: Mapped[CodStatus] = mapped_column(enum_column(CodStatus), default=CodStatus.COLLECTED)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reference: Mapped[str | None] = mapped_column(String(100))
