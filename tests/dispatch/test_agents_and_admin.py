"""Agents' profiles and zones, zone requests, companies, dashboards and figures."""

from __future__ import annotations

from datetime import timedelta

from app.db import utcnow
from app.extensions import db
from tests.admin.statements import count_statements
from tests.dispatch.helpers import assigned_order, delivered_order
from tests.factories.auth import DeliveryAgentProfileFactory
from tests.factories.dispatch import DeliveryCompanyFactory, agent_serving, ready_order
from tests.factories.orders import DeliveryZoneFactory


def test_an_agent_keeps_their_profile_and_sees_the_zones(client, auth_headers):
    served, other = DeliveryZoneFactory(name="Westlands"), DeliveryZoneFactory(name="Karen")
    DeliveryZoneFactory(name="Closed", is_active=False)
    agent = agent_serving(served)
    headers = auth_headers(agent)

    updated = client.put(
        "/api/delivery/profile",
        json={"vehicle_type": "Van", "is_available": False},
        headers=headers,
    )
    assert updated.status_code == 200, updated.json
    profile = client.get("/api/delivery/profile", headers=headers).json["data"]
    assert profile["vehicle_type"] == "Van" and profile["is_available"] is False
    assert (
        client.put(
            "/api/delivery/profile", json={"is_available": "soon"}, headers=headers
        ).status_code
        == 400
    )
    zones = client.get("/api/delivery/zones", headers=headers).json["data"]
    assert [(z["zone"]["name"], z["serving"]) for z in zones] == [
        ("Karen", False),
        ("Westlands", True),
    ]
    assert other.id


def test_zone_requests_are_asked_cancelled_and_decided(client, admin_headers, auth_headers):
    served, wanted, also = DeliveryZoneFactory(), DeliveryZoneFactory(), DeliveryZoneFactory()
    agent = agent_serving(served)
    headers = auth_headers(agent)

    assert (
        client.post(
            "/api/delivery/zone-requests", json={"zone_id": served.id}, headers=headers
        ).json["error"]["code"]
        == "ALREADY_SERVING"
    )
    unknown = client.post("/api/delivery/zone-requests", json={"zone_id": 9999}, headers=headers)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "UNKNOWN_ZONE"
    asked = client.post(
        "/api/delivery/zone-requests",
        json={"zone_id": wanted.id, "note": "I live there"},
        headers=headers,
    )
    assert asked.status_code == 201, asked.json
    twice = client.post("/api/delivery/zone-requests", json={"zone_id": wanted.id}, headers=headers)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "REQUEST_PENDING"
    other = client.post(
        "/api/delivery/zone-requests", json={"zone_id": also.id}, headers=headers
    ).json["data"]
    cancelled = client.post(f"/api/delivery/zone-requests/{other['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["data"]["status"] == "CANCELLED"

    pending = client.get(
        "/api/delivery/admin/zone-requests?status=PENDING", headers=admin_headers
    ).json
    assert [r["id"] for r in pending["data"]] == [asked.json["data"]["id"]]
    approved = client.post(
        f"/api/delivery/admin/zone-requests/{asked.json['data']['id']}/approve",
        json={},
        headers=admin_headers,
    )
    assert approved.status_code == 200 and approved.json["data"]["status"] == "APPROVED"
    rejected_late = client.post(
        f"/api/delivery/admin/zone-requests/{other['id']}/reject", json={}, headers=admin_headers
    )
    assert rejected_late.status_code == 409
    zones = client.get("/api/delivery/zones", headers=headers).json["data"]
    assert {z["zone"]["id"] for z in zones if z["serving"]} == {served.id, wanted.id}
    mine = client.get("/api/delivery/zone-requests", headers=headers).json["data"]
    assert len(mine) == 2


def test_admins_set_an_agents_zones(client, admin_headers, customer):
    a, b, c = DeliveryZoneFactory(), DeliveryZoneFactory(), DeliveryZoneFactory()
    agent = agent_serving(a, b)

    response = client.put(
        f"/api/delivery/admin/agents/{agent.id}/zones",
        json={"zone_ids": [b.id, c.id]},
        headers=admin_headers,
    )

    assert response.status_code == 200, response.json
    assert response.json["data"] == {"agent_id": agent.id, "zone_ids": sorted([b.id, c.id])}
    bad = client.put(
        f"/api/delivery/admin/agents/{agent.id}/zones",
        json={"zone_ids": [c.id, 777]},
        headers=admin_headers,
    )
    assert bad.status_code == 404 and bad.json["error"]["details"] == {"zone_ids": [777]}
    not_agent = client.put(
        f"/api/delivery/admin/agents/{customer.id}/zones",
        json={"zone_ids": [a.id]},
        headers=admin_headers,
    )
    assert not_agent.status_code == 404 and not_agent.json["error"]["code"] == "UNKNOWN_AGENT"


def test_companies_are_added_and_updated(client, admin_headers):
    created = client.post(
        "/api/delivery/admin/companies",
        json={"name": "Sendy", "contact_phone": "0712345678", "fee_share_rate": "0.65"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["data"]["contact_phone"] == "254712345678"
    assert created.json["data"]["fee_share_rate"] == "0.6500"
    dup = client.post(
        "/api/delivery/admin/companies", json={"name": "sendy"}, headers=admin_headers
    )
    assert dup.status_code == 409 and dup.json["error"]["code"] == "COMPANY_EXISTS"
    bad = client.post(
        "/api/delivery/admin/companies",
        json={"name": "X", "fee_share_rate": "2"},
        headers=admin_headers,
    )
    assert bad.status_code == 400
    company_id = created.json["data"]["id"]
    updated = client.put(
        f"/api/delivery/admin/companies/{company_id}",
        json={"is_active": False},
        headers=admin_headers,
    )
    assert updated.status_code == 200 and updated.json["data"]["is_active"] is False
    listed = client.get("/api/delivery/admin/companies", headers=admin_headers).json["data"]
    assert [c["name"] for c in listed] == ["Sendy"]
    assert (
        client.put("/api/delivery/admin/companies/999", json={}, headers=admin_headers).status_code
        == 404
    )


def test_dashboards_and_figures(client, admin_headers, auth_headers):
    order, agent = delivered_order(client, admin_headers, auth_headers)
    live, _ = assigned_order(client, admin_headers, agent=agent)
    waiting = ready_order(DeliveryZoneFactory())
    waiting.paid_at = utcnow() - timedelta(days=3)  # 1 day expected: late
    db.session.commit()
    DeliveryAgentProfileFactory()  # an agent with nothing yet
    DeliveryCompanyFactory()

    board = client.get("/api/delivery/dashboard", headers=auth_headers(agent)).json["data"]
    assert board["live_deliveries"] == 1 and board["delivered_total"] == 1
    assert board["delivered_today"] == 1 and board["cash_held"] == "0.00"

    admin = client.get("/api/delivery/admin/dashboard", headers=admin_headers).json["data"]
    assert admin["unassigned"] == 1 and admin["live_assignments"] == 1
    assert admin["pending_confirmations"] == 1
    assert [o["id"] for o in admin["late_deliveries"]] == [waiting.id]

    agents = client.get("/api/delivery/admin/agents", headers=admin_headers).json
    assert agents["meta"]["total"] == 2
    row = next(r for r in agents["data"] if r["agent"]["id"] == agent.id)
    assert row["live_deliveries"] == 1 and row["delivered_total"] == 1 and len(row["zone_ids"]) == 2
    stats = client.get(f"/api/delivery/admin/agents/{agent.id}/stats", headers=admin_headers).json[
        "data"
    ]
    assert (
        stats["delivered_total"] == 1
        and stats["failed_attempts"] == 0
        and stats["last_delivered_at"]
    )
    zones = client.get("/api/delivery/admin/delivery-zones", headers=admin_headers).json["data"]
    by_zone = {z["zone"]["id"]: z for z in zones}
    assert by_zone[waiting.delivery_zone_id]["unassigned_orders"] == 1
    assert agent.id in by_zone[live.delivery_zone_id]["agent_ids"]
    assert (
        client.get("/api/delivery/admin/dashboard", headers=auth_headers(agent)).status_code == 403
    )
    assert client.get("/api/delivery/dashboard", headers=admin_headers).status_code == 403
    assert order.id


def test_the_admin_dashboard_runs_the_same_statements_for_any_number_of_late_orders(
    client, admin_headers
):
    def statements(late: int) -> int:
        for _ in range(late):
            ready_order().paid_at = utcnow() - timedelta(days=3)
        db.session.commit()
        db.session.expire_all()
        return count_statements(
            lambda: client.get("/api/delivery/admin/dashboard", headers=admin_headers)
        )

    assert statements(1) == statements(5)


def test_the_admin_dashboard_counts_late_orders_by_the_dispatch_rule(client, admin_headers):
    """Late is ``estimated_delivery_days`` after payment: an order placed long ago but paid
    just now is not late; one paid days ago is."""
    zone = DeliveryZoneFactory()
    late, on_time = ready_order(zone), ready_order(zone)
    late.paid_at = utcnow() - timedelta(days=3)
    for order in (late, on_time):
        order.created_at = utcnow() - timedelta(days=10)
    db.session.commit()

    listed = client.get("/api/delivery/admin/dashboard", headers=admin_headers).json["data"]
    board = client.get("/api/admin/dashboard", headers=admin_headers).json["data"]

    assert [o["id"] for o in listed["late_deliveries"]] == [late.id]
    assert board["current"]["late_deliveries"] == 1
