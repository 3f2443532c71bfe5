from decimal import Decimal

import pytest

from app.orders.models import Address
from tests.factories.orders import AddressFactory, DeliveryZoneFactory, OrderFactory

ADDRESS = {
    "label": "Office",
    "recipient_name": "Achieng Otieno",
    "phone": "0712 345 678",
    "county": "Nairobi",
    "town": "Upper Hill",
    "street": "Ragati Road 4",
}


def create(client, headers, zone, **extra):
    return client.post(
        "/api/orders/addresses",
        json={**ADDRESS, "delivery_zone_id": zone.id, **extra},
        headers=headers,
    )


def test_first_address_becomes_default_and_phone_is_normalised(client, customer_headers, zone):
    response = create(client, customer_headers, zone)

    assert response.status_code == 201
    data = response.json["data"]
    assert data["phone"] == "254712345678"
    assert data["is_default"] is True
    assert data["delivery_zone"]["id"] == zone.id
    assert data["delivery_zone"]["fee"] == "250.00"


def test_a_new_default_clears_the_old_one(client, customer_headers, customer, zone, db):
    first = create(client, customer_headers, zone).json["data"]
    second = create(client, customer_headers, zone, is_default=False).json["data"]
    assert second["is_default"] is False

    third = create(client, customer_headers, zone, is_default=True).json["data"]

    defaults = db.session.query(Address).filter_by(user_id=customer.id, is_default=True).all()
    assert [a.id for a in defaults] == [third["id"]]

    switched = client.put(
        f"/api/orders/addresses/{first['id']}", json={"is_default": True}, headers=customer_headers
    )
    assert switched.status_code == 200
    listed = client.get("/api/orders/addresses", headers=customer_headers).json["data"]
    assert [(a["id"], a["is_default"]) for a in listed] == [
        (first["id"], True),
        (second["id"], False),
        (third["id"], False),
    ]


def test_update_changes_only_the_fields_sent(client, customer_headers, customer, zone):
    address = AddressFactory(user_id=customer.id, delivery_zone=zone)
    other_zone = DeliveryZoneFactory()

    response = client.put(
        f"/api/orders/addresses/{address.id}",
        json={"town": "Kilimani", "delivery_zone_id": other_zone.id, "phone": "+254110000001"},
        headers=customer_headers,
    )

    data = response.json["data"]
    assert response.status_code == 200
    assert (data["town"], data["street"]) == ("Kilimani", "Waiyaki Way 12")
    assert data["delivery_zone"]["id"] == other_zone.id
    assert data["phone"] == "254110000001"


def test_deleting_the_default_promotes_the_newest_and_orders_keep_their_copy(
    client, customer_headers, customer, zone, db
):
    older = AddressFactory(user_id=customer.id, delivery_zone=zone)
    default = AddressFactory(user_id=customer.id, delivery_zone=zone, is_default=True)
    order = OrderFactory(customer=customer, address_id=default.id)

    response = client.delete(f"/api/orders/addresses/{default.id}", headers=customer_headers)

    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Address, older.id).is_default is True
    assert order.address_id is None
    assert order.delivery_street == "Waiyaki Way 12"


@pytest.mark.parametrize(
    "changes",
    [
        {"phone": "12345"},
        {"recipient_name": ""},
        {"delivery_zone_id": "x"},
        {"delivery_zone_id": 2**31},
        {"delivery_zone_id": -46961368280613306368},
        {"is_default": "perhaps"},
        {"unknown": 1},
    ],
)
def test_bad_address_fields_are_400(client, customer_headers, zone, changes):
    response = create(client, customer_headers, zone, **changes)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


def test_unknown_or_retired_zone_is_404(client, customer_headers):
    retired = DeliveryZoneFactory(is_active=False)
    response = client.post(
        "/api/orders/addresses",
        json={**ADDRESS, "delivery_zone_id": retired.id},
        headers=customer_headers,
    )
    assert response.status_code == 404


def test_update_with_a_zone_id_beyond_the_integer_range_is_400_and_changes_nothing(
    client, customer_headers, customer, zone
):
    own = AddressFactory(user_id=customer.id, delivery_zone=zone)
    response = client.put(
        f"/api/orders/addresses/{own.id}",
        json={"town": "Elsewhere", "delivery_zone_id": -46961368280613306368},
        headers=customer_headers,
    )
    assert response.status_code == 400
    assert "delivery_zone_id" in response.json["error"]["details"]
    listed = client.get("/api/orders/addresses", headers=customer_headers).json["data"]
    assert [a["town"] for a in listed] == [own.town]


def test_someone_elses_address_is_404(client, customer_headers, zone):
    foreign = AddressFactory(delivery_zone=zone)
    url = f"/api/orders/addresses/{foreign.id}"
    assert client.put(url, json={"town": "X"}, headers=customer_headers).status_code == 404
    assert client.delete(url, headers=customer_headers).status_code == 404
    assert client.get("/api/orders/addresses", headers=customer_headers).json["data"] == []


def test_delivery_zones_are_public_and_only_active(client):
    DeliveryZoneFactory(name="Mombasa", fee=Decimal("600.00"), estimated_days=3)
    DeliveryZoneFactory(name="Old zone", is_active=False)
    response = client.get("/api/orders/delivery-zones")
    assert response.status_code == 200
    assert [z["name"] for z in response.json["data"]] == ["Mombasa"]


@pytest.mark.parametrize(
    ("subtotal", "fee", "free"),
    [("4999.99", "350.00", False), ("5000.00", "0.00", True), (7000, "0.00", True)],
)
def test_calculate_fee_is_free_from_the_threshold(client, subtotal, fee, free):
    zone = DeliveryZoneFactory(
        fee=Decimal("350.00"), estimated_days=2, free_delivery_threshold=Decimal("5000.00")
    )
    response = client.post(
        "/api/orders/delivery-zones/calculate",
        json={"delivery_zone_id": zone.id, "subtotal": subtotal},
    )
    data = response.json["data"]
    assert response.status_code == 200
    assert (data["fee"], data["free_delivery"], data["estimated_days"]) == (fee, free, 2)
    assert Decimal(data["total"]) == Decimal(str(subtotal)) + Decimal(fee)


def test_calculate_fee_for_a_zone_id_beyond_the_integer_range_is_400(client):
    response = client.post(
        "/api/orders/delivery-zones/calculate",
        json={"delivery_zone_id": 2**63, "subtotal": "100.00"},
    )
    assert response.status_code == 400
    assert "delivery_zone_id" in response.json["error"]["details"]


def test_calculate_fee_bad_input(client, zone):
    url = "/api/orders/delivery-zones/calculate"
    assert client.post(url, json={"delivery_zone_id": 9999, "subtotal": "1"}).status_code == 404
    for subtotal in ("abc", "-1", "1.001"):
        body = {"delivery_zone_id": zone.id, "subtotal": subtotal}
        assert client.post(url, json=body).status_code == 400
