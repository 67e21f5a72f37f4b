"""Independent clients against the real `kg serve`: Comunica (npm, installed by .ci/run into tests/clients/), rdflib's SPARQLStore."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import BASE
from kg import spliced

pytestmark = pytest.mark.e2e

COMUNICA = Path(__file__).parent / "clients" / "node_modules" / ".bin" / "comunica-sparql"
SCHEMA = "PREFIX schema: <http://schema.org/> "


def comunica(*sources: str, query: str) -> list[dict[str, dict[str, str]]]:
    """Bindings of a SELECT that Comunica evaluates over `sources`, as SPARQL JSON results."""
    run = subprocess.run([str(COMUNICA), *sources, query, "-t", "application/sparql-results+json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["results"]["bindings"]


def values(bindings: list[dict[str, dict[str, str]]], *names: str) -> set[tuple[str, ...]]:
    return {tuple(b[n]["value"] for n in names) for b in bindings}


def test_comunica_gets_the_same_answer_from_the_endpoint_as_a_plain_http_client(live):
    query = SCHEMA + ("SELECT ?actor ?character WHERE { ?film schema:name \"Break Away\" ; schema:actor ?role . "
                      "?role schema:actor/schema:name ?actor ; schema:characterName ?character }")
    ours = requests.get(f"{live.url}/sparql", params={"query": query},
                        headers={"Accept": "application/sparql-results+json"}, timeout=10).json()
    theirs = comunica(f"sparql@{live.url}/sparql", query=query)
    expected = values(ours["results"]["bindings"], "actor", "character")
    assert len(expected) >= 3 and values(theirs, "actor", "character") == expected


def test_comunica_reads_an_entity_iri_as_a_linked_data_document(live):
    # Comunica asks for N-Quads first: the facts must be in the document's default graph
    film = f"{BASE}movie/break-away"
    found = comunica(f"{live.url}/movie/break-away",
                     query=SCHEMA + f"SELECT ?name ?director WHERE {{ <{film}> schema:name ?name ; "
                                    "schema:director ?director }")
    assert values(found, "name", "director") == {("Break Away", f"{BASE}person/leesong-hee-il")}


def test_comunica_joins_facts_across_two_entity_documents(live):
    film = f"{BASE}movie/break-away"
    found = comunica(f"{live.url}/movie/break-away", f"{live.url}/person/leesong-hee-il",
                     query=SCHEMA + f"SELECT ?name WHERE {{ <{film}> schema:director ?d . ?d schema:name ?name }}")
    names = requests.get(f"{live.url}/person/leesong-hee-il.jsonld", timeout=10).json()
    assert values(found, "name") == {("Leesong Hee-il",)} and "Leesong Hee-il" in json.dumps(names)


def test_comunica_reads_the_provenance_graphs_of_an_entity_document(live):
    film = f"{BASE}movie/break-away"
    found = comunica(f"{live.url}/movie/break-away",
                     query=SCHEMA + f"SELECT ?source WHERE {{ GRAPH ?source {{ <{film}> schema:dateCreated ?year }} }}")
    assert values(found, "source") == {(f"{BASE}source/forum-post",), (f"{BASE}source/finecut-press-kit",)}


def test_rdflib_sparqlstore_reads_the_endpoint_as_a_graph(live, released):
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(store=SPARQLStore(f"{live.url}/sparql"))
    film = rdflib.URIRef(f"{BASE}movie/break-away")
    directors = set(graph.objects(film, rdflib.URIRef("http://schema.org/director")))
    release = rdflib.Graph().parse(data=spliced.read_bytes(released / "var" / "current" / "kg.ttl"), format="turtle")
    assert directors == {rdflib.URIRef(f"{BASE}person/leesong-hee-il")}
    assert len(graph) == len(release)


def test_rdflib_dataset_over_a_sparqlstore_queries_the_default_graph_and_the_source_graphs(live):
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    dataset = rdflib.Dataset(store=SPARQLStore(f"{live.url}/sparql"))  # it sends default-graph-uri=urn:x-rdflib:default
    film = rdflib.URIRef(f"{BASE}movie/break-away")
    rows = dataset.query(f"SELECT ?d WHERE {{ <{film}> <http://schema.org/director> ?d }}")
    assert {row[0] for row in rows} == {rdflib.URIRef(f"{BASE}person/leesong-hee-il")}
    rows = dataset.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{film}> <http://schema.org/dateCreated> ?y }} }}")
    assert {row[0] for row in rows} == {rdflib.URIRef(f"{BASE}source/forum-post"),
                                        rdflib.URIRef(f"{BASE}source/finecut-press-kit")}
