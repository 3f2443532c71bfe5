"""Accounts: creating users and their role profiles, operator actions, the profile.

Functions flush and never commit; the view (or CLI command) commits once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import tokens
from app.auth.models import (
    ADMIN_ROLES,
    AdminProfile,
    AuthProvider,
    CustomerProfile,
    DeliveryAgentProfile,
    SupplierProfile,
    SupplierStatus,
    User,
    UserRole,
)
from app.auth.passwords import hash_password
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    role: UserRole = UserRole.CUSTOMER,
    phone: str | None = None,
    business_name: str | None = None,
    verified: bool = False,
    approved: bool = False,
    provider: AuthProvider = AuthProvider.LOCAL,
) -> User:
    """A new user with the profile of their role (flushes); 409 ``EMAIL_TAKEN`` if taken."""
    email = email.strip().lower()
    if find_user(email) is not None:
        raise email_taken()
    now = utcnow()
    user = User(
        email=email,
        password_hash=hash_password(password) if password else None,
        password_changed_at=now if password else None,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        role=role,
        auth_provider=provider,
        email_verified_at=now if verified else None,
    )
    attach_profile(user, business_name=business_name, approved=approved)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:  # a concurrent registration won the race for this email
        raise email_taken() from None
    return user


def email_taken() -> Conflict:
    return Conflict(
        "An account with this email already exists",
        code="EMAIL_TAKEN",
        details={"email": ["An account with this email already exists."]},
    )


def attach_profile(user: User, *, business_name: str | None, approved: bool) -> None:
    """Give ``user`` the profile row its role needs, if it has none yet."""
    if user.role == UserRole.CUSTOMER and user.customer_profile is None:
        user.customer_profile = CustomerProfile()
    elif user.role == UserRole.SUPPLIER and user.supplier_profile is None:
        if not business_name:
            raise ValidationFailed(details={"business_name": ["Suppliers need a business name."]})
        user.supplier_profile = SupplierProfile(business_name=business_name)
        set_supplier_status(
            user.supplier_profile,
            SupplierStatus.APPROVED if approved else SupplierStatus.PENDING,
        )
    elif user.role == UserRole.DELIVERY_AGENT and user.delivery_agent_profile is None:
        user.delivery_agent_profile = DeliveryAgentProfile()
    elif user.role in ADMIN_ROLES and user.admin_profile is None:
        user.admin_profile = AdminProfile()


def set_supplier_status(
    profile: SupplierProfile,
    status: SupplierStatus,
    *,
    actor_id: int | None = None,
    reason: str | None = None,
) -> SupplierStatus:
    """The one writer of a supplier's ``status`` and of ``is_approved``, the flag the
    rest of the code reads (true exactly when APPROVED: a database check holds them
    together). Returns the previous status. Which moves are allowed is the admin
    domain's table; this only records one."""
    previous = profile.status
    profile.status = status
    profile.is_approved = status == SupplierStatus.APPROVED
    profile.status_reason = reason
    profile.status_changed_at = utcnow()
    if status == SupplierStatus.APPROVED:
        profile.approved_at = profile.approved_at if previous == status else utcnow()
        profile.approved_by_id = actor_id if previous != status else profile.approved_by_id
    return previous


# --- operator actions ----------------------------------------------------------------
def set_role(user: User, role: UserRole, *, business_name: str | None = None) -> User:
    """Operator action: change a user's role (an operator-made supplier is approved)."""
    previous = user.role
    user.role = role
    attach_profile(user, business_name=business_name, approved=True)
    record_audit(
        "auth.role_changed",
        user,
        details={"before": {"role": str(previous)}, "after": {"role": str(role)}},
    )
    return user


def disable_user(user: User, *, reason: str | None = None) -> User:
    """Disable the account and revoke every session it has, at once (flushes)."""
    user.is_active = False
    revoked = tokens.revoke_sessions(user.id, reason="ACCOUNT_DISABLED")
    record_audit(
        "auth.account_disabled",
        user,
        details={
            "before": {"is_active": True},
            "after": {"is_active": False},
            "reason": reason,
            "sessions_revoked": len(revoked),
        },
    )
    return user


def enable_user(user: User, *, reason: str | None = None) -> User:
    user.is_active = True
    user.locked_until = None
    record_audit(
        "auth.account_enabled",
        user,
        details={"before": {"is_active": False}, "after": {"is_active": True}, "reason": reason},
    )
    return user


# --- profile -------------------------------------------------------------------------
PROFILE_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"phone", "date_of_birth", "marketing_opt_in"}),
    "supplier": frozenset(
        {
            "phone",
            "business_name",
            "business_registration_number",
            "kra_pin",
            "business_address",
            "mpesa_payout_number",
        }
    ),
    "delivery_agent": frozenset(
        {"phone", "vehicle_type", "vehicle_registration", "mpesa_payout_number"}
    ),
    "admin": frozenset({"phone", "department", "title"}),
}
REQUIRED_PROFILE_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"phone"}),
    "supplier": frozenset({"phone", "business_name", "kra_pin"}),
    "delivery_agent": frozenset({"phone", "vehicle_type"}),
    "admin": frozenset(),
}


def _profile_kind(role: UserRole) -> str:
    if role in ADMIN_ROLES:
        return "admin"
    return {UserRole.SUPPLIER: "supplier", UserRole.DELIVERY_AGENT: "delivery_agent"}.get(
        role, "customer"
    )


def update_profile(user: User, data: dict[str, Any]) -> User:
    """Name, phone and avatar: nothing else can be set here (the schema sees to it)."""
    for field, value in data.items():
        setattr(user, field, value)
    return user


def complete_profile(user: User, data: dict[str, Any]) -> User:
    """Fill in the fields of the user's role; fields of other roles are refused."""
    kind = _profile_kind(user.role)
    errors = {
        field: [f"Not a field of a {kind.replace('_', ' ')} profile."]
        for field in sorted(set(data) - PROFILE_FIELDS[kind])
    }
    if errors:
        raise ValidationFailed(details=errors)
    attach_profile(user, business_name=data.get("business_name"), approved=False)
    profile = {
        "customer": user.customer_profile,
        "supplier": user.supplier_profile,
        "delivery_agent": user.delivery_agent_profile,
        "admin": user.admin_profile,
    }[kind]
    if "mpesa_payout_number" in data and not user.is_verified:
        raise Forbidden("Verify your email address first", code="EMAIL_NOT_VERIFIED")
    for field, value in data.items():
        setattr(user if field == "phone" else profile, field, value)
    missing = {
        field: ["Missing data for required field."]
        for field in sorted(REQUIRED_PROFILE_FIELDS[kind])
        if getattr(user if field == "phone" else profile, field) in (None, "")
    }
    if missing:
        raise ValidationFailed(details=missing)
    record_audit("auth.profile_completed", user, actor_id=user.id, details={"fields": sorted(data)})
    return user
