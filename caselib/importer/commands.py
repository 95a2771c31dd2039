"""``build.py import FILE... [--to DIR]`` and ``build.py new "标题" [--to DIR]``.

Every notice is read and split before anything is written: a file that
cannot be read, or in which no case is found, is named and nothing at all is
written (exit 1). Then each case is written, or reported: one already
imported (the same source, or the same title and date, in the folder) is
left as it is, and one that could not make a valid case file (no violation
type found) is named with what to do. The report has one line per case.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..cli import EXIT_INVALID, EXIT_OK, Parser
from ..discover import display_path
from ..errors import InvalidInput, LibraryError, UsageError
from ..schema import FIELDS
from .caseid import base_id
from .casefile import CasesFolder, Known, already_imported, case_text
from .extract import Draft, draft_case, label, visibility_of
from .notice import Notice, NoCase, Part, read_notice_text
from .reading import NoticeText, NoticeUnreadable, read_notice
from .template import NoViolation, new_case

IMPORT_DESCRIPTION = """\
导入通报 — import cases from notices.

读取通报文件（纯文本 UTF-8 或 GBK，或 Word .docx），找出其中的案例：典型问题通报的每个编号条目
（“1.”“（一）”“一、”等）各为一个案例，关于一个人的通报（如“双开”通报）为一个案例；每个案例写成
一个案例文件，放在 DIR/年份/ 下。标题、日期、违规类型、处分处理、违反的纪律、四种形态、涉案金额、
人员类别、职级、单位、职务、地区按词表和通报的常用说法从原文中查找；正文分为基本案情、处理结果和
警示启示（通报的评述）；来源写明通报。查不到的项目写在文件开头的“待核对”注释里。

Reads each notice, writes one case file per case into DIR/<year>/ (never over
an existing file), and prints one line per case: the file, the title, what
was found and what to check.
"""
IMPORT_EPILOG = """\
退出状态 / exit status: 0 每个案例都已写入（或此前已导入）; 1 有文件读不出或找不到案例
（此时不写入任何文件），或有案例未能写入; 2 用法错误。

examples:
  python build.py import 通报.txt                 写入 cases/
  python build.py import 通报.docx 双开通报.txt --to 待审案例/
"""
NEW_DESCRIPTION = """\
新建案例 — start a case file from its title.

按作者模板 cases/_template.md 新建一个案例文件：标题为所给标题，日期为今天，案例编号由年份和标题
关键词的拼音生成（不与已有编号重复），标题中写明的违规类型、单位、职务等一并填入，其余示例值清空；
打印新文件的路径。

Writes DIR/<year>/<id>.md from the template with the title, today's date and
what the title names, and prints its path.
"""
NEW_EPILOG = """\
退出状态 / exit status: 0 已写入; 1 标题中没有可识别的违规类型（违规类型是必填项）; 2 用法错误。

example:
  python build.py new "某县水利局副局长张某违规收受礼品礼金案"
"""
DEFAULT_FOLDER = Path("cases")


def make_import_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="build.py import", description=IMPORT_DESCRIPTION, epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="通报文件：.txt 等纯文本（UTF-8 或 GBK）或 .docx / notice files")
    parser.add_argument("--to", type=Path, default=DEFAULT_FOLDER, metavar="DIR", help="写入的案例文件夹，须已存在（默认 cases/） / an existing cases folder to write into")
    return parser


def make_new_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="build.py new", description=NEW_DESCRIPTION, epilog=NEW_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("title", metavar="标题", help="案例标题，一般为“单位+职务+主要违纪违法行为+案” / the case's title")
    parser.add_argument("--to", type=Path, default=DEFAULT_FOLDER, metavar="DIR", help="写入的案例文件夹，须已存在（默认 cases/） / an existing cases folder to write into")
    return parser


def cases_folder(parser: argparse.ArgumentParser, folder: Path) -> CasesFolder:
    if not folder.is_dir():
        parser.error(f"案例文件夹不存在 / cases folder not found: {folder}")
    return CasesFolder(folder)


@dataclass
class ReadNotice:
    path: Path
    read: NoticeText
    notice: Notice

    @property
    def name(self) -> str:
        """What the notice is called: its title, else its file name."""
        return self.notice.title or self.path.stem

    def source(self, part: Part) -> str:
        date = f"（{self.notice.date[1]}）" if self.notice.date else ""
        item = f"第{part.number}起" if part.number else ""
        return f"{self.name}{date}{item}"


def read_all(paths: list[Path]) -> list[ReadNotice]:
    """Every notice read and split; InvalidInput naming each file that failed (NoticeMissing for a missing one)."""
    notices, failed = [], []
    for path in paths:
        display = display_path(path)
        try:
            read = read_notice(path, display)
            notices.append(ReadNotice(path, read, read_notice_text(read.paragraphs, display)))
        except UsageError:
            raise
        except (NoCase, NoticeUnreadable) as err:
            failed.append(str(err))
    if failed:
        raise ImportFailed(failed)
    return notices


class ImportFailed(LibraryError):
    """Files that could not be imported, one message each."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("\n".join(messages))


def comments(draft: Draft, notice: ReadNotice) -> list[str]:
    return [
        f"由 build.py import 从 {notice.path.name}（{notice.read.encoding}）导入；核对后可删除以 # 开头的注释行",
        "待核对：" + ("；".join(draft.to_check) if draft.to_check else "无（仍请对照通报原文核对）"),
    ]


def ordered(values: dict[str, object]) -> dict[str, object]:
    """The values in the order of the case's fields (title, date, violations …)."""
    return {f.name: values[f.name] for f in FIELDS if f.name in values}


def repeated(known: list[Known], draft: Draft) -> Known | None:
    title, date, source = draft.values["title"], draft.values.get("date"), draft.values["source"]
    return next((k for k in known if k.source == source or (k.title == title and k.date == date)), None)


WRITTEN, KNOWN, NOT_WRITTEN = "written", "known", "not written"
REQUIRED = ("violations", "date")


def import_part(folder: CasesFolder, notice: ReadNotice, part: Part, known: list[Known]) -> tuple[str, str]:
    """Write one case, or say why not: (the report line, WRITTEN, KNOWN or NOT_WRITTEN)."""
    draft = draft_case(part, notice.notice, notice.source(part), visibility_of(notice.notice))
    title = str(draft.values["title"])
    earlier = repeated(known, draft)
    if earlier:
        return f"已导入过，未改动  {display_path(earlier.path)}｜{title}｜同一来源的案例已在文件夹中", KNOWN
    lacking = [label(name) for name in REQUIRED if name not in draft.values]
    if lacking:
        hint = "请用 python build.py new 新建后对照通报填写"
        return f"未写入｜{title}｜找不到{'、'.join(lacking)}（必填项）；{hint}", NOT_WRITTEN
    year = str(draft.values["date"])[:4]
    text = case_text(ordered(draft.values), draft.sections, comments(draft, notice))
    try:
        path = folder.write(text, base_id(year, draft.heading), year)
    except InvalidInput as err:
        problems = "；".join(str(p) for p in err.problems)
        return f"未写入｜{title}｜不符合案例格式：{problems}", NOT_WRITTEN
    check = "；".join(draft.to_check) or "无"
    return f"已写入  {display_path(path)}｜{title}｜找到：{'；'.join(draft.found)}｜待核对：{check}", WRITTEN


def run_import(argv: list[str]) -> int:
    parser = make_import_parser()
    args = parser.parse_args(argv)
    folder = cases_folder(parser, args.to)
    try:
        notices = read_all(args.files)
    except UsageError as err:
        parser.error(str(err))
    except ImportFailed as err:
        for message in err.messages:
            print(f"build.py import: error: {message}", file=sys.stderr)
        print("未写入任何文件 / nothing was written.", file=sys.stderr)
        return EXIT_INVALID
    tally: Counter[str] = Counter()
    for notice in notices:
        parts = notice.notice.parts
        print(f"{display_path(notice.path)}（{notice.read.encoding}）：找到 {len(parts)} 个案例")
        known = already_imported(folder, notice.name)
        for part in parts:
            line, status = import_part(folder, notice, part, known)
            print(line)
            tally[status] += 1
    print(
        f"写入 {tally[WRITTEN]} 个案例文件，{tally[KNOWN]} 个此前已导入，{tally[NOT_WRITTEN]} 个未能写入。"
        "请逐个核对“待核对”各项，再运行 python build.py --check。"
    )
    return EXIT_INVALID if tally[NOT_WRITTEN] else EXIT_OK


def run_new(argv: list[str]) -> int:
    parser = make_new_parser()
    args = parser.parse_args(argv)
    if not args.title.strip():
        parser.error("标题不能为空 / the title must not be empty")
    folder = cases_folder(parser, args.to)
    try:
        made = new_case(args.title, folder)
    except UsageError as err:
        parser.error(str(err))
    except (NoViolation, InvalidInput) as err:
        print(f"build.py new: error: {err}", file=sys.stderr)
        print("未写入任何文件 / nothing was written.", file=sys.stderr)
        return EXIT_INVALID
    print(display_path(made.path))
    print(f"已按模板新建；找到：{'；'.join(made.found)}；待填写：{'、'.join(made.to_fill) or '无'}", file=sys.stderr)
    return EXIT_OK


def run(argv: list[str]) -> int:
    """``argv`` starts with the command's name (import or new)."""
    command, rest = argv[0], argv[1:]
    return run_import(rest) if command == "import" else run_new(rest)
