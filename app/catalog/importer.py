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
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import spreadsheets
from app.api import JSON_TOO_DEEP, UNSTORABLE_TEXT, json_too_deep, unstorable
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
    "images": "https://images.quantumgear.co.ke/a55-front.jpg | https://images.quantumgear.co.ke/a55-back.jpg",
    "specs": '{"ram_gb": 8, "storage_gb": 128, "colour": "Awesome Navy"}',
}
# Cells read, blank ones and blank rows included: the template's columns of MAX_ROWS
# rows, three times over. Also the most shared strings a workbook may hold.
MAX_CELLS = 3 * len(COLUMNS) * (MAX_ROWS + 1)
# An XLSX is a zip: what it inflates to is checked (zipfile's infolist) before openpyxl
# reads any of it. Sheets and shared strings hold the rows; every other part is small.
MAX_INFLATED_BYTES = 50 * 1024 * 1024
MAX_OTHER_PART_BYTES = 4 * 1024 * 1024
MAX_PARTS = 200
MAX_RATIO = 100  # spreadsheet XML deflates ~5-20x; a bomb, hundreds of times
RATIO_FLOOR = 1024 * 1024  # below this inflated size, the ratio does not matter
ROW_PARTS = re.compile(r"xl/(?:worksheets/[^/]+|(sharedStrings))\.xml", re.IGNORECASE)
# What each of them must not hold more of than MAX_CELLS: rows and cells; strings.
SHEET_ELEMENTS = re.compile(rb"<(?:[\w.-]+:)?(?:row|c)[\s/>]")
SHARED_STRINGS = re.compile(rb"<(?:[\w.-]+:)?si[\s/>]")
# What openpyxl raises on a damaged workbook, while loading it or reading its rows
# (xml.etree's ParseError is a SyntaxError; a shared string index past the table, IndexError).
XLSX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    OSError,
    EOFError,
    SyntaxError,
)
CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
GENERIC_TYPES = {"application/octet-stream", ""}


class FileTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The file is larger than 5 MiB"


def _too_many_cells() -> FileTooLarge:
    return FileTooLarge(
        f"The sheet holds more than {MAX_CELLS} cells (blank ones included)",
        details={"max_cells": MAX_CELLS},
    )


def _kind(upload: FileStorage) -> str:
    name = (upload.filename or "").lower()
    mimetype = (upload.mimetype or "").lower()
    if name.endswith(".csv") and mimetype in CSV_TYPES | GENERIC_TYPES:
        return "csv"
    if name.endswith(".xlsx") and mimetype in {spreadsheets.XLSX_TYPE} | GENERIC_TYPES:
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


def _not_xlsx(error: Exception) -> BadRequest:
    return _malformed(f"not a valid XLSX workbook ({type(error).__name__})")


def _check_archive(content: bytes) -> None:
    """Refuse, before openpyxl parses anything, a workbook that would cost more than its
    rows are worth: too big once inflated (413), compressed like a zip bomb (400), or
    holding more rows and cells, or shared strings, than the import reads (413)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _not_xlsx(exc) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise _malformed(f"it has more than {MAX_PARTS} parts")
        if sum(part.file_size for part in parts) > MAX_INFLATED_BYTES:
            raise FileTooLarge(f"The workbook inflates to more than {MAX_INFLATED_BYTES >> 20} MiB")
        for part in parts:
            rows = ROW_PARTS.fullmatch(part.filename)
            if not rows and part.file_size > MAX_OTHER_PART_BYTES:
                raise FileTooLarge(f"{part.filename} inflates to more than 4 MiB")
            if part.file_size > max(RATIO_FLOOR, MAX_RATIO * part.compress_size):
                raise _malformed(f"{part.filename} is compressed like a zip bomb")
            if (
                rows
                and _count(archive, part, SHARED_STRINGS if rows[1] else SHEET_ELEMENTS) > MAX_CELLS
            ):
                raise _too_many_cells()


def _count(archive: zipfile.ZipFile, part: zipfile.ZipInfo, elements: re.Pattern) -> int:
    """``elements`` in ``part``, counted as it inflates (a match lies between two ``<``:
    the text after the last ``<`` of a chunk waits for the next)."""
    count, pending = 0, b""
    try:
        with archive.open(part) as source:
            while chunk := source.read(1 << 20):
                pending += chunk
                cut = pending.rfind(b"<")
                count += len(elements.findall(pending, 0, max(cut, 0)))
                pending = pending[max(cut, 0) :]
    except XLSX_ERRORS as exc:
        raise _not_xlsx(exc) from None
    return count + len(elements.findall(pending))


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
    _check_archive(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except XLSX_ERRORS as exc:
        raise _not_xlsx(exc) from None
    try:
        yield from _sheet_rows(workbook.active)
    finally:
        workbook.close()


def _sheet_rows(sheet: Any) -> Iterator[list[str]]:
    """The rows of the active sheet, read with the sheet's own size ignored: openpyxl pads
    every row to the declared dimension (``A1:XFD1048576`` is 17 billion cells)."""
    if not isinstance(sheet, ReadOnlyWorksheet):
        raise _malformed("its active sheet is missing or not a worksheet")
    if (sheet.max_row or 0) * (sheet.max_column or 0) > MAX_CELLS:
        raise FileTooLarge(
            f"The sheet declares {sheet.max_row} rows of {sheet.max_column} columns",
            details={
                "dimension": f"A1:{get_column_letter(sheet.max_column)}{sheet.max_row}",
                "max_cells": MAX_CELLS,
            },
        )
    sheet.reset_dimensions()
    try:
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    except XLSX_ERRORS as exc:
        raise _malformed(f"its sheet cannot be read ({type(exc).__name__})") from None


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
    cells = len(columns)
    for line, row in enumerate(rows, start=2):
        cells += max(len(row), 1)
        if cells > MAX_CELLS:
            raise _too_many_cells()
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
            if json_too_deep(record["specs"]):
                errors["specs"] = [JSON_TOO_DEEP]
            else:
                body["specs"] = json.loads(record["specs"])
        except ValueError:
            errors["specs"] = ['Must be a JSON object, e.g. {"ram_gb": 8}.']
    return body


def _validate(record: dict[str, str], lookups: _Lookups) -> tuple[dict[str, Any], dict]:
    """The row's product data and its errors by column. Text no database can store is
    refused as in a JSON body."""
    refused = {column: [UNSTORABLE_TEXT] for column, text in record.items() if unstorable(text)}
    errors: dict[str, list[str]] = {}
    body = _body({c: t for c, t in record.items() if c not in refused}, lookups, errors)
    errors |= refused
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


def _check_file(upload: FileStorage) -> tuple[list, list[tuple[int, dict, dict, dict]]]:
    """The file's records, and (line, record, product data, errors) of each."""
    kind = _kind(upload)
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise FileTooLarge()
    records = _records(kind, content)
    lookups = _Lookups()
    checked, seen = [], set()
    for line, record in records:
        data, errors = _validate(record, lookups)
        sku = record.get("sku")
        if sku and sku in seen:
            errors["sku"] = ["This SKU appears on an earlier line."]
        seen.add(sku)
        checked.append((line, record, data, errors))
    return records, checked


def import_file(
    supplier: SupplierProfile,
    upload: FileStorage,
    actor: User,
    *,
    dry_run: bool = False,
    partial: bool = False,
) -> dict[str, Any]:
    records, checked = _check_file(upload)
    valid = [data for _, _, data, errors in checked if not errors]
    bad = [
        {"line": line, "sku": record.get("sku"), "errors": errors}
        for line, record, _, errors in checked
        if errors
    ]

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
    rows = [COLUMNS, [EXAMPLE[column] for column in COLUMNS]]
    return spreadsheets.write(kind, rows, "products-import-template", title="Products")


def error_report(upload: FileStorage, kind: str) -> tuple[io.BytesIO, str, str]:
    """(content, mimetype, filename) of the file's invalid rows, as they were sent, with
    their line and errors: a sheet to correct and upload again. Nothing is imported."""
    _, checked = _check_file(upload)
    rows = [("line", *COLUMNS, "errors")]
    rows += [
        (line, *(record.get(column, "") for column in COLUMNS), json.dumps(errors))
        for line, record, _, errors in checked
        if errors
    ]
    return spreadsheets.write(kind, rows, "products-import-errors", title="Errors")
