"""Payout number decisions under concurrency (PostgreSQL: real threads, each with its own
connection): two admins deciding one request at once make one decision."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import UserRole
from app.common.models import AuditLog
from app.extensions import db
from app.notifications.models import Notification
from app.payout_numbers.models import PayoutNumberRequest
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres


def deciding(path, headers):
    def action(client):
        response = client.post(path, json={}, headers=headers)
        return response.status_code, response.json.get("error", {}).get("code")

    return action


@pytest.mark.parametrize("second", ["approve", "reject"])
def test_two_admins_deciding_one_request_make_one_decision(
    app, client, supplier, supplier_headers, role_user, auth_headers, second
):
    profile = supplier.supplier_profile
    old = profile.mpesa_payout_number
    client.put(
        "/api/supplier/profile/payment-phone",
        json={"mpesa_number": "0722000333"},
        headers=supplier_headers,
    )
    admin = auth_headers(role_user(UserRole.ADMIN))
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    base = f"/api/admin/payment-phone-requests/{profile.id}"

    results = run_together(
        app, [deciding(f"{base}/approve", admin), deciding(f"{base}/{second}", finance)]
    )

    assert sorted(results, key=lambda r: r[0]) == [
        (200, None),
        (409, "PAYOUT_NUMBER_REQUEST_CLOSED"),
    ]
    db.session.expire_all()
    request = db.session.scalar(select(PayoutNumberRequest))
    decisions = db.session.scalar(
        select(func.count()).where(
            AuditLog.action.in_(("payout_number.approved", "payout_number.rejected"))
        )
    )
    told = db.session.scalar(
        select(func.count()).where(
            Notification.user_id == supplier.id,
            Notification.event.in_(("payout-number-approved", "payout-number-rejected")),
        )
    )
    assert (decisions, told) == (1, 1)
    db.session.refresh(profile)
    expected = "254722000333" if request.status == "APPROVED" else old
    assert profile.mpesa_payout_number == expected


def test_two_requests_of_one_supplier_at_once_leave_one_pending(app, supplier, supplier_headers):
    def asking(number):
        def action(client):
            response = client.put(
                "/api/supplier/profile/payment-phone",
                json={"mpesa_number": number},
                headers=supplier_headers,
            )
            return response.status_code

        return action

    results = run_together(app, [asking("0722000333"), asking("0722000444")])

    assert results == [200, 200]
    pending = db.session.scalar(select(func.count()).where(PayoutNumberRequest.status == "PENDING"))
    assert pending == 1
