"""Declarative base, reusable column types and mixins shared by every model."""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime
from decimal import Decimal

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import DateTime, MetaData, Numeric, String, TypeDecorator, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

from app.money import CENTS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class MoneyType(TypeDecorator):
    """NUMERIC(12, 2) that always hands back a Decimal quantized to cents."""

    impl = Numeric(12, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            # SQLite has no decimal type: values travel as REAL, which is exact for
            # NUMERIC(12, 2) magnitudes once quantized back to cents on load.
            return dialect.type_descriptor(Numeric(12, 2, asdecimal=False))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(CENTS)
        return float(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(str(value)).quantize(CENTS)


@functools.cache
def _sealer(*secret_keys: str) -> MultiFernet:
    """Fernet keys derived from the app's secret keys: the first seals, all unseal."""

    def derive(secret_key: str) -> Fernet:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"qg sealed column")
        return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())))

    return MultiFernet([derive(key) for key in secret_keys])


class SealedString(TypeDecorator):
    """A secret the application must read back (a TOTP seed), encrypted at rest.

    Stored as a Fernet token (AES-128-CBC + HMAC-SHA256) under a key derived from
    ``SECRET_KEY``; values sealed under a key listed in ``SECRET_KEY_FALLBACKS`` still
    open, so the secret key can be rotated. A database dump alone does not reveal them.
    """

    impl = String(255)
    cache_ok = True

    @staticmethod
    def _keys() -> MultiFernet:
        config = current_app.config
        return _sealer(config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", ()))

    def process_bind_param(self, value: str | None, dialect):
        if value is None:
            return None
        return self._keys().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect):
        if value is None:
            return None
        return self._keys().decrypt(value.encode()).decode()


class Base(DeclarativeBase):
    # Decimal columns are money unless they say otherwise (rates use Numeric(5, 4)).
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), Decimal: MoneyType()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now(), nullable=False
    )
