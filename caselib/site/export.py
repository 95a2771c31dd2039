"""Case lists and query results exported for people (Excel workbooks, CSV for Excel).

Every table page and query page that offers CSV also offers these downloads:
``/cases/cases.xlsx?violations__arraycontains=受贿&_search=…&_sort=…`` (and
``.csvx`` for the CSV) takes the same filters, search and sort as the page.
Datasette's own ``.csv`` stays as it is, for programs. What people get:

- a table export holds *every* matching row, not one page: the page's own SQL
  is run again without its page limit (``_next`` is dropped by a redirect, so
  an export always starts at the first row), up to ``MAX_ROWS`` rows; a query
  export holds the rows the query returned;
- the ``cases`` columns get short Chinese headers (from the schema),
  bookkeeping columns are left out, JSON arrays are joined with "、", amounts
  and years are numbers, and a column with each case page's address is added;
- every text stays text: a title such as ``=HYPERLINK(…)`` never becomes a
  formula;
- the download is named in Chinese after what it holds and the day, e.g.
  ``案例列表-受贿-2026-12-01.xlsx``;
- a table export is read and written by one of the writing processes beside
  each serving process (started with the site, at a lower CPU priority): the
  rows in one short read (a build waiting to commit waits only for that),
  then the file; the serving process holds neither the rows nor one of
  Datasette's query threads meanwhile, so a large export never holds up the
  pages.

A writer (``xlsx.WRITER``, ``csvx.WRITER``) turns an :class:`Export` and its
rows into bytes; this module does the rest for both.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime
import json
import math
import multiprocessing
import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Iterator, Sequence
from urllib.parse import quote

from datasette.utils import escape_sqlite, path_with_removed_args
from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError

from .. import schema
from ..fields import Amount
from ..search import register_functions
from . import limits

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

MAX_ROWS = 200_000
EXPORT_TIME_FACTOR = 4  # an export reads every row; a page reads one page
PROGRESS_STEPS = 1_000  # SQLite instructions between time checks
EXACT_INTEGER_LIMIT = 2**53  # larger integers lose digits as spreadsheet numbers
ARRAY_SEPARATOR = "、"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
WRITER_NICENESS = 10  # exports yield the CPU to pages
PARENT_CHECK_SECONDS = 1.0  # how often a writing process checks its serving process is there
WRITERS = 2  # writing processes per serving process: a small export need not wait for a large one
RENDERED_VIEWS = frozenset({"table", "database"})

CASES_DATABASE = "cases"
CASE_TABLES = frozenset({"cases", "case_texts"})
CASE_PAGE_HEADER = "案例页面"
ID_HEADER = "案例编号"

# Headers of the ``cases`` and ``case_texts`` columns, and what their values
# are, from the schema. Canned queries that name their columns the same way
# (违规类型, 涉案金额（元）…) get the same treatment.
CASE_HEADERS: dict[str, str] = schema.headers()
DROPPED_CASE_COLUMNS = schema.technical_columns()
_EXPORTED = [f for f in schema.COLUMNS if f.export]
ARRAY_HEADERS = frozenset(f.heading for f in _EXPORTED if f.array)
AMOUNT_HEADERS = frozenset(f.heading for f in _EXPORTED if isinstance(f.rule, Amount))
YEAR_HEADERS = frozenset(f.heading for f in _EXPORTED if f.sql_type is int and f.heading not in AMOUNT_HEADERS)
TEXT_HEADERS = frozenset(f.zh for f in schema.TEXT_FIELDS if f.export and f.name != "id")

LIMIT_AT_END = re.compile(r"\s+limit\s+\d+\s*$", re.IGNORECASE)
ORDER_AT_END = re.compile(r"\border by (\[[^\]]*\]|\"(?:[^\"]|\"\")*\"|[A-Za-z_][A-Za-z0-9_]*)( desc)?$", re.IGNORECASE)
ASCII_FILENAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9._-]+")
FILENAME_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|]+')
BRACKETED = re.compile(r"（[^）]*）|\([^)]*\)")
NAME_PARTS_LIMIT = 40  # characters of filter values in a download's name


class ExportError(DatasetteError):
    """The rows asked for cannot be exported (bad SQL, a query error, a timeout)."""

    def __init__(self, message: str):
        super().__init__(message, title="无法导出", status=400)


@dataclass(frozen=True)
class Column:
    """One exported column: where its value is in a row and what heads it.

    ``link`` makes it a link column: the address ``link + value``."""

    index: int
    header: str
    link: str = ""

    def value(self, row: Sequence[Any]) -> Any:
        value = row[self.index]
        return f"{self.link}{value}" if self.link and value is not None else value


@dataclass(frozen=True)
class Export:
    """What to write: the sheet's name, its columns and a note if rows were left out."""

    sheet: str
    columns: list[Column]
    note: str = ""


@dataclass(frozen=True)
class Writer:
    """A file format for people: its address extension, MIME type, how to
    write it and the downloaded file's extension (``.csvx`` is saved as .csv)."""

    extension: str
    content_type: str
    write: Callable[[Export, Iterable[Sequence[Any]]], bytes]
    file_extension: str = ""

    @property
    def saved_as(self) -> str:
        return self.file_extension or self.extension


# ---------------------------------------------------------------- columns and values


def export_columns(names: Sequence[str], database: str | None, table: str | None, site: str = "") -> list[Column]:
    """The columns to write: case columns renamed, unreadable ones dropped, and
    (given the site's address) a column with each case page's address."""
    if database == CASES_DATABASE and table in CASE_TABLES:
        columns = [Column(i, CASE_HEADERS.get(name, name)) for i, name in enumerate(names) if name not in DROPPED_CASE_COLUMNS]
    else:
        columns = [Column(i, name) for i, name in enumerate(names)]
    ids = [c for c in columns if c.header == ID_HEADER]
    if site and database == CASES_DATABASE and table != "case_texts" and ids and CASE_PAGE_HEADER not in names:
        columns.append(Column(ids[0].index, CASE_PAGE_HEADER, link=f"{site}/{CASES_DATABASE}/cases/"))
    return columns


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


def value_for(header: str, value: Any) -> int | float | str | None:
    """What a person reads under one header: a number, a text or nothing."""
    if value is None:
        return None
    if header in AMOUNT_HEADERS or header in YEAR_HEADERS:
        number = as_number(value)
        if number is not None and (header in AMOUNT_HEADERS or isinstance(number, int)):
            return number
    if isinstance(value, bytes):
        return f"（二进制数据，{len(value)} 字节）"
    if isinstance(value, int) and abs(value) < EXACT_INTEGER_LIMIT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if header in ARRAY_HEADERS:
        joined = joined_array(text)
        if joined is not None:
            return joined or None
    return text


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet would read this text as a formula."""
    return text.startswith(FORMULA_PREFIXES)


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
    """A time limit on the time SQLite spends reading an export's rows (the
    writing that follows is not counted)."""

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


def budgeted_rows(conn: sqlite3.Connection, sql: str, params: dict, budget: SqlBudget, limit: int = MAX_ROWS + 1) -> tuple[list[str], list[tuple]]:
    """Column names and up to ``limit`` rows of a query, read within ``budget``
    and all at once (the read transaction ends with the reading)."""
    with budget.reading():
        cursor = conn.execute(sql, params)
        try:
            names = [description[0] for description in cursor.description or ()]
            rows = cursor.fetchmany(limit)
        finally:
            cursor.close()
    return names, rows


def writing_process(parent: int) -> None:
    """A writing process's start: a lower priority, and an end when its serving
    process ends, however that ends (a process stopped by a signal does not
    shut its pool down)."""
    os.nice(WRITER_NICENESS)

    def follow() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=follow, name="follow-the-serving-process", daemon=True).start()


class Writing:
    """Exports read and written in processes of their own (WRITERS per serving
    process) at a lower CPU priority: writing a large workbook is pure
    Python work that would otherwise hold the serving process (and its pages)
    for seconds. They are started with the site."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=WRITERS, mp_context=multiprocessing.get_context("spawn"), initializer=writing_process, initargs=(os.getpid(),)
            )
            atexit.register(self._pool.shutdown, wait=False, cancel_futures=True)
        return self._pool

    def start(self) -> None:
        """Start the writing processes now (they take a second or two), not at the first export."""
        for _ in range(WRITERS):
            self.pool().submit(os.getpid)

    async def write(self, writer: Writer, export: Export, rows: list) -> bytes:
        return await self.run(writer.write, export, rows)

    async def run(self, write: Callable[..., bytes], *args: Any) -> bytes:
        """``write(*args)`` in the writing process (``write`` a module-level function)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool(), write, *args)
        except BrokenProcessPool as error:
            self._pool = None  # the next export starts a new one
            raise ExportError("导出进程意外退出，请稍后重试。") from error


WRITING = Writing()


def failure_message(error: sqlite3.OperationalError) -> str:
    if str(error) == "interrupted":
        return "查询时间超过限制，未能导出；请缩小筛选范围后再导出。"
    return f"导出失败：{error}"


@dataclass(frozen=True)
class TableRead:
    """What the writing process needs to read a table export's rows itself."""

    path: str  # the database file the request was served from
    sql: str
    params: dict
    budget_ms: float
    database: str
    table: str
    site: str
    sheet: str


def export_connection(path: str) -> sqlite3.Connection:
    """A read-only connection with the serving processes' limits and search functions."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.execute(f"pragma busy_timeout = {limits.READ_BUSY_MS}")
    limits.apply(conn)
    register_functions(conn)
    return conn


def read_and_write(write: Callable[[Export, Iterable[Sequence[Any]]], bytes], read: TableRead) -> bytes:
    """In the writing process: the rows of ``read``, within its time budget, written by ``write``."""
    budget = SqlBudget(read.budget_ms)
    conn = export_connection(read.path)
    try:
        with budget.installed(conn):
            names, rows = budgeted_rows(conn, read.sql, read.params, budget)
    finally:
        conn.close()
    return write(Export(read.sheet, export_columns(names, read.database, read.table, read.site)), rows)


async def table_export(datasette: Datasette, request: Request, database: str, table: str, data: dict, writer: Writer) -> bytes:
    """Every row of a table page's filters, search and sort, read and written by ``writer``
    in the writing process (the serving process holds neither the rows nor a query thread)."""
    query = data.get("query") or {}
    read = TableRead(
        path=str(datasette.get_database(database).path),
        sql=unlimited_sql(query.get("sql") or "", tiebreak_keys(data)),
        params=dict(query.get("params") or {}),
        budget_ms=datasette.setting("sql_time_limit_ms") * EXPORT_TIME_FACTOR,
        database=database,
        table=table,
        site=site_address(datasette, request),
        sheet=datasette.table_metadata(database, table).get("title") or table,
    )
    try:
        return await WRITING.run(read_and_write, writer.write, read)
    except sqlite3.OperationalError as error:
        raise ExportError(failure_message(error)) from error


# ---------------------------------------------------------------- query rows


def query_note(data: dict, datasette: Datasette) -> str:
    if not data.get("truncated"):
        return ""
    limit = datasette.setting("max_returned_rows")
    return f"查询结果超过 {limit:,} 行，仅导出了前 {limit:,} 行。"


async def query_title(datasette: Datasette, request: Request, database: str, query_name: str | None) -> str:
    if not query_name:
        return database
    canned = await datasette.get_canned_query(database, query_name, request.actor) or {}
    return canned.get("title") or query_name


async def query_export(
    datasette: Datasette, request: Request, database: str, query_name: str | None, data: dict, columns: list[str], rows: list, writer: Writer
) -> bytes:
    """The rows a canned or custom query returned, written by ``writer``."""
    if data.get("error"):
        raise ExportError(str(data["error"]))
    title = await query_title(datasette, request, database, query_name)
    export = Export(title, export_columns(columns, database, None, site_address(datasette, request)), query_note(data, datasette))
    return await WRITING.write(writer, export, [tuple(row) for row in rows])


# ---------------------------------------------------------------- response


def site_address(datasette: Datasette, request: Request) -> str:
    """The site's address as the reader reached it (for the case page column)."""
    return datasette.absolute_url(request, "/").rstrip("/")


def download_name(title: str, request: Request, today: datetime.date | None = None) -> str:
    """A download's name in Chinese: what it is, what it was filtered by, the day.

    ``案例列表-受贿-2019-2026-12-01``: the title without its bracketed part,
    the search and the filter values and query parameters (cut to
    NAME_PARTS_LIMIT characters), the date of the download.
    """
    values = [
        request.args.get(key, "")
        for key in request.args
        if key == "_search" or not key.startswith("_")
    ]
    return named(title, values, today)


def named(title: str, parts: Sequence[str], today: datetime.date | None = None) -> str:
    """``title-part-part-day``: no character a file name cannot hold, the parts cut to NAME_PARTS_LIMIT characters."""
    picked = FILENAME_FORBIDDEN.sub(" ", "-".join(v.strip() for v in parts if v.strip()))[:NAME_PARTS_LIMIT].strip(" -")
    short = FILENAME_FORBIDDEN.sub(" ", BRACKETED.sub("", title)).strip() or "导出"
    day = (today or datetime.date.today()).isoformat()
    return "-".join(part for part in (short, picked, day) if part)


def content_disposition(stem: str, ascii_stem: str, extension: str) -> str:
    """An attachment header: the exact name per RFC 5987, and an ASCII name
    (``ascii_stem``, e.g. cases-2026-12-01) for programs that read only that."""
    filename = f"{stem}.{extension}"
    fallback = ASCII_FILENAME_FORBIDDEN.sub("_", ascii_stem).strip("_.-") or "export"
    return f"attachment; filename=\"{fallback}.{extension}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(body: bytes, stem: str, ascii_stem: str, writer: Writer) -> Response:
    return attachment(body, stem, ascii_stem, writer.content_type, writer.saved_as)


def attachment(body: bytes, stem: str, ascii_stem: str, content_type: str, extension: str) -> Response:
    """A file to save: its bytes, type and name (see content_disposition)."""
    return Response(
        body=body,
        status=200,
        content_type=content_type,
        headers={"content-disposition": content_disposition(stem, ascii_stem, extension)},
    )


def can_render(view_name: str, sql: str | None) -> bool:
    """Offer the downloads on table pages, canned queries and custom SQL, not rows or indexes."""
    return view_name in RENDERED_VIEWS and sql is not None


@dataclass(frozen=True)
class Rendering:
    """What Datasette hands an output renderer: the request and the page's data."""

    datasette: Datasette
    request: Request
    database: str
    table: str | None
    query_name: str | None
    data: dict
    columns: list[str]
    rows: list


def renderer(extension: str, produce: Callable[[Rendering], Awaitable[Response]], can_render: Callable[..., bool]) -> dict:
    """A Datasette output renderer: a table export always starts at the first
    row (``_next`` is dropped by a redirect); ``produce`` makes the response."""

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
        if table and request.args.get("_next"):
            return Response.redirect(path_with_removed_args(request, {"_next"}))
        return await produce(Rendering(datasette, request, database, table, query_name, data, columns, rows))

    return {"extension": extension, "render": render, "can_render": can_render}


def output_renderer(writer: Writer) -> dict:
    """Datasette's output renderer for one writer (registered by plugins/exports.py)."""

    async def produce(r: Rendering) -> Response:
        if r.table:
            body = await table_export(r.datasette, r.request, r.database, r.table, r.data, writer)
            title = r.datasette.table_metadata(r.database, r.table).get("title") or r.table
        else:
            body = await query_export(r.datasette, r.request, r.database, r.query_name, r.data, r.columns, r.rows, writer)
            title = await query_title(r.datasette, r.request, r.database, r.query_name)
        name = r.table or r.query_name or r.database
        return download(body, download_name(title, r.request), f"{name}-{datetime.date.today().isoformat()}", writer)

    return renderer(writer.extension, produce, can_render)
