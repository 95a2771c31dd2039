"""Step 4: store parsed cases in SQLite with sqlite-utils, atomically.

The database is written to a temporary file beside the target and renamed
into place only when it is complete, so the published database is never
half-built: a failed build, Ctrl-C or ``kill -9`` leaves it as it was.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from . import search
from .model import Case
from .render import SECTIONS
from .vocab import Vocabulary, lookup_rows, vocabularies

TEMP_MARK = ".building-"
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.building-(?P<pid>\d+)$")
SECTION_COLUMNS = list(SECTIONS)
FTS_TABLE = "cases_fts"
FTS_COLUMNS = ("title", "body", "labels")
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
    **{column: str for column in SECTION_COLUMNS},
    "other_text": str,
    "body_html": str,
    "path": str,
    "as_written": str,
    "digest": str,
}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _labels(vocab: Vocabulary, codes: list[str]) -> list[str]:
    return [vocab.by_code[c].zh for c in codes]


def _label(vocab: Vocabulary, code: str | None) -> str | None:
    return vocab.by_code[code].zh if code else None


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
        **{column: case.sections.get(column) for column in SECTION_COLUMNS},
        "other_text": case.other_text or None,
        "body_html": case.body_html,
        "path": case.path,
        "as_written": _json(case.as_written) if case.as_written else None,
        "digest": case.digest,
    }


def searchable_parts(case: Case) -> dict[str, str]:
    """The text a search looks through, per FTS column (before rewriting)."""
    v = vocabularies()
    labels: list[str] = []
    for name in ("violations", "sanctions", "disciplines"):
        for code in getattr(case, name):
            term = v[name].by_code[code]
            labels += [term.zh, term.en]
    for name in ("form", "rank", "personnel"):
        code = getattr(case, name)
        if code:
            term = v[name].by_code[code]
            labels += [term.zh, term.en]
    body = [case.other_text, *(case.sections.get(c, "") for c in SECTION_COLUMNS)]
    meta = [case.region, case.unit, case.position, *case.tags, *labels]
    return {
        "title": case.title,
        "body": "\n".join(p for p in body if p),
        "labels": "\n".join(p for p in meta if p),
    }


def fts_row(case: Case) -> dict[str, str]:
    return {column: search.index_text(text) for column, text in searchable_parts(case).items()}


def create_schema(db: sqlite_utils.Database) -> None:
    vocabs = vocabularies()
    for vocab in vocabs.values():
        db[vocab.table].create(
            {"code": str, "zh": str, "en": str, "group": str, "aliases": str, "description": str, "sort": int},
            pk="code",
        )
        db[vocab.table].insert_all(lookup_rows(vocab))
    db["cases"].create(CASE_COLUMNS, pk="id", not_null={"title", "date", "year", "violations"})
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
    db.execute(
        f"create virtual table {FTS_TABLE} using fts5({', '.join(FTS_COLUMNS)}, "
        "content='', tokenize='unicode61 remove_diacritics 2')"
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


def insert_cases(db: sqlite_utils.Database, cases: list[Case], batch_size: int = 1000) -> int:
    """Insert cases, their links and their search rows; return how many."""
    db["cases"].insert_all((case_row(c) for c in cases), batch_size=batch_size)
    rowids = dict(db.execute("select id, rowid from cases").fetchall())
    db.conn.executemany(
        f"insert into {FTS_TABLE} (rowid, {', '.join(FTS_COLUMNS)}) values (?, ?, ?, ?)",
        ([rowids[c.id], *fts_row(c).values()] for c in cases),
    )
    links: dict[str, list[dict]] = {}
    for case in cases:
        for table, rows in link_rows(case).items():
            links.setdefault(table, []).extend(rows)
    for table, rows in links.items():
        db[table].insert_all(rows, batch_size=batch_size)
    return len(cases)


def create_indexes(db: sqlite_utils.Database) -> None:
    for column in FACET_COLUMNS:
        db["cases"].create_index([column])
    for vocab in vocabularies().values():
        if vocab.link_table:
            db[vocab.link_table].create_index([link_column(vocab), "case_id"])
    db["related"].create_index(["related_id"])


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
def atomic_database(target: Path) -> Iterator[sqlite_utils.Database]:
    """Yield a fresh database that replaces ``target`` only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target)
    temp = temp_path_for(target)
    temp.unlink(missing_ok=True)
    conn = sqlite3.connect(temp, isolation_level=None)
    try:
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        conn.execute("begin")
        db = sqlite_utils.Database(conn)
        yield db
        conn.execute("commit")
        conn.execute("pragma journal_mode = delete")
        conn.execute("analyze")
        conn.close()
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        conn.close()
        temp.unlink(missing_ok=True)
        raise


def write_database(target: Path, cases: list[Case]) -> int:
    """Build the whole database for ``cases`` into ``target``."""
    with atomic_database(target) as db:
        create_schema(db)
        count = insert_cases(db, cases)
        create_indexes(db)
        db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")
    return count
