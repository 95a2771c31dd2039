"""The site: how Datasette is configured to publish a built database.

The same files (metadata.yml, settings.json, plugins/, templates/, static/)
serve ``build.py --serve``, a ``datasette`` run by hand and the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


@contextmanager
def served_as_cases(db_path: Path) -> Iterator[Path]:
    """A path to ``db_path`` whose name makes Datasette call it ``cases``."""
    db_path = db_path.resolve()
    if db_path.stem == DATABASE_NAME:
        yield db_path
        return
    with tempfile.TemporaryDirectory(prefix="caselib-") as folder:
        link = Path(folder) / f"{DATABASE_NAME}.db"
        link.symlink_to(db_path)
        yield link


def datasette(db_path: Path, **extra):
    """A Datasette instance for a database named ``cases`` (for tests and tools)."""
    from datasette.app import Datasette

    if db_path.stem != DATABASE_NAME:
        raise ValueError(f"name the database file {DATABASE_NAME}.db (got {db_path.name})")
    return Datasette(
        [str(db_path)],
        metadata=load_metadata(),
        settings=load_settings(),
        plugins_dir=str(PLUGINS),
        template_dir=str(TEMPLATES) if TEMPLATES.is_dir() else None,
        static_mounts=[("static", str(STATIC))] if STATIC.is_dir() else [],
        **extra,
    )


def serve_arguments(db_path: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> list[str]:
    """The ``datasette serve`` command line for a database."""
    args = [sys.executable, "-m", "datasette", "serve", str(db_path), "--host", host, "--port", str(port)]
    args += ["--metadata", str(METADATA), "--plugins-dir", str(PLUGINS)]
    if TEMPLATES.is_dir():
        args += ["--template-dir", str(TEMPLATES)]
    if STATIC.is_dir():
        args += ["--static", f"static:{STATIC}"]
    for name, value in load_settings().items():
        args += ["--setting", name, json.dumps(value) if isinstance(value, bool) else str(value)]
    return args


def serve(db_path: Path, port: int = DEFAULT_PORT) -> int:
    """Serve the database until interrupted; return Datasette's exit code."""
    with served_as_cases(db_path) as path:
        print(f"案例库已发布 / serving: http://127.0.0.1:{port}/  (Ctrl-C 停止)", file=sys.stderr, flush=True)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SITE_ROOT), os.environ.get("PYTHONPATH")])))
        try:
            code = subprocess.call(serve_arguments(path, port=port), env=env)
        except KeyboardInterrupt:
            return 0
        return 128 - code if code < 0 else code  # killed by a signal: the shell's convention
