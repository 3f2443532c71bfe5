"""Assignment: by hand, automatic, offered to agents, forced, to a company; who sees what."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.auth.models import UserRole
from app.db import utcnow
from app.dispatch.models import (
    AssignmentStatus,
    DeliveryAssignment,
    DeliveryOffer,
    OfferStatus,
)
from app.extensions import db
from app.notifications.models import Notification
from app.orders.models import OrderStatus
from app.scheduler import find_job
from tests.factories.dispatch import DeliveryCompanyFactory, agent_serving, ready_order
from tests.factories.orders import DeliveryZoneFactory

S = OrderStatus


def url(order, action):
    return f"/api/delivery/admin/orders/{order.id}/{action}"


def live(order):
    return db.session.scalar(
        select(DeliveryAssignment).where(
            DeliveryAssignment.order_id == order.id,
            DeliveryAssignment.status == AssignmentStatus.ACTIVE,
        )
    )


def test_an_admin_assigns_a_ready_order_to_an_agent_of_its_zone(client, admin_headers):
    zone = DeliveryZoneFactory()
    agent = agent_serving(zone)
    order = ready_order(zone)

    response = client.post(url(order, "assign"), json={"agent_id": agent.id}, headers=admin_headers)

    assert response.status_code == 200, response.json
    assert response.json["data"]["agent_id"] == agent.id
    assert response.json["data"]["method"] == "MANUAL"
    db.session.expire_all()
    assert live(order).agent_id == agent.id and order.delivery_agent_id == agent.id
    assert (
        db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == agent.id)
        )
        == 1
    )
    # a second assignment is refused: one live assignment per order
    other = agent_serving(zone)
    again = client.post(url(order, "assign"), json={"agent_id": other.id}, headers=admin_headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "ALREADY_ASSIGNED"


def test_assignment_refusals_are_precise(client, admin_headers, customer):
    zone, elsewhere = DeliveryZoneFactory(), DeliveryZoneFactory()
    agent = agent_serving(zone)
    busy = agent_serving(zone, is_available=False)
    stranger = agent_serving(elsewhere)

    not_ready = ready_order(zone, status=S.PAID)
    r = client.post(url(not_ready, "assign"), json={"agent_id": agent.id}, headers=admin_headers)
    assert r.status_code == 409 and r.json["error"]["code"] == "ORDER_NOT_READY"

    order = ready_order(zone)
    r = client.post(url(order, "assign"), json={"agent_id": customer.id}, headers=admin_headers)
    assert r.status_code == 404 and r.json["error"]["code"] == "UNKNOWN_AGENT"
    for who in (busy, stranger):
        r = client.post(url(order, "assign"), json={"agent_id": who.id}, headers=admin_headers)
        assert r.status_code == 422 and r.json["error"]["code"] == "AGENT_NOT_ELIGIBLE"
    r = client.post(url(order, "assign"), json={"agent_id": "x"}, headers=admin_headers)
    assert r.status_code == 400
    assert live(order) is None  # nothing half-written

    cash_processing = ready_order(zone, cash=True, status=S.PROCESSING)
    r = client.post(
        url(cash_processing, "assign"), json={"agent_id": agent.id}, headers=admin_headers
    )
    assert r.status_code == 200  # cash orders may go from PROCESSING


def test_only_dispatch_admins_assign(client, role_user, auth_headers):
    zone = DeliveryZoneFactory()
    agent = agent_serving(zone)
    order = ready_order(zone)
    for role in (UserRole.FINANCE_ADMIN, UserRole.CUSTOMER, UserRole.DELIVERY_AGENT):
        headers = auth_headers(role_user(role))
        r = client.post(url(order, "assign"), json={"agent_id": agent.id}, headers=headers)
        assert r.status_code == 403, role
    support = auth_headers(role_user(UserRole.SUPPORT_ADMIN))
    assert (
        client.post(url(order, "assign"), json={"agent_id": agent.id}, headers=support).status_code
        == 200
    )


def test_auto_assign_picks_the_least_busy_then_the_longest_idle(client, admin_headers):
    zone = DeliveryZoneFactory()
    busy, idle_long, idle_short = agent_serving(zone), agent_serving(zone), agent_serving(zone)
    now = utcnow()
    # busy has a live delivery; the two others delivered before, idle_long longer ago
    for agent, status, when in (
        (busy, AssignmentStatus.ACTIVE, now - timedelta(days=3)),
        (idle_long, AssignmentStatus.DELIVERED, now - timedelta(hours=5)),
        (idle_short, AssignmentStatus.DELIVERED, now - timedelta(hours=1)),
    ):
        other = ready_order(zone)
        db.session.add(
            DeliveryAssignment(
                order_id=other.id,
                agent_id=agent.id,
                method="MANUAL",
                status=status,
                assigned_at=when,
            )
        )
    db.session.commit()
    order = ready_order(zone)

    response = client.post(url(order, "auto-assign"), headers=admin_headers)

    assert response.status_code == 200, response.json
    assert response.json["data"]["agent_id"] == idle_long.id
    assert response.json["data"]["method"] == "AUTO"
    nobody = ready_order(DeliveryZoneFactory())
    r = client.post(url(nobody, "auto-assign"), headers=admin_headers)
    assert r.status_code == 422 and r.json["error"]["code"] == "NO_AGENT_AVAILABLE"


def test_auto_assign_all_spreads_orders_evenly_across_a_zones_agents(client, admin_headers):
    zone, empty_zone = DeliveryZoneFactory(), DeliveryZoneFactory()
    agents = [agent_serving(zone) for _ in range(3)]
    orders = [ready_order(zone) for _ in range(7)]
    stranded = ready_order(empty_zone)

    response = client.post("/api/delivery/admin/orders/auto-assign-all", headers=admin_headers)

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["assigned"] == 7 and data["left_unassigned"] == 1
    assert sorted(data["by_agent"].values()) == [2, 2, 3]
    db.session.expire_all()
    assert {o.delivery_agent_id for o in orders} == {a.id for a in agents}
    assert live(stranded) is None
    listed = client.get("/api/delivery/admin/orders/unassigned", headers=admin_headers).json
    assert [o["id"] for o in listed["data"]] == [stranded.id] and listed["meta"]["total"] == 1
    again = client.post("/api/delivery/admin/orders/auto-assign-all", headers=admin_headers).json[
        "data"
    ]
    assert again["assigned"] == 0


def test_company_assignment_carries_the_tracking_reference_and_its_agents_see_it(
    client, admin_headers, auth_headers
):
    zone = DeliveryZoneFactory()
    company = DeliveryCompanyFactory(fee_share_rate="0.6000")
    courier = agent_serving(zone, delivery_company_id=company.id)
    outsider = agent_serving(zone)
    order = ready_order(zone)

    response = client.post(
        url(order, "assign-company"),
        json={"company_id": company.id, "tracking_reference": "SND-123"},
        headers=admin_headers,
    )

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["company_id"] == company.id and data["tracking_reference"] == "SND-123"
    assert data["company_fee_share"] == "150.00"  # 0.60 of the 250.00 fee
    seen = client.get(f"/api/delivery/orders/{order.id}", headers=auth_headers(courier))
    assert seen.status_code == 200 and seen.json["data"]["delivery_company_id"] == company.id
    assert (
        client.get(f"/api/delivery/orders/{order.id}", headers=auth_headers(outsider)).status_code
        == 404
    )
    unknown = client.post(
        url(ready_order(zone), "assign-company"),
        json={"company_id": 999, "tracking_reference": "X"},
        headers=admin_headers,
    )
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "UNKNOWN_COMPANY"


def test_an_order_out_for_delivery_moves_only_by_force_with_a_note(client, admin_headers):
    zone = DeliveryZoneFactory()
    first, second = agent_serving(zone), agent_serving(zone)
    order = ready_order(zone)
    client.post(url(order, "assign"), json={"agent_id": first.id}, headers=admin_headers)
    order.status = S.OUT_FOR_DELIVERY
    db.session.commit()

    plain = client.post(url(order, "assign"), json={"agent_id": second.id}, headers=admin_headers)
    assert plain.status_code == 409
    no_note = client.post(
        url(order, "force-assign"), json={"agent_id": second.id}, headers=admin_headers
    )
    assert no_note.status_code == 400 and "note" in no_note.json["error"]["details"]

    forced = client.post(
        url(order, "force-assign"),
        json={"agent_id": second.id, "note": "First agent's bike broke down"},
        headers=admin_headers,
    )

    assert forced.status_code == 200, forced.json
    assert forced.json["data"]["method"] == "FORCED"
    db.session.expire_all()
    assert order.delivery_agent_id == second.id
    statuses = db.session.scalars(
        select(DeliveryAssignment.status)
        .where(DeliveryAssignment.order_id == order.id)
        .order_by(DeliveryAssignment.id)
    ).all()
    assert statuses == [AssignmentStatus.ENDED, AssignmentStatus.ACTIVE]


def test_an_offer_goes_to_eligible_agents_and_the_first_to_accept_gets_it(
    client, admin_headers, auth_headers
):
    zone = DeliveryZoneFactory()
    first, second, off_duty = (
        agent_serving(zone),
        agent_serving(zone),
        agent_serving(zone, is_available=False),
    )
    order = ready_order(zone)

    offered = client.post(url(order, "notify-agents"), headers=admin_headers)
    assert offered.status_code == 201, offered.json
    offer_id = offered.json["data"]["id"]
    again = client.post(url(order, "notify-agents"), headers=admin_headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "OFFER_OPEN"

    for agent in (first, second):
        listed = client.get("/api/delivery/available-requests", headers=auth_headers(agent)).json[
            "data"
        ]
        assert [item["order"]["id"] for item in listed] == [order.id]
    assert (
        client.get("/api/delivery/available-requests", headers=auth_headers(off_duty)).json["data"]
        == []
    )
    assert (
        client.post(
            f"/api/delivery/requests/{offer_id}/accept", headers=auth_headers(off_duty)
        ).status_code
        == 404
    )

    won = client.post(f"/api/delivery/requests/{offer_id}/accept", headers=auth_headers(first))
    lost = client.post(f"/api/delivery/requests/{offer_id}/accept", headers=auth_headers(second))

    assert won.status_code == 200 and won.json["data"]["method"] == "OFFER"
    assert lost.status_code == 409 and lost.json["error"]["code"] == "REQUEST_GONE"
    assert (
        client.get("/api/delivery/available-requests", headers=auth_headers(second)).json["data"]
        == []
    )
    db.session.expire_all()
    assert order.delivery_agent_id == first.id
    assert db.session.get(DeliveryOffer, offer_id).status == OfferStatus.ACCEPTED


def test_an_offer_can_be_turned_down_and_expires(client, admin_headers, auth_headers, app):
    zone = DeliveryZoneFactory()
    agent = agent_serving(zone)
    order = ready_order(zone)
    offer_id = client.post(url(order, "notify-agents"), headers=admin_headers).json["data"]["id"]

    rejected = client.post(f"/api/delivery/requests/{offer_id}/reject", headers=auth_headers(agent))
    assert rejected.status_code == 200
    assert (
        client.get("/api/delivery/available-requests", headers=auth_headers(agent)).json["data"]
        == []
    )

    offer = db.session.get(DeliveryOffer, offer_id)
    offer.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert find_job("expire_delivery_offers").load()() == 1
    db.session.commit()
    assert db.session.get(DeliveryOffer, offer_id).status == OfferStatus.EXPIRED
    listed = client.get(
        "/api/delivery/admin/delivery-requests?status=EXPIRED", headers=admin_headers
    ).json
    assert [o["id"] for o in listed["data"]] == [offer_id]
    # the order can be offered again, or assigned by hand
    assert client.post(url(order, "notify-agents"), headers=admin_headers).status_code == 201
    assert (
        client.post(
            url(order, "assign"), json={"agent_id": agent.id}, headers=admin_headers
        ).status_code
        == 200
    )
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(DeliveryOffer)
            .where(DeliveryOffer.status == OfferStatus.OPEN)
        )
        == 0
    )
    ran = client.post("/api/delivery/admin/expire-requests", headers=admin_headers)
    assert ran.status_code == 200 and ran.json["data"]["count"] == 0


def test_agents_see_only_their_orders(client, admin_headers, auth_headers):
    zone = DeliveryZoneFactory()
    mine, theirs = agent_serving(zone), agent_serving(zone)
    order = ready_order(zone)
    client.post(url(order, "assign"), json={"agent_id": mine.id}, headers=admin_headers)

    listed = client.get("/api/delivery/orders", headers=auth_headers(mine)).json
    assert [o["id"] for o in listed["data"]] == [order.id]
    assert client.get("/api/delivery/orders", headers=auth_headers(theirs)).json["data"] == []
    assert (
        client.get(f"/api/delivery/orders/{order.id}", headers=auth_headers(theirs)).status_code
        == 404
    )
    assert client.get(f"/api/orders/{order.id}", headers=auth_headers(theirs)).status_code == 404
    detail = client.get(f"/api/delivery/orders/{order.id}", headers=auth_headers(mine)).json["data"]
    assert detail["recipient_phone"] and detail["recipient_name"] and detail["delivery_street"]
    assert "commission_amount" not in detail["items"][0]


def test_auto_assign_all_statements_do_not_grow_with_agents(app):
    from sqlalchemy import event

    from app.dispatch.assignment import auto_assign_all

    def statements(agents: int) -> int:
        zone = DeliveryZoneFactory()
        for _ in range(agents):
            agent_serving(zone)
        for _ in range(6):
            ready_order(zone)
        seen = []
        listener = lambda *args, **kwargs: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            result = auto_assign_all(actor=None)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert result.assigned == 6
        return len(seen)

    assert statements(2) == statements(12)
