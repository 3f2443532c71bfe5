"""Transactional email, sent only after the caller's transaction commits.

``send_email_after_commit`` renders ``templates/email/<template>.txt`` (and ``.html``
when present) now, and delivers once the current database transaction commits: over
SMTP (Flask-Mail) when ``MAIL_USERNAME`` is set, otherwise into the ``outbox_emails``
table and the log, so every flow works offline. A rolled-back transaction sends
nothing; a mail failure is logged and never fails the request.

Offline, the outbox row is written into the caller's transaction when the email is
queued (it exists exactly when the change it reports does, at no extra connection or
commit, and a statement the caller runs later, such as checkout's stock update, holds
its locks for less time); over SMTP the row records the outcome in its own short
transaction after the send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, render_template
from flask_mail import Message
from jinja2 import TemplateNotFound
from sqlalchemy import insert
from sqlalchemy.orm import Session as OrmSession

from app.db import after_commit, utcnow
from app.extensions import db, mail
from app.notifications.models import OutboxEmail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    template: str
    text: str
    html: str | None


def render_email(to: str, subject: str, template: str, **context) -> Email:
    context = {"subject": subject, "frontend_url": current_app.config["FRONTEND_URL"], **context}
    text = render_template(f"email/{template}.txt", **context)
    try:
        html = render_template(f"email/{template}.html", **context)
    except TemplateNotFound:
        html = None
    return Email(to=to, subject=subject, template=template, text=text, html=html)


def send_email_after_commit(to: str, subject: str, template: str, **context) -> None:
    """Queue an email on the current transaction; it goes out only if that commits."""
    email = render_email(to, subject, template, **context)
    session = db.session()
    if current_app.config.get("MAIL_USERNAME"):
        after_commit(session, lambda: deliver(email))
        return
    logged = {"status": "LOGGED", "sent_at": utcnow()}
    session.execute(insert(OutboxEmail.__table__), _outbox_values(email) | logged)
    after_commit(
        session, lambda: log.info("email (outbox) to=%s subject=%r", email.to, email.subject)
    )


def _outbox_values(email: Email) -> dict[str, str | None]:
    return {
        "to_address": email.to,
        "subject": email.subject,
        "template": email.template,
        "body_text": email.text,
        "body_html": email.html,
    }


def deliver(email: Email) -> OutboxEmail:
    """Send one email over SMTP now and record it in its own session; never raises."""
    record = OutboxEmail(**_outbox_values(email))
    try:
        mail.send(
            Message(subject=email.subject, recipients=[email.to], body=email.text, html=email.html)
        )
        record.status, record.sent_at = "SENT", utcnow()
    except Exception as exc:  # SMTP trouble must never fail the caller
        log.error("email to %s failed: %s", email.to, exc)
        record.status, record.error = "FAILED", str(exc)[:500]
    try:
        with OrmSession(db.engine, expire_on_commit=False) as session:
            session.add(record)
            session.commit()
    except Exception:
        log.exception("could not record email to %s", email.to)
    return record
