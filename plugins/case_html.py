"""Show a case's rendered body as HTML, not as escaped text.

``body_html`` was rendered with raw HTML off and cleaned with nh3 when it was
built; it is cleaned once more here, so even a database edited by hand cannot
put live markup or script in a page.
"""

from datasette import hookimpl
from markupsafe import Markup

from caselib.render import sanitise

HTML_COLUMNS = {("cases", "body_html")}


@hookimpl
def render_cell(value, column, table, database):
    if database == "cases" and (table, column) in HTML_COLUMNS and isinstance(value, str):
        return Markup('<div class="case-body">') + Markup(sanitise(value)) + Markup("</div>")
    return None
