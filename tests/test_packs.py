"""Training packs: validated like cases, shown in teaching order, exported."""

import csv
import io
import re
import subprocess
import sys

import pytest

from caselib.errors import InvalidInput
from caselib.packs import parse_pack
from caselib.pipeline import build

from conftest import REPO, Site, case_text

PACK = """\
title: 严守“三个规定”专题
audience: 全院检察干警
date: 2025-06-18
description: 以案为鉴。
cases:
  - id: second
    note: 先讲这个
    questions:
      - 如果是你，会怎样拒绝？
      - 为什么要记录报告？
  - first
"""


def parse(text: str, pack_id: str = "a-pack"):
    return parse_pack(text.encode("utf-8"), f"packs/{pack_id}.yml", pack_id)


def problems(text: str, pack_id: str = "a-pack") -> list[str]:
    with pytest.raises(InvalidInput) as info:
        parse(text, pack_id)
    return [str(p) for p in info.value.problems]


def test_good_pack():
    pack = parse(PACK)
    assert ("严守“三个规定”专题", "2025-06-18", [("second", "先讲这个", 6), ("first", None, 11)]) == (
        pack.title,
        pack.date,
        [(c.id, c.note, c.line) for c in pack.cases],
    )
    assert [["如果是你，会怎样拒绝？", "为什么要记录报告？"], []] == [c.questions for c in pack.cases]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("title: x\n", ["packs/a-pack.yml:1: cases: is required but missing"]),
        ("title: x\ncases: []\n", ["packs/a-pack.yml:2: cases: is required and must not be empty"]),
        ("title: x\ntitel: y\ncases: [a]\n", ['packs/a-pack.yml:2: titel: unknown key — did you mean "title"?']),
        ("title: x\ncases: [a, a]\n", ['packs/a-pack.yml:2: cases: "a" is listed twice (first on line 2)']),
        ("title: x\ncases:\n  - Bad_Id\n", ['packs/a-pack.yml:3: cases: "Bad_Id" is not a case id (lower-case letters, digits and -, as in the file name without .md)']),
        ("title: x\ndate: 2025-13-01\ncases: [a]\n", ['packs/a-pack.yml:2: date: "2025-13-01" is not a real date (month must be in 1..12)']),
        ("title: x\ncases:\n  - id: a\n    notes: y\n", ['packs/a-pack.yml:4: cases.notes: unknown key — did you mean "note"?']),
        ("title: x\ncases:\n  - id: a\n    question: y\n", ['packs/a-pack.yml:4: cases.question: unknown key — did you mean "questions"?']),
        ("title: x\ncases:\n  - id: a\n    questions:\n      k: v\n", ["packs/a-pack.yml:5: cases.questions: expected a value or a list, not a mapping"]),
        (
            "title: x\ncases:\n  - id: a\n    questions:\n      - 问题\n      - [x]\n",
            ["packs/a-pack.yml:6: cases.questions: list items must be plain values, not lists or mappings"],
        ),
        ("title: [x\n", ["packs/a-pack.yml:2: YAML syntax error: while parsing a flow sequence started on line 1, did not find expected ',' or ']'"]),
        ('title: ""\ncases: [a]\n', ["packs/a-pack.yml:1: title: is required and must not be empty"]),
        ("title: x\ncases: [a]\ntitle: y\n", ["packs/a-pack.yml:3: title: duplicate key (first given on line 1)"]),
    ],
)
def test_bad_pack(text, expected):
    assert expected == problems(text)


@pytest.fixture
def library(tmp_path, cases):
    cases.write("first.md", case_text(title="第一个案例", violations="[受贿]"))
    cases.write("second.md", case_text(title="第二个案例", violations="[违规吃喝]", date="2020-01-01"))
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "session-one.yml").write_text(PACK, encoding="utf-8")
    return cases, packs


def test_unknown_case_id_fails_the_build_with_file_and_line(library, tmp_path):
    cases, packs = library
    (packs / "broken.yml").write_text("title: x\ncases:\n  - first\n  - missing-case\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--cases", "cases", "--db", "cases.db"], cwd=tmp_path, capture_output=True, text=True
    )
    assert (1, ['packs/broken.yml:4: cases: no case has the id "missing-case"', "1 problem(s) in 1 file(s); nothing was written."]) == (
        result.returncode,
        result.stderr.splitlines(),
    )
    assert not (tmp_path / "cases.db").exists()


def test_deleting_a_case_a_pack_uses_is_an_error(library, tmp_path):
    cases, packs = library
    build(cases.root, tmp_path / "cases.db", packs_dir=packs)
    (cases.root / "first.md").unlink()
    with pytest.raises(InvalidInput) as info:
        build(cases.root, tmp_path / "cases.db", packs_dir=packs)
    assert ['no case has the id "first"'] == [p.message for p in info.value.problems]


def test_pack_page_in_teaching_order_with_notes_and_export(library, tmp_path):
    cases, packs = library
    build(cases.root, tmp_path / "cases.db", packs_dir=packs)
    site = Site(tmp_path / "cases.db")
    try:
        page = site.get("/packs/session-one").text
        listing = site.get("/packs").text
        exported = site.get("/cases/pack_cases_export.csv?pack=session-one&_size=max").text
        handout = site.get("/packs/session-one?full=1").text
        missing = site.get("/packs/no-such-pack").status_code
    finally:
        site.close()
    assert ["second", "first"] == [m for m in __import__("re").findall(r'<h2><a href="/cases/cases/([\w-]+)">', page)]
    assert '<p class="pack-note">教学提示：先讲这个</p>' in page
    assert '<a href="/packs/session-one">严守“三个规定”专题</a>' in listing
    assert [("1", "second", "先讲这个"), ("2", "first", "")] == [
        (r["顺序"], r["案例编号"], r["教学提示"]) for r in csv.DictReader(io.StringIO(exported))
    ]
    assert '<h2 id="section-facts">基本案情</h2>' in handout
    assert 404 == missing


def test_changing_only_a_pack_updates_the_database(library, tmp_path):
    cases, packs = library
    db = tmp_path / "cases.db"
    build(cases.root, db, packs_dir=packs)
    (packs / "session-one.yml").write_text(PACK.replace("先讲这个", "改了提示"), encoding="utf-8")
    report = build(cases.root, db, packs_dir=packs)
    import sqlite3

    assert (True, [("改了提示",)]) == (report.written, sqlite3.connect(db).execute("select note from pack_cases where case_id = 'second'").fetchall())


def test_shipped_packs_build_with_shipped_cases(tmp_path):
    report = build(REPO / "cases", tmp_path / "cases.db", packs_dir=REPO / "packs")
    assert report.packs >= 2


def test_the_database_names_a_pack_file_by_its_place_in_the_packs_folder(tmp_path):
    db = tmp_path / "cases.db"
    build(REPO / "cases", db, packs_dir=(REPO / "packs").resolve())
    import sqlite3

    paths = {row[0] for row in sqlite3.connect(db).execute("select path from packs")}
    assert {p.relative_to(REPO / "packs").as_posix() for p in (REPO / "packs").rglob("*.yml")} == paths


VERSIONS = [
    ("/packs/session-one", True, False),
    ("/packs/session-one?full=1", True, True),
    ("/packs/session-one?participants=1", False, False),
    ("/packs/session-one?participants=1&full=1", False, True),
]


@pytest.mark.parametrize("path,with_notes,full", VERSIONS)
def test_the_participants_version_leaves_the_teaching_notes_out_and_keeps_the_questions(library, tmp_path, path, with_notes, full):
    cases, packs = library
    build(cases.root, tmp_path / "cases.db", packs_dir=packs)
    site = Site(tmp_path / "cases.db")
    try:
        page = site.get(path).text
    finally:
        site.close()
    assert (with_notes, with_notes) == ("先讲这个" in page, '<p class="pack-note">教学提示：' in page)
    assert '<ol><li>如果是你，会怎样拒绝？</li><li>为什么要记录报告？</li></ol>' in page
    assert (full, full) == ('<h2 id="section-facts">基本案情</h2>' in page, '<h2 id="section-outcome">处理结果</h2>' in page)
    links = [
        '<a href="/packs/session-one?full=1">讲义视图</a>',
        '<a href="/packs/session-one.docx">下载 Word（培训用，含教学提示）</a>',
        '<a href="/packs/session-one?participants=1&amp;full=1">学员版讲义</a>',
        '<a href="/packs/session-one.docx?participants=1">下载 Word（学员版，不含教学提示）</a>',
    ]
    assert [True] * 4 == [link in page for link in links]
    assert ("培训用（含教学提示）" if with_notes else "学员版（不含教学提示）") in re.search(r'<dd class="pack-edition">(.*?)</dd>', page).group(1)
