import csv
import io
import json
import time
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.api import JSON_TOO_DEEP, UNSTORABLE_TEXT
from app.catalog.importer import COLUMNS, MAX_CELLS, MAX_ROWS
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
    "https://images.quantumgear.co.ke/1.jpg|https://images.quantumgear.co.ke/2.jpg\n"
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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


# ---- hostile files ---------------------------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows=(("sku", "name", "price", "stock", "category"), ("H-1", "Phone", 100, 1, "x"))):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite(content: bytes, edit) -> bytes:
    """``content`` with each part replaced by ``edit(name, data)`` (None: unchanged) and
    any extra parts ``edit`` returns under a name absent from the archive."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, edit(info.filename, data) or data)
    return buffer.getvalue()


def with_part(content: bytes, name: str, data: bytes) -> bytes:
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def sheet_edit(old: bytes, new: bytes):
    return lambda name, data: data.replace(old, new) if name == SHEET else None


def blank_rows(count: int) -> bytes:
    return b"".join(b'<row r="%d"/>' % n for n in range(3, count + 3))


def shared_strings(items: bytes) -> bytes:
    return (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s</sst>' % items
    )


HOSTILE_XLSX = {
    "dimension A1:XFD1048576": (
        lambda: rewrite(xlsx(), sheet_edit(b'ref="A1:E2"', b'ref="A1:XFD1048576"')),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "deflate bomb of empty rows": (
        lambda: rewrite(
            xlsx(), sheet_edit(b"</sheetData>", b'<row r="3"/>' * 4_000_000 + b"</sheetData>")
        ),
        400,
        "MALFORMED_FILE",
    ),
    "last row at 1048576": (
        lambda: rewrite(
            xlsx(),
            sheet_edit(
                b"</sheetData>", b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>'
            ),
        ),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "a cell in column XFD on every row": (
        lambda: rewrite(
            xlsx(),
            sheet_edit(
                b"</sheetData>",
                b"".join(
                    b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (n, n) for n in range(3, 40)
                )
                + b"</sheetData>",
            ),
        ),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "blank rows past the cell budget": (
        lambda: rewrite(
            xlsx(), sheet_edit(b"</sheetData>", blank_rows(MAX_CELLS) + b"</sheetData>")
        ),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "shared strings bomb": (
        lambda: with_part(
            xlsx(), "xl/sharedStrings.xml", shared_strings(b"<si><t>a</t></si>" * 3_000_000)
        ),
        400,
        "MALFORMED_FILE",
    ),
    "more shared strings than cells": (
        lambda: with_part(
            xlsx(),
            "xl/sharedStrings.xml",
            shared_strings(b"".join(b"<si><t>%d</t></si>" % n for n in range(MAX_CELLS + 1))),
        ),
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "unclosed sheet XML": (
        lambda: rewrite(
            xlsx(),
            lambda name, data: data[: data.index(b"</sheetData>")] if name == SHEET else None,
        ),
        400,
        "MALFORMED_FILE",
    ),
    "active sheet past the last": (
        lambda: rewrite(
            xlsx(),
            lambda name, data: (
                data.replace(b'activeTab="0"', b'activeTab="7"')
                if name == "xl/workbook.xml"
                else None
            ),
        ),
        400,
        "MALFORMED_FILE",
    ),
    "shared string index past the table": (
        lambda: rewrite(
            xlsx(),
            sheet_edit(
                b'<c r="A2" t="inlineStr"><is><t>H-1</t></is></c>', b'<c r="A2" t="s"><v>99</v></c>'
            ),
        ),
        400,
        "MALFORMED_FILE",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_XLSX)
def test_a_hostile_workbook_is_refused_at_once(client, supplier_headers, db, case):
    build, status, code = HOSTILE_XLSX[case]
    content = build()
    assert len(content) < 1_000_000  # far under the 5 MiB upload limit
    started = time.perf_counter()
    response = upload(client, supplier_headers, content, name="p.xlsx", mimetype=XLSX)
    elapsed = time.perf_counter() - started
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert elapsed < 1, f"{case}: {elapsed:.2f} s"
    assert product_count(db) == 0


def test_hostile_csv_rows_are_refused_at_once(client, supplier_headers, db):
    for content in (HEADER.encode() + b"\n" * 400_000, HEADER.encode() + b"," * 400_000):
        started = time.perf_counter()
        response = upload(client, supplier_headers, content)
        assert time.perf_counter() - started < 1
        assert response.status_code == 413 and response.json["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert product_count(db) == 0


def test_unstorable_text_and_deep_specs_are_row_errors(client, supplier_headers, db):
    deep = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
    content = (
        HEADER
        + "N-1,Nul\x00Phone,100,1,smartphones,,,,\n"
        + f'N-2,Deep,100,1,smartphones,,,"{deep.replace(chr(34), chr(34) * 2)}",\n'
        + "N-3,Good,100,1,smartphones,,,,\n"
    ).encode()
    response = upload(client, supplier_headers, content)
    assert response.status_code == 422, response.json
    rows = {row["line"]: row["errors"] for row in response.json["error"]["details"]["errors"]}
    assert rows == {2: {"name": [UNSTORABLE_TEXT]}, 3: {"specs": [JSON_TOO_DEEP]}}
    assert product_count(db) == 0

    workbook = xlsx(
        [
            ("sku", "name", "price", "stock", "category", "specs"),
            ("D-1", "Deep", 100, 1, "smartphones", "[" * 5000),
        ]
    )
    response = upload(client, supplier_headers, workbook, name="p.xlsx", mimetype=XLSX)
    assert response.json["error"]["details"]["errors"][0]["errors"] == {"specs": [JSON_TOO_DEEP]}


# ---- error report ----------------------------------------------------------------------

FORMULA = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_error_report_lists_the_bad_rows_with_formulas_made_inert(
    client, supplier_headers, db, kind
):
    content = (
        HEADER + f'F-1,"{FORMULA}",abc,1,smartphones,,,,\nF-2,Good,100,1,smartphones,,,,\n'
    ).encode()
    data = {"file": (io.BytesIO(content), "p.csv", "text/csv")}
    response = client.post(
        f"/api/products/import/errors?format={kind}",
        data=data,
        headers=supplier_headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    if kind == "csv":
        assert response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.data.decode())))
    else:
        rows = [list(row) for row in load_workbook(io.BytesIO(response.data)).active.values]
    assert rows[0] == ["line", *COLUMNS, "errors"]
    assert len(rows) == 2  # the good row is not in the report
    row = dict(zip(rows[0], rows[1], strict=True))
    assert str(row["line"]) == "2" and row["sku"] == "F-1"
    assert row["name"] == "'" + FORMULA
    assert json.loads(row["errors"]) == {"price": ["Not a valid amount."]}
    assert product_count(db) == 0
