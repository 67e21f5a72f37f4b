"""Pages in a real browser (headless Chromium): the query editor works offline under the page's CSP."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import quote

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from conftest import BASE, HOSTILE, described, entity_paths, expand
from kg import spliced
from kg.layout import DUMPS


def _errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_query_page_runs_an_example_in_yasgui(browser, live):
    browser.get(f"{live.url}/sparql")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    assert not browser.find_element(By.ID, "plain-form").is_displayed()
    browser.find_element(By.LINK_TEXT, "Cast with the characters they play").click()
    wait.until(lambda b: "Jae-hoon" in b.find_element(By.CSS_SELECTOR, ".yasr").text)
    table = browser.find_element(By.CSS_SELECTOR, ".yasr").text
    assert "Lee Yeong-hoon" in table and "So-young" in table
    assert _errors(browser) == []


@pytest.mark.parametrize("path", entity_paths())
def test_markup_read_through_the_dom_is_the_graph(browser, live, path):
    browser.get(f"{live.url}/{path}")
    scripts = browser.find_elements(By.CSS_SELECTOR, 'script[type="application/ld+json"]')
    assert len(scripts) == 1
    data = json.loads(browser.execute_script("return arguments[0].textContent", scripts[0]))
    assert data["@id"] == BASE + path
    if path.startswith("movie/"):  # a film's markup is what the rich result reads: part of its description
        assert expand(data) <= described(live.url, BASE + path)
    else:
        assert expand(data) == described(live.url, BASE + path)
    assert _errors(browser) == []


@pytest.mark.parametrize("dump", [d.filename for d in DUMPS if not d.gzipped])
def test_a_dump_sent_gzipped_reads_whole_in_the_browser(browser, live, released, dump):
    """Its gzip copy on the wire is one member joined from the shards' parts, each deflated apart: Chromium must
    read it to the end as the dump, not stop after the first part."""
    browser.get(f"{live.url}/download/")
    text, encoded, decoded = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async r => {
            const text = await r.text();
            const timing = performance.getEntriesByName(r.url)[0];
            done([text, timing.encodedBodySize, timing.decodedBodySize]);
        });""", f"{live.url}/download/{dump}")
    plain = spliced.read_bytes(released / "var" / "current" / dump)
    assert text.encode() == plain
    assert decoded == len(plain) and encoded < decoded / 2  # it came gzipped
    assert _errors(browser) == []


def test_hostile_title_renders_as_text_and_runs_nothing(browser, hostile):
    browser.get(f"{hostile.url}/movie/hostile")
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.find_element(By.TAG_NAME, "h1").text == " ".join(HOSTILE.split())
    scripts = browser.find_elements(By.CSS_SELECTOR, 'script[type="application/ld+json"]')
    assert [json.loads(browser.execute_script("return arguments[0].textContent", s))["name"] for s in scripts] == [
        HOSTILE]


def test_copy_button_copies_the_snippet(browser, live):
    browser.get(f"{live.url}/movie/break-away")
    assert browser.title == "Break Away · kg film knowledge graph"
    browser.find_element(By.ID, "copy-embed").click()
    WebDriverWait(browser, 5).until(lambda b: b.find_element(By.ID, "copy-status").text == "Copied.")


def test_the_search_box_in_the_header_finds_a_film_by_another_spelling(browser, live):
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{live.url}/person/leesong-hee-il")
    box = browser.find_element(By.CSS_SELECTOR, "header form.search input[name=q]")
    box.send_keys("Talju", Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "ul.hits a"))
    link = browser.find_element(By.CSS_SELECTOR, "ul.hits a")
    assert link.text == "Break Away"
    link.click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.TAG_NAME, "h1").text == "Break Away")
    assert _errors(browser) == []


def test_a_query_link_on_an_entity_page_opens_the_editor_with_its_results(browser, live):
    browser.get(f"{live.url}/person/leesong-hee-il")
    browser.find_element(By.LINK_TEXT, "which source says what").click()
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    wait.until(lambda b: "Lee Song Hee-il" in b.find_element(By.CSS_SELECTOR, ".yasr").text)
    assert "leesong-hee-il" in browser.execute_script(
        "return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue()")
    assert _errors(browser) == []


def test_the_footer_link_to_the_dataset_description_opens_a_page(browser, live):
    browser.get(f"{live.url}/movie/break-away")
    browser.find_element(By.LINK_TEXT, "dataset description (VoID)").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.TAG_NAME, "h1"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Dataset description"
    assert "schema:Movie" in browser.find_element(By.TAG_NAME, "main").text
    assert _errors(browser) == []


@pytest.mark.parametrize("path", ["movie/break-away", "source/forum-post", "person/leesong-hee-il"])
def test_a_page_fits_a_narrow_window(browser, live, path):
    browser.set_window_size(700, 1000)
    try:
        browser.get(f"{live.url}/{path}")
        wide, window = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    finally:
        browser.set_window_size(1280, 1600)
    assert wide <= window  # long IRIs and URLs wrap instead of widening the page


@contextlib.contextmanager
def phone(browser, width: int = 360):
    """The browser's viewport as a phone's (device metrics emulated through the DevTools protocol)."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 800, "deviceScaleFactor": 2, "mobile": True})
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("path", ["", "movie/break-away", "source/forum-post", "person/leesong-hee-il",
                                  ".well-known/void", "sparql", "download"])
def test_a_page_fits_a_phone(browser, live, path):
    with phone(browser):
        browser.get(f"{live.url}/{path}")
        wide, window = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert window == 360 and wide <= window


def test_the_query_page_s_results_scroll_in_their_own_box_on_a_phone(browser, live):
    from urllib.parse import quote

    query = f"SELECT ?property ?value ?source WHERE {{ GRAPH ?source {{ <{BASE}movie/break-away> ?property ?value }} }}"
    with phone(browser):
        browser.get(f"{live.url}/sparql?query={quote(query)}")  # as a film page's "which source says what" link
        WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
        wide, window = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert window == 360 and wide <= window


def test_on_a_phone_a_facts_value_gets_the_width_of_the_page(browser, live):
    with phone(browser):
        browser.get(f"{live.url}/movie/break-away")
        widths = browser.execute_script(  # the width of each cell that holds a fact's value
            "return [...document.querySelectorAll('table.facts tr')].filter(r => r.children.length == 3"
            "  && r.children[0].hasAttribute('title')).map(r => r.children[1].getBoundingClientRect().width);")
    assert len(widths) > 10
    assert min(widths) > 200  # not a column squeezed beside a property label that keeps to one line


@pytest.mark.parametrize("width", [700, 1280])
def test_a_citation_never_breaks_inside_itself(browser, live, width):
    browser.set_window_size(width, 1000)
    try:
        browser.get(f"{live.url}/movie/break-away")
        cites = browser.execute_script(  # each citation: its text and the lines it takes
            "return [...document.querySelectorAll('a.ref')].map(a => [a.textContent, a.getClientRects().length]);")
    finally:
        browser.set_window_size(1280, 1600)
    assert len(cites) > 20
    assert [(text, n) for text, n in cites if n != 1] == []


def test_citations_name_their_source_and_are_tap_targets_on_a_phone(browser, live):
    with phone(browser):
        browser.get(f"{live.url}/movie/break-away")
        boxes = browser.execute_script(
            "return [...document.querySelectorAll('a.ref')].map(a => { const b = a.getBoundingClientRect();"
            "  return [a.textContent, b.left, b.top, b.width, b.height, parseFloat(getComputedStyle(a).fontSize)]; });")
    assert {text for text, *_ in boxes} >= {"Variety, 14 Oct 2009", "Variety, 7 Nov 2008", "Finecut, press kit"}
    assert all(w >= 24 and h >= 32 for _, _, _, w, h, _ in boxes)
    assert min(size for *_, size in boxes) >= 14  # readable: it was 9.6 px
    overlapping = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if a[1] < b[1] + b[3] and b[1] < a[1] + a[3] and a[2] < b[2] + b[4] and b[2] < a[2] + a[4]]
    assert overlapping == []


def test_a_films_page_reads_in_a_film_records_order(browser, live):
    browser.get(f"{live.url}/movie/break-away")
    sections, facts, lead = browser.execute_script(
        "return [[...document.querySelectorAll('main h2')].map(h => h.textContent),"
        " [...document.querySelectorAll('section.key tr td:first-child')].map(td => td.textContent),"
        " document.querySelector('h1 + p.lead').textContent];")
    assert sections[:6] == ["Names and spellings", "Facts", "Sources disagree", "Cast", "Crew", "More facts"]
    assert list(dict.fromkeys(facts)) == ["production year", "release date", "director", "cast", "country",
                                          "running time", "genre", "language"]
    assert lead == "2008/2009 · Leesong Hee-il · South Korea · 109 min"


@pytest.mark.parametrize("width", [700, 1280])
def test_no_label_breaks_inside_a_word(browser, crewed, width):
    browser.set_window_size(width, 1000)
    try:
        browser.get(f"{crewed.url}/movie/night-river-2001")
        cells = browser.execute_script(  # each header and first-column cell: its text, its words, its lines
            "return [...document.querySelectorAll('table.facts th, table.facts td:first-child')].map(c => {"
            "  const r = document.createRange(); r.selectNodeContents(c);"
            "  const tops = new Set([...r.getClientRects()].map(b => Math.round(b.bottom)));"
            "  const text = c.textContent.trim(); return [text, text.split(/\\s+/).length, tops.size]; });")
    finally:
        browser.set_window_size(1280, 1600)
    assert {"credit", "Animation Department", "Production Management"} <= {text for text, _, _ in cells}
    assert [(text, lines) for text, words, lines in cells if lines > words] == []


@pytest.mark.parametrize("path", ["", ".well-known/void"])
def test_a_list_entry_stays_in_one_column(browser, live, path):
    browser.get(f"{live.url}/{path}")
    split = browser.execute_script(  # the entries whose boxes lie in more than one column
        "return [...document.querySelectorAll('ul.list li')].filter(li => "
        "  new Set([...li.getClientRects()].map(r => Math.round(r.left))).size > 1).map(li => li.textContent);")
    assert browser.find_elements(By.CSS_SELECTOR, "ul.list li") and split == []


@pytest.mark.parametrize("path", ["", "movie/break-away", "sparql", "search?q=lee"])
def test_every_control_on_a_page_has_a_name_a_screen_reader_says(browser, live, path):
    browser.get(f"{live.url}/{path}")
    if path == "sparql":
        WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe")))
    controls = [e for e in browser.find_elements(By.CSS_SELECTOR, "input, textarea, select, button") if e.is_displayed()]
    assert controls
    assert [e.get_attribute("outerHTML")[:80] for e in controls if not e.accessible_name.strip()] == []



def test_every_control_of_the_query_editor_and_its_results_has_a_name(browser, live):
    browser.get(f"{live.url}/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } LIMIT 30"))
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasr .tableSizer")))
    unnamed = browser.execute_script(  # shown or not (a settings panel, the editor's own text box)
        "return [...document.querySelectorAll('#yasgui input, #yasgui select, #yasgui textarea')]"
        "  .filter(e => e.type !== 'hidden' && !e.getAttribute('aria-label') && !(e.labels && e.labels.length))"
        "  .map(e => e.outerHTML.slice(0, 80));")
    assert unnamed == []


def test_tab_leaves_the_query_editor(browser, live):
    browser.get(f"{live.url}/sparql")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    browser.find_element(By.CSS_SELECTOR, ".yasqe .CodeMirror").click()
    before = browser.execute_script("return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue();")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    after = browser.execute_script("return document.querySelector('.yasqe .CodeMirror').CodeMirror.getValue();")
    assert after == before  # no tab typed into the query
    focused = browser.execute_script("return document.activeElement;")
    assert focused.tag_name == "button" and focused.accessible_name  # the next control: the editor's share button
