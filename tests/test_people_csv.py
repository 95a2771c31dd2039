"""CSV for people: a download Excel opens as it is (BOM, Chinese headers,
joined values, a link to each case, no live formulas), beside Datasette's
plain CSV for programs."""

from __future__ import annotations

import csv
import datetime
import io
from urllib.parse import quote

import pytest

from conftest import case_text

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def site(cases, make_site):
    cases.write("a.md", case_text(title='=HYPERLINK("http://x","点我")', violations="[受贿, 违规吃喝]",
                                  extra="sanctions: [双开]\namount: 12.6万\nregion: 安徽合肥\n"))
    cases.write("b.md", case_text(title="+SUM(1,2) 某局干部案", date="2020-05-05", violations="[受贿]", extra="region: Anhui Province\n"))
    cases.write("c.md", case_text(title="'@某案'", date="2018-01-01", violations="[赌博]"))
    cases.write("d.md", case_text(title="-某案", date="2017-01-01", violations="[受贿]", extra="tags: [律师, 节假日]\n"))
    return make_site(cases.root)


def read(response) -> tuple[bytes, list[dict]]:
    assert 200 == response.status_code, response.text[:300]
    data = response.content
    return data, list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_list_csv_is_a_download_excel_reads(site):
    today = datetime.date.today().isoformat()
    response = site.get("/cases/cases.csvx?violations__arraycontains=" + quote("受贿"))
    data, rows = read(response)
    count = site.json("/cases/cases.json?violations__arraycontains=" + quote("受贿"))["filtered_table_rows_count"]
    assert data.startswith(BOM)
    assert b"\r\n" in data
    assert "text/csv; charset=utf-8" == response.headers["content-type"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote(f'案例列表-受贿-{today}.csv')}" == disposition.split("; ")[-1]
    assert count == len(rows) == 3
    headers = list(rows[0])
    assert ["案例编号", "标题", "日期", "年份", "违规类型", "处分处理"] == headers[:6]
    assert {"digest", "sort_key", "as_written", "body_html", "path"}.isdisjoint(headers)
    assert "案例页面" == headers[-1]
    cells = [value for row in rows for value in row.values()]
    assert not any(value.startswith("[") for value in cells), "a JSON array"
    assert not any(value.startswith(("=", "+", "@", "-")) for value in cells), "a live formula"
    by_id = {row["案例编号"]: row for row in rows}
    assert ''''=HYPERLINK("http://x","点我")''' == by_id["a"]["标题"]
    assert "'+SUM(1,2) 某局干部案" == by_id["b"]["标题"]
    assert "'-某案" == by_id["d"]["标题"]
    assert ("受贿、违规吃喝", "开除党籍、开除公职", "126000", "律师、节假日") == (
        by_id["a"]["违规类型"], by_id["a"]["处分处理"], by_id["a"]["涉案金额（元）"], by_id["d"]["关键词"])
    assert by_id["a"]["案例页面"].endswith("/cases/cases/a")


def test_the_list_page_offers_the_download_not_the_raw_csv(site):
    page = site.get("/cases/cases").text
    assert 'href="/cases/cases.csvx"' in page
    assert 'href="/cases/cases.xlsx"' in page
    assert ".csv?" not in page and '.csv"' not in page


def test_search_and_pack_csvs_are_for_people_too(site):
    _, rows = read(site.get("/cases/search.csvx?q=" + quote("受贿") + "&violation=&_size=max"))
    assert {"a", "b", "d"} == {row["案例编号"] for row in rows}
    assert all(row["案例页面"].endswith(f"/cases/cases/{row['案例编号']}") for row in rows)
    assert not any(v.startswith("[") for row in rows for v in row.values())


def test_datasette_plain_csv_stays_for_programs(site):
    response = site.get("/cases/cases.csv?_size=max")
    assert not response.content.startswith(BOM)
    assert "digest" in response.text.splitlines()[0]


def test_the_province_of_a_region_written_either_way_is_one_facet_value(site):
    data = site.json("/cases/cases.json?_facet=province")
    counts = {v["value"]: v["count"] for v in data["facet_results"]["province"]["results"]}
    assert {"安徽省": 2} == counts
