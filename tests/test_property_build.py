"""Property: whatever a case file holds, the build succeeds or names every problem.

Front matter is generated from arbitrary keys and values, YAML's odd corners
(anchors, aliases, tags such as ``!!python/object``, huge numbers, nested
structures, directives, tabs, unclosed quotes) and arbitrary Unicode; bodies
from Markdown's special characters. The build either writes the database or
raises InvalidInput whose every problem is a Problem with the file's path and
a line inside the file. Any other exception fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib.errors import InvalidInput, Problem
from caselib.schema import FRONT_MATTER as FIELDS
from caselib.discover import display_path
from caselib.pipeline import build
from caselib.vocab import vocabularies

from conftest import REPO

KEYS = [*FIELDS, "titel", "Title", "violation", "", "<<", "~", "1", "a b", "ключ", "违规类型", "title\u200b"]
TERMS = sorted({s for v in vocabularies().values() for t in v.terms for s in (t.zh, t.en, t.code, *t.aliases)})
NASTY_VALUES = [
    "~", "null", "yes", "no", "on", "0x1F", "0o17", "1e400", "-.inf", ".nan", "1_000", "99999999999999999999999999999",
    "2019-02-30", "2019-11-12T10:00:00Z", "２０１９-１１-１２", "12.6万", "１２.６万", "-5", "很多", "警告", "双开",
    "'unclosed", '"unclosed', "[受贿", "{a: b", "[[受贿]]", "{a: [b, {c: d}]}", "*alias", "&anchor x", "&a [受贿]",
    "!!python/object:os.system x", "!!python/object/apply:os.system [ls]", "!!binary aGk=", "!foo bar", "!!set {a, b}",
    "!!str 2019", "!!int x", "|", ">-", "- x", ": x", "? x", "%x", "@x", "`x", "#comment", "\t", "a: b: c", "'a''b'",
    "\"\\u0000\"", "\"\\x07\"", "\"\\ud800\"", "\"\\U0001F600\"", "x\u2028y", "x\u0085y", "\ufeffx", "受\u200b贿",
    "a\x07b", "\x1b[31m红色", "x\x7fy", "x\x9by", "x\ufffey", "x\x0cy", "x\ry",
]
NASTY_LINES = [
    "  indented: x", "\t- x", "- list item", "...", "%YAML 1.2", "%TAG ! tag:example.com,2000:", "&a key: value",
    "? [complex, key]", ": value", "<<: *a", "<<: {title: t}", "*a : x", "title: &t 标题", "unit: *t", "---x",
    "{flow: mapping}", "[flow, sequence]", "key: |\n  block\n  text", "key: >\n  folded", "'quoted key': x",
]
MARKDOWN = [
    "## 基本案情\n", "## 处理结果\n", "## Facts\n", "# H1\n", "> ", ">>>> ", "- ", "  - ", "1. ", "* ", "```\n", "~~~\n",
    "    code\n", "|a|b|\n|-|-|\n|x|y|\n", "[x](javascript:alert(1))", "[x](http://example.com)", "![i](data:x)",
    "<script>alert(1)</script>", "<div>", "**", "__", "`", "[", "]", "(", ")", "&amp;", "&#0;", "\\", "---\n",
    "\n", "\n\n", "张某受贿", "text ", "\u2028", "\ufeff", "\u202e", "😀", "\u200d", "\t",
]

# Text written straight into the file is printable (control characters come from the
# lists above and from inserted bytes), so that many files get past the first checks;
# values that go through the YAML emitter may hold anything, escaped.
words = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30)
scalars = st.one_of(
    words,
    st.text(max_size=30),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from(TERMS),
    st.dates().map(str),
)
structures = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)


@st.composite
def dumped_entry(draw) -> str:
    """One key with a value, written by a YAML emitter (block or flow style)."""
    key = draw(st.sampled_from(KEYS) | words)
    value = draw(structures)
    flow = draw(st.sampled_from([True, False, None]))
    return yaml.safe_dump({key: value}, allow_unicode=draw(st.booleans()), default_flow_style=flow).rstrip("\n")


@st.composite
def raw_entry(draw) -> str:
    """One ``key: value`` line written by hand, often wrongly."""
    key = draw(st.sampled_from(KEYS))
    value = draw(st.sampled_from(NASTY_VALUES) | st.sampled_from(TERMS) | words)
    return f"{key}: {value}"


front_matter_lines = st.lists(
    st.one_of(dumped_entry(), dumped_entry(), raw_entry(), st.sampled_from(NASTY_LINES), words), max_size=6
)
bodies = st.one_of(st.lists(st.sampled_from(MARKDOWN), max_size=40).map("".join), words)
REQUIRED = "title: 某区法院法官违规吃喝案\ndate: 2019-11-12\nviolations: [违规吃喝]\n"


@st.composite
def case_files(draw) -> bytes:
    """The bytes of one case file: mostly well-formed around a generated front matter."""
    lines = draw(front_matter_lines)
    front = (REQUIRED if draw(st.sampled_from([True, True, True, False])) else "") + "\n".join(lines)
    opening = draw(st.sampled_from(["---\n"] * 5 + ["\ufeff---\n", "--- \n", ""]))
    closing = draw(st.sampled_from(["\n---\n"] * 5 + ["\n---", "\n", "\n...\n"]))
    text = opening + front + closing + draw(bodies)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.sampled_from([False] * 9 + [True])):  # now and then, bytes that are not UTF-8 text
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


NAMES = ["a-case.md", "2019/a-case.md", "Bad_Name.md", "a.b.md", "中文.md", "other.md"]
OTHER = f"---\n{REQUIRED}related: [a-case]\n---\n正文。\n".encode("utf-8")


def line_count(data: bytes) -> int:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1


def check_problems(problems: list[Problem], written: dict[str, bytes]) -> None:
    assert problems
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.path in written, problem
        assert 1 <= problem.line <= line_count(written[problem.path]), problem
        assert problem.message, problem
        assert not re.search(r"[\n\r\x00]", str(problem)), problem


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=case_files(), name=st.sampled_from(NAMES), with_other=st.booleans())
def test_build_succeeds_or_names_every_problem(data, name, with_other):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cases"
        files = {name: data, **({"other-case.md": OTHER} if with_other else {})}
        written = {}
        for file_name, content in files.items():
            path = root / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written[display_path(path)] = content
        db = Path(tmp) / "site" / "cases.db"
        try:
            report = build(root, db, jobs=1)
        except InvalidInput as err:
            check_problems(err.problems, written)
            assert not db.exists()
        else:
            assert (len(files), True) == (report.cases, db.exists())


SUMMARY = re.compile(r"^\d+ problem\(s\) in \d+ file\(s\); nothing was written\.$")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=case_files())
def test_the_command_line_reports_a_generated_bad_file_without_a_traceback(data):
    with tempfile.TemporaryDirectory() as tmp:
        cases = Path(tmp) / "cases"
        cases.mkdir()
        (cases / "Bad_Name.md").write_bytes(data)  # the name alone makes the file bad
        result = subprocess.run(
            [sys.executable, str(REPO / "build.py"), "--check"], cwd=tmp, capture_output=True, text=True, timeout=60
        )
        lines = result.stderr.splitlines()
        assert (1, False, True) == (result.returncode, "Traceback" in result.stderr, bool(SUMMARY.match(lines[-1])))
        assert all(line.startswith("cases/Bad_Name.md:") for line in lines[:-1]), result.stderr
        assert 'cases/Bad_Name.md:1: id: file name "Bad_Name.md" is not a valid case id' in result.stderr
