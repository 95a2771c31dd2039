"""Scale: full and incremental build times, memory, page latencies, CSV, a peer tool.

    python -m bench.build_bench [--sizes 1000,10000,100000] [--seed S] [--smoke] [--data DIR] [--no-peer]

For each size, on the cached corpus, each measured step in its own fresh
process: a lower bound (read + YAML + Markdown, nothing else), the full build
(``build.py --full``, then ``build(full=True)`` for its stages), incremental
builds after one change, addition, deletion and rename, pages and searches
through Datasette, the CSV export, and markdown-to-sqlite on the same files.
One table per size on stdout, JSON in DATA/results/build-SIZE.json; see
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import itertools
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from caselib.site.listing import facet_order

from . import common

GNU_TIME = Path("/usr/bin/time")
PEER_VENV = Path("/tmp/markdown-to-sqlite-venv")
DEFAULT_FACETS = tuple(facet_order())  # as metadata.yml lists them
SEARCH_QUERIES = ("的", "贿", "受贿", "违规吃喝", "购物卡", "lawyer", "受贿 购物卡")
RANKED_QUERY = "受贿"
CSV_URL = "/cases/cases.csv?_stream=on&_size=max"
APPENDED = "\n\n案发后，单位党组召开专题会议通报本案，要求全体干部以案为鉴。\n".encode()
ID_LIKE = re.compile(rb"\b\d{4}-[a-z][a-z0-9-]*?-\d{6}\b")
# (added, changed, removed) each incremental step must report
INCREMENTAL_STEPS = {"none": (0, 0, 0), "change": (0, 1, 0), "add": (1, 0, 0), "delete": (0, 0, 1), "rename": (1, 0, 1), "restore": (2, 1, 2)}
GOAL_RATIO, AIM_RATIO, GOAL_INCREMENTAL = 1.0, 0.75, 10.0
CODE = ("caselib", "plugins", "templates", "static", "metadata.yml", "settings.json", "build.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Settings:
    repeat: int = 30  # timed requests per page kind
    search_repeat: int = 10  # timed requests per search query
    quiet_wait: float = 120  # before each step, wait up to this long for the CPUs to be 90% idle
    idle_window: float = 2  # seconds over which CPU idleness is sampled


SMOKE = Settings(repeat=2, search_repeat=1, quiet_wait=0, idle_window=0.2)


# ================================================================ the machine and the code


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_idle_share(seconds: float) -> float:
    """Share of CPU time idle over ``seconds`` (1.0: nothing else is running)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[3] + values[4], sum(values)

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(1, total1 - total0)


def wait_quiet(what: str, settings: Settings) -> None:
    """Wait (up to ``settings.quiet_wait`` seconds) for the cores to be at least 90% idle."""
    started = time.perf_counter()
    while time.perf_counter() - started < settings.quiet_wait:
        idle = cpu_idle_share(settings.idle_window)
        if idle >= 0.9:
            return
        common.log(f"  waiting for the machine to be quiet before {what} (CPU idle {idle:.0%})")
        time.sleep(5)


def code_digest() -> str:
    """A digest of the files the build and the site run."""
    digest = hashlib.sha256()
    for name in CODE:
        path = common.ROOT / name
        files = sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) if path.is_dir() else [path]
        for f in files:
            digest.update(str(f.relative_to(common.ROOT)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def code_commit() -> dict:
    """The commit measured, and which of the measured files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=common.ROOT, capture_output=True, text=True).stdout

    dirty = git("status", "--porcelain", "--", *CODE).splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted": [line[3:] for line in dirty if line.strip()]}


def _cpu_seconds() -> tuple[float, float]:
    """Busy CPU seconds of the machine, and of this process and its waited-for children."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in f.readline().split()[1:8])
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return (user + nice + system + irq + softirq) / CLOCK_TICKS, ours


def run_measured(cmd: list[str], cwd: Path = common.ROOT) -> dict:
    """Run ``cmd`` in a fresh process (under GNU time when present): wall time,
    peak memory, and ``others``, the share of the machine's CPU time other
    programs used meanwhile."""
    busy_before, ours_before = _cpu_seconds()

    def run() -> tuple[subprocess.Popen, TreeMemory, bytes, bytes]:
        proc = subprocess.Popen([str(GNU_TIME), "-v", *cmd] if GNU_TIME.exists() else cmd, cwd=cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sampler = common.TreeMemory(proc.pid)
        sampler.start()
        return proc, sampler, *proc.communicate()

    timing = common.time_call(run)
    proc, sampler, out, err = timing.results[0]
    sampler.stop()
    wall = timing.samples[0] / 1000
    busy_after, ours_after = _cpu_seconds()
    foreign = max(0.0, (busy_after - busy_before) - (ours_after - ours_before))
    stderr = err.decode("utf-8", "replace")
    largest = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return {
        "wall_s": wall,
        "returncode": proc.returncode,
        "stdout": out.decode("utf-8", "replace"),
        "stderr": stderr.split("\tCommand being timed:")[0].strip()[-4000:],
        "largest_process_rss_mb": int(largest.group(1)) / 1024 if largest else None,
        "tree_pss_mb": sampler.peak_pss_kb / 1024,
        "tree_rss_mb": sampler.peak_rss_kb / 1024,
        "others": foreign / max(wall * (os.cpu_count() or 1), 1e-9),
    }


def checked(run: dict) -> dict:
    """``run``, or an error with the end of its stderr if it failed."""
    if run["returncode"] != 0:
        raise RuntimeError(f"a measured step failed ({run['returncode']}):\n{run['stderr'][-3000:]}")
    return run


def run_worker(kind: str, *args: object) -> tuple[dict, dict]:
    """A worker of this module in a fresh process: (the JSON it printed, the measured run)."""
    run = checked(run_measured(common.python_command("bench.build_bench", "--worker", kind, *args)))
    return json.loads(run["stdout"].strip().splitlines()[-1]), run


# ================================================================ workers (each in its own process)


def split_front_matter(text: str) -> tuple[str, str]:
    if not text.startswith("---"):
        return "", text
    start = text.find("\n") + 1
    end = text.find("\n---", start - 1)
    if end < 0:
        return "", text
    body_start = text.find("\n", end + 4)
    return text[start:end], "" if body_start < 0 else text[body_start + 1 :]


def case_files(cases: Path) -> list[Path]:
    return sorted(p for p in cases.rglob("*.md") if not p.name.startswith(("_", ".")))


def worker_lower_bound(cases: Path) -> dict:
    """Read every file, parse its front matter, render its body; nothing else."""
    import yaml
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    started = time.perf_counter()
    read_s = yaml_s = md_s = 0.0
    for path in case_files(cases):
        a = time.perf_counter()
        front, body = split_front_matter(path.read_bytes().decode("utf-8"))
        b = time.perf_counter()
        yaml.load(front, Loader=yaml.CSafeLoader)
        c = time.perf_counter()
        md.render(body)
        d = time.perf_counter()
        read_s, yaml_s, md_s = read_s + b - a, yaml_s + c - b, md_s + d - c
    return {"seconds": time.perf_counter() - started, "read_s": read_s, "yaml_s": yaml_s, "markdown_s": md_s}


def worker_build(cases: Path, db: Path, full: bool) -> dict:
    from caselib.pipeline import build, default_packs_dir

    report = build(cases, db, full=full, packs_dir=default_packs_dir(cases))
    return {"seconds": report.seconds, "stages": report.stages, "incremental": report.incremental,
            "added": report.added, "changed": report.changed, "removed": report.removed, "summary": report.summary()}


def facets_seen(responses: list) -> dict:
    """Whether every default facet came back in every response, the count, the facet counts."""
    check: dict[str, Any] = {"responses_missing_facets": 0, "missing": set(), "timed_out": set()}
    for response in responses:
        data = response.json()
        missing = set(DEFAULT_FACETS) - set(data.get("facet_results") or {})
        timed_out = set(data.get("facets_timed_out") or [])
        check["responses_missing_facets"] += bool(missing or timed_out)
        check["missing"] |= missing
        check["timed_out"] |= timed_out
        check["rows"] = data.get("filtered_table_rows_count")
        check["facet_counts"] = {name: {str(v["value"]): v["count"] for v in facet["results"]}
                                 for name, facet in (data.get("facet_results") or {}).items()}
    return {**check, "missing": sorted(check["missing"]), "timed_out": sorted(check["timed_out"])}


def rows_counted(responses: list) -> dict:
    return {"rows": responses[-1].json().get("filtered_table_rows_count")} if responses else {}


def summary(timing: common.Timing, inspect: Callable[[list], dict] | None = None) -> dict:
    """Statistics of a page's timing, its status codes, and what ``inspect`` saw in the 200 responses."""
    ok = [r for r in timing.results if r.status_code == 200]
    statuses = Counter(r.status_code for r in timing.results)
    return {**timing.stats(), "statuses": dict(statuses), **(inspect(ok) if inspect else {})}


def csv_check(body: bytes, expected_rows: int) -> dict:
    """Parse the CSV export (quoted fields hold newlines): every case once, every row complete."""
    reader = csv.reader(io.StringIO(body.decode("utf-8", "replace"), newline=""))
    header = next(reader, [])
    id_col = header.index("id") if "id" in header else 0
    rows = list(reader)
    complete = [row for row in rows if len(row) == len(header)]
    ids = {row[id_col] for row in complete}
    return {"bytes": len(body), "rows": len(rows), "rows_ok": len(rows) == expected_rows == len(complete) == len(ids)}


async def pages(db: Path, spec: dict) -> dict:
    """Every page kind through the site's in-process client, each address requested once first."""
    from caselib.site import datasette

    ds = datasette(db)
    await ds.invoke_startup()

    async def timed(urls: list[str], times: int) -> common.Timing:
        for url in dict.fromkeys(urls):
            await ds.client.get(url)
        cycle = itertools.cycle(urls)
        return await common.time_async(lambda: ds.client.get(next(cycle)), times)

    repeat = spec["repeat"]
    out: dict[str, Any] = {"list_json": summary(await timed(["/cases/cases.json"], repeat), facets_seen),
                           "list_html": summary(await timed(["/cases/cases"], repeat))}
    # page 2 of the list: Datasette pages a sorted table by keyset (_next=<sort value>,<pk>)
    first = (await ds.client.get("/cases/cases.json?_nofacet=1")).json()
    if first.get("next"):
        token = quote(str(first["next"]), safe="")
        out["list_next_json"] = summary(await timed([f"/cases/cases.json?_next={token}"], repeat), facets_seen)
        out["list_next_nofacet"] = summary(await timed([f"/cases/cases.json?_next={token}&_nofacet=1"], repeat), rows_counted)
        out["list_next_html"] = summary(await timed([f"/cases/cases?_next={token}"], repeat))
        # page 2's facets count the whole list, as page 1's do (not only the rows after the cursor)
        out["list_next_json"]["facets_equal_page_1"] = out["list_next_json"].pop("facet_counts", None) == out["list_json"].get("facet_counts")
    out["list_json"].pop("facet_counts", None)
    out["case_page"] = summary(await timed([f"/cases/cases/{quote(i)}" for i in spec["case_ids"]], repeat))
    out["home"] = summary(await timed(["/"], repeat))
    out["statistics"] = summary(await timed(["/statistics"], repeat))
    out["ranked_search"] = summary(await timed([f"/search?q={quote(RANKED_QUERY)}"], repeat))
    for kind, suffix, inspect in (("search_facets", "", facets_seen), ("search_nofacet", "&_nofacet=1", rows_counted)):
        timings = {q: await timed([f"/cases/cases.json?_search={quote(q)}{suffix}"], spec["search_repeat"]) for q in SEARCH_QUERIES}
        per_query = {q: summary(t, inspect) for q, t in timings.items()}
        for entry in per_query.values():
            entry.pop("facet_counts", None)
        pooled = common.Timing()
        for t in timings.values():
            pooled.add(t)
        out[kind] = {**pooled.stats(), "per_query": per_query}
    export = await common.time_async(lambda: ds.client.get(CSV_URL))
    out["csv"] = {"seconds": export.samples[0] / 1000, "status": export.results[0].status_code,
                  **csv_check(export.results[0].content, spec["expected_rows"])}
    return out


# ================================================================ the steps of one size


def warm_and_pick(cases: Path) -> dict:
    """Read every file once (warming the page cache); pick the files the incremental steps touch."""
    paths = case_files(cases)
    referenced: set[bytes] = set()
    size = 0
    for path in paths:
        data = path.read_bytes()
        size += len(data)
        referenced.update(ID_LIKE.findall(data))
    # spread over the corpus; delete and rename only cases no other case links to
    step = max(1, len(paths) // 7)
    spread = [paths[(i * step + len(paths) // 2) % len(paths)] for i in range(7)]
    change, add_from = spread[0], spread[1]
    free = [p for p in dict.fromkeys(spread + paths) if p.stem.encode() not in referenced and p not in (change, add_from)]
    if len(free) < 2:
        raise RuntimeError("no two cases without incoming links to delete and rename")
    return {"files": len(paths), "mb": size / 1e6, "change": change, "add_from": add_from, "delete": free[0], "rename": free[1]}


def incremental_steps(cases: Path, db: Path, picked: dict) -> dict:
    """Time each one-file change on the built database; restore the corpus afterwards, byte for byte."""
    change, add_from, delete, rename = picked["change"], picked["add_from"], picked["delete"], picked["rename"]
    added = add_from.with_name(add_from.stem + "-added.md")
    renamed = rename.with_name(rename.stem + "-renamed.md")
    originals = {p: p.read_bytes() for p in (change, delete, rename)}
    for path in (added, renamed):
        if path.exists():
            raise RuntimeError(f"{path} exists: the corpus is not as generated")

    def restore() -> None:
        change.write_bytes(originals[change])
        added.unlink(missing_ok=True)
        if not delete.exists():
            delete.write_bytes(originals[delete])
        if renamed.exists():
            renamed.rename(rename)

    actions: dict[str, Callable[[], object]] = {
        "none": lambda: None,
        "change": lambda: change.write_bytes(originals[change] + APPENDED),
        "add": lambda: shutil.copyfile(add_from, added),
        "delete": delete.unlink,
        "rename": lambda: rename.rename(renamed),
        "restore": restore,
    }
    results: dict = {}
    try:
        for step, expected in INCREMENTAL_STEPS.items():
            actions[step]()
            report, run = run_worker("build", cases, db, "incremental")
            counts = (report["added"], report["changed"], report["removed"])
            results[step] = {"wall_s": run["wall_s"], "others": run["others"], **report,
                             "as_expected": report["incremental"] and counts == expected}
            common.log(f"  incremental {step}: {run['wall_s']:.2f} s ({report['summary']})")
    finally:
        restore()
    for path, data in originals.items():
        if path.read_bytes() != data:
            raise RuntimeError(f"{path} was not restored")
    return results


PEER_SCRIPT = """
import sys
from markdown_to_sqlite.cli import cli
paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
cli.main([sys.argv[2], "docs", *paths], prog_name="markdown-to-sqlite")
"""


def peer_python() -> Path:
    """The markdown-to-sqlite virtual environment's interpreter (created with pip if missing)."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        common.log(f"creating {PEER_VENV} with markdown-to-sqlite")
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", "markdown-to-sqlite"], check=True)
    return python


def peer_baseline(cases: Path, work: Path) -> dict:
    """markdown-to-sqlite on every case file (the list handed over in a file, not on the command line)."""
    listing = work / "peer-files.txt"
    listing.write_text("\n".join(str(p) for p in case_files(cases)), encoding="utf-8")
    db = work / "peer.db"
    db.unlink(missing_ok=True)
    run = run_measured([str(peer_python()), "-c", PEER_SCRIPT, str(listing), str(db)], cwd=work)
    rows = None
    if run["returncode"] == 0:
        conn = sqlite3.connect(db)
        rows = conn.execute("select count(*) from docs").fetchone()[0]
        conn.close()
    db.unlink(missing_ok=True)
    return {key: run[key] for key in ("wall_s", "returncode", "tree_pss_mb", "largest_process_rss_mb", "others")} | {"rows": rows}


def measure_pages(db: Path, work: Path, settings: Settings) -> dict:
    """``pages`` in a fresh process, on 30 case pages spread over the ids."""
    conn = sqlite3.connect(db)
    ids = [r[0] for r in conn.execute("select id from cases order by id")]
    conn.close()
    spec = {"repeat": settings.repeat, "search_repeat": settings.search_repeat, "expected_rows": len(ids),
            "case_ids": [ids[(i * len(ids)) // 30] for i in range(min(30, len(ids)))]}
    spec_path = work / "pages-spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    measured, run = run_worker("pages", db, spec_path)
    common.log(f"pages measured in {run['wall_s']:.1f} s")
    return {**measured, "others": run["others"]}


def bench_size(size: int, args: argparse.Namespace, settings: Settings) -> dict:
    log = common.log
    results: dict[str, Any] = {"size": size, "seed": args.seed, "cpu_idle_before": cpu_idle_share(settings.idle_window),
                               "load_average": {"start": load_average()}, "code": code_commit()}
    digests = {code_digest()}

    def step(what: str) -> None:
        wait_quiet(what, settings)
        digests.add(code_digest())

    cases = common.corpus(size, args.seed, args.data)
    work = common.corpus_dir(args.data, size, args.seed) / "build-bench"
    work.mkdir(exist_ok=True)
    db = work / "cases.db"
    picked = warm_and_pick(cases)
    results["corpus"] = {"files": picked["files"], "mb": picked["mb"]}

    step("the lower bound")
    lower, run = run_worker("lower-bound", cases)
    results["lower_bound"] = {**lower, "wall_s": run["wall_s"], "others": run["others"]}
    log(f"size {size}: lower bound {lower['seconds']:.2f} s in-process ({run['wall_s']:.2f} s with start-up)")

    step("the full build")
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    run = checked(run_measured([sys.executable, "build.py", "--cases", str(cases), "--db", str(db), "--full"]))
    results["full_build"] = {k: run[k] for k in ("wall_s", "largest_process_rss_mb", "tree_pss_mb", "tree_rss_mb", "others")}
    results["db_mb"] = db.stat().st_size / 1e6
    results["ratio"] = run["wall_s"] / results["lower_bound"]["wall_s"]
    log(f"size {size}: full build {run['wall_s']:.2f} s, ratio {results['ratio']:.2f}, peak tree PSS {run['tree_pss_mb']:.0f} MB")

    db.unlink()
    step("the in-process full build")
    report, run = run_worker("build", cases, db, "full")
    results["full_build_inprocess"] = {**report, "wall_s": run["wall_s"], "others": run["others"]}
    results["ratio_inprocess"] = report["seconds"] / lower["seconds"]

    step("the incremental builds")
    results["incremental"] = incremental_steps(cases, db, picked)

    step("the pages")
    results["pages"] = measure_pages(db, work, settings)

    if args.peer:
        step("markdown-to-sqlite")
        results["peer"] = peer_baseline(cases, work)
        log(f"size {size}: markdown-to-sqlite {results['peer']['wall_s']:.1f} s")
    results["load_average"]["end"] = load_average()
    digests.add(code_digest())
    results["code"]["changed_during_run"] = len(digests) > 1
    return results


# ================================================================ the report


def s(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def share(value: float) -> str:
    return f"{value * 100:.0f}%"


def facet_note(entry: dict) -> str:
    if not entry["responses_missing_facets"]:
        return f"all {len(DEFAULT_FACETS)} facets present"
    return (f"FACETS MISSING in {entry['responses_missing_facets']}/{entry['n']}: {','.join(entry['missing'])}"
            + (f"; timed out: {','.join(entry['timed_out'])}" if entry["timed_out"] else ""))


def page_note(entry: dict, count: str = "") -> str:
    """``count``, facets present, page 2's facet counts, and any status other than 200."""
    notes = [count] if count else []
    if "responses_missing_facets" in entry:
        notes.append(facet_note(entry))
    if "facets_equal_page_1" in entry:
        notes.append("facet counts equal page 1's" if entry["facets_equal_page_1"] else "facet counts DIFFER from page 1's")
    bad = {k: v for k, v in entry["statuses"].items() if str(k) != "200"}
    if bad:
        notes.append("HTTP " + ", ".join(f"{k}×{v}" for k, v in bad.items()))
    return "; ".join(notes)


def build_rows(r: dict) -> list[list[str]]:
    full, lb, inproc, fb = r["full_build"]["wall_s"], r["lower_bound"], r["full_build_inprocess"], r["full_build"]
    largest = f"{fb['largest_process_rss_mb']:.0f} MB" if fb["largest_process_rss_mb"] else "—"
    rows = [
        ["lower bound: read + YAML + Markdown, 1 process", s(lb["wall_s"]), "", "", share(lb["others"]),
         f"warm page cache; in-process {lb['seconds']:.2f} s: read {lb['read_s']:.2f} s, YAML {lb['yaml_s']:.2f} s, render {lb['markdown_s']:.2f} s"],
        ["full build: build.py --full (2 jobs)", s(full), "", f"ratio {r['ratio']:.2f}", share(fb["others"]),
         f"goal <= {GOAL_RATIO:.2f} {'met' if r['ratio'] <= GOAL_RATIO else 'NOT met'}, aim {AIM_RATIO:.2f} {'met' if r['ratio'] <= AIM_RATIO else 'not met'}"],
        ["  build(full=True) in-process: parse+store / finish", s(inproc["seconds"]), "", "", share(inproc["others"]),
         f"parse and store, overlapped {inproc['stages'].get('parse', 0):.2f} s / then index merge, similar cases, "
         f"indexes {inproc['stages'].get('store', 0):.2f} s (+{inproc['wall_s'] - inproc['seconds']:.2f} s start-up); "
         f"ratio to lower bound in-process {r['ratio_inprocess']:.2f}"],
        ["  peak memory, full build", f"{fb['tree_pss_mb']:.0f} MB", "", "", "",
         f"tree PSS; tree RSS {fb['tree_rss_mb']:.0f} MB, largest process {largest}"],
        ["  database size", f"{r['db_mb']:.1f} MB", "", "", "", f"corpus {r['corpus']['mb']:.1f} MB, {r['corpus']['files']:,} files"],
    ]
    for step, e in r["incremental"].items():
        percent = 100 * e["wall_s"] / full
        goal = "" if step in ("none", "restore") else f" (goal < 10%: {'met' if percent < GOAL_INCREMENTAL else 'NOT met'})"
        if not e["incremental"]:
            goal += "; NOT INCREMENTAL: rebuilt every case (the database was not reusable)"
        elif not e["as_expected"]:
            goal += f"; UNEXPECTED counts +{e['added']} ~{e['changed']} -{e['removed']}"
        rows.append(["incremental: restore (4 files)" if step == "restore" else f"incremental: {step}", s(e["wall_s"]), "",
                     f"{percent:.1f}%", share(e["others"]),
                     f"parse {e['stages'].get('parse', 0):.2f} s / store {e['stages'].get('store', 0):.2f} s{goal}"])
    return rows


PAGE_ROWS = (
    ("list_json", "page /cases/cases.json (default facets)"),
    ("list_html", "page /cases/cases (HTML)"),
    ("list_next_json", "page 2: /cases/cases.json?_next=… (facets)"),
    ("list_next_nofacet", "page 2: /cases/cases.json?_next=…&_nofacet=1"),
    ("list_next_html", "page 2: /cases/cases?_next=… (HTML)"),
    ("case_page", "page /cases/cases/<id> (30 ids)"),
    ("home", "page /"),
    ("statistics", "page /statistics"),
    ("ranked_search", f"page /search?q={RANKED_QUERY}"),
)


def page_rows(r: dict) -> list[list[str]]:
    p = r["pages"]
    rows = []
    for key, label in PAGE_ROWS:
        if key in p:
            e = p[key]
            count = f"count says {e['rows']:,} rows" if key.startswith("list_next") and e.get("rows") is not None else ""
            rows.append([label, ms(e["p50"]), ms(e["p95"]), "", share(p["others"]) if key == "list_json" else "", page_note(e, count)])
    for kind, label in (("search_facets", "search + facets"), ("search_nofacet", "search, _nofacet=1")):
        e = p[kind]
        missing = sum(x.get("responses_missing_facets", 0) for x in e["per_query"].values())
        present = f"; {missing} responses missing facets" if missing else ("; all facets present" if kind == "search_facets" else "")
        rows.append([f"{label}: all {len(e['per_query'])} queries", ms(e["p50"]), ms(e["p95"]), "", "", f"pooled over {e['n']} requests{present}"])
        rows += [[f"  {q}", ms(x["p50"]), ms(x["p95"]), "", "", page_note(x, f"{x.get('rows')} rows")] for q, x in e["per_query"].items()]
    c = p["csv"]
    rows.append(["CSV all cases (_stream=on&_size=max)", s(c["seconds"]), "", "", "",
                 f"{c['bytes'] / 1e6:.1f} MB, {c['rows']:,} rows, " + ("rows ok" if c["rows_ok"] else f"ROWS NOT OK (expected {r['corpus']['files']:,})")])
    peer = r.get("peer")
    if peer:
        largest = f", largest process {peer['largest_process_rss_mb']:.0f} MB" if peer["largest_process_rss_mb"] else ""
        result = f"{peer['rows']:,} rows" if peer["rows"] is not None else f"FAILED rc {peer['returncode']}"
        rows.append([f"markdown-to-sqlite ({r['size']:,} cases)", s(peer["wall_s"]), "", f"{peer['wall_s'] / r['full_build']['wall_s']:.1f}× full",
                     share(peer["others"]), f"peak {peer['tree_pss_mb']:.0f} MB tree PSS{largest}; {result}"])
    return rows


def report(r: dict) -> str:
    code = r["code"]
    version = (f"code {code['commit'] or '?'}" + (" + uncommitted changes" if code["uncommitted"] else "")
               + (" — THE CODE CHANGED DURING THE RUN" if code["changed_during_run"] else ""))
    la = r["load_average"]
    head = (f"== {r['size']:,} cases, seed {r['seed']} ({r['corpus']['mb']:.1f} MB); {version}; 1-min load average "
            f"{la['start']:.2f} at start, {la['end']:.2f} at end; CPU idle before start {r['cpu_idle_before']:.0%}; {r['when']} ==")
    foot = ("others: share of the machine's CPU time used by other programs while that step ran (0% = quiet); "
            f"page timings: {r['pages']['list_json']['n']} requests per page kind, "
            f"{r['pages']['search_facets']['per_query'][SEARCH_QUERIES[0]]['n']} per search query, "
            "in-process client, after one warm-up request per address")
    rows = build_rows(r) + page_rows(r)
    return head + "\n" + common.table(["measure", "time/p50", "p95", "vs full", "others", "notes"], rows, left=(0, 5)) + "\n" + foot


# ================================================================ command line


def worker(kind: str, args: list[str]) -> dict:
    if kind == "lower-bound":
        return worker_lower_bound(Path(args[0]))
    if kind == "build":
        return worker_build(Path(args[0]), Path(args[1]), args[2] == "full")
    if kind == "pages":
        return asyncio.run(pages(Path(args[0]), json.loads(Path(args[1]).read_text(encoding="utf-8"))))
    raise ValueError(f"unknown worker {kind}")


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench.build_bench", __doc__)
    parser.add_argument("--no-peer", dest="peer", action="store_false", help=f"skip markdown-to-sqlite (installed with pip in {PEER_VENV} when missing)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1:]), ensure_ascii=False))
        return 0
    settings = SMOKE if args.smoke else Settings()
    for size in common.sizes(args):
        results = bench_size(size, args, settings)
        results.update(machine=common.machine(), when=time.strftime("%Y-%m-%d %H:%M:%S"))
        common.write_results(args.data, f"build-{size}", results)
        print(report(results), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
