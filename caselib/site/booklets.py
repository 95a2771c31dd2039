"""The Word booklets the site serves (built by ``booklet``, written by ``docx``).

- ``/packs/<id>.docx``: a training pack in teaching order, the trainer's
  version (with the teaching notes) or, with ``?participants=1``, the
  participants' (without);
- ``/cases/cases.docx?<filters, search, sort>``: the cases a list page
  shows, with the page's own filters, search and sort (its SQL run again
  without the page limit, as the other exports do), up to
  ``booklet.MAX_CASES`` cases, with a note on the cover when more matched;
- ``/cases/search.docx?q=…`` (and any query with a 案例编号 column): the
  cases the query returned, in its order (the ranked search: by relevance).

Each reads what it needs in one short call on the database (the ids, then
the cases' rows), so no read transaction stays open while the document is
written; the document is written on a worker thread, off the event loop.
"""

from __future__ import annotations

import datetime
import sqlite3
from typing import TYPE_CHECKING, Any

from datasette.utils.asgi import Response

from . import DATABASE_NAME, docx, listing, pages
from .booklet import LIST_TITLE, MAX_CASES, PARTICIPANT_EDITION, TRAINER_EDITION, Booklet, list_booklet, pack_booklet
from .export import (
    EXPORT_TIME_FACTOR,
    ID_HEADER,
    WRITING,
    ExportError,
    Rendering,
    SqlBudget,
    attachment,
    budgeted_rows,
    failure_message,
    named,
    renderer,
    tiebreak_keys,
    unlimited_sql,
)
from .words import parameter_name

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.utils.asgi import Request

CASES_SQL = "select t.*, c.* from cases c join case_texts t on t.id = c.id where c.id in ({marks})"
NOT_A_CASE_LIST = "只有案例列表和列出案例编号的查询结果可以汇编为 Word 文档。"


async def written(booklet: Booklet) -> bytes:
    """The booklet's .docx bytes, written in the exports' writing process (export.WRITING)."""
    return await WRITING.run(docx.write_booklet, booklet)


def booklet_download(body: bytes, title: str, parts: list[str], ascii_stem: str) -> Response:
    day = datetime.date.today().isoformat()
    return attachment(body, named(title, parts), f"{ascii_stem}-{day}", docx.CONTENT_TYPE, docx.EXTENSION)


# ---------------------------------------------------------------- a pack


async def pack_document(datasette: Datasette, pack_id: str, participants: bool) -> Response | None:
    """A pack's Word booklet as a download, or None when there is no such pack."""
    found = await pages.pack_rows(datasette, pack_id)
    if found is None:
        return None
    pack, rows = found
    body = await written(pack_booklet(pack, rows, participants))
    edition = PARTICIPANT_EDITION if participants else TRAINER_EDITION
    return booklet_download(body, pack["title"], [edition.split("（")[0]], f"pack-{pack_id}{'-participants' if participants else ''}")


# ---------------------------------------------------------------- a case list


def case_rows(conn: sqlite3.Connection, ids: list[str]) -> list[dict]:
    """The ``cases`` and ``case_texts`` rows of ``ids``, in that order."""
    if not ids:
        return []
    cursor = conn.execute(CASES_SQL.format(marks=", ".join("?" for _ in ids)), ids)
    names = [d[0] for d in cursor.description]
    by_id = {row["id"]: row for row in (dict(zip(names, values)) for values in cursor.fetchall())}
    return [by_id[case_id] for case_id in ids if case_id in by_id]


def distinct(ids: list[Any]) -> list[str]:
    return list(dict.fromkeys(str(i) for i in ids if i is not None))


async def table_cases(datasette: Datasette, database: str, data: dict, cap: int) -> list[dict]:
    """Up to ``cap + 1`` cases of a list page (its filters, search and sort), with their texts."""
    query = data.get("query") or {}
    sql = unlimited_sql(query.get("sql") or "", tiebreak_keys(data)) + f" limit {cap + 1}"
    params = query.get("params") or {}
    budget = SqlBudget(datasette.setting("sql_time_limit_ms") * EXPORT_TIME_FACTOR)

    def read(conn: sqlite3.Connection) -> list[dict]:
        with budget.installed(conn):
            names, rows = budgeted_rows(conn, sql, params, budget)
            if "id" not in names:
                raise ExportError(NOT_A_CASE_LIST)
            return case_rows(conn, distinct([row[names.index("id")] for row in rows]))

    try:
        return await datasette.get_database(database).execute_fn(read)
    except sqlite3.OperationalError as error:
        raise ExportError(failure_message(error)) from error


async def query_cases(datasette: Datasette, database: str, columns: list[str], rows: list, cap: int) -> list[dict]:
    """Up to ``cap + 1`` of the cases a query returned (its 案例编号 column), in its order."""
    if ID_HEADER not in columns:
        raise ExportError(NOT_A_CASE_LIST)
    ids = distinct([row[columns.index(ID_HEADER)] for row in rows])[: cap + 1]
    return await datasette.get_database(database).execute_fn(lambda conn: case_rows(conn, ids))


def list_conditions(request: Request) -> list[str]:
    """The cover's lines for a list: the filters and search in force and the order, in Chinese."""
    chips = [chip.label for chip in listing.active_filters(request)]
    order = [f"排序：{label}" for label, _, current in listing.sorts(request) if current]
    return [f"筛选条件：{'；'.join(chips)}" if chips else "全部案例", *order]


def query_conditions(request: Request) -> list[str]:
    shown = [f"{parameter_name(k)}：{v}" for k, v in listing.pairs(request) if not k.startswith("_") and v.strip()]
    return [f"查询条件：{'；'.join(shown)}"] if shown else []


def can_render(database: str, table: str | None, columns: list[str], view_name: str) -> bool:
    """Offered on the case list and on queries that list cases by id."""
    if database != DATABASE_NAME or view_name not in ("table", "database"):
        return False
    return table == "cases" if table else ID_HEADER in columns


def output_renderer(cap: int = MAX_CASES) -> dict:
    """Datasette's output renderer ``.docx`` (registered by plugins/exports.py)."""

    async def produce(r: Rendering) -> Response:
        if r.database != DATABASE_NAME or r.table not in (None, "cases"):
            raise ExportError(NOT_A_CASE_LIST)
        if r.data.get("error"):
            raise ExportError(str(r.data["error"]))
        if r.table:
            found = await table_cases(r.datasette, r.database, r.data, cap)
            total = r.data.get("filtered_table_rows_count")
            conditions = list_conditions(r.request)
        else:
            found = await query_cases(r.datasette, r.database, r.columns, r.rows, cap)
            total = None if r.data.get("truncated") else len(distinct([row[r.columns.index(ID_HEADER)] for row in r.rows]))
            conditions = query_conditions(r.request)
        booklet = list_booklet(LIST_TITLE, conditions, found, total, cap)
        booklet.lines.append(f"编印日期：{datetime.date.today().isoformat()}")
        parts = [v for k, v in listing.pairs(r.request) if k == "_search" or not k.startswith("_")]
        return booklet_download(await written(booklet), LIST_TITLE, parts, r.table or r.query_name or r.database)

    return renderer(docx.EXTENSION, produce, can_render)
