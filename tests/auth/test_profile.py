import pytest

from app.auth.models import UserRole
from tests.auth.conftest import fresh
from tests.factories.auth import (
    DeliveryAgentProfileFactory,
    SupplierProfileFactory,
    UserFactory,
)


def test_update_profile(client, customer, auth_headers):
    response = client.put(
        "/api/auth/profile",
        json={
            "first_name": " Achieng ",
            "phone": "+254 722 000 111",
            "avatar_url": "https://cdn.example.com/a.png",
        },
        headers=auth_headers(customer),
    )

    assert response.status_code == 200
    data = response.json["data"]
    assert (data["first_name"], data["phone"]) == ("Achieng", "254722000111")
    assert data["avatar_url"] == "https://cdn.example.com/a.png"


@pytest.mark.parametrize(
    "body",
    [
        {"role": "ADMIN"},
        {"is_active": False},
        {"email_verified_at": "2026-01-01T00:00:00Z"},
        {"email": "new@example.co.ke"},
        {"password_hash": "x"},
        {"phone": "0800"},
        {"avatar_url": "javascript:alert(1)"},
        {"first_name": ""},
    ],
)
def test_profile_update_refuses_anything_else(client, customer, auth_headers, body):
    response = client.put("/api/auth/profile", json=body, headers=auth_headers(customer))

    assert response.status_code == 400
    assert set(body) <= set(response.json["error"]["details"])
    assert fresh(customer).role == UserRole.CUSTOMER and customer.is_active


def test_complete_customer_profile(client, auth_headers):
    user = UserFactory(phone=None)

    response = client.post(
        "/api/auth/complete-profile",
        json={"phone": "0711222333", "date_of_birth": "1995-04-12", "marketing_opt_in": True},
        headers=auth_headers(user),
    )

    assert response.status_code == 200
    data = response.json["data"]
    assert data["phone"] == "254711222333"
    assert data["customer_profile"] == {"date_of_birth": "1995-04-12", "marketing_opt_in": True}


def test_customer_phone_is_required(client, auth_headers):
    user = UserFactory(phone=None)

    response = client.post(
        "/api/auth/complete-profile", json={"marketing_opt_in": True}, headers=auth_headers(user)
    )

    assert response.status_code == 400
    assert response.json["error"]["details"] == {"phone": ["Missing data for required field."]}


def test_complete_supplier_profile(client, auth_headers):
    user = SupplierProfileFactory(pending=True).user

    response = client.post(
        "/api/auth/complete-profile",
        json={
            "kra_pin": "a123456789z",
            "business_registration_number": "PVT-2024-001",
            "business_address": "Luthuli Avenue, Nairobi",
            "mpesa_payout_number": "0722111222",
        },
        headers=auth_headers(user),
    )

    assert response.status_code == 200
    profile = response.json["data"]["supplier_profile"]
    assert profile["kra_pin"] == "A123456789Z"
    assert profile["mpesa_payout_number"] == "254722111222"
    assert profile["is_approved"] is False  # completing a profile approves nothing


def test_supplier_payout_number_needs_a_verified_email(client, auth_headers):
    user = SupplierProfileFactory(user__unverified=True).user

    response = client.post(
        "/api/auth/complete-profile",
        json={"kra_pin": "A123456789Z", "mpesa_payout_number": "0722111222"},
        headers=auth_headers(user),
    )

    assert response.status_code == 403
    assert response.json["error"]["code"] == "EMAIL_NOT_VERIFIED"
    assert fresh(user.supplier_profile).kra_pin is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kra_pin": "123"}, "kra_pin"),
        ({"is_approved": True}, "is_approved"),
        ({"commission_rate": "0"}, "commission_rate"),
        ({"vehicle_type": "Lorry", "kra_pin": "A123456789Z"}, "vehicle_type"),
    ],
)
def test_supplier_profile_bad_fields(client, auth_headers, body, field):
    user = SupplierProfileFactory(pending=True).user

    response = client.post("/api/auth/complete-profile", json=body, headers=auth_headers(user))

    assert response.status_code == 400
    assert field in response.json["error"]["details"]
    assert fresh(user.supplier_profile).is_approved is False


def test_customer_cannot_send_supplier_fields(client, customer, auth_headers):
    response = client.post(
        "/api/auth/complete-profile",
        json={"phone": "0711222333", "business_name": "Sneaky Ltd"},
        headers=auth_headers(customer),
    )

    assert response.status_code == 400
    assert response.json["error"]["details"] == {
        "business_name": ["Not a field of a customer profile."]
    }


def test_complete_delivery_agent_profile(client, auth_headers):
    user = DeliveryAgentProfileFactory().user

    response = client.post(
        "/api/auth/complete-profile",
        json={"vehicle_type": "Motorbike", "vehicle_registration": "KMEA 123A"},
        headers=auth_headers(user),
    )

    assert response.status_code == 200
    assert response.json["data"]["delivery_agent_profile"]["vehicle_registration"] == "KMEA 123A"
