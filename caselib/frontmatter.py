"""Step 2a: split front matter from body and read the YAML with line numbers.

The YAML is composed into nodes rather than loaded into Python values, so every
key and every list item keeps its line, and no value is silently coerced
(``rank: no`` stays the text "no", ``date: 2019-11-12`` stays text).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from .errors import Problem

try:  # libyaml is several times faster; fall back to the pure-Python loader
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

FENCE = "---"
FIRST_YAML_LINE = 2  # line 1 of the file is the opening ---


@dataclass(frozen=True)
class Item:
    """A scalar written in the front matter, with its file line."""

    text: str
    line: int
    is_null: bool = False


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` of the front matter."""

    key: str
    line: int
    value: Item | list[Item] | None  # None: the value is a mapping (never valid)


@dataclass(frozen=True)
class Split:
    yaml_text: str
    body: str
    body_line: int  # file line of the body's first line


class FrontMatterError(Exception):
    """The front matter cannot be read; carries its problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def split(text: str, display: str) -> Split:
    """Separate the YAML between the two ``---`` lines from the Markdown body."""
    if not text.strip():
        raise FrontMatterError([Problem(display, 1, "", "file is empty")])
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        raise FrontMatterError(
            [Problem(display, 1, "", "no front matter: the file must start with a line '---', then the YAML fields, then '---'")]
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            return Split(
                yaml_text="\n".join(lines[1:index]),
                body="\n".join(lines[index + 1 :]),
                body_line=index + 2,
            )
    raise FrontMatterError([Problem(display, 1, "", "front matter is not closed: add a line '---' after the YAML fields")])


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + FIRST_YAML_LINE


def _item(node: yaml.ScalarNode) -> Item:
    is_null = node.tag == "tag:yaml.org,2002:null" and node.style is None
    return Item(text=node.value, line=_line(node), is_null=is_null)


def _value(node: yaml.Node, display: str, key: str, problems: list[Problem]) -> Item | list[Item] | None:
    if isinstance(node, yaml.ScalarNode):
        return _item(node)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for child in node.value:
            if isinstance(child, yaml.ScalarNode):
                items.append(_item(child))
            else:
                problems.append(Problem(display, _line(child), key, "list items must be plain values, not lists or mappings"))
        return items
    problems.append(Problem(display, _line(node), key, "expected a value or a list, not a mapping"))
    return None


def parse_yaml(part: Split, display: str) -> list[Entry]:
    """The front matter's entries in order; raise FrontMatterError."""
    try:
        root = yaml.compose(part.yaml_text, Loader=Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + FIRST_YAML_LINE if mark else FIRST_YAML_LINE
        reason = err.problem or str(err)
        if err.context:
            where = ""
            if err.context_mark and err.context_mark.line != mark.line:
                where = f" started on line {err.context_mark.line + FIRST_YAML_LINE}"
            reason = f"{err.context}{where}, {reason}"
        raise FrontMatterError([Problem(display, line, "", f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as err:
        raise FrontMatterError([Problem(display, FIRST_YAML_LINE, "", f"YAML error: {err}")]) from None
    if root is None:
        raise FrontMatterError([Problem(display, 1, "", "front matter is empty: title, date and violations are required")])
    if not isinstance(root, yaml.MappingNode):
        raise FrontMatterError([Problem(display, _line(root), "", "front matter must be 'key: value' lines")])
    problems: list[Problem] = []
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(display, _line(key_node), "", "keys must be plain names"))
            continue
        key = key_node.value
        line = _line(key_node)
        if key in seen:
            problems.append(Problem(display, line, key, f"duplicate key (first given on line {seen[key]})"))
            continue
        seen[key] = line
        entries.append(Entry(key=key, line=line, value=_value(value_node, display, key, problems)))
    if problems:
        raise FrontMatterError(problems)
    return entries
