"""Excel (.xlsx) export of case lists and queries, as a Datasette output renderer.

Every table page and query page that offers CSV also offers ``.xlsx``:
``/cases/cases.xlsx?violations__arraycontains=受贿&_search=…&_sort=…`` takes
the same filters, search and sort as the page. The CSV stays as Datasette
writes it, for programs; the workbook is for people:

- a table export holds *every* matching row, not one page: the page's own SQL
  is run again without its page limit (``_next`` is dropped by a redirect, so
  an export always starts at the first row), up to ``MAX_ROWS`` rows;
- a query export holds the rows the query returned;
- the ``cases`` columns get short Chinese headers, HTML and bookkeeping
  columns are left out, JSON arrays are joined with "、", amounts and years
  are numbers;
- every text is written as text: a title such as ``=HYPERLINK(…)`` stays a
  string and never becomes a formula.
"""

from __future__ import annotations

import io
import json
import math
import re
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence
from urllib.parse import quote

from datasette.utils import escape_sqlite, path_with_removed_args
from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from .. import schema
from ..fields import Amount, Text

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSION = "xlsx"
MAX_ROWS = 200_000
EXPORT_TIME_FACTOR = 4  # an export reads every row; a page reads one page
PROGRESS_STEPS = 1_000  # SQLite instructions between time checks
FETCH_BATCH = 1_000
CELL_LIMIT = 32_767  # the most characters an Excel cell holds
EXACT_INTEGER_LIMIT = 2**53  # larger integers lose digits as Excel numbers
ARRAY_SEPARATOR = "、"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
RENDERED_VIEWS = frozenset({"table", "database"})

CASES_DATABASE = "cases"
CASE_TABLES = frozenset({"cases", "case_texts"})

# Spreadsheet headers of the ``cases`` and ``case_texts`` columns, and what
# their values are, from the schema. Canned queries that name their columns
# the same way (违规类型, 涉案金额（元）…) get the same treatment.
CASE_HEADERS: dict[str, str] = schema.headers()
DROPPED_CASE_COLUMNS = schema.technical_columns()
_EXPORTED = [f for f in schema.COLUMNS if f.export]
ARRAY_HEADERS = frozenset(f.heading for f in _EXPORTED if f.array)
AMOUNT_HEADERS = frozenset(f.heading for f in _EXPORTED if isinstance(f.rule, Amount))
YEAR_HEADERS = frozenset(f.heading for f in _EXPORTED if f.sql_type is int and f.heading not in AMOUNT_HEADERS)
TEXT_HEADERS = frozenset(f.zh for f in schema.TEXT_FIELDS if f.export and f.name != "id")
HEADER_WIDTHS: dict[str, float] = {
    **{f.heading: 24 for f in _EXPORTED if isinstance(f.rule, Text)},
    **{f.heading: 28 for f in _EXPORTED if f.array},
    CASE_HEADERS["id"]: 30,
    CASE_HEADERS["title"]: 50,
    CASE_HEADERS["date"]: 12,
    CASE_HEADERS["path"]: 30,
    CASE_HEADERS["summary"]: 60,
    "摘要": 60,
}
TEXT_WIDTH = 60
MIN_WIDTH = 8
MAX_WIDTH = 40

INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
HEADER_FONT = Font(bold=True)

LIMIT_AT_END = re.compile(r"\s+limit\s+\d+\s*$", re.IGNORECASE)
ORDER_AT_END = re.compile(r"\border by (\[[^\]]*\]|\"(?:[^\"]|\"\")*\"|[A-Za-z_][A-Za-z0-9_]*)( desc)?$", re.IGNORECASE)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
ASCII_FILENAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9._-]+")


class ExportError(DatasetteError):
    """The rows asked for cannot be exported (bad SQL, a query error, a timeout)."""

    def __init__(self, message: str):
        super().__init__(message, title="无法导出 Excel", status=400)


@dataclass(frozen=True)
class Column:
    """One exported column: where its value is in a row and what heads it."""

    index: int
    header: str


@dataclass(frozen=True)
class Export:
    """What to write: the sheet's name, its columns and a note if rows were left out."""

    sheet: str
    columns: list[Column]
    note: str = ""


# ---------------------------------------------------------------- headers


def export_columns(names: Sequence[str], database: str | None, table: str | None) -> list[Column]:
    """The columns to write: case columns renamed, unreadable ones dropped."""
    if database != CASES_DATABASE or table not in CASE_TABLES:
        return [Column(i, name) for i, name in enumerate(names)]
    return [
        Column(i, CASE_HEADERS.get(name, name))
        for i, name in enumerate(names)
        if name not in DROPPED_CASE_COLUMNS
    ]


def column_width(header: str) -> float:
    if header in HEADER_WIDTHS:
        return HEADER_WIDTHS[header]
    if header in TEXT_HEADERS:
        return TEXT_WIDTH
    # A CJK character is about two Latin characters wide.
    width = sum(2 if ord(ch) > 0x2E7F else 1 for ch in header) + 4
    return float(min(MAX_WIDTH, max(MIN_WIDTH, width)))


# ---------------------------------------------------------------- cells


def clean_text(text: str) -> str:
    """Text an .xlsx cell accepts: no XML-illegal characters, at most 32,767 characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 1] + "…"
    return text


def joined_array(value: str) -> str | None:
    """A JSON array as "a、b、c", or None when the text is not a JSON array."""
    try:
        items = json.loads(value)
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    return ARRAY_SEPARATOR.join(str(item) for item in items if item is not None)


def as_number(value: Any) -> int | float | None:
    """An int or float for a numeric value or numeric text, else None."""
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    if isinstance(number, float) and not math.isfinite(number):
        return None
    if isinstance(number, float) and number.is_integer() and abs(number) < EXACT_INTEGER_LIMIT:
        return int(number)
    return number


def text_cell(ws: WriteOnlyWorksheet, text: str) -> WriteOnlyCell | str:
    """A cell that is always a string, however the text begins."""
    text = clean_text(text)
    if not text.startswith(FORMULA_PREFIXES) and text not in ERROR_CODES:
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
    if value is None:
        return None
    if header in AMOUNT_HEADERS:
        number = as_number(value)
        if number is not None:
            return number_cell(ws, number)
    if header in YEAR_HEADERS:
        number = as_number(value)
        if isinstance(number, int):
            return number
    if isinstance(value, bytes):
        return f"（二进制数据，{len(value)} 字节）"
    if isinstance(value, int) and abs(value) < EXACT_INTEGER_LIMIT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, (int, float)):
        return text_cell(ws, str(value))
    text = str(value)
    if header in ARRAY_HEADERS:
        joined = joined_array(text)
        if joined is not None:
            return text_cell(ws, joined) if joined else None
    return text_cell(ws, text)


def header_cell(ws: WriteOnlyWorksheet, header: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=clean_text(header))
    cell.data_type = "s"
    cell.font = HEADER_FONT
    return cell


# ---------------------------------------------------------------- workbook


def sheet_title(title: str) -> str:
    """A valid worksheet name: no []:*?/\\, at most 31 characters."""
    return (SHEET_NAME_FORBIDDEN.sub("_", clean_text(title)).strip("'") or "Sheet1")[:31]


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
    ws.append([header_cell(ws, header) for header in headers])
    written = 0
    note = export.note
    for row in rows:
        if written == limit:
            note = f"符合条件的记录超过 {limit:,} 行，仅导出了前 {limit:,} 行；请缩小筛选范围后分批导出。"
            break
        ws.append([cell_for(ws, c.header, row[c.index]) for c in export.columns])
        written += 1
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{written + 1}"
    if note:
        ws.append([])
        ws.append([text_cell(ws, note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- table rows


def tiebreak_keys(data: dict) -> list[str]:
    """The columns Datasette breaks ties of a sorted page by: primary keys or rowid."""
    if data.get("is_view"):
        return []
    return [escape_sqlite(pk) for pk in data.get("primary_keys") or []] or ["rowid"]


def unlimited_sql(sql: str, keys: Sequence[str]) -> str:
    """A table page's SQL without its page limit, ties broken by ``keys``.

    Datasette pages a sorted table by (sort column, primary key); the export
    orders rows the same way in one query.
    """
    stripped, found = LIMIT_AT_END.subn("", sql)
    if not found:
        raise ExportError("无法识别此页面的查询语句，不能导出全部记录。")
    order = ORDER_AT_END.search(stripped)
    if order and keys and order.group(1) not in keys:
        stripped = f"{stripped}, {', '.join(keys)}"
    return stripped


class SqlBudget:
    """A time limit on the time SQLite spends, not the time spent writing cells.

    Datasette's own limit counts from the start of a query; an export reads
    rows in batches and writes each batch before reading the next, so only
    the reading is counted here.
    """

    def __init__(self, ms: float):
        self.left = ms / 1000
        self.started = time.perf_counter()

    def exceeded(self) -> int:
        """The progress handler: non-zero stops the running statement."""
        return int(time.perf_counter() - self.started > self.left)

    @contextmanager
    def reading(self) -> Iterator[None]:
        self.started = time.perf_counter()
        try:
            yield
        finally:
            self.left -= time.perf_counter() - self.started

    @contextmanager
    def installed(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.set_progress_handler(self.exceeded, PROGRESS_STEPS)
        try:
            yield
        finally:
            conn.set_progress_handler(None, PROGRESS_STEPS)


def budgeted_rows(conn: sqlite3.Connection, sql: str, params: dict, budget: SqlBudget) -> tuple[list[str], Iterator[tuple]]:
    """Column names and the rows of a query, read in batches within ``budget``."""
    with budget.reading():
        cursor = conn.execute(sql, params)
    names = [description[0] for description in cursor.description or ()]

    def rows() -> Iterator[tuple]:
        with closing(cursor):
            while True:
                with budget.reading():
                    batch = cursor.fetchmany(FETCH_BATCH)
                if not batch:
                    return
                yield from batch

    return names, rows()


async def table_workbook(datasette: Datasette, database: str, table: str, data: dict) -> bytes:
    """Every row of a table page's filters, search and sort, as .xlsx bytes."""
    query = data.get("query") or {}
    sql = unlimited_sql(query.get("sql") or "", tiebreak_keys(data))
    params = query.get("params") or {}
    sheet = datasette.table_metadata(database, table).get("title") or table

    budget = SqlBudget(datasette.setting("sql_time_limit_ms") * EXPORT_TIME_FACTOR)

    def export(conn: sqlite3.Connection) -> bytes:
        with budget.installed(conn):
            names, rows = budgeted_rows(conn, sql, params, budget)
            with closing(rows):
                return write_workbook(Export(sheet, export_columns(names, database, table)), rows)

    try:
        return await datasette.get_database(database).execute_fn(export)
    except sqlite3.OperationalError as error:
        raise ExportError(failure_message(error)) from error


def failure_message(error: sqlite3.OperationalError) -> str:
    if str(error) == "interrupted":
        return "查询时间超过限制，未能导出；请缩小筛选范围后再导出。"
    return f"导出失败：{error}"


# ---------------------------------------------------------------- query rows


def query_note(data: dict, datasette: Datasette) -> str:
    if not data.get("truncated"):
        return ""
    limit = datasette.setting("max_returned_rows")
    return f"查询结果超过 {limit:,} 行，仅导出了前 {limit:,} 行。"


async def query_workbook(
    datasette: Datasette, request: Request, database: str, query_name: str | None, data: dict, columns: list[str], rows: list
) -> bytes:
    """The rows a canned or custom query returned, as .xlsx bytes."""
    if data.get("error"):
        raise ExportError(str(data["error"]))
    title = query_name or database
    if query_name:
        canned = await datasette.get_canned_query(database, query_name, request.actor) or {}
        title = canned.get("title") or query_name
    export = Export(title, export_columns(columns, database, None), query_note(data, datasette))
    return write_workbook(export, [tuple(row) for row in rows])


# ---------------------------------------------------------------- response


def content_disposition(stem: str) -> str:
    """An attachment header with an ASCII name and the exact name per RFC 5987."""
    filename = f"{stem}.{EXTENSION}"
    fallback = ASCII_FILENAME_FORBIDDEN.sub("_", stem).strip("_.") or "export"
    return f"attachment; filename=\"{fallback}.{EXTENSION}\"; filename*=UTF-8''{quote(filename, safe='')}"


def workbook_response(body: bytes, stem: str) -> Response:
    return Response(
        body=body,
        status=200,
        content_type=CONTENT_TYPE,
        headers={"content-disposition": content_disposition(stem)},
    )


def can_render(view_name: str, sql: str | None) -> bool:
    """Offer .xlsx on table pages, canned queries and custom SQL, not rows or indexes."""
    return view_name in RENDERED_VIEWS and sql is not None


async def render(
    datasette: Datasette,
    request: Request,
    database: str,
    table: str | None,
    query_name: str | None,
    data: dict,
    columns: list[str],
    rows: list,
) -> Response:
    """The output renderer: an .xlsx download of a table page or a query."""
    if table:
        if request.args.get("_next"):
            return Response.redirect(path_with_removed_args(request, {"_next"}))
        return workbook_response(await table_workbook(datasette, database, table, data), table)
    body = await query_workbook(datasette, request, database, query_name, data, columns, rows)
    return workbook_response(body, query_name or database)
