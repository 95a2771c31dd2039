"""Read a notice file into paragraphs: plain text or a Word .docx.

Plain text is what is pasted from a web page or saved from WPS or Notepad:
UTF-8 with or without a byte-order mark, UTF-16 with one, or else GBK
(read as GB18030, its superset). Line ends are normalised, characters a
reader cannot see are dropped, and each paragraph is trimmed (Chinese
documents indent with ideographic spaces). A .docx is read with
python-docx: its paragraphs and table rows in document order, with the
numbers of Word's automatic numbering written out (the splitter needs the
"1." that the page shows but the text does not hold).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import LibraryError, UsageError
from ..source import BOM, UTF16_BOMS
from ..text import visible

DOCX = ".docx"
REFUSED_SUFFIXES = {".doc": "旧版 Word 文档（.doc）", ".wps": "WPS 文档（.wps）", ".pdf": "PDF 文件"}
BULLET = "bullet"


class NoticeUnreadable(LibraryError):
    """A notice file that cannot be read as text or as a Word document."""


class NoticeMissing(UsageError):
    """A notice file named on the command line that is not there, or of a kind that is not read."""


@dataclass(frozen=True)
class NoticeText:
    """A notice's paragraphs, and how the file was read (shown in the report)."""

    paragraphs: list[str]
    encoding: str  # UTF-8, GBK/GB18030, UTF-16 or Word (.docx)


def paragraphs_of(text: str) -> list[str]:
    """Non-empty lines, trimmed, without invisible characters."""
    lines = visible(text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    return [line.strip() for line in lines if line.strip()]


def decode_text(data: bytes, display: str) -> tuple[str, str]:
    """The text of a plain-text notice and the name of its encoding."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise NoticeUnreadable(f"{display}: 以 UTF-16 字节序标记开头，却不是 UTF-16 文本 / not UTF-16 text") from None
    if b"\x00" in data:
        raise NoticeUnreadable(f"{display}: 不是文本文件（含有 NUL 字节） / not a text file")
    try:
        return data.decode("utf-8").replace(BOM, ""), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError:
        raise NoticeUnreadable(f"{display}: 既不是 UTF-8 也不是 GBK 文本，无法读取 / neither UTF-8 nor GBK text") from None


def _number_format(document, num_id: str, level: str) -> str:
    """The numbering format (decimal, chineseCounting, bullet …) of a list level."""
    numbering = document.part.numbering_part.element
    abstract = numbering.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
    if not abstract:
        return BULLET
    formats = numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val')
    return formats[0] if formats else BULLET


def _numbering(paragraph) -> tuple[str, str] | None:
    """(numId, ilvl) of a paragraph numbered by Word, directly or through its style."""
    for holder in (paragraph._p, *_styles(paragraph)):
        ppr = holder.pPr
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is not None and num_pr.numId is not None:
            level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
            return str(num_pr.numId.val), str(level)
    return None


def _styles(paragraph):
    style = paragraph.style
    while style is not None:
        yield style.element
        style = style.base_style


class ListNumbers:
    """The numbers Word shows before automatically numbered paragraphs."""

    def __init__(self, document):
        self.document = document
        self.counts: dict[str, list[int]] = {}

    def prefix(self, paragraph) -> str:
        found = _numbering(paragraph)
        if found is None or found[0] == "0":
            return ""
        num_id, level = found
        if _number_format(self.document, num_id, level) in (BULLET, "none"):
            return ""
        depth = int(level)
        counts = self.counts.setdefault(num_id, [])
        del counts[depth + 1 :]
        counts.extend([0] * (depth + 1 - len(counts)))
        counts[depth] += 1
        return f"{counts[depth]}." if depth == 0 else f"（{counts[depth]}）"


def read_docx(path: Path, display: str) -> list[str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, XMLSyntaxError, KeyError, ValueError) as err:
        raise NoticeUnreadable(f"{display}: 不是有效的 Word 文档（.docx） / not a valid .docx file ({err})") from None
    numbers = ListNumbers(document)
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines += ["　".join(cell.text.strip() for cell in row.cells) for row in block.rows]
        else:
            lines.append(numbers.prefix(block) + block.text)
    return paragraphs_of("\n".join(lines))


def read_notice(path: Path, display: str) -> NoticeText:
    """A notice file's paragraphs; NoticeUnreadable for a file that is none."""
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise NoticeMissing(f"{display}: 不能读取{REFUSED_SUFFIXES[suffix]}，请另存为 .docx 或纯文本（.txt）后再导入")
    if not path.is_file():
        raise NoticeMissing(f"{display}: 文件不存在 / no such file")
    try:
        if suffix == DOCX:
            return NoticeText(read_docx(path, display), "Word 文档")
        text, encoding = decode_text(path.read_bytes(), display)
    except OSError as err:
        raise NoticeUnreadable(f"{display}: 无法读取 / cannot be read ({err.strerror or err})") from None
    return NoticeText(paragraphs_of(text), encoding)
