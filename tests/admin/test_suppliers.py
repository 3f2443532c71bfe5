"""Merchant applications: PENDING at sign-up, decisions (emailed), suspension hiding the
products, commission for future orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth.models import SupplierProfile, SupplierStatus, UserRole
from app.common.models import AuditLog
from app.notifications.models import Notification, OutboxEmail
from app.notifications.operations import notify_admins
from app.orders import checkout
from tests.admin.statements import count_statements
from tests.factories.auth import SupplierProfileFactory, UserFactory
from tests.factories.catalog import CategoryFactory, ProductFactory


@pytest.fixture
def staff(role_user, auth_headers):
    """{role: headers} for an admin of each sub-role."""
    return {
        role: auth_headers(role_user(role))
        for role in (
            UserRole.ADMIN,
            UserRole.SUPPORT_ADMIN,
            UserRole.FINANCE_ADMIN,
            UserRole.PRODUCT_MANAGER,
        )
    }


def register_supplier(client, email="newshop@example.co.ke"):
    response = client.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": "Str0ngPassw0rd!",
            "first_name": "Njeri",
            "last_name": "Kamau",
            "role": "SUPPLIER",
            "business_name": "Njeri Gadgets",
        },
    )
    assert response.status_code == 201, response.json
    return response.json["data"]["user"]


def test_a_registering_supplier_is_pending_and_the_admins_feed_shows_it(client, db, staff):
    user = register_supplier(client)
    assert user["supplier_profile"]["status"] == "PENDING"
    assert user["supplier_profile"]["is_approved"] is False
    for role, headers in staff.items():
        feed = client.get("/api/admin/notifications", headers=headers)
        if role == UserRole.PRODUCT_MANAGER:
            assert feed.status_code == 200 and feed.json["data"] == []
            continue
        events = [n["event"] for n in feed.json["data"]]
        expected = ["supplier-application"] if role != UserRole.FINANCE_ADMIN else []
        assert events == expected, role
    note = client.get("/api/admin/notifications", headers=staff[UserRole.ADMIN]).json["data"][0]
    assert "Njeri Gadgets" in note["body"] and note["link"].startswith("/admin/suppliers/")
    read = client.put(f"/api/admin/notifications/{note['id']}/read", headers=staff[UserRole.ADMIN])
    assert read.status_code == 200 and read.json["data"]["read"] is True
    others = client.put(
        f"/api/admin/notifications/{note['id']}/read", headers=staff[UserRole.SUPPORT_ADMIN]
    )
    assert others.status_code == 404


def test_notify_admins_reaches_the_active_admins_of_the_roles(db, role_user):
    admin, finance = role_user(UserRole.ADMIN), role_user(UserRole.FINANCE_ADMIN)
    role_user(UserRole.SUPPORT_ADMIN)
    role_user(UserRole.ADMIN, user__is_active=False)
    told = notify_admins(
        "payout-failed", roles=(UserRole.FINANCE_ADMIN,), title="Payout failed", body="B2C failed"
    )
    db.session.commit()
    assert told == 2
    assert sorted(db.session.scalars(select(Notification.user_id))) == sorted(
        [admin.id, finance.id]
    )


def test_notify_admins_tells_them_all_in_one_insert(db, role_user):
    for role in (UserRole.ADMIN, UserRole.ADMIN, UserRole.SUPPORT_ADMIN):
        role_user(role)
    statements = count_statements(
        lambda: notify_admins(
            "dispute", roles=(UserRole.SUPPORT_ADMIN,), title="Disputed", body="Order 1"
        )
    )
    assert statements == 2  # the admins, then their notifications
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 3


def test_list_filters_by_status_and_words(client, staff):
    pending = SupplierProfileFactory(pending=True, business_name="Pending Phones")
    approved = SupplierProfileFactory(business_name="Approved Audio")
    suspended = SupplierProfileFactory(suspended=True)

    def listed(**query):
        response = client.get(
            "/api/admin/suppliers", query_string=query, headers=staff[UserRole.FINANCE_ADMIN]
        )
        assert response.status_code == 200, response.json
        return [supplier["id"] for supplier in response.json["data"]]

    assert listed(status="PENDING") == [pending.id]
    assert listed(status="SUSPENDED") == [suspended.id]
    assert listed(status="REJECTED") == []
    assert listed(q="audio") == [approved.id]
    assert listed(q=pending.user.email) == [pending.id]
    assert set(listed()) == {pending.id, approved.id, suspended.id}
    bad = client.get("/api/admin/suppliers?status=MAYBE", headers=staff[UserRole.ADMIN])
    assert bad.status_code == 400


def test_approval_is_emailed_audited_and_lets_the_supplier_sell(client, db, staff, auth_headers):
    profile = SupplierProfileFactory(pending=True)
    supplier_headers = auth_headers(profile.user)
    response = client.put(
        f"/api/admin/suppliers/{profile.id}/approve", headers=staff[UserRole.SUPPORT_ADMIN]
    )
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert (data["status"], data["is_approved"]) == ("APPROVED", True) and data["approved_at"]
    email = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.template == "supplier_decision")
    )
    assert email.to_address == profile.user.email and "approved" in email.body_text
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "supplier.approved"))
    assert entry.details["before"] == {"status": "PENDING"}
    assert entry.details["after"] == {"status": "APPROVED"}
    assert client.get("/api/supplier/balances", headers=supplier_headers).status_code == 200
    again = client.put(f"/api/admin/suppliers/{profile.id}/approve", headers=staff[UserRole.ADMIN])
    assert again.status_code == 409 and again.json["error"]["code"] == "INVALID_TRANSITION"


def test_rejection_needs_a_reason_and_is_told_to_the_applicant(client, db, staff):
    profile = SupplierProfileFactory(pending=True)
    path = f"/api/admin/suppliers/{profile.id}/reject"
    assert client.put(path, json={}, headers=staff[UserRole.ADMIN]).status_code == 400
    response = client.put(path, json={"reason": "No KRA PIN"}, headers=staff[UserRole.ADMIN])
    assert response.json["data"]["status"] == "REJECTED"
    assert response.json["data"]["status_reason"] == "No KRA PIN"
    email = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.template == "supplier_decision")
    )
    assert "No KRA PIN" in email.body_text
    note = db.session.scalar(select(Notification).where(Notification.user_id == profile.user_id))
    assert note.event == "supplier-rejected"
    # a rejected application cannot be suspended; it can be reconsidered
    suspend = client.put(
        f"/api/admin/suppliers/{profile.id}/suspend",
        json={"reason": "Fraud"},
        headers=staff[UserRole.ADMIN],
    )
    assert suspend.status_code == 409
    assert (
        client.put(path, json={"reason": "Again"}, headers=staff[UserRole.ADMIN]).status_code == 409
    )


def test_suspension_hides_the_products_until_reinstated(client, db, staff):
    product = ProductFactory(name="Tecno Camon 30")
    supplier_id = product.supplier_id
    assert client.get(f"/api/products/{product.id}").status_code == 200
    response = client.put(
        f"/api/admin/suppliers/{supplier_id}/suspend",
        json={"reason": "Counterfeit stock"},
        headers=staff[UserRole.SUPPORT_ADMIN],
    )
    assert response.json["data"]["status"] == "SUSPENDED"
    assert response.json["data"]["is_approved"] is False
    assert client.get(f"/api/products/{product.id}").status_code == 404
    assert client.get("/api/products").json["data"] == []
    client.put(f"/api/admin/suppliers/{supplier_id}/approve", headers=staff[UserRole.ADMIN])
    assert client.get(f"/api/products/{product.id}").status_code == 200


def test_unknown_supplier_is_404(client, staff):
    response = client.put("/api/admin/suppliers/999999/approve", headers=staff[UserRole.ADMIN])
    assert response.status_code == 404


@pytest.mark.parametrize("rate", ["0.6", "-0.01", "abc", "", None])
def test_commission_is_a_rate_up_to_one_half(client, staff, rate):
    profile = SupplierProfileFactory()
    response = client.put(
        f"/api/admin/suppliers/{profile.id}/commission",
        json={"commission_rate": rate},
        headers=staff[UserRole.FINANCE_ADMIN],
    )
    assert response.status_code == 400
    assert "commission_rate" in response.json["error"]["details"]


def test_commission_applies_to_orders_placed_from_now_on(client, db, staff, app):
    category = CategoryFactory(commission_rate=Decimal("0.1000"))
    product = ProductFactory(category=category)
    own_rate = ProductFactory(category=category, supplier=product.supplier)
    own_rate.commission_rate = Decimal("0.0300")
    db.session.commit()
    assert checkout._read_products([product.id])[product.id].effective_commission_rate == Decimal(
        "0.1000"
    )
    response = client.put(
        f"/api/admin/suppliers/{product.supplier_id}/commission",
        json={"commission_rate": "0.08"},
        headers=staff[UserRole.FINANCE_ADMIN],
    )
    assert response.status_code == 200 and response.json["data"]["commission_rate"] == "0.0800"
    read = checkout._read_products([product.id, own_rate.id])
    assert read[product.id].effective_commission_rate == Decimal("0.0800")
    assert read[own_rate.id].effective_commission_rate == Decimal("0.0300")  # its own first
    db.session.expire_all()
    assert db.session.get(type(product), product.id).effective_commission_rate == Decimal("0.0800")
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "supplier.commission_changed")
    )
    assert entry.details == {
        "before": {"commission_rate": None},
        "after": {"commission_rate": "0.0800"},
    }


def test_only_one_function_writes_status_and_the_flag(db):
    profile = SupplierProfileFactory()
    profile.status = SupplierStatus.SUSPENDED  # the flag left behind: the database refuses
    with pytest.raises(Exception, match="approved_iff_status_approved"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(SupplierProfile, profile.id).is_approved is True


def test_customer_registration_notifies_no_admin(client, db, staff):
    UserFactory()
    client.post(
        "/api/auth/register",
        json={
            "email": "shopper@example.co.ke",
            "password": "Str0ngPassw0rd!",
            "first_name": "A",
            "last_name": "B",
        },
    )
    told = select(Notification.id).where(Notification.event == "supplier-application")
    assert db.session.scalar(told) is None
