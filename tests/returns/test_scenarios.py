"""Whole stories, through HTTP, ending with the books balanced: an M-Pesa order from two
suppliers, a card order refunded at Paystack (faked at the HTTP boundary in its real
format), and a cash order."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses

from app.auth.models import UserRole
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.operations import balance, supplier_balances
from app.orders.models import PaymentMethod
from app.orders.operations import cancel_order
from app.orders.state import change_payment_status, change_status
from app.payments.models import Payment, Refund
from app.services.paystack import PaystackClient
from tests.factories.auth import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory, OrderFactory
from tests.factories.payments import PAYSTACK, PaymentFactory, paystack_refund, refund_event
from tests.factories.returns import delivered_order
from tests.payments.conftest import post_webhook
from tests.returns.conftest import IMAGE

D = Decimal


@pytest.fixture
def real_paystack(app, monkeypatch):
    client = PaystackClient(secret_key="sk_test_fake", base_url=PAYSTACK)
    monkeypatch.setitem(app.extensions, "paystack", client)
    return client


def ask_and_approve(client, order, buyer, admin, reason="WRONG_ITEM", images=()) -> dict:
    """The customer asks a return of the order's first unit; an admin approves it."""
    ret = client.post(
        "/api/returns",
        json={
            "order_id": order.id,
            "order_item_id": order.items[0].id,
            "quantity": 1,
            "reason": reason,
            "images": list(images),
        },
        headers=buyer,
    ).json["data"]
    approved = client.put(
        f"/api/returns/{ret['id']}/review", json={"decision": "APPROVE"}, headers=admin
    )
    assert approved.status_code == 200, approved.json
    return ret


def register(client, email):
    response = client.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": "Sup3rSecret",
            "first_name": "Achieng",
            "last_name": "Otieno",
            "phone": "0712345678",
        },
    )
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['data']['access_token']}"}


def test_mpesa_order_from_two_suppliers_one_item_back_over_a_dispute(
    client, role_user, auth_headers, assert_books_balance
):
    """Checkout and the STK Push through the API and the simulator; delivered; the phone
    comes back (its supplier disputes, an admin overrules); refunded by M-Pesa B2C (the
    simulator's result callback); stock back, supplier debited, statuses right."""
    zone = DeliveryZoneFactory(name="Nairobi", fee=D("250.00"))
    seller, other = role_user(UserRole.SUPPLIER), role_user(UserRole.SUPPLIER)
    phone = ProductFactory(supplier=seller.supplier_profile, price=D("1499.99"), stock=5)
    case = ProductFactory(supplier=other.supplier_profile, price=D("350.50"), stock=5)
    buyer = register(client, "buyer@example.co.ke")
    for product in (phone, case):
        added = client.post(
            "/api/cart/items", json={"product_id": product.id, "quantity": 1}, headers=buyer
        )
        assert added.status_code == 201
    address = client.post(
        "/api/orders/addresses",
        json={
            "recipient_name": "Achieng Otieno",
            "phone": "0712345678",
            "county": "Nairobi",
            "town": "Kilimani",
            "street": "Argwings Kodhek Rd 7",
            "delivery_zone_id": zone.id,
        },
        headers=buyer,
    ).json["data"]
    order = client.post(
        "/api/orders",
        json={"address_id": address["id"], "payment_method": "MPESA"},
        headers=buyer,
    ).json["data"]
    paid = client.post(
        "/api/payments/mpesa/initiate",
        json={"order_id": order["id"], "phone": "0712345678"},
        headers=buyer,
    )
    assert paid.status_code == 201, paid.json
    admin = auth_headers(role_user(UserRole.ADMIN))
    for status in (
        "PROCESSING",
        "QUALITY_APPROVED",
        "SHIPPED",
        "OUT_FOR_DELIVERY",
        "ARRIVED",
        "DELIVERED",
    ):
        moved = client.put(
            f"/api/orders/{order['id']}/status", json={"status": status}, headers=admin
        )
        assert moved.status_code == 200, moved.json
    phone_item = next(i for i in order["items"] if i["product_id"] == phone.id)

    asked = client.post(
        "/api/returns",
        json={
            "order_id": order["id"],
            "order_item_id": phone_item["id"],
            "quantity": 1,
            "reason": "DEFECTIVE",
            "description": "Screen flickers",
            "images": [IMAGE],
        },
        headers=buyer | {"Idempotency-Key": "ret-1"},
    )
    assert asked.status_code == 201, asked.json
    ret = asked.json["data"]
    assert ret["refund_amount"] == "1499.99" and "supplier_deduction" not in ret
    seller_headers = auth_headers(seller)
    shown = client.get(f"/api/supplier/returns/{ret['id']}", headers=seller_headers).json["data"]
    assert shown["supplier_deduction"] == "1349.99"
    client.post(f"/api/supplier/returns/{ret['id']}/acknowledge", json={}, headers=seller_headers)
    client.post(
        f"/api/supplier/returns/{ret['id']}/respond",
        json={"decision": "DISPUTE", "reason": "Works fine here"},
        headers=seller_headers,
    )
    support = auth_headers(role_user(UserRole.SUPPORT_ADMIN))
    approved = client.put(
        f"/api/admin/returns/{ret['id']}/approve",
        json={"reason": "Video shows the flicker"},
        headers=support,
    )
    assert approved.status_code == 200, approved.json
    seller_id, other_id = seller.supplier_profile.id, other.supplier_profile.id
    assert supplier_balances(seller_id).on_hold == D("0.00")
    assert supplier_balances(other_id).on_hold == D("315.45")  # untouched: 350.50 less 10 %

    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    refunded = client.post(
        f"/api/admin/returns/{ret['id']}/process-refund",
        json={},
        headers=finance | {"Idempotency-Key": "pay-back-1"},
    )
    # The simulator's B2C result arrived at once: 1,500 sent for 1,499.99.
    assert refunded.status_code == 200, refunded.json
    assert refunded.json["data"]["status"] == "REFUND_COMPLETED"
    assert refunded.json["data"]["refund"]["method"] == "MPESA_B2C"
    assert balance(A.RETURN_COSTS) == D("0.01")
    received = client.put(
        f"/api/returns/{ret['id']}/status",
        json={"status": "ITEM_RECEIVED", "item_condition": "RESELLABLE"},
        headers=admin,
    )
    final = received.json["data"]
    assert final["status"] == "COMPLETED"
    assert [e["to_status"] for e in final["timeline"]] == [
        "REQUESTED",
        "SUPPLIER_REVIEW",
        "DISPUTED",
        "APPROVED",
        "REFUND_COMPLETED",
        "COMPLETED",
    ]
    db.session.refresh(phone)
    assert phone.stock == 5  # 1 sold, 1 back
    shown = client.get(f"/api/orders/{order['id']}", headers=buyer).json["data"]
    assert (shown["status"], shown["payment_status"]) == ("DELIVERED", "PARTIALLY_REFUNDED")
    stats = client.get("/api/returns/stats", headers=seller_headers).json["data"]
    assert stats["total"] == 1 and stats["refunded_amount"] == "1499.99"
    assert stats["supplier_deductions"] == "1349.99"
    assert_books_balance()


@responses.activate
def test_card_order_refunded_at_paystack_and_confirmed_by_its_webhook(
    app, client, customer, role_user, auth_headers, real_paystack, assert_books_balance
):
    seller = role_user(UserRole.SUPPLIER)
    phone = ProductFactory(supplier=seller.supplier_profile, price=D("1499.99"))
    order = delivered_order(customer, [(phone, 2)], method=PaymentMethod.CARD)
    payment = db.session.scalar(db.select(Payment).where(Payment.order_id == order.id))
    buyer = auth_headers(customer)
    admin = auth_headers(role_user(UserRole.ADMIN))
    ret = ask_and_approve(client, order, buyer, admin, reason="NOT_AS_DESCRIBED")
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))

    # Paystack down: 502, the refund stays PENDING and nothing was sent.
    responses.post(f"{PAYSTACK}/refund", body=requests.ConnectTimeout())
    down = client.post(f"/api/admin/returns/{ret['id']}/process-refund", json={}, headers=finance)
    assert (down.status_code, down.json["error"]["code"]) == (502, "PROVIDER_ERROR")
    refund = db.session.scalar(db.select(Refund))
    assert refund.status == "PENDING"

    responses.replace(
        responses.POST,
        f"{PAYSTACK}/refund",
        json=paystack_refund(amount=149999, reference=payment.reference),
    )
    sent = client.post(f"/api/admin/returns/{ret['id']}/process-refund", json={}, headers=finance)
    assert sent.status_code == 200, sent.json
    assert sent.json["data"]["refund"]["status"] == "PROCESSING"  # accepted is not refunded
    assert sent.json["data"]["status"] == "APPROVED"
    call = responses.calls[-1].request
    assert call.headers["Authorization"] == "Bearer sk_test_fake"
    assert json.loads(call.body) | {} == {
        "transaction": payment.reference,
        "amount": 149999,
        "currency": "KES",
        "customer_note": f"Refund for order {order.order_number}",
        "merchant_note": f"Refund {refund.id} (return:{ret['id']})",
    }
    again = client.post(f"/api/admin/refunds/{refund.id}/process", json={}, headers=finance)
    assert again.json["data"]["status"] == "PROCESSING"
    assert len(responses.calls) == 2  # the double click sent nothing

    pending = post_webhook(
        app,
        client,
        refund_event("refund.pending", payment.reference, 149999, refund_reference=None),
    )
    assert pending.status_code == 200
    done = post_webhook(app, client, refund_event("refund.processed", payment.reference, 149999))
    assert done.status_code == 200, done.json
    replayed = post_webhook(
        app, client, refund_event("refund.processed", payment.reference, 149999)
    )
    assert replayed.status_code == 200
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert (refund.status, refund.provider_refund_id) == ("COMPLETED", "3018284")
    shown = client.get(f"/api/returns/{ret['id']}", headers=buyer).json["data"]
    assert shown["status"] == "REFUND_COMPLETED"
    assert (
        client.get(f"/api/orders/{order.id}", headers=buyer).json["data"]["payment_status"]
        == "PARTIALLY_REFUNDED"
    )
    assert balance(A.REFUNDS_OWED) == 0
    assert_books_balance()


@responses.activate
def test_a_refund_paystack_refuses_fails_and_an_admin_retries_it(
    app, client, customer, role_user, auth_headers, real_paystack, assert_books_balance
):
    phone = ProductFactory(price=D("1000.00"))
    order = delivered_order(customer, [(phone, 1)], method=PaymentMethod.CARD)
    payment = db.session.scalar(db.select(Payment).where(Payment.order_id == order.id))
    admin = auth_headers(role_user(UserRole.ADMIN))
    ret = ask_and_approve(client, order, auth_headers(customer), admin, reason="CHANGED_MIND")
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    refund_id = db.session.scalar(db.select(Refund.id))
    responses.post(
        f"{PAYSTACK}/refund",
        status=400,
        json={
            "status": False,
            "message": "Transaction has been fully reversed",
            "type": "api_error",
            "code": "transaction_reversed",
        },
    )
    failed = client.post(f"/api/admin/refunds/{refund_id}/process", json={}, headers=finance)
    assert failed.json["data"]["status"] == "FAILED"
    assert "fully reversed" in failed.json["data"]["failure_reason"]
    process_again = client.post(f"/api/admin/refunds/{refund_id}/process", json={}, headers=finance)
    assert process_again.json["error"]["code"] == "REFUND_FAILED"

    responses.replace(
        responses.POST,
        f"{PAYSTACK}/refund",
        json=paystack_refund(refund_id=77, amount=90000, reference=payment.reference),
    )
    retried = client.post(f"/api/admin/refunds/{refund_id}/retry", headers=finance)
    assert retried.json["data"]["status"] == "PROCESSING"
    assert retried.json["data"]["attempts"] == 2
    processed = {
        "status": True,
        "message": "Refund retrieved",
        "data": paystack_refund(refund_id=77, amount=90000)["data"] | {"status": "processed"},
    }
    check = responses.get(f"{PAYSTACK}/refund/77", json=processed)
    checked = client.post(f"/api/admin/refunds/{refund_id}/retry", headers=finance)
    assert checked.json["data"]["status"] == "COMPLETED" and check.call_count == 1
    done = client.post(f"/api/admin/refunds/{refund_id}/retry", headers=finance)
    assert done.status_code == 409
    assert (
        client.get(f"/api/returns/{ret['id']}", headers=auth_headers(customer)).json["data"][
            "status"
        ]
        == "REFUND_COMPLETED"
    )
    assert_books_balance()


def test_cash_order_refunded_by_hand_and_listed_with_every_other_refund(
    client, customer, role_user, auth_headers, assert_books_balance
):
    phone = ProductFactory(price=D("1200.00"))
    order = delivered_order(customer, [(phone, 1)], method=PaymentMethod.CASH)
    # A paid order cancelled before delivery: wave 1's refund due, listed with the rest.
    cancelled = OrderFactory(customer=UserFactory(role=UserRole.CUSTOMER), items=[(phone, 1)])
    PaymentFactory(order=cancelled, completed=True)
    change_payment_status(cancelled, "COMPLETED")
    change_status(cancelled, "PAID")
    cancel_order(cancelled, actor_id=None, reason="Changed plans")
    db.session.commit()
    admin = auth_headers(role_user(UserRole.ADMIN))
    ret = ask_and_approve(client, order, auth_headers(customer), admin)
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    listed = client.get("/api/admin/refunds", headers=finance).json
    assert [r["key"] for r in listed["data"]] == [f"return:{ret['id']}", f"cancel:{cancelled.id}"]
    assert listed["data"][0]["payment_method"] == "CASH"
    only = client.get(
        "/api/admin/refunds", query_string={"cause": "ORDER_CANCELLED"}, headers=finance
    ).json["data"]
    assert [r["order_id"] for r in only] == [cancelled.id]
    assert client.get("/api/admin/refunds", headers=auth_headers(customer)).status_code == 403
    support = auth_headers(role_user(UserRole.SUPPORT_ADMIN))
    assert client.get("/api/admin/refunds", headers=support).status_code == 403
    refund_id = listed["data"][0]["id"]
    paid = client.post(
        f"/api/admin/refunds/{refund_id}/process",
        json={"method": "MANUAL", "reference": "CASH-RCPT-77"},
        headers=finance,
    )
    assert paid.json["data"]["status"] == "COMPLETED"
    assert paid.json["data"]["manual_reference"] == "CASH-RCPT-77"
    db.session.refresh(phone)
    stock = phone.stock
    client.put(
        f"/api/returns/{ret['id']}/status",
        json={"status": "ITEM_RECEIVED", "item_condition": "DAMAGED"},
        headers=admin,
    )
    db.session.refresh(phone)
    assert phone.stock == stock  # a damaged item does not go back on sale
    shown = client.get(f"/api/orders/{order.id}", headers=auth_headers(customer)).json["data"]
    # The whole order came back for a supplier fault: the delivery fee too.
    assert (shown["status"], shown["payment_status"]) == ("RETURNED", "REFUNDED")
    assert balance(A.CASH_COLLECTED) == 0
    assert_books_balance()


@responses.activate
def test_the_reconcile_job_asks_paystack_about_a_refund_no_webhook_confirmed(
    client, customer, role_user, auth_headers, real_paystack, assert_books_balance
):
    from datetime import timedelta

    from app.db import utcnow
    from app.payments.jobs import reconcile_processing_refunds

    order = delivered_order(
        customer, [(ProductFactory(price=D("800.00")), 1)], method=PaymentMethod.CARD
    )
    admin = auth_headers(role_user(UserRole.ADMIN))
    ret = ask_and_approve(client, order, auth_headers(customer), admin)
    payment = db.session.scalar(db.select(Payment))
    responses.post(
        f"{PAYSTACK}/refund",
        json=paystack_refund(refund_id=55, amount=105000, reference=payment.reference),
    )
    client.post(
        f"/api/admin/returns/{ret['id']}/process-refund",
        json={},
        headers=auth_headers(role_user(UserRole.FINANCE_ADMIN)),
    )
    assert reconcile_processing_refunds() == {"checked": 0, "settled": 0, "errors": 0}
    refund = db.session.scalar(db.select(Refund))
    refund.processed_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    answer = paystack_refund(refund_id=55, amount=105000)["data"] | {"status": "processed"}
    responses.get(
        f"{PAYSTACK}/refund/55",
        json={"status": True, "message": "Refund retrieved", "data": answer},
    )
    assert reconcile_processing_refunds() == {"checked": 1, "settled": 1, "errors": 0}
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == "COMPLETED"
    assert_books_balance()


@responses.activate
def test_a_paystack_refund_without_an_answer_is_never_sent_twice(
    app, client, customer, role_user, auth_headers, real_paystack, assert_books_balance
):
    seller = role_user(UserRole.SUPPLIER)
    phone = ProductFactory(supplier=seller.supplier_profile, price=D("1499.99"))
    order = delivered_order(customer, [(phone, 2)], method=PaymentMethod.CARD)
    payment = db.session.scalar(db.select(Payment).where(Payment.order_id == order.id))
    admin = auth_headers(role_user(UserRole.ADMIN))
    ret = ask_and_approve(client, order, auth_headers(customer), admin, reason="WRONG_ITEM")
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    # The request reached Paystack, whose answer never came: it may have refunded.
    responses.post(f"{PAYSTACK}/refund", body=requests.ReadTimeout())

    sent = client.post(f"/api/admin/returns/{ret['id']}/process-refund", json={}, headers=finance)

    assert sent.status_code == 200, sent.json
    assert sent.json["data"]["refund"]["status"] == "PROCESSING"  # unknown, not refused
    refund = db.session.scalar(db.select(Refund))
    for path in (
        f"/api/admin/refunds/{refund.id}/retry",
        f"/api/admin/refunds/{refund.id}/process",
    ):
        again = client.post(path, json={}, headers=finance)
        assert again.json["data"]["status"] == "PROCESSING"
    assert len(responses.calls) == 1  # never sent again
    assert balance(A.REFUNDS_OWED) == D("-1499.99")  # still owed (a credit) until Paystack says so

    done = post_webhook(app, client, refund_event("refund.processed", payment.reference, 149999))

    assert done.status_code == 200, done.json
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == "COMPLETED"
    assert db.session.scalar(db.select(db.func.count()).select_from(Refund)) == 1
    assert balance(A.REFUNDS_OWED) == 0
    assert_books_balance()
