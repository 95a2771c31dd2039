"""The build: discover case files, parse them (in parallel), check, store."""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .errors import CaseFileError, CasesInvalid, Problem, UsageError
from .parse import parse_case
from .source import source_from_bytes
from .packs import Pack, PackError, pack_files, packs_digest, parse_pack, unknown_case_problems
from .store import (
    Record,
    atomic_database,
    begin_full,
    finish_full,
    insert_records,
    remove_stale_temp_files,
    make_record,
    stored_index,
    stored_packs_digest,
    stored_related,
    update_database,
)

PARALLEL_THRESHOLD = 400  # below this, worker start-up costs more than it saves
CHUNK = 64
WRITE_BATCH = 2000  # parsed cases written to the database at a time in a full build
# Chunks in flight: enough for the workers to keep parsing while the main
# process writes a batch (about two batches' worth), few enough to bound memory.
IN_FLIGHT = 2 * WRITE_BATCH // CHUNK

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    cases: int
    seconds: float
    db: Path | None
    written: bool
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    incremental: bool = False
    packs: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        if self.db is None:
            return f"{self.cases} cases are valid ({self.seconds:.1f} s); nothing was written."
        if not self.incremental:
            return f"built {self.db} with {self.cases} cases in {self.seconds:.1f} s."
        if not self.written:
            return f"{self.db} is up to date: {self.cases} cases, none changed ({self.seconds:.1f} s)."
        return (
            f"updated {self.db}: {self.cases} cases ({self.added} added, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged) in {self.seconds:.1f} s."
        )


@dataclass(frozen=True)
class Unchanged:
    """A file whose bytes match what the database was built from."""

    id: str
    path: str


Loaded = Record | Unchanged | list[Problem]


def display_path(path: Path) -> str:
    """The path as a user reads it in messages: relative to the working folder,
    with control characters spelt out so every message stays on one line."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        relative = str(path)
    text = str(path) if relative.startswith("..") else relative
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def discover(root: Path) -> list[Path]:
    """Every case file under ``root``, in path order: a ``.md`` file whose name
    starts with neither ``_`` (templates) nor ``.``, outside hidden folders.

    Walks the tree once with os.walk, leaving hidden folders unvisited and
    symbolic links to folders unfollowed: at 100,000 files this takes a
    fraction of what globbing and checking every path does.
    """
    if not root.is_dir():
        raise UsageError(f"cases folder not found: {root}")
    found: list[tuple[str, ...]] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        relative = Path(folder).relative_to(root).parts
        found += [
            (*relative, name)
            for name in names
            if name.endswith(".md") and not name.startswith(("_", ".")) and os.path.isfile(os.path.join(folder, name))
        ]
    found.sort()  # the order of Path objects: part by part
    return [root.joinpath(*parts) for parts in found]


def load(path: Path, known_digest: str | None = None, file: str | None = None) -> Loaded:
    """Read and parse one file, unless its digest is known; runs in workers.

    Problems are returned, not raised, so one bad file never hides another.
    ``file`` is the path stored in the database (see stored_paths).
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        return [Problem(display_path(path), 1, "", f"cannot read file: {err.strerror or err}")]
    digest = hashlib.sha256(data).hexdigest()
    if digest == known_digest:
        return Unchanged(path.stem, str(path))
    display = display_path(path)
    try:
        case = parse_case(source_from_bytes(data, display, path.stem))
        case.file = file or display
        return make_record(case)
    except CaseFileError as err:
        return err.problems
    except RecursionError:
        return [Problem(display, 1, "", "the Markdown is nested too deeply to read")]


Task = tuple[Path, str | None, str]  # path, known digest, stored path


def _load_chunk(tasks: list[Task]) -> list[Loaded]:
    return [load(*task) for task in tasks]


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
    to_parse = sum(1 for _, digest, _ in tasks if digest is None)
    if jobs <= 1 or total < PARALLEL_THRESHOLD:
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


def duplicate_id_problems(paths: list[Path]) -> list[Problem]:
    """Files with the same name anywhere in the tree (valid or not)."""
    problems: list[Problem] = []
    first: dict[str, Path] = {}
    for path in paths:
        case_id = path.stem
        if case_id in first:
            shown, other = display_path(path), display_path(first[case_id])
            problems.append(Problem(shown, 1, "id", f'duplicate case id "{case_id}": {other} has the same file name'))
            problems.append(Problem(other, 1, "id", f'duplicate case id "{case_id}": {shown} has the same file name'))
        else:
            first[case_id] = path
    return problems


References = list[tuple[str, list[tuple[str, int]]]]  # (path, [(related id, line)]) per case


def references(records: list[Record]) -> References:
    return [(record.path, record.related) for record in records if record.related]


def related_problems(refs: References, ids: set[str]) -> list[Problem]:
    return [
        Problem(path, line, "related", f'no case has the id "{related_id}"')
        for path, related in refs
        for related_id, line in related
        if related_id not in ids
    ]


def default_jobs() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


def _unchanged_with_missing_related(db_path: Path, unchanged: list[Unchanged], ids: set[str]) -> list[Unchanged]:
    """Unchanged cases whose related case has gone (they must be re-read for line numbers)."""
    by_id = {u.id: u for u in unchanged}
    broken = {case_id for case_id, related_id in stored_related(db_path) if case_id in by_id and related_id not in ids}
    return [by_id[i] for i in sorted(broken)]


def load_packs(folder: Path | None, ids: set[str]) -> tuple[list[Pack], list[Problem], str]:
    """Every training pack in ``folder``, checked against the case ids."""
    packs: list[Pack] = []
    problems: list[Problem] = []
    paths = pack_files(folder)
    for path in paths:
        display = display_path(path)
        try:
            pack = parse_pack(path.read_bytes(), display, path.stem)
        except PackError as err:
            problems += err.problems
            continue
        except OSError as err:
            problems.append(Problem(display, 1, "", f"cannot read file: {err.strerror or err}"))
            continue
        problems += unknown_case_problems(pack, ids)
        packs.append(pack)
    seen: dict[str, str] = {}
    for pack in packs:
        if pack.id in seen:
            problems.append(Problem(pack.path, 1, "id", f'duplicate pack id "{pack.id}": {seen[pack.id]} has the same file name'))
        seen.setdefault(pack.id, pack.path)
    return packs, problems, packs_digest(paths)


def default_packs_dir(cases_dir: Path) -> Path:
    """Packs live in ``packs/`` beside the cases folder."""
    return cases_dir.resolve().parent / "packs"


def stored_paths(paths: list[Path], cases_dir: Path) -> dict[Path, str]:
    """How the database names each case file (all under ``cases_dir``): from
    the cases folder's name down, whatever the working folder (e.g.
    cases/2019/x.md)."""
    root, depth = cases_dir.resolve().name, len(cases_dir.parts)
    return {p: "/".join((root, *p.parts[depth:])) for p in paths}


def build(
    cases_dir: Path,
    db_path: Path | None,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    full: bool = False,
    packs_dir: Path | None = None,
) -> BuildReport:
    """Validate every case under ``cases_dir``; write ``db_path`` unless None.

    An existing database built by this version is updated incrementally:
    files whose bytes are unchanged are not parsed again. ``full`` rebuilds
    from scratch. Raises CasesInvalid (with every problem) and leaves the
    published database as it was when any case, pack or reference is wrong.
    """
    started = time.perf_counter()
    paths = discover(cases_dir)
    if db_path is not None:
        remove_stale_temp_files(db_path)
    known = None if (full or db_path is None) else stored_index(db_path)
    digests = {path: digest for path, (_, digest) in (known or {}).items()}
    files = stored_paths(paths, cases_dir)
    tasks = [(p, digests.get(files[p]), files[p]) for p in paths]
    with collector_paused():
        if db_path is not None and known is None:
            report = _build_full(db_path, tasks, paths, jobs or default_jobs(), progress, packs_dir)
        else:
            report = _check_or_update(db_path, known, tasks, paths, jobs or default_jobs(), progress, packs_dir)
    report.seconds = time.perf_counter() - started
    parsed_at, stored_at = report.stages["parse"], report.stages["store"]
    # In a full build "parse" includes storing what was parsed (they overlap);
    # "store" is what follows: the search index merge, similar cases, indexes.
    report.stages = {"parse": parsed_at - started, "store": stored_at - parsed_at}
    return report


def _build_full(
    db_path: Path, tasks: list[Task], paths: list[Path], jobs: int, progress: Progress | None, packs_dir: Path | None
) -> BuildReport:
    """Parse in the workers while this process stores what they return.

    Everything is written to the temporary database of atomic_database; from
    the first problem on nothing more is written, every file is still read
    so that all problems are reported, and the temporary file is removed.
    """
    ids = {p.stem for p in paths}  # every file, so a broken one is not reported as missing too
    problems: list[Problem] = duplicate_id_problems(paths)  # known before anything is stored
    refs: References = []
    pending: list[Record] = []
    count = 0
    with atomic_database(db_path) as db:
        begin_full(db)
        for chunk in load_chunks(tasks, jobs, progress):
            for loaded in chunk:
                if isinstance(loaded, list):
                    problems += loaded
                elif isinstance(loaded, Record):
                    pending.append(loaded)
                    refs += references([loaded])
            if problems:
                pending.clear()
            elif len(pending) >= WRITE_BATCH:
                count += insert_records(db, pending)
                pending = []
        parsed = time.perf_counter()
        problems += related_problems(refs, ids)
        packs, pack_problems, digest = load_packs(packs_dir, ids)
        problems += pack_problems
        if problems:
            raise CasesInvalid(problems)
        count += insert_records(db, pending)
        finish_full(db, count, packs, digest)
    return BuildReport(
        count, 0.0, db_path, True, added=count, packs=len(packs), stages={"parse": parsed, "store": time.perf_counter()}
    )


def _check_or_update(
    db_path: Path | None,
    known: dict[str, tuple[str, str]] | None,
    tasks: list[Task],
    paths: list[Path],
    jobs: int,
    progress: Progress | None,
    packs_dir: Path | None,
) -> BuildReport:
    """Check every case (no database), or update an existing database with
    the files whose bytes changed."""
    results = load_all(tasks, jobs, progress)
    parsed = time.perf_counter()
    problems = [p for r in results if isinstance(r, list) for p in r]
    records = [r for r in results if isinstance(r, Record)]
    unchanged = [r for r in results if isinstance(r, Unchanged)]
    ids = {p.stem for p in paths}
    problems += duplicate_id_problems(paths) + related_problems(references(records), ids)
    if unchanged and db_path is not None:
        for entry in _unchanged_with_missing_related(db_path, unchanged, ids):
            reread = load(Path(entry.path))
            problems += reread if isinstance(reread, list) else related_problems(references([reread]), ids)
    packs, pack_problems, digest = load_packs(packs_dir, ids)
    problems += pack_problems
    if problems:
        raise CasesInvalid(problems)
    total = len(records) + len(unchanged)
    report = BuildReport(total, 0.0, db_path, False, unchanged=len(unchanged), incremental=known is not None, packs=len(packs))
    if db_path is not None and known is not None:
        old_ids = {case_id for case_id, _ in known.values()}
        remove = sorted(old_ids - {u.id for u in unchanged})
        report.added = len([r for r in records if r.id not in old_ids])
        report.changed = len(records) - report.added
        report.removed = len(old_ids - ids)
        if remove or records or stored_packs_digest(db_path) != digest:
            update_database(db_path, remove, records, total, packs, digest)
            report.written = True
    report.stages = {"parse": parsed, "store": time.perf_counter()}
    return report


def stderr_progress(stream=sys.stderr) -> Progress | None:
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
