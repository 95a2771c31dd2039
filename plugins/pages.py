"""The site's own pages: the ranked search page (/search)."""

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from caselib import pages, search


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["highlight"] = lambda text, query: Markup(search.highlight(text, query))


async def search_page(datasette, request):
    context = await pages.search_context(datasette, request.args.get("q", ""), request.args.get("violation", ""))
    return Response.html(await datasette.render_template("search.html", context, request=request))


@hookimpl
def register_routes():
    return [(r"^/search$", search_page)]
