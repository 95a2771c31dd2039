"""Chinese search: exactness, latency through Datasette, index size, build cost.

    python -m bench.search_bench [--sizes 1000,10000,100000] [--seed S] [--smoke] [--data DIR]

For each size: generate a corpus (cached), build it with the project's own
build, then compare on the same data and the same queries the project's
search (``cjk-bigram``), Datasette's default FTS5 setup (``unicode61``), an
FTS5 trigram index, the index as it was before vocabulary names, one script
and English stems (``before``: the bigram text with unicode61 and a
one-character prefix index, labels in Chinese and English only) and a LIKE
scan. The ground truth is a plain scan of every case's searchable text with
the meaning of ``caselib.search.contains``.
One table per size on stdout, JSON in DATA/results/search-SIZE.json; see
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette.app import Datasette
from datasette.database import Database, QueryInterrupted

from caselib import search
from caselib.parse import parse_case
from caselib.pipeline import build
from caselib.rows import searchable_parts
from caselib.site import datasette, load_metadata, load_settings
from caselib.source import source_from_bytes
from caselib.text import fold, one_script
from caselib.vocab import vocabularies

import opencc

from . import common, generate

SECTION_ORDER = ("facts", "outcome", "analysis", "lessons", "rules", "reform")
CATEGORIES = ("zh1", "zh2", "zh3", "zh4", "zh5", "zh6", "phrase", "absent", "en", "mixed", "multi", "alias", "trad")
ZH_CATEGORIES = ("zh1", "zh2", "zh3", "zh4", "zh5", "zh6", "phrase", "absent")
# Scored apart: punctuation only, a quoted phrase whose words are apart,
# full-width latin letters, upper case, a term ending in punctuation.
EDGE_QUERIES = ("，，", '"违规 吃喝"', "ＫＴＶ", "BRIBES", "受贿。")
PAGE_URL = "/cases/cases.json?_search={q}&_nofacet=1"
FACET_URL = "/cases/cases.json?_search={q}"
# Datasette 0.65.5 orders the first page of a sorted table by the sort column
# alone and later pages by (sort column, primary key): where dates tie across
# a page boundary, paging in the default order loses or repeats rows. Matches
# are collected in primary-key order (&_sort=id); the default order is checked
# separately.
IDS_URL = "/cases/cases.json?_search={q}&_shape=objects&_size=max&_col=id&_nofacet=1&_nosuggest=1"
MATCH_SQL = "select rowid from cases_fts where cases_fts match escape_fts(:q)"
WARM_UP = ("/cases/cases.json?_search=x&_nofacet=1", "/cases/cases.json", "/cases/cases.json?_search=x")
TABLE_PAGES_UP_TO = 20_000  # above, matches are read with MATCH_SQL (paging every match takes too long)
FTS_SHADOWS = ("", "_data", "_idx", "_docsize", "_config", "_content")
MATCH_BUCKETS = ((0, 0), (1, 99), (100, 999), (1000, 9999), (10000, 49999), (50000, None))


@dataclass(frozen=True)
class Approach:
    """One way to search: its FTS5 options (None: the table the build wrote)
    and whether it holds the bigram rewrite and is queried through the site."""

    name: str
    fts_options: str | None
    rewritten: bool
    before: bool = False  # the searchable text as it was: no vocabulary names but labels, no script folding

    @property
    def folder(self) -> str:
        return self.name.replace("+", "-")


APPROACHES = (
    Approach("cjk-bigram", None, True),
    Approach("unicode61", "", False),
    Approach("trigram", ", tokenize='trigram'", False),
    Approach("before", ", prefix='1', tokenize='unicode61 remove_diacritics 2'", True, before=True),
)
BY_NAME = {a.name: a for a in APPROACHES}


@dataclass(frozen=True)
class Settings:
    queries: int = 40  # per Chinese length 1-6; the other groups scale with it
    timing_queries: int = 200  # results pages timed without facets
    facet_queries: int = 30  # results pages timed with the default facets
    repeat: int = 3  # times each page is timed, in rounds; the fastest counts
    like_queries: int = 60
    parse_check: int = 200  # cases re-parsed to check the searchable text
    reference_check: int = 3000  # (case, query) pairs checked against caselib.search.contains


SMOKE = Settings(queries=3, timing_queries=30, facet_queries=5, repeat=1, like_queries=20, parse_check=20, reference_check=300)


# ================================================================ searchable text and the truth


class Corpus:
    """Every case's searchable text, read back from the built database.

    Rebuilt from the stored columns as the contract defines it (title; other
    text and the sections; region, unit, position and tags; every name of
    the case's vocabulary values: label, English label, code, aliases and a
    shorthand such as 双开 when the case has all it stands for, the derived
    province's among them), independently of the build's code, and
    checked against ``caselib.rows.searchable_parts`` on re-parsed files.
    """

    def __init__(self, db: Path):
        by_zh = {name: {t.zh: t for t in v.terms} for name, v in vocabularies().items()}
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        rows = conn.execute("select c.rowid as _rowid, t.*, c.* from cases c join case_texts t on t.id = c.id order by c.rowid").fetchall()
        conn.close()
        self.rowids = [row["_rowid"] for row in rows]
        self.ids = [row["id"] for row in rows]
        self.paths = [row["path"] for row in rows]
        self.dates = [row["date"] for row in rows]
        self.parts = [self._parts(row, by_zh) for row in rows]
        self.before = [self._before(row, by_zh) for row in rows]
        self.rowid_index = {r: i for i, r in enumerate(self.rowids)}
        self.normalised = [tuple(one_script(fold(p)).casefold() for p in parts) for parts in self.parts]
        # One string for substring scans; "\0" is neither CJK nor a word
        # character, so a Chinese term cannot match across two columns or cases.
        pieces = ["\0".join(parts) + "\0\0" for parts in self.normalised]
        self.starts = [0]
        for piece in pieces[:-1]:
            self.starts.append(self.starts[-1] + len(piece))
        self.haystack = "".join(pieces)

    @staticmethod
    def _labels(row: sqlite3.Row) -> list[tuple[str, list[str]]]:
        found = [(name, json.loads(row[name] or "[]")) for name in ("violations", "sanctions", "disciplines")]
        return found + [(name, [row[name]] if row[name] else []) for name in ("form", "rank", "personnel", "province")]

    @classmethod
    def _parts(cls, row: sqlite3.Row, by_zh: dict) -> tuple[str, str, str, str]:
        names = []
        for name, labels in cls._labels(row):
            terms = [by_zh[name][label] for label in labels]
            names += [n for t in terms for n in (t.zh, t.en, t.code, *t.aliases)]
            codes = {t.code for t in terms}
            names += [short for short, expanded in vocabularies()[name].expansions.items() if codes.issuperset(expanded)]
        body = [row["other_text"], *(row[c] for c in SECTION_ORDER)]
        meta = [row["region"], row["unit"], row["position"], *json.loads(row["tags"] or "[]")]
        return row["title"], "\n".join(p for p in body if p), "\n".join(p for p in meta if p), "\n".join(names)

    @classmethod
    def _before(cls, row: sqlite3.Row, by_zh: dict) -> tuple[str, str, str]:
        """The searchable text before: labels in Chinese and English beside the text facts."""
        title, body, meta, _ = cls._parts(row, by_zh)
        labels = [n for name, values in cls._labels(row) for label in values for n in (by_zh[name][label].zh, by_zh[name][label].en)]
        return title, body, "\n".join(p for p in [meta, *labels] if p)

    def __len__(self) -> int:
        return len(self.ids)

    def parser_mismatches(self, cases: Path, sample: int, rng: random.Random) -> dict:
        """Re-parse a sample of files; the ids whose searchable text differs from ``searchable_parts``."""
        indices = rng.sample(range(len(self)), min(sample, len(self)))
        mismatches = []
        for i in indices:
            path = cases.joinpath(*self.paths[i].split("/")[1:])  # stored as cases/2019/x.md
            parts = searchable_parts(parse_case(source_from_bytes(path.read_bytes(), str(path), path.stem)))
            if (parts["title"], parts["body"], parts["labels"], parts["terms"]) != self.parts[i]:
                mismatches.append(self.ids[i])
        return {"checked": len(indices), "mismatches": mismatches}

    def _substring_hits(self, needle: str) -> set[int]:
        """Indices of the cases whose normalised text contains ``needle``."""
        hits: set[int] = set()
        position = self.haystack.find(needle)
        while position >= 0:
            case = bisect_right(self.starts, position) - 1
            hits.add(case)
            following = self.starts[case + 1] if case + 1 < len(self.starts) else len(self.haystack)
            position = self.haystack.find(needle, following)
        return hits

    def truth(self, query: str) -> set[int]:
        """Indices of the cases ``query`` matches, as ``caselib.search.contains`` means it.

        Every term must be found (each in some column); a query without a
        searchable term matches nothing. Chinese terms are plain substrings;
        other terms are narrowed down by their literal pieces, then checked
        with the reference's own matcher.
        """
        result: set[int] | None = None
        for term in searched_terms(query):
            folded = one_script(fold(term)).casefold()
            segments = [m.group(0) for m in search.SEGMENT.finditer(folded)]
            if len(segments) == 1 and search.CJK_RUN.fullmatch(segments[0]):
                hits = self._substring_hits(segments[0])
            else:
                # a word matches its other forms too: narrow down by the first two letters of its stem,
                # which no form with the same stem lacks (Porter keeps a word's first two letters;
                # the third may change: may → mai)
                pieces = [piece if search.CJK_RUN.fullmatch(piece) or not piece.isalpha() else search.stem(piece)[:2] for piece in segments]
                candidates = set.intersection(*(self._substring_hits(piece) for piece in pieces))
                hits = {i for i in candidates if any(search._contains_term(col, folded) for col in self.normalised[i])}
            result = hits if result is None else result & hits
        return result or set()

    def reference(self, index: int, query: str) -> bool:
        """``caselib.search.contains`` itself, term by term and column by column."""
        terms = searched_terms(query)
        return bool(terms) and all(any(search.contains(column, f'"{term}"') for column in self.parts[index]) for term in terms)


def searched_terms(query: str) -> list[str]:
    """The terms of ``query`` that have something to search for."""
    return [term for term in search.query_terms(query) if search._term_tokens(term)[0]]


# ================================================================ queries


class Picked:
    """Queries in the order picked, each once, with its group."""

    def __init__(self) -> None:
        self.queries: list[dict] = []
        self.seen: set[str] = set()

    def add(self, query: str, category: str) -> None:
        if query and query not in self.seen:
            self.seen.add(query)
            self.queries.append({"q": query, "category": category})


def pick_substrings(picked: Picked, corpus: Corpus, per_length: int, rng: random.Random) -> None:
    """``per_length`` Chinese substrings of each length 1-6 at random places in the corpus."""
    for length in range(1, 7):
        wanted = len(picked.queries) + per_length
        attempts = 0
        while len(picked.queries) < wanted and attempts < per_length * 200:
            attempts += 1
            parts = corpus.normalised[rng.randrange(len(corpus))]
            column = rng.choices(range(len(parts)), weights=[len(p) + 1 for p in parts])[0]
            runs = [m.group(0) for m in search.CJK_RUN.finditer(parts[column]) if len(m.group(0)) >= length]
            if runs:
                run = rng.choices(runs, weights=[len(r) for r in runs])[0]
                start = rng.randrange(len(run) - length + 1)
                picked.add(run[start : start + length], f"zh{length}")


def pick_phrases(picked: Picked, per_length: int, rng: random.Random) -> None:
    """The generator's realistic phrases, vocabulary labels and a few fixed phrases."""
    phrases = generate.realistic_phrases()
    labels = sorted({t.zh for v in vocabularies().values() for t in v.terms})
    for phrase in rng.sample(phrases, min(len(phrases), per_length)):
        picked.add(phrase, "phrase")
    for label in rng.sample(labels, min(len(labels), per_length // 2)):
        picked.add(label, "phrase")
    for fixed in ("受贿", "贿", "贪", "违规吃喝", "礼品礼金", "购物卡", "干预司法", "律师宴请", "违规吃喝风"):
        picked.add(fixed, "phrase")


def pick_absent(picked: Picked, per_length: int, rng: random.Random) -> None:
    """Strings around a character the generator's filler never uses, and reversed words."""
    for _ in range(max(4, per_length // 3)):
        length = rng.randint(1, 6)
        chars = [rng.choice(generate.RARE_CHARS)] + [rng.choice(generate.COMMON_CHARS) for _ in range(length - 1)]
        rng.shuffle(chars)
        picked.add("".join(chars), "absent")
    for fixed in ("贿受", "吃喝违规", "礼金礼品"):
        picked.add(fixed, "absent")


def pick_english(picked: Picked, corpus: Corpus, per_length: int, rng: random.Random) -> None:
    """Words of the English cases, and a few fixed ones."""
    words: list[str] = []
    for parts in corpus.parts:
        if len(words) > 20000:
            break
        words += re.findall(r"[A-Za-z]{3,}", parts[1])
    for _ in range(per_length):
        if words:
            picked.add(rng.choice(words), "en")
    for fixed in ("lawyer", "bribes", "banquet", "Bribe-taking", "KTV", "SUV", "gifts", "Judge"):
        picked.add(fixed, "en")


def pick_mixed(picked: Picked, corpus: Corpus, per_length: int, rng: random.Random) -> None:
    """Chinese next to latin letters or digits, as the cases write them, and a few fixed ones."""
    pattern = re.compile(f"[A-Za-z0-9]+[{search.CJK}]{{1,3}}|[{search.CJK}]{{1,3}}[A-Za-z0-9]+")
    pool = []
    for i in rng.sample(range(len(corpus)), min(len(corpus), 3000)):
        pool += pattern.findall(corpus.parts[i][1])
    for _ in range(per_length // 2):
        if pool:
            picked.add(rng.choice(pool), "mixed")
    for fixed in ("KTV消费", "ETC卡", "4S店", "iPhone手机", "VIP会员卡", "在某KTV"):
        picked.add(fixed, "mixed")


def pick_aliases(picked: Picked, per_length: int, rng: random.Random) -> None:
    """Other names of vocabulary values: aliases, codes, English labels and shorthands."""
    names = sorted({n for v in vocabularies().values() for t in v.terms for n in (*t.aliases, t.code, t.en)} |
                   {short for v in vocabularies().values() for short in v.expansions})
    for name in rng.sample(names, min(len(names), per_length)):
        picked.add(name, "alias")
    for fixed in ("酒驾", "醉驾", "双开", "公车私用", "吃拿卡要", "泄露案情", "drunk-driving"):
        picked.add(fixed, "alias")


def pick_traditional(picked: Picked, per_length: int, rng: random.Random) -> None:
    """Chinese queries already picked, written in traditional characters."""
    s2t = opencc.OpenCC("s2t")
    pool = [q["q"] for q in picked.queries if q["category"] in ("zh2", "zh3", "zh4", "phrase")]
    converted = [t for t in dict.fromkeys(s2t.convert(q) for q in pool) if one_script(t) != t]
    for query in rng.sample(converted, min(len(converted), per_length)):
        picked.add(query, "trad")
    for fixed in ("受賄", "賄賂", "違規吃喝", "購物卡", "干預司法"):
        picked.add(fixed, "trad")


def pick_multi(picked: Picked, per_length: int, rng: random.Random) -> None:
    """Two-term queries: a few fixed ones, and pairs of the two-character substrings."""
    zh2 = [q["q"] for q in picked.queries if q["category"] == "zh2"]
    for fixed in ("受贿 购物卡", "律师 宴请", "违规吃喝 KTV", "lawyer banquet", "购物卡 KTV"):
        picked.add(fixed, "multi")
    for _ in range(per_length // 4):
        if len(zh2) >= 2:
            picked.add(" ".join(rng.sample(zh2, 2)), "multi")


def pick_queries(corpus: Corpus, per_length: int, rng: random.Random) -> list[dict]:
    """Seeded queries, group by group (the order fixes which queries a seed gives)."""
    picked = Picked()
    pick_substrings(picked, corpus, per_length, rng)
    pick_phrases(picked, per_length, rng)
    pick_absent(picked, per_length, rng)
    pick_english(picked, corpus, per_length, rng)
    pick_mixed(picked, corpus, per_length, rng)
    pick_multi(picked, per_length, rng)
    pick_aliases(picked, per_length, rng)
    pick_traditional(picked, per_length, rng)
    return picked.queries


def sample(rng: random.Random, indices: list[int], limit: int) -> list[int]:
    """``limit`` of ``indices`` (in order), or all of them if there are no more."""
    return sorted(rng.sample(indices, limit)) if len(indices) > limit else indices


# ================================================================ indexes


def fts_size_mb(db: Path) -> float:
    """Pages of the FTS table and its shadow tables."""
    names = ["cases_fts" + s for s in FTS_SHADOWS]
    conn = sqlite3.connect(db)
    size = conn.execute(f"select sum(pgsize) from dbstat where name in ({','.join('?' * len(names))})", names).fetchone()[0]
    conn.close()
    return (size or 0) / 1e6


def fill_fts(db: Path, create_sql: str, corpus: Corpus, rewritten: bool, before: bool = False) -> float:
    """Replace ``cases_fts`` in ``db`` with ``create_sql``'s table filled with
    the searchable text (bigram-rewritten or raw) and optimized; seconds."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    conn.execute("drop table if exists cases_fts")
    started = time.perf_counter()
    conn.execute("begin")
    conn.execute(create_sql)
    texts = corpus.before if before else corpus.parts
    rows = ((rowid, *(search.index_text(p) if rewritten else p for p in parts)) for rowid, parts in zip(corpus.rowids, texts))
    columns = ["title", "body", "labels", "terms"][: len(texts[0])]
    conn.executemany(f"insert into cases_fts (rowid, {', '.join(columns)}) values (?, {', '.join('?' * len(columns))})", rows)
    conn.execute("insert into cases_fts(cases_fts) values ('optimize')")
    conn.execute("commit")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def build_indexes(ours: Path, folder: Path, corpus: Corpus) -> dict[str, dict]:
    """Each approach's database, index size and index build time.

    The project's index is timed in a scratch file with the build's own table
    definition (the build itself rewrites the text in its parse workers);
    every other index replaces ``cases_fts`` in a copy of the built database,
    so that Datasette serves it with the same metadata and settings.
    """
    conn = sqlite3.connect(ours)
    ours_sql = conn.execute("select sql from sqlite_master where name = 'cases_fts'").fetchone()[0]
    conn.close()
    scratch = folder / "scratch.db"
    scratch.unlink(missing_ok=True)
    indexes = {"cjk-bigram": {"db": ours, "mb": fts_size_mb(ours), "seconds": fill_fts(scratch, ours_sql, corpus, True)}}
    scratch.unlink()
    for approach in APPROACHES[1:]:
        db = folder / approach.folder / "cases.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ours, db)
        columns = "title, body, labels" if approach.before else "title, body, labels, terms"
        create_sql = f"create virtual table cases_fts using fts5({columns}, content=''{approach.fts_options})"
        seconds = fill_fts(db, create_sql, corpus, approach.rewritten, approach.before)
        indexes[approach.name] = {"db": db, "mb": fts_size_mb(db), "seconds": seconds}
    return indexes


def like_scan(db: Path, corpus: Corpus, queries: list[dict], indices: list[int]) -> dict[int, common.Timing]:
    """``title LIKE '%q%' OR body LIKE … OR labels LIKE …`` for every term, over
    the raw text in a plain table, one direct SQL query per query."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("drop table if exists search_text")
        conn.execute("create table search_text (rowid integer primary key, title text, body text, labels text, terms text)")
        conn.executemany("insert into search_text values (?, ?, ?, ?, ?)", ((r, *p) for r, p in zip(corpus.rowids, corpus.parts)))
    results = {}
    for index in indices:
        clauses, params = [], []
        for term in searched_terms(queries[index]["q"]):
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(title like ? escape '\\' or body like ? escape '\\' or labels like ? escape '\\' or terms like ? escape '\\')")
            params += [pattern] * 4
        sql = f"select rowid from search_text where {' and '.join(clauses) or '0'}"
        results[index] = common.time_call(lambda: [r[0] for r in conn.execute(sql, params)])
    conn.close()
    return results


# ================================================================ through Datasette, in a worker process


def site(approach: Approach, db: Path) -> Datasette:
    """The site (with its plugins) for a rewritten index; plain Datasette for a baseline."""
    if approach.rewritten:
        return datasette(db)
    return Datasette([str(db)], metadata=load_metadata(), settings=load_settings())


async def match_rowids(database: Database, query: str) -> tuple[list[int], str | None]:
    """Every match of ``query`` with one MATCH on Datasette's connection (its ``escape_fts``)."""
    try:
        result = await database.execute(MATCH_SQL, {"q": query}, custom_time_limit=120_000)
    except (sqlite3.Error, QueryInterrupted) as err:  # an FTS syntax error is a result too
        return [], f"{type(err).__name__}: {err}"
    return [row[0] for row in result.rows], None


async def page_through(ds: Datasette, first_url: str, id_to_rowid: dict[str, int]) -> tuple[list[int], str | None]:
    """Every row of a table JSON listing, following ``next``."""
    rowids: list[int] = []
    url: str | None = first_url
    while url:
        response = await ds.client.get(url)
        if response.status_code != 200:
            return rowids, f"HTTP {response.status_code}: {response.text[:200]}"
        data = response.json()
        rowids += [id_to_rowid[row["id"]] for row in data["rows"]]
        url = f"{first_url}&_nocount=1&_next={quote(str(data['next']))}" if data.get("next") else None
    return rowids, None


async def default_order_check(ds: Datasette, query: str, rowids: list[int], id_to_rowid: dict[str, int]) -> dict:
    """The same matches paged in the site's default order (sort_desc date)."""
    paged, error = await page_through(ds, IDS_URL.format(q=quote(query)), id_to_rowid)
    return {"rows": len(paged), "unique": len(set(paged)), "error": error,
            "missing": sorted(set(rowids) - set(paged)), "extra": len(set(paged) - set(rowids))}


async def timed_pages(ds: Datasette, url: str, queries: list[str], indices: list[int], repeat: int) -> dict[int, common.Timing]:
    """Each query's page timed ``repeat`` times in rounds over all the queries
    (so that a disturbance does not hit every run of one query)."""
    timings = {i: common.Timing() for i in indices}
    for run in range(repeat):
        for i in indices:
            # a new address each run: the site keeps a response until the next build
            page = url.format(q=quote(queries[i])) + f"&_bench={run}"
            timings[i].add(await common.time_async(lambda: ds.client.get(page)))
    return timings


async def measure_here(spec: dict) -> dict:
    """One approach through Datasette's in-process client: matches, default-order
    paging, all-hits SQL, results pages without and with facets."""
    ds = site(BY_NAME[spec["approach"]], Path(spec["db"]))
    await ds.invoke_startup()
    database = ds.get_database("cases")
    queries: list[str] = spec["queries"]
    escape_check = (await database.execute("select escape_fts('受贿赂 KTV')")).rows[0][0]
    id_to_rowid = dict((await database.execute("select id, rowid from cases")).rows)
    for url in WARM_UP:
        await ds.client.get(url)
    out: dict[int, dict[str, Any]] = {}
    for i, q in enumerate(queries):
        if spec["ids_via"] == "table":
            rowids, error = await page_through(ds, IDS_URL.format(q=quote(q)) + "&_sort=id", id_to_rowid)
        else:
            rowids, error = await match_rowids(database, q)
        out[i] = {"rowids": rowids, "errors": int(error is not None)}
    for i in spec["paging_check"]:
        out[i]["default_order"] = await default_order_check(ds, queries[i], out[i]["rowids"], id_to_rowid)
    for i in spec["timing"]:
        out[i]["all_hits_ms"] = (await common.time_async(lambda: match_rowids(database, queries[i]))).samples[0]
    load_before = os.getloadavg()
    for i, timing in (await timed_pages(ds, PAGE_URL, queries, spec["timing"], spec["repeat"])).items():
        last = timing.results[-1]
        out[i]["page_ms"] = min(timing.samples)
        out[i]["count"] = last.json().get("filtered_table_rows_count") if last.status_code == 200 else None
        out[i]["errors"] += sum(r.status_code != 200 for r in timing.results)
    for i, timing in (await timed_pages(ds, FACET_URL, queries, spec["facets"], 1)).items():
        response = timing.results[0]
        out[i]["facet_ms"] = timing.samples[0]
        out[i]["facets_timed_out"] = response.status_code == 200 and bool(response.json().get("facets_timed_out"))
        out[i]["errors"] += response.status_code != 200
    return {"approach": spec["approach"], "escape_check": escape_check, "load": [load_before[0], os.getloadavg()[0]], "queries": out}


def run_worker(spec_path: Path, out_path: Path) -> None:
    """The worker's side of ``measure``."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    out_path.write_text(json.dumps(asyncio.run(measure_here(spec))), encoding="utf-8")


def measure(spec: dict, work: Path) -> dict:
    """``measure_here`` in a fresh process: Datasette's plugin manager is
    global, so the site's plugins must not leak into a baseline."""
    spec_path = work / f"spec-{BY_NAME[spec['approach']].folder}.json"
    out_path = spec_path.with_name(spec_path.name.replace("spec-", "out-"))
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    subprocess.run(common.python_command("bench.search_bench", "--worker", spec_path, out_path), check=True, cwd=common.ROOT)
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["queries"] = {int(k): v for k, v in result["queries"].items()}
    return result


# ================================================================ scoring


def score(indices: list[int], truth: dict[int, set[int]], found: dict[int, set[int]]) -> dict:
    """Recall and precision summed over the queries, the worst query, exact agreements."""
    shared = {i: len(truth[i] & found[i]) for i in indices}
    t = sum(len(truth[i]) for i in indices)
    f = sum(len(found[i]) for i in indices)
    recalls = [shared[i] / len(truth[i]) for i in indices if truth[i]]
    precisions = [shared[i] / len(found[i]) for i in indices if found[i]]
    return {
        "queries": len(indices),
        "recall": sum(shared.values()) / t if t else None,
        "precision": sum(shared.values()) / f if f else None,
        "worst_recall": min(recalls, default=None),
        "worst_precision": min(precisions, default=None),
        "exact": sum(truth[i] == found[i] for i in indices),
    }


def latency_by_matches(page_ms: dict[int, float], truth: dict[int, set[int]]) -> dict:
    """p50/p95 page time by how many cases the query matches."""
    result = {}
    for lo, hi in MATCH_BUCKETS:
        times = [ms for i, ms in page_ms.items() if lo <= len(truth[i]) and (hi is None or len(truth[i]) <= hi)]
        if times:
            result[f"{lo}-{hi if hi is not None else ''}"] = common.Timing(times).stats()
    return result


def score_approach(found: dict[int, set[int]], truth: dict[int, set[int]], queries: list[dict], page_ms: dict[int, float]) -> dict:
    """The table's figures for one approach, over the queries it answered."""
    scored = [i for i in found if queries[i]["category"] != "edge"]
    in_group = {c: [i for i in scored if queries[i]["category"] == c] for c in CATEGORIES}
    return {
        "categories": {c: score(in_group[c], truth, found) for c in CATEGORIES},
        "zh_1_6": score([i for c in ZH_CATEGORIES for i in in_group[c]], truth, found),
        "all": score(scored, truth, found),
        "edge": {queries[i]["q"]: {"truth": len(truth[i]), "found": len(found[i])} for i in found if queries[i]["category"] == "edge"},
        "page_ms": common.Timing(list(page_ms.values())).stats(),
        "page_ms_by_matches": latency_by_matches(page_ms, truth),
    }


def score_measured(name: str, m: dict, index: dict, truth: dict[int, set[int]], queries: list[dict], corpus: Corpus) -> dict:
    """The figures of an approach measured through Datasette (and the project's checks for ``cjk-bigram``)."""
    q = m["queries"]
    found = {i: {corpus.rowid_index[r] for r in e["rowids"]} for i, e in q.items()}
    facets = [i for i, e in q.items() if "facet_ms" in e]
    entry = score_approach(found, truth, queries, {i: e["page_ms"] for i, e in q.items() if "page_ms" in e})
    entry.update(
        facet_ms={**common.Timing([q[i]["facet_ms"] for i in facets]).stats(), "timed_out": sum(q[i]["facets_timed_out"] for i in facets)},
        all_hits_ms=common.Timing([e["all_hits_ms"] for e in q.values() if "all_hits_ms" in e]).stats(),
        load_average=m["load"], index_mb=index["mb"], index_s=index["seconds"],
        errors=sum(e["errors"] for e in q.values()),
    )
    if name == "cjk-bigram":
        entry["count_check"] = [{"query": queries[i]["q"], "count": e["count"], "truth": len(truth[i])}
                                for i, e in q.items() if e.get("count") is not None and e["count"] != len(truth[i])]
        entry["disagreements"] = [{"query": queries[i]["q"], "truth": len(truth[i]), "found": len(found[i])}
                                  for i in found if queries[i]["category"] != "edge" and found[i] != truth[i]]
        entry["default_order_paging"] = default_order_summary(q, queries, corpus)
    return entry


def default_order_summary(q: dict[int, dict], queries: list[dict], corpus: Corpus) -> dict:
    """Rows lost or repeated paging in the site's default order, with a few examples."""
    checked = [(i, e["default_order"]) for i, e in q.items() if "default_order" in e]
    bad = [(i, d) for i, d in checked if d["missing"] or d["extra"] or d["rows"] != d["unique"] or d["error"]]
    return {
        "queries": len(checked),
        "queries_with_lost_or_repeated_rows": len(bad),
        "rows_lost": sum(len(d["missing"]) for _, d in bad),
        "rows_repeated": sum(d["rows"] - d["unique"] for _, d in bad),
        "examples": [{"query": queries[i]["q"], "missing": [f"{corpus.ids[corpus.rowid_index[r]]} (date {corpus.dates[corpus.rowid_index[r]]})"
                                                            for r in d["missing"][:3]]} for i, d in bad[:5]],
    }


def score_like(like: dict[int, common.Timing], truth: dict[int, set[int]], queries: list[dict], corpus: Corpus) -> dict:
    """The figures of the LIKE scan (its all-hits time is its only time)."""
    found = {i: {corpus.rowid_index[r] for r in t.results[0]} for i, t in like.items()}
    page_ms = {i: t.samples[0] for i, t in like.items()}
    entry = score_approach(found, truth, queries, page_ms)
    entry.update(facet_ms=common.Timing().stats(), all_hits_ms=entry["page_ms"], index_mb=None, index_s=None, errors=0)
    return entry


# ================================================================ one size


def project_build(cases: Path, db: Path) -> float:
    """A full build with the project's own pipeline; seconds."""
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    build(cases, db)
    return time.perf_counter() - started


def reference_mismatches(corpus: Corpus, queries: list[dict], truth: dict[int, set[int]], pairs: int, rng: random.Random) -> list[dict]:
    """(case, query) pairs where the scan and ``caselib.search.contains`` disagree."""
    sampled = [(rng.randrange(len(corpus)), rng.randrange(len(queries))) for _ in range(pairs)]
    return [{"query": queries[qi]["q"], "id": corpus.ids[ci]} for ci, qi in sampled if (ci in truth[qi]) != corpus.reference(ci, queries[qi]["q"])]


def bench_size(size: int, args: argparse.Namespace, settings: Settings) -> dict:
    log = common.log
    rng = random.Random(args.seed * 1000 + size)
    cases = common.corpus(size, args.seed, args.data)
    folder = common.corpus_dir(args.data, size, args.seed)
    ours = folder / "cjk-bigram" / "cases.db"
    build_seconds = project_build(cases, ours)
    log(f"size {size}: project build {build_seconds:.1f} s")
    corpus = Corpus(ours)
    parse_check = corpus.parser_mismatches(cases, settings.parse_check, rng)
    log(f"size {size}: re-parse check: {parse_check['checked']} cases, {len(parse_check['mismatches'])} mismatches")

    queries = pick_queries(corpus, settings.queries, rng) + [{"q": q, "category": "edge"} for q in EDGE_QUERIES]
    started = time.perf_counter()
    truth = {i: corpus.truth(q["q"]) for i, q in enumerate(queries)}
    log(f"size {size}: {len(queries)} queries, ground truth by scan in {time.perf_counter() - started:.1f} s")
    scan_check = reference_mismatches(corpus, queries, truth, settings.reference_check, rng)

    indexes = build_indexes(ours, folder, corpus)
    log(f"size {size}: indexes: " + ", ".join(f"{a} {x['mb']:.1f} MB in {x['seconds']:.1f} s" for a, x in indexes.items()))

    scored = [i for i, q in enumerate(queries) if q["category"] != "edge"]
    timing = sample(rng, scored, settings.timing_queries)
    facets = sample(rng, scored, settings.facet_queries)
    ids_via = "table" if size <= TABLE_PAGES_UP_TO else "sql"
    work = folder / "work"
    work.mkdir(exist_ok=True)
    approaches = {}
    for approach in APPROACHES:
        spec = {"approach": approach.name, "db": str(indexes[approach.name]["db"]), "queries": [q["q"] for q in queries],
                "ids_via": ids_via, "timing": timing, "facets": facets, "repeat": settings.repeat,
                "paging_check": list(range(len(queries))) if approach.name == "cjk-bigram" and ids_via == "table" else []}
        started = time.perf_counter()
        measured = measure(spec, work)
        log(f"size {size}: {approach.name} through Datasette in {time.perf_counter() - started:.1f} s "
            f"(escape_fts('受贿赂 KTV') = {measured['escape_check']})")
        approaches[approach.name] = score_measured(approach.name, measured, indexes[approach.name], truth, queries, corpus)
    like = like_scan(indexes["unicode61"]["db"], corpus, queries, sample(rng, scored, settings.like_queries))
    approaches["LIKE"] = score_like(like, truth, queries, corpus)
    return {"size": size, "seed": args.seed, "cases": len(corpus), "build_seconds": build_seconds, "ids_via": ids_via,
            "repeat": settings.repeat, "parse_check": parse_check, "reference_check": scan_check, "approaches": approaches}


# ================================================================ the report


def pct(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 0.9995:
        return "100" if value == 1 else f"{value * 100:.2f}"
    if value == 0:
        return "0"
    return f"{value * 100:.1f}" if value >= 0.001 else f"{value * 100:.2f}"


def ms(value: float | None) -> str:
    return "—" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def recall_precision(s: dict) -> str:
    return f"{pct(s['recall'])}/{pct(s['precision'])}"


def table_for(results: dict) -> str:
    shown = [c for c in CATEGORIES if c != "absent"]
    header = ["approach", *shown, "zh1-6 R/P", "all R/P", "worst R/P", "exact",
              "p50 ms", "p95 ms", "p95 facets", "all-hits p95", "index MB", "index s"]
    rows = []
    for approach, e in results["approaches"].items():
        a = e["all"]
        rows.append([
            approach,
            *(recall_precision(e["categories"][c]) if e["categories"][c]["queries"] else "—" for c in shown),
            recall_precision(e["zh_1_6"]), recall_precision(a),
            f"{pct(a['worst_recall'])}/{pct(a['worst_precision'])}", f"{a['exact']}/{a['queries']}",
            ms(e["page_ms"]["p50"]), ms(e["page_ms"]["p95"]), ms(e["facet_ms"]["p95"]), ms(e["all_hits_ms"]["p95"]),
            "—" if e["index_mb"] is None else f"{e['index_mb']:.1f}", "—" if e["index_s"] is None else f"{e['index_s']:.1f}",
        ])
    return common.table(header, rows)


def report(results: dict) -> str:
    """The table and the lines below it."""
    approaches = results["approaches"]
    ours, z = approaches["cjk-bigram"], approaches["cjk-bigram"]["zh_1_6"]
    loads = [x for e in approaches.values() for x in e.get("load_average", [])]
    goal = "met" if (ours["page_ms"]["p95"] or 0) < 50 else "NOT met"
    lines = [
        f"== {results['cases']:,} cases (seed {results['seed']}); project build {results['build_seconds']:.1f} s; "
        f"ids via {'table pages' if results['ids_via'] == 'table' else 'SQL on the site connection'} ==",
        table_for(results),
        f"Chinese 1-6 chars + phrases + absent ({z['queries']} queries): cjk-bigram recall {pct(z['recall'])}%, precision {pct(z['precision'])}%, "
        f"{z['exact']}/{z['queries']} exact; unicode61 (Datasette default) recall {pct(approaches['unicode61']['zh_1_6']['recall'])}%.",
        f"p95 results page without facets: {ms(ours['page_ms']['p95'])} ms (goal < 50 ms: {goal}); "
        f"with facets p95 {ms(ours['facet_ms']['p95'])} ms, {ours['facet_ms']['timed_out']}/{ours['facet_ms']['n']} pages had a facet time out.",
        f"timed: {ours['page_ms']['n']} queries x {results['repeat']} runs each (fastest kept), faceted: {ours['facet_ms']['n']} queries; "
        f"LIKE: {approaches['LIKE']['all']['queries']} queries, direct SQL; 1-minute load average during the Datasette runs: "
        f"{min(loads):.1f}-{max(loads):.1f}",
        "cjk-bigram page ms by matching cases (n, p50, p95): "
        + "; ".join(f"{k}: {v['n']}, {ms(v['p50'])}, {ms(v['p95'])}" for k, v in ours["page_ms_by_matches"].items()),
        "edge queries (truth/found): " + "; ".join(f"{q!r} {v['truth']}/{v['found']}" for q, v in ours["edge"].items()),
    ]
    paging = ours["default_order_paging"]
    if paging["queries"]:
        lines.append(
            f"paging in the site's default order (sort_desc date, {paging['queries']} queries): "
            f"{paging['queries_with_lost_or_repeated_rows']} queries lost {paging['rows_lost']} rows and repeated {paging['rows_repeated']}"
        )
        examples = "; ".join(f"{e['query']!r}: missing {', '.join(e['missing'])}" for e in paging["examples"][:3])
        lines[-1] += f"; e.g. {examples}" if examples else ""
    lines += problems(results)
    return "\n".join(lines)


def problems(results: dict) -> list[str]:
    """Lines for whatever makes the figures doubtful (none in a good run)."""
    ours = results["approaches"]["cjk-bigram"]
    lines = [f"DISAGREEMENT {d['query']!r}: truth {d['truth']}, found {d['found']}" for d in ours["disagreements"][:10]]
    lines += [f"{name}: {e['errors']} queries answered with an error" for name, e in results["approaches"].items() if e["errors"]]
    if ours["count_check"]:
        lines.append(f"results pages whose count differs from the truth: {ours['count_check'][:5]}")
    if results["reference_check"]:
        lines.append(f"scan vs caselib.search.contains mismatches: {results['reference_check'][:5]}")
    if results["parse_check"]["mismatches"]:
        lines.append(f"searchable text differs from the re-parsed files for: {results['parse_check']['mismatches'][:5]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench.search_bench", __doc__)
    parser.add_argument("--worker", nargs=2, type=Path, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(*args.worker)
        return 0
    settings = SMOKE if args.smoke else Settings()
    for size in common.sizes(args):
        results = bench_size(size, args, settings)
        results.update(machine=common.machine(), when=time.strftime("%Y-%m-%d %H:%M:%S"))
        common.write_results(args.data, f"search-{size}", results)
        print(report(results), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
