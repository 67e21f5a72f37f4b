"""Hostile input to `kg build`: alias bombs, huge or deep values, control characters, files outside the project,
a full disk; each refused with what and where, and the published release left as it was."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import BASE
from kg.layout import STORE_DIR, current

S = "http://schema.org/"
SOURCE = "sources:\n  doc: {name: A document}\n"


def csv_mapping(files: object, column: str = "title") -> str:
    """A mapping file that reads the films' names from one column of a CSV file."""
    return (f"source: {{key: films, name: The films list, type: CreativeWork}}\nfiles: {files}\nrecord: movie\n"
            f"fields:\n  name: {column}\n")


def titles(root: Path) -> list[str]:
    """The names of every film in the current release's store."""
    store = ox.Store.read_only(str(current(root / "var") / STORE_DIR))
    return sorted(row["n"].value for row in store.query(f"SELECT ?n WHERE {{ ?s a <{S}Movie> ; <{S}name> ?n }}"))


def bomb(levels: int) -> str:
    """A YAML 'billion laughs': each level an anchored list of nine aliases of the level before."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for n in range(1, levels):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + f"\nmovies:\n  x:\n    name: X\n    genre: *{chr(ord('a') + levels - 1)}\n"


# ---- 1. alias bombs, and what messages quote of a value ----

def test_an_alias_bomb_is_refused_at_once_with_its_file_and_line(empty_project, write, run_kg):
    write(empty_project, "laughs.yaml", bomb(9))
    started = time.monotonic()
    code, output = run_kg(empty_project, "build")
    assert code == 2 and time.monotonic() - started < 10
    assert len(output) < 2000 and "data/laughs.yaml:" in output and "alias" in output


def test_anchors_and_aliases_used_a_few_times_still_work(empty_project, write, run_kg):
    write(empty_project, "films.yaml", SOURCE + "movies:\n  x:\n    name: X\n    genre: &g [drama, war]\n"
                                               "  y:\n    name: Y\n    genre: *g\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output


def test_an_error_quotes_only_the_start_of_a_long_value(empty_project, write, run_kg):
    write(empty_project, "films.yaml", f"movies:\n  x:\n    name: X\n    release_date: '{'9' * 50_000}'\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.yaml:4" in output
    line = next(line for line in output.splitlines() if "release_date" in line)
    assert len(line) < 200 and "…" in line


# ---- 2. located errors, not tracebacks; exit 3 when the release cannot be written ----

def test_a_csv_cell_longer_than_the_csv_field_limit_is_refused_with_its_line(empty_project, write, run_kg):
    write(empty_project, "films.csv", f"title\nShort\n{'x' * 200_000}\n")
    write(empty_project, "films.mapping.yaml", csv_mapping("films.csv"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.csv:3" in output and "Traceback" not in output


def test_watch_reports_a_build_that_fails_and_goes_on(empty_project, write, run_kg, monkeypatch):
    write(empty_project, "films.csv", f"title\n{'x' * 200_000}\n")
    write(empty_project, "films.mapping.yaml", csv_mapping("films.csv"))

    def stop(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", stop)
    monkeypatch.setattr(signal, "signal", lambda *_: None)
    code, output = run_kg(empty_project, "build", "--watch")
    assert code == 0 and "data/films.csv:2" in output and "stopped watching" in output


def test_watch_reports_a_bug_a_build_meets_and_goes_on(empty_project, write, run_kg, monkeypatch):
    import kg.cli

    write(empty_project, "films.yaml", "movies:\n  x: {name: X}\n")

    def broken(*_: object, **__: object) -> None:
        raise ValueError("a bug")

    def stop(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.cli, "_run", broken)
    monkeypatch.setattr(time, "sleep", stop)
    monkeypatch.setattr(signal, "signal", lambda *_: None)
    code, output = run_kg(empty_project, "build", "--watch")
    assert code == 0 and "ValueError: a bug" in output and "release being served stays" in output
    assert "stopped watching" in output


def test_a_yaml_surrogate_escape_is_refused_with_its_line(empty_project, write, run_kg):
    write(empty_project, "films.yaml", 'movies:\n  x:\n    name: "\\ud83c\\udfac"\n')
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.yaml:3" in output and "surrogate" in output and "\\U0001f3ac" in output


@pytest.mark.parametrize("char", ["\x01", "\x7f", "\x00", "\x85"])
@pytest.mark.parametrize("name", ["films.yaml", "films.mapping.yaml"])
def test_a_raw_control_character_in_a_yaml_file_is_refused_with_its_line(empty_project, write, run_kg, char, name):
    write(empty_project, name, f"movies:\n  x:\n    name: Tal{char}ju\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"data/{name}:3" in output and f"U+{ord(char):04X}" in output and "Traceback" not in output


def test_an_empty_name_is_said_to_be_empty(empty_project, write, run_kg):
    write(empty_project, "films.yaml", "movies:\n  x:\n    name:\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.yaml:3" in output and "is empty" in output and "NoneType" not in output


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_an_empty_csv_file_is_refused_not_taken_for_no_records(empty_project, write, run_kg, text):
    write(empty_project, "films.csv", text)
    write(empty_project, "films.mapping.yaml", csv_mapping("films.csv"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.csv" in output and "empty" in output


@pytest.mark.parametrize("name, text", [("extra.ttl", ""), ("extra.ttl", "@prefix s: <http://schema.org/> .\n# x\n"),
                                        ("extra.nt", "\n"), ("extra.jsonld", "[]"), ("extra.rdf", "")])
def test_an_rdf_file_that_states_nothing_is_refused_not_taken_for_no_statements(project, write, run_kg, name, text):
    (project / "data" / name).write_text(text, encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2 and f"data/{name}" in output and "states nothing" in output


def test_a_csv_file_of_its_header_alone_has_no_records(empty_project, write, run_kg):
    write(empty_project, "films.csv", "title\n")
    write(empty_project, "films.mapping.yaml", csv_mapping("films.csv"))
    write(empty_project, "films.yaml", "movies:\n  x:\n    name: Night River\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output


@pytest.mark.parametrize("name", ["deep.jsonld", "deep.json"])
def test_deeply_nested_json_is_refused_with_its_file(name, empty_project, write, run_kg):
    write(empty_project, name, "[" * 100_000 + "]" * 100_000)
    if name == "deep.json":
        write(empty_project, "deep.mapping.yaml", csv_mapping(name))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"data/{name}:1" in output and "nested" in output


def test_a_full_disk_exits_3_and_leaves_the_release_as_it_was(project, write, run_kg, monkeypatch):
    assert run_kg(project, "build")[0] == 0
    before = current(project / "var")
    write(project, "extra.yaml", "movies:\n  more:\n    name: More\n")

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(project / "var" / "releases" / "x"))

    monkeypatch.setattr("kg.build.pipeline.write_dumps", full)
    code, output = run_kg(project, "build")
    assert code == 3 and "No space left on device" in output and "Traceback" not in output
    assert current(project / "var") == before
    assert not list((project / "var" / "releases").glob(".tmp-*"))


def test_a_release_directory_that_cannot_be_written_exits_3(empty_project, write, run_kg):
    write(empty_project, "films.yaml", SOURCE)
    (empty_project / "plain-file").write_text("not a directory\n")
    code, output = run_kg(empty_project, "--releases", str(empty_project / "plain-file" / "var"), "build")
    assert code == 3 and "plain-file" in output and "Traceback" not in output


# ---- 3. control characters ----

@pytest.mark.parametrize("escape", ["\\0", "\\x01", "\\e", "\\x7f", "\\N", "\\x9b", "\\uFFFE"])
def test_a_control_character_in_a_yaml_value_is_refused_with_its_line(escape, empty_project, write, run_kg):
    write(empty_project, "films.yaml", f'movies:\n  x:\n    name: X\n    alternate_name: "a{escape}b"\n')
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.yaml:4" in output and "character" in output


def test_tab_newline_and_carriage_return_are_allowed_in_yaml_text(empty_project, write, run_kg):
    write(empty_project, "films.yaml", 'movies:\n  x:\n    name: X\n    description: "one\\ttwo\\r\\nthree"\n')
    code, output = run_kg(empty_project, "build")
    assert code == 0, output


@pytest.mark.parametrize("literal", ['"a\\u0001b"', '"a\\u0085b"', '"""a\x1bb"""'])
def test_a_control_character_in_an_rdf_literal_is_refused_with_its_line(literal, empty_project, write, run_kg):
    write(empty_project, "extra.ttl", f"<{BASE}movie/x> a <{S}Movie> ;\n  <{S}name> {literal} .\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/extra.ttl:2" in output and "character" in output


@pytest.mark.parametrize("cell", ["Night\u009b River\uffff", "Night \u2066River\u2069"],
                         ids=["c1 controls and noncharacters", "bidi isolates"])
def test_invisible_characters_in_bulk_cells_are_removed(cell, empty_project, write, run_kg):
    write(empty_project, "films.csv", f"title\n{cell}\n")
    write(empty_project, "films.mapping.yaml", csv_mapping("films.csv"))
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert titles(empty_project) == ["Night River"]


# ---- 4. bidi overrides ----

@pytest.mark.parametrize("name, published", [
    ("Evil\\u202eFilm", "EvilFilm"),  # an escape in the file
    ("Volcano\u200b High\u2060", "Volcano High"),  # the characters themselves: a zero-width space, a word joiner
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645"),  # a joiner in a word: kept
], ids=["bidi override", "zero-width space and word joiner", "zero-width non-joiner in a Persian word"])
def test_invisible_formatting_in_yaml_names_is_removed_as_in_bulk_files(empty_project, write, run_kg, name,
                                                                         published):
    write(empty_project, "films.yaml", f'movies:\n  x:\n    name: "{name}"\n')
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert titles(empty_project) == [published]


# ---- 5. what the build prints ----

def test_build_output_shows_control_characters_of_a_file_name_escaped(empty_project, write, run_kg):
    write(empty_project, "evil\x1b[31m.yaml", "movies: [\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "\x1b" not in output and "evil\\x1b[31m.yaml" in output


# ---- 6. reading outside the project ----

@pytest.fixture
def secret(tmp_path_factory) -> Path:
    """A CSV file outside the project whose header must never be echoed."""
    path = tmp_path_factory.mktemp("outside") / "secret.csv"
    path.write_text("TOPSECRET,other\nroot,x\n", encoding="utf-8")
    return path


def test_a_mapping_cannot_read_a_file_by_an_absolute_path_outside_the_project(secret, empty_project, write, run_kg):
    write(empty_project, "leak.mapping.yaml", csv_mapping(str(secret)))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/leak.mapping.yaml:2" in output and str(secret) in output
    assert "TOPSECRET" not in output and "read_outside" in output


def test_a_mapping_cannot_climb_out_of_the_project(secret, empty_project, write, run_kg):
    climb = os.path.relpath(secret, empty_project / "data")
    write(empty_project, "leak.mapping.yaml", csv_mapping(climb))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/leak.mapping.yaml:2" in output and "TOPSECRET" not in output


def test_a_symlink_in_data_to_a_file_outside_is_refused(secret, empty_project, write, run_kg):
    (empty_project / "data" / "linked.ttl").symlink_to(secret)
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/linked.ttl" in output and "outside" in output and "TOPSECRET" not in output


def test_read_outside_names_a_folder_a_mapping_may_read(secret, empty_project, write, run_kg):
    folder = os.path.relpath(secret.parent, empty_project)
    (empty_project / "kg.toml").write_text(f'read_outside = ["{folder}"]\n', encoding="utf-8")
    write(empty_project, "ok.mapping.yaml", csv_mapping(secret, "TOPSECRET"))
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert titles(empty_project) == ["root"]


# ---- 7. what killed builds leave ----

def test_a_build_that_finds_nothing_changed_removes_a_killed_builds_temporary_directory(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    junk = project / "var" / "releases" / ".tmp-999-1"
    junk.mkdir()
    (junk / "kg.nt").write_bytes(b"x" * 1000)
    code, output = run_kg(project, "build")
    assert code == 0 and "nothing changed" in output
    assert not junk.exists()


def test_the_temporary_directory_of_a_build_running_now_is_kept(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    running = project / "var" / "releases" / ".tmp-999-2"
    running.mkdir()
    with (project / "var" / ".build.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, output = run_kg(project, "build")
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert code == 0 and "nothing changed" in output
    assert running.exists()
