"""GET/PUT /api/admin/contact-messages: the support inbox."""

from __future__ import annotations

import pytest

from app.auth.models import UserRole
from app.contact.models import ContactMessage, ContactStatus
from app.extensions import db
from tests.contact.conftest import ContactMessageFactory

URL = "/api/admin/contact-messages"


@pytest.fixture
def support_headers(role_user, auth_headers):
    return auth_headers(role_user(UserRole.SUPPORT_ADMIN))


def test_support_admins_list_messages_newest_first(client, support_headers):
    older = ContactMessageFactory(subject="Delivery to Kisumu")
    newer = ContactMessageFactory(subject="Warranty question")

    response = client.get(URL, headers=support_headers)

    assert response.status_code == 200
    assert [m["id"] for m in response.json["data"]] == [newer.id, older.id]
    assert response.json["meta"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}
    first = response.json["data"][0]
    assert first["subject"] == "Warranty question"
    assert first["status"] == "NEW"
    assert first["created_at"].endswith("Z")


def test_the_list_filters_by_status_and_text(client, support_headers):
    ContactMessageFactory(name="Otieno Ouma", subject="Refund")
    resolved = ContactMessageFactory(subject="Refund please", status=ContactStatus.RESOLVED)
    by_email = ContactMessageFactory(email="achieng@safari.co.ke", subject="Hello")

    def ids(**query):
        response = client.get(URL, query_string=query, headers=support_headers)
        assert response.status_code == 200
        return {m["id"] for m in response.json["data"]}

    assert ids(status="RESOLVED") == {resolved.id}
    assert len(ids(q="refund")) == 2
    assert ids(q="refund", status="RESOLVED") == {resolved.id}
    assert ids(q="SAFARI") == {by_email.id}
    assert len(ids(q="otieno")) == 1
    bad = client.get(URL, query_string={"status": "DONE"}, headers=support_headers)
    assert bad.status_code == 400
    assert bad.json["error"]["code"] == "VALIDATION_ERROR"


def test_support_admins_set_the_status_and_a_note(client, support_headers):
    message = ContactMessageFactory()

    response = client.put(
        f"{URL}/{message.id}",
        json={"status": "IN_PROGRESS", "note": "Called the customer"},
        headers=support_headers,
    )

    assert response.status_code == 200
    assert response.json["data"]["status"] == "IN_PROGRESS"
    assert response.json["data"]["note"] == "Called the customer"
    stored = db.session.get(ContactMessage, message.id)
    db.session.refresh(stored)
    assert (stored.status, stored.note) == (ContactStatus.IN_PROGRESS, "Called the customer")

    # Only what is sent changes.
    client.put(f"{URL}/{message.id}", json={"status": "RESOLVED"}, headers=support_headers)
    db.session.refresh(stored)
    assert (stored.status, stored.note) == (ContactStatus.RESOLVED, "Called the customer")


@pytest.mark.parametrize("body", [{}, {"status": "DONE"}, {"note": "x" * 2001}])
def test_bad_updates_are_refused(client, support_headers, body):
    message = ContactMessageFactory()

    response = client.put(f"{URL}/{message.id}", json=body, headers=support_headers)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    db.session.refresh(message)
    assert message.status == ContactStatus.NEW


def test_an_unknown_message_is_404(client, support_headers):
    response = client.put(f"{URL}/999", json={"status": "RESOLVED"}, headers=support_headers)
    assert response.status_code == 404


def test_admins_may_use_the_inbox(client, admin_headers):
    message = ContactMessageFactory()
    assert client.get(URL, headers=admin_headers).status_code == 200
    put = client.put(f"{URL}/{message.id}", json={"status": "RESOLVED"}, headers=admin_headers)
    assert put.status_code == 200


@pytest.mark.parametrize("role", [UserRole.CUSTOMER, UserRole.FINANCE_ADMIN, UserRole.SUPPLIER])
def test_other_roles_are_forbidden(client, role_user, auth_headers, role):
    headers = auth_headers(role_user(role))
    message = ContactMessageFactory()

    assert client.get(URL, headers=headers).status_code == 403
    put = client.put(f"{URL}/{message.id}", json={"status": "RESOLVED"}, headers=headers)
    assert put.status_code == 403
    assert put.json["error"]["code"] == "FORBIDDEN"
    db.session.refresh(message)
    assert message.status == ContactStatus.NEW


def test_signing_in_is_required(client):
    assert client.get(URL).status_code == 401
