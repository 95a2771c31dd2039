"""Step 2: turn one case file's text into a :class:`Case`, or all its problems."""

from __future__ import annotations

import re

from .errors import CaseFileError, Problem
from .fields import FIELDS, FieldProblem, Terms, unknown_key_message
from .frontmatter import Entry, FrontMatterError, Item, key_label, parse_yaml, split
from .model import Case
from .render import NestedTooDeep, Rendered, render_body
from .source import Source, id_problems
from .vocab import vocabulary

CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_lang(text: str) -> str:
    """zh when Chinese characters outnumber English words, else en."""
    return "zh" if len(CJK_CHAR.findall(text)) >= len(LATIN_WORD.findall(text)) else "en"


def _raw(entry: Entry) -> object:
    if isinstance(entry.value, list):
        return [i.text for i in entry.value]
    return entry.value.text if isinstance(entry.value, Item) else None


def _canonical_labels(name: str, value: object) -> object:
    vocab = vocabulary(name)
    if isinstance(value, list):
        return [vocab.by_code[c].zh for c in value]
    return vocab.by_code[value].zh


def _fields(source: Source, entries: list[Entry], problems: list[Problem]) -> tuple[dict, dict]:
    values: dict[str, object] = {}
    as_written: dict[str, object] = {}
    for entry in entries:
        rule = FIELDS.get(entry.key)
        if rule is None:
            problems.append(Problem(source.display, entry.line, key_label(entry.key), unknown_key_message(entry.key)))
            continue
        if entry.value is None:
            continue  # a mapping: already reported by the YAML step
        if rule.empty(entry.value):
            if rule.required:
                problems.append(Problem(source.display, entry.line, entry.key, "is required and must not be empty"))
            continue
        try:
            values[entry.key] = rule.convert(entry.value, entry.line)
        except FieldProblem as err:
            problems.append(Problem(source.display, err.line, entry.key, str(err)))
            continue
        if isinstance(rule, Terms):
            raw = _raw(entry)
            if raw != _canonical_labels(entry.key, values[entry.key]):
                as_written[entry.key] = raw
    present = {e.key for e in entries}
    for key, rule in FIELDS.items():
        if rule.required and key not in present:
            problems.append(Problem(source.display, 1, key, "is required but missing"))
    return values, as_written


def _render(source: Source, body: str, body_line: int, problems: list[Problem]) -> Rendered | None:
    try:
        return render_body(body)
    except NestedTooDeep as err:
        problems.append(Problem(source.display, body_line + err.line, "body", str(err)))
        return None


def parse_case(source: Source) -> Case:
    """Parse, validate and render one case; raise CaseFileError with every problem."""
    problems = id_problems(source.id, source.display)
    try:
        part = split(source.text, source.display)
        entries = parse_yaml(part, source.display)
    except FrontMatterError as err:
        raise CaseFileError(problems + err.problems) from None
    values, as_written = _fields(source, entries, problems)
    for case_id, line in values.get("related", []):
        if case_id == source.id:
            problems.append(Problem(source.display, line, "related", "a case cannot be related to itself"))
    rendered = _render(source, part.body, part.body_line, problems)
    if problems or rendered is None:
        raise CaseFileError(problems)
    date = values.pop("date")
    lang = values.pop("lang", None) or detect_lang(values["title"] + "\n" + rendered.text)
    return Case(
        id=source.id,
        path=source.display,
        digest=source.digest,
        date=date,
        year=int(date[:4]),
        lang=lang,
        sections=rendered.sections,
        other_text=rendered.other,
        body_html=rendered.html,
        as_written=as_written,
        **values,
    )
