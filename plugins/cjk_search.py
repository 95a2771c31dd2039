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
    conn.create_function("escape_fts", 1, search.fts_query, deterministic=True)
    conn.create_function("cjk_query", 1, search.fts_query, deterministic=True)
    conn.create_function("cjk_title_query", 1, search.fts_title_query, deterministic=True)
    conn.create_function("cjk_terms_query", 1, search.fts_terms_query, deterministic=True)
    conn.create_function("case_snippet", 2, search.snippet, deterministic=True)
