import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.catalog.importer import COLUMNS, MAX_ROWS
from app.catalog.models import Product
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory

HEADER = "sku,name,price,stock,category,brand,condition,specs,images\n"


@pytest.fixture(autouse=True)
def lookups():
    CategoryFactory(name="Smartphones", slug="smartphones", suggested_specs={"ram_gb": "integer"})
    BrandFactory(name="Tecno", slug="tecno")


def upload(client, headers, content, name="products.csv", mimetype="text/csv", query=""):
    data = {"file": (io.BytesIO(content), name, mimetype)}
    return client.post(
        f"/api/products/import{query}",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def product_count(db):
    return db.session.scalar(select(func.count(Product.id)))


GOOD = (
    HEADER + 'T-1,Tecno Spark 20,18999,10,smartphones,Tecno,NEW,"{""ram_gb"": 8}",'
    "https://cdn.example.com/1.jpg|https://cdn.example.com/2.jpg\n"
    "T-2,Tecno Pop 8,10999.50,5,Smartphones,tecno,refurbished,,\n"
).encode()
BAD = (
    HEADER
    + "T-1,Tecno Spark 20,18999,10,smartphones,Tecno,NEW,,\n"
    + "\n"
    + 'T-2,,abc,-1,laptops,Nokia,USED,"{""ram_gb"": ""8""}",not-a-url\n'
    + "T-1,Duplicate,100,1,smartphones,,,,\n"
).encode()


def test_csv_import_creates_then_updates_by_sku(client, supplier, supplier_headers, db):
    response = upload(client, supplier_headers, GOOD)
    assert response.status_code == 200, response.json
    assert response.json["data"] | {"errors": None} == {
        "dry_run": False,
        "partial": False,
        "imported": True,
        "total_rows": 2,
        "valid_rows": 2,
        "created": 2,
        "updated": 0,
        "errors": None,
    }
    product = db.session.scalar(select(Product).where(Product.sku == "T-1"))
    assert product.specs == {"ram_gb": 8} and len(product.images) == 2
    assert product.supplier_id == supplier.supplier_profile.id

    again = upload(client, supplier_headers, GOOD.replace(b"18999", b"17999"))
    assert again.json["data"]["updated"] == 2 and again.json["data"]["created"] == 0
    db.session.expire_all()
    assert str(db.session.get(Product, product.id).price) == "17999.00"
    assert product_count(db) == 2


def test_bad_rows_are_listed_and_nothing_is_imported(client, supplier_headers, db):
    response = upload(client, supplier_headers, BAD)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "IMPORT_REJECTED"
    rows = {row["line"]: row for row in error["details"]["errors"]}
    assert set(rows) == {4, 5}  # the blank line 3 is skipped
    assert set(rows[4]["errors"]) == {
        "name",
        "price",
        "stock",
        "category",
        "brand",
        "condition",
        "images",
    }
    assert rows[5]["errors"]["sku"] == ["This SKU appears on an earlier line."]
    assert product_count(db) == 0


def test_partial_import_keeps_the_good_rows(client, supplier_headers, db):
    response = upload(client, supplier_headers, BAD, query="?partial=true")
    assert response.status_code == 200
    assert response.json["data"]["created"] == 1 and len(response.json["data"]["errors"]) == 2
    assert product_count(db) == 1


def test_dry_run_writes_nothing(client, supplier_headers, db):
    response = upload(client, supplier_headers, GOOD, query="?dry_run=true")
    assert response.status_code == 200
    assert response.json["data"]["created"] == 2 and response.json["data"]["imported"] is False
    assert product_count(db) == 0


def test_xlsx_import(client, supplier_headers, db):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["SKU", "Name", "Price", "Stock", "Category"])
    sheet.append(["X-1", "Tecno Camon 30", 42999.0, 7.0, "smartphones"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(
        client,
        supplier_headers,
        buffer.getvalue(),
        name="p.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert response.status_code == 200, response.json
    product = db.session.scalar(select(Product).where(Product.sku == "X-1"))
    assert (str(product.price), product.stock) == ("42999.00", 7)


@pytest.mark.parametrize(
    ("content", "name", "mimetype", "code"),
    [
        (b"PK\x03\x04garbage", "p.xlsx", "application/octet-stream", "MALFORMED_FILE"),
        (b"\xff\xfe\x00bad", "p.csv", "text/csv", "MALFORMED_FILE"),
        (GOOD, "p.pdf", "application/pdf", "UNSUPPORTED_FILE_TYPE"),
        (GOOD, "p.csv", "image/png", "UNSUPPORTED_FILE_TYPE"),
        (b"", "p.csv", "text/csv", "EMPTY_FILE"),
        (HEADER.encode(), "p.csv", "text/csv", "EMPTY_FILE"),
        (b"sku,name,colour\nA,B,C\n", "p.csv", "text/csv", "BAD_COLUMNS"),
    ],
)
def test_malformed_uploads_are_400(client, supplier_headers, content, name, mimetype, code):
    response = upload(client, supplier_headers, content, name=name, mimetype=mimetype)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == code


def test_missing_file_is_400(client, supplier_headers):
    response = client.post(
        "/api/products/import",
        data={},
        headers=supplier_headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "file" in response.json["error"]["details"]


def test_row_limit(client, supplier_headers):
    rows = "".join(f"S-{n},Phone {n},100,1,smartphones,,,,\n" for n in range(MAX_ROWS + 1))
    response = upload(client, supplier_headers, (HEADER + rows).encode())
    assert response.status_code == 400 and response.json["error"]["code"] == "TOO_MANY_ROWS"


def test_oversized_body_is_413(app, client, supplier_headers):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/api/products/import",
        data=b"x" * (limit + 1),  # raw bytes: the test client spools encoded forms to disk
        headers=supplier_headers,
        content_type="multipart/form-data; boundary=qg",
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_import_is_for_suppliers_and_updates_only_their_own_skus(
    client, customer_headers, supplier_headers, db
):
    assert upload(client, customer_headers, GOOD).status_code == 403
    other = ProductFactory(sku="T-1", price=1)
    upload(client, supplier_headers, GOOD)
    db.session.refresh(other)
    assert str(other.price) == "1.00" and product_count(db) == 3


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_template_download(client, supplier_headers, kind):
    response = client.get(f"/api/products/import/template?format={kind}", headers=supplier_headers)
    assert response.status_code == 200
    if kind == "csv":
        assert response.data.decode().splitlines()[0] == ",".join(COLUMNS)
    else:
        sheet = load_workbook(io.BytesIO(response.data)).active
        assert [cell.value for cell in sheet[1]] == list(COLUMNS)


def test_template_round_trips_as_a_dry_run(client, supplier_headers):
    CategoryFactory(slug="samsung-phones")
    BrandFactory(name="Samsung", slug="samsung")
    template = client.get("/api/products/import/template", headers=supplier_headers).data
    response = upload(client, supplier_headers, template, query="?dry_run=true")
    assert response.status_code == 200, response.json
    assert response.json["data"]["valid_rows"] == 1
