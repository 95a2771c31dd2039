"""Chinese-aware full-text search on stock SQLite FTS5.

SQLite's ``unicode61`` tokenizer keeps a whole run of Chinese characters as
one token, so 受贿 is never found inside 收受贿赂. Like Lucene's CJK analyzer,
the indexed text rewrites every run of CJK characters as overlapping bigrams,
and ends each run with its last character alone::

    张某收受贿赂 -> 张某 某收 收受 受贿 贿赂 赂

A query gets the same rewrite, as an FTS5 phrase of consecutive tokens: 受贿赂
becomes ``"受贿 贿赂"``. One character becomes a prefix query (``"贿" *``),
which finds it in a bigram that starts with it or as the last character of a
run. The result is exact: a case matches a Chinese query if and only if its
searchable text contains the query as a substring. English and other scripts
keep unicode61's word tokens (case-insensitive), reduced to their stems by
FTS5's porter tokenizer, so a word finds its other forms (bribe, bribes,
bribed). Text and query are both read in one script first (受賄 is 受贿, see
text.one_script), and a case's searchable text includes every name of its
vocabulary values (the ``terms`` column: 酒驾 finds a case labelled 酒后驾驶).

The database stays a plain FTS5 table; only the query rewrite needs Python,
and the site installs it as ``escape_fts`` (see plugins/cjk_search.py).
"""

from __future__ import annotations

import html
import operator
import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from .text import INVISIBLE, character_class, fold, one_script

CJK = (
    "\u3005\u3007\u3040-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002fa1f"
)
CJK_RUN = re.compile(f"[{CJK}]+")
CJK_SPLIT = re.compile(f"({CJK_RUN.pattern})")  # split() keeps the runs
SEGMENT = re.compile(f"([{CJK}]+)|([^\\W_{CJK}]+)")
WORD = re.compile(f"[^\\W_{CJK}]+")  # a word as unicode61 reads it, outside the CJK runs
TERM = re.compile(r'"([^"]*)"?|(\S+)')
NO_MATCH = '"\u0001"'  # a phrase no tokenised text can contain


def _separator(ch: str) -> bool:
    """unicode61's default: only letters, numbers and private-use characters make tokens."""
    category = unicodedata.category(ch)
    return not (category[0] in "LN" or category == "Co")


def _index_safe(ch: str) -> bool:
    """Whether NFKC can leave ``ch`` out without changing a single token: it
    is NFKC-stable, or a separator that NFKC turns into separators (the
    full-width punctuation of every Chinese sentence: ， -> ,). Combining
    marks never are, since NFKC joins them to the character before."""
    if unicodedata.category(ch)[0] == "M":
        return False
    folded = unicodedata.normalize("NFKC", ch)
    return folded == ch or (_separator(ch) and all(_separator(c) for c in folded))


# Blocks that make up nearly all case text; what else a text holds sends it
# through the full NFKC normalisation.
_COMMON_BLOCKS = ((0x0000, 0x024F), (0x2000, 0x206F), (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
_NEEDS_NFKC = re.compile(
    "[^" + character_class([c for a, b in _COMMON_BLOCKS for c in range(a, b + 1) if _index_safe(chr(c))]) + "]"
)


def _index_normalise(text: str) -> str:
    """fold() as far as the index's tokens can tell, at a fraction of
    the cost: NFKC only when a character needs it for the tokens to match."""
    if _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
    return one_script(INVISIBLE.sub("", text))


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_text(text: str | None) -> str:
    """``text`` as it goes into the FTS index."""
    if not text:
        return ""

    parts = CJK_SPLIT.split(_index_normalise(text))
    for i in range(1, len(parts), 2):  # the CJK runs
        run = parts[i]
        parts[i] = " " + " ".join(map(operator.add, run[:-1], run[1:])) + " " + run[-1] + " "
    return "".join(parts)


def _term_tokens(term: str) -> tuple[list[str], bool]:
    """FTS tokens for one query term, and whether the last is a prefix."""
    segments = [(m.group(1), m.group(2)) for m in SEGMENT.finditer(one_script(fold(term)))]
    tokens: list[str] = []
    prefix = False
    for position, (run, word) in enumerate(segments):
        last = position == len(segments) - 1
        if word:
            tokens.append(word.lower())
        elif len(run) == 1 and last:
            tokens.append(run)
            prefix = True
        else:
            tokens.extend(_bigrams(run))
            if not last:
                tokens.append(run[-1])
    return tokens, prefix


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def fts_query(query: str | None) -> str:
    """Rewrite what a user typed into an FTS5 MATCH expression.

    Space-separated terms must all match; "quoted phrases" keep their words
    in order. Operators are not interpreted: every word is matched literally.
    """
    parts: list[str] = []
    for match in TERM.finditer(query or ""):
        phrase, word = match.group(1), match.group(2)
        term = phrase if phrase is not None else word
        tokens, prefix = _term_tokens(term)
        if not tokens:
            continue
        expression = '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'
        parts.append(expression + (" *" if prefix else ""))
    return " ".join(parts) if parts else NO_MATCH


def fts_title_query(query: str | None) -> str:
    """The same search, in titles only (an FTS5 column filter)."""
    return f"title : ({fts_query(query)})"


def fts_terms_query(query: str | None) -> str:
    """The same search, in the names of the case's vocabulary values only:
    the cases labelled with what was searched."""
    return f"terms : ({fts_query(query)})"


def query_terms(query: str | None) -> list[str]:
    """The strings a query looks for, folded and in one script."""
    terms = []
    for match in TERM.finditer(query or ""):
        term = one_script(fold(match.group(1) if match.group(1) is not None else match.group(2))).strip()
        if term:
            terms.append(term)
    return terms


_PORTER = snowballstemmer.stemmer("porter")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """An English word's stem, as the index's porter tokenizer makes it
    (SQLite leaves words of one or two letters as they are)."""
    word = word.lower()
    return word if len(word) < 3 else _PORTER.stemWord(word)


def match_spans(text: str, query: str | None) -> list[tuple[int, int]]:
    """Where ``text`` holds what the query looks for: its Chinese and mixed
    terms as written (in either script), its words in any form with the same
    stem. Positions in ``text`` as written, in order, never overlapping."""
    terms = query_terms(query)
    words = {stem(t) for t in terms if WORD.fullmatch(t)}
    literal = sorted((t for t in terms if not WORD.fullmatch(t)), key=len, reverse=True)
    folded = one_script(text)  # same length as text
    spans = [m.span() for m in re.finditer("|".join(map(re.escape, literal)), folded, re.IGNORECASE)] if literal else []
    if words:
        spans += [m.span() for m in WORD.finditer(folded) if stem(m.group()) in words]
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if kept and start < kept[-1][1]:
            kept[-1] = (kept[-1][0], max(end, kept[-1][1]))
        elif end > start:
            kept.append((start, end))
    return kept


def snippet(text: str | None, query: str | None, width: int = 60) -> str:
    """Plain text around the first match (for exports and the search page)."""
    if not text:
        return ""
    text = " ".join(text.split())
    spans = match_spans(text, query)
    start = max(0, spans[0][0] - width // 2) if spans else 0
    end = min(len(text), start + width * 2)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def highlight(text: str | None, query: str | None) -> str:
    """``text`` escaped as HTML, with every match of the query in <mark>."""
    text = text or ""
    pieces = []
    cursor = 0
    for start, end in match_spans(text, query):
        pieces.append(html.escape(text[cursor:start]))
        pieces.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        cursor = end
    pieces.append(html.escape(text[cursor:]))
    return "".join(pieces)


def contains(text: str, query: str) -> bool:
    """The reference meaning of a search: every term is a substring.

    Chinese terms match anywhere, in either script; latin words match as
    whole words in any form with the same stem, ignoring case. Used by tests
    and benchmarks as the ground truth.
    """
    haystack = one_script(fold(text)).casefold()
    searched = False
    for term in query_terms(query):
        tokens, _ = _term_tokens(term)
        if not tokens:
            continue
        searched = True
        if not _contains_term(haystack, term.casefold()):
            return False
    return searched  # a query of punctuation alone looks for nothing


def _contains_term(haystack: str, term: str) -> bool:
    pattern_parts = []
    for run, word in ((m.group(1), m.group(2)) for m in SEGMENT.finditer(term)):
        if run:
            pattern_parts.append(("cjk", re.escape(run)))
        else:
            forms = sorted({w for w in WORD.findall(haystack) if stem(w) == stem(word)})
            if not forms:
                return False
            pattern_parts.append(("word", "(?:" + "|".join(map(re.escape, forms)) + ")"))
    regex = ""
    for index, (kind, part) in enumerate(pattern_parts):
        if index:
            separator = f"(?:[^\\w{CJK}]|_)"  # unicode61 splits words at _ too
            regex += separator + ("*" if kind == "word" or pattern_parts[index - 1][0] == "word" else "+")
        if kind == "word":
            regex += f"(?<![^\\W_{CJK}]){part}(?![^\\W_{CJK}])"
        else:
            regex += part
    return re.search(regex, haystack) is not None


def register_functions(conn) -> None:
    """The site's search functions on an SQLite connection (Datasette's, and the exports' own)."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    conn.create_function("cjk_query", 1, fts_query, deterministic=True)
    conn.create_function("cjk_title_query", 1, fts_title_query, deterministic=True)
    conn.create_function("cjk_terms_query", 1, fts_terms_query, deterministic=True)
    conn.create_function("case_snippet", 2, snippet, deterministic=True)
