"""The most-asked pages that are slow to make, kept beside the database, so
that a serving process that starts (a restart, a new release) makes them
before people ask for them rather than while a room waits.

Each serving process writes the record now and then (``<database>.asked.json``,
renamed into place, so readers never see half of it) and reads it once, when
it starts. Only pages for everyone are recorded: a signed-in member of staff's
pages are theirs, and making them again would need their sign-in.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SUFFIX = ".asked.json"
KEPT = 100  # pages recorded, the most-asked first
EVERY = 60.0  # seconds between two records by one process


def path_for(database: Path) -> Path:
    return database.with_name(database.name + SUFFIX)


def write(database: Path, asked: list[tuple[str, int]]) -> bool:
    """Record ``asked`` ((path?query, times asked), most-asked first); False when
    the folder cannot be written to (the record is then not kept, and says why once)."""
    target = path_for(database)
    temp = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        temp.write_text(json.dumps([{"page": page, "asked": n} for page, n in asked[:KEPT]], ensure_ascii=False), encoding="utf-8")
        os.replace(temp, target)
    except OSError as error:
        temp.unlink(missing_ok=True)
        print(f"最常请求页面的记录无法写入 (cannot record the most-asked pages): {target}: {error.strerror}", file=sys.stderr)
        return False
    return True


def read(database: Path) -> list[tuple[str, int]]:
    """The recorded pages, most-asked first; none when there is no record or it is not one."""
    try:
        found = json.loads(path_for(database).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(found, list):
        return []
    return [(item["page"], item["asked"]) for item in found
            if isinstance(item, dict) and isinstance(item.get("page"), str) and item["page"].startswith("/")
            and not item["page"].startswith("/-/") and isinstance(item.get("asked"), int)][:KEPT]
