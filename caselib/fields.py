"""Step 2b: declarative rules for the values written in YAML, and the validator.

Each rule turns what the author wrote (an :class:`Item`, a :class:`Sequence`
or a :class:`Mapping`) into a canonical value, or raises :class:`FieldProblem`
(one value) or :class:`FieldProblems` (several) naming the line. A rule also
says how its value is stored (SQL type, JSON array or not) and shown.

:func:`validate` applies a table of rules to a document's entries (a case's
front matter, a training pack, a pack's case entry) and collects every
problem before giving up: unknown (misspelt) keys, missing required values,
and each value that breaks its rule.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from dataclasses import dataclass

from .errors import Problem
from .frontmatter import Entry, Item, Mapping, Sequence, Value, key_label
from .source import ID_PATTERN
from .text import one_line, plain, shown, visible
from .vocab import AmbiguousTerm, Term, UnknownTerm, Vocabulary, vocabulary

DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
AMOUNT_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)(万|亿)?$")
AMOUNT_UNITS = {None: 1, "万": 10_000, "亿": 100_000_000}
AMOUNT_PREFIXES = ("人民币", "rmb", "cny", "¥", "￥")
MAX_TEXT = 2000
MAX_AMOUNT = 10**15  # yuan; anything larger is a typing slip
MAX_LISTED = 5  # unknown values of one list named one by one; the rest are counted
FEW_CHOICES = 9  # a vocabulary this small is listed whole when a value matches none of it
DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))


class FieldProblem(ValueError):
    """A value broke its field's rule; ``line`` (and ``column``) is where it was
    written. ``field`` names a key nested in the value (``cases.note``)."""

    def __init__(self, line: int, message: str, column: int = 0, field: str | None = None):
        self.line = line
        self.column = column
        self.field = field
        super().__init__(message)


class FieldProblems(ValueError):
    """Several values of one field broke its rule (a list with several unknown values)."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _raise(problems: list[FieldProblem]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise FieldProblems(problems)


def _one(value: Value, line: int) -> Item:
    """The one value written; ``line`` is the key's (where a list was given instead)."""
    if isinstance(value, Sequence):
        raise FieldProblem(line, "expected one value, not a list")
    if isinstance(value, Mapping):
        raise FieldProblem(value.line, "expected a value or a list, not a mapping")
    return value


def _items(value: Value) -> tuple[list[Item], list[FieldProblem]]:
    """The plain values of a list (or of one value), and a problem for each
    item that is itself a list or a mapping."""
    if isinstance(value, Mapping):
        return [], [FieldProblem(value.line, "expected a value or a list, not a mapping")]
    if isinstance(value, Item):
        return [value], []
    items = [v for v in value.items if isinstance(v, Item)]
    nested = [v for v in value.items if not isinstance(v, Item)]
    return items, [FieldProblem(v.line, "list items must be plain values, not lists or mappings") for v in nested]


def _present(items: list[Item]) -> list[Item]:
    return [i for i in items if not i.is_null and plain(i.text)]


def clean_text(item: Item, keep_lines: bool = False) -> str:
    """A text value as stored: invisible characters dropped, on one line (or
    with its lines kept, trimmed), at most MAX_TEXT characters."""
    text = visible(item.text).strip() if keep_lines else one_line(item.text)
    if len(text) > MAX_TEXT:
        raise FieldProblem(item.line, f"text is too long ({len(text)} characters; at most {MAX_TEXT})")
    return text


@dataclass(frozen=True)
class Rule:
    """How one key's value is read, stored and shown."""

    required: bool = False
    sql = str  # the column type; sqlite-utils maps str -> TEXT, int -> INTEGER
    array = False  # stored as a JSON array

    def empty(self, value: Value) -> bool:
        items, nested = _items(value)
        return not nested and not _present(items) and not isinstance(value, Mapping)

    def convert(self, value: Value, line: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def stored(self, value):
        """The value as the database holds it."""
        return value

    def display(self, stored) -> str:
        """A stored value as a reader sees it."""
        return str(stored)


@dataclass(frozen=True)
class Text(Rule):
    """One line of text (``keep_lines``: several lines, as a description)."""

    keep_lines: bool = False

    def convert(self, value: Value, line: int) -> str:
        return clean_text(_one(value, line), self.keep_lines)


@dataclass(frozen=True)
class TextList(Rule):
    array = True

    def convert(self, value: Value, line: int) -> list[str]:
        items, problems = _items(value)
        result: list[str] = []
        for item in _present(items):
            try:
                text = clean_text(item)
            except FieldProblem as err:
                problems.append(err)
                continue
            if text not in result:
                result.append(text)
        _raise(problems)
        return result

    def stored(self, value: list[str]) -> str:
        return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Choice(Rule):
    choices: tuple[str, ...] = ()

    def convert(self, value: Value, line: int) -> str:
        item = _one(value, line)
        text = plain(item.text).casefold()
        if text not in self.choices:
            raise FieldProblem(item.line, f'unknown value "{shown(item.text)}" — use one of {", ".join(self.choices)}')
        return text


@dataclass(frozen=True)
class Date(Rule):
    def convert(self, value: Value, line: int) -> str:
        return parse_date(_one(value, line))


@dataclass(frozen=True)
class Amount(Rule):
    sql = int  # INTEGER affinity: whole yuan stay integers, fractions stay REAL

    def convert(self, value: Value, line: int) -> int | float:
        return parse_amount(_one(value, line))

    def display(self, stored: int | float) -> str:
        return format_amount(stored)


@dataclass(frozen=True)
class CaseId(Rule):
    """One case id (a training pack's entry)."""

    def convert(self, value: Value, line: int) -> str:
        item = _one(value, line)
        return case_id(item)


@dataclass(frozen=True)
class Ids(Rule):
    """Case ids, each with the line it was written on (``related``)."""

    def convert(self, value: Value, line: int) -> list[tuple[str, int]]:
        items, problems = _items(value)
        result: list[tuple[str, int]] = []
        for item in _present(items):
            try:
                text = case_id(item)
            except FieldProblem as err:
                problems.append(err)
                continue
            if text not in [r[0] for r in result]:
                result.append((text, item.line))
        _raise(problems)
        return result


@dataclass(frozen=True)
class Terms(Rule):
    """Values from a vocabulary: a list (``multiple``) or one value, stored
    as their canonical Chinese labels."""

    vocabulary: str = ""

    @property
    def vocab(self) -> Vocabulary:
        return vocabulary(self.vocabulary)

    @property
    def array(self) -> bool:  # type: ignore[override]
        return self.vocab.multiple

    def convert(self, value: Value, line: int) -> list[str] | str:
        vocab = self.vocab
        if vocab.multiple:
            items, problems = _items(value)
            items = _present(items)
        else:
            items, problems = [_one(value, line)], []
        codes: list[str] = []
        unknown: list[FieldProblem] = []
        for item in items:
            try:
                terms = resolve_term(vocab, item)
            except FieldProblem as err:
                unknown.append(err)
                continue
            codes += [term.code for term in terms if term.code not in codes]
        problems += unknown[:MAX_LISTED]
        if len(unknown) > MAX_LISTED:
            rest, first = len(unknown) - MAX_LISTED, unknown[MAX_LISTED]
            problems.append(FieldProblem(first.line, f"and {rest} more unknown value{'s' if rest > 1 else ''} in this list", first.column))
        _raise(problems)
        return codes if vocab.multiple else codes[0]

    def labels(self, value: list[str] | str | None) -> list[str] | str | None:
        """Codes as their canonical Chinese labels."""
        by_code = self.vocab.by_code
        if self.vocab.multiple:
            return [by_code[c].zh for c in value or []]
        return by_code[value].zh if value else None

    def stored(self, value: list[str] | str | None) -> str | None:
        labels = self.labels(value)
        return json.dumps(labels, ensure_ascii=False) if self.vocab.multiple else labels  # type: ignore[return-value]


def resolve_term(vocab: Vocabulary, item: Item) -> list[Term]:
    """The term(s) an item names; FieldProblem quoting what was written."""
    try:
        return vocab.resolve(plain(item.text))
    except UnknownTerm as err:
        if err.suggestion:
            hint = f' — did you mean "{err.suggestion}"?'
        elif len(vocab.terms) <= FEW_CHOICES:
            hint = f" — use one of {'、'.join(vocab.labels())}"
        else:
            hint = ""
        raise FieldProblem(item.line, f'unknown value "{shown(item.text)}"{hint}', item.column) from None
    except AmbiguousTerm as err:
        options = " or ".join(f'"{c}"' for c in err.choices)
        raise FieldProblem(item.line, f'"{shown(item.text)}" is ambiguous — write {options}', item.column) from None


def case_id(item: Item) -> str:
    text = plain(item.text)
    if not ID_PATTERN.match(text):
        raise FieldProblem(item.line, f'"{shown(item.text)}" is not a case id (lower-case letters, digits and -, as in the file name without .md)')
    return text


def parse_date(item: Item) -> str:
    text = plain(item.text).translate(DASHES)
    match = DATE_PATTERN.match(text)
    if not match:
        raise FieldProblem(item.line, f'"{shown(item.text)}" is not a date: write YYYY-MM-DD, YYYY-MM or YYYY')
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        datetime.date(year, 1 if month is None else month, 1 if day is None else day)
    except ValueError as err:
        raise FieldProblem(item.line, f'"{shown(item.text)}" is not a real date ({err})') from None
    if year < 1949 or year > 2100:
        raise FieldProblem(item.line, f'"{shown(item.text)}": year {year} is out of range (1949-2100)')
    parts = [f"{year:04d}"] + [f"{p:02d}" for p in (month, day) if p is not None]
    return "-".join(parts)


def parse_amount(item: Item) -> int | float:
    text = plain(item.text).casefold()
    text = re.sub(r"[\s,_]", "", text)
    for prefix in AMOUNT_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if text.endswith("元"):
        text = text[:-1]
    match = AMOUNT_PATTERN.match(text)
    if not match:
        raise FieldProblem(item.line, f'"{shown(item.text)}" is not an amount: write a number of yuan, e.g. 3200, 12.6万, "1,260万元", 3.5亿元')
    number = float(match.group(1)) * AMOUNT_UNITS[match.group(2)]
    if number > MAX_AMOUNT:
        raise FieldProblem(item.line, f'"{shown(item.text)}" is too large for an amount (at most 1000万亿 yuan)')
    number = round(number, 2)
    return int(number) if number.is_integer() else number


def format_amount(yuan: float | int) -> str:
    """Yuan for reading: 3,200 元; 12.6 万元; 3.5 亿元."""
    if yuan >= 100_000_000:
        return f"{yuan / 100_000_000:,.4g} 亿元"
    if yuan >= 10_000:
        return f"{yuan / 10_000:,.6g} 万元"
    return f"{yuan:,.2f}".rstrip("0").rstrip(".") + " 元"


def unknown_key_message(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(plain(key).casefold(), known, n=1, cutoff=0.6)
    hint = f' — did you mean "{close[0]}"?' if close else f" (known keys: {', '.join(known)})"
    return f"unknown key{hint}"


@dataclass
class Validated:
    """What :func:`validate` read: converted values by key, and every problem."""

    values: dict[str, object]
    problems: list[Problem]


def validate(entries: list[Entry], rules: dict[str, Rule], display: str, *, within: str = "", line: int = 1) -> Validated:
    """Apply ``rules`` to a document's entries, collecting every problem.

    ``within`` prefixes the field names in messages (``cases.note`` for a
    pack's case entry); ``line`` is where a missing required key is reported.
    """
    values: dict[str, object] = {}
    problems: list[Problem] = []

    def name(key: str) -> str:
        return f"{within}.{key_label(key)}" if within else key_label(key)

    for entry in entries:
        rule = rules.get(entry.key)
        if rule is None:
            problems.append(Problem(display, entry.line, name(entry.key), unknown_key_message(entry.key, list(rules))))
            continue
        if rule.empty(entry.value):
            if rule.required:
                problems.append(Problem(display, entry.line, name(entry.key), "is required and must not be empty"))
            continue
        try:
            values[entry.key] = rule.convert(entry.value, entry.line)
        except FieldProblem as err:
            problems.append(Problem(display, err.line, err.field or name(entry.key), str(err), err.column))
        except FieldProblems as err:
            problems += [Problem(display, p.line, p.field or name(entry.key), str(p), p.column) for p in err.problems]
    present = {e.key for e in entries}
    for key, rule in rules.items():
        if rule.required and key not in present:
            problems.append(Problem(display, line, name(key), "is required but missing"))
    return Validated(values, problems)
