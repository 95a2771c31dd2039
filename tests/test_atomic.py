"""An interrupted or failed build never harms the published database.

build.py runs as a real process on a corpus large enough to be caught while
it writes: a full build its temporary database (``.<name>.building-<pid>``
beside the target), an incremental build the published file in place, in one
transaction (its rollback journal ``<name>-journal`` shows it is under way).
It is then killed (SIGKILL) or interrupted (SIGINT, as Ctrl-C).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from caselib import pipeline
from caselib.errors import InvalidInput

from conftest import REPO, CasesFolder, case_text, interruptible

CORPUS_SIZE = 3000
OLD_CORPUS_SIZE = 5
POLL_SECONDS = 0.001
TIMEOUT = 60
EXIT_INTERRUPTED = 130


def write_corpus(folder: CasesFolder, count: int, prefix: str) -> Path:
    for n in range(count):
        year = 2013 + n % 12
        folder.write(
            f"{year}/{prefix}-{n:05d}.md",
            case_text(
                title=f"某局干部违规接受宴请案{n}",
                date=f"{year}-{1 + n % 9:02d}-{10 + n % 19}",
                body=f"## 基本案情\n\n张某{n}接受律师宴请，收受购物卡{n % 7 + 1}张。\n\n## 处理结果\n\n张某受到党内警告处分。\n",
            ),
        )
    return folder.root


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory) -> Path:
    return write_corpus(CasesFolder(tmp_path_factory.mktemp("big") / "cases"), CORPUS_SIZE, "case")


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A good database built from a different, small corpus."""
    old = write_corpus(CasesFolder(tmp_path / "old-cases"), OLD_CORPUS_SIZE, "old-case")
    db = tmp_path / "site" / "cases.db"
    result = run_build(old, db)
    assert 0 == result.returncode, result.stderr
    return db


def build_command(cases_dir: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, str(REPO / "build.py"), "--cases", str(cases_dir), "--db", str(db), *extra]


def run_build(cases_dir: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(build_command(cases_dir, db, *extra), capture_output=True, text=True, timeout=TIMEOUT)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def temp_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.glob(f".{db.name}.building-*"))


def writing(db: Path, temp: Path, full: bool, published_size: int) -> bool:
    """Whether the build is writing: a temporary database grown past the
    published one (full), or the published file's journal (incremental)."""
    if full:
        return temp.exists() and temp.stat().st_size > published_size
    journal = db.with_name(db.name + "-journal")
    return journal.exists() and journal.stat().st_size > 0


def interrupt_while_writing(cases_dir: Path, db: Path, sig: int, *extra: str) -> tuple[subprocess.Popen, Path, str]:
    """Start a build, wait until it is writing, send ``sig``; return the
    finished process, the temp path and its stderr."""
    published_size = db.stat().st_size
    process = subprocess.Popen(build_command(cases_dir, db, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=interruptible)
    temp = db.with_name(f".{db.name}.building-{process.pid}")
    deadline = time.monotonic() + TIMEOUT
    try:
        while not writing(db, temp, "--full" in extra, published_size):
            assert process.poll() is None, f"the build ended before it could be interrupted: {process.stderr.read()}"
            assert time.monotonic() < deadline, "the build never started writing"
            time.sleep(POLL_SECONDS)
        os.kill(process.pid, sig)
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process, temp, stderr


def recovered(db: Path, sql: str) -> list[tuple]:
    """A query on a connection that may write, so SQLite rolls back what a
    killed transaction left (as the next build's connection does)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_sigkill_mid_write_of_a_full_build_leaves_the_published_database_byte_for_byte(big_corpus, published):
    before = sha256(published)
    process, temp, _ = interrupt_while_writing(big_corpus, published, signal.SIGKILL, "--full")
    assert -signal.SIGKILL == process.returncode
    assert before == sha256(published)
    assert [("ok",)] == query(published, "pragma integrity_check")
    assert [(OLD_CORPUS_SIZE,)] == query(published, "select count(*) from cases")
    assert [temp.name] == temp_files(published)  # kill -9 cannot clean up

    result = run_build(big_corpus, published, "--full")
    assert 0 == result.returncode, result.stderr
    assert [] == temp_files(published)
    assert [(CORPUS_SIZE,)] == query(published, "select count(*) from cases")


def test_sigkill_mid_write_of_an_incremental_build_is_rolled_back(big_corpus, published):
    before = query(published, "select id, title from cases order by id")
    process, _, _ = interrupt_while_writing(big_corpus, published, signal.SIGKILL)
    assert -signal.SIGKILL == process.returncode
    assert before == query(published, "select id, title from cases order by id")  # as the site reads it
    assert before == recovered(published, "select id, title from cases order by id")
    assert [("ok",)] == recovered(published, "pragma integrity_check")

    result = run_build(big_corpus, published)
    assert 0 == result.returncode, result.stderr
    assert [(CORPUS_SIZE,)] == query(published, "select count(*) from cases")


def test_sigint_mid_write_exits_130_and_leaves_nothing_behind(big_corpus, published):
    before = sha256(published)
    process, _, stderr = interrupt_while_writing(big_corpus, published, signal.SIGINT)
    assert EXIT_INTERRUPTED == process.returncode, stderr
    assert "interrupted; the database was left as it was." in stderr
    assert before == sha256(published)
    assert [("ok",)] == query(published, "pragma integrity_check")
    assert [] == temp_files(published)


def test_invalid_case_fails_the_build_and_leaves_nothing_behind(tmp_path, published):
    """A full build stores cases while others are still being parsed; a bad
    file found late still leaves the published database as it was."""
    folder = CasesFolder(tmp_path / "bad-cases")
    write_corpus(folder, 600, "case")
    folder.write("2025/zz-bad.md", case_text(violations="[违规吃喝喝]"))
    before = sha256(published)
    result = run_build(folder.root, published, "--full")
    assert 1 == result.returncode, result.stderr
    assert "zz-bad.md:4: violations:" in result.stderr
    assert [] == temp_files(published)
    assert before == sha256(published)


def test_problems_found_after_cases_were_stored(tmp_path, published, monkeypatch):
    """A full build stores batches as they are parsed; a duplicate id and a bad
    file late in the tree still fail it with every problem, and nothing is left."""
    monkeypatch.setattr(pipeline, "WRITE_BATCH", 10)
    folder = CasesFolder(tmp_path / "late")
    write_corpus(folder, 60, "case")
    folder.write("2013/again/case-00001.md", case_text())
    folder.write("2025/zz-bad.md", case_text(violations="[违规吃喝喝]"))
    before = sha256(published)
    with pytest.raises(InvalidInput) as raised:
        pipeline.build(folder.root, published, full=True, jobs=1)
    found = {(Path(p.path).name, p.field) for p in raised.value.problems}
    assert {("case-00001.md", "id"), ("zz-bad.md", "violations")} == found
    assert [] == temp_files(published)
    assert before == sha256(published)
