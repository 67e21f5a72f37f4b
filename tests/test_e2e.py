"""End to end: `kg serve` as a real process on 127.0.0.1, spoken to over HTTP by real clients."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from conftest import BASE, LiveServer, free_port, rdflib_read, with_labels
from kg import spliced
from kg.formats import FORMATS
from kg.layout import current

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("iri", ["movie/break-away", "person/leesong-hee-il"])
def test_every_negotiated_form_is_the_releases_graph(live, released, fmt, iri):
    r = requests.get(f"{live.url}/{iri}", headers={"Accept": fmt.media_type}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(fmt.media_type)
    expected = rdflib.Dataset() if fmt.datasets else rdflib.Graph()
    release = rdflib.Dataset()
    release.parse(data=spliced.read_bytes(released / "var" / "current" / "kg.trig"), format="trig")
    subject = BASE + iri
    for s, p, o, g in release.quads():
        if str(s) == subject or str(s).startswith(subject + "#"):
            if fmt.datasets:
                expected.graph(g).add((s, p, o))
            else:
                expected.add((s, p, o))
    served = rdflib_read(r.content, fmt, dataset=fmt.datasets)
    if not fmt.datasets:  # the nodes it points to come named (a dataset form's in its default graph)
        expected = with_labels(expected, rdflib.Graph().parse(data=spliced.read_bytes(released / "var" / "current" / "kg.ttl"), format="turtle"))
    if fmt.datasets:
        def quads(ds: rdflib.Dataset) -> set[tuple[str, ...]]:
            return {(str(s), str(p), o.n3(), str(g)) for s, p, o, g in ds.quads() if g != DATASET_DEFAULT_GRAPH_ID}
        assert quads(expected) and quads(served) == quads(expected)
    else:
        assert len(expected) > 5 and isomorphic(served, expected)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.datasets], ids=lambda f: f.name)
def test_a_dataset_form_holds_the_entitys_statements_in_its_default_graph(live, fmt):
    # clients that read a document's default graph only (Comunica, triple stores) must still get the facts
    path = "movie/break-away"
    as_triples = rdflib.Graph().parse(data=requests.get(f"{live.url}/{path}.nt", timeout=10).content, format="nt")
    served = rdflib.Dataset()
    served.parse(data=requests.get(f"{live.url}/{path}", headers={"Accept": fmt.media_type}, timeout=10).content,
                 format=fmt.rdflib)
    default = served.graph(DATASET_DEFAULT_GRAPH_ID)
    assert len(as_triples) > 5 and isomorphic(default, as_triples)


def test_html_page(live):
    r = requests.get(f"{live.url}/movie/break-away", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200 and "Break Away" in r.text and r.headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(("fmt", "check"), [
    (JSON, lambda res: [b["name"]["value"] for b in res.convert()["results"]["bindings"]] == ["Leesong Hee-il"]),
    (XML, lambda res: "Leesong Hee-il" in res.convert().toxml()),
    (CSV, lambda res: res.convert().decode().splitlines() == ["name", "Leesong Hee-il"]),
])
def test_sparqlwrapper_select(live, fmt, check):
    client = SPARQLWrapper(f"{live.url}/sparql")
    client.setQuery(f"SELECT ?name WHERE {{ <{BASE}movie/break-away> <http://schema.org/director>/<http://schema.org/name> ?name }}")
    client.setReturnFormat(fmt)
    assert check(client.query())


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_construct(live, method):
    client = SPARQLWrapper(f"{live.url}/sparql")
    client.setMethod(method)
    client.setQuery(f"DESCRIBE <{BASE}person/leesong-hee-il>")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")
    assert (rdflib.URIRef(BASE + "person/leesong-hee-il"), rdflib.URIRef("http://schema.org/name"),
            rdflib.Literal("Leesong Hee-il")) in graph


def test_concurrent_clients(live):
    errors: list[str] = []

    def hit() -> None:
        for _ in range(20):
            r = requests.get(f"{live.url}/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                             headers={"Accept": "text/csv"}, timeout=10)
            if r.status_code != 200:
                errors.append(str(r.status_code))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _until(path, text: str, after: int = 0, seconds: float = 60) -> int:
    """Wait until the file holds `text` past offset `after`; the offset just past it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = path.read_text(encoding="utf-8").find(text, after)
        if found >= 0:
            return found + len(text)
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in {path.read_text(encoding='utf-8')[after:]}")


def test_build_watch_publishes_each_change_and_keeps_the_release_on_a_bad_one(project, tmp_path, write):
    log = tmp_path / "watch.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(project), "build", "--watch"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        at = _until(log, "watching data/")
        first = current(project / "var")
        write(project, "late.yaml", "movies:\n  late-addition:\n    name: Late Addition\n")
        at = _until(log, "watching data/", _until(log, "published release", at))
        second = current(project / "var")
        assert second != first and "Late Addition" in spliced.read_bytes(second / "kg.ttl").decode("utf-8")
        write(project, "late.yaml", "movies:\n  late-addition:\n    nmae: Late Addition\n")
        at = _until(log, "the release being served stays", _until(log, "nothing was published", at))
        assert current(project / "var") == second and proc.poll() is None
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        assert "stopped watching" in log.read_text(encoding="utf-8")[at:]
    finally:
        proc.kill()
        proc.wait()


def test_new_release_is_picked_up_without_restart(project, run_kg, write):
    assert run_kg(project, "build")[0] == 0
    server = LiveServer(project, free_port())
    try:
        url = f"{server.url}/movie/late-addition"
        assert requests.get(url, headers={"Accept": "text/turtle"}, timeout=10).status_code == 404
        write(project, "late.yaml", "movies:\n  late-addition:\n    name: Late Addition\n")
        assert run_kg(project, "build")[0] == 0
        r = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
        assert r.status_code == 200 and "Late Addition" in r.text
    finally:
        server.stop()


def test_serve_without_a_release_says_so(empty_project, run_kg):
    code, output = run_kg(empty_project, "serve", "--port", str(free_port()))
    assert code == 2 and "kg build" in output
