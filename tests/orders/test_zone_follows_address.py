"""The delivery fee follows the address: an address's zone covers its county, and an
order's zone is its address's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.delivery.operations import covers
from app.orders.models import Address, Order
from tests.factories.catalog import ProductFactory
from tests.factories.orders import AddressFactory, DeliveryZoneFactory

QUOTE = "/api/orders/delivery-zones/calculate"
ADDRESS = {
    "recipient_name": "Ekai Lokwang",
    "phone": "0712345678",
    "town": "Lodwar",
    "street": "Kanamkemer Rd 3",
}


# (name, counties, fee, free-delivery threshold): as in the seed.
ZONES = {
    "cbd": ("Nairobi CBD", "Nairobi", "150.00", "5000.00"),
    "metro": ("Nairobi Metro", "Nairobi, Kiambu, Kajiado", "300.00", "10000.00"),
    "remote": ("North Eastern & Remote", "Garissa, Wajir, Homa Bay ,Turkana", "900.00", None),
}


def make_zone(key):
    name, counties, fee, threshold = ZONES[key]
    return DeliveryZoneFactory(
        name=name,
        counties=counties,
        fee=Decimal(fee),
        free_delivery_threshold=Decimal(threshold) if threshold else None,
    )


@pytest.fixture
def cbd():
    return make_zone("cbd")


@pytest.fixture
def metro():
    return make_zone("metro")


@pytest.fixture
def remote():
    return make_zone("remote")


@pytest.mark.parametrize(
    ("county", "covered"),
    [
        ("Turkana", True),
        ("  turkana ", True),
        ("HOMA BAY", True),
        ("homabay", True),
        ("Garissa", True),
        ("Nairobi", False),
        ("Turkana East", False),
        ("", False),
        ("   ", False),
    ],
)
def test_a_zone_covers_the_counties_it_lists(remote, county, covered):
    assert covers(remote, county) is covered


def test_a_zone_listing_no_counties_covers_none():
    assert not covers(DeliveryZoneFactory.build(counties=None), "Nairobi")


# Addresses --------------------------------------------------------------------------
def test_an_address_outside_its_zone_is_refused(client, customer_headers, cbd, remote):
    url = "/api/orders/addresses"
    body = {**ADDRESS, "county": "Turkana"}

    wrong = client.post(url, json=body | {"delivery_zone_id": cbd.id}, headers=customer_headers)
    assert wrong.status_code == 400
    assert wrong.json["error"]["code"] == "VALIDATION_ERROR"
    assert "delivery_zone_id" in wrong.json["error"]["details"]

    right = client.post(
        url,
        json=body | {"county": " turkana", "delivery_zone_id": remote.id},
        headers=customer_headers,
    )
    assert right.status_code == 201, right.json


def test_an_address_update_keeps_its_zone_covering_its_county(
    client, customer, customer_headers, cbd, remote, db
):
    address = AddressFactory(user_id=customer.id, delivery_zone=cbd)
    url = f"/api/orders/addresses/{address.id}"

    for body in ({"county": "Turkana"}, {"delivery_zone_id": remote.id}):
        response = client.put(url, json=body, headers=customer_headers)
        assert response.status_code == 400, body
        assert "delivery_zone_id" in response.json["error"]["details"]
    db.session.expire_all()
    assert (db.session.get(Address, address.id).county, address.delivery_zone_id) == (
        "Nairobi",
        cbd.id,
    )

    moved = {"county": "Turkana", "town": "Lodwar", "delivery_zone_id": remote.id}
    response = client.put(url, json=moved, headers=customer_headers)
    assert response.status_code == 200
    assert response.json["data"]["delivery_zone"]["id"] == remote.id
    # A change that moves nothing is not checked again.
    assert client.put(url, json={"label": "Work"}, headers=customer_headers).status_code == 200


# Checkout ---------------------------------------------------------------------------
def orders_count(db):
    return db.session.scalar(select(func.count(Order.id)))


def test_checkout_charges_the_address_zone_only(
    client, customer, customer_headers, fill_cart, cbd, remote, db
):
    turkana = AddressFactory(user_id=customer.id, county="Turkana", delivery_zone=remote)
    fill_cart((ProductFactory(price=Decimal("1000.00")), 1))

    def place(**body):
        payload = {"address_id": turkana.id, "payment_method": "MPESA", **body}
        return client.post("/api/orders", json=payload, headers=customer_headers)

    cheaper = place(delivery_zone_id=cbd.id)
    assert cheaper.status_code == 422
    assert cheaper.json["error"]["code"] == "ZONE_MISMATCH"
    assert cheaper.json["error"]["details"] == {
        "delivery_zone_id": cbd.id,
        "address_delivery_zone_id": remote.id,
    }
    assert orders_count(db) == 0

    same = place(delivery_zone_id=remote.id)
    assert same.status_code == 201, same.json
    assert (same.json["data"]["delivery_fee"], same.json["data"]["delivery_county"]) == (
        "900.00",
        "Turkana",
    )


def test_checkout_refuses_an_address_saved_outside_its_zone(
    client, customer, customer_headers, fill_cart, cbd, db
):
    # Saved before the rule: Turkana, yet in Nairobi CBD's zone.
    legacy = AddressFactory(user_id=customer.id, county="Turkana", delivery_zone=cbd)
    fill_cart((ProductFactory(), 1))
    response = client.post(
        "/api/orders",
        json={"address_id": legacy.id, "payment_method": "MPESA"},
        headers=customer_headers,
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "ZONE_MISMATCH"
    assert orders_count(db) == 0


# Fee quotes -------------------------------------------------------------------------
def test_quote_by_county_uses_the_zone_covering_it(client, cbd, metro, remote):
    turkana = client.post(QUOTE, json={"county": "turkana", "subtotal": "100000.00"})
    assert turkana.status_code == 200
    data = turkana.json["data"]
    assert (data["delivery_zone_id"], data["fee"], data["free_delivery"]) == (
        remote.id,
        "900.00",
        False,
    )

    # Nairobi is in two zones: the cheapest quotes.
    nairobi = client.post(QUOTE, json={"county": "Nairobi", "subtotal": "100.00"}).json["data"]
    assert (nairobi["zone_name"], nairobi["fee"]) == ("Nairobi CBD", "150.00")
    kiambu = client.post(QUOTE, json={"county": "Kiambu", "subtotal": "100.00"}).json["data"]
    assert (kiambu["zone_name"], kiambu["fee"]) == ("Nairobi Metro", "300.00")


def test_quote_by_county_skips_inactive_zones_and_404s_uncovered_ones(client, cbd):
    DeliveryZoneFactory(counties="Mombasa", is_active=False)
    for county in ("Mombasa", "Atlantis"):
        response = client.post(QUOTE, json={"county": county, "subtotal": "100.00"})
        assert response.status_code == 404
        assert response.json["error"]["details"] == {"county": county}


@pytest.mark.parametrize(
    "body",
    [
        {"subtotal": "100.00"},
        {"county": "Nairobi", "delivery_zone_id": 1, "subtotal": "100.00"},
        {"county": "", "subtotal": "100.00"},
        {"county": "Nairobi"},
    ],
)
def test_quote_takes_exactly_one_of_zone_or_county(client, cbd, body):
    response = client.post(QUOTE, json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
