"""Step 4c: write a database so that the published one is never half-built.

The database is written to a temporary file beside the target and renamed
into place only when it is complete: a failed build, Ctrl-C or ``kill -9``
leaves the published file as it was. What a killed build left behind is
removed by the next one.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
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
