"""What one query may take from a serving process.

Datasette stops a query after ``sql_time_limit_ms`` (settings.json). Time is
not the only thing a query can take: ``select length(hex(randomblob(400000000)))``
finishes well inside five seconds and takes gigabytes. Each connection
therefore limits the size of any one string or blob SQLite makes, and SQLite's
heap in the process is capped as a whole (page caches included): a query that
needs more fails with "out of memory" or "string or blob too big", and the
process goes on serving.
"""

from __future__ import annotations

import sqlite3

MAX_VALUE_BYTES = 64 * 1024 * 1024  # the largest string or blob (a whole case body is far smaller)
HEAP_LIMIT_BYTES = 1024 * 1024 * 1024  # SQLite's memory in one serving process, all connections together
READ_BUSY_MS = 30_000  # how long a read waits for a build's commit (see live.LiveDatabase)


def apply(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.execute(f"pragma hard_heap_limit = {HEAP_LIMIT_BYTES}")
