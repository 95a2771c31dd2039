"""Word booklets, opened with python-docx as a trainer's Word would open them:
a pack in teaching order (the trainer's version with the teaching notes, the
participants' without), any case list and the ranked search as a 案例汇编,
the fonts of official documents, and case text that stays text; and
LibreOffice (Debian's libreoffice-writer, installed by ``make test``)
printing them to PDF."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import quote

import docx
import pytest
from docx.shared import Mm
from lxml import etree

from conftest import REPO, case_text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PACK = "2025-sange-guiding"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SECTION_TITLES = {"facts": "基本案情", "outcome": "处理结果", "analysis": "案例评析", "lessons": "警示启示", "rules": "相关条规", "reform": "以案促改"}
H2 = re.compile(r'<h2(?: id="section-(\w+)")?>(.*?)</h2>')


def opened(response):
    assert (200, DOCX_TYPE) == (response.status_code, response.headers["content-type"]), response.text[:300]
    return docx.Document(io.BytesIO(response.content))


def styled(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def by_case(document) -> list[tuple[str, list[str]]]:
    """Each first-level heading with the second-level headings under it."""
    cases: list[tuple[str, list[str]]] = []
    for paragraph in document.paragraphs:
        if paragraph.style.name == "Heading 1":
            cases.append((paragraph.text, []))
        elif paragraph.style.name == "Heading 2" and cases:
            cases[-1][1].append(paragraph.text)
    return cases


def every_text(document) -> str:
    """The paragraphs' and the tables' text, without whitespace (a soft line break is a space in Word)."""
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return re.sub(r"\s+", "", "".join(p.text for p in document.paragraphs) + "".join(cells))


def part_xml(response, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        return etree.fromstring(package.read(name))


def query(db: Path, sql: str, params: dict | None = None) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params or {})]
    finally:
        conn.close()


def pack_cases(db: Path) -> list[dict]:
    return query(
        db,
        "select c.*, t.*, pc.note as note, pc.questions as questions from pack_cases pc join cases c on c.id = pc.case_id "
        "join case_texts t on t.id = c.id where pc.pack_id = :pack order by pc.position",
        {"pack": PACK},
    )


def numbered(rows: list[dict]) -> list[str]:
    return [f"{n}．{row['title']}" for n, row in enumerate(rows, 1)]


@pytest.fixture(scope="module")
def trainer(shipped_site):
    return shipped_site.get(f"/packs/{PACK}.docx")


@pytest.fixture(scope="module")
def participants(shipped_site):
    return shipped_site.get(f"/packs/{PACK}.docx?participants=1")


def test_the_pack_booklet_has_its_cover_contents_and_cases_in_teaching_order(trainer, shipped_db):
    document = opened(trainer)
    pack = query(shipped_db, "select * from packs where id = :id", {"id": PACK})[0]
    rows = pack_cases(shipped_db)
    assert [pack["title"]] == styled(document, "Title")
    assert [f"培训对象：{pack['audience']}", f"日期：{pack['date']}", "培训用（含教学提示）"] == styled(document, "Subtitle")
    assert set(pack["description"].split("\n")) <= set(styled(document, "Body Text"))
    assert numbered(rows) == styled(document, "Heading 1")
    assert ["目　录"] == styled(document, "TOC Heading")
    assert numbered(rows) == styled(document, "toc 1")
    instructions = [e.text for e in part_xml(trainer, "word/document.xml").iter(f"{W}instrText")]
    assert [' TOC \\o "1-1" \\h \\z \\u '] == instructions
    name = quote(f"{pack['title']}-培训用-", safe="")
    assert f"filename*=UTF-8''{name}" in trainer.headers["content-disposition"]


def test_each_case_has_its_facts_table_and_its_sections_in_the_bodys_order(trainer, shipped_db):
    document = opened(trainer)
    rows = pack_cases(shipped_db)
    expected = []
    for row in rows:
        sections = [SECTION_TITLES[column] if column else title for column, title in H2.findall(row["body_html"])]
        expected.append((f"{len(expected) + 1}．{row['title']}", sections + ["教学提示"] + (["讨论题"] if row["questions"] else [])))
    assert expected == by_case(document)
    tables = [[[cell.text for cell in r.cells] for r in table.rows] for table in document.tables]
    for row, table in zip(rows, tables):
        facts = dict(table)
        assert (row["date"], row["unit"], row["position"]) == (facts["日期"], facts["单位"], facts["职务"])
        assert "、".join(json.loads(row["violations"])) == facts["违规类型"]
    text = every_text(document)
    for row in rows:
        for column in SECTION_TITLES:
            for line in (row[column] or "").split("\n"):
                assert re.sub(r"\s+", "", line) in text, (row["id"], column, line)


def test_numbered_lists_keep_their_numbers_and_bullets_stay_bullets(trainer):
    source = (REPO / "cases" / "2021" / "2021-jianchazhang-ganyu-anjian.md").read_text(encoding="utf-8")
    items = [(number, text.replace("**", "")) for number, text in re.findall(r"^(\d+)\. (.+)$", source, re.MULTILINE)]
    bullets = [text.replace("**", "") for text in re.findall(r"^- (.+)$", source, re.MULTILINE)]
    paragraphs = [p.text for p in opened(trainer).paragraphs]
    assert [f"{number}.\t{text}" for number, text in items] == [p for p in paragraphs if re.match(r"\d+\.\t", p) and p[3:] in dict(items).values()]
    assert {f"•\t{text}" for text in bullets} <= set(paragraphs)
    assert len(items) == 3 and len(bullets) >= 4


def test_the_teaching_notes_are_in_the_trainers_booklet_and_not_in_the_participants(trainer, participants, shipped_db):
    rows = pack_cases(shipped_db)
    notes = [row["note"] for row in rows if row["note"]]
    questions = [q for row in rows for q in json.loads(row["questions"] or "[]")]
    for_trainer, for_participants = opened(trainer), opened(participants)
    assert len(notes) == len(rows) and len(questions) == 3
    assert notes == styled(for_trainer, "Teaching Note")
    assert [] == styled(for_participants, "Teaching Note")
    package = b"".join(zipfile.ZipFile(io.BytesIO(participants.content)).read(n) for n in zipfile.ZipFile(io.BytesIO(participants.content)).namelist())
    assert [] == [note for note in notes if note.encode() in package]
    assert ["学员版（不含教学提示）"] == styled(for_participants, "Subtitle")[-1:]
    assert all(["教学提示"] != titles[-1:] for _, titles in by_case(for_participants))
    for document in (for_trainer, for_participants):
        shown = [p.text for p in document.paragraphs]
        assert all(any(p.endswith(f".\t{question}") for p in shown) for question in questions)
    assert styled(for_trainer, "Heading 1") == styled(for_participants, "Heading 1")
    assert quote("-学员版-", safe="") in participants.headers["content-disposition"]


def fonts_of(style: etree._Element) -> dict[str, str]:
    found = style.find(f"{W}rPr/{W}rFonts")
    return {key.removeprefix(W): value for key, value in found.attrib.items()} if found is not None else {}


def test_the_styles_set_the_east_asian_fonts_of_official_documents(trainer):
    styles = part_xml(trainer, "word/styles.xml")
    by_id = {s.get(f"{W}styleId"): s for s in styles.iter(f"{W}style")}
    east_asian = {style_id: fonts_of(by_id[style_id]).get("eastAsia") for style_id in ("Normal", "BodyText", "Heading1", "Heading2", "Title", "TOCHeading")}
    assert {"Normal": "仿宋", "BodyText": "仿宋", "Heading1": "黑体", "Heading2": "黑体", "Title": "方正小标宋简体", "TOCHeading": "黑体"} == east_asian
    used = {p.get(f"{W}val") for p in part_xml(trainer, "word/document.xml").iter(f"{W}pStyle")} | {"Normal"}
    assert {"BodyText", "Quote", "ListParagraph", "Subtitle", "FactsTableText", "TeachingNote", "toc1"} <= used
    themed = {style_id: [k for k in fonts_of(by_id[style_id]) if k.lower().endswith("theme")] for style_id in used}
    assert {style_id: [] for style_id in used} == themed  # no theme font overrides the fonts set
    assert all(fonts_of(by_id[style_id]).get("eastAsia") for style_id in used)
    defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
    assert ("仿宋", "zh-CN") == (defaults.find(f"{W}rFonts").get(f"{W}eastAsia"), defaults.find(f"{W}lang").get(f"{W}eastAsia"))
    fonts = {f.get(f"{W}name"): f.find(f"{W}altName").get(f"{W}val") for f in part_xml(trainer, "word/fontTable.xml") if f.find(f"{W}altName") is not None}
    assert {"仿宋": "FangSong", "黑体": "SimHei", "楷体": "KaiTi", "方正小标宋简体": "宋体"}.items() <= fonts.items()
    assert "true" == part_xml(trainer, "word/settings.xml").find(f"{W}updateFields").get(f"{W}val")


def test_a4_pages_with_official_margins_and_page_numbers(trainer):
    section = opened(trainer).sections[0]
    size = (section.page_width, section.page_height, section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert all(abs(actual - Mm(expected)) < Mm(0.5) for actual, expected in zip(size, (210, 297, 37, 35, 28, 26))), size
    footer = section.footer._element
    assert [" PAGE "] == [f.get(f"{W}instr") for f in footer.iter(f"{W}fldSimple")]
    assert section.different_first_page_header_footer  # no number on the cover


LISTS = [
    "",
    "violations__arraycontains=受贿",
    "_search=公车",
    "year__gte=2020&_sort=sort_key",
    "_sort_desc=amount&sanctions__arraycontains=开除党籍",
]


@pytest.mark.parametrize("args", LISTS)
def test_the_list_booklet_holds_every_case_the_list_shows_in_its_order(shipped_site, args):
    listed = shipped_site.json(f"/cases/cases.json?{args}&_size=max&_shape=objects")["rows"]
    document = opened(shipped_site.get(f"/cases/cases.docx?{args}"))
    page = shipped_site.get(f"/cases/cases?{args}").text
    assert len(listed) >= 2
    assert numbered(listed) == styled(document, "Heading 1")
    assert ["案例汇编"] == styled(document, "Title")
    assert f"收录案例：{len(listed)} 个" in styled(document, "Subtitle")
    link = f"/cases/cases.docx?{args}" if args else "/cases/cases.docx"
    assert f'href="{link.replace("&", "&amp;")}"' in page.replace(quote("受贿"), "受贿").replace(quote("公车"), "公车").replace(quote("开除党籍"), "开除党籍")


def test_the_search_booklet_holds_the_ranked_results_in_their_order(shipped_site):
    args = f"q={quote('受贿')}&violation=&_size=max"
    ranked = shipped_site.json(f"/cases/search.json?{args}&_shape=objects")["rows"]
    document = opened(shipped_site.get(f"/cases/search.docx?{args}"))
    page = shipped_site.get(f"/search?q={quote('受贿')}").text
    assert len(ranked) >= 5
    assert [f"{n}．{row['标题']}" for n, row in enumerate(ranked, 1)] == styled(document, "Heading 1")
    assert "查询条件：检索词：受贿" in styled(document, "Subtitle")
    assert f'<a href="/cases/search.docx?{args.replace("&", "&amp;")}">Word 案例汇编</a>' in page


def test_a_list_longer_than_the_cap_holds_the_first_200_and_says_so(cases, make_site):
    for n in range(203):
        cases.write(f"case-{n:03}.md", case_text(title=f"某区人民检察院第{n:03}号违规吃喝案", date=f"2020-01-{n % 28 + 1:02}"))
    site = make_site(cases.root)
    listed = site.json("/cases/cases.json?_size=max&_shape=objects")["rows"]
    document = opened(site.get("/cases/cases.docx"))
    page = site.get("/cases/cases").text
    assert 203 == len(listed)
    assert numbered(listed[:200]) == styled(document, "Heading 1")
    assert ["符合条件的案例共 203 个，本汇编只收录了前 200 个（按列表的顺序）；如需其余案例，请缩小筛选范围后分批下载。"] == styled(document, "Teaching Note")
    assert "Word 案例汇编（收录前 200 个）" in page


HOSTILE_BODY = """\
## 基本案情

张某说：<script>alert(1)</script> 与 <w:fldSimple w:instr=" PAGE "/> 以及 ]]> &amp; {{ PAGE }}。

3. 第三项
4. 第四项

> 引用的话

| 项目 | 金额 |
| --- | ---: |
| 礼金 | 2000 |

```
第一行
  第二行
```

## 处理结果

见[通报](https://example.org/tongbao)。
"""


def test_case_text_stays_text_and_lists_keep_their_start(cases, make_site):
    cases.write("hostile.md", case_text(title="某区<w:r>人民检察院</w:r>干部张某违规吃喝案", body=HOSTILE_BODY))
    site = make_site(cases.root)
    response = site.get("/cases/cases.docx")
    document = opened(response)
    paragraphs = [p.text for p in document.paragraphs]
    assert ["1．某区<w:r>人民检察院</w:r>干部张某违规吃喝案"] == styled(document, "Heading 1")
    assert '张某说：<script>alert(1)</script> 与 <w:fldSimple w:instr=" PAGE "/> 以及 ]]> & {{ PAGE }}。' in paragraphs
    assert ["3.\t第三项", "4.\t第四项"] == [p for p in paragraphs if p.startswith(("3.", "4."))]
    assert ["引用的话"] == styled(document, "Quote")
    assert [["项目", "金额"], ["礼金", "2000"]] == [[c.text for c in r.cells] for r in document.tables[-1].rows]
    assert "第一行\n  第二行" in paragraphs
    assert "见通报（https://example.org/tongbao）。" in paragraphs
    body = part_xml(response, "word/document.xml")
    assert ([], 1) == ([e for e in body.iter() if e.tag in (f"{W}fldSimple", "script")], len(list(body.iter(f"{W}instrText"))))


@pytest.mark.parametrize(
    "path,status,message",
    [
        ("/cases/violation_types.docx", 400, "只有案例列表和列出案例编号的查询结果可以汇编为 Word 文档。"),
        ("/cases/case_texts.docx", 400, "只有案例列表和列出案例编号的查询结果可以汇编为 Word 文档。"),
        ("/cases/violation_counts.docx", 400, "只有案例列表和列出案例编号的查询结果可以汇编为 Word 文档。"),
        ("/packs/no-such-pack.docx", 404, "没有这个培训专题。"),
    ],
)
def test_what_is_not_a_case_list_is_refused_in_chinese(shipped_site, path, status, message):
    response = shipped_site.get(path)
    assert (status, True) == (response.status_code, message in response.text)


# ---------------------------------------------------------------- through an office suite


def office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


NO_OFFICE = "LibreOffice (soffice, Debian's libreoffice-writer) is not installed; the booklets are not printed to PDF"
NO_POPPLER = "pdftotext (Debian's poppler-utils) is not installed; the printed booklet's text is not read back"


def printed(document: bytes, folder: Path, name: str) -> Path:
    """The document printed to PDF by LibreOffice, as a trainer's office suite would print it."""
    source = folder / f"{name}.docx"
    source.write_bytes(document)
    profile = (folder / "office-profile").as_uri()
    subprocess.run(
        [office(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(folder / "pdf"), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    return folder / "pdf" / f"{name}.pdf"


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=120).stdout.decode("utf-8")
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def printed_booklets(trainer, participants, shipped_site, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("printed")
    documents = {"trainer": trainer.content, "participants": participants.content, "list": shipped_site.get("/cases/cases.docx").content}
    return {name: printed(body, folder, name) for name, body in documents.items()}


@pytest.mark.skipif(office() is None, reason=NO_OFFICE)
@pytest.mark.parametrize("name", ["trainer", "participants", "list"])
def test_libreoffice_prints_the_booklets_to_pdf(printed_booklets, name):
    pdf = printed_booklets[name].read_bytes()
    assert (b"%PDF-", True) == (pdf[:5], b"%%EOF" in pdf[-1024:])


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.skipif(office() is None, reason=NO_OFFICE)
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason=NO_POPPLER)
def test_the_printed_pack_has_its_cover_contents_cases_and_page_numbers(printed_booklets, shipped_db):
    pack = query(shipped_db, "select * from packs where id = :id", {"id": PACK})[0]
    rows = pack_cases(shipped_db)
    trainer, for_participants = pdf_pages(printed_booklets["trainer"]), pdf_pages(printed_booklets["participants"])
    cover, contents, *cases = [flat(page) for page in trainer]
    assert (flat(pack["title"]) in cover, "培训用（含教学提示）" in cover, "—" in cover) == (True, True, False)  # no number on the cover
    assert [flat(title) in contents for title in numbered(rows)] == [True] * len(rows)
    assert [f"—{n}—" for n in range(2, len(trainer) + 1)] == [re.findall(r"—\d+—", page)[-1] for page in [contents, *cases]]
    starts = [next(n for n, page in enumerate(cases) if page.startswith(flat(title))) for title in numbered(rows)]
    assert sorted(starts) == starts and 0 == starts[0]  # each case starts a page, in teaching order
    notes = [flat(row["note"]) for row in rows]
    assert ([True] * len(rows), [False] * len(rows)) == (
        [note in "".join(cases) for note in notes],
        [note in "".join(flat(page) for page in for_participants) for note in notes],
    )


@pytest.mark.skipif(office() is None, reason=NO_OFFICE)
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason=NO_POPPLER)
def test_the_printed_list_booklet_holds_every_case(printed_booklets, shipped_site):
    listed = shipped_site.json("/cases/cases.json?_size=max&_shape=objects")["rows"]
    text = "".join(flat(page) for page in pdf_pages(printed_booklets["list"]))
    assert [True] * len(listed) == [text.count(flat(title)) >= 2 for title in numbered(listed)]  # in the contents and as a heading
