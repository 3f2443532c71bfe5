"""A cash order from checkout to the agent's payout, through HTTP, with exact books."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.operations import agent_balances, balance, supplier_balances
from app.orders.models import Order
from app.payouts.models import Payout, PayoutStatus
from tests.factories.auth import DeliveryAgentProfileFactory
from tests.factories.cart import CartFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import AddressFactory, DeliveryZoneFactory

D = Decimal


def test_cash_order_to_agent_payout(
    client, customer, customer_headers, admin_headers, auth_headers, role_user, assert_books_balance
):
    zone = DeliveryZoneFactory(name="Nairobi CBD", fee=D("300.00"))
    agent = DeliveryAgentProfileFactory(mpesa_payout_number="254722000111").user
    busy = DeliveryAgentProfileFactory(mpesa_payout_number="254722000113").user
    for someone in (agent, busy):
        client.put(
            f"/api/delivery/admin/agents/{someone.id}/zones",
            json={"zone_ids": [zone.id]},
            headers=admin_headers,
        )
    address = AddressFactory(user_id=customer.id, delivery_zone=zone, is_default=True)
    product = ProductFactory(price=D("2000.00"), commission_rate=D("0.1000"), stock=5)
    CartFactory(user=customer, items=[(product, 2)])
    agent_headers, finance = auth_headers(agent), auth_headers(role_user("FINANCE_ADMIN"))

    # the customer orders, paying cash on delivery; the order is prepared
    placed = client.post(
        "/api/orders",
        json={"address_id": address.id, "payment_method": "CASH"},
        headers=customer_headers,
    )
    assert placed.status_code == 201, placed.json
    order_id, total = placed.json["data"]["id"], placed.json["data"]["total"]
    assert total == "4300.00"
    for status in ("PROCESSING", "QUALITY_APPROVED"):
        moved = client.put(
            f"/api/orders/{order_id}/status", json={"status": status}, headers=admin_headers
        )
        assert moved.status_code == 200, moved.json
    # the other agent already has a delivery: auto-assignment picks the free one
    CartFactory(user=customer, items=[(product, 1)])
    other = client.post(
        "/api/orders",
        json={"address_id": address.id, "payment_method": "CASH"},
        headers=customer_headers,
    )
    other_id = other.json["data"]["id"]
    client.put(
        f"/api/orders/{other_id}/status", json={"status": "PROCESSING"}, headers=admin_headers
    )
    assert (
        client.post(
            f"/api/delivery/admin/orders/{other_id}/assign",
            json={"agent_id": busy.id},
            headers=admin_headers,
        ).status_code
        == 200
    )

    assigned = client.post(
        f"/api/delivery/admin/orders/{order_id}/auto-assign", headers=admin_headers
    )
    assert assigned.status_code == 200 and assigned.json["data"]["agent_id"] == agent.id

    # out for delivery: the customer has a code; delivered with it
    out = client.put(
        f"/api/delivery/orders/{order_id}/status",
        json={"status": "OUT_FOR_DELIVERY"},
        headers=agent_headers,
    )
    assert out.status_code == 200
    code = client.get(f"/api/orders/{order_id}", headers=customer_headers).json["data"][
        "delivery_code"
    ]
    delivered = client.post(
        f"/api/delivery/orders/{order_id}/confirm-delivery",
        json={"code": code, "recipient_name": "Grace Muthoni"},
        headers=agent_headers,
    )
    assert delivered.status_code == 200, delivered.json

    # the cash: exactly the total; the agent holds it
    collected = client.post(
        f"/api/delivery/orders/{order_id}/collect-cod",
        json={"amount": total},
        headers=agent_headers,
    )
    assert collected.status_code == 200, collected.json
    board = client.get("/api/delivery/dashboard", headers=agent_headers).json["data"]
    assert board["earnings"] == {
        "on_hold": "210.00",  # 0.70 of the 300.00 fee
        "available": "0.00",
        "in_flight": "0.00",
        "paid_out_total": "0.00",
    }
    assert board["cash_held"] == "4300.00" and board["payable"] == "0.00"
    assert balance(A.AGENT_CASH_HELD, agent_id=agent.id) == D("4300.00")

    # the customer confirms: the earning is available, but the cash held covers it
    assert (
        client.post(
            f"/api/delivery/customer/orders/{order_id}/confirm-receipt", headers=customer_headers
        ).status_code
        == 200
    )
    no_run = client.post("/api/delivery/admin/generate-delivery-payouts", headers=finance)
    assert no_run.status_code == 200 and no_run.json["data"]["payouts"] == 0
    refused = client.post(
        f"/api/delivery/admin/agents/{agent.id}/pay-now", json={}, headers=finance
    )
    assert refused.status_code == 422 and refused.json["error"]["code"] == "INSUFFICIENT_BALANCE"
    pending = client.get("/api/delivery/admin/agents/pending-payments", headers=finance).json[
        "data"
    ]
    row = next(r for r in pending if r["agent"]["id"] == agent.id)
    assert (row["available"], row["cash_held"], row["payable"]) == ("210.00", "4300.00", "0.00")

    # the cash is handed in, then the agent is paid by B2C (the simulator)
    verified = client.post(
        f"/api/admin/orders/{order_id}/cod-verify",
        json={"reference": "BANK-DEP-77"},
        headers=finance,
    )
    assert verified.status_code == 200, verified.json
    run = client.post("/api/delivery/admin/generate-delivery-payouts", headers=finance)

    assert run.status_code == 200, run.json
    assert run.json["data"]["payouts"] == 1 and run.json["data"]["accepted"] == 1
    payout = db.session.scalar(select(Payout).where(Payout.agent_id == agent.id))
    assert payout.status == PayoutStatus.COMPLETED and payout.amount == D("210.00")
    mine = client.get("/api/delivery/payouts", headers=agent_headers).json["data"]
    assert [(p["amount"], p["status"]) for p in mine] == [("210.00", "COMPLETED")]
    again = client.post("/api/delivery/admin/generate-delivery-payouts", headers=finance)
    assert again.json["data"]["payouts"] == 0  # once per period

    balances = agent_balances(agent.id)
    assert (balances.on_hold, balances.available, balances.in_flight) == (0, 0, 0)
    assert balances.paid_out_total == D("210.00")
    assert balance(A.AGENT_CASH_HELD, agent_id=agent.id) == 0
    assert balance(A.CASH_COLLECTED) == D("4300.00")
    assert balance(A.MPESA_CLEARING) == -D("210.00")  # what left by B2C
    assert balance(A.DELIVERY_REVENUE) == -D("90.00")
    assert balance(A.COMMISSION_REVENUE) == -D("400.00")
    order = db.session.get(Order, order_id)
    assert supplier_balances(order.items[0].supplier_id).on_hold == D("3600.00")
    assert balance(A.ORDERS_HELD) == 0  # this order: paid and delivered (the other: unpaid)
    assert_books_balance()
