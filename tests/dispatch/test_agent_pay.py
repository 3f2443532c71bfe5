"""Agents' earnings (their share of the fee, their own rate) and paying them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app.dispatch.payouts import current_period
from app.ledger.operations import agent_balances
from app.scheduler import find_job
from tests.dispatch.helpers import assigned_order, code_of, deliver, move
from tests.factories.dispatch import agent_serving
from tests.factories.orders import DeliveryZoneFactory

D = Decimal


def earned(client, admin_headers, auth_headers, agent):
    """One delivery by ``agent``, confirmed by its customer."""
    order, _ = assigned_order(client, admin_headers, agent=agent)
    headers = auth_headers(agent)
    move(client, headers, order, "OUT_FOR_DELIVERY")
    deliver(client, order, headers, code_of(client, order, auth_headers(order.customer)))
    r = client.post(
        f"/api/delivery/customer/orders/{order.id}/confirm-receipt",
        headers=auth_headers(order.customer),
    )
    assert r.status_code == 200
    return order


def test_an_agents_own_rate_replaces_the_default(
    client, admin_headers, auth_headers, assert_books_balance
):
    agent = agent_serving(DeliveryZoneFactory(), delivery_fee_percentage=D("0.8000"))

    earned(client, admin_headers, auth_headers, agent)

    assert agent_balances(agent.id).available == D("200.00")  # 0.80 of 250.00
    assert_books_balance()


def test_pay_now_and_the_payout_endpoints(
    client, admin_headers, auth_headers, role_user, assert_books_balance
):
    agent = agent_serving(DeliveryZoneFactory(), mpesa_payout_number="254722000111")
    failing = agent_serving(DeliveryZoneFactory(), mpesa_payout_number="254722000110")
    for who in (agent, agent, failing):
        earned(client, admin_headers, auth_headers, who)
    finance = auth_headers(role_user("FINANCE_ADMIN"))
    assert (
        client.post(
            f"/api/delivery/admin/agents/{agent.id}/pay-now",
            json={},
            headers=auth_headers(role_user("SUPPORT_ADMIN")),
        ).status_code
        == 403
    )

    too_much = client.post(
        f"/api/delivery/admin/agents/{agent.id}/pay-now", json={"amount": "400"}, headers=finance
    )
    assert too_much.status_code == 422 and too_much.json["error"]["details"]["payable"] == "350.00"
    paid = client.post(
        f"/api/delivery/admin/agents/{agent.id}/pay-now", json={"amount": "300"}, headers=finance
    )

    assert paid.status_code == 201, paid.json
    assert paid.json["data"]["status"] == "COMPLETED" and paid.json["data"]["amount"] == "300.00"
    assert agent_balances(agent.id).available == D("50.00")
    assert agent_balances(agent.id).paid_out_total == D("300.00")

    failed = client.post(
        f"/api/delivery/admin/agents/{failing.id}/pay-now", json={}, headers=finance
    )
    assert failed.status_code == 201 and failed.json["data"]["status"] == "FAILED"
    payout_id = failed.json["data"]["id"]
    assert agent_balances(failing.id).available == D("175.00")  # back to available
    done = client.post(
        f"/api/delivery/admin/delivery-payouts/{payout_id}/complete",
        json={"method": "CASH", "reference": "Paid at the depot"},
        headers=finance,
    )
    assert done.status_code == 200, done.json
    assert done.json["data"]["status"] == "COMPLETED" and done.json["data"]["method"] == "CASH"
    assert agent_balances(failing.id).available == 0
    assert (
        client.post(
            f"/api/delivery/admin/delivery-payouts/{payout_id}/cancel", headers=finance
        ).status_code
        == 409
    )
    assert (
        client.post("/api/delivery/admin/delivery-payouts/999/cancel", headers=finance).status_code
        == 404
    )
    listed = client.get(
        "/api/delivery/admin/delivery-payouts?status=COMPLETED", headers=finance
    ).json
    assert listed["meta"]["total"] == 2
    mine = client.get("/api/delivery/agent/payouts", headers=auth_headers(agent)).json["data"]
    assert [p["amount"] for p in mine] == ["300.00"]
    assert_books_balance()


def test_the_agent_run_is_scheduled_on_its_own_calendar(app):
    job = find_job("run_agent_payouts")
    assert job.cron == "AGENT_PAYOUT_SCHEDULE" and job.timezone == "PAYOUT_TIMEZONE"
    # 18:00 in Nairobi is 15:00 UTC
    assert current_period(datetime(2026, 12, 2, 15, 30, tzinfo=UTC)) == "2026-12-02T18:00"
    assert current_period(datetime(2026, 12, 2, 14, 59, tzinfo=UTC)) == "2026-12-01T18:00"


def test_a_retried_payout_is_refused_while_the_agents_cash_covers_it(
    client, admin_headers, auth_headers, role_user, assert_books_balance
):
    agent = agent_serving(DeliveryZoneFactory(), mpesa_payout_number="254722000120")
    earned(client, admin_headers, auth_headers, agent)
    finance = auth_headers(role_user("FINANCE_ADMIN"))
    failed = client.post(f"/api/delivery/admin/agents/{agent.id}/pay-now", json={}, headers=finance)
    assert failed.status_code == 201 and failed.json["data"]["status"] == "FAILED"
    # The agent then collects cash for a cash order and has not handed it in yet.
    order, _ = assigned_order(client, admin_headers, cash=True, agent=agent)
    headers = auth_headers(agent)
    move(client, headers, order, "OUT_FOR_DELIVERY")
    deliver(client, order, headers, code_of(client, order, auth_headers(order.customer)))
    collected = client.post(
        f"/api/delivery/orders/{order.id}/collect-cod",
        json={"amount": str(order.total)},
        headers=headers,
    )
    assert collected.status_code == 200, collected.json

    retry = client.post(
        f"/api/delivery/admin/delivery-payouts/{failed.json['data']['id']}/mpesa", headers=finance
    )

    assert retry.status_code == 422 and retry.json["error"]["code"] == "INSUFFICIENT_BALANCE"
    assert agent_balances(agent.id).in_flight == D("0.00")  # nothing was sent
    assert_books_balance()
