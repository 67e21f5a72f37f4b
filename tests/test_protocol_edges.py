"""What a new user's clients found at the edges of the protocols: CORS preflights everywhere, what a cut answer
says to a script, conditional requests by date, the dataset of named-graph-uri alone, and the service description."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
import rdflib

from conftest import BASE
from kg.formats import RESULT_FORMATS

FILM = "/movie/break-away"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.mark.parametrize("path", [FILM, "/download/kg.ttl", "/search", "/"])
def test_a_cors_preflight_is_answered_for_every_resource(client, path):
    r = client.options(path, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
                                      "Access-Control-Request-Headers": "accept"})
    assert r.status_code < 300 and "GET" in r.headers["Access-Control-Allow-Methods"]
    assert r.headers["Access-Control-Allow-Headers"] == "accept" and r.headers["Access-Control-Allow-Origin"] == "*"


def test_the_endpoint_says_what_it_allows(client):
    r = client.options("/sparql")
    assert r.status_code == 204 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_a_script_on_another_site_may_read_that_an_answer_was_cut(client):
    exposed = client.get("/sparql", query_string={"query": COUNT}).headers["Access-Control-Expose-Headers"]
    assert {"X-Result-Truncated", "Warning", "Content-Location"} <= {h.strip() for h in exposed.split(",")}


def test_an_entity_document_not_modified_since_is_a_304(client):
    first = client.get(FILM, headers={"Accept": "text/turtle"})
    since = first.headers["Last-Modified"]
    again = client.get(FILM, headers={"Accept": "text/turtle", "If-Modified-Since": since})
    assert first.status_code == 200 and again.status_code == 304
    assert again.headers["Content-Location"] == first.headers["Content-Location"] == f"{FILM}.ttl"
    older = client.get(FILM, headers={"Accept": "text/turtle", "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200


def test_if_none_match_outranks_if_modified_since(client):
    first = client.get(FILM, headers={"Accept": "text/turtle"})
    r = client.get(FILM, headers={"Accept": "text/turtle", "If-None-Match": '"another"',
                                  "If-Modified-Since": first.headers["Last-Modified"]})
    assert r.status_code == 200  # RFC 9110 section 13.1.3: If-Modified-Since is ignored beside If-None-Match


def test_a_304_says_where_the_form_is(client):
    first = client.get(FILM, headers={"Accept": "text/turtle"})
    again = client.get(FILM, headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Content-Location"] == f"{FILM}.ttl"


def test_a_406_varies_on_accept(client):
    r = client.get(FILM, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "Accept" in {v.strip() for v in r.headers["Vary"].split(",")}


def test_named_graphs_alone_leave_the_default_graph_empty(client):
    editorial = f"{BASE}source/editorial"
    alone = client.get("/sparql", query_string={"query": COUNT, "named-graph-uri": editorial},
                       headers={"Accept": "text/csv"})
    named = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                                                "named-graph-uri": editorial}, headers={"Accept": "text/csv"})
    assert alone.data.decode().split() == ["n", "0"]  # as FROM NAMED alone (SPARQL 1.1 Query section 13.2)
    assert int(named.data.decode().split()[1]) > 0


def test_a_query_that_is_not_utf8_is_a_400(client):
    r = client.get("/sparql?query=SELECT%20(%22%E9%22%20AS%20%3Fx)%20%7B%7D")
    form = client.post("/sparql", data=b"query=SELECT%20(%22%E9%22%20AS%20%3Fx)%20%7B%7D",
                       content_type="application/x-www-form-urlencoded")
    assert r.status_code == form.status_code == 400 and "UTF-8" in r.data.decode()


def test_a_blank_node_in_csv_results_is_written_as_a_blank_node(client):
    r = client.get("/sparql", query_string={"query": "SELECT ?d WHERE { BIND(BNODE() AS ?d) }"},
                   headers={"Accept": "text/csv"})
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert rows[0] == ["d"] and rows[1][0].startswith("_:")  # SPARQL 1.1 CSV and TSV section 3.2


def test_the_service_description_lists_only_the_formats_a_result_comes_in(client):
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=r.data.decode(), format="turtle")
    listed = {str(o) for o in graph.objects(None, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/JSON-LD" in listed and "http://www.w3.org/ns/formats/Turtle" in listed
    assert {"http://www.w3.org/ns/formats/N-Quads", "http://www.w3.org/ns/formats/TriG"} <= listed
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"
    for accept in ("application/ld+json", "text/turtle", "application/n-triples", "application/rdf+xml",
                   "application/n-quads", "application/trig"):
        assert client.get("/sparql", query_string={"query": construct}, headers={"Accept": accept}).status_code == 200


@pytest.mark.parametrize("accept, fmt", [("application/n-quads", ox.RdfFormat.N_QUADS),
                                         ("application/trig", ox.RdfFormat.TRIG)])
def test_a_construct_asked_for_as_a_dataset_is_its_default_graph(client, accept, fmt):
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ BIND(<{BASE}movie/break-away> AS ?s) ?s ?p ?o }}"
    r = client.get("/sparql", query_string={"query": construct}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == accept
    quads = list(ox.parse(r.data, format=fmt))
    assert quads and all(q.graph_name == ox.DefaultGraph() and q.subject.value == f"{BASE}movie/break-away"
                         for q in quads)


@pytest.mark.parametrize("where", ["url", "body"])
def test_a_form_post_reads_the_dataset_from_the_url_as_from_the_body(client, where):
    graph = {"default-graph-uri": f"{BASE}source/forum-post"}
    query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    whole = client.post("/sparql", data=query, headers={"Accept": "application/sparql-results+json"}).get_json()
    r = client.post("/sparql" + ("?" + urlencode(graph) if where == "url" else ""),
                    data={**query, **(graph if where == "body" else {})},
                    headers={"Accept": "application/sparql-results+json"})
    count = int(r.get_json()["results"]["bindings"][0]["n"]["value"])
    assert 0 < count < int(whole["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_answer_that_differs_each_run_is_never_kept(client, method):
    query = {"query": "SELECT (STRUUID() AS ?u) (NOW() AS ?t) WHERE {}"}
    ask = (lambda: client.get("/sparql", query_string=query, headers={"Accept": "text/csv"})) if method == "GET" \
        else (lambda: client.post("/sparql", data=query, headers={"Accept": "text/csv"}))
    first, second = ask(), ask()
    assert first.headers["Cache-Control"] == "no-store"
    assert first.get_data(as_text=True) != second.get_data(as_text=True)


@pytest.mark.parametrize("fmt", [f for f in RESULT_FORMATS if f.name != "csv"], ids=lambda f: f.name)
def test_a_triple_term_in_select_results_reads_back_as_that_triple(client, fmt):
    q = 'SELECT ?t WHERE { BIND(TRIPLE(<http://a/s>, <http://a/p>, "c"@en) AS ?t) }'
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept": fmt.media_type})
    rows = list(ox.parse_query_results(r.get_data(), format=fmt.oxigraph))
    assert [row["t"] for row in rows] == [ox.Triple(ox.NamedNode("http://a/s"), ox.NamedNode("http://a/p"),
                                                    ox.Literal("c", language="en"))]


def test_a_post_to_the_endpoint_with_a_trailing_slash_is_sent_on_keeping_its_method(client):
    r = client.post("/sparql/?format=json", data={"query": "ASK {}"})
    assert r.status_code == 308 and r.headers["Location"].endswith("/sparql?format=json")


def test_the_service_description_says_each_result_format_once(client):
    text = client.get("/sparql", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
    said = [line for line in text.splitlines() if "#resultFormat>" in line]
    assert said and len(said) == len(set(said))


@pytest.mark.parametrize("media", ["application/jsonl", "application/trig", "application/n-quads", "text/turtle",
                                   "application/n-triples", "application/rdf+xml", "application/ld+json"])
def test_a_construct_in_any_format_says_its_charset(client, media):
    r = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s a ?o } LIMIT 1"}, headers={"Accept": media})
    assert r.headers["Content-Type"] == f"{media}; charset=utf-8"


def test_select_all_orders_a_variable_with_a_middle_dot_by_where_it_first_appears(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { BIND(1 AS ?zz·b) BIND(2 AS ?alpha) }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.get_json()["head"]["vars"] == ["zz·b", "alpha"]


@pytest.mark.parametrize("charset, status", [("utf-16", 415), ("ISO-8859-1", 415), ("UTF-8", 200), ("us-ascii", 200)])
def test_a_query_body_in_another_charset_than_utf8_is_a_415(client, charset, status):
    query = "ASK { ?s ?p ?o }"
    body = query.encode("utf-16" if charset == "utf-16" else "latin-1")
    r = client.post("/sparql", data=body, headers={"Content-Type": f"application/sparql-query; charset={charset}",
                                                   "Accept": "application/sparql-results+json"})
    assert r.status_code == status, r.get_data(as_text=True)
    assert status == 200 or f"Unsupported charset '{charset.lower()}'" in r.get_data(as_text=True)
