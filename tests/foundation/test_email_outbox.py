from sqlalchemy import select

from app.extensions import db
from app.notifications.email import send_email_after_commit
from app.notifications.models import OutboxEmail


def _outbox():
    return db.session.scalars(select(OutboxEmail)).all()


def test_email_is_delivered_only_after_commit(app):
    with app.test_request_context():
        send_email_after_commit("a@example.co.ke", "Hello", "base")
        assert _outbox() == []
        db.session.commit()
    emails = _outbox()
    assert [(e.to_address, e.status) for e in emails] == [("a@example.co.ke", "LOGGED")]


def test_rolled_back_transaction_sends_nothing(app):
    with app.test_request_context():
        send_email_after_commit("a@example.co.ke", "Hello", "base")
        db.session.rollback()
        db.session.commit()
    assert _outbox() == []
