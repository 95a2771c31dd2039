"""Step 4c: write a database so that the published one is never half-built.

A full build writes a temporary file beside the target and renames it into
place only when it is complete: a failed build, Ctrl-C or ``kill -9`` leaves
the published file as it was, and what a killed build left behind is removed
by the next one. An incremental build changes the published file in place,
in one SQLite transaction with a rollback journal: a site reading the file
sees the whole change or none of it, and a build killed mid-way is rolled
back by SQLite when the file is next opened for writing.
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

TEMP_MARK = ".building-"
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.building-(?P<pid>\d+)$")


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


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def atomic_database(target: Path) -> Iterator[sqlite_utils.Database]:
    """Yield a fresh database that replaces ``target`` only when the block completes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target)
    temp = temp_path_for(target)
    temp.unlink(missing_ok=True)
    conn = None
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        conn.execute("begin")
        yield sqlite_utils.Database(conn)
        conn.execute("commit")
        conn.execute("pragma journal_mode = delete")
        conn.execute("analyze")
        conn.close()
        _fsync(temp)
        os.replace(temp, target)
    except BaseException:
        if conn is not None:
            conn.close()
        temp.unlink(missing_ok=True)
        raise


BUSY_TIMEOUT = 60  # seconds the build waits for readers to finish before it commits
CHANGE_CACHE_KB = 256_000  # the change stays in memory until the commit writes it


@contextmanager
def in_place(target: Path) -> Iterator[sqlite_utils.Database]:
    """Yield ``target`` in one write transaction, committed when the block
    completes and rolled back when it fails or is interrupted."""
    conn = sqlite3.connect(target, isolation_level=None, timeout=BUSY_TIMEOUT)
    try:
        conn.execute("pragma journal_mode = delete")
        conn.execute("pragma synchronous = full")
        conn.execute(f"pragma cache_size = -{CHANGE_CACHE_KB}")
        conn.execute("begin immediate")
        try:
            yield sqlite_utils.Database(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        conn.execute("commit")
    finally:
        conn.close()
