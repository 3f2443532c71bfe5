"""Uploading images over HTTP: who may, what comes back, what is stored and served."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.auth.models import User, UserRole
from app.catalog.models import Brand, Product
from app.extensions import db
from app.uploads.models import Upload, UploadKind
from tests.factories.auth import SupplierProfileFactory
from tests.factories.catalog import BrandFactory, ProductFactory
from tests.factories.uploads import gps_exif, image_bytes


def post_image(client, path, headers, data: bytes | None = None, name="photo.jpg", **form):
    body = dict(form)
    if data is not None:
        body["file"] = (io.BytesIO(data), name)
    return client.post(
        f"/api/uploads/{path}", data=body, headers=headers, content_type="multipart/form-data"
    )


def stored_path(app, url: str) -> Path:
    return Path(app.config["UPLOAD_DIR"], url.split("/media/", 1)[1])


def fetch(client, url: str):
    """GET one of our media URLs; the file is read and closed."""
    response = client.get(url.split("localhost:5000", 1)[1])
    response.get_data()
    response.close()
    return response


def upload_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Upload))


def test_supplier_uploads_a_product_image_and_it_is_served_back(app, client, supplier_headers):
    response = post_image(client, "product", supplier_headers, image_bytes("JPEG", (640, 480)))
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert set(data) == {
        "url",
        "public_id",
        "width",
        "height",
        "format",
        "bytes",
        "kind",
        "thumbnail_url",
    }
    assert (data["width"], data["height"], data["format"], data["kind"]) == (
        640,
        480,
        "jpeg",
        "PRODUCT",
    )
    assert data["public_id"].startswith("products/") and "photo" not in data["url"]
    assert data["bytes"] == stored_path(app, data["url"]).stat().st_size

    served = fetch(client, data["url"])
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert len(served.data) == data["bytes"]
    thumb = Image.open(io.BytesIO(fetch(client, data["thumbnail_url"]).data))
    assert max(thumb.size) == 400

    row = db.session.scalar(select(Upload))
    assert (row.kind, row.storage, row.attached_to, row.url) == (
        UploadKind.PRODUCT,
        "LOCAL",
        None,
        data["url"],
    )


def test_exif_gps_and_appended_bytes_are_dropped(app, client, customer_headers):
    original = image_bytes("JPEG", (300, 200), exif=gps_exif()) + b"PK\x03\x04zip-payload"
    assert b"PhoneMaker" in original
    response = post_image(client, "return", customer_headers, original)
    assert response.status_code == 201, response.json
    stored = stored_path(app, response.json["data"]["url"]).read_bytes()
    assert b"PhoneMaker" not in stored and b"zip-payload" not in stored
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif() and image.size == (300, 200)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_keep_their_format(client, customer_headers, fmt):
    response = post_image(client, "return", customer_headers, image_bytes(fmt), name="x.bin")
    assert response.status_code == 201, response.json
    assert response.json["data"]["format"] == fmt.lower()
    assert response.json["data"]["url"].endswith("." + {"PNG": "png", "WEBP": "webp"}[fmt])


def test_product_id_appends_the_image_to_the_supplier_s_own_product(
    client, supplier, supplier_headers
):
    product = ProductFactory(supplier=supplier.supplier_profile, images=[])
    response = post_image(client, "product", supplier_headers, image_bytes(), product_id=product.id)
    assert response.status_code == 201, response.json
    db.session.expire_all()
    url = response.json["data"]["url"]
    assert db.session.get(Product, product.id).images == [url]
    assert db.session.scalar(select(Upload.attached_to)) == f"product:{product.id}"

    someone_elses = ProductFactory()
    refused = post_image(
        client, "product", supplier_headers, image_bytes(), product_id=someone_elses.id
    )
    assert refused.status_code == 404
    assert upload_count() == 1


def test_product_managers_may_add_to_any_product(client, role_user, auth_headers):
    product = ProductFactory(images=["https://images.quantumgear.co.ke/a.jpg"])
    manager = auth_headers(role_user(UserRole.PRODUCT_MANAGER))
    response = post_image(client, "product", manager, image_bytes(), product_id=product.id)
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(Product, product.id).images[1] == response.json["data"]["url"]


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("product", UserRole.CUSTOMER, 403),
        ("product", UserRole.DELIVERY_AGENT, 403),
        ("return", UserRole.SUPPLIER, 403),
        ("return", UserRole.ADMIN, 403),
        ("brand", UserRole.SUPPLIER, 403),
        ("brand", UserRole.CUSTOMER, 403),
        ("brand", UserRole.PRODUCT_MANAGER, 201),
        ("brand", UserRole.ADMIN, 201),
        ("product", UserRole.ADMIN, 201),
        ("profile", UserRole.DELIVERY_AGENT, 201),
    ],
)
def test_who_may_upload_what(client, role_user, auth_headers, path, role, status):
    response = post_image(client, path, auth_headers(role_user(role)), image_bytes())
    assert response.status_code == status, response.json
    assert upload_count() == (1 if status == 201 else 0)


def test_pending_supplier_and_anonymous_are_refused(client, auth_headers):
    pending = SupplierProfileFactory(pending=True).user
    response = post_image(client, "product", auth_headers(pending), image_bytes())
    assert (response.status_code, response.json["error"]["code"]) == (403, "SUPPLIER_NOT_APPROVED")
    assert post_image(client, "product", {}, image_bytes()).status_code == 401


def test_brand_logo_with_brand_id_becomes_the_logo(client, admin_headers):
    brand = BrandFactory()
    response = post_image(client, "brand", admin_headers, image_bytes("PNG"), brand_id=brand.id)
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(Brand, brand.id).logo_url == response.json["data"]["url"]
    assert (
        post_image(client, "brand", admin_headers, image_bytes(), brand_id=999).status_code == 404
    )


def test_profile_upload_sets_the_avatar_and_replaces_the_old_file(
    app, client, customer, customer_headers
):
    first = post_image(client, "profile", customer_headers, image_bytes()).json["data"]
    second = post_image(client, "profile", customer_headers, image_bytes("PNG")).json["data"]
    db.session.expire_all()
    assert db.session.get(User, customer.id).avatar_url == second["url"]
    assert not stored_path(app, first["url"]).exists()
    assert stored_path(app, second["url"]).exists()
    assert db.session.scalars(select(Upload.url)).all() == [second["url"]]


def test_signature_needs_cloudinary(client, supplier_headers):
    response = client.post("/api/uploads/signature?kind=PRODUCT", headers=supplier_headers)
    assert (response.status_code, response.json["error"]["code"]) == (
        503,
        "PROVIDER_NOT_CONFIGURED",
    )


def test_delete_removes_the_file_and_takes_it_off_the_product(
    app, client, supplier, supplier_headers, auth_headers, customer_headers
):
    product = ProductFactory(supplier=supplier.supplier_profile, images=[])
    data = post_image(
        client, "product", supplier_headers, image_bytes(), product_id=product.id
    ).json["data"]
    path = stored_path(app, data["url"])
    assert path.exists()

    someone = client.delete(f"/api/uploads/delete?url={data['url']}", headers=customer_headers)
    assert someone.status_code == 404

    response = client.delete(
        f"/api/uploads/delete?public_id={data['public_id']}", headers=supplier_headers
    )
    assert response.status_code == 200, response.json
    assert not path.exists() and not Path(str(path).replace(".jpg", "_thumb.jpg")).exists()
    db.session.expire_all()
    assert db.session.get(Product, product.id).images == []
    assert upload_count() == 0


def test_admins_delete_anyone_s_upload_and_the_avatar_goes(
    client, customer, customer_headers, admin_headers
):
    data = post_image(client, "profile", customer_headers, image_bytes()).json["data"]
    response = client.delete(f"/api/uploads/delete?url={data['url']}", headers=admin_headers)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, customer.id).avatar_url is None


@pytest.mark.parametrize("query", ["", "?public_id=a&url=b"])
def test_delete_needs_exactly_one_of_public_id_or_url(client, customer_headers, query):
    response = client.delete(f"/api/uploads/delete{query}", headers=customer_headers)
    assert (response.status_code, response.json["error"]["code"]) == (400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "path",
    [
        "/media/../app/__init__.py",
        "/media/%2e%2e/%2e%2e/etc/passwd.jpg",
        "/media/..%2f..%2fetc/passwd.png",
        "/media/products/missing.jpg",
        "/media/products/x.svg",
    ],
)
def test_media_serves_nothing_outside_the_upload_folder(client, path):
    response = fetch(client, "http://localhost:5000" + path)
    assert response.status_code in (404, 400)
    assert response.is_json


def test_openapi_documents_multipart_bodies(client):
    spec = client.get("/api/openapi.json").json
    body = spec["paths"]["/api/uploads/product"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    schema = spec["components"]["schemas"]["ProductImage"]["properties"]
    assert schema["file"]["format"] == "binary" and "product_id" in schema
    assert (
        "multipart/form-data"
        in (spec["paths"]["/api/uploads/return"]["post"]["requestBody"]["content"])
    )
