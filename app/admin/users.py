"""Users as admins see and manage them: the searchable list, status and role changes.

The last active ADMIN can be neither disabled nor demoted, also under concurrency: the
change locks every active ADMIN row first (``_check_admins_remain``), so of two admins
demoting each other at once, the second sees the first's change and is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.auth import accounts
from app.auth.models import ADMIN_ROLES, Session, User, UserRole
from app.auth.search import users_matching
from app.db import get_or_404, lock_or_404
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.pagination import Page, paginate


def list_users(params: dict[str, Any]) -> Page:
    conditions = []
    if params.get("role") is not None:
        conditions.append(User.role == params["role"])
    if params.get("status") is not None:
        conditions.append(User.is_active.is_(params["status"] == "active"))
    if params.get("verified") is not None:
        verified = User.email_verified_at.is_not(None)
        conditions.append(verified if params["verified"] else ~verified)
    if params.get("q"):
        conditions.append(users_matching(params["q"]))
    statement = (
        select(User)
        .where(*conditions)
        .options(joinedload(User.supplier_profile))
        .order_by(User.created_at.desc(), User.id.desc())
    )
    count = select(func.count()).select_from(User).where(*conditions)
    return paginate(statement, params, count=count)


def get_user(user_id: int) -> User:
    user = db.session.scalar(
        select(User)
        .where(User.id == user_id)
        .options(joinedload(User.supplier_profile), joinedload(User.admin_profile))
    )
    if user is None:
        raise NotFound("User not found")
    user.open_sessions = db.session.scalar(
        select(func.count())
        .select_from(Session)
        .where(Session.user_id == user.id, Session.revoked_at.is_(None))
    )
    return user


def _check_may_manage(actor: User, user: User) -> None:
    if user.id == actor.id:
        raise Forbidden("You cannot change your own account here", code="SELF_CHANGE")
    if user.role in ADMIN_ROLES and actor.role != UserRole.ADMIN:
        raise Forbidden("Only an ADMIN may change another admin's account")


def _check_admins_remain(user: User) -> None:
    """Refuse to take away the last active ADMIN (locks every active ADMIN row)."""
    if user.role != UserRole.ADMIN or not user.is_active:
        return
    admins = db.session.scalars(
        select(User.id)
        .where(User.role == UserRole.ADMIN, User.is_active)
        .order_by(User.id)
        .with_for_update()
    ).all()
    if admins == [user.id]:
        raise Conflict("This is the last active ADMIN; make another admin first", code="LAST_ADMIN")


def _lock(user_id: int) -> User:
    return lock_or_404(User, user_id, message="User not found")


def set_active(actor: User, user_id: int, active: bool, reason: str | None) -> str:
    """Enable or disable an account; disabling signs it out everywhere at once."""
    user = get_or_404(User, user_id)
    _check_may_manage(actor, user)
    if not active:
        _check_admins_remain(user)
    user = _lock(user_id)
    if user.is_active == active:
        return "unchanged"
    if active:
        accounts.enable_user(user, reason=reason)
    else:
        accounts.disable_user(user, reason=reason)
    db.session.flush()
    return "activated" if active else "deactivated"


def set_role(actor: User, user_id: int, role: UserRole, business_name: str | None) -> User:
    user = get_or_404(User, user_id)
    _check_may_manage(actor, user)
    if role != UserRole.ADMIN:
        _check_admins_remain(user)
    user = _lock(user_id)
    if user.role != role:
        accounts.set_role(user, role, business_name=business_name)
        db.session.flush()
    return user
