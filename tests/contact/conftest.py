import factory
import pytest
from sqlalchemy import select

from app.contact.models import ContactMessage, ContactStatus
from app.extensions import db
from app.notifications.models import OutboxEmail
from tests.factories.base import Factory


class ContactMessageFactory(Factory):
    class Meta:
        model = ContactMessage

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"sender{n}@example.co.ke")
    subject = factory.Sequence(lambda n: f"Question {n}")
    message = "Do you have the Samsung A15 in stock?"
    status = ContactStatus.NEW


@pytest.fixture
def form():
    return {
        "name": "Wanjiku Kamau",
        "email": "Wanjiku@Example.co.ke",
        "phone": "0712345678",
        "subject": "Where is my order?",
        "message": "I paid with M-Pesa yesterday and have not heard back.",
        "order_number": "QG-20261201-0042",
    }


def stored_messages() -> list[ContactMessage]:
    return list(db.session.scalars(select(ContactMessage).order_by(ContactMessage.id)))


def sent_emails() -> list[tuple[str, str]]:
    """(recipient, template) of every email in the outbox."""
    rows = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
    return [(row.to_address, row.template) for row in rows]
