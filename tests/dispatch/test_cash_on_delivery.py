"""Cash on delivery: exactly the total, once; the agent holds it until it is verified."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.dispatch.models import CodCollection
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.operations import agent_balances, balance
from app.orders.models import OrderStatus, PaymentStatus
from app.payments.models import Payment
from tests.admin.statements import count_statements
from tests.dispatch.helpers import (
    assigned_order,
    deliver,
    delivered_order,
    move,
    sent_out_again,
)
from tests.factories.dispatch import agent_serving, ready_order


def collect(client, order, headers, amount):
    return client.post(
        f"/api/delivery/orders/{order.id}/collect-cod", json={"amount": amount}, headers=headers
    )


def test_collecting_the_exact_total_pays_the_order_once(
    client, admin_headers, auth_headers, assert_books_balance
):
    order, agent = delivered_order(client, admin_headers, auth_headers, cash=True)
    headers = auth_headers(agent)
    total = str(order.total)

    short = collect(client, order, headers, "1000.00")
    assert short.status_code == 422 and short.json["error"]["code"] == "COD_AMOUNT_MISMATCH"
    assert short.json["error"]["details"] == {"expected": total, "received": "1000.00"}
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0

    first = collect(client, order, headers, total)
    repeat = collect(client, order, headers, total)

    assert first.status_code == 200, first.json
    assert repeat.status_code == 200 and repeat.json["data"] == first.json["data"]
    assert (
        first.json["data"]["status"] == "COLLECTED" and first.json["data"]["agent_id"] == agent.id
    )
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    db.session.expire_all()
    assert order.payment_status == PaymentStatus.COMPLETED
    dashboard = client.get("/api/delivery/dashboard", headers=headers).json["data"]
    assert dashboard["cash_held"] == total
    assert balance(A.AGENT_CASH_HELD, agent_id=agent.id) == order.total  # in the agent's hands
    assert balance(A.CASH_COLLECTED) == 0
    assert balance(A.ORDERS_HELD) == 0  # collected after delivery: paid and delivered
    assert_books_balance()


def test_verifying_the_cash_clears_what_the_agent_holds(
    client, admin_headers, auth_headers, role_user, assert_books_balance
):
    order, agent = delivered_order(client, admin_headers, auth_headers, cash=True)
    collect(client, order, auth_headers(agent), str(order.total))
    finance = auth_headers(role_user("FINANCE_ADMIN"))
    pending = client.get("/api/admin/orders/cod-collected?status=COLLECTED", headers=finance).json
    assert [c["order_id"] for c in pending["data"]] == [order.id]
    no_ref = client.post(f"/api/admin/orders/{order.id}/cod-verify", json={}, headers=finance)
    assert no_ref.status_code == 400

    verified = client.post(
        f"/api/admin/orders/{order.id}/cod-verify", json={"reference": "DEP-0042"}, headers=finance
    )

    assert verified.status_code == 200, verified.json
    assert verified.json["data"]["status"] == "VERIFIED"
    assert verified.json["data"]["reference"] == "DEP-0042"
    again = client.post(
        f"/api/admin/orders/{order.id}/cod-verify", json={"reference": "DEP-0042"}, headers=finance
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "COD_ALREADY_VERIFIED"
    assert (
        client.get("/api/delivery/dashboard", headers=auth_headers(agent)).json["data"]["cash_held"]
        == "0.00"
    )
    mine = client.get("/api/delivery/cod-collections", headers=auth_headers(agent)).json["data"]
    assert [c["status"] for c in mine] == ["VERIFIED"]
    assert balance(A.CASH_COLLECTED) == order.total
    assert_books_balance()


def test_cash_rules(client, admin_headers, auth_headers):
    order, agent = assigned_order(client, admin_headers, cash=True)
    headers = auth_headers(agent)
    not_out = collect(client, order, headers, str(order.total))
    assert not_out.status_code == 409 and not_out.json["error"]["code"] == "COD_NOT_COLLECTABLE"
    pending = client.get("/api/admin/orders/cod-pending", headers=admin_headers).json["data"]
    assert pending == []
    move(client, headers, order, "OUT_FOR_DELIVERY")
    pending = client.get("/api/admin/orders/cod-pending", headers=admin_headers).json["data"]
    assert [o["id"] for o in pending] == [order.id]

    card_order, card_agent = assigned_order(client, admin_headers)
    r = collect(client, card_order, auth_headers(card_agent), str(card_order.total))
    assert r.status_code == 409 and r.json["error"]["code"] == "NOT_A_CASH_ORDER"
    unverified = client.post(
        f"/api/admin/orders/{order.id}/cod-verify", json={"reference": "X"}, headers=admin_headers
    )
    assert unverified.status_code == 409 and unverified.json["error"]["code"] == "COD_NOT_COLLECTED"
    assert collect(client, order, headers, "abc").status_code == 400
    assert collect(client, card_order, headers, "1.00").status_code == 404  # not theirs


def test_staff_collect_cash_at_a_pickup_point(
    client, admin_headers, auth_headers, assert_books_balance
):
    order, _ = assigned_order(client, admin_headers, cash=True)

    response = client.post(
        f"/api/admin/orders/{order.id}/cod-collect",
        json={"amount": str(order.total)},
        headers=admin_headers,
    )

    assert response.status_code == 200, response.json
    assert response.json["data"]["agent_id"] is None
    assert db.session.scalar(select(CodCollection.amount)) == order.total
    assert balance(A.CASH_COLLECTED) == order.total == Decimal("1250.00")
    assert_books_balance()


def test_cash_taken_for_a_delivery_found_not_made_is_not_taken_again(
    client, admin_headers, auth_headers, assert_books_balance
):
    """The customer paid the first agent, the delivery was found not made and another
    agent delivers: the cash stays with the first agent until handed in, nobody collects
    twice, and the second agent earns the delivery."""
    order, first = delivered_order(client, admin_headers, auth_headers, cash=True)
    assert collect(client, order, auth_headers(first), str(order.total)).status_code == 200
    customer = auth_headers(order.customer)
    client.post(
        f"/api/delivery/customer/orders/{order.id}/dispute",
        json={"reason": "The agent took the cash but left with the parcel"},
        headers=customer,
    )
    resolved = client.post(
        f"/api/delivery/admin/orders/{order.id}/resolve-dispute",
        json={"resolution": "NOT_DELIVERED", "note": "Parcel found at the depot"},
        headers=admin_headers,
    )
    assert resolved.status_code == 200, resolved.json
    db.session.expire_all()
    assert order.payment_status == PaymentStatus.COMPLETED  # the customer did pay
    assert balance(A.AGENT_CASH_HELD, agent_id=first.id) == order.total
    assert balance(A.ORDERS_HELD) == -order.total  # held for the order until delivered
    assert_books_balance()

    second = agent_serving(order.delivery_zone)
    code = sent_out_again(client, admin_headers, auth_headers, order, second)
    headers = auth_headers(second)
    assert deliver(client, order, headers, code).status_code == 200
    again = collect(client, order, headers, str(order.total))

    assert again.status_code == 200 and again.json["data"]["agent_id"] == first.id
    assert db.session.scalar(select(func.count()).select_from(CodCollection)) == 1
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert balance(A.AGENT_CASH_HELD, agent_id=second.id) == 0
    assert balance(A.AGENT_CASH_HELD, agent_id=first.id) == order.total
    assert balance(A.ORDERS_HELD) == 0
    assert agent_balances(second.id).on_hold == Decimal("175.00")
    assert agent_balances(first.id).on_hold == 0
    assert client.get("/api/delivery/dashboard", headers=headers).json["data"]["cash_held"] == (
        "0.00"
    )
    assert_books_balance()


def test_the_cash_awaited_list_runs_the_same_statements_for_any_page_size(client, admin_headers):
    def statements(orders: int) -> int:
        for _ in range(orders):
            ready_order(cash=True, status=OrderStatus.OUT_FOR_DELIVERY)
        db.session.expire_all()
        return count_statements(
            lambda: client.get("/api/admin/orders/cod-pending", headers=admin_headers)
        )

    assert statements(1) == statements(5)
