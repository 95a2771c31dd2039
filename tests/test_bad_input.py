"""Bad input: every problem in tests/bad_cases/ and tests/bad_packs/ is named
path:line, all of them in one run.

tests/bad_cases/expected.txt is the whole of what ``build.py --cases
tests/bad_cases --packs tests/bad_packs`` prints to stderr when run from the
repository root. A new bad file needs its lines there (and the counts in the
last line). Files whose names are almost a case file's (x.MD, "x.md ", a
folder y.md) are named as warnings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from caselib.errors import InvalidInput
from caselib.parse import parse_case
from caselib.pipeline import build
from caselib.source import read_source

from conftest import REPO, case_text

BAD_CASES = REPO / "tests" / "bad_cases"
BAD_PACKS = REPO / "tests" / "bad_packs"
BAD_CASES_ARG = "tests/bad_cases"  # as build.py is given it, from the repository root
BAD_ARGS = ["--cases", BAD_CASES_ARG, "--packs", "tests/bad_packs"]
EXPECTED = (BAD_CASES / "expected.txt").read_text(encoding="utf-8").splitlines()
BAD_FILES = sorted(p.relative_to(BAD_CASES).as_posix() for p in BAD_CASES.rglob("*.md") if p.is_file())
NEAR_MISSES = ["x.MD", "x.markdown", "x.md ", "y.md"]  # named as warnings, not read
CROSS_FILE_MESSAGES = ("duplicate case id", "no case has the id")  # found only across the whole tree


def run_build(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "build.py", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_the_corpus_has_at_least_28_bad_files_each_named_in_expected():
    named = {line.split(":", 1)[0] for line in EXPECTED[:-1]}
    packs = {f"tests/bad_packs/{p.name}" for p in BAD_PACKS.glob("*.yml")}
    assert len(BAD_FILES) >= 28
    assert {f"{BAD_CASES_ARG}/{name}" for name in [*BAD_FILES, *NEAR_MISSES]} | packs == named


@pytest.mark.parametrize("mode", [["--check"], ["--db", "{tmp}/cases.db"]], ids=["check", "build"])
def test_every_bad_file_is_reported_in_one_run(tmp_path, mode):
    args = [a.replace("{tmp}", str(tmp_path)) for a in mode]
    result = run_build(*BAD_ARGS, *args)
    assert (1, EXPECTED) == (result.returncode, result.stderr.splitlines())
    assert "Traceback" not in result.stdout + result.stderr
    assert [] == list(tmp_path.iterdir())


def test_a_failing_build_leaves_the_published_database_byte_for_byte(tmp_path, cases):
    cases.write("good.md", case_text())
    published = tmp_path / "site" / "cases.db"
    build(cases.root, published, jobs=1)
    before = published.read_bytes()
    result = run_build(*BAD_ARGS, "--db", str(published))
    assert (1, EXPECTED) == (result.returncode, result.stderr.splitlines())
    assert before == published.read_bytes()
    assert ["cases-public.db", "cases.db"] == sorted(p.name for p in published.parent.iterdir())


@pytest.mark.parametrize("name", BAD_FILES)
def test_each_bad_file_alone(name):
    """Parsed on its own, a file shows its own problems: all but the cross-file ones."""
    display = f"{BAD_CASES_ARG}/{name}"
    expected = [
        line for line in EXPECTED if line.startswith(f"{display}:") and not any(m in line for m in CROSS_FILE_MESSAGES)
    ]
    try:
        parse_case(read_source(BAD_CASES / name, display))
        actual = []
    except InvalidInput as err:
        actual = [str(p) for p in err.problems]
    assert expected == actual


def test_binary_corpus_files_are_kept_byte_for_byte():
    """The files that are bad on purpose at the byte level still are."""
    assert b"\r\n" in (BAD_CASES / "crlf-unknown-value.md").read_bytes()
    assert b"\x00" in (BAD_CASES / "nul-byte.md").read_bytes()
    assert (BAD_CASES / "utf-16.md").read_bytes().startswith(b"\xff\xfe")
    for name in ("not-utf8-gbk.md", "lone-surrogate.md"):
        with pytest.raises(UnicodeDecodeError):
            (BAD_CASES / name).read_bytes().decode("utf-8")
