"""Pages served from an engine (Oxigraph server, a real process on 127.0.0.1) by a replica that holds the release's
files but no store of its own: every entity page, document and snippet, the listings, search, downloads and the
Graph Store answer as they do from the embedded store, and a page costs at most two engine round trips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import OxigraphServer
from kg.config import load_config
from kg.engines import Slot
from kg.layout import STORE_DIR, current

FORMS = ("", ".jsonld", ".jsonl", ".ttl", ".nq", "?format=embed")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The project built and published into Oxigraph server; an app on its embedded store, and a replica's app
    (the release directory copied without its store) reading the engine."""
    from click.testing import CliRunner

    from conftest import REPO
    from kg.cli import cli
    from server import create_app

    root = tmp_path_factory.mktemp("engine-pages")
    project = root / "project"
    shutil.copytree(REPO / "data", project / "data")
    shutil.copytree(REPO / "shapes", project / "shapes")
    (project / "data" / "merged.yaml").write_text(  # a record merged into another: its IRI is the other's sameAs
        "movies:\n  volcano-high-2001:\n    name: Volcano High\n"
        "decisions:\n  - merge movie/volcano-high-2001 into movie/volcano-high\n", encoding="utf-8")
    engines = [OxigraphServer(root / f"slot-{n}") for n in range(2)]
    try:
        urls = ", ".join(f'"{s.url}"' for s in engines)
        (project / "kg.toml").write_text(f'store = "oxigraph"\nslots = [{urls}]\n', encoding="utf-8")
        result = CliRunner().invoke(cli, ["--root", str(project), "build"])
        assert result.exit_code == 0, result.output
        replica = root / "replica"
        shutil.copytree(project, replica, symlinks=True, ignore=shutil.ignore_patterns(STORE_DIR))
        release = current(replica / "var")
        assert release is not None and not (release / STORE_DIR).exists()
        apps = {"embedded": create_app(load_config(project, store="embedded", slots=[], query_workers=1,
                                                   cache_mb=0)),
                "engine": create_app(load_config(replica, query_workers=1, cache_mb=0))}
        yield {name: app.test_client() for name, app in apps.items()}
        for app in apps.values():
            app.extensions["kg.executors"].close()
    finally:
        for s in engines:
            s.stop()


def _pages(client) -> list[str]:
    """The entity pages the sitemap lists (not the home page and the listings it leads with)."""
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    paths = (loc.split("</loc>")[0].split("/", 3)[3] for loc in sitemap.split("<loc>")[1:])
    return sorted(p for p in paths if p and not p.endswith("/"))


def test_every_entity_page_document_and_snippet_from_the_engine_equals_the_embedded_stores(served):
    pages = _pages(served["embedded"])
    assert len(pages) > 40 and _pages(served["engine"]) == pages
    different, answered = [], 0
    for page in pages:
        for form in FORMS:
            got = [served[k].get(f"/{page}{form}", headers={"Accept-Language": "ko"}) for k in ("embedded", "engine")]
            answered += got[0].status_code == 200
            if (got[1].status_code, got[1].data) != (got[0].status_code, got[0].data):
                different.append(f"/{page}{form}")
    assert different == []
    assert answered == len(pages) * len(FORMS)


def test_an_entity_document_from_the_engine_names_the_iris_merged_into_it(served):
    merged = "<https://films.example.org/movie/volcano-high-2001> <http://www.w3.org/2002/07/owl#sameAs> " \
             "<https://films.example.org/movie/volcano-high>"
    for name in ("embedded", "engine"):
        r = served[name].get("/movie/volcano-high.nq")
        assert r.status_code == 200 and merged in r.get_data(as_text=True), name


SITE = ["/", "/movie/", "/person/?format=json", "/movie/?format=csv&size=3&page=2", "/organization/",
        "/search?q=break", "/search?q=lee&format=json", "/search?q=breka+away&format=json", "/sitemap.xml",
        "/.well-known/void", "/vocab", "/graph/vocabulary", "/source/editorial",
        "/store?default", "/store?graph=https://films.example.org/source/forum-post", "/store",
        "/download/kg.ttl", "/download/kg.nq.gz", "/sparql",
        "/sparql?query=SELECT+(COUNT(*)+AS+?n)+WHERE+{+?s+?p+?o+}",
        "/sparql?query=SELECT+?g+(COUNT(*)+AS+?n)+WHERE+{+GRAPH+?g+{+?s+?p+?o+}+}+GROUP+BY+?g+ORDER+BY+?g"]


@pytest.mark.parametrize("path", SITE)
def test_the_rest_of_the_site_from_the_engine_equals_the_embedded_stores(served, path):
    accept = {"Accept": "application/n-quads"} if path.startswith("/store") else {}
    got = [served[k].get(path, headers=accept) for k in ("embedded", "engine")]
    assert got[0].status_code == 200
    assert (got[1].status_code, got[1].headers["Content-Type"]) == (200, got[0].headers["Content-Type"])
    if path.startswith("/store"):  # the same statements (an engine replica streams them from the dumps)
        assert sorted(got[1].get_data(as_text=True).splitlines()) == sorted(got[0].get_data(as_text=True).splitlines())
    else:
        assert got[1].data == got[0].data


def test_an_entity_page_costs_at_most_two_engine_round_trips(served, monkeypatch):
    asked: list[str] = []
    real = Slot.query

    def counted(self, text, *args, **kwargs):
        asked.append(text)
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Slot, "query", counted)
    for path in ("/movie/break-away", "/person/leesong-hee-il", "/source/finecut-press-kit", "/movie/break-away.jsonld",
                 "/country/south-korea?format=embed"):
        asked.clear()
        assert served["engine"].get(path).status_code == 200
        assert 1 <= len(asked) <= 2, path
    asked.clear()
    assert served["engine"].get("/person/?format=json").status_code == 200  # a listing: its summaries, in two
    assert 1 <= len(asked) <= 2


def test_the_conflicts_about_an_entity_with_more_references_than_a_page_reads_are_found(served, monkeypatch):
    from kg.serve import nearby

    monkeypatch.setattr(nearby, "INCOMING", 2)  # break-away is pointed at more often than that
    for form in (".jsonld", ".nq"):
        got = [served[k].get(f"/movie/break-away{form}") for k in ("embedded", "engine")]
        assert "conflict-dateCreated" in got[0].get_data(as_text=True)
        assert (got[1].status_code, got[1].data) == (200, got[0].data)


@pytest.mark.parametrize("path", ["/movie/no%09such", "/movie/no%0Dsuch", "/movie/no%00such",
                                  "/movie/no%20such.jsonld"])
def test_a_path_no_iri_can_hold_is_a_404_as_on_the_embedded_store(served, path):
    assert [served[k].get(path).status_code for k in ("embedded", "engine")] == [404, 404]


@pytest.mark.parametrize("path", ["/movie/break%09away", "/movie/Break%20Away.jsonld"])
def test_a_name_typed_for_a_key_redirects_as_on_the_embedded_store(served, path):
    got = [served[k].get(path) for k in ("embedded", "engine")]
    assert [r.status_code for r in got] == [302, 302]
    assert got[0].headers["Location"] == got[1].headers["Location"]


def test_the_void_page_names_the_graphs_as_on_the_embedded_store(served):
    got = [served[k].get("/.well-known/void", headers={"Accept": "text/html"}) for k in ("embedded", "engine")]
    assert ">Fine Cut takes two S. Korean films</a>" in got[0].get_data(as_text=True)
    assert got[1].data == got[0].data


@pytest.mark.parametrize("form", ["application/ld+json", "application/jsonl"])
def test_a_graph_from_the_dumps_is_written_one_object_per_entity(served, form):
    import json

    def ids(client) -> list[str]:
        text = client.get("/store?default", headers={"Accept": form}).get_data(as_text=True)
        nodes = json.loads(text)["@graph"] if form == "application/ld+json" else [
            json.loads(line) for line in text.splitlines() if line]
        return [n["@id"] for n in nodes]

    embedded, engine = ids(served["embedded"]), ids(served["engine"])
    assert len(engine) == len(set(engine)) > 40
    assert sorted(engine) == sorted(embedded)


def test_an_engine_that_does_not_answer_makes_pages_a_503_not_a_500(served, tmp_path):
    import json

    from conftest import free_port
    from server import create_app

    replica = Path(served["engine"].application.config["KG"].root)
    dead = tmp_path / "replica"
    shutil.copytree(replica, dead, symlinks=True)
    release = current(dead / "var")
    meta = json.loads((release / "release.json").read_text())
    meta["engine"]["slot"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    (release / "release.json").write_text(json.dumps(meta))
    app = create_app(load_config(dead, query_workers=1, cache_mb=0))
    try:
        for path in ("/movie/break-away", "/person/", "/search?q=break", "/movie/break-away.jsonld"):
            r = app.test_client().get(path)
            assert (r.status_code, r.headers.get("Retry-After")) == (503, "5"), path
    finally:
        app.extensions["kg.executors"].close()


def test_a_kg_serve_process_without_a_store_serves_pages_from_the_engine(served):
    import requests

    from conftest import LiveServer, free_port

    replica = Path(served["engine"].application.config["KG"].root)
    server = LiveServer(replica, free_port())
    try:
        for path, accept in (("/movie/break-away", "text/html"), ("/movie/break-away", "application/ld+json"),
                             ("/person/leesong-hee-il", "text/turtle"), ("/movie/?format=json", "*/*")):
            got = requests.get(server.url + path, headers={"Accept": accept}, timeout=30)
            assert got.status_code == 200, path
            assert got.content == served["embedded"].get(path, headers={"Accept": accept}).data, path
    finally:
        server.stop()


def test_a_release_without_its_name_index_is_searched_on_the_engine(served, tmp_path):
    from server import create_app

    replica = tmp_path / "replica"
    shutil.copytree(Path(served["engine"].application.config["KG"].root), replica, symlinks=True)
    release = current(replica / "var")
    shutil.rmtree(release / "index")  # a release built before kg wrote the index: search asks the engine
    app = create_app(load_config(replica, query_workers=1, cache_mb=0))
    try:
        found = app.test_client().get("/search?q=break&format=json").get_json()
    finally:
        app.extensions["kg.executors"].close()
    assert "https://films.example.org/movie/break-away" in [item["iri"] for item in found["results"]]
