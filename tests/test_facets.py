"""Listings narrowed by facets (a film's year and genre, a person's birth year): the index files answer as SPARQL
does, and the server's listings, links and counts follow them."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import BASE
from kg import layout
from kg.build.pipeline import build
from kg.config import load_config
from kg.layout import current
from kg.serve import listings
from kg.serve.sparql import Dataset, Job, answer
from kg.serve.store import Releases

GENRES = ("Drama", "drama", "DRAMA ", "Crime", "War", "film  noir")
FILMS = 260


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Path:
    """A built project of bulk films: years from production or (for some) only a release date, genres spelled
    several ways, several to a film."""
    root = tmp_path_factory.mktemp("facets")
    shutil.copytree(Path(__file__).resolve().parent.parent / "shapes", root / "shapes")
    data = root / "data"
    data.mkdir()
    rows = ["id,title,year,released,genres"]
    for n in range(1, FILMS + 1):
        year = "" if n % 9 == 0 else str(1950 + n % 7)
        released = f"{1960 + n % 5}-05-0{1 + n % 8}" if n % 3 == 0 else ""
        genres = "|".join(dict.fromkeys((GENRES[n % 6], *(["drama"] if n % 4 == 0 else []))))  # most say drama
        rows.append(f"tt{n:07d},Film {n:03d},{year},{released},{genres}")
    (data / "films.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (data / "films.mapping.yaml").write_text(
        "source: {key: films, name: Films, type: CreativeWork}\nfiles: films.csv\nrecord: movie\nkey: {id: id}\n"
        "fields:\n  name: title\n  production_year: year\n  release_date: released\n"
        "  genre: {column: genres, split: '|'}\n", encoding="utf-8")
    result = build(load_config(root))
    assert result.report.conforms and result.release_dir is not None
    return root


@pytest.fixture(scope="module")
def release(catalogue):
    return Releases(catalogue / "var").current()


def _by_query(rel, where: str) -> list[str]:
    """The films a SPARQL pattern selects, in the listing's order (by name, then IRI)."""
    query = (f"SELECT ?e WHERE {{ ?e a <http://schema.org/Movie> FILTER(STRSTARTS(STR(?e), '{BASE}movie/')) "
             f"{where} }}")
    found = {b["e"]["value"] for b in json.loads(answer(rel, Job(query, Dataset(), "application/sparql-results+json", None, 0)).body)[
        "results"]["bindings"]}
    everyone = listings.listing(rel, "movie", 1, 1000).items
    return [iri for iri, _ in everyone if iri in found]


YEAR = ("{{ ?e <http://schema.org/dateCreated> ?d }} UNION {{ ?e <http://schema.org/datePublished> ?d "
        "FILTER NOT EXISTS {{ ?e <http://schema.org/dateCreated> ?x }} }} FILTER(SUBSTR(STR(?d), 1, 4) = '{}')")
GENRE = "?e <http://schema.org/genre> ?g FILTER(LCASE(REPLACE(STR(?g), '\\\\s+', ' ')) = '{}')"


def test_every_year_lists_the_films_made_then_else_first_shown_then(release):
    facet = next(f for f in listings.listing(release, "movie").facets if f.name == "year")
    # made 1950..1956; every ninth film has only a release date, 1960..1964
    assert [key for key, _, _ in facet.values] == [str(y) for y in [*range(1950, 1957), *range(1960, 1965)]]
    for key, _, count in facet.values:
        expected = _by_query(release, YEAR.format(key))
        narrowed = listings.listing(release, "movie", 1, 1000, {"year": key})
        assert [iri for iri, _ in narrowed.items] == expected and narrowed.total == count == len(expected), key


def test_every_genre_gathers_its_spellings_and_is_named_as_most_sources_spell_it(release):
    facet = next(f for f in listings.listing(release, "movie").facets if f.name == "genre")
    assert {key: label for key, label, _ in facet.values} == {
        "drama": "drama", "crime": "Crime", "war": "War", "film noir": "film noir"}
    for key, _, count in facet.values:
        expected = _by_query(release, GENRE.format(key))
        narrowed = listings.listing(release, "movie", 1, 1000, {"genre": key})
        assert [iri for iri, _ in narrowed.items] == expected and count == len(expected), key
    assert [c for _, _, c in facet.values] == sorted((c for _, _, c in facet.values), reverse=True)


def test_two_filters_narrow_to_the_films_with_both(release):
    narrowed = listings.listing(release, "movie", 1, 1000, {"year": "1953", "genre": "Crime"})
    assert narrowed.items and [iri for iri, _ in narrowed.items] == _by_query(
        release, YEAR.format("1953") + " " + GENRE.format("crime"))


def test_a_narrowed_listings_facets_count_what_it_still_holds(release):
    narrowed = listings.listing(release, "movie", 1, 1000, {"year": "1953"})
    genres = next(f for f in narrowed.facets if f.name == "genre")
    for key, _, count in genres.values:
        assert count == len(_by_query(release, YEAR.format("1953") + " " + GENRE.format(key)))
    assert next(f for f in narrowed.facets if f.name == "year").active == "1953"


def test_a_value_no_film_has_narrows_to_nothing(release):
    for filters in ({"year": "1066"}, {"genre": "opera"}, {"year": "soon"}):
        assert listings.listing(release, "movie", 1, 100, filters).total == 0


def test_a_release_without_the_facet_index_says_so(release, tmp_path):
    old = tmp_path / "releases" / "r"
    shutil.copytree(release.path, old)
    info = json.loads((old / layout.INDEX_DIR / "index.json").read_text(encoding="utf-8"))
    del info["facets"]
    (old / layout.INDEX_DIR / "index.json").write_text(json.dumps(info), encoding="utf-8")
    os.symlink("releases/r", tmp_path / "current")
    aged = Releases(tmp_path).current()
    assert listings.listing(aged, "movie").total == FILMS
    with pytest.raises(listings.NoFacets):
        listings.listing(aged, "movie", filters={"year": "1953"})


# ---- through the server ----

@pytest.fixture(scope="module")
def client(catalogue):
    from server import create_app

    app = create_app(load_config(catalogue, query_workers=1, cache_mb=0))
    yield app.test_client()
    app.extensions["kg.executors"].close()


def test_a_listing_page_narrowed_by_year_and_genre(client, release):
    body = client.get("/movie/?year=1953&genre=crime&format=json&size=1000").get_json()
    assert body["filters"] == {"year": "1953", "genre": "crime"}
    assert [i["iri"] for i in body["items"]] == _by_query(release, YEAR.format("1953") + " " +
                                                          GENRE.format("crime"))
    assert {f["value"] for f in body["facets"]["genre"]} >= {"crime"}


def test_the_pages_of_a_narrowed_listing_keep_its_filters(client):
    everyone = client.get("/movie/?genre=drama&format=json&size=1000").get_json()["items"]
    seen, url = [], "/movie/?genre=drama&size=20&format=json"
    while url:
        body = client.get(url).get_json()
        seen += [i["iri"] for i in body["items"]]
        url = body["next"]
    assert seen == [i["iri"] for i in everyone] and len(seen) > 40


def test_the_html_listing_offers_each_facet_value_and_a_way_back(client):
    html = client.get("/movie/?size=30", headers={"Accept": "text/html"}).get_data(as_text=True)
    links = {parse_qs(urlsplit(h.replace("&amp;", "&")).query).get("year", [None])[0]
             for h in re.findall(r'href="(/movie/\?[^"]*year=[^"]*)"', html)}
    assert {"1950", "1956", "1964"} <= links
    narrowed = client.get("/movie/?year=1953&size=30", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<strong>year 1953</strong>" in narrowed
    back = re.search(r'<a class="widen" href="([^"]*)"', narrowed).group(1).replace("&amp;", "&")
    assert "year" not in parse_qs(urlsplit(back).query) and parse_qs(urlsplit(back).query)["size"] == ["30"]


def test_a_filter_is_spelled_as_the_sources_spell_it(client):
    html = client.get("/movie/?genre=CRIME", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<strong>genre Crime</strong>" in html


def test_a_filter_on_a_release_without_the_facet_index_is_a_clear_400(catalogue, tmp_path):
    from server import create_app

    root = tmp_path / "project"
    shutil.copytree(catalogue / "data", root / "data")
    shutil.copytree(current(catalogue / "var"), root / "var" / "releases" / "old")
    info_file = root / "var" / "releases" / "old" / layout.INDEX_DIR / "index.json"
    info = json.loads(info_file.read_text(encoding="utf-8"))
    del info["facets"]
    info_file.write_text(json.dumps(info), encoding="utf-8")
    os.symlink("releases/old", root / "var" / "current")
    app = create_app(load_config(root, query_workers=1, cache_mb=0))
    try:
        r = app.test_client().get("/movie/?year=1953")
        plain = app.test_client().get("/movie/")
    finally:
        app.extensions["kg.executors"].close()
    assert r.status_code == 400 and "kg build" in r.get_data(as_text=True)
    assert plain.status_code == 200


def test_a_person_listing_narrows_by_birth_year(released):
    rel = Releases(released / "var").current()
    born = next(f for f in listings.listing(rel, "person").facets if f.name == "born")
    assert ("1971", "1971", 1) in born.values
    assert [name for _, name in listings.listing(rel, "person", filters={"born": "1971"}).items] == [
        "Leesong Hee-il"]


def test_the_home_page_offers_the_films_by_genre(client):
    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    offered = re.findall(r'<a href="/movie/\?genre=([^"]+)">([^<]+)</a> <small>(\d+)</small>', html)
    listed = client.get("/movie/?format=json").get_json()["facets"]["genre"]
    assert [(parse_qs(f"g={k}")["g"][0], label, int(n)) for k, label, n in offered] == [
        (g["value"], g["label"], g["count"]) for g in listed]
    for key, _, count in offered:
        assert client.get(f"/movie/?genre={key}&format=json").get_json()["total"] == int(count)


def test_widening_the_only_filter_goes_back_to_the_plain_list(client):
    html = client.get("/movie/?genre=crime", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<a class="widen" href="/movie/"' in html


def test_a_facet_is_named_as_a_reader_calls_it(released):
    from server import create_app

    app = create_app(load_config(released, query_workers=1, cache_mb=0))
    try:
        html = app.test_client().get("/person/?born=1971", headers={"Accept": "text/html"}).get_data(as_text=True)
        plain = app.test_client().get("/person/", headers={"Accept": "text/html"}).get_data(as_text=True)
    finally:
        app.extensions["kg.executors"].close()
    assert "<strong>birth year 1971</strong>" in html and "<summary>By birth year</summary>" in plain
