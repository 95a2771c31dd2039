"""What staff see, in real headless Chromium: Chinese pages, a reading list,
phones without sideways scrolling, lists with their numbers, charts that
agree with their tables. Screenshots of every page at 1280 and 375 px are
saved in tests/artifacts/staff/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from caselib.public import public_path_for

from browser import ARTIFACTS, datasette_server

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "staff"
DESKTOP, PHONE = (1280, 900), (375, 667)
BRIBERY = "/cases/cases?violations__arraycontains=" + quote("受贿")
PAGES = {
    "home": "/",
    "case-list": "/cases/cases",
    "case-list-filtered": BRIBERY + "&year__gte=2016&year__lte=2022",
    "case-list-empty": "/cases/cases?_search=" + quote("没有这样的词语"),
    "case": "/cases/cases/2019-jianchaguan-zhuli-shouqing",
    "english-case": "/cases/cases/2020-court-clerk-case-leak",
    "search": "/search?q=" + quote("受贿"),
    "search-start": "/search",
    "search-none": "/search?q=" + quote("没有这样的词语"),
    "statistics": "/statistics",
    "packs": "/packs",
    "pack": "/packs/2025-sange-guiding",
    "pack-handout": "/packs/2025-sange-guiding?full=1",
    "pack-participants": "/packs/2025-sange-guiding?participants=1",
    "pack-participants-handout": "/packs/2025-sange-guiding?participants=1&full=1",
    "tables": "/cases",
    "lookup-table": "/cases/violation_types",
    "query": "/cases/violation_counts",
    "not-found": "/cases/cases/no-such-case",
    "case-grid": "/cases/cases?_view=grid",
    "case-texts": "/cases/case_texts",
    "row": "/cases/violation_types/gifts",
    "sql-refused": "/cases?sql=select+1",
}
NOT_FOUND = {"not-found"}
STATUS = {"not-found": 404, "sql-refused": 403}
PHONE_PAGES = ["home", "case-list", "case", "english-case", "search", "statistics", "packs", "pack", "pack-handout", "pack-participants",
               "pack-participants-handout"]
# Datasette's English, which staff must not meet on these pages.
ENGLISH = ["Apply", "sorted by", "View and edit SQL", "This data as", "Error 404", "Powered by", "Custom SQL", "Search:",
           "Next page", "rows", "Advanced export", "Queries took"]
TECHNICAL = ["digest", "sort_key", "as_written", "cases/2019/", ".md"]


@pytest.fixture(scope="module")
def server(shipped_db: Path):
    """The shipped library as build.py --serve serves it: an anonymous visitor sees its public edition."""
    with datasette_server(shipped_db, public=public_path_for(shipped_db)) as running:
        yield running


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "375"])
def test_page_in_chinese_within_its_content_security_policy_and_saved_as_a_screenshot(server, browser, name, size):
    shot = SHOTS / f"{name}-{size[0]}.png"
    with browser.open(server.url + PAGES[name], screenshot=shot, full_page=True, viewport=size) as visit:
        lang = visit.page.evaluate("() => document.documentElement.lang")
        text = visit.page.evaluate("() => document.body.innerText")
        title = visit.title()
        problems = (visit.console_errors if name not in STATUS else [], visit.page_errors, visit.outside_requests, visit.csp_violations())
    assert STATUS.get(name, 200) == visit.status
    assert ([], [], [], []) == problems
    assert lang.startswith("zh")
    assert re.search(r"[\u4e00-\u9fff]", title), title
    assert [] == [word for word in ENGLISH if word in text]
    assert shot.stat().st_size > 5_000


@pytest.mark.parametrize("name", PHONE_PAGES)
def test_a_phone_never_scrolls_sideways_and_words_stay_whole(server, browser, name):
    with browser.open(server.url + PAGES[name], viewport=PHONE) as visit:
        widths = visit.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        broken = visit.page.eval_on_selector_all(
            ".site-nav a, .facts-panel dt, .facet-heading, .case-search label, .tag, .list-sort a, .year-range label",
            "els => els.filter(e => e.getClientRects().length > 1).map(e => e.textContent.trim())",
        )
    assert widths[0] <= widths[1], widths
    assert [] == broken


def test_the_list_reads_like_a_list_of_cases(server, browser):
    with browser.open(server.url + "/cases/cases", viewport=DESKTOP) as visit:
        text = visit.page.evaluate("() => document.querySelector('section.content').innerText")
        links = visit.page.eval_on_selector_all(".case-item h2 a", "els => els.map(e => e.getAttribute('href'))")
        headings = visit.page.eval_on_selector_all(".facet-heading", "els => els.map(e => e.textContent.trim())")
        count = visit.page.eval_on_selector(".list-count strong", "e => e.textContent")
    assert 45 == len(links) and all(link.startswith("/cases/cases/") for link in links)
    assert [] == [word for word in TECHNICAL if word in text]
    assert not re.search(r'\["', text), "a raw JSON array is shown"
    assert ["年份范围", "违规类型", "年份", "处分处理", "职级", "四种形态", "人员类别", "省份"] == headings
    assert "45" == count


def test_on_a_phone_the_first_case_is_on_the_first_screen_and_the_facets_fold(server, browser):
    with browser.open(server.url + "/cases/cases", viewport=PHONE) as visit:
        top = visit.page.eval_on_selector(".case-item", "e => e.getBoundingClientRect().top")
        folded = visit.page.eval_on_selector(".list-facets", "e => getComputedStyle(e).display")
        visit.page.click("label.facets-button")
        opened = visit.page.eval_on_selector(".list-facets", "e => getComputedStyle(e).display")
    assert top < PHONE[1], top
    assert ("none", "block") == (folded, opened)


def test_a_facet_click_filters_the_list_and_its_chip_removes_the_filter(server, browser):
    with browser.open(server.url + "/cases/cases", viewport=DESKTOP) as visit:
        visit.page.click("#facet-violations a >> text=受贿")
        visit.page.wait_for_load_state("load")
        filtered = visit.page.eval_on_selector(".list-count strong", "e => e.textContent")
        chip = visit.page.eval_on_selector(".active-filters .chip", "e => e.textContent.trim()")
        visit.page.click(".active-filters .chip")
        visit.page.wait_for_load_state("load")
        back = visit.page.eval_on_selector(".list-count strong", "e => e.textContent")
    assert ("7", "违规类型：受贿 ×", "45") == (filtered, chip, back)


def test_numbered_lists_keep_their_numbers_on_screen_in_print_and_in_the_handout(server, browser):
    for url in (PAGES["case"], PAGES["pack-handout"]):
        with browser.open(server.url + url, viewport=DESKTOP) as visit:
            for media in ("screen", "print"):
                visit.page.emulate_media(media=media)
                styles = visit.page.eval_on_selector_all(
                    ".case-body ol > li", "els => els.map(e => [getComputedStyle(e).display, getComputedStyle(e.parentElement).listStyleType])"
                )
                bullets = visit.page.eval_on_selector_all(".case-body ul > li", "els => els.map(e => getComputedStyle(e.parentElement).listStyleType)")
                assert styles, url
                assert {("list-item", "decimal")} == set(map(tuple, styles)), (url, media)
                assert set(bullets) <= {"disc"}, (url, media)


def test_every_number_a_chart_shows_is_in_the_table_beside_it(server, browser):
    with browser.open(server.url + "/statistics", viewport=DESKTOP) as visit:
        sections = visit.page.eval_on_selector_all(
            "section.chart",
            """els => els.map(s => ({
                bars: Array.from(s.querySelectorAll('svg > text')).map(t => t.textContent),
                segments: Array.from(s.querySelectorAll('svg rect title')).map(t => t.textContent),
                table: Array.from(s.querySelectorAll('table tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent.trim())),
                groups: Array.from(s.querySelectorAll('table thead th')).map(c => c.textContent.trim()),
            }))""",
        )
    year = sections[0]
    totals = {row[0]: row[1] for row in year["table"]}
    labels = year["bars"][len(year["groups"]) - 2:]  # after the legend: a year label, then its total
    shown = dict(zip(labels[0::2], labels[1::2]))
    assert totals == shown
    assert year["segments"]
    for title in year["segments"]:
        label, group, count = re.fullmatch(r"(\S+) (.+): (\d+)", title).groups()
        row = next(r for r in year["table"] if r[0] == label)
        assert count == row[year["groups"].index(group)], title
    for section in sections[1:]:
        pairs = dict(zip(section["bars"][0::2], section["bars"][1::2]))
        assert {row[0]: row[1] for row in section["table"]} == pairs


def test_the_csv_link_downloads_a_file_excel_reads(server, browser, tmp_path):
    with browser.open(server.url + BRIBERY, viewport=DESKTOP) as visit:
        count = int(visit.page.eval_on_selector(".list-count strong", "e => e.textContent"))
        with visit.page.expect_download() as info:
            visit.page.click(".export-links a >> text=CSV")
        download = info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
    data = saved.read_bytes()
    rows = list(__import__("csv").reader(data.decode("utf-8-sig").splitlines()))
    assert re.fullmatch(r"案例列表-受贿-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    assert data.startswith(b"\xef\xbb\xbf")
    assert ["案例编号", "标题", "日期"] == rows[0][:3]
    assert count == len(rows) - 1
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith("[") for cell in cells)
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
