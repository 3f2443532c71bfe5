"""Return requests and their timeline (every status change: who, when, from, to, note)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import Base, TimestampMixin, UTCDateTime, enum_column, utcnow
from app.orders.models import Order, OrderItem
from app.payments.models import Refund


class ReturnStatus(enum.StrEnum):
    """The seed's statuses plus ITEM_RECEIVED. ``PENDING`` is the seed's synonym of
    ``REQUESTED``: accepted on rows the seed's app wrote, never assigned here."""

    REQUESTED = "REQUESTED"
    PENDING = "PENDING"
    SUPPLIER_REVIEW = "SUPPLIER_REVIEW"
    PENDING_REVIEW = "PENDING_REVIEW"
    DISPUTED = "DISPUTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    ITEM_RECEIVED = "ITEM_RECEIVED"
    REFUND_COMPLETED = "REFUND_COMPLETED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ReturnReason(enum.StrEnum):
    DEFECTIVE = "DEFECTIVE"
    WRONG_ITEM = "WRONG_ITEM"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    MISSING_PARTS = "MISSING_PARTS"
    DAMAGED_IN_TRANSIT = "DAMAGED_IN_TRANSIT"
    CHANGED_MIND = "CHANGED_MIND"


class ReturnType(enum.StrEnum):
    RETURN = "RETURN"  # within the return window
    WARRANTY = "WARRANTY"  # a DEFECTIVE item after the window, while its warranty runs


class ItemCondition(enum.StrEnum):
    RESELLABLE = "RESELLABLE"  # back into stock
    DAMAGED = "DAMAGED"


class SupplierDecision(enum.StrEnum):
    ACCEPT = "ACCEPT"
    DISPUTE = "DISPUTE"


class WarrantyResolution(enum.StrEnum):
    """What the supplier does for an accepted warranty claim."""

    REPAIR = "REPAIR"
    REPLACEMENT = "REPLACEMENT"  # a zero-priced shipment to the order's address
    REFUND = "REFUND"


class ReturnRequest(TimestampMixin, Base):
    """A customer's request to send back ``quantity`` of one order item.

    The money columns are the refund policy's answer (``app.returns.policy``), shown from
    the start and fixed when the return is approved; ``refund_id`` is the refund then
    recorded (key ``return:<id>``).
    """

    __tablename__ = "returns"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("refund_amount >= 0", name="refund_amount_non_negative"),
        Index("ix_returns_customer_created", "customer_id", "created_at"),
        Index("ix_returns_supplier_created", "supplier_id", "created_at"),
        Index("ix_returns_status_created", "status", "created_at"),
        Index("ix_returns_reason_created", "reason", "created_at"),
        Index("ix_returns_product_created", "product_id", "created_at"),
        # The escalation job's candidates: open returns still waiting on the supplier.
        Index(
            "ix_returns_supplier_due",
            "supplier_respond_by",
            postgresql_where=text("status IN ('REQUESTED', 'PENDING', 'SUPPLIER_REVIEW')"),
            sqlite_where=text("status IN ('REQUESTED', 'PENDING', 'SUPPLIER_REVIEW')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_number: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    order_item_id: Mapped[int] = mapped_column(
        ForeignKey("order_items.id", ondelete="RESTRICT"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_profiles.id", ondelete="RESTRICT")
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int]
    reason: Mapped[ReturnReason] = mapped_column(enum_column(ReturnReason))
    type: Mapped[ReturnType] = mapped_column(enum_column(ReturnType), default=ReturnType.RETURN)
    description: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ReturnStatus] = mapped_column(
        enum_column(ReturnStatus), default=ReturnStatus.REQUESTED
    )

    # The policy's answer (app.returns.policy.refund_policy).
    refund_amount: Mapped[Decimal]
    supplier_deduction: Mapped[Decimal]
    commission_refund: Mapped[Decimal]
    restocking_fee: Mapped[Decimal]
    platform_cost: Mapped[Decimal]
    delivery_fee_refund: Mapped[Decimal]

    # The supplier's part.
    supplier_respond_by: Mapped[datetime] = mapped_column(UTCDateTime())
    supplier_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    supplier_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    supplier_decision: Mapped[SupplierDecision | None] = mapped_column(
        enum_column(SupplierDecision)
    )
    supplier_response: Mapped[str | None] = mapped_column(String(1000))
    resolution: Mapped[WarrantyResolution | None] = mapped_column(enum_column(WarrantyResolution))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The decision and what followed.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    refund_id: Mapped[int | None] = mapped_column(
        ForeignKey("refunds.id", ondelete="RESTRICT"), unique=True
    )
    item_condition: Mapped[ItemCondition | None] = mapped_column(enum_column(ItemCondition))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    restocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship()
    item: Mapped[OrderItem] = relationship()
    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    refund: Mapped[Refund | None] = relationship()
    events: Mapped[list[ReturnEvent]] = relationship(
        back_populates="return_request", order_by="ReturnEvent.id", cascade="all, delete-orphan"
    )
    replacement: Mapped[Replacement | None] = relationship(
        back_populates="return_request", uselist=False
    )


class ReturnEvent(Base):
    """One status change of a return: the timeline shown by ``GET /returns/<id>``."""

    __tablename__ = "return_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    return_request: Mapped[ReturnRequest] = relationship(back_populates="events")


class ReplacementStatus(enum.StrEnum):
    PENDING = "PENDING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class Replacement(TimestampMixin, Base):
    """A warranty replacement: the same product, free, to the order's address; its stock
    is taken when it is created."""

    __tablename__ = "return_replacements"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("returns.id", ondelete="CASCADE"), unique=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int]
    status: Mapped[ReplacementStatus] = mapped_column(
        enum_column(ReplacementStatus), default=ReplacementStatus.PENDING
    )
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    return_request: Mapped[ReturnRequest] = relationship(back_populates="replacement")
