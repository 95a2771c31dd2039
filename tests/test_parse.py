"""Parsing one case file: good files normalise, bad files name path:line."""

import pytest

from caselib.errors import InvalidInput
from caselib.parse import parse_case
from caselib.rows import case_row
from caselib.source import source_from_bytes

from conftest import case_text


def parse(text: str | bytes, case_id: str = "a-case"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_case(source_from_bytes(data, f"cases/{case_id}.md", case_id))


def problems(text: str | bytes, case_id: str = "a-case") -> list[str]:
    with pytest.raises(InvalidInput) as info:
        parse(text, case_id)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    "extra,field,expected",
    [
        ("amount: 3200\n", "amount", 3200),
        ("amount: 12.6万\n", "amount", 126000),
        ("amount: 12.6万元\n", "amount", 126000),
        ('amount: "1,260万元"\n', "amount", 12600000),
        ("amount: 3.5亿元\n", "amount", 350000000),
        ("amount: 1,200元\n", "amount", 1200),
        ("amount: １２００\n", "amount", 1200),
        ("amount: 1234.5\n", "amount", 1234.5),
        ("sanctions: [双开]\n", "sanctions", ["party-expulsion", "expulsion"]),
        ("sanctions: [党内警告, 党内警告]\n", "sanctions", ["party-warning"]),
        ("sanctions: 严重警告\n", "sanctions", ["party-serious-warning"]),
        ("form: 2\n", "form", "second"),
        ("rank: 正处级\n", "rank", "county"),
        ("personnel: Prosecutor\n", "personnel", "prosecutor"),
        ("disciplines: [廉洁纪律, work]\n", "disciplines", ["integrity", "work"]),
        ("tags: [律师, 节假日]\n", "tags", ["律师", "节假日"]),
        ("related: [other-case]\n", "related", [("other-case", 5)]),
        ("region: 安徽省合肥市\n", "region", "安徽省合肥市"),
        ("lang: EN\n", "lang", "en"),
    ],
)
def test_good_field(extra, field, expected):
    assert expected == parse(case_text(extra=extra)).values[field]


@pytest.mark.parametrize(
    "date,expected_date,expected_year",
    [("2019-11-12", "2019-11-12", 2019), ("2019-3", "2019-03", 2019), ("2017", "2017", 2017), ("'2020-02-29'", "2020-02-29", 2020)],
)
def test_dates(date, expected_date, expected_year):
    case = parse(case_text(date=date))
    assert (expected_date, expected_year) == (case.values["date"], case_row(case)["year"])


def test_canonical_values_and_what_was_written():
    case = parse(case_text(violations="[收受贿赂, 酒驾]", extra="sanctions: [双开]\nform: 4\n"))
    assert ["bribe-taking", "drunk-driving"] == case.values["violations"]
    assert {"violations": ["收受贿赂", "酒驾"], "sanctions": ["双开"], "form": "4"} == case.as_written


def test_bom_and_crlf_are_accepted():
    text = "\ufeff" + case_text().replace("\n", "\r\n")
    case = parse(text.encode("utf-8"))
    assert ("某区人民检察院检察官助理违规接受律师宴请案", "张某接受律师宴请。") == (case.values["title"], case.sections["facts"])


def test_sections_by_heading():
    body = (
        "> 虚构案例\n\n## 基本案情\n\n事实。\n\n## 处理情况\n\n结果。\n\n## 以案说纪\n\n评析。\n\n"
        "## 警示启示\n\n启示。\n\n## 相关条规\n\n条规。\n\n## 整改措施\n\n整改。\n\n## 其他\n\n其他内容。\n"
    )
    case = parse(case_text(body=body))
    expected = {"facts": "事实。", "outcome": "结果。", "analysis": "评析。", "lessons": "启示。", "rules": "条规。", "reform": "整改。"}
    assert expected == case.sections
    assert "虚构案例\n其他\n其他内容。" == case.other_text


def test_english_sections_and_language_detection():
    body = "## Facts\n\nThe official took bribes.\n\n## Outcome\n\nExpelled.\n\n## Lessons\n\nStay clean.\n"
    case = parse(case_text(title="A clerk takes bribes", violations="[bribe-taking]", body=body))
    assert ("en", {"facts": "The official took bribes.", "outcome": "Expelled.", "lessons": "Stay clean."}) == (
        case.values["lang"],
        case.sections,
    )


def test_chinese_is_detected():
    assert "zh" == parse(case_text()).values["lang"]


def test_body_html_has_headings_and_paragraphs():
    html = parse(case_text()).body_html
    assert '<h2 id="section-facts">基本案情</h2>\n<p>张某接受律师宴请。</p>' in html


@pytest.mark.parametrize(
    "text,expected",
    [
        (case_text(violations="[违规吃喝喝]"), ['cases/a-case.md:4: violations: unknown value "违规吃喝喝" — did you mean "违规吃喝"?']),
        (case_text(extra="sanctions: [警告]\n"), ['cases/a-case.md:5: sanctions: "警告" is ambiguous — write "党内警告" or "政务警告"']),
        (case_text(date="2021-13-45"), ['cases/a-case.md:3: date: "2021-13-45" is not a real date (month must be in 1..12)']),
        (case_text(extra="amount: 很多\n"), ['cases/a-case.md:5: amount: "很多" is not an amount: write a number of yuan, e.g. 3200, 12.6万, "1,260万元", 3.5亿元']),
        (case_text(extra="titel: x\n"), ['cases/a-case.md:5: titel: unknown key — did you mean "title"?']),
        ("no front matter\n", ["cases/a-case.md:1: no front matter: the file must start with a line '---', then the YAML fields, then '---'"]),
        ("", ["cases/a-case.md:1: file is empty"]),
        ("---\ntitle: x\n", ["cases/a-case.md:1: front matter is not closed: add a line '---' after the YAML fields"]),
        ("---\n---\nbody\n", ["cases/a-case.md:1: front matter is empty: title, date and violations are required"]),
        (
            "---\ntitle: x\ndate: 2020\n",
            ["cases/a-case.md:1: front matter is not closed: add a line '---' after the YAML fields"],
        ),
        (
            "---\ntitle: x\ndate: 2020\nviolations: []\n---\n",
            ["cases/a-case.md:4: violations: is required and must not be empty"],
        ),
        ("---\ntitle: x\ndate: 2020\n---\n", ["cases/a-case.md:1: violations: is required but missing"]),
        (case_text(extra="form: [1, 2]\n"), ["cases/a-case.md:5: form: expected one value, not a list"]),
        (case_text(extra="lang: fr\n"), ['cases/a-case.md:5: lang: unknown value "fr" — use one of zh, en']),
        (case_text(extra="related: [Bad_Id]\n"), ['cases/a-case.md:5: related: "Bad_Id" is not a case id (lower-case letters, digits and -, as in the file name without .md)']),
        (case_text(extra="related: [a-case]\n"), ["cases/a-case.md:5: related: a case cannot be related to itself"]),
        (
            case_text(violations="[受贿,\n  违规吃喝喝]"),
            ['cases/a-case.md:5: violations: unknown value "违规吃喝喝" — did you mean "违规吃喝"?'],
        ),
        (
            "---\ntitle: x\ndate: 2020\nviolations: [受贿\n---\n",
            ["cases/a-case.md:5: YAML syntax error: while parsing a flow sequence started on line 4, did not find expected ',' or ']'"],
        ),
    ],
)
def test_bad_file(text, expected):
    assert expected == problems(text)


def test_every_problem_in_a_file_is_reported():
    text = case_text(date="2021-02-30", violations="[受贿, 吃喝玩乐]", extra="rank: 大官\nsanctions: [警告]\nunit: [a, b]\n")
    assert [
        'cases/a-case.md:3: date: "2021-02-30" is not a real date (day is out of range for month)',
        'cases/a-case.md:4: violations: unknown value "吃喝玩乐"',
        'cases/a-case.md:5: rank: unknown value "大官" — use one of 省部级、厅局级、县处级、乡科级、一般干部',
        'cases/a-case.md:6: sanctions: "警告" is ambiguous — write "党内警告" or "政务警告"',
        "cases/a-case.md:7: unit: expected one value, not a list",
    ] == problems(text)


def test_invalid_id_from_file_name():
    assert ['cases/Bad_Name.md:1: id: file name "Bad_Name.md" is not a valid case id: use lower-case letters, digits and - (e.g. 2019-some-case.md)'] == problems(
        case_text(), case_id="Bad_Name"
    )


def test_not_utf8_names_the_line_of_the_first_bad_byte():
    data = case_text().encode("utf-8").replace("张某接受".encode("utf-8"), "张某接受".encode("gbk"))
    assert ["cases/a-case.md:9: file is not UTF-8 text (byte 0xd5 at offset 170); save it as UTF-8"] == problems(data)


def test_yaml_values_are_not_coerced():
    case = parse(case_text(title="yes", extra="region: no\nposition: 1.5\n"))
    assert ("yes", "no", "1.5") == (case.values["title"], case.values["region"], case.values["position"])
