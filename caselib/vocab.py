"""The controlled vocabularies, loaded from ``vocabularies.yml``.

Every other part of the library asks this module: validation resolves what an
author wrote to canonical values, the store writes the lookup tables, and the
site's column descriptions are checked against :func:`column_descriptions`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .text import key as normalise_key

VOCABULARY_FILE = Path(__file__).with_name("vocabularies.yml")


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary."""

    code: str
    zh: str
    en: str
    group: str
    aliases: tuple[str, ...]
    description: str


class UnknownTerm(ValueError):
    """Raised when a written value matches no term; carries a suggestion."""

    def __init__(self, raw: str, suggestion: str | None):
        self.raw = raw
        self.suggestion = suggestion
        hint = f' — did you mean "{suggestion}"?' if suggestion else ""
        super().__init__(f'unknown value "{raw}"{hint}')


class AmbiguousTerm(ValueError):
    """Raised when a written value could mean several terms (警告)."""

    def __init__(self, raw: str, choices: list[str]):
        self.raw = raw
        self.choices = choices
        options = " or ".join(f'"{c}"' for c in choices)
        super().__init__(f'"{raw}" is ambiguous — write {options}')


@dataclass
class Vocabulary:
    """A named vocabulary (violations, sanctions, …) and its lookup rules."""

    name: str
    table: str
    label: str
    description: str
    multiple: bool
    terms: tuple[Term, ...]
    link_table: str | None = None
    expansions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: tuple[tuple[str, str | None], ...] = ()  # how notices name values (build.py import): pattern, spelling

    def __post_init__(self) -> None:
        self.by_code = {t.code: t for t in self.terms}
        self.by_zh = {t.zh: t for t in self.terms}
        self._index: dict[str, tuple[str, ...]] = {}
        for term in self.terms:
            for spelling in (term.code, term.zh, term.en, *term.aliases):
                self._index[normalise_key(spelling)] = (term.code,)
        for spelling, codes in self.expansions.items():
            self._index[normalise_key(spelling)] = tuple(codes)
        self._ambiguous = {normalise_key(k): v for k, v in self.ambiguous.items()}
        spellings = {(normalise_key(s), t.code) for t in self.terms for s in (t.zh, t.en, *t.aliases)}
        self._longest_first = [(written, self.by_code[code]) for written, code in sorted(spellings, key=lambda p: (-len(p[0]), p))]

    def resolve(self, raw: str) -> list[Term]:
        """Return the term(s) ``raw`` names; raise UnknownTerm or AmbiguousTerm."""
        key = normalise_key(raw)
        if key in self._ambiguous:
            raise AmbiguousTerm(raw, [self.by_code[c].zh for c in self._ambiguous[key]])
        codes = self._index.get(key)
        if codes is None:
            raise UnknownTerm(raw, self.suggest(raw))
        return [self.by_code[c] for c in codes]

    def named(self, raw: str) -> tuple[list[Term], bool]:
        """The terms ``raw`` is a name of (label, English label, code or alias,
        in any letter case), none when it is no name; and whether it names all
        of them together (a shorthand such as 双开) rather than any one of them
        (a word that is ambiguous, such as 警告)."""
        key = normalise_key(raw)
        if key in self._ambiguous:
            return [self.by_code[c] for c in self._ambiguous[key]], False
        return [self.by_code[c] for c in self._index.get(key, ())], True

    def suggest(self, raw: str) -> str | None:
        """The closest label or alias, as its canonical Chinese label."""
        key = normalise_key(raw)
        matches = difflib.get_close_matches(key, list(self._index), n=1, cutoff=0.6)
        if not matches:
            return None
        codes = self._index[matches[0]]
        return "、".join(self.by_code[c].zh for c in codes)

    def at_start(self, text: str) -> Term | None:
        """The term whose label or alias ``text`` starts with (the longest
        such spelling), in any letter case; a Latin spelling must end at a
        word's end (Shanxi is not the start of Shanxian)."""
        found = self.match_at_start(text)
        return found[0] if found else None

    def match_at_start(self, text: str) -> tuple[Term, str] | None:
        """As :meth:`at_start`, with the spelling that matched (in its normalised form)."""
        key = normalise_key(text)
        for written, term in self._longest_first:
            if key.startswith(written) and not (written.isascii() and key[len(written) : len(written) + 1].isalnum()):
                return term, written
        return None

    def spellings(self) -> dict[str, tuple[Term, ...]]:
        """Every Chinese label, alias and expansion as written in the
        vocabulary, with the term(s) it names (双开: both expulsions)."""
        found: dict[str, tuple[Term, ...]] = {}
        for term in self.terms:
            for spelling in (term.zh, *term.aliases):
                found.setdefault(spelling, (term,))
        for spelling, codes in self.expansions.items():
            found[spelling] = tuple(self.by_code[c] for c in codes)
        return found

    def labels(self) -> list[str]:
        return [t.zh for t in self.terms]

    @property
    def link_column(self) -> str:
        """violations -> violation_code: the link table's column for this vocabulary."""
        return f"{self.name.removesuffix('s')}_code"

    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for term in self.terms:
            if term.group:
                seen[term.group] = None
        return list(seen)


def _term(data: dict) -> Term:
    return Term(
        code=data["code"],
        zh=data["zh"],
        en=data["en"],
        group=data.get("group", ""),
        aliases=tuple(str(a) for a in data.get("aliases", [])),
        description=data.get("description", ""),
    )


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    """All vocabularies by front-matter field name."""
    data = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))
    result = {}
    for name, spec in data.items():
        result[name] = Vocabulary(
            name=name,
            table=spec["table"],
            label=spec["label"],
            description=spec["description"],
            multiple=spec["multiple"],
            terms=tuple(_term(v) for v in spec["values"]),
            link_table=spec.get("link_table"),
            expansions={k: tuple(v) for k, v in spec.get("expansions", {}).items()},
            ambiguous={k: tuple(v) for k, v in spec.get("ambiguous", {}).items()},
            phrases=tuple((str(p["text"]), p["means"]) for p in spec.get("phrases", [])),
        )
    return result


def vocabulary(name: str) -> Vocabulary:
    return vocabularies()[name]


def column_descriptions() -> dict[str, str]:
    """Descriptions of the ``cases`` columns that hold vocabulary values.

    metadata.yml carries these texts; tests/test_vocabularies.py checks that
    it still agrees with this file.
    """
    result = {}
    for name, vocab in vocabularies().items():
        groups = vocab.groups()
        listed = "分为" + "、".join(groups) if groups else "、".join(vocab.labels())
        result[name] = f"{vocab.description}。{listed}。"
    return result


def lookup_rows(vocab: Vocabulary) -> list[dict]:
    """The rows of a vocabulary's lookup table."""
    return [
        {
            "code": t.code,
            "zh": t.zh,
            "en": t.en,
            "group": t.group,
            "aliases": list(t.aliases),
            "description": t.description,
            "sort": i,
        }
        for i, t in enumerate(vocab.terms)
    ]
