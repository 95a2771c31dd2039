"""Who may read what, tried as an attacker would: the shipped library (which
holds internal cases and an internal pack) served as build.py --serve serves
it, crawled anonymously through every link, export, table and query; then
signed in, where everything is there."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import deque
from pathlib import Path
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import httpx
import pytest
from datasette_auth_passwords.utils import hash_password

from caselib.pipeline import build
from caselib.public import public_path_for
from caselib.site import start_server

from browser import free_port
from conftest import REPO, SHIPPED_CASES

INTERNAL_IDS = ["2024-neibu-shujiyuan-chaxun-anqing", "2025-neibu-siji-gongche-sijia", "2025-neibu-tongbao"]
INTERNAL_TEXT = [
    "某县人民检察院书记员违规查询并透露案件办理情况案", "某市人民检察院驾驶员节假日私驾公车并谎报用车事由案",
    "蔺某", "眭某", "值班备勤", "统一业务应用系统", "内部通报案例学习", "从“小事小节”看纪律规矩",
]
MARKERS = INTERNAL_IDS + INTERNAL_TEXT
PASSWORD = "a-staff-password-for-tests"
CRAWL_LIMIT = 500
PUBLIC_BOOKLETS = [
    "/cases/cases.docx?_size=max", f"/cases/search.docx?q={quote('案')}&violation=&_size=max",
    "/packs/2025-sange-guiding.docx", "/packs/2025-sange-guiding.docx?participants=1",
]
LINK = re.compile(r"""(?:href|src|action)=["']([^"'#]+)""")


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("access")
    db = folder / "site" / "cases.db"
    report = build(SHIPPED_CASES, db, packs_dir=REPO / "packs")
    assert report.internal >= 2
    (folder / "staff.passwords").write_text(f"# staff accounts\nstaff:{hash_password(PASSWORD)}\n", encoding="utf-8")
    return db


@pytest.fixture(scope="module")
def site(library: Path):
    port = free_port()
    process = _start(library, port, library.parent.parent / "staff.passwords")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _start(db: Path, port: int, accounts: Path) -> subprocess.Popen:
    """The site as build.py --serve starts it: staff on the full database, everyone else on the public edition."""
    os.environ["CASELIB_PASSWORDS"] = str(accounts)
    try:
        return start_server(db, "127.0.0.1", port, 2, public_path=public_path_for(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        del os.environ["CASELIB_PASSWORDS"]


def _wait(url: str, process: subprocess.Popen) -> None:
    for _ in range(300):
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(url + "/", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def readable(response: httpx.Response) -> str:
    """A response as text to search: a workbook's sheets unzipped, anything else decoded."""
    if response.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return response.content.decode("utf-8", "replace")


def word_document(response: httpx.Response) -> bool:
    if response.status_code != 200 or response.content[:2] != b"PK":
        return False
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        return "word/document.xml" in package.namelist()


def found_markers(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


def without_echoes(path: str, text: str) -> str:
    """The response without what the request itself asked for (a search box
    showing the words searched is not a leak)."""
    for _, value in parse_qsl(urlsplit(path).query):
        for form in (value, html.escape(value), quote(value), quote(value).replace("%20", "+"), json.dumps(value)[1:-1]):
            text = text.replace(form, "")
    return text


def crawl(client: httpx.Client, base: str, start: list[str]) -> dict[str, str]:
    """Every page reachable from ``start`` on this site (up to CRAWL_LIMIT): address -> text."""
    seen: dict[str, str] = {}
    todo = deque(start)
    while todo and len(seen) < CRAWL_LIMIT:
        path = todo.popleft()
        if path in seen:
            continue
        response = client.get(path)
        text = readable(response)
        seen[path] = text
        if "html" not in response.headers.get("content-type", ""):
            continue
        for link in LINK.findall(text):
            absolute = urljoin(base + path, link.replace("&amp;", "&"))
            parts = urlsplit(absolute)
            if parts.netloc != urlsplit(base).netloc or parts.path.startswith("/-/static"):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen:
                todo.append(local)
    return seen


def every_export_and_table(client: httpx.Client) -> list[str]:
    """The addresses a crawl might not reach: every format, every table, SQL, searches, the internal ids."""
    tables = [t["name"] for t in client.get("/cases.json").json()["tables"]]
    paths = [f"/cases/{table}.json?_size=max&_shape=array" for table in tables]
    paths += [f"/cases/{table}.csv?_size=max&_stream=on" for table in tables]
    paths += ["/cases/_files.json", "/cases/_build.json", "/cases/cases_fts.json"]
    for fmt in ("json", "csv", "csvx", "xlsx", "docx"):
        paths += [f"/cases/cases.{fmt}?_size=max", f"/cases/case_texts.{fmt}?_size=max"]
        paths += [f"/cases/search.{fmt}?q={quote(word)}&violation=&_size=max" for word in ("案", "内部", "蔺某", "公车")]
        paths += [f"/cases/pack_cases_export.{fmt}?pack={pack}&_size=max" for pack in ("2025-neibu-tongbao", "2025-sange-guiding")]
    for word in INTERNAL_TEXT[:6] + ["内部", "书记员", "驾驶员"]:
        paths += [f"/search?q={quote(word)}", f"/cases/cases?_search={quote(word)}", f"/cases/cases.json?_search={quote(word)}"]
    for case_id in INTERNAL_IDS:
        paths += [f"/cases/cases/{case_id}", f"/cases/cases/{case_id}.json", f"/cases/case_texts/{case_id}.json", f"/packs/{case_id}"]
        paths += [f"/packs/{case_id}.docx", f"/packs/{case_id}.docx?participants=1", f"/packs/{case_id}?participants=1&full=1"]
    for pack in ("2024-baxiang-guiding", "2025-sange-guiding"):
        paths += [f"/packs/{pack}.docx", f"/packs/{pack}.docx?participants=1", f"/packs/{pack}?participants=1&full=1"]
    paths += [f"/cases/cases.docx?_search={quote(word)}" for word in ("内部", "公车", "查询")]
    sql = ["select * from cases", "select title from cases where visibility = '内部'", "select * from pragma_database_list",
           "attach database 'cases.db' as full"]
    paths += [f"/cases.json?sql={quote(q)}" for q in sql] + [f"/cases/cases.json?_where={quote('1=1')}"]
    paths += ["/cases/cases.json?_facet=title&_facet=unit&_facet=visibility&_facet_array=tags&_size=max", "/statistics", "/packs"]
    return paths


def test_an_anonymous_visitor_meets_no_internal_case_anywhere(site):
    with httpx.Client(base_url=site, trust_env=False, timeout=60) as client:
        pages = crawl(client, site, ["/", "/cases/cases", "/search?q=%E6%A1%88", "/packs", "/statistics", "/cases"])
        pages.update({path: readable(client.get(path)) for path in every_export_and_table(client)})
        booklets = [client.get(path) for path in PUBLIC_BOOKLETS]
    assert len(pages) > 150
    assert [True] * len(booklets) == [word_document(b) for b in booklets]  # the public booklets are served, not refused
    assert "某县人民检察院检察官李某未如实记录报告领导干部过问案件案" in pages["/cases/cases.docx?_size=max"]  # the public cases are there
    leaks = {path: found_markers(without_echoes(path, text)) for path, text in pages.items() if found_markers(without_echoes(path, text))}
    assert {} == leaks


def test_signed_in_staff_read_everything(site):
    with httpx.Client(base_url=site, trust_env=False, timeout=60) as client:
        form = client.get("/-/login")
        assert "工作人员登录" in form.text
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
        signed = client.post("/-/login", data={"username": "staff", "password": PASSWORD, "csrftoken": token})
        assert 302 == signed.status_code, signed.text[:300]
        pages = {
            path: readable(client.get(path))
            for path in [f"/cases/cases/{INTERNAL_IDS[0]}", f"/packs/{INTERNAL_IDS[2]}", "/cases/cases", "/search?q=" + quote("蔺某"),
                         "/cases/cases.csvx?_size=max", "/statistics", "/cases/cases.docx", f"/packs/{INTERNAL_IDS[2]}.docx"]
        }
        count = client.get("/cases/cases.json?_size=1").json()["filtered_table_rows_count"]
    assert 47 == count
    case_page = pages[f"/cases/cases/{INTERNAL_IDS[0]}"]
    assert {INTERNAL_TEXT[0], "蔺某", "统一业务应用系统", "内部"} <= set(found_markers(case_page)) | {"内部"} and "内部</span>" in case_page
    assert INTERNAL_TEXT[6] in pages[f"/packs/{INTERNAL_IDS[2]}"]
    assert INTERNAL_IDS[0] in pages["/search?q=" + quote("蔺某")]
    assert {INTERNAL_IDS[0], INTERNAL_IDS[1], INTERNAL_TEXT[1]} <= set(found_markers(pages["/cases/cases.csvx?_size=max"]))
    assert {INTERNAL_TEXT[0], INTERNAL_TEXT[1], "蔺某"} <= set(found_markers(pages["/cases/cases.docx"]))  # a leak would be seen in a booklet
    assert {INTERNAL_TEXT[0], INTERNAL_TEXT[6]} <= set(found_markers(pages[f"/packs/{INTERNAL_IDS[2]}.docx"]))


def test_a_wrong_password_or_a_forged_cookie_reads_nothing_internal(site):
    with httpx.Client(base_url=site, trust_env=False, timeout=30) as client:
        form = client.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
        refused = client.post("/-/login", data={"username": "staff", "password": "wrong", "csrftoken": token})
        assert "用户名或密码不正确" in refused.text
        client.cookies.set("ds_actor", "eyJhIjp7ImlkIjoic3RhZmYifX0.forged")
        assert 404 == client.get(f"/cases/cases/{INTERNAL_IDS[0]}").status_code
        assert 45 == client.get("/cases/cases.json?_size=1").json()["filtered_table_rows_count"]


def test_serve_listens_on_the_address_it_is_given(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES, cases)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--cases", str(cases), "--db", str(tmp_path / "cases.db"),
         "--serve", "--host", "127.0.0.2", "--port", str(port), "--no-watch", "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )
    try:
        _wait(f"http://127.0.0.2:{port}", process)
        assert 200 == httpx.get(f"http://127.0.0.2:{port}/cases/cases", trust_env=False).status_code
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", trust_env=False, timeout=2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "cannot read the accounts file (CASELIB_PASSWORDS)"),
        ("staff:not-a-hash\n", "staff.passwords:1: write name:hash, the hash as datasette hash-password prints it"),
        ("# accounts\nstaff\n", "staff.passwords:2: write name:hash"),
    ],
)
def test_serve_refuses_an_accounts_file_it_cannot_use(tmp_path, content, message):
    accounts = tmp_path / "staff.passwords"
    if content is not None:
        accounts.write_text(content, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--cases", str(SHIPPED_CASES), "--db", str(tmp_path / "cases.db"), "--serve"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, env=dict(os.environ, CASELIB_PASSWORDS="staff.passwords"),
    )
    assert 2 == result.returncode
    assert message in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "cases.db").exists()  # refused before building anything


def test_where_no_account_is_configured_there_is_no_signing_in(shipped_site):
    assert 404 == shipped_site.get("/-/login").status_code
    home = shipped_site.get("/").text
    assert ("/-/login" in home, "Log in" in home, "工作人员登录" in home) == (False, False, False)


def test_the_menu_offers_signing_in_in_chinese_only(site):
    with httpx.Client(base_url=site, trust_env=False, timeout=30) as client:
        home = client.get("/").text
    assert ("Log in" in home, home.count('href="/-/login"')) == (False, 1)
