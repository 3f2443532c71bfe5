"""``/api/notifications``: the signed-in user's own notifications, nobody else's."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.notifications.models import Notification
from tests.factories.auth import UserFactory
from tests.factories.notifications import NotificationFactory

URL = "/api/notifications"


@pytest.fixture
def others_note():
    """Someone else's unread notification."""
    return NotificationFactory(user=UserFactory())


@pytest.fixture
def two_unread(customer):
    """Two unread notifications of the customer's, and one read."""
    NotificationFactory(user=customer, read=True)
    return NotificationFactory.create_batch(2, user=customer)


def test_the_list_is_mine_newest_first_and_paginated(client, customer, customer_headers):
    notes = NotificationFactory.create_batch(3, user=customer)
    NotificationFactory(user=UserFactory())

    first = client.get(URL, query_string={"per_page": 2}, headers=customer_headers).json
    second = client.get(URL, query_string={"per_page": 2, "page": 2}, headers=customer_headers)

    ids = [note["id"] for note in first["data"] + second.json["data"]]
    assert ids == [note.id for note in reversed(notes)]
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}


def test_unread_only_lists_the_unread(client, customer, customer_headers):
    unread = NotificationFactory(user=customer)
    NotificationFactory(user=customer, read=True)

    body = client.get(URL, query_string={"unread_only": "true"}, headers=customer_headers).json
    assert [note["id"] for note in body["data"]] == [unread.id]
    assert body["meta"]["total"] == 1


def test_the_unread_count_counts_my_unread_only(client, customer_headers, two_unread, others_note):
    response = client.get(f"{URL}/unread-count", headers=customer_headers)
    assert response.status_code == 200
    assert response.json["data"] == {"unread": 2}


def test_marking_one_read_keeps_the_first_reading(client, customer, customer_headers):
    note = NotificationFactory(user=customer)

    first = client.put(f"{URL}/{note.id}/read", headers=customer_headers)
    again = client.put(f"{URL}/{note.id}/read", headers=customer_headers)

    assert first.status_code == again.status_code == 200
    assert first.json["data"]["read"] is True
    assert again.json["data"]["read_at"] == first.json["data"]["read_at"] is not None
    assert client.get(f"{URL}/unread-count", headers=customer_headers).json["data"] == {"unread": 0}


def test_read_all_marks_only_mine(client, customer_headers, two_unread, others_note):
    response = client.put(f"{URL}/read-all", headers=customer_headers)

    assert response.status_code == 200
    assert response.json["data"] == {"marked_read": 2}
    db.session.expire_all()
    assert db.session.get(Notification, others_note.id).read_at is None
    unread = client.get(URL, query_string={"unread_only": "true"}, headers=customer_headers)
    assert unread.json["data"] == []


def test_deleting_one_removes_it(client, customer, customer_headers):
    note, kept = NotificationFactory.create_batch(2, user=customer)

    response = client.delete(f"{URL}/{note.id}", headers=customer_headers)

    assert response.status_code == 200
    listed = client.get(URL, headers=customer_headers).json["data"]
    assert [n["id"] for n in listed] == [kept.id]


@pytest.mark.parametrize("method, path", [("put", "/{id}/read"), ("delete", "/{id}")])
def test_someone_elses_notification_is_404(client, customer_headers, others_note, method, path):
    response = getattr(client, method)(
        URL + path.format(id=others_note.id), headers=customer_headers
    )

    assert response.status_code == 404
    assert response.json["error"]["code"] == "NOT_FOUND"
    db.session.expire_all()
    kept = db.session.get(Notification, others_note.id)
    assert kept is not None and kept.read_at is None


def test_an_unknown_notification_is_404(client, customer_headers):
    assert client.put(f"{URL}/999/read", headers=customer_headers).status_code == 404
    assert client.delete(f"{URL}/999", headers=customer_headers).status_code == 404


@pytest.mark.parametrize("path", ["", "/unread-count"])
def test_signing_in_is_required(client, path):
    assert client.get(URL + path).status_code == 401


def test_any_signed_in_role_has_an_inbox(client, supplier, supplier_headers):
    NotificationFactory(user=supplier)
    assert client.get(f"{URL}/unread-count", headers=supplier_headers).json["data"] == {"unread": 1}


def test_the_list_is_one_query_and_a_count(client, customer, customer_headers, count_statements):
    NotificationFactory.create_batch(5, user=customer)

    with count_statements() as statements:
        response = client.get(URL, headers=customer_headers)

    assert len(response.json["data"]) == 5
    touching = [s for s in statements if "notifications" in s]
    assert len(touching) == 2
