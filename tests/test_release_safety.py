"""Releases survive builds that fail, are killed at any point, or run out of disk; servers never see a mix."""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import LiveServer, free_port
from kg import spliced
from kg.layout import DUMPS, STORE_DIR, current


def _digest(release: Path) -> dict[str, str]:
    return {str(p.relative_to(release)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(release.rglob("*")) if p.is_file() and STORE_DIR not in p.parts}


def _complete(release: Path) -> bool:
    """A release is whole: its metadata, every dump at its recorded size, and a store that opens."""
    meta = json.loads((release / "release.json").read_text())
    if any(spliced.size(release / d.filename) != meta["dumps"][d.filename] for d in DUMPS):
        return False
    store = ox.Store.read_only(str(release / STORE_DIR))
    return len(store) > 0


def _build(root: Path, **popen) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "kg", "--root", str(root), "build"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, **popen)


def test_builds_killed_at_random_points_leave_a_whole_release(project, run_kg, write):
    assert run_kg(project, "build")[0] == 0
    rng = random.Random(20261125)
    for n in range(8):
        before = current(project / "var")
        snapshot = _digest(before)
        write(project, "extra.yaml", f"movies:\n  extra-{n}:\n    name: Extra {n}\n")
        proc = _build(project)
        time.sleep(rng.uniform(0.05, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = current(project / "var")
        assert after is not None and _complete(after)
        if after == before:
            assert _digest(before) == snapshot  # the old release is untouched
    assert run_kg(project, "build")[0] == 0  # and the next build cleans up and succeeds
    assert not list((project / "var" / "releases").glob(".tmp-*"))


def test_build_that_runs_out_of_disk_leaves_the_old_release(project, run_kg, write):
    assert run_kg(project, "build")[0] == 0
    before = current(project / "var")
    snapshot = _digest(before)
    write(project, "extra.yaml", "movies:\n  more:\n    name: More\n")

    def small_disk() -> None:  # writes past 20 kB fail with EFBIG, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    proc = _build(project, preexec_fn=small_disk)
    assert proc.wait() != 0
    assert current(project / "var") == before and _digest(before) == snapshot


def test_server_serves_old_or_new_release_never_a_mix_while_builds_run(project, run_kg, write):
    assert run_kg(project, "build")[0] == 0
    server = LiveServer(project, free_port(), {"KG_CACHE_MB": "0"})
    errors: list[str] = []
    seen: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            r = requests.get(server.url + "/sparql", params={
                "query": "SELECT ?r (COUNT(?m) AS ?n) WHERE { ?r a <http://www.w3.org/ns/prov#Entity> ; "
                         "<http://purl.org/dc/terms/isVersionOf> ?d . ?m a <http://schema.org/Movie> } GROUP BY ?r"},
                headers={"Accept": "application/sparql-results+json"}, timeout=30)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:100]}")
                continue
            rows = r.json()["results"]["bindings"]
            if len(rows) != 1:  # two releases' metadata visible at once would be a mix
                errors.append(f"mixed: {rows}")
            else:
                seen.add(rows[0]["n"]["value"])

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        for n in range(3):
            write(project, f"more-{n}.yaml", f"movies:\n  more-{n}:\n    name: More {n}\n")
            assert run_kg(project, "build")[0] == 0
            time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
        server.stop()
    assert errors == []
    assert len(seen) >= 2  # the new releases were picked up without a restart


def test_server_survives_its_release_directory_disappearing(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    server = LiveServer(project, free_port(), {"KG_CACHE_MB": "0"})
    try:
        assert requests.get(server.url + "/movie/break-away", timeout=30).status_code == 200
        release = current(project / "var")
        os.rename(release, release.with_name(release.name + "-moved"))
        statuses = {requests.get(server.url + path, timeout=30).status_code
                    for path in ("/movie/break-away", "/sparql?query=ASK%7B%7D", "/download/kg.ttl", "/")}
        assert statuses <= {200, 503}
        os.rename(release.with_name(release.name + "-moved"), release)
        assert run_kg(project, "build")[0] == 0
        assert requests.get(server.url + "/movie/break-away", timeout=30).status_code == 200
    finally:
        server.stop()


def test_a_second_build_waits_for_the_one_running_and_neither_loses_its_release(project, run_kg):
    import fcntl

    from kg.build.publish import LOCK_FILE

    assert run_kg(project, "build")[0] == 0  # var/ exists, with a release
    before = current(project / "var")
    with (project / "var" / LOCK_FILE).open("a+") as lock:  # stands for a build in progress
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write("4242")
        lock.flush()
        (project / "data" / "extra.yaml").write_text("movies:\n  extra:\n    name: Extra\n", encoding="utf-8")
        waiting = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(project), "build"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None and current(project / "var") == before  # waits, publishes nothing yet
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "another build of this project is running (pid 4242)" in err
    assert current(project / "var") != before


def _tree_of_files(root: Path) -> list[Path]:
    files = [root / "a", root / "sub" / "b", root / "sub" / "deeper" / "c"]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    return files


def test_a_release_is_made_durable_by_one_sync_of_its_file_system(tmp_path: Path, monkeypatch):
    from kg.build import publish

    _tree_of_files(tmp_path)
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    publish.fsync_tree(tmp_path)
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        assert publish._syncfs(fd) and synced == []  # Linux: syncfs(2), no fsync each
    finally:
        os.close(fd)


def test_without_syncfs_every_file_of_a_release_is_fsynced(tmp_path: Path, monkeypatch):
    from kg.build import publish

    files = _tree_of_files(tmp_path)
    synced: list[int] = []
    monkeypatch.setattr(publish, "_syncfs", lambda fd: False)
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.fstat(fd).st_ino))
    publish.fsync_tree(tmp_path)
    assert sorted(synced) == sorted(f.stat().st_ino for f in files)


def _children(pid: int) -> set[int]:
    """The processes `pid` started that are still running, theirs too."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        try:
            for task in Path(f"/proc/{todo.pop()}/task").iterdir():
                new = {int(c) for c in (task / "children").read_text().split()}
                todo += new - found
                found |= new
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


@pytest.mark.parametrize("group", [False, True])  # the build alone, or it and its workers (a terminal, systemd)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])  # a service manager's stop; Ctrl-C
def test_a_stopped_build_leaves_no_temporary_folder_nor_worker(bulk_project, run_kg, tmp_path, stop, group):
    assert run_kg(bulk_project, "build")[0] == 0
    before = current(bulk_project / "var")
    snapshot = _digest(before)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(bulk_project), "build", "--full"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ,
                                                                                    "TMPDIR": str(temporary)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
                            start_new_session=True)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while not (workers and list(temporary.glob("*/kg-tasks-*"))) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
        workers = _children(proc.pid)
    assert workers, "the build had no worker at work to stop"
    if group:
        os.killpg(proc.pid, stop)
    else:
        proc.send_signal(stop)
    _, said = proc.communicate(timeout=60)
    assert proc.returncode == 128 + stop and f"kg: stopped by {stop.name}".encode() in said, said[-500:]
    assert list(temporary.iterdir()) == []
    assert not list((bulk_project / "var" / "releases").glob(".tmp-*"))
    assert current(bulk_project / "var") == before and _digest(before) == snapshot
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in workers):
        time.sleep(0.05)
    assert not [p for p in workers if Path(f"/proc/{p}").exists()]


def test_a_stop_while_the_release_is_switched_to_waits_for_the_switch_and_says_it_was_published(project, run_kg,
                                                                                               monkeypatch):
    import kg.build.pipeline

    (project / "kg.toml").write_text("keep_releases = 1\n", encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    first = current(project / "var")
    real = kg.build.pipeline.prune

    def stopped_then_pruned(*args):
        os.kill(os.getpid(), signal.SIGTERM)  # a service manager's stop, as the kept releases are pruned
        real(*args)

    monkeypatch.setattr(kg.build.pipeline, "prune", stopped_then_pruned)
    code, output = run_kg(project, "build", "--full")
    now = current(project / "var")
    assert code == 128 + signal.SIGTERM and now != first
    assert f"kg: published release {now.name.split('-')[1]}, then stopped by SIGTERM" in output, output
    assert not first.exists()  # pruned: the stop waited for it
