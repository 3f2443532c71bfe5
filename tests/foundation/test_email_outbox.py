import logging

from sqlalchemy import func, select

from app.extensions import db, mail
from app.notifications.email import send_email_after_commit
from app.notifications.models import OutboxEmail


def _outbox():
    return db.session.scalars(select(OutboxEmail)).all()


def _committed_outbox_count() -> int:
    """What other connections see: nothing the open transaction has not committed."""
    with db.engine.connect() as other:
        return other.scalar(select(func.count()).select_from(OutboxEmail))


def test_email_is_delivered_only_after_commit(app, caplog):
    caplog.set_level(logging.INFO, logger="app.notifications.email")
    with app.test_request_context():
        send_email_after_commit("a@example.co.ke", "Hello", "base")
        assert _committed_outbox_count() == 0
        assert "email (outbox)" not in caplog.text
        db.session.commit()
    assert "email (outbox) to=a@example.co.ke" in caplog.text
    emails = _outbox()
    assert [(e.to_address, e.status) for e in emails] == [("a@example.co.ke", "LOGGED")]


def test_rolled_back_transaction_sends_nothing(app, caplog):
    caplog.set_level(logging.INFO, logger="app.notifications.email")
    with app.test_request_context():
        send_email_after_commit("a@example.co.ke", "Hello", "base")
        db.session.rollback()
        db.session.commit()
    assert _outbox() == []
    assert "email (outbox)" not in caplog.text


def test_savepoints_neither_send_nor_drop_the_transaction_s_email(app, caplog):
    caplog.set_level(logging.INFO, logger="app.notifications.email")
    with app.test_request_context():
        send_email_after_commit("a@example.co.ke", "Hello", "base")
        with db.session.begin_nested():  # released: the transaction is not over
            pass
        assert "email (outbox)" not in caplog.text
        savepoint = db.session.begin_nested()
        savepoint.rollback()  # rolled back: the enclosing transaction keeps its email
        db.session.commit()
    assert caplog.text.count("email (outbox) to=a@example.co.ke") == 1
    assert [e.to_address for e in _outbox()] == ["a@example.co.ke"]


def test_over_smtp_the_email_is_sent_once_the_transaction_commits(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer@example.co.ke")
    with app.test_request_context(), mail.record_messages() as sent:
        send_email_after_commit("a@example.co.ke", "Hello", "base")
        with db.session.begin_nested():  # a savepoint released is not the commit
            pass
        assert sent == []
        db.session.commit()
        assert [message.recipients for message in sent] == [["a@example.co.ke"]]
    assert [(e.to_address, e.status) for e in _outbox()] == [("a@example.co.ke", "SENT")]
