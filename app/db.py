"""Declarative base, reusable column types and mixins shared by every model."""

from __future__ import annotations

import base64
import enum
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import (
    DateTime,
    Enum,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    SessionTransaction,
    mapped_column,
    registry,
)

from app.errors import NotFound
from app.money import CENTS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# INSERT with ON CONFLICT (upserts, "insert once" keys) for each supported dialect.
CONFLICT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def conflict_insert(target):
    """An INSERT of ``target`` (a model or table) that can take ``ON CONFLICT``, in the
    dialect of the application session's database."""
    session = current_app.extensions["sqlalchemy"].session
    return CONFLICT_INSERTS[session.get_bind().dialect.name](target)


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    """Enums stored as their upper-case names in a VARCHAR (portable, easy to extend)."""
    return Enum(enum_cls, native_enum=False, create_constraint=False, length=32)


def get_or_404(model: type, object_id: int, *, active_only: bool = False):
    """The row with this key (and active, if asked), or a 404 naming the model."""
    instance = current_app.extensions["sqlalchemy"].session.get(model, object_id)
    if instance is None or (active_only and not instance.is_active):
        raise NotFound(f"{model.__name__} not found")
    return instance


def lock_row(model: type, object_id: int, *conditions):
    """The row with this key (that meets ``conditions``: a caller's scope), read afresh and
    row-locked until the transaction ends (so concurrent changes of it run one after the
    other); None when there is none."""
    session = current_app.extensions["sqlalchemy"].session
    return session.scalar(
        select(model)
        .where(model.id == object_id, *conditions)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def lock_or_404(model: type, object_id: int, *conditions, message: str | None = None):
    """``lock_row``, or a 404 when there is no such row."""
    instance = lock_row(model, object_id, *conditions)
    if instance is None:
        raise NotFound(message or f"{model.__name__} not found")
    return instance


_AFTER_COMMIT_KEY = "qg_after_commit"  # session.info: {SessionTransaction: [actions]}


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's outermost transaction commits.

    Savepoint-aware: an action queued inside a savepoint moves to the enclosing
    transaction when the savepoint is released, and is dropped when it rolls back;
    nothing runs before the real commit, and nothing runs after a rollback.
    """
    session.connection()  # a transaction is open, so a rollback drops the action
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_AFTER_COMMIT_KEY, {}).setdefault(transaction, []).append(action)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.get(_AFTER_COMMIT_KEY)
    if not pending:
        return
    if session.in_nested_transaction():  # a savepoint released: its actions join its parent
        released = session.get_nested_transaction()
        actions = pending.pop(released, [])
        if actions:
            pending.setdefault(released.parent, []).extend(actions)
        return
    session.info.pop(_AFTER_COMMIT_KEY)
    for actions in pending.values():
        for action in actions:
            action()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_AFTER_COMMIT_KEY)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(_AFTER_COMMIT_KEY)
        return
    for transaction in list(pending):  # the savepoint's, and those still open inside it
        if _within(transaction, previous_transaction):
            del pending[transaction]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


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
        if not isinstance(value, Decimal):  # SQLite's REAL
            value = Decimal(str(value))
        return value.quantize(CENTS)


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
