"""Sources on entity pages: cited as readers know them, the curators' graph cited only for their decisions, and a
source's own page listing what it makes statements about."""

from __future__ import annotations

import re
from html import unescape

import pytest

from conftest import BASE
from kg.config import load_config
from kg.serve.store import Releases
from kg.serve.views import citation

FILM = "/movie/break-away"


def _page(client, path: str) -> str:
    r = client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200
    return unescape(r.get_data(as_text=True))


def _cited(html: str) -> set[str]:
    return set(re.findall(r'<a class="ref" href="#ref-\d+"[^>]*>([^<]+)</a>', html))


@pytest.fixture(scope="module")
def release(released):
    return Releases(released / "var").current()


@pytest.mark.parametrize(("source", "cited"), [
    ("variety-review-2009-10-14", "Variety, 14 Oct 2009"),  # publisher and the day it was written
    ("variety-news-2008-11-07", "Variety, 7 Nov 2008"),
    ("finecut-press-kit", "Finecut, press kit"),  # no date: who, and what the source is
    ("forum-post", "huangsy, forum post"),  # its type said in words
])
def test_a_source_is_cited_by_who_and_when(release, source, cited):
    assert citation(release, f"{BASE}source/{source}") == cited


def test_a_films_page_cites_its_sources_by_name(flask_client):
    assert _cited(_page(flask_client, FILM)) == {"Variety, 14 Oct 2009", "Variety, 7 Nov 2008", "Finecut, press kit",
                                                 "huangsy, forum post"}


def test_the_sources_list_gives_each_citation_with_the_documents_title(flask_client):
    html = _page(flask_client, FILM)
    assert "Variety, 14 Oct 2009</a>: Review: Break Away</li>" in html


def test_what_a_source_states_is_not_cited_to_the_curators(flask_client):
    # the preferred title is also the curators' choice; sources state it, so they are cited, not "kg editorial"
    assert "kg editorial decisions" not in _page(flask_client, FILM)


def test_a_name_only_curators_gave_is_cited_to_them(empty_project, write, run_kg):
    write(empty_project, "data.yaml", """
        sources:
          s:
            name: A source
        people:
          p:
            name: Chosen Name
            claims:
              s:
                name: Printed Name
        """)
    assert run_kg(empty_project, "build")[0] == 0
    from server import create_app
    app = create_app(load_config(empty_project, query_workers=1, cache_mb=0))
    try:
        html = _page(app.test_client(), "/person/p")
    finally:
        app.extensions["kg.executors"].close()
    names = html[html.index("Names and spellings"):html.index("</table>", html.index("Names and spellings"))]
    rows = re.findall(r"<tr>(.*?)</tr>", names, flags=re.S)
    chosen = next(r for r in rows if "Chosen Name" in r)
    printed = next(r for r in rows if "Printed Name" in r)
    assert _cited(chosen) == {"kg editorial decisions"} and _cited(printed) == {"A source"}


def test_a_sources_page_lists_the_films_and_people_it_states_things_about(flask_client):
    html = _page(flask_client, "/source/variety-news-2008-11-07")
    part = html[html.index("What this source states"):]
    films = re.findall(r'<a href="/movie/[^"]+">([^<]+)</a>', part[:part.index("<h3>People</h3>")])
    people = re.findall(r'<a href="/person/[^"]+">([^<]+)</a>', part[part.index("<h3>People</h3>"):])
    assert {"Break Away", "Searching for the Elephant", "No Regret"} <= set(films)
    assert "Leesong Hee-il" in people and "1 country" in part and "7 films" in part


def test_a_films_page_has_no_list_of_statements(flask_client):
    assert "What this source states" not in _page(flask_client, FILM)


def test_a_source_page_types_it_by_what_it_is_not_as_a_provenance_entity(client):
    html = client.get("/source/variety-review-2009-10-14", headers={"Accept": "text/html"}).get_data(as_text=True)
    chips = re.findall(r'<span class="type">([^<]+)</span>', html.split('<p class="iri">', 1)[1].split("</p>", 1)[0])
    assert chips == ["Review"]


def test_two_sources_a_page_would_cite_alike_are_told_apart_by_their_names(empty_project, write, run_kg):
    from dataclasses import replace

    from kg.config import load_config
    from server import create_app

    write(empty_project, "films.yaml", """
        organizations:
          kofa: {name: Korean Film Archive}
        sources:
          kmdb-page: {name: KMDb entry, type: WebPage, publisher: kofa}
          kofa-catalogue: {name: KOFA catalogue, type: WebPage, publisher: kofa}
        movies:
          a-film:
            name: A Film
            claims:
              kmdb-page: {running_time: 100}
              kofa-catalogue: {running_time: 101}
        """)
    assert run_kg(empty_project, "build")[0] == 0
    client = create_app(replace(load_config(empty_project), cache_mb=0)).test_client()
    html = client.get("/movie/a-film", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Korean Film Archive, web page: KMDb entry" in html and "Korean Film Archive, web page: KOFA catalogue" in html
