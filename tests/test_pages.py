"""The reading pages: home, case page, statistics, through a real Datasette."""

import re

import pytest

from caselib.fields import format_amount

from conftest import case_text


@pytest.fixture
def site(cases, make_site):
    cases.write(
        "2019/dinner.md",
        case_text(
            title="某区人民检察院检察官助理违规接受律师宴请案",
            violations="[违规吃喝, 受贿]",
            extra="sanctions: [双开]\nform: 4\nrank: 一般干部\npersonnel: 检察辅助人员\nregion: 安徽省合肥市\n"
            "unit: 某区人民检察院\nposition: 检察官助理\namount: 12.6万\nrelated: [gifts-2015]\nsource: 虚构综合案例\n",
            body="## 基本案情\n\n张某接受宴请。\n\n## 处理结果\n\n双开。\n\n## 警示启示\n\n慎独慎微。\n",
        ),
    )
    cases.write("2015/gifts-2015.md", case_text(title="收受购物卡案", date="2015-02", violations="[违规收送礼品礼金]"))
    for n in range(5):
        cases.write(f"2020/bribe-{n}.md", case_text(title=f"受贿案{n}", date=f"202{n}-01-01", violations="[受贿]", extra="form: 第四种形态\nsanctions: [开除党籍]\n"))
    return make_site(cases.root)


def test_case_page_reads_like_an_article(site):
    page = site.get("/cases/cases/dinner").text
    assert '<h1 class="case-title">某区人民检察院检察官助理违规接受律师宴请案</h1>' in page
    for label, value in [("日期", "2019-11-12"), ("职务", "检察官助理"), ("涉案金额", "12.6 万元")]:
        assert re.search(f"<dt>{label}</dt><dd>(<a [^>]+>)?{re.escape(value)}", page), label
    assert '<a class="tag tag-violations" href="/cases/cases?violations__arraycontains=%E5%8F%97%E8%B4%BF">受贿</a>' in page
    assert '<a class="tag tag-sanctions" href="/cases/cases?sanctions__arraycontains=%E5%BC%80%E9%99%A4%E5%85%9A%E7%B1%8D">开除党籍</a>' in page
    sections = re.findall(r'<h2 id="section-(\w+)">', page)
    assert ["facts", "outcome", "lessons"] == sections
    assert "来源：虚构综合案例" in page


def test_related_cases_explicit_first_then_at_least_three_computed(site):
    page = site.get("/cases/cases/dinner").text
    related = re.findall(r'<li class="related-(explicit|computed)"><a href="/cases/cases/([\w-]+)">', page)
    assert ("explicit", "gifts-2015") == related[0]
    computed = [case_id for kind, case_id in related if kind == "computed"]
    assert 3 <= len(computed)
    assert "dinner" not in computed and "gifts-2015" not in computed
    assert all(c.startswith("bribe-") for c in computed[:3])  # sharing 受贿 before anything else


def test_home_page_groups_violation_types_with_counts(site):
    page = site.get("/").text
    assert '<input type="search" id="q" name="q"' in page
    assert re.search(r'<h3>职务违法犯罪</h3>.*?>受贿</a> <span class="count">6</span>', page, re.S)
    assert re.search(r'>违规吃喝</a> <span class="count">1</span>', page)
    newest = re.findall(r'<li><a href="/cases/cases/([\w-]+)">', page.split("最新案例")[1])
    assert ["bribe-4", "bribe-3", "bribe-2", "bribe-1", "bribe-0", "dinner", "gifts-2015"] == newest
    assert 'href="/statistics"' in page


def test_statistics_numbers_and_svg(site):
    page = site.get("/statistics").text
    assert page.count("<svg") == 3
    assert "<script" not in page.split("</footer>")[0].split("<section class=\"content\">")[1]
    rows = dict(re.findall(r'<tr><td><a href="/cases/cases\?year=(\d+)">\d+</a></td><td>(\d+)</td>', page))
    assert {"2015": "1", "2019": "1", "2020": "1", "2021": "1", "2022": "1", "2023": "1", "2024": "1"} == rows
    forms = dict(re.findall(r"<tr><td>(?:<a [^>]+>)?(第.种形态|未标注)(?:</a>)?</td><td>(\d+)</td></tr>", page))
    assert {"第一种形态": "0", "第二种形态": "0", "第三种形态": "0", "第四种形态": "6", "未标注": "1"} == forms


@pytest.mark.parametrize(
    "amount,expected",
    [(3200, "3,200 元"), (1234.5, "1,234.5 元"), (126000, "12.6 万元"), (12600000, "1,260 万元"), (350000000, "3.5 亿元")],
)
def test_amounts_read_in_wan(amount, expected):
    assert expected == format_amount(amount)


def test_unknown_case_is_404(site):
    assert 404 == site.get("/cases/cases/no-such-case").status_code
