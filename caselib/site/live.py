"""Serving a database that builds replace or update while the site runs.

The database does not change between builds, so what the site computes from
it can be kept until the next build:

- every response to a GET carries an ETag made of the database file's
  identity (device, inode, size, modification time) and the site's code, so a
  browser or nginx revalidates with ``If-None-Match`` and gets ``304`` at no
  cost while nothing changed;
- responses are kept in memory (a bounded LRU) and served again until the
  file changes; when many ask for the same page at once (a room of trainees
  opening the case on the projector), one request computes it and the others
  wait for it;
- after a build, a page that was quick to make (a case page) is made afresh
  for the first request that asks for it; when making it now takes longer
  than STALE_WAIT (0.5 s: a room of trainees asking for many pages at once,
  just after a build), the last build's page is sent meanwhile. A page that
  was slow to make (the list of 100,000 cases with its facets, an export of
  them all) is sent as the last build kept it at once, and is made again in
  the background, REFRESHING at a time, the most-asked first, without waiting
  to be asked. The last build's pages stand in for at most STALE_KEEP after the
  build and each is replaced as soon as its new one is made, so a rebuild in
  the middle of a session never leaves everyone waiting;
- a build reaches the running site within a request: an incremental build
  changes the file in place, in one transaction (SQLite shows readers the
  whole change or none of it); a full build renames a new file into place,
  and the site opens a fresh :class:`LiveDatabase` on it while requests in
  flight finish on the old one.

Datasette keeps its read connections in one thread-local keyed by the
database's *name*, so a new ``Database`` object of the same name would reuse
the connections to the old file. :class:`LiveDatabase` keeps its connections
per object instead: the one place this module leans on Datasette's
internals (``Database.execute_fn``, Datasette 0.65), tested in
tests/test_live.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

from datasette.actor_auth_cookie import actor_from_request
from datasette.database import Database
from datasette.utils.asgi import Request

from . import DATABASE_NAME, SITE_ROOT, limits
from .accounts import login_enabled

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CACHE_BYTES = 512 * 1024 * 1024  # responses kept per serving process (the last build's stand in beside them for STALE_KEEP after a build)
CACHE_ENTRY_BYTES = 96 * 1024 * 1024  # larger responses are not kept (the Excel and the CSV of 100,000 cases are kept)
STALE_WAIT = 0.5  # seconds a request waits for a page of a new build before it is sent the last build's
STALE_KEEP = 120  # seconds after a build during which the last build's pages may stand in
REMADE_AHEAD = 100  # slow pages made again after a build before they are asked, the most-asked first
REFRESHING = 1  # pages of a new build made in the background at once per process (the rest stand in meanwhile)
CLOSE_OLD_AFTER = 300  # seconds before the connections to a replaced file are closed
CACHED_TYPES = ("text/html", "application/json", "text/csv", "text/plain", "application/vnd.openxmlformats")
# The pages under /-/ show the server's paths, plugins, versions and settings;
# only these are public (static files and signing in and out).
PUBLIC_INTERNAL = ("/-/static/", "/-/static-plugins/", "/-/login", "/-/logout")
SIGNING_IN = ("/-/login", "/-/logout")  # not there at all where no account is configured
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
ACTOR_COOKIE = "ds_actor"
PUBLIC_CONTROL = "no-cache"  # Cache-Control of a page for everyone: kept, revalidated each time
PRIVATE_CONTROL = "private, no-cache"  # of a signed-in actor's page: never kept by a shared cache
# Set in a task that makes a page in the background: its queries run on a
# thread of their own, so the requests of people waiting keep every one of
# Datasette's query threads.
IN_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("in_background", default=False)
_background_threads: ThreadPoolExecutor | None = None


def background_threads() -> ThreadPoolExecutor:
    global _background_threads
    if _background_threads is None:
        _background_threads = ThreadPoolExecutor(max_workers=REFRESHING, thread_name_prefix="caselib-ahead")
    return _background_threads


# ---------------------------------------------------------------- the database file


def file_identity(path: Path) -> tuple[int, int, int, int] | None:
    """What changes whenever a build writes the file: (device, inode, size, mtime ns)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


class LiveDatabase(Database):
    """A read-only Datasette database whose connections belong to this object.

    While an incremental build commits (it needs every reader out for the
    moment it writes its pages), a request waits for it rather than failing:
    readers wait up to limits.READ_BUSY_MS; the build waits at most as long as the
    longest read in flight, which the time limits keep short.
    """

    def __init__(self, ds, path: Path):
        super().__init__(ds, path=str(path), is_mutable=True)
        self._connections = threading.local()
        self.inode = file_identity(path)[:2] if file_identity(path) else None

    def connect(self, write: bool = False):
        conn = super().connect(write=write)
        conn.execute(f"pragma busy_timeout = {limits.READ_BUSY_MS}")
        return conn

    async def execute_fn(self, fn):
        if self.ds.executor is None:
            return await super().execute_fn(fn)

        def in_thread():
            conn = getattr(self._connections, "conn", None)
            if conn is None:
                conn = self.connect()
                self.ds._prepare_connection(conn, self.name)
                self._connections.conn = conn
            return fn(conn)

        threads = background_threads() if IN_BACKGROUND.get() else self.ds.executor
        return await asyncio.get_running_loop().run_in_executor(threads, in_thread)


def code_version(root: Path = SITE_ROOT) -> str:
    """A digest of the files that shape the pages (templates, styles, plugins,
    metadata, settings, the site's code): part of every ETag, so a new
    release never answers 304 with an old page."""
    digest = hashlib.sha256()
    folders = [root / "templates", root / "static", root / "plugins", root / "caselib"]
    files = [root / "metadata.yml", root / "settings.json"]
    for folder in folders:
        files += sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------- kept responses


@dataclass
class Kept:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    made_in: float = 0.0  # seconds it took to make
    asked: int = 0  # times it was sent from the cache since it was made
    scope: Scope | None = None  # the request it answers, to make it again after a build


async def quiet_receive() -> dict:
    """A GET request's (empty) body, for a response made with no client waiting on it."""
    return {"type": "http.request", "body": b"", "more_body": False}


async def discard(message: dict) -> None:
    """Where a response made in the background is sent (it is kept, not sent)."""


@dataclass
class ResponseCache:
    """Responses by key, least recently used dropped first, within ``limit`` bytes."""

    limit: int = CACHE_BYTES
    entry_limit: int = CACHE_ENTRY_BYTES
    entries: OrderedDict = field(default_factory=OrderedDict)
    size: int = 0
    hits: int = 0
    misses: int = 0

    def get(self, key: str) -> Kept | None:
        kept = self.entries.get(key)
        if kept is None:
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        kept.asked += 1
        return kept

    def put(self, key: str, kept: Kept) -> None:
        if len(kept.body) > self.entry_limit:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = kept
        self.size += len(kept.body)
        while self.size > self.limit:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)

    def clear(self) -> None:
        self.entries.clear()
        self.size = 0


@dataclass
class Stale:
    """The last build's kept responses (each with its ETag), which may stand in
    until ``until`` (time.monotonic) for a page of the new build that is slow to make."""

    entries: dict[str, tuple[Kept, str]]
    until: float


# ---------------------------------------------------------------- the middleware


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


def audience(datasette, scope: Scope) -> str:
    """Who a response is for: everyone, or one signed-in actor (a cookie that
    Datasette reads and whose signature holds, read as Datasette reads it)."""
    request = Request(scope, None)
    value = request.cookies.get(ACTOR_COOKIE)
    if not value or actor_from_request(datasette, request) is None:
        return "public"
    return "actor:" + hashlib.sha256(value.encode()).hexdigest()[:16]


REPLAYED_HEADERS = (b"host", b"accept", b"accept-encoding", b"accept-language")


def replayable(scope: Scope, signed_in: bool) -> Scope:
    """What of a request is kept to make its page again after a build: a GET of
    its path with a few neutral headers (and, for a signed-in actor's page, its
    sign-in cookie only)."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k in REPLAYED_HEADERS]
    if signed_in:
        cookie = Request(scope, None).cookies.get(ACTOR_COOKIE)
        if cookie:
            headers.append((b"cookie", f"{ACTOR_COOKIE}={cookie}".encode("latin-1")))
    kept = ("type", "asgi", "http_version", "scheme", "path", "raw_path", "query_string", "root_path", "server")
    return {**{name: scope[name] for name in kept if name in scope}, "method": "GET", "headers": headers}


def is_internal(path: str, can_sign_in: bool = True) -> bool:
    if path.startswith(SIGNING_IN):
        return not can_sign_in
    return path.startswith("/-/") and not path.startswith(PUBLIC_INTERNAL)


class LiveSite:
    """ASGI middleware: follows the database file, keeps responses, sets headers."""

    def __init__(self, app: ASGIApp, datasette, cache: ResponseCache | None = None):
        self.app = app
        self.datasette = datasette
        self.cache = cache or ResponseCache()
        self.code = code_version()
        self.identity: tuple | None = None
        self._path: Path | None = None
        self.computing: dict[str, asyncio.Event] = {}  # keys being computed, for requests asking meanwhile
        self.stale: Stale | None = None  # the last build's pages, standing in while the new ones are made
        self.refreshing: dict[asyncio.Task, tuple[str, asyncio.Event]] = {}  # pages being made in the background, for this build
        self.queued: dict[str, asyncio.Event] = {}  # of those, the ones waiting for their turn (key -> its done)
        self._refresh_turns: asyncio.Semaphore | None = None

    @property
    def path(self) -> Path:
        """The served file (known once Datasette has its database, after this wraps its app)."""
        if self._path is None:
            self._path = Path(self.datasette.get_database(DATABASE_NAME).path)
        return self._path

    # ------------------------------------------------ following the file

    def follow(self) -> tuple:
        """The file's identity now; a new file is opened, a changed one empties the cache."""
        identity = file_identity(self.path)
        if self.stale is not None and time.monotonic() > self.stale.until:
            self.stale = None  # the last build's pages stand in no longer
        if identity != self.identity:
            current = self.datasette.databases.get(DATABASE_NAME)
            if identity is not None and (not isinstance(current, LiveDatabase) or current.inode != identity[:2]):
                self.reopen(current)
            last, self.cache = self.cache, ResponseCache(self.cache.limit, self.cache.entry_limit)
            self.stop_refreshing()
            self.stand_ins(last, identity)
            self.identity = identity
            if identity is not None:
                self.remake_ahead(identity)
        return identity or ()

    def reopen(self, old: Database | None) -> None:
        """Serve the file now at the path; close the old file's connections later."""
        fresh = LiveDatabase(self.datasette, self.path)
        self.datasette.remove_database(DATABASE_NAME)
        self.datasette.add_database(fresh, name=DATABASE_NAME)
        if old is not None:
            asyncio.get_running_loop().call_later(CLOSE_OLD_AFTER, old.close)

    def etag(self, identity: tuple, key: str) -> str:
        digest = hashlib.sha256(f"{identity}|{self.code}|{key}".encode()).hexdigest()[:20]
        return f'"{digest}"'

    # ------------------------------------------------ requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        identity = self.follow()
        who = audience(self.datasette, scope)
        if is_internal(scope["path"], login_enabled(self.datasette)) and who == "public":
            await self.not_found(send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, self.with_headers(send))
            return
        key = f"{who}|{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
        etag = self.etag(identity, key)
        control = PUBLIC_CONTROL if who == "public" else PRIVATE_CONTROL
        if matches(header(scope, b"if-none-match"), etag):
            await self.send_kept(send, Kept(304, [], b""), etag, control, head=True)
            return
        head = scope["method"] == "HEAD"
        stand_in = self.stand_in(key)
        if stand_in is not None:
            kept, in_time = await self.fresh_in_time(key, scope, etag, control, slow=is_slow(stand_in[0]))
            if not in_time:
                await self.send_kept(send, stand_in[0], stand_in[1], control, head=head)
                return
        else:
            kept = await self.kept_or_computed(key)
        if kept is None:
            await self.compute(key, scope, receive, send, etag, control)
            return
        await self.send_kept(send, kept, etag, control, head=head)

    # ------------------------------------------------ the last build's pages, while the new ones are made

    def stand_ins(self, last: ResponseCache, identity: tuple | None) -> None:
        """Keep the responses of the file as it was, to stand in for the new one's.

        A build may change the file's identity more than once while it
        commits; the responses of every identity since the last build stay
        (the newest of each key), each with its own ETag."""
        if self.identity is None or identity is None:
            self.stale = None
            return
        if self.stale is None:  # (follow drops it when its time is up)
            self.stale = Stale({}, time.monotonic() + STALE_KEEP)
        for key, kept in last.entries.items():
            self.stale.entries[key] = (kept, self.etag(self.identity, key))

    def stand_in(self, key: str) -> tuple[Kept, str] | None:
        """The last build's response for ``key`` and its ETag, while it may stand in and none of this build's is kept."""
        if self.stale is None or self.cache.entries.get(key) is not None:
            return None
        return self.stale.entries.get(key)

    async def fresh_in_time(self, key: str, scope: Scope, etag: str, control: str, slow: bool) -> tuple[Kept | None, bool]:
        """This build's response for ``key``, made in the background, if it is ready
        in time: (kept or None when it cannot be kept, True), else (None, False).

        A page that was slow to make is not waited for and waits its turn
        among the REFRESHING; a quick one is made at once, as for a request,
        and waited for up to STALE_WAIT."""
        if key not in self.computing and self.cache.entries.get(key) is None:
            self.refresh(key, scope, etag, control, queued=slow)
        done = self.computing.get(key)
        if done is not None and not done.is_set():
            if slow:
                return None, False
            try:
                await asyncio.wait_for(done.wait(), STALE_WAIT)
            except TimeoutError:
                return None, False
        return self.cache.get(key), True

    def refresh(self, key: str, scope: Scope, etag: str, control: str, queued: bool) -> None:
        """Make ``key``'s response in the background (a request for it need not wait) and keep it;
        ``queued``: one of REFRESHING at a time."""
        done = self.computing[key] = asyncio.Event()
        scope = replayable(scope, signed_in=control != PUBLIC_CONTROL)

        async def made() -> Kept | None:
            if not queued:
                return await self.capture(scope, quiet_receive, discard, etag, control)
            IN_BACKGROUND.set(True)
            if self._refresh_turns is None:
                self._refresh_turns = asyncio.Semaphore(REFRESHING)
            self.queued[key] = done
            try:
                async with self._refresh_turns:
                    self.unqueue(key, done)
                    if self.computing.get(key) is not done:  # a request made it meanwhile
                        return None
                    return await self.capture(scope, quiet_receive, discard, etag, control)
            finally:
                self.unqueue(key, done)

        task = asyncio.get_running_loop().create_task(self.keep_made(key, done, etag, made()))
        self.refreshing[task] = (key, done)
        task.add_done_callback(self.made_in_background)

    def remake_ahead(self, identity: tuple) -> None:
        """Make the new build's pages that were slow to make and asked more than
        once, most-asked first, before anyone asks (their stand-ins are sent meanwhile)."""
        if self.stale is None:
            return
        ahead = [(kept.asked, key, kept) for key, (kept, _) in self.stale.entries.items()
                 if is_slow(kept) and kept.asked > 0 and kept.scope is not None]
        for _, key, kept in sorted(ahead, key=lambda item: -item[0])[:REMADE_AHEAD]:
            if key not in self.computing:
                control = PUBLIC_CONTROL if key.startswith("public|") else PRIVATE_CONTROL
                self.refresh(key, kept.scope, self.etag(identity, key), control, queued=True)

    def made_in_background(self, task: asyncio.Task) -> None:
        """A page made in the background is done (or was cancelled, perhaps before it began)."""
        key, done = self.refreshing.pop(task, (None, None))
        if key is not None:
            self.let_go(key, done)

    def unqueue(self, key: str, done: asyncio.Event) -> None:
        """The making of ``key`` that ``done`` stands for waits its turn no longer
        (another making of the same key, queued since, keeps its place)."""
        if self.queued.get(key) is done:
            del self.queued[key]

    def let_go(self, key: str, done: asyncio.Event) -> None:
        """``key`` is no longer being made: the requests waiting on ``done`` go on."""
        if self.computing.get(key) is done:
            del self.computing[key]
        done.set()

    def stop_refreshing(self) -> None:
        """A new build came in: what was being made for the one before is not wanted."""
        for task, (key, done) in list(self.refreshing.items()):
            task.cancel()
            self.let_go(key, done)
        self.refreshing.clear()
        self.queued.clear()

    async def kept_or_computed(self, key: str) -> Kept | None:
        """The kept response for ``key``, after waiting for a request computing it; None: compute it."""
        while True:
            kept = self.cache.get(key)
            if kept is not None:
                return kept
            computing = self.computing.get(key)
            if computing is None or key in self.queued:  # not begun: the request makes it itself
                return None
            await computing.wait()
            if self.cache.entries.get(key) is None:  # it could not be kept: compute it as well
                return None

    async def compute(self, key: str, scope: Scope, receive: Receive, send: Send, etag: str, control: str) -> None:
        done = self.computing[key] = asyncio.Event()
        await self.keep_made(key, done, etag, self.capture(scope, receive, send, etag, control))

    async def keep_made(self, key: str, done: asyncio.Event, etag: str, making: Awaitable[Kept | None]) -> None:
        """Await the response being made for ``key`` and keep it (not if a build
        came in meanwhile), then let the requests waiting on ``done`` go on.
        A response of this build that cannot be kept (a page now gone, one too
        large) no longer lets the last build's stand in for it."""
        try:
            kept = await making
            if self.identity is not None and etag == self.etag(self.identity, key):
                if kept is not None:
                    self.cache.put(key, kept)
                if self.cache.entries.get(key) is None and self.stale is not None and self.computing.get(key) is done:
                    self.stale.entries.pop(key, None)
        finally:
            self.let_go(key, done)

    def with_headers(self, send: Send, extra: dict[str, str] | None = None) -> Send:
        """``send`` with the security headers (and ``extra``) on the response's start."""

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": merged(message.get("headers", []), {**SECURITY_HEADERS, **(extra or {})})}
            await send(message)

        return sending

    async def capture(self, scope: Scope, receive: Receive, send: Send, etag: str, control: str) -> Kept | None:
        """Run the request, sending the response as it comes, and return it
        when it can be kept (a 200 of a kept type, whole, small enough, no cookie)."""
        start: dict = {}
        chunks: list[bytes] = []
        size = 0
        keep = True
        started = time.monotonic()

        async def sending(message: dict) -> None:
            nonlocal size, keep
            if message["type"] == "http.response.start":
                start.update(message)
                keep = message["status"] == 200 and cacheable(message.get("headers", []))
                extra = {"etag": etag, "cache-control": control} if keep else {}
                message = {**message, "headers": merged(message.get("headers", []), {**SECURITY_HEADERS, **extra})}
            elif message["type"] == "http.response.body" and keep:
                size += len(message.get("body", b""))
                if size > self.cache.entry_limit:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, sending)
        if not keep or not start:
            return None
        signed_in = control != PUBLIC_CONTROL
        return Kept(start["status"], list(start.get("headers", [])), b"".join(chunks), time.monotonic() - started, 0, replayable(scope, signed_in))

    async def send_kept(self, send: Send, kept: Kept, etag: str, control: str, head: bool = False) -> None:
        headers = merged(kept.headers, {**SECURITY_HEADERS, "etag": etag, "cache-control": control})
        if kept.status == 304:
            headers = [(k, v) for k, v in headers if k != b"content-length"]
        await send({"type": "http.response.start", "status": kept.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else kept.body})

    async def not_found(self, send: Send) -> None:
        body = "页面不存在。".encode()
        headers = merged([(b"content-type", b"text/plain; charset=utf-8")], SECURITY_HEADERS)
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def is_slow(kept: Kept) -> bool:
    """Whether the page took longer to make than a request waits for a new build's."""
    return kept.made_in > STALE_WAIT


def merged(headers: list, replace: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Response headers with ``replace``'s names set to its values."""
    names = {name.encode() for name in replace}
    kept = [(bytes(k), bytes(v)) for k, v in headers if bytes(k).lower() not in names]
    return kept + [(name.encode(), value.encode()) for name, value in replace.items()]


def matches(if_none_match: bytes | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110): W/"x" matches "x" (nginx
    weakens an ETag when it compresses the response)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") in (wanted, "*") for tag in if_none_match.decode("latin-1").split(","))


def cacheable(headers: list) -> bool:
    values = {bytes(k).lower(): bytes(v) for k, v in headers}
    if b"set-cookie" in values:
        return False
    content_type = values.get(b"content-type", b"").decode("latin-1")
    return content_type.startswith(CACHED_TYPES)
