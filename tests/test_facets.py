"""Facet counts cover the whole result on every page, not only the rows after the cursor."""

import re

import pytest

from caselib.site.facets import without_keyset

from conftest import case_text

RANKS = ["县处级", "乡科级", "一般干部"]


@pytest.fixture
def paged_site(cases, make_site):
    for n in range(24):
        cases.write(
            f"{2015 + n % 6}/paged-{n:02d}.md",
            case_text(
                title=f"分页案例{n}",
                date=f"{2015 + n % 6}-0{1 + n % 9}-1{n % 10}",
                violations="[受贿]" if n % 2 else "[违规吃喝, 受贿]",
                extra=f"rank: {RANKS[n % 3]}\n",
            ),
        )
    return make_site(cases.root)


def facets(data: dict) -> dict:
    return {
        name: {item["value"]: item["count"] for item in facet["results"]}
        for name, facet in data["facet_results"].items()
    }


def next_path(data: dict) -> str:
    return data["next_url"].replace("http://localhost", "")


@pytest.mark.parametrize(
    "query",
    [
        "_size=5",
        "_size=5&_facet=lang&_facet_array=tags",
        "_size=5&_search=分页",
        "_size=5&violations__arraycontains=违规吃喝",
        "_size=5&_sort=title",
        "_size=5&_sort=amount",
        "_size=5&_sort_desc=rank&_facet=unit",
    ],
)
def test_page_two_counts_the_whole_result(paged_site, query):
    first = paged_site.json(f"/cases/cases.json?{query}")
    second = paged_site.json(next_path(first))
    third = paged_site.json(next_path(second))
    assert 5 == len(second["rows"])
    assert first["filtered_table_rows_count"] == sum(facets(first)["rank"].values())
    assert (facets(first), facets(first)) == (facets(second), facets(third))


def test_page_two_html_shows_the_same_counts(paged_site):
    first = paged_site.json("/cases/cases.json?_size=5")
    page = paged_site.get(next_path(first).replace("/cases/cases.json", "/cases/cases"))
    assert 200 == page.status_code
    shown = dict(re.findall(r'<li><a href="[^"]*rank=[^"]*">([^<]+)</a> <span class="count">(\d+)</span></li>', page.text))
    assert {rank: str(count) for rank, count in facets(first)["rank"].items()} == shown


KEYSET_CASES = [
    (
        "select * from [cases] where ([sort_key] < :p0 or [sort_key] is null or ([sort_key] = :p0 and ((id > :p1)))) ",
        {"p0": "2020-01-01 a", "p1": "a"},
        ["2020-01-01 a", "a"],
        "select * from [cases] ",
        {},
    ),
    (
        "select * from [cases] where rowid in (select rowid from cases_fts where cases_fts match :search) "
        "and ([title] > :p1 or ([title] = :p1 and ((id > :p2)))) ",
        {"search": '"受贿"', "p1": "x (y)", "p2": "b"},
        ["x (y)", "b"],
        "select * from [cases] where rowid in (select rowid from cases_fts where cases_fts match :search) ",
        {"search": '"受贿"'},
    ),
    (
        "select * from [t] where [a] = :p0 and rowid > :p1 ",
        {"p0": "1", "p1": "9"},
        ["9"],
        "select * from [t] where [a] = :p0 ",
        {"p0": "1"},
    ),
    (
        "select * from [cases] where [title] = ')(' and ([title] > :p1 or ([title] = :p1 and ((id > :p2)))) ",
        {"p0": "z", "p1": "a", "p2": "b"},
        ["a", "b"],
        "select * from [cases] where [title] = ')(' ",
        {"p0": "z"},
    ),
]
# Left alone: what is not certainly the cursor.
UNTOUCHED_CASES = [
    ("select * from [cases] ", {}, ["x"]),
    ("select * from [cases] where [year] = :p0 ", {"p0": "2020"}, ["2020"]),
    ("select * from [case_violations] where (position=0) ", {}, ["zz"]),  # a malformed _next adds no cursor
    ("select * from [t] where rowid > :p0 ", {"p0": "5"}, ["7"]),  # rowid__gt=5 with a cursor value of 7
    ("select * from [t] where ([a] > :p0 or ([a] = :p0 and ((id > :p1)))) ", {"p0": "1", "p1": "2", "p2": "3"}, ["1", "2"]),
    ("select * from [t] where [b] = :p1 and ([a] > :p1 or ([a] = :p1 and ((id > :p2)))) ", {"p1": "1", "p2": "2"}, ["1", "2"]),
]


@pytest.mark.parametrize("sql, params, cursor, expected_sql, expected_params", KEYSET_CASES)
def test_without_keyset(sql, params, cursor, expected_sql, expected_params):
    assert (expected_sql, expected_params) == without_keyset(sql, params, cursor)


@pytest.mark.parametrize("sql, params, cursor", UNTOUCHED_CASES)
def test_without_keyset_leaves_other_conditions(sql, params, cursor):
    assert (sql, params) == without_keyset(sql, params, cursor)


@pytest.mark.parametrize(
    "path",
    [
        "/cases/similar.json?case_id__notblank=1&_next=x",
        "/cases/case_violations.json?_where=(position%3D0)&_next=zz",
    ],
)
def test_malformed_next_keeps_the_filters(paged_site, path):
    staff = {"id": "staff"}  # _where= is SQL: only for signed-in actors
    data = paged_site.json(path.replace(".json?", ".json?_facet=position&"), actor=staff)
    plain = paged_site.json(path.split("&_next=")[0].replace(".json?", ".json?_facet=position&"), actor=staff)
    assert facets(plain) == facets(data)
