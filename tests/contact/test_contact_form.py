"""POST /api/contact and GET /api/contact/info, through HTTP."""

from __future__ import annotations

import json
import logging

import pytest
import requests
import responses
from responses import matchers
from sqlalchemy import func, select

from app import create_app
from app.contact.models import ContactMessage, ContactStatus
from app.extensions import db
from app.notifications.models import OutboxEmail
from app.services.web3forms import build_web3forms
from tests.contact.conftest import sent_emails, stored_messages

SUPPORT = "support@quantumgear.co.ke"
WEB3FORMS_URL = "https://api.web3forms.com/submit"
SENT = {
    "success": True,
    "message": "Email sent successfully!",
    "data": {"name": "Wanjiku Kamau", "email": "wanjiku@example.co.ke"},
}


def test_a_message_is_stored_emailed_to_support_and_acknowledged(client, form):
    response = client.post(
        "/api/contact", json=form | {"website": ""}, environ_base={"REMOTE_ADDR": "41.90.1.2"}
    )

    assert response.status_code == 201, response.json
    assert response.json["success"] is True
    assert response.json["data"] == {"received": True}
    [message] = stored_messages()
    assert (message.name, message.email, message.phone) == (
        "Wanjiku Kamau",
        "wanjiku@example.co.ke",
        "254712345678",
    )
    assert (message.subject, message.order_number) == (form["subject"], form["order_number"])
    assert message.message == form["message"]
    assert (message.status, message.note, message.ip_address) == (
        ContactStatus.NEW,
        None,
        "41.90.1.2",
    )
    assert sorted(sent_emails()) == sorted(
        [("wanjiku@example.co.ke", "contact_acknowledgement"), (SUPPORT, "contact_message")]
    )


def test_the_optional_fields_may_be_left_out(client, form):
    body = {key: form[key] for key in ("name", "email", "subject", "message")}
    assert client.post("/api/contact", json=body).status_code == 201
    [message] = stored_messages()
    assert (message.phone, message.order_number) == (None, None)


def test_a_filled_honeypot_answers_the_same_and_stores_and_sends_nothing(client, form):
    response = client.post("/api/contact", json=form | {"website": "https://spam.example"})

    assert response.status_code == 201
    assert response.json["data"] == {"received": True}
    assert stored_messages() == []
    assert sent_emails() == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"message": "x" * 5001}, "message"),
        ({"message": 42}, "message"),
        ({"message": "Hello \ud800 there"}, "message"),
        ({"order_number": "Q" * 33}, "order_number"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_stored(client, form, change, field):
    response = client.post("/api/contact", json=form | change)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json["error"]["details"]
    assert stored_messages() == []
    assert sent_emails() == []


@pytest.fixture
def web3forms(app, monkeypatch):
    config = app.config | {"WEB3FORMS_ACCESS_KEY": "w3f-access-key"}
    monkeypatch.setitem(app.extensions, "web3forms", build_web3forms(config))


def _committed_messages() -> int:
    """What another connection sees: only committed rows."""
    with db.engine.connect() as other:
        return other.scalar(select(func.count()).select_from(ContactMessage))


@responses.activate
def test_with_web3forms_the_message_is_relayed_after_the_commit(client, form, web3forms):
    seen_committed = []

    def accept(request):
        seen_committed.append(_committed_messages())
        return 200, {"Content-Type": "application/json"}, json.dumps(SENT)

    relay = responses.add_callback(
        responses.POST,
        WEB3FORMS_URL,
        callback=accept,
        match=[matchers.header_matcher({"Accept": "application/json"})],
    )

    response = client.post("/api/contact", json=form)

    assert response.status_code == 201
    [message] = stored_messages()
    assert relay.call_count == 1
    assert json.loads(relay.calls[0].request.body) == {
        "access_key": "w3f-access-key",
        "name": "Wanjiku Kamau",
        "email": "wanjiku@example.co.ke",
        "subject": "Contact form: Where is my order?",
        "from_name": "Quantum Gear Electronics",
        "message": form["message"],
        "phone": "254712345678",
        "order_number": "QG-20261201-0042",
        "reference": f"contact-message-{message.id}",
        "botcheck": "",
    }
    assert relay.calls[0].request.headers["Content-Type"] == "application/json"
    assert seen_committed == [1]  # the row was committed before Web3Forms was called
    # Web3Forms told support: only the acknowledgement is emailed.
    assert sent_emails() == [("wanjiku@example.co.ke", "contact_acknowledgement")]


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 500, "json": {"success": False, "message": "Something went wrong. "}},
        {"status": 400, "json": {"statusCode": 400, "success": False, "message": "Invalid key"}},
        {"status": 200, "json": {"success": False, "message": "Spam detected"}},
        {"status": 502, "body": "<html>Bad gateway</html>"},
        {"body": requests.Timeout("read timed out")},
    ],
    ids=["500", "400", "200-unsuccessful", "html", "timeout"],
)
@responses.activate
def test_when_web3forms_fails_support_is_emailed_and_the_answer_is_still_201(
    client, form, web3forms, reply, caplog
):
    caplog.set_level(logging.WARNING, logger="app.contact.operations")
    responses.post(WEB3FORMS_URL, **reply)

    response = client.post("/api/contact", json=form)

    assert response.status_code == 201
    [message] = stored_messages()
    assert sorted(sent_emails()) == sorted(
        [("wanjiku@example.co.ke", "contact_acknowledgement"), (SUPPORT, "contact_message")]
    )
    assert f"contact message {message.id} not relayed" in caplog.text


@pytest.fixture
def limited(rate_limits):
    return rate_limits(create_app("testing")).test_client()


def test_the_form_is_limited_per_ip(limited, form):
    def send(ip):
        return limited.post("/api/contact", json=form, environ_base={"REMOTE_ADDR": ip})

    for _ in range(5):
        assert send("41.90.3.3").status_code == 201
    refused = send("41.90.3.3")

    assert refused.status_code == 429
    assert refused.json["success"] is False
    assert refused.json["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) > 0
    assert len(stored_messages()) == 5
    assert send("41.90.3.4").status_code == 201


def test_contact_info_has_the_store_s_details(client):
    response = client.get("/api/contact/info")

    assert response.status_code == 200
    info = response.json["data"]
    assert info["phone"] == "+254 700 123 456"
    assert info["whatsapp_url"] == "https://wa.me/254700123456"
    assert info["email"] == SUPPORT
    assert "Nairobi" in info["address"]
    assert info["hours"]
    assert set(info["social"]) == {"facebook", "instagram", "x", "tiktok"}
    assert all(link.startswith("https://") for link in info["social"].values())


def test_contact_info_follows_the_settings(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "STORE_WHATSAPP", "+254 722 000 111")
    monkeypatch.setitem(app.config, "STORE_HOURS", "Daily 7:00-21:00")

    info = client.get("/api/contact/info").json["data"]

    assert (info["whatsapp"], info["whatsapp_url"]) == (
        "+254 722 000 111",
        "https://wa.me/254722000111",
    )
    assert info["hours"] == "Daily 7:00-21:00"


def test_the_emails_carry_the_message_with_the_sender_s_text_escaped_in_html(client, form):
    hostile = "<script>alert(1)</script> Where is it?"
    client.post("/api/contact", json=form | {"message": hostile})

    emails = {row.template: row for row in db.session.scalars(select(OutboxEmail))}
    support = emails["contact_message"]
    assert support.subject == "Contact form: Where is my order?"
    assert hostile in support.body_text
    assert "wanjiku@example.co.ke" in support.body_text
    assert "254712345678" in support.body_text and "QG-20261201-0042" in support.body_text
    assert "<script>" not in support.body_html
    assert "&lt;script&gt;" in support.body_html
    ack = emails["contact_acknowledgement"]
    assert ack.subject == "We have received your message"
    assert "Wanjiku Kamau" in ack.body_text and SUPPORT in ack.body_text


@responses.activate
def test_when_web3forms_and_the_support_email_both_fail_the_answer_is_still_201(
    client, form, web3forms, monkeypatch, caplog
):
    from app.contact import operations

    responses.post(WEB3FORMS_URL, status=503, json={"success": False, "message": "Down"})

    def broken(message):
        raise RuntimeError("database went away")

    monkeypatch.setattr(operations, "email_support", broken)

    response = client.post("/api/contact", json=form)

    assert response.status_code == 201
    [message] = stored_messages()
    assert f"contact message {message.id}: the support email failed" in caplog.text
