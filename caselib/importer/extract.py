"""Find a case's fields in its text.

Which fields are looked for, and where, is declared with the fields
(``Field.find`` in ``caselib/schema.py``); the finders are here:

- ``terms in <part>``: a vocabulary's values named in a part of the case,
  through :mod:`.phrases` (labels, aliases, expansions and standard phrases):
  the heading (else the facts), the outcome (sanctions: never from the facts
  or the commentary), the whole case, or the post;
- ``heading <piece>``: a piece of the heading "[地区][单位][职务][姓名][问题]问题":
  the place (a province named at its start, with the city and county that
  follow; else the one the notice's title starts with), the employer, the post;
- ``decision date``: the first date in the outcome, else the notice's date,
  at the precision written (2023年5月 -> 2023-05);
- ``sum``: the total the facts name (共计3.6万元), else the largest sum, in yuan;
- ``span of years``: when the conduct happened (2019年至2022年 -> 2019-2022).

Dates and amounts are read by the project's own field rules
(``caselib.fields``). Whatever is not found is listed for the author to
check; nothing is guessed into a field the case file would state as fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..fields import FieldProblem, format_amount, parse_amount, parse_date
from ..frontmatter import Item
from ..schema import BY_NAME, FIELDS, Field
from ..text import HAN
from ..vocab import vocabulary
from .notice import NAME, Notice, Part
from .phrases import Scanner, for_matching, scanner

DATE = re.compile(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?)?")
PERIOD = re.compile(r"(\d{4})\s*年(?:\d{1,2}\s*月)?(?:\d{1,2}\s*日)?\s*(?:至|到|—|–|-|~)\s*(\d{4})\s*年")
SUM = re.compile(r"(共计|合计|累计|总计|共|总额)?(?:人民币)?\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*(?:余|多)?\s*(万|亿)?\s*(?:余|多)?\s*元")
APPROXIMATE = re.compile("余|多")
POSITION_WORDS = (
    "党组书记 党委书记 副书记 书记员 书记 局长 院长 厅长 部长 主任 科长 处长 所长 站长 队长 庭长 股长 检察长 检察官 法官 审判员 检察员 助理"
    " 干部 科员 职员 民警 辅警 警员 总经理 经理 董事长 董事 会计 出纳 组长 委员 主席 县长 市长 区长 镇长 乡长 省长 州长 村长 支书"
    " 馆长 校长 园长 行长 监狱长 秘书 驾驶员 工作人员 负责人 主管 专员 调研员 巡视员 干事 教师 医生 总工程师 工程师 会长 社长 政委"
    " 教导员 统计员 网格员 文书 出纳员 保管员 审计员 业务员 代表"
).split()
POSITION_WORD = re.compile("|".join(sorted(POSITION_WORDS, key=len, reverse=True)))
POSITION_START = re.compile(rf"(?:原|副|正|常务|代理|兼|党组|党委|党支部|党工委|党总支|[一二三四]级)*(?:{POSITION_WORD.pattern})")
UNIT_END = re.compile(
    "(?:委员会|办公室|街道办事处|公司|集团|中心|派出所|监狱|政府|街道|社区|学校|大学|学院|中学|小学|医院|银行|企业|分局|支队|大队|中队"
    "|局|院|委|厅|部|办|所|站|队|镇|乡|村|厂|署|会|社|馆|处|科|股|室|庭|县|区|市|省|州|旗)"
)
CITY = re.compile(rf"[{HAN}]{{1,6}}?(?:市|州|盟|地区)")
COUNTY = re.compile(rf"[{HAN}]{{1,6}}?(?:县|区|旗)")
NOT_PLACE = re.compile("某|委|纪|局|院|厅|公司|通报")
MATTER_START = re.compile("严重违纪违法|违纪违法|严重违纪|违规|违反|违纪|违法|涉嫌|失职|渎职|履职不力|不作为|借机|利用职务")
TRAILING_WORDS = re.compile(r"(?:等)?(?:问题|案件|案)$")
SANCTION_SUFFIX = re.compile(r"被(?:开除|给予|判处|移送|免职|撤职|双开|留党察看|处分).*$")


@dataclass
class Heading:
    """The pieces of a heading "[地区][单位][职务][姓名][问题]"."""

    place: str | None = None
    employer: str | None = None
    post: str | None = None
    person: str | None = None
    matter: str = ""  # the problem, as the heading words it (违规收受礼品礼金)
    title: str = ""  # the case's title: the heading as a case's name (…违规收受礼品礼金案)


def leading_region(text: str) -> str:
    """A province named at the start, with the city and county after it (安徽省合肥市)."""
    found = vocabulary("province").match_at_start(text)
    if found is None:
        return ""
    end = len(found[1])
    for place in (CITY, COUNTY):
        match = place.match(text, end)
        if match and not NOT_PLACE.search(match.group()):
            end = match.end()
    return text[:end]


def split_employer(desc: str) -> tuple[str | None, str | None]:
    """(employer, post) of "某县自然资源局原党组书记、局长"."""
    cuts = [m.end() for m in UNIT_END.finditer(desc)]
    starting = [c for c in cuts if POSITION_START.match(desc, c)]
    holding = [c for c in cuts if POSITION_WORD.search(desc, c)]
    cut = starting[0] if starting else (holding[-1] if holding else None)
    if cut is None:
        if POSITION_START.match(desc):
            return None, desc or None
        return desc or None, None
    return desc[:cut] or None, desc[cut:].strip("、，, ") or None


def person_span(text: str) -> tuple[int, int, str | None]:
    """Where the person's name stands in a heading: (start, end, name), or the
    matter's start twice and None when no name is written as 张某/李某某."""
    first_post = POSITION_WORD.search(text)
    name = NAME.search(text, first_post.end() if first_post else 0) or NAME.search(text)
    if name:
        return name.start(), name.end(), name.group()
    starts = [f.start for f in scanner("violations").find(text)]
    marker = MATTER_START.search(text)
    starts += [marker.start()] if marker else []
    start = min(starts) if starts else len(text)
    return start, start, None


def read_heading(heading: str) -> Heading:
    text = heading.strip().rstrip("。：: ")
    place = leading_region(text)
    start, end, name = person_span(text)
    desc, matter = text[len(place) : start], text[end:]
    if name is None:
        posts = list(POSITION_WORD.finditer(desc))
        if posts and posts[-1].end() < len(desc):  # a name not written as 张某: after the last post
            name = desc[posts[-1].end() :]
            desc = desc[: posts[-1].end()]
    employer, post = split_employer(desc)
    matter = TRAILING_WORDS.sub("", SANCTION_SUFFIX.sub("", matter)).strip("，, ")
    title = TRAILING_WORDS.sub("", SANCTION_SUFFIX.sub("", text))
    return Heading(place or None, employer, post, name, matter, title + "案")


def first_date(text: str) -> tuple[str, str] | None:
    """The first date written in ``text``: (YYYY-MM-DD, YYYY-MM or YYYY; as written)."""
    for match in DATE.finditer(for_matching(text)):
        written = "-".join(g for g in match.groups() if g)
        try:
            return parse_date(Item(written, 0)), text[match.start() : match.end()]
        except FieldProblem:
            continue
    return None


def latest_date(text: str) -> tuple[str, str] | None:
    found = []
    for match in DATE.finditer(for_matching(text)):
        try:
            found.append((parse_date(Item("-".join(g for g in match.groups() if g), 0)), text[match.start() : match.end()]))
        except FieldProblem:
            continue
    return max(found) if found else None


def find_period(facts: str) -> str | None:
    """When the conduct happened: a span of years (2019-2022), else the first date in the facts."""
    span = PERIOD.search(for_matching(facts))
    if span:
        first, last = span.groups()
        return first if first == last else f"{first}-{last}"
    found = first_date(facts)
    return found[0] if found else None


def find_amount(text: str) -> tuple[int | float, str] | None:
    """The money involved: the largest total named (共计…元), else the largest sum; (yuan, as written)."""
    sums: list[tuple[bool, int | float, str]] = []
    for match in SUM.finditer(for_matching(text)):
        total, number, multiplier = match.groups()
        try:
            yuan = parse_amount(Item(number + (multiplier or "") + "元", 0))
        except FieldProblem:
            continue
        written = text[match.start() : match.end()]
        sums.append((total is not None, yuan, written[len(total) :] if total else written))
    if not sums:
        return None
    _, yuan, written = max(sums, key=lambda s: (s[0], s[1]))
    return yuan, written.strip()


def label(name: str) -> str:
    """A field's Chinese name, as the site shows it (违规类型, 涉案金额)."""
    return BY_NAME[name].label


@dataclass
class Draft:
    """One case as found: front-matter values (labels), body sections, and
    what was found and what is left for the author to check."""

    heading: Heading
    values: dict[str, object] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def set(self, name: str, value: object, shown: str | None = None) -> None:
        self.values[name] = value
        written = "、".join(value) if isinstance(value, list) else str(value)
        self.found.append(f"{label(name)} {shown or written}")

    @property
    def to_check(self) -> list[str]:
        """The notes, led by the fields not found."""
        lead = [f"未找到{'、'.join(label(n) for n in self.missing)}"] if self.missing else []
        return lead + self.notes


@dataclass(frozen=True)
class CaseText:
    """What the finders read: one case of a notice, its heading's pieces, the notice."""

    part: Part
    heading: Heading
    notice: Notice

    @property
    def own(self) -> str:
        return "\n".join([self.part.heading, *self.part.facts])

    @property
    def outcome(self) -> str:
        return "\n".join(self.part.outcome)

    @property
    def facts(self) -> str:
        return "\n".join(self.part.facts)


Found = tuple[object, str | None, list[str]]  # (value, how the report shows it, notes)
Finder = Callable[[CaseText, Field], Found | None]
TEXTS: dict[str, Callable[[CaseText, Scanner], str]] = {  # "terms in <part>": the text a vocabulary's values are looked for in
    "heading, else facts": lambda case, words: case.part.heading if words.find(case.part.heading) else case.own,
    "outcome": lambda case, words: case.outcome,
    "case": lambda case, words: case.part.text,
    "heading and facts": lambda case, words: case.own,
    "post": lambda case, words: case.heading.post or "",
}
TERMS_IN, HEADING_PIECE = "terms in ", "heading "


def terms(case: CaseText, found: Field) -> Found | None:
    """A vocabulary's values named in the part of the case that ``find`` names (sanctions only in the outcome)."""
    vocab = found.vocabulary
    words = scanner(vocab.name)  # type: ignore[union-attr]
    text = TEXTS[found.find.removeprefix(TERMS_IN)](case, words)
    named = [t.zh for t in words.terms(text)]
    notes = [
        f"“{word}”未写明是{'或'.join(vocab.by_code[c].zh for c in vocab.ambiguous[word])}，未计入{label(found.name)}"  # type: ignore[union-attr]
        for word in words.unresolved(text)
    ]
    if not named:
        return None if not notes else ([], None, notes)
    return (named if vocab.multiple else named[0]), None, notes  # type: ignore[union-attr]


def heading_piece(case: CaseText, found: Field) -> Found | None:
    """A piece of the heading; the place also from the notice's title (安徽省某市纪委监委通报…)."""
    piece = found.find.removeprefix(HEADING_PIECE)
    value = getattr(case.heading, piece)
    if piece == "place" and not value and case.notice.title:
        value = leading_region(case.notice.title) or None
    notes = [f"{label(found.name)}“{value}”不带“某”字，请确认是否需要化名"] if value and piece == "employer" and "某" not in value else []
    return (value, None, notes) if value else None


def decision_date(case: CaseText, found: Field) -> Found | None:
    """The outcome's first date, else the notice's, else the latest date in the case."""
    dated = first_date(case.outcome)
    if dated:
        return dated[0], None, []
    if case.notice.date:
        return case.notice.date[0], None, [f"处理结果中没有日期，日期取自通报日期（{case.notice.date[1]}）"]
    dated = latest_date(case.part.text)
    if dated:
        return dated[0], None, [f"处理结果和通报都没有日期，日期取自案情中最晚的日期（{dated[1]}）"]
    return None


def money(case: CaseText, found: Field) -> Found | None:
    """The money involved (see find_amount), from the facts, else from the whole case."""
    named = find_amount(case.facts) or find_amount(case.part.text)
    if named is None:
        return None
    yuan, written = named
    shown = format_amount(yuan)
    notes = [f"{label(found.name)}原文为“{written}”，按{shown.replace(' ', '')}记"] if APPROXIMATE.search(written) else []
    return yuan, shown, notes


def conduct_span(case: CaseText, found: Field) -> Found | None:
    span = find_period(case.facts)
    return (span, None, []) if span else None


FINDERS: dict[str, Finder] = {"decision date": decision_date, "sum": money, "span of years": conduct_span}


def finder(find: str) -> Finder:
    if find.startswith(TERMS_IN):
        return terms
    if find.startswith(HEADING_PIECE):
        return heading_piece
    return FINDERS[find]


def find_fields(draft: Draft, case: CaseText) -> None:
    """Every field the schema says where to find (``Field.find``), in the schema's order."""
    for found in FIELDS:
        if not found.find:
            continue
        result = finder(found.find)(case, found)
        if result is None or result[0] in (None, []):
            draft.missing.append(found.name)
        else:
            draft.set(found.name, result[0], result[1])
        draft.notes += result[2] if result else []


def body_sections(part: Part) -> dict[str, list[str]]:
    sections = {"基本案情": part.facts or [part.heading + "。"], "处理结果": part.outcome, "警示启示": part.commentary}
    return {title: paragraphs for title, paragraphs in sections.items() if paragraphs}


def draft_case(part: Part, notice: Notice, source: str | None = None, visibility: str | None = None) -> Draft:
    """Every field found for one case of a notice."""
    heading = read_heading(part.heading)
    draft = Draft(heading)
    draft.values["title"] = heading.title
    find_fields(draft, CaseText(part, heading, notice))
    if heading.person and "某" not in heading.person:
        draft.notes.append(f"标题中的姓名“{heading.person}”未化名，请核对")
    if source:
        draft.values["source"] = source
    if visibility:
        draft.set("visibility", visibility)
    draft.sections = body_sections(part)
    if not part.outcome:
        draft.notes.append("没有找到处理结果，正文只有基本案情")
    return draft


def fields_of_title(title: str) -> Draft:
    """What a title alone names (build.py new): the same finders on a case that is only its heading."""
    return draft_case(Part(0, title), Notice(None, None, [], []))


def visibility_of(notice: Notice) -> str | None:
    """内部 when the notice's header calls it internal (内部通报 …), through the vocabulary's aliases."""
    vocab = vocabulary("visibility")
    header = for_matching("\n".join(notice.header))
    for term in vocab.terms:
        if any(len(alias) >= 4 and for_matching(alias) in header for alias in term.aliases):
            return term.zh
    return None
