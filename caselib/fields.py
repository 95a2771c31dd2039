"""Step 2b: declarative rules for the front-matter fields.

Each rule turns what the author wrote (an :class:`Item` or a list of them) into
a canonical value, or raises :class:`FieldProblem` naming the line. The parser
applies every rule and collects every problem before it gives up on a file.
"""

from __future__ import annotations

import datetime
import difflib
import re
import sys
import unicodedata
from dataclasses import dataclass

from .frontmatter import Item
from .source import ID_PATTERN, shown
from .vocab import AmbiguousTerm, Term, UnknownTerm, Vocabulary, vocabulary

DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
AMOUNT_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)(万|亿)?$")
AMOUNT_UNITS = {None: 1, "万": 10_000, "亿": 100_000_000}
AMOUNT_PREFIXES = ("人民币", "rmb", "cny", "¥", "￥")
MAX_TEXT = 2000
MAX_AMOUNT = 10**15  # yuan; anything larger is a typing slip
DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
# Invisible characters dropped from text values: zero-width space, word joiner,
# soft hyphen, byte-order mark and the bidirectional controls. The zero-width
# joiners stay (emoji sequences and some scripts need them).
INVISIBLE = frozenset("\u200b\u2060\u00ad\ufeff\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE_PATTERN = re.compile("[" + "".join(sorted(INVISIBLE)) + "]")
# Every format character (Unicode category Cf), as one character class.
FORMAT_CHARACTERS = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf") + "]"
)


class FieldProblem(ValueError):
    """A value broke its field's rule; ``line`` is where it was written."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


Value = Item | list[Item]


def _one(value: Value, line: int) -> Item:
    if isinstance(value, list):
        raise FieldProblem(line, "expected one value, not a list")
    return value


def _many(value: Value) -> list[Item]:
    return value if isinstance(value, list) else [value]


def plain(text: str) -> str:
    """What a value written for matching means: NFKC, no format characters, trimmed.

    Full-width digits and letters become ASCII (２０１９ -> 2019), and invisible
    characters pasted inside a word (a zero-width space in 受贿) no longer hide it.
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return FORMAT_CHARACTERS.sub("", text).strip()


def _visible(text: str) -> str:
    return INVISIBLE_PATTERN.sub("", text)


def _present(items: list[Item]) -> list[Item]:
    return [i for i in items if not i.is_null and plain(i.text)]


def _clean_text(item: Item) -> str:
    text = " ".join(_visible(item.text).split())
    if len(text) > MAX_TEXT:
        raise FieldProblem(item.line, f"text is too long ({len(text)} characters; at most {MAX_TEXT})")
    return text


@dataclass(frozen=True)
class Rule:
    required: bool = False

    def empty(self, value: Value) -> bool:
        return not _present(_many(value))

    def convert(self, value: Value, line: int):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Rule):
    def convert(self, value: Value, line: int) -> str:
        return _clean_text(_one(value, line))


@dataclass(frozen=True)
class TextList(Rule):
    def convert(self, value: Value, line: int) -> list[str]:
        result: list[str] = []
        for item in _present(_many(value)):
            text = _clean_text(item)
            if text not in result:
                result.append(text)
        return result


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
        item = _one(value, line)
        return parse_date(item)


@dataclass(frozen=True)
class Amount(Rule):
    def convert(self, value: Value, line: int) -> int | float:
        item = _one(value, line)
        return parse_amount(item)


@dataclass(frozen=True)
class Ids(Rule):
    def convert(self, value: Value, line: int) -> list[tuple[str, int]]:
        result: list[tuple[str, int]] = []
        for item in _present(_many(value)):
            text = plain(item.text)
            if not ID_PATTERN.match(text):
                raise FieldProblem(item.line, f'"{shown(item.text)}" is not a case id (lower-case letters, digits and -, as in the file name without .md)')
            if text not in [r[0] for r in result]:
                result.append((text, item.line))
        return result


@dataclass(frozen=True)
class Terms(Rule):
    """Values from a vocabulary: a list (``multiple``) or one value."""

    vocabulary: str = ""

    def convert(self, value: Value, line: int) -> list[str] | str:
        vocab = vocabulary(self.vocabulary)
        items = _present(_many(value)) if vocab.multiple else [_one(value, line)]
        codes: list[str] = []
        for item in items:
            terms = resolve_term(vocab, item)
            for term in terms:
                if term.code not in codes:
                    codes.append(term.code)
        return codes if vocab.multiple else codes[0]


def resolve_term(vocab: Vocabulary, item: Item) -> list[Term]:
    """The term(s) an item names; FieldProblem quoting what was written."""
    try:
        return vocab.resolve(plain(item.text))
    except UnknownTerm as err:
        hint = f' — did you mean "{err.suggestion}"?' if err.suggestion else ""
        raise FieldProblem(item.line, f'unknown value "{shown(item.text)}"{hint}') from None
    except AmbiguousTerm as err:
        options = " or ".join(f'"{c}"' for c in err.choices)
        raise FieldProblem(item.line, f'"{shown(item.text)}" is ambiguous — write {options}') from None


def parse_date(item: Item) -> str:
    text = plain(item.text).translate(DASHES)
    match = DATE_PATTERN.match(text)
    if not match:
        raise FieldProblem(item.line, f'"{shown(item.text)}" is not a date: write YYYY-MM-DD, YYYY-MM or YYYY')
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        datetime.date(year, month or 1, day or 1)
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


FIELDS: dict[str, Rule] = {
    "title": Text(required=True),
    "date": Date(required=True),
    "violations": Terms(required=True, vocabulary="violations"),
    "sanctions": Terms(vocabulary="sanctions"),
    "disciplines": Terms(vocabulary="disciplines"),
    "form": Terms(vocabulary="form"),
    "rank": Terms(vocabulary="rank"),
    "personnel": Terms(vocabulary="personnel"),
    "region": Text(),
    "unit": Text(),
    "position": Text(),
    "amount": Amount(),
    "period": Text(),
    "source": Text(),
    "tags": TextList(),
    "related": Ids(),
    "lang": Choice(choices=("zh", "en")),
}


def unknown_key_message(key: str) -> str:
    close = difflib.get_close_matches(plain(key).casefold(), list(FIELDS), n=1, cutoff=0.6)
    hint = f' — did you mean "{close[0]}"?' if close else f" (known keys: {', '.join(FIELDS)})"
    return f"unknown key{hint}"
