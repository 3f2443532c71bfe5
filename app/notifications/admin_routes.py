"""The email outbox, for admins"""

from app.api import Blueprint
from app.auth.access import requires
from app.extensions import db
from app.notifications import email
from app.notifications.schemas import OutboxEmailSchema, OutboxQuerySchema

blp = Blueprint(
    "admin-emails",
    __name__,
    url_prefix="/api/admin/emails",
    description="The email outbox: what was sent, what failed, what is DEAD",
)


@blp.route("", methods=["GET"])
@requires("support.emails")
@blp.arguments(OutboxQuerySchema, location="query")
@blp.response(200, OutboxEmailSchema, paginated=True)
def list_emails(params):
    """Every email, newest first (support admins and admins); ``status=DEAD`` lists the
    ones that failed ``MAIL_MAX_ATTEMPTS`` times."""
    return email.list_emails(params)


@blp.route("/<int:email_id>/retry", methods=["POST"])
@requires("support.emails")
@blp.response(200, OutboxEmailSchema, message="Email queued again")
def retry_email(email_id):
    """Queue a FAILED or DEAD email again with fresh attempts (409 otherwise)."""
    queued = email.retry_email(email_id)
    db.session.commit()
    return queued
