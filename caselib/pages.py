"""What the site's own pages show, computed from the database."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from .site import DATABASE_NAME
from .vocab import vocabulary

SEARCH_QUERY = "search"
MAX_QUERY = 200


def violation_options() -> list[tuple[str, list[str]]]:
    """Violation labels grouped as in the vocabulary, for a filter menu."""
    vocab = vocabulary("violations")
    return [(group, [t.zh for t in vocab.terms if t.group == group]) for group in vocab.groups()]


async def search_context(datasette, q: str, violation: str) -> dict:
    """Results of the ranked search, through the canned query ``search``."""
    q = q.strip()[:MAX_QUERY]
    violation = violation.strip()
    rows: list[dict] = []
    if q:
        canned = await datasette.get_canned_query(DATABASE_NAME, SEARCH_QUERY, None)
        result = await datasette.get_database(DATABASE_NAME).execute(canned["sql"], {"q": q, "violation": violation})
        for row in result.rows:
            item = dict(row)
            item["违规类型"] = json.loads(item["违规类型"] or "[]")
            rows.append(item)
    params = urlencode({"q": q, "violation": violation, "_size": "max"})
    return {
        "q": q,
        "violation": violation,
        "rows": rows,
        "groups": violation_options(),
        "csv_url": f"/{DATABASE_NAME}/{SEARCH_QUERY}.csv?{params}",
        "json_url": f"/{DATABASE_NAME}/{SEARCH_QUERY}.json?{params}&_shape=objects",
        "list_url": f"/{DATABASE_NAME}/cases?" + urlencode({"_search": q}),
    }
