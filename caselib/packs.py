"""Training packs: a trainer's list of cases for one session.

A pack is ``packs/<id>.yml``::

    title: 2024年一季度警示教育：干预司法专题
    audience: 全院检察干警
    date: 2024-03-28
    description: 以“三个规定”为主线……
    cases:
      - id: 2016-fayuan-fuyuanzhang-ganyu-anjian
        note: 讨论过问案件的记录报告要求
      - 2021-jianchazhang-ganyu-anjian

It is validated like a case file: every problem is reported as
``path:line: field: message`` and unknown case ids are errors.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Problem
from .fields import ID_PATTERN, FieldProblem, parse_date
from .frontmatter import Item

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

PACK_KEYS = ("title", "audience", "date", "description", "cases")
ENTRY_KEYS = ("id", "note")
MAX_TEXT = 2000


@dataclass
class PackCase:
    id: str
    note: str | None
    line: int


@dataclass
class Pack:
    id: str
    path: str
    title: str
    audience: str | None = None
    date: str | None = None
    description: str | None = None
    cases: list[PackCase] = field(default_factory=list)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _text(node: yaml.Node, display: str, key: str, problems: list[Problem]) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        problems.append(Problem(display, _line(node), key, "expected text, not a list or mapping"))
        return None
    text = " ".join(node.value.split()) if key != "description" else node.value.strip()
    if len(text) > MAX_TEXT:
        problems.append(Problem(display, _line(node), key, f"text is too long ({len(text)} characters; at most {MAX_TEXT})"))
        return None
    return text or None


def _entry(node: yaml.Node, display: str, problems: list[Problem]) -> PackCase | None:
    if isinstance(node, yaml.ScalarNode):
        return PackCase(node.value.strip(), None, _line(node))
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(display, _line(node), "cases", "each case is an id, or 'id:' with an optional 'note:'"))
        return None
    values: dict[str, str | None] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        if key not in ENTRY_KEYS:
            problems.append(Problem(display, _line(key_node), "cases", f'unknown key "{key}" in a case entry (use id and note)'))
            continue
        values[key] = _text(value_node, display, f"cases.{key}", problems)
    if not values.get("id"):
        problems.append(Problem(display, _line(node), "cases", "a case entry needs an id"))
        return None
    return PackCase(values["id"], values.get("note"), _line(node))


def _cases(node: yaml.Node, display: str, problems: list[Problem]) -> list[PackCase]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        problems.append(Problem(display, _line(node), "cases", "list at least one case id"))
        return []
    entries: list[PackCase] = []
    seen: dict[str, int] = {}
    for child in node.value:
        entry = _entry(child, display, problems)
        if entry is None:
            continue
        if not ID_PATTERN.match(entry.id):
            problems.append(Problem(display, entry.line, "cases", f'"{entry.id}" is not a case id'))
        elif entry.id in seen:
            problems.append(Problem(display, entry.line, "cases", f'"{entry.id}" is listed twice (first on line {seen[entry.id]})'))
        else:
            seen[entry.id] = entry.line
            entries.append(entry)
    return entries


def _root(text: str, display: str) -> yaml.MappingNode:
    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise PackError([Problem(display, mark.line + 1 if mark else 1, "", f"YAML syntax error: {err.problem or err}")]) from None
    if not isinstance(root, yaml.MappingNode):
        raise PackError([Problem(display, 1, "", "a pack is 'key: value' lines: title, audience, date, description, cases")])
    return root


class PackError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_pack(data: bytes, display: str, pack_id: str) -> Pack:
    """Parse and validate one pack file (not yet against the cases)."""
    problems: list[Problem] = []
    if not ID_PATTERN.match(pack_id):
        problems.append(Problem(display, 1, "id", f'file name "{pack_id}.yml" is not a valid pack id: use lower-case letters, digits and -'))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PackError([Problem(display, data.count(b"\n", 0, err.start) + 1, "", "file is not UTF-8 text")]) from None
    root = _root(text, display)
    values: dict[str, object] = {}
    seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        if key in seen:
            problems.append(Problem(display, _line(key_node), key, f"duplicate key (first given on line {seen[key]})"))
            continue
        seen[key] = _line(key_node)
        if key not in PACK_KEYS:
            close = difflib.get_close_matches(key, PACK_KEYS, n=1)
            hint = f' — did you mean "{close[0]}"?' if close else f" (known keys: {', '.join(PACK_KEYS)})"
            problems.append(Problem(display, _line(key_node), key, f"unknown key{hint}"))
        elif key == "cases":
            values["cases"] = _cases(value_node, display, problems)
        elif key == "date" and not isinstance(value_node, yaml.ScalarNode):
            problems.append(Problem(display, _line(value_node), "date", "expected a date such as 2024-03-28"))
        elif key == "date":
            try:
                values["date"] = parse_date(Item(str(value_node.value), _line(value_node)))
            except FieldProblem as err:
                problems.append(Problem(display, err.line, "date", str(err)))
        else:
            values[key] = _text(value_node, display, key, problems)
    for required in ("title", "cases"):
        if any(p.field == required for p in problems):
            continue
        if required not in seen:
            problems.append(Problem(display, 1, required, "is required but missing"))
        elif not values.get(required):
            problems.append(Problem(display, seen[required], required, "is required and must not be empty"))
    if problems:
        raise PackError(problems)
    return Pack(id=pack_id, path=display, **values)  # type: ignore[arg-type]


def unknown_case_problems(pack: Pack, ids: set[str]) -> list[Problem]:
    return [Problem(pack.path, entry.line, "cases", f'no case has the id "{entry.id}"') for entry in pack.cases if entry.id not in ids]


def pack_files(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.y*ml") if p.suffix in (".yml", ".yaml") and not p.name.startswith(("_", ".")))


def packs_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
