"""Every stored image: who uploaded it, where it lives and what it is attached to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, enum_column, utcnow


class UploadKind(enum.StrEnum):
    PRODUCT = "PRODUCT"
    RETURN = "RETURN"
    BRAND = "BRAND"
    PROFILE = "PROFILE"

    @property
    def folder(self) -> str:
        return {"PRODUCT": "products", "RETURN": "returns", "BRAND": "brands"}.get(
            self.value, "avatars"
        )


class Upload(Base):
    """One stored image. ``attached_to`` (``product:12``, ``brand:3``, ``user:7``,
    ``return:5``) is set once something uses it; never attached after 24 hours, it is
    purged (``jobs.purge_orphan_uploads``)."""

    __tablename__ = "uploads"
    __table_args__ = (
        # The purge job's scan: unattached uploads, oldest first.
        Index(
            "ix_uploads_orphans",
            "created_at",
            postgresql_where=text("attached_to IS NULL"),
            sqlite_where=text("attached_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[UploadKind] = mapped_column(enum_column(UploadKind))
    storage: Mapped[str] = mapped_column(String(16))  # LOCAL or CLOUDINARY
    public_id: Mapped[str] = mapped_column(String(255), unique=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    thumbnail_url: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(8))  # jpeg, png, webp
    bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    attached_to: Mapped[str | None] = mapped_column(String(64), index=True)
    attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
