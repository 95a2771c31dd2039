"""The site: how Datasette is configured to publish a built database.

The same files (metadata.yml, settings.json, plugins/, templates/, static/)
serve ``build.py --serve`` (uvicorn, one process per core, see app.py), a
``datasette`` run by hand, the tests and the deployment in deploy/.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

SITE_ROOT = Path(__file__).resolve().parents[2]
METADATA = SITE_ROOT / "metadata.yml"
SETTINGS = SITE_ROOT / "settings.json"
PLUGINS = SITE_ROOT / "plugins"
TEMPLATES = SITE_ROOT / "templates"
STATIC = SITE_ROOT / "static"
DATABASE_NAME = "cases"
DEFAULT_PORT = 8001


def load_metadata() -> dict:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


def load_settings() -> dict:
    return json.loads(SETTINGS.read_text(encoding="utf-8"))


def datasette(db_path: Path, **extra):
    """A Datasette serving ``db_path`` as the database ``cases``, whatever the
    file is called, with the site's metadata, settings, plugins, templates and
    static files (for the serving processes, the tests and tools)."""
    from datasette.app import Datasette

    from .live import LiveDatabase

    from .accounts import with_accounts

    extra.setdefault("secret", os.environ.get(SECRET_VARIABLE) or None)
    ds = Datasette(
        [],
        metadata=with_accounts(load_metadata()),
        settings=load_settings(),
        plugins_dir=str(PLUGINS),
        template_dir=str(TEMPLATES) if TEMPLATES.is_dir() else None,
        static_mounts=[("static", str(STATIC))] if STATIC.is_dir() else [],
        **extra,
    )
    ds.remove_database("_memory")  # only there because no file was named
    ds.add_database(LiveDatabase(ds, db_path.resolve()), name=DATABASE_NAME)
    return ds


DB_VARIABLE = "CASELIB_DB"  # the database the serving processes open (see app.py)
PUBLIC_DB_VARIABLE = "CASELIB_PUBLIC_DB"  # its public edition, served to everyone not signed in
# Datasette signs its cookies (who is signed in) with a secret: every serving
# process of one site must share it, or a cookie from one is refused by the next.
SECRET_VARIABLE = "DATASETTE_SECRET"
PASSWORDS_VARIABLE = "CASELIB_PASSWORDS"  # the staff accounts file (see accounts.py)


def default_workers() -> int:
    """One serving process per core (at most 8)."""
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8))


def serve_arguments(host: str = "127.0.0.1", port: int = DEFAULT_PORT, workers: int = 1) -> list[str]:
    """The uvicorn command line that serves the site with ``workers`` processes."""
    args = [sys.executable, "-m", "uvicorn", "caselib.site.app:create_app", "--factory", "--host", host, "--port", str(port)]
    args += ["--workers", str(workers), "--no-access-log", "--timeout-graceful-shutdown", "10"]
    return args


def serve_environment(db_path: Path, public_path: Path | None = None) -> dict[str, str]:
    """The serving processes' environment: the database (and the public
    edition served to everyone else), the site's code, one shared cookie
    secret (the administrator's, or one made for this run)."""
    paths = [str(SITE_ROOT), os.environ.get("PYTHONPATH", "")]
    environment = dict(
        os.environ,
        **{
            DB_VARIABLE: str(db_path.resolve()),
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            SECRET_VARIABLE: os.environ.get(SECRET_VARIABLE) or secrets.token_hex(32),
        },
    )
    environment.pop(PUBLIC_DB_VARIABLE, None)
    if environment.get(PASSWORDS_VARIABLE):  # the processes run in the site's folder
        environment[PASSWORDS_VARIABLE] = str(Path(environment[PASSWORDS_VARIABLE]).resolve())
    if public_path is not None:
        environment[PUBLIC_DB_VARIABLE] = str(public_path.resolve())
    return environment


def start_server(db_path: Path, host: str, port: int, workers: int, public_path: Path | None = None, **popen) -> subprocess.Popen:
    """Start the serving processes (uvicorn's, one per worker) in the background:
    ``db_path`` for signed-in staff and ``public_path`` for everyone else, or
    ``db_path`` for everyone when there is no public edition to serve."""
    environment = serve_environment(db_path, public_path)
    return subprocess.Popen(serve_arguments(host, port, workers), env=environment, cwd=SITE_ROOT, **popen)


def site_address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else shown}:{port}/"


def stop_server(process: subprocess.Popen) -> int:
    """Stop the serving processes; their exit status (the shell's convention for a signal)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    code = process.returncode
    return 0 if code in (0, -15) else (128 - code if code < 0 else code)
