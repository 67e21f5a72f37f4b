"""Search past its first page, and narrowed to one kind of record."""

from __future__ import annotations

import json

from conftest import BASE
from kg.serve.search import Hit, paged


def _hits(n: int, kind: str = "person") -> list[Hit]:
    return [Hit(f"{BASE}{kind}/p{i:03d}", f"P {i}", "Person", f"P {i}") for i in range(n)]


def test_hits_past_the_first_fifty_are_on_later_pages():
    found = paged(_hits(120), BASE, None, 3)
    assert (found.page, found.pages, found.total) == (3, 3, 120)
    assert [h.name for h in found.hits] == [f"P {i}" for i in range(100, 120)]


def test_a_page_past_the_last_is_the_last():
    assert paged(_hits(60), BASE, None, 9).page == 2


def test_a_kind_narrows_the_hits_and_every_kind_is_counted():
    found = paged(_hits(3, "person") + _hits(2, "movie"), BASE, "movie", 1)
    assert found.total == 2 and all("/movie/" in h.iri for h in found.hits)
    assert found.kinds == {"person": 3, "movie": 2}


def test_search_json_narrowed_to_films(client):
    every = json.loads(client.get("/search", query_string={"q": "break", "format": "json"}).data)
    films = json.loads(client.get("/search", query_string={"q": "break", "kind": "movie", "format": "json"}).data)
    assert every["kinds"]["movie"] == films["total"] >= 1 and len(every["kinds"]) > 1
    assert {r["iri"].split("/")[-2] for r in films["results"]} == {"movie"}
    assert (films["page"], films["pages"]) == (1, 1)


def test_the_search_page_links_each_kind(client):
    html = client.get("/search", query_string={"q": "break"}, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/search?q=break&amp;kind=movie"' in html


def test_search_for_an_unknown_kind_is_a_400_listing_the_kinds(client):
    r = client.get("/search", query_string={"q": "break", "kind": "films", "format": "json"})
    assert r.status_code == 400 and "'kind' must be one of movie, person," in r.get_data(as_text=True)


def test_search_narrows_to_the_kind_other_as_its_links_name_it(client):
    r = client.get("/search", query_string={"q": "break", "kind": "other", "format": "json"})
    assert r.status_code == 200 and r.json["kind"] == "other"
