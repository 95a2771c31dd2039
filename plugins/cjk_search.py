"""Chinese search for the site: replaces Datasette's escape_fts.

Datasette runs ``escape_fts(:search)`` on what is typed in a table's search
box. Registered ``trylast``, this hook runs after Datasette's own and swaps
in the CJK bigram rewrite (caselib.search), so ``/cases/cases?_search=受贿``
finds every case containing 受贿 and still combines with facets and exports.
"""

from datasette import hookimpl

from caselib import search


@hookimpl(trylast=True)
def prepare_connection(conn):
    search.register_functions(conn)
