"""Finding vocabulary values in running text.

A notice never writes ``sanctions: [党内严重警告]``; it writes "受到党内严重警告
处分" or "由市监委给予其开除公职处分". A :class:`Scanner` finds, in a piece of
text, every Chinese label, alias and expansion of one vocabulary (双开 and
开除党籍和公职 name both expulsions), longest first, and before them the
vocabulary's standard phrases (``phrases`` in ``vocabularies.yml``), which
name a value in other words ("违纪所得被收缴", "免去其副庭长职务"). Each phrase
means a spelling that the vocabulary itself resolves, so nothing is found
that the vocabulary does not have; a phrase may also mean nothing, only to
keep a shorter label from being read inside it (法官助理 is no 法官).

Only spellings with at least two Chinese characters are looked for: codes,
English labels and one-character aliases (形态 "一") would be found in any
text. Full-width forms and curly quotes are read as ASCII for matching; the
positions found are positions in the text as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..text import HAN, QUOTES, halfwidth
from ..vocab import Term, Vocabulary, vocabulary

HAN_CHAR = re.compile(f"[{HAN}]")
MIN_HAN = 2
MASK = "\x00"
WITHIN_CLAUSE = "[^，,。；;！？!?]{0,16}"  # what … stands for in a phrase: a few characters of one clause


def phrase_pattern(text: str) -> re.Pattern:
    """A phrase of ``vocabularies.yml`` as a regular expression (… as WITHIN_CLAUSE)."""
    return re.compile(text.replace("…", WITHIN_CLAUSE))


def for_matching(text: str) -> str:
    """The text as compared, one character for one: full-width forms and curly quotes as ASCII."""
    return halfwidth(text).translate(QUOTES)


@dataclass(frozen=True)
class Found:
    """Where a value is named: the term(s), and the span in the text."""

    terms: tuple[Term, ...]
    start: int
    end: int


class Scanner:
    """Finds one vocabulary's values in text (see the module's docstring)."""

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        self.phrases = [(phrase_pattern(text), tuple(vocab.resolve(means)) if means else ()) for text, means in vocab.phrases]
        self.spellings = {for_matching(s): terms for s, terms in vocab.spellings().items() if len(HAN_CHAR.findall(s)) >= MIN_HAN}
        longest_first = sorted(self.spellings, key=lambda s: (-len(s), s))
        self.words = re.compile("|".join(re.escape(s) for s in longest_first))
        self.ambiguous = re.compile("|".join(re.escape(for_matching(s)) for s in vocab.ambiguous)) if vocab.ambiguous else None

    def _scan(self, text: str) -> tuple[list[Found], str]:
        """Every value named, in text order, and the text with their spans masked."""
        masked = for_matching(text)
        found: list[Found] = []

        def take(start: int, end: int, terms: tuple[Term, ...]) -> None:
            nonlocal masked
            if terms:
                found.append(Found(terms, start, end))
            masked = masked[:start] + MASK * (end - start) + masked[end:]

        for pattern, terms in self.phrases:
            for match in list(pattern.finditer(masked)):
                take(match.start(), match.end(), terms)
        for match in list(self.words.finditer(masked)):
            take(match.start(), match.end(), self.spellings[match.group()])
        return sorted(found, key=lambda f: f.start), masked

    def find(self, text: str) -> list[Found]:
        return self._scan(text)[0]

    def terms(self, text: str) -> list[Term]:
        """The terms named in ``text``, each once, in the order they are first named."""
        result: list[Term] = []
        for found in self.find(text):
            result += [t for t in found.terms if t not in result]
        return result

    def first(self, text: str) -> Term | None:
        terms = self.terms(text)
        return terms[0] if terms else None

    def unresolved(self, text: str) -> list[str]:
        """Ambiguous words (警告) that ``text`` uses outside every longer spelling (党内警告)."""
        if self.ambiguous is None:
            return []
        masked = self._scan(text)[1]
        return list(dict.fromkeys(m.group() for m in self.ambiguous.finditer(masked)))


@lru_cache(maxsize=None)
def scanner(name: str) -> Scanner:
    return Scanner(vocabulary(name))
