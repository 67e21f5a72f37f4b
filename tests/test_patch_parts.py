"""Patching the store part by part: what changed is found in the changed shards alone, and is what comparing the
whole N-Quads dumps finds."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.build.store
from kg.build.gz import concatenate
from kg.build.shards import merge, route
from kg.build.statements import Statements
from kg.build.store import _by_parts, delta, record_parts
from kg.layout import KEPT_DIR, PARTS_FILE

SHARDS = 3
G = "https://films.example.org/source/"


@pytest.fixture(autouse=True)
def any_change_is_patched(monkeypatch):
    """The changes here are large beside these tiny graphs: patch them all the same."""
    monkeypatch.setattr(kg.build.store, "PATCH_LIMIT", 100)


def quad(s: int, p: str, o: str, g: str = "a") -> ox.Quad:
    return ox.Quad(ox.NamedNode(f"https://films.example.org/movie/m{s}"), ox.NamedNode(f"http://schema.org/{p}"),
                   ox.Literal(o), ox.NamedNode(G + g))


def statements_of(work: Path, segment_quads: list[ox.Quad], tail: list[ox.Quad], shards: int = SHARDS) -> Statements:
    """A build's statements: the quads routed into shards and merged, the tail added after them, closed."""
    work.mkdir(parents=True)
    route(segment_quads, shards, work / "map")
    made = [merge([p] if (p := work / f"map-{n:04d}.nq").exists() else [], work / f"seg-{n:04d}", n, shards)
            for n in range(shards)]
    statements = Statements(work)
    statements.adopt(made)
    statements.add(tail)
    statements.close()
    return statements


def release_of(statements: Statements, where: Path) -> Path:
    """A previous release as far as patching reads it: its N-Quads dump and its parts."""
    (where / KEPT_DIR).mkdir(parents=True)
    concatenate(statements.parts(".nq.gz"), where / "kg.nq.gz")
    record_parts(statements, where / KEPT_DIR)
    return where


def lines(quads: list[ox.Quad]) -> set[bytes]:
    return {f"{q} .\n".encode() for q in quads}


def test_parts_record_each_shard_and_the_tail(tmp_path):
    built = statements_of(tmp_path / "a", [quad(n, "name", f"Film {n}") for n in range(20)], [quad(1, "note", "x")])
    parts = json.loads(release_of(built, tmp_path / "release").joinpath(KEPT_DIR, PARTS_FILE).read_text())
    assert parts["shards"] == SHARDS and len(parts["parts"]) == SHARDS + 1
    assert sum(p["quads"] for p in parts["parts"]) == 21
    assert parts["parts"][-1]["quads"] == 1


def test_a_statement_that_moves_from_a_shard_to_the_tail_is_neither_gone_nor_new(tmp_path):
    moving = quad(4, "name", "Film 4")
    rest = [quad(n, "name", f"Film {n}") for n in range(10) if n != 4]
    before = statements_of(tmp_path / "a", [*rest, moving], [quad(0, "note", "old")])
    after = statements_of(tmp_path / "b", rest, [moving, quad(0, "note", "new")])
    gone, new, size, stated = _by_parts(release_of(before, tmp_path / "release"), after)
    assert set(gone) == lines([quad(0, "note", "old")]) and set(new) == lines([quad(0, "note", "new")])
    assert size == 11 and stated == set()


def test_a_statement_that_moves_from_the_tail_to_a_shard_is_neither_gone_nor_new(tmp_path):
    moving = quad(7, "name", "Film 7")
    rest = [quad(n, "name", f"Film {n}") for n in range(10) if n != 7]
    before = statements_of(tmp_path / "a", rest, [moving])
    after = statements_of(tmp_path / "b", [*rest, moving], [])
    gone, new, _, _ = _by_parts(release_of(before, tmp_path / "release"), after)
    assert gone == [] and new == []


def test_a_triple_another_graph_still_states_is_stated(tmp_path):
    both = [quad(2, "name", "Film 2", "a"), quad(2, "name", "Film 2", "b")]
    before = statements_of(tmp_path / "a", both, [])
    after = statements_of(tmp_path / "b", both[1:], [])
    gone, new, _, stated = _by_parts(release_of(before, tmp_path / "release"), after)
    assert set(gone) == lines(both[:1]) and new == []
    assert stated == {f"{both[0]}".rsplit(" <", 1)[0].encode()}


def test_another_number_of_shards_is_not_compared_part_by_part(tmp_path):
    made = [quad(n, "name", f"Film {n}") for n in range(10)]
    before = statements_of(tmp_path / "a", made, [], shards=SHARDS)
    after = statements_of(tmp_path / "b", made, [], shards=SHARDS + 1)
    assert _by_parts(release_of(before, tmp_path / "release"), after) is None


def test_a_release_without_its_parts_is_not_compared_part_by_part(tmp_path):
    made = [quad(n, "name", f"Film {n}") for n in range(10)]
    release = release_of(statements_of(tmp_path / "a", made, []), tmp_path / "release")
    (release / KEPT_DIR / PARTS_FILE).unlink()
    assert _by_parts(release, statements_of(tmp_path / "b", made, [])) is None


def test_more_changed_than_a_patch_is_worth_is_told(tmp_path, monkeypatch):
    monkeypatch.setattr(kg.build.store, "PATCH_LIMIT", 0.25)
    before = statements_of(tmp_path / "a", [quad(n, "name", f"Film {n}") for n in range(10)], [])
    after = statements_of(tmp_path / "b", [quad(n, "name", f"Film {n}!") for n in range(10)], [])
    with pytest.raises(kg.build.store._TooMany):
        _by_parts(release_of(before, tmp_path / "release"), after)


@pytest.mark.parametrize("held", [kg.build.store.HELD_PARTS, 0], ids=["parts-held", "parts-read-again"])
@pytest.mark.parametrize("seed", range(6))
def test_part_by_part_finds_what_comparing_the_whole_dumps_finds(tmp_path, seed, held, monkeypatch):
    monkeypatch.setattr(kg.build.store, "HELD_PARTS", held)
    rng = random.Random(seed)
    pool = [quad(rng.randrange(40), rng.choice(["name", "genre"]), f"v{rng.randrange(30)}", rng.choice("abc"))
            for _ in range(300)]
    old_segment, old_tail = rng.sample(pool, 120), rng.sample(pool, 8)
    new_segment = [q for q in old_segment if rng.random() > 0.05] + rng.sample(pool, 6)  # some gone, some new
    new_tail = [q for q in old_tail if rng.random() > 0.3] + rng.sample(pool, 4)  # the tail changes each build
    before = statements_of(tmp_path / "a", old_segment, old_tail)
    after = statements_of(tmp_path / "b", new_segment, new_tail)
    release = release_of(before, tmp_path / "release")
    gone, new, _, stated = _by_parts(release, after)
    whole_gone, whole_new, _ = delta(release / "kg.nq.gz", after.whole(".nq"))
    assert (set(gone), set(new)) == (set(whole_gone), set(whole_new))
    still = {line.rsplit(b" <", 1)[0] for line in after.whole(".nq").read_bytes().splitlines()}
    assert stated == {t for line in gone if (t := line.rsplit(b" <", 1)[0]) in still}
