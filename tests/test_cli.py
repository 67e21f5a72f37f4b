"""The kg command line: `kg query` in every result format, how `kg validate` reports what it found, and the `kg`
process itself."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import BASE
from kg.cli import cli
from kg.formats import FORMATS, RESULT_FORMATS

NAME = f"SELECT ?name WHERE {{ <{BASE}movie/break-away> <http://schema.org/name> ?name }}"
DIRECTOR = f"CONSTRUCT WHERE {{ <{BASE}movie/break-away> <http://schema.org/director> ?d }}"


def kg(root, *args, stdin=None):
    return CliRunner().invoke(cli, ["--root", str(root), "query", *args], input=stdin)


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_select_in_every_result_format(released, fmt):
    run = kg(released, "--format", fmt.name, NAME)
    assert run.exit_code == 0, run.output
    if fmt.name == "csv":  # CSV results cannot be read back into terms (they drop types and languages)
        assert run.stdout_bytes == b"name\r\nBreak Away\r\n"
        return
    rows = list(ox.parse_query_results(run.stdout_bytes, format=fmt.oxigraph))
    assert [row["name"].value for row in rows] == ["Break Away"]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets], ids=lambda f: f.name)
def test_construct_in_every_graph_format(released, fmt):
    run = kg(released, "--format", fmt.name, DIRECTOR)
    assert run.exit_code == 0, run.output
    assert [t.object.value for t in fmt.parse(run.stdout_bytes)] == [f"{BASE}person/leesong-hee-il"]


def test_defaults_are_tsv_for_tables_and_turtle_for_graphs(released):
    table, graph = kg(released, NAME), kg(released, DIRECTOR)
    assert table.stdout == '?name\n"Break Away"\n'
    assert [t.object.value for t in ox.parse(graph.stdout_bytes, format=ox.RdfFormat.TURTLE)] == [
        f"{BASE}person/leesong-hee-il"]


def test_the_query_can_come_from_standard_input(released):
    run = kg(released, "--file", "-", "--format", "csv", stdin="ASK { ?s a <http://schema.org/Movie> }")
    assert run.exit_code == 0 and run.stdout.strip() == "true"


def test_a_query_of_a_dash_comes_from_standard_input(released):
    run = kg(released, "-", "--format", "csv", stdin="ASK { ?s a <http://schema.org/Movie> }")
    assert run.exit_code == 0 and run.stdout == "true\n"  # the line ended, as a shell prompt wants it


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_a_limit_that_is_not_a_positive_number_is_a_usage_error(released, limit):
    run = kg(released, "--limit", limit, "SELECT ?s WHERE { ?s ?p ?o }")
    assert run.exit_code == 2 and "--limit" in run.stderr and not run.stdout


def test_a_syntax_error_shows_the_query_line_and_caret_on_lines_of_their_own(released):
    run = kg(released, "SELECT ?s WHERE { ?s ?p")
    assert run.exit_code == 2 and "\\n" not in run.stderr
    assert "\n  SELECT ?s WHERE { ?s ?p\n" + " " * 25 + "^" in run.stderr


def test_limit_cuts_and_says_so(released):
    run = kg(released, "--limit", "2", "SELECT ?s WHERE { ?s ?p ?o }")
    assert run.exit_code == 0 and len(run.stdout.splitlines()) == 3 and "cut at 2" in run.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("SELEC ?x",), "syntax error"),
    (("SELEC ?x",), "('SELEC' is no SPARQL keyword: did you mean SELECT?)"),
    (("SELECT ?s WHERE { ?s ?p ?o } LIMT 5",), "did you mean LIMIT?"),
    (("SELECT ?s WHERE { ?s ?p ?o } LIMIT 99999999999999999999999",), "larger than the largest the engine reads"),
    (("--format", "turtle", NAME), "--format turtle is for graphs (CONSTRUCT, DESCRIBE); this query's result is "
                                   "the other kind: use one of json, xml, csv, tsv"),
    (("--format", "csv", DIRECTOR), "--format csv is for tables (SELECT, ASK)"),
    (("INSERT DATA { <a:b> <a:c> <a:d> }",), "read-only"),
    ((), "exactly one"),
])
def test_bad_queries_exit_2_with_a_message(released, args, message):
    run = kg(released, *args)
    assert run.exit_code == 2 and message in run.stderr and not run.stdout


def test_no_release_exits_2(empty_project):
    run = kg(empty_project, NAME)
    assert run.exit_code == 2 and "kg build" in run.stderr


def test_many_warnings_are_summed_up_by_kind_with_the_first_place_of_each(project, run_kg):
    code, output = run_kg(project, "validate")
    assert code == 0
    head = next(line for line in output.splitlines() if line.strip().endswith("(--verbose lists them all):"))
    total, kinds = int(head.split()[0]), int(head.split()[2])
    counted = [int(line.split()[0]) for line in output.splitlines() if " × Warning: " in line]
    assert len(counted) == min(kinds, 10) and counted == sorted(counted, reverse=True)
    assert sum(counted) == total if kinds <= 10 else sum(counted) < total
    assert all("(first: data/" in line for line in output.splitlines() if " × Warning: " in line)


def test_verbose_lists_every_warning(project, run_kg):
    output = run_kg(project, "validate", "--verbose")[1]
    assert "(--verbose lists them all)" not in output
    assert sum(1 for line in output.splitlines() if ": Warning: " in line) > 10


def _info(root, *args):
    return CliRunner().invoke(cli, ["--root", str(root), "info", *args])


def test_info_says_what_went_in_and_what_came_out(released):
    import json

    meta = json.loads((released / "var" / "current" / "release.json").read_text())
    run = _info(released)
    assert run.exit_code == 0, run.output
    said = dict(line.split(None, 1) for line in run.output.splitlines() if not line.startswith("base IRI"))
    assert said["release"].startswith(meta["id"]) and f"base IRI   {BASE}" in run.output
    assert said["graph"].startswith(f"{meta['counts']['triples']:,} triples")
    assert said["conflicts"].startswith(f"{len(meta['conflicts'])} ") and len(meta["conflicts"]) == 2
    assert all(f"{stage} " in said["built"] for stage in ("read", "map", "validate", "dumps", "store"))
    assert f"{sum(meta['cpu_s'].values()):.1f} s of CPU" in said["built"]
    assert all(name in said["dumps"] for name in meta["dumps"])


def test_info_counts_the_kinds_of_warnings_as_the_build_does(project, run_kg):
    output = run_kg(project, "build")[1]
    head = next(line for line in output.splitlines() if line.strip().endswith("(--verbose lists them all):"))
    total, kinds = int(head.split()[0]), int(head.split()[2])
    said = dict(line.split(None, 1) for line in _info(project).output.splitlines() if not line.startswith("base IRI"))
    assert said["warnings"].startswith(f"{total:,} ({kinds:,} kinds, as `kg build` counts them")


def test_info_as_json_is_the_release_metadata(released):
    import json

    run = _info(released, "--json")
    assert run.exit_code == 0
    assert json.loads(run.output) == json.loads((released / "var" / "current" / "release.json").read_text())


def test_info_without_a_release_says_how_to_make_one(empty_project):
    run = _info(empty_project)
    assert run.exit_code == 2 and "kg build" in run.output


def _kg_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, check=False,
                          timeout=600)


def test_the_kg_process_says_everything_before_a_build_ends_it(project: Path):
    done = _kg_process("--root", str(project), "build")
    assert done.returncode == 0, done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("kg: published release ")  # the last line said
    assert (project / "var" / "current" / "release.json").is_file()


def test_a_build_process_that_fails_still_says_why_and_exits_2(empty_project: Path, write):
    write(empty_project, "films.yaml", "movies:\n  a:\n    year: 2001\n")
    done = _kg_process("--root", str(empty_project), "build")
    assert done.returncode == 2 and "data/films.yaml" in done.stdout + done.stderr
    assert not (empty_project / "var" / "current").exists()


def test_a_build_under_a_low_soft_limit_of_open_files_lifts_it_to_the_hard_one(project):
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    assert hard >= 512  # what the store needs (Oxigraph asks for 96 at least), as any machine allows

    def low() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))  # a soft limit too low for Oxigraph to open a store

    proc = subprocess.run([sys.executable, "-m", "kg", "--root", str(project), "build"], capture_output=True,
                          text=True, preexec_fn=low, timeout=300)
    assert proc.returncode == 0 and "published release" in proc.stderr, proc.stderr[-800:]


def test_a_bug_in_kg_exits_4_with_its_traceback_not_1_which_says_the_data_does_not_conform(released, monkeypatch):
    import kg.layout

    def broken(_release: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(kg.layout, "metadata", broken)
    result = CliRunner().invoke(cli, ["--root", str(released), "info"])
    assert result.exit_code == 4
    assert "ValueError: a bug" in result.output and "internal error" in result.output


def test_a_relative_releases_path_on_the_command_line_is_the_current_directory_s(project, run_kg, tmp_path,
                                                                                   monkeypatch):
    elsewhere = tmp_path / "here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, output = run_kg(project, "--releases", "var-of-mine", "build")
    assert code == 0, output
    assert (elsewhere / "var-of-mine" / "current").exists()
    assert not (project / "var-of-mine").exists()
    code, output = run_kg(project, "--releases", "var-of-mine", "query", "ASK { ?s ?p ?o }")
    assert code == 0 and "true" in output


@pytest.mark.parametrize("command", [["releases"], ["info"], ["query", "SELECT * WHERE { ?s ?p ?o }"],
                                     ["dump", "kg.ttl"], ["embed", "movie/break-away"]])
def test_a_reader_that_has_gone_ends_the_command_quietly(released, command):
    """`kg releases | head -1`: what the reader no longer wants is dropped, with no traceback and no 'internal
    error' (the pipe's reading end is closed before kg writes, as `head` may have closed it)."""
    import os
    import signal
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "kg", "--root", str(released), *command], stdout=write,
                              stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr.decode()) == (128 + signal.SIGPIPE, "")


def test_a_reader_on_a_socket_that_has_gone_ends_the_command_quietly_too(released):
    """ksh93's pipelines and Node's child processes give a command a socket, not a pipe, as its output."""
    import signal
    import socket
    import subprocess
    import sys

    ours, theirs = socket.socketpair()
    ours.close()
    try:
        proc = subprocess.run([sys.executable, "-m", "kg", "--root", str(released), "releases"], stdout=theirs.fileno(),
                              stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        theirs.close()
    assert (proc.returncode, proc.stderr.decode()) == (128 + signal.SIGPIPE, "")


def test_a_dump_written_to_a_pipe_of_no_reader_but_standard_output_is_a_failure_to_write(tmp_path):
    """`kg dump kg.ttl -o fifo` whose reader stopped: exit 3, saying where, as any file that cannot be written."""
    import io
    import os

    from kg.cli import _copy_out
    from kg.errors import ENVIRONMENT, Failure

    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "wb") as out, pytest.raises(Failure) as failed:
        _copy_out(io.BytesIO(b"x" * 100_000), out, "fifo")
    assert failed.value.exit_code == ENVIRONMENT and "cannot write to fifo: Broken pipe" in str(failed.value)


def test_init_starts_a_project_that_builds_and_publishes_its_first_film(tmp_path, run_kg):
    root = tmp_path / "archive"
    code, output = run_kg(tmp_path, "init", str(root))
    assert code == 0, output
    assert sorted(p.name for p in root.iterdir()) == ["data", "kg.toml", "shapes"]
    code, output = run_kg(root, "build")
    assert code == 0, output
    code, markup = run_kg(root, "embed", "movie/night-river")
    assert code == 0 and '"name": "Night River"' in markup and '"밤의 강"' in markup


def test_a_wheel_of_kg_ships_the_shapes_init_copies_beside_the_server_files(tmp_path):
    # (`pip install .`, not only `-e .`: kg init found no shapes in site-packages before)
    import shutil
    import zipfile
    repo = Path(__file__).resolve().parents[1]
    copy = tmp_path / "src"  # (a copy: a build in the checkout leaves a build/ folder a later one would reuse)
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "kg", "server", "shapes"):
        if (repo / name).is_dir():
            shutil.copytree(repo / name, copy / name, ignore=shutil.ignore_patterns(
                "node_modules", "__pycache__", "*.egg-info"))
        else:
            shutil.copy(repo / name, copy / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path), str(copy)], check=True, capture_output=True)
    names = set(zipfile.ZipFile(next(tmp_path.glob("kg-*.whl"))).namelist())
    assert {f"shapes/{p.name}" for p in (repo / "shapes").glob("*.ttl")} <= names
    assert "kg/cli.py" in names and any(n.startswith("server/templates/") for n in names)


def test_init_writes_the_licence_and_where_the_site_is_served_for_the_curator_to_see(tmp_path, run_kg):
    root = tmp_path / "archive"
    assert run_kg(tmp_path, "init", str(root))[0] == 0
    settings = (root / "kg.toml").read_text(encoding="utf-8")
    assert 'license = "https://creativecommons.org/licenses/by-sa/4.0/"' in settings
    assert '# public_url = "http://127.0.0.1:8000/"' in settings
    local = settings.replace('# public_url = "http://127.0.0.1:8000/"', 'public_url = "http://127.0.0.1:8000/"')
    (root / "kg.toml").write_text(local, encoding="utf-8")  # uncommented, as the comment says: a valid setting
    assert run_kg(root, "build")[0] == 0
    code, markup = run_kg(root, "embed", "http://127.0.0.1:8000/movie/night-river")
    assert code == 0 and '"name": "Night River"' in markup


def test_init_changes_nothing_where_a_project_is_already(project, run_kg):
    before = (project / "data" / "break-away.yaml").read_bytes()
    code, output = run_kg(project, "init")
    assert code == 2 and "holds a project already (data, shapes)" in output
    assert not (project / "kg.toml").exists() and (project / "data" / "break-away.yaml").read_bytes() == before


def test_serve_outside_a_project_says_where_it_looked(tmp_path, run_kg):
    code, output = run_kg(tmp_path, "serve")
    assert code == 2 and f"no release in {tmp_path / 'var'} yet (the project at {tmp_path})" in output
