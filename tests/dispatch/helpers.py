"""Steps the dispatch tests share: an order assigned, out for delivery, delivered."""

from __future__ import annotations

from app.dispatch.models import AgentZone
from app.extensions import db
from tests.factories.dispatch import agent_serving, ready_order
from tests.factories.orders import DeliveryZoneFactory


def assigned_order(client, admin_headers, *, cash=False, agent=None):
    zone = DeliveryZoneFactory()
    if agent is None:
        agent = agent_serving(zone)
    else:
        db.session.add(AgentZone(agent_id=agent.id, zone_id=zone.id))
        db.session.commit()
    order = ready_order(zone, cash=cash)
    response = client.post(
        f"/api/delivery/admin/orders/{order.id}/assign",
        json={"agent_id": agent.id},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.json
    return order, agent


def move(client, headers, order, status, note=None):
    body = {"status": status} | ({"note": note} if note else {})
    return client.put(f"/api/delivery/orders/{order.id}/status", json=body, headers=headers)


def code_of(client, order, customer_headers):
    return client.get(f"/api/orders/{order.id}", headers=customer_headers).json["data"][
        "delivery_code"
    ]


def deliver(client, order, agent_headers, code, **extra):
    body = {"code": code, "recipient_name": "Wanjiku Kamau"} | extra
    return client.post(
        f"/api/delivery/orders/{order.id}/confirm-delivery", json=body, headers=agent_headers
    )


def delivered_order(client, admin_headers, auth_headers, *, cash=False):
    """An order assigned, out for delivery and delivered with its code."""
    order, agent = assigned_order(client, admin_headers, cash=cash)
    agent_headers, customer_headers = auth_headers(agent), auth_headers(order.customer)
    assert move(client, agent_headers, order, "OUT_FOR_DELIVERY").status_code == 200
    code = code_of(client, order, customer_headers)
    assert deliver(client, order, agent_headers, code).status_code == 200
    db.session.expire_all()
    return order, agent


def sent_out_again(client, admin_headers, auth_headers, order, agent):
    """An order whose delivery was found not made, assigned to ``agent`` and out for
    delivery again; its new delivery code."""
    response = client.post(
        f"/api/delivery/admin/orders/{order.id}/assign",
        json={"agent_id": agent.id},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.json
    assert move(client, auth_headers(agent), order, "OUT_FOR_DELIVERY").status_code == 200
    return code_of(client, order, auth_headers(order.customer))
