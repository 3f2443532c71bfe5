"""The supplier's own catalogue through /api/supplier/products: the catalog's rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, select

from app.catalog.models import Product
from app.common.models import AuditLog
from app.extensions import db
from tests.factories.auth import SupplierProfileFactory, UserFactory
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.orders import OrderFactory


@pytest.fixture
def category():
    return CategoryFactory(commission_rate=Decimal("0.0800"), suggested_specs={"ram_gb": "integer"})


def body(category, **overrides):
    return {
        "name": "Tecno Spark 20",
        "price": "15999.00",
        "stock": 4,
        "category_id": category.id,
        "specs": {"ram_gb": 8},
    } | overrides


def test_a_supplier_creates_reads_updates_and_lists_their_products(
    client, supplier, supplier_headers, category
):
    created = client.post("/api/supplier/products", json=body(category), headers=supplier_headers)
    assert created.status_code == 201, created.json
    product = created.json["data"]
    assert product["slug"] == "tecno-spark-20" and product["commission_rate"] == "0.0800"
    assert (product["stock"], product["units_sold"]) == (4, 0)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "product.created"))
    assert audit.actor_id == supplier.id

    again = client.post("/api/supplier/products", json=body(category), headers=supplier_headers)
    assert again.json["data"]["slug"] == "tecno-spark-20-2"  # the catalog's slug rule

    path = f"/api/supplier/products/{product['id']}"
    updated = client.put(path, json={"price": "14999.00", "stock": 9}, headers=supplier_headers)
    assert updated.status_code == 200, updated.json
    assert (updated.json["data"]["price"], updated.json["data"]["stock"]) == ("14999.00", 9)
    assert client.get(path, headers=supplier_headers).json["data"]["price"] == "14999.00"
    changes = db.session.scalar(select(AuditLog).where(AuditLog.action == "product.updated"))
    assert (changes.details["before"]["price"], changes.details["after"]["price"]) == (
        "15999.00",
        "14999.00",
    )

    listed = client.get("/api/supplier/products", headers=supplier_headers)
    assert [row["name"] for row in listed.json["data"]] == ["Tecno Spark 20"] * 2
    assert listed.json["meta"]["total"] == 2


def test_the_list_shows_stock_and_units_sold_with_filters(client, supplier, supplier_headers):
    profile = supplier.supplier_profile
    busy = ProductFactory(supplier=profile, name="Busy", stock=2, sold_count=7)
    idle = ProductFactory(supplier=profile, name="Idle", stock=30, is_active=False)
    ProductFactory(name="Someone else's")

    def names(query=""):
        response = client.get(f"/api/supplier/products?{query}", headers=supplier_headers)
        assert response.status_code == 200, response.json
        return {row["name"]: (row["stock"], row["units_sold"]) for row in response.json["data"]}

    assert names() == {"Busy": (2, 7), "Idle": (30, 0)}
    assert names("is_active=false") == {"Idle": (30, 0)}
    assert names("max_stock=5") == {"Busy": (2, 7)}
    assert busy.id != idle.id


def test_the_list_takes_the_same_queries_for_more_products(client, supplier, supplier_headers):
    def count():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/api/supplier/products", headers=supplier_headers).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    ProductFactory(supplier=supplier.supplier_profile)
    one = count()
    for _ in range(4):
        ProductFactory(supplier=supplier.supplier_profile)
    assert count() == one


def test_status_activates_and_deactivates(client, supplier, supplier_headers):
    product = ProductFactory(supplier=supplier.supplier_profile)
    path = f"/api/supplier/products/{product.id}/status"

    off = client.patch(path, json={"is_active": False}, headers=supplier_headers)
    assert off.status_code == 200 and off.json["data"]["is_active"] is False
    assert client.get(f"/api/products/{product.id}").status_code == 404  # no longer listed
    on = client.patch(path, json={"is_active": True}, headers=supplier_headers)
    assert on.json["data"]["is_active"] is True
    assert client.get(f"/api/products/{product.id}").status_code == 200

    assert client.patch(path, json={}, headers=supplier_headers).status_code == 400
    assert (
        client.patch(path, json={"is_active": "maybe"}, headers=supplier_headers).status_code == 400
    )


def test_delete_removes_or_deactivates_an_ordered_product(client, supplier, supplier_headers):
    fresh = ProductFactory(supplier=supplier.supplier_profile)
    ordered = ProductFactory(supplier=supplier.supplier_profile)
    OrderFactory(items=[(ordered, 1)])

    gone = client.delete(f"/api/supplier/products/{fresh.id}", headers=supplier_headers)
    kept = client.delete(f"/api/supplier/products/{ordered.id}", headers=supplier_headers)

    assert gone.json["data"] == {"id": fresh.id, "result": "deleted"}
    assert kept.json["data"] == {"id": ordered.id, "result": "deactivated"}
    db.session.expire_all()
    assert db.session.get(Product, fresh.id) is None
    assert db.session.get(Product, ordered.id).is_active is False


def test_another_suppliers_product_is_not_found(client, supplier_headers, category):
    theirs = ProductFactory()
    path = f"/api/supplier/products/{theirs.id}"

    assert client.get(path, headers=supplier_headers).status_code == 404
    assert client.put(path, json={"stock": 1}, headers=supplier_headers).status_code == 404
    assert client.delete(path, headers=supplier_headers).status_code == 404
    patched = client.patch(f"{path}/status", json={"is_active": False}, headers=supplier_headers)
    assert patched.status_code == 404
    assert client.get("/api/supplier/products/999999", headers=supplier_headers).status_code == 404
    db.session.expire_all()
    assert db.session.get(Product, theirs.id).is_active is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "0"}, "price"),
        ({"stock": -1}, "stock"),
        ({"specs": {"ram_gb": "eight"}}, "specs"),
        ({"category_id": 999999}, "category_id"),
    ],
)
def test_the_catalogs_validation_applies(client, supplier_headers, category, overrides, field):
    response = client.post(
        "/api/supplier/products", json=body(category, **overrides), headers=supplier_headers
    )

    assert response.status_code == 400
    assert field in response.json["error"]["details"]
    assert db.session.scalar(select(Product.id)) is None


def test_suppliers_cannot_set_their_commission(client, supplier_headers, category):
    response = client.post(
        "/api/supplier/products",
        json=body(category, commission_rate="0.0100"),
        headers=supplier_headers,
    )

    assert response.status_code == 403


def test_writes_need_a_verified_approved_supplier(client, auth_headers, category):
    unverified = SupplierProfileFactory(user=UserFactory(role="SUPPLIER", unverified=True)).user
    pending = SupplierProfileFactory(pending=True).user
    customer = UserFactory()

    for user, code in ((unverified, "EMAIL_NOT_VERIFIED"), (pending, "SUPPLIER_NOT_APPROVED")):
        response = client.post(
            "/api/supplier/products", json=body(category), headers=auth_headers(user)
        )
        assert (response.status_code, response.json["error"]["code"]) == (403, code)
    assert client.get("/api/supplier/products", headers=auth_headers(customer)).status_code == 403
    assert client.get("/api/supplier/products").status_code == 401
