"""Publishing into a remote engine (Oxigraph server, real processes on 127.0.0.1): a release loads into an idle slot,
is verified there, and only then switched to; `/sparql` answers from it behind kg's guard and deadline; rollback
and republish move between slots."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import BASE, LiveServer, OxigraphServer, free_port
from kg.build import remote
from kg.config import ConfigError, load_config
from kg.engines import slot
from kg.layout import current, metadata


@pytest.fixture
def engines(tmp_path):
    servers = [OxigraphServer(tmp_path / f"slot-{n}") for n in range(2)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def engine_project(project, engines):
    urls = ", ".join(f'"{s.url}"' for s in engines)
    (project / "kg.toml").write_text(f'store = "oxigraph"\nslots = [{urls}]\n', encoding="utf-8")
    return project


def _release(project: Path) -> dict:
    found = current(project / "var")
    assert found is not None
    return metadata(found)


def _rows(client, query: str) -> list[list[str]]:
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.data
    return sorted(csv.reader(io.StringIO(r.get_data(as_text=True))))


def _served_films(project: Path) -> list[list[str]]:
    """The film names /sparql answers for the project (from its engine slot), as CSV rows."""
    app = _app(project)
    try:
        return _rows(app.test_client(), "SELECT ?n WHERE { ?f a schema:Movie ; schema:name ?n }")
    finally:
        app.extensions["kg.executors"].close()


def _app(project: Path, **settings):
    from server import create_app

    return create_app(load_config(project, query_workers=1, cache_mb=0, **settings))


def test_a_build_publishes_into_the_first_idle_slot_and_records_it(engine_project, engines, run_kg):
    code, output = run_kg(engine_project, "build")
    assert code == 0, output
    meta = _release(engine_project)
    assert meta["engine"]["slot"] == engines[0].url and meta["engine"]["statements"] == meta["counts"]["triples"]
    assert f"published into the oxigraph slot at {engines[0].url}" in output
    version = f"ASK {{ <{BASE}dataset> <http://purl.org/dc/terms/hasVersion> <{BASE}release/{meta['id']}> }}"
    assert slot("oxigraph", engines[0].url).ask(version)


def test_kg_info_names_the_engine_slot_serving_the_release(engine_project, engines, run_kg):
    code, output = run_kg(engine_project, "build")
    assert code == 0, output
    code, output = run_kg(engine_project, "info")
    assert code == 0 and f"engine     oxigraph, slot {engines[0].url}" in output
    assert "loaded in full" not in output


QUERIES = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "SELECT ?name ?year WHERE { ?film a schema:Movie ; schema:name ?name . OPTIONAL { ?film schema:dateCreated ?year } }",
    "SELECT ?n WHERE { movie:break-away schema:alternateName ?n }",
    "SELECT ?d WHERE { <movie/break-away> schema:duration ?d }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_endpoint_answers_from_the_engine_as_from_the_embedded_store(engine_project, run_kg, query):
    assert run_kg(engine_project, "build")[0] == 0
    remote_app, embedded_app = _app(engine_project), _app(engine_project, store="embedded", slots=())
    try:
        assert _rows(remote_app.test_client(), query) == _rows(embedded_app.test_client(), query)
    finally:
        for app in (remote_app, embedded_app):
            app.extensions["kg.executors"].close()


@pytest.mark.parametrize(("query", "status", "words"), [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 400, "SERVICE is not allowed"),
    ("INSERT DATA { <a:b> <a:c> <a:d> }", 403, "read-only"),
    ("SELEC ?x", 400, "SPARQL syntax error at line 1"),
    ("SELECT * FROM <http://example.org/elsewhere> WHERE { ?s ?p ?o }", 400, "not a graph of this dataset"),
])
def test_kgs_guard_answers_before_anything_reaches_the_engine(engine_project, run_kg, query, status, words):
    assert run_kg(engine_project, "build")[0] == 0
    app = _app(engine_project)
    try:
        r = app.test_client().get("/sparql", query_string={"query": query})
    finally:
        app.extensions["kg.executors"].close()
    assert r.status_code == status and words in r.get_data(as_text=True)


def test_a_slot_that_cannot_be_reached_is_a_503_that_names_no_address_and_says_when_to_retry(engine_project, engines,
                                                                                              run_kg, caplog):
    assert run_kg(engine_project, "build")[0] == 0
    served = _release(engine_project)["engine"]["slot"]
    next(s for s in engines if s.url == served).stop()
    app = _app(engine_project)
    try:
        r = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
    finally:
        app.extensions["kg.executors"].close()
    text = r.get_data(as_text=True)
    assert (r.status_code, r.headers.get("Retry-After")) == (503, "5")
    assert "did not answer" in text and "127.0.0.1" not in text and "Errno" not in text
    assert served in caplog.text  # the operator's log says where and what


def test_a_release_built_without_the_engine_settings_is_queried_from_its_own_store(engine_project, run_kg, write):
    assert run_kg(engine_project, "build")[0] == 0
    settings = (engine_project / "kg.toml").read_text(encoding="utf-8")
    (engine_project / "kg.toml").unlink()  # a build run in a shell without them
    write(engine_project, "late.yaml", "movies:\n  late-addition:\n    name: Late Addition\n")
    assert run_kg(engine_project, "build")[0] == 0
    assert "engine" not in _release(engine_project)
    (engine_project / "kg.toml").write_text(settings, encoding="utf-8")  # the server still has them
    assert ["Late Addition"] in _served_films(engine_project)


def test_kgs_deadline_holds_in_front_of_a_runaway_query(engine_project, run_kg):
    assert run_kg(engine_project, "build")[0] == 0
    server = LiveServer(engine_project, free_port())
    try:
        started = time.monotonic()
        r = requests.get(server.url + "/sparql", params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }", "timeout": "1"},
            timeout=30)
        took = time.monotonic() - started
    finally:
        server.stop()
    assert r.status_code == 503 and "timed out after 1 s" in r.text and took < 5


def test_the_next_build_loads_the_other_slot_and_leaves_the_served_one_alone(engine_project, engines, run_kg, write):
    assert run_kg(engine_project, "build")[0] == 0
    first = _release(engine_project)
    write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
    assert run_kg(engine_project, "build")[0] == 0
    second = _release(engine_project)
    assert second["engine"]["slot"] == engines[1].url
    def release_of(release_id: str) -> str:
        return f"ASK {{ <{BASE}dataset> <http://purl.org/dc/terms/hasVersion> <{BASE}release/{release_id}> }}"
    assert slot("oxigraph", engines[0].url).ask(release_of(first["id"]))  # untouched: a rollback can use it
    assert slot("oxigraph", engines[1].url).ask(release_of(second["id"]))


def test_rollback_switches_back_to_a_slot_that_still_holds_the_release(engine_project, run_kg, write):
    assert run_kg(engine_project, "build")[0] == 0
    first = _release(engine_project)["id"]
    write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
    assert run_kg(engine_project, "build")[0] == 0
    code, output = run_kg(engine_project, "rollback")
    assert code == 0, output
    assert _release(engine_project)["id"] == first
    names = _served_films(engine_project)
    assert ["A New Film"] not in names and ["Break Away"] in names


def test_rollback_refuses_a_release_whose_slot_was_reloaded_and_publish_brings_it_back(engine_project, run_kg,
                                                                                        write):
    ids = []
    for n in range(3):  # three releases over two slots: the first one's slot is reloaded by the third
        write(engine_project, "extra.yaml", f"movies:\n  film-{n}:\n    name: Film {n}\n")
        assert run_kg(engine_project, "build")[0] == 0
        ids.append(_release(engine_project)["id"])
    code, output = run_kg(engine_project, "rollback", ids[0])
    assert code == 2 and "no longer holds it" in output and f"kg publish {ids[0]}" in output
    assert _release(engine_project)["id"] == ids[2]  # nothing switched
    code, output = run_kg(engine_project, "publish", ids[0])
    assert code == 0, output
    assert _release(engine_project)["id"] == ids[0]


def test_kg_publish_keeps_its_temporary_files_in_a_scratch_folder_it_removes(engine_project, run_kg, monkeypatch):
    import tempfile

    assert run_kg(engine_project, "build")[0] == 0
    seen: list[str] = []
    real = remote.publish

    def publish(*args, **kwargs):
        seen.append(tempfile.gettempdir())  # where a Graph Store's per-graph files are split into
        return real(*args, **kwargs)

    monkeypatch.setattr(remote, "publish", publish)
    assert run_kg(engine_project, "publish")[0] == 0
    assert len(seen) == 1 and Path(seen[0]).name.startswith("kg-scratch-")  # swept if kg publish is killed
    assert not Path(seen[0]).exists()


def test_verification_refuses_a_slot_that_changed_a_literal(engine_project, engines, run_kg):
    # Virtuoso 7.2 rewrites "PT1H49M"^^xsd:duration to "6540.0": the parity check must see such a change
    assert run_kg(engine_project, "build")[0] == 0
    release = current(engine_project / "var")
    config = load_config(engine_project)
    target = slot("oxigraph", engines[1].url)
    remote.load(release, target, 60)
    want = remote.expected(release, config.base_iri)
    assert remote.verify(target, want, config.base_iri) == []
    target.update("""PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        DELETE { ?s ?p ?o } INSERT { ?s ?p "6540.0"^^xsd:decimal }
        WHERE { ?s ?p ?o FILTER(datatype(?o) = xsd:duration) }""")
    problems = remote.verify(target, want, config.base_iri)
    assert any("duration" in p and "does not read back" in p for p in problems)


def test_a_failed_publish_switches_nothing_and_the_served_release_stays(engine_project, engines, run_kg, write):
    assert run_kg(engine_project, "build")[0] == 0
    served = _release(engine_project)["id"]
    engines[1].stop()  # the idle slot is down
    write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
    code, output = run_kg(engine_project, "build")
    assert code == 3 and engines[1].url in output and "the previous release is still served" in output
    assert _release(engine_project)["id"] == served
    names = _served_films(engine_project)
    assert ["Break Away"] in names and ["A New Film"] not in names
    engines[1].start()
    assert run_kg(engine_project, "build")[0] == 0  # the next build retries, and publishes
    assert _release(engine_project)["engine"]["slot"] == engines[1].url


def test_an_unchanged_project_newly_pointed_at_an_engine_is_published(project, engines, run_kg):
    assert run_kg(project, "build")[0] == 0
    assert "engine" not in _release(project)
    (project / "kg.toml").write_text(f'store = "oxigraph"\nslots = ["{engines[0].url}", "{engines[1].url}"]\n')
    assert run_kg(project, "build")[0] == 0
    assert _release(project)["engine"]["slot"] == engines[0].url


@pytest.mark.parametrize(("settings", "words"), [
    ({"store": "oxigraph"}, "needs at least two slots"),
    ({"store": "oxigraph", "slots": "http://127.0.0.1:1"}, "needs at least two slots"),
    ({"store": "fuseki2", "slots": "http://127.0.0.1:1,http://127.0.0.1:2"}, "'fuseki2' is not a store"),
    ({"store": "oxigraph", "slots": "http://user:secret@127.0.0.1:1,http://127.0.0.1:2"}, "must not carry credentials"),
    ({"store": "oxigraph", "slots": "ftp://127.0.0.1:1,http://127.0.0.1:2"}, "not an engine's base URL"),
    ({"slots": "http://127.0.0.1:1,http://127.0.0.1:2"}, "only a remote store has slots"),
    ({"store": "oxigraph", "slots": "http://127.0.0.1:1/query,http://127.0.0.1:2"}, "is an endpoint of the engine"),
])
def test_bad_store_settings_are_refused_naming_the_setting(tmp_path, settings, words):
    with pytest.raises(ConfigError, match=words):
        load_config(tmp_path, **settings)


def test_publish_needs_an_engine(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    code, output = run_kg(project, "publish")
    assert code == 2 and "the store is embedded" in output


def test_engine_credentials_come_from_the_environment_only(engine_project, engines, run_kg, monkeypatch):
    monkeypatch.setenv("KG_ENGINE_USER", "kg")
    monkeypatch.setenv("KG_ENGINE_PASSWORD", "s3cret-value")
    code, output = run_kg(engine_project, "build")  # Oxigraph ignores the credentials; they must not be shown
    assert code == 0 and "s3cret-value" not in output
    assert "s3cret-value" not in (current(engine_project / "var") / "release.json").read_text()



def test_two_replicas_switch_and_roll_back_under_load_without_an_error_or_a_mixed_answer(engine_project, run_kg,
                                                                                       write):
    import threading

    assert run_kg(engine_project, "build")[0] == 0
    first = _release(engine_project)["id"]
    replicas = [LiveServer(engine_project, free_port()) for _ in range(2)]  # two `kg serve` over one release
    version = f"SELECT ?v WHERE {{ <{BASE}dataset> <http://purl.org/dc/terms/hasVersion> ?v }}"
    seen: list[tuple[int, tuple[str, ...]]] = []
    stop = threading.Event()

    def load() -> None:
        n = 0
        while not stop.is_set() and n < 600:  # bounded in count and in time
            r = requests.get(replicas[n % 2].url + "/sparql", params={"query": version},
                             headers={"Accept": "text/csv"}, timeout=10)
            seen.append((r.status_code, tuple(line for line in r.text.splitlines()[1:] if line)))
            n += 1

    workers = [threading.Thread(target=load) for _ in range(2)]
    try:
        for w in workers:
            w.start()
        write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
        assert run_kg(engine_project, "build")[0] == 0
        second = _release(engine_project)["id"]
        time.sleep(0.5)
        assert run_kg(engine_project, "rollback")[0] == 0
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
        for r in replicas:
            r.stop()
    releases = {f"{BASE}release/{first}", f"{BASE}release/{second}"}
    assert len(seen) > 20 and {status for status, _ in seen} == {200}
    assert all(len(versions) == 1 and versions[0] in releases for _, versions in seen)  # one release per answer
    assert {versions[0] for _, versions in seen} == releases  # both were served, one after the other


def test_replicas_of_a_release_give_the_same_validators(engine_project, run_kg, tmp_path):
    assert run_kg(engine_project, "build")[0] == 0
    copy = tmp_path / "replica"
    shutil.copytree(engine_project, copy, symlinks=True)  # another machine's copy of the same release,
    release = current(copy / "var")  # kept under another directory name
    assert release is not None
    moved = release.rename(release.with_name(release.name + "-copied"))
    (copy / "var" / "current").unlink()
    (copy / "var" / "current").symlink_to(moved.relative_to(copy / "var"))
    apps = [_app(engine_project), _app(copy)]
    try:
        pages = [app.test_client().get("/movie/break-away", headers={"Accept": "text/html"}) for app in apps]
    finally:
        for app in apps:
            app.extensions["kg.executors"].close()
    assert pages[0].headers["ETag"] == pages[1].headers["ETag"]
    assert pages[0].headers["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_a_build_killed_while_it_publishes_leaves_the_served_release_and_the_next_build_publishes(
        engine_project, engines, run_kg, write):
    assert run_kg(engine_project, "build")[0] == 0
    served = _release(engine_project)["id"]
    write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
    os.kill(engines[1].proc.pid, signal.SIGSTOP)  # the idle slot stalls: the build waits in the middle of its load
    build = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(engine_project), "build"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((engine_project / "var" / "releases").glob(".tmp-*")):
            time.sleep(0.1)
        time.sleep(2)  # well into the publish: the dumps and the store are written before it
        assert build.poll() is None
        os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=10)
    finally:
        os.kill(engines[1].proc.pid, signal.SIGCONT)
    assert _release(engine_project)["id"] == served
    names = _served_films(engine_project)
    assert ["Break Away"] in names and ["A New Film"] not in names
    code, output = run_kg(engine_project, "build")  # the next build sweeps what was left and publishes
    assert code == 0, output
    assert _release(engine_project)["engine"]["slot"] == engines[1].url
    assert not list((engine_project / "var" / "releases").glob(".tmp-*"))


@pytest.mark.parametrize("query, accept", [
    ("SELECT ?s ?n WHERE { ?s schema:name ?n } ORDER BY ?s ?n", "text/csv"),
    ("SELECT ?s ?n WHERE { ?s schema:name ?n } ORDER BY ?s ?n", "application/sparql-results+json"),
    ("CONSTRUCT { ?s schema:name ?n } WHERE { ?s schema:name ?n }", "application/n-triples"),
])
def test_an_engines_answer_is_cut_at_max_results_as_the_embedded_stores(engine_project, run_kg, query, accept):
    assert run_kg(engine_project, "build")[0] == 0
    apps = [_app(engine_project, max_results=3), _app(engine_project, max_results=3, store="embedded", slots=())]
    try:
        got = [app.test_client().get("/sparql", query_string={"query": query}, headers={"Accept": accept})
               for app in apps]
    finally:
        for app in apps:
            app.extensions["kg.executors"].close()
    assert [r.status_code for r in got] == [200, 200]
    assert got[0].headers["X-Result-Truncated"] == got[1].headers["X-Result-Truncated"] == "3"
    if query.startswith("SELECT"):
        assert got[0].data == got[1].data
    else:
        assert len(got[0].get_data(as_text=True).splitlines()) == 3


def test_an_engines_long_answer_is_cut_at_max_results_before_the_response_limit(engine_project, run_kg):
    assert run_kg(engine_project, "build")[0] == 0
    query = "SELECT ?s ?p ?o ?n WHERE { ?s ?p ?o VALUES ?n { " + " ".join(map(str, range(40))) + " } }"  # ~18,000 rows
    apps = [_app(engine_project, max_results=10, max_response_mb=1),
            _app(engine_project, max_results=10, max_response_mb=1, store="embedded", slots=())]
    try:
        got = [app.test_client().get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
               for app in apps]
    finally:
        for app in apps:
            app.extensions["kg.executors"].close()
    assert [(r.status_code, r.headers.get("X-Result-Truncated")) for r in got] == [(200, "10"), (200, "10")]


def test_a_server_follows_kg_publish_of_the_current_release_to_the_other_slot(engine_project, engines, run_kg):
    assert run_kg(engine_project, "build")[0] == 0
    assert _release(engine_project)["engine"]["slot"] == engines[0].url
    app = _app(engine_project)
    try:
        assert app.test_client().get("/movie/break-away").status_code == 200
        assert run_kg(engine_project, "publish")[0] == 0  # the same release, now in the other slot
        assert _release(engine_project)["engine"]["slot"] == engines[1].url
        engines[0].stop()
        assert app.test_client().get("/movie/break-away").status_code == 200
        assert _rows(app.test_client(), "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0] != ["n"]
    finally:
        app.extensions["kg.executors"].close()


def test_a_slot_another_project_loaded_is_not_served_from(engine_project, run_kg, tmp_path, caplog):
    assert run_kg(engine_project, "build")[0] == 0
    other = tmp_path / "other"  # another project given the same slots, built twice: it loads both
    shutil.copytree(engine_project / "data", other / "data")
    shutil.copytree(engine_project / "shapes", other / "shapes")
    shutil.copy(engine_project / "kg.toml", other / "kg.toml")
    (other / "data" / "extra.yaml").write_text("movies:\n  hijack:\n    name: Another Project's Film\n")
    assert run_kg(other, "build")[0] == 0
    (other / "data" / "extra.yaml").write_text("movies:\n  hijack:\n    name: Another Project's Film, again\n")
    assert run_kg(other, "build")[0] == 0
    app = _app(engine_project)
    try:
        got = {accept: app.test_client().get("/movie/break-away", headers={"Accept": accept})
               for accept in ("text/plain", "application/json", "text/html")}
    finally:
        app.extensions["kg.executors"].close()
    release = _release(engine_project)["id"]
    assert {(r.status_code, r.headers["Retry-After"], r.mimetype) for r in got.values()} == {
        (503, "5", "text/plain"), (503, "5", "application/json"), (503, "5", "text/html")}
    assert got["application/json"].get_json()["message"].startswith("This server cannot serve its release")
    for r in got.values():  # the engine's address is the operator's: in the log, never in a response
        assert "127.0.0.1" not in r.get_data(as_text=True) and "kg publish" not in r.get_data(as_text=True)
    assert f"no longer holds release {release}" in caplog.text and f"kg publish {release}" in caplog.text
    assert caplog.text.count(f"no longer holds release {release}") == 1  # said once, not for each of the requests


def test_a_replica_without_a_store_or_the_engine_settings_says_what_it_needs(engine_project, run_kg, tmp_path):
    assert run_kg(engine_project, "build")[0] == 0
    replica = tmp_path / "replica"
    shutil.copytree(engine_project / "var", replica / "var", symlinks=True, ignore=shutil.ignore_patterns("store"))
    app = _app(replica)  # no kg.toml: the embedded store
    try:
        got = app.test_client().get("/movie/break-away", headers={"Accept": "text/plain"})
    finally:
        app.extensions["kg.executors"].close()
    assert got.status_code == 503
    assert "no store of its own" in got.get_data(as_text=True) and "`store` and `slots`" in got.get_data(as_text=True)


def test_kg_query_and_kg_embed_on_a_replica_ask_the_engine(engine_project, run_kg, tmp_path):
    assert run_kg(engine_project, "build")[0] == 0
    replica = tmp_path / "replica"
    shutil.copytree(engine_project / "var", replica / "var", symlinks=True, ignore=shutil.ignore_patterns("store"))
    shutil.copy(engine_project / "kg.toml", replica / "kg.toml")
    code, output = run_kg(replica, "query", "SELECT ?n WHERE { movie:break-away schema:name ?n }")
    assert code == 0 and "Break Away" in output
    code, output = run_kg(replica, "embed", "break-away")
    assert code == 0 and '"name": "Break Away"' in output


def test_publishing_an_older_release_keeps_the_releases_in_build_order(engine_project, run_kg, write):
    from kg.layout import finished

    assert run_kg(engine_project, "build")[0] == 0
    first = _release(engine_project)["id"]
    write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
    assert run_kg(engine_project, "build")[0] == 0
    second = _release(engine_project)["id"]
    assert run_kg(engine_project, "publish", first)[0] == 0
    assert [metadata(p)["id"] for p in finished(engine_project / "var")] == [first, second]


def test_rollback_to_a_slot_that_cannot_be_reached_says_so(engine_project, engines, run_kg, write):
    assert run_kg(engine_project, "build")[0] == 0
    first = _release(engine_project)["id"]
    write(engine_project, "extra.yaml", "movies:\n  new-film:\n    name: A New Film\n")
    assert run_kg(engine_project, "build")[0] == 0
    engines[0].stop()  # the first release's slot
    code, output = run_kg(engine_project, "rollback")
    assert code == 2 and f"slot at {engines[0].url} cannot be reached" in output and f"kg publish {first}" in output
    assert _release(engine_project)["id"] != first  # nothing switched
