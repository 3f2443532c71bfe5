"""Real concurrent checkouts on PostgreSQL: threads, each with its own connection."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select, update

from app.cart.models import CartItem
from app.catalog.models import Product
from app.notifications.models import OutboxEmail
from app.orders import checkout as checkout_module
from app.orders.models import Order, OrderItem, OrderStatusHistory
from tests.concurrency import run_together
from tests.factories.auth import UserFactory
from tests.factories.cart import CartFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import AddressFactory

pytestmark = pytest.mark.postgres


def buyer(zone, *lines):
    """A new customer with an address and a cart holding ``lines``."""
    user = UserFactory()
    address = AddressFactory(user_id=user.id, delivery_zone=zone, is_default=True)
    CartFactory(user=user, items=list(lines))
    return user, address


def race(app, requests):
    """POST every ``(headers, body)`` to /api/orders at once: (status, error code) each."""

    def checkout(headers, body):
        def action(client):
            response = client.post("/api/orders", json=body, headers=headers)
            code = response.json["error"]["code"] if response.status_code >= 400 else None
            return response.status_code, code

        return action

    return run_together(app, [checkout(headers, body) for headers, body in requests])


def stock(db, product):
    db.session.expire_all()
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def test_24_buyers_racing_for_3_units_make_exactly_3_orders(app, db, auth_headers, zone):
    product = ProductFactory(stock=3)
    requests = []
    for _ in range(24):
        user, address = buyer(zone, (product, 1))
        requests.append((auth_headers(user), {"address_id": address.id, "payment_method": "MPESA"}))

    results = race(app, requests)

    assert Counter(results) == {(201, None): 3, (422, "INSUFFICIENT_STOCK"): 21}
    assert stock(db, product) == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 3


def opposite_carts(auth_headers, zone, count, one, other):
    """``count`` checkout requests whose carts hold lines ``one`` and ``other``, every
    second one in the opposite order."""
    requests = []
    for index in range(count):
        user, address = buyer(zone, *((one, other) if index % 2 else (other, one)))
        requests.append((auth_headers(user), {"address_id": address.id, "payment_method": "CARD"}))
    return requests


def test_carts_filled_in_opposite_orders_do_not_deadlock(app, db, auth_headers, zone):
    first, second = ProductFactory(stock=100), ProductFactory(stock=100)

    results = race(app, opposite_carts(auth_headers, zone, 16, (first, 1), (second, 2)))

    assert Counter(results) == {(201, None): 16}
    assert (stock(db, first), stock(db, second)) == (84, 68)


def test_scarce_products_in_opposite_cart_orders_sell_out_exactly(app, db, auth_headers, zone):
    first, second = ProductFactory(stock=5), ProductFactory(stock=7)

    results = race(app, opposite_carts(auth_headers, zone, 24, (first, 1), (second, 1)))

    # A refused checkout may have decremented one product before missing the other:
    # its rollback gives it back.
    assert Counter(results) == {(201, None): 5, (422, "INSUFFICIENT_STOCK"): 19}
    assert (stock(db, first), stock(db, second)) == (0, 2)
    assert db.session.scalar(select(func.sum(OrderItem.quantity))) == 10


def change_before_stock_is_taken(monkeypatch, app, changes: dict[int, dict]):
    """Commit ``{product_id: values}`` from another connection after checkout's read."""
    take_stock = checkout_module._take_stock

    def changed_first(quantities):
        with app.extensions["sqlalchemy"].engine.begin() as connection:
            for product_id, values in changes.items():
                connection.execute(update(Product).where(Product.id == product_id).values(**values))
        take_stock(quantities)

    monkeypatch.setattr(checkout_module, "_take_stock", changed_first)


def check_out(app, auth_headers, user, address):
    body = {"address_id": address.id, "payment_method": "MPESA"}
    return app.test_client().post("/api/orders", json=body, headers=auth_headers(user))


def assert_nothing_written(db, cart_lines: int):
    db.session.expire_all()
    for model in (Order, OrderItem, OrderStatusHistory, OutboxEmail):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert db.session.scalar(select(func.count()).select_from(CartItem)) == cart_lines


def test_a_product_deactivated_before_the_take_is_refused(app, db, auth_headers, zone, monkeypatch):
    product = ProductFactory(stock=10, name="Kettle")
    user, address = buyer(zone, (product, 2))
    change_before_stock_is_taken(monkeypatch, app, {product.id: {"is_active": False}})

    response = check_out(app, auth_headers, user, address)

    assert response.status_code == 422
    assert response.json["error"]["details"]["items"] == [
        {"product_id": product.id, "name": "Kettle", "requested": 2, "available": 0}
    ]
    assert stock(db, product) == 10
    assert_nothing_written(db, cart_lines=1)


def test_stock_lowered_before_the_take_refuses_the_whole_order(
    app, db, auth_headers, zone, monkeypatch
):
    plenty, scarce = ProductFactory(stock=10), ProductFactory(stock=5, name="Pixel 9")
    user, address = buyer(zone, (scarce, 3), (plenty, 1))
    change_before_stock_is_taken(monkeypatch, app, {scarce.id: {"stock": 2}})

    response = check_out(app, auth_headers, user, address)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "INSUFFICIENT_STOCK"
    assert response.json["error"]["details"]["items"] == [
        {"product_id": scarce.id, "name": "Pixel 9", "requested": 3, "available": 2}
    ]
    assert (stock(db, plenty), stock(db, scarce)) == (10, 2)
    assert_nothing_written(db, cart_lines=2)


def test_a_double_submitted_checkout_makes_one_order(app, db, auth_headers, zone):
    product = ProductFactory(stock=10)
    user, address = buyer(zone, (product, 2))
    headers = auth_headers(user)
    body = {"address_id": address.id, "payment_method": "MPESA"}

    results = race(app, [(headers, body)] * 4)

    assert Counter(results) == {(201, None): 1, (422, "CART_EMPTY"): 3}
    assert stock(db, product) == 8
