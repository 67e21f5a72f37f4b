"""Names in the reader's language: Accept-Language picks an entity page's title and the names of what it links to,
where the graph has them; the preferred name stays the fallback, and caches keep the languages apart."""

from __future__ import annotations

import re

import pytest
import requests

from kg.serve.documents import reads_as
from kg.serve.negotiation import languages

FILM = "/movie/break-away"


def _title(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)).strip()


def _get(client, path: str, accept_language: str | None):
    headers = {"Accept": "text/html"} | ({"Accept-Language": accept_language} if accept_language is not None else {})
    return client.get(path, headers=headers)


@pytest.mark.parametrize(("header", "expected"), [
    ("ko-KR,ko;q=0.9,en;q=0.8", ("ko-kr", "ko", "en")),
    ("en;q=0.5, fr", ("fr", "en")),  # by q, not by order
    ("de;q=0, *, it", ("it",)),  # refused languages and wildcards name nothing
    ("a, b, c, d", ("a", "b", "c")),  # at most three
    ("<script>, ko", ("ko",)),  # a malformed tag is skipped
    ("", ()),
])
def test_accept_language_is_read_best_first(header, expected):
    assert languages(header) == expected


@pytest.mark.parametrize(("tag", "wanted", "reads"), [
    ("ko", "ko", True), ("ko", "ko-kr", True), ("ko-KR", "ko", True),
    ("ko-Latn", "ko", False),  # romanised Korean is not what a Korean reader asked for
    ("ko-Latn", "ko-latn", True), ("en", "ko", False),
])
def test_a_name_reads_as_a_language_by_its_tag(tag, wanted, reads):
    assert reads_as(tag, wanted) is reads


def test_a_korean_reader_sees_the_korean_title_first(flask_client):
    html = _get(flask_client, FILM, "ko-KR,ko;q=0.9,en;q=0.8").get_data(as_text=True)
    assert '<h1><span lang="ko" dir="auto">탈주</span> <small>Break Away</small></h1>' in html
    assert "<title>탈주" in html


@pytest.mark.parametrize("header", [None, "en-US,en;q=0.9", "fr", "en, ko"])
def test_the_preferred_name_is_the_title_for_other_readers(flask_client, header):
    assert _title(_get(flask_client, FILM, header).get_data(as_text=True)) == "Break Away"


def test_a_reader_asking_for_romanised_korean_gets_it(flask_client):
    assert _title(_get(flask_client, FILM, "ko-Latn").get_data(as_text=True)).startswith("Talju")


def test_the_names_table_still_marks_the_curators_preferred_name(flask_client):
    html = _get(flask_client, FILM, "ko").get_data(as_text=True)
    names = html[html.index("Names and spellings"):]
    assert re.search(r">Break Away</span> <small>\(preferred\)</small>", names)
    assert not re.search(r">탈주</span>[^<]*<small class=\"lang\">ko</small> <small>\(preferred\)", names)


def test_links_to_other_entities_use_the_readers_language(flask_client):
    html = _get(flask_client, "/person/leesong-hee-il", "ko").get_data(as_text=True)
    assert re.findall(r'href="/movie/break-away">([^<]*)<', html) == ["탈주"]


def test_pages_vary_on_accept_language_and_are_tagged_by_it(flask_client):
    ko, en = _get(flask_client, FILM, "ko"), _get(flask_client, FILM, "en")
    assert "Accept-Language" in ko.headers["Vary"] and ko.headers["ETag"] != en.headers["ETag"]
    again = flask_client.get(FILM, headers={"Accept": "text/html", "Accept-Language": "ko",
                                            "If-None-Match": en.headers["ETag"]})
    assert again.status_code == 200 and "탈주" in _title(again.get_data(as_text=True))


def test_the_response_cache_keeps_each_language_apart(live):
    first = requests.get(live.url + FILM, headers={"Accept": "text/html", "Accept-Language": "en"}, timeout=10)
    second = requests.get(live.url + FILM, headers={"Accept": "text/html", "Accept-Language": "ko"}, timeout=10)
    third = requests.get(live.url + FILM, headers={"Accept": "text/html", "Accept-Language": "en"}, timeout=10)
    assert _title(first.text) == _title(third.text) == "Break Away" and _title(second.text).startswith("탈주")


def test_rdf_documents_do_not_depend_on_the_language(flask_client):
    ko = flask_client.get(FILM, headers={"Accept": "text/turtle", "Accept-Language": "ko"})
    en = flask_client.get(FILM, headers={"Accept": "text/turtle", "Accept-Language": "en"})
    assert ko.data == en.data and ko.headers["ETag"] == en.headers["ETag"]


def test_text_in_a_language_sets_its_own_direction(flask_client):
    # an Arabic or Hebrew value in a left-to-right page: its punctuation stays where its writer put it
    html = flask_client.get("/movie/break-away", headers={"Accept": "text/html"}).get_data(as_text=True)
    tagged = re.findall(r"<span lang=\"[^\"]+\"([^>]*)>", html)
    assert tagged and all(' dir="auto"' in rest for rest in tagged)
