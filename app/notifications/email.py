"""Transactional email through the outbox: every email is a row, sent after the commit.

``send_email_after_commit`` renders ``templates/email/<template>.txt`` and ``.html`` (one
base layout with the store's name and contact details, read through ``setting``) and
writes the ``outbox_emails`` row in the caller's transaction: it exists exactly when the
change it reports does, at no extra connection or commit, and a rolled-back transaction
sends nothing.

- Offline (no ``MAIL_USERNAME``): the row is ``LOGGED`` and the email written to the log
  once the transaction commits, so every flow works without SMTP.
- Over SMTP: the row is ``QUEUED``; once the transaction commits one attempt is made at
  once, and job ``send_outbox_emails`` (``jobs.py``, every minute) retries failures with exponential
  back-off (``RETRY_BASE`` doubled per attempt) up to ``MAIL_MAX_ATTEMPTS``, then the
  email is ``DEAD`` (``GET /api/admin/emails?status=DEAD``; an admin may retry it).

Every attempt first claims its row (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL,
re-checking the status), so two workers never send the same email twice; a mail failure
is recorded and never fails the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session as OrmSession

from app.db import after_commit, get_or_404, utcnow
from app.errors import Conflict
from app.extensions import db, mail
from app.notifications.models import OutboxEmail, OutboxStatus
from app.pagination import Page, paginate
from app.settings import SOCIAL_NETWORKS, setting

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)  # then 2, 4, 8, ... minutes
RETRYABLE = (OutboxStatus.QUEUED, OutboxStatus.FAILED)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    template: str
    text: str
    html: str


def store_details() -> dict[str, Any]:
    """The store's name and contact details for the layout (runtime settings)."""
    return {
        "name": setting("store_name"),
        "phone": setting("contact_phone"),
        "whatsapp": setting("contact_whatsapp"),
        "email": setting("contact_email"),
        "address": setting("contact_address"),
        "hours": setting("opening_hours"),
        "social": {
            network: url
            for network, url in setting("social_links").items()
            if network in SOCIAL_NETWORKS and url
        },
    }


def email_context(subject: str, context: dict[str, Any]) -> dict[str, Any]:
    """What every template sees: the event's context, the subject, the store."""
    return {
        "subject": subject,
        "frontend_url": current_app.config["FRONTEND_URL"],
        "store": store_details(),
        **context,
    }


def render_email(to: str, subject: str, template: str, **context) -> Email:
    full = email_context(subject, context)
    return Email(
        to=to,
        subject=subject,
        template=template,
        text=render_template(f"email/{template}.txt", **full),
        html=render_template(f"email/{template}.html", **full),
    )


def jsonable(value: Any) -> Any:
    """The event's context as JSON for the outbox record: rows by type and id."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | datetime | date | timedelta):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(item) for item in value]
    if hasattr(value, "__table__"):
        return {"type": type(value).__name__, "id": getattr(value, "id", None)}
    return str(value)


def smtp_enabled() -> bool:
    return bool(current_app.config.get("MAIL_USERNAME"))


def send_email_after_commit(to: str, subject: str, template: str, **context) -> None:
    """Queue an email on the current transaction; it goes out only if that commits."""
    email = render_email(to, subject, template, **context)
    session = db.session()
    values = {
        "to_address": email.to,
        "subject": email.subject,
        "template": email.template,
        "context": jsonable(context),
        "body_text": email.text,
        "body_html": email.html,
        "attempts": 0,
        "created_at": utcnow(),
    }
    if not smtp_enabled():
        logged = {"status": OutboxStatus.LOGGED, "sent_at": utcnow()}
        session.execute(insert(OutboxEmail.__table__), values | logged)
        after_commit(
            session, lambda: log.info("email (outbox) to=%s subject=%r", email.to, email.subject)
        )
        return
    queued = {"status": OutboxStatus.QUEUED, "next_attempt_at": utcnow()}
    email_id = session.execute(
        insert(OutboxEmail.__table__).returning(OutboxEmail.__table__.c.id), values | queued
    ).scalar_one()
    app = current_app._get_current_object()
    after_commit(session, lambda: deliver_now(app, email_id))


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure an email is tried again."""
    return RETRY_BASE * 2 ** max(attempts - 1, 0)


def claim_sendable(session: OrmSession, *conditions) -> OutboxEmail | None:
    """Lock one sendable row; rows another worker holds are skipped, not waited for."""
    return session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status.in_(RETRYABLE), *conditions)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def attempt(email: OutboxEmail, connection: Connection | None = None) -> bool:
    """One SMTP attempt for a claimed row (over ``connection`` when the caller keeps one
    open, else a new one); records the outcome on the row, never raises."""
    now = utcnow()
    email.attempts += 1
    send = connection.send if connection is not None else mail.send
    try:
        send(
            Message(
                subject=email.subject,
                recipients=[email.to_address],
                body=email.body_text,
                html=email.body_html,
            )
        )
    except Exception as exc:  # SMTP trouble must never fail the caller
        email.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if email.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            email.status, email.next_attempt_at = OutboxStatus.DEAD, None
            log.error("email %s to %s is DEAD: %s", email.id, email.to_address, exc)
        else:
            email.status = OutboxStatus.FAILED
            email.next_attempt_at = now + backoff(email.attempts)
            log.warning(
                "email %s to %s failed (attempt %d): %s",
                email.id,
                email.to_address,
                email.attempts,
                exc,
            )
        return False
    email.status, email.sent_at, email.next_attempt_at = OutboxStatus.SENT, now, None
    return True


def deliver_now(app, email_id: int) -> None:
    """After the commit: the first attempt, in its own session (never raises)."""
    try:
        with app.app_context(), OrmSession(db.engine, expire_on_commit=False) as session:
            email = claim_sendable(session, OutboxEmail.id == email_id)
            if email is not None:
                attempt(email)
            session.commit()
    except Exception:
        log.exception("email %s: the first attempt could not be recorded", email_id)


# ---- admins ---------------------------------------------------------------------------


def list_emails(params: dict[str, Any]) -> Page:
    """The outbox, newest first; ``status`` and ``to`` (an address) filter it."""
    conditions = []
    if params.get("status"):
        conditions.append(OutboxEmail.status == params["status"])
    if params.get("to"):
        conditions.append(OutboxEmail.to_address == params["to"].strip().lower())
    return paginate(
        select(OutboxEmail).where(*conditions).order_by(OutboxEmail.id.desc()),
        params,
        count=select(func.count()).select_from(OutboxEmail).where(*conditions),
    )


def retry_email(email_id: int) -> OutboxEmail:
    """Queue a FAILED or DEAD email again with a fresh set of attempts; it is tried once
    the request commits (over SMTP) and by the job after that."""
    email = get_or_404(OutboxEmail, email_id)
    if email.status not in (OutboxStatus.FAILED, OutboxStatus.DEAD):
        raise Conflict(
            f"Only FAILED or DEAD emails can be retried; this one is {email.status}",
            code="INVALID_TRANSITION",
        )
    email.status, email.attempts, email.next_attempt_at = OutboxStatus.QUEUED, 0, utcnow()
    db.session.flush()
    if smtp_enabled():
        app = current_app._get_current_object()
        after_commit(db.session(), lambda: deliver_now(app, email_id))
    return email
