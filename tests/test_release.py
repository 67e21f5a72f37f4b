"""kg build: a validated release written atomically, with dumps, metadata and the Oxigraph store."""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import json
import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.build.publish
from conftest import rdflib_read
from kg import spliced
from kg.build.pipeline import REPORT_FILE
from kg.build.publish import RETIRED
from kg.layout import (
    ATTENTION_FILE,
    DUMPS,
    DUPLICATES_FILE,
    KEPT_DIR,
    METADATA,
    MOVED_FILE,
    PARTS_FILE,
    STORE_DIR,
    WIRE_DIR,
    current,
    finished,
    metadata,
)
from kg.spliced import PARTS_DIR


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _store_quads(release: Path) -> set[str]:
    """The store's named graphs: the statements of each source document."""
    store = ox.Store.read_only(str(release / STORE_DIR))
    return {str(q) for q in store if not isinstance(q.graph_name, ox.DefaultGraph)}


@pytest.fixture
def built(project, run_kg) -> Path:
    code, output = run_kg(project, "build")
    assert code == 0, output
    release = current(project / "var")
    assert release is not None
    return release


def test_build_publishes_every_dump(built):
    assert sorted(p.name for p in built.iterdir()) == sorted(
        [d.filename + spliced.SUFFIX for d in DUMPS] +
        [METADATA, STORE_DIR, "void.ttl", "wire", REPORT_FILE, "index", MOVED_FILE, DUPLICATES_FILE, ATTENTION_FILE,
         KEPT_DIR, spliced.PARTS_DIR])
    assert all(spliced.size(built / d.filename) > 100 for d in DUMPS)
    wire = [built / WIRE_DIR / (d.filename + ".gz") for d in DUMPS if not d.gzipped]
    assert sorted(p.name for p in (built / WIRE_DIR).iterdir()) == sorted(p.name + spliced.SUFFIX for p in wire)
    assert all(gzip.decompress(spliced.read_bytes(p)) == spliced.read_bytes(built / p.name[:-3]) for p in wire)


def test_the_release_counts_every_statement_of_its_named_graphs(built):
    # (the release's own graph too: 14 fewer than kg.nq.gz and SPARQL said, in the second trial)
    assert json.loads((built / METADATA).read_text(encoding="utf-8"))["counts"]["quads"] == len(_store_quads(built))


@pytest.mark.parametrize("dump", DUMPS, ids=[d.filename for d in DUMPS])
def test_each_dump_holds_the_same_graph_as_the_store(dump, built):
    data = spliced.read_bytes(built / dump.filename)
    if dump.gzipped:
        data = gzip.decompress(data)
    parsed = list(dump.format.parse(data))
    store_quads = _store_quads(built)
    if dump.format.datasets:
        assert {str(q) for q in parsed} == store_quads
    else:
        store = ox.Store.read_only(str(built / STORE_DIR))
        triples = {str(ox.Triple(q.subject, q.predicate, q.object))
                   for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
        assert {str(ox.Triple(t.subject, t.predicate, t.object)) for t in parsed} == triples


@pytest.mark.parametrize("dump", DUMPS, ids=[d.filename for d in DUMPS])
def test_each_dump_is_read_by_rdflib_too(dump, built):
    data = spliced.read_bytes(built / dump.filename)
    if dump.gzipped:
        data = gzip.decompress(data)
    if dump.format.datasets:
        parsed = rdflib_read(data, dump.format, dataset=True)
        assert len(list(parsed.quads())) == len(_store_quads(built))
    else:
        graph = rdflib_read(data, dump.format)
        assert len(graph) == json.loads((built / METADATA).read_text())["counts"]["triples"]


def test_failed_build_leaves_previous_release_byte_identical(project, built, run_kg, write):
    before = _tree_digest(project / "var")
    link_before = (project / "var" / "current").readlink()
    write(project, "broken.yaml", "movies:\n  x:\n    name: X\n    director: [nobody]\n")
    code, _ = run_kg(project, "build")
    assert code == 2
    assert (project / "var" / "current").readlink() == link_before
    assert _tree_digest(project / "var") == before


def test_nonconforming_build_exits_1_and_publishes_nothing(project, built, run_kg, write):
    before = _tree_digest(project / "var")
    # a Review with no author violates the shapes but is well-formed input
    write(project, "review.yaml", "sources:\n  bad-review:\n    type: Review\n    name: R\n    item_reviewed: break-away\n")
    code, output = run_kg(project, "build")
    assert code == 1
    assert "data/review.yaml:2 [bad-review]" in output and "needs an author" in output
    assert _tree_digest(project / "var") == before


def test_validate_never_publishes(project, run_kg):
    code, output = run_kg(project, "validate")
    assert code == 0, output
    assert not (project / "var").exists()


def test_two_builds_of_the_same_input_are_byte_identical(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run_kg(project, "build")[0] == 0
    first = current(project / "var")
    assert run_kg(project, "build", "--full")[0] == 0
    second = current(project / "var")
    assert first != second
    for dump in DUMPS:
        assert spliced.read_bytes(first / dump.filename) == spliced.read_bytes(second / dump.filename), dump.filename
    assert (first / "void.ttl").read_bytes() == (second / "void.ttl").read_bytes()


def test_build_reports_conflicts_with_their_sources(project, run_kg):
    code, output = run_kg(project, "build")
    assert code == 0
    assert "conflict: https://films.example.org/movie/break-away dateCreated: '2008' according to forum-post; " \
           "'2009' according to finecut-press-kit" in output
    assert "storyDuration: 'P5D' according to variety-review-2009-10-14; 'P6D' according to " \
           "variety-news-2008-11-07" in output


def test_release_metadata_gives_each_stages_time_memory_and_cpu(built):
    meta = json.loads((built / METADATA).read_text())
    stages = ["read", "duplicates", "map", "validate", "dumps", "store"]
    assert list(meta["timings"]) == list(meta["peak_mb"]) == list(meta["cpu_s"]) == stages
    assert all(meta["cpu_s"][s] >= 0 for s in stages) and sum(meta["cpu_s"].values()) > 0


def test_release_metadata_says_when_and_from_what(built):
    meta = json.loads((built / METADATA).read_text())
    assert meta["input_digest"].startswith("sha256:")
    assert "data/break-away.yaml" in meta["files"]
    store = ox.Store.read_only(str(built / STORE_DIR))
    rows = list(store.query("""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?when (COUNT(?src) AS ?n) WHERE { ?r prov:generatedAtTime ?when ; prov:wasDerivedFrom ?src }
        GROUP BY ?when"""))
    assert len(rows) == 1
    assert rows[0]["when"].value == meta["built_at"]
    assert int(rows[0]["n"].value) == 5  # the four documents and the editorial record


def _gone_soon(paths: list[Path], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while any(p.exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(p.exists() for p in paths)


def test_old_releases_are_pruned_but_current_kept(project, run_kg):
    for _ in range(4):
        assert run_kg(project, "build", "--full")[0] == 0
    releases = [p for p in (project / "var" / "releases").iterdir() if not p.name.startswith(".")]
    assert len(releases) == 3
    assert current(project / "var") in [p.resolve() for p in releases]


def test_a_pruned_release_leaves_the_releases_at_once_and_is_deleted_by_a_process_of_its_own(project, run_kg,
                                                                                              monkeypatch):
    for _ in range(3):
        assert run_kg(project, "build", "--full")[0] == 0
    oldest = finished(project / "var")[0]
    (project / "kg.toml").write_text("keep_releases = 1\n", encoding="utf-8")
    deleted_here: list[str] = []
    real = shutil.rmtree
    monkeypatch.setattr(shutil, "rmtree", lambda p, *a, **k: deleted_here.append(Path(p).name) or real(p, *a, **k))
    assert run_kg(project, "build", "--full")[0] == 0
    assert finished(project / "var") == [current(project / "var")] and not oldest.exists()
    assert not [name for name in deleted_here if oldest.name in name]  # the build did not wait for it
    assert _gone_soon(list((project / "var" / "releases").glob(RETIRED + "*")))


@pytest.mark.parametrize("grace, swept", [(0.0, True), (600.0, False)])
def test_a_retired_release_is_swept_by_the_next_build_once_its_deleter_had_its_time(project, built, run_kg,
                                                                                   monkeypatch, grace, swept):
    monkeypatch.setattr(kg.build.publish, "RETIRED_GRACE", grace)
    left = project / "var" / "releases" / (RETIRED + built.name)
    (left / "store").mkdir(parents=True)
    (left / "store" / "half-deleted").write_text("x")
    assert run_kg(project, "build", "--full")[0] == 0
    assert left.exists() is not swept  # a release retired a moment ago is its deleter's: the build does not wait


def test_a_deleter_that_cannot_start_leaves_the_new_release_published(project, run_kg, monkeypatch):
    (project / "kg.toml").write_text("keep_releases = 1\n", encoding="utf-8")
    assert run_kg(project, "build", "--full")[0] == 0

    def cannot(*_args, **_kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(kg.build.publish.subprocess, "run", cannot)
    code, output = run_kg(project, "build", "--full")
    assert code == 0, output
    assert len(finished(project / "var")) == 1 and list((project / "var" / "releases").glob(RETIRED + "*"))


def test_a_release_of_the_same_files_under_another_base_iri_has_another_id(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    first = metadata(current(project / "var"))["id"]
    assert run_kg(project, "--base-iri", "https://example.com/films/", "build")[0] == 0
    assert metadata(current(project / "var"))["id"] != first


def test_leftovers_of_a_killed_build_are_swept(project, built, run_kg):
    junk = project / "var" / "releases" / ".tmp-999-1"
    junk.mkdir()
    (junk / "half-written").write_text("x")
    assert run_kg(project, "build", "--full")[0] == 0
    assert not junk.exists()


def _kept(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "var" / "releases").iterdir() if not p.name.startswith("."))


def test_a_verbose_build_with_nothing_changed_says_what_the_current_release_s_build_said(empty_project, write,
                                                                                         run_kg):
    write(empty_project, "films.yaml", """
        sources:
          cat-a: {name: Catalogue A, type: CreativeWork}
          cat-b: {name: Catalogue B, type: CreativeWork}
        movies:
          a-film: {name: A Film, claims: {cat-a: {name: A Film, running_time: 90}, cat-b: {name: A Film,
                                                                                         running_time: 95}}}
        """)
    assert run_kg(empty_project, "build")[0] == 0
    code, output = run_kg(empty_project, "build", "--verbose")
    assert code == 0 and "nothing changed since release" in output
    assert "Warning: Google Movie carousel (required): the film has no image" in output  # a warning it gave
    assert "conflict: https://films.example.org/movie/a-film duration: 'PT1H30M' (90 min) according to cat-a; " \
           "'PT1H35M' (95 min) according to cat-b" in output
    assert "to settle it: prefer movie/a-film running_time from cat-a or prefer movie/a-film running_time from cat-b" \
        in output  # as the build said it


def test_a_build_with_nothing_changed_keeps_the_current_release(project, built, run_kg):
    before = _kept(project)
    code, output = run_kg(project, "build")
    assert code == 0
    assert f"nothing changed since release {metadata(built)['id']} was built" in output
    assert current(project / "var") == built
    assert _kept(project) == before


def test_a_build_with_full_builds_anew_when_nothing_changed(project, built, run_kg):
    code, output = run_kg(project, "build", "--full")
    assert code == 0 and "published release" in output
    assert current(project / "var") != built


def test_a_build_after_a_source_file_changed_publishes_it(project, built, run_kg):
    path = project / "data" / "break-away.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Break Away", "Break Away!", 1), encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 0 and "published release" in output
    assert current(project / "var") != built


def test_a_new_source_file_is_built(project, built, run_kg, write):
    write(project, "more.yaml", """
        sources:
          notes:
            name: Curator's notes
            type: CreativeWork
        """)
    code, output = run_kg(project, "build")
    assert code == 0 and "published release" in output


def test_changed_shapes_are_checked_again(project, built, run_kg):
    (project / "shapes" / "stricter.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix schema: <http://schema.org/> .\n"
        "<#no-names> a sh:NodeShape ; sh:targetClass schema:Movie ;\n"
        "  sh:property [ sh:path schema:name ; sh:maxCount 0 ] .\n",
        encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 1, output
    assert current(project / "var") == built


def test_another_version_of_the_store_engine_builds_anew(project, built, run_kg, monkeypatch):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1" if name == "pyoxigraph" else real(name))
    code, output = run_kg(project, "build")
    assert code == 0 and "published release" in output


def test_a_changed_vocabulary_setting_is_built(project, built, run_kg):
    (project / "kg.toml").write_text('vocabularies = ["http://xmlns.com/foaf/0.1/"]\n', encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 0 and "published release" in output


def test_nquads_dump_is_textually_what_the_store_holds(built):
    """No canonicalisation gap: the dumps are written in exactly the lexical forms the store returns."""
    lines = {line.rstrip(" .") for line in gzip.decompress(spliced.read_bytes(built / "kg.nq.gz")).decode().splitlines()
             if line}
    assert lines == _store_quads(built)


# ---- rebuilds: the previous release's store, patched, is the store a full build makes ----

def _everything(release: Path) -> set[str]:
    """Every quad of a release's store, default graph included."""
    return {str(q) for q in ox.Store.read_only(str(release / STORE_DIR))}


def _rebuilt_and_full(project: Path, run_kg, edit, tmp_path: Path) -> tuple[Path, Path]:
    """Build, edit, rebuild (patching); and the same edited input built from scratch elsewhere. Both are cut in 8
    shards, as a larger graph is: an edit patches the store from some of them."""
    import shutil

    (project / "kg.toml").write_text("shards = 8\n", encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    edit(project)
    assert run_kg(project, "build")[0] == 0
    fresh = tmp_path / "fresh"
    shutil.copytree(project / "data", fresh / "data")
    shutil.copytree(project / "shapes", fresh / "shapes")
    shutil.copy(project / "kg.toml", fresh / "kg.toml")
    assert run_kg(fresh, "build", "--full")[0] == 0
    return current(project / "var"), current(fresh / "var")


def _edit_yaml(project: Path) -> None:
    path = project / "data" / "break-away.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("running_time: 109", "running_time: 110"),
                    encoding="utf-8")


def test_a_rebuild_after_an_edit_patches_the_previous_store(project, run_kg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    rebuilt, full = _rebuilt_and_full(project, run_kg, _edit_yaml, tmp_path)
    how = json.loads((rebuilt / METADATA).read_text())["store"]
    assert how["patched_from"] and how["added_quads"] > 0
    assert json.loads((full / METADATA).read_text())["store"] == {"loaded": "in full"}


def test_a_patched_store_holds_exactly_what_a_full_build_holds(project, run_kg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    rebuilt, full = _rebuilt_and_full(project, run_kg, _edit_yaml, tmp_path)
    assert _everything(rebuilt) == _everything(full)
    for dump in DUMPS:
        assert spliced.read_bytes(rebuilt / dump.filename) == spliced.read_bytes(full / dump.filename), dump.filename


def test_a_release_without_its_parts_is_patched_from_its_whole_dump(project, run_kg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")

    def edit(project: Path) -> None:  # as a release made before parts were recorded
        (current(project / "var") / KEPT_DIR / PARTS_FILE).unlink()
        _edit_yaml(project)

    rebuilt, full = _rebuilt_and_full(project, run_kg, edit, tmp_path)
    assert json.loads((rebuilt / METADATA).read_text())["store"]["added_quads"] > 0
    assert _everything(rebuilt) == _everything(full)


def test_a_patched_store_after_a_bulk_row_edit_equals_a_full_build(empty_project, run_kg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = empty_project / "data"
    data.joinpath("films.csv").write_text("id,title,year,actor\n" + "".join(
        f"tt{n:07d},Film {n},{1950 + n % 60},Person {n % 7}\n" for n in range(1, 200)), encoding="utf-8")
    data.joinpath("films.mapping.yaml").write_text(
        "source: {key: films, name: Films, type: CreativeWork}\nfiles: films.csv\nrecord: movie\nkey: {id: id}\n"
        "fields: {name: title, production_year: year, actor: actor}\n", encoding="utf-8")

    def edit(project: Path) -> None:
        path = project / "data" / "films.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,")
                        .replace("Person 3\n", "Person 8\n", 1), encoding="utf-8")

    rebuilt, full = _rebuilt_and_full(empty_project, run_kg, edit, tmp_path)
    assert "patched_from" in json.loads((rebuilt / METADATA).read_text())["store"]
    assert _everything(rebuilt) == _everything(full)


def test_a_store_of_another_format_is_loaded_afresh(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    previous = current(project / "var")
    meta = json.loads((previous / METADATA).read_text())
    meta["store_format"] = 0
    (previous / METADATA).write_text(json.dumps(meta))
    _edit_yaml(project)
    assert run_kg(project, "build")[0] == 0
    assert json.loads((current(project / "var") / METADATA).read_text())["store"] == {"loaded": "in full"}


def test_trig_writes_graphs_too_big_to_regroup_line_by_line_and_still_the_same(project, run_kg, monkeypatch):
    import kg.build.dumps

    monkeypatch.setattr(kg.build.dumps, "PRETTY_TRIG_BYTES", 0)  # every graph takes the line-by-line path
    code, output = run_kg(project, "build")
    assert code == 0, output
    release = current(project / "var")
    trig = spliced.read_bytes(release / "kg.trig")
    assert {str(q) for q in ox.parse(trig, format=ox.RdfFormat.TRIG)} == _store_quads(release)
    assert b"\n<https://films.example.org/source/forum-post> {\n<https://films.example.org/" in trig


def test_a_patched_store_keeps_a_fact_one_source_drops_while_another_states_it(empty_project, run_kg, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = empty_project / "data"
    for name in ("a", "b"):
        data.joinpath(f"{name}.csv").write_text("id,title,year\n" + "".join(
            f"tt{n:07d},Film {n},{1950 + n}\n" for n in range(1, 40)), encoding="utf-8")
        data.joinpath(f"{name}.mapping.yaml").write_text(
            f"source: {{key: list-{name}, name: List {name}, type: CreativeWork}}\nfiles: {name}.csv\n"
            "record: movie\nkey: {id: id}\nfields: {name: title, production_year: year}\n", encoding="utf-8")

    def edit(project: Path) -> None:  # list a no longer gives film 5 a year; list b still does
        path = project / "data" / "a.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("Film 5,1955", "Film 5,"), encoding="utf-8")

    rebuilt, full = _rebuilt_and_full(empty_project, run_kg, edit, tmp_path)
    assert "patched_from" in json.loads((rebuilt / METADATA).read_text())["store"]
    year = ('<https://films.example.org/movie/tt0000005> <http://schema.org/dateCreated> '
            '"1955"^^<http://www.w3.org/2001/XMLSchema#gYear>')
    quads = _everything(rebuilt)
    assert f"{year} <https://films.example.org/source/list-b>" in quads
    assert f"{year} <https://films.example.org/source/list-a>" not in quads
    assert year in quads  # still in the default graph: list b says it
    assert quads == _everything(full)


def test_the_same_files_built_by_another_kg_are_another_release(project, run_kg, monkeypatch):
    import kg.build.digest

    assert run_kg(project, "build")[0] == 0
    first = metadata(current(project / "var"))
    monkeypatch.setattr(kg.build.digest, "code_digest", lambda: "another kg")
    assert run_kg(project, "build")[0] == 0
    second = metadata(current(project / "var"))
    assert second["id"] != first["id"] and second["input_digest"] == first["input_digest"]


def test_the_jsonld_dump_has_one_object_per_entity(built):
    nodes = json.loads(spliced.read_bytes(built / "kg.jsonld"))["@graph"]
    ids = [n["@id"] for n in nodes]
    assert len(ids) == len(set(ids)) and "https://films.example.org/movie/break-away" in ids


def test_the_release_notes_a_literal_of_each_datatype_and_language_for_engines_to_give_back(built):
    store = ox.Store.read_only(str(built / STORE_DIR))
    kinds = {(r["dt"].value, r["l"].value) for r in store.query(
        "SELECT DISTINCT ?dt ?l WHERE { ?s ?p ?o FILTER(isLiteral(?o)) BIND(datatype(?o) AS ?dt) BIND(lang(?o) AS ?l) }")}
    samples = [t for t in ox.parse("\n".join(metadata(built)["literal_samples"]).encode(),
                                   format=ox.RdfFormat.N_TRIPLES)]
    assert {(t.object.datatype.value, t.object.language or "") for t in samples} == kinds and len(samples) == len(kinds)
    assert all(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) in store for t in samples)


def test_a_damaged_previous_dump_means_a_store_loaded_in_full(project, run_kg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")

    def edit(project: Path) -> None:
        for part in (current(project / "var") / PARTS_DIR).glob("lines-*.nq.gz"):  # what kg.nq.gz is spliced from
            size = part.stat().st_size
            part.unlink()  # (its other links, kept for the next build, stay whole)
            part.write_bytes(bytes(size))  # as long as it was, every gzip member unreadable
        _edit_yaml(project)

    rebuilt, full = _rebuilt_and_full(project, run_kg, edit, tmp_path)
    assert json.loads((rebuilt / METADATA).read_text())["store"] == {"loaded": "in full"}
    assert _everything(rebuilt) == _everything(full)


@pytest.mark.parametrize("how", ["full", "patched"])
def test_the_build_lets_go_of_the_store_it_wrote(project, run_kg, how):
    """Nothing of the build (in this process) holds a file of the release's store open once it is published."""
    assert run_kg(project, "build", "--full")[0] == 0
    if how == "patched":
        path = project / "data" / "other-films.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n", 1),
                        encoding="utf-8")
        assert run_kg(project, "build")[0] == 0
    release = current(project / "var")
    assert ("patched_from" in metadata(release)["store"]) == (how == "patched")
    store = str((release / STORE_DIR).resolve())
    opened = [target for fd in Path("/proc/self/fd").iterdir()
              if (target := os.path.realpath(fd)).startswith(store)]  # a closed descriptor resolves to nothing there
    assert opened == []


def test_what_a_build_leaves_is_not_gone_through_again_by_the_next_young_collections(project):
    import gc

    from kg.build.pipeline import build
    from kg.config import load_config

    build(load_config(project))
    # the collector was off during the build: without this, each of its survivors would wait in the youngest
    # generation for the next collection to go through it
    assert gc.isenabled() and len(gc.get_objects(0)) + len(gc.get_objects(1)) < 1_000


def test_a_link_over_a_file_linked_from_another_release_leaves_that_file_as_it_was(tmp_path):
    """kept.link replaces the name; it never writes through a file another release shares."""
    from kg.build.kept import link

    old, shared, new = tmp_path / "old", tmp_path / "shared", tmp_path / "new"
    old.write_bytes(b"the previous release's bytes")
    os.link(old, shared)  # the name this build links to is, so far, a link to the previous release's file
    new.write_bytes(b"this build's bytes")
    link(new, shared)
    assert old.read_bytes() == b"the previous release's bytes" and shared.read_bytes() == b"this build's bytes"
    assert shared.stat().st_ino == new.stat().st_ino and sorted(p.name for p in tmp_path.iterdir()) == [
        "new", "old", "shared"]


def test_the_inputs_digest_worked_out_once_a_build_follows_a_file_rewritten_to_the_same_size(tmp_path):
    from kg.build import digest

    path = tmp_path / "a.yaml"
    path.write_text("name: One\n", encoding="utf-8")
    first = digest.input_digest([path], tmp_path)
    assert digest.input_digest([path], tmp_path) == first  # asked again (the memo)
    path.write_text("name: Two\n", encoding="utf-8")  # the same size
    assert digest.input_digest([path], tmp_path) == digest._input_digest([path], tmp_path, ()) != first
    digest.forget_digests()
    assert digest._DIGESTS == {}
