"""Every CSV and XLSX the project writes: cells a spreadsheet would run are made inert.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0``): it gets a
leading single quote (OWASP's CSV injection advice). Numbers are written as numbers, so
a negative price stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from openpyxl import Workbook

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


def stream_csv(rows: Iterable[Sequence[Any]], *, chunk_rows: int = 500) -> Iterator[bytes]:
    """``rows`` as CSV bytes, a chunk at a time (a download never holds the whole file);
    text cells inert as in ``write``."""
    text = io.StringIO()
    writer = csv.writer(text)
    pending = 0
    for row in rows:
        writer.writerow([inert(value) for value in row])
        pending += 1
        if pending >= chunk_rows:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
            pending = 0
    if pending:
        yield text.getvalue().encode()


def csv_download(rows: Iterable[Sequence[Any]], name: str) -> Response:
    """A streamed ``name.csv`` attachment of ``rows`` (run inside the request's context:
    database reads go on as the file is sent)."""
    return Response(
        stream_with_context(stream_csv(rows)),
        mimetype=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
