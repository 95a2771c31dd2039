"""Split a notice into its cases.

Two shapes of notice are read:

- a **typical-case notice** (典型问题通报): a title, the date, a preamble,
  then numbered items — ``1.`` ``1、`` ``（一）`` ``一、`` ``案例一：`` — each one case
  whose first sentence is its heading ("某县某局局长张某某违规收受礼品礼金问题。"),
  then the facts and the outcome, and often the notice's own commentary at
  the end ("上述典型问题……", "各级党组织要……");
- a **notice about one person** (a 双开 notice, an internal 通报): a title that
  names the person and the matter, the date, then the facts ("经查，……") and
  the decision ("决定给予……开除党籍处分").

When several numbering styles are used, the cases are the style with the
most items that read like a case's heading; a style met before the first of
them heads sections and is left out of the cases' text, one first met inside
a case is part of that case's text. The notice's date is a line that holds
only a date (``（2024年6月18日）``, ``发布时间：2024-06-18``); the issuing body's
name and the date at the end are not part of any case.

Within a case the outcome starts at the first sentence that names a sanction
or a decision ("受到……处分", "给予……", "移送……"); what comes before is the facts.
A later paragraph that neither names the case's person nor refers back to
them (给予其, 将其) is the notice's own word, read as commentary: no sanction
is taken from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import LibraryError
from ..text import HAN
from .phrases import for_matching, scanner

CHINESE_NUMERALS = "一二三四五六七八九十"
NUMBERED = {  # numbering style -> the pattern of an item's first line (matched in half-width form)
    "1.": re.compile(r"^(\d{1,2})\s*[.、](?!\d)\s*"),
    "(一)": re.compile(rf"^\(([{CHINESE_NUMERALS}]{{1,3}})\)\s*"),
    "(1)": re.compile(r"^\((\d{1,2})\)\s*"),
    "一、": re.compile(rf"^([{CHINESE_NUMERALS}]{{1,3}})\s*[、.]\s*"),
    "案例一": re.compile(rf"^【?(?:典型)?案例\s*([{CHINESE_NUMERALS}]{{1,3}}|\d{{1,2}})\s*】?\s*[:、.]?\s*"),
}
CASE_WORDS = re.compile("问题|违纪|违法|违规|违反|受贿|贪污|挪用|滥用职权|玩忽职守|失职|渎职|不作为|形式主义|官僚主义|某")
DATE_LINE = re.compile(
    r"^\(?\s*(?:(?:发布|印发|通报)?(?:时间|日期)\s*[:]\s*)?"
    r"(?P<date>(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?)(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*\)?$"
)
SENTENCE = re.compile(r"[^。！？!?]*(?:[。！？!?]+[”’」』）)]*|$)")
COMPOUND_SURNAMES = "欧阳|司马|诸葛|上官|东方|皇甫|令狐|公孙|慕容|尉迟|宇文|司徒|夏侯|端木|南宫|独孤|西门|万俟"
# A person as notices name one: 张某, 李某某, 欧阳某某 (not the 县某 of 某县某局)
NAME = re.compile(
    rf"(?:{COMPOUND_SURNAMES}|[{HAN}])某某?"
    r"(?![\u4e00-\u9fff]{0,2}?(?:局|院|县|区|市|省|镇|乡|村|公司|厂|委|办公室|科|处|派出所|站|队|中心|学校|医院|银行|集团|企业))"
)
# "其" standing for the person just named (给予其, 将其, 其涉嫌), not 其他 or 其中
REFERS_BACK = re.compile(r"(?:给予|对|将|收缴|追缴|责令|免去|撤销|开除|^|[，,；;。：:])其(?![他中余实次])")
HEADING_MAX = 80  # characters of a heading that is a whole line without a full stop
TITLE_MAX = 100
SIGN_OFF = re.compile(r"^[^，,。；;:：]{2,30}(?:纪委监委|纪委|监委|委员会|委|局|院|厅|办公室|政府|部|组)$")
COMMENTARY = re.compile(
    r"^(?:上述|以上|前述|这些|这\S{0,3}起|通报的|各级|全市|全县|全区|全省|全州|全盟|全系统|全院|全体|广大|党员干部|领导干部"
    r"|(?:各)?[级地]?(?:纪检监察|党组织)|中央八项规定|\S{0,8}纪委监委(?:指出|强调|要求|提醒))"
)
OUTCOME = re.compile(
    r"(?:受到|给予|予以|作出|被)[^。；;]{0,40}(?:处分|处理|问责|诫勉|批评教育|谈话提醒|判处|开除|免职|撤职)"
    r"|(?:移送|移交)(?:检察|司法)机关|被判处|依纪依法|依规依纪依法"
)
DECISION = re.compile(
    r"给予[^。]{0,40}处分|受到[^。]{0,40}(?:处分|处理)|开除党籍|开除公职|双开|移送检察机关|审查起诉|判处|诫勉|严重违纪违法|被查处"
)


class NoCase(LibraryError):
    """A notice in which no case was found."""


@dataclass
class Part:
    """One case's text in the notice."""

    number: int  # its item number, counted from 1 in the notice; 0 for a notice about one person
    heading: str  # the heading sentence, without its number and full stop
    facts: list[str] = field(default_factory=list)  # paragraphs
    outcome: list[str] = field(default_factory=list)
    commentary: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Everything the case says about itself (not the notice's commentary)."""
        return "\n".join([self.heading, *self.facts, *self.outcome])


@dataclass
class Notice:
    title: str | None
    date: tuple[str, str] | None  # (YYYY-MM-DD, as written)
    header: list[str]  # the lines before the first case: title, date, preamble
    parts: list[Part]


def item_number(line: str, style: str) -> int | None:
    match = NUMBERED[style].match(for_matching(line))
    if not match:
        return None
    number = match.group(1)
    return int(number) if number.isdigit() else chinese_number(number)


def chinese_number(text: str) -> int:
    """一 … 九十九 as an int."""
    digits = {c: i + 1 for i, c in enumerate(CHINESE_NUMERALS[:9])}
    if "十" not in text:
        return digits.get(text, 0)
    tens, _, ones = text.partition("十")
    return digits.get(tens, 1) * 10 + digits.get(ones, 0)


def strip_number(line: str, style: str) -> str:
    match = NUMBERED[style].match(for_matching(line))
    return line[match.end() :] if match else line


def date_of_line(line: str) -> tuple[str, str] | None:
    """(YYYY-MM-DD, as written) when the line holds only a date."""
    match = DATE_LINE.match(for_matching(line))
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups()[1:])
    return f"{year:04d}-{month:02d}-{day:02d}", line[match.start("date") : match.end("date")]


def sentences(paragraph: str) -> list[str]:
    return [s for s in SENTENCE.findall(paragraph) if s.strip()]


def looks_like_case(line: str, style: str) -> bool:
    first = sentences(strip_number(line, style))
    return bool(first) and CASE_WORDS.search(first[0]) is not None


def _runs(numbers: list[int]) -> bool:
    """Numbers that count up from 1 (starting again at 1 under a new section)."""
    previous = 0
    for number in numbers:
        if number not in (previous + 1, 1):
            return False
        previous = number
    return bool(numbers) and numbers[0] == 1


def case_style(lines: list[str]) -> str | None:
    """The numbering style of the cases, or None when the notice has no numbered cases."""
    best: tuple[int, int, str] | None = None
    for style in NUMBERED:
        numbered = [(i, item_number(line, style)) for i, line in enumerate(lines)]
        numbered = [(i, n) for i, n in numbered if n]
        if not _runs([n for _, n in numbered]):
            continue
        score = sum(looks_like_case(lines[i], style) for i, _ in numbered)
        if score and (best is None or (score, len(numbered)) > best[:2]):
            best = (score, len(numbered), style)
    return best[2] if best else None


def split_heading(line: str) -> tuple[str, str]:
    """An item's first line as (heading sentence without its full stop, the rest)."""
    first = sentences(line)
    if not first:
        return "", ""
    head = first[0]
    if not re.search(r"[。！？!?]", head) and len(head) > HEADING_MAX:
        clause = re.match(r"[^，,]*", head)
        head = clause.group() if clause and clause.group() else head
    rest = line[len(head) :].lstrip("，,：: ")
    return head.strip().rstrip("。！？!?：:").strip(), rest.strip()


def split_outcome(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """(facts, outcome): the outcome starts at the first sentence that names a sanction or a decision."""
    sanctions = scanner("sanctions")
    for index, paragraph in enumerate(paragraphs):
        said = sentences(paragraph)
        for number, sentence in enumerate(said):
            if OUTCOME.search(for_matching(sentence)) or sanctions.find(sentence):
                before = "".join(said[:number]).strip()
                after = "".join(said[number:]).strip()
                return paragraphs[:index] + ([before] if before else []), [after] + paragraphs[index + 1 :]
    return paragraphs, []


def split_commentary(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """(the case's own paragraphs, the notice's commentary after them)."""
    for index, paragraph in enumerate(paragraphs):
        if index and COMMENTARY.match(for_matching(paragraph)):
            return paragraphs[:index], paragraphs[index:]
    return paragraphs, []


def split_closing(outcome: list[str], heading: str) -> tuple[list[str], list[str]]:
    """(the outcome, what follows it): after the outcome's first paragraph, a
    paragraph that neither names the person the heading names nor refers back
    to them ("决定给予其开除党籍处分") is the notice's own word ("对顶风违纪的，
    该开除党籍的坚决开除党籍"), or about someone else: not this case's outcome."""
    names = {m.group() for m in NAME.finditer(heading)}
    if not names:
        return outcome, []
    for index, paragraph in enumerate(outcome[1:], 1):
        if not any(name in paragraph for name in names) and not REFERS_BACK.search(paragraph):
            return outcome[:index], outcome[index:]
    return outcome, []


def make_part(number: int, heading: str, paragraphs: list[str]) -> Part:
    own, commentary = split_commentary(paragraphs)
    facts, outcome = split_outcome(own)
    outcome, closing = split_closing(outcome, heading)
    return Part(number, heading, facts, outcome, closing + commentary)


def notice_title(lines: list[str]) -> str | None:
    """The first line, when it reads as a title: no full stop, not numbered, not too long."""
    if not lines:
        return None
    first = lines[0]
    if date_of_line(first) or len(first) > TITLE_MAX or re.search(r"[。；;]$", first):
        return None
    if any(item_number(first, style) for style in NUMBERED):
        return None
    return first.strip("《》")


def trailing_lines(lines: list[str]) -> tuple[list[str], tuple[str, str] | None]:
    """The lines without the issuing body's name and the date at the end, and that date."""
    date = None
    while lines:
        last = lines[-1]
        found = date_of_line(last)
        if found:
            date = date or found
        elif not SIGN_OFF.match(for_matching(last)):
            break
        lines = lines[:-1]
    return lines, date


def typical_parts(lines: list[str], style: str) -> tuple[list[str], list[Part]]:
    """The header and one Part per numbered item of ``style``."""
    starts = [i for i, line in enumerate(lines) if item_number(line, style)]
    first = starts[0]
    higher = {s for s in NUMBERED if s != style and any(item_number(line, s) for line in lines[:first])}
    parts: list[Part] = []
    for count, start in enumerate(starts, 1):
        end = starts[count] if count < len(starts) else len(lines)
        body: list[str] = []
        for line in lines[start + 1 : end]:
            if any(item_number(line, s) for s in higher):
                break  # a section heading: the item ends here
            body.append(line)
        heading, rest = split_heading(strip_number(lines[start], style))
        parts.append(make_part(count, heading, ([rest] if rest else []) + body))
    share_commentary(parts)
    return lines[:first], parts


def share_commentary(parts: list[Part]) -> None:
    """What follows the last item is the notice's commentary: every case
    without commentary of its own gets it."""
    closing = parts[-1].commentary
    for part in parts[:-1]:
        if not part.commentary:
            part.commentary = list(closing)


def single_part(lines: list[str], title: str | None) -> Part:
    body = lines[1:] if title else lines
    heading = title or split_heading(lines[0])[0]
    return make_part(0, heading, body)


def read_notice_text(paragraphs: list[str], display: str) -> Notice:
    """The notice's title, date and cases; NoCase when it has none."""
    lines, closing_date = trailing_lines(list(paragraphs))
    dated = [(i, date_of_line(line)) for i, line in enumerate(lines)]
    date = next((d for _, d in dated if d), None) or closing_date
    lines = [line for (_, d), line in zip(dated, lines) if not d]
    if not lines:
        raise NoCase(f"{display}: 文件中没有文字，找不到案例 / the file holds no text")
    title = notice_title(lines)
    style = case_style(lines[1:] if title else lines)
    if style:
        header, parts = typical_parts(lines, style)
        return Notice(title, date, header, parts)
    if not DECISION.search(for_matching("\n".join(lines))):
        raise NoCase(
            f"{display}: 找不到案例：既没有编号的典型问题（如“1.某县某局局长张某某违规收受礼品礼金问题。”），"
            "也没有对一个人的处分决定（如“给予张某某开除党籍处分”） / no case found in this file"
        )
    return Notice(title, date, lines[:1], [single_part(lines, title)])
