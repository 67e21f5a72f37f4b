"""Validation by shard: the report of shards checked apart is the report of the whole graph checked at once."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import REPO, SHARED
from kg.build.checks import batches, validate_shards
from kg.build.mapping import Mapped
from kg.build.shacl import sparql_local
from kg.build.shards import Plan, Segment
from kg.build.sources import read_sources, source_files
from kg.build.statements import Statements, load
from kg.build.validate import Report, load_shapes, validate_graph
from kg.config import load_config
from kg.ids import Minter

# Errors whose checks reach other nodes: with several shards, most of these nodes land in different shards.
PLANTED = """\
@prefix schema: <http://schema.org/> .
@prefix m: <https://films.example.org/movie/> .
@prefix p: <https://films.example.org/person/> .
@prefix o: <https://films.example.org/organization/> .
@prefix r: <https://films.example.org/role/> .

m:planted-class a schema:Movie ; schema:name "Directed by a company" ; schema:director o:finecut .
m:planted-dangling a schema:Movie ; schema:name "Directed by nobody defined" ; schema:director p:nobody-at-all .
m:planted-literal-1 a schema:Movie ; schema:name "Directed by a string" ; schema:director "Somebody" .
m:planted-literal-2 a schema:Movie ; schema:name "Also by a string" ; schema:director "Somebody" .
m:planted-literal-3 a schema:Movie ; schema:name "By the string in English" ; schema:director "Somebody"@en .
m:planted-range a schema:Movie ; schema:name "From a film" ; schema:countryOfOrigin m:planted-class .
m:planted-tag a schema:Movie ; schema:name "Bad tag"@abcde .
m:planted-class-name a schema:NoSuchClass ; schema:name "Of no class" .
m:planted-role a schema:Movie ; schema:name "Cast by a role of its own" ; schema:actor r:planted-role-1 .
r:planted-role-1 a schema:PerformanceRole ; schema:actor p:leesong-hee-il ; schema:characterName "Pointed to" .
r:planted-role-2 a schema:PerformanceRole ; schema:actor p:leesong-hee-il ; schema:characterName "Pointed at by none" .
p:planted-nameless a schema:Person .
"""


def reports(root: Path, shards: int, work: Path, task: int = 7) -> tuple[Report, Report]:
    """The report of the project's graph checked in `shards` shards (two workers), and checked whole."""
    config = load_config(root)
    shapes = load_shapes(config.shapes_path)
    sources = read_sources(config.data_path, source_files(config.data_path), config.root, config.base_iri,
                           config.readable)
    work.mkdir()
    statements, mapped, plan = Statements(work), Mapped(), Plan(shards, task, 2)
    load(statements, sources, Minter(config.base_iri), mapped, plan)
    whole = ox.Store()
    for segment in statements.segments:
        whole.bulk_load(path=str(segment.path(".nt")), format=ox.RdfFormat.N_TRIPLES)
    whole.bulk_load(b"".join(statements.tail_lines()), format=ox.RdfFormat.N_TRIPLES)
    return (validate_shards(statements, shapes, mapped, plan, config.vocabularies)[0],
            validate_graph(whole, shapes, mapped, config.vocabularies))


@pytest.mark.parametrize("shards", [1, 3, 7])
def test_the_data_checked_by_shard_gives_the_whole_graphs_report(project, shards, tmp_path):
    sharded, whole = reports(project, shards, tmp_path / "work")
    assert whole.findings and sharded.findings == whole.findings
    assert sharded.pyshacl_shapes == whole.pyshacl_shapes


@pytest.mark.parametrize("shards", [5, 16])
def test_planted_errors_checked_by_shard_give_the_whole_graphs_report(project, shards, tmp_path):
    (project / "data" / "planted.ttl").write_text(PLANTED, encoding="utf-8")
    sharded, whole = reports(project, shards, tmp_path / "work")
    assert sharded.findings == whole.findings
    found = {(f.focus.rsplit("/", 1)[-1], f.message) for f in whole.findings}
    words = {focus: " | ".join(m for f, m in found if f == focus) for focus, _ in found}
    assert "Person" in words["planted-class"]  # sh:class: the director's types are in another shard
    assert "not defined anywhere" in words["nobody-at-all"]  # pointed to from another shard
    assert "not defined anywhere" in words["Somebody"]  # a literal reached from two films, reported once ...
    assert sum(1 for f in whole.findings if f.focus == "Somebody" and "not defined" in f.message) == 2  # ... and
    # the same text in English is another literal
    assert "countryOfOrigin" in words["planted-range"]  # schema.org's range, checked on another shard's types
    assert "language tag" in words["planted-tag"]  # a SPARQL constraint, local to its node
    assert "NoSuchClass" in words["planted-class-name"]
    assert "planted-role-1" not in words  # allowed: a film points to the role by schema:actor
    assert "actor" in words["planted-role-2"]  # not allowed: nothing points to it
    assert "name" in words["planted-nameless"]


def test_an_example_checked_by_shard_gives_the_whole_graphs_report(tmp_path):
    """examples/wikipedia's mapping on a decade of its real data (the whole 36,273 films take a minute)."""
    films = SHARED / "films" / "wikipedia-movie-data"
    example = REPO / "examples" / "wikipedia"
    (tmp_path / "data").mkdir()
    (tmp_path / "kg.toml").write_text(f'shapes_dir = "{REPO / "shapes"}"\nread_outside = ["{films}"]\n',
                                      encoding="utf-8")
    mapping = (example / "data" / "wikipedia.mapping.yaml").read_text(encoding="utf-8")
    files = next(line for line in mapping.splitlines() if line.startswith("files:"))
    (tmp_path / "data" / "wikipedia.mapping.yaml").write_text(
        mapping.replace(files, f"files: {films}/movies-2010s.json"), encoding="utf-8")
    sharded, whole = reports(tmp_path, 16, tmp_path / "work", 500)
    assert len(whole.findings) > 1000 and sharded.findings == whole.findings


def test_a_sparql_constraint_on_its_node_alone_is_local():
    assert sparql_local('SELECT $this ?value WHERE { $this ?p ?value FILTER(isLiteral(?value)) }')
    assert sparql_local('SELECT $this WHERE { $this <http://a> ?v FILTER NOT EXISTS { $this <http://b> ?v } }')


@pytest.mark.parametrize("query", [
    'SELECT $this ?value WHERE { $this <http://a> ?v . ?v <http://b> ?value }',  # follows a reference
    'SELECT $this WHERE { $this <http://a> ?v FILTER NOT EXISTS { ?x <http://b> $this } }',  # what points to it
    'SELECT $this ?value WHERE { $this <http://a>/<http://b> ?value }',  # a path
    'SELECT $this ?value WHERE { { SELECT $this (COUNT(*) AS ?value) WHERE { $this ?p ?o } GROUP BY $this } }',
    'SELECT $this WHERE { GRAPH ?g { $this ?p ?o } }',
    'SELECT $this WHERE { $this ?p',  # unreadable: not proven local
])
def test_a_sparql_constraint_that_looks_further_is_checked_on_the_whole_graph(query):
    assert not sparql_local(query)


def segments(*sizes: int) -> list[Segment]:
    return [Segment(Path(f"seg-{n}"), size, size) for n, size in enumerate(sizes)]


def test_batches_keep_every_process_busy_with_about_the_same_work():
    found = batches(segments(*[56_000] * 16), 2, most=400_000)
    assert len(found) == 4 and all(len(b) == 4 for b in found)
    assert sorted(n for b in found for n in b) == list(range(16))


def test_a_shard_larger_than_a_batch_is_a_batch_of_its_own():
    found = batches(segments(*[1_600_000] * 4), 2, most=400_000)
    assert found == [frozenset({n}) for n in range(4)]


@pytest.mark.parametrize("sizes", [(0,) * 5, (10,), (0, 0, 900_000, 0)])
def test_batches_cover_every_shard_once_and_none_is_empty(sizes):
    found = batches(segments(*sizes), 2, most=400_000)
    assert all(found) and sorted(n for b in found for n in b) == list(range(len(sizes)))


TWO_COMPONENTS = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<https://films.example.org/shapes#GenreShape> a sh:NodeShape ; sh:targetObjectsOf schema:genre ;
    sh:nodeKind sh:IRI ; sh:minLength 100 ; sh:message "A genre is a long IRI." .
"""


def test_a_literal_failing_two_constraints_of_one_check_is_reported_twice_as_on_the_whole_graph(project, tmp_path):
    (project / "data" / "planted.ttl").write_text(PLANTED + 'm:planted-genre schema:genre "Drama" .\n',
                                                  encoding="utf-8")
    (project / "shapes" / "genre.ttl").write_text(TWO_COMPONENTS, encoding="utf-8")
    sharded, whole = reports(project, 5, tmp_path / "work")
    assert sum(1 for f in whole.findings if f.focus == "Drama" and f.message == "A genre is a long IRI.") == 2
    assert sharded.findings == whole.findings
