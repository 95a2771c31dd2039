"""The site's own pages (home, case pages, ranked search, statistics, packs
and their Word booklets),
the reading list of cases and the Chinese words for Datasette's own pages."""

from datasette import hookimpl
from datasette.utils import urlsafe_components
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from caselib import search
from caselib.site import accounts, booklets, listing, pages, words

NO_PACK = "没有这个培训专题。"


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["highlight"] = lambda text, query: Markup(search.highlight(text, query))
    env.filters["zh_error"] = words.error_message
    env.filters["zh_error_title"] = words.error_title
    env.filters["zh_lookup"] = words.lookup_name
    env.filters["zh_parameter"] = words.parameter_name
    env.filters["zh_renderer"] = words.renderer_name
    env.filters["zh_column"] = words.column_label
    env.globals["crumb_trail"] = words.crumb_trail
    env.globals["table_title"] = words.table_title
    env.globals["column_label"] = words.column_label
    env.globals["case_list"] = listing.case_list


@hookimpl
def handle_exception(datasette, request, exception):
    """Errors as Chinese pages with the site's styles; JSON errors stay Datasette's."""
    if request.path.endswith(".json"):
        return None
    return pages.error_page(datasette, request, exception)


@hookimpl
def extra_css_urls():
    return ["/static/site.css"]


@hookimpl
def extra_js_urls():
    return ["/static/site.js"]


@hookimpl
def extra_template_vars(view_name, table, database, request, datasette):
    shared = {"login_enabled": accounts.login_enabled(datasette)}

    async def home():
        return {**shared, "home": await pages.home_context(datasette)}

    async def case():
        pks = request.url_vars.get("pks") if request else None
        case_id = urlsafe_components(pks)[0] if pks else None
        return {**shared, "case": await pages.case_context(datasette, case_id) if case_id else None}

    if view_name == "index":
        return home
    if view_name == "row" and database == "cases" and table == "cases":
        return case
    return shared


async def search_page(datasette, request):
    args = request.args
    context = await pages.search_context(datasette, args.get("q", ""), args.get("violation", ""), args.get("page", "1"))
    return Response.html(await datasette.render_template("search.html", context, request=request))


async def statistics_page(datasette, request):
    context = await pages.statistics_context(datasette)
    return Response.html(await datasette.render_template("statistics.html", context, request=request))


async def packs_page(datasette, request):
    context = await pages.packs_context(datasette)
    return Response.html(await datasette.render_template("packs.html", context, request=request))


def participants(request) -> bool:
    """The participants' version (no teaching notes): ?participants=1."""
    return request.args.get("participants") == "1"


async def pack_page(datasette, request):
    full = request.args.get("full") == "1"
    context = await pages.pack_context(datasette, request.url_vars["pack_id"], full, participants(request))
    if context is None:
        raise NotFound(NO_PACK)
    return Response.html(await datasette.render_template("pack.html", context, request=request))


async def pack_docx(datasette, request):
    response = await booklets.pack_document(datasette, request.url_vars["pack_id"], participants(request))
    if response is None:
        raise NotFound(NO_PACK)
    return response


@hookimpl
def register_routes():
    return [
        (r"^/search$", search_page),
        (r"^/statistics$", statistics_page),
        (r"^/packs$", packs_page),
        (r"^/packs/(?P<pack_id>[a-z0-9][a-z0-9-]*)$", pack_page),
        (r"^/packs/(?P<pack_id>[a-z0-9][a-z0-9-]*)\.docx$", pack_docx),
    ]
