"""Step 2: turn one case file's text into a :class:`Case`, or all its problems."""

from __future__ import annotations

import re

from .errors import InvalidInput, Problem
from .fields import Terms, validate
from .frontmatter import Entry, Item, Sequence, parse_yaml, split
from .model import Case
from .render import NestedTooDeep, Rendered, render_body
from .schema import FRONT_MATTER
from .source import Source, id_problems
from .text import HAN

CJK_CHAR = re.compile(f"[{HAN}]")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_lang(text: str) -> str:
    """zh when Chinese characters outnumber English words, else en."""
    return "zh" if len(CJK_CHAR.findall(text)) >= len(LATIN_WORD.findall(text)) else "en"


def _raw(entry: Entry) -> object:
    if isinstance(entry.value, Sequence):
        return [i.text for i in entry.value.items if isinstance(i, Item)]
    return entry.value.text if isinstance(entry.value, Item) else None


def as_written(entries: list[Entry], values: dict[str, object]) -> dict[str, object]:
    """The author's spelling of each vocabulary value that differs from its canonical label."""
    written: dict[str, object] = {}
    for entry in entries:
        rule = FRONT_MATTER.get(entry.key)
        if isinstance(rule, Terms) and entry.key in values:
            raw = _raw(entry)
            if raw != rule.labels(values[entry.key]):  # type: ignore[arg-type]
                written[entry.key] = raw
    return written


def _render(source: Source, body: str, body_line: int, problems: list[Problem]) -> Rendered | None:
    try:
        return render_body(body)
    except NestedTooDeep as err:
        problems.append(Problem(source.display, body_line + err.line, "body", str(err)))
        return None


def parse_case(source: Source) -> Case:
    """Parse, validate and render one case; raise InvalidInput with every problem."""
    problems = id_problems(source.id, source.display)
    try:
        part = split(source.text, source.display)
        entries = parse_yaml(part, source.display)
    except InvalidInput as err:
        raise InvalidInput(problems + err.problems) from None
    validated = validate(entries, FRONT_MATTER, source.display)
    problems += validated.problems
    values = validated.values
    for case_id, line in values.get("related", []):  # type: ignore[attr-defined]
        if case_id == source.id:
            problems.append(Problem(source.display, line, "related", "a case cannot be related to itself"))
    rendered = _render(source, part.body, part.body_line, problems)
    if problems or rendered is None:
        raise InvalidInput(problems)
    if not values.get("lang"):
        values["lang"] = detect_lang(f"{values['title']}\n{rendered.text}")
    return Case(
        id=source.id,
        path=source.display,
        digest=source.digest,
        values=values,
        sections=rendered.sections,
        other_text=rendered.other,
        body_html=rendered.html,
        as_written=as_written(entries, values),
    )
