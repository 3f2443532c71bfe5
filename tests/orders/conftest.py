"""Helpers for order tests: a zone, an address, a filled cart, a checkout call."""

from __future__ import annotations

import pytest

from tests.factories.cart import CartFactory
from tests.factories.orders import AddressFactory, DeliveryZoneFactory


@pytest.fixture
def zone():
    return DeliveryZoneFactory(name="Nairobi CBD")


@pytest.fixture
def address(customer, zone):
    return AddressFactory(user_id=customer.id, delivery_zone=zone, is_default=True)


@pytest.fixture
def fill_cart(customer):
    """``fill_cart((product, qty), ...)`` puts lines in the customer's cart."""

    def fill(*lines, user=None):
        return CartFactory(user=user or customer, items=list(lines))

    return fill


@pytest.fixture
def checkout(client, customer_headers, address):
    """``checkout(payment_method="MPESA", **body)`` -> the response of ``POST /orders``."""

    def post(payment_method="MPESA", headers=None, **body):
        payload = {"address_id": address.id, "payment_method": payment_method, **body}
        return client.post("/api/orders", json=payload, headers=headers or customer_headers)

    return post
