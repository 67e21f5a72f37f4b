"""`kg releases`, `kg rollback` and `kg diff`: the kept releases, serving an earlier one again, what changed."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import pyoxigraph as ox

from conftest import BASE
from kg.layout import STORE_DIR, current, metadata

NEW_FILM = """\
movies:
  late-addition:
    name: Late Addition
    claims:
      forum-post:
        name: Late Addition
"""


def _films(root: Path) -> set[str]:
    store = ox.Store.read_only(str(current(root / "var") / STORE_DIR))
    return {row[0].value for row in store.query("SELECT ?m WHERE { ?m a <http://schema.org/Movie> }")}


def _two_releases(project: Path, run_kg) -> tuple[str, str]:
    assert run_kg(project, "build")[0] == 0
    first = str(metadata(current(project / "var"))["id"])
    (project / "data" / "late.yaml").write_text(NEW_FILM, encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 0, output
    return first, str(metadata(current(project / "var"))["id"])


def test_releases_lists_what_is_kept_and_marks_the_current_one(project, run_kg):
    first, second = _two_releases(project, run_kg)
    code, output = run_kg(project, "releases")
    lines = output.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith(f"  {first}") and lines[1].startswith(f"* {second}")


def test_rollback_serves_the_release_before_the_current_one(project, run_kg):
    first, second = _two_releases(project, run_kg)
    assert f"{BASE}movie/late-addition" in _films(project)
    code, output = run_kg(project, "rollback")
    assert code == 0, output
    assert "the next `kg build` publishes data/ as it is then (if it holds the edit you rolled back from" in output
    assert metadata(current(project / "var"))["id"] == first
    assert f"{BASE}movie/late-addition" not in _films(project)
    code, output = run_kg(project, "rollback", second)  # and forward again, by id
    assert code == 0, output
    assert metadata(current(project / "var"))["id"] == second


def test_a_page_asked_for_since_the_later_release_after_a_rollback_is_sent_again(project, run_kg):
    """A client that revalidates by date alone (If-Modified-Since) must not keep the rolled-back release's page,
    nor a response cache its answer of before (the worker without one: the test below)."""
    cache_mb = 8
    from server import create_app

    assert run_kg(project, "build")[0] == 0
    client = create_app(root=project, cache_mb=cache_mb).test_client()
    first = str(metadata(current(project / "var"))["id"])
    assert first in client.get("/movie/break-away").headers["ETag"]  # kept by the cache, when there is one
    time.sleep(1.1)
    (project / "data" / "late.yaml").write_text(NEW_FILM, encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    second = str(metadata(current(project / "var"))["id"])
    page = client.get("/movie/break-away")
    assert page.status_code == 200 and second in page.headers["ETag"]
    time.sleep(1.1)  # HTTP dates are in whole seconds
    assert run_kg(project, "rollback")[0] == 0
    again = client.get("/movie/break-away", headers={"If-Modified-Since": page.headers["Last-Modified"]})
    assert again.status_code == 200 and first in again.headers["ETag"]
    assert email.utils.parsedate_to_datetime(again.headers["Last-Modified"]) > \
        email.utils.parsedate_to_datetime(page.headers["Last-Modified"])


def test_a_worker_idle_while_the_later_release_was_current_dates_the_rolled_back_one_anew(project, run_kg):
    from server import create_app

    assert run_kg(project, "build")[0] == 0
    idle = create_app(root=project, cache_mb=0).test_client()
    assert idle.get("/movie/break-away").status_code == 200  # it has the first release open, then sleeps
    time.sleep(1.1)
    (project / "data" / "late.yaml").write_text(NEW_FILM, encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    later = create_app(root=project, cache_mb=0).test_client().get("/movie/break-away")
    time.sleep(1.1)
    assert run_kg(project, "rollback")[0] == 0
    again = idle.get("/movie/break-away", headers={"If-Modified-Since": later.headers["Last-Modified"]})
    assert again.status_code == 200


def test_rollback_with_nothing_older_is_refused(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    before = current(project / "var")
    code, output = run_kg(project, "rollback")
    assert code == 2 and "no release older than the current one" in output
    assert current(project / "var") == before


def test_rollback_before_any_build_says_there_is_no_release(project, run_kg):
    code, output = run_kg(project, "rollback")
    assert code == 2 and "cannot roll back: no release has been published here yet (`kg build` publishes one)" \
        in output, output


def test_rollback_to_an_unknown_release_is_refused(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    code, output = run_kg(project, "rollback", "0123456789ab")
    assert code == 2 and "no kept release '0123456789ab'" in output


def test_an_id_two_kept_releases_share_is_refused_naming_their_directories(project, run_kg):
    first, _ = _two_releases(project, run_kg)
    (project / "data" / "late.yaml").unlink()  # the edit undone: the first data again, built anew
    assert run_kg(project, "build")[0] == 0
    both = [line.split()[-1] for line in run_kg(project, "releases")[1].splitlines() if f" {first} " in line]
    assert len(both) == 2
    for command in (["rollback", first], ["diff", first]):
        code, output = run_kg(project, *command)
        assert code == 2 and f"2 kept releases have the id {first!r}" in output and all(d in output for d in both)
    assert run_kg(project, "rollback", both[0])[0] == 0  # a directory names one
    assert current(project / "var").name == both[0]


def test_an_id_shared_by_a_release_built_again_as_it_was_names_the_newest(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    assert run_kg(project, "build", "--full")[0] == 0  # the same data built anew: the same id, a second directory
    first = current(project / "var")
    (project / "data" / "late.yaml").write_text(NEW_FILM, encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    code, output = run_kg(project, "rollback", str(metadata(first)["id"]))
    assert code == 0 and current(project / "var").name == first.name, output


def test_an_id_shared_by_releases_that_do_not_say_what_they_redirect_is_refused(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    assert run_kg(project, "build", "--full")[0] == 0
    first = str(metadata(current(project / "var"))["id"])
    for release in (project / "var" / "releases").iterdir():
        (release / "moved.json").unlink(missing_ok=True)  # (as a release of a kg before redirects)
    code, output = run_kg(project, "rollback", first)
    assert code == 2 and f"2 kept releases have the id {first!r}" in output, output


def test_releases_before_any_build_says_so(project, run_kg):
    code, output = run_kg(project, "releases")
    assert code == 2 and "no release in " in output and "yet (the project at" in output


def test_the_newest_releases_are_kept_even_when_builds_share_a_timestamp(project, run_kg, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # every build has the same build time
    ids = []
    for n in range(5):
        (project / "data" / "late.yaml").write_text(NEW_FILM.replace("Late Addition", f"Late Addition {n}"),
                                                     encoding="utf-8")
        assert run_kg(project, "build")[0] == 0
        ids.append(str(metadata(current(project / "var"))["id"]))
    listed = [line[2:].split()[0] for line in run_kg(project, "releases")[1].splitlines()]
    assert listed == ids[-3:]  # the last three, in the order they were built
    assert run_kg(project, "rollback")[0] == 0
    assert metadata(current(project / "var"))["id"] == ids[-2]


def test_a_build_after_a_rollback_keeps_one_release_of_an_id(project, run_kg):
    first, second = _two_releases(project, run_kg)
    assert run_kg(project, "rollback")[0] == 0
    code, output = run_kg(project, "build")  # the data `second` was built from, unchanged: the same release again
    assert code == 0, output
    listed = [line[2:].split()[0] for line in run_kg(project, "releases")[1].splitlines()]
    assert listed == [first, second] and metadata(current(project / "var"))["id"] == second


def test_diff_shows_what_a_build_changed_with_the_graph_that_states_it(project, run_kg):
    first, second = _two_releases(project, run_kg)
    code, output = run_kg(project, "diff")
    assert code == 0, output
    statement = (f'<{BASE}movie/late-addition> <http://schema.org/name> "Late Addition" '
                 f"<{BASE}source/forum-post> .")
    lines = [line for line in output.splitlines() if line.startswith(("+ ", "- "))]
    assert f"+ {statement}" in lines
    assert not [line for line in lines if line.startswith("- ")]  # the build only added a film
    assert not [line for line in lines if "graph/release>" in line]  # not the releases' own descriptions
    assert f"0 statements removed, {len(lines)} added" in output
    backwards = run_kg(project, "diff", second, first)[1]
    assert f"- {statement}" in backwards.splitlines()


def test_diff_of_a_release_with_itself_is_empty(project, run_kg):
    first, _ = _two_releases(project, run_kg)
    code, output = run_kg(project, "diff", first, first)
    assert code == 0 and "0 statements removed, 0 added" in output


def test_diff_without_an_earlier_release_is_refused(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    code, output = run_kg(project, "diff")
    assert code == 2 and "no release older than the current one" in output


def test_an_earlier_release_s_iri_is_gone_naming_the_current_one(project, run_kg):
    from kg.config import load_config
    from server import create_app

    first, second = _two_releases(project, run_kg)
    app = create_app(load_config(project, query_workers=1, cache_mb=0))
    try:
        client = app.test_client()
        assert client.get(f"/release/{second}", headers={"Accept": "text/turtle"}).status_code == 200
        earlier = client.get(f"/release/{first}", headers={"Accept": "text/plain"})
        assert earlier.status_code == 410, earlier.get_data(as_text=True)  # a cited version: not unknown
        assert f"the current one is {BASE}release/{second}" in earlier.get_data(as_text=True)
        assert client.get("/release/0123456789ab").status_code == 404  # never one of these
    finally:
        app.extensions["kg.executors"].close()
