from decimal import Decimal

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.cart.models import CartItem
from app.catalog.models import Product, ProductSlug
from app.common.models import AuditLog
from tests.factories.auth import SupplierProfileFactory, UserFactory
from tests.factories.cart import CartFactory
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory
from tests.factories.orders import OrderFactory


@pytest.fixture
def category():
    return CategoryFactory(
        slug="phones",
        commission_rate=Decimal("0.0800"),
        suggested_specs={"ram_gb": "integer", "colour": "string", "dual_sim": "boolean"},
    )


def body(category, **overrides):
    return {
        "name": "Samsung Galaxy A15",
        "description": "Big battery.",
        "price": "21499.00",
        "stock": 5,
        "category_id": category.id,
        "brand_id": BrandFactory().id,
        "condition": "NEW",
        "warranty_months": 12,
        "specs": {"ram_gb": 4, "colour": "Blue", "5g": False},
        "images": ["https://images.quantumgear.co.ke/a15.jpg"],
    } | overrides


def test_supplier_creates_a_product(client, supplier, supplier_headers, category, db):
    response = client.post("/api/products", json=body(category), headers=supplier_headers)
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data["slug"] == "samsung-galaxy-a15"
    assert data["price"] == "21499.00" and data["supplier"]["id"] == supplier.supplier_profile.id
    assert data["commission_rate"] == "0.0800" and data["commission_rate_override"] is None
    assert data["specs"] == {"ram_gb": 4, "colour": "Blue", "5g": False}
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "product.created"))
    assert audit.details == {"price": "21499.00", "stock": 5}

    second = client.post("/api/products", json=body(category), headers=supplier_headers)
    assert second.json["data"]["slug"] == "samsung-galaxy-a15-2"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": 0}, "price"),
        ({"price": "-5"}, "price"),
        ({"price": "12.345"}, "price"),
        ({"price": "abc"}, "price"),
        ({"stock": -1}, "stock"),
        ({"condition": "USED"}, "condition"),
        ({"name": ""}, "name"),
        ({"images": ["not a url"]}, "images"),
        ({"specs": ["a"]}, "specs"),
        ({"specs": {"ram_gb": "lots"}}, "specs"),
        ({"specs": {"nested": {"a": 1}}}, "specs"),
        ({"compare_at_price": "100.00"}, "compare_at_price"),
        ({"warranty_months": 500}, "warranty_months"),
        ({"category_id": 999999}, "category_id"),
        ({"brand_id": 999999}, "brand_id"),
        ({"category_id": 2**31}, "category_id"),
        ({"brand_id": 10**30}, "brand_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_product_bodies_are_400(client, supplier_headers, category, overrides, field, db):
    response = client.post(
        "/api/products", json=body(category, **overrides), headers=supplier_headers
    )
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json["error"]["details"]
    assert db.session.scalar(select(Product.id)) is None


def test_spec_type_errors_name_the_key(client, supplier_headers, category):
    response = client.post(
        "/api/products",
        json=body(category, specs={"ram_gb": 4.5, "dual_sim": "yes"}),
        headers=supplier_headers,
    )
    assert response.json["error"]["details"]["specs"] == {
        "ram_gb": ["Must be a integer."],
        "dual_sim": ["Must be a boolean."],
    }


def test_who_may_create(client, auth_headers, role_user, category):
    pending = SupplierProfileFactory(pending=True).user
    unverified = SupplierProfileFactory(user__unverified=True).user
    cases = [
        (None, 401),
        (UserFactory(role=UserRole.CUSTOMER), 403),
        (pending, 403),
        (unverified, 403),
        (role_user(UserRole.ADMIN), 403),
    ]
    for user, status in cases:
        headers = auth_headers(user) if user else {}
        response = client.post("/api/products", json=body(category), headers=headers)
        assert response.status_code == status, (user, response.json)


def test_commission_override_is_admin_only(client, supplier_headers, manager_headers, category):
    response = client.post(
        "/api/products", json=body(category, commission_rate="0.05"), headers=supplier_headers
    )
    assert response.status_code == 403
    product_id = client.post("/api/products", json=body(category), headers=supplier_headers).json[
        "data"
    ]["id"]
    response = client.put(
        f"/api/products/{product_id}", json={"commission_rate": "0.0500"}, headers=manager_headers
    )
    assert response.status_code == 200, response.json
    assert response.json["data"]["commission_rate"] == "0.0500"
    assert response.json["data"]["commission_rate_override"] == "0.0500"


def test_supplier_updates_own_product_and_changes_are_audited(
    client, supplier, supplier_headers, db
):
    product = ProductFactory(supplier=supplier.supplier_profile, name="Old name", slug="old-name")
    response = client.put(
        f"/api/products/{product.id}",
        json={"name": "New name", "price": "1500.00", "stock": 7},
        headers=supplier_headers,
    )
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["name"] == "New name" and data["slug"] == "old-name"  # slug is stable
    assert data["price"] == "1500.00" and data["stock"] == 7
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "product.updated"))
    assert audit.actor_id == supplier.id
    assert audit.details == {
        "before": {"name": "Old name", "price": "1000.00", "stock": 10},
        "after": {"name": "New name", "price": "1500.00", "stock": 7},
    }


def test_changed_slug_keeps_the_old_one_resolving(client, supplier, supplier_headers, db):
    product = ProductFactory(supplier=supplier.supplier_profile, slug="first")
    db.session.add(ProductSlug(product_id=product.id, slug="first"))
    db.session.commit()
    response = client.put(
        f"/api/products/{product.id}", json={"slug": "second"}, headers=supplier_headers
    )
    assert response.json["data"]["slug"] == "second"
    for slug in ("first", "second"):
        assert client.get(f"/api/products/slug/{slug}").json["data"]["id"] == product.id
    other = ProductFactory(supplier=supplier.supplier_profile)
    taken = client.put(
        f"/api/products/{other.id}", json={"slug": "first"}, headers=supplier_headers
    )
    assert taken.status_code == 409 and taken.json["error"]["code"] == "SLUG_TAKEN"


def test_someone_elses_product_is_404(client, supplier_headers):
    product = ProductFactory()
    assert (
        client.put(
            f"/api/products/{product.id}", json={"stock": 1}, headers=supplier_headers
        ).status_code
        == 404
    )
    assert client.delete(f"/api/products/{product.id}", headers=supplier_headers).status_code == 404


def test_manager_may_edit_and_deactivate_any_product(client, manager_headers):
    product = ProductFactory()
    response = client.put(
        f"/api/products/{product.id}", json={"is_active": False}, headers=manager_headers
    )
    assert response.status_code == 200 and response.json["data"]["is_active"] is False
    assert client.get(f"/api/products/{product.id}").status_code == 404


def test_update_validates_against_current_values(client, supplier, supplier_headers):
    product = ProductFactory(supplier=supplier.supplier_profile, price=Decimal("1000.00"))
    response = client.put(
        f"/api/products/{product.id}", json={"compare_at_price": "900.00"}, headers=supplier_headers
    )
    assert response.status_code == 400
    assert "compare_at_price" in response.json["error"]["details"]


def test_delete_is_hard_without_orders_and_soft_with_them(client, supplier, supplier_headers, db):
    free = ProductFactory(supplier=supplier.supplier_profile)
    ordered = ProductFactory(supplier=supplier.supplier_profile)
    OrderFactory(items=[(ordered, 1)])
    first = client.delete(f"/api/products/{free.id}", headers=supplier_headers)
    assert first.json["data"] == {"id": free.id, "result": "deleted"}
    second = client.delete(f"/api/products/{ordered.id}", headers=supplier_headers)
    assert second.json["data"] == {"id": ordered.id, "result": "deactivated"}
    db.session.expire_all()
    assert db.session.get(Product, free.id) is None
    assert db.session.get(Product, ordered.id).is_active is False


def test_a_deleted_product_leaves_the_carts_a_deactivated_one_stays_in_them(
    client, supplier, supplier_headers, db
):
    free = ProductFactory(supplier=supplier.supplier_profile)
    ordered = ProductFactory(supplier=supplier.supplier_profile)
    OrderFactory(items=[(ordered, 1)])
    CartFactory(items=[(free, 1), (ordered, 2)])
    for product in (free, ordered):
        assert (
            client.delete(f"/api/products/{product.id}", headers=supplier_headers).status_code
            == 200
        )
    in_carts = db.session.scalars(select(CartItem.product_id)).all()
    assert in_carts == [ordered.id]


def test_sku_is_unique_per_supplier(client, supplier, supplier_headers, category):
    ProductFactory(supplier=supplier.supplier_profile, sku="ABC-1")
    response = client.post(
        "/api/products", json=body(category, sku="ABC-1"), headers=supplier_headers
    )
    assert response.status_code == 409 and response.json["error"]["code"] == "SKU_TAKEN"
    ProductFactory(sku="ABC-2")  # another supplier's SKU does not clash
    response = client.post(
        "/api/products", json=body(category, sku="ABC-2"), headers=supplier_headers
    )
    assert response.status_code == 201


def test_price_and_stock_constraints_hold_in_the_database(db):
    from sqlalchemy.exc import IntegrityError

    product = ProductFactory()
    for field, value in (("price", Decimal("0.00")), ("stock", -1)):
        setattr(product, field, value)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        product = db.session.get(Product, product.id)
