"""The W3C SPARQL 1.1 test suites (protocol, service description, JSON/CSV/TSV results) against `kg serve`, on the
embedded store and on Oxigraph server behind it (the same answers, the same deviations).

The suites' data files are published by kg as RDF sources, in a project built here: each protocol data file
as N-Quads in the named graph the manifest gives it, each result-format data file as N-Quads in a graph of
its own, which the result-format queries then name with `default-graph-uri`. Documented deviations:
- the endpoint is read-only, so the update tests that expect success are checked to be refused (403);
- kg publishes a blank node as a Skolem IRI (`<base>.well-known/genid/...`, RDF 1.1 section 3.5), so where
  the expected results hold a blank node, the answer holds one of those IRIs;
- literals are kept in Oxigraph's canonical forms, so csv03/tsv03 (1.0E6 as a double, -3 as a
  negativeInteger) are expected failures.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.collection import Collection
from rdflib.namespace import RDF

from conftest import SHARED, LiveServer, OxigraphServer, Virtuoso, free_port
from kg.cli import cli

W3C = SHARED / "w3c-sparql11"
BASE = "https://films.example.org/"
GENID = BASE + ".well-known/genid/"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
RDFS = rdflib.RDFS
# the result-format suites' data files, each published in a graph of its own
RESULT_DATA = {("json-res", "data.ttl"): "http://example.org/w3c/json-res",
               ("csv-tsv-res", "data.ttl"): "http://example.org/w3c/csv-tsv-res",
               ("csv-tsv-res", "data2.ttl"): "http://example.org/w3c/csv-tsv-res-2"}


def _manifest(suite: str) -> tuple[rdflib.Graph, list[rdflib.term.Node]]:
    path = W3C / suite / "manifest.ttl"
    g = rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    return g, list(Collection(g, g.value(manifest, MF.entries)))


# Virtuoso is not among them: it answers the suites' "1.0E6"^^xsd:double as "1e+06", so kg refuses to publish
# their data into it (tests/test_virtuoso.py shows the refusal)
STORES = ["embedded", "oxigraph"]


@pytest.fixture(scope="module", params=STORES)
def w3c(request, tmp_path_factory, run_kg_in):
    """A kg project holding the suites' data, built and served: from the embedded store, and published into each
    remote engine (two slots each, started here)."""
    root = tmp_path_factory.mktemp("w3c")
    data = root / "data"
    data.mkdir()
    g, _ = _manifest("protocol")
    graphs = {str(g.value(o, UT.graph)).rsplit("/", 1)[-1]: str(g.value(o, RDFS.label))
              for o in g.objects(None, UT.graphData)}
    for name, graph in graphs.items():
        quads = (W3C / "protocol" / name).read_text(encoding="utf-8").replace(" .\n", f" <{graph}> .\n")
        (data / f"w3c-protocol-{Path(name).stem}.nq").write_text(quads, encoding="utf-8")
    for (suite, name), graph in RESULT_DATA.items():
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                 for t in ox.parse(path=str(W3C / suite / name), format=ox.RdfFormat.TURTLE)]
        ox.serialize(quads, str(data / f"w3c-{graph.rsplit('/', 1)[-1]}.nq"), format=ox.RdfFormat.N_QUADS)
    settings = 'vocabularies = ["http://example.org/", "http://xmlns.com/foaf/0.1/"]\n'
    store = request.param
    engines: list[OxigraphServer | Virtuoso] = []
    env = {"KG_ENGINE_USER": "dba", "KG_ENGINE_PASSWORD": "dba"} if store == "virtuoso" else {}
    if store != "embedded":
        kind = OxigraphServer if store == "oxigraph" else Virtuoso
        engines = [kind(root / f"{store}-{n}") for n in range(2)]
        settings += f'store = "{store}"\nslots = ["{engines[0].url}", "{engines[1].url}"]\n'
    (root / "kg.toml").write_text(settings)
    shutil.copytree(Path(__file__).resolve().parent.parent / "shapes", root / "shapes")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        built = run_kg_in(root, "build")
    try:
        assert built.exit_code == 0, built.output
        port = free_port()  # served here rather than at its base IRI: the service description names this endpoint
        server = LiveServer(root, port, {"KG_PUBLIC_URL": f"http://127.0.0.1:{port}/", **env})
        yield server
        server.stop()
    finally:
        for engine in engines:
            engine.stop()


@pytest.fixture(scope="module")
def run_kg_in():
    from click.testing import CliRunner

    def run(root: Path, *args: str):
        return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)

    return run


# ---- protocol ----

def _requests(g: rdflib.Graph, test: rdflib.term.Node) -> list[dict]:
    out = []
    for req in Collection(g, g.value(g.value(test, MF.action), HT.requests)):
        body = g.value(req, HT.body)
        headers = {}
        for h in Collection(g, g.value(req, HT.headers)) if g.value(req, HT.headers) else []:
            headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
        resp = g.value(req, HT.resp)
        out.append({
            "method": str(g.value(req, HT.methodName)),
            "path": str(g.value(req, HT.absolutePath)),
            "headers": headers,
            "body": str(g.value(body, CNT.chars)).encode(str(g.value(body, CNT.characterEncoding) or "UTF-8"))
            if body is not None else None,
            "status": {str(s).rsplit("StatusCode", 1)[-1][0] for s in g.objects(resp, MF.expectedStatus)},
            "format": str(g.value(resp, MF.expectedFormat) or ""),
            "boolean": g.value(resp, MF.expectedBoolean),
        })
    return out


def _protocol_cases() -> list:
    g, entries = _manifest("protocol")
    return [pytest.param(_requests(g, t), id=str(t).rsplit("#", 1)[-1]) for t in entries]


def _is_update(step: dict) -> bool:
    return "sparql-update" in step["headers"].get("content-type", "") or (step["body"] or b"").startswith(b"update=")


def _boolean(r: requests.Response) -> bool:
    if "json" in r.headers["Content-Type"]:
        return bool(r.json()["boolean"])
    text = r.text
    assert "<boolean>" in text, text
    return text.split("<boolean>", 1)[1].split("<", 1)[0].strip() == "true"


@pytest.mark.parametrize("steps", _protocol_cases())
def test_protocol(w3c, steps, request):
    store, _, name = request.node.callspec.id.partition("-")  # "<store>-<test>"
    assert store in STORES
    for step in steps:
        path = step["path"].replace("/sparql/", "/sparql", 1)
        r = requests.request(step["method"], w3c.url + path, data=step["body"], headers=step["headers"], timeout=30)
        if name.startswith("update_"):
            if _is_update(step):
                assert r.status_code == 403, r.text  # read-only endpoint: refused, never carried out
            continue  # the queries after an update check its effect, which a read-only endpoint never has
        assert str(r.status_code)[0] in step["status"], (r.status_code, r.text)
        if step["format"] == "boolean":
            answer = _boolean(r)
            assert step["boolean"] is None or answer is bool(step["boolean"].toPython())
        elif step["format"] == "tabular":
            assert "results" in r.json()
        elif step["format"] == "RDF":
            fmt = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
                   "application/ld+json": "json-ld"}[r.headers["Content-Type"].split(";")[0]]
            rdflib.Graph().parse(data=r.text, format=fmt)


def test_protocol_updates_change_nothing(w3c):
    before = requests.get(w3c.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
                          timeout=30).json()
    g, entries = _manifest("protocol")
    for test in entries:
        if str(test).rsplit("#", 1)[-1].startswith("update_"):
            for step in filter(_is_update, _requests(g, test)):
                requests.request(step["method"], w3c.url + step["path"].replace("/sparql/", "/sparql", 1),
                                 data=step["body"], headers=step["headers"], timeout=30)
    after = requests.get(w3c.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
                         timeout=30).json()
    assert after == before


# ---- service description ----

def _description(server: LiveServer) -> rdflib.Graph:
    r = requests.get(server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=r.text, format="turtle")


def test_service_description_tests_are_the_three_we_run():
    g, entries = _manifest("service-description")
    assert sorted(str(t).rsplit("#", 1)[-1] for t in entries) == ["conforms-to-schema", "has-endpoint-triple",
                                                                  "returns-rdf"]


def test_service_description_returns_rdf(w3c):
    assert len(_description(w3c)) > 0


def test_service_description_has_a_matching_endpoint_triple(w3c):
    g = _description(w3c)
    assert (None, SD.endpoint, rdflib.URIRef(w3c.url + "/sparql")) in g


def test_service_description_conforms_to_the_schema(w3c):
    g = _description(w3c)
    services = list(g.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    service = services[0]
    assert SD.SPARQL11Query in set(g.objects(service, SD.supportedLanguage))
    assert set(g.objects(service, SD.resultFormat))
    for p in (SD.endpoint, SD.supportedLanguage, SD.resultFormat, SD.feature, SD.defaultDataset):
        assert all(isinstance(o, rdflib.URIRef | rdflib.BNode) for o in g.objects(service, p))


# ---- result formats ----

def _result_cases(suite: str) -> list:
    g, entries = _manifest(suite)
    cases = []
    for t in entries:
        action = g.value(t, MF.action)
        query = Path(urllib.parse.urlparse(str(g.value(action, QT.query))).path)
        data = Path(urllib.parse.urlparse(str(g.value(action, QT.data))).path).name
        result = Path(urllib.parse.urlparse(str(g.value(t, MF.result))).path)
        cases.append(pytest.param(query, RESULT_DATA[(suite, data)], result, id=str(t).rsplit("#", 1)[-1]))
    return cases


def _ask(server: LiveServer, query: Path, graph: str, accept: str) -> requests.Response:
    r = requests.post(server.url + "/sparql", data={"query": query.read_text(encoding="utf-8"),
                                                    "default-graph-uri": graph},
                      headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200, r.text
    return r


def _term(binding: dict | None) -> tuple | None:
    """A JSON result term, with a Skolem IRI read as the blank node it stands for (labels are arbitrary)."""
    if binding is None:
        return None
    if binding["type"] == "bnode" or (binding["type"] == "uri" and binding["value"].startswith(GENID)):
        return ("bnode",)
    kind = "literal" if binding["type"] == "typed-literal" else binding["type"]
    return (kind, binding["value"], binding.get("datatype"), binding.get("xml:lang"))


@pytest.mark.parametrize(("query", "graph", "result"), _result_cases("json-res"))
def test_json_results(w3c, query, graph, result):
    got = _ask(w3c, query, graph, "application/sparql-results+json").json()
    expected = json.loads(result.read_text(encoding="utf-8"))
    if "boolean" in expected:
        assert got["boolean"] is expected["boolean"]
        return
    assert got["head"]["vars"] == expected["head"]["vars"]
    variables = expected["head"]["vars"]
    assert [[_term(b.get(v)) for v in variables] for b in got["results"]["bindings"]] == [
        [_term(b.get(v)) for v in variables] for b in expected["results"]["bindings"]]


def _cell(text: str, tsv: bool) -> str:
    """A CSV/TSV cell, with any blank node (or Skolem IRI) as one placeholder."""
    if text.startswith("_:") or text.startswith(GENID) or text.startswith("<" + GENID):
        return "_:"
    return text


def _table(text: str, tsv: bool) -> list[list[str]]:
    rows = csv.reader(io.StringIO(text.replace("\r\n", "\n")), delimiter="\t" if tsv else ",",
                      quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL)
    return [[_cell(c, tsv) for c in row] for row in rows if row]


CSV_CASES = [pytest.param(*p.values, id=p.id, marks=pytest.mark.xfail(
    strict=True, reason="Oxigraph keeps literals in its own canonical forms: the xsd:double 1.0E6 comes back as "
                        "1000000 and (TSV) the xsd:negativeInteger -3 as the xsd:integer -3"))
    if p.id in ("csv03", "tsv03") else p for p in _result_cases("csv-tsv-res")]


@pytest.mark.parametrize(("query", "graph", "result"), CSV_CASES)
def test_csv_and_tsv_results(w3c, query, graph, result):
    tsv = result.suffix == ".tsv"
    got = _ask(w3c, query, graph, "text/tab-separated-values" if tsv else "text/csv").text
    assert _table(got, tsv) == _table(result.read_text(encoding="utf-8"), tsv)
