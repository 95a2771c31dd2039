"""Write a case file: the front matter and the body, checked before it is written.

Values are written with ``yaml.safe_dump`` (quoted where YAML needs it), so
a title with a colon or a hash stays a title. Lines starting with ``#`` at the
top of the front matter are YAML comments: what the author should check.
Before a file is written its text is parsed with the project's own parser
(``caselib.parse.parse_case``), so a file the importer writes passes
``build.py --check``; one that would not is reported instead. A file is
created only where none exists (an exclusive create): nothing is ever
overwritten, and an id already used anywhere in the cases folder is not
used again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..discover import discover, display_path
from ..errors import InvalidInput
from ..fields import DATE_PATTERN
from ..frontmatter import parse_yaml, split
from ..model import Case
from ..parse import parse_case
from ..source import Source
from .caseid import unique_id

MARKDOWN_LINE_START = re.compile(r"^(?=[#>+*=|-]|\d+[.)]\s|\s)")
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<])")


def yaml_value(value: object) -> str:
    """One value as YAML on one line: text quoted only when YAML needs it, lists in brackets."""
    if isinstance(value, str) and DATE_PATTERN.match(value):
        return value  # a date as authors write it (the reader keeps it as text)
    dumped = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=2**20, sort_keys=False)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def front_matter(values: dict[str, object], comments: list[str]) -> str:
    lines = [f"# {' '.join(c.split())}" for c in comments]
    lines += [f"{key}: {yaml_value(value)}" for key, value in values.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"


def markdown_paragraph(text: str) -> str:
    """A paragraph of a notice as Markdown that shows it as written (no list, heading or emphasis made of it)."""
    escaped = MARKDOWN_INLINE.sub(r"\\\1", text)
    return MARKDOWN_LINE_START.sub("\\\\", escaped) if MARKDOWN_LINE_START.match(escaped) else escaped


def body(sections: dict[str, list[str]]) -> str:
    parts = []
    for heading, paragraphs in sections.items():
        parts.append(f"## {heading}\n\n" + "\n\n".join(markdown_paragraph(p) for p in paragraphs) + "\n")
    return "\n".join(parts)


def case_text(values: dict[str, object], sections: dict[str, list[str]], comments: list[str]) -> str:
    return front_matter(values, comments) + "\n" + body(sections)


class CasesFolder:
    """The folder cases are written to: the ids in use and where a new case goes."""

    def __init__(self, root: Path):
        self.root = root
        found = discover(root)
        self.files = [Path(f.path) for f in found.files]
        self.ids = {f.id for f in found.files}

    def check(self, text: str, case_id: str, path: Path) -> Case:
        """The case the text makes, parsed as the build will; InvalidInput with every problem."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return parse_case(Source(display_path(path), case_id, text, digest))

    def write(self, text: str, base: str, year: str) -> Path:
        """Check the text, then create ``<root>/<year>/<id>.md`` with the first id
        from ``base`` not in use (never over another file); the path written."""
        while True:
            case_id = unique_id(base, self.ids.__contains__)
            path = self.root / year / f"{case_id}.md"
            self.check(text, case_id, path)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with open(path, "x", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
            except FileExistsError:  # a file the folder's listing did not show (written meanwhile)
                self.ids.add(case_id)
                continue
            self.ids.add(case_id)
            self.files.append(path)
            return path


@dataclass(frozen=True)
class Known:
    """An existing case file's title, date and source."""

    path: Path
    title: str
    date: str
    source: str


def front_values(path: Path) -> Known | None:
    """title, date and source as written in a case file's front matter, or None when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        entries = parse_yaml(split(text.replace("\r\n", "\n"), str(path)), str(path))
    except (OSError, UnicodeDecodeError, InvalidInput):
        return None
    values = {e.key: getattr(e.value, "text", "") for e in entries if e.key in ("title", "date", "source")}
    return Known(path, str(values.get("title", "")), str(values.get("date", "")), str(values.get("source", "")))


def already_imported(folder: CasesFolder, mention: str) -> list[Known]:
    """The cases of the folder whose text mentions ``mention`` (a notice's name): those an import may repeat."""
    found = []
    for path in folder.files:
        try:
            if mention not in path.read_text(encoding="utf-8", errors="replace"):
                continue
        except OSError:
            continue
        known = front_values(path)
        if known:
            found.append(known)
    return found
