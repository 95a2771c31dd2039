"""Step 2a: split front matter from body and read the YAML with line numbers.

The YAML is composed into nodes rather than loaded into Python values, so every
key and every list item keeps its line, and no value is silently coerced
(``title: no`` stays the text "no", ``date: 2019-11-12`` stays text). Nothing is
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

from .errors import InvalidInput, Problem
from .text import MAX_SHOWN, shown

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
    """A scalar written in the YAML, with its file line and column."""

    text: str
    line: int
    is_null: bool = False
    column: int = 0


@dataclass(frozen=True)
class Sequence:
    """A list written in the YAML (``[a, b]`` or ``- a`` lines)."""

    line: int
    items: list["Value"]


@dataclass(frozen=True)
class Mapping:
    """``key: value`` lines nested in a value (a training pack's case entry)."""

    line: int
    entries: list["Entry"]


Value = Item | Sequence | Mapping


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` of the YAML."""

    key: str
    line: int
    value: Value


@dataclass(frozen=True)
class Split:
    yaml_text: str
    body: str
    body_line: int  # file line of the body's first line


def key_label(key: str) -> str:
    """A key as named in a message: as written, or quoted (and cut, like a
    value) when it is odd or long."""
    return key if PLAIN_KEY.match(key) and len(key) <= MAX_SHOWN else f'"{shown(key)}"'


def split(text: str, display: str) -> Split:
    """Separate the YAML between the two ``---`` lines from the Markdown body."""
    if not text.strip():
        raise InvalidInput([Problem(display, 1, "", "file is empty")])
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        raise InvalidInput(
            [Problem(display, 1, "", "no front matter: the file must start with a line '---', then the YAML fields, then '---'")]
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            return Split(
                yaml_text="\n".join(lines[1:index]),
                body="\n".join(lines[index + 1 :]),
                body_line=index + 2,
            )
    raise InvalidInput([Problem(display, 1, "", "front matter is not closed: add a line '---' after the YAML fields")])


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


@dataclass
class YamlReader:
    """Reads one YAML document of an input file into entries with their lines.

    ``first_line`` is the file line of the YAML's first line: 2 in a case
    file (after the opening ``---``), 1 in a training pack. ``place`` names
    the YAML in messages.
    """

    display: str
    first_line: int = FIRST_YAML_LINE
    place: str = "the front matter"

    def __post_init__(self) -> None:
        self.problems: list[Problem] = []

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + self.first_line

    def problem(self, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(self.display, line, field, message))

    def check_tag(self, node: yaml.Node, field: str) -> None:
        """Only YAML's plain tags: a value is text, never an object to construct."""
        if node.tag in NODE_TAGS[type(node)]:
            return
        tag = node.tag.replace(CORE, "!!", 1) if node.tag.startswith(CORE) else node.tag
        self.problem(self.line(node), field, f'YAML tag "{shown(tag)}" is not allowed: write the plain value without it')

    def item(self, node: yaml.ScalarNode) -> Item:
        # the C loader marks a plain scalar with style "", the Python one with None
        is_null = node.tag == NULL_TAG and not node.style
        return Item(text=node.value, line=self.line(node), is_null=is_null, column=node.start_mark.column)

    def value(self, node: yaml.Node, field: str) -> Value:
        self.check_tag(node, field)
        if isinstance(node, yaml.ScalarNode):
            return self.item(node)
        if isinstance(node, yaml.SequenceNode):
            return Sequence(self.line(node), [self.value(child, field) for child in node.value])
        return Mapping(self.line(node), self.entries(node, field))

    def entries(self, node: yaml.MappingNode, within: str = "") -> list[Entry]:
        entries: list[Entry] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(self.line(key_node), within, "keys must be plain names")
                continue
            key, line = key_node.value, self.line(key_node)
            field = f"{within}.{key_label(key)}" if within else key_label(key)
            self.check_tag(key_node, field)
            if key in seen:
                self.problem(line, field, f"duplicate key (first given on line {seen[key]})")
                continue
            seen[key] = line
            entries.append(Entry(key=key, line=line, value=self.value(value_node, field)))
        return entries

    def refused_characters(self, yaml_text: str) -> None:
        """One problem for each line holding a character YAML does not allow."""
        for index, line in enumerate(yaml_text.split("\n")):
            found = REFUSED.search(line)
            if found:
                char = found.group()
                kind = "a control character" if unicodedata.category(char) == "Cc" else "not a character of any script"
                message = f"character U+{ord(char):04X} ({kind}) is not allowed in {self.place}; delete it"
                self.problem(index + self.first_line, "", message)

    def syntax_problem(self, err: yaml.MarkedYAMLError, yaml_text: str) -> None:
        """YAML's own message, at the line where the fix goes."""
        mark = err.problem_mark or err.context_mark
        reason = " ".join((err.problem or "cannot be read").split())
        if err.context and err.context_mark and "end of stream" in reason:
            mark = err.context_mark  # an unclosed quote or bracket: point at where it opened
            reason = f"{err.context}, found the end of {self.place} (a quote or bracket is not closed)"
        elif err.context:
            where = ""
            if err.context_mark and mark and err.context_mark.line != mark.line:
                where = f" started on line {err.context_mark.line + self.first_line}"
            reason = f"{err.context}{where}, {reason}"
        line_index = mark.line if mark else 0
        hint = _hint(yaml_text, line_index, reason)
        self.problem(line_index + self.first_line, "", f"YAML syntax error: {reason}{hint}")

    def reader_problem(self, err: yaml.reader.ReaderError, yaml_text: str) -> None:
        """A character YAML refused; its position counts UTF-8 bytes with libyaml."""
        data = yaml_text.encode("utf-8")
        line = data.count(b"\n", 0, err.position) + self.first_line if isinstance(err.position, int) else self.first_line
        code = f"U+{err.character:04X}" if isinstance(err.character, int) else "a character"
        self.problem(line, "", f"character {code} is not allowed in {self.place} ({err.reason}); delete it")

    def compose(self, yaml_text: str) -> yaml.Node | None:
        """The YAML as one node tree, or None with the problem recorded."""
        self.refused_characters(yaml_text)
        if self.problems:
            return None
        try:
            return yaml.compose(yaml_text, Loader=Loader)
        except yaml.MarkedYAMLError as err:
            self.syntax_problem(err, yaml_text)
        except yaml.reader.ReaderError as err:
            self.reader_problem(err, yaml_text)
        except yaml.YAMLError as err:
            self.problem(self.first_line, "", f"YAML error: {' '.join(str(err).split())}")
        return None

    def read(self, yaml_text: str, empty: str, shape: str) -> list[Entry]:
        """The document's entries in order; raise InvalidInput with every problem.

        ``empty`` is the message for a document with nothing in it, ``shape``
        for one that is not ``key: value`` lines.
        """
        yaml_text = yaml_text.translate(YAML_ONLY_BREAKS)
        root = self.compose(yaml_text)
        if self.problems:
            raise InvalidInput(self.problems)
        if root is None:
            raise InvalidInput([Problem(self.display, 1, "", empty)])
        if not isinstance(root, yaml.MappingNode):
            raise InvalidInput([Problem(self.display, self.line(root), "", shape)])
        self.check_tag(root, "")
        entries = self.entries(root)
        if self.problems:
            raise InvalidInput(self.problems)
        return entries


def parse_yaml(part: Split, display: str) -> list[Entry]:
    """The front matter's entries in order; raise InvalidInput."""
    return YamlReader(display).read(
        part.yaml_text,
        empty="front matter is empty: title, date and violations are required",
        shape="front matter must be 'key: value' lines",
    )
