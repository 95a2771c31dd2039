"""Incremental builds give exactly the database a full rebuild gives."""

import sqlite3
from pathlib import Path

import pytest

from caselib.errors import InvalidInput
from caselib.pipeline import build

from conftest import case_text

TABLES = ["cases", "case_texts", "case_violations", "case_sanctions", "related", "similar", "violation_types", "sanction_types"]


def content(db: Path) -> dict:
    """Every table's rows (without rowids) and the full-text index by case id."""
    conn = sqlite3.connect(db)
    try:
        tables = {t: sorted(conn.execute(f"select * from [{t}]").fetchall(), key=repr) for t in TABLES}
        conn.execute("create virtual table temp.vocab using fts5vocab(main, cases_fts, 'instance')")
        tables["fts"] = sorted(
            conn.execute("select v.term, c.id, v.col, v.offset from temp.vocab v join cases c on c.rowid = v.doc").fetchall()
        )
        tables["fts_rows"] = conn.execute("select count(*) from cases_fts").fetchone()
        return tables
    finally:
        conn.close()


def full_rebuild(folder: Path, tmp_path: Path) -> dict:
    reference = tmp_path / "reference" / "cases.db"
    build(folder, reference, full=True)
    return content(reference)


@pytest.fixture
def library(cases, tmp_path):
    for n in range(12):
        related = f"related: [case-{(n + 1) % 12:02d}]\n" if n % 3 == 0 else ""
        cases.write(
            f"{2014 + n % 4}/case-{n:02d}.md",
            case_text(title=f"案例{n} 收受贿赂", violations="[受贿, 违规吃喝]" if n % 2 else "[赌博]", extra=f"sanctions: [双开]\n{related}"),
        )
    db = tmp_path / "cases.db"
    report = build(cases.root, db)
    assert (12, False) == (report.cases, report.incremental)
    return cases, db


def test_nothing_changed_writes_nothing(library, tmp_path):
    cases, db = library
    before = db.stat().st_mtime_ns, db.read_bytes()
    report = build(cases.root, db)
    assert (True, False, 12) == (report.incremental, report.written, report.unchanged)
    assert before == (db.stat().st_mtime_ns, db.read_bytes())


def test_add(library, tmp_path):
    cases, db = library
    cases.write("2020/new-case.md", case_text(title="新增案例 购物卡", violations="[违规收送礼品礼金]", extra="related: [case-01]\n"))
    report = build(cases.root, db)
    assert (1, 0, 0, 12) == (report.added, report.changed, report.removed, report.unchanged)
    assert full_rebuild(cases.root, tmp_path) == content(db)


def test_change(library, tmp_path):
    cases, db = library
    cases.write("2015/case-01.md", case_text(title="改写后的标题 滥用职权", violations="[滥用职权]", extra="sanctions: [党内警告]\n"))
    report = build(cases.root, db)
    assert (0, 1, 0, 11) == (report.added, report.changed, report.removed, report.unchanged)
    assert full_rebuild(cases.root, tmp_path) == content(db)


def test_rename(library, tmp_path):
    cases, db = library
    (cases.root / "2015/case-05.md").rename(cases.root / "2015/case-05-renamed.md")
    report = build(cases.root, db)
    assert (1, 0, 1, 11) == (report.added, report.changed, report.removed, report.unchanged)
    assert full_rebuild(cases.root, tmp_path) == content(db)


def test_move_to_another_folder_keeps_the_id(library, tmp_path):
    cases, db = library
    (cases.root / "2025").mkdir()
    (cases.root / "2015/case-05.md").rename(cases.root / "2025/case-05.md")
    report = build(cases.root, db)
    assert (0, 1, 0, 11) == (report.added, report.changed, report.removed, report.unchanged)
    assert full_rebuild(cases.root, tmp_path) == content(db)


def test_delete(library, tmp_path):
    cases, db = library
    (cases.root / "2016/case-02.md").unlink()
    report = build(cases.root, db)
    assert (0, 0, 1, 11) == (report.added, report.changed, report.removed, report.unchanged)
    assert full_rebuild(cases.root, tmp_path) == content(db)


def test_deleting_a_related_target_is_reported_at_the_unchanged_file(library):
    cases, db = library
    before = db.read_bytes()
    (cases.root / "2015/case-01.md").unlink()  # case-00 (unchanged) relates to it
    with pytest.raises(InvalidInput) as info:
        build(cases.root, db)
    assert [(str(cases.root / "2014/case-00.md"), 6, "related", 'no case has the id "case-01"')] == [
        (p.path if Path(p.path).is_absolute() else str(Path.cwd() / p.path), p.line, p.field, p.message) for p in info.value.problems
    ]
    assert before == db.read_bytes()


def test_search_after_incremental_change(library, make_site, tmp_path):
    cases, db = library
    cases.write("2015/case-01.md", case_text(title="改写 挪用公款", violations="[挪用公款]"))
    build(cases.root, db)
    from conftest import Site

    site = Site(db)
    try:
        ids = [r["id"] for r in site.json("/cases/cases.json?_search=挪用&_shape=objects")["rows"]]
        old = [r["id"] for r in site.json("/cases/cases.json?_search=滥用&_shape=objects")["rows"]]
    finally:
        site.close()
    assert (["case-01"], []) == (ids, old)


def test_full_flag_rebuilds_everything(library):
    cases, db = library
    report = build(cases.root, db, full=True)
    assert (False, 12, 0) == (report.incremental, report.added, report.unchanged)


def test_related_cases_after_changes_in_a_larger_library(cases, tmp_path):
    """Only cases near a change are recomputed; the result must equal a full rebuild."""
    import random

    rng = random.Random(5)
    labels = ["受贿", "违规吃喝", "赌博", "贪污", "违规收送礼品礼金", "过问干预插手案件"]
    words = ["收受", "购物卡", "宴请", "律师", "公车", "月饼", "干预", "案件", "礼金"]
    for n in range(90):
        chosen = rng.sample(labels, rng.randint(1, 2))
        title = "".join(rng.sample(words, 3)) + f"案{n}"
        cases.write(f"{2013 + n % 12}/c-{n:03d}.md", case_text(title=title, date=f"{2013 + n % 12}-0{1 + n % 9}", violations="[" + ", ".join(chosen) + "]"))
    db = tmp_path / "cases.db"
    build(cases.root, db)
    cases.write(f"{2013 + 10 % 12}/c-010.md", case_text(title="改写 受贿 购物卡", date="2019-05", violations="[受贿]"))
    (cases.root / f"{2013 + 33 % 12}/c-033.md").unlink()
    cases.write("2020/c-new.md", case_text(title="新增 宴请 律师", date="2020-03", violations="[违规吃喝, 赌博]"))
    report = build(cases.root, db)
    assert (1, 1, 1) == (report.added, report.changed, report.removed)
    assert full_rebuild(cases.root, tmp_path) == content(db)


def test_the_working_folder_does_not_matter(library, tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    cases, db = library
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--cases", ".", "--db", str(db)], cwd=cases.root, capture_output=True, text=True
    )
    assert (0, f"{db} is up to date: 12 cases, none changed") == (result.returncode, result.stderr.split(" (")[0])
    conn = sqlite3.connect(db)
    assert ("cases/2014/case-00.md",) == conn.execute("select path from cases where id = 'case-00'").fetchone()
    conn.close()


def test_many_unchanged_files_are_checked_on_threads(cases, tmp_path):
    """At 400 files or more with few to parse, the files are hashed on threads."""
    for n in range(420):
        cases.write(f"{2014 + n % 10}/bulk-{n:03d}.md", case_text(title=f"批量案例{n}", violations="[受贿]" if n % 2 else "[赌博]"))
    db = tmp_path / "cases.db"
    build(cases.root, db, jobs=2)
    cases.write("2016/bulk-002.md", case_text(title="改写 违规吃喝", violations="[违规吃喝]"))
    (cases.root / "2017/bulk-003.md").unlink()
    report = build(cases.root, db, jobs=2)
    assert (0, 1, 1, 418) == (report.added, report.changed, report.removed, report.unchanged)
    assert full_rebuild(cases.root, tmp_path) == content(db)
