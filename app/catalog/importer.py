"""Bulk product import from CSV or XLSX (openpyxl), and its downloadable template.

Every row is validated with the same schema and rules as ``POST /products``; the report
lists each bad row with its line number (the header is line 1). A file with any bad row
imports nothing unless ``partial``; ``dry_run`` validates only. Rows whose SKU matches
one of the supplier's products update that product.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.auth.models import SupplierProfile, User
from app.catalog import operations as ops
from app.catalog.models import Brand, Category, Product
from app.catalog.schemas import ProductWriteSchema
from app.errors import ApiError, BadRequest, Unprocessable
from app.extensions import db

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = (
    "sku",
    "name",
    "description",
    "price",
    "compare_at_price",
    "stock",
    "category",
    "brand",
    "condition",
    "warranty_months",
    "images",
    "specs",
)
FIELD_COLUMNS = {"category_id": "category", "brand_id": "brand"}
REQUIRED = ("sku", "name", "price", "stock", "category")
EXAMPLE = {
    "sku": "SM-A55-128",
    "name": "Samsung Galaxy A55 5G 128GB",
    "description": "6.6-inch Super AMOLED, 50MP camera, 5000mAh battery.",
    "price": "52999.00",
    "compare_at_price": "57999.00",
    "stock": "25",
    "category": "smartphones",
    "brand": "samsung",
    "condition": "NEW",
    "warranty_months": "12",
    "images": "https://cdn.example.com/a55-front.jpg | https://cdn.example.com/a55-back.jpg",
    "specs": '{"ram_gb": 8, "storage_gb": 128, "colour": "Awesome Navy"}',
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
GENERIC_TYPES = {"application/octet-stream", ""}


class FileTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The file is larger than 5 MiB"


def _kind(upload: FileStorage) -> str:
    name = (upload.filename or "").lower()
    mimetype = (upload.mimetype or "").lower()
    if name.endswith(".csv") and mimetype in CSV_TYPES | GENERIC_TYPES:
        return "csv"
    if name.endswith(".xlsx") and mimetype in {XLSX_TYPE} | GENERIC_TYPES:
        return "xlsx"
    raise BadRequest(
        "Upload a .csv or .xlsx file",
        code="UNSUPPORTED_FILE_TYPE",
        details={"filename": upload.filename, "content_type": upload.mimetype},
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _malformed(reason: str) -> BadRequest:
    return BadRequest(f"The file cannot be read: {reason}", code="MALFORMED_FILE")


def _read_rows(kind: str, content: bytes) -> Iterator[list[str]]:
    if kind == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _malformed("it is not UTF-8 text") from None
        try:
            yield from csv.reader(io.StringIO(text, newline=""))
        except csv.Error as exc:
            raise _malformed(str(exc)) from None
        return
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _malformed(f"not a valid XLSX workbook ({type(exc).__name__})") from None
    try:
        for row in workbook.active.iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    finally:
        workbook.close()


def _records(kind: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: text}) of every non-blank row, after checking the header."""
    rows = _read_rows(kind, content)
    header = next(rows, None)
    if header is None:
        raise BadRequest("The file is empty", code="EMPTY_FILE")
    columns = [cell.strip().lower().replace(" ", "_") for cell in header]
    unknown = [c for c in columns if c and c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or missing:
        raise BadRequest(
            "The header row does not match the template",
            code="BAD_COLUMNS",
            details={"unknown": unknown, "missing": missing, "expected": list(COLUMNS)},
        )
    records = []
    for line, row in enumerate(rows, start=2):
        values = [str(cell).strip() for cell in row]
        if not any(values):
            continue
        if len(records) == MAX_ROWS:
            raise BadRequest(f"A file may hold at most {MAX_ROWS} rows", code="TOO_MANY_ROWS")
        records.append((line, {c: v for c, v in zip(columns, values, strict=False) if c and v}))
    if not records:
        raise BadRequest("The file has no product rows", code="EMPTY_FILE")
    return records


class _Lookups:
    """Categories and brands by id, slug or name, loaded once per file."""

    def __init__(self) -> None:
        self.categories: dict[str, Category] = {}
        for category in db.session.scalars(select(Category).where(Category.is_active)):
            for key in (str(category.id), category.slug, category.name.lower()):
                self.categories[key] = category
        self.brands: dict[str, Brand] = {}
        for brand in db.session.scalars(select(Brand).where(Brand.is_active)):
            for key in (str(brand.id), brand.slug, brand.name.lower()):
                self.brands[key] = brand


def _body(record: dict[str, str], lookups: _Lookups, errors: dict) -> dict[str, Any]:
    """The row as a ``POST /products`` body (lookups and parsing errors go to ``errors``)."""
    body: dict[str, Any] = {
        key: record[key]
        for key in ("sku", "name", "description", "price", "compare_at_price", "stock")
        if key in record
    }
    for key in ("condition", "warranty_months"):
        if key in record:
            body[key] = record[key].upper() if key == "condition" else record[key]
    category = lookups.categories.get(record.get("category", "").lower())
    if category is None:
        errors["category"] = ["Unknown category."]
    else:
        body["category_id"] = category.id
    if "brand" in record:
        brand = lookups.brands.get(record["brand"].lower())
        if brand is None:
            errors["brand"] = ["Unknown brand."]
        else:
            body["brand_id"] = brand.id
    if "images" in record:
        body["images"] = [url.strip() for url in record["images"].split("|") if url.strip()]
    if "specs" in record:
        try:
            body["specs"] = json.loads(record["specs"])
        except ValueError:
            errors["specs"] = ['Must be a JSON object, e.g. {"ram_gb": 8}.']
    return body


def _validate(record: dict[str, str], lookups: _Lookups) -> tuple[dict[str, Any], dict]:
    errors: dict[str, list[str]] = {}
    body = _body(record, lookups, errors)
    if not record.get("sku"):
        errors["sku"] = ["Required: rows are matched to your products by SKU."]
    try:
        data = ProductWriteSchema().load(body)
    except ma.ValidationError as exc:
        for key, messages in exc.messages.items():
            errors.setdefault(FIELD_COLUMNS.get(key, key), messages)
        return {}, errors
    category = lookups.categories[str(data["category_id"])]
    spec_errors = ops.spec_errors(category, data["specs"])
    if spec_errors:
        errors["specs"] = spec_errors
    return data, errors


def import_file(
    supplier: SupplierProfile,
    upload: FileStorage,
    actor: User,
    *,
    dry_run: bool = False,
    partial: bool = False,
) -> dict[str, Any]:
    kind = _kind(upload)
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise FileTooLarge()
    records = _records(kind, content)
    lookups = _Lookups()
    valid, bad, seen = [], [], set()
    for line, record in records:
        data, errors = _validate(record, lookups)
        sku = record.get("sku")
        if sku and sku in seen:
            errors["sku"] = ["This SKU appears on an earlier line."]
        seen.add(sku)
        if errors:
            bad.append({"line": line, "sku": sku, "errors": errors})
        else:
            valid.append(data)

    existing = {
        product.sku: product
        for product in db.session.scalars(
            select(Product).where(
                Product.supplier_id == supplier.id,
                Product.sku.in_([data["sku"] for data in valid]),
            )
        )
    }
    report = {
        "dry_run": dry_run,
        "partial": partial,
        "imported": False,
        "total_rows": len(records),
        "valid_rows": len(valid),
        "created": sum(1 for data in valid if data["sku"] not in existing),
        "updated": sum(1 for data in valid if data["sku"] in existing),
        "errors": bad,
    }
    if dry_run:
        return report
    if bad and not partial:
        raise Unprocessable(
            f"{len(bad)} of {len(records)} rows are invalid: nothing was imported",
            code="IMPORT_REJECTED",
            details=report | {"created": 0, "updated": 0},
        )
    for data in valid:
        product = existing.get(data["sku"])
        if product is None:
            ops.create_product(supplier, data, actor)
        else:
            ops.update_product(product, data, actor)
    report["imported"] = bool(valid)
    return report


def template(kind: str) -> tuple[io.BytesIO, str, str]:
    """(content, mimetype, filename) of the import template with one example row."""
    if kind == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Products"
        sheet.append(list(COLUMNS))
        sheet.append([EXAMPLE[column] for column in COLUMNS])
        buffer = io.BytesIO()
        workbook.save(buffer)
        buffer.seek(0)
        return buffer, XLSX_TYPE, "products-import-template.xlsx"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE[column] for column in COLUMNS])
    return io.BytesIO(text.getvalue().encode()), "text/csv", "products-import-template.csv"
