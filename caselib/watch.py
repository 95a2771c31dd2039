"""Rebuild when a case or pack file changes: ``build.py --serve`` watches by default.

watchfiles (Rust's notify) reports changes in batches; each batch that
touches a case file (``*.md``) or a training pack (``*.yml``, ``*.yaml``),
or a folder holding them, runs one incremental build. Editors' swap and
backup files are ignored.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from watchfiles import Change, watch

WATCHED_SUFFIXES = (".md", ".yml", ".yaml")
IGNORED = ("~", ".swp", ".swx", ".tmp", ".part")
DEBOUNCE_MS = 200


def relevant(change: Change, path: str) -> bool:
    """A change an incremental build should see: case and pack files, and
    folders (a folder renamed or deleted moves every case in it)."""
    name = Path(path).name
    if name.startswith((".#", "#")) or name.endswith(IGNORED):
        return False
    return name.endswith(WATCHED_SUFFIXES) or "." not in name


def watch_and_rebuild(folders: list[Path], rebuild: Callable[[], None], stop: threading.Event | None = None) -> None:
    """Call ``rebuild`` after each batch of relevant changes, until ``stop`` is set
    (or forever)."""
    existing = [str(folder) for folder in folders if folder.is_dir()]
    for _ in watch(*existing, watch_filter=relevant, debounce=DEBOUNCE_MS, stop_event=stop, raise_interrupt=False):
        rebuild()
