"""Smoke tests of bench/: every benchmark runs on about 50 cases and prints its table.

Each runs as a subprocess with ``--smoke`` (few queries and repeats) and
``--data`` in a temporary folder, so nothing is written to bench/corpora or
bench/results. No time is asserted (the machine may be busy): the tests check
that each benchmark runs to the end and reports the rows bench/README.md
describes, with the figures that do not depend on the machine.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import common

REPO = Path(__file__).resolve().parent.parent
SIZE = 60  # more than one page of 50 rows, so the list's page 2 is measured too


def run(*args: str) -> subprocess.CompletedProcess:
    """``python -m ARGS`` from the repository, as a user runs it."""
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def succeeded(*args: str) -> str:
    result = run(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def cells(output: str, first: str) -> dict[str, str]:
    """The table row whose first cell is ``first``, by column name."""
    lines = output.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("approach "))
    header = re.split(r"\s{2,}", lines[header_at].strip())
    row = next(line for line in lines[header_at + 2 :] if line.split("  ")[0] == first)
    return dict(zip(header, re.split(r"\s{2,}", row.strip())))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the cached corpus the benchmarks share."""
    folder = tmp_path_factory.mktemp("bench-data")
    common.corpus(SIZE, 1, folder)
    return folder


def test_generate_writes_the_same_files_whatever_the_jobs(tmp_path: Path) -> None:
    first = succeeded("bench.generate", "50", str(tmp_path / "a"))
    succeeded("bench.generate", "50", str(tmp_path / "b"), "--jobs", "1")

    def files(root: Path) -> dict[Path, bytes]:
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*.md")}

    assert first.startswith("generated 50 cases")
    assert len(files(tmp_path / "a")) == 50
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert run("bench.generate", "50", str(tmp_path / "a")).returncode == 2  # the folder is not empty


def test_search_bench_finds_exactly_what_the_scan_finds(data: Path) -> None:
    output = succeeded("bench", "search", "--sizes", str(SIZE), "--smoke", "--data", str(data))

    assert output.startswith(f"== {SIZE} cases (seed 1); project build ")
    ours = cells(output, "cjk-bigram")
    assert ours["zh1-6 R/P"] == ours["all R/P"] == ours["worst R/P"] == "100/100"
    exact, queries = ours["exact"].split("/")
    assert exact == queries
    for approach in ("unicode61", "trigram", "before", "LIKE"):
        assert cells(output, approach)["exact"]
    assert cells(output, "unicode61")["zh1-6 R/P"] != "100/100"
    assert "100/100" not in (cells(output, "before")["alias"], cells(output, "before")["trad"])  # what the old index missed
    assert "paging in the site's default order" in output
    for trouble in ("DISAGREEMENT", "mismatches", "answered with an error", "differs from"):
        assert trouble not in output
    assert (data / "results" / f"search-{SIZE}.json").is_file()


def test_build_bench_reports_every_step(data: Path) -> None:
    output = succeeded("bench.build_bench", "--sizes", str(SIZE), "--smoke", "--no-peer", "--data", str(data))

    for label in ("lower bound: read + YAML + Markdown", "full build: build.py --full", "build(full=True) in-process",
                  "peak memory, full build", "database size", "incremental: none", "incremental: change", "incremental: add",
                  "incremental: delete", "incremental: rename", "incremental: restore (4 files)",
                  "page /cases/cases.json (default facets)", "page 2: /cases/cases.json?_next=… (facets)",
                  "page /statistics", "search + facets: all 7 queries", "search, _nofacet=1: all 7 queries"):
        assert re.search(f"^ *{re.escape(label)}", output, re.MULTILINE), label
    assert f"{SIZE} rows, rows ok" in output
    assert "facet counts equal page 1's" in output
    for trouble in ("NOT INCREMENTAL", "UNEXPECTED", "FACETS MISSING", "DIFFER", "HTTP", "markdown-to-sqlite ("):
        assert trouble not in output
    assert (data / "results" / f"build-{SIZE}.json").is_file()


def test_compare_tells_equal_builds_from_different_ones(data: Path, tmp_path: Path) -> None:
    cases = common.corpus(SIZE, 1, data)
    for name in ("a.db", "b.db"):
        subprocess.run([sys.executable, "build.py", "--cases", str(cases), "--db", str(tmp_path / name), "--full"],
                       cwd=REPO, check=True, capture_output=True)

    assert "equal: " in succeeded("bench.compare", str(tmp_path / "a.db"), str(tmp_path / "b.db"))

    shutil.copyfile(tmp_path / "a.db", tmp_path / "c.db")
    conn = sqlite3.connect(tmp_path / "c.db")
    with conn:
        conn.execute("update case_texts set facts = facts || '。' where rowid = 1")
    conn.close()
    changed = run("bench.compare", str(tmp_path / "a.db"), str(tmp_path / "c.db"))
    assert changed.returncode == 1
    assert re.search(rf"^case_texts: {SIZE} / {SIZE} rows, 2 differ$", changed.stdout, re.MULTILINE)
    assert changed.stdout.splitlines()[-1].startswith("differ: ")


def test_load_bench_serves_staff_refuses_the_abuse_and_follows_a_rebuild(data: Path) -> None:
    output = succeeded("bench.load", "--sizes", str(SIZE), "--users", "4", "--closed", "2", "--smoke", "--data", str(data))
    assert f"== {SIZE} cases (seed 1);" in output
    for run_name in ("4 staff, just started", "4 staff", "4 staff + abuse", "4 staff + rebuild", "now: 2 clients"):
        assert re.search(f"^{re.escape(run_name)} ", output, re.MULTILINE), run_name
    assert re.search(r"abusive SQL\s+\d+.*\b0 not refused", output)
    assert 2 == len(re.findall(r"rebuild \d: built in [\d.]+ s \(updated .*1 changed.*\), visible [\d.]+ s after it started", output))
    errors = [re.split(r"\s{2,}", line.strip())[7] for line in output.splitlines() if re.match(r"^\S.* staff.*\ball\b", line)]
    assert errors and all(count == "0" for count in errors), output


def test_export_bench_writes_every_case_with_each_writer(data: Path) -> None:
    output = succeeded("bench", "export", "--smoke", "--data", str(data))

    rows = {line.split()[1]: line.split() for line in output.splitlines()[2:]}
    assert ["xlsx", "(openpyxl)", "xlsx", "csv", "/cases/cases.xlsx", "/cases/cases.csvx"] == [
        word for line in output.splitlines()[2:] for word in line.split()[1:3] if not word[0].isdigit()
    ]
    assert {"50"} == {row[2] for row in rows.values()}  # every case, by every writer
    assert (data / "results" / "export.json").is_file()


def test_judged_ranks_the_twenty_queries(tmp_path: Path) -> None:
    out = succeeded("bench.judged", "--data", str(tmp_path))
    rows = [line for line in out.splitlines() if line.split() and line.split()[0] in ("mean", "受贿", "双开")]
    assert 3 == len(rows)
    assert (tmp_path / "results" / "judged.json").is_file()
