"""The supplier's and the admins' side: acknowledge, accept or dispute, approve or reject,
record the item, refund by hand; the ledger, stock and order statuses that follow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.auth.models import UserRole
from app.db import utcnow
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import LedgerEntry
from app.ledger.operations import balance, supplier_balances
from app.notifications.models import Notification
from app.payments.models import Refund
from app.returns.jobs import escalate_stale_returns
from app.returns.models import ReturnReason, ReturnRequest
from tests.factories.returns import delivered_order, request_return

D = Decimal


def test_the_supplier_acknowledges_then_accepts_and_the_refund_is_due(
    client, order, supplier, supplier_headers, assert_books_balance
):
    ret = request_return(order)
    base = f"/api/supplier/returns/{ret.id}"
    seen = client.post(f"{base}/acknowledge", json={"note": "Checking"}, headers=supplier_headers)
    assert seen.status_code == 200 and seen.json["data"]["status"] == "SUPPLIER_REVIEW"
    bad = client.post(f"{base}/respond", json={"decision": "MAYBE"}, headers=supplier_headers)
    assert bad.status_code == 400
    wrong = client.post(
        f"{base}/respond",
        json={"decision": "ACCEPT", "resolution": "REPAIR"},
        headers=supplier_headers,
    )
    assert wrong.json["error"]["code"] == "RESOLUTION_NOT_APPLICABLE"
    on_hold_before = supplier_balances(supplier.supplier_profile.id).on_hold

    accepted = client.post(f"{base}/respond", json={"decision": "ACCEPT"}, headers=supplier_headers)
    assert accepted.status_code == 200, accepted.json
    data = accepted.json["data"]
    assert data["status"] == "APPROVED"
    assert [e["to_status"] for e in data["timeline"]] == [
        "REQUESTED",
        "SUPPLIER_REVIEW",
        "APPROVED",
    ]
    assert data["refund"]["status"] == "PENDING" and data["refund"]["amount"] == "1499.99"
    # The supplier's share left its hold; the commission went back; the customer is owed.
    after = supplier_balances(supplier.supplier_profile.id)
    assert on_hold_before - after.on_hold == D("1349.99")
    assert balance(A.REFUNDS_OWED) == D("-1499.99")
    assert order.items[0].returned_quantity == 1
    assert (
        client.get(f"/api/orders/{order.id}", headers=supplier_headers).json["data"]["status"]
        == "DELIVERED"
    )
    again = client.post(f"{base}/respond", json={"decision": "ACCEPT"}, headers=supplier_headers)
    assert again.status_code == 409
    assert_books_balance()


def test_a_dispute_goes_to_an_admin_who_needs_a_reason_to_overrule_it(
    client, order, supplier_headers, admin_as, assert_books_balance
):
    ret = request_return(order)
    no_reason = client.post(
        f"/api/supplier/returns/{ret.id}/respond",
        json={"decision": "DISPUTE"},
        headers=supplier_headers,
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json["error"]["details"]
    disputed = client.post(
        f"/api/supplier/returns/{ret.id}/respond",
        json={"decision": "DISPUTE", "reason": "It was the right item"},
        headers=supplier_headers,
    )
    assert disputed.json["data"]["status"] == "DISPUTED"
    support = admin_as(UserRole.SUPPORT_ADMIN)
    assert (
        client.put(f"/api/admin/returns/{ret.id}/approve", json={}, headers=support).json["error"][
            "code"
        ]
        == "REASON_REQUIRED"
    )
    finance = admin_as(UserRole.FINANCE_ADMIN)
    forbidden = client.put(
        f"/api/returns/{ret.id}/review", json={"decision": "APPROVE"}, headers=finance
    )
    assert forbidden.status_code == 403
    approved = client.put(
        f"/api/returns/{ret.id}/review",
        json={"decision": "APPROVE", "reason": "Photos show the wrong colour"},
        headers=support,
    )
    assert approved.status_code == 200, approved.json
    assert approved.json["data"]["decision_reason"] == "Photos show the wrong colour"
    assert_books_balance()


def test_an_admin_rejects_with_a_reason_and_nothing_moves(client, order, admin_as):
    ret = request_return(order)
    admin = admin_as()
    no_reason = client.post(f"/api/admin/returns/{ret.id}/reject", json={}, headers=admin)
    assert no_reason.json["error"]["code"] == "REASON_REQUIRED"
    rejected = client.post(
        f"/api/admin/returns/{ret.id}/reject", json={"notes": "Used and scratched"}, headers=admin
    )
    assert rejected.status_code == 200 and rejected.json["data"]["status"] == "REJECTED"
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    assert balance(A.REFUNDS_OWED) == 0
    second = client.put(
        f"/api/returns/{ret.id}/review", json={"decision": "APPROVE"}, headers=admin
    )
    assert (second.status_code, second.json["error"]["code"]) == (409, "INVALID_TRANSITION")


def test_item_received_restocks_once_and_a_manual_refund_completes_the_return(
    client, order, shop, admin_as, customer_headers, assert_books_balance
):
    ret = request_return(order, reason=ReturnReason.CHANGED_MIND)
    admin, finance = admin_as(), admin_as(UserRole.FINANCE_ADMIN)
    approved = client.put(f"/api/admin/returns/{ret.id}/approve", json={}, headers=admin).json
    assert approved["data"]["refund_amount"] == "1349.99"  # 10 % restocking fee kept
    assert approved["data"]["restocking_fee"] == "150.00"
    stock = shop["phone"].stock

    closing = client.put(
        f"/api/returns/{ret.id}/status", json={"status": "COMPLETED"}, headers=admin
    )
    assert closing.json["error"]["code"] == "NOTE_REQUIRED"
    no_condition = client.put(
        f"/api/returns/{ret.id}/status", json={"status": "ITEM_RECEIVED"}, headers=admin
    )
    assert no_condition.status_code == 400
    received = client.put(
        f"/api/returns/{ret.id}/status",
        json={"status": "ITEM_RECEIVED", "item_condition": "RESELLABLE"},
        headers=admin,
    )
    assert received.json["data"]["status"] == "ITEM_RECEIVED"
    twice = client.put(
        f"/api/returns/{ret.id}/status",
        json={"status": "ITEM_RECEIVED", "item_condition": "RESELLABLE"},
        headers=admin,
    )
    assert twice.status_code == 409
    db.session.refresh(shop["phone"])
    assert shop["phone"].stock == stock + 1

    no_ref = client.post(
        f"/api/admin/returns/{ret.id}/process-refund", json={"method": "MANUAL"}, headers=finance
    )
    assert no_ref.status_code == 400
    mismatch = client.post(
        f"/api/admin/returns/{ret.id}/process-refund", json={"method": "PAYSTACK"}, headers=finance
    )
    assert mismatch.json["error"]["code"] == "REFUND_METHOD_MISMATCH"
    headers = finance | {"Idempotency-Key": "refund-1"}
    paid = client.post(
        f"/api/admin/returns/{ret.id}/process-refund",
        json={"method": "MANUAL", "reference": "SLK4H2J9XQ"},
        headers=headers,
    )
    assert paid.status_code == 200, paid.json
    assert paid.json["data"]["status"] == "COMPLETED"
    assert paid.json["data"]["refund"]["status"] == "COMPLETED"
    replay = client.post(
        f"/api/admin/returns/{ret.id}/process-refund",
        json={"method": "MANUAL", "reference": "SLK4H2J9XQ"},
        headers=headers,
    )
    assert replay.headers.get("Idempotent-Replayed") == "true"
    order_now = client.get(f"/api/orders/{order.id}", headers=customer_headers).json["data"]
    assert order_now["payment_status"] == "PARTIALLY_REFUNDED"
    assert balance(A.RESTOCKING_REVENUE) == D("-150.00")
    assert balance(A.REFUNDS_OWED) == 0
    assert_books_balance()


def test_the_whole_order_back_for_a_supplier_fault_refunds_the_delivery_fee_too(
    client, customer, shop, admin_as, assert_books_balance
):
    order = delivered_order(customer, [(shop["phone"], 2)])
    ret = request_return(order, quantity=2, reason=ReturnReason.MISSING_PARTS)
    assert ret.refund_amount == D("3249.98") and ret.delivery_fee_refund == D("250.00")
    admin = admin_as()
    client.put(f"/api/returns/{ret.id}/review", json={"decision": "APPROVE"}, headers=admin)
    finance = admin_as(UserRole.FINANCE_ADMIN)
    client.post(
        f"/api/admin/refunds/{ret.refund_id}/process",
        json={"method": "MANUAL", "reference": "SLK4H2J9XR"},
        headers=finance,
    )
    db.session.expire_all()
    order = db.session.get(type(order), order.id)
    assert (order.status, order.payment_status) == ("RETURNED", "REFUNDED")
    assert balance(A.RETURN_COSTS) == D("250.00")
    assert_books_balance()


def test_damage_in_transit_is_borne_by_the_platform(
    client, order, supplier, admin_as, assert_books_balance
):
    ret = request_return(order, reason=ReturnReason.DAMAGED_IN_TRANSIT)
    before = supplier_balances(supplier.supplier_profile.id)
    client.put(f"/api/returns/{ret.id}/review", json={"decision": "APPROVE"}, headers=admin_as())
    assert supplier_balances(supplier.supplier_profile.id) == before
    assert balance(A.RETURN_COSTS) == D("1499.99")
    assert_books_balance()


def test_a_return_after_the_hold_was_released_debits_available_and_nothing_twice(
    client, order, supplier, admin_as, assert_books_balance
):
    from app.ledger.jobs import release_earnings

    supplier_id = supplier.supplier_profile.id
    assert release_earnings(now=utcnow() + timedelta(days=30)) == 2  # the two lines
    db.session.commit()
    released = supplier_balances(supplier_id)
    assert released.on_hold == 0 and released.available == D("2699.98")
    ret = request_return(order)
    client.put(f"/api/returns/{ret.id}/review", json={"decision": "APPROVE"}, headers=admin_as())
    after = supplier_balances(supplier_id)
    assert after.on_hold == 0 and after.available == D("1349.99")
    assert release_earnings(now=utcnow() + timedelta(days=60)) == 0
    assert_books_balance()


def test_a_return_before_the_release_leaves_only_the_rest_to_release(
    client, order, supplier, admin_as, assert_books_balance
):
    from app.ledger.jobs import release_earnings

    supplier_id = supplier.supplier_profile.id
    ret = request_return(order)
    client.put(f"/api/returns/{ret.id}/review", json={"decision": "APPROVE"}, headers=admin_as())
    assert supplier_balances(supplier_id).on_hold == D("1349.99")
    release_earnings(now=utcnow() + timedelta(days=30))
    db.session.commit()
    final = supplier_balances(supplier_id)
    assert (final.on_hold, final.available) == (0, D("1349.99"))
    assert_books_balance()


def test_stale_returns_go_to_admin_review_and_admins_are_told(client, order, admin_as, role_user):
    admin = role_user(UserRole.ADMIN)
    waiting = request_return(order)
    fresh = request_return(order, item=order.items[1])
    waiting.supplier_respond_by = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert escalate_stale_returns() == 1
    assert escalate_stale_returns() == 0
    db.session.expire_all()
    assert db.session.get(ReturnRequest, waiting.id).status == "PENDING_REVIEW"
    assert db.session.get(ReturnRequest, fresh.id).status == "REQUESTED"
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == admin.id, Notification.event == "return-pending-review"
            )
        )
        == 1
    )
    timeline = client.get(f"/api/returns/{waiting.id}", headers=admin_as()).json["data"]["timeline"]
    assert timeline[-1]["actor_id"] is None and "48 hours" in timeline[-1]["note"]


def test_a_warranty_claim_replaced_ships_a_free_replacement_and_refunds_nothing(
    client, customer, shop, supplier_headers, admin_as, assert_books_balance
):
    order = delivered_order(customer, [(shop["phone"], 1)], days_ago=40)
    ret = request_return(order, reason=ReturnReason.DEFECTIVE)
    assert ret.type == "WARRANTY"
    needs = client.post(
        f"/api/supplier/returns/{ret.id}/respond",
        json={"decision": "ACCEPT"},
        headers=supplier_headers,
    )
    assert needs.json["error"]["code"] == "RESOLUTION_REQUIRED"
    stock = shop["phone"].stock
    replaced = client.post(
        f"/api/supplier/returns/{ret.id}/respond",
        json={"decision": "ACCEPT", "resolution": "REPLACEMENT"},
        headers=supplier_headers,
    )
    data = replaced.json["data"]
    assert data["status"] == "APPROVED" and data["refund_amount"] == "0.00"
    assert data["replacement"]["status"] == "PENDING"
    assert data["replacement"]["address"]["street"] == order.delivery_street
    db.session.refresh(shop["phone"])
    assert shop["phone"].stock == stock - 1
    assert (
        db.session.scalar(
            select(func.count(LedgerEntry.id)).where(
                LedgerEntry.event_key.like("return-approved:%")
            )
        )
        == 0
    )
    admin = admin_as()
    shipped = client.put(
        f"/api/admin/returns/{ret.id}/replacement", json={"status": "SHIPPED"}, headers=admin
    )
    assert shipped.json["data"]["replacement"]["status"] == "SHIPPED"
    skip = client.put(
        f"/api/admin/returns/{ret.id}/replacement", json={"status": "SHIPPED"}, headers=admin
    )
    assert skip.status_code == 409
    assert_books_balance()


def test_everyone_concerned_is_emailed_at_each_step(client, order, supplier, supplier_headers):
    from app.notifications.models import OutboxEmail

    ret = request_return(order)
    client.post(f"/api/supplier/returns/{ret.id}/acknowledge", json={}, headers=supplier_headers)
    client.post(
        f"/api/supplier/returns/{ret.id}/respond",
        json={"decision": "ACCEPT"},
        headers=supplier_headers,
    )
    sent = db.session.execute(
        select(OutboxEmail.to_address, OutboxEmail.subject).where(
            OutboxEmail.template == "return_update"
        )
    ).all()
    number = ret.return_number
    customer_email = order.customer.email
    assert sorted(sent) == sorted(
        [
            (customer_email, f"Return {number} requested"),
            (supplier.email, f"Return {number} requested"),
            (customer_email, f"Return {number} is being reviewed by the seller"),
            (customer_email, f"Return {number} approved"),
            (supplier.email, f"Return {number} approved"),
        ]
    )
    body = db.session.scalar(
        select(OutboxEmail.body_text).where(OutboxEmail.subject == f"Return {number} approved")
    )
    assert "Refund: KES 1499.99" in body


def test_a_refund_is_processed_only_for_an_approved_return(client, order, admin_as):
    ret = request_return(order)
    finance = admin_as(UserRole.FINANCE_ADMIN)
    early = client.post(f"/api/admin/returns/{ret.id}/process-refund", json={}, headers=finance)
    assert (early.status_code, early.json["error"]["code"]) == (409, "RETURN_NOT_APPROVED")
    support = admin_as(UserRole.SUPPORT_ADMIN)
    assert (
        client.post(
            f"/api/admin/returns/{ret.id}/process-refund", json={}, headers=support
        ).status_code
        == 403
    )
    assert (
        client.post("/api/admin/refunds/999/process", json={}, headers=finance).status_code == 404
    )
