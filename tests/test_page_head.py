"""What an entity page tells before its facts: a lead line under the title, a description, OpenGraph, canonical."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from conftest import BASE


def _page(client, path: str) -> str:
    return client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)


def _meta(html: str, key: str) -> str | None:
    found = re.search(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', html)
    return found.group(1) if found else None


def test_a_film_has_a_lead_line_of_year_director_country_and_running_time(client):
    assert '<p class="lead">2008/2009 · Leesong Hee-il · South Korea · 109 min</p>' in _page(client,
                                                                                           "/movie/break-away")


def test_a_person_has_their_summary_as_lead_line(client):
    assert '<p class="lead">b. 1971, film director</p>' in _page(client, "/person/leesong-hee-il")


def test_an_event_s_lead_line_writes_its_date_as_its_facts_do(client):
    assert '<p class="lead">14 October 2009</p>' in _page(client, "/event/break-away-at-piff-2009")


def test_the_meta_description_is_the_lead_and_what_the_film_is_about(client):
    description = _meta(_page(client, "/movie/break-away"), "description")
    assert description is not None and description.startswith("2008/2009 · Leesong Hee-il") and " — " in description
    assert len(description) <= 300


@pytest.mark.parametrize("path, kind", [("/movie/break-away", "video.movie"), ("/person/leesong-hee-il", "profile"),
                                        ("/organization/finecut", "website")])
def test_opengraph_names_the_page_and_its_kind(client, path, kind):
    html = _page(client, path)
    assert _meta(html, "og:type") == kind and _meta(html, "og:url") == BASE + path.lstrip("/")
    assert _meta(html, "og:title")


def test_the_canonical_link_is_the_entitys_address(client):
    assert f'<link rel="canonical" href="{BASE}movie/break-away">' in _page(client, "/movie/break-away.html")


def test_in_a_browser_the_lead_line_follows_the_title(browser, live):
    browser.get(f"{live.url}/movie/break-away")
    after = browser.find_element(By.CSS_SELECTOR, "h1 + p.lead")
    assert after.text == "2008/2009 · Leesong Hee-il · South Korea · 109 min" and after.is_displayed()


def test_a_films_language_is_named_in_words(client):
    html = _page(client, "/movie/break-away")
    assert '<span title="ko">Korean</span>' in html


@pytest.mark.parametrize("tag, words", [("ko", "Korean"), ("zh-Hant", "Chinese (traditional)"),
                                        ("ko-Latn", "Korean (Latin script)"), ("tlh", "tlh"), ("yo", "Yoruba"),
                                        ("zap", "Zapotec"), ("ka", "Georgian")])
def test_language_tags_in_words(tag, words):
    from kg.serve.wording import language_name

    assert language_name(tag) == words
