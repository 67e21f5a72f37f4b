"""Publishing into Virtuoso Open Source 7 (Debian's virtuoso-opensource, real instances on 127.0.0.1): the release
loads through Virtuoso's Graph Store endpoint (digest authentication, credentials from the environment), every
query names its dataset (the union graph and the release's graphs, never Virtuoso's system graphs), a timed-out
query's partial 200 becomes a 503, and a literal Virtuoso rewrites stops the switch."""

from __future__ import annotations

import csv
import io
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import BASE, REPO, Virtuoso
from kg.config import load_config
from kg.engines import slot
from kg.formats import FORMATS
from kg.layout import current, metadata


@pytest.fixture(scope="module")
def virtuosos(tmp_path_factory):
    where = tmp_path_factory.mktemp("virtuoso")
    servers = [Virtuoso(where / f"slot-{n}") for n in range(2)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("KG_ENGINE_USER", "dba")  # the fresh instance's administrator, as Debian installs it
    monkeypatch.setenv("KG_ENGINE_PASSWORD", "dba")


# films with titles in two languages, years, release dates, a director, budgets: no running time (see below)
FILMS = textwrap.dedent("""\
    sources:
      catalogue:
        type: WebPage
        name: A festival catalogue
      notes:
        name: Programme notes
    people:
      park:
        name: Park Chan-wook
        claims:
          catalogue: {birth_date: 1963-08-23}
    movies:
      oldboy:
        name: Oldboy
        claims:
          catalogue:
            alternate_name: [{text: 올드보이, lang: ko}]
            director: [park]
            production_year: 2003
            release_date: 2003-11-21
            budget: {amount: 3000000, currency: USD}
            genre: [thriller]
          notes:
            production_year: 2004
      thirst:
        name: Thirst
        claims:
          catalogue: {director: [park], production_year: 2009, alternate_name: [{text: 박쥐, lang: ko}]}
    """)


@pytest.fixture
def films(tmp_path, virtuosos, credentials):
    (tmp_path / "data").mkdir()
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    (tmp_path / "data" / "films.yaml").write_text(FILMS, encoding="utf-8")
    (tmp_path / "kg.toml").write_text(f'store = "virtuoso"\nslots = ["{virtuosos[0].url}", "{virtuosos[1].url}"]\n')
    return tmp_path


def _app(project: Path, **settings):
    from server import create_app

    return create_app(load_config(project, query_workers=1, cache_mb=0, **settings))


def _rows(app, query: str, **params) -> list[list[str]]:
    r = app.test_client().get("/sparql", query_string={"query": query, **params}, headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.data
    return sorted(csv.reader(io.StringIO(r.get_data(as_text=True))))


QUERIES = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",  # no system graph seen
    "SELECT ?name ?ko WHERE { ?f a schema:Movie ; schema:name ?name ; schema:alternateName ?ko FILTER(lang(?ko) = 'ko') }",
    "SELECT ?year ?source WHERE { GRAPH ?source { movie:oldboy schema:dateCreated ?year } }",
    "SELECT ?amount WHERE { movie:oldboy kgv:budget/schema:value ?amount }",
    "SELECT DISTINCT ?type WHERE { ?s a ?type }",
]


def test_a_release_is_published_into_virtuoso_and_verified(films, virtuosos, run_kg):
    code, output = run_kg(films, "build")
    assert code == 0, output
    meta = metadata(current(films / "var"))
    assert meta["engine"]["kind"] == "virtuoso" and meta["engine"]["slot"] == virtuosos[0].url


@pytest.mark.parametrize("query", QUERIES)
def test_virtuoso_answers_as_the_embedded_store_does(films, run_kg, query):
    assert run_kg(films, "build")[0] == 0
    remote_app, embedded_app = _app(films), _app(films, store="embedded", slots=())
    try:
        assert _rows(remote_app, query) == _rows(embedded_app, query)
    finally:
        for app in (remote_app, embedded_app):
            app.extensions["kg.executors"].close()


def test_a_graph_outside_the_release_is_empty_not_a_system_graph(films, run_kg):
    assert run_kg(films, "build")[0] == 0
    app = _app(films)
    try:
        rows = _rows(app, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                     **{"default-graph-uri": "http://www.openlinksw.com/schemas/virtrdf#"})
    finally:
        app.extensions["kg.executors"].close()
    assert rows == [["0"], ["n"]]


def test_a_timed_out_query_is_a_503_not_a_partial_200(films, run_kg):
    assert run_kg(films, "build")[0] == 0
    app = _app(films)
    try:
        r = app.test_client().get("/sparql", query_string={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }",
            "timeout": "1"}, headers={"Accept": "text/csv"})
    finally:
        app.extensions["kg.executors"].close()
    assert r.status_code == 503 and "timed out after 1 s" in r.get_data(as_text=True)


def test_virtuosos_rewritten_durations_stop_the_switch(project, virtuosos, credentials, run_kg):
    # data/ gives running times ("PT1H49M"^^xsd:duration), which Virtuoso 7.2 keeps as seconds (6540.0)
    (project / "kg.toml").write_text(f'store = "virtuoso"\nslots = ["{virtuosos[0].url}", "{virtuosos[1].url}"]\n')
    code, output = run_kg(project, "build")
    assert code == 3 and "XMLSchema#duration" in output and "came back as" in output and "issue #936" in output
    assert current(project / "var") is None  # nothing was published


def test_loading_needs_the_engines_credentials(films, virtuosos, run_kg, monkeypatch):
    monkeypatch.setenv("KG_ENGINE_PASSWORD", "not-the-password")
    code, output = run_kg(films, "build")
    assert code == 3 and "not-the-password" not in output and current(films / "var") is None


def test_queries_reach_virtuoso_form_encoded(films, virtuosos, run_kg):
    # Virtuoso hangs on a direct POST of application/sparql-query; kg always sends the form
    assert run_kg(films, "build")[0] == 0
    answer = slot("virtuoso", virtuosos[0].url).query("ASK { ?s ?p ?o }", "application/sparql-results+json", 10)
    assert answer.status == 200 and b"true" in answer.body
    assert BASE  # the films are minted under the shared base


def test_a_large_graph_loads_in_batches_that_state_their_length(virtuosos, credentials):
    # Virtuoso never answered one POST of a million statements; kg sends batches (here of 7 lines)
    from dataclasses import replace

    from kg.engines import ENGINES, Slot

    target = Slot(replace(ENGINES["virtuoso"], batch_lines=7), virtuosos[1].url)
    graph = f"{BASE}graph/batches"
    lines = b"".join(f'<{BASE}s/{n}> <{BASE}p> "{n}" .\n'.encode() for n in range(20))
    target.load(io.BytesIO(lines), "application/n-triples", graph, 60)
    count = target.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    target.update(f"DROP SILENT GRAPH <{graph}>")
    assert count[0]["n"]["value"] == "20"


def test_virtuosos_rewritten_doubles_stop_the_switch(tmp_path, virtuosos, credentials, run_kg):
    # why the W3C result-format suites run on the embedded store and Oxigraph server only (tests/test_w3c.py)
    (tmp_path / "data").mkdir()
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    (tmp_path / "data" / "numbers.nq").write_text(
        '<http://example.org/s> <http://example.org/p> "1.0E6"^^<http://www.w3.org/2001/XMLSchema#double> '
        '<http://example.org/g> .\n', encoding="utf-8")
    (tmp_path / "kg.toml").write_text(f'vocabularies = ["http://example.org/"]\nstore = "virtuoso"\n'
                                      f'slots = ["{virtuosos[0].url}", "{virtuosos[1].url}"]\n')
    code, output = run_kg(tmp_path, "build")
    assert code == 3 and "XMLSchema#double" in output and 'came back as "1e+06"' in output


def test_entity_pages_from_virtuoso_equal_the_embedded_stores(films, run_kg):
    assert run_kg(films, "build")[0] == 0
    remote_app, embedded_app = _app(films), _app(films, store="embedded", slots=())
    try:
        for path in ("/movie/oldboy", "/movie/oldboy.jsonld", "/movie/oldboy.nq", "/movie/thirst?format=embed",
                     "/person/park", "/source/catalogue", "/movie/?format=json", "/search?q=old&format=json"):
            got = [app.test_client().get(path, headers={"Accept-Language": "ko"}) for app in (embedded_app, remote_app)]
            assert got[0].status_code == 200, path
            assert (got[1].status_code, got[1].data) == (200, got[0].data), path
    finally:
        for app in (remote_app, embedded_app):
            app.extensions["kg.executors"].close()


@pytest.mark.parametrize("accept", ["application/n-triples", "text/turtle", "application/ld+json"])
def test_a_construct_from_virtuoso_equals_the_embedded_stores(films, run_kg, accept):
    assert run_kg(films, "build")[0] == 0
    remote_app, embedded_app = _app(films), _app(films, store="embedded", slots=())
    query = "CONSTRUCT { ?f schema:name ?n ; schema:director ?d } WHERE { ?f schema:name ?n ; schema:director ?d }"
    try:
        got = [app.test_client().get("/sparql", query_string={"query": query}, headers={"Accept": accept})
               for app in (embedded_app, remote_app)]
    finally:
        for app in (remote_app, embedded_app):
            app.extensions["kg.executors"].close()
    assert got[0].status_code == 200 and "Oldboy" in got[0].get_data(as_text=True)
    assert (got[1].status_code, got[1].headers["Content-Type"]) == (200, got[0].headers["Content-Type"])
    fmt = next(f for f in FORMATS if f.media_type == accept)
    assert {str(q) for q in fmt.parse(got[1].data)} == {str(q) for q in fmt.parse(got[0].data)}  # the same graph
