"""Facets: a fast one for the vocabulary columns, and whole-result counts on every page.

1. A fast facet for the multi-valued vocabulary columns (violations, sanctions).

Datasette's array facet unpacks the JSON column of every matching row with
json_each and de-duplicates whole rows (``select distinct *``); at 100,000
cases that takes seconds and times out. On the unfiltered list the counts
come from the link table the build writes (case_violations, case_sanctions)
in milliseconds; on a filtered or searched list, from json_each over the
selected rows alone, without the de-duplication (each case is one row). The
facet keeps the array facet's interface: its values toggle
``violations__arraycontains=…``, so filters, CSV and JSON links stay exactly
as Datasette makes them.

Configure it in metadata.yml as ``- linked: violations``.

2. Facet counts over the whole result on every page. Datasette 0.65 hands
each facet the page's SQL without its ORDER BY and LIMIT, but from page 2 on
that SQL still holds the ``_next`` keyset condition, so the sidebar counted
only the rows after the cursor (and at 100,000 cases took seconds, where page
1 takes milliseconds). The facet classes here drop that last condition; the
site registers them in place of Datasette's own (plugins/facets.py).
"""

from __future__ import annotations

import asyncio
import copy
import re

from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.database import QueryInterrupted
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args, urlsafe_components

from ..schema import LINKED


def linked_vocabularies() -> dict[str, tuple[str, str, str]]:
    """column -> (link table, link column, lookup table)."""
    return {vocab.name: (str(vocab.link_table), vocab.link_column, vocab.table) for vocab in LINKED}


UNFILTERED = re.compile(r"^\s*select .* from \[?cases\]?\s*$", re.IGNORECASE | re.DOTALL)


def facet_sql(column: str, sql: str, limit: int) -> str:
    """Counts per vocabulary value over the cases ``sql`` selects.

    On the unfiltered list the counts come from the link table alone;
    otherwise from the JSON array of each selected case, which reads only the
    selected rows (twice as fast as probing the link table per case id).
    """
    link_table, code_column, lookup = linked_vocabularies()[column]
    if UNFILTERED.match(sql) and " where " not in sql.lower():
        return f"""
            select v.zh as value, count(*) as count
            from {escape_sqlite(link_table)} l
            join {escape_sqlite(lookup)} v on v.code = l.{escape_sqlite(code_column)}
            group by v.code
            order by count(*) desc, v.sort
            limit {int(limit)}
        """
    return f"""
        select v.zh as value, t.count as count
        from (
            select j.value as value, count(*) as count
            from ({sql}) c, json_each(c.{escape_sqlite(column)}) j
            group by j.value
        ) t
        join {escape_sqlite(lookup)} v on v.zh = t.value
        order by t.count desc, v.sort
        limit {int(limit)}
    """


def _last_group_start(sql: str) -> int | None:
    """Where the parenthesised group that ends ``sql`` opens (quotes respected)."""
    depth, quote = 0, None
    for index in range(len(sql) - 1, -1, -1):
        char = sql[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"[]":
            quote = "[" if char == "]" else char
        elif char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return index
    return None


ROWID_KEYSET = re.compile(r"rowid > :p\d+$")
PARAM = re.compile(r":(p\d+)\b")


def without_keyset(sql: str, params: dict, cursor: list[str]) -> tuple[str, dict]:
    """``sql`` without the ``_next`` condition Datasette appended last, and the
    parameters it still uses.

    The condition is the last term of the WHERE: a parenthesised group, or
    ``rowid > :pN`` for rowid tables. It is removed only when it is certainly
    the cursor: its parameters are the highest-numbered ``pN``, hold the
    values of the ``_next`` token (``cursor``) and are used nowhere else.
    Anything else (a view paged by offset, a malformed token) is left as is.
    """
    body = sql.rstrip()
    found = ROWID_KEYSET.search(body)
    start = found.start() if found else (_last_group_start(body) if body.endswith(")") else None)
    if start is None:
        return sql, params
    before, clause = body[:start], body[start:]
    if before.endswith(" and "):
        rest = before[: -len(" and ")]
    elif before.endswith("where "):
        rest = before[: -len("where ")].rstrip()
    else:
        return sql, params
    used = set(PARAM.findall(clause))
    numbered = sorted((int(name[1:]) for name in params if re.fullmatch(r"p\d+", name)), reverse=True)
    highest = {f"p{n}" for n in numbered[: len(used)]}
    if (
        not used
        or used != highest
        or used & set(PARAM.findall(rest))
        or any(str(params[name]) not in cursor for name in used)
    ):
        return sql, params
    return rest + " ", {name: value for name, value in params.items() if name not in used}


class WholeResult:
    """Mixin: count over every matching row, whichever page is shown, and run
    a class's facets side by side (Datasette runs them one after another;
    its SQL threads can run them at once, one per core)."""

    async def _whole_result(self) -> None:
        token = self.request.args.get("_next") if self.request is not None else None
        if not token or not self.sql or not self.table:
            return
        if self.table in await self.ds.get_database(self.database).view_names():
            return  # views are paged by offset: no condition to drop
        self.sql, self.params = without_keyset(self.sql, dict(self.params or {}), urlsafe_components(token))

    def _only(self, config: dict) -> "WholeResult":
        clone = copy.copy(self)
        clone.get_configs = lambda: [config]
        return clone

    async def facet_results(self):
        await self._whole_result()
        configs = self.get_configs()
        if len(configs) < 2:
            return await super().facet_results()
        runs = await asyncio.gather(*(super(WholeResult, self._only(c)).facet_results() for c in configs))
        return [r for results, _ in runs for r in results], [t for _, timed_out in runs for t in timed_out]


class WholeResultColumnFacet(WholeResult, ColumnFacet):
    pass


class WholeResultArrayFacet(WholeResult, ArrayFacet):
    pass


class WholeResultDateFacet(WholeResult, DateFacet):
    pass


class LinkedCounts(ArrayFacet):
    """Counts per vocabulary value (see facet_sql), shaped like the array facet's."""

    type = "linked"

    async def suggest(self):
        return []

    async def facet_results(self):
        results, timed_out = [], []
        facet_size = self.get_facet_size()
        pairs = self.get_querystring_pairs()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            if column not in linked_vocabularies():
                continue
            try:
                rows = await self.ds.execute(
                    self.database,
                    facet_sql(column, self.sql, facet_size + 1),
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(column)
                continue
            values = []
            for row in rows.rows[:facet_size]:
                value = str(row["value"])
                key = (f"{column}__arraycontains", value)
                selected = key in pairs
                change = path_with_removed_args if selected else path_with_added_args
                values.append(
                    {
                        "value": value,
                        "label": value,
                        "count": row["count"],
                        "toggle_url": self.ds.absolute_url(self.request, change(self.request, {key[0]: value})),
                        "selected": selected,
                    }
                )
            results.append(
                {
                    "name": column,
                    "type": self.type,
                    "results": values,
                    "hideable": source_and_config["source"] != "metadata",
                    "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_linked": column})),
                    "truncated": len(rows.rows) > facet_size,
                }
            )
        return results, timed_out


class LinkedFacet(WholeResult, LinkedCounts):
    pass
