"""Scale: full and incremental build times, memory, and page latencies.

    python -m bench.build_bench [--sizes 1000,10000,100000] [--seed S]

For each size, on a generated corpus (cached in bench/corpora/), in one run:

1. lower bound: one process reading every file, parsing its YAML front matter
   (yaml.CSafeLoader) and rendering its Markdown body (markdown-it-py,
   "commonmark" preset), with no validation and nothing stored; the page
   cache is warmed first by reading every file once;
2. full build: ``build.py --cases DIR --db FILE --full`` in a fresh process
   with the default jobs, timed end to end, peak memory of the process tree;
   then ``build(full=True)`` in a fresh process for the parse/store split;
3. incremental builds on that database: no change, one case changed (a
   sentence appended), one added, one deleted, one renamed; the corpus is
   restored afterwards, byte for byte;
4. pages through Datasette (``caselib.site.datasette``, in-process client,
   warmed up first), p50/p95 over repeated requests: the case list with the
   default facets (checking that every facet is present), its HTML page, case
   pages, home, statistics, search with and without facets over a mix of
   queries, and the ranked search page;
5. the CSV stream of every case, parsed back and its rows counted;
6. ``markdown-to-sqlite`` on the same files, in its own virtual environment
   (created under /tmp if missing), for comparison.

Every measured build, page set and baseline runs in its own process. Results:
one table per size on stdout, JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path
from urllib.parse import quote

from .search_bench import CORPORA, RESULTS, ROOT, corpus_dir, ensure_corpus, percentile

PYTHON = ROOT / ".venv" / "bin" / "python"
GNU_TIME = Path("/usr/bin/time")
PEER_VENV = Path("/tmp/markdown-to-sqlite-venv")
DEFAULT_FACETS = ("violations", "year", "sanctions", "rank", "form", "personnel", "region")
SEARCH_QUERIES = ("的", "贿", "受贿", "违规吃喝", "购物卡", "lawyer", "受贿 购物卡")
RANKED_QUERY = "受贿"
CSV_URL = "/cases/cases.csv?_stream=on&_size=max"
APPENDED = "\n\n案发后，单位党组召开专题会议通报本案，要求全体干部以案为鉴。\n".encode()
ID_LIKE = re.compile(rb"\b\d{4}-[a-z][a-z0-9-]*?-\d{6}\b")
INCREMENTAL_STEPS = ("none", "change", "add", "delete", "rename")
GOAL_RATIO, AIM_RATIO, GOAL_INCREMENTAL = 1.0, 0.75, 10.0
CPU_KEYS = ("cpu_s", "foreign_cpu_s", "foreign_share", "steal_s", "sampler_cpu_s")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait_quiet(what: str, limit: float) -> dict:
    """Wait (up to ``limit`` seconds) until the cores are at least 90% idle over 2 s.

    Also notes the code measured next (see ``code_stamp``)."""
    started = time.perf_counter()
    idle = cpu_idle_share()
    while idle < 0.9 and time.perf_counter() - started < limit:
        log(f"  waiting for the machine to be quiet before {what} (CPU idle {idle:.0%})")
        time.sleep(5)
        idle = cpu_idle_share()
    return {"idle": round(idle, 3), "waited_s": round(time.perf_counter() - started, 1), "load": load_average(), "code": code_stamp()["digest"]}


CODE = ("caselib", "plugins", "templates", "static", "metadata.yml", "settings.json", "build.py")


def code_stamp() -> dict:
    """What code is measured: the commit, and a digest of the files the build and the site run."""
    import hashlib

    digest = hashlib.sha256()
    for name in CODE:
        path = ROOT / name
        files = sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) if path.is_dir() else [path]
        for f in files:
            if f.exists():
                digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *CODE], cwd=ROOT, capture_output=True, text=True).stdout.split("\n")
    except OSError:
        commit, dirty = "", []
    return {"commit": commit, "uncommitted": [line[3:] for line in dirty if line.strip()], "digest": digest.hexdigest()[:16]}


def cpu_idle_share(seconds: float = 2.0) -> float:
    """Share of CPU time idle over a short window (1.0: nothing else is running)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[3] + values[4], sum(values)

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(1, total1 - total0)


# ================================================================ measuring a process tree


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(root: int) -> list[int]:
    children = _children_map()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except (OSError, IndexError):
        return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Samples the summed memory of a process and its descendants.

    RSS (cheap to read) every ``interval``; PSS, which counts pages shared
    between forked workers once, every ``pss_every`` samples, because the
    kernel walks the whole address space to compute it. The thread's own CPU
    time is kept, to show what sampling cost.
    """

    def __init__(self, root: int, interval: float = 0.25, pss_every: int = 8):
        super().__init__(daemon=True)
        self.root, self.interval, self.pss_every = root, interval, pss_every
        self.peak_pss_kb = self.peak_rss_kb = 0
        self.peak_processes = 0
        self.cpu_s = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.done.is_set():
            started = time.thread_time()
            pids = _tree(self.root)
            self.peak_rss_kb = max(self.peak_rss_kb, sum(_rss_kb(pid) for pid in pids))
            if n == 1 or n % self.pss_every == 0:  # soon after the start, then every pss_every samples
                self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(pid) for pid in pids))
            self.peak_processes = max(self.peak_processes, len(pids))
            n += 1
            self.cpu_s += time.thread_time() - started
            self.done.wait(self.interval)


def _cpu_counters() -> dict:
    """Busy and stolen CPU seconds of the machine; CPU seconds of this process and its waited-for children."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "busy": (user + nice + system + irq + softirq) / CLOCK_TICKS,
        "steal": steal / CLOCK_TICKS,
        "ours": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
    }


def run_measured(cmd: list[str], cwd: Path = ROOT, timeout: float | None = None) -> dict:
    """Run ``cmd`` in a fresh process (under GNU time when present); wall time and peak memory.

    ``foreign_cpu_s`` is the CPU time the machine spent on anything but this
    benchmark while the command ran (other programs competing for the cores).
    """
    full = [str(GNU_TIME), "-v", *cmd] if GNU_TIME.exists() else cmd
    before = _cpu_counters()
    started = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    sampler = TreeMemory(proc.pid)
    sampler.start()
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)  # the group this call started, nothing else
        out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    after = _cpu_counters()
    stderr = err.decode("utf-8", "replace")
    max_rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    cores = os.cpu_count() or 1
    foreign = max(0.0, (after["busy"] - before["busy"]) - (after["ours"] - before["ours"]))
    return {
        "cmd": cmd,
        "wall_s": wall,
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "stdout": out.decode("utf-8", "replace"),
        "stderr": stderr.split("\tCommand being timed:")[0].strip()[-4000:],
        "largest_process_rss_mb": int(max_rss.group(1)) / 1024 if max_rss else None,
        "tree_pss_mb": sampler.peak_pss_kb / 1024,
        "tree_rss_mb": sampler.peak_rss_kb / 1024,
        "tree_processes": sampler.peak_processes,
        "sampler_cpu_s": sampler.cpu_s,
        "cpu_s": after["ours"] - before["ours"],
        "foreign_cpu_s": foreign,
        "foreign_share": foreign / max(wall * cores, 1e-9),
        "steal_s": after["steal"] - before["steal"],
    }


def worker_json(run: dict) -> dict:
    """The JSON a worker printed on its last line of output."""
    if run["returncode"] != 0:
        raise RuntimeError(f"{' '.join(map(str, run['cmd']))} failed ({run['returncode']}):\n{run['stderr'][-2000:]}")
    return json.loads(run["stdout"].strip().splitlines()[-1])


def worker_cmd(kind: str, *args: object) -> list[str]:
    return [str(PYTHON), "-m", "bench.build_bench", "--worker", kind, *map(str, args)]


# ================================================================ workers (run in their own process)


def split_front_matter(text: str) -> tuple[str, str]:
    if not text.startswith("---"):
        return "", text
    start = text.find("\n") + 1
    end = text.find("\n---", start - 1)
    if end < 0:
        return "", text
    body_start = text.find("\n", end + 4)
    return text[start:end], "" if body_start < 0 else text[body_start + 1 :]


def worker_lower_bound(cases: Path) -> dict:
    import yaml
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    loader = yaml.CSafeLoader
    started = time.perf_counter()
    paths = sorted(p for p in cases.rglob("*.md") if not p.name.startswith(("_", ".")))
    listed = time.perf_counter()
    read_s = yaml_s = md_s = 0.0
    size = 0
    for path in paths:
        a = time.perf_counter()
        text = path.read_bytes().decode("utf-8")
        b = time.perf_counter()
        front, body = split_front_matter(text)
        yaml.load(front, Loader=loader)
        c = time.perf_counter()
        md.render(body)
        d = time.perf_counter()
        read_s, yaml_s, md_s, size = read_s + b - a, yaml_s + c - b, md_s + d - c, size + len(text)
    return {
        "files": len(paths),
        "chars": size,
        "seconds": time.perf_counter() - started,
        "list_s": listed - started,
        "read_s": read_s,
        "yaml_s": yaml_s,
        "markdown_s": md_s,
    }


def worker_build(cases: Path, db: Path, full: bool) -> dict:
    started = time.perf_counter()
    from caselib.pipeline import build, default_packs_dir

    imported = time.perf_counter()
    report = build(cases, db, jobs=None, progress=None, full=full, packs_dir=default_packs_dir(cases))
    return {
        "import_s": imported - started,
        "seconds": report.seconds,
        "stages": report.stages,
        "cases": report.cases,
        "written": report.written,
        "incremental": report.incremental,
        "added": report.added,
        "changed": report.changed,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "summary": report.summary(),
    }


def _stats(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "min": min(times) if times else None,
        "max": max(times) if times else None,
    }


async def _pages(db: Path, spec: dict) -> dict:
    from caselib.site import datasette

    ds = datasette(db)
    await ds.invoke_startup()
    repeat, search_repeat = spec["repeat"], spec["search_repeat"]
    expected = set(DEFAULT_FACETS)

    async def get(url: str):
        started = time.perf_counter()
        response = await ds.client.get(url)
        return response, (time.perf_counter() - started) * 1000

    def facet_check(response, check: dict) -> None:
        try:
            data = response.json()
        except ValueError:
            check["unparsable"] = check.get("unparsable", 0) + 1
            return
        missing = sorted(expected - set(data.get("facet_results") or {}))
        timed_out = data.get("facets_timed_out") or []
        if missing or timed_out:
            check["responses_missing_facets"] = check.get("responses_missing_facets", 0) + 1
            check["missing"] = sorted(set(check.get("missing", [])) | set(missing))
            check["facets_timed_out"] = sorted(set(check.get("facets_timed_out", [])) | set(timed_out))
        check["rows"] = data.get("filtered_table_rows_count")
        check["facet_counts"] = {
            name: {str(v["value"]): v["count"] for v in facet["results"]}
            for name, facet in (data.get("facet_results") or {}).items()
        }

    async def measure(urls: list[str], times: int, check_facets: bool = False, check_html: bool = False, json_rows: bool = False) -> dict:
        for url in dict.fromkeys(urls):  # warm up: each address once
            await get(url)
        samples, statuses, check = [], {}, {}
        for i in range(times):
            response, ms = await get(urls[i % len(urls)])
            samples.append(ms)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if check_facets:
                facet_check(response, check)
            elif json_rows:
                check["rows"] = response.json().get("filtered_table_rows_count")
            if check_html and "These facets timed out" in response.text:
                check["html_facets_timed_out"] = check.get("html_facets_timed_out", 0) + 1
        return {**_stats(samples), "urls": list(dict.fromkeys(urls))[:3], "statuses": statuses, **check, "samples": samples}

    out: dict = {"load_before": load_average()}
    out["list_json"] = await measure(["/cases/cases.json"], repeat, check_facets=True)
    out["list_html"] = await measure(["/cases/cases"], repeat, check_html=True)
    # the next pages of the list: Datasette pages a sorted table by keyset (_next=<sort value>,<pk>)
    first = (await ds.client.get("/cases/cases.json?_nofacet=1")).json()
    if first.get("next"):
        token = quote(str(first["next"]), safe="")
        out["list_next_json"] = await measure([f"/cases/cases.json?_next={token}"], repeat, check_facets=True)
        out["list_next_nofacet"] = await measure([f"/cases/cases.json?_next={token}&_nofacet=1"], repeat, json_rows=True)
        out["list_next_html"] = await measure([f"/cases/cases?_next={token}"], repeat, check_html=True)
        # page 2's facets count the whole list, as page 1's do (not only the rows after the cursor)
        out["list_next_json"]["facets_equal_page_1"] = out["list_next_json"]["facet_counts"] == out["list_json"]["facet_counts"]
    out["case_page"] = await measure([f"/cases/cases/{quote(i)}" for i in spec["case_ids"]], repeat)
    out["home"] = await measure(["/"], repeat)
    out["statistics"] = await measure(["/statistics"], repeat)
    out["ranked_search"] = await measure([f"/search?q={quote(RANKED_QUERY)}"], repeat)
    for key in ("list_json", "list_html", "list_next_json", "list_next_nofacet", "list_next_html", "case_page", "home", "statistics", "ranked_search"):
        if key in out:
            out[key]["samples"] = [round(x, 2) for x in out[key]["samples"]]
            out[key].pop("facet_counts", None)
    for kind, suffix, facets in (("search_facets", "", True), ("search_nofacet", "&_nofacet=1", False)):
        per_query, pooled = {}, []
        for q in spec["queries"]:
            url = f"/cases/cases.json?_search={quote(q)}{suffix}"
            per_query[q] = await measure([url], search_repeat, check_facets=facets, json_rows=True)
            pooled += per_query[q].pop("samples")
            per_query[q].pop("facet_counts", None)
        out[kind] = {**_stats(pooled), "per_query": per_query}
    out["load_after_pages"] = load_average()
    if spec.get("csv"):
        started = time.perf_counter()
        response = await ds.client.get(CSV_URL)
        body = response.content
        seconds = time.perf_counter() - started
        text = body.decode("utf-8", "replace")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        rows, bad_width, ids, last = 0, 0, set(), None
        id_col = header.index("id") if "id" in header else 0
        for row in reader:
            rows += 1
            if len(row) != len(header):
                bad_width += 1
            elif row:
                ids.add(row[id_col])
            last = row
        last_line = text.rstrip("\r\n").rsplit("\n", 1)[-1]
        out["csv"] = {
            "url": CSV_URL,
            "status": response.status_code,
            "seconds": seconds,
            "bytes": len(body),
            "rows": rows,
            "unique_ids": len(ids),
            "rows_with_wrong_width": bad_width,
            "last_row_well_formed": bool(last) and len(last) == len(header),
            "last_line": last_line[-200:],
            "rows_ok": rows == spec["expected_rows"] and len(ids) == rows and bad_width == 0
            and bool(last) and len(last) == len(header),
        }
    out["load_after"] = load_average()
    return out


def worker_pages(db: Path, spec_path: Path) -> dict:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    return asyncio.run(_pages(db, spec))


# ================================================================ the benchmark for one size


def warm_and_pick(cases: Path) -> dict:
    """Read every file once (warming the page cache); pick the files the incremental steps touch."""
    started = time.perf_counter()
    paths = sorted(p for p in cases.rglob("*.md") if not p.name.startswith(("_", ".")))
    referenced: set[bytes] = set()
    size = 0
    for path in paths:
        data = path.read_bytes()
        size += len(data)
        referenced.update(ID_LIKE.findall(data))
    seconds = time.perf_counter() - started
    # spread over the corpus; delete and rename only cases no other case links to
    step = max(1, len(paths) // 7)
    spread = [paths[(i * step + len(paths) // 2) % len(paths)] for i in range(7)]
    change, add_from = spread[0], spread[1]
    free = [p for p in dict.fromkeys(spread + paths) if p.stem.encode() not in referenced and p not in (change, add_from)]
    if len(free) < 2:
        raise RuntimeError("no two cases without incoming links to delete and rename")
    return {
        "files": len(paths),
        "bytes": size,
        "warm_read_s": seconds,
        "change": change,
        "add_from": add_from,
        "delete": free[0],
        "rename": free[1],
    }


def incremental_steps(cases: Path, db: Path, picked: dict) -> dict:
    """Time each one-file change on the built database; restore the corpus afterwards."""
    change, add_from, delete, rename = picked["change"], picked["add_from"], picked["delete"], picked["rename"]
    added = add_from.with_name(add_from.stem + "-added.md")
    renamed = rename.with_name(rename.stem + "-renamed.md")
    originals = {p: p.read_bytes() for p in (change, delete, rename)}
    for path in (added, renamed):
        if path.exists():
            raise RuntimeError(f"{path} exists: the corpus is not as generated")
    expected = {
        "none": (0, 0, 0),
        "change": (0, 1, 0),
        "add": (1, 0, 0),
        "delete": (0, 0, 1),
        "rename": (1, 0, 1),
        "restore": (2, 1, 2),
    }
    results: dict = {}
    actions = {
        "none": lambda: None,
        "change": lambda: change.write_bytes(originals[change] + APPENDED),
        "add": lambda: shutil.copyfile(add_from, added),
        "delete": lambda: delete.unlink(),
        "rename": lambda: rename.rename(renamed),
    }

    def restore() -> None:
        change.write_bytes(originals[change])
        added.unlink(missing_ok=True)
        if not delete.exists():
            delete.write_bytes(originals[delete])
        if renamed.exists():
            renamed.rename(rename)

    try:
        for step in (*INCREMENTAL_STEPS, "restore"):
            (restore if step == "restore" else actions[step])()
            run = run_measured(worker_cmd("build", cases, db, "incremental"))
            report = worker_json(run)
            counts = (report["added"], report["changed"], report["removed"])
            results[step] = {
                "wall_s": run["wall_s"],
                "tree_pss_mb": run["tree_pss_mb"],
                "largest_process_rss_mb": run["largest_process_rss_mb"],
                **{k: run[k] for k in CPU_KEYS},
                **report,
                "as_expected": report["incremental"] and counts == expected[step],
            }
            log(f"  incremental {step}: {run['wall_s']:.2f} s ({report['summary']})")
    finally:
        restore()
    for path, data in originals.items():
        if path.read_bytes() != data:
            raise RuntimeError(f"{path} was not restored")
    results["files"] = {
        "changed": str(change.relative_to(cases)),
        "added": str(added.relative_to(cases)),
        "deleted": str(delete.relative_to(cases)),
        "renamed": f"{rename.relative_to(cases)} -> {renamed.name}",
    }
    return results


def ensure_peer_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating {venv} with markdown-to-sqlite")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "markdown-to-sqlite"], check=True)
    return python


PEER_SCRIPT = """
import sys
from markdown_to_sqlite.cli import cli
paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
cli.main([sys.argv[2], "docs", *paths], prog_name="markdown-to-sqlite")
"""


def peer_baseline(cases: Path, work: Path, python: Path, timeout: float) -> dict:
    listing = work / "peer-files.txt"
    paths = sorted(str(p) for p in cases.rglob("*.md") if not p.name.startswith(("_", ".")))
    listing.write_text("\n".join(paths), encoding="utf-8")
    db = work / "peer.db"
    db.unlink(missing_ok=True)
    run = run_measured([str(python), "-c", PEER_SCRIPT, str(listing), str(db)], cwd=work, timeout=timeout)
    rows = None
    if run["returncode"] == 0 and db.exists():
        conn = sqlite3.connect(db)
        rows = conn.execute("select count(*) from docs").fetchone()[0]
        conn.close()
    result = {
        "files": len(paths),
        "wall_s": run["wall_s"],
        "returncode": run["returncode"],
        "timed_out": run["timed_out"],
        "rows": rows,
        "db_mb": db.stat().st_size / 1e6 if db.exists() else None,
        "tree_pss_mb": run["tree_pss_mb"],
        "largest_process_rss_mb": run["largest_process_rss_mb"],
        **{k: run[k] for k in CPU_KEYS},
        "stderr": run["stderr"][-500:] if run["returncode"] else "",
    }
    db.unlink(missing_ok=True)
    return result


def bench_size(size: int, args) -> dict:
    idle = cpu_idle_share()
    load_start = load_average()
    log(f"size {size}: load average {load_start}, CPU idle {idle:.0%} over 2 s before starting")
    cases = ensure_corpus(size, args.seed, log)
    work = corpus_dir(size, args.seed) / "build-bench"
    work.mkdir(exist_ok=True)
    db = work / "cases.db"
    results: dict = {"size": size, "seed": args.seed, "cpu_idle_before": idle, "load_average": {"start": load_start},
                     "code": {"start": code_stamp()}}

    picked = warm_and_pick(cases)
    results["corpus"] = {"files": picked["files"], "mb": picked["bytes"] / 1e6, "warm_read_s": picked["warm_read_s"]}
    log(f"size {size}: page cache warmed ({picked['files']} files, {picked['bytes'] / 1e6:.1f} MB read in {picked['warm_read_s']:.1f} s)")

    # 1. lower bound
    results["load_average"]["lower_bound"] = wait_quiet("the lower bound", args.wait_quiet)
    run = run_measured(worker_cmd("lower-bound", cases))
    lower = worker_json(run)
    lower.update({k: run[k] for k in CPU_KEYS}, wall_s=run["wall_s"], tree_pss_mb=run["tree_pss_mb"])
    results["lower_bound"] = lower
    log(f"size {size}: lower bound {lower['seconds']:.2f} s in-process ({run['wall_s']:.2f} s with start-up)")

    # 2. full build through the command line, then in-process for the stage split
    results["load_average"]["full_build"] = wait_quiet("the full build", args.wait_quiet)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    run = run_measured([str(PYTHON), "build.py", "--cases", str(cases), "--db", str(db), "--full"])
    if run["returncode"] != 0:
        raise RuntimeError(f"full build failed ({run['returncode']}):\n{run['stderr'][-3000:]}")
    results["full_build"] = {k: run[k] for k in ("cmd", "wall_s", "largest_process_rss_mb", "tree_pss_mb", "tree_rss_mb", "tree_processes", "stderr", *CPU_KEYS)}
    results["db_mb"] = db.stat().st_size / 1e6
    results["ratio"] = run["wall_s"] / lower["wall_s"]
    log(f"size {size}: full build {run['wall_s']:.2f} s, ratio {results['ratio']:.2f}, peak tree PSS {run['tree_pss_mb']:.0f} MB, db {results['db_mb']:.1f} MB")
    db.unlink()
    results["load_average"]["full_build_inprocess"] = wait_quiet("the in-process full build", args.wait_quiet)
    run = run_measured(worker_cmd("build", cases, db, "full"))
    report = worker_json(run)
    results["full_build_inprocess"] = {"wall_s": run["wall_s"], "tree_pss_mb": run["tree_pss_mb"], **{k: run[k] for k in CPU_KEYS}, **report}
    results["ratio_inprocess"] = report["seconds"] / lower["seconds"]
    log(f"size {size}: full build() {report['seconds']:.2f} s: " + ", ".join(f"{k} {v:.2f} s" for k, v in report["stages"].items()))

    # 3. incremental builds
    results["load_average"]["incremental"] = wait_quiet("the incremental builds", args.wait_quiet)
    results["incremental"] = incremental_steps(cases, db, picked)

    # 4-5. pages and CSV
    results["load_average"]["pages"] = wait_quiet("the pages", args.wait_quiet)
    conn = sqlite3.connect(db)
    ids = [r[0] for r in conn.execute("select id from cases order by id")]
    conn.close()
    case_ids = [ids[(i * len(ids)) // 30] for i in range(min(30, len(ids)))]
    spec = {"repeat": args.repeat, "search_repeat": args.search_repeat, "queries": list(SEARCH_QUERIES),
            "case_ids": case_ids, "csv": True, "expected_rows": len(ids)}
    spec_path = work / "pages-spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    run = run_measured(worker_cmd("pages", db, spec_path))
    pages = worker_json(run)
    pages["worker_wall_s"] = run["wall_s"]
    pages["worker_tree_pss_mb"] = run["tree_pss_mb"]
    pages.update({k: run[k] for k in CPU_KEYS})
    results["pages"] = pages
    log(f"size {size}: pages measured in {run['wall_s']:.1f} s")

    # 6. markdown-to-sqlite
    if args.peer:
        results["load_average"]["peer"] = wait_quiet("markdown-to-sqlite", args.wait_quiet)
        python = ensure_peer_venv(args.peer_venv)
        peer = peer_baseline(cases, work, python, args.peer_timeout)
        peer["size"] = size
        if peer["timed_out"]:
            log(f"size {size}: markdown-to-sqlite passed {args.peer_timeout:.0f} s and was stopped; running it on 10,000 cases instead")
            smaller = ensure_corpus(10000, args.seed, log)
            small_work = corpus_dir(10000, args.seed) / "build-bench"
            small_work.mkdir(exist_ok=True)
            peer = {**peer_baseline(smaller, small_work, python, args.peer_timeout), "size": 10000,
                    "note": f"stopped after {args.peer_timeout:.0f} s on {size} cases"}
        results["peer"] = peer
        log(f"size {size}: markdown-to-sqlite on {peer['size']} cases: {peer['wall_s']:.1f} s, peak {peer['tree_pss_mb']:.0f} MB")
    results["load_average"]["end"] = load_average()
    results["code"]["end"] = code_stamp()
    digests = {results["code"]["start"]["digest"], results["code"]["end"]["digest"]}
    digests |= {v["code"] for v in results["load_average"].values() if isinstance(v, dict) and "code" in v}
    results["code"]["changed_during_run"] = len(digests) > 1
    return results


# ================================================================ the report


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(width(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = []
        for c, value in enumerate(row):
            pad = " " * (widths[c] - width(str(value)))
            cells.append(f"{value}{pad}" if c in (0, len(row) - 1) else f"{pad}{value}")
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def facet_note(entry: dict) -> str:
    if entry.get("unparsable"):
        return f"{entry['unparsable']} responses not JSON"
    if entry.get("responses_missing_facets"):
        return (f"FACETS MISSING in {entry['responses_missing_facets']}/{entry['n']}: {','.join(entry.get('missing', []))}"
                + (f"; timed out: {','.join(entry['facets_timed_out'])}" if entry.get("facets_timed_out") else ""))
    return f"all {len(DEFAULT_FACETS)} facets present"


def status_note(entry: dict) -> str:
    bad = {k: v for k, v in entry["statuses"].items() if str(k) != "200"}
    return "" if not bad else "HTTP " + ", ".join(f"{k}×{v}" for k, v in bad.items())


def others(entry: dict) -> str:
    """Share of the machine's CPU that other programs used during a measured run."""
    share = entry.get("foreign_share")
    return "" if share is None else f"{share * 100:.0f}%"


def table_for(r: dict) -> str:
    full = r["full_build"]["wall_s"]
    lb = r["lower_bound"]
    inproc = r["full_build_inprocess"]
    rows = [
        ["lower bound: read + YAML + Markdown, 1 process", s(lb["wall_s"]), "", "", others(lb),
         f"warm page cache; in-process {lb['seconds']:.2f} s: read {lb['read_s']:.2f} s, YAML {lb['yaml_s']:.2f} s, "
         f"render {lb['markdown_s']:.2f} s"],
        ["full build: build.py --full (2 jobs)", s(full), "", f"ratio {r['ratio']:.2f}", others(r["full_build"]),
         f"goal <= {GOAL_RATIO:.2f} {'met' if r['ratio'] <= GOAL_RATIO else 'NOT met'}, aim {AIM_RATIO:.2f} {'met' if r['ratio'] <= AIM_RATIO else 'not met'}"],
        ["  build(full=True) in-process: parse+store / finish", s(inproc["seconds"]), "", "", others(inproc),
         f"parse and store, overlapped {inproc['stages'].get('parse', 0):.2f} s / then index merge, similar cases, "
         f"indexes {inproc['stages'].get('store', 0):.2f} s "
         f"(+{inproc['wall_s'] - inproc['seconds']:.2f} s start-up); ratio to lower bound in-process {r['ratio_inprocess']:.2f}"],
        ["  peak memory, full build", f"{r['full_build']['tree_pss_mb']:.0f} MB", "", "", "",
         f"tree PSS; tree RSS {r['full_build']['tree_rss_mb']:.0f} MB, largest process "
         + (f"{r['full_build']['largest_process_rss_mb']:.0f} MB" if r["full_build"]["largest_process_rss_mb"] else "—")],
        ["  database size", f"{r['db_mb']:.1f} MB", "", "", "", f"corpus {r['corpus']['mb']:.1f} MB, {r['corpus']['files']:,} files"],
    ]
    inc = r["incremental"]
    for step in (*INCREMENTAL_STEPS, "restore"):
        e = inc[step]
        pct = 100 * e["wall_s"] / full
        goal = "" if step in ("none", "restore") else (" (goal < 10%: " + ("met" if pct < GOAL_INCREMENTAL else "NOT met") + ")")
        label = "incremental: restore (4 files)" if step == "restore" else f"incremental: {step}"
        rows.append([label, s(e["wall_s"]), "", f"{pct:.1f}%", others(e),
                     f"parse {e['stages'].get('parse', 0):.2f} s / store {e['stages'].get('store', 0):.2f} s{goal}"
                     + ("" if e["as_expected"] else "; NOT INCREMENTAL: rebuilt every case (the database was not reusable)" if not e["incremental"]
                        else f"; UNEXPECTED counts +{e['added']} ~{e['changed']} -{e['removed']}")])
    p = r["pages"]
    for key, label in (("list_json", "page /cases/cases.json (default facets)"), ("list_html", "page /cases/cases (HTML)"),
                       ("list_next_json", "page 2: /cases/cases.json?_next=… (facets)"),
                       ("list_next_nofacet", "page 2: /cases/cases.json?_next=…&_nofacet=1"),
                       ("list_next_html", "page 2: /cases/cases?_next=… (HTML)"),
                       ("case_page", "page /cases/cases/<id> (30 ids)"), ("home", "page /"), ("statistics", "page /statistics"),
                       ("ranked_search", f"page /search?q={RANKED_QUERY}")):
        if key not in p:
            continue
        e = p[key]
        note = facet_note(e) if key in ("list_json", "list_next_json") else ""
        if key.startswith("list_next") and e.get("rows") is not None:
            note = "; ".join(x for x in (f"count says {e['rows']:,} rows", note) if x)
        if "facets_equal_page_1" in e:
            note = "; ".join(x for x in (note, "facet counts equal page 1's" if e["facets_equal_page_1"] else "facet counts DIFFER from page 1's") if x)
        if key in ("list_html", "list_next_html") and e.get("html_facets_timed_out"):
            note = f"'These facets timed out' on {e['html_facets_timed_out']}/{e['n']}"
        rows.append([label, ms(e["p50"]), ms(e["p95"]), "", others(p) if key == "list_json" else "", "; ".join(x for x in (note, status_note(e)) if x)])
    for kind, label in (("search_facets", "search + facets ?_search="), ("search_nofacet", "search ?_search=…&_nofacet=1")):
        e = p[kind]
        missing = sum(x.get("responses_missing_facets", 0) for x in e["per_query"].values())
        rows.append([f"{'search + facets' if kind == 'search_facets' else 'search, _nofacet=1'}: all {len(e['per_query'])} queries",
                     ms(e["p50"]), ms(e["p95"]), "", "", f"pooled over {e['n']} requests"
                     + (f"; {missing} responses missing facets" if missing else ("; all facets present" if kind == "search_facets" else ""))])
        for q, e in p[kind]["per_query"].items():
            note = f"{e.get('rows')} rows" if e.get("rows") is not None else ""
            if kind == "search_facets":
                note += "; " + facet_note(e)
            rows.append([f"  {q}", ms(e["p50"]), ms(e["p95"]), "", "",
                         "; ".join(x for x in (note, status_note(e)) if x)])
    c = p.get("csv")
    if c:
        rows.append(["CSV all cases (_stream=on&_size=max)", s(c["seconds"]), "", "", "",
                     f"{c['bytes'] / 1e6:.1f} MB, {c['rows']:,} rows, "
                     + ("rows ok" if c["rows_ok"] else f"ROWS NOT OK (expected {r['corpus']['files']:,}, last line {c['last_line'][:80]!r})")])
    peer = r.get("peer")
    if peer:
        same = peer["size"] == r["size"]
        rows.append([f"markdown-to-sqlite ({peer['size']:,} cases)", s(peer["wall_s"]), "",
                     f"{peer['wall_s'] / full:.1f}× full" if same else "", others(peer),
                     f"peak {peer['tree_pss_mb']:.0f} MB tree PSS"
                     + (f", largest process {peer['largest_process_rss_mb']:.0f} MB" if peer.get("largest_process_rss_mb") else "")
                     + (f"; {peer['rows']:,} rows" if peer.get("rows") is not None else f"; FAILED rc {peer['returncode']}")
                     + (f"; {peer['note']}" if peer.get("note") else "")])
    la = r["load_average"]
    code = r.get("code", {})
    start = code.get("start", {})
    version = (f"code {start.get('commit', '?')}" + (" + uncommitted changes" if start.get("uncommitted") else "")
               + (" — THE CODE CHANGED DURING THE RUN" if code.get("changed_during_run") else ""))
    head = (f"== {r['size']:,} cases, seed {r['seed']} ({r['corpus']['mb']:.1f} MB); {version}; 1-min load average "
            f"{la['start'][0]:.2f} at start, {la['end'][0]:.2f} at end; CPU idle before start {r['cpu_idle_before']:.0%}; {r['when']} ==")
    foot = ("others: share of the machine's CPU time used by other programs while that step ran (0% = quiet); "
            f"page timings: {r['pages']['list_json']['n']} requests per page kind, {r['pages']['search_facets']['per_query'][SEARCH_QUERIES[0]]['n']} per search query, "
            "in-process client, after one warm-up request per address")
    return head + "\n" + render_table(rows, ["measure", "time/p50", "p95", "vs full", "others", "notes"]) + "\n" + foot


# ================================================================ command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page kind (default 30)")
    parser.add_argument("--search-repeat", type=int, default=10, help="timed requests per search query (default 10)")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip the markdown-to-sqlite baseline")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV, help=f"virtual environment with markdown-to-sqlite (default {PEER_VENV}; created if missing)")
    parser.add_argument("--peer-timeout", type=float, default=300, help="stop markdown-to-sqlite after this many seconds and run it on 10,000 cases instead (default 300)")
    parser.add_argument("--wait-quiet", type=float, default=120,
                        help="before each measured step, wait up to this many seconds for the CPUs to be 90%% idle (default 120)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "lower-bound":
            out = worker_lower_bound(Path(rest[0]))
        elif kind == "build":
            out = worker_build(Path(rest[0]), Path(rest[1]), rest[2] == "full")
        elif kind == "pages":
            out = worker_pages(Path(rest[0]), Path(rest[1]))
        else:
            parser.error(f"unknown worker {kind}")
        print(json.dumps(out, ensure_ascii=False))
        return 0
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    CORPORA.mkdir(parents=True, exist_ok=True)
    import datasette
    import markdown_it
    import yaml

    machine = {"cores": os.cpu_count(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
               "datasette": datasette.__version__, "markdown_it": markdown_it.__version__, "pyyaml": yaml.__version__,
               "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
    for size in sizes:
        results = bench_size(size, args)
        results["machine"] = machine
        results["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for name in (f"build-{size}.json", f"build-{size}-{stamp}.json"):
            (RESULTS / name).write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        print(table_for(results), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
