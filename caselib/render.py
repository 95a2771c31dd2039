"""Step 3: render a case body: sections, plain text and safe HTML.

Markdown is CommonMark through markdown-it-py with raw HTML off and links
limited to safe schemes; the HTML is then cleaned again with nh3 (Ammonia), so
nothing an author writes can become live markup or script in the site.
"""

from __future__ import annotations

import re
from html import unescape
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .text import fold

SECTIONS: dict[str, tuple[str, ...]] = {
    "facts": ("基本案情", "案情", "Facts"),
    "outcome": ("处理结果", "处理情况", "Outcome"),
    "analysis": ("案例评析", "以案释纪", "以案说纪", "以案释法", "Analysis"),
    "lessons": ("警示启示", "警示", "启示", "Lessons"),
    "rules": ("相关条规", "纪律链接", "法规链接", "Rules"),
    "reform": ("以案促改", "整改措施", "Reform"),
}
SECTION_TITLES = {column: headings[0] for column, headings in SECTIONS.items()}
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWED_TAGS = frozenset(
    "a abbr b blockquote br code del em h1 h2 h3 h4 h5 h6 hr img li ol p pre s strong sub sup "
    "table tbody td th thead tr ul".split()
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
# Attributes kept only with exactly the values the renderer itself writes: a
# hand-edited body_html must not bring CSS (overlays, url() requests) or ids
# that shadow the page's globals.
# Table cells are aligned by class, not by a style attribute: the pages' Content
# Security Policy allows no inline style.
ALIGNMENTS = frozenset(f"align-{side}" for side in ("left", "center", "right"))
ALLOWED_ATTRIBUTE_VALUES = {
    "h2": {"id": frozenset(f"section-{column}" for column in SECTIONS)},
    "th": {"class": ALIGNMENTS},
    "td": {"class": ALIGNMENTS},
}
ALIGNED_CELL = re.compile(r"^text-align:(left|center|right)$")
NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+|\d+)\s*[、.．)）:：]\s*")
MAX_NESTING = 20  # block levels: 20 quotes inside each other, or 10 lists
# A quote opens one level, a list two (list and item) before its content is
# read, so markdown-it's own limit sits above the deepest level the guard can
# meet first; markdown-it would skip deeper text without a word.
MARKDOWN_IT_NESTING = MAX_NESTING + 3


class NestedTooDeep(ValueError):
    """Quotes or lists nest deeper than MAX_NESTING; ``line`` counts from 0 in the body.

    markdown-it drops whatever lies beyond its nesting limit without a word;
    such a body is refused instead, so no text is ever lost silently.
    """

    def __init__(self, line: int):
        self.line = line
        super().__init__(
            f"quotes or lists are nested too deeply here (more than {MAX_NESTING} quotes or {MAX_NESTING // 2} lists "
            "inside each other); flatten the nesting"
        )


def _heading_key(text: str) -> str:
    text = NUMBERING.sub("", fold(text).strip())
    return text.rstrip(":：。 ").casefold()


SECTION_BY_HEADING = {_heading_key(h): column for column, headings in SECTIONS.items() for h in headings}


def is_safe_url(url: str) -> bool:
    """Allow http, https, mailto and relative links; nothing else."""
    cleaned = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return False
    if scheme:
        return scheme in SAFE_SCHEMES
    return ":" not in cleaned.split("/", 1)[0]


def _depth_guard(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A block rule tried first at every block: refuse a block nested too deeply."""
    if state.level > MAX_NESTING:
        raise NestedTooDeep(start_line)
    return False


def is_local_url(url: str) -> bool:
    """A relative URL on this site: no scheme, no host (not even ``//host``)."""
    cleaned = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    return not cleaned.startswith(("//", "\\")) and not urlsplit(cleaned).scheme


def _offline_images(state: StateCore) -> None:
    """Images from other hosts become links to them.

    The site works on an office network with no internet, and a page must
    not make a reader's browser contact another host (a tracking pixel):
    only images served by the site itself are shown inline.
    """
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        for token in block.children:
            src = token.attrGet("src") if token.type == "image" else None
            if token.type != "image" or is_local_url(str(src or "")):
                children.append(token)
                continue
            link_open = Token("link_open", "a", 1, attrs={"href": str(src)})
            text = Token("text", "", 0, content=f"[图片] {token.content}" if token.content else "[图片]")
            children += [link_open, text, Token("link_close", "a", -1)]
        block.children = children


def _aligned_by_class(state: StateCore) -> None:
    """``style="text-align:right"`` on table cells becomes ``class="align-right"``."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            found = ALIGNED_CELL.match(str(token.attrGet("style") or ""))
            if token.attrs and "style" in token.attrs:
                del token.attrs["style"]
            if found:
                token.attrSet("class", f"align-{found.group(1)}")


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MARKDOWN_IT_NESTING})
    md.block.ruler.before("table", "depth_guard", _depth_guard)
    md.enable("table").enable("strikethrough")
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    md.core.ruler.push("offline_images", _offline_images)
    md.core.ruler.push("aligned_by_class", _aligned_by_class)
    return md


@dataclass
class Rendered:
    """A body split into recognised sections, the rest, and HTML."""

    sections: dict[str, str] = field(default_factory=dict)
    other: str = ""
    html: str = ""
    headings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All of the body's text, as a reader sees it."""
        parts = [self.other, *self.sections.values()]
        return "\n".join(p for p in parts if p)


def _inline_text(token: Token) -> str:
    pieces: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            pieces.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            pieces.append("\n")
        elif child.type == "image":
            pieces.append(child.content)
    return "".join(pieces)


def _split_sections(tokens: list[Token]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    sections: dict[str, list[str]] = {}
    other: list[str] = []
    headings: list[str] = []
    current = other
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            title = _inline_text(tokens[index + 1])
            column = SECTION_BY_HEADING.get(_heading_key(title))
            if column:
                token.attrSet("id", f"section-{column}")
                current = sections.setdefault(column, [])
                headings.append(column)
                tokens[index + 1].meta["section"] = column
                continue
            current = other
        if token.type == "inline":
            if token.meta.get("section"):
                continue
            current.append(_inline_text(token))
        elif token.type in ("code_block", "fence"):
            current.append(token.content.rstrip("\n"))
    return sections, other, headings


def render_body(body: str) -> Rendered:
    """Split, extract text and render one body. Pure: same input, same output.

    Raises NestedTooDeep when quotes or lists nest beyond MAX_NESTING.
    """
    md = markdown()
    env: dict = {}
    tokens = md.parse(body, env)
    sections, other, headings = _split_sections(tokens)
    html = md.renderer.render(tokens, md.options, env)
    return Rendered(
        sections={k: "\n".join(v).strip() for k, v in sections.items()},
        other="\n".join(other).strip(),
        html=sanitise(html),
        headings=headings,
    )


def sanitise(html: str) -> str:
    """Clean HTML with nh3 (Ammonia): known tags, safe URLs only."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        tag_attribute_values={t: {a: set(v) for a, v in vs.items()} for t, vs in ALLOWED_ATTRIBUTE_VALUES.items()},
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_local_images_only,
    )


BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|blockquote|pre|tr|td|th)>|<br\s*/?>", re.IGNORECASE)


def clip(text: str, length: int) -> str:
    """``text`` on one line, whitespace runs as one space, cut to ``length``
    characters with … when cut."""
    flat = " ".join(text.split())
    return flat[:length] + ("…" if len(flat) > length else "")


def excerpt(html: str, length: int = 120) -> str:
    """The first ``length`` characters of an HTML body as plain text."""
    spaced = BLOCK_END.sub(" ", html)
    return clip(unescape(nh3.clean(spaced, tags=set())), length)


def _local_images_only(tag: str, attribute: str, value: str) -> str | None:
    """Drop an image source on another host (see _offline_images)."""
    if tag == "img" and attribute == "src" and not is_local_url(value):
        return None
    return value
