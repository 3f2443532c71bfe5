"""Users: the list's filters, status and role changes, bulk actions, the last ADMIN."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.admin import users as admin_users
from app.auth.models import Session, User, UserRole
from app.common.models import AuditLog
from app.errors import Conflict
from tests.admin.statements import count_statements
from tests.concurrency import run_together
from tests.factories.auth import AdminProfileFactory, SupplierProfileFactory, UserFactory


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [user["id"] for user in response.json["data"]]


@pytest.fixture
def support_headers(role_user, auth_headers):
    return auth_headers(role_user(UserRole.SUPPORT_ADMIN))


def test_list_filters_by_role_status_verification_and_words(client, admin, admin_headers):
    grace = UserFactory(first_name="Grace", last_name="Muthoni", phone="254711222333")
    disabled = UserFactory(disabled=True, email="gone@example.co.ke")
    unverified = UserFactory(unverified=True)
    supplier = SupplierProfileFactory(business_name="Hub").user

    def listed(**query):
        return ids(client.get("/api/admin/users", query_string=query, headers=admin_headers))

    assert listed(role="SUPPLIER") == [supplier.id]
    assert listed(status="disabled") == [disabled.id]
    assert disabled.id not in listed(status="active")
    assert listed(verified="false") == [unverified.id]
    assert unverified.id not in listed(verified="true")
    assert listed(q="grace muthoni") == [grace.id]
    assert listed(q="222333") == [grace.id]
    assert listed(q="GONE@example") == [disabled.id]
    assert listed(q="grace nobody") == []
    assert listed(q="100%") == []  # LIKE wildcards are text here
    everyone = listed(per_page=100)
    assert len(everyone) == 5 and everyone[0] == supplier.id  # newest first


def test_list_is_paginated_and_validated(client, admin_headers):
    UserFactory.create_batch(3)
    response = client.get("/api/admin/users?per_page=2&page=2", headers=admin_headers)
    assert response.json["meta"] == {"page": 2, "per_page": 2, "total": 4, "pages": 2}
    for query in ("role=KING", "status=sleeping", "verified=maybe"):
        response = client.get(f"/api/admin/users?{query}", headers=admin_headers)
        assert response.status_code == 400, query


def test_detail_shows_profiles_and_open_sessions(client, admin_headers, auth_headers):
    supplier = SupplierProfileFactory().user
    auth_headers(supplier)
    data = client.get(f"/api/admin/users/{supplier.id}", headers=admin_headers).json["data"]
    assert data["supplier_profile"]["status"] == "APPROVED" and data["open_sessions"] == 1
    assert "password_hash" not in data and "totp_secret" not in data
    assert client.get("/api/admin/users/999999", headers=admin_headers).status_code == 404


def test_disabling_signs_the_user_out_everywhere_at_once(client, db, support_headers, auth_headers):
    customer = UserFactory()
    first, second = auth_headers(customer), auth_headers(customer)
    assert client.get("/api/auth/me", headers=first).status_code == 200
    response = client.put(
        f"/api/admin/users/{customer.id}/status",
        json={"active": False, "reason": "Chargeback fraud"},
        headers=support_headers,
    )
    assert response.status_code == 200 and response.json["data"]["is_active"] is False
    assert response.json["data"]["open_sessions"] == 0
    for headers in (first, second):
        assert client.get("/api/auth/me", headers=headers).status_code == 401
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.account_disabled"))
    assert entry.target_id == str(customer.id) and entry.request_id
    assert entry.details["before"] == {"is_active": True}
    assert entry.details["after"] == {"is_active": False}
    assert entry.details["reason"] == "Chargeback fraud" and entry.details["sessions_revoked"] == 2

    response = client.put(
        f"/api/admin/users/{customer.id}/status", json={"active": True}, headers=support_headers
    )
    assert response.json["data"]["is_active"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [({"active": False}, "reason"), ({"reason": "why"}, "active"), ({"active": "maybe"}, "active")],
)
def test_status_needs_a_reason_to_disable(client, admin_headers, body, field):
    customer = UserFactory()
    response = client.put(
        f"/api/admin/users/{customer.id}/status", json=body, headers=admin_headers
    )
    assert response.status_code == 400 and field in response.json["error"]["details"]


def test_status_refusals(client, admin, admin_headers, support_headers, role_user):
    other_admin = AdminProfileFactory().user
    finance = role_user(UserRole.FINANCE_ADMIN)
    body = {"active": False, "reason": "Leaving the company"}

    def status_of(user_id, headers):
        return client.put(f"/api/admin/users/{user_id}/status", json=body, headers=headers)

    mine = status_of(admin.id, admin_headers)
    assert mine.status_code == 403 and mine.json["error"]["code"] == "SELF_CHANGE"
    assert status_of(other_admin.id, support_headers).status_code == 403  # support: non-admins
    assert status_of(finance.id, support_headers).status_code == 403
    assert status_of(999999, admin_headers).status_code == 404
    assert status_of(finance.id, admin_headers).status_code == 200


def test_role_change_by_an_admin_is_audited(client, db, admin_headers):
    customer = UserFactory()
    response = client.put(
        f"/api/admin/users/{customer.id}/role",
        json={"role": "SUPPORT_ADMIN"},
        headers=admin_headers,
    )
    assert response.status_code == 200 and response.json["data"]["role"] == "SUPPORT_ADMIN"
    assert response.json["data"]["admin_profile"] is not None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.role_changed"))
    assert entry.details == {"before": {"role": "CUSTOMER"}, "after": {"role": "SUPPORT_ADMIN"}}


def test_role_change_refusals(client, admin, admin_headers):
    customer = UserFactory()
    path = f"/api/admin/users/{customer.id}/role"
    no_business = client.put(path, json={"role": "SUPPLIER"}, headers=admin_headers)
    assert (
        no_business.status_code == 400 and "business_name" in no_business.json["error"]["details"]
    )
    assert client.put(path, json={"role": "EMPEROR"}, headers=admin_headers).status_code == 400
    mine = client.put(
        f"/api/admin/users/{admin.id}/role", json={"role": "CUSTOMER"}, headers=admin_headers
    )
    assert mine.status_code == 403 and mine.json["error"]["code"] == "SELF_CHANGE"
    made = client.put(
        path, json={"role": "SUPPLIER", "business_name": "Kamau Phones"}, headers=admin_headers
    )
    assert made.json["data"]["supplier_profile"]["status"] == "APPROVED"


def test_the_last_active_admin_cannot_be_taken_away(db, admin):
    with pytest.raises(Conflict) as refused:
        admin_users._check_admins_remain(admin)
    assert refused.value.code == "LAST_ADMIN"
    AdminProfileFactory()
    admin_users._check_admins_remain(admin)  # another ADMIN remains


def test_bulk_reports_each_id_and_leaves_refused_ones_unchanged(client, db, admin, support_headers):
    kept, gone = UserFactory(), UserFactory(disabled=True)
    other_admin = AdminProfileFactory().user
    response = client.post(
        "/api/admin/users/bulk-action",
        json={
            "ids": [kept.id, gone.id, other_admin.id, 999999, kept.id],
            "action": "deactivate",
            "reason": "Spam accounts",
        },
        headers=support_headers,
    )
    assert response.status_code == 200
    data = response.json["data"]
    results = {result["id"]: result for result in data["results"]}
    assert [result["id"] for result in data["results"]] == [
        kept.id,
        gone.id,
        other_admin.id,
        999999,
    ]
    assert results[kept.id]["result"] == "deactivated" and results[kept.id]["ok"]
    assert results[gone.id]["result"] == "unchanged"
    assert results[other_admin.id]["error"]["code"] == "FORBIDDEN"
    assert results[999999]["error"]["code"] == "NOT_FOUND"
    assert (data["succeeded"], data["failed"]) == (2, 2)
    db.session.expire_all()
    assert db.session.get(User, kept.id).is_active is False
    assert db.session.get(User, other_admin.id).is_active is True


@pytest.mark.parametrize(
    "body",
    [
        {"ids": [], "action": "activate"},
        {"ids": [1], "action": "explode"},
        {"ids": [1], "action": "deactivate"},
        {"ids": list(range(1, 102)), "action": "activate"},
        {"ids": ["x"], "action": "activate"},
    ],
)
def test_bulk_refuses_bad_bodies(client, admin_headers, body):
    response = client.post("/api/admin/users/bulk-action", json=body, headers=admin_headers)
    assert response.status_code == 400


@pytest.mark.postgres
@pytest.mark.parametrize("change", ["role", "status"])
def test_two_admins_taking_each_other_away_at_once_leave_one(app, db, auth_headers, change):
    first, second = AdminProfileFactory().user, AdminProfileFactory().user
    # Plain ids and headers: the threads must not touch this thread's session.
    first_id, second_id = first.id, second.id
    headers = {first_id: auth_headers(first), second_id: auth_headers(second)}
    body = {"role": {"role": "CUSTOMER"}, "status": {"active": False, "reason": "Leaving"}}[change]

    def take_away(actor_id, target_id):
        def action(client):
            return client.put(
                f"/api/admin/users/{target_id}/{change}", json=body, headers=headers[actor_id]
            ).status_code

        return action

    for _ in range(3):
        statuses = run_together(
            app, [take_away(first_id, second_id), take_away(second_id, first_id)]
        )
        remaining = db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == UserRole.ADMIN, User.is_active)
        )
        db.session.rollback()
        assert remaining == 1, statuses
        assert sorted(statuses) in ([200, 409], [200, 401], [200, 403]), statuses
        # put things back for the next round
        for user_id in (first_id, second_id):
            db.session.execute(
                User.__table__.update()
                .where(User.id == user_id)
                .values(role=UserRole.ADMIN, is_active=True)
            )
            db.session.execute(
                Session.__table__.update().where(Session.user_id == user_id).values(revoked_at=None)
            )
        db.session.commit()


def test_a_page_of_users_costs_the_same_statements_for_2_or_12_users(client, admin_headers):
    def page():
        assert client.get("/api/admin/users?per_page=50", headers=admin_headers).status_code == 200

    SupplierProfileFactory()
    few = count_statements(page)
    SupplierProfileFactory.create_batch(5)
    UserFactory.create_batch(5)
    assert count_statements(page) == few
