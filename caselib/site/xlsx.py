"""The Excel (.xlsx) writer of the exports for people (see ``export``).

A bold, frozen, filterable header row; numbers as numbers (amounts with a
thousands separator); text always text, even when it begins like a formula;
column widths by what a column holds; printed landscape, fitted to the page's
width, with the header row on every page; a note below the data when rows
were left out.

The workbook is written here as the few XML parts of an Office Open XML
(ECMA-376) spreadsheet, its cells as inline strings and numbers: an export of
100,000 cases takes a few seconds this way, where a general spreadsheet
library's cell objects take half a minute (see bench/README.md). What Excel,
WPS and LibreOffice read of it is checked by tests that open the files with
openpyxl and with LibreOffice.
"""

from __future__ import annotations

import re
import zipfile
import io
from typing import Any, Iterable, Sequence
from xml.sax.saxutils import escape

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
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Text a spreadsheet reads as an error value unless it is marked as text.
ERROR_TEXTS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
ZIP_LEVEL = 1  # the sheet's XML is repetitive: the fastest level already packs it about eight to one

# Cell styles (the order of cellXfs in STYLES): plain, bold header, integer
# amount, decimal amount, text marked as text (a leading apostrophe in Excel).
PLAIN, HEADER, INTEGER, DECIMAL, MARKED_TEXT = range(5)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
PACKAGE_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">\
<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">\
<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/>\
</Relationships>"""
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""

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
    text = ILLEGAL_CHARACTERS.sub("", text)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 1] + "…"
    return text


def column_letter(number: int) -> str:
    """A, B, … Z, AA, … for columns numbered from 1."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_cell(ref: str, text: str, style: int = PLAIN) -> str:
    """A cell that is always a string, however the text begins."""
    text = clean_text(text)
    if style == PLAIN and (runs_as_formula(text) or text in ERROR_TEXTS):
        style = MARKED_TEXT
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def number_cell(ref: str, number: int | float, header: str) -> str:
    style = ""
    if header in AMOUNT_HEADERS:
        style = f' s="{INTEGER if isinstance(number, int) else DECIMAL}"'
    return f'<c r="{ref}"{style}><v>{number!r}</v></c>'


def cell_for(ref: str, header: str, value: Any) -> str:
    """The XML of one value under one header ("" for nothing)."""
    value = value_for(header, value)
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(ref, value)
    return number_cell(ref, int(value) if isinstance(value, bool) else value, header)


def sheet_title(title: str) -> str:
    """A valid worksheet name: no []:*?/\\, at most 31 characters."""
    return (SHEET_NAME_FORBIDDEN.sub("_", clean_text(title)).strip("'") or "Sheet1")[:31]


def quoted_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def workbook_xml(title: str, filtered: str) -> str:
    sheet = quoted_sheet(title)
    names = f'<definedName name="_xlnm.Print_Titles" localSheetId="0">{escape(sheet)}!$1:$1</definedName>'
    if filtered:
        names = f'<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{escape(sheet)}!{filtered}</definedName>' + names
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
        f'<sheets><sheet name="{escape(title, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
        f"<definedNames>{names}</definedNames></workbook>"
    )


def sheet_xml(headers: list[str], rows: list[str], filtered: str) -> str:
    """The worksheet: frozen header row, column widths, the rows, the filter and the print setup."""
    widths = "".join(f'<col min="{n}" max="{n}" width="{column_width(h)}" customWidth="1"/>' for n, h in enumerate(headers, 1))
    return "".join(
        (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">',
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
            f"<cols>{widths}</cols>" if widths else "",
            "<sheetData>",
            *rows,
            "</sheetData>",
            f'<autoFilter ref="{filtered}"/>' if filtered else "",
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>',
            "</worksheet>",
        )
    )


def write_workbook(export: Export, rows: Iterable[Sequence[Any]], limit: int = MAX_ROWS) -> bytes:
    """The .xlsx bytes: a bold, frozen, filterable header row and up to ``limit`` rows.

    When ``rows`` holds more than ``limit`` rows, or ``export.note`` says rows
    were left out, a note follows the data, below a blank row and outside the
    filter.
    """
    headers = [column.header for column in export.columns]
    letters = [column_letter(n) for n in range(1, len(headers) + 1)]
    lines = ['<row r="1">' + "".join(text_cell(f"{letter}1", header, HEADER) for letter, header in zip(letters, headers)) + "</row>"]
    note = export.note
    written = 0
    for row in rows:
        if written == limit:
            note = f"符合条件的记录超过 {limit:,} 行，仅导出了前 {limit:,} 行；请缩小筛选范围后分批导出。"
            break
        number = written + 2
        cells = "".join(cell_for(f"{letter}{number}", c.header, c.value(row)) for letter, c in zip(letters, export.columns))
        lines.append(f'<row r="{number}">{cells}</row>')
        written += 1
    if note:
        lines.append(f'<row r="{written + 3}">{text_cell(f"A{written + 3}", note)}</row>')
    filtered = f"A1:{letters[-1]}{written + 1}" if headers else ""
    title = sheet_title(export.sheet)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", PACKAGE_RELS)
        package.writestr("xl/workbook.xml", workbook_xml(title, filtered))
        package.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        package.writestr("xl/styles.xml", STYLES)
        package.writestr("xl/worksheets/sheet1.xml", sheet_xml(headers, lines, filtered))
    return buffer.getvalue()


WRITER = Writer(EXTENSION, CONTENT_TYPE, write_workbook)
