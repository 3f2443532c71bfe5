"""In-app notifications"""

from app.api import Blueprint
from app.auth.access import current_user, login_required
from app.extensions import db
from app.notifications import operations
from app.notifications.schemas import (
    MarkedReadSchema,
    NotificationQuerySchema,
    NotificationSchema,
    UnreadCountSchema,
)

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/notifications",
    description="In-app notifications",
)


@blp.route("", methods=["GET"])
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationSchema, paginated=True)
@login_required
def list_notifications(params):
    """The caller's notifications, newest first (``unread_only`` for the unread ones)."""
    return operations.list_notifications(current_user(), params)


@blp.route("/unread-count", methods=["GET"])
@blp.response(200, UnreadCountSchema)
@login_required
def unread_count():
    return {"unread": operations.unread_count(current_user())}


@blp.route("/<int:notification_id>/read", methods=["PUT"])
@blp.response(200, NotificationSchema, message="Notification marked read")
@login_required
def mark_read(notification_id):
    """Mark one read (yours only: someone else's is 404)."""
    notification = operations.mark_read(current_user(), notification_id)
    db.session.commit()
    return notification


@blp.route("/read-all", methods=["PUT"])
@blp.response(200, MarkedReadSchema, message="All notifications marked read")
@login_required
def mark_all_read():
    marked = operations.mark_all_read(current_user())
    db.session.commit()
    return {"marked_read": marked}


@blp.route("/<int:notification_id>", methods=["DELETE"])
@blp.response(200, message="Notification deleted")
@login_required
def delete_notification(notification_id):
    """Delete one (yours only: someone else's is 404)."""
    operations.delete_notification(current_user(), notification_id)
    db.session.commit()
