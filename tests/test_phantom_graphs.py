"""A source removed from data/ leaves no empty named graph behind in a store patched by an incremental build.

Oxigraph keeps a named graph once inserted even when all its quads are removed; a patched store that did not
drop it would still list the graph (service description, `GRAPH ?g {}`) and serve it empty (`/store?graph=`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import BASE, REPO, LiveServer, free_port
from kg.build.pipeline import build
from kg.config import load_config
from kg.layout import METADATA, STORE_DIR, current

EXTRA_TTL = """@prefix schema: <http://schema.org/> .
<https://films.example.org/movie/extra-film> a schema:Movie ;
    schema:name "Extra Film" ;
    schema:dateCreated "2001"^^<http://www.w3.org/2001/XMLSchema#gYear> .
"""

# a source document of its own, cited by the claims of one other file and by nothing else
CURATOR_SOURCE = """
  curator-notes:
    type: CreativeWork
    name: The curators' notes
    language: [en]
"""
CURATOR_CLAIMS = """movies:
  extra-film:
    name: Extra Film
    claims:
      curator-notes:
        name: Extra Film
        production_year: 2001
"""


def _add_rdf_file(root: Path) -> str:
    (root / "data" / "extra.ttl").write_text(EXTRA_TTL, encoding="utf-8")
    return BASE + "source/extra"


def _remove_rdf_file(root: Path) -> None:
    (root / "data" / "extra.ttl").unlink()


def _add_yaml_source(root: Path) -> str:
    sources = root / "data" / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8") + CURATOR_SOURCE, encoding="utf-8")
    (root / "data" / "curator-notes.yaml").write_text(CURATOR_CLAIMS, encoding="utf-8")
    return BASE + "source/curator-notes"


def _remove_yaml_source(root: Path) -> None:
    """The source's `sources:` entry and every claim citing it."""
    sources = root / "data" / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8").replace(CURATOR_SOURCE, ""), encoding="utf-8")
    (root / "data" / "curator-notes.yaml").unlink()


REMOVALS: dict[str, tuple[Callable[[Path], str], Callable[[Path], None]]] = {
    "rdf-file": (_add_rdf_file, _remove_rdf_file),
    "yaml-source": (_add_yaml_source, _remove_yaml_source),
}


@dataclass(frozen=True)
class Rebuilt:
    root: Path
    graph: ox.NamedNode  # the graph of the removed source
    before: Path  # the release built with the source
    after: Path  # the release built, incrementally, without it


def _project(root: Path, like: Path = REPO) -> Path:
    """A project with the data and shapes of `like`."""
    shutil.copytree(like / "data", root / "data")
    shutil.copytree(like / "shapes", root / "shapes")
    return root


def _build(root: Path) -> Path:
    result = build(load_config(root))  # incremental, as `kg build` is by default
    assert result.release_dir is not None, [str(f) for f in result.report.findings]
    return result.release_dir


def _graphs(release: Path) -> set[ox.NamedNode | ox.BlankNode]:
    return set(ox.Store.read_only(str(release / STORE_DIR)).named_graphs())


@pytest.fixture(scope="module", params=list(REMOVALS))
def rebuilt(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rebuilt:
    """A project built with an extra source, then rebuilt without it (the previous store patched)."""
    add, remove = REMOVALS[request.param]
    root = _project(tmp_path_factory.mktemp(f"phantom-{request.param}"))
    graph = ox.NamedNode(add(root))
    before = _build(root)
    assert graph in _graphs(before)
    remove(root)
    after = _build(root)
    assert "patched_from" in json.loads((after / METADATA).read_text())["store"]  # the path under test
    return Rebuilt(root, graph, before, after)


@pytest.fixture(scope="module")
def served(rebuilt: Rebuilt) -> Iterator[LiveServer]:
    assert current(rebuilt.root / "var") == rebuilt.after
    server = LiveServer(rebuilt.root, free_port())
    yield server
    server.stop()


def test_the_patched_store_has_no_graph_of_the_removed_source(rebuilt):
    assert rebuilt.graph not in _graphs(rebuilt.after)


def test_the_patched_store_has_the_graphs_a_full_build_has(rebuilt, tmp_path):
    full = _build(_project(tmp_path, like=rebuilt.root))  # the same data, built from scratch
    assert json.loads((full / METADATA).read_text())["store"] == {"loaded": "in full"}
    assert _graphs(rebuilt.after) == _graphs(full)


def test_the_patched_store_reports_the_graph_it_dropped(rebuilt):
    assert json.loads((rebuilt.after / METADATA).read_text())["store"]["removed_graphs"] == 1


def test_the_graph_store_answers_404_for_the_removed_source(served, rebuilt):
    r = requests.get(served.url + "/store", params={"graph": rebuilt.graph.value},
                     headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 404


def test_sparql_does_not_list_the_removed_sources_graph(served, rebuilt):
    r = requests.post(served.url + "/sparql", data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200
    listed = {row["g"]["value"] for row in r.json()["results"]["bindings"]}
    assert BASE + "source/editorial" in listed and rebuilt.graph.value not in listed


def test_the_service_description_does_not_name_the_removed_sources_graph(served, rebuilt):
    r = requests.get(served.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    named = {t.object for t in ox.parse(r.content, format=ox.RdfFormat.TURTLE)
             if t.predicate == ox.NamedNode("http://www.w3.org/ns/sparql-service-description#name")}
    assert ox.NamedNode(BASE + "source/editorial") in named and rebuilt.graph not in named


def test_an_empty_graph_left_by_an_earlier_patch_is_dropped_by_the_next(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    leftover = ox.NamedNode(BASE + "source/long-gone")
    store = ox.Store(str(current(project / "var") / STORE_DIR))  # as a patch before the fix left it
    store.add_graph(leftover)
    store.flush()
    del store
    path = project / "data" / "break-away.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("running_time: 109", "running_time: 110"),
                    encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    release = current(project / "var")
    assert "patched_from" in json.loads((release / METADATA).read_text())["store"]
    assert leftover not in _graphs(release)
