"""What uses an upload: product image URLs, attach_uploads for other domains, product
deletion and the purge of orphans."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.scheduler import execute, find_job
from app.uploads.models import Upload, UploadKind
from app.uploads.operations import attach_uploads, is_upload
from tests.factories.catalog import BrandFactory, CategoryFactory
from tests.factories.uploads import UploadFactory, image_bytes


def upload(client, path, headers, **form) -> dict:
    response = client.post(
        f"/api/uploads/{path}",
        data={"file": (io.BytesIO(image_bytes()), "a.jpg"), **form},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json["data"]


def product_body(images: list[str]) -> dict:
    return {
        "name": "Tecno Spark 20",
        "price": "15999.00",
        "stock": 3,
        "category_id": CategoryFactory().id,
        "brand_id": BrandFactory().id,
        "images": images,
    }


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "http://images.quantumgear.co.ke/a.jpg",  # not HTTPS
        "https://169.254.169.254/latest/meta-data.jpg",
        "https://127.0.0.1/a.jpg",
        "https://localhost/a.jpg",
        "https://evil.example.com/a.jpg",
        "https://images.quantumgear.co.ke.evil.com/a.jpg",
        "https://user:pw@images.quantumgear.co.ke/a.jpg",
        "https://images.quantumgear.co.ke:8443/a.jpg",
        "https://images.quantumgear.co.ke/",
        "data:image/png;base64,iVBORw0KGgo=",
        "//images.quantumgear.co.ke/a.jpg",
        "https://images.quantumgear.co.ke/a.jpg\n<script>",
    ],
)
def test_product_images_refuse_urls_that_are_neither_ours_nor_allowed(
    client, supplier_headers, url
):
    response = client.post("/api/products", json=product_body([url]), headers=supplier_headers)
    assert response.status_code == 400, response.json
    assert "images" in response.json["error"]["details"]


def test_a_product_created_with_our_upload_attaches_it_and_deleting_it_removes_the_file(
    app, client, supplier_headers
):
    image = upload(client, "product", supplier_headers)
    allowed = "https://res.cloudinary.com/quantumgear/image/upload/a.jpg"
    response = client.post(
        "/api/products", json=product_body([image["url"], allowed]), headers=supplier_headers
    )
    assert response.status_code == 201, response.json
    product_id = response.json["data"]["id"]
    row = db.session.scalar(select(Upload))
    assert row.attached_to == f"product:{product_id}"

    dropped = client.put(
        f"/api/products/{product_id}", json={"images": [allowed]}, headers=supplier_headers
    )
    assert dropped.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Upload.attached_to)) is None  # released: purged later

    client.put(
        f"/api/products/{product_id}", json={"images": [image["url"]]}, headers=supplier_headers
    )
    db.session.expire_all()
    assert db.session.scalar(select(Upload.attached_to)) == f"product:{product_id}"
    file = Path(app.config["UPLOAD_DIR"], image["url"].split("/media/")[1])
    assert file.exists()
    assert (
        client.delete(f"/api/products/{product_id}", headers=supplier_headers).json["data"][
            "result"
        ]
        == "deleted"
    )
    assert db.session.scalar(select(Upload)) is None
    assert not file.exists()


def test_attach_uploads_checks_kind_owner_and_attachment(customer, supplier):
    mine = UploadFactory(owner=customer, kind=UploadKind.RETURN)
    product_image = UploadFactory(owner=customer, kind=UploadKind.PRODUCT)
    someone_elses = UploadFactory(owner=supplier, kind=UploadKind.RETURN)
    for urls in (
        [mine.url, product_image.url],
        [someone_elses.url],
        ["https://images.quantumgear.co.ke/a.jpg"],
    ):
        with pytest.raises(ValidationFailed) as refused:
            attach_uploads(
                urls, kind=UploadKind.RETURN, owner_id=customer.id, attached_to="return:1"
            )
        assert refused.value.details["images"]
    db.session.rollback()
    assert db.session.get(Upload, mine.id).attached_to is None

    attached = attach_uploads(
        [mine.url], kind=UploadKind.RETURN, owner_id=customer.id, attached_to="return:1"
    )
    assert [u.attached_to for u in attached] == ["return:1"]
    assert attach_uploads(  # again, for the same return: fine
        [mine.url], kind=UploadKind.RETURN, owner_id=customer.id, attached_to="return:1"
    )
    with pytest.raises(ValidationFailed):  # but not for another one
        attach_uploads(
            [mine.url], kind=UploadKind.RETURN, owner_id=customer.id, attached_to="return:2"
        )
    assert is_upload(mine.url, kind=UploadKind.RETURN, owner_id=customer.id)
    assert not is_upload(mine.url, kind=UploadKind.RETURN, owner_id=supplier.id)
    assert not is_upload(mine.url, kind=UploadKind.PRODUCT)


def test_purge_removes_only_old_unattached_uploads(app, client, customer_headers):
    fresh = upload(client, "return", customer_headers)
    old = upload(client, "return", customer_headers)
    old_attached = upload(client, "return", customer_headers)
    rows = {row.url: row for row in db.session.scalars(select(Upload))}
    for data in (old, old_attached):
        rows[data["url"]].created_at = rows[data["url"]].created_at.replace(year=2020)
    rows[old_attached["url"]].attached_to = "return:9"
    db.session.commit()

    run = execute(find_job("purge_orphan_uploads"), "test-slot")
    assert run.status == "SUCCEEDED" and run.result == "1"
    assert set(db.session.scalars(select(Upload.url))) == {fresh["url"], old_attached["url"]}
    media = Path(app.config["UPLOAD_DIR"])
    assert not (media / old["url"].split("/media/")[1]).exists()
    assert (media / fresh["url"].split("/media/")[1]).exists()
