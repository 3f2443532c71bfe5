"""Payout numbers: the first takes effect at once, a change waits for an admin; the party
is told in the app and by email at every step; every step is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.common.models import AuditLog
from app.extensions import db
from app.notifications.models import Notification, OutboxEmail
from app.payout_numbers.models import PayoutNumberRequest
from tests.factories.auth import DeliveryAgentProfileFactory, SupplierProfileFactory

CHANGE = "/api/supplier/profile/payment-phone"
CANCEL = "/api/supplier/profile/payment-phone/cancel"
AGENT_CHANGE = "/api/delivery/agent/update-mpesa"
REQUESTS = "/api/admin/payment-phone-requests"


def events(user):
    return db.session.scalars(
        select(Notification.event).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()


def emails(user):
    return db.session.scalars(
        select(OutboxEmail.subject)
        .where(OutboxEmail.to_address == user.email)
        .order_by(OutboxEmail.id)
    ).all()


def audits():
    return db.session.scalars(
        select(AuditLog.action).where(AuditLog.action.like("payout_number.%")).order_by(AuditLog.id)
    ).all()


def payout_number(profile):
    db.session.expire_all()
    return profile.mpesa_payout_number


@pytest.fixture
def newcomer(auth_headers):
    """An approved supplier without a payout number yet, and their headers."""
    profile = SupplierProfileFactory(mpesa_payout_number=None)
    return profile, auth_headers(profile.user)


@pytest.fixture
def finance(role_user, auth_headers):
    return auth_headers(role_user(UserRole.FINANCE_ADMIN))


def test_the_first_number_takes_effect_at_once(client, newcomer):
    profile, headers = newcomer

    response = client.put(CHANGE, json={"mpesa_number": "0712 345 678"}, headers=headers)

    assert response.status_code == 200, response.json
    assert response.json["data"] == {
        "outcome": "SET",
        "mpesa_payout_number": "254712345678",
        "pending_change": None,
    }
    assert payout_number(profile) == "254712345678"
    assert events(profile.user) == ["payout-number-set"]
    assert emails(profile.user) == ["Quantum Gear: payout number set"]
    assert audits() == ["payout_number.set"]
    body = db.session.scalar(select(OutboxEmail.body_text))
    assert "2547****5678" in body and "254712345678" not in body


def test_a_change_waits_for_an_admin_and_payouts_keep_the_old_number(
    client, supplier, supplier_headers, finance
):
    profile = supplier.supplier_profile
    old = profile.mpesa_payout_number

    response = client.put(
        CHANGE, json={"mpesa_number": "+254 110 000 111"}, headers=supplier_headers
    )

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert (data["outcome"], data["mpesa_payout_number"]) == ("REQUESTED", old)
    pending = data["pending_change"]
    assert (pending["party"], pending["party_id"], pending["status"]) == (
        "SUPPLIER",
        profile.id,
        "PENDING",
    )
    assert (pending["old_number"], pending["new_number"]) == (old, "254110000111")
    assert payout_number(profile) == old
    assert events(supplier) == ["payout-number-requested"]

    approved = client.post(f"{REQUESTS}/{profile.id}/approve", headers=finance)

    assert approved.status_code == 200, approved.json
    assert approved.json["data"]["status"] == "APPROVED"
    assert approved.json["data"]["decided_at"].endswith("Z")
    assert payout_number(profile) == "254110000111"
    assert events(supplier) == ["payout-number-requested", "payout-number-approved"]
    assert emails(supplier) == [
        "Quantum Gear: payout number change requested",
        "Quantum Gear: payout number change approved",
    ]
    assert audits() == ["payout_number.requested", "payout_number.approved"]
    decision = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "payout_number.approved")
    )
    assert decision.details["new_number"] == "254110000111" and decision.actor_id is not None


def test_a_rejected_change_keeps_the_old_number_and_says_why(
    client, supplier, supplier_headers, admin_headers
):
    profile = supplier.supplier_profile
    old = profile.mpesa_payout_number
    client.put(CHANGE, json={"mpesa_number": "0722000333"}, headers=supplier_headers)

    rejected = client.post(
        f"{REQUESTS}/{profile.id}/reject",
        json={"reason": "Call us from your registered phone"},
        headers=admin_headers,
    )

    assert rejected.status_code == 200, rejected.json
    assert (rejected.json["data"]["status"], rejected.json["data"]["reason"]) == (
        "REJECTED",
        "Call us from your registered phone",
    )
    assert payout_number(profile) == old
    assert events(supplier)[-1] == "payout-number-rejected"
    body = db.session.scalars(select(OutboxEmail.body_text).order_by(OutboxEmail.id)).all()[-1]
    assert "Call us from your registered phone" in body
    again = client.post(f"{REQUESTS}/{profile.id}/approve", headers=admin_headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "PAYOUT_NUMBER_REQUEST_CLOSED"
    assert again.json["error"]["details"]["status"] == "REJECTED"
    assert payout_number(profile) == old


def test_a_new_request_replaces_the_open_one(client, supplier, supplier_headers):
    client.put(CHANGE, json={"mpesa_number": "0722000333"}, headers=supplier_headers)
    same = client.put(CHANGE, json={"mpesa_number": "254722000333"}, headers=supplier_headers)
    assert same.json["data"]["outcome"] == "UNCHANGED"

    newer = client.put(CHANGE, json={"mpesa_number": "0722000444"}, headers=supplier_headers)

    assert newer.json["data"]["pending_change"]["new_number"] == "254722000444"
    statuses = db.session.execute(
        select(PayoutNumberRequest.new_number, PayoutNumberRequest.status).order_by(
            PayoutNumberRequest.id
        )
    ).all()
    assert [(number, status.value) for number, status in statuses] == [
        ("254722000333", "SUPERSEDED"),
        ("254722000444", "PENDING"),
    ]
    assert events(supplier) == ["payout-number-requested"] * 2  # UNCHANGED told nothing
    assert (
        "replaces your earlier request"
        in db.session.scalars(select(OutboxEmail.body_text).order_by(OutboxEmail.id)).all()[-1]
    )


def test_withdrawing_a_request(client, supplier, supplier_headers, admin_headers):
    profile = supplier.supplier_profile
    assert client.post(CANCEL, headers=supplier_headers).status_code == 404
    client.put(CHANGE, json={"mpesa_number": "0722000333"}, headers=supplier_headers)

    response = client.post(CANCEL, headers=supplier_headers)

    assert response.status_code == 200
    assert response.json["data"]["outcome"] == "CANCELLED"
    assert response.json["data"]["pending_change"] is None
    assert events(supplier)[-1] == "payout-number-cancelled"
    assert client.post(CANCEL, headers=supplier_headers).status_code == 404
    late = client.post(f"{REQUESTS}/{profile.id}/approve", headers=admin_headers)
    assert late.status_code == 409
    assert audits() == ["payout_number.requested", "payout_number.cancelled"]


@pytest.mark.parametrize(
    "number", ["0812345678", "12345", "2547123456789", "+1 202 555 0100", "", None, 712345678]
)
def test_a_number_that_is_not_kenyan_is_refused(client, supplier, supplier_headers, number):
    response = client.put(CHANGE, json={"mpesa_number": number}, headers=supplier_headers)

    assert response.status_code == 400
    assert "mpesa_number" in response.json["error"]["details"]
    assert db.session.scalar(select(PayoutNumberRequest.id)) is None


def test_the_current_number_is_not_a_change(client, supplier, supplier_headers):
    current = supplier.supplier_profile.mpesa_payout_number

    response = client.put(CHANGE, json={"mpesa_number": current}, headers=supplier_headers)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "PAYOUT_NUMBER_UNCHANGED"
    assert events(supplier) == []


def test_the_seed_path_takes_only_the_callers_own_supplier_id(client, supplier, supplier_headers):
    other = SupplierProfileFactory()
    own = f"/api/payments/supplier/{supplier.supplier_profile.id}/update-mpesa"

    mine = client.put(own, json={"mpesa_number": "0733000999"}, headers=supplier_headers)
    theirs = client.put(
        f"/api/payments/supplier/{other.id}/update-mpesa",
        json={"mpesa_number": "0733000999"},
        headers=supplier_headers,
    )

    assert mine.status_code == 200 and mine.json["data"]["outcome"] == "REQUESTED"
    assert theirs.status_code == 404
    assert payout_number(other) != "254733000999"
    assert db.session.scalar(select(PayoutNumberRequest.party_id)) == supplier.supplier_profile.id


def test_a_delivery_agent_sets_then_changes_their_number(client, auth_headers, finance):
    agent = DeliveryAgentProfileFactory(mpesa_payout_number=None)
    headers = auth_headers(agent.user)

    first = client.put(AGENT_CHANGE, json={"mpesa_number": "0744000111"}, headers=headers)
    assert first.json["data"]["outcome"] == "SET"
    change = client.put(AGENT_CHANGE, json={"mpesa_number": "0744000222"}, headers=headers)
    assert change.json["data"]["outcome"] == "REQUESTED"
    assert change.json["data"]["pending_change"]["party"] == "AGENT"
    assert change.json["data"]["pending_change"]["party_id"] == agent.user_id
    assert payout_number(agent) == "254744000111"

    listed = client.get(f"{REQUESTS}?party=AGENT", headers=finance).json["data"]
    assert [(row["party"], row["party_id"], row["party_name"]) for row in listed] == [
        ("AGENT", agent.user_id, agent.user.full_name)
    ]
    approved = client.post(f"{REQUESTS}/agent/{agent.user_id}/approve", headers=finance)
    assert approved.status_code == 200, approved.json
    assert payout_number(agent) == "254744000222"
    assert events(agent.user) == [
        "payout-number-set",
        "payout-number-requested",
        "payout-number-approved",
    ]

    client.put(AGENT_CHANGE, json={"mpesa_number": "0744000333"}, headers=headers)
    assert client.post(f"{AGENT_CHANGE}/cancel", headers=headers).status_code == 200
    client.put(AGENT_CHANGE, json={"mpesa_number": "0744000444"}, headers=headers)
    rejected = client.post(f"{REQUESTS}/agent/{agent.user_id}/reject", json={}, headers=finance)
    assert rejected.json["data"]["status"] == "REJECTED"
    assert payout_number(agent) == "254744000222"


def test_an_agent_path_is_for_delivery_agents_with_a_profile(
    client, auth_headers, supplier_headers, role_user
):
    bare = role_user(UserRole.DELIVERY_AGENT)  # no agent profile
    body = {"mpesa_number": "0744000111"}

    assert client.put(AGENT_CHANGE, json=body, headers=supplier_headers).status_code == 403
    assert client.put(AGENT_CHANGE, json=body, headers=auth_headers(bare)).status_code == 404


def test_admins_list_requests_naming_each_party(
    client, supplier, supplier_headers, auth_headers, finance
):
    agent = DeliveryAgentProfileFactory()
    client.put(CHANGE, json={"mpesa_number": "0722000333"}, headers=supplier_headers)
    client.put(AGENT_CHANGE, json={"mpesa_number": "0744000555"}, headers=auth_headers(agent.user))
    quiet = SupplierProfileFactory()
    client.put(CHANGE, json={"mpesa_number": "0722000999"}, headers=auth_headers(quiet.user))
    client.post(CANCEL, headers=auth_headers(quiet.user))

    response = client.get(REQUESTS, headers=finance)

    assert response.status_code == 200, response.json
    rows = [(row["party"], row["party_name"], row["email"]) for row in response.json["data"]]
    assert rows == [
        ("AGENT", agent.user.full_name, agent.user.email),
        ("SUPPLIER", supplier.supplier_profile.business_name, supplier.email),
    ]
    assert response.json["meta"]["total"] == 2
    cancelled = client.get(f"{REQUESTS}?status=CANCELLED", headers=finance).json["data"]
    assert [row["party_name"] for row in cancelled] == [quiet.business_name]
    only = client.get(f"{REQUESTS}?party=SUPPLIER&per_page=1", headers=finance).json
    assert [row["party"] for row in only["data"]] == ["SUPPLIER"]
    assert client.get(f"{REQUESTS}?status=LOST", headers=finance).status_code == 400


@pytest.mark.parametrize(
    "role", [UserRole.PRODUCT_MANAGER, UserRole.SUPPORT_ADMIN, UserRole.SUPPLIER, UserRole.CUSTOMER]
)
def test_only_admins_and_finance_admins_decide(
    client, supplier, supplier_headers, role_user, auth_headers, role
):
    profile = supplier.supplier_profile
    client.put(CHANGE, json={"mpesa_number": "0722000333"}, headers=supplier_headers)
    headers = auth_headers(role_user(role))

    assert client.get(REQUESTS, headers=headers).status_code == 403
    assert client.post(f"{REQUESTS}/{profile.id}/approve", headers=headers).status_code == 403
    assert client.post(f"{REQUESTS}/{profile.id}/reject", headers=headers).status_code == 403
    assert payout_number(profile) != "254722000333"


def test_deciding_what_was_never_asked_is_not_found(client, supplier, admin_headers):
    profile = supplier.supplier_profile
    assert client.post(f"{REQUESTS}/{profile.id}/approve", headers=admin_headers).status_code == 404
    assert client.post(f"{REQUESTS}/999999/approve", headers=admin_headers).status_code == 404
    assert client.post(f"{REQUESTS}/agent/999999/reject", headers=admin_headers).status_code == 404
    long_reason = {"reason": "x" * 501}
    response = client.post(
        f"{REQUESTS}/{profile.id}/reject", json=long_reason, headers=admin_headers
    )
    assert response.status_code == 400


def test_payout_number_changes_need_a_verified_approved_supplier(client, auth_headers):
    pending = SupplierProfileFactory(pending=True)

    response = client.put(
        CHANGE, json={"mpesa_number": "0722000333"}, headers=auth_headers(pending.user)
    )

    assert response.status_code == 403
    assert client.put(CHANGE, json={"mpesa_number": "0722000333"}).status_code == 401
