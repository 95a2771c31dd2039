"""The case list shows a short excerpt of each rendered body, not its HTML.

The case page (templates/row-cases-cases.html) shows the whole body, cleaned
again with nh3 there; in the list a few lines of plain text keep the table
readable and light. Either way nothing from case text becomes live markup.
"""

from datasette import hookimpl

from caselib.render import excerpt

HTML_COLUMNS = {("case_texts", "body_html")}


@hookimpl
def render_cell(value, column, table, database):
    if database == "cases" and (table, column) in HTML_COLUMNS and isinstance(value, str):
        return excerpt(value)
    return None
