"""In-app notifications: ``notify`` tells a user of an event; the user's inbox.

``notify`` writes the notification and queues the event's email on the caller's
transaction: both exist exactly when the change they report commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from app.auth.models import ADMIN_ROLES, User, UserRole
from app.db import utcnow
from app.errors import NotFound
from app.extensions import db
from app.notifications.email import send_email_after_commit
from app.notifications.models import Notification
from app.orders.models import Order
from app.pagination import Page, paginate


def notify(
    user: User,
    event: str,
    /,
    *,
    title: str,
    body: str,
    path: str | None = None,
    order: Order | None = None,
    email: tuple[str, str] | None = None,
    **context: Any,
) -> None:
    """Tell ``user`` of ``event`` in the app and, with ``email=(subject, template)``, by
    email (rendered with ``order`` and ``context``).

    ``title``, ``body`` and ``path`` (where on the storefront it leads, stored as its
    ``link``) are what the app shows: never a secret (a code or token goes to the email's
    ``context`` only). ``user`` and ``event`` are positional: ``context`` may hold a
    ``user`` for the template.
    """
    _tell([user], event, title, body, path, order, email, context)


def _tell(
    users: Sequence[User],
    event: str,
    title: str,
    body: str,
    path: str | None,
    order: Order | None,
    email: tuple[str, str] | None,
    context: dict[str, Any],
) -> None:
    """``users`` told of ``event`` in the app (one insert) and, with ``email``, by email."""
    notify_many(
        [user.id for user in users],
        event,
        title=title,
        body=body,
        path=path,
        order_id=order.id if order is not None else None,
    )
    if email is None:
        return
    subject, template = email
    if order is not None:
        context["order"] = order
    for user in users:
        send_email_after_commit(user.email, subject, template, **context)


def notify_many(
    user_ids: list[int],
    event: str,
    /,
    *,
    title: str,
    body: str,
    path: str | None = None,
    order_id: int | None = None,
) -> None:
    """The same in-app notification (no email) to many users in one statement."""
    if not user_ids:
        return
    now = utcnow()
    db.session.execute(
        insert(Notification.__table__),
        [
            {
                "user_id": user_id,
                "event": event,
                "title": title,
                "body": body,
                "link": path,
                "order_id": order_id,
                "created_at": now,
            }
            for user_id in user_ids
        ],
    )


def notify_admins(
    event: str,
    /,
    *,
    title: str,
    body: str,
    roles: Iterable[UserRole] = (UserRole.ADMIN,),
    path: str | None = None,
    order: Order | None = None,
    email: tuple[str, str] | None = None,
    **context: Any,
) -> int:
    """Tell every active admin of ``roles`` (ADMIN always included) of ``event``, in their
    feed (``GET /api/admin/notifications``) and, with ``email``, by email: the way other
    domains raise what admins must act on (supplier applications, disputes, flagged
    payments, payout failures). How many admins were told."""
    wanted = (set(roles) | {UserRole.ADMIN}) & ADMIN_ROLES
    admins = db.session.scalars(
        select(User).where(User.role.in_(wanted), User.is_active).order_by(User.id)
    ).all()
    _tell(admins, event, title, body, path, order, email, context)
    return len(admins)


def _mine(user: User, unread_only: bool = False):
    condition = Notification.user_id == user.id
    return condition & Notification.read_at.is_(None) if unread_only else condition


def list_notifications(user: User, params: dict[str, Any]) -> Page:
    """The user's notifications, newest first (only the unread with ``unread_only``)."""
    mine = _mine(user, params["unread_only"])
    return paginate(
        select(Notification)
        .where(mine)
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        params,
        count=select(func.count()).select_from(Notification).where(mine),
    )


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(_mine(user, unread_only=True))
    )


def find_notification(user: User, notification_id: int) -> Notification:
    """One of the user's notifications; someone else's is 404 as an unknown one."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("Notification not found")
    return notification


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one read; reading it again keeps the first time."""
    notification = find_notification(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; how many were unread."""
    result = db.session.execute(
        update(Notification).where(_mine(user, unread_only=True)).values(read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def delete_notification(user: User, notification_id: int) -> None:
    db.session.delete(find_notification(user, notification_id))
    db.session.flush()
