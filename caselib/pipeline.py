"""The build: the steps composed.

    discover -> load (read, parse, validate, render, shape rows; in workers)
             -> checks across files and packs -> store (atomically)

Every build writes the full database and its public edition (public.py),
or, for ``build.py --public``, the public edition alone. A full build stores
each batch while the workers parse the next; an incremental build parses only
the files whose bytes changed and applies the change to both in place.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_database, remove_stale_temp_files
from .checks import References, duplicate_id_problems, references, related_problems
from .discover import CaseFile, discover
from .errors import InvalidInput, Problem
from .packs import load_packs
from .public import Edition, public_path_for, update_public
from .progress import Progress
from .rows import Record
from .store import (
    Known,
    begin_full,
    built_by_this_code,
    finish_full,
    insert_records,
    stored_index,
    stored_packs_digest,
    stored_related,
    update_database,
)
from .workers import WRITE_BATCH, Task, Unchanged, collector_paused, default_jobs, load, load_all, load_chunks


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
    internal: int = 0
    warnings: list[Problem] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        if self.db is None:
            return f"{self.cases} cases are valid ({self.seconds:.1f} s); nothing was written."
        if not self.incremental:
            internal = f" ({self.internal} internal, left out of the public edition)" if self.internal else ""
            return f"built {self.db} with {self.cases} cases{internal} in {self.seconds:.1f} s."
        if not self.written:
            return f"{self.db} is up to date: {self.cases} cases, none changed ({self.seconds:.1f} s)."
        return (
            f"updated {self.db}: {self.cases} cases ({self.added} added, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged) in {self.seconds:.1f} s."
        )


@dataclass
class Work:
    """What a build reads: the case files to load (with what the database
    knows of each), the files known unchanged (their stamp is the stored one:
    not even read), every file found, what discovery left out, and how to read."""

    tasks: list[Task]
    quick: list[tuple[CaseFile, Known]]
    files: list[CaseFile]
    found: list[Problem]
    jobs: int
    progress: Progress | None
    packs_dir: Path | None


def plan(files: list[CaseFile], known: dict[str, Known] | None) -> tuple[list[Task], list[tuple[CaseFile, Known]]]:
    """The files to load, and those whose stamp says they are unchanged."""
    if not known:
        return [Task(file) for file in files], []
    tasks: list[Task] = []
    quick: list[tuple[CaseFile, Known]] = []
    for file in files:
        stored = known.get(file.stored)
        if stored is not None and stored.stamp == file.stamp:
            quick.append((file, stored))
        else:
            tasks.append(Task(file, stored))
    return tasks, quick


@dataclass(frozen=True)
class Outputs:
    """What a build writes: the full database (None for a public build) and the public edition."""

    full: Path | None
    public: Path

    @staticmethod
    def of(db_path: Path | None, public_only: bool) -> "Outputs":
        if db_path is None:
            return Outputs(None, Path())
        return Outputs(None, db_path) if public_only else Outputs(db_path, public_path_for(db_path))

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.full, self.public) if p is not None and p != Path()]


def default_packs_dir(cases_dir: Path) -> Path:
    """Packs live in ``packs/`` beside the cases folder."""
    return cases_dir.resolve().parent / "packs"


def build(
    cases_dir: Path,
    db_path: Path | None,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    full: bool = False,
    packs_dir: Path | None = None,
    public_only: bool = False,
) -> BuildReport:
    """Validate every case under ``cases_dir``; write ``db_path`` and its
    public edition (public.py) unless ``db_path`` is None.

    An existing database built by this version is updated incrementally:
    files whose bytes are unchanged are not parsed again. ``full`` rebuilds
    from scratch. ``public_only`` writes only the public edition, at
    ``db_path``, always fresh. Raises InvalidInput (with every problem,
    warnings included) and leaves the published databases as they were when
    any case, pack or reference is wrong.
    """
    started = time.perf_counter()
    found = discover(cases_dir)
    outputs = Outputs.of(db_path, public_only)
    for path in outputs.paths:
        remove_stale_temp_files(path)
    fresh = full or public_only or db_path is None or not built_by_this_code(outputs.public)
    known = None if fresh else stored_index(db_path)  # type: ignore[arg-type]
    tasks, quick = plan(found.files, known)
    work = Work(tasks, quick, found.files, found.problems, jobs or default_jobs(), progress, packs_dir)
    with collector_paused():
        if db_path is not None and known is None:
            report = _build_full(outputs, work)
        else:
            report = _check_or_update(outputs, known, work)
    report.warnings = [p for p in found.problems if p.warning]
    report.seconds = time.perf_counter() - started
    parsed_at, stored_at = report.stages["parse"], report.stages["store"]
    # In a full build "parse" includes storing what was parsed (they overlap);
    # "store" is what follows: the search index merge, similar cases, indexes.
    report.stages = {"parse": parsed_at - started, "store": stored_at - parsed_at}
    return report


def _fail_if_any(problems: list[Problem]) -> None:
    """Raise InvalidInput when any problem is an error (warnings alone pass)."""
    if any(not p.warning for p in problems):
        raise InvalidInput(problems)


def _build_full(outputs: Outputs, work: Work) -> BuildReport:
    """Parse in the workers while this process stores what they return, in
    the full database and (its public cases) in the public edition.

    Everything is written to the temporary databases of atomic_database; from
    the first problem on nothing more is written, every file is still read
    so that all problems are reported, and the temporary files are removed.
    """
    ids = {f.id for f in work.files}  # every file, so a broken one is not reported as missing too
    problems: list[Problem] = work.found + duplicate_id_problems(work.files)  # known before anything is stored
    failed = any(not p.warning for p in problems)
    refs: References = []
    pending: list[Record] = []
    count = 0
    with ExitStack() as stack:
        db = stack.enter_context(atomic_database(outputs.full)) if outputs.full else None
        edition = Edition(stack.enter_context(atomic_database(outputs.public)))
        for target in (db, edition.db):
            if target is not None:
                begin_full(target)

        def store_batch(records: list[Record]) -> int:
            edition.insert(records)
            return insert_records(db, records) if db is not None else len(records)

        for chunk in load_chunks(work.tasks, work.jobs, work.progress):
            for loaded in chunk:
                if isinstance(loaded, list):
                    problems += loaded
                    failed = True
                elif isinstance(loaded, Record):
                    pending.append(loaded)
                    refs += references([loaded])
            if failed:
                pending.clear()
            elif len(pending) >= WRITE_BATCH:
                count += store_batch(pending)
                pending = []
        parsed = time.perf_counter()
        problems += related_problems(refs, ids)
        packs = load_packs(work.packs_dir, ids)
        _fail_if_any(problems + packs.problems)
        count += store_batch(pending)
        if db is not None:
            finish_full(db, count, packs.packs, packs.digest)
        public = edition.finish(packs.packs, packs.digest)
    shown = outputs.full or outputs.public
    report = BuildReport(public if outputs.full is None else count, 0.0, shown, True, added=count, packs=len(packs.packs))
    report.internal = len(edition.internal_ids)
    report.stages = {"parse": parsed, "store": time.perf_counter()}
    return report


def _kept_with_missing_related(db_path: Path, kept: dict[str, CaseFile], ids: set[str]) -> list[CaseFile]:
    """Unchanged cases whose related case has gone (they must be re-read for line numbers)."""
    broken = {case_id for case_id, related_id in stored_related(db_path) if case_id in kept and related_id not in ids}
    return [kept[i] for i in sorted(broken)]


def _check_or_update(outputs: Outputs, known: dict[str, Known] | None, work: Work) -> BuildReport:
    """Check every case (no database), or update an existing database and its
    public edition with the files whose bytes changed."""
    db_path = outputs.full
    results = load_all(work.tasks, work.jobs, work.progress)
    parsed = time.perf_counter()
    problems = work.found + [p for r in results if isinstance(r, list) for p in r]
    records = [r for r in results if isinstance(r, Record)]
    unchanged = [r for r in results if isinstance(r, Unchanged)]  # read, but their bytes had not changed
    ids = {f.id for f in work.files}
    problems += duplicate_id_problems(work.files) + related_problems(references(records), ids)
    old_ids = {k.id for k in known.values()} if known else set()
    if db_path is not None and old_ids - ids:  # a case has gone: an unchanged case may name it in related
        kept = {k.id: f for f, k in work.quick} | {u.id: CaseFile(u.path, u.file, u.id, u.stamp) for u in unchanged}
        for file in _kept_with_missing_related(db_path, kept, ids):
            reread = load(Task(file))
            problems += reread if isinstance(reread, list) else related_problems(references([reread]), ids)  # type: ignore[list-item]
    packs = load_packs(work.packs_dir, ids)
    _fail_if_any(problems + packs.problems)
    kept_count = len(unchanged) + len(work.quick)
    total = len(records) + kept_count
    report = BuildReport(total, 0.0, db_path, False, unchanged=kept_count, incremental=known is not None, packs=len(packs.packs))
    if db_path is not None and known is not None:
        kept_ids = {k.id for _, k in work.quick} | {u.id for u in unchanged}
        remove = sorted(old_ids - kept_ids)
        report.added = len([r for r in records if r.id not in old_ids])
        report.changed = len(records) - report.added
        report.removed = len(old_ids - ids)
        stamps = [(u.file, u.id, u.stamp) for u in unchanged if u.restamp]
        packs_changed = stored_packs_digest(db_path) != packs.digest
        if remove or records or stamps or packs_changed:
            update_database(db_path, remove, records, stamps, total, packs.packs, packs.digest)
            update_public(outputs.public, db_path, remove, records, stamps, packs.packs, packs.digest)
        report.written = bool(remove or records or packs_changed)
    report.stages = {"parse": parsed, "store": time.perf_counter()}
    return report
