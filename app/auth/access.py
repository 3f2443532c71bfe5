"""Who is calling, and may they: the current-user helper and role decorators.

Access tokens carry the user id (``sub``), the role and the login session id (``sid``).
Every request re-reads the user and checks the session is not revoked, so a disabled
account or a logout takes effect at once on every worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from flask import Flask, g
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from app.auth.models import ADMIN_ROLES, User, UserRole
from app.auth.permissions import roles_for
from app.errors import Forbidden, Unauthorized
from app.extensions import db, jwt


def current_user() -> User:
    """The authenticated caller (only inside a view guarded by these decorators)."""
    user = g.get("current_user")
    if user is None:
        raise Unauthorized()
    return user


def optional_user() -> User | None:
    """The caller if a token was sent, else None (public endpoints); a bad token is a 401."""
    if "current_user" not in g:
        verify_jwt_in_request(optional=True)
        g.current_user = _load_user() if get_jwt() else None
    return g.current_user


def _load_user() -> User:
    claims = get_jwt()
    user = db.session.get(User, int(claims["sub"]))
    if user is None:
        raise Unauthorized("This account no longer exists")
    if not user.is_active:
        raise Forbidden("This account has been disabled", code="ACCOUNT_DISABLED")
    g.user_id = user.id
    return user


def _authenticate(refresh: bool = False) -> User:
    if not refresh and g.get("current_user") is not None:  # stacked guards: check once
        return g.current_user
    verify_jwt_in_request(refresh=refresh)
    g.current_user = _load_user()
    return g.current_user


BEARER_SCHEME = "bearerAuth"


def role_allows(user: User, roles: Iterable[UserRole]) -> bool:
    """ADMIN passes every admin sub-role check."""
    allowed = set(roles)
    if user.role in allowed:
        return True
    return user.role == UserRole.ADMIN and bool(allowed & ADMIN_ROLES)


def auth_required(
    roles: Iterable[UserRole] | None = None,
    *,
    verified: bool = False,
    approved_supplier: bool = False,
    refresh: bool = False,
) -> Callable:
    roles = tuple(roles) if roles else None

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = _authenticate(refresh=refresh)
            if roles is not None and not role_allows(user, roles):
                raise Forbidden()
            if verified and not user.is_verified:
                raise Forbidden("Verify your email address first", code="EMAIL_NOT_VERIFIED")
            if (
                approved_supplier
                and user.role == UserRole.SUPPLIER
                and not (user.supplier_profile and user.supplier_profile.is_approved)
            ):
                raise Forbidden(
                    "Your supplier account is awaiting approval", code="SUPPLIER_NOT_APPROVED"
                )
            return view(*args, **kwargs)

        # Document the bearer requirement on the operation (flask-smorest reads _apidoc).
        apidoc = dict(getattr(view, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        manual["security"] = [{BEARER_SCHEME: []}]
        wrapper._apidoc = apidoc | {"manual_doc": manual}
        # Read by the role-matrix test: who this guard lets in (None: any signed-in user).
        wrapper._roles = frozenset(roles) if roles is not None else None
        return wrapper

    return decorator


def requires(capability: str, **kwargs) -> Callable:
    """Guard an admin endpoint by a row of the role table (``app/auth/permissions.py``):
    403 ``FORBIDDEN`` for any role without ``capability``."""
    guard = auth_required(roles_for(capability), **kwargs)

    def decorator(view):
        wrapper = guard(view)
        wrapper._capability = capability
        return wrapper

    return decorator


def role_required(*roles: UserRole) -> Callable:
    return auth_required(roles)


login_required = auth_required()
customer_required = auth_required([UserRole.CUSTOMER])
admin_required = auth_required([UserRole.ADMIN])
admin_or_manager_required = auth_required(ADMIN_ROLES)
supplier_required = auth_required([UserRole.SUPPLIER], approved_supplier=True)
supplier_or_admin_required = auth_required(
    [UserRole.SUPPLIER, *ADMIN_ROLES], approved_supplier=True
)
verified_required = auth_required(verified=True)
# Supplier product listing and payout settings: approved and email-verified suppliers.
verified_supplier_required = auth_required(
    [UserRole.SUPPLIER], verified=True, approved_supplier=True
)
finance_admin_required = auth_required([UserRole.FINANCE_ADMIN])
support_admin_required = auth_required([UserRole.SUPPORT_ADMIN])
product_manager_required = auth_required([UserRole.PRODUCT_MANAGER])
delivery_agent_required = auth_required([UserRole.DELIVERY_AGENT])


def register_jwt_callbacks(app: Flask) -> None:
    """Token failures that flask-jwt-extended detects itself answer in our envelope."""
    from app.errors import error_response

    @jwt.expired_token_loader
    def expired(_header, _payload):
        return error_response(401, "TOKEN_EXPIRED", "Your session has expired")

    @jwt.invalid_token_loader
    def invalid(reason):
        return error_response(401, "UNAUTHORIZED", "Invalid token")

    @jwt.unauthorized_loader
    def missing(reason):
        return error_response(401, "UNAUTHORIZED", "Authentication required")

    @jwt.revoked_token_loader
    def revoked(_header, _payload):
        return error_response(401, "TOKEN_REVOKED", "This session has been signed out")

    @jwt.token_in_blocklist_loader
    def is_revoked(_header, payload) -> bool:
        from app.auth.tokens import is_session_revoked

        return is_session_revoked(payload)
