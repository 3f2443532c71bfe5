"""Delivery zones: the counties each covers, its fee, free-delivery threshold and lead time."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin


class DeliveryZone(TimestampMixin, Base):
    __tablename__ = "delivery_zones"
    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_non_negative"),
        CheckConstraint("estimated_days >= 0", name="estimated_days_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    counties: Mapped[str | None] = mapped_column(String(500))
    fee: Mapped[Decimal]
    estimated_days: Mapped[int] = mapped_column(default=1)
    free_delivery_threshold: Mapped[Decimal | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
