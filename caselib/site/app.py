"""The site as an ASGI application, for uvicorn's serving processes::

    CASELIB_DB=cases.db uvicorn --factory caselib.site.app:create_app --workers 2

Each process opens the database named by CASELIB_DB and follows it through
every build (see live.py), so several processes (and several machines) serve
the same file side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import DB_VARIABLE, datasette


def create_app():
    path = os.environ.get(DB_VARIABLE)
    if not path:
        raise RuntimeError(f"set {DB_VARIABLE} to the database file to serve")
    return datasette(Path(path)).app()
