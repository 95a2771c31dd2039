"""Public and internal cases: visibility is parsed like every field, and the
public edition holds nothing of an internal case, not even in its bytes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from caselib.errors import InvalidInput
from caselib.parse import parse_case
from caselib.pipeline import build
from caselib.public import public_path_for
from caselib.source import source_from_bytes

from conftest import REPO, case_text, rows

SECRET_TITLE = "某县检察院书记员违规打探案情案"
SECRET_PHRASE = "眭某某内部通报专用语句"


def parse(extra: str):
    return parse_case(source_from_bytes(case_text(extra=extra).encode(), "cases/a-case.md", "a-case"))


@pytest.mark.parametrize(
    "written,expected",
    [("", None), ("visibility: public\n", "public"), ("visibility: 公开\n", "public"), ("visibility: internal\n", "internal"),
     ("visibility: 内部\n", "internal"), ("visibility: Internal\n", "internal"), ("visibility: 内部通报\n", "internal")],
)
def test_visibility_is_read_like_every_vocabulary_field(written, expected):
    assert expected == parse(written).values.get("visibility")


@pytest.mark.parametrize(
    "written,message",
    [
        ("visibility: 保密\n", 'cases/a-case.md:5: visibility: unknown value "保密" — use one of 公开、内部'),
        ("visibility: [内部, 公开]\n", "cases/a-case.md:5: visibility: expected one value, not a list"),
    ],
)
def test_a_bad_visibility_is_named_at_its_line(written, message):
    with pytest.raises(InvalidInput) as raised:
        parse(written)
    assert [message] == [str(p) for p in raised.value.problems]


@pytest.fixture
def library(cases, tmp_path):
    """Two public cases (one relating to the internal one), the internal case, and a pack of each kind."""
    cases.write("2020/open-one.md", case_text(title="公开的第一个案例", extra="related: [secret-case]\n"))
    cases.write("2021/open-two.md", case_text(title="公开的第二个案例", date="2021-01-01"))
    cases.write(
        "2022/secret-case.md",
        case_text(title=SECRET_TITLE, date="2022-02-02", extra="visibility: 内部\nunit: 某县人民检察院\ntags: [内部通报]\n",
                  body=f"## 基本案情\n\n{SECRET_PHRASE}，违规查询案件信息。\n\n## 处理结果\n\n政务记过。\n"),
    )
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "open-pack.yml").write_text("title: 公开的专题\ncases: [open-one, open-two]\n", encoding="utf-8")
    (packs / "inner-pack.yml").write_text("title: 内部专题\ncases: [open-one, secret-case]\n", encoding="utf-8")
    return cases, packs


def traces(path: Path) -> list[str]:
    """What of the internal case is in a file's bytes (and its journal's, if any)."""
    data = b"".join(p.read_bytes() for p in [path, *path.parent.glob(path.name + "-*")] if p.is_file())
    needles = ["secret-case", SECRET_TITLE, SECRET_PHRASE, "内部专题", "inner-pack"]
    return [needle for needle in needles if needle.encode() in data]


def test_every_build_writes_a_public_edition_without_the_internal_case(library, tmp_path):
    cases, packs = library
    db = tmp_path / "site" / "cases.db"
    report = build(cases.root, db, packs_dir=packs, jobs=1)
    public = public_path_for(db)
    assert (3, 1) == (report.cases, report.internal)
    assert [("open-one",), ("open-two",), ("secret-case",)] == rows(db, "select id from cases order by id")
    assert [("内部",)] == rows(db, "select visibility from cases where id = 'secret-case'")
    assert [("open-one",), ("open-two",)] == rows(public, "select id from cases order by id")
    assert [] == rows(public, "select * from related")  # the link to the internal case is left out, not an error
    assert [("open-pack",)] == rows(public, "select id from packs")
    assert [("2",)] == rows(public, "select value from _build where key = 'cases'")
    assert [] == traces(public)
    assert {"secret-case", SECRET_TITLE, SECRET_PHRASE} <= set(traces(db))


def test_a_public_build_is_fresh_and_has_no_trace_of_an_internal_case(library, tmp_path):
    cases, packs = library
    db = tmp_path / "www" / "public.db"
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--cases", str(cases.root), "--packs", str(packs), "--public", "--db", str(db)],
        capture_output=True, text=True, timeout=120,
    )
    assert 0 == result.returncode, result.stderr
    assert "built" in result.stderr and "2 cases" in result.stderr
    assert ["public.db"] == sorted(p.name for p in db.parent.iterdir())
    assert [] == traces(db)
    assert [("open-one",), ("open-two",)] == rows(db, "select id from cases order by id")


def test_a_case_made_internal_leaves_the_public_edition_without_a_trace(cases, tmp_path):
    cases.write("2020/open-one.md", case_text(title="公开的第一个案例"))
    secret = case_text(title=SECRET_TITLE, body=f"## 基本案情\n\n{SECRET_PHRASE}。\n")
    cases.write("2022/secret-case.md", secret)
    db = tmp_path / "cases.db"
    build(cases.root, db, jobs=1)
    public = public_path_for(db)
    assert {"secret-case", SECRET_TITLE, SECRET_PHRASE} <= set(traces(public))  # public, for now
    cases.write("2022/secret-case.md", secret.replace("violations:", "visibility: internal\nviolations:"))
    report = build(cases.root, db, jobs=1)
    assert report.incremental and report.written
    assert [("open-one",)] == rows(public, "select id from cases")
    assert [] == rows(public, "select rowid from cases_fts where cases_fts match '\"内部\" \"通报\"'")
    assert [] == traces(public)
    assert [("ok",)] == rows(public, "pragma integrity_check")


def test_an_internal_case_made_public_joins_the_edition_with_its_links(library, tmp_path):
    cases, packs = library
    db = tmp_path / "cases.db"
    build(cases.root, db, packs_dir=packs, jobs=1)
    path = cases.root / "2022" / "secret-case.md"
    path.write_text(path.read_text(encoding="utf-8").replace("visibility: 内部\n", ""), encoding="utf-8")
    build(cases.root, db, packs_dir=packs, jobs=1)
    public = public_path_for(db)
    assert [("open-one", "secret-case")] == rows(public, "select case_id, related_id from related")
    assert [("inner-pack",), ("open-pack",)] == rows(public, "select id from packs order by id")


def test_a_full_and_an_incremental_build_write_the_same_public_edition(library, tmp_path):
    cases, packs = library
    incremental, fresh = tmp_path / "a" / "cases.db", tmp_path / "b" / "cases.db"
    build(cases.root, incremental, packs_dir=packs, jobs=1)
    cases.write("2021/open-three.md", case_text(title="后来加的公开案例", date="2021-06-01", extra="related: [open-two]\n"))
    (cases.root / "2021" / "open-two.md").write_text(case_text(title="改过的第二个案例", date="2021-01-01"), encoding="utf-8")
    build(cases.root, incremental, packs_dir=packs, jobs=1)
    build(cases.root, fresh, packs_dir=packs, jobs=1)
    tables = ["cases", "case_texts", "related", "similar", "packs", "pack_cases", "case_violations"]
    for table in tables:
        sql = f"select * from {table} order by 1, 2"
        assert rows(public_path_for(fresh), sql) == rows(public_path_for(incremental), sql), table
