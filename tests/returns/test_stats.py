"""Return statistics and analytics: exact figures, scoped to who asks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.auth.models import UserRole
from app.db import utcnow
from app.extensions import db
from app.returns.models import ReturnReason
from app.returns.operations import respond, review
from app.signals import supplier_returns_asked
from tests.factories.returns import delivered_order, request_return


def test_stats_and_analytics_count_exactly(
    client, customer, shop, supplier, supplier_headers, admin_as, role_user, auth_headers
):
    order = delivered_order(customer, [(shop["phone"], 2), (shop["laptop"], 1)])
    approved = request_return(order, reason=ReturnReason.CHANGED_MIND)
    rejected = request_return(order, item=order.items[1])
    cancelled_later = request_return(order, reason=ReturnReason.WRONG_ITEM)
    respond(supplier, approved.id, {"decision": "ACCEPT"})
    review(role_user(UserRole.ADMIN), rejected.id, "REJECT", "Not eligible")
    db.session.commit()
    assert cancelled_later.status == "REQUESTED"

    admin = admin_as(UserRole.FINANCE_ADMIN)
    everything = client.get("/api/returns/stats", headers=admin).json["data"]
    assert everything["total"] == 3
    assert everything["by_status"]["APPROVED"] == 1
    assert everything["by_status"]["REJECTED"] == 1
    assert everything["by_status"]["REQUESTED"] == 1
    assert everything["by_reason"] == {"CHANGED_MIND": 1, "WRONG_ITEM": 2}
    assert everything["units_returned"] == 1
    assert everything["supplier_deductions"] == "1349.99"
    assert everything["restocking_fees"] == "150.00"
    assert everything["refunded_amount"] == "0.00"  # nothing refunded yet
    assert everything["supplier_response_rate"] == round(1 / 3, 4)
    assert everything["median_hours_to_decision"] is not None

    own = client.get("/api/supplier/returns/stats", headers=supplier_headers).json["data"]
    assert own["total"] == 2 and own["by_status"]["REJECTED"] == 0
    assert client.get("/api/returns/stats", headers=supplier_headers).json["data"] == own
    assert client.get("/api/returns/stats", headers=auth_headers(customer)).status_code == 403

    analytics = client.get("/api/admin/returns/analytics", headers=admin).json["data"]
    by_product = analytics["return_rates"]["by_product"]
    assert by_product == [
        {
            "id": shop["phone"].id,
            "name": shop["phone"].name,
            "units_returned": 1,
            "units_delivered": 2,
            "return_rate": "0.5000",
        }
    ]
    assert analytics["return_rates"]["by_supplier"][0]["id"] == supplier.supplier_profile.id
    assert analytics["return_rates"]["by_category"][0]["units_delivered"] == 2

    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    empty = client.get(
        "/api/admin/returns/analytics", query_string={"from": tomorrow}, headers=admin
    ).json["data"]
    assert empty["total"] == 0 and empty["return_rates"]["by_product"] == []
    backwards = client.get(
        "/api/returns/stats",
        query_string={"from": tomorrow, "to": "2026-01-01T00:00:00Z"},
        headers=admin,
    )
    assert backwards.status_code == 400


def test_the_supplier_dashboard_asks_returns_how_many(customer, shop, supplier):
    order = delivered_order(customer, [(shop["phone"], 2)])
    ret = request_return(order, quantity=2)
    respond(supplier, ret.id, {"decision": "ACCEPT"})
    db.session.commit()
    now = utcnow()
    answers = supplier_returns_asked.send(
        supplier.supplier_profile.id, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )
    assert [answer for _, answer in answers] == [{"count": 1, "items_returned": 2}]
    assert ret.refund_amount == Decimal("3249.98")  # the whole order: the delivery fee too
