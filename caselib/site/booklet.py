"""Teaching booklets (案例汇编): a training pack or a case list as plain data.

A :class:`Booklet` is what the Word writer (``docx.write_booklet``) prints: a
title, the cover's lines, a note, and its cases in order, each with its facts,
its sections, the trainer's note and the discussion questions. The functions
here build one from database rows, so that a pack's booklet and a case list's
booklet are the same thing filled from different queries.

A case's sections come from its stored ``body_html`` (the Markdown rendered by
``render.py``, cleaned there and cleaned again here): :class:`BodyReader`
reads it into paragraphs, list items with the numbers they show on the site
(a list starting at 3 still starts at 3), quotes, sub-headings and tables.
The plain-text section columns are not enough: they keep a list's words but
not its numbers. What the reader makes is text and nothing else: a case's
words never become markup in the document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Union

from .. import schema
from ..render import SECTION_TITLES, sanitise

FACT_SEPARATOR = "、"
BULLETS = ("•", "◦", "▪")
SECTION_ID = re.compile(r"^section-([a-z]+)$")
SPACES = re.compile(r"\s+")
SUBHEADINGS = frozenset({"h1", "h3", "h4", "h5", "h6"})
EMPHASIS = {"strong": "bold", "b": "bold", "em": "italic", "i": "italic", "del": "strike", "s": "strike", "code": "code"}
TRAINER_EDITION = "培训用（含教学提示）"
PARTICIPANT_EDITION = "学员版（不含教学提示）"
LIST_TITLE = "案例汇编"
MAX_CASES = 200  # the most cases one list booklet compiles


@dataclass(frozen=True)
class Run:
    """A piece of text with one formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False


@dataclass
class Paragraph:
    """A paragraph of a section.

    ``kind`` is ``body``, ``heading`` (a sub-heading inside a section) or
    ``code``; ``marker`` is a list item's number or bullet (``"3."``, ``"•"``)
    on its first paragraph; ``level`` is how deep in lists it sits (0: not in
    a list) and ``quote`` how deep in quotes.
    """

    runs: list[Run] = field(default_factory=list)
    kind: str = "body"
    marker: str = ""
    level: int = 0
    quote: int = 0

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass
class Table:
    """A table of a section: rows of cell texts, the first ``header`` rows its head."""

    rows: list[list[str]]
    header: int = 0


Block = Union[Paragraph, Table]


@dataclass
class Section:
    """A section of a case: its title (empty for what comes before the first heading) and blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass
class BookletCase:
    number: int
    id: str
    title: str
    facts: list[Fact]
    sections: list[Section]
    note: str | None = None
    questions: list[str] = field(default_factory=list)


@dataclass
class Booklet:
    """What a Word booklet holds: a cover (title, lines, description), a note
    (cases left out), and the cases in order."""

    title: str
    lines: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    edition: str = ""
    note: str = ""
    cases: list[BookletCase] = field(default_factory=list)


# ---------------------------------------------------------------- the body, read


@dataclass
class _List:
    ordered: bool
    next: int = 1


class BodyReader(HTMLParser):
    """Reads a cleaned ``body_html`` into sections of paragraphs and tables.

    Only the tags ``render.sanitise`` lets through are understood; text is
    unescaped once by the parser and kept as text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = [Section("")]
        self.lists: list[_List] = []
        self.quotes = 0
        self.formats: dict[str, int] = {name: 0 for name in set(EMPHASIS.values())}
        self.paragraph: Paragraph | None = None
        self.pending_marker = ""
        self.heading: list[str] | None = None
        self.heading_id = ""
        self.pre = False
        self.href: str | None = None
        self.link_text: list[str] = []
        self.table: list[list[str]] | None = None
        self.table_header = 0
        self.cell: list[str] | None = None
        self.in_head = False

    # -- blocks

    @property
    def blocks(self) -> list[Block]:
        return self.sections[-1].blocks

    def open_paragraph(self, kind: str = "body") -> Paragraph:
        self.close_paragraph()
        self.paragraph = Paragraph(kind=kind, marker=self.pending_marker, level=len(self.lists), quote=self.quotes)
        self.pending_marker = ""
        return self.paragraph

    def close_paragraph(self) -> None:
        paragraph, self.paragraph = self.paragraph, None
        if paragraph is None:
            return
        if paragraph.kind != "code":
            paragraph.runs = _trimmed(paragraph.runs)
        if paragraph.runs or paragraph.marker:
            self.blocks.append(paragraph)

    def add_text(self, text: str) -> None:
        if self.heading is not None:
            self.heading.append(text)
            return
        if self.cell is not None:
            self.cell.append(text)
            return
        if self.href is not None:
            self.link_text.append(text)
        if not self.pre:
            text = SPACES.sub(" ", text)
            if self.paragraph is None and not text.strip():
                return
        paragraph = self.paragraph or self.open_paragraph()
        paragraph.runs.append(Run(text, **{name: count > 0 for name, count in self.formats.items()}))

    # -- the parser's events

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "h2":
            self.close_paragraph()
            self.heading, self.heading_id = [], attributes.get("id") or ""
        elif tag in SUBHEADINGS:
            self.open_paragraph("heading")
        elif tag == "p":
            self.open_paragraph()
        elif tag in ("ol", "ul"):
            self.close_paragraph()
            start = attributes.get("start") or "1"
            self.lists.append(_List(tag == "ol", int(start) if start.isdigit() else 1))
        elif tag == "li":
            self.start_item()
        elif tag == "blockquote":
            self.close_paragraph()
            self.quotes += 1
        elif tag == "pre":
            self.open_paragraph("code")
            self.pre = True
        elif tag in EMPHASIS:
            self.formats[EMPHASIS[tag]] += 1
        elif tag == "br":
            self.add_break()
        elif tag == "a":
            self.href, self.link_text = attributes.get("href") or "", []
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            self.add_text(f"［图片：{alt}］" if alt else "［图片］")
        elif tag == "table":
            self.close_paragraph()
            self.table, self.table_header = [], 0
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr" and self.table is not None:
            self.table.append([])
            if self.in_head:
                self.table_header += 1
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self.heading is not None:
            self.start_section()
        elif tag in SUBHEADINGS or tag == "p":
            self.close_paragraph()
        elif tag in ("ol", "ul") and self.lists:
            self.close_paragraph()
            self.lists.pop()
        elif tag == "li":
            self.close_paragraph()
            self.pending_marker = ""
        elif tag == "blockquote" and self.quotes:
            self.close_paragraph()
            self.quotes -= 1
        elif tag == "pre":
            self.pre = False
            if self.paragraph is not None and self.paragraph.runs:
                last = self.paragraph.runs[-1]
                self.paragraph.runs[-1] = Run(last.text.rstrip("\n"), code=True)
            self.close_paragraph()
        elif tag in EMPHASIS:
            self.formats[EMPHASIS[tag]] = max(0, self.formats[EMPHASIS[tag]] - 1)
        elif tag == "a":
            self.end_link()
        elif tag in ("td", "th"):
            if self.cell is not None and self.table:
                self.table[-1].append(SPACES.sub(" ", "".join(self.cell)).strip())
            self.cell = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "table":
            if self.table:
                self.blocks.append(Table(self.table, self.table_header))
            self.table = None

    def handle_data(self, data: str) -> None:
        self.add_text(data)

    # -- pieces

    def start_item(self) -> None:
        self.close_paragraph()
        current = self.lists[-1] if self.lists else _List(False)
        if current.ordered:
            self.pending_marker = f"{current.next}."
            current.next += 1
        else:
            self.pending_marker = BULLETS[(len(self.lists) - 1) % len(BULLETS)]

    def start_section(self) -> None:
        found = SECTION_ID.match(self.heading_id)
        title = SECTION_TITLES.get(found.group(1), "") if found else ""
        self.sections.append(Section(title or SPACES.sub(" ", "".join(self.heading or [])).strip()))
        self.heading = None

    def add_break(self) -> None:
        """A hard line break: a new line in the paragraph (a space in a table cell)."""
        if self.cell is not None:
            self.cell.append(" ")
        elif self.paragraph is not None:
            self.paragraph.runs.append(Run("\n"))

    def end_link(self) -> None:
        """A link's address follows its text, in brackets, when it says more than the text."""
        href, text = self.href or "", "".join(self.link_text).strip()
        self.href = None
        if href.startswith(("http://", "https://", "mailto:")) and href.removeprefix("mailto:") != text:
            self.add_text(f"（{href}）")


def _trimmed(runs: list[Run]) -> list[Run]:
    """Runs without the spaces at the paragraph's ends (and without runs left empty)."""
    while runs and not runs[0].text.strip():
        runs = runs[1:]
    while runs and not runs[-1].text.strip():
        runs = runs[:-1]
    if not runs:
        return []
    first, last = runs[0], runs[-1]
    runs = [Run(first.text.lstrip(), first.bold, first.italic, first.strike, first.code), *runs[1:]]
    runs[-1] = Run(runs[-1].text.rstrip(), last.bold, last.italic, last.strike, last.code)
    return runs


def body_sections(body_html: str) -> list[Section]:
    """A case body's sections, in the body's order, recognised ones under
    their standard titles (基本案情, 处理结果 …); what comes before the first
    heading is a section without a title, left out when empty."""
    reader = BodyReader()
    reader.feed(sanitise(body_html or ""))
    reader.close()
    reader.close_paragraph()
    return [s for s in reader.sections if s.blocks or s.title]


# ---------------------------------------------------------------- from rows


def facts(row: dict) -> list[Fact]:
    """The facts table's rows (``schema.BOOKLET_FACTS``: date, unit, post, rank,
    violations, sanctions and amount), as present."""
    found = []
    for fact in schema.BOOKLET_FACTS:
        value = row.get(fact.name)
        if value in (None, ""):
            continue
        shown = fact.display(value)
        text = FACT_SEPARATOR.join(shown) if isinstance(shown, list) else shown
        if text:
            found.append(Fact(fact.label, text))
    return found


def booklet_case(number: int, row: dict, note: str | None = None, questions: list[str] | None = None) -> BookletCase:
    """One case of a booklet from its ``cases`` and ``case_texts`` row."""
    return BookletCase(number, row["id"], row["title"], facts(row), body_sections(row.get("body_html") or ""), note or None, questions or [])


def stored_questions(value: str | None) -> list[str]:
    """A pack entry's discussion questions as stored (a JSON list)."""
    items = json.loads(value or "[]")
    return [str(item) for item in items] if isinstance(items, list) else []


def pack_booklet(pack: dict, rows: list[dict], participants: bool) -> Booklet:
    """A training pack's booklet: the trainer's (with the teaching notes) or the participants' (without)."""
    lines = [f"培训对象：{pack['audience']}" if pack.get("audience") else "", f"日期：{pack['date']}" if pack.get("date") else ""]
    cases = [
        booklet_case(n, row, None if participants else row.get("note"), stored_questions(row.get("questions")))
        for n, row in enumerate(rows, 1)
    ]
    return Booklet(
        title=pack["title"],
        lines=[line for line in lines if line],
        description=[line for line in (pack.get("description") or "").split("\n") if line.strip()],
        edition=PARTICIPANT_EDITION if participants else TRAINER_EDITION,
        cases=cases,
    )


def more_note(total: int | None, cap: int = MAX_CASES) -> str:
    """What a list booklet says when more cases matched than it holds."""
    counted = f"共 {total:,} 个" if total is not None else f"多于 {cap:,} 个"
    return f"符合条件的案例{counted}，本汇编只收录了前 {cap:,} 个（按列表的顺序）；如需其余案例，请缩小筛选范围后分批下载。"


def list_booklet(title: str, conditions: list[str], rows: list[dict], total: int | None, cap: int = MAX_CASES) -> Booklet:
    """A case list's booklet: up to ``cap`` of ``rows`` (in their order); ``total``
    is how many cases matched, None when only "more than cap" is known."""
    counted = total if total is not None else len(rows)
    lines = [*conditions, f"收录案例：{min(len(rows), cap):,} 个"]
    note = more_note(total, cap) if counted > cap or len(rows) > cap else ""
    return Booklet(title=title, lines=lines, note=note, cases=[booklet_case(n, row) for n, row in enumerate(rows[:cap], 1)])
