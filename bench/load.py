"""A room of trainees at once: simulated staff against the site as it is served.

    python -m bench.load [--sizes 20000,100000] [--users 50,200] [--seconds 120]
                         [--closed 5,50,200] [--baseline REV] [--workers N]

Each simulated member of staff requests a page, reads it (waits 1–5 s, as
people do), and requests the next: the home page, the case list (unfiltered
and filtered by facets), statistics, a training pack, searches with facets
(的, 贪 and multi-word queries among them), random case pages, the ranked
/search, and the CSV and Excel of a search. The site is started as
``build.py --serve`` starts it (caselib.site.start_server: uvicorn, one
process per core) on a database built from the generated corpus.

For every run it prints throughput, p50/p95/p99 per kind of request and over
all, errors, and the peak memory of the serving processes. The first run
starts right after the server did (``just started``: every page is made for
the first time while people ask for it), the next on the site as it then
runs; three more runs per size and user count:

- ``abuse``: three more clients loop the expensive SQL of the issue
  (a recursive CTE, a 400 MB randomblob, ``pragma_database_list``) meanwhile,
  as anonymous visitors would;
- ``rebuild``: one case is changed and rebuilt (incremental) a third of the
  way through, and once more two thirds in; the table says how long until
  the change was visible;
- ``--closed``: clients without think time (a closed loop), the measure of
  the issue's "before" table (throughput, list and case page p50/p99).

``--baseline REV`` measures the closed loop the same way against the code at
git revision REV too (its own ``build.py --serve``, in a worktree, on its own
database): the figures before and after, in the same run.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from caselib.pipeline import build
from caselib.site import start_server, stop_server

from . import common

QUERIES = ("的", "贪", "受贿", "违规吃喝", "购物卡", "干预司法", "礼品礼金", "受贿 购物卡", "律师 宴请", "公车私用 节假日", "lawyer", "bribe")
FILTERS = (
    "violations__arraycontains=" + quote("受贿"),
    "violations__arraycontains=" + quote("违规吃喝"),
    "year=2019",
    "year__gte=2016&year__lte=2020",
    "sanctions__arraycontains=" + quote("开除党籍"),
    "rank=" + quote("县处级"),
    "province=" + quote("安徽省"),
)
ABUSE = (
    "/cases.json?sql=" + quote("with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"),
    "/cases.json?sql=" + quote("select length(hex(randomblob(400000000)))"),
    "/cases.json?sql=" + quote("select * from pragma_database_list"),
)
# What a member of staff asks for, and how often (weights).
MIX = {
    "home": 8,
    "list": 8,
    "list filtered": 10,
    "statistics": 4,
    "pack": 4,
    "search + facets": 16,
    "case page": 34,
    "ranked /search": 10,
    "export of a search": 6,
}
THINK = (1.0, 5.0)
TIMEOUT = 60.0
START_TIMEOUT = 120.0
BUILD_NICENESS = 10  # as deploy/caselib-build.service's Nice=


@dataclass
class Sample:
    kind: str
    ms: float
    status: int
    error: str = ""
    at: float = 0.0  # time.monotonic() when it was asked


@dataclass
class Run:
    """One load run's samples and what happened meanwhile."""

    name: str
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    abuse: list[Sample] = field(default_factory=list)
    peak_pss_mb: float = 0
    notes: list[str] = field(default_factory=list)


class Site:
    """The ids and packs of a built database, to make requests from."""

    def __init__(self, db: Path):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        self.ids = [row[0] for row in conn.execute("select id from cases")]
        self.packs = [row[0] for row in conn.execute("select id from packs")] or [""]
        conn.close()

    def url(self, kind: str, rng: random.Random) -> str:
        query = quote(rng.choice(QUERIES))
        if kind == "home":
            return "/"
        if kind == "list":
            return "/cases/cases"
        if kind == "list filtered":
            return "/cases/cases?" + "&".join(rng.sample(FILTERS, rng.choice((1, 2))))
        if kind == "statistics":
            return "/statistics"
        if kind == "pack":
            return f"/packs/{rng.choice(self.packs)}" if self.packs[0] else "/packs"
        if kind == "search + facets":
            return f"/cases/cases?_search={query}"
        if kind == "case page":
            return f"/cases/cases/{rng.choice(self.ids)}"
        if kind == "ranked /search":
            return f"/search?q={query}"
        if kind == "export of a search":
            return f"/cases/cases.{rng.choice(('csvx', 'xlsx'))}?_search={query}"
        raise ValueError(kind)


async def timed_get(client: httpx.AsyncClient, url: str, kind: str) -> Sample:
    asked_at = time.monotonic()
    started = time.perf_counter()
    try:
        response = await client.get(url)
        await response.aread()
        status, error = response.status_code, ""
    except httpx.HTTPError as err:
        status, error = 0, type(err).__name__
    return Sample(kind, (time.perf_counter() - started) * 1000, status, error, asked_at)


async def member_of_staff(client, site: Site, deadline: float, rng: random.Random, think: tuple[float, float] | None, samples: list) -> None:
    kinds, weights = list(MIX), list(MIX.values())
    if think:
        await asyncio.sleep(rng.uniform(0, think[1]))  # people do not all arrive at once
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        samples.append(await timed_get(client, site.url(kind, rng), kind))
        if think:
            await asyncio.sleep(rng.uniform(*think))


async def abuser(client, deadline: float, samples: list, n: int) -> None:
    while time.monotonic() < deadline:
        samples.append(await timed_get(client, ABUSE[n % len(ABUSE)], "abusive SQL"))
        n += 1


async def load(base: str, site: Site, users: int, seconds: float, think, abusers: int, seed: int) -> tuple[list, list]:
    rng = random.Random(seed)
    samples: list[Sample] = []
    abuse: list[Sample] = []
    limits = httpx.Limits(max_connections=users + abusers + 4, max_keepalive_connections=users + abusers + 4)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, limits=limits, trust_env=False) as client:
        deadline = time.monotonic() + seconds
        tasks = [member_of_staff(client, site, deadline, random.Random(rng.random()), think, samples) for _ in range(users)]
        tasks += [abuser(client, deadline, abuse, n) for n in range(abusers)]
        await asyncio.gather(*tasks)
    return samples, abuse


# ================================================================ serving


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    memory: common.TreeMemory


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(url + "/", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT:.0f} s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_current(db: Path, workers: int, log_path: Path) -> Server:
    port = free_port()
    with open(log_path, "wb") as sink:
        process = start_server(db, "127.0.0.1", port, workers, stdout=sink, stderr=subprocess.STDOUT)
    return _started(process, port)


def serve_baseline(tree: Path, cases: Path, db: Path, log_path: Path) -> Server:
    """The revision's own ``build.py --serve`` (it builds its database first)."""
    port = free_port()
    with open(log_path, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "build.py", "--cases", str(cases), "--db", str(db), "--serve", "--port", str(port)],
            cwd=tree, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(tree)},
        )
    return _started(process, port)


def _started(process: subprocess.Popen, port: int) -> Server:
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    memory = common.TreeMemory(process.pid)
    memory.start()
    return Server(process, url, memory)


def baseline_tree(revision: str, data: Path) -> Path:
    tree = data / "baseline" / revision
    if not tree.is_dir():
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), revision], cwd=common.ROOT, check=True, capture_output=True)
    return tree


# ================================================================ runs


def measure(server: Server, site: Site, name: str, users: int, seconds: float, think, abusers: int = 0,
            during: threading.Thread | None = None) -> Run:
    peak_before = server.memory.peak_pss_kb
    server.memory.peak_pss_kb = 0
    common.log(f"{name}: {users} users for {seconds:.0f} s")
    if during is not None:
        during.start()
    started = time.monotonic()
    samples, abuse = asyncio.run(load(server.url, site, users, seconds, think, abusers, seed=users))
    run = Run(name, time.monotonic() - started, samples, abuse, server.memory.peak_pss_kb / 1024)
    run.notes.append(slow_and_failed(run, started))
    if during is not None:
        during.join()
        run.notes += getattr(during, "notes", [])
    server.memory.peak_pss_kb = max(peak_before, server.memory.peak_pss_kb)
    return run


class Rebuilds(threading.Thread):
    """Change one case twice during a run, rebuild (incrementally) each time,
    and note how long until the site showed the change.

    Each build is ``build.py`` in a process of its own at a lower priority, as
    the deployment's build service runs it (deploy/caselib-build.service), never
    in this process, whose clients it would slow down."""

    def __init__(self, cases: Path, db: Path, server: Server, seconds: float):
        super().__init__(daemon=True)
        self.cases, self.db, self.server, self.seconds = cases, db, server, seconds
        self.notes: list[str] = []

    def build(self) -> str:
        done = subprocess.run([sys.executable, "build.py", "--cases", str(self.cases), "--db", str(self.db)], cwd=common.ROOT,
                              capture_output=True, text=True, check=True, preexec_fn=lambda: os.nice(BUILD_NICENESS))
        lines = (done.stdout + done.stderr).strip().splitlines()
        return lines[-1] if lines else ""

    def run(self) -> None:
        path = next(self.cases.rglob("*.md"))
        original = path.read_bytes()
        try:
            for n in (1, 2):
                time.sleep(self.seconds / 3)
                marker = f"负载期间第{n}次修改"
                path.write_bytes(original.replace(b"\n---\n", f"\n---\n\n{marker}\n".encode(), 1))
                started = time.monotonic()
                said = self.build()
                built = time.monotonic() - started
                url = f"{self.server.url}/cases/cases/{path.stem}"
                while marker not in httpx.get(url, timeout=30, trust_env=False).text:
                    time.sleep(0.05)
                self.notes.append(f"rebuild {n}: built in {built:.2f} s ({said}), visible {time.monotonic() - started:.2f} s after it started")
        finally:
            path.write_bytes(original)
            self.build()


# ================================================================ the table


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


SLOW_MS = 1000  # what the notes count as slow
SLOT_SECONDS = 10


def slow_and_failed(run: Run, started: float) -> str:
    """When in the run the requests slower than SLOW_MS were asked (by SLOT_SECONDS), and what each failed one got."""
    slow = [s for s in run.samples if s.ms > SLOW_MS]
    slots: dict[int, list[Sample]] = defaultdict(list)
    for sample in slow:
        slots[int((sample.at - started) // SLOT_SECONDS) * SLOT_SECONDS].append(sample)
    when = ", ".join(f"{slot}-{slot + SLOT_SECONDS} s: {len(found)}" for slot, found in sorted(slots.items()))
    failed = Counter(f"{s.kind} {s.error or s.status} after {ms(s.ms)} at {s.at - started:.0f} s" for s in run.samples if s.status != 200)
    errors = "; errors: " + ", ".join(f"{what} (×{n})" if n > 1 else what for what, n in failed.items()) if failed else ""
    return f"{run.name}: {len(slow)} of {len(run.samples)} requests over {SLOW_MS / 1000:.0f} s" + (f", asked at {when}" if slow else "") + errors


def run_rows(run: Run) -> list[list[str]]:
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in run.samples:
        by_kind[sample.kind].append(sample)
    rows = []
    for kind in [*MIX, "all"]:
        samples = run.samples if kind == "all" else by_kind.get(kind, [])
        if not samples:
            continue
        times = [s.ms for s in samples]
        errors = sum(1 for s in samples if s.status != 200)
        rows.append([
            run.name if kind == "all" else "", kind, f"{len(samples)}",
            f"{len(samples) / run.seconds:.1f}" if kind == "all" else "",
            ms(common.percentile(times, 50)), ms(common.percentile(times, 95)), ms(common.percentile(times, 99)),
            f"{errors}", f"{run.peak_pss_mb:.0f} MB" if kind == "all" else "",
        ])
    if run.abuse:
        refused = sum(1 for s in run.abuse if s.status == 403)
        times = [s.ms for s in run.abuse]
        rows.append(["", "abusive SQL", f"{len(run.abuse)}", "", ms(common.percentile(times, 50)), ms(common.percentile(times, 95)),
                     ms(common.percentile(times, 99)), f"{len(run.abuse) - refused} not refused", ""])
    return rows


HEADER = ["run", "request", "n", "req/s", "p50", "p95", "p99", "errors", "server PSS"]


def closed_rows(runs: list[Run]) -> list[list[str]]:
    rows = []
    for run in runs:
        lists = [s.ms for s in run.samples if s.kind in ("list", "list filtered", "search + facets")]
        cases = [s.ms for s in run.samples if s.kind == "case page"]
        errors = sum(1 for s in run.samples if s.status != 200)
        rows.append([run.name, f"{len(run.samples) / run.seconds:.1f}", f"{ms(common.percentile(lists, 50))} / {ms(common.percentile(lists, 99))}",
                     f"{ms(common.percentile(cases, 50))} / {ms(common.percentile(cases, 99))}", f"{errors}"])
    return rows


CLOSED_HEADER = ["closed loop (no think time)", "req/s", "list with facets p50 / p99", "case page p50 / p99", "errors"]


# ================================================================ main


def bench_size(size: int, args) -> dict:
    cases = common.corpus(size, args.seed, args.data)
    db = args.data / "load" / f"{size}-seed{args.seed}" / "cases.db"
    common.log(f"{size} cases: building {db}")
    report = build(cases, db, jobs=2)
    common.log(report.summary())
    site = Site(db)
    folder = db.parent
    runs: list[Run] = []
    closed: list[Run] = []
    server = serve_current(db, args.workers, folder / "server.log")
    try:
        for users in args.users:
            if not runs:  # every page is made for the first time while the first people ask for it
                runs.append(measure(server, site, f"{users} staff, just started", users, args.seconds, THINK))
            runs.append(measure(server, site, f"{users} staff", users, args.seconds, THINK))
            runs.append(measure(server, site, f"{users} staff + abuse", users, args.seconds, THINK, abusers=3))
            rebuilds = Rebuilds(cases, db, server, args.seconds)
            runs.append(measure(server, site, f"{users} staff + rebuild", users, args.seconds, THINK, during=rebuilds))
        for users in args.closed:
            closed.append(measure(server, site, f"now: {users} clients", users, args.closed_seconds, None))
    finally:
        server.memory.stop()
        stop_server(server.process)
    if args.baseline:
        tree = baseline_tree(args.baseline, args.data)
        base_db = folder / f"baseline-{args.baseline}" / "cases.db"
        base_db.parent.mkdir(parents=True, exist_ok=True)
        common.log(f"baseline {args.baseline}: building and serving with its own build.py --serve")
        server = serve_baseline(tree, cases, base_db, folder / "baseline.log")
        try:
            for users in args.closed:
                closed.append(measure(server, Site(base_db), f"{args.baseline}: {users} clients", users, args.closed_seconds, None))
        finally:
            server.memory.stop()
            stop_server(server.process)
    title = f"== {size:,} cases (seed {args.seed}); {args.workers} serving processes; think {THINK[0]:.0f}-{THINK[1]:.0f} s; {args.seconds:.0f} s a run =="
    text = "\n".join([
        title,
        common.table(HEADER, [row for run in runs for row in run_rows(run)], left=(0, 1)),
        *[note for run in runs for note in run.notes],
        "",
        common.table(CLOSED_HEADER, closed_rows(closed), left=(0,)) if closed else "",
    ])
    print(text, flush=True)
    return {
        "size": size,
        "table": text,
        "runs": {run.name: run_rows(run) for run in runs},
        "closed": closed_rows(closed),
        "machine": common.machine(),
    }


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench.load", __doc__)
    parser.set_defaults(sizes="20000,100000")
    parser.add_argument("--users", default="50,200", help="simulated staff per run, comma-separated (default 50,200)")
    parser.add_argument("--seconds", type=float, default=120, help="length of each run (default 120)")
    parser.add_argument("--closed", default="5,50,200", help="closed-loop clients, comma-separated ('' for none; default 5,50,200)")
    parser.add_argument("--closed-seconds", type=float, default=30, help="length of each closed-loop run (default 30)")
    parser.add_argument("--workers", type=int, default=None, help="serving processes (default: one per core)")
    parser.add_argument("--baseline", default="", metavar="REV", help="also measure the closed loop at git revision REV")
    args = parser.parse_args(argv)
    args.users = [int(u) for u in args.users.split(",") if u.strip()]
    args.closed = [int(u) for u in args.closed.split(",") if u.strip()]
    if args.smoke:
        args.seconds, args.closed_seconds = min(args.seconds, 4), min(args.closed_seconds, 2)
    from caselib.site import default_workers

    args.workers = args.workers or default_workers()
    signal.signal(signal.SIGTERM, _interrupted)  # stop the servers on the way out
    results = [bench_size(size, args) for size in common.sizes(args)]
    common.write_results(args.data, "load", {"sizes": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
