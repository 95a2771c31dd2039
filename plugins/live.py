"""The site follows every build, keeps responses until the next one, answers
revalidations with 304, sends security headers and keeps /-/ pages private
(caselib/site/live.py); each connection has limits on what one query may
take (caselib/site/limits.py)."""

from datasette import hookimpl

from caselib.site import limits, live


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        return live.LiveSite(app, datasette)

    return wrap


@hookimpl
def prepare_connection(conn):
    limits.apply(conn)
