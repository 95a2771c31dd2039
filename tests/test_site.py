"""The site through a real Datasette: facets, filters, CSV, case pages, queries."""

import csv
import io
import random
from collections import Counter

import pytest
import yaml

from caselib.vocab import vocabulary

from conftest import SHIPPED_CASES, case_text

SPELLINGS = {
    "bribe-taking": ["受贿", "收受贿赂", "受贿罪", "Bribe-taking", "bribe-taking"],
    "dining": ["违规吃喝", "违规接受宴请", "违规公款吃喝", "dining"],
    "gifts": ["违规收送礼品礼金", "收受礼品礼金", "gifts"],
    "interference": ["过问干预插手案件", '违反"三个规定"的过问干预'],
    "gambling": ["赌博", "Gambling"],
    "drunk-driving": ["酒后驾驶", "醉酒驾驶", "酒驾"],
}


def front_matter(path):
    text = path.read_text(encoding="utf-8-sig")
    return yaml.safe_load(text.split("---", 2)[1])


def expected_violation_counts(folder) -> Counter:
    counts = Counter()
    for path in folder.rglob("*.md"):
        if path.name.startswith("_"):
            continue
        labels = {t.zh for raw in front_matter(path)["violations"] for t in vocabulary("violations").resolve(str(raw))}
        counts.update(labels)
    return counts


@pytest.fixture
def random_site(cases, make_site):
    rng = random.Random(20201)
    for n in range(40):
        codes = rng.sample(sorted(SPELLINGS), rng.randint(1, 3))
        spelled = ", ".join("'" + rng.choice(SPELLINGS[c]) + "'" for c in codes)
        cases.write(f"{2013 + n % 13}/case-{n:02d}.md", case_text(title=f"案例{n}", date=f"{2013 + n % 13}-0{1 + n % 9}-1{n % 10}", violations=f"[{spelled}]"))
    return make_site(cases.root), cases.root


def facet_counts(site, path):
    data = site.json(path)
    assert [] == data.get("facets_timed_out", [])
    return {item["value"]: item["count"] for item in data["facet_results"]["violations"]["results"]}


def test_violation_facet_counts_equal_the_files(random_site):
    site, folder = random_site
    assert expected_violation_counts(folder) == Counter(facet_counts(site, "/cases/cases.json?_facet_array=violations"))


def test_default_facets_on_the_case_list(random_site):
    site, _ = random_site
    data = site.json("/cases/cases.json")
    assert {"violations", "year", "sanctions", "rank", "form", "personnel", "province"} == set(data["facet_results"])


def test_shipped_violation_facet_counts_equal_the_files(shipped_site):
    assert expected_violation_counts(SHIPPED_CASES) == Counter(facet_counts(shipped_site, "/cases/cases.json?_facet_array=violations&_facet_size=max"))


def test_csv_lists_exactly_the_cases_with_a_violation(random_site):
    site, folder = random_site
    expected = sorted(
        p.stem
        for p in folder.rglob("*.md")
        if "受贿" in {t.zh for raw in front_matter(p)["violations"] for t in vocabulary("violations").resolve(str(raw))}
    )
    response = site.get("/cases/cases.csv?violations__arraycontains=受贿&_size=max")
    assert 200 == response.status_code
    listed = sorted(row["id"] for row in csv.DictReader(io.StringIO(response.text)))
    assert expected == listed
    assert len(expected) > 5


def test_cases_are_newest_first(random_site):
    site, _ = random_site
    dates = [row["date"] for row in site.json("/cases/cases.json?_shape=objects&_size=max")["rows"]]
    assert sorted(dates, reverse=True) == dates


def test_case_page_renders_sections_as_html(cases, make_site):
    body = "## 基本案情\n\n张某**多次**接受宴请。\n\n## 处理结果\n\n<b>党内警告</b>。\n"
    cases.write("dinner.md", case_text(body=body))
    page = make_site(cases.root).get("/cases/cases/dinner")
    assert 200 == page.status_code
    assert '<h2 id="section-facts">基本案情</h2>' in page.text
    assert "<p>张某<strong>多次</strong>接受宴请。</p>" in page.text
    assert "<p>&lt;b&gt;党内警告&lt;/b&gt;。</p>" in page.text
    assert "## 基本案情" not in page.text


def test_search_box_finds_english_words(cases, make_site):
    body = "## Facts\n\nThe clerk accepted BRIBES from a lawyer.\n"
    cases.write("en-case.md", case_text(title="A clerk's bribes", violations="[bribe-taking]", body=body))
    cases.write("zh-case.md", case_text(violations="[违规吃喝]"))
    site = make_site(cases.root)
    found = [r["id"] for r in site.json("/cases/cases.json?_search=lawyer&_shape=objects")["rows"]]
    assert ["en-case"] == found


def test_an_english_word_finds_the_cases_labelled_with_a_value_whose_english_label_has_it(cases, make_site):
    cases.write("labelled.md", case_text())  # 违规接触当事人律师: "Improper contact with parties or lawyers"
    cases.write("other.md", case_text(title="某局干部违规吃喝案", violations="[违规吃喝]", body="## 基本案情\n\n张某接受宴请。\n"))
    site = make_site(cases.root)
    found = [r["id"] for r in site.json("/cases/cases.json?_search=lawyer&_shape=objects")["rows"]]
    assert ["labelled"] == found


def test_canned_query_counts_by_violation_type(random_site):
    site, folder = random_site
    rows = site.json("/cases/violation_counts.json?_shape=objects&_size=max")["rows"]
    counted = {r["违规类型"]: r["案例数"] for r in rows if r["案例数"]}
    assert expected_violation_counts(folder) == Counter(counted)
    assert 33 == len(rows)


def test_canned_query_counts_by_group(random_site):
    site, folder = random_site
    rows = site.json("/cases/violation_group_counts.json?_shape=objects")["rows"]
    groups = {r["类别"]: r["案例数"] for r in rows}
    expected = Counter()
    for path in folder.rglob("*.md"):
        expected.update({t.group for raw in front_matter(path)["violations"] for t in vocabulary("violations").resolve(str(raw))})
    assert expected == Counter({g: n for g, n in groups.items() if n})


@pytest.mark.parametrize("spelling", ["受贿", "bribe-taking", "Bribe-taking"])
def test_canned_query_cases_for_one_violation(random_site, spelling):
    site, _ = random_site
    rows = site.json(f"/cases/cases_by_violation.json?violation={spelling}&_shape=objects&_size=max")["rows"]
    listed = sorted(r["案例编号"] for r in rows)
    csv_text = site.get("/cases/cases.csv?violations__arraycontains=受贿&_size=max").text
    assert sorted(r["id"] for r in csv.DictReader(io.StringIO(csv_text))) == listed


def test_home_and_lookup_tables_load(shipped_site):
    for path in ("/", "/cases", "/cases/cases", "/cases/violation_types", "/cases/sanction_types"):
        assert 200 == shipped_site.get(path).status_code, path


def test_default_violation_facet_uses_the_link_tables_and_toggles_arraycontains(random_site):
    site, folder = random_site
    data = site.json("/cases/cases.json?_facet_size=max")
    facet = data["facet_results"]["violations"]
    assert "linked" == facet["type"]
    assert expected_violation_counts(folder) == Counter({r["value"]: r["count"] for r in facet["results"]})
    bribery = next(r for r in facet["results"] if r["value"] == "受贿")
    assert bribery["toggle_url"].endswith("?_facet_size=max&violations__arraycontains=%E5%8F%97%E8%B4%BF")


def test_linked_facet_counts_follow_the_filters(random_site):
    site, _ = random_site
    filtered = site.json("/cases/cases.json?violations__arraycontains=受贿&year__gte=2018")
    linked = {r["value"]: r["count"] for r in filtered["facet_results"]["violations"]["results"]}
    array = site.json("/cases/cases.json?violations__arraycontains=受贿&year__gte=2018&_facet_array=violations")
    array_counts = {r["value"]: r["count"] for r in array["facet_results"]["violations_2"]["results"]}
    assert array_counts == linked
    assert filtered["filtered_table_rows_count"] == linked["受贿"]


def test_paging_in_the_default_order_neither_skips_nor_repeats(cases, make_site):
    for n in range(30):
        cases.write(f"same-day-{n:02d}.md", case_text(title=f"同日案例{n}", date="2021-05-01" if n % 3 else "2021-05", violations="[受贿]"))
    site = make_site(cases.root)
    seen, path = [], "/cases/cases.json?_shape=objects&_size=7"
    while path:
        data = site.json(path)
        seen += [row["id"] for row in data["rows"]]
        path = data["next_url"] and data["next_url"].replace("http://localhost", "")
    assert sorted(f"same-day-{n:02d}" for n in range(30)) == sorted(seen)
    assert len(seen) == len(set(seen))
