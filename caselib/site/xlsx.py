"""The Excel (.xlsx) writer of the exports for people (see ``export``).

A bold, frozen, filterable header row; numbers as numbers (amounts with a
thousands separator); text always text, even when it begins like a formula;
column widths by what a column holds; printed landscape, fitted to the page's
width, with the header row on every page; a note below the data when rows
were left out.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from .. import schema
from ..fields import Text
from .export import (
    AMOUNT_HEADERS,
    CASE_HEADERS,
    CASE_PAGE_HEADER,
    MAX_ROWS,
    TEXT_HEADERS,
    Export,
    Writer,
    runs_as_formula,
    value_for,
)

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSION = "xlsx"
CELL_LIMIT = 32_767  # the most characters an Excel cell holds
_EXPORTED = [f for f in schema.COLUMNS if f.export]
HEADER_WIDTHS: dict[str, float] = {
    **{f.heading: 24 for f in _EXPORTED if isinstance(f.rule, Text)},
    **{f.heading: 28 for f in _EXPORTED if f.array},
    CASE_HEADERS["id"]: 30,
    CASE_HEADERS["title"]: 50,
    CASE_HEADERS["date"]: 12,
    CASE_HEADERS["path"]: 30,
    CASE_HEADERS["summary"]: 60,
    CASE_PAGE_HEADER: 40,
    "摘要": 60,
}
TEXT_WIDTH = 60
MIN_WIDTH = 8
MAX_WIDTH = 40
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
HEADER_FONT = Font(bold=True)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def column_width(header: str) -> float:
    if header in HEADER_WIDTHS:
        return HEADER_WIDTHS[header]
    if header in TEXT_HEADERS:
        return TEXT_WIDTH
    # A CJK character is about two Latin characters wide.
    width = sum(2 if ord(ch) > 0x2E7F else 1 for ch in header) + 4
    return float(min(MAX_WIDTH, max(MIN_WIDTH, width)))


def clean_text(text: str) -> str:
    """Text an .xlsx cell accepts: no XML-illegal characters, at most 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 1] + "…"
    return text


def text_cell(ws: WriteOnlyWorksheet, text: str) -> WriteOnlyCell | str:
    """A cell that is always a string, however the text begins."""
    text = clean_text(text)
    if not runs_as_formula(text) and text not in ERROR_CODES:
        return text
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def number_cell(ws: WriteOnlyWorksheet, number: int | float) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=number)
    cell.number_format = INTEGER_FORMAT if isinstance(number, int) else DECIMAL_FORMAT
    return cell


def cell_for(ws: WriteOnlyWorksheet, header: str, value: Any) -> Any:
    """What to write for one value under one header."""
    value = value_for(header, value)
    if isinstance(value, str):
        return text_cell(ws, value)
    if value is not None and header in AMOUNT_HEADERS:
        return number_cell(ws, value)
    return value


def header_cell(ws: WriteOnlyWorksheet, header: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=clean_text(header))
    cell.data_type = "s"
    cell.font = HEADER_FONT
    return cell


def sheet_title(title: str) -> str:
    """A valid worksheet name: no []:*?/\\, at most 31 characters."""
    return (SHEET_NAME_FORBIDDEN.sub("_", clean_text(title)).strip("'") or "Sheet1")[:31]


def print_setup(ws: WriteOnlyWorksheet) -> None:
    """Landscape, as wide as the page (as many pages long as needed), header row on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def write_workbook(export: Export, rows: Iterable[Sequence[Any]], limit: int = MAX_ROWS) -> bytes:
    """The .xlsx bytes: a bold, frozen, filterable header row and up to ``limit`` rows.

    When ``rows`` holds more than ``limit`` rows, or ``export.note`` says rows
    were left out, a note follows the data, below a blank row and outside the
    filter.
    """
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet_title(export.sheet))
    headers = [column.header for column in export.columns]
    for number, header in enumerate(headers, 1):
        ws.column_dimensions[get_column_letter(number)].width = column_width(header)
    ws.freeze_panes = "A2"
    print_setup(ws)
    ws.append([header_cell(ws, header) for header in headers])
    written = 0
    note = export.note
    for row in rows:
        if written == limit:
            note = f"符合条件的记录超过 {limit:,} 行，仅导出了前 {limit:,} 行；请缩小筛选范围后分批导出。"
            break
        ws.append([cell_for(ws, c.header, c.value(row)) for c in export.columns])
        written += 1
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{written + 1}"
    if note:
        ws.append([])
        ws.append([text_cell(ws, note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


WRITER = Writer(EXTENSION, CONTENT_TYPE, write_workbook)
