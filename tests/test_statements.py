"""A build's statements about itself: entities of their own, unless something else states their subjects."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.build.shards import merge, route
from kg.build.statements import Statements

SHARDS = 3
BASE = "https://films.example.org/"
RELEASE_GRAPH = ox.NamedNode(BASE + "graph/release")
SOURCE = ox.NamedNode(BASE + "source/a")
DATASET, RELEASE = ox.NamedNode(BASE + "dataset"), ox.NamedNode(BASE + "release/abc")
NAME = ox.NamedNode("http://schema.org/name")


def film(n: int) -> ox.Quad:
    return ox.Quad(ox.NamedNode(f"{BASE}movie/m{n}"), NAME, ox.Literal(f"Film {n}"), SOURCE)


def own() -> list[ox.Quad]:
    return [ox.Quad(DATASET, NAME, ox.Literal("Films"), RELEASE_GRAPH),
            ox.Quad(RELEASE, NAME, ox.Literal("release abc"), RELEASE_GRAPH),
            ox.Quad(RELEASE, ox.NamedNode("http://purl.org/dc/terms/isVersionOf"), DATASET, RELEASE_GRAPH)]


def closed(work: Path, segment_quads: list[ox.Quad], tail: list[ox.Quad]) -> Statements:
    """The quads routed into shards and merged, then the tail and the build's own statements added, closed."""
    work.mkdir()
    route(segment_quads, SHARDS, work / "map")
    statements = Statements(work)
    statements.adopt(merge([p] if (p := work / f"map-{n:04d}.nq").exists() else [], work / f"seg-{n:04d}", n, SHARDS)
                     for n in range(SHARDS))
    statements.add(tail)
    statements.add(own(), own=True)
    statements.close()
    return statements


def triples(quads: list[ox.Quad]) -> set[bytes]:
    return {f"{q.triple} .\n".encode() for q in quads}


def subjects(lines: list[bytes]) -> set[str]:
    return {line.split(b" ")[0][1:-1].decode() for line in lines}


def test_the_builds_own_statements_are_apart_from_the_shards(tmp_path):
    statements = closed(tmp_path / "w", [film(n) for n in range(10)], [])
    assert set(statements.own_triples) == triples(own())
    assert statements.tail_triples == []


def test_the_builds_own_statements_are_still_in_the_union_and_the_quads(tmp_path):
    statements = closed(tmp_path / "w", [film(n) for n in range(10)], [])
    assert triples(own()) <= set(statements.whole(".nt").read_bytes().splitlines(keepends=True))
    assert {f"{q} .\n".encode() for q in own()} <= set(statements.whole(".nq").read_bytes().splitlines(keepends=True))


def test_a_subject_a_shard_states_stays_with_its_shard(tmp_path):
    described = ox.Quad(DATASET, ox.NamedNode("http://schema.org/description"), ox.Literal("from data/"), SOURCE)
    statements = closed(tmp_path / "w", [film(1), described], [])
    assert subjects(statements.own_triples) == {RELEASE.value}
    assert subjects(statements.tail_triples) == {DATASET.value}


def test_a_subject_the_tail_states_stays_with_its_shard(tmp_path):
    noted = ox.Quad(RELEASE, ox.NamedNode("http://schema.org/comment"), ox.Literal("a conflict"), SOURCE)
    statements = closed(tmp_path / "w", [film(1)], [noted])
    assert subjects(statements.own_triples) == {DATASET.value}
    assert subjects(statements.tail_triples) == {RELEASE.value}
