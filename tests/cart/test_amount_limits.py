"""Amounts beyond what a money column holds (NUMERIC(12, 2)): prices are capped where
products are written, cart totals are refused before checkout would overflow an order."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog.models import Product
from tests.cart.test_cart import add
from tests.factories.catalog import CategoryFactory, ProductFactory

LARGEST = Decimal("9999999999.99")  # the largest NUMERIC(12, 2): legacy rows may hold it


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("price", "10000000.00", 201),
        ("price", "10000000.01", 400),
        ("price", "9999999999.99", 400),
        ("compare_at_price", "10000000.01", 400),
    ],
)
def test_prices_are_capped_on_create(client, supplier_headers, db, field, value, status):
    body = {
        "name": "Gold-plated phone",
        "price": "1000.00",
        "stock": 1,
        "category_id": CategoryFactory().id,
        field: value,
    }
    response = client.post("/api/products", json=body, headers=supplier_headers)

    assert response.status_code == status, response.json
    if status == 400:
        assert response.json["error"]["code"] == "VALIDATION_ERROR"
        assert field in response.json["error"]["details"]
        assert db.session.scalar(select(Product.id)) is None


def test_a_cart_total_beyond_an_orders_is_refused(client, customer_headers, customer):
    legacy = ProductFactory(price=LARGEST, stock=5)
    capped = ProductFactory(price=Decimal("10000000.00"), stock=2000)

    assert add(client, customer_headers, legacy, 1).status_code == 201
    response = add(client, customer_headers, legacy, 1)
    assert response.status_code == 422
    assert response.json["error"] == {
        "code": "AMOUNT_TOO_LARGE",
        "details": {"amount": "19999999999.98", "max": "9999999999.99"},
    }
    assert add(client, customer_headers, capped, 1).json["error"]["code"] == "AMOUNT_TOO_LARGE"

    client.delete("/api/cart/clear", headers=customer_headers)
    assert add(client, customer_headers, capped, 999).status_code == 201
    item_id = client.get("/api/cart", headers=customer_headers).json["data"]["items"][0]["id"]
    more = client.put(
        f"/api/cart/items/{item_id}", json={"quantity": 1000}, headers=customer_headers
    )
    assert more.status_code == 422 and more.json["error"]["code"] == "AMOUNT_TOO_LARGE"
    cart = client.get("/api/cart", headers=customer_headers).json["data"]
    assert cart["items"][0]["quantity"] == 999 and cart["subtotal"] == "9990000000.00"
