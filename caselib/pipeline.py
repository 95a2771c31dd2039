"""The build: discover case files, parse them (in parallel), check, store."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import CaseFileError, CasesInvalid, Problem, UsageError
from .model import Case
from .parse import parse_case
from .source import read_source
from .store import write_database

PARALLEL_THRESHOLD = 400  # below this, worker start-up costs more than it saves
CHUNK = 64

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    cases: int
    seconds: float
    db: Path | None
    written: bool
    stages: dict[str, float] = field(default_factory=dict)


def display_path(path: Path) -> str:
    """The path as a user reads it in messages: relative to the working folder."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def is_case_file(path: Path, root: Path) -> bool:
    if path.suffix != ".md" or path.name.startswith(("_", ".")):
        return False
    return not any(part.startswith(".") for part in path.relative_to(root).parts[:-1])


def discover(root: Path) -> list[Path]:
    """Every case file under ``root``, in a stable order."""
    if not root.is_dir():
        raise UsageError(f"cases folder not found: {root}")
    return sorted(p for p in root.rglob("*.md") if p.is_file() and is_case_file(p, root))


def load(path: Path) -> Case | list[Problem]:
    """Read and parse one file; problems instead of exceptions (runs in workers)."""
    display = display_path(path)
    try:
        return parse_case(read_source(path, display))
    except CaseFileError as err:
        return err.problems
    except OSError as err:
        return [Problem(display, 1, "", f"cannot read file: {err.strerror or err}")]
    except RecursionError:
        return [Problem(display, 1, "", "the Markdown is nested too deeply to read")]


def _load_chunk(paths: list[Path]) -> list[Case | list[Problem]]:
    return [load(p) for p in paths]


def load_all(paths: list[Path], jobs: int, progress: Progress | None = None) -> list[Case | list[Problem]]:
    """Parse every file, using ``jobs`` processes for large trees."""
    total = len(paths)
    if jobs <= 1 or total < PARALLEL_THRESHOLD:
        results = []
        for index, path in enumerate(paths, 1):
            results.append(load(path))
            if progress and (index % CHUNK == 0 or index == total):
                progress(index, total)
        return results
    chunks = [paths[i : i + CHUNK] for i in range(0, total, CHUNK)]
    results = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for chunk_result in pool.map(_load_chunk, chunks):
            results.extend(chunk_result)
            if progress:
                progress(len(results), total)
    return results


def cross_file_problems(cases: list[Case]) -> list[Problem]:
    """Problems only the whole tree shows: duplicate ids, unknown related ids."""
    problems: list[Problem] = []
    first: dict[str, Case] = {}
    for case in cases:
        if case.id in first:
            other = first[case.id]
            problems.append(Problem(case.path, 1, "id", f'duplicate case id "{case.id}": {other.path} has the same file name'))
            problems.append(Problem(other.path, 1, "id", f'duplicate case id "{case.id}": {case.path} has the same file name'))
        else:
            first[case.id] = case
    for case in cases:
        for related_id, line in case.related:
            if related_id not in first:
                problems.append(Problem(case.path, line, "related", f'no case has the id "{related_id}"'))
    return problems


def default_jobs() -> int:
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


def build(
    cases_dir: Path,
    db_path: Path | None,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Validate every case under ``cases_dir``; write ``db_path`` unless None.

    Raises CasesInvalid (with every problem, in file order) before anything
    is written, so a failed build never touches the published database.
    """
    started = time.perf_counter()
    paths = discover(cases_dir)
    results = load_all(paths, jobs or default_jobs(), progress)
    parsed = time.perf_counter()
    problems = [p for r in results if isinstance(r, list) for p in r]
    cases = [r for r in results if isinstance(r, Case)]
    problems += cross_file_problems(cases)
    if problems:
        raise CasesInvalid(problems)
    stages = {"parse": parsed - started}
    if db_path is None:
        return BuildReport(len(cases), time.perf_counter() - started, None, False, stages)
    write_database(db_path, cases)
    stages["store"] = time.perf_counter() - parsed
    return BuildReport(len(cases), time.perf_counter() - started, db_path, True, stages)


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
