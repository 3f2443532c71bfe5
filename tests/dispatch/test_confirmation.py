"""The customer confirms or disputes a delivery; the job confirms the rest; admins
resolve disputes (and a disputed order's earnings wait)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.auth.models import SupplierProfile
from app.db import utcnow
from app.dispatch.models import Confirmation, Delivery
from app.extensions import db
from app.ledger.jobs import release_earnings
from app.ledger.models import AccountCode as A
from app.ledger.models import EntryKind, LedgerEntry
from app.ledger.operations import agent_balances, balance, supplier_balances
from app.orders.models import OrderStatus
from app.scheduler import find_job
from app.signals import delivery_dispute_resolved
from tests.dispatch.helpers import deliver, delivered_order, sent_out_again

S = OrderStatus


def confirm(client, order, headers):
    return client.post(f"/api/delivery/customer/orders/{order.id}/confirm-receipt", headers=headers)


def dispute(client, order, headers, reason="It never came"):
    return client.post(
        f"/api/delivery/customer/orders/{order.id}/dispute",
        json={"reason": reason},
        headers=headers,
    )


def resolve(client, order, headers, resolution, note="Checked with the agent"):
    return client.post(
        f"/api/delivery/admin/orders/{order.id}/resolve-dispute",
        json={"resolution": resolution, "note": note},
        headers=headers,
    )


def delivery(order):
    return db.session.scalar(
        select(Delivery)
        .where(Delivery.order_id == order.id)
        .execution_options(populate_existing=True)
    )


def test_the_customer_confirms_once(client, admin_headers, auth_headers, role_user):
    order, _ = delivered_order(client, admin_headers, auth_headers)
    headers = auth_headers(order.customer)
    pending = client.get("/api/delivery/admin/pending-confirmations", headers=admin_headers).json
    assert [d["order_id"] for d in pending["data"]] == [order.id]

    response = confirm(client, order, headers)

    assert response.status_code == 200 and response.json["data"]["confirmation"] == "CONFIRMED"
    again = confirm(client, order, headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "NOT_AWAITING_CONFIRMATION"
    assert dispute(client, order, headers).status_code == 409
    stranger = auth_headers(role_user("CUSTOMER"))
    assert confirm(client, order, stranger).status_code == 404


def test_a_dispute_within_the_window_holds_the_orders_earnings(
    client, admin_headers, auth_headers, assert_books_balance
):
    order, agent = delivered_order(client, admin_headers, auth_headers)
    headers = auth_headers(order.customer)
    assert dispute(client, order, headers, reason="").status_code == 400

    response = dispute(client, order, headers)

    assert response.status_code == 200 and response.json["data"]["confirmation"] == "DISPUTED"
    listed = client.get("/api/delivery/admin/disputed-orders", headers=admin_headers).json["data"]
    assert [d["order_id"] for d in listed] == [order.id]
    # past the supplier's hold, a disputed order's earnings stay where they are
    later = utcnow() + timedelta(days=30)
    assert release_earnings(now=later) == 0
    db.session.commit()
    supplier_id = order.items[0].supplier_id
    assert supplier_balances(supplier_id).on_hold == Decimal("900.00")
    assert agent_balances(agent.id).on_hold == Decimal("175.00")
    assert client.post("/api/delivery/admin/process-auto-confirmations", headers=admin_headers)
    assert agent_balances(agent.id).available == 0  # the job leaves a dispute alone

    resolved = resolve(client, order, admin_headers, "DELIVERED")

    assert resolved.status_code == 200, resolved.json
    assert resolved.json["data"]["resolution"] == "DELIVERED"
    assert release_earnings(now=later) == 1
    db.session.commit()
    assert supplier_balances(supplier_id).available == Decimal("900.00")
    assert agent_balances(agent.id).available == Decimal("175.00")
    assert resolve(client, order, admin_headers, "DELIVERED").status_code == 409
    assert_books_balance()


def test_the_dispute_window_closes(client, admin_headers, auth_headers):
    order, _ = delivered_order(client, admin_headers, auth_headers)
    record = delivery(order)
    record.delivered_at = utcnow() - timedelta(hours=25)
    db.session.commit()

    late = dispute(client, order, auth_headers(order.customer))

    assert late.status_code == 422 and late.json["error"]["code"] == "DISPUTE_WINDOW_CLOSED"


def test_the_job_confirms_what_the_customer_left(client, admin_headers, auth_headers):
    old, _ = delivered_order(client, admin_headers, auth_headers)
    recent, _ = delivered_order(client, admin_headers, auth_headers)
    disputed, _ = delivered_order(client, admin_headers, auth_headers)
    assert dispute(client, disputed, auth_headers(disputed.customer)).status_code == 200
    for order in (old, disputed):
        delivery(order).delivered_at = utcnow() - timedelta(hours=25)
    db.session.commit()

    assert find_job("auto_confirm_deliveries").load()() == 1
    db.session.commit()

    assert delivery(old).confirmation == Confirmation.AUTO_CONFIRMED
    assert agent_balances(old.delivery_agent_id).available == Decimal("175.00")
    assert agent_balances(recent.delivery_agent_id).on_hold == Decimal("175.00")
    assert delivery(recent).confirmation == Confirmation.PENDING
    assert delivery(disputed).confirmation == Confirmation.DISPUTED
    ran = client.post("/api/delivery/admin/process-auto-confirmations", headers=admin_headers)
    assert ran.status_code == 200 and ran.json["data"]["count"] == 0


def test_not_delivered_reverses_the_delivery_and_sends_the_order_back(
    client, admin_headers, auth_headers, assert_books_balance
):
    order, agent = delivered_order(client, admin_headers, auth_headers)
    dispute(client, order, auth_headers(order.customer))
    assert balance(A.DELIVERY_REVENUE) == -Decimal("75.00")  # the agent's 0.70 is on hold
    assert agent_balances(agent.id).on_hold == Decimal("175.00")

    response = resolve(client, order, admin_headers, "NOT_DELIVERED")

    assert response.status_code == 200, response.json
    db.session.expire_all()
    assert order.status == S.SHIPPED and order.delivery_agent_id is None
    assert order.delivered_at is None
    assert balance(A.DELIVERY_REVENUE) == 0 and balance(A.COMMISSION_REVENUE) == 0
    assert agent_balances(agent.id) == agent_balances(-1)  # nothing earned
    assert supplier_balances(order.items[0].supplier_id).on_hold == 0
    assert_books_balance()
    unassigned = client.get("/api/delivery/admin/orders/unassigned", headers=admin_headers).json
    assert [o["id"] for o in unassigned["data"]] == [order.id]

    # delivered again: it posts afresh (its own keys), and can be confirmed
    code = sent_out_again(client, admin_headers, auth_headers, order, agent)
    assert deliver(client, order, auth_headers(agent), code).status_code == 200
    assert balance(A.DELIVERY_REVENUE) == -Decimal("75.00")
    assert db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.event_key == f"order-delivered:{order.id}:r2")
    )
    assert confirm(client, order, auth_headers(order.customer)).status_code == 200
    assert agent_balances(agent.id).available == Decimal("175.00")
    assert agent_balances(agent.id).on_hold == 0
    assert_books_balance()


def test_a_redelivery_restarts_the_suppliers_hold(
    client, admin_headers, auth_headers, assert_books_balance, monkeypatch, app
):
    """The hold runs from the delivery that stood, not from the one undone."""
    order, agent = delivered_order(client, admin_headers, auth_headers)
    first_delivered_at = order.delivered_at
    dispute(client, order, auth_headers(order.customer))
    assert resolve(client, order, admin_headers, "NOT_DELIVERED").status_code == 200
    code = sent_out_again(client, admin_headers, auth_headers, order, agent)
    redelivered_at = first_delivered_at + timedelta(days=3)
    monkeypatch.setattr("app.orders.state.utcnow", lambda: redelivered_at)
    assert deliver(client, order, auth_headers(agent), code).status_code == 200
    hold = timedelta(days=app.config["EARNINGS_HOLD_DAYS"])
    supplier_id = order.items[0].supplier_id

    assert release_earnings(now=first_delivered_at + hold + timedelta(hours=1)) == 0
    db.session.commit()
    assert supplier_balances(supplier_id).on_hold == Decimal("900.00")
    supplier = db.session.get(SupplierProfile, supplier_id)
    pending = client.get("/api/supplier/payouts/pending", headers=auth_headers(supplier.user))
    pending = pending.json["data"]
    assert pending["on_hold_parts"] == [
        {"release_at": f"{redelivered_at + hold:%Y-%m-%dT%H:%M:%SZ}", "amount": "900.00"}
    ]

    assert release_earnings(now=redelivered_at + hold) == 1
    db.session.commit()
    assert supplier_balances(supplier_id).on_hold == 0
    assert supplier_balances(supplier_id).available == Decimal("900.00")
    assert_books_balance()


def test_a_return_resolution_is_announced_for_the_returns_domain(
    client, admin_headers, auth_headers
):
    order, _ = delivered_order(client, admin_headers, auth_headers)
    dispute(client, order, auth_headers(order.customer))
    heard = []

    def listener(sender, **kwargs):
        heard.append((sender.id, kwargs["resolution"], kwargs["note"]))

    with delivery_dispute_resolved.connected_to(listener):
        response = resolve(client, order, admin_headers, "RETURN", note="Screen cracked")

    assert response.status_code == 200
    assert heard == [(order.id, "RETURN", "Screen cracked")]
    db.session.expire_all()
    assert order.status == S.DELIVERED
    bad = client.post(
        f"/api/delivery/admin/orders/{order.id}/resolve-dispute",
        json={"resolution": "MAYBE", "note": "x"},
        headers=admin_headers,
    )
    assert bad.status_code == 400


def test_a_delivery_found_not_made_mirrors_each_of_its_entries_once(
    client, admin_headers, auth_headers, assert_books_balance
):
    order, _ = delivered_order(client, admin_headers, auth_headers)
    dispute(client, order, auth_headers(order.customer))
    assert resolve(client, order, admin_headers, "NOT_DELIVERED").status_code == 200
    entries = {
        entry.event_key: entry
        for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.order_id == order.id))
    }
    delivered = [f"item-delivered:{item.id}" for item in order.items] + [
        f"order-delivered:{order.id}"
    ]
    for key in delivered:
        mirror = entries[f"reversal:{key}"]
        assert (mirror.kind, mirror.reverses_id) == (EntryKind.REVERSAL, entries[key].id)
        assert sorted(-line.amount for line in mirror.lines) == sorted(
            line.amount for line in entries[key].lines
        )
    assert sum(key.startswith("reversal:") for key in entries) == len(delivered)
    assert_books_balance()
