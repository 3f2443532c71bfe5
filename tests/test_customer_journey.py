"""The milestone end to end, through HTTP only: register, browse, fill a cart, order and
pay each way (M-Pesa STK Push, card, cash on delivery) with the built-in simulator."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.extensions import db
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory


@pytest.fixture
def shop():
    zone = DeliveryZoneFactory(name="Nairobi CBD", fee=Decimal("0.20"))
    phone = ProductFactory(name="Pixel 9", price=Decimal("10.10"), stock=5)
    laptop = ProductFactory(name="ThinkPad X1", price=Decimal("1499.99"), stock=2)
    return {"zone": zone, "phone": phone, "laptop": laptop}


def _register_and_fill_cart(client, shop, email: str) -> dict[str, str]:
    registered = client.post(
        "/api/auth/register",
        json={
            "email": email,
            "password": "Sup3rSecret",
            "first_name": "Achieng",
            "last_name": "Otieno",
            "phone": "0712345678",
        },
    )
    assert registered.status_code == 201, registered.json
    headers = {"Authorization": f"Bearer {registered.json['data']['access_token']}"}

    listing = client.get("/api/products", query_string={"search": "pixel"})
    assert listing.status_code == 200
    assert [p["id"] for p in listing.json["data"]] == [shop["phone"].id]

    for product, quantity in ((shop["phone"], 2), (shop["laptop"], 1)):
        added = client.post(
            "/api/cart/items",
            json={"product_id": product.id, "quantity": quantity},
            headers=headers,
        )
        assert added.status_code in (200, 201), added.json
    cart = client.get("/api/cart", headers=headers).json["data"]
    assert cart["subtotal"] == "1520.19"

    address = client.post(
        "/api/orders/addresses",
        json={
            "label": "Home",
            "recipient_name": "Achieng Otieno",
            "phone": "+254712345678",
            "county": "Nairobi",
            "town": "Kilimani",
            "street": "Argwings Kodhek Rd 7",
            "delivery_zone_id": shop["zone"].id,
            "is_default": True,
        },
        headers=headers,
    )
    assert address.status_code == 201, address.json
    headers["X-Address"] = str(address.json["data"]["id"])
    return headers


def _place_order(client, shop, headers, method: str) -> dict:
    response = client.post(
        "/api/orders",
        json={
            "address_id": int(headers["X-Address"]),
            "delivery_zone_id": shop["zone"].id,
            "payment_method": method,
        },
        headers=headers | {"Idempotency-Key": f"checkout-{method}"},
    )
    assert response.status_code == 201, response.json
    order = response.json["data"]
    assert (order["subtotal"], order["delivery_fee"], order["total"]) == (
        "1520.19",
        "0.20",
        "1520.39",
    )
    assert order["currency"] == "KES"
    return order


def _payment_status(client, order_id: int, headers) -> dict:
    response = client.get(f"/api/payments/status/{order_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def test_customer_pays_with_mpesa_stk_push(client, shop):
    headers = _register_and_fill_cart(client, shop, "mpesa.buyer@example.co.ke")
    order = _place_order(client, shop, headers, "MPESA")

    initiated = client.post(
        "/api/payments/mpesa/initiate",
        json={"order_id": order["id"], "phone": "0712345678"},
        headers=headers,
    )
    assert initiated.status_code == 201, initiated.json
    assert initiated.json["data"]["checkout_request_id"]

    status = _payment_status(client, order["id"], headers)
    assert status["payment_status"] == "COMPLETED"
    assert [p["status"] for p in status["payments"]] == ["COMPLETED"]
    # M-Pesa takes whole shillings: the total is rounded up, never down.
    assert status["payments"][0]["amount"] == "1521.00"
    assert status["payments"][0]["receipt"]
    shown = client.get(f"/api/orders/{order['id']}", headers=headers).json["data"]
    assert shown["status"] == "PAID"

    stock = {p["id"]: p["stock"] for p in client.get("/api/products").json["data"]}
    assert stock == {shop["phone"].id: 3, shop["laptop"].id: 1}


def test_cancelled_stk_push_leaves_the_order_payable(client, shop):
    headers = _register_and_fill_cart(client, shop, "cancels@example.co.ke")
    order = _place_order(client, shop, headers, "MPESA")

    # The simulator cancels (ResultCode 1032) for numbers ending in 0.
    client.post(
        "/api/payments/mpesa/initiate",
        json={"order_id": order["id"], "phone": "0712345670"},
        headers=headers,
    )
    status = _payment_status(client, order["id"], headers)
    assert status["payments"][0]["status"] == "FAILED"
    assert status["payments"][0]["failure_reason"]
    assert client.get(f"/api/orders/{order['id']}", headers=headers).json["data"]["status"] == (
        "PENDING"
    )


def test_customer_pays_by_card_on_the_simulated_checkout_page(client, shop):
    headers = _register_and_fill_cart(client, shop, "card.buyer@example.co.ke")
    order = _place_order(client, shop, headers, "CARD")

    initiated = client.post(
        "/api/payments/card/initiate", json={"order_id": order["id"]}, headers=headers
    )
    assert initiated.status_code == 201, initiated.json
    checkout_path = urlparse(initiated.json["data"]["authorization_url"]).path
    page = client.get(checkout_path)
    assert page.status_code == 200 and b"Pay" in page.data

    paid = client.post(f"{checkout_path}/pay")
    assert paid.status_code in (200, 302), paid.data

    status = _payment_status(client, order["id"], headers)
    assert status["payment_status"] == "COMPLETED"
    assert status["payment_method"] == "CARD"
    shown = client.get(f"/api/orders/{order['id']}", headers=headers).json["data"]
    assert shown["status"] == "PAID"


def test_cash_on_delivery_is_paid_when_the_agent_collects(client, shop, role_user, auth_headers):
    headers = _register_and_fill_cart(client, shop, "cash.buyer@example.co.ke")
    order = _place_order(client, shop, headers, "CASH")
    admin = auth_headers(role_user(UserRole.ADMIN))
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))

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
        assert moved.status_code == 200, (status, moved.json)

    short = client.post(
        "/api/payments/cash/confirm",
        json={"order_id": order["id"], "amount": "1520.00"},
        headers=finance,
    )
    assert short.status_code == 422
    confirmed = client.post(
        "/api/payments/cash/confirm",
        json={"order_id": order["id"], "amount": 1520.39},
        headers=finance,
    )
    assert confirmed.status_code in (200, 201), confirmed.json

    status = _payment_status(client, order["id"], headers)
    assert status["payment_status"] == "COMPLETED"
    history = client.get(f"/api/orders/{order['id']}", headers=headers).json["data"]["history"]
    assert [h["to_status"] for h in history if h.get("field", "status") == "status"][-1] == (
        "DELIVERED"
    )


def _paid_by_mpesa(client, shop, headers) -> dict:
    order = _place_order(client, shop, headers, "MPESA")
    initiated = client.post(
        "/api/payments/mpesa/initiate",
        json={"order_id": order["id"], "phone": "0712345678"},
        headers=headers,
    )
    assert initiated.status_code == 201, initiated.json
    return order


def _deliver(client, order_id: int, admin: dict) -> None:
    for status in ("PROCESSING", "QUALITY_APPROVED", "SHIPPED", "OUT_FOR_DELIVERY", "ARRIVED"):
        moved = client.put(f"/api/orders/{order_id}/status", json={"status": status}, headers=admin)
        assert moved.status_code == 200, (status, moved.json)
    delivered = client.put(
        f"/api/orders/{order_id}/status", json={"status": "DELIVERED"}, headers=admin
    )
    assert delivered.status_code == 200, delivered.json


def test_the_books_follow_an_mpesa_order_to_its_suppliers(
    client, shop, role_user, auth_headers, assert_books_balance
):
    """Paid by M-Pesa (rounded up to 1521), delivered, held for the return window, then
    available: each supplier's net, the commission and the fee exact, the books balanced
    at every step (the events of the orders and payments domains reach the ledger)."""
    from app.db import utcnow
    from app.ledger.jobs import release_earnings
    from app.ledger.models import AccountCode
    from app.ledger.operations import balance, supplier_balances
    from app.money import supplier_net
    from app.orders.models import OrderItem

    headers = _register_and_fill_cart(client, shop, "books.buyer@example.co.ke")
    order = _paid_by_mpesa(client, shop, headers)
    assert balance(AccountCode.MPESA_CLEARING) == Decimal("1521.00")
    assert balance(AccountCode.ORDERS_HELD) == Decimal("-1521.00")
    assert_books_balance()

    _deliver(client, order["id"], auth_headers(role_user(UserRole.ADMIN)))
    assert balance(AccountCode.ORDERS_HELD) == 0
    items = db.session.scalars(select(OrderItem).where(OrderItem.order_id == order["id"]))
    nets = {item.supplier_id: supplier_net(item.line_total, item.commission_rate) for item in items}
    assert len(nets) == 2 and all(net > 0 for net in nets.values())
    for supplier_id, net in nets.items():
        held = supplier_balances(supplier_id)
        assert (held.on_hold, held.available) == (net, 0)
    assert_books_balance()

    assert release_earnings(now=utcnow()) == 0  # still inside the return window
    release_earnings(now=utcnow() + timedelta(days=8))
    for supplier_id, net in nets.items():
        released = supplier_balances(supplier_id)
        assert (released.on_hold, released.available) == (0, net)
    report = assert_books_balance()
    assert report.money_in == Decimal("1521.00")


def test_the_books_owe_a_cancelled_paid_order_back(
    client, shop, role_user, auth_headers, assert_books_balance
):
    from app.ledger.models import AccountCode
    from app.ledger.operations import balance

    headers = _register_and_fill_cart(client, shop, "refund.buyer@example.co.ke")
    order = _paid_by_mpesa(client, shop, headers)
    cancelled = client.post(
        f"/api/orders/{order['id']}/cancel", json={"reason": "Changed my mind"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.json
    assert balance(AccountCode.ORDERS_HELD) == 0
    assert balance(AccountCode.REFUNDS_OWED) == Decimal("-1521.00")
    assert_books_balance()
