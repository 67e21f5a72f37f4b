"""JSON-LD for developers: the official schema.org context, one object per entity, referenced entities named,
JSON Lines; read back offline by rdflib and pyld as the same graph as the N-Triples dump."""

from __future__ import annotations

import gzip
import json

import pyoxigraph as ox
import pytest
import rdflib
import requests
from pyld import jsonld
from rdflib.compare import isomorphic

import kg.jsonld as kg_jsonld
from conftest import BASE, rdflib_read
from kg import spliced
from kg.formats import named
from kg.jsonld import document_loader
from kg.layout import current

FILM = BASE + "movie/break-away"


@pytest.fixture(scope="module")
def release(released):
    found = current(released / "var")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def dump(release) -> dict:
    return json.loads(spliced.read_bytes(release / "kg.jsonld"))


@pytest.fixture(scope="module")
def ntriples(release) -> set[str]:
    data = gzip.decompress(spliced.read_bytes(release / "kg.nt.gz"))
    return {str(t) for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


def _pyld_triples(document: dict) -> set[str]:
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader})
    return {str(ox.Triple(q.subject, q.predicate, q.object)) for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)}


def test_the_dump_names_the_official_schema_org_context(dump):
    assert dump["@context"] == "https://schema.org"


def test_a_developers_index_of_the_dump_by_id_keeps_every_fact(dump, ntriples):
    by_id = {n["@id"]: n for n in dump["@graph"]}
    assert len(by_id) == len(dump["@graph"])
    film = by_id[FILM]
    for term in ("review", "https://films.example.org/vocab#budget", "genre", "duration", "actor", "director"):
        assert term in film, term
    # each statement of the film in the N-Triples dump is in its one object
    alone = _pyld_triples({"@context": "https://schema.org", **film})
    assert {t for t in ntriples if t.startswith(f"<{FILM}> ")} <= alone


def test_parts_are_written_inside_their_entity(dump):
    ids = {n["@id"] for n in dump["@graph"]}
    assert not any(i.startswith(FILM + "#") for i in ids)
    film = next(n for n in dump["@graph"] if n["@id"] == FILM)
    roles = film["actor"] if isinstance(film["actor"], list) else [film["actor"]]
    assert all(r["@type"] == "PerformanceRole" and "characterName" in r for r in roles if isinstance(r, dict))


def test_referenced_entities_carry_their_name_and_type(dump):
    film = next(n for n in dump["@graph"] if n["@id"] == FILM)
    assert film["director"] == {"@id": BASE + "person/leesong-hee-il", "@type": "Person", "name": "Leesong Hee-il"}
    assert film["countryOfOrigin"]["name"] == "South Korea"


def test_a_canonical_integer_is_a_json_number(dump):
    film = next(n for n in dump["@graph"] if n["@id"] == FILM)
    assert film["https://films.example.org/vocab#featureNumber"] == 2


def test_the_dump_read_by_pyld_offline_is_the_n_triples_dump(dump, ntriples):
    assert _pyld_triples(dump) == ntriples


def test_the_dump_read_by_rdflib_is_the_n_triples_dump(release, ntriples):
    graph = rdflib_read(spliced.read_bytes(release / "kg.jsonld"), named("jsonld"))
    expected = rdflib.Graph().parse(data=gzip.decompress(spliced.read_bytes(release / "kg.nt.gz")), format="nt")
    assert len(graph) == len(ntriples) and isomorphic(graph, expected)


def test_json_lines_hold_one_entity_per_line_each_a_json_ld_document(release, dump, ntriples):
    lines = spliced.read_bytes(release / "kg.jsonl").splitlines()
    objects = [json.loads(line) for line in lines]
    assert all(o["@context"] == "https://schema.org" for o in objects)
    assert [o["@id"] for o in objects] == [n["@id"] for n in dump["@graph"]]
    assert set().union(*(_pyld_triples(o) for o in objects)) == ntriples


def test_an_entitys_json_ld_is_one_object_with_its_parts_and_conflicts(live):
    doc = requests.get(f"{live.url}/movie/break-away.jsonld", timeout=10).json()
    assert doc["@context"] == "https://schema.org" and doc["@id"] == FILM and "@graph" not in doc
    conflicts = doc["@reverse"]["https://films.example.org/vocab#conflictSubject"]
    assert {c["https://films.example.org/vocab#conflictProperty"]["@id"] for c in conflicts} >= {
        "http://schema.org/dateCreated"}
    assert doc["director"]["name"] == "Leesong Hee-il"


def test_a_persons_json_ld_names_the_films_that_point_to_nothing_else(live):
    doc = requests.get(f"{live.url}/person/leesong-hee-il.jsonld", timeout=10).json()
    assert doc["@context"] == "https://schema.org" and doc["name"] == "Leesong Hee-il"


@pytest.mark.parametrize("accept", ["application/jsonl", "application/x-ndjson"])
def test_json_lines_are_negotiated(live, accept):
    r = requests.get(f"{live.url}/movie/break-away", headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/jsonl")
    lines = r.content.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["@id"] == FILM


def test_json_lines_are_downloadable(live, release):
    r = requests.get(f"{live.url}/download/kg.jsonl", timeout=10)
    assert r.status_code == 200 and r.content == spliced.read_bytes(release / "kg.jsonl")
    listed = requests.get(f"{live.url}/download/", headers={"Accept": "application/json"}, timeout=10).json()
    assert "kg.jsonl" in {d["file"] for d in listed["downloads"]}


def test_a_construct_asked_for_as_json_ld_keeps_a_context_every_parser_reads_offline(live):
    # SPARQL clients (SPARQLWrapper, rdflib) parse the answer themselves: it names no context to fetch
    q = f"CONSTRUCT WHERE {{ <{FILM}> <http://schema.org/name> ?n }}"
    r = requests.get(f"{live.url}/sparql", params={"query": q}, headers={"Accept": "application/ld+json"}, timeout=10)
    assert isinstance(r.json()["@context"], dict)
    assert [t.object.value for t in ox.parse(r.content, format=ox.RdfFormat.JSON_LD)] == ["Break Away"]


_ODD = [  # (predicate, object) that a careless compaction reads back as something else
    ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ox.Literal("Action")),  # a literal type, not schema:Action
    ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ox.BlankNode("b1")),
    ("http://schema.org/@id", ox.Literal("x")),  # a keyword as a term
    ("http://schema.org/@type", ox.Literal("x")),
    ("http://schema.org/kgv:x", ox.Literal("x")),  # a colon: a prefix to a reader
    ("http://schema.org/prov", ox.Literal("x")),  # a name the context gives a namespace
]


@pytest.mark.parametrize("predicate, obj", _ODD, ids=["literal-type", "blank-type", "@id", "@type", "colon", "prefix"])
@pytest.mark.parametrize("write, lines", [(lambda ts: b"".join(kg_jsonld.stream(ts)), False),
                                          (kg_jsonld.dumps, False),
                                          (lambda ts: b"".join(kg_jsonld.stream_lines(ts)), True)],
                         ids=["stream", "document", "lines"])
def test_json_ld_of_odd_statements_reads_back_as_the_same_triples(predicate, obj, write, lines):
    triples = [ox.Triple(ox.NamedNode("http://ex/s"), ox.NamedNode(predicate), obj),
               ox.Triple(ox.NamedNode("http://ex/s"), ox.NamedNode("http://schema.org/name"), ox.Literal("s"))]
    back = [ox.Triple(q.subject, q.predicate, q.object) for q in kg_jsonld.read(write(triples), lines=lines)]
    assert sorted(map(str, back)) == sorted(map(str, triples))
