"""The deployment stood up on loopback: Debian's nginx with deploy/'s site in
front of two serving processes, then a page, a search, an export, static
files, compression, a rebuild and a rolling restart through it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

import datasette

from caselib.public import public_path_for
from caselib.site import DB_VARIABLE, PUBLIC_DB_VARIABLE, SECRET_VARIABLE, SITE_ROOT
from caselib.site.accounts import PASSWORDS_VARIABLE

from browser import free_port
from conftest import REPO, SHIPPED_CASES, case_text

DEPLOY = REPO / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (make test installs Debian's nginx)")
EXPIRED = 3.5  # seconds after which nginx's 2 s (counted in whole seconds) have passed
MAIN_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/caselib.conf;
}}
"""


def up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


class Unit:
    """A systemd unit of deploy/, its paths moved from the server's to this test's."""

    def __init__(self, name: str, places: dict[str, str]):
        self.text = (DEPLOY / name).read_text(encoding="utf-8")
        self.places = {"/opt/caselib/.venv/bin/python": sys.executable, "/opt/caselib": str(REPO), **places}

    def command(self, instance: str = "", setting: str = "ExecStart") -> list[str]:
        line = re.search(rf"^{setting}=(.+)$", self.text, re.M).group(1)
        return [self.moved(word).replace("%i", instance) for word in shlex.split(line)]

    def moved(self, word: str) -> str:
        for server, here in self.places.items():
            word = word.replace(server, here)
        return word


def environment_file(places: dict[str, str]) -> dict[str, str]:
    """deploy/caselib.env.example's variables, each naming this test's file."""
    names = re.findall(r"^([A-Z_]+)=", (DEPLOY / "caselib.env.example").read_text(encoding="utf-8"), re.M)
    return {name: places[name] for name in names}


class Backends:
    """Two serving processes, each started as its caselib@ instance is."""

    def __init__(self, environment: dict[str, str]):
        self.unit = Unit("caselib@.service", {})
        self.environment = dict(os.environ, **environment)
        self.ports = [free_port(), free_port()]
        self.processes = [self.start(port) for port in self.ports]

    def start(self, port: int) -> subprocess.Popen:
        process = subprocess.Popen(self.unit.command(str(port)), env=self.environment, cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # as systemd does: started once the unit's ExecStartPost (the wait until it answers) is done
        subprocess.run(self.unit.command(str(port), "ExecStartPost"), env=self.environment, cwd=REPO, check=True, timeout=150)
        return process

    def restart(self, n: int) -> None:
        process = self.processes[n]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        self.processes[n] = self.start(self.ports[n])

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)


class Builder:
    """The build service (caselib-build.service): builds, then rebuilds on every change."""

    def __init__(self, places: dict[str, str]):
        self.output: list[str] = []
        self.process = subprocess.Popen(Unit("caselib-build.service", places).command(), cwd=REPO, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=lambda: self.output.extend(iter(self.process.stdout.readline, "")), daemon=True).start()
        deadline = time.monotonic() + 60
        while not any("watching for changes" in line for line in self.output):
            assert time.monotonic() < deadline and self.process.poll() is None, "".join(self.output)
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.fixture
def deployment(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES, cases)
    db = tmp_path / "lib" / "cases.db"
    db.parent.mkdir()
    (tmp_path / "staff.passwords").write_text("# no accounts yet\n", encoding="utf-8")
    builder = Builder({"/srv/caselib/cases": str(cases), "/srv/caselib/packs": str(REPO / "packs"), "/var/lib/caselib": str(db.parent)})
    backends = Backends(environment_file({
        DB_VARIABLE: str(db), PUBLIC_DB_VARIABLE: str(public_path_for(db)),
        PASSWORDS_VARIABLE: str(tmp_path / "staff.passwords"), SECRET_VARIABLE: "a-secret-both-backends-share",
    }))
    listen = free_port()
    site = (REPO / "deploy" / "nginx-caselib.conf").read_text(encoding="utf-8")
    for name, value in {"@CACHE_DIR@": str(tmp_path / "cache"), "@PORT_A@": str(backends.ports[0]), "@PORT_B@": str(backends.ports[1]),
                        "@LISTEN@": f"127.0.0.1:{listen}", "@SITE@": str(SITE_ROOT),
                        "@DATASETTE_STATIC@": str(Path(datasette.__file__).parent / "static")}.items():
        site = site.replace(name, value)
    (tmp_path / "caselib.conf").write_text(site, encoding="utf-8")
    user = "user root;" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(MAIN_CONF.format(tmp=tmp_path, user=user), encoding="utf-8")
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{listen}"
    try:
        up(url + "/")
        yield url, cases, builder, backends
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)
        backends.stop()
        builder.stop()


def test_pages_searches_exports_and_static_files_through_nginx(deployment):
    url, _, _, _ = deployment
    home = httpx.get(url + "/", trust_env=False)
    search = httpx.get(url + "/search?q=受贿", trust_env=False)
    export = httpx.get(url + "/cases/cases.xlsx?violations__arraycontains=受贿", trust_env=False, timeout=60)
    style = httpx.get(url + "/static/site.css", trust_env=False, headers={"Accept-Encoding": "gzip"})
    app_css = httpx.get(url + "/-/static/app.css", trust_env=False)
    assert (200, "警示教育案例库" in home.text) == (home.status_code, True)
    assert 200 == search.status_code and "找到" in search.text
    assert (200, b"PK") == (export.status_code, export.content[:2])
    assert "attachment" in export.headers["content-disposition"]
    assert (200, "gzip") == (style.status_code, style.headers.get("content-encoding"))
    assert (SITE_ROOT / "static" / "site.css").read_text(encoding="utf-8") == style.text
    assert "x-cache" not in style.headers  # served by nginx itself, not a process
    assert 200 == app_css.status_code
    assert "nosniff" == home.headers["x-content-type-options"]


def test_nginx_keeps_anonymous_pages_and_revalidates_them(deployment):
    url, _, _, _ = deployment
    httpx.get(url + "/cases/cases", trust_env=False)  # the processes' first page (Datasette starts up)
    time.sleep(EXPIRED)
    first = httpx.get(url + "/cases/cases", trust_env=False)
    again = httpx.get(url + "/cases/cases", trust_env=False)
    time.sleep(EXPIRED)
    later = httpx.get(url + "/cases/cases", trust_env=False)
    staff = httpx.get(url + "/cases/cases", trust_env=False, cookies={"ds_actor": "not-even-valid"})
    assert "REVALIDATED" == first.headers["x-cache"]  # the process answered 304 to nginx's If-None-Match
    assert "HIT" == again.headers["x-cache"]
    assert "REVALIDATED" == later.headers["x-cache"]
    assert "BYPASS" == staff.headers["x-cache"]  # with a sign-in cookie, always a process
    assert first.text == later.text


class Traffic(threading.Thread):
    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.done, self.failures, self.count = url, threading.Event(), [], 0

    def run(self) -> None:
        with httpx.Client(trust_env=False, timeout=30) as client:
            while not self.done.is_set():
                for path in ("/", "/cases/cases?_search=受贿", "/cases/cases/2019-jianchaguan-zhuli-shouqing", "/statistics"):
                    try:
                        status = client.get(self.url + path).status_code
                    except httpx.HTTPError as err:
                        self.failures.append(f"{path}: {err!r}")
                        continue
                    self.count += 1
                    if status != 200:
                        self.failures.append(f"{path}: {status}")


def test_a_saved_case_and_a_rolling_restart_through_nginx_fail_no_request(deployment):
    url, cases, builder, backends = deployment
    traffic = Traffic(url)
    traffic.start()
    try:
        path = cases / "2019" / "2019-jianchaguan-zhuli-shouqing.md"
        path.write_text(path.read_text(encoding="utf-8").replace("违规接受律师宴请案", "违规接受律师宴请案（已更新）", 1), encoding="utf-8")
        deadline = time.monotonic() + 10  # the build service sees the save and rebuilds
        while "（已更新）" not in httpx.get(url + "/cases/cases/2019-jianchaguan-zhuli-shouqing", trust_env=False).text:
            assert time.monotonic() < deadline, "the rebuild did not reach the site through nginx"
            time.sleep(0.1)
        for n in (0, 1):  # a new release: one process at a time
            backends.restart(n)
        time.sleep(0.5)
    finally:
        traffic.done.set()
        traffic.join(timeout=30)
    assert traffic.count > 20
    assert [] == traffic.failures
    assert None is builder.process.poll(), "".join(builder.output)  # the build service is still watching


def test_the_systemd_units_are_valid(tmp_path):
    for name, instance in (("caselib@.service", "caselib@8101.service"), ("caselib-build.service", "caselib-build.service")):
        unit = Unit(name, {})
        (tmp_path / instance).write_text(unit.moved(unit.text), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.glob("*.service"))],
                            capture_output=True, text=True)
    assert (0, "") == (result.returncode, result.stderr.strip())


def test_waiting_for_a_process_that_does_not_answer_gives_up_and_says_so():
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "caselib.site.ready", str(port), "--timeout", "0.5"],
                            cwd=REPO, capture_output=True, text=True, timeout=30)
    assert (1, f"http://127.0.0.1:{port}/ 在 0.5 秒内没有应答 (did not answer within 0.5 s)\n") == (result.returncode, result.stderr)
