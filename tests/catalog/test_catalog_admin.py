import pytest

from app.auth.models import UserRole
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory
from tests.factories.orders import DeliveryZoneFactory


def test_manager_manages_categories(client, manager_headers):
    parent = client.post(
        "/api/products/categories",
        json={"name": "Phones & Tablets", "commission_rate": "0.0800"},
        headers=manager_headers,
    )
    assert parent.status_code == 201, parent.json
    assert parent.json["data"]["slug"] == "phones-tablets"
    child = client.post(
        "/api/products/categories",
        json={
            "name": "Smartphones",
            "parent_id": parent.json["data"]["id"],
            "suggested_specs": {"ram_gb": "integer"},
        },
        headers=manager_headers,
    ).json["data"]
    assert child["commission_rate"] == "0.1000"  # the default
    cycle = client.put(
        f"/api/products/categories/{parent.json['data']['id']}",
        json={"parent_id": child["id"]},
        headers=manager_headers,
    )
    assert cycle.status_code == 400 and "parent_id" in cycle.json["error"]["details"]
    bad = client.post(
        "/api/products/categories",
        json={"name": "X", "suggested_specs": {"ram": "float"}, "commission_rate": "1.5"},
        headers=manager_headers,
    )
    assert bad.status_code == 400
    assert {"suggested_specs", "commission_rate"} <= set(bad.json["error"]["details"])


def test_retiring_a_category_requires_it_to_be_empty(client, manager_headers):
    category = CategoryFactory()
    product = ProductFactory(category=category)
    response = client.delete(f"/api/products/categories/{category.id}", headers=manager_headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "CATEGORY_NOT_EMPTY"
    client.put(f"/api/products/{product.id}", json={"is_active": False}, headers=manager_headers)
    response = client.delete(f"/api/products/categories/{category.id}", headers=manager_headers)
    assert response.status_code == 200 and response.json["data"]["is_active"] is False
    assert client.get("/api/products/categories").json["data"] == []
    listed = client.get(
        "/api/products/categories?include_inactive=true", headers=manager_headers
    ).json["data"]
    assert [c["id"] for c in listed] == [category.id]


def test_manager_manages_brands(client, manager_headers):
    created = client.post(
        "/api/products/brands",
        json={"name": "Oraimo", "logo_url": "https://cdn.example.com/oraimo.png"},
        headers=manager_headers,
    )
    assert created.status_code == 201 and created.json["data"]["slug"] == "oraimo"
    duplicate = client.post(
        "/api/products/brands", json={"name": "oraimo"}, headers=manager_headers
    )
    assert duplicate.status_code == 409
    brand_id = created.json["data"]["id"]
    retired = client.delete(f"/api/products/brands/{brand_id}", headers=manager_headers)
    assert retired.json["data"]["is_active"] is False
    assert client.get("/api/products/brands").json["data"] == []
    bad_logo = client.post(
        "/api/products/brands", json={"name": "X", "logo_url": "ftp://x"}, headers=manager_headers
    )
    assert bad_logo.status_code == 400


def test_manager_manages_delivery_zones(client, manager_headers):
    created = client.post(
        "/api/products/delivery-zones",
        json={
            "name": "Kisumu",
            "fee": "450.00",
            "estimated_days": 2,
            "free_delivery_threshold": 15000,
        },
        headers=manager_headers,
    )
    assert created.status_code == 201, created.json
    assert created.json["data"]["free_delivery_threshold"] == "15000.00"
    zone_id = created.json["data"]["id"]
    updated = client.put(
        f"/api/products/delivery-zones/{zone_id}", json={"fee": "500"}, headers=manager_headers
    )
    assert updated.json["data"]["fee"] == "500.00"
    assert (
        client.post(
            "/api/products/delivery-zones",
            json={"name": "Y", "fee": "-1", "estimated_days": 1},
            headers=manager_headers,
        ).status_code
        == 400
    )
    client.delete(f"/api/products/delivery-zones/{zone_id}", headers=manager_headers)
    assert client.get("/api/products/delivery-zones").json["data"] == []


@pytest.mark.parametrize("role", [UserRole.CUSTOMER, UserRole.SUPPLIER, UserRole.FINANCE_ADMIN])
def test_only_admins_and_product_managers_administer(client, role_user, auth_headers, role):
    headers = auth_headers(role_user(role))
    brand, zone, category = BrandFactory(), DeliveryZoneFactory(), CategoryFactory()
    for method, url in (
        ("post", "/api/products/brands"),
        ("put", f"/api/products/brands/{brand.id}"),
        ("delete", f"/api/products/delivery-zones/{zone.id}"),
        ("put", f"/api/products/categories/{category.id}"),
    ):
        response = getattr(client, method)(url, json={"name": "N"}, headers=headers)
        assert response.status_code == 403, (method, url)


def test_admin_passes_product_manager_checks(client, admin_headers):
    response = client.post("/api/products/brands", json={"name": "Anker"}, headers=admin_headers)
    assert response.status_code == 201


def test_unknown_ids_are_404(client, manager_headers):
    response = client.put("/api/products/brands/999", json={"name": "x"}, headers=manager_headers)
    assert response.status_code == 404
