"""``build.py new``: a new case file from the authors' template.

The new file is the template's front matter, field by field with the
template's own notes at the end of each line, and the template's body (the
sections to write, with the writing notes the template asks to delete).
The values are the case's, not the template's examples: the title given,
today's date, and what the title itself names (violation types, unit, post,
region … — found by the finders ``import`` uses, on a case that is only its
heading); every other example value is
cleared, except those the template means for every case (``lang``). The
template's own header (about copying the template) gives way to a note of
what to fill in.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LibraryError, UsageError
from ..frontmatter import split
from ..schema import FIELDS, FRONT_MATTER
from .caseid import base_id
from .casefile import CasesFolder, yaml_value
from .extract import fields_of_title, label, read_heading

TEMPLATE_NAME = "_template.md"
SHIPPED_TEMPLATE = Path(__file__).resolve().parents[2] / "cases" / TEMPLATE_NAME
KEPT = frozenset({"lang", "visibility"})  # template values meant for every new case
FIELD_LINE = re.compile(r"^(?P<key>[A-Za-z_]+):(?P<value>.*?)(?P<comment>\s+#.*)?$")


class NoViolation(LibraryError):
    """A title that names no violation type: the new file could not be valid."""


@dataclass
class NewCase:
    path: Path
    found: list[str] = field(default_factory=list)
    to_fill: list[str] = field(default_factory=list)


def find_template(folder: Path) -> Path:
    """The cases folder's own template, else the one the project ships."""
    for candidate in (folder / TEMPLATE_NAME, SHIPPED_TEMPLATE):
        if candidate.is_file():
            return candidate
    raise UsageError(f"找不到作者模板 {folder / TEMPLATE_NAME} / template not found")


def values_from_title(title: str) -> tuple[dict[str, object], list[str]]:
    """What the title itself names, as front-matter values, with the report's words for them."""
    draft = fields_of_title(title)
    return {k: v for k, v in draft.values.items() if k != "title"}, draft.found


def fill_line(line: str, values: dict[str, object]) -> str:
    """A template line with the case's value, the template's note kept."""
    match = FIELD_LINE.match(line)
    if not match or match.group("key") not in FRONT_MATTER:
        return line
    key, value, comment = match.group("key"), match.group("value").strip(), match.group("comment") or ""
    if key in values:
        value = yaml_value(values[key])
    elif key not in KEPT:
        value = "[]" if value.startswith("[") else ""
    return f"{key}: {value}{comment}" if value else f"{key}:{comment}"


def new_case_text(template: str, display: str, values: dict[str, object], comments: list[str]) -> str:
    part = split(template.replace("\r\n", "\n").lstrip("\ufeff"), display)
    lines = part.yaml_text.split("\n")
    first_field = next((i for i, line in enumerate(lines) if FIELD_LINE.match(line)), len(lines))
    filled = [fill_line(line, values) for line in lines[first_field:]]
    header = [f"# {c}" for c in comments]
    return "---\n" + "\n".join(header + filled) + "\n---\n" + part.body


def new_case(title: str, folder: CasesFolder, today: datetime.date | None = None) -> NewCase:
    """Write a new case file for ``title``; NoViolation when the title names no violation type."""
    title = " ".join(title.split())
    today = today or datetime.date.today()
    named, found = values_from_title(title)
    values: dict[str, object] = {"title": title, "date": today.isoformat(), **named}
    if "violations" not in values:
        message = (
            f"标题“{title}”中没有找到违规类型（violations 是必填项）：请在标题中写明主要问题，"
            "如“违规收受礼品礼金”“违规接受宴请”“受贿”；或复制 cases/_template.md 手工新建"
        )
        raise NoViolation(message)
    template = find_template(folder.root)
    to_fill = [label(f.name) for f in FIELDS if f.name in FRONT_MATTER and f.name not in values and f.name not in KEPT | {"related", "tags"}]
    comments = [
        f"由 build.py new 根据 {template.name} 新建（{today.isoformat()}）；各字段的填写说明见行尾注释，填好后可删除这两行",
        f"待填写：{'、'.join(to_fill)}；正文各节按模板的写作说明填写" if to_fill else "待填写：正文各节按模板的写作说明填写",
    ]
    text = new_case_text(template.read_text(encoding="utf-8"), str(template), values, comments)
    year = today.strftime("%Y")
    path = folder.write(text, base_id(year, read_heading(title)), year)
    return NewCase(path, [f"{label('date')} {values['date']}", *found], to_fill)
