"""The reading pages in real headless Chromium: they load cleanly and stay local."""

from pathlib import Path

import pytest

from browser import ARTIFACTS, datasette_server

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "case-list": "/cases/cases",
    "case": "/cases/cases/2019-jianchaguan-zhuli-shouqing",
    "english-case": "/cases/cases/2020-court-clerk-case-leak",
    "search": "/search?q=%E5%8F%97%E8%B4%BF",
    "statistics": "/statistics",
    "packs": "/packs",
    "pack": "/packs/2025-sange-guiding",
    "pack-handout": "/packs/2025-sange-guiding?full=1",
}


@pytest.fixture(scope="module")
def server(shipped_db: Path):
    with datasette_server(shipped_db) as running:
        yield running


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_loads_without_errors_or_outside_requests(server, browser, name):
    shot = ARTIFACTS / "pages" / f"{name}.png"
    with browser.open(server.url + PAGES[name], screenshot=shot, full_page=True) as visit:
        problems = (visit.status, visit.console_errors, visit.page_errors, visit.dialogs, visit.outside_requests)
    assert (200, [], [], [], []) == problems
    assert shot.stat().st_size > 10_000


def test_case_page_links_violations_and_related_cases(server, browser):
    with browser.open(server.url + PAGES["case"]) as visit:
        violations = visit.page.eval_on_selector_all("a.tag-violations", "els => els.map(e => [e.textContent, e.getAttribute('href')])")
        related = visit.page.eval_on_selector_all(".related-cases li a", "els => els.map(e => e.getAttribute('href'))")
        explicit = visit.page.eval_on_selector_all(".related-explicit a", "els => els.map(e => e.getAttribute('href'))")
        visit.page.click("a.tag-violations >> nth=0")
        visit.page.wait_for_load_state("load")
        landed = visit.page.url
    assert ["违规吃喝", "违规接触当事人律师"] == [text for text, _ in violations]
    assert "/cases/cases?violations__arraycontains=%E8%BF%9D%E8%A7%84%E5%90%83%E5%96%9D" == violations[0][1]
    assert landed.endswith(violations[0][1])
    assert len(related) >= len(explicit) + 3
    assert explicit == related[: len(explicit)]
    assert all(href.startswith("/cases/cases/") for href in related)


def test_statistics_draws_charts_in_the_page(server, browser):
    with browser.open(server.url + PAGES["statistics"]) as visit:
        bars = visit.page.eval_on_selector_all("svg rect", "els => els.length")
        titles = visit.page.eval_on_selector_all("section.chart h2", "els => els.map(e => e.textContent)")
    assert bars > 20
    assert ["各年度案例数（按主要违规类别）", "按处分处理类别", "按四种形态"] == titles


def test_case_page_prints_without_navigation(server, browser):
    with browser.open(server.url + PAGES["case"]) as visit:
        visit.page.emulate_media(media="print")
        hidden = visit.page.eval_on_selector("header", "e => getComputedStyle(e).display")
        pdf = visit.page.pdf()
    assert "none" == hidden
    assert pdf.startswith(b"%PDF")
