"""Progress of a long build on a terminal."""

from __future__ import annotations

import os
import sys
from typing import Callable, TextIO

Progress = Callable[[int, int], None]


def stderr_progress(stream: TextIO = sys.stderr) -> Progress | None:
    """A one-line progress display on a terminal; nothing otherwise."""
    if not stream.isatty() or os.environ.get("CI"):
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        stream.write(f"\r读取案例 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show
