"""Case ids from a title: the year and the pinyin of the title's key words.

"某县自然资源局原党组书记、局长张某某违规收受礼品礼金案" in 2023 becomes
``2023-ziranziyuanju-juzhang-shousong-lipin-lijin``: the unit without its
place and 某 words, the post (its last title when it holds several), and
the matter: the violation type it names (by its label), else its own
words, two characters a word (there is no word list to cut it by). The
name is never part of it. Pinyin is by pypinyin (its phrase dictionary reads
重庆 as chongqing and 银行 as yinhang); ü is written v, as pinyin does in
ASCII. An id already taken gets -2, -3 … .
"""

from __future__ import annotations

import re
from typing import Callable

from pypinyin import Style, lazy_pinyin

from ..source import ID_PATTERN
from ..text import HAN
from .extract import POSITION_WORD, UNIT_END, Heading
from .phrases import scanner

SOME_PLACE = re.compile(rf"某[{HAN}]{{0,4}}?(?:街道|社区|省|市|州|区|县|旗|镇|乡|村)|某")  # 某县, 某街道, 某局: a place or unit left unnamed
UNIT_NOISE = re.compile("人民|中华人民共和国|中国共产党|原")
MATTER_NOISE = re.compile("^(?:严重|多次|长期|违规|违反|涉嫌)+")
POST_MAX = 5  # characters of a post kept whole
EMPLOYER_MAX = 6  # characters of an employer's name kept whole
MATTER_WORDS = 3
MAX_LENGTH = 64
FALLBACK_WORD = "anli"  # 案例: a title with no Chinese key word


def pinyin(word: str) -> str:
    """One word in ASCII pinyin without tones, lower case, letters and digits only."""
    text = "".join(lazy_pinyin(word, style=Style.NORMAL))
    return re.sub(r"[^a-z0-9]", "", text.lower())


def post_word(post: str) -> str:
    """The post's key word: its last title (原党组书记、局长 -> 局长; 民事审判第一庭副庭长 -> 副庭长)."""
    last = re.split("[、，, ]", post)[-1].removeprefix("原")
    if len(last) <= POST_MAX:  # also the empty post
        return last
    titles = list(POSITION_WORD.finditer(last))
    if not titles:
        return last[:POST_MAX]
    start = titles[-1].start()
    return last[start - 1 if start and last[start - 1] == "副" else start : titles[-1].end()]


def pairs(text: str, count: int) -> list[str]:
    """The first ``count`` two-character words of the Chinese characters in ``text``."""
    chars = "".join(re.findall(f"[{HAN}A-Za-z0-9]", text))
    return [chars[i : i + 2] for i in range(0, min(len(chars), 2 * count), 2)]


def employer_word(employer: str) -> str:
    """The employer without place, 某 words and 人民; cut after its first unit word when long
    (某县人民法院民事审判第一庭 -> 法院)."""
    core = UNIT_NOISE.sub("", SOME_PLACE.sub("", employer))
    first = UNIT_END.search(core)
    return core[: first.end()] if len(core) > EMPLOYER_MAX and first else core


def matter_words(matter: str) -> list[str]:
    """The matter's key words: the first violation type it names, by its label
    (违规接受某公司安排的宴请 -> 吃喝), else its own first characters."""
    named = scanner("violations").first(matter)
    text = named.zh if named else SOME_PLACE.sub("", matter)
    return pairs(MATTER_NOISE.sub("", text), MATTER_WORDS)


def key_words(heading: Heading) -> list[str]:
    words = [employer_word(heading.employer or ""), post_word(heading.post or ""), *matter_words(heading.matter)]
    return [w for w in words if w]


def base_id(year: str, heading: Heading) -> str:
    """``year-pinyin-of-key-words``, at most MAX_LENGTH characters, cut between words."""
    parts = [year]
    for word in dict.fromkeys(pinyin(w) for w in key_words(heading)):
        if word and len("-".join([*parts, word])) <= MAX_LENGTH:
            parts.append(word)
    if len(parts) == 1:
        parts.append(FALLBACK_WORD)
    return "-".join(parts)


def unique_id(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, or ``base-2``, ``base-3`` … : the first that ``taken`` says is free."""
    candidate, number = base, 1
    while taken(candidate):
        number += 1
        candidate = f"{base}-{number}"
    if not ID_PATTERN.match(candidate):  # pragma: no cover - pinyin() leaves only [a-z0-9]
        raise ValueError(f"not a case id: {candidate}")
    return candidate
