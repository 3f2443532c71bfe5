"""Races on PostgreSQL: one winner, the others a clear 409 or the same answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.dispatch.models import (
    AssignmentStatus,
    CodCollection,
    Confirmation,
    Delivery,
    DeliveryAssignment,
)
from app.dispatch.proof import auto_confirm
from app.extensions import db
from app.payments.models import Payment
from tests.concurrency import run_together
from tests.dispatch.helpers import delivered_order
from tests.factories.dispatch import agent_serving, ready_order
from tests.factories.orders import DeliveryZoneFactory

pytestmark = pytest.mark.postgres


def live_count(order):
    return db.session.scalar(
        select(func.count())
        .select_from(DeliveryAssignment)
        .where(
            DeliveryAssignment.order_id == order.id,
            DeliveryAssignment.status == AssignmentStatus.ACTIVE,
        )
    )


def test_two_admins_assigning_at_once_one_wins(app, admin_headers, auth_headers, role_user):
    zone = DeliveryZoneFactory()
    agents = [agent_serving(zone) for _ in range(4)]
    order = ready_order(zone)
    headers = [admin_headers] + [auth_headers(role_user("ADMIN")) for _ in range(3)]
    order_id, agent_ids = order.id, [agent.id for agent in agents]

    def assign(agent_id, h):
        def action(client):
            r = client.post(
                f"/api/delivery/admin/orders/{order_id}/assign",
                json={"agent_id": agent_id},
                headers=h,
            )
            return r.status_code, r.json["error"]["code"] if r.status_code != 200 else None

        return action

    results = run_together(app, [assign(a, h) for a, h in zip(agent_ids, headers, strict=True)])

    assert sorted(results) == [(200, None)] + [(409, "ALREADY_ASSIGNED")] * 3
    db.session.expire_all()
    assert live_count(order) == 1


def test_two_agents_accepting_one_offer_one_gets_it(app, admin_headers, auth_headers, client):
    zone = DeliveryZoneFactory()
    agents = [agent_serving(zone) for _ in range(4)]
    order = ready_order(zone)
    offer_id = client.post(
        f"/api/delivery/admin/orders/{order.id}/notify-agents", headers=admin_headers
    ).json["data"]["id"]
    headers = [auth_headers(agent) for agent in agents]

    def accept(h):
        return lambda c: c.post(f"/api/delivery/requests/{offer_id}/accept", headers=h).status_code

    results = run_together(app, [accept(h) for h in headers])

    assert sorted(results) == [200, 409, 409, 409]
    db.session.expire_all()
    assert live_count(order) == 1
    assert order.delivery_agent_id == agents[results.index(200)].id


def test_double_collect_cod_collects_once(
    app, admin_headers, auth_headers, client, assert_books_balance
):
    order, agent = delivered_order(client, admin_headers, auth_headers, cash=True)
    headers = auth_headers(agent)
    path, total = f"/api/delivery/orders/{order.id}/collect-cod", str(order.total)

    def collect(c):
        r = c.post(
            path,
            json={"amount": total},
            headers=headers,
        )
        return r.status_code, r.json["data"]["id"]

    results = run_together(app, [collect] * 4)

    assert {status for status, _ in results} == {200}
    assert len({collection_id for _, collection_id in results}) == 1
    assert db.session.scalar(select(func.count()).select_from(CodCollection)) == 1
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert_books_balance()


def test_auto_confirm_against_the_customers_dispute(app, admin_headers, auth_headers, client):
    orders = [delivered_order(client, admin_headers, auth_headers)[0] for _ in range(3)]
    for order in orders:
        delivery = db.session.scalar(select(Delivery).where(Delivery.order_id == order.id))
        delivery.delivered_at = utcnow() - timedelta(hours=23, minutes=59, seconds=59)
    db.session.commit()
    later = utcnow() + timedelta(seconds=5)  # the job's clock: past the window for all

    def job(c):
        count = auto_confirm(now=later)
        db.session.commit()
        return ("job", count)

    def disputer(order):
        h, path = auth_headers(order.customer), f"/api/delivery/customer/orders/{order.id}/dispute"

        def action(c):
            r = c.post(
                path,
                json={"reason": "Not here"},
                headers=h,
            )
            return ("dispute", r.status_code)

        return action

    results = run_together(app, [job] + [disputer(o) for o in orders])

    confirmed_by_job = results[0][1]
    disputes_won = sum(1 for kind, status in results[1:] if status == 200)
    assert all(status in (200, 409) for _, status in results[1:])
    assert confirmed_by_job + disputes_won == 3
    db.session.expire_all()
    states = db.session.scalars(select(Delivery.confirmation)).all()
    assert sorted(states) == sorted(
        [Confirmation.AUTO_CONFIRMED] * confirmed_by_job + [Confirmation.DISPUTED] * disputes_won
    )
