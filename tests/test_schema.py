"""One declaration of the case's fields: everything else agrees with it."""

from __future__ import annotations

import ast
import io
import shutil
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest

from caselib import schema
from caselib.fingerprint import fingerprint, row_modules
from caselib.site import load_metadata

from conftest import REPO, case_text

PLAIN_FIELDS = ["period", "unit", "region", "amount", "rank", "personnel", "form", "disciplines"]
CODE = sorted([*(REPO / "caselib").rglob("*.py"), *(REPO / "plugins").glob("*.py")])


def names_in(path: Path) -> set[str]:
    """Identifiers and whole string literals in a module's code (not its comments or prose)."""
    found: set[str] = set()
    for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if token.type == tokenize.NAME:
            found.add(token.string)
        elif token.type == tokenize.STRING:
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, str):
                found.add(value)
    return found


@pytest.mark.parametrize("field", PLAIN_FIELDS)
def test_a_plain_field_is_named_in_at_most_two_modules(field):
    modules = [p.relative_to(REPO).as_posix() for p in CODE if field in names_in(p)]
    assert len(modules) <= 2, modules


def test_metadata_describes_the_declared_columns():
    tables = load_metadata()["databases"]["cases"]["tables"]
    assert {f.name: f.column_description for f in schema.COLUMNS} == tables["cases"]["columns"]
    assert {f.name: f.description for f in schema.TEXT_FIELDS} == tables[schema.TEXT_TABLE]["columns"]


def test_metadata_facets_are_the_declared_facets():
    facets = load_metadata()["databases"]["cases"]["tables"]["cases"]["facets"]
    named = [f if isinstance(f, str) else next(iter(f.values())) for f in facets]
    assert sorted(schema.FACETS) == sorted(named)


def test_front_matter_keys_in_the_contract_order():
    assert [
        "title", "date", "violations", "sanctions", "disciplines", "form", "rank", "personnel", "region",
        "unit", "position", "amount", "period", "source", "tags", "related", "lang", "visibility",
    ] == list(schema.FRONT_MATTER)


def test_the_fingerprint_covers_the_code_that_shapes_rows_and_nothing_else():
    names = {p.name for p in row_modules()}
    assert {"parse.py", "fields.py", "frontmatter.py", "render.py", "rows.py", "schema.py", "search.py", "store.py", "text.py", "vocab.py"} <= names
    assert not names & {"cli.py", "pipeline.py", "workers.py", "progress.py", "__init__.py"}
    assert not any("site" in p.parts for p in row_modules())


def test_editing_a_chart_keeps_the_fingerprint_and_editing_rows_changes_it(tmp_path):
    copy = tmp_path / "caselib"
    shutil.copytree(REPO / "caselib", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = fingerprint(1, copy)
    (copy / "site" / "charts.py").write_text((copy / "site" / "charts.py").read_text() + "\n# a new colour\n")
    (copy / "site" / "pages.py").write_text((copy / "site" / "pages.py").read_text() + "\n# more text\n")
    assert before == fingerprint(1, copy)
    (copy / "render.py").write_text((copy / "render.py").read_text() + "\n# a change\n")
    assert before != fingerprint(1, copy)


STORAGE = {"store", "atomic", "pipeline", "workers", "rows", "fingerprint", "discover", "checks", "related"}


def package_imports(source: Path) -> set[str]:
    """caselib modules a file imports (absolute or relative), as dotted names below caselib."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    package = source.parent.relative_to(REPO).parts  # e.g. ("caselib", "site")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            if parts and parts[0] == "caselib":
                modules = [".".join(parts[1:])] if node.module else [".".join([*parts[1:], a.name]) for a in node.names]
                found.update(m for m in modules if m)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("caselib.") for a in node.names if a.name.startswith("caselib."))
    return found


def test_the_site_imports_no_storage_internals():
    todo = [*sorted((REPO / "plugins").glob("*.py")), *sorted((REPO / "caselib" / "site").glob("*.py"))]
    reached: set[str] = set()
    while todo:
        for name in package_imports(todo.pop()):
            top = name.split(".")[0]
            if name in reached:
                continue
            reached.add(name)
            path = REPO / "caselib" / Path(*name.split("."))
            for candidate in (path.with_suffix(".py"), path / "__init__.py"):
                if candidate.is_file():
                    todo.append(candidate)
            assert top not in STORAGE, name


def test_a_new_text_field_is_one_declaration(tmp_path):
    """Copy the package, declare one more field, and it is validated, stored,
    shown in the facts panel and exported with its Chinese header."""
    copy = tmp_path / "pkg"
    shutil.copytree(REPO / "caselib", copy / "caselib", ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "caselib" / "schema.py"
    declaration = '    Field("source", "来源", "Source", "案例来源", Text()),\n'
    text = source.read_text(encoding="utf-8")
    assert declaration in text
    source.write_text(text.replace(declaration, declaration + '    Field("venue", "发生地点", "Venue", "行为发生地点", Text(), fact=10),\n'), encoding="utf-8")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "a.md").write_text(case_text(extra="venue: 某酒店\n"), encoding="utf-8")
    (cases / "b.md").write_text(case_text(extra="venu: 某酒店\n"), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import sqlite3, sys
        from pathlib import Path
        from caselib.errors import InvalidInput
        from caselib.pipeline import build
        from caselib.site.pages import case_facts
        from caselib.site.xlsx import CASE_HEADERS
        try:
            build(Path({str(cases)!r}), None)
        except InvalidInput as err:
            print([str(p) for p in err.problems])
        Path({str(cases)!r}, "b.md").unlink()
        build(Path({str(cases)!r}), Path({str(tmp_path / "cases.db")!r}))
        conn = sqlite3.connect({str(tmp_path / "cases.db")!r})
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("select * from cases").fetchone())
        print(row["venue"])
        print([f["label"] + "=" + f["value"] for f in case_facts(row)][-1])
        print(CASE_HEADERS["venue"])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=copy, capture_output=True, text=True, timeout=60)
    assert 0 == result.returncode, result.stderr
    assert [
        str([f'{cases / "b.md"}:5: venu: unknown key — did you mean "venue"?']),
        "某酒店",
        "发生地点=某酒店",
        "发生地点",
    ] == result.stdout.splitlines()
