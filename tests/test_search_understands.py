"""Search that understands what trainers type: a vocabulary value's every name
(酒驾 finds the cases labelled 酒后驾驶, 双开 those with both expulsions),
traditional and simplified characters as one script, English word forms;
and a ranking that puts the labelled cases first.

The expected results come from a plain scan: the vocabulary file read as
YAML here, each case's stored text, and ``search.contains`` (a regex over
the folded text). The results under test come from a real Datasette over a
real build (its search box, the ranked search and the exports).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
from pathlib import Path

import opencc
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib import search, store
from caselib.pipeline import build
from caselib.render import SECTIONS
from caselib.text import one_script

from conftest import REPO, SHIPPED_CASES, Site, case_text

VOCABULARIES = yaml.safe_load((REPO / "caselib" / "vocabularies.yml").read_text(encoding="utf-8"))
TERM_FIELDS = ("violations", "sanctions", "disciplines", "form", "rank", "personnel", "province")
TEXT_FIELDS = ("title", "other_text", *SECTIONS, "region", "unit", "position")
QUERIES = [
    "酒驾", "醉驾", "醉酒驾驶", "双开", "开除", "公车私用", "吃拿卡要", "泄露案情", "打招呼", "严重警告",
    "受賄", "賄賂", "贿赂", "干預司法", "違規吃喝", "購物卡",
    "bribed", "bribes", "bribery", "prosecutors", "judges", "drink-driving", "Drinking", "lawyers banquets",
    "受贿 律师", "公车私用 婚礼",
]


def names(field: str, labels: list[str]) -> list[str]:
    """Every name of the values ``labels`` of a field, read from the vocabulary file."""
    spec = VOCABULARIES[field]
    values = [v for v in spec["values"] if v["zh"] in labels]
    found = [n for v in values for n in (v["zh"], v["en"], v["code"], *v.get("aliases", []))]
    codes = {v["code"] for v in values}
    found += [short for short, expanded in spec.get("expansions", {}).items() if codes.issuperset(expanded)]
    return found


def stored_cases(db: Path) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("select * from cases c join case_texts t on t.id = c.id").fetchall()
    conn.close()
    return {row["id"]: dict(row) for row in rows}


def values(case: dict, field: str) -> list[str]:
    value = case[field]
    if value and value.startswith("["):
        return json.loads(value)
    return [value] if value else []


def searchable(case: dict) -> str:
    """A case's text as a reader sees it, its keywords, and every name of its labels."""
    parts = [case[f] or "" for f in TEXT_FIELDS] + values(case, "tags")
    parts += [n for field in TERM_FIELDS for n in names(field, values(case, field))]
    return "\n".join(parts)


def labelled(case: dict, query: str) -> bool:
    """Whether the case carries a value one of whose names contains the whole query."""
    return search.contains("\n".join(n for field in TERM_FIELDS for n in names(field, values(case, field))), query)


def expected(cases: dict[str, dict], query: str) -> list[str]:
    return sorted(case_id for case_id, case in cases.items() if search.contains(searchable(case), query))


def found(site: Site, query: str) -> list[str]:
    data = site.json(f"/cases/cases.json?_search={query}&_col=title&_shape=objects&_size=max")
    return sorted(row["id"] for row in data["rows"])


def ranked(site: Site, query: str) -> list[str]:
    data = site.json(f"/cases/search.json?q={query}&violation=&limit=0&_shape=objects&_size=max")
    return [row["案例编号"] for row in data["rows"]]


@pytest.fixture(scope="module")
def shipped(shipped_db):
    return stored_cases(shipped_db)


@pytest.mark.parametrize("query", QUERIES)
def test_the_shipped_library_finds_exactly_the_labelled_and_containing_cases(shipped_site, shipped, query):
    result = found(shipped_site, query)
    assert expected(shipped, query) == result
    assert {c for c, case in shipped.items() if labelled(case, query)} <= set(result)


@pytest.mark.parametrize(
    "query,cases",
    [
        ("酒驾", ["2014-minjing-zuijiu-jiashi", "2022-police-drink-driving", "2025-weigui-chihe-jiuhou-jiashi"]),
        ("醉驾", ["2014-minjing-zuijiu-jiashi", "2022-police-drink-driving", "2025-weigui-chihe-jiuhou-jiashi"]),
        ("drink-driving", ["2014-minjing-zuijiu-jiashi", "2022-police-drink-driving", "2025-weigui-chihe-jiuhou-jiashi"]),
        ("受賄", None),  # as many as 受贿
        ("bribed", None),
    ],
)
def test_what_the_issue_tried_now_finds_every_case(shipped_site, shipped, query, cases):
    result = found(shipped_site, query)
    if cases is not None:
        assert set(cases) <= set(result)
    else:
        bribe = {c for c, case in shipped.items() if "受贿" in values(case, "violations")}
        assert len(bribe) >= 5 and bribe <= set(result)


def test_shorthand_finds_the_cases_with_every_value_it_stands_for(shipped_site, shipped):
    both = sorted(c for c, case in shipped.items() if {"开除党籍", "开除公职"} <= set(values(case, "sanctions")))
    assert len(both) >= 5
    assert set(both) <= set(found(shipped_site, "双开"))
    only_one = [c for c, case in shipped.items() if ("开除党籍" in values(case, "sanctions")) != ("开除公职" in values(case, "sanctions"))]
    for case_id in only_one:
        if not search.contains(searchable(shipped[case_id]), "双开"):
            assert case_id not in found(shipped_site, "双开")


def test_the_ranked_search_puts_the_labelled_cases_first_then_title_matches(shipped_site, shipped):
    for query in ["酒驾", "受贿", "违规吃喝", "泄露案情", "公车私用", "bribed"]:
        order = ranked(shipped_site, query)
        assert sorted(order) == expected(shipped, query), query
        first = {c for c, case in shipped.items() if labelled(case, query)}
        assert first and first == set(order[: len(first)]), query
        rest = order[len(first):]
        in_title = [search.contains(shipped[c]["title"], query) for c in rest]
        assert in_title == sorted(in_title, reverse=True), query


def test_the_result_pages_say_what_was_understood(shipped_site):
    page = shipped_site.get("/search?q=酒驾").text
    assert "酒驾 → 违规类型：酒后驾驶" in page
    assert 'href="/cases/cases?violations__arraycontains=%E9%85%92%E5%90%8E%E9%A9%BE%E9%A9%B6"' in page
    listing = shipped_site.get("/cases/cases?_search=双开").text
    assert "双开 → 处分处理：开除党籍 + 开除公职" in listing
    both = "sanctions__arraycontains=%E5%BC%80%E9%99%A4%E5%85%9A%E7%B1%8D&amp;sanctions__arraycontains=%E5%BC%80%E9%99%A4%E5%85%AC%E8%81%8C"
    assert both in listing
    assert "检索词理解" not in shipped_site.get("/search?q=婚礼").text


def test_the_labelled_list_link_lists_the_labelled_cases(shipped_site, shipped):
    data = shipped_site.json("/cases/cases.json?sanctions__arraycontains=开除党籍&sanctions__arraycontains=开除公职&_shape=objects&_size=max")
    assert sorted(c for c, case in shipped.items() if {"开除党籍", "开除公职"} <= set(values(case, "sanctions"))) == sorted(r["id"] for r in data["rows"])


def test_understood_searches_combine_with_facets_and_exports(shipped_site, shipped):
    data = shipped_site.json("/cases/cases.json?_search=酒驾&_facet=rank&_shape=objects&_size=max")
    assert len(expected(shipped, "酒驾")) == sum(r["count"] for r in data["facet_results"]["rank"]["results"]) + sum(
        1 for r in data["rows"] if not r["rank"])
    exported = shipped_site.get("/cases/cases.csvx?_search=受賄&_size=max").content.decode("utf-8-sig")
    assert len(expected(shipped, "受賄")) == len(list(csv.DictReader(io.StringIO(exported))))
    searched = shipped_site.get("/cases/search.csv?q=醉驾&violation=&_size=max").text
    assert sorted(r["案例编号"] for r in csv.DictReader(io.StringIO(searched))) == expected(shipped, "醉驾")


def test_snippets_and_highlights_show_the_text_as_written(tmp_path):
    from conftest import CasesFolder

    folder = CasesFolder(tmp_path / "cases")
    folder.write("hk.md", case_text(title="某局長收受賄賂案", violations="[受贿]", body="## 基本案情\n\n張某多次收受賄賂，並接受律師宴請。\n"))
    folder.write("en.md", case_text(title="A clerk who was bribed", violations="[赌博]", body="## 基本案情\n\nHe accepted bribes and took bribery money.\n"))
    build(folder.root, tmp_path / "cases.db")
    site = Site(tmp_path / "cases.db")
    try:
        page = site.get("/search?q=贿赂").text
        assert "收受<mark>賄賂</mark>" in page  # found in simplified, shown as written
        assert "某局長收受<mark>賄賂</mark>案" in page
        english = site.get("/search?q=bribe").text
        assert "He accepted <mark>bribes</mark> and took bribery money." in english  # bribery stems to briberi
        assert "who was <mark>bribed</mark>" in english
        assert ["hk"] == found(site, "律師")
        assert ["hk"] == found(site, "律师")
    finally:
        site.close()


# ---------------------------------------------------------------- generated cases

S2T = opencc.OpenCC("s2t")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Generated cases, every third one's text written in traditional characters."""
    from bench.generate import generate

    root = tmp_path_factory.mktemp("generated")
    generate(300, root / "cases", seed=7)
    for number, path in enumerate(sorted((root / "cases").rglob("*.md"))):
        if number % 3 == 0:
            _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
            body = "".join(line if line.startswith("#") else S2T.convert(line) for line in body.splitlines(keepends=True))
            path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    build(root / "cases", root / "cases.db", jobs=1)
    site = Site(root / "cases.db")
    yield site, stored_cases(root / "cases.db")
    site.close()


def sampled_queries(cases: dict[str, dict], count: int = 60) -> list[str]:
    """Two- to four-character pieces and English words of the cases' text, some in traditional script."""
    rng = random.Random(3)
    texts = [searchable(case) for case in cases.values()]
    queries: list[str] = []
    while len(queries) < count:
        text = rng.choice(texts)
        runs = re.findall(f"[{search.CJK}]{{2,}}", text)
        words = re.findall(r"[A-Za-z]{4,}", text)
        if rng.random() < 0.7 and runs:
            run = rng.choice(runs)
            size = rng.randint(2, min(4, len(run)))
            start = rng.randint(0, len(run) - size)
            piece = run[start : start + size]
            queries.append(S2T.convert(piece) if rng.random() < 0.5 else piece)
        elif words:
            queries.append(rng.choice(words))
    return queries


def test_generated_cases_find_exactly_the_labelled_and_containing_cases(generated):
    site, cases = generated
    for query in [*QUERIES, *sampled_queries(cases)]:
        assert expected(cases, query) == found(site, query), query


def test_traditional_text_is_found_by_simplified_queries_and_back(generated):
    site, cases = generated
    traditional = [c for c, case in cases.items() if case["facts"] and one_script(case["facts"]) != case["facts"]]
    assert len(traditional) >= 50
    case = cases[traditional[0]]
    piece = next(run for run in re.findall(f"[{search.CJK}]{{4,}}", case["facts"]) if one_script(run) != run)[:4]
    assert traditional[0] in found(site, one_script(piece))
    assert traditional[0] in found(site, piece)


# ---------------------------------------------------------------- the index against the scan

ALPHABET = "受贿賄贪貪污违違规規吃喝礼禮金卡，。 ab"
texts = st.lists(st.text(alphabet=ALPHABET, max_size=30), min_size=1, max_size=25)
queries = st.text(alphabet="受贿賄贪貪污违違规規吃喝礼禮金卡", min_size=1, max_size=6)


def _table(corpus: list[str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create virtual table t using fts5(x, content='', tokenize='{store.FTS_TOKENIZE}')")
    conn.executemany("insert into t(rowid, x) values (?, ?)", [(i + 1, search.index_text(x)) for i, x in enumerate(corpus)])
    return conn


def _matches(conn: sqlite3.Connection, query: str) -> list[int]:
    return [r[0] for r in conn.execute("select rowid from t where t match ? order by rowid", [search.fts_query(query)])]


@settings(max_examples=150, deadline=None)
@given(texts, st.lists(queries, min_size=1, max_size=5))
def test_the_index_finds_exactly_the_folded_substring(corpus, query_list):
    conn = _table(corpus)
    for query in query_list:
        assert [i + 1 for i, x in enumerate(corpus) if one_script(query) in one_script(x)] == _matches(conn, query), query


FORMS = ["bribe", "bribes", "bribed", "bribing", "bribery", "briber", "prosecutor", "prosecutors", "prosecuted",
         "lawyer", "lawyers", "banquet", "banquets", "drink", "drinking", "drunk", "driving", "drives", "gift", "gifts",
         "judge", "judges", "judged", "judgment", "leak", "leaked", "leaking", "case", "cases", "is", "as", "us"]
english = st.lists(st.lists(st.sampled_from(FORMS), max_size=6).map(" ".join), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(english, st.lists(st.sampled_from(FORMS), min_size=1, max_size=4))
def test_english_words_match_every_form_with_their_stem(corpus, words):
    conn = _table(corpus)
    for word in words:
        assert [i + 1 for i, x in enumerate(corpus) if search.contains(x, word)] == _matches(conn, word), word


def test_the_stems_the_pages_highlight_are_those_of_the_index(generated, shipped):
    """Every English word of the shipped and generated cases: SQLite's porter
    stem (what the index holds) is the stem the Python side computes."""
    _, cases = generated
    words = sorted({w.lower() for c in [*cases.values(), *shipped.values()] for w in search.WORD.findall(searchable(c)) if w.isascii() and w.isalpha()})
    assert len(words) > 300
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create virtual table t using fts5(x, tokenize='{store.FTS_TOKENIZE}')")
    conn.execute("create virtual table v using fts5vocab(t, 'instance')")
    conn.executemany("insert into t(rowid, x) values (?, ?)", list(enumerate(words, 1)))
    index = dict(zip(words, (term for (term,) in conn.execute("select term from v order by doc"))))
    assert {w: index[w] for w in words} == {w: search.stem(w) for w in words}
