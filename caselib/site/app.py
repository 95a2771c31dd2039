"""The site as an ASGI application, for uvicorn's serving processes::

    CASELIB_DB=cases.db CASELIB_PUBLIC_DB=cases-public.db \
        uvicorn --factory caselib.site.app:create_app --workers 2

With a public edition named, signed-in staff are served the full database
and everyone else the public edition (see audiences.py); without one, the
database named is served to everyone (a public website's). Each process
follows its files through every build (see live.py), so several processes
(and several machines) serve the same files side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import DB_VARIABLE, PUBLIC_DB_VARIABLE, datasette
from .audiences import Audiences


def create_app():
    path = os.environ.get(DB_VARIABLE)
    if not path:
        raise RuntimeError(f"set {DB_VARIABLE} to the database file to serve")
    public = os.environ.get(PUBLIC_DB_VARIABLE)
    if not public:
        return datasette(Path(path)).app()
    staff = datasette(Path(path))
    return Audiences(datasette(Path(public)).app(), staff.app(), staff)
