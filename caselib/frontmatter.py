"""Step 2a: split front matter from body and read the YAML with line numbers.

The YAML is composed into nodes rather than loaded into Python values, so every
key and every list item keeps its line, and no value is silently coerced
(``rank: no`` stays the text "no", ``date: 2019-11-12`` stays text). Nothing is
ever constructed from a tag, and a tag other than YAML's plain ones
(``!!python/object``, ``!!binary``, ``!custom``) is an error.

U+2028, U+2029 and U+0085 are line breaks to YAML but not to an editor; they are
read as spaces, so YAML's line numbers stay the file's line numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import yaml

from .errors import Problem
from .source import shown

try:  # libyaml is several times faster; fall back to the pure-Python loader
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

FENCE = "---"
FIRST_YAML_LINE = 2  # line 1 of the file is the opening ---
YAML_ONLY_BREAKS = str.maketrans({"\u2028": " ", "\u2029": " ", "\x85": " "})
REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
CORE = "tag:yaml.org,2002:"
NULL_TAG = CORE + "null"
SCALAR_TAGS = frozenset(CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value"))
NODE_TAGS = {yaml.ScalarNode: SCALAR_TAGS, yaml.SequenceNode: frozenset({CORE + "seq"}), yaml.MappingNode: frozenset({CORE + "map"})}
PLAIN_KEY = re.compile(r"^[\w-]+\Z")


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


def key_label(key: str) -> str:
    """A key as named in a message: as written, or quoted when it is odd."""
    return key if PLAIN_KEY.match(key) else f'"{shown(key)}"'


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


def _check_tag(node: yaml.Node, display: str, field: str, problems: list[Problem]) -> None:
    """Only YAML's plain tags: a value is text, never an object to construct."""
    if node.tag in NODE_TAGS[type(node)]:
        return
    tag = node.tag.replace(CORE, "!!", 1) if node.tag.startswith(CORE) else node.tag
    problems.append(Problem(display, _line(node), field, f'YAML tag "{shown(tag)}" is not allowed: write the plain value without it'))


def _item(node: yaml.ScalarNode) -> Item:
    # the C loader marks a plain scalar with style "", the Python one with None
    is_null = node.tag == NULL_TAG and not node.style
    return Item(text=node.value, line=_line(node), is_null=is_null)


def _value(node: yaml.Node, display: str, field: str, problems: list[Problem]) -> Item | list[Item] | None:
    _check_tag(node, display, field, problems)
    if isinstance(node, yaml.ScalarNode):
        return _item(node)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for child in node.value:
            if isinstance(child, yaml.ScalarNode):
                _check_tag(child, display, field, problems)
                items.append(_item(child))
            else:
                problems.append(Problem(display, _line(child), field, "list items must be plain values, not lists or mappings"))
        return items
    problems.append(Problem(display, _line(node), field, "expected a value or a list, not a mapping"))
    return None


def refused_characters(yaml_text: str, display: str) -> list[Problem]:
    """One problem for each line holding a character YAML does not allow."""
    problems = []
    for index, line in enumerate(yaml_text.split("\n")):
        found = REFUSED.search(line)
        if found:
            char = found.group()
            kind = "a control character" if unicodedata.category(char) == "Cc" else "not a character of any script"
            message = f"character U+{ord(char):04X} ({kind}) is not allowed in the front matter; delete it"
            problems.append(Problem(display, index + FIRST_YAML_LINE, "", message))
    return problems


# What usually causes YAML's terse messages, said in words an author can act on
HINTS = (
    ("mapping values are not allowed", " — is this line indented by mistake, or does a value contain ': '? Then put the value in quotes"),
    ("did not find expected key", " — check this line's indentation: keys start at the left edge, list items line up"),
    ("cannot start any token", " — a value cannot start with this character; put the value in quotes"),
    ("undefined alias", " — a value that starts with '*' names a YAML anchor; put the value in quotes"),
)


def _hint(yaml_text: str, line_index: int, reason: str) -> str:
    lines = yaml_text.split("\n")
    if 0 <= line_index < len(lines):
        text = lines[line_index]
        if "\t" in text[: len(text) - len(text.lstrip())]:
            return " — indent with spaces, not tabs"
    for words, hint in HINTS:
        if words in reason:
            return hint
    return ""


def syntax_problem(err: yaml.MarkedYAMLError, yaml_text: str, display: str) -> Problem:
    """YAML's own message, at the line where the fix goes."""
    mark = err.problem_mark or err.context_mark
    reason = " ".join((err.problem or "cannot be read").split())
    if err.context and err.context_mark and "end of stream" in reason:
        mark = err.context_mark  # an unclosed quote or bracket: point at where it opened
        reason = f"{err.context}, found the end of the front matter (a quote or bracket is not closed)"
    elif err.context:
        where = ""
        if err.context_mark and mark and err.context_mark.line != mark.line:
            where = f" started on line {err.context_mark.line + FIRST_YAML_LINE}"
        reason = f"{err.context}{where}, {reason}"
    line_index = mark.line if mark else 0
    hint = _hint(yaml_text, line_index, reason)
    return Problem(display, line_index + FIRST_YAML_LINE, "", f"YAML syntax error: {reason}{hint}")


def reader_problem(err: yaml.reader.ReaderError, yaml_text: str, display: str) -> Problem:
    """A character YAML refused; its position counts UTF-8 bytes with libyaml."""
    data = yaml_text.encode("utf-8")
    line = data.count(b"\n", 0, err.position) + FIRST_YAML_LINE if isinstance(err.position, int) else FIRST_YAML_LINE
    code = f"U+{err.character:04X}" if isinstance(err.character, int) else "a character"
    return Problem(display, line, "", f"character {code} is not allowed in the front matter ({err.reason}); delete it")


def compose(yaml_text: str, display: str) -> yaml.Node | None:
    """The YAML as one node tree; raise FrontMatterError."""
    problems = refused_characters(yaml_text, display)
    if problems:
        raise FrontMatterError(problems)
    try:
        return yaml.compose(yaml_text, Loader=Loader)
    except yaml.MarkedYAMLError as err:
        raise FrontMatterError([syntax_problem(err, yaml_text, display)]) from None
    except yaml.reader.ReaderError as err:
        raise FrontMatterError([reader_problem(err, yaml_text, display)]) from None
    except yaml.YAMLError as err:
        message = " ".join(str(err).split())
        raise FrontMatterError([Problem(display, FIRST_YAML_LINE, "", f"YAML error: {message}")]) from None


def _entries(root: yaml.MappingNode, display: str, problems: list[Problem]) -> list[Entry]:
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(display, _line(key_node), "", "keys must be plain names"))
            continue
        key = key_node.value
        line = _line(key_node)
        field = key_label(key)
        _check_tag(key_node, display, field, problems)
        if key in seen:
            problems.append(Problem(display, line, field, f"duplicate key (first given on line {seen[key]})"))
            continue
        seen[key] = line
        entries.append(Entry(key=key, line=line, value=_value(value_node, display, field, problems)))
    return entries


def parse_yaml(part: Split, display: str) -> list[Entry]:
    """The front matter's entries in order; raise FrontMatterError."""
    yaml_text = part.yaml_text.translate(YAML_ONLY_BREAKS)
    root = compose(yaml_text, display)
    if root is None:
        raise FrontMatterError([Problem(display, 1, "", "front matter is empty: title, date and violations are required")])
    if not isinstance(root, yaml.MappingNode):
        raise FrontMatterError([Problem(display, _line(root), "", "front matter must be 'key: value' lines")])
    problems: list[Problem] = []
    _check_tag(root, display, "", problems)
    entries = _entries(root, display, problems)
    if problems:
        raise FrontMatterError(problems)
    return entries
