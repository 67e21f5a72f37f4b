"""The one place that answers a request: negotiation (suffix, ?format=, Accept), 406, 304 and the renderer table."""

from __future__ import annotations

from types import SimpleNamespace

import pyoxigraph as ox
import pytest
from flask import g

from kg.formats import FORMATS
from server.render import OFFERS, RENDERERS, Answer, Page, Rdf, Text, negotiate, rdf, render

TRIPLE = ox.Triple(ox.NamedNode("https://films.example.org/movie/x"), ox.NamedNode("http://schema.org/name"),
                   ox.Literal("X"))


def _answer(suffix: str | None = None, **kw) -> Answer:
    return Answer({"html": lambda: Page("error.html", {"status": 200, "message": "", "reason": "OK"}),
                   **rdf(lambda fmt: Rdf([TRIPLE])), "embed": lambda: Text("snippet")}, suffix=suffix, **kw)


@pytest.mark.parametrize("suffix, query, accept, expected", [
    ("ttl", "?format=jsonld", "application/n-triples", "turtle"),  # the path's suffix first
    (None, "?format=jsonld", "application/n-triples", "jsonld"),  # then ?format=
    (None, "", "application/n-triples", "ntriples"),  # then Accept
    (None, "?format=", "application/n-triples", "ntriples"),  # an empty ?format= names nothing
    (None, "", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # a browser
    (None, "?format=embed", "text/turtle", "embed"),
])
def test_the_form_is_picked_by_suffix_then_format_then_accept(app, suffix, query, accept, expected):
    with app.test_request_context(f"/x{query}", headers={"Accept": accept}):
        offer = negotiate(_answer(suffix))
        assert offer is not None and offer.key == expected


@pytest.mark.parametrize("accept", ["text/plain", "text/*, text/html;q=0, text/turtle;q=0"])
def test_a_form_offered_by_name_only_is_never_chosen_by_accept(app, accept):
    with app.test_request_context("/x", headers={"Accept": accept}):
        offer = negotiate(_answer())
        assert offer is None or offer.key != "embed"


def test_nothing_acceptable_is_a_406_listing_the_forms_without_loading_any(app):
    def never() -> Text:
        raise AssertionError("loaded for a 406")

    with app.test_request_context("/x", headers={"Accept": "image/png"}):
        g.release = None
        response = render(Answer({"html": never, **rdf(lambda fmt: never())}))
        text = response.get_data(as_text=True)
    assert response.status_code == 406
    assert all(f"{f.media_type}  (?format={f.name})" in text for f in FORMATS) and "text/html" in text


def test_a_client_holding_the_form_gets_304_without_the_page_being_made(app):
    made = []

    def context() -> dict[str, str]:
        made.append(1)
        return {}

    rel = SimpleNamespace(etag="r1", last_modified="Thu, 01 Jan 2026 00:00:00 GMT")
    answer = Answer({"html": lambda: Page("error.html", context, headers={"Link": "<x>"})}, tags={"html": "page"})
    with app.test_request_context("/x", headers={"Accept": "text/html", "If-None-Match": 'W/"r1-page"'}):
        g.release = rel
        response = render(answer)
    assert response.status_code == 304 and made == [] and "Link" not in response.headers
    assert response.headers["ETag"] == '"r1-page"' and response.headers["Vary"] == "Accept"
    assert response.headers["Last-Modified"] == rel.last_modified


def test_every_form_has_a_renderer_and_rdf_goes_through_the_one_table_of_formats():
    assert set(OFFERS) == set(RENDERERS)
    rdf_keys = [k for k in OFFERS if k not in ("html", "json", "csv", "suggest", "embed")]
    assert rdf_keys == [f.name for f in FORMATS]
    assert all(OFFERS[f.name].media_types == f.media_types for f in FORMATS)


@pytest.mark.parametrize("query, status", [("?format=bogus", 400), ("?format=csv", 406)])
def test_a_format_kg_does_not_know_is_a_400_and_one_not_offered_here_a_406(app, query, status):
    with app.test_request_context(f"/x{query}", headers={"Accept": "text/turtle"}):
        g.release = None
        response = render(_answer())
        text = response.get_data(as_text=True)
    assert response.status_code == status
    assert ("'bogus'" in text and "turtle" in text) if status == 400 else "(?format=turtle)" in text
