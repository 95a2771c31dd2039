"""Two audiences, two databases: anonymous visitors never reach the full one.

Row-level visibility is not a Datasette feature, and its table, row, query,
facet and export views would each have to be taught to hide internal rows.
Instead each serving process runs two Datasettes over the two databases a
build writes: the public edition (no internal case in it at all) for
everyone, the full database for signed-in staff. :class:`Audiences` sends a
request to the staff site only when it carries a valid signed ``ds_actor``
cookie (checked by Datasette's own cookie code, with the secret both sites
share); every other request, a forged or expired cookie included, goes to
the public site.
Signing in happens on the public site (``/-/login`` sets the cookie), so
the next request goes to the staff site.
"""

from __future__ import annotations

from datasette.actor_auth_cookie import actor_from_request
from datasette.utils.asgi import Request

from .live import ASGIApp, Receive, Scope, Send


class Audiences:
    """ASGI: the staff site for signed-in staff, the public site for everyone else."""

    def __init__(self, public: ASGIApp, staff: ASGIApp, staff_datasette):
        self.public = public
        self.staff = staff
        self.datasette = staff_datasette

    def is_staff(self, scope: Scope) -> bool:
        if scope["type"] not in ("http", "websocket"):
            return False
        return actor_from_request(self.datasette, Request(scope, None)) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # both sites start and stop together
            await self.public(scope, receive, send)
            return
        app = self.staff if self.is_staff(scope) else self.public
        await app(scope, receive, send)
