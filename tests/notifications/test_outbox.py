"""The email outbox over SMTP: sent after commit, retried with back-off, DEAD, retried by
an admin; never sent twice, even by two workers at once."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
from flask_mail import Connection
from sqlalchemy import select, update

from app.auth.models import UserRole
from app.db import utcnow
from app.extensions import db, mail
from app.notifications.email import RETRY_BASE, send_email_after_commit
from app.notifications.jobs import send_outbox_emails
from app.notifications.models import OutboxEmail, OutboxStatus
from app.scheduler import execute, find_job


@pytest.fixture
def smtp(app, monkeypatch):
    """SMTP configured (Flask-Mail suppresses the real send in tests and records it);
    ``smtp.down = True`` makes every send fail as a refused connection would."""

    class Switch:
        down = False

    switch = Switch()
    real_send = Connection.send

    def send(connection, message, *args, **kwargs):
        if switch.down:
            raise smtplib.SMTPServerDisconnected("smtp.example.co.ke closed the connection")
        return real_send(connection, message, *args, **kwargs)

    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer@example.co.ke")
    monkeypatch.setattr(Connection, "send", send)
    return switch


def queue(to: str = "a@example.co.ke", **context) -> None:
    send_email_after_commit(to, "Password changed", "password_changed", user=_User(), **context)
    db.session.commit()


class _User:
    id, first_name, email = 7, "Wanjiru", "wanjiru@example.co.ke"


def the_email() -> OutboxEmail:
    db.session.expire_all()
    return db.session.scalar(select(OutboxEmail))


def make_due() -> None:
    db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_offline_the_email_is_logged_with_its_context(app, customer):
    with app.test_request_context():
        send_email_after_commit(
            customer.email, "Changed", "password_changed", user=customer, minutes=15
        )
        db.session.commit()
    email = the_email()
    assert (email.status, email.attempts, email.to_address) == (
        OutboxStatus.LOGGED,
        0,
        customer.email,
    )
    assert email.context == {"user": {"type": "User", "id": customer.id}, "minutes": 15}
    assert customer.first_name in email.body_text and customer.first_name in email.body_html


def test_a_failed_send_is_retried_with_back_off_then_dead(app, smtp):
    smtp.down = True
    with app.test_request_context():
        queue()
    email = the_email()
    assert (email.status, email.attempts) == (OutboxStatus.FAILED, 1)
    assert "SMTPServerDisconnected" in email.last_error
    first_wait = email.next_attempt_at - utcnow()
    assert RETRY_BASE - timedelta(seconds=5) < first_wait <= RETRY_BASE

    with app.app_context():
        assert send_outbox_emails() == {"sent": 0, "failed": 0}  # not due yet
        waits = []
        for attempt in range(2, app.config["MAIL_MAX_ATTEMPTS"] + 1):
            make_due()
            assert send_outbox_emails() == {"sent": 0, "failed": 1}
            email = the_email()
            assert email.attempts == attempt
            if email.next_attempt_at:
                waits.append(round((email.next_attempt_at - utcnow()) / RETRY_BASE))
    assert waits == [2, 4, 8, 16, 32, 64]  # doubling each time
    assert (email.status, email.next_attempt_at) == (OutboxStatus.DEAD, None)
    with app.app_context():
        make_due()
        assert send_outbox_emails() == {"sent": 0, "failed": 0}  # DEAD stays dead


def test_the_job_sends_what_failed_once_smtp_is_back(app, smtp):
    smtp.down = True
    with app.test_request_context():
        queue("a@example.co.ke")
        queue("b@example.co.ke")
    smtp.down = False
    make_due()
    with app.app_context(), mail.record_messages() as outbox:
        run = execute(find_job("send_outbox_emails"), "slot-1")
    assert run.status == "SUCCEEDED"
    assert sorted(m.recipients[0] for m in outbox) == ["a@example.co.ke", "b@example.co.ke"]
    assert {e.status for e in db.session.scalars(select(OutboxEmail))} == {OutboxStatus.SENT}


def test_admins_list_dead_emails_and_retry_them(app, client, smtp, role_user, auth_headers):
    smtp.down = True
    with app.test_request_context():
        queue()
    db.session.execute(update(OutboxEmail).values(status=OutboxStatus.DEAD, attempts=8))
    db.session.commit()
    support = auth_headers(role_user(UserRole.SUPPORT_ADMIN))

    listed = client.get("/api/admin/emails?status=DEAD", headers=support)
    assert listed.status_code == 200
    (row,) = listed.json["data"]
    assert (row["status"], row["attempts"], row["to"]) == ("DEAD", 8, "a@example.co.ke")
    assert "SMTPServerDisconnected" in row["last_error"]
    assert client.get("/api/admin/emails?status=SENT", headers=support).json["data"] == []
    customer = auth_headers(role_user(UserRole.CUSTOMER))
    assert client.get("/api/admin/emails", headers=customer).status_code == 403
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    assert client.post(f"/api/admin/emails/{row['id']}/retry", headers=finance).status_code == 403

    smtp.down = False
    with mail.record_messages() as outbox:
        retried = client.post(f"/api/admin/emails/{row['id']}/retry", headers=support)
    assert retried.status_code == 200
    assert [m.recipients for m in outbox] == [["a@example.co.ke"]]
    email = the_email()
    assert (email.status, email.attempts) == (OutboxStatus.SENT, 1)
    again = client.post(f"/api/admin/emails/{row['id']}/retry", headers=support)
    assert (again.status_code, again.json["error"]["code"]) == (409, "INVALID_TRANSITION")
    assert client.post("/api/admin/emails/999/retry", headers=support).status_code == 404


@pytest.mark.postgres
def test_two_workers_running_the_job_send_each_email_once(app, smtp):
    smtp.down = True
    with app.test_request_context():
        for n in range(30):
            queue(f"user{n}@example.co.ke")
    smtp.down = False
    make_due()
    sent, results = [], []
    start = threading.Barrier(2)

    def worker():
        with app.app_context():
            start.wait()
            results.append(send_outbox_emails())
            db.session.remove()

    with mail.record_messages() as outbox:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        sent = [m.recipients[0] for m in outbox]
    assert sorted(sent) == sorted(f"user{n}@example.co.ke" for n in range(30))
    assert sum(r["sent"] for r in results) == 30
    rows = db.session.scalars(select(OutboxEmail)).all()
    assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.SENT, 2)}
