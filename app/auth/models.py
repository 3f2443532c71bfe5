"""Users, their role profiles, login sessions and one-time codes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    event,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, SealedString, TimestampMixin, UTCDateTime, enum_column, utcnow


class UserRole(enum.StrEnum):
    CUSTOMER = "CUSTOMER"
    SUPPLIER = "SUPPLIER"
    ADMIN = "ADMIN"
    PRODUCT_MANAGER = "PRODUCT_MANAGER"
    FINANCE_ADMIN = "FINANCE_ADMIN"
    SUPPORT_ADMIN = "SUPPORT_ADMIN"
    DELIVERY_AGENT = "DELIVERY_AGENT"


ADMIN_ROLES = frozenset(
    {
        UserRole.ADMIN,
        UserRole.PRODUCT_MANAGER,
        UserRole.FINANCE_ADMIN,
        UserRole.SUPPORT_ADMIN,
    }
)


class SupplierStatus(enum.StrEnum):
    """A merchant application's state; ``SupplierProfile.is_approved`` mirrors APPROVED."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


class AuthProvider(enum.StrEnum):
    LOCAL = "LOCAL"
    GOOGLE = "GOOGLE"


# What the admin search (``q``) looks in: email, names and phone, lower-cased, in one
# column the database keeps (one trigram index; one cheap LIKE per row when counting).
SEARCH_TEXT = "lower(email || ' ' || first_name || ' ' || last_name || ' ' || coalesce(phone, ''))"


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("failed_login_count >= 0", name="failed_login_count_non_negative"),
        # The admin user list: by role or status, newest first; and its search (``q``),
        # substrings of ``search_text``, which a trigram index answers on PostgreSQL.
        Index("ix_users_role_created", "role", "created_at"),
        Index("ix_users_active_created", "is_active", "created_at"),
        Index("ix_users_created", "created_at", "id"),
        Index(
            "ix_users_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(12))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole))
    auth_provider: Mapped[AuthProvider] = mapped_column(
        enum_column(AuthProvider), default=AuthProvider.LOCAL
    )
    google_sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(SealedString())
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None]
    recovery_codes: Mapped[str | None] = mapped_column(Text)  # JSON list of SHA-256 hashes
    # Failed logins counted since ``failed_login_window_start`` (a 15-minute window).
    failed_login_count: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_login_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_text: Mapped[str | None] = mapped_column(
        Text, Computed(SEARCH_TEXT, persisted=True), deferred=True
    )

    customer_profile: Mapped[CustomerProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )
    supplier_profile: Mapped[SupplierProfile | None] = relationship(
        back_populates="user",
        uselist=False,
        cascade="all, delete-orphan",
        foreign_keys="SupplierProfile.user_id",
    )
    admin_profile: Mapped[AdminProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )
    delivery_agent_profile: Mapped[DeliveryAgentProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class CustomerProfile(TimestampMixin, Base):
    __tablename__ = "customer_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    date_of_birth: Mapped[date | None]
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(back_populates="customer_profile")


class SupplierProfile(TimestampMixin, Base):
    """A seller. Earnings are a ledger (supplier domain), never a number kept here."""

    __tablename__ = "supplier_profiles"
    __table_args__ = (
        # The flag other code reads is exactly "the status is APPROVED" (both are set by
        # ``accounts.set_supplier_status``).
        CheckConstraint("is_approved = (status = 'APPROVED')", name="approved_iff_status_approved"),
        Index("ix_supplier_profiles_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    business_name: Mapped[str] = mapped_column(String(200))
    business_registration_number: Mapped[str | None] = mapped_column(String(100))
    kra_pin: Mapped[str | None] = mapped_column(String(20))
    business_address: Mapped[str | None] = mapped_column(String(255))
    mpesa_payout_number: Mapped[str | None] = mapped_column(String(12))
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    status: Mapped[SupplierStatus] = mapped_column(
        enum_column(SupplierStatus),
        default=SupplierStatus.PENDING,
        server_default=SupplierStatus.PENDING.value,
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_approved: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terms_version: Mapped[str | None] = mapped_column(String(20))
    terms_accepted_ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="supplier_profile", foreign_keys=[user_id])


class AdminProfile(TimestampMixin, Base):
    __tablename__ = "admin_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    department: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))

    user: Mapped[User] = relationship(back_populates="admin_profile")


class DeliveryCompany(TimestampMixin, Base):
    __tablename__ = "delivery_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_email: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(12))
    # The company's share of a delivered order's fee (None: AGENT_FEE_RATE).
    fee_share_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class DeliveryAgentProfile(TimestampMixin, Base):
    """A delivery agent. Earnings and payouts are ledger rows (delivery domain)."""

    __tablename__ = "delivery_agent_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    delivery_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_companies.id", ondelete="SET NULL"), index=True
    )
    vehicle_type: Mapped[str | None] = mapped_column(String(50))
    vehicle_registration: Mapped[str | None] = mapped_column(String(20))
    mpesa_payout_number: Mapped[str | None] = mapped_column(String(12))
    is_available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The agent's share of a delivery fee, when it is not AGENT_FEE_RATE.
    delivery_fee_percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))

    user: Mapped[User] = relationship(back_populates="delivery_agent_profile")
    delivery_company: Mapped[DeliveryCompany | None] = relationship()


class Session(Base):
    """One login on one device; its refresh token's ``jti`` rotates on every refresh."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_active", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    refresh_jti: Mapped[str] = mapped_column(String(64), unique=True)
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(64), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class OTPPurpose(enum.StrEnum):
    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
    PASSWORD_RESET = "PASSWORD_RESET"


class OTP(Base):
    """A six-digit code, hashed at rest (HMAC), for one purpose and one email."""

    __tablename__ = "otps"
    __table_args__ = (
        Index("ix_otps_email_purpose", "email", "purpose"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[OTPPurpose] = mapped_column(enum_column(OTPPurpose))
    code_hash: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now()
    )


# The trigram indexes above need PostgreSQL's pg_trgm (a trusted extension: the database
# owner may create it); the migration creates it too.
event.listen(
    User.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)
