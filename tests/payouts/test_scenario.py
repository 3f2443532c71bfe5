"""The whole way through HTTP: two suppliers sell in one M-Pesa order, an admin delivers
it, the hold is released, the payout run pays them; Daraja (faked at the HTTP boundary)
confirms one, fails the other, whose retry times out and is settled by a status query.
Balances, payouts and the books are checked at every step."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import requests
from sqlalchemy import select

from app.db import utcnow
from app.disbursements.jobs import reconcile_disbursements
from app.extensions import db
from app.ledger.jobs import release_earnings
from app.orders.models import OrderItem
from app.services.mpesa import MpesaSimulator
from tests import daraja as fake
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory
from tests.factories.payouts import paying_supplier

D = Decimal
STEPS = ("PROCESSING", "QUALITY_APPROVED", "SHIPPED", "OUT_FOR_DELIVERY", "ARRIVED", "DELIVERED")


def balances(client, headers) -> dict:
    response = client.get("/api/supplier/balances", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def buy(client, customer_headers, zone, products, daraja) -> dict:
    for product in products:
        added = client.post(
            "/api/cart/items",
            json={"product_id": product.id, "quantity": 1},
            headers=customer_headers,
        )
        assert added.status_code in (200, 201), added.json
    address = client.post(
        "/api/orders/addresses",
        json={
            "label": "Home",
            "recipient_name": "Achieng Otieno",
            "phone": "0712345678",
            "county": "Nairobi",
            "town": "Kilimani",
            "street": "Argwings Kodhek Rd 7",
            "delivery_zone_id": zone.id,
        },
        headers=customer_headers,
    ).json["data"]
    order = client.post(
        "/api/orders",
        json={"address_id": address["id"], "delivery_zone_id": zone.id, "payment_method": "MPESA"},
        headers=customer_headers,
    )
    assert order.status_code == 201, order.json
    order = order.json["data"]
    daraja.post(
        fake.STK_URL,
        json={
            "MerchantRequestID": "2654-4b64-97ff-b827b542881d3130",
            "CheckoutRequestID": "ws_CO_1007202409152617172396192",
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        },
    )
    paid = client.post(
        "/api/payments/mpesa/initiate",
        json={"order_id": order["id"], "phone": "0712345671"},
        headers=customer_headers,
    )
    assert paid.status_code == 201, paid.json
    callback = MpesaSimulator.callback_body(
        "2654-4b64-97ff-b827b542881d3130",
        "ws_CO_1007202409152617172396192",
        5500,
        "254712345671",
        utcnow(),
    )
    stk = client.post(
        "/api/payments/mpesa/callback", data=callback, content_type="application/json"
    )
    assert stk.status_code == 200
    return order


def test_two_suppliers_paid_out_through_http(
    client, auth_headers, customer_headers, admin_headers, daraja, assert_books_balance
):
    zone = DeliveryZoneFactory(fee=D("250.00"))
    a, b = paying_supplier(), paying_supplier()
    phone = ProductFactory(supplier=a, price=D("3999.49"), commission_rate=D("0.0750"))
    cable = ProductFactory(supplier=b, price=D("1250.25"), commission_rate=D("0.1250"))
    a_headers, b_headers = auth_headers(a.user), auth_headers(b.user)

    order = buy(client, customer_headers, zone, [phone, cable], daraja)
    assert (
        client.get(f"/api/orders/{order['id']}", headers=customer_headers).json["data"]["status"]
        == "PAID"
    )
    assert assert_books_balance().held == D("5500.00")  # 5,499.74 rounded up to whole shillings

    for status in STEPS:
        moved = client.put(
            f"/api/orders/{order['id']}/status", json={"status": status}, headers=admin_headers
        )
        assert moved.status_code == 200, moved.json
    nets = {
        item.supplier_id: item.line_total - item.commission_amount
        for item in db.session.scalars(select(OrderItem).where(OrderItem.order_id == order["id"]))
    }
    a_net, b_net = nets[a.id], nets[b.id]
    assert balances(client, a_headers)["on_hold"] == str(a_net)
    assert balances(client, b_headers)["on_hold"] == str(b_net)
    assert assert_books_balance().held == D("0.00")

    pending = client.get("/api/supplier/payouts/pending", headers=a_headers).json["data"]
    assert pending["eligible"] is False and pending["on_hold_parts"][0]["amount"] == str(a_net)

    assert release_earnings(utcnow() + timedelta(days=8)) == 2
    assert balances(client, a_headers)["available"] == str(a_net)
    pending = client.get("/api/supplier/payouts/pending", headers=a_headers).json["data"]
    assert pending["eligible"] and pending["amount"] == f"{int(a_net)}.00"
    assert_books_balance()

    sent = fake.accept_b2c(daraja)
    run = client.post("/api/admin/payouts/generate", headers=admin_headers)
    assert run.status_code == 200, run.json
    assert (run.json["data"]["payouts"], run.json["data"]["accepted"]) == (2, 2)
    requests_sent = {
        json.loads(c.request.body)["PartyB"]: json.loads(c.request.body) for c in sent.calls
    }
    assert set(requests_sent) == {a.mpesa_payout_number, b.mpesa_payout_number}
    a_amount, b_amount = int(a_net), int(b_net)
    assert requests_sent[a.mpesa_payout_number]["Amount"] == str(a_amount)
    a_bal = balances(client, a_headers)
    assert (a_bal["available"], a_bal["in_flight"]) == (str(a_net - a_amount), f"{a_amount}.00")
    assert_books_balance()

    listed = client.get("/api/admin/payouts", headers=admin_headers).json["data"]
    by_supplier = {p["supplier_id"]: p for p in listed}
    assert {p["status"] for p in listed} == {"PROCESSING"}
    a_payout, b_payout = by_supplier[a.id], by_supplier[b.id]

    result = fake.b2c_success(
        a_payout["originator_conversation_id"], a_payout["conversation_id"], a_amount, "TKL1AB2CD3"
    )
    assert client.post("/api/payments/b2c/result", json=result).status_code == 200
    a_bal = balances(client, a_headers)
    assert (a_bal["in_flight"], a_bal["paid_out_total"]) == ("0.00", f"{a_amount}.00")
    mine = client.get("/api/supplier/payouts", headers=a_headers).json["data"]
    assert [(p["status"], p["receipt"]) for p in mine] == [("COMPLETED", "TKL1AB2CD3")]
    assert_books_balance()

    failure = fake.b2c_failure(b_payout["originator_conversation_id"], b_payout["conversation_id"])
    assert client.post("/api/payments/b2c/result", json=failure).status_code == 200
    b_bal = balances(client, b_headers)
    assert (b_bal["available"], b_bal["in_flight"]) == (str(b_net), "0.00")
    mine = client.get("/api/payments/supplier/payouts", headers=b_headers).json["data"]
    assert mine[0]["status"] == "FAILED" and "initiator" in mine[0]["failure_reason"]
    assert_books_balance()

    daraja.replace("POST", fake.B2C_URL, body=requests.ReadTimeout("slow"))
    retry = client.post(f"/api/admin/payouts/{b_payout['id']}/mpesa", headers=admin_headers)
    assert retry.status_code == 502, retry.json
    assert retry.json["error"]["details"]["unknown"] is True
    b_now = client.get(f"/api/admin/payouts?supplier_id={b.id}", headers=admin_headers).json[
        "data"
    ][0]
    assert (b_now["status"], b_now["unknown"], b_now["attempts"]) == ("PROCESSING", True, 2)
    assert b_now["originator_conversation_id"] != b_payout["originator_conversation_id"]
    assert balances(client, b_headers)["in_flight"] == f"{b_amount}.00"
    again = client.post(f"/api/admin/payouts/{b_payout['id']}/mpesa", headers=admin_headers)
    assert again.status_code == 409  # never sent twice while unknown
    assert_books_balance()

    status_call = daraja.post(fake.STATUS_URL, json=fake.status_ack())
    assert reconcile_disbursements(utcnow() + timedelta(minutes=11))["queried"] == 1
    asked = json.loads(status_call.calls[0].request.body)
    assert asked["OriginalConversationID"] == b_now["originator_conversation_id"]
    answer = fake.status_completed(b_now["originator_conversation_id"], str(b_amount), "TKM9ZZ8YY7")
    assert client.post("/api/payments/b2c/status/result", json=answer).status_code == 200
    b_bal = balances(client, b_headers)
    assert (b_bal["in_flight"], b_bal["paid_out_total"]) == ("0.00", f"{b_amount}.00")
    assert b_bal["available"] == str(b_net - b_amount)
    report = assert_books_balance()
    assert report.paid_out == D(a_amount + b_amount)
