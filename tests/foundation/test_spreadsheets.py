"""app/spreadsheets.py: cells a spreadsheet would run as formulas are written inert."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.spreadsheets import inert, write

FORMULA = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "text", [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")']
)
def test_text_that_starts_a_formula_gets_a_leading_quote(text):
    assert inert(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Tecno Spark", "", "1-2", "a=b", -5, -2.5, Decimal("-1.50"), None]
)
def test_other_text_and_numbers_are_untouched(value):
    assert inert(value) == value


def test_csv_and_xlsx_writers_escape_text_cells_only():
    rows = [("name", "price"), (FORMULA, -5)]
    content, mimetype, filename = write("csv", rows, "report")
    assert (mimetype, filename) == ("text/csv", "report.csv")
    assert list(csv.reader(io.StringIO(content.read().decode()))) == [
        ["name", "price"],
        ["'" + FORMULA, "-5"],
    ]
    content, _, filename = write("xlsx", rows, "report", title="Report")
    sheet = load_workbook(content)["Report"]
    assert filename == "report.xlsx"
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("'" + FORMULA, "s")
    assert (sheet["B2"].value, sheet["B2"].data_type) == (-5, "n")
