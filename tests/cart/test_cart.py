from decimal import Decimal

import pytest

from app.auth.accounts import set_supplier_status
from app.auth.models import SupplierStatus
from app.cart.models import CartItem
from app.cart.operations import CART_MAX_LINES
from tests.factories.cart import CartFactory
from tests.factories.catalog import ProductFactory


def add(client, headers, product, quantity=1):
    return client.post(
        "/api/cart/items", json={"product_id": product.id, "quantity": quantity}, headers=headers
    )


def test_empty_cart_reads_without_creating_one(client, customer_headers, db):
    response = client.get("/api/cart", headers=customer_headers)
    assert response.status_code == 200
    assert response.json["data"] == {
        "items": [],
        "subtotal": "0.00",
        "item_count": 0,
        "currency": "KES",
    }
    assert db.session.query(CartItem).count() == 0


def test_add_merges_the_same_product_and_totals_exactly(client, customer_headers):
    phone = ProductFactory(price=Decimal("1499.99"), stock=10)
    cable = ProductFactory(price=Decimal("0.10"), stock=10)

    first = add(client, customer_headers, phone, 2)
    assert first.status_code == 201
    again = add(client, customer_headers, phone, 1)
    assert again.status_code == 200
    response = add(client, customer_headers, cable, 3)

    data = response.json["data"]
    assert [(line["product"]["id"], line["quantity"]) for line in data["items"]] == [
        (phone.id, 3),
        (cable.id, 3),
    ]
    assert data["items"][0]["unit_price"] == "1499.99"
    assert data["items"][0]["line_total"] == "4499.97"
    assert data["items"][1]["line_total"] == "0.30"
    assert data["subtotal"] == "4500.27"
    assert data["item_count"] == 6
    assert data["items"][0]["product"]["supplier"]["id"] == phone.supplier_id


def test_adding_beyond_stock_counts_what_is_already_in_the_cart(client, customer_headers):
    product = ProductFactory(stock=3, name="Pixel 9")
    assert add(client, customer_headers, product, 2).status_code == 201

    response = add(client, customer_headers, product, 2)

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "INSUFFICIENT_STOCK"
    assert error["details"] == {"product_id": product.id, "available": 3, "requested": 4}
    assert "Pixel 9" in response.json["message"]
    cart = client.get("/api/cart", headers=customer_headers).json["data"]
    assert cart["items"][0]["quantity"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {"product_id": "abc", "quantity": 1},
        {"product_id": 1, "quantity": "two"},
        {"product_id": 1, "quantity": 0},
        {"product_id": 1, "quantity": -1},
        {"product_id": 1, "quantity": 1.5},
        {"quantity": 1},
        {"product_id": 1, "quantity": 1, "price": "1.00"},
        # beyond the INTEGER id column: used to reach the database and fail with a 500
        {"product_id": 2**31, "quantity": 1},
        {"product_id": -127277983777572965611490840998674694144, "quantity": 1},
        {"product_id": 0, "quantity": 1},
    ],
)
def test_bad_input_is_a_400(client, customer_headers, body):
    response = client.post("/api/cart/items", json=body, headers=customer_headers)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


def test_unknown_or_inactive_product_is_404(client, customer_headers):
    inactive = ProductFactory(inactive=True)
    assert add(client, customer_headers, inactive).status_code == 404
    response = client.post(
        "/api/cart/items", json={"product_id": 999999, "quantity": 1}, headers=customer_headers
    )
    assert response.status_code == 404


def test_item_id_beyond_the_integer_range_is_404(client, customer_headers):
    url = "/api/cart/items/50723066522636786171897708544"
    assert client.put(url, json={"quantity": 1}, headers=customer_headers).status_code == 404
    assert client.delete(url, headers=customer_headers).status_code == 404


def test_update_quantity_within_stock(client, customer_headers, customer):
    product = ProductFactory(stock=5)
    cart = CartFactory(user=customer, items=[(product, 1)])
    item_id = cart.items[0].id

    response = client.put(
        f"/api/cart/items/{item_id}", json={"quantity": 5}, headers=customer_headers
    )
    assert response.status_code == 200
    assert response.json["data"]["items"][0]["quantity"] == 5

    too_many = client.put(
        f"/api/cart/items/{item_id}", json={"quantity": 6}, headers=customer_headers
    )
    assert too_many.status_code == 422
    assert too_many.json["error"]["details"]["available"] == 5


def test_someone_elses_cart_item_is_404(client, customer_headers):
    other = CartFactory(items=[(ProductFactory(), 1)])
    item_id = other.items[0].id

    assert (
        client.put(
            f"/api/cart/items/{item_id}", json={"quantity": 1}, headers=customer_headers
        ).status_code
        == 404
    )
    assert client.delete(f"/api/cart/items/{item_id}", headers=customer_headers).status_code == 404


def test_remove_clear_and_count(client, customer_headers, customer):
    a, b = ProductFactory(), ProductFactory()
    cart = CartFactory(user=customer, items=[(a, 2), (b, 3)])

    count = client.get("/api/cart/count", headers=customer_headers).json["data"]
    assert count == {"item_count": 5, "line_count": 2}

    removed = client.delete(f"/api/cart/items/{cart.items[0].id}", headers=customer_headers)
    assert removed.status_code == 200
    assert [line["product"]["id"] for line in removed.json["data"]["items"]] == [b.id]

    cleared = client.delete("/api/cart/clear", headers=customer_headers)
    assert cleared.json["data"]["items"] == []
    count = client.get("/api/cart/count", headers=customer_headers).json["data"]
    assert count == {"item_count": 0, "line_count": 0}


def test_validate_reports_price_changes_shortfalls_and_inactive_products(
    client, customer_headers, customer, db
):
    steady = ProductFactory(price=Decimal("100.00"), stock=10)
    repriced = ProductFactory(price=Decimal("200.00"), stock=10)
    scarce = ProductFactory(stock=5)
    retired = ProductFactory(stock=5)
    CartFactory(user=customer, items=[(steady, 1), (repriced, 1), (scarce, 4), (retired, 1)])
    repriced.price = Decimal("180.50")
    scarce.stock = 2
    retired.is_active = False
    db.session.commit()

    data = client.get("/api/cart/validate", headers=customer_headers).json["data"]

    assert data["valid"] is False
    lines = {line["product_id"]: line for line in data["items"]}
    assert lines[steady.id]["issues"] == []
    assert lines[repriced.id]["issues"] == ["PRICE_CHANGED"]
    assert lines[repriced.id]["price_when_added"] == "200.00"
    assert lines[repriced.id]["current_price"] == "180.50"
    assert lines[repriced.id]["price_change"] == "-19.50"
    assert lines[scarce.id]["issues"] == ["INSUFFICIENT_STOCK"]
    assert lines[scarce.id]["available"] == 2
    assert lines[retired.id]["issues"] == ["UNAVAILABLE"]


def test_validate_an_healthy_cart(client, customer_headers, customer):
    CartFactory(user=customer, items=[(ProductFactory(), 1)])
    data = client.get("/api/cart/validate", headers=customer_headers).json["data"]
    assert data["valid"] is True


def test_cart_is_for_customers(client, supplier_headers):
    assert client.get("/api/cart").status_code == 401
    assert client.get("/api/cart", headers=supplier_headers).status_code == 403


def test_a_cart_holds_at_most_50_distinct_products(client, customer_headers, customer):
    product = ProductFactory()
    shelf = ProductFactory.create_batch(
        CART_MAX_LINES - 1, supplier=product.supplier, category=product.category
    )
    CartFactory(user=customer, items=[(product, 1), *((other, 1) for other in shelf)])

    response = add(client, customer_headers, ProductFactory(supplier=product.supplier))

    assert response.status_code == 422
    assert response.json["error"] == {"code": "CART_FULL", "details": {"max_lines": 50}}
    more = add(client, customer_headers, product, 2)  # more of one already in the cart
    assert more.status_code == 200
    lines = more.json["data"]["items"]
    assert len(lines) == CART_MAX_LINES and lines[0]["quantity"] == 3


def test_products_off_sale_cannot_be_added_like_in_the_catalogue(client, customer_headers):
    unapproved = ProductFactory(supplier__pending=True)
    inactive = ProductFactory(inactive=True)
    for product in (unapproved, inactive):
        assert client.get(f"/api/products/{product.id}").status_code == 404
        response = add(client, customer_headers, product)
        assert response.status_code == 404
        assert response.json["error"]["details"] == {"product_id": product.id}
    assert client.get("/api/cart", headers=customer_headers).json["data"]["items"] == []


def test_a_suspended_suppliers_product_is_unavailable_in_the_cart(
    client, customer_headers, customer, db
):
    kept = ProductFactory()
    suspended = ProductFactory()
    cart = CartFactory(user=customer, items=[(kept, 1), (suspended, 1)])
    set_supplier_status(suspended.supplier, SupplierStatus.SUSPENDED)
    db.session.commit()

    data = client.get("/api/cart/validate", headers=customer_headers).json["data"]

    assert data["valid"] is False
    lines = {line["product_id"]: line["issues"] for line in data["items"]}
    assert lines == {kept.id: [], suspended.id: ["UNAVAILABLE"]}
    more = client.put(
        f"/api/cart/items/{cart.items[1].id}", json={"quantity": 2}, headers=customer_headers
    )
    assert more.status_code == 404
