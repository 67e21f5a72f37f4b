"""SPARQL clients that just work: every return format SPARQLWrapper offers, and prefixes a query need not declare."""

from __future__ import annotations

import pytest
import rdflib
import requests
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from conftest import BASE

pytestmark = pytest.mark.e2e

QUERIES = {
    "SELECT": f"SELECT ?name WHERE {{ <{BASE}movie/break-away> <http://schema.org/director>/<http://schema.org/name> "
              "?name }",
    "ASK": f"ASK {{ <{BASE}movie/break-away> ?p ?o }}",
    "CONSTRUCT": f"CONSTRUCT {{ <{BASE}movie/break-away> ?p ?o }} WHERE {{ <{BASE}movie/break-away> ?p ?o }}",
    "DESCRIBE": f"DESCRIBE <{BASE}movie/break-away>",
}
TABLE_FORMATS = {JSON: "application/sparql-results+json", XML: "application/sparql-results+xml",
                 CSV: "text/csv", TSV: "text/tab-separated-values"}
GRAPH_FORMATS = {JSONLD: "application/ld+json", RDFXML: "application/rdf+xml", RDF: "application/rdf+xml",
                 XML: "application/rdf+xml", N3: "text/turtle", TURTLE: "text/turtle", JSON: "application/ld+json"}
RDFLIB = {"application/ld+json": "json-ld", "application/rdf+xml": "xml", "text/turtle": "turtle"}
CASES = [(form, fmt, media) for form in ("SELECT", "ASK") for fmt, media in TABLE_FORMATS.items()] + [
    (form, fmt, media) for form in ("CONSTRUCT", "DESCRIBE") for fmt, media in GRAPH_FORMATS.items()]


def _client(live, form: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{live.url}/sparql")
    client.setQuery(QUERIES[form])
    client.setReturnFormat(fmt)
    return client


@pytest.mark.parametrize("form, fmt, media", CASES, ids=[f"{f}-{x}" for f, x, _ in CASES])
def test_sparqlwrapper_gets_each_return_format_it_offers(live, form, fmt, media):
    result = _client(live, form, fmt).query()
    assert result.response.status == 200
    assert result.response.headers["Content-Type"].split(";")[0] == media


MISMATCHED = [(form, fmt) for form in ("SELECT", "ASK") for fmt in (TURTLE, N3, RDF, RDFXML, JSONLD)] + [
    (form, fmt) for form in ("CONSTRUCT", "DESCRIBE") for fmt in (CSV, TSV)]


@pytest.mark.parametrize("form, fmt", MISMATCHED, ids=[f"{f}-{x}" for f, x in MISMATCHED])
def test_sparqlwrapper_set_to_the_other_kind_of_result_still_gets_one(live, form, fmt):
    result = _client(live, form, fmt).query()  # it sends format=X with Accept: */*: the default form is answered
    assert result.response.status == 200


@pytest.mark.parametrize("fmt", list(GRAPH_FORMATS), ids=str)
def test_a_constructed_graph_reads_back_in_the_format_served(live, fmt):
    result = _client(live, "CONSTRUCT", fmt).query()
    media = result.response.headers["Content-Type"].split(";")[0]
    graph = rdflib.Graph().parse(data=result.response.read(), format=RDFLIB[media])
    assert (rdflib.URIRef(f"{BASE}movie/break-away"), rdflib.URIRef("http://schema.org/name"),
            rdflib.Literal("Break Away")) in graph


def test_an_unknown_format_name_is_a_400_even_with_an_accept_header(live):
    r = requests.get(f"{live.url}/sparql", params={"query": QUERIES["ASK"], "format": "sparql-magic"},
                     headers={"Accept": "text/csv"}, timeout=10)
    assert r.status_code == 400 and "'format' names no format kg knows: 'sparql-magic'" in r.text


@pytest.mark.parametrize("name, media", [("json-ld", "application/ld+json"), ("rdf+xml", "application/rdf+xml"),
                                         ("n3", "text/turtle"), ("text/turtle", "text/turtle")])
def test_fuseki_and_virtuoso_format_names_work_for_a_graph(live, name, media):
    for param in ("format", "output"):
        r = requests.get(f"{live.url}/sparql", params={"query": QUERIES["DESCRIBE"], param: name}, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(media)


def test_a_query_may_use_the_predefined_prefixes_undeclared(live):
    q = "SELECT ?n WHERE { movie:break-away schema:director/schema:name ?n . movie:break-away a schema:Movie }"
    r = requests.get(f"{live.url}/sparql", params={"query": q}, headers={"Accept": "text/csv"}, timeout=10)
    assert r.status_code == 200 and r.text.splitlines() == ["n", "Leesong Hee-il"]


def test_a_query_s_own_prefix_wins_over_a_predefined_one(live):
    q = "PREFIX schema: <http://example.org/not-schema/> ASK { ?s schema:name ?n }"
    r = requests.get(f"{live.url}/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"},
                     timeout=10)
    assert r.status_code == 200 and r.json()["boolean"] is False


def test_an_undeclared_prefix_is_named(live):
    r = requests.get(f"{live.url}/sparql", params={"query": "SELECT * WHERE { ?s foo:bar ?o }"}, timeout=10)
    assert r.status_code == 400 and "prefix foo: is not declared" in r.text and "schema:" in r.text


def test_the_service_description_declares_the_prefixes(live):
    r = requests.get(f"{live.url}/sparql", headers={"Accept": "text/turtle"}, timeout=10)
    graph = rdflib.Graph().parse(data=r.text, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    declared = {(str(graph.value(d, sh.prefix)), str(graph.value(d, sh.namespace))) for d in graph.objects(None,
                                                                                                         sh.declare)}
    assert {("schema", "http://schema.org/"), ("kgv", "https://films.example.org/vocab#"),
            ("movie", f"{BASE}movie/"), ("dct", "http://purl.org/dc/terms/")} <= declared


def test_the_query_page_lists_the_prefixes(live):
    html = requests.get(f"{live.url}/sparql", headers={"Accept": "text/html"}, timeout=10).text
    assert "<code>schema:</code>" in html and "<code>movie:</code>" in html
