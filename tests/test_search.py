"""Chinese search: exactly the cases whose text contains what was typed."""

import csv
import io
import random
import sqlite3
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib import search, store
from caselib.text import fold

from conftest import case_text

TEXTS = {
    "bribe": ("某局长受贿案", "张某利用职务便利，收受贿赂共计十二万元。"),
    "bribe-word": ("收受贿赂的教训", "李某收受某公司所送的购物卡。"),
    "dinner": ("检察官违规吃喝案", "王某多次接受律师宴请，违规吃喝风屡禁不止。"),
    "spaced": ("违规，吃喝分开写", "本案中“违规”与“吃喝”并不相连。"),
    "greed": ("清廉自守", "他说：我从不贪。后来却贪了。"),
    "english": ("A clerk takes bribes", "The court clerk accepted KTV vouchers and Bribes from a lawyer."),
    "mixed": ("购物卡与KTV消费", "赵某接受KTV消费和购物卡，干预司法活动。"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from caselib.pipeline import build

    from conftest import CasesFolder, Site

    root = tmp_path_factory.mktemp("search")
    folder = CasesFolder(root / "cases")
    violations = {"bribe": "[受贿]", "bribe-word": "[受贿]", "dinner": "[违规吃喝]", "english": "[bribe-taking]", "mixed": "[干预司法, gifts]"}
    for case_id, (title, text) in TEXTS.items():
        folder.write(f"{case_id}.md", case_text(title=title, violations=violations.get(case_id, "[赌博]"), body=f"## 基本案情\n\n{text}\n"))
    build(folder.root, root / "cases.db")
    site = Site(root / "cases.db")
    yield site
    site.close()


def found(site, query: str, extra: str = "") -> list[str]:
    data = site.json(f"/cases/cases.json?_search={query}&_shape=objects&_size=max{extra}")
    return sorted(row["id"] for row in data["rows"])


@pytest.mark.parametrize(
    "query,expected",
    [
        ("贪", ["greed"]),  # one character, including one that ends a sentence: 不贪。
        ("贿", ["bribe", "bribe-word", "english"]),  # english: its violation's label 受贿
        ("受贿", ["bribe", "bribe-word", "english"]),  # inside 收受贿赂
        ("贿赂", ["bribe", "bribe-word", "english"]),  # english: 收受贿赂 is a name of its 受贿
        ("违规吃喝", ["dinner"]),  # inside 违规吃喝风, not across 违规，吃喝
        ("购物卡", ["bribe-word", "mixed"]),
        ("干预司法", ["mixed"]),
        ("受贿 购物卡", ["bribe-word"]),  # all terms
        ('"违规 吃喝"', ["spaced"]),  # a phrase across punctuation
        ("lawyer", ["english"]),
        ("BRIBES", ["bribe", "bribe-word", "english"]),  # bribe, as in each one's Bribe-taking
        ("ktv", ["english", "mixed"]),
        ("KTV消费", ["mixed"]),
        ("购物卡 KTV", ["mixed"]),
        ("受贿罪", ["bribe", "bribe-word", "english"]),  # a name of 受贿
        ("受贿罪 购物卡", ["bribe-word"]),
        ("ＫＴＶ", ["english", "mixed"]),  # full-width letters
        ("，，", []),
    ],
)
def test_search_box(site, query, expected):
    assert expected == found(site, query)


def test_search_matches_vocabulary_labels_in_both_languages(site):
    assert ["bribe", "bribe-word", "english"] == found(site, "Bribe-taking")


def test_search_combines_with_a_facet(site):
    data = site.json("/cases/cases.json?_search=受贿&_facet_array=violations")
    assert {"受贿": 3} == {r["value"]: r["count"] for r in data["facet_results"]["violations"]["results"]}


def test_search_combines_with_a_filter_and_csv(site):
    response = site.get("/cases/cases.csv?_search=购物卡&violations__arraycontains=受贿&_size=max")
    assert ["bribe-word"] == [row["id"] for row in csv.DictReader(io.StringIO(response.text))]


def test_ranked_search_page_puts_title_matches_first_and_highlights(site):
    page = site.get("/search?q=购物卡")
    assert 200 == page.status_code
    title_match = page.text.index('href="/cases/cases/mixed"')
    body_match = page.text.index('href="/cases/cases/bribe-word"')
    assert title_match < body_match
    assert "收受某公司所送的<mark>购物卡</mark>" in page.text
    assert "收<mark>受贿</mark>赂" in site.get("/search?q=受贿").text


def test_ranked_search_filters_by_violation_and_exports(site):
    rows = site.json("/cases/search.json?q=购物卡&violation=干预司法&_shape=objects")["rows"]
    assert ["mixed"] == [r["案例编号"] for r in rows]
    exported = site.get("/cases/search.csv?q=购物卡&violation=&_size=max").text
    assert ["bribe-word", "mixed"] == sorted(r["案例编号"] for r in csv.DictReader(io.StringIO(exported)))


def test_search_page_escapes_the_query(site):
    page = site.get("/search?q=<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_reference_contains():
    assert search.contains("张某收受贿赂", "受贿")
    assert not search.contains("违规，吃喝", "违规吃喝")
    assert search.contains("违规，吃喝", '"违规 吃喝"')
    assert search.contains("The KTV bill", "ktv")
    assert search.contains("The KTVs bill", "ktv")  # the same stem
    assert not search.contains("The KTVing bill", "ktv")
    assert search.contains("某局長收受賄賂", "贿赂")
    assert search.contains("收受贿赂", "賄賂")


# Property: the index skips NFKC for text whose tokens it cannot change; what
# unicode61 makes of the result is exactly what it makes of fully normalised text.
WIDE_ALPHABET = "受贿违规礼金ＡＢａｂ１２，。：（）　…‥ｶﾞ①ﬁ㈱⼀豈é\u0301\u0308 -.!xyzÉ½²"


def fts_tokens(text: str) -> list[tuple[str, int]]:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create virtual table t using fts5(x, tokenize='{store.FTS_TOKENIZE}')")
    conn.execute("create virtual table v using fts5vocab(t, 'instance')")
    conn.execute("insert into t(rowid, x) values (1, ?)", [text])
    return conn.execute("select term, offset from v order by offset").fetchall()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=WIDE_ALPHABET, max_size=40))
def test_index_text_tokens_equal_those_of_fully_normalised_text(text):
    assert fts_tokens(search.index_text(fold(text))) == fts_tokens(search.index_text(text))


def test_every_character_the_index_leaves_unnormalised_keeps_the_tokens():
    """Exhaustive over the blocks where NFKC is skipped: each character NFKC
    would change, between two words, gives the tokens the normalised text gives."""
    skipped = [
        chr(code)
        for start, end in search._COMMON_BLOCKS
        for code in range(start, end + 1)
        if not search._NEEDS_NFKC.search(chr(code)) and unicodedata.normalize("NFKC", chr(code)) != chr(code)
    ]
    assert len(skipped) > 100  # the full-width punctuation at least
    for ch in skipped:
        text = f"受贿{ch}ab{ch}礼金"
        assert fts_tokens(search.index_text(fold(text))) == fts_tokens(search.index_text(text)), repr(ch)
