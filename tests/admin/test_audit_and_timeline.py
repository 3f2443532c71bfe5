"""Audit logs (filters, pages, the CSV) and the activity timeline."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from app.auth.models import UserRole
from app.common.audit import record_audit
from app.common.models import AuditLog
from app.db import utcnow
from app.orders.state import record_history
from tests.factories.auth import UserFactory
from tests.factories.orders import OrderFactory


@pytest.fixture
def entries(db, admin):
    """Three audit entries: two by the admin, one old one by the system."""
    customer = UserFactory()
    first = record_audit("auth.account_disabled", customer, actor_id=admin.id)
    second = record_audit(
        "settings.updated",
        target_type="Setting",
        target_id="=HYPERLINK(1)",
        actor_id=admin.id,
        details={"before": 5, "after": 3},
    )
    old = record_audit("job.ran", actor_id=None)
    old.created_at = utcnow() - timedelta(days=10)
    db.session.commit()
    return {"disabled": first.id, "setting": second.id, "old": old.id, "customer": customer.id}


def audit_ids(client, headers, **query):
    response = client.get("/api/admin/audit-logs", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return [entry["id"] for entry in response.json["data"]]


def test_filters(client, admin, role_user, auth_headers, entries):
    headers = auth_headers(role_user(UserRole.SUPPORT_ADMIN))
    everything = audit_ids(client, headers)
    assert everything[:2] == [entries["setting"], entries["disabled"]]  # newest first
    assert audit_ids(client, headers, actor_id=admin.id) == [
        entries["setting"],
        entries["disabled"],
    ]
    assert audit_ids(client, headers, action="job.ran") == [entries["old"]]
    assert audit_ids(client, headers, object_type="User", object_id=str(entries["customer"])) == [
        entries["disabled"]
    ]
    since = (utcnow() - timedelta(days=1)).isoformat()
    assert entries["old"] not in audit_ids(client, headers, **{"from": since})
    until = (utcnow() - timedelta(days=5)).isoformat()
    assert audit_ids(client, headers, to=until) == [entries["old"]]
    page = client.get("/api/admin/audit-logs?per_page=1&page=2", headers=headers).json
    assert page["meta"]["per_page"] == 1 and page["meta"]["total"] >= 3
    entry = client.get(
        "/api/admin/audit-logs", query_string={"action": "settings.updated"}, headers=headers
    ).json["data"][0]
    assert entry["object_type"] == "Setting" and entry["details"] == {"before": 5, "after": 3}


@pytest.mark.parametrize(
    "query",
    [
        "actor_id=abc",
        "from=yesterday",
        "format=pdf",
        "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
    ],
)
def test_bad_queries_are_400(client, admin_headers, query):
    assert client.get(f"/api/admin/audit-logs?{query}", headers=admin_headers).status_code == 400


def test_csv_streams_every_matching_entry_safely(client, admin_headers, entries):
    response = client.get("/api/admin/audit-logs?format=csv&actor_id=1", headers=admin_headers)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "id",
        "created_at",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "details",
        "ip_address",
        "request_id",
    ]
    by_action = {row[3]: row for row in rows[1:]}
    assert by_action["settings.updated"][5] == "'=HYPERLINK(1)"
    assert by_action["settings.updated"][1].endswith("Z")


def test_admin_writes_leave_an_entry_with_the_request_id(client, db, admin_headers):
    response = client.post(
        "/api/admin/brands",
        json={"name": "Anker"},
        headers={**admin_headers, "X-Request-ID": "req-42"},
    )
    assert response.status_code == 201
    entry = db.session.query(AuditLog).filter_by(action="brand.saved").one()
    assert entry.request_id == "req-42" and entry.details["after"]["name"] == "Anker"
    assert entry.target_id == str(response.json["data"]["id"])


def test_timeline_merges_audit_entries_and_order_changes(
    client, db, admin, role_user, auth_headers, entries
):
    order = OrderFactory()
    record_history(order, "status", "PENDING", "CANCELLED", actor_id=admin.id, note="Test")
    db.session.commit()
    headers = auth_headers(role_user(UserRole.PRODUCT_MANAGER))  # every admin reads it
    response = client.get("/api/admin/activity-timeline?per_page=3", headers=headers)
    assert response.status_code == 200, response.json
    events = response.json["data"]
    assert response.json["meta"]["total"] >= 4
    newest = events[0]
    assert newest["kind"] == "order" and newest["order_number"] == order.order_number
    assert (newest["from_status"], newest["to_status"]) == ("PENDING", "CANCELLED")
    assert newest["action"] == "order.status" and newest["object_id"] == str(order.id)
    assert [event["kind"] for event in events[1:]] == ["audit", "audit"]
    assert events[1]["id"] == entries["setting"]
    times = [event["created_at"] for event in events]
    assert times == sorted(times, reverse=True)


def test_timeline_pages_walk_every_event_once_newest_first(client, db, admin, admin_headers):
    """Each source gives only what the page needs: every page still merges right."""
    now = utcnow()
    order = OrderFactory()
    expected = []
    for minutes in range(7):
        moment = now - timedelta(minutes=minutes * 10)
        entry = record_audit("job.ran", actor_id=None)
        entry.created_at = moment - timedelta(minutes=5 if minutes % 2 else 0)
        record_history(order, "status", "PENDING", "PAID", actor_id=admin.id)
        change = order.history[-1]
        change.created_at = moment - timedelta(minutes=3)
        db.session.flush()
        expected += [("audit", entry.id, entry.created_at), ("order", change.id, change.created_at)]
    db.session.commit()
    events = []
    for page in range(1, 20):
        response = client.get(
            f"/api/admin/activity-timeline?per_page=3&page={page}", headers=admin_headers
        )
        assert response.status_code == 200, response.json
        if not response.json["data"]:
            break
        events += [(e["kind"], e["id"]) for e in response.json["data"]]

    total = response.json["meta"]["total"]
    assert total == db.session.query(AuditLog).count() + len(order.history)
    ours = {(kind, id_) for kind, id_, _ in expected}
    newest_first = [key for key in events if key in ours]
    assert newest_first == [
        (kind, id_) for kind, id_, _ in sorted(expected, key=lambda e: e[2], reverse=True)
    ]
    assert len(events) == len(set(events)) == total
