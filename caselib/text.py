"""Text normalisation: the one place that says which characters are invisible,
how full-width forms read, and what NFKC does to what an author wrote.

Two uses, two functions:

- :func:`fold` is for *matching* (vocabulary values, dates, ids, amounts,
  section headings, search): NFKC, so that full-width digits and letters read
  as ASCII (２０１９ -> 2019, ＫＴＶ -> KTV), and every invisible character
  dropped, so that a zero-width space pasted inside 受贿 no longer hides it.
- :func:`one_script` is for *search*: traditional characters read as their
  simplified forms (受賄 -> 受贿), character by character, so a text and a
  query fold alike and a folded text keeps its length.
- :func:`visible` and :func:`one_line` are for *text that is kept* (titles,
  units, notes): characters a reader cannot see are dropped, but the text is
  otherwise stored as written (no NFKC), and the joiners and selectors that
  emoji and some scripts need stay.

Invisible means Unicode's default-ignorable code points and format characters
(category Cf: zero-width spaces and joiners, direction marks, soft hyphens,
byte-order marks, variation selectors …) and the control characters other
than tab and line feed.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

import opencc

# Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt).
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # every control character but tab and line feed
# Kept in stored text: joiners and variation selectors shape emoji and some
# scripts, emoji tag characters make subdivision flags.
SHAPING = frozenset(
    [0x200C, 0x200D, *range(0xFE00, 0xFE10), *range(0xE0020, 0xE0080), *range(0xE0100, 0xE01F0)]
)
MAX_SHOWN = 60  # characters of a quoted value shown in a message
HAN = "\u3400-\u9fff\uf900-\ufaff"  # Chinese characters (CJK unified and compatibility ideographs)


def _invisible_code_points() -> list[int]:
    codes = {c for first, last in DEFAULT_IGNORABLE for c in range(first, last + 1)}
    codes.update(c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    return sorted(codes)


def character_class(codes: list[int]) -> str:
    """A regex character class body for sorted code points, as ranges."""
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


_INVISIBLE_CODES = _invisible_code_points()
INVISIBLE = re.compile(f"[{CONTROLS}{character_class(_INVISIBLE_CODES)}]")
UNSEEN = re.compile(f"[{CONTROLS}{character_class([c for c in _INVISIBLE_CODES if c not in SHAPING])}]")
QUOTES = str.maketrans({"“": '"', "”": '"'})
# Full-width forms of ASCII (U+FF01-FF5E) and the ideographic space, one character for one.
HALFWIDTH = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " "})


def is_invisible(ch: str) -> bool:
    return INVISIBLE.fullmatch(ch) is not None


def nfkc(text: str) -> str:
    """NFKC, skipped when the text is already normalised (most text is)."""
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """The form compared when matching: NFKC, every invisible character dropped."""
    return INVISIBLE.sub("", nfkc(text))


def halfwidth(text: str) -> str:
    """``text`` with full-width digits, letters and punctuation as ASCII
    (２０２３年５月 -> 2023年5月, ３．６万 -> 3.6万, （一） -> (一)), one
    character for one, so that a position in the result is the same position
    in ``text``: for finding things in text that is kept as written."""
    return text.translate(HALFWIDTH)


def plain(text: str) -> str:
    """What a value written for matching means: folded and trimmed."""
    return fold(text).strip()


def key(text: str) -> str:
    """The form in which two spellings of a vocabulary value are compared:
    folded, case-folded, curly quotes as straight ones, ``_`` as ``-`` and
    runs of white space as one space."""
    folded = fold(text).casefold().translate(QUOTES).replace("_", "-")
    return " ".join(folded.split())


def visible(text: str) -> str:
    """``text`` without the characters a reader cannot see (see SHAPING for what stays)."""
    return UNSEEN.sub("", text)


def one_line(text: str) -> str:
    """Visible text on one line, runs of white space as one space."""
    return " ".join(visible(text).split())


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """A value as quoted in a message: one line, invisible characters spelt
    out as \\uXXXX, cut to ``limit`` characters with … when cut."""
    pieces = []
    for ch in text[:limit]:
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) != "Cf"):
            pieces.append(ch)
        else:
            pieces.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "".join(pieces) + ("…" if len(text) > limit else "")


# Traditional and simplified Chinese are one script for search: OpenCC's
# Traditional-to-Simplified table (its dictionaries ship in the wheel,
# Apache-2.0), applied one character at a time so that folding commutes with
# taking a substring: a text contains a query exactly when the folded text
# contains the folded query, and positions in the folded text are positions
# in the text as written (snippets and highlights show the original).
SCRIPT_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF))
OPENCC_CONFIG = "t2s"


@cache
def _script_table() -> tuple[dict[int, str], re.Pattern]:
    converter = opencc.OpenCC(OPENCC_CONFIG)
    chars = [chr(c) for first, last in SCRIPT_RANGES for c in range(first, last + 1)]
    converted = converter.convert("\n".join(chars)).split("\n")  # one line each: no phrase spans two
    table = {ord(a): b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}
    return table, re.compile(f"[{character_class(sorted(table))}]")


def one_script(text: str) -> str:
    """``text`` with every traditional character as its simplified form (same length)."""
    table, traditional = _script_table()
    return text.translate(table) if traditional.search(text) else text
