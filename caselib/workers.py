"""Reading and parsing many files at once: the worker pool of a build.

Each file is read, hashed and, unless its digest is already stored, parsed,
validated, rendered and shaped into a :class:`Record` in a worker process
(threads when there is little to parse). Results come back in path order, a
chunk at a time, so that the build stores one chunk while the workers parse
the next.
"""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .discover import CaseFile, display_path
from .model import Stamp
from .errors import InvalidInput, Problem
from .parse import parse_case
from .progress import Progress
from .rows import Record, make_record
from .source import source_from_bytes
from .store import Known

PARALLEL_THRESHOLD = 400  # below this, worker start-up costs more than it saves
CHUNK = 64
WRITE_BATCH = 2000  # parsed cases written to the database at a time in a full build
# Chunks in flight: enough for the workers to keep parsing while the main
# process writes a batch (about two batches' worth), few enough to bound memory.
IN_FLIGHT = 2 * WRITE_BATCH // CHUNK


@dataclass(frozen=True)
class Task:
    """One case file to load, and what the database knows of it (None: a new file)."""

    file: CaseFile
    known: Known | None = None


@dataclass(frozen=True)
class Unchanged:
    """A file whose bytes match what the database was built from;
    ``restamp`` when only its stamp changed (touched, copied back)."""

    id: str
    path: str
    file: str
    stamp: Stamp | None
    restamp: bool = False


Loaded = Record | Unchanged | list[Problem]


def unchanged_stamp(task: Task) -> bool:
    """Whether the file's stamp is the one stored: it need not even be read."""
    known = task.known
    return known is not None and known.stamp is not None and known.stamp == task.file.stamp


def load(task: Task) -> Loaded:
    """Read and parse one file, unless it is known unchanged; runs in workers.

    A file whose stamp (size, modification time, inode) is the stored one is
    not even read; one whose bytes hash to the stored digest is not parsed.
    Problems are returned, not raised, so one bad file never hides another.
    """
    file, known = task.file, task.known
    if known is not None and unchanged_stamp(task):
        return Unchanged(known.id, file.path, file.stored, file.stamp)
    try:
        with open(file.path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return [Problem(display_path(Path(file.path)), 1, "", f"cannot read file: {err.strerror or err}")]
    digest = hashlib.sha256(data).hexdigest()
    if known is not None and digest == known.digest:
        return Unchanged(known.id, file.path, file.stored, file.stamp, restamp=True)
    display = display_path(Path(file.path))
    try:
        case = parse_case(source_from_bytes(data, display, file.id))
        case.file = file.stored
        return make_record(case, file.stamp)
    except InvalidInput as err:
        return err.problems
    except RecursionError:
        return [Problem(display, 1, "", "the Markdown is nested too deeply to read")]


def _load_chunk(tasks: list[Task]) -> list[Loaded]:
    return [load(task) for task in tasks]


def _exit_with(parent: int) -> None:
    """End this worker once its parent is gone: the build, or the fork server
    that started it for the build (which ends with the build), even after
    kill -9. A worker whose parent has died is adopted by another process."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker_init() -> None:
    """Workers hold no reference cycles worth collecting, leave Ctrl-C to the
    build, which stops them and cleans up, and never outlive it."""
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: a build makes millions of short-lived,
    acyclic objects, and collecting them costs ~10% of the parse."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_chunks(tasks: list[Task], jobs: int, progress: Progress | None = None) -> Iterator[list[Loaded]]:
    """Load every file, in order, a chunk at a time, using ``jobs`` processes
    when there is enough to parse; the caller can store one chunk while the
    workers parse the next. At most IN_FLIGHT chunks are in flight, so
    memory stays bounded whichever side is faster."""
    total, done = len(tasks), 0
    chunks = [tasks[i : i + CHUNK] for i in range(0, total, CHUNK)]
    to_read = sum(1 for task in tasks if not unchanged_stamp(task))
    to_parse = sum(1 for task in tasks if task.known is None)
    if jobs <= 1 or to_read < PARALLEL_THRESHOLD:
        pool: Executor | None = None
    elif to_parse < PARALLEL_THRESHOLD:
        pool = ThreadPoolExecutor(max_workers=jobs)  # mostly unchanged files: reading and hashing release the GIL
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
    try:
        for result in _in_order(pool, chunks, max(IN_FLIGHT, 2 * jobs)):
            done += len(result)
            if progress:
                progress(done, total)
            yield result
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _in_order(pool: Executor | None, chunks: list[list[Task]], window: int) -> Iterator[list[Loaded]]:
    """The loaded chunks in order, with at most ``window`` submitted ahead."""
    if pool is None:
        yield from map(_load_chunk, chunks)
        return
    waiting: deque[Future] = deque()
    for chunk in chunks:
        waiting.append(pool.submit(_load_chunk, chunk))
        if len(waiting) >= window:
            yield waiting.popleft().result()
    while waiting:
        yield waiting.popleft().result()


def load_all(tasks: list[Task], jobs: int, progress: Progress | None = None) -> list[Loaded]:
    """Load every file (see load_chunks), all at once."""
    return [loaded for chunk in load_chunks(tasks, jobs, progress) for loaded in chunk]


def default_jobs() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


