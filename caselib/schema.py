"""The one declaration of a case's fields.

:data:`FIELDS` lists every field of a case in the order of the ``cases``
table's columns: its name, Chinese and English labels, the column
description, how the front matter's value is validated (its rule, from
``fields``) or how the build derives it, and what each consumer does with it:

- ``fact``: its place in the case page's facts panel,
- ``booklet``: its place in the facts table of each case in a Word booklet,
- ``facet``: faceted on the case list (metadata.yml names the same facets),
- ``indexed``: an index on the column,
- ``export``: a column of the exports (Excel, CSV, Word),
- ``search``: the search index column it feeds (``title``, ``labels`` for text
  facts, ``terms`` for vocabulary values: every name of each value),
- ``chart``: a chart of its own on the statistics page,
- ``find``: where ``build.py import`` looks for it in a case of a notice
  (the finders are in ``caselib/importer/extract.py``).

Validation (the front-matter keys and their rules), the ``cases`` row and its
columns, the search text, the facts panel, the export headers and the column
descriptions in metadata.yml (held against this by a test) all come from
here. A new plain text field is one line here, plus the contract.

:data:`TEXT_FIELDS` declares the ``case_texts`` table the same way: the body's
recognised sections (from ``render.SECTIONS``), the rest of the body and the
rendered HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from .fields import Amount, Choice, Date, Ids, Rule, Terms, Text, TextList
from .render import SECTIONS, clip
from .vocab import Vocabulary, column_descriptions, vocabulary

if TYPE_CHECKING:
    from .model import Case

SUMMARY_LENGTH = 120
LANGUAGES = ("zh", "en")
PUBLIC, INTERNAL = "public", "internal"  # visibility codes


@dataclass(frozen=True)
class Field:
    """One field of a case (see the module's docstring)."""

    name: str
    zh: str = ""  # label: column header, facts panel, facet heading (vocabularies: the vocabulary's label)
    en: str = ""
    description: str = ""  # metadata.yml's column description (vocabularies: derived from the vocabulary)
    rule: Rule | None = None  # how the front matter's value is read; None: derived by the build
    derive: Callable[["Case"], object] | None = None
    sql: type | None = None  # column type, when not the rule's
    column: bool = True  # a column of ``cases``
    not_null: bool = False
    fact: int | None = None
    booklet: int | None = None
    facet: bool = False
    indexed: bool = False
    export: bool = True
    header: str = ""  # export header, when not the label
    search: str | None = None
    chart: bool = False  # a chart of its own on the statistics page
    vocab: str = ""  # for a derived field: the vocabulary its values come from
    link: str = ""  # the faceted column its fact links to, when not its own
    default: str = ""  # the vocabulary code stored when the front matter says nothing
    find: str = ""  # where build.py import finds it: "terms in <part>", "heading <piece>", or a finder's name

    @cached_property
    def vocabulary(self) -> Vocabulary | None:
        if isinstance(self.rule, Terms):
            return self.rule.vocab
        return vocabulary(self.vocab) if self.vocab else None

    @property
    def label(self) -> str:
        return self.zh or (self.vocabulary.label if self.vocabulary else self.name)

    @property
    def heading(self) -> str:
        """The export column's header."""
        return self.header or self.label

    @property
    def column_description(self) -> str:
        return column_descriptions()[self.name] if self.vocabulary else self.description

    @property
    def sql_type(self) -> type:
        return self.sql or (self.rule.sql if self.rule else str)

    @property
    def array(self) -> bool:
        """Stored as a JSON array."""
        return bool(self.rule and self.rule.array)

    @property
    def required(self) -> bool:
        return self.not_null or bool(self.rule and self.rule.required)

    def row_value(self, case: "Case") -> object:
        """The value this field's column holds for a case."""
        if self.derive is not None:
            return self.derive(case)
        value = case.values.get(self.name) or self.default or None
        if value is None and not self.array:
            return None
        return self.rule.stored(value if value is not None else [])  # type: ignore[union-attr]

    def display(self, stored: object) -> str | list[str]:
        """A stored value as a reader sees it: arrays as lists, amounts in 万元 …"""
        if self.array:
            return json.loads(stored or "[]")  # type: ignore[arg-type]
        return self.rule.display(stored) if self.rule else str(stored)


def _summary(case: "Case") -> str | None:
    """The opening of a case's facts (or else of its body) as one line of plain text."""
    text = case.sections.get("facts") or case.other_text or next(iter(case.sections.values()), "")
    return clip(text, SUMMARY_LENGTH) or None


def sort_key(date: str, case_id: str) -> str:
    """A unique key in date order: the site's default sort.

    Datasette pages a sorted table by (sort column, primary key) from page 2
    on but orders page 1 by the sort column alone, so cases sharing a date
    could be skipped or shown twice. A unique sort column avoids that.
    """
    return f"{date} {case_id}"


def _year(case: "Case") -> int:
    return int(str(case.values["date"])[:4])


def _province(case: "Case") -> str | None:
    """The provincial-level division the region starts with, if it names one."""
    region = case.values.get("region")
    term = vocabulary("province").at_start(str(region)) if region else None
    return term.zh if term else None


FIELDS: tuple[Field, ...] = (
    Field("id", "案例编号", "Case id", "案例编号（文件名），案例的永久地址", derive=lambda case: case.id),
    Field("title", "标题", "Title", "标题", Text(required=True), search="title"),
    Field("date", "日期", "Date", "处分或判决日期（YYYY-MM-DD、YYYY-MM 或 YYYY）", Date(required=True), fact=1, booklet=1, indexed=True, find="decision date"),
    Field("year", "年份", "Year", "年份（由日期得出）", derive=_year, sql=int, not_null=True, facet=True, indexed=True),
    Field("violations", en="Violation types", rule=Terms(required=True, vocabulary="violations"), booklet=5, facet=True, search="terms", find="terms in heading, else facts"),
    Field("sanctions", en="Sanctions", rule=Terms(vocabulary="sanctions"), booklet=6, facet=True, search="terms", chart=True, find="terms in outcome"),
    Field("disciplines", en="Disciplines", rule=Terms(vocabulary="disciplines"), search="terms", find="terms in case"),
    Field("form", en="Four forms", rule=Terms(vocabulary="form"), fact=7, facet=True, indexed=True, search="terms", chart=True, find="terms in case"),
    Field("rank", en="Rank", rule=Terms(vocabulary="rank"), fact=5, booklet=4, facet=True, indexed=True, search="terms", find="terms in heading and facts"),
    Field("personnel", en="Personnel category", rule=Terms(vocabulary="personnel"), fact=6, facet=True, indexed=True, search="terms", find="terms in post"),
    Field("region", "地区", "Region", "地区", Text(), fact=2, link="province", search="labels", find="heading place"),
    Field("province", en="Province", derive=_province, vocab="province", facet=True, indexed=True, search="terms"),
    Field("unit", "单位", "Unit", "当事人所在单位", Text(), fact=3, booklet=2, search="labels", find="heading employer"),
    Field("position", "职务", "Post", "当事人职务", Text(), fact=4, booklet=3, search="labels", find="heading post"),
    Field("amount", "涉案金额", "Amount", "涉案金额（元）", Amount(), fact=8, booklet=7, header="涉案金额（元）", find="sum"),
    Field("period", "行为期间", "Period", "违纪违法行为发生的时间段", Text(), fact=9, find="span of years"),
    Field("source", "来源", "Source", "案例来源", Text()),
    Field("tags", "关键词", "Tags", "关键词", TextList(), search="labels"),
    Field("related", "关联案例", "Related cases", rule=Ids(), column=False, export=False),
    Field("lang", "语言", "Language", "撰写语言（zh 中文 / en 英文）", Choice(choices=LANGUAGES), indexed=True),
    Field("visibility", en="Visibility", rule=Terms(vocabulary="visibility"), default=PUBLIC, indexed=True, export=False),
    Field("summary", "案情摘要", "Summary", "案情摘要（基本案情的开头，纯文本）；全文见案例页和 case_texts 表", derive=_summary),
    Field("path", "源文件", "Source file", "案例源文件", derive=lambda case: case.file or case.path),
    Field(
        "as_written", "作者原写法", "As written", "作者原写法（与规范值不同时保留）",
        derive=lambda case: json.dumps(case.as_written, ensure_ascii=False) if case.as_written else None, export=False,
    ),
    Field("digest", "文件摘要", "Digest", "源文件内容的 SHA-256", derive=lambda case: case.digest, export=False),
    Field(
        "sort_key", "排序键", "Sort key", "排序键（日期 + 案例编号），使按日期排序的分页稳定",
        derive=lambda case: sort_key(str(case.values["date"]), case.id), export=False,
    ),
)
BY_NAME = {f.name: f for f in FIELDS}
FRONT_MATTER: dict[str, Rule] = {f.name: f.rule for f in FIELDS if f.rule is not None}
COLUMNS = tuple(f for f in FIELDS if f.column)
VOCABULARY_FIELDS = tuple(f for f in FIELDS if f.vocabulary is not None)
TERM_FIELDS = tuple(f for f in VOCABULARY_FIELDS if f.search == "terms")  # every name of their values is searchable
# Multi-valued vocabularies with a link table (case_violations …): faceted and filtered through it.
LINKED = tuple(f.vocabulary for f in VOCABULARY_FIELDS if f.vocabulary is not None and f.vocabulary.link_table)
FACTS = tuple(sorted((f for f in FIELDS if f.fact), key=lambda f: f.fact or 0))
BOOKLET_FACTS = tuple(sorted((f for f in FIELDS if f.booklet), key=lambda f: f.booklet or 0))
FACETS = tuple(f.name for f in FIELDS if f.facet)
CHARTS = tuple(f for f in FIELDS if f.chart)

TEXT_TABLE = "case_texts"


@dataclass(frozen=True)
class TextField:
    """A column of ``case_texts``: a section of the body, the rest, or the HTML."""

    name: str
    zh: str
    description: str
    export: bool = True


def _section(column: str, headings: tuple[str, ...]) -> TextField:
    """A section's column: its first heading, the other Chinese ones in brackets."""
    others = [h for h in headings[1:] if not h.isascii()]
    return TextField(column, headings[0], headings[0] + (f"（{'、'.join(others)}）" if others else ""))


TEXT_FIELDS: tuple[TextField, ...] = (
    TextField("id", "案例编号", "案例编号"),
    *(_section(column, headings) for column, headings in SECTIONS.items()),
    TextField("other_text", "其他内容", "正文中不属于以上各节的文字"),
    TextField("body_html", "正文 HTML", "正文（已渲染的 HTML）", export=False),
)


def is_internal(row: dict) -> bool:
    """Whether a ``cases`` row is an internal case (read by signed-in staff only)."""
    return row.get("visibility") == BY_NAME["visibility"].vocabulary.by_code[INTERNAL].zh  # type: ignore[union-attr]


def headers() -> dict[str, str]:
    """Export headers of the ``cases`` and ``case_texts`` columns that are exported."""
    result = {f.name: f.heading for f in COLUMNS if f.export}
    result.update({f.name: f.zh for f in TEXT_FIELDS if f.export and f.name not in result})
    return result


def technical_columns() -> frozenset[str]:
    """Columns of the two case tables that are never exported for people."""
    return frozenset(f.name for f in COLUMNS if not f.export) | {f.name for f in TEXT_FIELDS if not f.export}
