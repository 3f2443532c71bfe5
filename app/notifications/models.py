from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, enum_column, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "QUEUED"  # waiting for its (first or next) SMTP attempt
    SENDING = "SENDING"  # an attempt is under way (rows are also row-locked while sending)
    SENT = "SENT"
    LOGGED = "LOGGED"  # offline (no MAIL_USERNAME): written to the log instead
    FAILED = "FAILED"  # an attempt failed; retried at next_attempt_at
    DEAD = "DEAD"  # MAIL_MAX_ATTEMPTS failed: an admin may retry it


class OutboxEmail(Base):
    """Every email we send or would send: the offline mailbox, the delivery queue and its
    record. Written in the transaction of the event it reports; sent after the commit
    and, on failure, by the ``send_outbox_emails`` job (``app/notifications/outbox.py``)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        # The job's scan: due emails, oldest first.
        Index("ix_outbox_emails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(64), index=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notification(Base):
    """One in-app notification: what a user is told of an event (``operations.notify``)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # A user's list, newest first; and their unread ones (list and count) on their own.
        Index("ix_notifications_user_id_created_at", "user_id", "created_at", "id"),
        Index(
            "ix_notifications_user_id_unread",
            "user_id",
            "created_at",
            "id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    link: Mapped[str | None] = mapped_column(String(500))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
