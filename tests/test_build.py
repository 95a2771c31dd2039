"""build.py end to end: exit codes, what is written, and what is never lost."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from caselib.errors import InvalidInput
from caselib.pipeline import build

from conftest import rows, REPO, case_text


def run_build(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_build_writes_normalised_case(cases, tmp_path):
    cases.write(
        "2019/lawyer-dinner.md",
        case_text(
            violations="[违规接受宴请, 收受贿赂]",
            extra="sanctions: [双开, 移送检察机关依法审查起诉]\nform: 4\nrank: 副处级\npersonnel: judge\namount: 12.6万\n"
            "disciplines: [廉洁纪律]\nregion: 安徽省合肥市\ntags: [律师]\nrelated: [other]\n",
        ),
    )
    cases.write("2020/other.md", case_text(title="Other", date="2020-05", violations="[gambling]"))
    result = run_build("--cases", "cases", "--db", "out/library.db", cwd=tmp_path)
    assert 0 == result.returncode, result.stderr
    assert "built out/library.db with 2 cases" in result.stderr
    db = tmp_path / "out" / "library.db"
    assert [
        (
            "lawyer-dinner",
            "2019-11-12",
            2019,
            '["违规吃喝", "受贿"]',
            '["开除党籍", "开除公职", "移送审查起诉"]',
            "第四种形态",
            "县处级",
            "法官",
            126000,
            '["廉洁纪律"]',
            '["律师"]',
            "zh",
            "cases/2019/lawyer-dinner.md",
        ),
        ("other", "2020-05", 2020, '["赌博"]', "[]", None, None, None, None, "[]", "[]", "zh", "cases/2020/other.md"),
    ] == rows(
        db,
        "select id, date, year, violations, sanctions, form, rank, personnel, amount, disciplines, tags, lang, path "
        "from cases order by id",
    )
    assert [("lawyer-dinner", "dining"), ("lawyer-dinner", "bribe-taking"), ("other", "gambling")] == rows(
        db, "select case_id, violation_code from case_violations order by case_id, position"
    )
    assert [("lawyer-dinner", "other")] == rows(db, "select case_id, related_id from related")
    written = json.loads(rows(db, "select as_written from cases where id = 'lawyer-dinner'")[0][0])
    assert {"sanctions": ["双开", "移送检察机关依法审查起诉"], "violations": ["违规接受宴请", "收受贿赂"], "form": "4", "rank": "副处级", "personnel": "judge"} == written


def test_indexes_on_faceted_columns(cases, tmp_path):
    cases.write("a.md", case_text())
    build(cases.root, tmp_path / "cases.db")
    indexed = {r[0] for r in rows(tmp_path / "cases.db", "select il.name from pragma_index_list('cases') l, pragma_index_info(l.name) il")}
    assert {"year", "date", "form", "rank", "personnel", "province"} <= indexed


def test_check_writes_nothing(cases, tmp_path):
    cases.write("a.md", case_text())
    result = run_build("--check", cwd=tmp_path)
    assert (0, "1 cases are valid") == (result.returncode, result.stderr.split(" (")[0])
    assert not (tmp_path / "cases.db").exists()


def test_bad_cases_exit_1_with_every_problem_and_keep_the_old_database(cases, tmp_path):
    cases.write("good.md", case_text())
    assert 0 == run_build(cwd=tmp_path).returncode
    before = (tmp_path / "cases.db").read_bytes()
    cases.write("2020/bad-one.md", case_text(violations="[违规吃喝喝]"))
    cases.write("bad-two.md", case_text(date="2021-13-45"))
    result = run_build(cwd=tmp_path)
    assert 1 == result.returncode
    assert [
        'cases/2020/bad-one.md:4: violations: unknown value "违规吃喝喝" — did you mean "违规吃喝"?',
        'cases/bad-two.md:3: date: "2021-13-45" is not a real date (month must be in 1..12)',
        "2 problem(s) in 2 file(s); nothing was written.",
    ] == result.stderr.splitlines()
    assert before == (tmp_path / "cases.db").read_bytes()
    assert [] == [p.name for p in tmp_path.iterdir() if ".building-" in p.name]


def test_duplicate_ids_name_both_files_and_related_must_exist(cases, tmp_path):
    cases.write("2019/same.md", case_text())
    cases.write("2020/same.md", case_text(extra="related: [missing-case]\n"))
    with pytest.raises(InvalidInput) as info:
        build(cases.root, None)
    root = str(cases.root.relative_to(Path.cwd())) if cases.root.is_relative_to(Path.cwd()) else str(cases.root)
    assert [
        f'{root}/2019/same.md:1: id: duplicate case id "same": {root}/2020/same.md has the same file name',
        f'{root}/2020/same.md:1: id: duplicate case id "same": {root}/2019/same.md has the same file name',
        f'{root}/2020/same.md:5: related: no case has the id "missing-case"',
    ] == [str(p) for p in info.value.problems]


def test_templates_and_hidden_files_are_not_cases(cases, tmp_path):
    cases.write("_template.md", "not a case")
    cases.write(".draft.md", "not a case")
    cases.write(".git/x.md", "not a case")
    cases.write("notes.txt", "not a case")
    cases.write("real.md", case_text())
    assert 1 == build(cases.root, tmp_path / "cases.db").cases


@pytest.mark.parametrize(
    "args,message",
    [
        (["--cases", "nowhere"], "build.py: error: cases folder not found: nowhere"),
        (["--bogus"], "build.py: error: unrecognized arguments: --bogus"),
        (["--check", "--serve"], "build.py: error: --check and --serve cannot be used together"),
        (["--port", "9000"], "build.py: error: --port only applies with --serve"),
        (["--no-watch"], "build.py: error: --no-watch only applies with --serve"),
        (["--check", "--watch"], "build.py: error: --check and --watch cannot be used together"),
    ],
)
def test_bad_usage_exits_2(tmp_path, args, message):
    result = run_build(*args, cwd=tmp_path)
    assert (2, message) == (result.returncode, result.stderr.strip().splitlines()[-1])


def test_help_describes_the_command(tmp_path):
    result = run_build("--help", cwd=tmp_path)
    assert 0 == result.returncode
    for option in ("--cases DIR", "--db FILE", "--check", "--serve", "--port PORT"):
        assert option in result.stdout


def test_rebuild_is_idempotent(cases, tmp_path):
    cases.write("a.md", case_text())
    cases.write("b.md", case_text(title="Second", violations="[受贿]"))
    db = tmp_path / "cases.db"
    build(cases.root, db)
    first = rows(db, "select * from cases order by id")
    build(cases.root, db)
    assert first == rows(db, "select * from cases order by id")
