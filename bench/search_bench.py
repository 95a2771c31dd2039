"""Chinese search: exactness, latency through Datasette, index size, build cost.

    python -m bench.search_bench [--sizes 1000,10000,100000] [--queries N] [--seed S]

For each size: generate a corpus (cached in bench/corpora/), build it with the
project's own build, then compare, on the same data and the same queries,

- ``cjk-bigram``  the project's search: the bigram FTS5 index written by the
  build, queried through Datasette with the site's plugins (the query rewrite
  replaces ``escape_fts``);
- ``unicode61``   Datasette's default setup: an FTS5 table with the default
  unicode61 tokenizer over the same searchable text, not rewritten, queried
  with Datasette's own ``escape_fts``;
- ``trigram``     an FTS5 trigram table over the same raw text, plain MATCH on
  the ``escape_fts``-escaped query;
- ``LIKE``        a LIKE scan over the same raw text (direct SQL, no index);
- ``cjk-bigram+prefix1`` (unless --no-variants) the project's index text with
  an FTS5 one-character prefix index, through the site like the project's.

The ground truth is a plain scan of every case's searchable text with the
reference semantics of ``caselib.search.contains`` (a Chinese term matches as
a substring, a latin word as a whole word, every term must match).

Results: one table per size on stdout, JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
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
from pathlib import Path
from urllib.parse import quote

from datasette.database import QueryInterrupted

from caselib.text import fold

from . import generate

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CORPORA = BENCH / "corpora"
RESULTS = BENCH / "results"
SECTION_ORDER = ("facts", "outcome", "analysis", "lessons", "rules", "reform")
APPROACHES = ("cjk-bigram", "unicode61", "trigram")
# A variant of the project's index, measured beside it: the same bigram text
# with an FTS5 prefix index on one character (prefix='1'), which serves
# one-character queries (a prefix query over every bigram that starts with
# the character) without merging thousands of doclists.
VARIANTS = ("cjk-bigram+prefix1",)
CATEGORIES = ("zh1", "zh2", "zh3", "zh4", "zh5", "zh6", "phrase", "absent", "en", "mixed", "multi")
ZH_CATEGORIES = ("zh1", "zh2", "zh3", "zh4", "zh5", "zh6", "phrase", "absent")
PAGE_URL = "/cases/cases.json?_search={q}&_nofacet=1"
FACET_URL = "/cases/cases.json?_search={q}"
IDS_URL = "/cases/cases.json?_search={q}&_shape=objects&_size=max&_col=id&_nofacet=1&_nosuggest=1"
# Datasette 0.65.5 orders the first page of a sorted table by the sort column
# alone and only later pages by (sort column, primary key); where dates tie
# across the first page boundary, paging loses or repeats rows. Matches are
# therefore collected in primary-key order (no ties), and the default order's
# paging is checked separately.
IDS_SORT = "&_sort=id"
FTS_SHADOWS = ("", "_data", "_idx", "_docsize", "_config", "_content")


# ================================================================ corpus and build


def corpus_dir(size: int, seed: int) -> Path:
    return CORPORA / f"{size}-seed{seed}"


def ensure_corpus(size: int, seed: int, log) -> Path:
    """Generate the corpus unless the cached one was made the same way."""
    folder = corpus_dir(size, seed)
    cases = folder / "cases"
    stamp = folder / "corpus.json"
    source = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:16]
    wanted = {"size": size, "seed": seed, "generator": generate.GENERATOR_VERSION, "source": source}
    if cases.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        log(f"corpus {size}: reusing {cases}")
        return cases
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    summary = generate.generate(size, cases, seed=seed, jobs=2)
    stamp.write_text(json.dumps(wanted))
    log(
        f"corpus {size}: generated {summary['cases']} cases, {summary['bytes'] / 1e6:.1f} MB "
        f"(mean {summary['mean_kb']:.2f} KB, {summary['zh_share']:.1%} Chinese) in {summary['seconds']:.1f} s"
    )
    return cases


def project_build(cases: Path, db: Path, jobs: int | None) -> float:
    """A full build with the project's own pipeline; seconds."""
    from caselib.pipeline import build

    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    build(cases, db, jobs=jobs)
    return time.perf_counter() - started


# ================================================================ searchable text


class Corpus:
    """Every case's searchable text, read back from the built database.

    Rebuilt here from the stored columns exactly as the contract defines it
    (title; other text and the sections; region, unit, position, tags and the
    vocabulary labels in Chinese and English), independently of the build's
    own code, and checked against ``caselib.store.searchable_parts`` on a
    sample of re-parsed files.
    """

    def __init__(self, db: Path):
        from caselib.vocab import vocabularies

        by_zh = {name: {t.zh: t for t in v.terms} for name, v in vocabularies().items()}
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        self.rowids: list[int] = []
        self.ids: list[str] = []
        self.paths: list[str] = []
        self.parts: list[tuple[str, str, str]] = []
        for row in conn.execute("select c.rowid as _rowid, t.*, c.* from cases c join case_texts t on t.id = c.id order by c.rowid"):
            labels = []
            for name in ("violations", "sanctions", "disciplines"):
                for label in json.loads(row[name] or "[]"):
                    term = by_zh[name][label]
                    labels += [term.zh, term.en]
            for name in ("form", "rank", "personnel"):
                if row[name]:
                    term = by_zh[name][row[name]]
                    labels += [term.zh, term.en]
            body = [row["other_text"], *(row[c] for c in SECTION_ORDER)]
            meta = [row["region"], row["unit"], row["position"], *json.loads(row["tags"] or "[]"), *labels]
            self.rowids.append(row["_rowid"])
            self.ids.append(row["id"])
            self.paths.append(row["path"])
            self.parts.append((row["title"], "\n".join(p for p in body if p), "\n".join(p for p in meta if p)))
        conn.close()
        self.rowid_index = {r: i for i, r in enumerate(self.rowids)}
        self._normalised: list[tuple[str, str, str]] | None = None
        self._haystack: str | None = None
        self._starts: list[int] = []

    def __len__(self) -> int:
        return len(self.ids)

    def check_against_parser(self, sample: int, rng: random.Random) -> dict:
        """Re-parse a sample of files; compare with ``searchable_parts``."""
        try:
            from caselib.parse import parse_case
            from caselib.source import source_from_bytes
            from caselib.rows import searchable_parts
        except ImportError as err:  # the project's API moved: say so, do not guess
            return {"checked": 0, "mismatches": [], "skipped": f"{type(err).__name__}: {err}"}
        mismatches = []
        indices = rng.sample(range(len(self)), min(sample, len(self)))
        for i in indices:
            path = Path(self.paths[i])
            if not path.is_absolute():
                path = ROOT / path
            data = path.read_bytes()
            parts = searchable_parts(parse_case(source_from_bytes(data, str(path), path.stem)))
            expected = (parts["title"], parts["body"], parts["labels"])
            if expected != self.parts[i]:
                mismatches.append(self.ids[i])
        return {"checked": len(indices), "mismatches": mismatches}

    # -- the scan

    def normalised(self) -> list[tuple[str, str, str]]:
        if self._normalised is None:
            from caselib.text import fold as normalise

            self._normalised = [tuple(normalise(p).casefold() for p in parts) for parts in self.parts]
            # One string for substring scans; "\0" is neither CJK nor a word
            # character, so a Chinese term cannot match across two columns or cases.
            pieces = []
            offset = 0
            for parts in self._normalised:
                self._starts.append(offset)
                piece = "\0".join(parts) + "\0\0"
                pieces.append(piece)
                offset += len(piece)
            self._haystack = "".join(pieces)
        return self._normalised

    def _substring_hits(self, needle: str) -> set[int]:
        """Indices of cases whose (normalised) text contains ``needle``."""
        self.normalised()
        hay, starts = self._haystack, self._starts
        hits: set[int] = set()
        position = hay.find(needle)
        while position >= 0:
            case = bisect_right(starts, position) - 1
            hits.add(case)
            following = starts[case + 1] if case + 1 < len(starts) else len(hay)
            position = hay.find(needle, following)
        return hits

    def truth(self, query: str) -> set[int]:
        """Indices of the cases that match ``query`` under the reference semantics.

        Same meaning as ``caselib.search.contains`` over each column: every term
        must be found (each in some column). Pure-Chinese terms are plain
        substrings (found with str.find); other terms are pre-filtered by
        their literal pieces, then checked with the reference's own matcher.
        """
        from caselib import search

        normalised = self.normalised()
        result: set[int] | None = None
        for term in search.query_terms(query):
            tokens, _ = search._term_tokens(term)
            if not tokens:
                continue  # the reference ignores a term without tokens
            folded = fold(term).casefold()
            segments = [m.group(0) for m in search.SEGMENT.finditer(folded)]
            if len(segments) == 1 and search.CJK_RUN.fullmatch(segments[0]):
                hits = self._substring_hits(segments[0])
            else:
                candidates = None
                for piece in segments:
                    found = self._substring_hits(piece)
                    candidates = found if candidates is None else candidates & found
                hits = {i for i in candidates or () if any(search._contains_term(col, folded) for col in normalised[i])}
            result = hits if result is None else result & hits
        return set(range(len(self))) if result is None else result

    def reference(self, index: int, query: str) -> bool:
        """``caselib.search.contains`` itself, column by column (for checking the scan)."""
        from caselib import search

        return all(
            any(search.contains(column, f'"{term}"') for column in self.parts[index])
            for term in search.query_terms(query)
            if search._term_tokens(term)[0]
        )


# ================================================================ queries


def pick_queries(corpus: Corpus, per_length: int, rng: random.Random) -> list[dict]:
    """Seeded queries: corpus substrings of 1-6 characters, phrases, absent
    strings, English words, mixed Chinese+English and multi-term queries."""
    from caselib import search

    normalised = corpus.normalised()
    queries: list[dict] = []
    seen: set[str] = set()

    def add(query: str, category: str) -> None:
        if query and query not in seen:
            seen.add(query)
            queries.append({"q": query, "category": category})

    runs_pattern = search.CJK_RUN
    for length in range(1, 7):
        wanted = len(queries) + per_length
        attempts = 0
        while len(queries) < wanted and attempts < per_length * 200:
            attempts += 1
            parts = normalised[rng.randrange(len(corpus))]
            column = rng.choices(range(3), weights=[len(p) + 1 for p in parts])[0]
            runs = [m.group(0) for m in runs_pattern.finditer(parts[column]) if len(m.group(0)) >= length]
            if not runs:
                continue
            run = rng.choices(runs, weights=[len(r) for r in runs])[0]
            start = rng.randrange(len(run) - length + 1)
            add(run[start : start + length], f"zh{length}")

    phrases = generate.realistic_phrases()
    from caselib.vocab import vocabularies

    labels = sorted({t.zh for v in vocabularies().values() for t in v.terms})
    for phrase in rng.sample(phrases, min(len(phrases), per_length)):
        add(phrase, "phrase")
    for label in rng.sample(labels, min(len(labels), per_length // 2)):
        add(label, "phrase")
    for fixed in ("受贿", "贿", "贪", "违规吃喝", "礼品礼金", "购物卡", "干预司法", "律师宴请", "违规吃喝风"):
        add(fixed, "phrase")

    rare = generate.RARE_CHARS
    common = generate.COMMON_CHARS
    for _ in range(max(4, per_length // 3)):
        length = rng.randint(1, 6)
        chars = [rng.choice(rare)] + [rng.choice(common) for _ in range(length - 1)]
        rng.shuffle(chars)
        add("".join(chars), "absent")
    for fixed in ("贿受", "吃喝违规", "礼金礼品"):
        add(fixed, "absent")

    english_words: list[str] = []
    for i in range(len(corpus)):
        if len(english_words) > 20000:
            break
        english_words += re.findall(r"[A-Za-z]{3,}", corpus.parts[i][1])
    for _ in range(per_length):
        if english_words:
            add(rng.choice(english_words), "en")
    for fixed in ("lawyer", "bribes", "banquet", "Bribe-taking", "KTV", "SUV", "gifts", "Judge"):
        add(fixed, "en")

    mixed_pattern = re.compile(f"[A-Za-z0-9]+[{search.CJK}]{{1,3}}|[{search.CJK}]{{1,3}}[A-Za-z0-9]+")
    mixed_pool = []
    for i in rng.sample(range(len(corpus)), min(len(corpus), 3000)):
        mixed_pool += mixed_pattern.findall(corpus.parts[i][1])
    for _ in range(per_length // 2):
        if mixed_pool:
            add(rng.choice(mixed_pool), "mixed")
    for fixed in ("KTV消费", "ETC卡", "4S店", "iPhone手机", "VIP会员卡", "在某KTV"):
        add(fixed, "mixed")

    zh2 = [q["q"] for q in queries if q["category"] == "zh2"]
    for fixed in ("受贿 购物卡", "律师 宴请", "违规吃喝 KTV", "lawyer banquet", "购物卡 KTV"):
        add(fixed, "multi")
    for _ in range(per_length // 4):
        if len(zh2) >= 2:
            add(" ".join(rng.sample(zh2, 2)), "multi")
    return queries


EDGE_QUERIES = [
    ("，，", "punctuation only: no token"),
    ('"违规 吃喝"', "a quoted phrase whose words are apart"),
    ("ＫＴＶ", "full-width latin letters"),
    ("BRIBES", "upper case"),
    ("受贿。", "a term ending in punctuation"),
]


# ================================================================ baselines


def fts_size_mb(conn: sqlite3.Connection, table: str) -> float:
    names = [table + s for s in FTS_SHADOWS]
    marks = ",".join("?" for _ in names)
    try:
        size = conn.execute(f"select sum(pgsize) from dbstat where name in ({marks})", names).fetchone()[0]
    except sqlite3.OperationalError:  # no dbstat: count pages of the shadow tables
        page = conn.execute("pragma page_size").fetchone()[0]
        size = 0
        for name in names[1:]:
            try:
                size += page * len(conn.execute(f"select 1 from [{name}]").fetchall())
            except sqlite3.OperationalError:
                pass
    return (size or 0) / 1e6


def build_fts(db: Path, corpus: Corpus, tokenize: str | None, rewrite, table: str = "cases_fts", extra: str = "") -> float:
    """Replace ``table`` in ``db`` with a contentless FTS5 table over the
    searchable text (rewritten by ``rewrite`` or raw); seconds to build it."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    conn.execute(f"drop table if exists [{table}]")
    options = f", tokenize='{tokenize}'" if tokenize else ""
    started = time.perf_counter()
    conn.execute("begin")
    conn.execute(f"create virtual table [{table}] using fts5(title, body, labels, content=''{options}{extra})")
    rows = ((rowid, *(rewrite(p) if rewrite else p for p in parts)) for rowid, parts in zip(corpus.rowids, corpus.parts))
    conn.executemany(f"insert into [{table}] (rowid, title, body, labels) values (?, ?, ?, ?)", rows)
    conn.execute(f"insert into [{table}]([{table}]) values ('optimize')")
    conn.execute("commit")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def make_baseline(ours_db: Path, folder: Path, corpus: Corpus, tokenize: str | None) -> tuple[Path, float]:
    """A copy of the built database whose cases_fts is a baseline index."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "cases.db"
    db.unlink(missing_ok=True)
    shutil.copyfile(ours_db, db)
    return db, build_fts(db, corpus, tokenize, None)


def write_raw_text(db: Path, corpus: Corpus) -> None:
    """The raw searchable text as a plain table, for the LIKE scan."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("drop table if exists search_text")
    conn.execute("begin")
    conn.execute("create table search_text (rowid integer primary key, title text, body text, labels text)")
    conn.executemany("insert into search_text values (?, ?, ?, ?)", ((r, *p) for r, p in zip(corpus.rowids, corpus.parts)))
    conn.execute("commit")
    conn.close()


def like_scan(db: Path, corpus: Corpus, queries: list[dict], indices: list[int]) -> dict:
    """Direct-SQL LIKE over the raw text: rowids and milliseconds per query."""
    from caselib import search

    conn = sqlite3.connect(db)
    results = {}
    for index in indices:
        terms = [t for t in search.query_terms(queries[index]["q"]) if search._term_tokens(t)[0]]
        if not terms:
            results[index] = {"rowids": [], "ms": 0.0}
            continue
        clauses, params = [], []
        for term in terms:
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(title like ? escape '\\' or body like ? escape '\\' or labels like ? escape '\\')")
            params += [pattern] * 3
        started = time.perf_counter()
        rowids = [r[0] for r in conn.execute(f"select rowid from search_text where {' and '.join(clauses)}", params)]
        results[index] = {"rowids": rowids, "ms": (time.perf_counter() - started) * 1000}
    conn.close()
    return results


# ================================================================ Datasette worker


def run_worker(spec_path: Path, out_path: Path) -> None:
    """Measure one approach through Datasette (its own process: Datasette's
    plugin manager is global, so the site's plugins must not leak into a
    baseline)."""
    spec = json.loads(spec_path.read_text())
    db = Path(spec["db"])
    from caselib.site import load_metadata, load_settings

    if spec["approach"].startswith("cjk-bigram"):
        from caselib.site import datasette

        ds = datasette(db)
    else:
        from datasette.app import Datasette

        ds = Datasette([str(db)], metadata=load_metadata(), settings=load_settings())
    loop = asyncio.new_event_loop()
    queries = spec["queries"]

    def get(path: str):
        return loop.run_until_complete(ds.client.get(path))

    loop.run_until_complete(ds.invoke_startup())
    database = ds.get_database("cases")
    escape_check = loop.run_until_complete(database.execute("select escape_fts('受贿赂 KTV')")).rows[0][0]
    id_to_rowid = dict(loop.run_until_complete(database.execute("select id, rowid from cases")).rows)
    out: dict = {"approach": spec["approach"], "escape_check": escape_check, "queries": {}}

    for path in ("/cases/cases.json?_search=x&_nofacet=1", "/cases/cases.json", "/cases/cases.json?_search=x"):
        get(path)  # warm up: introspection, templates, page cache

    for index in spec["ids"]:
        q = queries[index]
        entry: dict = {"rowids": [], "pages": 0, "error": None}
        started = time.perf_counter()
        if spec["ids_via"] == "table":
            entry["rowids"], entry["pages"], entry["error"] = page_through(get, IDS_URL.format(q=quote(q)) + IDS_SORT, id_to_rowid)
        else:
            sql = "select rowid from cases_fts where cases_fts match escape_fts(:q)"
            try:
                result = loop.run_until_complete(database.execute(sql, {"q": q}, custom_time_limit=120_000))
                entry["rowids"] = [r[0] for r in result.rows]
            except (sqlite3.Error, QueryInterrupted) as err:  # an FTS syntax error is a result too
                entry["error"] = f"{type(err).__name__}: {err}"
        entry["all_ms"] = (time.perf_counter() - started) * 1000
        out["queries"][index] = entry

    # the site's default order (sort_desc: date), paged the same way
    for index in spec["paging_check"]:
        rowids, pages, error = page_through(get, IDS_URL.format(q=quote(queries[index])), id_to_rowid)
        entry = out["queries"][index]
        entry["default_order"] = {"rows": len(rowids), "unique": len(set(rowids)), "pages": pages, "error": error,
                                  "missing": sorted(set(entry["rowids"]) - set(rowids)), "extra": sorted(set(rowids) - set(entry["rowids"]))}

    # direct SQL, every match (same escape_fts, on Datasette's own connection)
    for index in spec["timing"]:
        started = time.perf_counter()
        try:
            loop.run_until_complete(
                database.execute("select rowid from cases_fts where cases_fts match escape_fts(:q)", {"q": queries[index]}, custom_time_limit=120_000)
            )
        except (sqlite3.Error, QueryInterrupted) as err:
            out["queries"].setdefault(index, {})["sql_error"] = f"{type(err).__name__}: {err}"
        out["queries"].setdefault(index, {})["sql_all_ms"] = (time.perf_counter() - started) * 1000

    out["load_before"] = os.getloadavg()
    # Each page is timed ``repeat`` times, in rounds over all the queries;
    # the fastest of the rounds is kept (the least disturbed by other work).
    for _round in range(spec["repeat"]):
        for index in spec["timing"]:
            q = queries[index]
            started = time.perf_counter()
            response = get(PAGE_URL.format(q=quote(q)))
            elapsed = (time.perf_counter() - started) * 1000
            entry = out["queries"].setdefault(index, {})
            entry.setdefault("page_runs", []).append(elapsed)
            entry["page_ms"] = min(entry["page_runs"])
            entry["page_status"] = response.status_code
            if response.status_code == 200:
                entry["count"] = response.json().get("filtered_table_rows_count")

    for _round in range(spec["facet_repeat"]):
        for index in spec["facets"]:
            q = queries[index]
            started = time.perf_counter()
            response = get(FACET_URL.format(q=quote(q)))
            elapsed = (time.perf_counter() - started) * 1000
            entry = out["queries"].setdefault(index, {})
            entry.setdefault("facet_runs", []).append(elapsed)
            entry["facet_ms"] = min(entry["facet_runs"])
            entry["facet_status"] = response.status_code
            if response.status_code == 200:
                data = response.json()
                entry["facets_timed_out"] = data.get("facets_timed_out", [])
                entry["facets_returned"] = sorted(data.get("facet_results", {}))
    out["load_after"] = os.getloadavg()
    loop.close()
    out_path.write_text(json.dumps(out))


def page_through(get, first_url: str, id_to_rowid: dict) -> tuple[list[int], int, str | None]:
    """Every row of a table JSON listing, following ``next``."""
    rowids: list[int] = []
    pages = 0
    url = first_url
    while url:
        response = get(url)
        if response.status_code != 200:
            return rowids, pages, f"HTTP {response.status_code}: {response.text[:200]}"
        data = response.json()
        pages += 1
        rowids += [id_to_rowid[row["id"]] for row in data["rows"]]
        token = data.get("next")
        url = f"{first_url}&_nocount=1&_next={quote(str(token))}" if token else None
    return rowids, pages, None


def measure(approach: str, db: Path, queries: list[str], ids: list[int], timing: list[int], facets: list[int], args, ids_via: str, work: Path) -> dict:
    spec = {"approach": approach, "db": str(db), "queries": queries, "ids": ids, "timing": timing, "facets": facets, "ids_via": ids_via,
            "repeat": args.repeat, "facet_repeat": args.facet_repeat,
            "paging_check": ids if (approach == "cjk-bigram" and ids_via == "table" and args.paging_check) else []}
    spec_path = work / f"spec-{approach}.json"
    out_path = work / f"out-{approach}.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False))
    out_path.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-m", "bench.search_bench", "--worker", str(spec_path), str(out_path)], check=True, cwd=ROOT, env=env)
    result = json.loads(out_path.read_text())
    result["queries"] = {int(k): v for k, v in result["queries"].items()}
    return result


# ================================================================ scoring and the table


MATCH_BUCKETS = ((0, 0), (1, 99), (100, 999), (1000, 9999), (10000, 49999), (50000, 10**9))


def latency_by_matches(indices: list[int], truth: dict[int, set[int]], measured: dict) -> dict:
    """p50/p95 page time by how many cases the query matches."""
    result = {}
    for lo, hi in MATCH_BUCKETS:
        times = [measured[i]["page_ms"] for i in indices if lo <= len(truth[i]) <= hi and measured[i].get("page_ms") is not None]
        if times:
            result[f"{lo}-{hi if hi < 10**9 else ''}"] = {"n": len(times), "p50": percentile(times, 50), "p95": percentile(times, 95)}
    return result


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def score(indices: list[int], truth: dict[int, set[int]], found: dict[int, set[int]], shared: dict[int, int]) -> dict:
    """Micro-averaged recall and precision, worst query, exact agreements.

    ``shared[i]`` is ``len(truth[i] & found[i])``, computed once per query.
    """
    tp = sum(shared[i] for i in indices)
    t = sum(len(truth[i]) for i in indices)
    f = sum(len(found[i]) for i in indices)
    recalls = [shared[i] / len(truth[i]) for i in indices if truth[i]]
    precisions = [shared[i] / len(found[i]) for i in indices if found[i]]
    return {
        "queries": len(indices),
        "truth_hits": t,
        "found_hits": f,
        "recall": tp / t if t else None,
        "precision": tp / f if f else None,
        "worst_recall": min(recalls) if recalls else None,
        "worst_precision": min(precisions) if precisions else None,
        "exact": sum(1 for i in indices if truth[i] == found[i]),
    }


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


def render_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = [str(v).ljust(widths[c]) if c == 0 else str(v).rjust(widths[c]) for c, v in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def disagreement_report(corpus: Corpus, query: str, truth: set[int], found: set[int], limit: int = 3) -> list[dict]:
    """Precisely which cases disagree, with the text around the match."""
    from caselib import search

    report = []
    for kind, cases in (("missed", sorted(truth - found)), ("extra", sorted(found - truth))):
        for i in cases[:limit]:
            context = ""
            for column, text in zip(("title", "body", "labels"), corpus.parts[i]):
                for term in search.query_terms(query):
                    at = fold(text).casefold().find(fold(term).casefold())
                    if at >= 0:
                        context = f"{column}: …{fold(text)[max(0, at - 20): at + len(term) + 20]!r}…"
                        break
                if context:
                    break
            report.append({"kind": kind, "id": corpus.ids[i], "context": context, "reference": corpus.reference(i, query)})
    return report


# ================================================================ one size


def bench_size(size: int, args, log) -> dict:
    rng = random.Random(args.seed * 1000 + size)
    cases = ensure_corpus(size, args.seed, log)
    folder = corpus_dir(size, args.seed)
    ours_db = folder / "cjk-bigram" / "cases.db"
    if args.reuse_db and ours_db.is_file():
        build_seconds = None
        log(f"size {size}: reusing {ours_db}")
    else:
        build_seconds = project_build(cases, ours_db, args.jobs)
        log(f"size {size}: project build {build_seconds:.1f} s")

    started = time.perf_counter()
    corpus = Corpus(ours_db)
    corpus.normalised()
    check = corpus.check_against_parser(args.parse_check, rng)
    log(f"size {size}: read {len(corpus)} cases' searchable text ({time.perf_counter() - started:.1f} s); "
        f"re-parse check {check['checked']} cases, {len(check['mismatches'])} mismatches {check.get('skipped', '')}")

    queries = pick_queries(corpus, args.queries, rng)
    edge_start = len(queries)
    for q, _ in EDGE_QUERIES:
        queries.append({"q": q, "category": "edge"})
    started = time.perf_counter()
    truth = {i: corpus.truth(q["q"]) for i, q in enumerate(queries)}
    truth_seconds = time.perf_counter() - started
    log(f"size {size}: {len(queries)} queries, ground truth by scan in {truth_seconds:.1f} s")

    # the fast scan must agree with caselib.search.contains itself
    sample_pairs = [(rng.randrange(len(corpus)), rng.randrange(len(queries))) for _ in range(args.reference_check)]
    scan_mismatch = [
        {"query": queries[qi]["q"], "id": corpus.ids[ci]}
        for ci, qi in sample_pairs
        if (ci in truth[qi]) != corpus.reference(ci, queries[qi]["q"])
    ]

    # indexes: ours (timed in a scratch file, as the build does it), baselines in copies
    from caselib import search

    conn = sqlite3.connect(ours_db)
    sizes = {"cjk-bigram": fts_size_mb(conn, "cases_fts")}
    conn.close()
    scratch = folder / "scratch.db"
    scratch.unlink(missing_ok=True)
    index_seconds = {"cjk-bigram": build_fts(scratch, corpus, "unicode61 remove_diacritics 2", search.index_text)}
    scratch.unlink(missing_ok=True)
    dbs = {"cjk-bigram": ours_db}
    for approach, tokenize in (("unicode61", None), ("trigram", "trigram")):
        db, seconds = make_baseline(ours_db, folder / approach, corpus, tokenize)
        conn = sqlite3.connect(db)
        sizes[approach] = fts_size_mb(conn, "cases_fts")
        conn.close()
        dbs[approach], index_seconds[approach] = db, seconds
    if args.variants:
        db = folder / "cjk-bigram-prefix1" / "cases.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        shutil.copyfile(ours_db, db)
        index_seconds["cjk-bigram+prefix1"] = build_fts(db, corpus, "unicode61 remove_diacritics 2", search.index_text, extra=", prefix='1'")
        conn = sqlite3.connect(db)
        sizes["cjk-bigram+prefix1"] = fts_size_mb(conn, "cases_fts")
        conn.close()
        dbs["cjk-bigram+prefix1"] = db
    write_raw_text(dbs["unicode61"], corpus)
    log("size {}: indexes built: {}".format(size, ", ".join(f"{a} {sizes[a]:.1f} MB in {index_seconds[a]:.1f} s" for a in dbs)))

    all_indices = list(range(len(queries)))
    timing = [i for i in all_indices if i < edge_start]
    if args.timing_queries and len(timing) > args.timing_queries:
        timing = sorted(rng.sample(timing, args.timing_queries))
    facet_pool = [i for i in all_indices if i < edge_start]
    facets = sorted(rng.sample(facet_pool, min(args.facet_queries, len(facet_pool))))
    ids_via = args.ids_via if args.ids_via != "auto" else ("table" if size <= 20000 else "sql")
    texts = [q["q"] for q in queries]
    work = folder / "work"
    work.mkdir(exist_ok=True)
    measured = {}
    approaches = [*APPROACHES, *(VARIANTS if args.variants else ())]
    for approach in approaches:
        started = time.perf_counter()
        measured[approach] = measure(approach, dbs[approach], texts, all_indices, timing, facets, args, ids_via, work)
        log(f"size {size}: measured {approach} through Datasette in {time.perf_counter() - started:.1f} s "
            f"(escape_fts('受贿赂 KTV') = {measured[approach]['escape_check']})")
    like_indices = [i for i in all_indices if i < edge_start]
    if args.like_queries and len(like_indices) > args.like_queries:
        like_indices = sorted(rng.sample(like_indices, args.like_queries))
    like = like_scan(dbs["unicode61"], corpus, queries, like_indices)
    log(f"size {size}: LIKE scan over {len(like_indices)} queries")

    # scoring
    results: dict = {"size": size, "seed": args.seed, "cases": len(corpus), "build_seconds": build_seconds,
                     "truth_seconds": truth_seconds, "parse_check": check, "reference_check": {"pairs": len(sample_pairs), "mismatches": scan_mismatch},
                     "ids_via": ids_via, "repeat": args.repeat, "approaches": {}, "queries": []}
    by_category = {c: [i for i in range(edge_start) if queries[i]["category"] == c] for c in CATEGORIES}
    main_indices = list(range(edge_start))
    zh_indices = [i for c in ZH_CATEGORIES for i in by_category[c]]
    for approach in [*approaches, "LIKE"]:
        if approach == "LIKE":
            found = {i: {corpus.rowid_index[r] for r in like[i]["rowids"]} for i in like_indices}
            pool = like_indices
            page = [like[i]["ms"] for i in like_indices]
            facet_times, sql_all, timed_out, errors = [], page, 0, 0
        else:
            m = measured[approach]["queries"]
            found = {i: {corpus.rowid_index[r] for r in m[i]["rowids"]} for i in all_indices}
            pool = all_indices
            page = [m[i]["page_ms"] for i in timing]
            facet_times = [m[i]["facet_ms"] for i in facets]
            sql_all = [m[i]["sql_all_ms"] for i in timing]
            timed_out = sum(1 for i in facets if m[i].get("facets_timed_out"))
            errors = sum(1 for i in all_indices if m[i].get("error"))
        pool_set = set(pool)
        shared = {i: len(truth[i] & found[i]) for i in pool}
        entry = {
            "categories": {c: score([i for i in by_category[c] if i in pool_set], truth, found, shared) for c in CATEGORIES},
            "zh_1_6": score([i for i in zh_indices if i in pool_set], truth, found, shared),
            "all": score([i for i in main_indices if i in pool_set], truth, found, shared),
            "edge": {queries[i]["q"]: {"truth": len(truth[i]), "found": len(found[i]), "agree": shared[i] == len(truth[i]) == len(found[i])}
                     for i in range(edge_start, len(queries)) if i in found},
            "page_ms": {"p50": percentile(page, 50), "p95": percentile(page, 95), "max": max(page) if page else None, "n": len(page)},
            "facet_ms": {"p50": percentile(facet_times, 50), "p95": percentile(facet_times, 95), "max": max(facet_times) if facet_times else None,
                         "n": len(facet_times), "with_timed_out_facets": timed_out},
            "all_matches_ms": {"p50": percentile(sql_all, 50), "p95": percentile(sql_all, 95)},
            "page_ms_by_matches": latency_by_matches(timing if approach != "LIKE" else like_indices, truth,
                                                     measured[approach]["queries"] if approach != "LIKE" else {i: {"page_ms": like[i]["ms"]} for i in like_indices}),
            "load_average": [measured[approach].get("load_before"), measured[approach].get("load_after")] if approach in measured else None,
            "index_mb": sizes.get(approach),
            "index_build_s": index_seconds.get(approach),
            "errors": errors,
            "disagreements": [],
        }
        for i in main_indices:
            if approach == "cjk-bigram" and i in pool_set and not (shared[i] == len(truth[i]) == len(found[i])):
                entry["disagreements"].append({"query": queries[i]["q"], "category": queries[i]["category"], "truth": len(truth[i]),
                                               "found": len(found[i]), "cases": disagreement_report(corpus, queries[i]["q"], truth[i], found[i])})
        results["approaches"][approach] = entry
        if approach != "LIKE":
            for i in all_indices:
                results.setdefault("_found_counts", {}).setdefault(i, {})[approach] = len(found[i])
    if "cjk-bigram" in measured:
        m = measured["cjk-bigram"]["queries"]
        results["count_check"] = [
            {"query": queries[i]["q"], "count": m[i].get("count"), "truth": len(truth[i])}
            for i in timing if m[i].get("count") is not None and m[i]["count"] != len(truth[i])
        ]
        lost = [(i, m[i]["default_order"]) for i in all_indices if "default_order" in m[i]]
        bad = [(i, d) for i, d in lost if d["missing"] or d["extra"] or d["rows"] != d["unique"]]
        results["default_order_paging"] = {
            "queries": len(lost),
            "queries_with_lost_or_repeated_rows": len(bad),
            "rows_lost": sum(len(d["missing"]) for _, d in bad),
            "rows_repeated": sum(d["rows"] - d["unique"] for _, d in bad),
            "examples": [
                {"query": queries[i]["q"], "pages": d["pages"], "missing": [f"{corpus.ids[corpus.rowid_index[r]]} (date {corpus_date(ours_db, r)})" for r in d["missing"][:3]]}
                for i, d in bad[:5]
            ],
        }
        for i, q in enumerate(queries):
            results["queries"].append({**q, "truth": len(truth[i]), **results["_found_counts"][i],
                                       **{f"{a} page_ms": measured[a]["queries"][i].get("page_ms") for a in approaches}})
    results.pop("_found_counts", None)
    return results


def corpus_date(db: Path, rowid: int) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("select date from cases where rowid = ?", [rowid]).fetchone()[0]
    finally:
        conn.close()


def table_for(results: dict) -> str:
    header = ["approach", *[c for c in CATEGORIES if c != "absent"], "zh1-6 R/P", "all R/P", "worst R/P", "exact",
              "p50 ms", "p95 ms", "p95 facets", "all-hits p95", "index MB", "index s"]
    rows = []
    for approach, e in results["approaches"].items():
        cells = [approach]
        for c in CATEGORIES:
            if c == "absent":
                continue
            s = e["categories"][c]
            cells.append(f"{pct(s['recall'])}/{pct(s['precision'])}" if s["queries"] else "—")
        z, a = e["zh_1_6"], e["all"]
        cells += [f"{pct(z['recall'])}/{pct(z['precision'])}", f"{pct(a['recall'])}/{pct(a['precision'])}",
                  f"{pct(a['worst_recall'])}/{pct(a['worst_precision'])}", f"{a['exact']}/{a['queries']}",
                  ms(e["page_ms"]["p50"]), ms(e["page_ms"]["p95"]), ms(e["facet_ms"]["p95"]), ms(e["all_matches_ms"]["p95"]),
                  "—" if e["index_mb"] is None else f"{e['index_mb']:.1f}", "—" if e["index_build_s"] is None else f"{e['index_build_s']:.1f}"]
        rows.append(cells)
    return render_table(rows, header)


def summary_for(results: dict) -> str:
    ours = results["approaches"]["cjk-bigram"]
    base = results["approaches"]["unicode61"]
    z = ours["zh_1_6"]
    lines = [
        f"== {results['cases']:,} cases (seed {results['seed']}); project build "
        + (f"{results['build_seconds']:.1f} s" if results["build_seconds"] else "reused")
        + f"; ids via {'table pages' if results['ids_via'] == 'table' else 'SQL on the site connection'} ==",
        table_for(results),
        f"Chinese 1-6 chars + phrases + absent ({z['queries']} queries): cjk-bigram recall {pct(z['recall'])}%, precision {pct(z['precision'])}%, "
        f"{z['exact']}/{z['queries']} exact; unicode61 (Datasette default) recall {pct(base['zh_1_6']['recall'])}%.",
        f"p95 results page without facets: {ms(ours['page_ms']['p95'])} ms (goal < 50 ms: {'met' if (ours['page_ms']['p95'] or 1e9) < 50 else 'NOT met'}); "
        f"with facets p95 {ms(ours['facet_ms']['p95'])} ms, {ours['facet_ms']['with_timed_out_facets']}/{ours['facet_ms']['n']} pages had a facet time out.",
    ]
    loads = [x for a in results["approaches"].values() if a.get("load_average") for pair in a["load_average"] if pair for x in pair[:1]]
    lines.append(
        f"timed: {ours['page_ms']['n']} queries x {results.get('repeat', 1)} runs each (fastest kept), faceted: {ours['facet_ms']['n']} queries; "
        f"LIKE: {results['approaches']['LIKE']['all']['queries']} queries, direct SQL; 1-minute load average during the Datasette runs: "
        + (f"{min(loads):.1f}-{max(loads):.1f}" if loads else "n/a")
    )
    buckets = ours.get("page_ms_by_matches", {})
    if buckets:
        lines.append("cjk-bigram page ms by matching cases (n, p50, p95): " + "; ".join(
            f"{k}: {v['n']}, {ms(v['p50'])}, {ms(v['p95'])}" for k, v in buckets.items()))
    edge = ours["edge"]
    if edge:
        lines.append("edge queries (truth/found): " + "; ".join(f"{q!r} {v['truth']}/{v['found']}" for q, v in edge.items()))
    if ours["disagreements"]:
        lines.append(f"DISAGREEMENTS ({len(ours['disagreements'])} queries):")
        for d in ours["disagreements"][:10]:
            lines.append(f"  {d['query']!r} [{d['category']}] truth {d['truth']} found {d['found']}")
            for c in d["cases"]:
                lines.append(f"    {c['kind']} {c['id']}: {c['context']} (contains() says {c['reference']})")
    for approach, entry in results["approaches"].items():
        if entry.get("errors"):
            lines.append(f"{approach}: {entry['errors']} queries answered with an error (see the JSON)")
    paging = results.get("default_order_paging")
    if paging and paging["queries"]:
        lines.append(
            f"paging in the site's default order (sort_desc date, {paging['queries']} queries): "
            f"{paging['queries_with_lost_or_repeated_rows']} queries lost {paging['rows_lost']} rows and repeated {paging['rows_repeated']}"
            + ("; e.g. " + "; ".join(f"{e['query']!r}: missing {', '.join(e['missing'])}" for e in paging["examples"][:3]) if paging["examples"] else "")
        )
    if results["reference_check"]["mismatches"]:
        lines.append(f"scan vs caselib.search.contains mismatches: {results['reference_check']['mismatches'][:5]}")
    if results["parse_check"]["mismatches"] or results["parse_check"].get("skipped"):
        lines.append(f"searchable-text re-parse check: {results['parse_check']}")
    if results.get("count_check"):
        lines.append(f"table-page counts differing from the truth: {results['count_check'][:5]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--queries", type=int, default=40, help="queries per Chinese length 1-6 (and per other group, scaled); default 40")
    parser.add_argument("--seed", type=int, default=1, help="corpus and query seed (default 1)")
    parser.add_argument("--timing-queries", type=int, default=200, help="queries timed through Datasette without facets (default 200, 0 = all)")
    parser.add_argument("--facet-queries", type=int, default=30, help="queries timed with the default facets (default 30)")
    parser.add_argument("--repeat", type=int, default=3, help="times each results page is timed; the fastest counts (default 3)")
    parser.add_argument("--facet-repeat", type=int, default=1, help="times each faceted page is timed; the fastest counts (default 1)")
    parser.add_argument("--like-queries", type=int, default=60, help="queries for the LIKE scan (default 60, 0 = all)")
    parser.add_argument("--ids-via", choices=("auto", "table", "sql"), default="auto",
                        help="collect matches by paging the table JSON (table) or one SQL query on Datasette's connection (sql); auto: table up to 20k cases")
    parser.add_argument("--no-paging-check", dest="paging_check", action="store_false",
                        help="do not page through each query's matches in the site's default order (date desc) as well")
    parser.add_argument("--no-variants", dest="variants", action="store_false", help="measure only the project's index and the baselines")
    parser.add_argument("--parse-check", type=int, default=200, help="cases re-parsed to check the searchable text (default 200)")
    parser.add_argument("--reference-check", type=int, default=3000, help="(case, query) pairs checked against caselib.search.contains (default 3000)")
    parser.add_argument("--reuse-db", action="store_true", help="reuse the built database if present (skip the project build)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes for the project build")
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(Path(args.worker[0]), Path(args.worker[1]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    machine = {"cores": os.cpu_count(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    from datasette.version import __version__ as datasette_version

    machine["datasette"] = datasette_version
    for size in sizes:
        results = bench_size(size, args, log)
        results["machine"] = machine
        results["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for name in (f"search-{size}.json", f"search-{size}-{stamp}.json"):
            (RESULTS / name).write_text(json.dumps(results, ensure_ascii=False, indent=1))
        print(summary_for(results), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
