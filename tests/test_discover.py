"""Finding the case files: what is read, and what is named because it is not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
import sys

from caselib.discover import discover

from conftest import REPO, case_text, rows


def run_build(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "build.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_links_are_read_only_inside_the_cases_folder(tmp_path, cases):
    cases.write("good.md", case_text())
    cases.write("drafts/inside.md", case_text(title="被链接的案例"))
    outside = tmp_path / "outside.md"
    outside.write_text(case_text(title="不应发布的外部文件"), encoding="utf-8")
    os.symlink(cases.root / "drafts" / "inside.md", cases.root / "linked-inside.md")
    os.symlink("/etc/passwd", cases.root / "passwd.md")
    os.symlink(outside, cases.root / "outside.md")
    os.symlink(cases.root / "missing-target.md", cases.root / "broken.md")
    os.symlink(cases.root / "loop-b.md", cases.root / "loop-a.md")
    os.symlink(cases.root / "loop-a.md", cases.root / "loop-b.md")
    os.symlink("/dev/null", cases.root / "device.md")
    os.symlink(tmp_path, cases.root / "linked-folder")
    os.mkfifo(cases.root / "pipe.md")

    result = run_build("--cases", "cases", "--db", "cases.db", cwd=tmp_path)

    assert (1, [
        'cases/broken.md:1: broken symbolic link: its target "' + str(cases.root / "missing-target.md") + '" does not exist',
        'cases/device.md:1: symbolic link to "/dev/null", which is not a regular file: not read',
        "cases/linked-folder:1: symbolic link to a folder: not followed; move the cases into the cases folder instead",
        "cases/loop-a.md:1: symbolic link loop: the link leads back to itself",
        "cases/loop-b.md:1: symbolic link loop: the link leads back to itself",
        f'cases/outside.md:1: symbolic link to "{outside}", outside the cases folder: not read; copy the file into the cases folder instead',
        'cases/passwd.md:1: symbolic link to "/etc/passwd", outside the cases folder: not read; copy the file into the cases folder instead',
        "cases/pipe.md:1: not a regular file: not read",
        "8 problem(s) in 8 file(s); nothing was written.",
    ]) == (result.returncode, result.stderr.splitlines())
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cases.db").exists()


def test_a_link_inside_the_folder_is_read_like_its_file(tmp_path, cases):
    cases.write("drafts/inside.md", case_text(title="被链接的案例"))
    os.symlink(cases.root / "drafts" / "inside.md", cases.root / "linked.md")
    result = run_build("--cases", "cases", "--db", "cases.db", cwd=tmp_path)
    assert 0 == result.returncode, result.stderr
    assert [("inside", "被链接的案例"), ("linked", "被链接的案例")] == rows(tmp_path / "cases.db", "select id, title from cases order by id")


def test_near_misses_are_warnings_and_the_build_goes_on(tmp_path, cases):
    cases.write("good.md", case_text())
    for name in ("a.MD", "b.markdown", "c.md ", "e.Md"):
        cases.write(name, case_text())
    (cases.root / "folder.md").mkdir()
    cases.write("notes.txt", "not a case, and not named")
    cases.write("_template.md", "the authors' template")
    result = run_build("--cases", "cases", "--db", "cases.db", cwd=tmp_path)
    assert (0, [
        'cases/a.MD:1: warning: not read as a case: a case file\'s name ends in ".md" (lower case); rename it to "a.md"',
        'cases/b.markdown:1: warning: not read as a case: a case file\'s name ends in ".md" (lower case); rename it to "b.md"',
        'cases/c.md :1: warning: not read as a case: the name has spaces before or after it; rename it to "c.md"',
        'cases/e.Md:1: warning: not read as a case: a case file\'s name ends in ".md" (lower case); rename it to "e.md"',
        "cases/folder.md:1: warning: a folder named like a case file: not read as a case (the files in it are read as usual)",
        "built cases.db with 1 cases in",
    ]) == (result.returncode, [line.split(" in ")[0] + " in" if line.startswith("built") else line for line in result.stderr.splitlines()])
    assert [("good",)] == rows(tmp_path / "cases.db", "select id from cases")


def test_discover_keeps_path_order_and_skips_hidden_and_templates(cases):
    for name in ("b.md", "a/c.md", "a/b/a.md", ".hidden/x.md", "_template.md", ".draft.md"):
        cases.write(name, case_text())
    found = discover(cases.root)
    assert (["a/b/a.md", "a/c.md", "b.md"], []) == (
        [Path(f.path).relative_to(cases.root).as_posix() for f in found.files],
        found.problems,
    )
