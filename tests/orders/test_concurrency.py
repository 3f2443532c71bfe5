"""Real concurrent checkouts on PostgreSQL: threads, each with its own connection."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.catalog.models import Product
from app.orders.models import Order
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


def run_together(app, requests):
    """POST every ``(headers, body)`` to /api/orders at once, one thread each."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def worker(index, headers, body):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/orders", json=body, headers=headers)
        results[index] = (
            response.status_code,
            response.json["error"]["code"] if response.status_code >= 400 else None,
        )

    threads = [
        threading.Thread(target=worker, args=(i, headers, body))
        for i, (headers, body) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def stock(db, product):
    db.session.expire_all()
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def test_24_buyers_racing_for_3_units_make_exactly_3_orders(app, db, auth_headers, zone):
    product = ProductFactory(stock=3)
    requests = []
    for _ in range(24):
        user, address = buyer(zone, (product, 1))
        requests.append((auth_headers(user), {"address_id": address.id, "payment_method": "MPESA"}))

    results = run_together(app, requests)

    assert Counter(results) == {(201, None): 3, (422, "INSUFFICIENT_STOCK"): 21}
    assert stock(db, product) == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 3


def test_carts_filled_in_opposite_orders_do_not_deadlock(app, db, auth_headers, zone):
    first, second = ProductFactory(stock=100), ProductFactory(stock=100)
    requests = []
    for index in range(16):
        lines = [(first, 1), (second, 2)] if index % 2 else [(second, 2), (first, 1)]
        user, address = buyer(zone, *lines)
        requests.append((auth_headers(user), {"address_id": address.id, "payment_method": "CARD"}))

    results = run_together(app, requests)

    assert Counter(results) == {(201, None): 16}
    assert (stock(db, first), stock(db, second)) == (84, 68)


def test_a_double_submitted_checkout_makes_one_order(app, db, auth_headers, zone):
    product = ProductFactory(stock=10)
    user, address = buyer(zone, (product, 2))
    headers = auth_headers(user)
    body = {"address_id": address.id, "payment_method": "MPESA"}

    results = run_together(app, [(headers, body)] * 4)

    assert Counter(results) == {(201, None): 1, (422, "CART_EMPTY"): 3}
    assert stock(db, product) == 8
