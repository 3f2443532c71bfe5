"""``notify``: an event leaves one in-app notification and one email, inside the caller's
transaction; account secrets stay in the email."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.notifications.models import Notification, OutboxEmail
from app.notifications.operations import notify
from tests.auth.conftest import code_in, emails
from tests.factories.auth import UserFactory
from tests.factories.catalog import ProductFactory


def notifications(user=None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return list(db.session.scalars(query))


def test_an_order_placed_over_http_leaves_one_notification_and_one_email(
    checkout, fill_cart, customer, client, customer_headers
):
    fill_cart((ProductFactory(stock=3), 1))
    response = checkout("MPESA")
    assert response.status_code == 201
    order = response.json["data"]

    [mail] = emails(to=customer.email)
    assert (mail.template, mail.subject) == (
        "order_confirmation",
        f"Order {order['order_number']} received",
    )
    listed = client.get("/api/notifications", headers=customer_headers).json
    [note] = listed["data"]
    assert note["event"] == "order-placed"
    assert note["title"] == mail.subject
    assert (note["order_id"], note["link"], note["read"]) == (
        order["id"],
        f"/orders/{order['id']}",
        False,
    )


def test_a_rolled_back_transaction_notifies_no_one(customer):
    notify(
        customer,
        "welcome",
        title="Welcome",
        body="Your email address is verified.",
        email=("Welcome to Quantum Gear", "welcome"),
        user=customer,
    )
    db.session.rollback()

    assert notifications() == []
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_notify_without_an_email_only_notifies_in_the_app(customer):
    notify(customer, "welcome", title="Welcome", body="Hello.")
    db.session.commit()

    [note] = notifications(customer)
    assert (note.event, note.title, note.body, note.link, note.order_id) == (
        "welcome",
        "Welcome",
        "Hello.",
        None,
        None,
    )
    assert emails() == []


def test_a_code_is_emailed_but_never_shown_in_the_app(client):
    user = UserFactory()
    body = {"email": user.email, "purpose": "PASSWORD_RESET"}
    assert client.post("/api/auth/send-otp", json=body).status_code == 200

    [mail] = emails("otp", to=user.email)
    code = code_in(mail)
    [note] = notifications(user)
    assert note.event == "otp-issued"
    assert note.body == "A verification code was sent to your email."
    assert code not in f"{note.title} {note.body} {note.link}"


def test_a_verification_link_is_emailed_but_never_shown_in_the_app(client):
    user = UserFactory(unverified=True)
    client.post("/api/auth/resend-verification", json={"email": user.email})

    [mail] = emails("verify_email", to=user.email)
    [note] = notifications(user)
    assert note.event == "verification-requested"
    assert note.link is None
    assert code_in(mail) not in f"{note.title} {note.body}"
    assert "token" not in f"{note.title} {note.body}"
