"""Shared fixtures: case files written to a real folder, real builds, a real Datasette."""

from __future__ import annotations

import asyncio
import sqlite3
import signal
import textwrap
from pathlib import Path

import pytest

from caselib.pipeline import build
from caselib.site import datasette

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CASES = REPO / "cases"


def case_text(
    title: str = "某区人民检察院检察官助理违规接受律师宴请案",
    date: str = "2019-11-12",
    violations: str = "[违规吃喝, 违规接触当事人律师]",
    extra: str = "",
    body: str = "## 基本案情\n\n张某接受律师宴请。\n\n## 处理结果\n\n张某受到党内警告处分。\n",
) -> str:
    """A valid case file; pass pieces to vary it."""
    front = f"title: {title}\ndate: {date}\nviolations: {violations}\n" + textwrap.dedent(extra)
    return f"---\n{front}---\n\n{body}"


def interruptible() -> None:
    """For a child process: Ctrl-C (SIGINT) as at a terminal, even where this
    run was started in the background with SIGINT ignored (which children inherit)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def rows(db: Path, sql: str) -> list[tuple]:
    """Every row a query returns from a built database."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), shared by a test module's page tests."""
    from browser import chromium

    with chromium() as running:
        yield running


class CasesFolder:
    """A folder of case files under a test's tmp_path."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def cases(tmp_path: Path) -> CasesFolder:
    return CasesFolder(tmp_path / "cases")


class Site:
    """A real Datasette over a built database, driven through ds.client."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.ds = datasette(db_path)
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, actor: dict | None = None):
        """GET ``path``, anonymously or signed in as ``actor`` (Datasette's signed ds_actor cookie)."""
        cookies = {"ds_actor": self.ds.sign({"a": actor}, "actor")} if actor else None
        return self.loop.run_until_complete(self.ds.client.get(path, cookies=cookies))

    def json(self, path: str, actor: dict | None = None):
        response = self.get(path, actor)
        assert 200 == response.status_code, response.text[:500]
        return response.json()

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def make_site(tmp_path: Path):
    sites: list[Site] = []

    def make(cases_dir: Path) -> Site:
        db_path = tmp_path / "site" / "cases.db"
        build(cases_dir, db_path, jobs=1)
        site = Site(db_path)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


@pytest.fixture(scope="session")
def shipped_db(tmp_path_factory) -> Path:
    db_path = tmp_path_factory.mktemp("shipped") / "cases.db"
    build(SHIPPED_CASES, db_path, packs_dir=REPO / "packs")
    return db_path


@pytest.fixture(scope="session")
def shipped_site(shipped_db: Path):
    site = Site(shipped_db)
    yield site
    site.close()
