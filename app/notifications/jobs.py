"""Scheduled work of the notifications domain."""

from __future__ import annotations

import contextlib
import time

from flask_mail import Connection

from app.db import utcnow
from app.extensions import db, mail
from app.notifications.email import attempt, claim_sendable, smtp_enabled
from app.notifications.models import OutboxEmail

JOB_BATCH = 500  # emails per run of the job at most
JOB_BUDGET_SECONDS = 50.0  # a run ends before the next minute's slot


def send_outbox_emails() -> dict[str, int]:
    """Job: send the due QUEUED and FAILED emails, one claimed row per transaction (a
    crash resends at most the email being sent), over one SMTP connection while it
    works (a failure closes it; the next email opens a new one); what happened."""
    if not smtp_enabled():
        return {"sent": 0, "failed": 0}
    sent = failed = 0
    deadline = time.monotonic() + JOB_BUDGET_SECONDS
    session = db.session
    connection = None
    try:
        for _ in range(JOB_BATCH):
            if time.monotonic() > deadline:
                break
            email = claim_sendable(session, OutboxEmail.next_attempt_at <= utcnow())
            if email is None:
                break
            connection = connection or _open()
            if attempt(email, connection):
                sent += 1
            else:
                failed += 1
                connection = _close(connection)
            session.commit()
    finally:
        _close(connection)
    return {"sent": sent, "failed": failed}


def _open() -> Connection | None:
    """An SMTP connection, or None when it cannot be opened (each email then tries on
    its own and records why it failed)."""
    connection = mail.connect()
    try:
        connection.__enter__()
    except Exception:
        return None
    return connection


def _close(connection: Connection | None) -> None:
    if connection is not None:
        # An SMTP session that broke cannot QUIT cleanly.
        with contextlib.suppress(Exception):
            connection.__exit__(None, None, None)
