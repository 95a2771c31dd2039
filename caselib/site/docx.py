"""The Word writer: a :class:`booklet.Booklet` as a .docx (python-docx).

What a trainer gets to edit in Word or WPS and print:

- A4, with the margins of Chinese official documents (GB/T 9704: top 37 mm,
  bottom 35 mm, left 28 mm, right 26 mm), page numbers "— 1 —" centred in
  the footer (a PAGE field), none on the cover;
- a cover with the title, the lines under it (audience, date …), the
  description and the edition (培训用 / 学员版), then a table of contents (a
  TOC field over the first-level headings, the cases: with their sections
  too, a booklet of 200 cases would open on pages of 基本案情, 处理结果 …);
  it holds the cases' titles so that it reads before any update, and
  ``w:updateFields`` has Word and WPS fill in the page numbers on opening
  (LibreOffice on "update index");
- each case on a new page under a first-level heading, with its facts table,
  its sections under second-level headings, the trainer's note and the
  discussion questions;
- the fonts of official documents, set as East Asian fonts (``w:eastAsia``)
  in the styles so that Word and WPS use them for Chinese: body text 仿宋
  三号, headings 黑体, the title 方正小标宋简体, quotes and sub-headings 楷体;
  Latin letters and digits in Times New Roman. The font table names each
  with its usual alternative name (FangSong, SimHei, KaiTi; 宋体 for
  方正小标宋简体, which not every machine has), and every style also says
  the text is Chinese (``w:lang w:eastAsia="zh-CN"``), so a machine without
  the fonts substitutes a Chinese font of the same kind.

List items keep the numbers the case shows (written as text, not as Word's
automatic numbering, so that a list starting at 3 starts at 3 in every
program). Text is only ever text: what a case says cannot become a field, a
link or markup in the document, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph as WordParagraph
from lxml import etree

from .booklet import Booklet, BookletCase, Paragraph, Run, Section, Table

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSION = "docx"

LATIN_FONT = "Times New Roman"
CODE_FONT = "Courier New"
BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"
QUOTE_FONT = "楷体"
FOOTER_FONT = "宋体"
# The font table: each East Asian font with its alternative name, PANOSE
# number and family, from which Word and WPS choose a substitute when the
# font itself is not installed (GB2312 character set).
FONT_TABLE = {
    BODY_FONT: ("FangSong", "02010609060101010101", "modern", "fixed"),
    HEADING_FONT: ("SimHei", "02010609060101010101", "modern", "fixed"),
    QUOTE_FONT: ("KaiTi", "02010609060101010101", "modern", "fixed"),
    FOOTER_FONT: ("SimSun", "02010600030101010101", "auto", "variable"),
    TITLE_FONT: ("宋体", "02010600030101010101", "auto", "variable"),
}
GB2312 = "86"

BODY_SIZE = Pt(16)  # 三号
SMALL_SIZE = Pt(14)  # 四号: facts tables, the footer
TITLE_SIZE = Pt(22)  # 二号
CASE_HEADING_SIZE = Pt(18)  # 小二
LINE = Pt(28)  # 22 lines to a page of 三号 text
INDENT = Pt(32)  # two characters of 三号
LIST_INDENT = Pt(32)
HANGING = Pt(24)
BLACK = RGBColor(0, 0, 0)
FACT_WIDTHS = (Mm(35), Mm(121))  # label, value: the width between the margins

TOC_INSTRUCTION = ' TOC \\o "1-1" \\h \\z \\u '
TOC_TITLE = "目　录"
NOTE_TITLE = "教学提示"
QUESTIONS_TITLE = "讨论题"
FACTS_STYLE = "Facts Table Text"
NOTE_STYLE = "Teaching Note"
CASE_NUMBER = "{number}．{title}"
# Characters an XML 1.0 document cannot hold (python-docx refuses them).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


# ---------------------------------------------------------------- styles


def east_asian_fonts(rpr: CT_RPr, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Set the ``w:rFonts`` of a style's or a run's properties: ``east_asia``
    for Chinese, ``latin`` for the rest, no theme fonts that would override them."""
    fonts = rpr.get_or_add_rFonts()
    for name in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{name}"), None)
    for name in ("ascii", "hAnsi", "cs"):
        fonts.set(qn(f"w:{name}"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def chinese_language(rpr: CT_RPr) -> None:
    """The text is Chinese (``w:lang w:eastAsia="zh-CN"``): a missing font is replaced by a Chinese one."""
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def restyle(
    style: BaseStyle,
    font: str,
    size: Pt,
    *,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    before: Pt = Pt(0),
    after: Pt = Pt(0),
    first_line: Pt | None = None,
    line: Pt | None = LINE,
) -> None:
    """One style in the official-document manner: its fonts, size, black, spacing."""
    for child in style.element.findall(qn("w:pPr") + "/" + qn("w:pBdr")):
        child.getparent().remove(child)
    east_asian_fonts(style.element.get_or_add_rPr(), font)
    chinese_language(style.element.get_or_add_rPr())
    style.font.size = size
    style.font.bold = bold
    style.font.color.rgb = BLACK
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = before, after
    fmt.first_line_indent = first_line
    fmt.alignment = align
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing, fmt.line_spacing_rule = line, WD_LINE_SPACING.EXACTLY


def paragraph_style(document: WordDocument, name: str) -> BaseStyle:
    styles = document.styles
    return styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)


def set_up_styles(document: WordDocument) -> None:
    styles = document.styles
    restyle(styles["Normal"], BODY_FONT, BODY_SIZE)
    restyle(styles["Body Text"], BODY_FONT, BODY_SIZE, first_line=INDENT, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    restyle(styles["Title"], TITLE_FONT, TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(120), after=Pt(36), line=None)
    restyle(styles["Subtitle"], QUOTE_FONT, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    styles["Subtitle"].font.italic = False
    restyle(styles["Heading 1"], HEADING_FONT, CASE_HEADING_SIZE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(18), line=None)
    styles["Heading 1"].paragraph_format.page_break_before = True
    restyle(styles["Heading 2"], HEADING_FONT, BODY_SIZE, bold=True, before=Pt(12), first_line=INDENT)
    restyle(styles["Heading 3"], QUOTE_FONT, BODY_SIZE, first_line=INDENT)
    restyle(styles["TOC Heading"], HEADING_FONT, CASE_HEADING_SIZE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=Pt(18), line=None)
    restyle(styles["Quote"], QUOTE_FONT, BODY_SIZE, first_line=INDENT)
    styles["Quote"].font.italic = False
    restyle(styles["List Paragraph"], BODY_FONT, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    restyle(styles["Footer"], FOOTER_FONT, SMALL_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, line=None)
    restyle(paragraph_style(document, FACTS_STYLE), BODY_FONT, SMALL_SIZE, line=None)
    note = paragraph_style(document, NOTE_STYLE)
    restyle(note, QUOTE_FONT, BODY_SIZE, first_line=INDENT, before=Pt(6), after=Pt(6))
    note.paragraph_format.left_indent = Pt(16)
    toc = paragraph_style(document, "toc 1")
    restyle(toc, BODY_FONT, BODY_SIZE)
    toc.paragraph_format.left_indent, toc.paragraph_format.first_line_indent = HANGING, -HANGING
    for style in (styles["Heading 1"], styles["Heading 2"], styles["Heading 3"], styles["TOC Heading"], note):
        style.paragraph_format.keep_with_next = True
    defaults = styles.element.find("/".join(qn(tag) for tag in ("w:docDefaults", "w:rPrDefault", "w:rPr")))
    if defaults is not None:
        east_asian_fonts(defaults, BODY_FONT)
        chinese_language(defaults)


def add_fonts(document: WordDocument) -> None:
    """The East Asian fonts and their substitutes in the font table."""
    part = next(r.target_part for r in document.part.rels.values() if r.reltype.endswith("/fontTable"))
    table = etree.fromstring(part.blob)
    for name, (alternative, panose, family, pitch) in FONT_TABLE.items():
        font = etree.SubElement(table, qn("w:font"), {qn("w:name"): name})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): alternative})
        etree.SubElement(font, qn("w:panose1"), {qn("w:val"): panose})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): GB2312})
        etree.SubElement(font, qn("w:family"), {qn("w:val"): family})
        etree.SubElement(font, qn("w:pitch"), {qn("w:val"): pitch})
    part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


def update_fields_on_open(document: WordDocument) -> None:
    settings = document.settings.element
    update = settings.find(qn("w:updateFields"))
    if update is None:
        update = OxmlElement("w:updateFields")
        settings.append(update)
    update.set(qn("w:val"), "true")


def set_up_pages(document: WordDocument) -> None:
    """A4 portrait, official-document margins, page numbers in the footer (none on the cover)."""
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    section.different_first_page_header_footer = True
    footer = section.footer.paragraphs[0]
    footer.style = document.styles["Footer"]
    footer.add_run("— ")
    footer._p.append(field_element("PAGE", "1"))
    footer.add_run(" —")


# ---------------------------------------------------------------- fields


def field_element(instruction: str, shown: str):
    """A simple field (PAGE …) showing ``shown`` until it is updated."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    simple.append(run)
    return simple


def field_char(paragraph: WordParagraph, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    if kind == "begin":
        char.set(qn("w:dirty"), "true")
    paragraph.add_run()._r.append(char)


def instruction_text(paragraph: WordParagraph, instruction: str) -> None:
    text = OxmlElement("w:instrText")
    text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    text.text = instruction
    paragraph.add_run()._r.append(text)


# ---------------------------------------------------------------- content


class BookletWriter:
    """Writes a booklet into a new document (styles looked up by name once:
    python-docx's own lookup reads every style each time)."""

    def __init__(self) -> None:
        self.document = new_document()
        self.style_ids = {style.name: style.style_id for style in self.document.styles}

    def paragraph(self, style: str, text: str = "") -> WordParagraph:
        paragraph = self.document.add_paragraph()
        paragraph._p.style = self.style_ids[style]
        if text:
            paragraph.add_run(clean(text))
        return paragraph

    def contents(self, titles: list[str]) -> None:
        """The table of contents: a TOC field over the first-level headings,
        holding the titles (without page numbers) until it is updated."""
        self.paragraph("TOC Heading", TOC_TITLE)
        entries = titles or [""]
        paragraphs = [self.paragraph("toc 1") for _ in entries]
        field_char(paragraphs[0], "begin")
        instruction_text(paragraphs[0], TOC_INSTRUCTION)
        field_char(paragraphs[0], "separate")
        for paragraph, title in zip(paragraphs, entries):
            paragraph.add_run(clean(title))
        field_char(paragraphs[-1], "end")

    def block(self, block: Paragraph) -> None:
        if block.kind == "heading":
            paragraph = self.paragraph("Heading 3")
        elif block.quote:
            paragraph = self.paragraph("Quote")
        elif block.level:
            paragraph = self.paragraph("List Paragraph")
        else:
            paragraph = self.paragraph("Body Text")
        fmt = paragraph.paragraph_format
        if block.level:
            fmt.left_indent = LIST_INDENT * block.level + HANGING + (INDENT * block.quote)
            fmt.first_line_indent = -HANGING if block.marker else Pt(0)
        elif block.quote > 1:
            fmt.left_indent = INDENT * (block.quote - 1)
        if block.kind == "code":
            fmt.first_line_indent = Pt(0)
            fmt.left_indent = INDENT
        if block.marker:
            paragraph.add_run(f"{block.marker}\t")
            fmt.tab_stops.add_tab_stop(fmt.left_indent)
        add_runs(paragraph, block.runs)

    def table(self, rows: list[list[str]], header: int = 0, widths: tuple[Mm, ...] = ()) -> None:
        columns = max((len(row) for row in rows), default=0)
        if not columns:
            return
        table = self.document.add_table(rows=len(rows), cols=columns)
        table._tbl.tblStyle_val = self.style_ids["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        if widths:
            table.autofit = False
            for column, width in zip(table.columns, widths):
                column.width = width
        for number, (row, values) in enumerate(zip(table.rows, rows)):
            for cell, value, width in zip(row.cells, values, widths or [None] * columns):
                paragraph = cell.paragraphs[0]
                paragraph._p.style = self.style_ids[FACTS_STYLE]
                run = paragraph.add_run(clean(value))
                run.bold = True if number < header else None
                if width is not None:
                    cell.width = width
        self.paragraph("Normal")

    def section(self, section: Section) -> None:
        if section.title:
            self.paragraph("Heading 2", section.title)
        for block in section.blocks:
            if isinstance(block, Table):
                self.table(block.rows, block.header)
            else:
                self.block(block)

    def case(self, case: BookletCase) -> None:
        self.paragraph("Heading 1", CASE_NUMBER.format(number=case.number, title=case.title))
        if case.facts:
            self.table([[fact.label, fact.value] for fact in case.facts], widths=FACT_WIDTHS)
        for section in case.sections:
            self.section(section)
        if case.note:
            self.paragraph("Heading 2", NOTE_TITLE)
            self.paragraph(NOTE_STYLE, case.note)
        if case.questions:
            self.paragraph("Heading 2", QUESTIONS_TITLE)
            for number, question in enumerate(case.questions, 1):
                self.block(Paragraph([Run(question)], marker=f"{number}.", level=1))

    def cover(self, booklet: Booklet) -> None:
        self.paragraph("Title", booklet.title)
        for line in [*booklet.lines, booklet.edition]:
            if line:
                self.paragraph("Subtitle", line)
        if booklet.description:
            self.paragraph("Normal")
            for line in booklet.description:
                self.paragraph("Body Text", line)
        if booklet.note:
            self.paragraph("Normal")
            self.paragraph(NOTE_STYLE, booklet.note)

    def write(self, booklet: Booklet) -> bytes:
        self.document.core_properties.title = clean(booklet.title)
        self.document.core_properties.language = "zh-CN"
        self.cover(booklet)
        self.contents([CASE_NUMBER.format(number=c.number, title=c.title) for c in booklet.cases])
        for case in booklet.cases:
            self.case(case)
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def add_runs(paragraph: WordParagraph, runs: list[Run]) -> None:
    for piece in runs:
        for number, line in enumerate(clean(piece.text).split("\n")):
            if number:
                paragraph.add_run().add_break(WD_BREAK.LINE)
            if not line:
                continue
            run = paragraph.add_run(line)
            run.bold = piece.bold or None
            run.italic = piece.italic or None
            run.font.strike = piece.strike or None
            if piece.code:
                east_asian_fonts(run._r.get_or_add_rPr(), BODY_FONT, CODE_FONT)


def new_document() -> WordDocument:
    document = Document()
    set_up_styles(document)
    add_fonts(document)
    update_fields_on_open(document)
    set_up_pages(document)
    return document


def write_booklet(booklet: Booklet) -> bytes:
    """The booklet as .docx bytes."""
    return BookletWriter().write(booklet)
