"""Step 4: store parsed cases in SQLite with sqlite-utils, atomically.

The database is written to a temporary file beside the target and renamed
into place only when it is complete, so the published database is never
half-built: a failed build, Ctrl-C or ``kill -9`` leaves it as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlite_utils
from sqlite_utils.db import DescIndex

from . import related, search
from .model import Case
from .packs import Pack
from .render import SECTIONS, clip
from .vocab import Term, Vocabulary, lookup_rows, vocabularies

TEMP_MARK = ".building-"
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.building-(?P<pid>\d+)$")
SECTION_COLUMNS = list(SECTIONS)
TEXT_TABLE = "case_texts"
FTS_TABLE = "cases_fts"
FTS_COLUMNS = ("title", "body", "labels")
FTS_AUTOMERGE = 4  # FTS5's default, restored after a bulk load
FACET_COLUMNS = ("year", "date", "form", "rank", "personnel", "region", "lang")

CASE_COLUMNS: dict[str, type] = {
    "id": str,
    "title": str,
    "date": str,
    "year": int,
    "violations": str,
    "sanctions": str,
    "disciplines": str,
    "form": str,
    "rank": str,
    "personnel": str,
    "region": str,
    "unit": str,
    "position": str,
    "amount": int,  # INTEGER affinity: whole yuan stay integers, fractions stay REAL
    "period": str,
    "source": str,
    "tags": str,
    "lang": str,
    "summary": str,
    "path": str,
    "as_written": str,
    "digest": str,
    "sort_key": str,
}
# The long texts live in their own table, one row per case. Kept out of
# ``cases``, they leave its rows a few hundred bytes: a search matching most
# of 100,000 cases then reads far fewer pages for its count, its page and
# each facet (measured: 1.7 s -> under 0.5 s for a one-character search).
TEXT_COLUMNS: dict[str, type] = {
    "id": str,
    **{column: str for column in SECTION_COLUMNS},
    "other_text": str,
    "body_html": str,
}
SUMMARY_LENGTH = 120


def sort_key(date: str, case_id: str) -> str:
    """A unique key in date order: the site's default sort.

    Datasette pages a sorted table by (sort column, primary key) from page 2
    on but orders page 1 by the sort column alone, so cases sharing a date
    could be skipped or shown twice. A unique sort column avoids that.
    """
    return f"{date} {case_id}"


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _labels(vocab: Vocabulary, codes: list[str]) -> list[str]:
    return [vocab.by_code[c].zh for c in codes]


def _label(vocab: Vocabulary, code: str | None) -> str | None:
    return vocab.by_code[code].zh if code else None


def summary(case: Case, length: int = SUMMARY_LENGTH) -> str | None:
    """The opening of a case's facts (or else of its body) as one line of plain text."""
    text = case.sections.get("facts") or case.other_text or next(iter(case.sections.values()), "")
    return clip(text, length) or None


def case_row(case: Case) -> dict:
    """The ``cases`` row for a case: canonical Chinese labels, JSON arrays."""
    v = vocabularies()
    return {
        "id": case.id,
        "title": case.title,
        "date": case.date,
        "year": case.year,
        "violations": _json(_labels(v["violations"], case.violations)),
        "sanctions": _json(_labels(v["sanctions"], case.sanctions)),
        "disciplines": _json(_labels(v["disciplines"], case.disciplines)),
        "form": _label(v["form"], case.form),
        "rank": _label(v["rank"], case.rank),
        "personnel": _label(v["personnel"], case.personnel),
        "region": case.region,
        "unit": case.unit,
        "position": case.position,
        "amount": case.amount,
        "period": case.period,
        "source": case.source,
        "tags": _json(case.tags),
        "lang": case.lang,
        "summary": summary(case),
        "path": case.file or case.path,
        "as_written": _json(case.as_written) if case.as_written else None,
        "digest": case.digest,
        "sort_key": sort_key(case.date, case.id),
    }


def text_row(case: Case) -> dict:
    """The ``case_texts`` row for a case: its sections, other text and HTML."""
    return {
        "id": case.id,
        **{column: case.sections.get(column) for column in SECTION_COLUMNS},
        "other_text": case.other_text or None,
        "body_html": case.body_html,
    }


def _terms_of_row(row: dict) -> list[Term]:
    v = vocabularies()
    terms: list[Term] = []
    for name in ("violations", "sanctions", "disciplines"):
        terms += [v[name].by_zh[label] for label in json.loads(row[name] or "[]")]
    for name in ("form", "rank", "personnel"):
        if row[name]:
            terms.append(v[name].by_zh[row[name]])
    return terms


def searchable_parts(row: dict | Case) -> dict[str, str]:
    """The text a search looks through, per FTS column (before rewriting).

    Computed from a ``cases`` row joined with its ``case_texts`` row, so the
    build can compute it again for a stored case when an incremental build
    removes it from the index.
    """
    if isinstance(row, Case):
        row = {**case_row(row), **text_row(row)}
    labels = [label for term in _terms_of_row(row) for label in (term.zh, term.en)]
    body = [row["other_text"], *(row[c] for c in SECTION_COLUMNS)]
    meta = [row["region"], row["unit"], row["position"], *json.loads(row["tags"] or "[]"), *labels]
    return {
        "title": row["title"],
        "body": "\n".join(p for p in body if p),
        "labels": "\n".join(p for p in meta if p),
    }


def fts_values(row: dict) -> tuple[str, ...]:
    """The FTS row for a ``cases`` row: its searchable text, CJK-rewritten."""
    return tuple(search.index_text(text) for text in searchable_parts(row).values())


@dataclass
class Record:
    """Everything the store writes for one case, computed where it was parsed."""

    id: str
    path: str
    digest: str
    related: list[tuple[str, int]]
    row: dict
    text: dict
    fts: tuple[str, ...]
    links: dict[str, list[dict]]


def make_record(case: Case) -> Record:
    row, text = case_row(case), text_row(case)
    return Record(case.id, case.path, case.digest, case.related, row, text, fts_values({**row, **text}), link_rows(case))


def create_schema(db: sqlite_utils.Database) -> None:
    vocabs = vocabularies()
    for vocab in vocabs.values():
        db[vocab.table].create(
            {"code": str, "zh": str, "en": str, "group": str, "aliases": str, "description": str, "sort": int},
            pk="code",
        )
        db[vocab.table].insert_all(lookup_rows(vocab))
    db["cases"].create(CASE_COLUMNS, pk="id", not_null={"title", "date", "year", "violations"})
    db[TEXT_TABLE].create(TEXT_COLUMNS, pk="id", foreign_keys=[("id", "cases", "id")])
    for vocab in vocabs.values():
        if vocab.link_table:
            column = link_column(vocab)
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
        {"pack_id": str, "case_id": str, "position": int, "note": str},
        pk=("pack_id", "case_id"),
        foreign_keys=[("pack_id", "packs", "id"), ("case_id", "cases", "id")],
    )
    db["similar"].create(
        {"case_id": str, "similar_id": str, "position": int},
        pk=("case_id", "similar_id"),
        foreign_keys=[("case_id", "cases", "id"), ("similar_id", "cases", "id")],
    )
    db.execute(
        f"create virtual table {FTS_TABLE} using fts5({', '.join(FTS_COLUMNS)}, "
        "content='', prefix='1', tokenize='unicode61 remove_diacritics 2')"
    )


def link_column(vocab: Vocabulary) -> str:
    """violations -> violation_code: the link table's column for a vocabulary."""
    return f"{vocab.name.removesuffix('s')}_code"


def link_rows(case: Case) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for vocab in vocabularies().values():
        if vocab.link_table:
            column = link_column(vocab)
            codes = getattr(case, vocab.name)
            rows[vocab.link_table] = [{"case_id": case.id, column: c, "position": i} for i, c in enumerate(codes)]
    rows["related"] = [{"case_id": case.id, "related_id": r, "position": i} for i, (r, _) in enumerate(case.related)]
    return rows


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
        f"insert into {FTS_TABLE} (rowid, {', '.join(FTS_COLUMNS)}) values (?, ?, ?, ?)",
        ([rowids[r.id], *r.fts] for r in records),
    )
    links: dict[str, list[dict]] = {}
    for record in records:
        for table, rows in record.links.items():
            links.setdefault(table, []).extend(rows)
    for table, rows in links.items():
        if rows:
            db[table].insert_all(rows, batch_size=batch_size)
    return len(records)


def delete_cases(db: sqlite_utils.Database, ids: list[str]) -> int:
    """Remove cases, their links and their search rows (for incremental builds)."""
    link_tables = [v.link_table for v in vocabularies().values() if v.link_table]
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
                f"insert into {FTS_TABLE} ({FTS_TABLE}, rowid, {', '.join(FTS_COLUMNS)}) values ('delete', ?, ?, ?, ?)",
                [row["rowid"], *fts_values(row)],
            )
        for table in [*link_tables, "related", "similar"]:
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
            "path": p.path,
            "case_count": len(p.cases),
        }
        for p in packs
    )
    db["pack_cases"].insert_all(
        {"pack_id": p.id, "case_id": c.id, "position": n, "note": c.note} for p in packs for n, c in enumerate(p.cases)
    )
    db[BUILD_TABLE].insert({"key": "packs", "value": digest}, pk="key", replace=True)


def stored_packs_digest(target: Path) -> str | None:
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        found = conn.execute(f"select value from {BUILD_TABLE} where key = 'packs'").fetchone()
        return found[0] if found else None
    finally:
        conn.close()


ITEM_COLUMNS = ("id", "date", "violations", "title", "tags")  # what related.item_from_row takes


def _items(db: sqlite_utils.Database) -> list[related.Item]:
    return [related.item_from_row(*row) for row in db.execute(f"select {', '.join(ITEM_COLUMNS)} from cases")]


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


def _item_of(record: Record) -> related.Item:
    return related.item_from_row(*(record.row[column] for column in ITEM_COLUMNS))


def create_indexes(db: sqlite_utils.Database) -> None:
    for column in FACET_COLUMNS:
        db["cases"].create_index([column])
    # The default order. Datasette pages it with "order by sort_key desc, id"
    # and a keyset condition on both; this index answers both without a sort,
    # so streaming every case as CSV stays linear.
    db["cases"].create_index([DescIndex("sort_key"), "id"], index_name="idx_cases_sort_key_id")
    for vocab in vocabularies().values():
        if vocab.link_table:
            db[vocab.link_table].create_index([link_column(vocab), "case_id"])
    db["related"].create_index(["related_id"])
    db["similar"].create_index(["similar_id"])


BUILD_TABLE = "_build"
SCHEMA_VERSION = 5


def fingerprint() -> str:
    """Changes whenever stored rows could be computed differently: the schema
    version, the vocabularies and the code of the package. An incremental
    build needs it unchanged, since removing a row from the contentless search
    index means recomputing exactly the text that was indexed."""
    package = Path(__file__).parent
    digest = hashlib.sha256(f"schema {SCHEMA_VERSION}".encode())
    for source in sorted([*package.glob("*.py"), *package.glob("*.yml")]):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def write_build_info(db: sqlite_utils.Database, cases: int) -> None:
    db[BUILD_TABLE].insert({"key": "fingerprint", "value": fingerprint()}, pk="key", replace=True)
    db[BUILD_TABLE].insert({"key": "cases", "value": str(cases)}, pk="key", replace=True)


def stored_index(target: Path) -> dict[str, tuple[str, str]] | None:
    """``path -> (id, digest)`` of a database built by this version, else None."""
    if not target.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            found = conn.execute(f"select value from {BUILD_TABLE} where key = 'fingerprint'").fetchone()
            if not found or found[0] != fingerprint():
                return None
            return {path: (case_id, digest) for case_id, path, digest in conn.execute("select id, path, digest from cases")}
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


def temp_path_for(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Remove what a killed build left beside ``target``."""
    removed = []
    for candidate in target.parent.glob(f".{target.name}{TEMP_MARK}*"):
        match = TEMP_PATTERN.match(candidate.name.split("-journal")[0].split("-wal")[0])
        if match and not _pid_alive(int(match.group("pid"))):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


@contextmanager
def atomic_database(target: Path, start_from: Path | None = None) -> Iterator[sqlite_utils.Database]:
    """Yield a database (fresh, or a copy of ``start_from``) that replaces
    ``target`` only when the block completes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target)
    temp = temp_path_for(target)
    temp.unlink(missing_ok=True)
    conn = handle = flushing = None
    try:
        if start_from is not None:
            shutil.copyfile(start_from, temp)
            # Write the copy to disk while the change is applied, so that the
            # final fsync has only the changed pages left. The handle stays
            # open until SQLite is done: closing a file releases the
            # process's locks on it, SQLite's included.
            handle = open(temp, "rb")
            flushing = ThreadPoolExecutor(max_workers=1)
            flushing.submit(os.fsync, handle.fileno())
        conn = sqlite3.connect(temp, isolation_level=None)
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        conn.execute("begin")
        yield sqlite_utils.Database(conn)
        conn.execute("commit")
        conn.execute("pragma journal_mode = delete")
        if start_from is None:
            conn.execute("analyze")
        conn.close()
        _fsync(temp)
        os.replace(temp, target)
    except BaseException:
        if conn is not None:
            conn.close()
        temp.unlink(missing_ok=True)
        raise
    finally:
        if flushing is not None:
            flushing.shutdown(wait=True)
        if handle is not None:
            handle.close()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


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
        similar = thread.submit(related.compute_similar, _items(db), _explicit(db))
        db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")
        db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values ('automerge', {FTS_AUTOMERGE})")
        create_indexes(db)
        db.execute("delete from similar")
        _insert_similar(db, similar.result())
    write_packs(db, packs, packs_digest)
    write_build_info(db, count)


def update_database(
    target: Path, remove: list[str], records: list[Record], total: int, packs: list[Pack], packs_digest: str
) -> None:
    """Apply an incremental change to a copy of ``target``, then swap it in."""
    with atomic_database(target, start_from=target) as db:
        old = _items(db)
        db.execute("delete from pack_cases")  # packs may point at removed cases
        delete_cases(db, remove)
        insert_records(db, records)
        gone = set(remove)
        new = [item for item in old if item.id not in gone] + [_item_of(r) for r in records]  # as _items(db) now reads
        update_similar(db, old, new, gone | {r.id for r in records})
        write_packs(db, packs, packs_digest)
        write_build_info(db, total)
