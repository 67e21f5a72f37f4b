"""The read-only SPARQL 1.1 Graph Store HTTP Protocol at /store: each graph as the release's dumps hold it."""

from __future__ import annotations

import gzip
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest

from conftest import BASE
from kg import spliced
from kg.formats import FORMATS
from kg.layout import DUMPS, STORE_DIR, current

PRESS_KIT = BASE + "source/finecut-press-kit"


def _dump_quads(released) -> list[ox.Quad]:
    """The statements of the release's N-Quads dump (every source graph): the ground truth."""
    dump = next(d for d in DUMPS if d.format.name == "nquads")
    data = spliced.read_bytes(current(released / "var") / dump.filename)
    return list(ox.parse(gzip.decompress(data) if dump.gzipped else data, format=ox.RdfFormat.N_QUADS))


def _triples(data: bytes, fmt) -> set[str]:
    return {str(ox.Triple(q.subject, q.predicate, q.object)) for q in fmt.parse(data)}


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_a_named_graph_is_what_its_source_says(client, released, fmt):
    r = client.get("/store", query_string={"graph": PRESS_KIT}, headers={"Accept": fmt.media_type})
    assert r.status_code == 200 and r.headers["Content-Type"] == f"{fmt.media_type}; charset=utf-8"
    expected = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in _dump_quads(released)
                if q.graph_name == ox.NamedNode(PRESS_KIT)}
    assert len(expected) > 50 and _triples(r.data, fmt) == expected


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets], ids=lambda f: f.name)
def test_the_default_graph_is_the_union_of_the_sources(client, released, fmt):
    r = client.get(f"/store?default&format={fmt.name}")
    assert r.status_code == 200
    union = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in _dump_quads(released)
             if not q.graph_name.value.endswith("graph/release")}  # the release's self-description is the default's
    assert union <= _triples(r.data, fmt)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.datasets], ids=lambda f: f.name)
def test_with_no_graph_named_the_whole_dataset_comes_in_a_dataset_format(client, released, fmt):
    r = client.get("/store", headers={"Accept": fmt.media_type})
    assert r.status_code == 200
    named = {str(q) for q in fmt.parse(r.data) if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert named == {str(q) for q in _dump_quads(released)}


def test_the_whole_dataset_is_not_offered_as_a_single_graph(client):
    r = client.get("/store", headers={"Accept": "text/turtle"})
    assert r.status_code == 406 and "application/trig" in r.get_data(as_text=True)


@pytest.mark.parametrize(("query", "status"), [
    ({"graph": BASE + "source/nowhere"}, 404),
    ({"graph": "not an iri"}, 400),
    ([("graph", PRESS_KIT), ("graph", BASE + "source/editorial")], 400),
    ([("graph", PRESS_KIT), ("default", "")], 400),
])
def test_a_graph_that_cannot_be_given_is_a_protocol_error(client, query, status):
    assert client.get("/store", query_string=query).status_code == status


@pytest.mark.parametrize("method", ["put", "post", "delete"])
def test_the_store_is_read_only(client, method):
    r = client.open("/store", method=method.upper(), query_string={"graph": PRESS_KIT},
                    data=b"<a:a> <a:b> <a:c> .", content_type="application/n-triples")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "nothing on this server takes changes" in r.get_data(as_text=True)
    assert client.get("/store", query_string={"graph": PRESS_KIT}).status_code == 200


def test_options_lists_only_the_reading_methods(client):
    r = client.options("/store")
    assert r.status_code == 200 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_an_unchanged_graph_is_not_sent_again(client):
    first = client.get("/store", query_string={"graph": PRESS_KIT})
    again = client.get("/store", query_string={"graph": PRESS_KIT}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_a_graph_streamed_in_many_pieces_is_one_document(released, fmt):
    store = ox.Store.read_only(str(current(released / "var") / STORE_DIR))
    quads = list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    pieces = list(fmt.stream(quads, chunk=5))
    assert len(pieces) > 80
    assert _triples(b"".join(pieces), fmt) == _triples(fmt.serialize(quads), fmt) and len(quads) > 400


def test_a_source_page_links_to_everything_its_document_says(client):
    html = client.get("/source/finecut-press-kit", headers={"Accept": "text/html"}).get_data(as_text=True)
    links = re.findall(r'<a href="(/store\?[^"]+)" type="text/turtle"', html)
    assert len(links) == 1
    r = client.get(unescape(links[0]))
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    assert any(str(t.subject) == f"<{BASE}movie/break-away>" for t in ox.parse(r.data, format=ox.RdfFormat.TURTLE))


def test_a_film_page_has_no_graph_link(client):
    assert "/store?" not in client.get("/movie/break-away", headers={"Accept": "text/html"}).get_data(as_text=True)


def test_the_description_page_links_each_named_graph_to_the_store(client):
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).get_data(as_text=True)
    links = {unescape(h) for h in re.findall(r'href="(/store\?graph=[^"]+)"', html)}
    graphs = {parse_qs(urlsplit(h).query)["graph"][0] for h in links}
    assert PRESS_KIT in graphs and len(graphs) == 7
    assert all(client.get(h, headers={"Accept": "text/html"}).status_code == 200 for h in links)  # format named
