"""Case files that carry script attacks build, and no page of the site runs them.

tests/xss_cases/ holds valid case files whose body and front matter try every
usual way into a page: script tags, event handlers, javascript:/data: links
(plain, entity-encoded, reference-style, autolinks), SVG and MathML, frames,
objects, styles, refreshes and quotes that break out of attributes. Every
payload calls alert() or sets window.__xss / document.title, so a real
Chromium on a real Datasette shows whether any of them ran.
"""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from caselib.pipeline import build
from caselib.render import ALLOWED_TAGS

from browser import ARTIFACTS, Visit, datasette_server
from conftest import rows

XSS_CASES = Path(__file__).resolve().parent / "xss_cases"
CASE_IDS = sorted(p.stem for p in XSS_CASES.glob("*.md"))
SCREENSHOTS = ARTIFACTS / "xss"
TITLE_MARK = "__xss__"  # what the payloads set document.title to
PAYLOAD_MARK = re.compile(r"alert\(|__xss|document\.title|msgbox\(|evil\.example", re.IGNORECASE)  # in every payload
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset", "ping", "cite"}
BAD_SCHEME = re.compile(r"^(?:javascript|data|vbscript):")
FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "svg", "math", "style", "link", "meta", "base",
    "form", "input", "button", "textarea", "select", "template", "noscript", "video", "audio", "source", "portal",
}

SCRIPT_TAGS_TITLE = "<script>alert(1)</script>某案"

PAGES = [
    "/",
    "/cases",
    "/cases/cases",
    "/cases/cases?_view=grid",
    "/cases/cases?_search=script",
    "/cases/cases?_search=alert",
    "/cases/cases?_facet=unit&_facet=position&_facet=source&_facet=period&_facet_array=tags",
    "/cases/case_texts",
    "/cases/related",
    "/cases/case_violations",
    "/search?q=alert",
    "/search?q=" + quote("<script>"),
    "/search?q=" + quote("onerror=alert(1)") + "&violation=" + quote("违规吃喝"),
    "/cases/search?q=alert&violation=",
    *(f"/cases/cases/{case_id}" for case_id in CASE_IDS),
]
DATA_PAGES = {
    "/cases/cases.json?_size=max": "application/json",
    "/cases/cases.json?_shape=array&_size=max": "application/json",
    "/cases/cases/xss-front-matter-text.json": "application/json",
    "/cases/search.json?q=alert&violation=&_shape=objects": "application/json",
    "/cases/cases.csv?_size=max": "text/plain",
    "/cases/search.csv?q=alert&violation=&_size=max": "text/plain",
}

# Runs in the page: whatever a case could have turned into live markup. Every
# payload in the corpus names alert(, __xss, document.title, msgbox( or
# evil.example, which tells its markup from the site's own.
SCAN_PAGE = """([urlAttributes, forbidden]) => {
  const found = {handlers: [], urls: [], scripts: [], elements: [], styles: []};
  const describe = (el) => el.outerHTML.slice(0, 160);
  const attack = /alert\\(|__xss|document\\.title|msgbox\\(|evil\\.example/i;
  const carriesAttack = (el) =>
    [...el.attributes].some(a => a.name !== 'value' && attack.test(a.value)) ||
    (['script', 'style', 'textarea', 'noscript', 'template', 'title', 'xmp'].includes(el.localName) && attack.test(el.textContent));
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]+/g, '').toLowerCase();
      if (name.startsWith('on') && attack.test(attr.value)) found.handlers.push(describe(el));
      if (urlAttributes.includes(name) && /^(javascript|data|vbscript):/.test(value)) found.urls.push(describe(el));
      if (name === 'srcdoc') found.urls.push(describe(el));
      if (name === 'style' && (attack.test(attr.value) || /url\\(|expression\\(/i.test(attr.value))) found.styles.push(describe(el));
    }
  }
  for (const script of document.scripts) {
    const outside = script.src && new URL(script.src).hostname !== '127.0.0.1';
    if (outside || attack.test(script.textContent)) found.scripts.push(describe(script));
  }
  for (const el of document.querySelectorAll(forbidden.join(', '))) {
    if (carriesAttack(el)) found.elements.push(describe(el));
  }
  return found;
}"""
# The tags inside the text cells of the table pages: the case list's summaries
# and the bodies of case_texts (shown as excerpts by the site's render_cell).
TEXT_CELLS = {"/cases/cases": ".case-item .summary", "/cases/cases?_view=grid": "td.col-summary", "/cases/case_texts": "td.col-body_html"}
CELLS_SCRIPT = "(selector) => [...document.querySelectorAll(selector)].map(e => [e.children.length, e.textContent])"
NOTHING_FOUND = {"handlers": [], "urls": [], "scripts": [], "elements": [], "styles": []}


def screenshot_path(path: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", path.strip("/")) or "home"
    return SCREENSHOTS / f"{name[:120]}.png"


@pytest.fixture(scope="module")
def xss_db(tmp_path_factory) -> Path:
    db_path = tmp_path_factory.mktemp("xss") / "cases.db"
    report = build(XSS_CASES, db_path, jobs=1)
    assert len(CASE_IDS) == report.cases
    return db_path


@pytest.fixture(scope="module")
def server(xss_db: Path):
    with datasette_server(xss_db) as running:
        yield running


class Markup(HTMLParser):
    """Every tag, attribute and script text in HTML, as a browser's tokenizer sees it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _compact(value: str) -> str:
    return re.sub(r"[\s\x00-\x1f]+", "", value).lower()


def live_attributes(markup: Markup) -> list[str]:
    """Attack handlers, script URLs, CSS beyond alignment, ids that shadow globals."""
    problems = []
    for tag, name, value in markup.attributes:
        cleaned = _compact(value)
        if (
            name.startswith("on") and PAYLOAD_MARK.search(value)
            or name == "srcdoc"
            or name in URL_ATTRIBUTES and BAD_SCHEME.match(cleaned)
            or name == "style" and re.search(r"url\(|expression\(|position", cleaned)
            or name == "id" and "xss" in cleaned
        ):
            problems.append(f"<{tag} {name}={value!r}>")
    return problems


def live_markup(html: str) -> list[str]:
    """What in a stored body could run script, restyle the page or leave it."""
    markup = Markup(html)
    problems = [f"<{tag}>" for tag in markup.tags if tag not in ALLOWED_TAGS]
    problems += live_attributes(markup)
    problems += [f"<{tag} {name}>" for tag, name, _ in markup.attributes if name.startswith("on")]
    problems += [f"style={v!r}" for _, name, v in markup.attributes if name == "style"]
    if "<script" in html.lower():
        problems.append("<script")
    return problems


def test_the_corpus_is_large_enough():
    assert len(CASE_IDS) >= 15


def test_every_attack_case_is_valid_and_built(xss_db):
    assert CASE_IDS == [row[0] for row in rows(xss_db, "select id from cases order by id")]


def test_stored_body_html_has_no_live_markup(xss_db):
    found = {case_id: live_markup(html) for case_id, html in rows(xss_db, "select id, body_html from case_texts")}
    assert {case_id: [] for case_id in CASE_IDS} == found


def test_code_spans_and_blocks_stay_text(xss_db):
    [(html,)] = rows(xss_db, "select body_html from case_texts where id = 'xss-code-spans'")
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    assert "<code>&lt;img src=x onerror=alert(1)&gt;</code>" in html
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;\n&lt;img src=x onerror=alert(1)&gt;\n</code></pre>" in html
    assert '&lt;a href="javascript:alert(1)"&gt;缩进代码&lt;/a&gt;' in html


def test_rejected_links_stay_readable_text(xss_db):
    [(html,)] = rows(xss_db, "select body_html from case_texts where id = 'xss-javascript-links'")
    assert "链接 [点我](javascript:alert(1))" in html
    assert "<a " not in html


def test_front_matter_is_stored_as_written(xss_db):
    """Escaping is the pages' job: the database keeps what the author wrote."""
    stored = rows(xss_db, "select title, region, source, tags from cases where id = 'xss-front-matter-text'")
    assert [(SCRIPT_TAGS_TITLE, "<img src=x onerror=alert(1)>", "javascript:alert(1)",
             '["<img src=x onerror=alert(1)>", "javascript:alert(1)", "\' onmouseover=\'alert(1)"]')] == stored


def test_hand_edited_body_html_is_cleaned_on_the_case_page(cases, make_site):
    """The site cleans body_html again, so an edited database cannot add script."""
    cases.write("2020/plain.md", "---\ntitle: 某案\ndate: 2020\nviolations: [受贿]\n---\n\n## 基本案情\n\n平常。\n")
    site = make_site(cases.root)
    edited = (
        '<h2 id="__xss">x</h2><script>window.__xss = 1</script><img src=x onerror="alert(1)">'
        '<a href="javascript:alert(1)">a</a><iframe srcdoc="<script>alert(1)</script>"></iframe>'
        '<svg onload="alert(1)"></svg><object data="data:text/html,x"></object>'
        '<table><tr><td style="background:url(https://evil.example/p.png);position:fixed">t</td></tr></table>'
    )
    conn = sqlite3.connect(site.db_path)
    with conn:
        assert 1 == conn.execute("update case_texts set body_html = ? where id = 'plain'", (edited,)).rowcount
    conn.close()
    response = site.get("/cases/cases/plain")
    assert 200 == response.status_code
    page = Markup(response.text)
    assert [] == live_attributes(page)
    assert [] == [s for s in page.scripts if PAYLOAD_MARK.search(s)]
    assert set() == {"iframe", "object", "embed"} & set(page.tags)
    assert "<svg onload" not in response.text


def check_visit(visit: Visit) -> None:
    found = visit.page.evaluate(SCAN_PAGE, [sorted(URL_ATTRIBUTES), sorted(FORBIDDEN_TAGS)])
    flag, title = visit.xss_flag(), visit.title()
    assert [] == visit.dialogs, visit.url
    assert None is flag, visit.url
    assert TITLE_MARK not in title, visit.url
    assert [] == visit.outside_requests, visit.url
    assert [] == visit.popups, visit.url
    assert [] == visit.page_errors, visit.url
    assert [] == visit.csp_violations(), visit.url  # nothing the policy had to stop
    assert NOTHING_FOUND == found, visit.url


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGES)
def test_page_runs_no_case_script(server, browser, path):
    with browser.open(server.url + path, screenshot=screenshot_path(path)) as visit:
        assert 200 == visit.status
        check_visit(visit)
        if path.startswith("/cases/cases/"):
            assert 1 == visit.page.locator("h2#section-outcome").count(), "the body is not on the page as markup"
        if path in TEXT_CELLS:
            cells = visit.page.evaluate(CELLS_SCRIPT, TEXT_CELLS[path])
            assert len(cells) >= 10
            assert [] == [text for children, text in cells if children], "the lists show excerpts as plain text"
            assert any("<script" in text or "<img" in text for _, text in cells)


@pytest.mark.browser
@pytest.mark.parametrize("path, content_type", DATA_PAGES.items())
def test_json_and_csv_are_not_html(server, browser, path, content_type):
    with browser.open(server.url + path, screenshot=screenshot_path(path)) as visit:
        assert 200 == visit.status
        assert content_type == visit.content_type.split(";")[0]
        check_visit(visit)
        assert "alert(1)" in visit.page.inner_text("body")


@pytest.mark.browser
def test_payloads_reach_the_pages_as_text(server, browser):
    """The checks above are not vacuous: the attacks are on the pages, as text."""
    with browser.open(server.url + "/cases/cases/xss-front-matter-text") as visit:
        text = visit.page.inner_text("body")
    assert SCRIPT_TAGS_TITLE in text
    assert "<img src=x onerror=alert(1)>" in text
    with browser.open(server.url + "/cases/cases/xss-code-spans") as visit:
        codes = visit.page.locator("code").all_inner_texts()
    assert "<script>alert(1)</script>" in codes
    assert "<script>window.__xss = 1</script>\n<img src=x onerror=alert(1)>\n" in codes
    with browser.open(server.url + "/search?q=" + quote("<script>")) as visit:
        value = visit.page.input_value("#q")
        titles = visit.page.locator(".search-results h3").all_inner_texts()
    assert "<script>" == value
    assert SCRIPT_TAGS_TITLE in titles
    with browser.open(server.url + "/cases/cases?_search=script") as visit:
        cells = visit.page.locator(".case-item h2").all_inner_texts()
    assert SCRIPT_TAGS_TITLE in cells


@pytest.mark.browser
def test_every_page_in_the_site_navigation_runs_no_case_script(server, browser):
    """Pages the site adds (statistics, topics …) show case text too."""
    with browser.open(server.url + "/") as visit:
        links = visit.page.evaluate("() => [...document.querySelectorAll('header a')].map(a => a.getAttribute('href'))")
    paths = sorted({link for link in links if link.startswith("/") and not link.startswith("//")} - set(PAGES))
    for path in paths:
        with browser.open(server.url + path, screenshot=screenshot_path(path)) as visit:
            assert 200 == visit.status, path
            check_visit(visit)


@pytest.mark.parametrize(
    "body,expected",
    [
        ("![照片](https://tracker.example/p.png)\n", '<p><a href="https://tracker.example/p.png" rel="noopener noreferrer nofollow">[图片] 照片</a></p>\n'),
        ("![](//tracker.example/p.png)\n", '<p><a href="//tracker.example/p.png" rel="noopener noreferrer nofollow">[图片]</a></p>\n'),
        ("![本地](/static/a.png)\n", '<p><img src="/static/a.png" alt="本地"></p>\n'),
    ],
)
def test_images_from_other_hosts_become_links(body, expected):
    from caselib.render import render_body

    assert expected == render_body(body).html


def test_hand_edited_image_from_another_host_loses_its_source():
    from caselib.render import sanitise

    assert '<img alt="x"><img src="/a.png">' == sanitise('<img src="https://tracker.example/p.png" alt="x"><img src="/a.png">')
