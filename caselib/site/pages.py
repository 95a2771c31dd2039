"""What the site's own pages show, computed from the database."""

from __future__ import annotations

import json
import traceback
from urllib.parse import urlencode

from markupsafe import Markup

from .. import schema
from ..render import SECTION_TITLES, sanitise
from ..vocab import vocabulary
from . import DATABASE_NAME, charts
from .booklet import MAX_CASES, stored_questions
from .understood import understood

SEARCH_QUERY = "search"
EXAMPLE_QUERIES = ("受贿", "违规吃喝", "干预司法", "购物卡", "酒驾", "公车私用", "律师 宴请")
MAX_QUERY = 200


def violation_options() -> list[tuple[str, list[str]]]:
    """Violation labels grouped as in the vocabulary, for a filter menu."""
    vocab = vocabulary("violations")
    return [(group, [t.zh for t in vocab.terms if t.group == group]) for group in vocab.groups()]


SEARCH_PAGE = 50
COUNT_SQL = """
select count(*) as n from cases_fts
where cases_fts match cjk_query(:q)
  and (:violation = '' or rowid in (
    select c.rowid from cases c
    join case_violations cv on cv.case_id = c.id
    join violation_types v on v.code = cv.violation_code
    where v.zh = :violation or v.code = lower(:violation)
  ))
"""


async def search_context(datasette, q: str, violation: str, page: str = "1") -> dict:
    """One page of the ranked search, through the canned query ``search``:
    snippets are made only for the cases shown."""
    q = q.strip()[:MAX_QUERY]
    violation = violation.strip()
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    rows: list[dict] = []
    total = 0
    if q:
        db = datasette.get_database(DATABASE_NAME)
        canned = await datasette.get_canned_query(DATABASE_NAME, SEARCH_QUERY, None)
        params = {"q": q, "violation": violation, "limit": str(SEARCH_PAGE), "offset": str((number - 1) * SEARCH_PAGE)}
        result = await db.execute(canned["sql"], params)
        for row in result.rows:
            item = dict(row)
            item["违规类型"] = json.loads(item["违规类型"] or "[]")
            rows.append(item)
        total = (await db.execute(COUNT_SQL, {"q": q, "violation": violation})).first()["n"]
    params = urlencode({"q": q, "violation": violation, "_size": "max"})

    def page_url(n: int) -> str:
        return "/search?" + urlencode({"q": q, "violation": violation, "page": n})

    return {
        "q": q,
        "violation": violation,
        "understood": understood(q),
        "rows": rows,
        "total": total,
        "first": (number - 1) * SEARCH_PAGE + 1,
        "previous_url": page_url(number - 1) if number > 1 else None,
        "next_url": page_url(number + 1) if number * SEARCH_PAGE < total else None,
        "groups": violation_options(),
        "csv_url": f"/{DATABASE_NAME}/{SEARCH_QUERY}.csvx?{params}",
        "examples": EXAMPLE_QUERIES,
        "xlsx_url": f"/{DATABASE_NAME}/{SEARCH_QUERY}.xlsx?{params}",
        "docx_url": f"/{DATABASE_NAME}/{SEARCH_QUERY}.docx?{params}",
        "docx_cap": MAX_CASES,
        "json_url": f"/{DATABASE_NAME}/{SEARCH_QUERY}.json?{params}&_shape=objects",
        "list_url": f"/{DATABASE_NAME}/cases?" + urlencode({"_search": q}),
    }


NEWEST = 10


def list_url(column: str, value: str) -> str:
    return f"/{DATABASE_NAME}/cases?" + urlencode({f"{column}__arraycontains": value})


def filter_url(column: str, value: str) -> str:
    return f"/{DATABASE_NAME}/cases?" + urlencode({column: value})


async def _rows(datasette, sql: str, params: dict | list | None = None) -> list[dict]:
    result = await datasette.get_database(DATABASE_NAME).execute(sql, params or {})
    return [dict(row) for row in result.rows]


def _summary(row: dict) -> dict:
    return {
        "id": row["id"],
        "title": row["title"],
        "year": row["year"],
        "date": row["date"],
        "violations": json.loads(row["violations"] or "[]"),
        "url": f"/{DATABASE_NAME}/cases/{row['id']}",
    }


async def related_cases(datasette, case_id: str) -> list[dict]:
    """The author's related cases first, then those computed at build time."""
    rows = await _rows(
        datasette,
        """
        select c.id, c.title, c.year, c.date, c.violations, 'explicit' as kind, r.position as position
        from related r join cases c on c.id = r.related_id where r.case_id = :id
        union all
        select c.id, c.title, c.year, c.date, c.violations, 'computed' as kind, 100 + s.position as position
        from similar s join cases c on c.id = s.similar_id where s.case_id = :id
        order by position
        """,
        {"id": case_id},
    )
    return [{**_summary(row), "kind": row["kind"]} for row in rows]


def case_facts(row: dict) -> list[dict]:
    """The facts panel: the schema's facts that the case has, faceted ones linking to the list."""
    facts = []
    for field in schema.FACTS:
        value = row[field.name]
        if value not in (None, ""):
            link = field.link or (field.name if field.facet else "")
            url = filter_url(link, row[link]) if link and row[link] else None
            facts.append({"label": field.label, "value": field.display(value), "url": url})
    return facts


def case_lists(row: dict) -> list[dict]:
    """The case's multi-valued fields (violation types, sanctions …) as chips,
    faceted ones linking to the list filtered by that value."""
    lists = []
    for field in schema.COLUMNS:
        if field.array and field.export:
            values = field.display(row[field.name])
            if values:
                items = [{"label": v, "url": list_url(field.name, v) if field.facet else None} for v in values]
                lists.append({"name": field.name, "label": field.label, "chips": items})
    return lists


async def case_context(datasette, case_id: str) -> dict | None:
    found = await _rows(
        datasette, "select t.*, c.* from cases c join case_texts t on t.id = c.id where c.id = :id", {"id": case_id}
    )
    if not found:
        return None
    row = found[0]
    return {
        "row": row,
        "internal": schema.is_internal(row),
        "facts": case_facts(row),
        "lists": case_lists(row),
        "body_html": Markup(sanitise(row["body_html"] or "")),
        "sections": [SECTION_TITLES[c] for c in SECTION_TITLES if row.get(c)],
        "related": await related_cases(datasette, case_id),
        "source": row["source"],
        "source_is_url": bool(row["source"]) and str(row["source"]).startswith(("http://", "https://")),
    }


async def home_context(datasette) -> dict:
    counts = {
        r["code"]: r["count"]
        for r in await _rows(datasette, "select violation_code as code, count(*) as count from case_violations group by violation_code")
    }
    vocab = vocabulary("violations")
    groups = []
    for group in vocab.groups():
        terms = [
            {"label": t.zh, "en": t.en, "count": counts.get(t.code, 0), "url": list_url("violations", t.zh)}
            for t in vocab.terms
            if t.group == group
        ]
        groups.append({"name": group, "terms": terms})
    newest = await _rows(datasette, f"select id, title, year, date, violations from cases order by sort_key desc, id limit {NEWEST}")
    total = (await _rows(datasette, "select count(*) as n from cases"))[0]["n"]
    return {"groups": groups, "newest": [_summary(r) for r in newest], "total": total}


async def statistics_context(datasette) -> dict:
    violations = vocabulary("violations")
    # Each case counts once, under the group of the violation type its author
    # listed first, so that a year's segments add up to the year's cases.
    by_year_group = await _rows(
        datasette,
        """
        select c.year as year, v."group" as grp, count(*) as count
        from cases c
        join case_violations cv on cv.case_id = c.id and cv.position = 0
        join violation_types v on v.code = cv.violation_code
        group by c.year, v."group"
        """,
    )
    year_totals = {r["year"]: r["count"] for r in await _rows(datasette, "select year, count(*) as count from cases group by year")}
    years = sorted(year_totals)
    table: dict[int, dict[str, int]] = {year: {} for year in years}
    for row in by_year_group:
        table[row["year"]][row["grp"]] = row["count"]
    group_names = violations.groups()
    year_rows = [(str(year), table[year]) for year in years]
    return {
        "total": sum(year_totals.values()),
        "group_names": group_names,
        "years": [{"year": y, "total": year_totals[y], "groups": table[y]} for y in years],
        "year_chart": charts.stacked_chart(year_rows, group_names, "各年度案例数（按主要违规类别）"),
        "charts": [await _field_chart(datasette, field, n) for n, field in enumerate(schema.CHARTS)],
    }


async def _value_counts(datasette, field: schema.Field) -> list[tuple[str, int, str | None]]:
    """(label, cases, link) for one field: by vocabulary group for a linked
    vocabulary, by value otherwise (cases without one as 未标注)."""
    vocab = field.vocabulary
    if vocab is not None and vocab.link_table:
        rows = await _rows(
            datasette,
            f"""
            select v."group" as value, count(distinct l.case_id) as count
            from [{vocab.link_table}] l join [{vocab.table}] v on v.code = l.[{vocab.link_column}]
            group by v."group"
            """,
        )
        counts = {r["value"]: r["count"] for r in rows}
        return [(group, counts.get(group, 0), None) for group in vocab.groups()]
    rows = await _rows(datasette, f"select [{field.name}] as value, count(*) as count from cases group by [{field.name}]")
    counts = {r["value"]: r["count"] for r in rows}
    labels = vocab.labels() if vocab is not None else sorted(v for v in counts if v is not None)
    result = [(label, counts.get(label, 0), filter_url(field.name, label) if field.facet else None) for label in labels]
    if counts.get(None):
        result.append(("未标注", counts[None], None))
    return result


async def _field_chart(datasette, field: schema.Field, n: int) -> dict:
    rows = await _value_counts(datasette, field)
    grouped = field.vocabulary is not None and field.vocabulary.link_table
    heading = f"按{field.label}{'类别' if grouped else ''}"
    color = charts.PALETTE[(3 + n) % len(charts.PALETTE)]
    return {
        "heading": heading,
        "column": "类别" if grouped else field.label,
        "rows": rows,
        "chart": charts.bar_chart([(label, count) for label, count, _ in rows], f"{heading}的案例数", color),
    }


async def packs_context(datasette) -> dict:
    rows = await _rows(datasette, "select id, title, audience, date, case_count from packs order by date desc, id")
    return {"packs": rows}


PACK_CASES_SQL = """
select t.*, c.*, pc.position as pack_position, pc.note as note, pc.questions as questions
from pack_cases pc join cases c on c.id = pc.case_id join case_texts t on t.id = c.id
where pc.pack_id = :id order by pc.position
"""


async def pack_rows(datasette, pack_id: str) -> tuple[dict, list[dict]] | None:
    """A pack's row and its cases' rows (with their texts, notes and questions) in teaching order."""
    found = await _rows(datasette, "select * from packs where id = :id", {"id": pack_id})
    if not found:
        return None
    return found[0], await _rows(datasette, PACK_CASES_SQL, {"id": pack_id})


def pack_address(pack_id: str, *, participants: bool = False, full: bool = False, docx: bool = False) -> str:
    """A pack's page, handout or Word booklet, in the trainer's or the participants' version."""
    args = {**({"participants": "1"} if participants else {}), **({"full": "1"} if full and not docx else {})}
    return f"/packs/{pack_id}{'.docx' if docx else ''}" + (f"?{urlencode(args)}" if args else "")


def pack_versions(pack_id: str) -> list[dict]:
    """The two versions a pack page offers: the trainer's and the participants'."""
    return [
        {
            "participants": participants,
            "label": label,
            "page": pack_address(pack_id, participants=participants),
            "handout": pack_address(pack_id, participants=participants, full=True),
            "docx": pack_address(pack_id, participants=participants, docx=True),
            "handout_label": handout,
            "docx_label": docx,
        }
        for participants, label, handout, docx in (
            (False, "培训用（含教学提示）", "讲义视图", "下载 Word（培训用，含教学提示）"),
            (True, "学员版（不含教学提示）", "学员版讲义", "下载 Word（学员版，不含教学提示）"),
        )
    ]


async def pack_context(datasette, pack_id: str, full: bool, participants: bool = False) -> dict | None:
    """A pack's page or handout: the trainer's version with the teaching notes,
    the participants' without; the discussion questions in both."""
    found = await pack_rows(datasette, pack_id)
    if found is None:
        return None
    pack, rows = found
    items = []
    for row in rows:
        item = {
            **_summary(row),
            "number": row["pack_position"] + 1,
            "note": None if participants else row["note"],
            "questions": stored_questions(row["questions"]),
            "sanctions": json.loads(row["sanctions"] or "[]"),
            "facts": row["facts"],
            "lessons": row["lessons"],
        }
        if full:
            item["body_html"] = Markup(sanitise(row["body_html"] or ""))
        items.append(item)
    params = urlencode({"pack": pack_id, "_size": "max"})
    versions = pack_versions(pack_id)
    return {
        "pack": pack,
        "cases": items,
        "full": full,
        "participants": participants,
        "versions": versions,
        "current": versions[1 if participants else 0],
        "csv_url": f"/{DATABASE_NAME}/pack_cases_export.csvx?{params}",
        "xlsx_url": f"/{DATABASE_NAME}/pack_cases_export.xlsx?{params}",
        "json_url": f"/{DATABASE_NAME}/pack_cases_export.json?{params}&_shape=objects",
    }


def error_status(exception: BaseException) -> tuple[int, str, str | None]:
    """(status, message, title) of an exception, as Datasette's own handler reads them."""
    from datasette.utils.asgi import Base400
    from datasette.views.base import DatasetteError

    if isinstance(exception, Base400):
        return exception.status, str(exception.args[0] if exception.args else ""), None
    if isinstance(exception, DatasetteError):
        return exception.status, exception.message, exception.title
    return 500, str(exception), None


async def error_page(datasette, request, exception: BaseException):
    """The Chinese error page, rendered like every other page (styles, navigation)."""
    from datasette.utils.asgi import Response

    status, message, title = error_status(exception)
    if status >= 500:
        traceback.print_exception(exception)
    context = {"ok": False, "error": message, "status": status, "title": title}
    return Response.html(await datasette.render_template("error.html", context, request=request), status=status)
