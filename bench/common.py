"""What every benchmark shares: its command line, timing, the table, the corpus cache, output.

- ``parser(prog, doc)``: the options every benchmark takes (``--sizes``,
  ``--seed``, ``--smoke``, ``--data``); ``sizes(args)`` reads ``--sizes``.
- ``time_call(fn, times)`` / ``await time_async(fn, times)``: call ``fn``
  ``times`` times, one after another; a ``Timing`` with every sample in
  milliseconds, every return value and ``stats()`` (n, p50, p95, p99, min,
  max). ``percentile(values, p)`` interpolates linearly between ranks.
- ``table(header, rows, left)``: aligned columns, CJK characters counted as
  two columns; columns in ``left`` are aligned left, the others right.
- ``corpus(size, seed, data)``: the generated cases in
  ``DATA/corpora/SIZE-seedS/cases``, generated when missing or made by
  another version of ``bench/generate.py``.
- ``log(message)``: a time-stamped line on stderr.
- ``write_results(data, name, results)``: ``DATA/results/NAME.json`` and a
  time-stamped copy.
- ``machine()``: what the numbers were measured on.
- ``python_command(module, *args)``: this interpreter running ``-m module``
  (run it with ``cwd=ROOT``).
- ``TreeMemory(pid)``: a thread sampling the peak RSS and PSS of a process
  and its descendants (``tree_pids``, ``memory_kb``).

``DATA`` is ``bench/`` unless ``--data`` names another folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import generate

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_SIZES = "1000,10000,100000"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


# ================================================================ command line


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    result = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n\n")[0])
    result.add_argument("--sizes", default=DEFAULT_SIZES, help=f"corpus sizes, comma-separated (default {DEFAULT_SIZES})")
    result.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    result.add_argument("--smoke", action="store_true", help="a quick run that checks the benchmark works (few queries and repeats)")
    result.add_argument("--data", type=Path, default=BENCH, help="folder for corpora/ and results/ (default bench/)")
    return result


def sizes(args: argparse.Namespace) -> list[int]:
    return [int(size) for size in args.sizes.split(",") if size.strip()]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ================================================================ timing


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100), interpolated between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Timing:
    """Samples in milliseconds, and what each timed call returned."""

    samples: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    def add(self, other: Timing) -> None:
        """Append another timing's samples and results to this one."""
        self.samples += other.samples
        self.results += other.results

    def stats(self) -> dict[str, float | int | None]:
        values = self.samples
        return {
            "n": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "min": min(values, default=None),
            "max": max(values, default=None),
        }


def time_call(fn: Callable[[], Any], times: int = 1) -> Timing:
    """Call ``fn`` ``times`` times; the time and the result of each call."""
    timing = Timing()
    for _ in range(times):
        started = time.perf_counter()
        result = fn()
        timing.samples.append((time.perf_counter() - started) * 1000)
        timing.results.append(result)
    return timing


async def time_async(fn: Callable[[], Awaitable[Any]], times: int = 1) -> Timing:
    """Await ``fn()`` ``times`` times; the time and the result of each call."""
    timing = Timing()
    for _ in range(times):
        started = time.perf_counter()
        result = await fn()
        timing.samples.append((time.perf_counter() - started) * 1000)
        timing.results.append(result)
    return timing


# ================================================================ the table


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: Collection[int] = (0,)) -> str:
    """The rows under the header and a rule, columns two spaces apart."""
    lines = [header, *rows]
    widths = [max(text_width(line[c]) for line in lines) for c in range(len(header))]
    out = []
    for line in lines:
        cells = []
        for c, value in enumerate(line):
            pad = " " * (widths[c] - text_width(value))
            cells.append(value + pad if c in left else pad + value)
        out.append("  ".join(cells).rstrip())
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


# ================================================================ corpora and results


def corpus_dir(data: Path, size: int, seed: int) -> Path:
    return data / "corpora" / f"{size}-seed{seed}"


def corpus(size: int, seed: int, data: Path) -> Path:
    """The cached corpus's cases folder; generated unless made the same way."""
    folder = corpus_dir(data, size, seed)
    cases, stamp = folder / "cases", folder / "corpus.json"
    source = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:16]
    wanted = {"size": size, "seed": seed, "generator": generate.GENERATOR_VERSION, "source": source}
    if cases.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        log(f"corpus {size}: reusing {cases}")
        return cases
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    summary = generate.generate(size, cases, seed=seed, jobs=min(2, os.cpu_count() or 1))
    stamp.write_text(json.dumps(wanted))
    log(f"corpus {size}: {generate.describe(summary)}")
    return cases


def write_results(data: Path, name: str, results: dict) -> Path:
    """``DATA/results/NAME.json`` and a time-stamped copy of it."""
    folder = data / "results"
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, ensure_ascii=False, indent=1, default=str)
    (folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text, encoding="utf-8")
    path = folder / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    return path


def machine() -> dict:
    """The machine and the versions measured."""
    import datasette
    import markdown_it
    import yaml

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "datasette": datasette.__version__,
        "markdown_it": markdown_it.__version__,
        "pyyaml": yaml.__version__,
    }


# ================================================================ memory of a process tree


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except OSError:  # the process ended meanwhile
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process; zeros once it has ended."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            rss = int(f.read().split()[1]) * PAGE_KB
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            pss = next((int(line.split()[1]) for line in f if line.startswith(b"Pss:")), 0)
    except OSError:
        return 0, 0
    return rss, pss


class TreeMemory(threading.Thread):
    """The peak summed RSS and PSS of a process and its descendants, sampled
    every ``interval`` seconds. PSS counts the pages forked workers share once."""

    def __init__(self, root: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_rss_kb = self.peak_pss_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            sizes = [memory_kb(pid) for pid in tree_pids(self.root)]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(rss for rss, _ in sizes))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(pss for _, pss in sizes))
            self.done.wait(self.interval)

    def stop(self) -> None:
        self.done.set()
        self.join()


def python_command(module: str, *args: object) -> list[str]:
    """This interpreter running ``python -m module ARGS`` (run it with ``cwd=ROOT``)."""
    return [sys.executable, "-m", module, *map(str, args)]
