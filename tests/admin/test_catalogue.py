"""The catalogue in the back office: thin views over the catalog's own operations, the
all-supplier product list, toggles, bulk actions and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.catalog.models import Product
from app.common.models import AuditLog
from tests.factories.auth import SupplierProfileFactory
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory
from tests.factories.orders import DeliveryZoneFactory, OrderFactory


@pytest.fixture
def pm_headers(role_user, auth_headers):
    return auth_headers(role_user(UserRole.PRODUCT_MANAGER))


def test_categories_brands_and_zones_follow_the_catalog_rules(client, db, pm_headers):
    created = client.post("/api/admin/categories", json={"name": "Drones"}, headers=pm_headers)
    assert created.status_code == 201 and created.json["data"]["slug"] == "drones"
    tree = client.get("/api/admin/categories", headers=pm_headers).json["data"]
    assert [category["name"] for category in tree] == ["Drones"]
    BrandFactory(name="Oraimo")
    duplicate = client.post("/api/admin/brands", json={"name": "oraimo"}, headers=pm_headers)
    assert duplicate.status_code == 409 and duplicate.json["error"]["code"] == "BRAND_EXISTS"
    BrandFactory(name="Retired", inactive=True)
    names = [b["name"] for b in client.get("/api/admin/brands", headers=pm_headers).json["data"]]
    assert names == ["Oraimo"]
    every = client.get("/api/admin/brands?include_inactive=true", headers=pm_headers).json["data"]
    assert [b["name"] for b in every] == ["Oraimo", "Retired"]

    zone = client.post(
        "/api/admin/delivery-zones",
        json={"name": "Nairobi CBD", "fee": "200", "estimated_days": 1, "counties": "Nairobi"},
        headers=pm_headers,
    )
    assert zone.status_code == 201
    zone_id = zone.json["data"]["id"]
    updated = client.put(
        f"/api/admin/delivery-zones/{zone_id}", json={"fee": "250.00"}, headers=pm_headers
    )
    assert updated.json["data"]["fee"] == "250.00"
    assert (
        client.put("/api/admin/delivery-zones/999999", json={}, headers=pm_headers).status_code
        == 404
    )
    listed = client.get("/api/admin/delivery-zones", headers=pm_headers).json["data"]
    assert [z["name"] for z in listed] == ["Nairobi CBD"]
    change = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.action == "delivery_zone.saved")
        .order_by(AuditLog.id.desc())
    )
    assert change.details == {"before": {"fee": "200.00"}, "after": {"fee": "250.00"}}
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "category.saved"))


def test_product_list_spans_suppliers_and_inactive_products(client, pm_headers, admin_headers):
    phone = CategoryFactory(name="Phones")
    low = ProductFactory(name="Infinix Hot", stock=2, category=phone)
    off = ProductFactory(name="Old Nokia", inactive=True, stock=50)
    plenty = ProductFactory(name="Samsung A15", stock=40, sku="SAM-A15")
    suspended = ProductFactory(supplier=SupplierProfileFactory(suspended=True), stock=9)

    def listed(**query):
        response = client.get("/api/admin/products", query_string=query, headers=pm_headers)
        assert response.status_code == 200, response.json
        return [product["id"] for product in response.json["data"]]

    assert set(listed()) == {low.id, off.id, plenty.id, suspended.id}
    assert listed(is_active="false") == [off.id]
    assert listed(low_stock="true") == [low.id]  # the default threshold is 5
    assert listed(category_id=phone.id) == [low.id]
    assert listed(supplier_id=suspended.supplier_id) == [suspended.id]
    assert listed(q="sam-a1") == [plenty.id]
    # the threshold is the runtime setting: raising it takes in more products
    client.put("/api/admin/settings", json={"low_stock_threshold": 10}, headers=admin_headers)
    assert set(listed(low_stock="true")) == {low.id, suspended.id}
    assert (
        client.get("/api/admin/products?low_stock=perhaps", headers=pm_headers).status_code == 400
    )


def test_toggle_status(client, db, pm_headers):
    product = ProductFactory()
    response = client.put(f"/api/admin/products/{product.id}/toggle-status", headers=pm_headers)
    assert response.status_code == 200 and response.json["data"]["is_active"] is False
    assert client.get(f"/api/products/{product.id}").status_code == 404
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "product.updated"))
    assert entry.details == {"before": {"is_active": True}, "after": {"is_active": False}}
    response = client.put(f"/api/admin/products/{product.id}/toggle-status", headers=pm_headers)
    assert response.json["data"]["is_active"] is True
    missing = client.put("/api/admin/products/999999/toggle-status", headers=pm_headers)
    assert missing.status_code == 404


def test_bulk_actions_report_each_id_and_leave_refused_ones_unchanged(client, db, pm_headers):
    first, second = ProductFactory(), ProductFactory(inactive=True)
    ordered = ProductFactory()
    OrderFactory(items=[(ordered, 1)])
    target, retired = CategoryFactory(), CategoryFactory(inactive=True)

    def bulk(**body):
        response = client.post("/api/admin/products/bulk-action", json=body, headers=pm_headers)
        assert response.status_code == 200, response.json
        return {result["id"]: result for result in response.json["data"]["results"]}

    results = bulk(ids=[first.id, second.id, 999999], action="deactivate")
    assert results[first.id]["result"] == "deactivated"
    assert results[second.id]["result"] == "unchanged"
    assert results[999999]["error"]["code"] == "NOT_FOUND"

    results = bulk(ids=[first.id, second.id], action="set_category", category_id=retired.id)
    assert not results[first.id]["ok"] and results[first.id]["error"]["code"] == "VALIDATION_ERROR"
    results = bulk(ids=[first.id], action="set_category", category_id=target.id)
    assert results[first.id]["result"] == "updated"

    results = bulk(ids=[second.id, ordered.id], action="delete")
    assert results[second.id]["result"] == "deleted"
    assert results[ordered.id]["result"] == "deactivated"  # orders keep it

    db.session.expire_all()
    assert db.session.get(Product, first.id).category_id == target.id
    assert db.session.get(Product, second.id) is None
    assert db.session.get(Product, ordered.id).is_active is False


@pytest.mark.parametrize(
    "body",
    [
        {"ids": [1], "action": "set_category"},
        {"ids": [1], "action": "paint"},
        {"ids": [], "action": "delete"},
        {"action": "delete"},
    ],
)
def test_bulk_refuses_bad_bodies(client, pm_headers, body):
    response = client.post("/api/admin/products/bulk-action", json=body, headers=pm_headers)
    assert response.status_code == 400


def test_export_is_a_streamed_csv_safe_to_open(client, pm_headers):
    DeliveryZoneFactory()
    evil = ProductFactory(name='=HYPERLINK("http://x","Click")', sku="-1+2", stock=3)
    ProductFactory(name="Plain", inactive=True)
    response = client.get("/api/admin/products/export-csv", headers=pm_headers)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert 'filename="products.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["id", "name", "sku"]
    assert len(rows) == 3
    first = rows[1]
    assert first[0] == str(evil.id)
    assert first[1].startswith("'=") and first[2] == "'-1+2"
    assert first[7] == "1000.00" and first[8] == "3" and first[10].endswith("Z")
    only_active = client.get("/api/admin/products/export-csv?is_active=true", headers=pm_headers)
    assert len(list(csv.reader(io.StringIO(only_active.get_data(as_text=True))))) == 2
