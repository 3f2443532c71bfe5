"""Payment attempts, refunds and every provider callback or webhook received."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, UTCDateTime, enum_column, utcnow
from app.orders.models import Order, PaymentMethod, PaymentStatus


class PaymentProvider(enum.StrEnum):
    MPESA = "MPESA"
    PAYSTACK = "PAYSTACK"
    CASH = "CASH"


class Payment(TimestampMixin, Base):
    """One attempt to pay an order. A callback moves it out of PENDING at most once.

    ``amount`` is what was asked of the provider (M-Pesa: the total rounded up to whole
    shillings); ``amount_received`` what the provider reported. ``flagged`` marks money
    that needs a human: a wrong amount, or a payment for an order already paid or
    cancelled (a refund is then recorded as due).
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_received >= 0", name="amount_received_non_negative"),
        Index("ix_payments_status_created", "status", "created_at"),
        Index("ix_payments_order_status", "order_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    provider: Mapped[PaymentProvider] = mapped_column(enum_column(PaymentProvider))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="KES")
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING
    )
    # Our reference (Paystack `reference`, cash receipt); unique per attempt.
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    checkout_request_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    merchant_request_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    receipt: Mapped[str | None] = mapped_column(String(100), unique=True)
    payer_phone: Mapped[str | None] = mapped_column(String(12))
    payer_email: Mapped[str | None] = mapped_column(String(255))
    amount_received: Mapped[Decimal | None]
    failure_code: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flag_reason: Mapped[str | None] = mapped_column(String(500))
    provider_response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    order: Mapped[Order] = relationship()

    @property
    def captured(self) -> Decimal:
        """The money this payment brought in: what the provider reported, else its amount."""
        return self.amount_received or self.amount


class RefundStatus(enum.StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class RefundCause(enum.StrEnum):
    ORDER_CANCELLED = "ORDER_CANCELLED"  # a paid order was cancelled
    LATE_PAYMENT = "LATE_PAYMENT"  # paid after the order was cancelled (expired)
    DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"  # a second payment for an order already paid
    PROVIDER = "PROVIDER"  # started outside the API (Paystack dashboard)
    RETURN = "RETURN"  # an approved return (key ``return:<return id>``)


class RefundMethod(enum.StrEnum):
    """How a refund is paid: by the payment's provider, or by hand (recorded)."""

    PAYSTACK = "PAYSTACK"  # POST /refund on the card transaction
    MPESA_B2C = "MPESA_B2C"  # a B2C transfer to the phone that paid (cash: the customer's)
    MANUAL = "MANUAL"  # paid outside the API; an admin records the reference


class Refund(TimestampMixin, Base):
    """Money owed back to a customer (a cancelled paid order, an approved return).

    A payment may carry several refunds (partial ones for returns), each with its own
    ``key`` (``cancel:<order id>``, ``return:<return id>``, …): recording a key twice
    returns the first. Together they never exceed what the payment captured.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_refunds_status_created", "status", "created_at"),
        Index("ix_refunds_cause_created", "cause", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="KES")
    status: Mapped[RefundStatus] = mapped_column(
        enum_column(RefundStatus), default=RefundStatus.PENDING, index=True
    )
    cause: Mapped[str] = mapped_column(String(64), default=RefundCause.ORDER_CANCELLED)
    reason: Mapped[str] = mapped_column(String(500))
    provider_reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Processing: how it was sent, the provider's id for it (Paystack's refund id), the
    # reference of a refund paid by hand, who sent it and when, why it last failed.
    method: Mapped[RefundMethod | None] = mapped_column(enum_column(RefundMethod))
    provider_refund_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    manual_reference: Mapped[str | None] = mapped_column(String(100))
    processed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # What actually leaves, when it differs: a B2C refund is whole shillings, rounded up
    # (the platform bears the cents: RETURN_COSTS).
    paid_amount: Mapped[Decimal | None]

    order: Mapped[Order] = relationship()
    payment: Mapped[Payment | None] = relationship()


class Outcome:
    """What happened to a callback, webhook or query (``ProviderEvent.outcome``)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    UNCONFIRMED = "UNCONFIRMED"  # a success callback the STK query has not confirmed yet
    DUPLICATE = "DUPLICATE"
    LATE_FAILURE_IGNORED = "LATE_FAILURE_IGNORED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    RECEIPT_REUSED = "RECEIPT_REUSED"
    UNKNOWN_PAYMENT = "UNKNOWN_PAYMENT"
    MALFORMED = "MALFORMED"
    REJECTED = "REJECTED"  # bad token or signature
    IGNORED = "IGNORED"  # an event we do not act on
    REFUND_UPDATED = "REFUND_UPDATED"
    ERROR = "ERROR"


class ProviderEvent(Base):
    """Every callback and webhook as received, stored before it is acted on."""

    __tablename__ = "provider_events"
    __table_args__ = (
        Index("ix_provider_events_lookup", "provider", "external_id"),
        Index("ix_provider_events_outcome", "outcome", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[PaymentProvider] = mapped_column(enum_column(PaymentProvider))
    kind: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    authentic: Mapped[bool] = mapped_column(Boolean, default=True)
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
