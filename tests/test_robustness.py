"""Robustness: huge, deeply nested and oddly encoded case files build or fail cleanly.

Each build runs ``build.py`` in its own process with a timeout, so a hang fails
the test instead of stalling the suite. "Cleanly" means exit 1 with
``path:line:`` messages, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import rows, REPO, CasesFolder

SECONDS = 40  # each build takes a few seconds (a 10 MB case about 4); this catches a hang or a blow-up
HEAD = "---\ntitle: 某区法院法官违规吃喝案\ndate: 2019-11-12\nviolations: [违规吃喝]\n---\n"
BODY_LINE = 6  # the first body line after HEAD


def run_build(cases: CasesFolder, db: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--cases", "cases", "--db", str(db), "--jobs", "1"],
        cwd=cases.root.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.perf_counter() - started


def test_a_10_mb_case_builds(cases, tmp_path):
    paragraph = "2019年9月，张某在办理一起盗窃案期间，接受该案辩护律师安排的宴请，收受购物卡若干。" * 5
    body = "## 基本案情\n\n" + "\n\n".join([paragraph] * 17_500) + "\n"
    path = cases.write("big.md", HEAD + body)
    assert path.stat().st_size > 10_000_000
    result, seconds = run_build(cases, tmp_path / "cases.db")
    assert (0, "built") == (result.returncode, result.stderr[:5]), result.stderr[-2000:]
    assert seconds < SECONDS
    assert [(len("\n".join([paragraph] * 17_500)),)] == rows(tmp_path / "cases.db", "select length(facts) from case_texts")


def test_a_single_1_mb_line_builds(cases, tmp_path):
    line = "张某收受贿赂" * 58_000
    cases.write("long-line.md", HEAD + "## 基本案情\n\n" + line + "\n")
    result, seconds = run_build(cases, tmp_path / "cases.db")
    assert (0, "built") == (result.returncode, result.stderr[:5]), result.stderr[-2000:]
    assert seconds < SECONDS
    assert [(line,)] == rows(tmp_path / "cases.db", "select facts from case_texts")


TOO_DEEP = (
    "body: quotes or lists are nested too deeply here (more than 20 quotes or 10 lists inside each other); "
    "flatten the nesting"
)
NESTED_LISTS = "".join("  " * depth + f"- 第{depth}层\n" for depth in range(2000))

# (name, body, the line of the "nested too deeply" problem, or None: it builds)
NASTY_BODIES = [
    ("quotes-10000", ">" * 10_000 + " 引文\n", BODY_LINE),
    ("quotes-20", ">" * 20 + " 引文\n", None),
    ("quotes-21", ">" * 21 + " 引文\n", BODY_LINE),
    ("list-items-on-one-line-5000", "- " * 5000 + "x\n", BODY_LINE),
    ("nested-list-lines-2000", NESTED_LISTS, BODY_LINE + 10),
    ("lists-10-deep", "".join("  " * depth + f"- 第{depth}层\n" for depth in range(10)), None),
    ("quotes-and-lists-mixed", "> - " * 200 + "x\n", BODY_LINE),
    ("open-brackets-100k", "[" * 100_000 + "\n", None),
    ("brackets-100k", "[" * 100_000 + "x" + "]" * 100_000 + "\n", None),
    ("stars-100k", "*" * 100_000 + "x" + "*" * 100_000 + "\n", None),
    ("underscores-100k", "_" * 100_000 + "\n", None),
    ("backticks-100k", "`" * 100_000 + "\n", None),
    ("alternating-backticks", "`a" * 50_000 + "\n", None),
    ("open-links-50k", "[a](" * 50_000 + "\n", None),
    ("open-images-50k", "![" * 50_000 + "\n", None),
    ("angle-brackets-100k", "<" * 100_000 + "\n", None),
    ("entities-100k", "&amp;" * 100_000 + "\n", None),
    ("emphasis-nesting", "*a **b " * 30_000 + "\n", None),
    ("fences-50k", "```\n" * 50_000, None),
    ("raw-html-50k", "<div>" * 50_000 + "\n", None),
    ("table-50k-rows", "|a|b|\n|-|-|\n" + "|x|y|\n" * 50_000, None),
    ("reference-definitions-20k", "".join(f"[r{i}]: http://example.com/{i}\n" for i in range(20_000)) + "[r1]\n", None),
]


@pytest.mark.parametrize("name,body,line", NASTY_BODIES, ids=[n for n, _, _ in NASTY_BODIES])
def test_deeply_nested_or_pathological_markdown(cases, tmp_path, name, body, line):
    cases.write(f"{name}.md", HEAD + body)
    result, seconds = run_build(cases, tmp_path / "cases.db")
    assert "Traceback" not in result.stderr
    if line is None:
        assert (0, "built") == (result.returncode, result.stderr[:5]), result.stderr[-2000:]
    else:
        expected = [f"cases/{name}.md:{line}: {TOO_DEEP}", "1 problem(s) in 1 file(s); nothing was written."]
        assert (1, expected) == (result.returncode, result.stderr.splitlines())
    assert seconds < SECONDS


def odd_unicode_case(title: str, extra: str = "", body: str = "## 基本案情\n\n张某接受宴请。\n") -> str:
    return f"---\ntitle: {title}\ndate: 2019-11-12\nviolations: [违规吃喝]\n{extra}---\n{body}"


def test_odd_unicode_that_is_accepted(cases, tmp_path):
    """Normalised where a value is matched; kept where it is text a reader sees."""
    cases.write(
        "full-width.md",
        "---\ntitle: 全角数字案\ndate: ２０１９－１１－１２\nviolations: [受贿]\namount: １２.６万\n---\n正文。\n",
    )
    cases.write(
        "zero-width.md",
        "---\ntitle: 张某\u200b受贿案\ndate: 2019\u200b-11-12\nviolations: [受\u200b贿, 违规\u2060吃喝]\n"
        "amount: 12\u200d.6万\nrelated: [full\u200b-width]\n---\n正文。\n",
    )
    cases.write("emoji.md", odd_unicode_case("👨\u200d👩\u200d👧 家风案 🚨", extra="tags: [💰, 家风]\n"))
    cases.write("mixed-scripts.md", odd_unicode_case("Zhang 某 (Чжан, Ζήνων) 受贿案 مرحبا"))
    cases.write("rtl-marks.md", odd_unicode_case("\u202e反转\u202c标题\u200f案"))
    cases.write(
        "line-separators.md",
        odd_unicode_case("第一行\u2028第二行\u2029第三行\x85第四行", extra="unit: 某区\u2028法院\n", body="正文\u2028续行。\n"),
    )
    cases.write("bom-in-the-middle.md", "\ufeff---\ntitle: 中间\ufeff有BOM\n\ufeffdate: 2019\nviolations: [受贿]\n---\n\ufeff## 基本案情\n\n正\ufeff文。\n")
    result, seconds = run_build(cases, tmp_path / "cases.db")
    assert (0, "built") == (result.returncode, result.stderr[:5]), result.stderr
    assert [
        ("bom-in-the-middle", "中间有BOM", "2019", '["受贿"]', None, "[]", "正文。"),
        ("emoji", "👨\u200d👩\u200d👧 家风案 🚨", "2019-11-12", '["违规吃喝"]', None, '["💰", "家风"]', "张某接受宴请。"),
        ("full-width", "全角数字案", "2019-11-12", '["受贿"]', 126000, "[]", None),
        ("line-separators", "第一行 第二行 第三行 第四行", "2019-11-12", '["违规吃喝"]', None, "[]", None),
        ("mixed-scripts", "Zhang 某 (Чжан, Ζήνων) 受贿案 مرحبا", "2019-11-12", '["违规吃喝"]', None, "[]", "张某接受宴请。"),
        ("rtl-marks", "反转标题案", "2019-11-12", '["违规吃喝"]', None, "[]", "张某接受宴请。"),
        ("zero-width", "张某受贿案", "2019-11-12", '["受贿", "违规吃喝"]', 126000, "[]", None),
    ] == rows(tmp_path / "cases.db", "select id, title, date, violations, amount, tags, facts from cases join case_texts using (id) order by id")
    assert [("line-separators", "某区 法院", "正文\u2028续行。")] == rows(
        tmp_path / "cases.db", "select id, unit, other_text from cases join case_texts using (id) where id = 'line-separators'"
    )
    assert [("zero-width", "full-width")] == rows(tmp_path / "cases.db", "select case_id, related_id from related")
    assert seconds < SECONDS


def test_odd_bytes_that_are_refused_each_at_its_line(cases, tmp_path):
    cases.write("nul-in-body.md", odd_unicode_case("正常标题", body="## 基本案情\n\n张某\x00接受宴请。\n"))
    cases.write("nul-in-title.md", odd_unicode_case("标\x00题"))
    cases.write("utf-16-without-bom.md", odd_unicode_case("Title").encode("utf-16-le"))
    cases.write("utf-16-with-bom.md", odd_unicode_case("Title").encode("utf-16"))
    cases.write("lone-surrogate.md", odd_unicode_case("标题").encode("utf-8").replace("标题".encode(), b"\xed\xb0\x80"))
    cases.write("gbk-body.md", odd_unicode_case("标题", body="## 基本案情\n\n张某接受宴请。\n").encode("gbk"))
    cases.write("escape-in-front-matter.md", odd_unicode_case("标题", extra="unit: \x1b[31m某区法院\n"))
    cases.write("non-character.md", odd_unicode_case("标题", extra="region: 安徽\ufffe省\n"))
    result, seconds = run_build(cases, tmp_path / "cases.db")
    nul = "file contains a NUL byte (0x00): it is not a text file, or it was saved as UTF-16; save it as UTF-8"
    assert (1, [
        "cases/escape-in-front-matter.md:5: character U+001B (a control character) is not allowed in the front matter; delete it",
        "cases/gbk-body.md:2: file is not UTF-8 text (byte 0xb1 at offset 11); save it as UTF-8",
        "cases/lone-surrogate.md:2: file is not UTF-8 text (byte 0xed at offset 11); save it as UTF-8",
        "cases/non-character.md:5: character U+FFFE (not a character of any script) is not allowed in the front matter; delete it",
        f"cases/nul-in-body.md:8: {nul}",
        f"cases/nul-in-title.md:2: {nul}",
        'cases/utf-16-with-bom.md:1: file is saved as UTF-16 ("Unicode"); save it as UTF-8',
        f"cases/utf-16-without-bom.md:1: {nul}",
        "8 problem(s) in 8 file(s); nothing was written.",
    ]) == (result.returncode, result.stderr.splitlines())
    assert not (tmp_path / "cases.db").exists()
    assert seconds < SECONDS


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "---\ntitle: 第一\u2028第二\u2029第三\x85第四\ndate: 2019\u2028\nunit: 某区\u2028法院\nviolations: [违规吃喝喝]\n---\n",
            ['cases/lines.md:5: violations: unknown value "违规吃喝喝" — did you mean "违规吃喝"?'],
        ),
        (
            '---\ntitle: 标题\ndate: 2019\nviolations: [受贿]\n"ti\\ntle": x\n"": y\n---\n',
            [
                'cases/lines.md:5: "ti\\u000atle": unknown key — did you mean "title"?',
                'cases/lines.md:6: "": unknown key (known keys: title, date, violations, sanctions, disciplines, form, rank, '
                "personnel, region, unit, position, amount, period, source, tags, related, lang, visibility)",
            ],
        ),
        (
            '---\ntitle: 标题\ndate: 2019\nviolations: ["受贿罪行\\n\\u0007"]\nrank: null\nsanctions: [~, "警告\\t"]\n---\n',
            ['cases/lines.md:4: violations: unknown value "受贿罪行\\u000a\\u0007" — did you mean "受贿"?',
             'cases/lines.md:6: sanctions: "警告\\u0009" is ambiguous — write "党内警告" or "政务警告"'],
        ),
        (
            "---\ntitle: 标题\ndate: 2019\nviolations: [受贿]\nrank: " + "很长" * 100 + "\n---\n",
            ['cases/lines.md:5: rank: unknown value "' + "很长" * 30 + '…" — use one of 省部级、厅局级、县处级、乡科级、一般干部'],
        ),
    ],
    ids=["line-separators-keep-line-numbers", "odd-keys-are-quoted", "escapes-in-values-are-spelt-out", "long-values"],
)
def test_messages_are_one_line_at_the_editors_line(cases, tmp_path, text, expected):
    cases.write("lines.md", text)
    result, _ = run_build(cases, tmp_path / "cases.db")
    assert (1, expected) == (result.returncode, result.stderr.splitlines()[:-1])
