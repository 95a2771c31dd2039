"""Real pages for tests: the site's serving processes on 127.0.0.1 and headless Chromium.

``datasette_server(db_path)`` starts the site as ``build.py --serve`` does
(uvicorn's processes, caselib.site.start_server) on a free local port until
the ``with`` block ends.
``chromium()`` drives Debian's /usr/bin/chromium through Playwright; each page
opened with ``Browser.open`` records console errors, page errors, dialogs
(dismissed), pop-up windows and every request that tried to leave 127.0.0.1
(aborted).
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from playwright.sync_api import Dialog, Page, Route, sync_playwright

from caselib.site import start_server

LOCAL_HOST = "127.0.0.1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
START_TIMEOUT = 30.0
SETTLE_MS = 250  # after "load": time for timers, autofocus and media errors to fire
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return sock.getsockname()[1]


def local_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET a 127.0.0.1 URL directly (never through a proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@dataclass
class Server:
    """A running ``datasette serve``."""

    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _wait_until_up(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"datasette exited with {server.process.returncode}:\n{server.output()}")
        try:
            status, _ = local_get(f"{server.url}/", timeout=1.0)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
            continue
        if status == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"datasette did not answer on {server.url} within {timeout:.0f} s:\n{server.output()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def datasette_server(db_path: Path, timeout: float = START_TIMEOUT, workers: int = 1, public: Path | None = None) -> Iterator[Server]:
    """Serve ``db_path`` (as the database ``cases``) on a free 127.0.0.1 port:
    to everyone, or (given its ``public`` edition) to signed-in staff only."""
    with tempfile.TemporaryDirectory(prefix="datasette-log-") as folder:
        log = Path(folder) / "datasette.log"
        port = free_port()
        with open(log, "wb") as sink:
            process = start_server(
                db_path, LOCAL_HOST, port, workers, public_path=public, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT
            )
        server = Server(f"http://{LOCAL_HOST}:{port}", process, log)
        try:
            _wait_until_up(server, timeout)
            yield server
        finally:
            _stop(process)


@dataclass
class Visit:
    """What happened while one page was open."""

    url: str
    page: Page
    status: int | None = None
    content_type: str = ""
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    def csp_violations(self) -> list[str]:
        """The Content-Security-Policy violations the page reported."""
        return self.page.evaluate("() => window.__csp || []")

    def xss_flag(self) -> object:
        """``window.__xss`` as the page sees it (None when undefined)."""
        return self.page.evaluate("() => typeof window.__xss === 'undefined' ? null : String(window.__xss)")

    def title(self) -> str:
        return self.page.title()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname == LOCAL_HOST


class Browser:
    """One headless Chromium and one context; every visit gets a fresh page.

    The context's route sees every request of every page (pop-ups included)
    and aborts those that would leave 127.0.0.1.
    """

    def __init__(self, browser):
        self._context = browser.new_context(service_workers="block")
        self._context.route("**/*", self._route)
        self._context.add_init_script(CSP_LISTENER)
        self._current: Visit | None = None

    def _route(self, route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
            return
        if self._current is not None:
            self._current.outside_requests.append(route.request.url)
        route.abort("blockedbyclient")

    @contextmanager
    def open(
        self, url: str, screenshot: Path | None = None, full_page: bool = False, viewport: tuple[int, int] | None = None
    ) -> Iterator[Visit]:
        page = self._context.new_page()
        if viewport is not None:
            page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        visit = Visit(url, page)
        self._current = visit
        _record(visit)
        try:
            response = page.goto(url, wait_until="load")
            if response is not None:
                visit.status = response.status
                visit.content_type = response.headers.get("content-type", "")
            page.wait_for_timeout(SETTLE_MS)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=full_page)
                visit.screenshot = screenshot
            yield visit
        finally:
            self._current = None
            page.close()

    def close(self) -> None:
        self._context.close()


def _record(visit: Visit) -> None:
    def dialog(d: Dialog) -> None:
        visit.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    visit.page.on("dialog", dialog)
    visit.page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    visit.page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    visit.page.on("popup", lambda p: visit.popups.append(p.url))


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, never downloaded."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        running = Browser(browser)
        try:
            yield running
        finally:
            running.close()
            browser.close()
