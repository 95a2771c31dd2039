"""Excel export: every matching row, Chinese headers, readable values, text never a formula."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from openpyxl import load_workbook

from caselib.site.export import Column, Export, SqlBudget, budgeted_rows
from caselib.site.xlsx import write_workbook

from conftest import case_text

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CASE_HEADERS = [
    "案例编号", "标题", "日期", "年份", "违规类型", "处分处理", "违反的纪律", "四种形态", "职级",
    "人员类别", "地区", "省份", "单位", "职务", "涉案金额（元）", "行为期间", "来源", "关键词", "语言",
    "案情摘要", "源文件", "案例页面",
]
TEXT_HEADERS = ["案例编号", "基本案情", "处理结果", "案例评析", "警示启示", "相关条规", "以案促改", "其他内容"]
BRIBERY = "violations__arraycontains=受贿"
STAFF = {"id": "staff"}  # a signed-in actor: arbitrary SQL is not open to anonymous visitors


def body(facts: str) -> str:
    return f"## 基本案情\n\n{facts}\n\n## 处理结果\n\n依纪依法作出处理。\n"


@pytest.fixture
def small_site(cases, make_site):
    cases.write("2021/gift-cards.md", case_text(
        title="某县财政局原局长甲某收受购物卡受贿案", date="2021-03-05", violations="[受贿, 违规收送礼品礼金]",
        extra="sanctions: [开除党籍, 开除公职]\namount: 12.6万\ntags: [中秋节, 购物卡]\nrank: 县处级\n",
        body=body("甲某在中秋节前后收受管理服务对象所送购物卡。")))
    cases.write("2020/judge.md", case_text(
        title="某区人民法院法官乙某受贿案", date="2020-07-01", violations="[受贿]",
        extra="amount: 3200\n", body=body("乙某收受当事人所送购物卡和现金。")))
    cases.write("2021/police.md", case_text(
        title="某市公安局民警丙某收受财物案", date="2021-11-20", violations="[受贿, 违规吃喝]",
        body=body("丙某多次接受宴请并收受购物卡。")))
    cases.write("2021/dinner.md", case_text(
        title="某乡镇干部丁某违规吃喝案", date="2021-05-05", violations="[违规吃喝]",
        body=body("丁某用公款购买购物卡并组织吃喝。")))
    cases.write("2019/gambling.md", case_text(
        title="某局干部戊某赌博案", date="2019-02-02", violations="[赌博]", body=body("戊某参与赌博。")))
    return make_site(cases.root)


def sheet(response):
    assert 200 == response.status_code, response.text[:500]
    assert XLSX_TYPE == response.headers["content-type"]
    return load_workbook(io.BytesIO(response.content)).worksheets[0]


def table(ws) -> tuple[list, list[dict]]:
    """The header row and the data rows (up to the first empty row) as dicts."""
    rows = list(ws.iter_rows(values_only=True))
    headers = list(rows[0])
    data = []
    for values in rows[1:]:
        if all(value is None for value in values):
            break
        data.append(dict(zip(headers, values)))
    return headers, data


def export(site, path: str) -> tuple[list, list[dict]]:
    return table(sheet(site.get(path)))


def json_ids(site, path: str) -> list[str]:
    """Ids of every row of a table page, following Datasette's own pagination."""
    ids: list[str] = []
    while path:
        data = site.json(path)
        ids += [row["id"] for row in data["rows"]]
        path = data["next_url"] and data["next_url"].removeprefix("http://localhost")
    return ids


def csv_ids(site, path: str) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(site.get(path).text)))
    return [row["id"] for row in rows]


def test_filtered_export_has_one_row_per_matching_case(small_site):
    headers, rows = export(small_site, f"/cases/cases.xlsx?{BRIBERY}")
    ids = [row["案例编号"] for row in rows]
    assert CASE_HEADERS == headers
    assert sorted(csv_ids(small_site, f"/cases/cases.csv?{BRIBERY}&_size=max")) == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert ["police", "gift-cards", "judge"] == ids
    assert json_ids(small_site, f"/cases/cases.json?{BRIBERY}&_shape=objects") == ids


def test_values_are_readable(small_site):
    ws = sheet(small_site.get(f"/cases/cases.xlsx?{BRIBERY}"))
    _, rows = table(ws)
    row = next(r for r in rows if r["案例编号"] == "gift-cards")
    assert "某县财政局原局长甲某收受购物卡受贿案" == row["标题"]
    assert "受贿、违规收送礼品礼金" == row["违规类型"]
    assert "开除党籍、开除公职" == row["处分处理"]
    assert "中秋节、购物卡" == row["关键词"]
    assert 126000 == row["涉案金额（元）"] and isinstance(row["涉案金额（元）"], int)
    assert 2021 == row["年份"] and isinstance(row["年份"], int)
    assert "甲某在中秋节前后收受管理服务对象所送购物卡。" == row["案情摘要"]
    amount = ws.cell(row=3, column=CASE_HEADERS.index("涉案金额（元）") + 1)
    assert ("n", "#,##0") == (amount.data_type, amount.number_format)


def test_case_texts_export_has_whole_sections(small_site):
    headers, rows = export(small_site, "/cases/case_texts.xlsx?id=gift-cards")
    assert (TEXT_HEADERS, "甲某在中秋节前后收受管理服务对象所送购物卡。") == (headers, rows[0]["基本案情"])


def test_header_row_is_bold_frozen_and_filtered(small_site):
    ws = sheet(small_site.get(f"/cases/cases.xlsx?{BRIBERY}"))
    assert "A2" == ws.freeze_panes
    assert "A1:V4" == ws.auto_filter.ref
    assert all(cell.font.b for cell in ws[1])
    assert ws.column_dimensions["B"].width > ws.column_dimensions["C"].width


def test_search_and_filter_export_matches_the_json(small_site):
    query = "_search=购物卡&year=2021"
    _, rows = export(small_site, f"/cases/cases.xlsx?{query}")
    ids = [row["案例编号"] for row in rows]
    assert ["police", "dinner", "gift-cards"] == ids
    assert json_ids(small_site, f"/cases/cases.json?{query}&_shape=objects") == ids


def test_sort_from_the_address_is_kept(small_site):
    _, rows = export(small_site, "/cases/cases.xlsx?_sort=title")
    titles = [row["标题"] for row in rows]
    ids = [row["案例编号"] for row in rows]
    assert json_ids(small_site, "/cases/cases.json?_sort=title&_shape=objects") == ids
    assert sorted(titles) == titles
    assert 5 == len(titles)


def test_export_of_a_canned_query(small_site):
    headers, rows = export(small_site, "/cases/violation_counts.xlsx")
    data = small_site.json("/cases/violation_counts.json")
    assert ["类别", "违规类型", "English", "案例数"] == headers
    assert [list(row) for row in data["rows"]] == [list(row.values()) for row in rows]
    counts = {row["违规类型"]: row["案例数"] for row in rows}
    assert (3, 2) == (counts["受贿"], counts["违规吃喝"])


def test_export_of_a_query_with_parameters(small_site):
    response = small_site.get("/cases/cases_by_violation.xlsx?violation=受贿")
    today = datetime.date.today().isoformat()
    expected = f"attachment; filename=\"cases_by_violation-{today}.xlsx\"; filename*=UTF-8''{quote(f'某一违规类型的案例及处分-受贿-{today}.xlsx')}"
    assert expected == response.headers["content-disposition"]
    _, rows = table(sheet(response))
    by_id = {row["案例编号"]: row for row in rows}
    assert {"police", "gift-cards", "judge"} == set(by_id)
    assert "开除党籍、开除公职" == by_id["gift-cards"]["处分处理"]


def test_export_of_the_ranked_search(small_site):
    _, rows = export(small_site, "/cases/search.xlsx?q=受贿&violation=")
    data = small_site.json("/cases/search.json?q=受贿&violation=&_shape=objects")
    assert [row["案例编号"] for row in data["rows"]] == [row["案例编号"] for row in rows]
    assert "受贿、违规收送礼品礼金" == next(r["违规类型"] for r in rows if r["案例编号"] == "gift-cards")


def test_table_and_query_pages_link_to_their_export(small_site):
    for page, expected in [
        (f"/cases/cases?{BRIBERY}", 3),
        ("/cases/cases_by_violation?violation=受贿", 3),
    ]:
        links = re.findall(r'href="([^"]*\.xlsx[^"]*)"', small_site.get(page).text)
        assert 1 == len(links), page
        _, rows = export(small_site, html.unescape(links[0]))
        assert expected == len(rows)


def test_no_export_link_on_a_case_page(small_site):
    assert ".xlsx" not in small_site.get("/cases/cases/judge").text


def test_a_table_export_is_an_attachment_named_after_the_list_its_filters_and_the_day(small_site):
    today = datetime.date.today().isoformat()
    response = small_site.get("/cases/cases.xlsx")
    assert f"attachment; filename=\"cases-{today}.xlsx\"; filename*=UTF-8''{quote(f'案例列表-{today}.xlsx')}" == response.headers["content-disposition"]
    response = small_site.get(f"/cases/cases.xlsx?{BRIBERY}&year=2021")
    assert f"filename*=UTF-8''{quote(f'案例列表-受贿-2021-{today}.xlsx')}" in response.headers["content-disposition"]


@pytest.fixture
def long_site(cases, make_site):
    start = datetime.date(2010, 1, 1)
    for n in range(120):
        date = start + datetime.timedelta(days=7 * n)
        violation = "受贿" if n % 2 else "违规吃喝"
        cases.write(f"case-{n:03d}.md", case_text(title=f"某单位干部第{n}号案", date=date.isoformat(), violations=f"[{violation}]"))
    return make_site(cases.root)


def test_every_row_of_a_long_list_is_exported(long_site):
    _, rows = export(long_site, "/cases/cases.xlsx")
    ids = [row["案例编号"] for row in rows]
    assert 120 == len(ids)
    assert json_ids(long_site, "/cases/cases.json?_shape=objects") == ids
    assert [f"case-{n:03d}" for n in reversed(range(120))] == ids


def test_export_from_a_later_page_starts_at_the_first_row(long_site):
    next_url = long_site.json(f"/cases/cases.json?{BRIBERY}&_shape=objects")["next_url"]
    later = next_url.removeprefix("http://localhost").replace("/cases/cases.json?", "/cases/cases.xlsx?")
    response = long_site.get(later)
    assert 302 == response.status_code
    location = urlsplit(response.headers["location"])
    assert "/cases/cases.xlsx" == location.path
    assert "_next" not in dict(parse_qsl(location.query))
    _, rows = export(long_site, response.headers["location"])
    assert [f"case-{n:03d}" for n in reversed(range(1, 120, 2))] == [row["案例编号"] for row in rows]


def test_ties_in_the_date_follow_the_sort_key(cases, make_site):
    for name, date in [("d", "2021-01-01"), ("b", "2021-01-01"), ("c", "2022-01-01"), ("a", "2021-01-01"), ("e", "2020-01-01")]:
        cases.write(f"{name}.md", case_text(title=f"案例{name}", date=date, violations="[受贿]"))
    site = make_site(cases.root)
    _, rows = export(site, "/cases/cases.xlsx")
    listed = [r["id"] for r in site.json("/cases/cases.json?_shape=objects&_size=2")["rows"]]
    listed += [r["id"] for r in site.json("/cases/cases.json?_shape=objects&_size=max")["rows"]][2:]
    assert ["c", "d", "b", "a", "e"] == [row["案例编号"] for row in rows] == listed


FORMULA_TITLES = [
    '=HYPERLINK("http://example.invalid/","点此查看")',
    "+1+1某案",
    "-1+1某案",
    "@SUM(1+1)某案",
]


def test_text_that_looks_like_a_formula_stays_text(cases, make_site):
    for n, title in enumerate(FORMULA_TITLES):
        quoted = "'" + title.replace("'", "''") + "'"
        cases.write(f"formula-{n}.md", case_text(title=quoted, date=f"2021-01-0{n + 1}", violations="[受贿]"))
    site = make_site(cases.root)
    response = site.get("/cases/cases.xlsx?_sort=id")
    ws = sheet(response)
    cells = [ws.cell(row=n + 2, column=2) for n in range(len(FORMULA_TITLES))]
    assert FORMULA_TITLES == [cell.value for cell in cells]
    assert ["s"] * len(FORMULA_TITLES) == [cell.data_type for cell in cells]
    assert [True] * len(FORMULA_TITLES) == [cell.quotePrefix for cell in cells]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert [] == re.findall(rb"<f[ >]", archive.read("xl/worksheets/sheet1.xml"))


def test_a_query_cut_by_datasette_says_so(small_site):
    sql = "with recursive n(x) as (select 1 union all select x + 1 from n where x < 1500) select x from n"
    ws = sheet(small_site.get(f"/cases.xlsx?sql={quote(sql)}", actor=STAFF))
    headers, rows = table(ws)
    assert ["x"] == headers
    assert list(range(1, 1001)) == [row["x"] for row in rows]
    assert "查询结果超过 1,000 行，仅导出了前 1,000 行。" == ws.cell(row=1003, column=1).value


def test_the_row_cap_is_stated_below_the_data():
    rows = [(f"case-{n}", f"案例{n}") for n in range(5)]
    content = write_workbook(Export("案例", [Column(0, "案例编号"), Column(1, "标题")]), rows, limit=3)
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    headers, data = table(ws)
    assert ["case-0", "case-1", "case-2"] == [row["案例编号"] for row in data]
    assert "A1:B4" == ws.auto_filter.ref
    assert "符合条件的记录超过 3 行，仅导出了前 3 行；请缩小筛选范围后分批导出。" == ws.cell(row=6, column=1).value


def test_cells_hold_only_what_excel_accepts():
    long_text = "案" * 40_000
    rows = [("甲\x01乙\x0b丙\x1f丁", long_text)]
    content = write_workbook(Export("案例", [Column(0, "标题"), Column(1, "基本案情")]), rows)
    _, data = table(load_workbook(io.BytesIO(content)).worksheets[0])
    assert "甲乙丙丁" == data[0]["标题"]
    assert 32_767 == len(data[0]["基本案情"])


def test_an_export_with_no_matching_case_has_only_the_headers(small_site):
    headers, rows = export(small_site, "/cases/cases.xlsx?year=1999")
    assert (CASE_HEADERS, []) == (headers, rows)


COUNT_TO = "with recursive n(x) as (select 1 union all select x + 1 from n where x < :last) select x from n"


def test_a_runaway_export_query_is_stopped():
    conn = sqlite3.connect(":memory:")
    budget = SqlBudget(ms=5)
    with budget.installed(conn), pytest.raises(sqlite3.OperationalError, match="interrupted"):
        budgeted_rows(conn, COUNT_TO + " order by x desc", {"last": 10**9}, budget)


def test_the_rows_are_read_at_once_and_the_read_is_over_before_writing(tmp_path):
    path = tmp_path / "numbers.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table n (x integer)")
        conn.executemany("insert into n values (?)", [(i,) for i in range(1, 3001)])
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    budget = SqlBudget(ms=1000)
    with budget.installed(reader):
        names, rows = budgeted_rows(reader, "select x from n order by x", {}, budget)
    writer = sqlite3.connect(path, timeout=0)  # a build committing in place needs every reader out
    writer.execute("begin exclusive")
    writer.execute("rollback")
    assert (["x"], list(range(1, 3001))) == (names, [x for (x,) in rows])


def test_the_shipped_cases_export_completely(shipped_site):
    _, rows = export(shipped_site, "/cases/cases.xlsx")
    ids = [row["案例编号"] for row in rows]
    assert json_ids(shipped_site, "/cases/cases.json?_shape=objects&_size=max") == ids
    assert sorted(csv_ids(shipped_site, "/cases/cases.csv?_size=max")) == sorted(ids)


def office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(office() is None, reason="LibreOffice (soffice) is not installed; the round trip through an office suite is not checked")
def test_an_office_suite_reads_the_export(small_site, tmp_path: Path):
    workbook = tmp_path / "cases.xlsx"
    workbook.write_bytes(small_site.get(f"/cases/cases.xlsx?{BRIBERY}").content)
    profile = (tmp_path / "office-profile").as_uri()
    subprocess.run(
        [office(), f"-env:UserInstallation={profile}", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(tmp_path / "out"), str(workbook)],
        check=True, capture_output=True, timeout=180,
    )
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "cases.csv").read_text(encoding="utf-8"))))
    assert CASE_HEADERS == rows[0]
    assert 4 == len(rows)
    assert "某县财政局原局长甲某收受购物卡受贿案" in {row[1] for row in rows}
