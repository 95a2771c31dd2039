"""Step 4b: store records in SQLite with sqlite-utils.

Creates the tables (derived from ``schema``), inserts and deletes cases with
their links and search-index rows, writes the training packs and the similar
cases, and reads back what an incremental build needs. Every write happens in
a database given by ``atomic.atomic_database``.
"""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import sqlite_utils
from sqlite_utils.db import DescIndex

from . import related
from .atomic import in_place
from .fingerprint import fingerprint as code_fingerprint
from .packs import Pack
from .model import Stamp
from .rows import FTS_COLUMNS, ITEM_COLUMNS, Record, file_row, fts_values
from .schema import COLUMNS, LINKED, TEXT_FIELDS, TEXT_TABLE
from .vocab import lookup_rows, vocabularies

class Known(NamedTuple):
    """What the database holds of one file: its case id, content digest and stamp."""

    id: str
    digest: str
    stamp: Stamp | None


FTS_TABLE = "cases_fts"
FTS_AUTOMERGE = 4  # FTS5's default, restored after a bulk load
FTS_MARKS = ", ".join("?" for _ in FTS_COLUMNS)
# unicode61 splits words (and the index text's CJK bigrams) and folds case and
# diacritics; porter then reduces English words to their stems, in the index
# and in every query, so bribed finds bribes (Chinese tokens pass unchanged).
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
BUILD_TABLE = "_build"
FILES_TABLE = "_files"
SCHEMA_VERSION = 9
# The long texts live in their own table, one row per case. Kept out of
# ``cases``, they leave its rows a few hundred bytes: a search matching most
# of 100,000 cases then reads far fewer pages for its count, its page and
# each facet (measured: 1.7 s -> under 0.5 s for a one-character search).
TEXT_COLUMNS: dict[str, type] = {f.name: str for f in TEXT_FIELDS}


def create_schema(db: sqlite_utils.Database) -> None:
    vocabs = vocabularies()
    for vocab in vocabs.values():
        db[vocab.table].create(
            {"code": str, "zh": str, "en": str, "group": str, "aliases": str, "description": str, "sort": int},
            pk="code",
        )
        db[vocab.table].insert_all(lookup_rows(vocab))
    db["cases"].create({f.name: f.sql_type for f in COLUMNS}, pk="id", not_null={f.name for f in COLUMNS if f.required})
    db[TEXT_TABLE].create(TEXT_COLUMNS, pk="id", foreign_keys=[("id", "cases", "id")])
    for vocab in LINKED:
        column = vocab.link_column
        db[vocab.link_table].create(
            {"case_id": str, column: str, "position": int},
            pk=("case_id", column),
            foreign_keys=[("case_id", "cases", "id"), (column, vocab.table, "code")],
        )
    db["related"].create(
        {"case_id": str, "related_id": str, "position": int},
        pk=("case_id", "related_id"),
        foreign_keys=[("case_id", "cases", "id"), ("related_id", "cases", "id")],
    )
    db["packs"].create(
        {"id": str, "title": str, "audience": str, "date": str, "description": str, "path": str, "case_count": int},
        pk="id",
    )
    db["pack_cases"].create(
        {"pack_id": str, "case_id": str, "position": int, "note": str, "questions": str},
        pk=("pack_id", "case_id"),
        foreign_keys=[("pack_id", "packs", "id"), ("case_id", "cases", "id")],
    )
    db[FILES_TABLE].create({"path": str, "case_id": str, "size": int, "mtime_ns": int, "inode": int}, pk="path")
    db["similar"].create(
        {"case_id": str, "similar_id": str, "position": int},
        pk=("case_id", "similar_id"),
        foreign_keys=[("case_id", "cases", "id"), ("similar_id", "cases", "id")],
    )
    db.execute(
        f"create virtual table {FTS_TABLE} using fts5({', '.join(FTS_COLUMNS)}, "
        f"content='', prefix='1', tokenize='{FTS_TOKENIZE}')"
    )


def insert_records(db: sqlite_utils.Database, records: list[Record], batch_size: int = 2000) -> int:
    """Insert cases, their links and their search rows; return how many."""
    if not records:
        return 0
    before = db.execute("select coalesce(max(rowid), 0) from cases").fetchone()[0]
    db["cases"].insert_all((r.row for r in records), batch_size=batch_size)
    db[TEXT_TABLE].insert_all((r.text for r in records), batch_size=batch_size)
    new_ids = {r.id for r in records}
    rowids = {
        case_id: rowid
        for case_id, rowid in db.execute("select id, rowid from cases where rowid > ?", [before]).fetchall()
        if case_id in new_ids
    }
    db.conn.executemany(
        f"insert into {FTS_TABLE} (rowid, {', '.join(FTS_COLUMNS)}) values (?, {FTS_MARKS})",
        ([rowids[r.id], *r.fts] for r in records),
    )
    links: dict[str, list[dict]] = {}
    for record in records:
        for table, rows in record.links.items():
            links.setdefault(table, []).extend(rows)
    for table, rows in links.items():
        if rows:
            db[table].insert_all(rows, batch_size=batch_size)
    db[FILES_TABLE].insert_all((file_row(r.row["path"], r.id, r.stamp) for r in records), batch_size=batch_size)
    return len(records)


def delete_cases(db: sqlite_utils.Database, ids: list[str]) -> int:
    """Remove cases, their links and their search rows (for incremental builds)."""
    link_tables = [v.link_table for v in LINKED]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            f"select c.rowid, c.*, t.* from cases c join {TEXT_TABLE} t on t.id = c.id where c.id in ({marks})", chunk
        )
        columns = [d[0] for d in rows.description]
        for values in rows.fetchall():
            row = dict(zip(columns, values))
            db.execute(
                f"insert into {FTS_TABLE} ({FTS_TABLE}, rowid, {', '.join(FTS_COLUMNS)}) values ('delete', ?, {FTS_MARKS})",
                [row["rowid"], *fts_values(row)],
            )
        for table in [*link_tables, "related", "similar", FILES_TABLE]:
            db.execute(f"delete from [{table}] where case_id in ({marks})", chunk)
        db.execute(f"delete from {TEXT_TABLE} where id in ({marks})", chunk)
        db.execute(f"delete from cases where id in ({marks})", chunk)
    return len(ids)


def write_packs(db: sqlite_utils.Database, packs: list[Pack], digest: str) -> None:
    """Replace every training pack (they are few; always written whole)."""
    db.execute("delete from pack_cases")
    db.execute("delete from packs")
    db["packs"].insert_all(
        {
            "id": p.id,
            "title": p.title,
            "audience": p.audience,
            "date": p.date,
            "description": p.description,
            "path": p.file or p.path,
            "case_count": len(p.cases),
        }
        for p in packs
    )
    db["pack_cases"].insert_all(
        {"pack_id": p.id, "case_id": c.id, "position": n, "note": c.note, "questions": json.dumps(c.questions, ensure_ascii=False) if c.questions else None}
        for p in packs
        for n, c in enumerate(p.cases)
    )
    db[BUILD_TABLE].insert({"key": "packs", "value": digest}, pk="key", replace=True)


def stored_packs(db: sqlite_utils.Database) -> str | None:
    found = db.execute(f"select value from {BUILD_TABLE} where key = 'packs'").fetchone()
    return found[0] if found else None


def stored_packs_digest(target: Path) -> str | None:
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        return stored_packs(sqlite_utils.Database(conn))
    finally:
        conn.close()


def items(db: sqlite_utils.Database) -> list[related.Item]:
    """What similar-case computation looks at, for every stored case, in date order."""
    rows = db.execute(f"select {', '.join(ITEM_COLUMNS)} from cases order by date, id")
    return [related.item_from_row(*row) for row in rows]


def _explicit(db: sqlite_utils.Database) -> dict[str, list[str]]:
    explicit: dict[str, list[str]] = {}
    for case_id, related_id in db.execute("select case_id, related_id from related order by case_id, position"):
        explicit.setdefault(case_id, []).append(related_id)
    return explicit


def _insert_similar(db: sqlite_utils.Database, similar: dict[str, list[str]]) -> None:
    db.conn.executemany(
        "insert into similar (case_id, similar_id, position) values (?, ?, ?)",
        ((case_id, other, n) for case_id, others in similar.items() for n, other in enumerate(others)),
    )


def update_similar(db: sqlite_utils.Database, old: list[related.Item], new: list[related.Item], changed: set[str]) -> int:
    """Recompute ``similar`` only for the cases a change can reach."""
    redo = related.affected(old, new, changed)
    for start in range(0, len(redo), 500):
        chunk = sorted(redo)[start : start + 500]
        db.execute(f"delete from similar where case_id in ({', '.join('?' for _ in chunk)})", chunk)
    _insert_similar(db, related.compute_similar(new, _explicit(db), only=redo))
    return len(redo)


def create_indexes(db: sqlite_utils.Database) -> None:
    for field in COLUMNS:
        if field.indexed:
            db["cases"].create_index([field.name])
    # The default order. Datasette pages it with "order by sort_key desc, id"
    # and a keyset condition on both; this index answers both without a sort,
    # so streaming every case as CSV stays linear.
    db["cases"].create_index([DescIndex("sort_key"), "id"], index_name="idx_cases_sort_key_id")
    for vocab in LINKED:
        db[vocab.link_table].create_index([vocab.link_column, "case_id"])
    db["related"].create_index(["related_id"])
    db["similar"].create_index(["similar_id"])


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """This code's fingerprint (the code a process runs does not change while it runs)."""
    return code_fingerprint(SCHEMA_VERSION)


def write_build_info(db: sqlite_utils.Database, cases: int) -> None:
    db[BUILD_TABLE].insert({"key": "fingerprint", "value": fingerprint()}, pk="key", replace=True)
    db[BUILD_TABLE].insert({"key": "cases", "value": str(cases)}, pk="key", replace=True)


def built_by_this_code(target: Path) -> bool:
    """Whether ``target`` is a database this code built (its fingerprint is ours)."""
    if not target.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            return fingerprint_is_ours(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def fingerprint_is_ours(conn: sqlite3.Connection) -> bool:
    """Whether the database on ``conn`` carries this code's build fingerprint."""
    found = conn.execute(f"select value from {BUILD_TABLE} where key = 'fingerprint'").fetchone()
    return bool(found) and found[0] == fingerprint()


def stored_index(target: Path) -> dict[str, Known] | None:
    """``path -> Known`` (id, digest, stamp) of a database built by this version, else None."""
    if not target.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            if not fingerprint_is_ours(conn):
                return None
            rows = conn.execute(
                f"select c.path, c.id, c.digest, f.size, f.mtime_ns, f.inode from cases c left join {FILES_TABLE} f on f.path = c.path"
            )
            return {
                path: Known(case_id, digest, None if size is None else (size, mtime_ns, inode))
                for path, case_id, digest, size, mtime_ns, inode in rows
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


def stored_related(target: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        return conn.execute("select case_id, related_id from related").fetchall()
    finally:
        conn.close()


def optimize_search_index(db: sqlite_utils.Database) -> None:
    """Merge the search index into one segment (FTS5 'optimize')."""
    db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")


def begin_full(db: sqlite_utils.Database) -> None:
    """Prepare an empty database for a bulk load: the schema, and no
    incremental merging of the search index while loading."""
    create_schema(db)
    db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values ('automerge', 0)")


def finish_full(db: sqlite_utils.Database, count: int, packs: list[Pack], packs_digest: str) -> None:
    """After the bulk load: one merge of the search index, similar cases,
    training packs, indexes and the build's fingerprint.

    Similar cases are computed in Python on a second thread while SQLite
    merges the index and builds the indexes (it releases the GIL meanwhile).
    """
    with ThreadPoolExecutor(max_workers=1) as thread:
        similar = thread.submit(related.compute_similar, items(db), _explicit(db))
        optimize_search_index(db)
        db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values ('automerge', {FTS_AUTOMERGE})")
        create_indexes(db)
        db.execute("delete from similar")
        _insert_similar(db, similar.result())
    write_packs(db, packs, packs_digest)
    write_build_info(db, count)


def restamp(db: sqlite_utils.Database, stamps: list[tuple[str, str, Stamp | None]]) -> None:
    """Record the new stamps of files whose bytes did not change: (file, case id, stamp)."""
    if stamps:
        db[FILES_TABLE].upsert_all((file_row(*s) for s in stamps), pk="path")


def update_database(
    target: Path,
    remove: list[str],
    records: list[Record],
    stamps: list[tuple[str, str, Stamp | None]],
    total: int,
    packs: list[Pack],
    packs_digest: str,
) -> None:
    """Apply an incremental change to ``target`` in one transaction: a site
    serving the file sees the whole change at once, or nothing of it."""
    with in_place(target) as db:
        restamp(db, stamps)
        if not (remove or records) and stored_packs(db) == packs_digest:
            return
        old = items(db)
        db.execute("delete from pack_cases")  # packs may point at removed cases
        delete_cases(db, remove)
        insert_records(db, records)
        gone = set(remove)
        new = [item for item in old if item.id not in gone] + [r.item for r in records]  # as items(db) now reads
        update_similar(db, old, new, gone | {r.id for r in records})
        write_packs(db, packs, packs_digest)
        write_build_info(db, total)
