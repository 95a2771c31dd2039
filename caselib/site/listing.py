"""The case list as staff read it: /cases/cases as a reading list.

Datasette computes the page (its filters, search, facets, sort and paging,
so every saved URL keeps working); this module turns what it computed into
what the template shows: each case as a title linking to its page with its
date, province, unit, violation and sanction chips and a one-line summary;
the facets under Chinese headings; the filters in force, each removable; the
sorts, the year range, the count, paging and the exports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from datasette.utils import path_with_removed_args, path_with_replaced_args

from .. import schema
from . import DATABASE_NAME, load_metadata
from .booklet import MAX_CASES
from .understood import Understood, understood
from .words import column_label

LIST_PATH = f"/{DATABASE_NAME}/cases"
CHIP_FIELDS = ("violations", "sanctions")
# What each of Datasette's lookups reads as, after the column's label.
LOOKUPS = {
    "exact": "：",
    "arraycontains": "：",
    "arraynotcontains": "不含：",
    "not": "不是：",
    "contains": "包含：",
    "startswith": "开头是：",
    "endswith": "结尾是：",
    "gt": " > ",
    "gte": " ≥ ",
    "lt": " < ",
    "lte": " ≤ ",
    "isnull": "为空",
    "notnull": "不为空",
    "isblank": "为空白",
    "notblank": "不为空白",
    "in": "属于：",
    "notin": "不属于：",
    "like": "匹配：",
    "glob": "匹配：",
}
SORTS = (
    ("最新在前", {}),
    ("最早在前", {"_sort": "sort_key"}),
    ("涉案金额从高到低", {"_sort_desc": "amount"}),
)


@dataclass
class Chip:
    label: str
    url: str | None = None


@dataclass
class Item:
    """One case in the list."""

    id: str
    url: str
    title: str
    date: str
    place: str
    chips: dict[str, list[Chip]]
    summary: str | None
    internal: bool = False


@dataclass
class Facet:
    name: str
    heading: str
    values: list[dict]
    truncated: bool


@dataclass
class CaseList:
    items: list[Item]
    count: int | None
    facets: list[Facet]
    active: list[Chip]
    sorts: list[tuple[str, str, bool]]
    next_url: str | None
    first_url: str | None
    search: str
    hidden: list[tuple[str, str]]  # arguments the search and year forms carry along
    year_from: str
    year_to: str
    exports: list[Chip] = field(default_factory=list)
    raw_url: str = ""
    understood: list[Understood] = field(default_factory=list)


def case_url(case_id: str) -> str:
    return f"{LIST_PATH}/{case_id}"


def filter_list_url(column: str, value: str) -> str:
    """The list filtered by one value of a multi-valued column."""
    return f"{LIST_PATH}?" + urlencode({f"{column}__arraycontains": value})


def item(row) -> Item:
    chips = {
        name: [Chip(label, filter_list_url(name, label)) for label in json.loads(row[name] or "[]")] for name in CHIP_FIELDS
    }
    place = " · ".join(str(v) for v in (row["province"], row["unit"]) if v)
    return Item(row["id"], case_url(row["id"]), row["title"], row["date"], place, chips, row["summary"], schema.is_internal(dict(row)))


def _first_page(url: str) -> str:
    """A facet's toggle address on this site (path and query, whatever host
    the request named) without the page cursor: a new filter starts at page one."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "_next"]
    return parts.path + ("?" + urlencode(kept) if kept else "")


@lru_cache(maxsize=1)
def facet_order() -> dict[str, int]:
    """The facets in the order metadata.yml lists them."""
    configured = load_metadata()["databases"][DATABASE_NAME]["tables"]["cases"].get("facets", [])
    names = [f if isinstance(f, str) else next(iter(f.values())) for f in configured]
    return {name: n for n, name in enumerate(names)}


def _values(result: dict) -> list[dict]:
    values = [{**value, "toggle_url": _first_page(value["toggle_url"])} for value in result["results"]]
    if schema.BY_NAME.get(result["name"]) is schema.BY_NAME["year"]:
        values.sort(key=lambda v: str(v["value"]), reverse=True)  # years newest first, not by count
    return values


def facets(results: list[dict]) -> list[Facet]:
    """Datasette's facet results in the configured order, under Chinese headings."""
    order = facet_order()
    shown = sorted((r for r in results if r["results"]), key=lambda r: order.get(r["name"], len(order)))
    return [Facet(r["name"], column_label(r["name"]), _values(r), bool(r.get("truncated"))) for r in shown]


def pairs(request) -> list[tuple[str, str]]:
    """The query string's arguments, in order, repeated ones included."""
    return parse_qsl(request.query_string, keep_blank_values=True)


def address(request, kept: list[tuple[str, str]], path: str | None = None) -> str:
    path = path or request.path
    return path + ("?" + urlencode(kept) if kept else "")


def active_filters(request) -> list[Chip]:
    """The search and each filter in force, with the address without it."""
    chips: list[Chip] = []
    for key, value in pairs(request):
        if key == "_search" and value:
            chips.append(Chip(f"检索：{value}", _without(request, key, value)))
        elif not key.startswith("_"):
            column, _, lookup = key.partition("__")
            words = LOOKUPS.get(lookup or "exact", f" {lookup} ")
            shown = "" if lookup in ("isnull", "notnull", "isblank", "notblank") else value
            chips.append(Chip(f"{column_label(column)}{words}{shown}", _without(request, key, value)))
    return chips


def _without(request, key: str, value: str) -> str:
    """The current address without one argument (and without the page cursor)."""
    return address(request, [(k, v) for k, v in pairs(request) if (k, v) != (key, value) and k != "_next"])


def sorts(request) -> list[tuple[str, str, bool]]:
    current = {k: request.args.get(k) for k in ("_sort", "_sort_desc") if request.args.get(k)}
    options = []
    for label, args in SORTS:
        url = path_with_replaced_args(request, {"_sort": None, "_sort_desc": None, "_next": None, **args})
        options.append((label, url, current == args))
    return options


def exports(request, count: int | None, renderers: dict) -> list[Chip]:
    """The downloads of the whole list as it is filtered (none for an empty list)."""
    if not count:
        return []
    kept = [(k, v) for k, v in pairs(request) if k != "_next"]
    chips = [
        Chip("Excel 表格", address(request, kept, f"{LIST_PATH}.xlsx")),
        Chip("CSV（Excel 可直接打开）", address(request, kept, f"{LIST_PATH}.csvx")),
        Chip(booklet_label(count), address(request, kept, f"{LIST_PATH}.docx")),
    ]
    if "json" in renderers:
        chips.append(Chip("JSON", renderers["json"]))
    return chips


def booklet_label(count: int) -> str:
    """The Word booklet's link, with the most cases it holds when the list has more."""
    return f"Word 案例汇编（收录前 {MAX_CASES} 个）" if count > MAX_CASES else "Word 案例汇编"


def case_list(request, rows, facet_results: list[dict], count: int | None, next_url: str | None, renderers: dict) -> CaseList:
    """Everything the reading list shows, from what Datasette computed."""
    hidden = [(k, v) for k, v in pairs(request) if k not in ("_search", "_next", "year__gte", "year__lte")]
    first = path_with_removed_args(request, {"_next"}) if request.args.get("_next") else None
    return CaseList(
        items=[item(row) for row in rows],
        count=count,
        facets=facets(facet_results),
        active=active_filters(request),
        sorts=sorts(request),
        next_url=next_url,
        first_url=first,
        search=request.args.get("_search", ""),
        hidden=hidden,
        year_from=request.args.get("year__gte", ""),
        year_to=request.args.get("year__lte", ""),
        exports=exports(request, count, renderers),
        raw_url=path_with_replaced_args(request, {"_view": "grid"}),
        understood=understood(request.args.get("_search", "")),
    )
