"""Every CSV and XLSX the project writes: cells a spreadsheet would run are made inert.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0``): it gets a
leading single quote (OWASP's CSV injection advice). Numbers are written as numbers, so
a negative price stays a number.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, stream_with_context
from openpyxl import Workbook

CHUNK = 64 * 1024
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` safe to open in a spreadsheet: text that would be a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(
    kind: str, rows: Iterable[Sequence[Any]], name: str, *, title: str = "Sheet"
) -> tuple[io.BytesIO, str, str]:
    """(content, mimetype, filename) of ``rows`` as ``name.csv`` or ``name.xlsx``."""
    if kind == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = title
        for row in rows:
            sheet.append([inert(value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        buffer.seek(0)
        return buffer, XLSX_TYPE, f"{name}.xlsx"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerows([inert(value) for value in row] for row in rows)
    return io.BytesIO(text.getvalue().encode()), CSV_TYPE, f"{name}.csv"


def _streamed_cell(kind: str, value: Any) -> Any:
    """Timestamps as ISO 8601 UTC (a naive UTC datetime in a workbook), the rest as is."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return (
            value.replace(tzinfo=None) if kind == "xlsx" else value.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    return inert(value)


def _csv_chunks(rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text)
    for row in rows:
        writer.writerow([_streamed_cell("csv", value) for value in row])
        if text.tell() >= CHUNK:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    if text.tell():
        yield text.getvalue().encode()


def _xlsx_chunks(rows: Iterable[Sequence[Any]], title: str) -> Iterator[bytes]:
    """A write-only workbook (rows go to disk as they come), then the file in chunks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append([_streamed_cell("xlsx", value) for value in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def stream(
    kind: str, rows: Iterable[Sequence[Any]], name: str, *, title: str = "Sheet"
) -> tuple[Iterator[bytes], str, str]:
    """(chunks, mimetype, filename) of ``rows`` as ``name.csv`` or ``name.xlsx``, written
    as they are read: a large export is never whole in memory. Numbers stay numbers (a
    Decimal is a plain decimal), timestamps are ISO 8601 UTC, text is made inert."""
    if kind == "xlsx":
        return _xlsx_chunks(rows, title), XLSX_TYPE, f"{name}.xlsx"
    return _csv_chunks(rows), CSV_TYPE, f"{name}.csv"


def csv_download(rows: Iterable[Sequence[Any]], name: str) -> Response:
    """A streamed ``name.csv`` attachment of ``rows`` (run inside the request's context:
    database reads go on as the file is sent)."""
    chunks, mimetype, filename = stream("csv", rows, name)
    return Response(
        stream_with_context(chunks),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
