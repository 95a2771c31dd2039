"""Compare two built databases table by table: ``python -m bench.compare A.db B.db``.

For a change that must not alter what a build stores (a refactor), build the
same cases before and after it and compare: every table's rows (in primary-key
order), the FTS index's shadow tables included, must be equal. The build's own
bookkeeping (``_build``: the code fingerprint) and SQLite's statistics are not
compared. Exit status 0 when equal, 1 when not.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

IGNORED = {"_build", "sqlite_stat1", "sqlite_stat4"}


def connect(db: Path) -> sqlite3.Connection:
    """A read-only connection (a missing file is an error, not a new database)."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("select name from sqlite_master where type = 'table' order by name").fetchall()
    return [name for (name,) in rows if name not in IGNORED]


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"pragma table_info([{table}])")]


def table_rows(conn: sqlite3.Connection, table: str, names: list[str]) -> list[tuple]:
    if not names:  # a virtual table: its content lives in the shadow tables
        return []
    quoted = ", ".join(f"[{n}]" for n in names)
    return conn.execute(f"select {quoted} from [{table}] order by {quoted}").fetchall()


def compare(a: Path, b: Path) -> list[str]:
    """Every difference between the two databases, as lines of text."""
    left, right = connect(a), connect(b)
    differences: list[str] = []
    try:
        only = set(tables(left)) ^ set(tables(right))
        differences += [f"table {name} is in only one database" for name in sorted(only)]
        for table in sorted(set(tables(left)) & set(tables(right))):
            names_a, names_b = columns(left, table), columns(right, table)
            if sorted(names_a) != sorted(names_b):
                differences.append(f"{table}: columns differ: {names_a} / {names_b}")
                continue
            rows_a, rows_b = table_rows(left, table, sorted(names_a)), table_rows(right, table, sorted(names_b))
            if rows_a != rows_b:
                changed = len(set(rows_a) ^ set(rows_b))
                differences.append(f"{table}: {len(rows_a)} / {len(rows_b)} rows, {changed} differ")
            elif names_a != names_b:
                differences.append(f"{table}: same rows, columns in another order")
    finally:
        left.close()
        right.close()
    return differences


def size(db: Path) -> tuple[int, int]:
    """(tables compared, rows in them) of a database."""
    conn = connect(db)
    try:
        names = tables(conn)
        return len(names), sum(conn.execute(f"select count(*) from [{t}]").fetchone()[0] for t in names if columns(conn, t))
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    for db in (args.a, args.b):
        if not db.is_file():
            parser.error(f"{db} is not a file")
    differences = compare(args.a, args.b)
    for line in differences:
        print(line)
    count, rows = size(args.a)
    print(f"{'differ' if differences else 'equal'}: {count} tables, {rows} rows in {args.a}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
