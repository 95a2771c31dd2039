"""build.py import and build.py new: notices written here, imported into a real folder, checked by the real build."""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
import yaml

from caselib.cli import main

REPO = Path(__file__).resolve().parent.parent

# A typical-case notice numbered 1. 2. 3., dated under its title and signed at the end, with commentary.
DOTTED = """\
某市纪委监委公开通报三起违反中央八项规定精神典型问题
（2024年6月18日）
近日，某市纪委监委对三起违反中央八项规定精神典型问题进行通报。具体如下：
1.某县自然资源局原党组书记、局长张某某违规收受礼品礼金问题。2019年至2022年，张某某先后多次收受管理服务对象所送礼品礼金，共计3.6万元。2023年5月，张某某受到党内严重警告处分，收缴其违纪所得。
2.某区住房和城乡建设局副局长李某违规接受宴请问题。2021年春节期间，李某接受某公司安排的宴请，人均消费1200元。2023年8月，李某受到政务记过处分。
3.某镇党委书记王某某违规发放津贴补贴问题。2020年至2022年，王某某违规发放津贴补贴共计12.5万元。2023年3月，王某某受到党内警告处分，违规发放的资金已全部清退。
对顶风违纪的，该开除党籍的坚决开除党籍，该移送审查起诉的坚决移送审查起诉。
上述典型问题，反映出一些党员干部纪法意识淡薄。各级党组织要深刻汲取教训。
某市纪委监委
2024年6月18日
"""

# 一、 二、 … with full-width digits and ideographic-space indents, as pasted from a web page.
FULL_WIDTH = """\
某省纪委监委通报４起群众身边不正之风和腐败问题典型案例
　　近日，某省纪委监委对４起群众身边不正之风和腐败问题典型案例进行通报。
　　一、某市某区某街道某社区党委书记钱某某侵占集体资金问题。２０１８年至２０２１年，钱某某利用职务便利，侵占社区集体资金共计２５．６万元。２０２２年１１月，钱某某受到开除党籍处分，其涉嫌犯罪问题被移送检察机关依法审查起诉。
　　二、某县民政局社会救助股股长孙某滥用职权问题。２０２０年，孙某违规为不符合条件人员办理低保，造成损失８．２万元。２０２２年９月，孙某受到党内严重警告、政务撤职处分。
　　三、某镇财政所所长周某某挪用公款问题。２０１９年，周某某挪用公款５０万元用于个人投资。２０２２年１２月，周某某被开除党籍、开除公职，其涉嫌犯罪问题移送检察机关依法审查起诉。
　　四、某县人力资源和社会保障局副局长吴某工作作风不实问题。２０２１年，吴某在养老保险待遇审核工作中不作为，致使冒领养老金问题长期未被发现。２０２２年１０月，吴某受到诫勉处理。
　　各级纪检监察机关要持续深化整治群众身边不正之风和腐败问题。
　　　　　　　　　　　　　　　　　　　某省纪委监委
　　　　　　　　　　　　　　　　　　　２０２３年１月１０日
"""

# （一）（二） under a section heading 一、, the date given as 发布时间, one case with no amount.
BRACKETED = """\
某县纪委监委关于几起形式主义官僚主义典型问题的通报
发布时间：2023-09-05
一、违反中央八项规定精神问题
（一）某县交通运输局局长郑某某违规接受宴请问题。2022年中秋节期间，郑某某接受管理服务对象安排的宴请。2023年6月，郑某某受到党内警告处分。
（二）某县卫生健康委员会副主任冯某违规收受购物卡问题。2021年至2022年，冯某收受某医药公司负责人所送购物卡，合计8000元。2023年7月，冯某受到政务警告处分，违纪所得被收缴。
二、违法犯罪问题
（三）某县公安局某派出所所长陈某某受贿问题。2015年至2021年，陈某某利用职务上的便利，为他人在案件办理等方面谋取利益，非法收受他人财物共计46.8万元。2022年4月，陈某某受到开除党籍、开除公职处分；2022年11月，陈某某被县人民法院以受贿罪判处有期徒刑三年。
"""

# 案例一：… with the case's own commentary: a 双开-like outcome split over two paragraphs.
CASE_WORD = """\
某市国资委党委通报2起国有企业人员违纪违法典型案例
（2024年1月8日）
案例一：某市某国有公司原副总经理褚某某违规经商办企业、受贿问题。
2016年至2020年，褚某某违规入股其管理服务对象的企业，获利60万元；利用职务便利为他人谋利，收受财物共计人民币132万余元。
2023年10月，褚某某被开除党籍、开除公职，收缴其违纪违法所得。
案例二：某市某集团公司财务部会计卫某挪用公款问题。
2022年，卫某利用管理公司资金的便利，挪用公款30万元用于偿还个人债务。2023年11月，卫某受到政务记大过处分。
"""

# A 双开 notice about one person: the title names the person, the outcome names no date of its own.
SHUANGKAI = """\
某县水利局原党组书记、局长赵某某严重违纪违法被开除党籍和公职
发布时间：2024-03-15 09:30
近日，经某县委批准，某县纪委监委对某县水利局原党组书记、局长赵某某严重违纪违法问题进行了立案审查调查。
经查，赵某某丧失理想信念，背弃初心使命，对抗组织审查；违反中央八项规定精神，违规收受礼品礼金；利用职务上的便利，在工程项目承揽等方面为他人谋取利益，非法收受他人财物，数额特别巨大，共计1,280万元。
赵某某严重违反党的政治纪律、组织纪律、廉洁纪律，构成严重职务违法并涉嫌受贿犯罪，且在党的十八大后不收敛、不收手，应予严肃处理。依据《中国共产党纪律处分条例》等有关规定，经某县纪委常委会会议研究并报某县委批准，决定给予赵某某开除党籍处分；由某县监委给予其开除公职处分；收缴其违纪违法所得；将其涉嫌犯罪问题移送检察机关依法审查起诉，所涉财物随案移送。
"""

# The same notice with the decision in a paragraph of its own that names the person only as 其.
SHUANGKAI_SPLIT = SHUANGKAI.replace("应予严肃处理。依据", "依规依纪依法应予严肃处理。\n依据").replace("决定给予赵某某", "决定给予其")

NO_CASE = """\
某市纪委监委关于开展2024年党纪学习教育的通知
各区县纪委监委：
为深入学习贯彻《中国共产党纪律处分条例》，现就开展党纪学习教育有关事项通知如下。
请各单位认真组织学习，按时报送学习情况。
"""


@dataclass(frozen=True)
class Expected:
    """A case as a reader of the notice would put it."""

    title: str
    violations: list[str]
    sanctions: list[str]
    date: str
    amount: int | None


EXPECTED = {
    "dotted": [
        Expected("某县自然资源局原党组书记、局长张某某违规收受礼品礼金案", ["违规收送礼品礼金"], ["党内严重警告", "收缴违纪违法所得"], "2023-05", 36000),
        Expected("某区住房和城乡建设局副局长李某违规接受宴请案", ["违规吃喝"], ["记过"], "2023-08", 1200),
        Expected("某镇党委书记王某某违规发放津贴补贴案", ["违规发放津补贴或福利"], ["党内警告"], "2023-03", 125000),
    ],
    "full_width": [
        Expected("某市某区某街道某社区党委书记钱某某侵占集体资金案", ["贪污"], ["开除党籍", "移送审查起诉"], "2022-11", 256000),
        Expected("某县民政局社会救助股股长孙某滥用职权案", ["滥用职权"], ["党内严重警告", "撤职"], "2022-09", 82000),
        Expected("某镇财政所所长周某某挪用公款案", ["挪用公款"], ["开除党籍", "开除公职", "移送审查起诉"], "2022-12", 500000),
        Expected("某县人力资源和社会保障局副局长吴某工作作风不实案", ["不担当不作为"], ["诫勉"], "2022-10", None),
    ],
    "bracketed": [
        Expected("某县交通运输局局长郑某某违规接受宴请案", ["违规吃喝"], ["党内警告"], "2023-06", None),
        Expected("某县卫生健康委员会副主任冯某违规收受购物卡案", ["违规收送礼品礼金"], ["政务警告", "收缴违纪违法所得"], "2023-07", 8000),
        Expected("某县公安局某派出所所长陈某某受贿案", ["受贿"], ["开除党籍", "开除公职", "判处刑罚"], "2022-04", 468000),
    ],
    "case_word": [
        Expected("某市某国有公司原副总经理褚某某违规经商办企业、受贿案", ["违规经商办企业", "受贿"], ["开除党籍", "开除公职", "收缴违纪违法所得"], "2023-10", 1320000),
        Expected("某市某集团公司财务部会计卫某挪用公款案", ["挪用公款"], ["记大过"], "2023-11", 300000),
    ],
    "shuangkai": [
        Expected(
            "某县水利局原党组书记、局长赵某某严重违纪违法案",
            ["对抗组织审查", "违规收送礼品礼金", "受贿"],
            ["开除党籍", "开除公职", "收缴违纪违法所得", "移送审查起诉"],
            "2024-03-15",
            12800000,
        ),
    ],
}
EXPECTED["shuangkai_split"] = EXPECTED["shuangkai"]
NOTICES = {"dotted": DOTTED, "full_width": FULL_WIDTH, "bracketed": BRACKETED, "case_word": CASE_WORD, "shuangkai": SHUANGKAI, "shuangkai_split": SHUANGKAI_SPLIT}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """build.py with these arguments, in this process: (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def written(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*.md"))}


def front(path: Path) -> dict:
    """The front matter as YAML reads it (the file's own words: labels, dates as written)."""
    text = path.read_text(encoding="utf-8")
    values = yaml.safe_load(text.split("---\n")[1])
    return {k: str(v) if isinstance(v, datetime.date) else v for k, v in values.items()}


def as_read(folder: Path) -> list[Expected]:
    """Each written case as the tests compare it, in the order of its title's place in the report."""
    found = []
    for path in written(folder):
        values = front(path)
        found.append(Expected(values["title"], values["violations"], values.get("sanctions", []), values["date"], values.get("amount")))
    return found


def write_docx(path: Path, text: str, numbered: bool = False) -> Path:
    """The notice as a Word document, one paragraph a line; ``numbered``: its "1." items as Word's own list numbering."""
    document = docx.Document()
    for line in text.splitlines():
        item = re.match(r"^\d+\.", line)
        if numbered and item:
            document.add_paragraph(line[item.end() :], style="List Number")
        else:
            document.add_paragraph(line)
    document.save(str(path))
    return path


def check_folder(capsys, folder: Path) -> None:
    status, out, err = run(capsys, "--check", "--cases", str(folder))
    assert 0 == status, err


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "cases"
    path.mkdir()
    return path


def by_title(cases: list[Expected]) -> list[Expected]:
    return sorted(cases, key=lambda c: c.title)


@pytest.mark.parametrize("name", list(NOTICES))
def test_each_case_of_a_notice_is_found_as_a_reader_would_put_it(capsys, tmp_path, folder, name):
    notice = tmp_path / f"{name}.txt"
    notice.write_text(NOTICES[name], encoding="utf-8")
    status, out, err = run(capsys, "import", str(notice), "--to", str(folder))
    assert (0, "") == (status, err)
    assert by_title(EXPECTED[name]) == by_title(as_read(folder))
    check_folder(capsys, folder)


@pytest.mark.parametrize(
    "name, encode",
    [
        ("dotted", lambda text: text.encode("gbk")),
        ("full_width", lambda text: text.encode("gbk")),
        ("shuangkai", lambda text: ("\r\n".join(text.splitlines()) + "\r\n").encode("gb18030")),
        ("dotted", lambda text: "\ufeff".encode() + text.encode("utf-8")),
        ("case_word", lambda text: text.encode("utf-16")),
    ],
    ids=["gbk", "gbk-full-width", "gb18030-crlf", "utf-8-bom", "utf-16"],
)
def test_a_notice_saved_in_another_encoding_gives_the_same_cases(capsys, tmp_path, folder, name, encode):
    notice = tmp_path / "通报.txt"
    notice.write_bytes(encode(NOTICES[name]))
    status, out, err = run(capsys, "import", str(notice), "--to", str(folder))
    assert (0, "") == (status, err)
    assert by_title(EXPECTED[name]) == by_title(as_read(folder))


@pytest.mark.parametrize(
    "name, numbered",
    [("shuangkai", False), ("dotted", False), ("dotted", True)],
    ids=["shuangkai", "typed-numbers", "word-numbering"],
)
def test_a_word_document_gives_the_same_cases(capsys, tmp_path, folder, name, numbered):
    notice = write_docx(tmp_path / "通报.docx", NOTICES[name], numbered)
    status, out, err = run(capsys, "import", str(notice), "--to", str(folder))
    assert (0, "") == (status, err)
    assert by_title(EXPECTED[name]) == by_title(as_read(folder))
    assert "Word 文档" in out
    check_folder(capsys, folder)


def test_several_notices_at_once_pass_the_check(capsys, tmp_path, folder):
    paths = []
    for name, text in NOTICES.items():
        paths.append(tmp_path / f"{name}.txt")
        paths[-1].write_text(text, encoding="utf-8")
    status, out, err = run(capsys, "import", *map(str, paths), "--to", str(folder))
    assert (0, "") == (status, err)
    distinct = sum(len(e) for n, e in EXPECTED.items() if n != "shuangkai_split")  # the same case as "shuangkai"
    assert distinct == len(written(folder))
    assert f"写入 {distinct} 个案例文件，1 个此前已导入，0 个未能写入。" in out
    check_folder(capsys, folder)


def test_a_case_file_has_its_sections_source_and_what_to_check(capsys, tmp_path, folder):
    notice = tmp_path / "通报.txt"
    notice.write_text(DOTTED, encoding="utf-8")
    run(capsys, "import", str(notice), "--to", str(folder))
    path = folder / "2023" / "2023-ziranziyuanju-juzhang-shousong-lipin-lijin.md"
    text = path.read_text(encoding="utf-8")
    values = front(path)
    expected = {
        "unit": "某县自然资源局",
        "position": "原党组书记、局长",
        "period": "2019-2022",
        "source": "某市纪委监委公开通报三起违反中央八项规定精神典型问题（2024年6月18日）第1起",
    }
    assert expected == {k: values.get(k) for k in expected}
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert ["基本案情", "处理结果", "警示启示"] == headings
    assert "2023年5月，张某某受到党内严重警告处分，收缴其违纪所得。" in text.split("## 处理结果")[1].split("##")[0]
    assert "上述典型问题" in text.split("## 警示启示")[1]
    assert "坚决开除党籍" in text.split("## 警示启示")[1]
    comments = [line for line in text.split("---\n")[1].splitlines() if line.startswith("#")]
    assert 2 == len(comments) and comments[1].startswith("# 待核对：未找到") and "地区" in comments[1]


def test_the_report_has_one_chinese_line_per_case(capsys, tmp_path, folder):
    notice = tmp_path / "通报.txt"
    notice.write_text(FULL_WIDTH, encoding="utf-8")
    status, out, err = run(capsys, "import", str(notice), "--to", str(folder))
    lines = out.splitlines()
    assert f"{notice}（UTF-8）：找到 4 个案例" == lines[0]
    case_lines = lines[1:-1]
    assert [str(p) for p in written(folder)] == sorted(line.split("｜")[0].removeprefix("已写入  ") for line in case_lines)
    for line, expected in zip(case_lines, EXPECTED["full_width"]):
        path, title, found, check = line.split("｜")
        assert (expected.title, True, True) == (title, found.startswith("找到：日期 "), check.startswith("待核对："))
        assert f"违规类型 {'、'.join(expected.violations)}" in found
    assert "写入 4 个案例文件，0 个此前已导入，0 个未能写入。" in lines[-1]


def test_a_second_import_overwrites_nothing(capsys, tmp_path, folder):
    notice = tmp_path / "通报.txt"
    notice.write_text(DOTTED, encoding="utf-8")
    run(capsys, "import", str(notice), "--to", str(folder))
    first = written(folder)
    times = {p: os.stat(p).st_mtime_ns for p in first}
    status, out, err = run(capsys, "import", str(notice), "--to", str(folder))
    assert (0, "") == (status, err)
    assert first == written(folder)
    assert times == {p: os.stat(p).st_mtime_ns for p in first}
    assert 3 == sum(line.startswith("已导入过，未改动") for line in out.splitlines())
    assert "写入 0 个案例文件，3 个此前已导入，0 个未能写入。" in out


def test_an_id_already_in_use_is_not_used_again(capsys, tmp_path, folder):
    taken = folder / "2023" / "2023-ziranziyuanju-juzhang-shousong-lipin-lijin.md"
    taken.parent.mkdir()
    taken.write_text("作者自己的文件", encoding="utf-8")
    notice = tmp_path / "通报.txt"
    notice.write_text(DOTTED, encoding="utf-8")
    status, out, err = run(capsys, "import", str(notice), "--to", str(folder))
    assert "作者自己的文件" == taken.read_text(encoding="utf-8")
    assert "张某某" in (taken.parent / "2023-ziranziyuanju-juzhang-shousong-lipin-lijin-2.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "content, message",
    [
        (NO_CASE.encode("utf-8"), "找不到案例"),
        (NO_CASE.encode("gbk"), "找不到案例"),
        (b"", "没有文字"),
        (b"\xff\xfe\x00\xd8", "UTF-16"),
        (b"\x00\x01binary", "不是文本文件"),
        (b"\x81\x30\xff\xff not gbk", "既不是 UTF-8 也不是 GBK"),
    ],
    ids=["no-case", "no-case-gbk", "empty", "broken-utf16", "binary", "undecodable"],
)
def test_a_file_with_no_case_is_named_and_nothing_is_written(capsys, tmp_path, folder, content, message):
    good = tmp_path / "典型问题.txt"
    good.write_text(DOTTED, encoding="utf-8")
    bad = tmp_path / "通知.txt"
    bad.write_bytes(content)
    status, out, err = run(capsys, "import", str(good), str(bad), "--to", str(folder))
    assert (1, {}) == (status, written(folder))
    assert f"{bad}: " in err and message in err and "未写入任何文件" in err
    assert "Traceback" not in err


def test_a_file_that_is_no_word_document_is_named(capsys, tmp_path, folder):
    bad = tmp_path / "通报.docx"
    bad.write_text(DOTTED, encoding="utf-8")
    status, out, err = run(capsys, "import", str(bad), "--to", str(folder))
    assert (1, {}) == (status, written(folder))
    assert f"{bad}: 不是有效的 Word 文档" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["import", "missing.txt"], "missing.txt: 文件不存在"),
        (["import", "通报.doc"], "通报.doc: 不能读取旧版 Word 文档"),
        (["import", "x.txt", "--to", "no-such-folder"], "案例文件夹不存在"),
        (["import"], "the following arguments are required"),
        (["new", " ", "--to", "."], "标题不能为空"),
        (["new", "某县某局张某违规收受礼品礼金案", "--to", "no-such-folder"], "案例文件夹不存在"),
    ],
)
def test_wrong_usage_exits_2_with_a_message(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "x.txt").write_text(DOTTED, encoding="utf-8")
    status, out, err = run(capsys, *argv)
    assert 2 == status and message in err, err
    assert [] == list((tmp_path / "cases").rglob("*.md"))


def test_new_writes_a_case_file_from_the_template(capsys, folder):
    status, out, err = run(capsys, "new", "某县水利局副局长张某违规收受礼品礼金案", "--to", str(folder))
    year = datetime.date.today().strftime("%Y")
    path = folder / year / f"{year}-shuiliju-fujuzhang-shousong-lipin-lijin.md"
    assert (0, f"{path}\n") == (status, out)
    values = front(path)
    expected = {
        "title": "某县水利局副局长张某违规收受礼品礼金案",
        "date": datetime.date.today().isoformat(),
        "violations": ["违规收送礼品礼金"],
        "unit": "某县水利局",
        "position": "副局长",
        "sanctions": [],
        "source": None,
        "lang": "zh",
    }
    assert expected == {k: values.get(k) for k in expected}
    text = path.read_text(encoding="utf-8")
    assert ["基本案情", "处理结果", "案例评析", "警示启示", "相关条规", "以案促改"] == re.findall(r"^## (.+)$", text, re.M)
    assert "# 必填。一行标题" in text  # the template's notes stay beside each field
    check_folder(capsys, folder)
    status, out, err = run(capsys, "new", "某县水利局副局长张某违规收受礼品礼金案", "--to", str(folder))
    assert (0, f"{path.with_name(path.stem + '-2.md')}\n") == (status, out)
    assert text == path.read_text(encoding="utf-8")


def test_new_refuses_a_title_without_a_violation(capsys, folder):
    status, out, err = run(capsys, "new", "某县水利局副局长张某案", "--to", str(folder))
    assert (1, "", {}) == (status, out, written(folder))
    assert "没有找到违规类型" in err and "未写入任何文件" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--help"], ["警示教育案例库", "import", "new", "导入通报", "按模板新建案例"]),
        (["import", "--help"], ["导入通报", "FILE", "--to DIR", "待核对", "退出状态", "GBK", ".docx"]),
        (["new", "--help"], ["新建案例", "标题", "_template.md", "今天", "退出状态"]),
    ],
)
def test_help_explains_the_commands(capsys, argv, words):
    status, out, err = run(capsys, *argv)
    assert 0 == status
    assert [] == [w for w in words if w not in out]


def console_block(readme: str, command: str) -> list[str]:
    """The lines README shows after ``$ command`` in a console block."""
    block = readme.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_the_readme_shows_the_real_output_of_import(capsys, tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "python build.py import examples/typical-notice.txt --to drafts"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "typical-notice.txt").write_bytes((REPO / "examples" / "typical-notice.txt").read_bytes())
    (tmp_path / "drafts").mkdir()
    status, out, err = run(capsys, *command.split()[2:])
    assert (0, "") == (status, err)
    assert console_block(readme, command) == out.splitlines()
    shown = readme.split("One of the files it wrote:\n\n```markdown\n", 1)[1].split("```", 1)[0]
    assert (tmp_path / "drafts" / "2023" / "2023-zhufanghechengxiang-fujuzhang-chihe.md").read_text(encoding="utf-8") == shown


def test_the_readme_shows_the_real_output_of_new(capsys, tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = 'python build.py new "某县水利局副局长张某违规收受礼品礼金案" --to drafts'
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drafts").mkdir()
    status, out, err = run(capsys, "new", "某县水利局副局长张某违规收受礼品礼金案", "--to", "drafts")
    shown_out, shown_err = console_block(readme, command)
    today = datetime.date.today()
    as_of_today = [line.replace("2026-12-01", today.isoformat()).replace("2026", today.strftime("%Y")) for line in (shown_out, shown_err)]
    assert (0, as_of_today) == (status, [out.rstrip("\n"), err.rstrip("\n")])
