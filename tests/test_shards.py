"""Sharded builds: tiny shards and tasks, so that routing, the worker pool and the merge all run on small data."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import pickle
import tempfile
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.build.pipeline
from conftest import BASE, log_calls
from kg import spliced
from kg.build import checks, dumps, shacl, shards, workers
from kg.build.shards import Plan, merge, shard_of, shard_of_iri
from kg.build.statements import Statements
from kg.layout import ATTENTION_FILE, DUMPS, INDEX_DIR, KEPT_DIR, METADATA, PARTS_FILE, WIRE_DIR, current
from kg.model import Origin, Record
from kg.spliced import PARTS_DIR

SMALL = "task_records = 3\n"  # data/ has a few dozen records: about a dozen mapping tasks


def settings(root: Path, text: str) -> None:
    (root / "kg.toml").write_text(text, encoding="utf-8")


def build(root: Path, run_kg, text: str) -> Path:
    settings(root, text)
    code, output = run_kg(root, "build", "--full")
    assert code == 0, output
    release = current(root / "var")
    assert release is not None
    return release


def lines(path: Path) -> list[bytes]:
    return gzip.decompress(spliced.read_bytes(path)).splitlines()


def test_a_part_goes_to_its_documents_shard():
    doc = b"<https://films.example.org/movie/a> <http://schema.org/name> \"A\" <https://g/> .\n"
    part = b"<https://films.example.org/movie/a#cast-x> <http://schema.org/actor> <https://p/> <https://g/> .\n"
    assert shard_of(doc, 7) == shard_of(part, 7)


def test_documents_spread_over_the_shards():
    found = {shard_of(f"<https://films.example.org/movie/{n}> <p> <o> <g> .\n".encode(), 7) for n in range(200)}
    assert found == set(range(7))


def test_merge_keeps_each_quad_once_and_each_triple_once(tmp_path):
    a, b = tmp_path / "a.nq", tmp_path / "b.nq"
    name = b"<http://schema.org/dateCreated>"
    a.write_bytes(b"<https://x/1> " + name + b" \"One\" <https://g/1> .\n"
                  b"<https://x/1> " + name + b" \"One\" <https://g/2> .\n"
                  b"<https://x/2> <http://schema.org/genre> \"drama\" <https://g/1> .\n")
    b.write_bytes(b"<https://x/1> " + name + b" \"One\" <https://g/2> .\n"
                  b"<https://x/1> " + name + b" \"One\"@en <https://g/1> .\n")
    segment = merge([a, b], tmp_path / "seg")
    quads = segment.path(".nq").read_bytes().splitlines()
    triples = segment.path(".nt").read_bytes().splitlines()
    assert quads == sorted(set(quads)) and len(quads) == segment.quads == 4
    assert triples == [b"<https://x/1> " + name + b" \"One\" .", b"<https://x/1> " + name + b" \"One\"@en .",
                       b"<https://x/2> <http://schema.org/genre> \"drama\" ."] and segment.triples == 3
    assert lines(segment.path(".nq.gz")) == quads and lines(segment.path(".nt.gz")) == triples
    assert segment.graphs == {"<https://g/1>", "<https://g/2>"}
    # dateCreated is single-valued: its quads are the claims conflicts are looked for in; genre is not
    assert segment.path(".claims.nq").read_bytes().count(b"\n") == 3


def test_only_claims_that_sources_or_the_curators_disagree_on_are_kept_for_conflicts(tmp_path):
    created, editorial = b"<http://schema.org/dateCreated>", b"<https://films.example.org/source/editorial>"
    part = tmp_path / "a.nq"
    lines_in = [
        b'<https://x/1> ' + created + b' "2001" <https://g/1> .\n',  # two sources, two values: may be a conflict
        b'<https://x/1> ' + created + b' "2002" <https://g/2> .\n',
        b'<https://x/1> ' + created + b' "2003" ' + editorial + b' .\n',  # the curators' value beside them
        b'<https://x/2> ' + created + b' "2001" <https://g/1> .\n',  # two sources, one value
        b'<https://x/2> ' + created + b' "2001" <https://g/2> .\n',
        b'<https://x/3> ' + created + b' "2001" <https://g/1> .\n',  # one source, and the curators' other value:
        b'<https://x/3> ' + created + b' "2009" ' + editorial + b' .\n',  # it settles what the source says
        b'<https://x/4> ' + created + b' "2001" <https://g/1> .\n',  # one source, and the curators agree
        b'<https://x/4> ' + created + b' "2001" ' + editorial + b' .\n',
    ]
    part.write_bytes(b"".join(sorted(lines_in)))
    segment = merge([part], tmp_path / "seg", editorial=editorial)
    assert segment.path(".claims.nq").read_bytes().splitlines(keepends=True) == sorted(lines_in[:3] + lines_in[5:7])


def test_many_task_files_are_merged_in_passes(tmp_path, monkeypatch):
    lines_in = [f"<https://x/{n % 13}> <http://schema.org/genre> \"g{n % 7}\" <https://g/{n % 3}> .\n".encode()
                for n in range(200)]
    parts = []
    for n in range(9):
        part = tmp_path / f"map-{n}.nq"
        part.write_bytes(b"".join(sorted(set(lines_in[n::9]))))
        parts.append(part)
    whole = merge(parts, tmp_path / "whole")
    monkeypatch.setattr(shards, "FAN_IN", 2)  # nine files, two at a time: four passes
    narrow = merge(parts, tmp_path / "narrow")
    assert narrow.path(".nq").read_bytes() == whole.path(".nq").read_bytes() == b"".join(sorted(set(lines_in)))
    assert narrow.path(".nt").read_bytes() == whole.path(".nt").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if "pass" in p.name) == []  # the passes' files are gone
    assert all(p.exists() for p in parts)


def _written_in(file: str) -> Record:  # a record written in `file`: detailed unless a bulk row
    return Record("movie", "m", (), Origin(file, 1, "m"), detailed=not file.endswith(".csv"))


@pytest.mark.parametrize("files, size, expected", [
    (["c.csv"] * 10, 4, [(0, 4), (4, 8), (8, 10)]),
    ([], 4, [(0, 0)]),
    (["a.yaml", *["c.csv"] * 5, "f.csv", "b.yml", "b.yml", "c.ttl"], 4, [(0, 1), (1, 5), (5, 7), (7, 9), (9, 10)]),
    (["a.yaml"] * 3 + ["b.yaml"] * 3, 4, [(0, 4), (4, 6)]),  # hand-written records of several files pack as bulk ones
])
def test_hand_written_records_are_mapped_by_tasks_of_their_own(files, size, expected):
    assert shards.task_bounds([_written_in(f) for f in files], size) == expected


def test_the_plan_uses_every_core_unless_told():
    assert Plan(workers=0).processes == len(os.sched_getaffinity(0))
    assert Plan(workers=3).processes == 3


@pytest.mark.parametrize("records, expected", [(0, 1), (2_500, 1), (2_501, 16), (40_000, 16), (40_001, 32),
                                               (80_000, 32), (80_001, 64), (150_000, 64), (10_000_000, 64)])
def test_the_shard_count_left_to_the_build_doubles_with_the_records(records, expected):
    assert shards.shards_for(records) == expected


def _shards_of(release: Path) -> int:
    return int(json.loads((release / KEPT_DIR / PARTS_FILE).read_text(encoding="utf-8"))["shards"])


def test_a_project_that_sets_no_shard_count_is_cut_by_its_records(project, run_kg, monkeypatch):
    monkeypatch.setattr(shards, "RECORDS_PER_SHARD", 4)
    monkeypatch.setattr(shards, "MIN_SHARDS", 2)
    records = json.loads((build(project, run_kg, SMALL) / METADATA).read_text(encoding="utf-8"))["counts"]["records"]
    assert 8 < records <= 64 and _shards_of(current(project / "var")) == shards.shards_for(records) > 2


def test_a_shard_count_the_project_sets_is_kept(project, run_kg, monkeypatch):
    monkeypatch.setattr(shards, "RECORDS_PER_SHARD", 4)
    assert _shards_of(build(project, run_kg, SMALL + "shards = 3\n")) == 3


def test_two_workers_build_what_one_builds_byte_for_byte(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    one = build(project, run_kg, SMALL + "shards = 5\nbuild_workers = 1\n")
    two = build(project, run_kg, SMALL + "shards = 5\nbuild_workers = 2\n")
    assert one != two
    for name in [d.filename for d in DUMPS] + ["void.ttl"]:
        assert spliced.read_bytes(one / name) == spliced.read_bytes(two / name), name


def test_the_shard_count_changes_only_the_order_of_the_dumps(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    whole = build(project, run_kg, "shards = 1\n")
    cut = build(project, run_kg, SMALL + "shards = 7\nbuild_workers = 2\n")
    for dump in DUMPS:
        name = dump.filename
        if name.endswith((".nt.gz", ".nq.gz")):
            assert sorted(normal(x, whole) for x in lines(whole / name)) == \
                sorted(normal(x, cut) for x in lines(cut / name)), name
            assert len(lines(cut / name)) == len(set(lines(cut / name)))
        elif name in ("kg.ttl", "kg.trig"):  # a store writes them in the order it was loaded
            assert graph(whole, name) == graph(cut, name)
        elif name == "kg.jsonl":  # by shard, then in IRI order
            assert sorted(normal(spliced.read_bytes(whole / name), whole).splitlines()) == \
                sorted(normal(spliced.read_bytes(cut / name), cut).splitlines())
        elif name == "kg.jsonld":
            objects = [sorted(json.dumps(x) for x in json.loads(normal(spliced.read_bytes(r / name), r))["@graph"])
                       for r in (whole, cut)]
            assert objects[0] == objects[1] and len(objects[0]) > 40
        else:
            pytest.fail(f"a dump this test does not know: {name}")


def normal(text: bytes, root: Path) -> bytes:
    """The text without the release's id and input digest (the shard count is part of what both are made from)."""
    meta = json.loads((root / METADATA).read_text())
    return text.replace(meta["id"].encode(), b"ID").replace(meta["input_digest"].encode(), b"DIGEST")


def graph(root: Path, name: str) -> set[str]:
    fmt = ox.RdfFormat.TRIG if name.endswith(".trig") else ox.RdfFormat.TURTLE
    return {str(t) for t in ox.parse(normal(spliced.read_bytes(root / name), root), format=fmt)}


def test_one_shard_segment_sorted_quads_in_a_shard(project, run_kg):
    release = build(project, run_kg, SMALL + "shards = 3\n")
    quads = lines(release / "kg.nq.gz")
    # three sorted runs (one a shard), then the build's own statements (conflicts, then the release's): each sorted
    runs, run = [], [quads[0]]
    for line in quads[1:]:
        if line < run[-1]:
            runs.append(run)
            run = []
        run.append(line)
    runs.append(run)
    assert 3 <= len(runs) <= 5 and all(r == sorted(r) for r in runs)


def test_sharded_builds_find_the_same_conflicts_and_report(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with (project / "data" / "break-away.yaml").open("a", encoding="utf-8") as f:
        f.write("\n")  # same facts; a second build of each configuration is not skipped as unchanged
    whole = build(project, run_kg, "shards = 1\nbuild_workers = 1\n")
    cut = build(project, run_kg, SMALL + "shards = 7\nbuild_workers = 2\n")
    a, b = (json.loads((r / METADATA).read_text()) for r in (whole, cut))
    assert a["conflicts"] and a["conflicts"] == b["conflicts"]
    assert a["warnings"] == b["warnings"] and a["counts"] == b["counts"]
    assert (whole / "attention.json").read_bytes() == (cut / "attention.json").read_bytes()


def test_a_violation_is_reported_the_same_from_a_sharded_build(project, run_kg, write):
    # a Review with no body violates the shapes but is well-formed input
    write(project, "review.yaml", "sources:\n  bad-review:\n    type: Review\n    name: R\n    item_reviewed: break-away\n")
    reports = []
    for text in ("shards = 1\nbuild_workers = 1\n", SMALL + "shards = 7\nbuild_workers = 2\n"):
        settings(project, text)
        code, output = run_kg(project, "build")
        assert code == 1, output
        reports.append([x for x in output.splitlines() if "Violation" in x or "Warning" in x])
    assert reports[0] == reports[1] and any("review.yaml" in x and "Violation" in x for x in reports[0])


def test_the_build_leaves_no_shard_files_in_the_release(project, run_kg):
    release = build(project, run_kg, SMALL + "shards = 4\n")
    assert not list(release.rglob("seg-*")) and not list(release.rglob("map-*")) and not (release / ".statements").exists()


@pytest.mark.parametrize("setting, value", [("shards", -1), ("task_records", 0), ("build_workers", -1)])
def test_shard_settings_out_of_range_are_refused(project, run_kg, setting, value):
    settings(project, f"{setting} = {value}\n")
    code, output = run_kg(project, "build")
    assert code == 2 and setting in output


def test_an_edit_built_on_the_previous_release_is_byte_identical_to_a_full_build(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(project, run_kg, SMALL + "shards = 5\n")
    path = project / "data" / "other-films.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n", 1),
                    encoding="utf-8")
    code, output = run_kg(project, "build")  # on the previous release: its store patched
    assert code == 0 and "patched" in output, output
    edited = current(project / "var")
    full = build(project, run_kg, SMALL + "shards = 5\n")
    assert edited != full
    for name in published(full):
        assert spliced.read_bytes(edited / name) == spliced.read_bytes(full / name), name
    stores = [{str(q) for q in ox.Store.read_only(str(r / "store"))} for r in (edited, full)]
    assert stores[0] == stores[1] and any("No Regrets" in q for q in stores[0])


def published(release: Path) -> list[str]:
    """The release's files an edit must leave as a full build writes them: the dumps, their gzipped copies for the
    wire, VoID and the index files."""
    index = sorted(str(p.relative_to(release)) for p in (release / INDEX_DIR).iterdir())
    wire = [f"{WIRE_DIR}/{d.filename}.gz" for d in DUMPS if not d.gzipped]
    assert len(index) > 10 and all(spliced.exists(release / name) for name in wire)
    return [d.filename for d in DUMPS] + ["void.ttl"] + index + wire


def assert_as_full(project: Path, run_kg, text: str, edited: Path) -> None:
    """The edited release's dumps, VoID and index files are a full build's of the same data, byte for byte."""
    full = build(project, run_kg, text)
    for name in published(full):
        assert spliced.read_bytes(edited / name) == spliced.read_bytes(full / name), name


def kept(release: Path) -> dict[str, int]:
    """The release's kept validation findings: file name -> inode (a file read back from the previous release is
    a link to it)."""
    return {p.name: p.stat().st_ino for p in (release / KEPT_DIR).glob("checks-*")}


def test_an_edit_checks_again_only_the_shards_it_touches(project, run_kg, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\nbuild_workers = 2\n"  # two batches of four shards
    before = kept(build(project, run_kg, text))
    log = tmp_path / "checked"
    real = checks._check

    def counted(segments, shards):
        with log.open("a") as f:
            f.write("".join(f"{n}\n" for n in shards))
        return real(segments, shards)

    monkeypatch.setattr(checks, "_check", counted)
    path = project / "data" / "other-films.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n", 1),
                    encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    edited = current(project / "var")
    after = kept(edited)
    checked = {int(n) for n in log.read_text().split()}
    assert len(before) == len(after) == 8
    film = next(line.split(b" ")[0][1:-1] for line in lines(edited / "kg.nt.gz")
                if b'<http://schema.org/name> "No Regrets"' in line)
    assert shard_of_iri(film, 8) in checked and len(checked) < 4, checked
    # every other shard's findings read back, not written
    assert sum(1 for name, inode in after.items() if before.get(name) == inode) == 8 - len(checked)
    full = build(project, run_kg, text)
    for name in (METADATA, ATTENTION_FILE):  # the same findings, located in the same places
        assert json.loads((edited / name).read_text()).get("warnings") == json.loads((full / name).read_text()).get(
            "warnings")
    assert (edited / ATTENTION_FILE).read_bytes() == (full / ATTENTION_FILE).read_bytes()


_TYPED = """\
@prefix schema: <http://schema.org/> .
<{film}> a schema:Movie ; schema:name "Typed elsewhere" ; schema:director <{person}> .
<{person}> a schema:{kind} ; schema:name "Who directed it" .
"""


def test_a_shard_is_checked_again_when_a_node_it_points_to_elsewhere_changes_type(project, run_kg, tmp_path):
    film = f"{BASE}movie/typed-elsewhere"
    person = next(iri for n in range(100) if shard_of_iri((iri := f"{BASE}person/typed-{n}").encode(), 8)
                  != shard_of_iri(film.encode(), 8))
    planted = project / "data" / "typed.ttl"
    planted.write_text(_TYPED.format(film=film, person=person, kind="Person"), encoding="utf-8")
    build(project, run_kg, SMALL + "shards = 8\n")
    planted.write_text(_TYPED.format(film=film, person=person, kind="Organization"), encoding="utf-8")
    code, output = run_kg(project, "build")  # the film's shard is as it was: only the type it reaches changed
    assert code == 1 and "typed-elsewhere" in output and "must point to a Person" in output, output


def test_findings_read_back_are_located_where_their_rows_are_now(empty_project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = empty_project / "data"
    rows = [f"tt{n:07d},Film {n},{1950 + n % 60}\n" for n in range(1, 60)]
    data.joinpath("films.csv").write_text("id,title,year\n" + "".join(rows), encoding="utf-8")
    data.joinpath("films.mapping.yaml").write_text(
        "source: {key: films, name: Films, type: CreativeWork}\nfiles: films.csv\nrecord: movie\nkey: {id: id}\n"
        "fields: {name: title, production_year: year}\n", encoding="utf-8")
    text = "shards = 8\nbuild_workers = 2\n"
    first = kept(build(empty_project, run_kg, text))
    # a new film on the first row: every other film's row is one line further down, its findings unchanged
    data.joinpath("films.csv").write_text("id,title,year\ntt0009999,Film New,1999\n" + "".join(rows),
                                          encoding="utf-8")
    assert run_kg(empty_project, "build")[0] == 0
    edited = current(empty_project / "var")
    assert set(first.items()) & set(kept(edited).items())  # a batch was read back
    warnings = json.loads((edited / METADATA).read_text())["warnings"]
    assert any("data/films.csv:3 [tt0000001]" in w for w in warnings), warnings[:3]  # was line 2
    full = build(empty_project, run_kg, text)
    assert warnings == json.loads((full / METADATA).read_text())["warnings"]
    assert (edited / ATTENTION_FILE).read_bytes() == (full / ATTENTION_FILE).read_bytes()


def test_nothing_is_read_back_once_the_checks_change(project, run_kg):
    before = kept(build(project, run_kg, SMALL + "shards = 5\n"))
    settings(project, SMALL + 'shards = 5\nvocabularies = ["http://xmlns.com/foaf/0.1/"]\n')
    assert run_kg(project, "build")[0] == 0
    after = kept(current(project / "var"))
    assert after and not set(before.items()) & set(after.items()) and not before.keys() & after.keys()


def test_a_full_build_checks_everything_again(project, run_kg):
    before = kept(build(project, run_kg, SMALL + "shards = 5\n"))
    after = kept(build(project, run_kg, SMALL + "shards = 5\n"))
    assert before.keys() == after.keys() and not set(before.items()) & set(after.items())


def counting_entity_writes(monkeypatch, log: Path) -> None:
    """Each shard piece of the entity dumps written (not read back) adds a line to `log`, from whichever worker
    process writes it (forked workers inherit the patch)."""
    real = dumps.entity_segment

    def counted(*args, **kwargs):
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(dumps, "entity_segment", counted)


def pieces_of(release: Path) -> list:
    """A release's entity pieces, shard by shard, as it kept them."""
    kept = release / KEPT_DIR
    keys = pickle.loads((kept / dumps.ENTITIES_FILE).read_bytes())
    return [pickle.loads((kept / f"piece-{n:04d}-{key}.pickle").read_bytes()) for n, key in enumerate(keys)]


def film_of(release: Path, name: bytes = b"No Regrets") -> str:
    """The IRI of the film of that name."""
    return next(line.split(b" ")[0][1:-1].decode() for line in lines(release / "kg.nt.gz")
                if b'<http://schema.org/name> "' + name + b'"' in line)


def edit_then_build(project: Path, run_kg, old: str, new: str, name: str) -> Path:
    path = project / "data" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 0, output
    return current(project / "var")


def test_only_a_store_loaded_in_full_joins_the_parts_into_whole_files(project, run_kg, monkeypatch):
    build(project, run_kg, SMALL + "shards = 5\n")
    asked: list[str] = []
    real = Statements.whole
    monkeypatch.setattr(Statements, "whole", lambda self, suffix: asked.append(suffix) or real(self, suffix))
    edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert asked == []  # the store was patched from the changed parts
    assert run_kg(project, "build", "--full")[0] == 0
    assert sorted(asked) == [".nq", ".nt"]


@pytest.mark.parametrize("now, changed", [
    ({"a": {"name": ["A"]}, "b": {"name": ["B"]}}, set()),  # as they were
    ({"a": {"name": ["A2"]}, "b": {"name": ["B"]}}, {"a"}),  # renamed
    ({"b": {"name": ["B"]}}, {"a"}),  # gone
    ({"a": {"name": ["A"]}, "b": {"name": ["B"]}, "c": {"name": ["C"]}}, {"c"}),  # has one now
])
@pytest.mark.parametrize("anew", [None, frozenset({"a", "b"})])
def test_the_labels_that_changed_are_those_gained_lost_or_not_the_same(now, changed, anew):
    before = ({"a": {"name": ["A"]}, "b": {"name": ["B"]}}, frozenset())
    assert dumps.changed_labels(before, now, frozenset(), anew) == changed


def test_a_label_the_build_did_not_work_out_anew_is_not_compared():
    before = ({"a": {"name": ["A"]}, "c": {"name": ["C"]}}, frozenset())
    now = {"a": {"name": ["A2"]}, "c": {"name": ["C2"]}}
    assert dumps.changed_labels(before, now, frozenset(), frozenset({"c"})) == {"c"}
    assert dumps.changed_labels(before, now, frozenset(), frozenset({"z"})) == set()


@pytest.mark.parametrize("then, now", [({"r"}, set()), (set(), {"r"}), ({"r"}, {"r"})])
def test_a_label_the_build_itself_gave_then_or_now_is_compared_at_every_build(then, now):
    before = ({"a": {"name": ["A"]}, "r": {"name": ["release 1"]}}, frozenset(then))
    same = {"a": {"name": ["A"]}, "r": {"name": ["release 1"]}}
    other = {"a": {"name": ["A"]}, "r": {"name": ["release 2"]}}
    assert dumps.changed_labels(before, same, frozenset(now), frozenset()) == set()
    assert dumps.changed_labels(before, other, frozenset(now), frozenset()) == {"r"}


@pytest.mark.parametrize("kept", [None, [], ({"a": {}},), "labels"])
def test_labels_the_previous_build_did_not_keep_are_not_known_to_be_the_same(kept):
    assert dumps.changed_labels(kept, {"a": {"name": ["A"]}}, frozenset(), frozenset()) is None


def test_an_edit_writes_again_only_the_entity_pieces_it_touches(project, run_kg, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    before = pieces_of(build(project, run_kg, text))
    log = tmp_path / "written"
    counting_entity_writes(monkeypatch, log)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    written = len(log.read_text().splitlines())
    after = pieces_of(edited)
    film = film_of(edited)
    # written again: the film's shard and the shards naming the film, not those of the release's own statements
    # (its IRI is new on every build), which are entities of their own, written on every build; every other
    # shard's piece is read back
    changed = {n for n, (old, new) in enumerate(zip(before, after, strict=True)) if old.key != new.key}
    naming = {n for n, piece in enumerate(after) if film in piece.asked}
    assert changed == {shard_of_iri(film.encode(), 8)} and naming - changed
    assert written == len(changed | naming) + 1, (written, changed, naming)
    assert_as_full(project, run_kg, text, edited)


def test_a_renamed_person_is_renamed_where_unchanged_films_name_them(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    build(project, run_kg, text)  # the film and the person are in different shards
    assert shard_of_iri(b"https://films.example.org/movie/break-away", 8) != shard_of_iri(
        b"https://films.example.org/person/lee-yeong-hoon", 8)
    edited = edit_then_build(project, run_kg, "name: Lee Yeong-hoon\n", "name: Lee Young-hoon\n", "people.yaml")
    assert b"Lee Young-hoon" in spliced.read_bytes(edited / "kg.jsonld")
    assert_as_full(project, run_kg, text, edited)


def counting_mapped_tasks(monkeypatch, log: Path) -> None:
    """Each mapping task that maps its records (not read back) adds a line to `log`, from its worker process."""
    log_calls(monkeypatch, shards, "record_quads", log, lambda records, *_: str(len(records)))


def test_an_edit_maps_again_only_the_task_whose_records_changed(project, run_kg, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 4\n"
    log = tmp_path / "mapped"
    counting_mapped_tasks(monkeypatch, log)
    first = build(project, run_kg, text)
    tasks = len(log.read_text().splitlines())
    assert tasks > 5
    log.unlink()
    asked: list[tuple[str, int]] = []
    real = shards.parallel
    monkeypatch.setattr(shards, "parallel", lambda fn, n, processes, desc: asked.append((desc, n)) or real(
        fn, n, processes, desc))
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(log.read_text().splitlines()) == 1  # the one film's task; every other task's files linked
    # the tasks and shards read back are linked by the build itself: no worker is started for them
    assert ("map", 1) in asked and all(n < 4 for desc, n in asked if desc == "merge"), asked
    runs = {p.name: p.stat().st_ino for p in (first / KEPT_DIR).glob("mapped-*.nq")}
    again = {p.name: p.stat().st_ino for p in (edited / KEPT_DIR).glob("mapped-*.nq")}
    assert len(set(runs.items()) & set(again.items())) >= len(runs) - 4  # the same files, not copies
    assert_as_full(project, run_kg, text, edited)


def mapped_files(release: Path) -> dict[str, object]:
    """A release's kept mapping files: the lines of each task's files by shard, and each task's origins."""
    return {p.name: pickle.loads(p.read_bytes()) if p.suffix == ".pickle" else p.read_bytes()
            for p in (release / KEPT_DIR).glob("mapped-*")}


def test_a_task_mapped_again_alone_is_split_among_the_processes_as_one_maps_it(project, run_kg, monkeypatch,
                                                                                tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 4\nbuild_workers = 2\n"
    build(project, run_kg, text)
    monkeypatch.setattr(shards, "SPLIT_RECORDS", 2)  # a task of 3 records is split
    log = tmp_path / "mapped"
    counting_mapped_tasks(monkeypatch, log)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert sorted(log.read_text().splitlines()) == ["1", "2"]  # the one task, in two slices
    assert not list((edited / KEPT_DIR).glob("slice-*")) and not list(edited.glob("**/slice-*"))
    full = build(project, run_kg, text)
    assert mapped_files(edited) == mapped_files(full)  # the same files and origins, as a full build's one task
    assert_as_full(project, run_kg, text, edited)


def test_a_kept_mapping_file_gone_means_its_task_is_mapped_again(project, run_kg, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 4\n"
    first = build(project, run_kg, text)
    gone = sorted((first / KEPT_DIR).glob("mapped-*.nq"))[:3]
    for run in gone:
        run.unlink()
    log = tmp_path / "mapped"
    counting_mapped_tasks(monkeypatch, log)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    keys = {run.name.rsplit("-", 1)[0] for run in gone}  # the tasks whose files are gone, and the edited one
    assert len(keys) <= len(log.read_text().splitlines()) <= len(keys) + 1
    assert_as_full(project, run_kg, text, edited)


@pytest.mark.parametrize("task", [3, 1000], ids=["small tasks", "one task for every record"])
def test_an_edit_merges_again_only_the_shards_whose_files_changed(project, run_kg, monkeypatch, tmp_path, task):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = f"task_records = {task}\nshards = 6\n"  # one task: its files of every shard are written again
    first = build(project, run_kg, text)
    log = tmp_path / "merged"
    real = shards.merge

    def counted(parts, stem, shard=0, *args):
        with log.open("a") as f:
            f.write(f"{shard}\n")
        return real(parts, stem, shard, *args)

    monkeypatch.setattr(shards, "merge", counted)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    merged = {int(x) for x in log.read_text().splitlines()}
    film = shard_of_iri(b"https://films.example.org/movie/no-regret", 6)
    assert film in merged and len(merged) < 6, merged  # the film's shard, and any other whose files changed
    before, after = ({(p.name, p.stat().st_ino) for p in (r / KEPT_DIR).glob("merged-*")} for r in (first, edited))
    linked = before & after
    assert len({name.split(".", 1)[0] for name, _ in linked}) == 6 - len(merged)  # the others' files, linked
    assert_as_full(project, run_kg, text, edited)


def test_a_kept_segment_file_gone_means_its_shard_is_merged_again(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 6\n"
    first = build(project, run_kg, text)
    for gone in (first / KEPT_DIR).glob("merged-*.types.nt"):
        gone.unlink()
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(list((edited / KEPT_DIR).glob("merged-*.types.nt"))) == 6  # every shard merged and kept again
    assert_as_full(project, run_kg, text, edited)


def test_a_kept_entity_piece_gone_or_damaged_means_its_shard_is_written_again(project, run_kg, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    first = build(project, run_kg, text)
    kept = sorted((first / KEPT_DIR).glob("piece-*.pickle"))
    assert len(kept) == 8
    kept[0].unlink()
    kept[1].write_bytes(b"not a pickle")
    log = tmp_path / "written"
    counting_entity_writes(monkeypatch, log)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(log.read_text().splitlines()) >= 3  # both shards, and the build's own entities
    assert len(pieces_of(edited)) == 8  # each kept again, readable
    again = {p.name: p.stat().st_ino for p in (edited / KEPT_DIR).glob("piece-*.pickle")}
    assert again.get(kept[1].name) != kept[1].stat().st_ino  # the damaged file is not linked on
    assert_as_full(project, run_kg, text, edited)


@pytest.mark.parametrize("damage", ["gone", "cut short"])
def test_a_previous_piece_file_gone_or_cut_short_means_its_shard_is_written_again(project, run_kg, monkeypatch,
                                                                                 tmp_path, damage):
    """A shard's piece is linked from the previous release's parts/ only when each of its files is there, whole."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    first = build(project, run_kg, text)
    damaged = [p for p in sorted((first / PARTS_DIR).glob("0*.jsonld.z")) if p.stat().st_size]
    assert len(damaged) == 8
    for path in damaged:
        path.unlink() if damage == "gone" else path.write_bytes(path.read_bytes()[:-1])
    log = tmp_path / "written"
    counting_entity_writes(monkeypatch, log)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(log.read_text().splitlines()) == 9  # every shard, and the build's own entities
    assert_as_full(project, run_kg, text, edited)


LONG_GENRES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
@prefix ex: <https://example.org/shapes/> .

ex:ShortGenre a sh:NodeShape ; sh:targetObjectsOf schema:genre ; sh:maxLength 14 ; sh:severity sh:Warning ;
    sh:message "A genre of more than 14 letters." .
"""


def _apart(count: int) -> tuple[str, str]:
    """Two film keys whose films are in different shards."""
    keys = [f"genre-film-{n}" for n in range(20)]
    first = keys[0]
    other = next(k for k in keys if shard_of_iri(f"https://films.example.org/movie/{k}".encode(), count)
                 != shard_of_iri(f"https://films.example.org/movie/{first}".encode(), count))
    return first, other


def test_a_finding_about_a_literal_stays_while_an_unchanged_shard_states_it(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    (project / "shapes" / "genres.ttl").write_text(LONG_GENRES, encoding="utf-8")
    a, b = _apart(8)
    films = "movies:\n" + "".join(f"  {k}:\n    name: Film {k}\n    genre: [melodramatic thriller]\n" for k in (a, b))
    (project / "data" / "genres.yaml").write_text(films, encoding="utf-8")
    first = build(project, run_kg, text)

    def long_genre(release: Path) -> list[str]:
        return [w for w in json.loads((release / METADATA).read_text())["warnings"] if "14 letters" in w]

    assert len(long_genre(first)) == 1  # one literal, one finding, whichever films state it
    edited = edit_then_build(project, run_kg, "    name: Film " + a + "\n    genre: [melodramatic thriller]\n",
                             "    name: Film " + a + "\n", "genres.yaml")
    assert len(long_genre(edited)) == 1  # the other film's unchanged shard still states it
    assert_as_full(project, run_kg, text, edited)
    gone = edit_then_build(project, run_kg, "    genre: [melodramatic thriller]\n", "", "genres.yaml")
    assert long_genre(gone) == []
    assert_as_full(project, run_kg, text, gone)


def runs_of(release: Path) -> dict[int, int]:
    """A release's kept index runs: shard -> the inode of its run file (one read back is a link to the previous
    release's)."""
    return {int(p.name.split("-")[1]): p.stat().st_ino for p in (release / KEPT_DIR).glob("index-*.run")}


def test_an_edit_writes_again_only_the_index_runs_of_the_shards_it_touches(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    first = build(project, run_kg, text)
    before, pieces = runs_of(first), pieces_of(first)
    assert sorted(before) == list(range(8))
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    after = runs_of(edited)
    # written again: the runs of the shards whose statements changed; a shard that only names the edited film
    # writes its piece of the dumps again (`test_an_edit_writes_again_only_the_entity_pieces_it_touches`), not its run
    changed = {n for n, (old, new) in enumerate(zip(pieces, pieces_of(edited), strict=True)) if old.key != new.key}
    relabelled = {n for n, piece in enumerate(pieces_of(edited)) if film_of(edited) in piece.asked}
    assert changed and relabelled - changed and len(changed) < 8
    assert {n for n in after if after[n] != before[n]} == changed  # the others' are the previous release's files
    assert_as_full(project, run_kg, text, edited)


def test_a_build_that_fails_beside_its_index_worker_leaves_no_worker_and_no_release(project, run_kg, monkeypatch,
                                                                                    tmp_path):
    assert run_kg(project, "build")[0] == 0
    before = current(project / "var")
    write = project / "data" / "other-films.yaml"
    write.write_text(write.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n", 1),
                     encoding="utf-8")
    started: list[str] = []
    real = workers.background

    @contextlib.contextmanager
    def watched(fn, processes, desc, **options):
        with real(fn, 2, desc, **options) as result:  # a worker even on one core
            started.append(desc)
            yield result

    def failing(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kg.build.pipeline.background", watched)
    monkeypatch.setattr("kg.build.pipeline.patch", failing)
    own = tmp_path / "tmp"  # a temporary folder of this build's alone: other tests' builds may run meanwhile
    own.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own))
    code, output = run_kg(project, "build")
    assert code == 3 and "No space left on device" in output and "index" in started
    assert current(project / "var") == before
    assert list(own.iterdir()) == []  # the workers' folders are gone with them


def test_an_edit_starts_the_pieces_of_the_shards_it_merged_again_before_those_read_back(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(kg.build.pipeline, "ahead_of", lambda *_: False)  # none made while validating (tested apart)
    text = SMALL + "shards = 8\n"
    pieces = pieces_of(build(project, run_kg, text))
    asked: dict[str, list[int]] = {}
    answered: list[int] = []  # the pieces this process read back itself, without a worker
    real = dumps.parallel

    def watched(fn, tasks, processes, desc, first=(), here=None):
        asked[desc] = sorted(first)

        def counted(n):
            found = here(n)
            answered.extend([n] if found is not None else [])
            return found

        return real(fn, tasks, processes, desc, first, counted)

    monkeypatch.setattr(dumps, "parallel", watched)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    after = pieces_of(edited)
    changed = {n for n, (old, new) in enumerate(zip(pieces, after, strict=True)) if old.key != new.key}
    relabelled = {n for n, piece in enumerate(after) if film_of(edited) in piece.asked}
    assert asked["entities"] and set(asked["entities"]) <= changed  # the edited film's shard, not the 7 others
    assert sorted(answered) == sorted(set(range(8)) - changed - relabelled)  # no worker for those read back
    answered.clear()
    assert run_kg(project, "build", "--full")[0] == 0
    assert asked["entities"] == list(range(8)) and answered == []  # a full build merges every shard



def test_an_edit_compares_the_labels_once_the_pieces_it_merged_again_are_being_made(project, run_kg, monkeypatch,
                                                                                   tmp_path):
    monkeypatch.setattr(kg.build.pipeline, "ahead_of", lambda *_: False)  # none made while validating (tested apart)
    build(project, run_kg, SMALL + "shards = 8\n")
    making: list[list[int]] = []  # the pieces started (before any is read back) when the labels are compared
    at: list[list[int]] = []
    real_parallel, real_changed = dumps.parallel, dumps.changed_labels

    def watched(fn, tasks, processes, desc, first=(), here=None):
        making.append(sorted(first))  # forked first, when the tasks start: before `here` is asked about the others
        yield from real_parallel(fn, tasks, processes, desc, first, here)

    def compared(*args):
        at.append(making[-1] if making else [])
        return real_changed(*args)

    monkeypatch.setattr(dumps, "parallel", watched)
    monkeypatch.setattr(dumps, "changed_labels", compared)
    log = tmp_path / "compared"
    log_calls(monkeypatch, dumps, "changed_labels", log, lambda *_: str(os.getpid()))  # in any process
    edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(at) == 1 and at[0]  # once, with the edited shard's piece being made already
    assert log.read_text().split() == [str(os.getpid())]  # by this process only: no worker works it out again


def test_a_shard_merged_again_to_the_same_statements_has_the_labels_compared_by_the_build_alone(project, run_kg,
                                                                                                  monkeypatch, tmp_path):
    monkeypatch.setattr(kg.build.pipeline, "ahead_of", lambda *_: False)
    build(project, run_kg, SMALL + "shards = 8\n")
    before = pieces_of(current(project / "var"))
    log = tmp_path / "compared"
    log_calls(monkeypatch, dumps, "changed_labels", log, lambda *_: str(os.getpid()))
    # a film added first: the lines of the others move, so their shards are merged again, most to the same statements
    edited = edit_then_build(project, run_kg, "movies:\n", "movies:\n  a-new-film:\n    name: A New Film\n"
                             "    claims:\n      finecut-press-kit:\n        name: A New Film\n", "other-films.yaml")
    after = pieces_of(edited)
    assert any(old.key == new.key for old, new in zip(before, after, strict=True))
    assert log.read_text().split() == [str(os.getpid())]  # once, by this process: no worker works it out again

def _taken_ahead(monkeypatch) -> list[tuple[int, int]]:
    """(pieces made ahead, pieces taken) at each build."""
    seen: list[tuple[int, int]] = []
    real = dumps._taken

    def counted(job, ahead):
        taken = real(job, ahead)
        seen.append((len(ahead), len(taken)))
        return taken

    monkeypatch.setattr(dumps, "_taken", counted)
    return seen


def _stray_pieces(release: Path) -> set[str]:
    """Files of pieces in the release's parts/ and kept/ that none of its shards' pieces is."""
    stems = {piece.stem for piece in pieces_of(release)}
    kept_names = {f"{kind}-{n:04d}-{piece.key}.{ext}" for n, piece in enumerate(pieces_of(release))
                  for kind, ext in (("piece", "pickle"), ("index", "run"))}
    glue = {"release", "wire", "lines"}  # the spliced dumps' own bytes; lines-*: the segments the line dumps are
    parts = {p.name for p in (release / PARTS_DIR).iterdir()
             if p.name.split(".", 1)[0] not in stems | glue and not p.name.startswith("lines-")}
    return parts | {p.name for p in (release / KEPT_DIR).glob("piece-*")} - kept_names | \
        {p.name for p in (release / KEPT_DIR).glob("index-*")} - kept_names


def test_an_edit_takes_the_pieces_it_made_while_validating(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 5\nbuild_workers = 2\n"
    build(project, run_kg, text)
    seen = _taken_ahead(monkeypatch)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(seen) == 1 and seen[0][0] >= 1 and seen[0][1] == seen[0][0]  # made ahead, and every one taken
    assert _stray_pieces(edited) == set()
    assert_as_full(project, run_kg, text, edited)


def test_a_piece_made_ahead_naming_a_node_labelled_otherwise_now_is_made_again(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 5\nbuild_workers = 2\n"
    build(project, run_kg, text)
    seen = _taken_ahead(monkeypatch)
    real = dumps.previous_object

    def forgotten(kept, name):  # the previous build's labels, as if every one had been another
        found = real(kept, name)
        if name == dumps.LABELS_FILE and found is not None:
            return {iri: {"@id": iri, "name": "someone else"} for iri in found[0]}, found[1]
        return found

    monkeypatch.setattr(dumps, "previous_object", forgotten)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert len(seen) == 1 and seen[0][0] >= 1 and seen[0][1] == 0  # made ahead, and none taken
    assert _stray_pieces(edited) == set()
    monkeypatch.setattr(dumps, "previous_object", real)
    assert_as_full(project, run_kg, text, edited)

def test_an_edit_exchanges_again_only_the_types_of_shards_whose_statements_or_pointers_changed(project, run_kg,
                                                                                                 monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    first = build(project, run_kg, text)
    before = {p.name: p.stat().st_ino for p in (first / KEPT_DIR).glob("give-*")}
    assert len(before) == 16  # each shard's types given to the others, and where each block of them is
    log = tmp_path / "exchanged"
    real = checks.exchange

    def counted(segments, n):  # in whichever worker process exchanges the shard's types
        with log.open("a") as f:
            f.write(f"{n}\n")
        return real(segments, n)

    monkeypatch.setattr(checks, "exchange", counted)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    exchanged = log.read_text().split()
    after = {p.name: p.stat().st_ino for p in (edited / KEPT_DIR).glob("give-*")}
    linked = {name for name, inode in after.items() if before.get(name) == inode}
    assert len(after) == 16 and len(linked) == 16 - 2 * len(exchanged) and 0 < len(exchanged) < 8
    assert_as_full(project, run_kg, text, edited)


def test_an_edit_writes_no_unchanged_shards_piece_of_the_dumps_again(project, run_kg, monkeypatch):
    """The dumps are spliced from the shards' pieces (kg.spliced): an unchanged shard's piece files are the previous
    release's (links), and the dumps themselves are lists of ranges, never joined into files."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 8\n"
    first = build(project, run_kg, text)
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    before = {p.name: p.stat().st_ino for p in (first / PARTS_DIR).glob("0*")}
    after = {p.name: p.stat().st_ino for p in (edited / PARTS_DIR).glob("0*")}
    written = {name for name, inode in after.items() if before.get(name) != inode}
    rewritten = {int(name[:4]) for name in written}
    changed = {n for n, (old, new) in enumerate(zip(pieces_of(first), pieces_of(edited), strict=True))
               if old.key != new.key or film_of(edited) in new.asked}  # the film's shard, and those naming it
    assert len(after) == 8 * 8 and rewritten == changed and 0 < len(changed) < 8
    for name in ("kg.ttl", "kg.jsonld", "kg.jsonl", "kg.trig"):
        assert not (edited / name).exists() and (edited / (name + spliced.SUFFIX)).is_file()
    assert_as_full(project, run_kg, text, edited)


def test_an_edit_reads_the_compiled_shapes_back_and_they_are_what_compiling_gives(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = SMALL + "shards = 5\n"
    build(project, run_kg, text)
    compiled: list[object] = []
    real = shacl.Compiler.plan
    monkeypatch.setattr(shacl.Compiler, "plan", lambda self: compiled.append(self) or real(self))
    edited = edit_then_build(project, run_kg, "name: No Regret\n", "name: No Regrets\n", "other-films.yaml")
    assert compiled == []  # the same shapes, the same classes declared: read back
    plans = [p.name for p in (edited / KEPT_DIR).glob("plan-*.pickle")]
    full = build(project, run_kg, text)
    assert len(compiled) == 1 and len(plans) == 1
    assert pickle.loads((edited / KEPT_DIR / plans[0]).read_bytes()) == \
        pickle.loads((full / KEPT_DIR / plans[0]).read_bytes())
    assert_as_full(project, run_kg, text, edited)
    assert (edited / "attention.json").read_bytes() == (full / "attention.json").read_bytes()
