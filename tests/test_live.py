"""The running site follows every build, keeps what it computed until the
next one, and is hard to abuse: real serving processes (uvicorn, two
workers), real builds, real HTTP."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from caselib.pipeline import build
from caselib.site import limits

from browser import datasette_server, free_port, local_get
from conftest import REPO, case_text, interruptible

VISIBLE_WITHIN = 2.0


def body(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class Traffic(threading.Thread):
    """Requests without pause to a few pages, counting every failure."""

    def __init__(self, urls: list[str]):
        super().__init__(daemon=True)
        self.urls = urls
        self.done = threading.Event()
        self.failures: list[str] = []
        self.requests = 0

    def run(self) -> None:
        while not self.done.is_set():
            for url in self.urls:
                try:
                    status, _, _ = body(url)
                except OSError as err:
                    self.failures.append(f"{url}: {err}")
                    continue
                self.requests += 1
                if status not in (200, 404):
                    self.failures.append(f"{url}: {status}")

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=30)


def seconds_until(check, limit: float = 30.0) -> float:
    """How long until ``check()`` holds five times running (both workers answer)."""
    started = time.monotonic()
    streak = 0
    while time.monotonic() - started < limit:
        streak = streak + 1 if check() else 0
        if streak >= 5:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("the change never reached the site")


@pytest.fixture
def library(cases, tmp_path):
    for n in range(30):
        cases.write(f"2020/case-{n:02d}.md", case_text(title=f"某局干部违规吃喝案{n:02d}", date=f"2020-01-{n % 28 + 1:02d}"))
    db = tmp_path / "site" / "cases.db"
    build(cases.root, db, jobs=1)
    return cases, db


@pytest.fixture
def site(library):
    _, db = library
    with datasette_server(db, workers=2) as server:
        yield server


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_a_rebuild_reaches_every_server_within_two_seconds_and_no_request_fails(library, site, full):
    cases, db = library
    traffic = Traffic([site.url + "/cases/cases", site.url + "/cases/cases/case-00", site.url + "/", site.url + "/statistics"])
    traffic.start()
    seconds_until(lambda: traffic.requests >= 8)  # the site is busy before the first build
    before = traffic.requests
    try:
        cases.write("2020/case-00.md", case_text(title="改过的标题一号"))
        build(cases.root, db, jobs=1, full=full)
        changed = seconds_until(lambda: "改过的标题一号" in body(site.url + "/cases/cases/case-00")[2].decode())

        cases.write("2021/brand-new.md", case_text(title="新加的案例"))
        build(cases.root, db, jobs=1, full=full)
        added = seconds_until(lambda: body(site.url + "/cases/cases/brand-new")[0] == 200)

        (cases.root / "2020" / "case-01.md").unlink()
        build(cases.root, db, jobs=1, full=full)
        deleted = seconds_until(lambda: body(site.url + "/cases/cases/case-01")[0] == 404)
    finally:
        during = traffic.requests - before
        traffic.stop()
    assert max(changed, added, deleted) < VISIBLE_WITHIN, (changed, added, deleted)
    assert during >= 3, "requests in flight while the builds ran"
    assert [] == traffic.failures


def test_an_unchanged_page_is_revalidated_and_a_rebuild_changes_its_etag(library, site):
    cases, db = library
    status, headers, _ = body(site.url + "/cases/cases")
    etag = headers["etag"]
    assert (200, "no-cache") == (status, headers["cache-control"])
    assert 304 == body(site.url + "/cases/cases", {"If-None-Match": etag})[0]
    cases.write("2020/case-05.md", case_text(title="又改了一个标题"))
    build(cases.root, db, jobs=1)
    status, headers, page = body(site.url + "/cases/cases", {"If-None-Match": etag})
    assert (200, True) == (status, "又改了一个标题" in page.decode())
    assert etag != headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/cases?sql=" + quote("select 1"),
        "/cases.json?sql=" + quote("with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c"),
        "/cases.json?sql=" + quote("select length(hex(randomblob(400000000)))"),
        "/cases.json?sql=" + quote("select * from pragma_database_list"),
        "/cases/cases.json?_where=" + quote("1=1"),
    ],
)
def test_anonymous_arbitrary_sql_is_refused(site, path):
    assert 403 == body(site.url + path)[0]


@pytest.mark.parametrize("path", ["/-/databases.json", "/-/versions.json", "/-/plugins.json", "/-/settings.json", "/-/metadata.json", "/-/threads.json", "/-/actor.json"])
def test_the_pages_that_show_paths_plugins_and_versions_are_not_public(site, path):
    status, _, content = body(site.url + path)
    assert 404 == status
    assert b"cases.db" not in content


def test_pages_canned_queries_and_static_files_still_work(site):
    for path in ["/", "/cases/cases", "/cases/violation_counts", "/cases/search?q=" + quote("吃喝"), "/search?q=" + quote("吃喝"),
                 "/cases/cases.csvx", "/cases/cases.xlsx", "/-/static/app.css", "/static/site.css"]:
        assert 200 == body(site.url + path)[0], path


@pytest.mark.parametrize("path", ["/", "/cases/cases", "/cases/cases.json", "/cases/cases.csvx", "/no-such-page"])
def test_security_headers_on_every_response(site, path):
    _, headers, _ = body(site.url + path)
    assert "nosniff" == headers["x-content-type-options"]
    assert "DENY" == headers["x-frame-options"]
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy


def test_a_query_cannot_make_a_huge_value():
    conn = sqlite3.connect(":memory:")
    limits.apply(conn)
    with pytest.raises(sqlite3.DataError, match="too big"):
        conn.execute("select length(hex(randomblob(400000000)))").fetchone()
    assert [(1000,)] == conn.execute("select length(randomblob(1000))").fetchall()


def test_serve_watches_picks_up_a_saved_edit_and_survives_a_bad_one(library, tmp_path):
    cases, _ = library
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--cases", str(cases.root), "--db", str(tmp_path / "watched.db"), "--serve", "--port", str(port), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, preexec_fn=interruptible,
    )
    url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        seconds_until(lambda: _up(url))
        cases.write("2020/case-03.md", case_text(title="作者刚保存的标题"))
        seconds_until(lambda: "作者刚保存的标题" in body(url + "/cases/cases/case-03")[2].decode())
        cases.write("2020/case-04.md", case_text(violations="[违规吃喝喝]"))
        seconds_until(lambda: any("case-04.md:4: violations: unknown value" in line for line in output))
        assert "作者刚保存的标题" in body(url + "/cases/cases/case-03")[2].decode()
        assert any("the site still shows the last good build" in line for line in output)
        cases.write("2020/case-04.md", case_text(title="改好之后的标题"))
        seconds_until(lambda: "改好之后的标题" in body(url + "/cases/cases/case-04")[2].decode())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert 0 == process.returncode, "".join(output)
    assert not any("Traceback" in line for line in output), "".join(output)


def test_watch_without_serve_keeps_the_database_up_to_date(library, tmp_path):
    cases, _ = library
    db = tmp_path / "kept.db"
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--cases", str(cases.root), "--db", str(db), "--watch"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True).start()

    def title(case_id: str) -> str | None:
        if not db.is_file():
            return None
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("select title from cases where id = ?", [case_id]).fetchone()
        return row and row[0]

    try:
        seconds_until(lambda: any("watching for changes" in line for line in output))
        cases.write("2020/case-03.md", case_text(title="监视中保存的标题"))
        seconds_until(lambda: "监视中保存的标题" == title("case-03"))
        cases.write("2020/case-03.md", case_text(violations="[违规吃喝喝]"))
        seconds_until(lambda: any("case-03.md:4: violations: unknown value" in line for line in output))
        assert "监视中保存的标题" == title("case-03")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert 0 == process.returncode, "".join(output)
    assert not any("Traceback" in line for line in output), "".join(output)


def _up(url: str) -> bool:
    try:
        return local_get(url + "/", timeout=1)[0] == 200
    except OSError:
        return False


def test_the_served_site_names_no_path_of_the_server(site, library):
    _, db = library
    for path in ["/", "/cases", "/cases.json", "/cases/cases.json", "/cases/cases?_view=grid"]:
        assert str(db.parent).encode() not in body(site.url + path)[2], path
    assert re.search(rb"cases\.db", body(site.url + "/cases.json")[2]) is None


def test_serve_stops_its_serving_processes_when_it_is_terminated(library, tmp_path):
    cases, _ = library
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--cases", str(cases.root), "--db", str(tmp_path / "t.db"), "--serve", "--port", str(port), "--no-watch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        seconds_until(lambda: _up(url))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not _up(url), "a serving process outlived build.py --serve"


class Slowed:
    """The site's own application (Datasette with its plugins), answering ``slow``
    only after ``delay`` seconds: a page of a new build that takes long to make."""

    def __init__(self, app, slow: str):
        self.app, self.slow, self.delay = app, slow, 0.0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == self.slow and self.delay:
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


@pytest.fixture
def slowed_site(cases, tmp_path):
    """A built one-case library (db), its site and the page /cases/cases/one made slow at will."""
    from caselib.site import datasette, live

    cases.write("one.md", case_text(title="某局干部甲某违规吃喝案"))
    db = tmp_path / "cases.db"
    build(cases.root, db)
    ds = datasette(db)
    slowed = Slowed(ds.app(), "/cases/cases/one")
    return db, slowed, live.LiveSite(slowed, ds)


def test_a_page_slow_to_make_after_a_build_is_the_last_builds_until_it_is_made(cases, slowed_site):
    import httpx

    from caselib.site import live

    db, slowed, site = slowed_site

    async def visit() -> list[tuple[float, str, str]]:
        seen = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://site") as client:

            async def get() -> None:
                started = time.monotonic()
                response = await client.get("/cases/cases/one")
                title = re.search(r"<h1[^>]*>(.*?)</h1>", response.text, re.S).group(1)
                seen.append((time.monotonic() - started, title.strip(), response.headers["etag"]))

            await get()  # made and kept
            cases.write("one.md", case_text(title="某局干部甲某违规吃喝案（修订）"))
            build(cases.root, db)
            slowed.delay = 3 * live.STALE_WAIT
            await get()  # the new page takes long: the last build's stands in
            await made_in_background(site)
            await get()  # made meanwhile
        return seen

    (_, first, first_tag), (waited, stand_in, stand_in_tag), (_, made, made_tag) = asyncio.run(visit())
    assert ("某局干部甲某违规吃喝案", "某局干部甲某违规吃喝案", "某局干部甲某违规吃喝案（修订）") == (first, stand_in, made)
    assert live.STALE_WAIT <= waited < 2 * live.STALE_WAIT
    assert first_tag == stand_in_tag != made_tag


async def made_in_background(site) -> None:
    """Until what the site is making in the background is made."""
    while site.refreshing:
        await asyncio.gather(*site.refreshing, return_exceptions=True)


def test_a_page_that_was_slow_to_make_is_the_last_builds_at_once_and_made_again_before_it_is_asked(cases, slowed_site, monkeypatch):
    import httpx

    from caselib.site import live

    monkeypatch.setattr(live, "_background_threads", None)  # made below, if a page is made in the background
    db, slowed, site = slowed_site
    slowed.delay = 2 * live.STALE_WAIT

    async def visit() -> list[tuple[float, str]]:
        seen = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://site") as client:

            async def get(path: str = "/cases/cases/one") -> None:
                started = time.monotonic()
                response = await client.get(path)
                found = re.search(r"<h1[^>]*>(.*?)</h1>", response.text, re.S)
                seen.append((time.monotonic() - started, found.group(1).strip() if found else ""))

            await get()  # slow to make, kept
            await get()  # asked again: sent as kept
            cases.write("one.md", case_text(title="某局干部甲某违规吃喝案（修订）"))
            build(cases.root, db)
            await get("/")  # the site sees the build: the slow page is made again, unasked
            await made_in_background(site)
            await get()  # made before it was asked
            cases.write("one.md", case_text(title="某局干部甲某违规吃喝案（再修订）"))
            build(cases.root, db)
            await get()  # the last build's, at once
        return seen

    (made, first), (_, again), _, (ahead, new), (stood_in, stand_in) = asyncio.run(visit())
    expected = ("某局干部甲某违规吃喝案", "某局干部甲某违规吃喝案", "某局干部甲某违规吃喝案（修订）", "某局干部甲某违规吃喝案（修订）")
    assert expected == (first, again, new, stand_in)
    assert made >= slowed.delay
    assert ahead < live.STALE_WAIT
    assert stood_in < live.STALE_WAIT
    # its queries ran on a thread of their own, not on the query threads of people waiting
    assert live._background_threads is not None


def test_two_builds_in_a_row_leave_nothing_half_made_and_the_slow_page_is_made_again(cases, slowed_site):
    import os

    import httpx

    from caselib.site import live

    db, slowed, site = slowed_site
    slowed.delay = 2 * live.STALE_WAIT

    async def visit() -> tuple[dict, bool]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://site") as client:
            await client.get("/cases/cases/one")
            await client.get("/cases/cases/one")
            cases.write("one.md", case_text(title="某局干部甲某违规吃喝案（修订）"))
            build(cases.root, db)
            await client.get("/")  # the build seen: the slow page is being made again
            stat = os.stat(db)
            os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # the file changes again at once
            await client.get("/")  # that making is cancelled (before it began) and the page made anew
            await made_in_background(site)
            left = dict(site.computing)
            response = await client.get("/cases/cases/one")
            return left, "（修订）" in response.text and response.elapsed.total_seconds() < live.STALE_WAIT

    left, made_again = asyncio.run(visit())
    assert {} == left
    assert made_again


def test_a_forged_sign_in_cookie_is_everyones_request(slowed_site):
    import httpx

    _, _, site = slowed_site

    async def visit() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://site") as client:
            return [(await client.get("/-/databases.json", headers={"cookie": cookie})).status_code
                    for cookie in ("ds_actor=forged", "x=1; ds_actor=forged", "ds_actor = forged")]

    assert [404, 404, 404] == asyncio.run(visit())


def writing_processes(root: int) -> list[int]:
    """The exports' writing processes under ``root`` (see caselib/site/export.py)."""
    from bench.common import tree_pids

    found = []
    for pid in tree_pids(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.spawn" in command:
            found.append(pid)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_the_writing_processes_end_with_their_serving_process(library, stop):
    import os

    _, db = library
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "caselib.site.app:create_app", "--factory", "--port", str(port), "--no-access-log"],
        cwd=REPO, env=dict(os.environ, CASELIB_DB=str(db)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        seconds_until(lambda: _up(f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + 60
        while len(writing_processes(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        writers = writing_processes(process.pid)
    finally:
        process.send_signal(stop)
        process.wait(timeout=30)
    assert 2 == len(writers)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in writers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [] == [pid for pid in writers if alive(pid)]
