"""A build keeps its temporary files in one folder of its own, removed after it, and swept once a killed build is gone."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from kg.build import scratch


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch) -> Path:
    """The temporary folder of this test's builds alone (other tests' builds may run meanwhile)."""
    folder = tmp_path / "temporary"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _left(folder: Path, age: float = 0.0) -> Path:
    """A scratch folder as a build leaves it, its lock `age` seconds old."""
    made = Path(tempfile.mkdtemp(prefix=scratch.PREFIX, dir=folder))
    (made / "kg-tasks-x").mkdir()
    (made / scratch.LOCK).touch()
    then = time.time() - age
    os.utime(made / scratch.LOCK, (then, then))
    return made


def _children(pid: int) -> set[int]:
    """The processes `pid` started that are running now (none when it has ended meanwhile)."""
    try:
        return {int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()}
    except (FileNotFoundError, ProcessLookupError):
        return set()


def _gone(pids: set[int]) -> bool:
    """Whether every process of `pids` has ended, waiting 60 s at most (a niced worker on a busy machine)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.05)
    return not any(Path(f"/proc/{p}").exists() for p in pids)


def _let_go(folder: Path) -> bool:
    """Whether no process has a file of `folder` open, waiting 60 s at most: a worker the killed build forked just
    before it was killed (after its children were listed) ends on its own, and holds the folder's lock until then."""
    def holding() -> bool:
        for fd in Path("/proc").glob("[0-9]*/fd/*"):
            try:
                if os.readlink(fd).startswith(str(folder)):
                    return True
            except OSError:
                continue
        return False

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and holding():
        time.sleep(0.05)
    return not holding()


def test_a_build_with_workers_leaves_nothing_in_the_temporary_folder(bulk_project, run_kg, temporary):
    assert run_kg(bulk_project, "build")[0] == 0
    assert list(temporary.iterdir()) == []


def test_a_build_files_its_temporary_files_in_its_scratch_folder_while_it_runs(temporary):
    with scratch.scratch() as folder:
        assert folder.parent == temporary and Path(tempfile.mkdtemp()).parent == folder
    assert not folder.exists() and tempfile.gettempdir() == str(temporary)


def test_the_folder_a_killed_build_left_is_swept_by_the_next_build(bulk_project, run_kg, temporary):
    assert run_kg(bulk_project, "build")[0] == 0
    proc = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(bulk_project), "build", "--full"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(temporary)})
    deadline = time.monotonic() + 60
    while not list(temporary.glob("*/kg-tasks-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)  # as the kernel's out-of-memory killer does: nothing of the build runs after
    proc.wait()
    left = list(temporary.glob(scratch.PREFIX + "*"))
    assert len(left) == 1 and _gone(workers) and _let_go(left[0])
    assert scratch.sweep(temporary) == []  # dead, but a minute has not passed: a build may be setting one up
    then = time.time() - 2 * scratch.SETTLE_S
    os.utime(left[0] / scratch.LOCK, (then, then))
    assert run_kg(bulk_project, "build")[0] == 0
    assert list(temporary.iterdir()) == []


def test_a_folder_whose_build_still_runs_is_not_swept(tmp_path):
    held = _left(tmp_path, age=2 * scratch.SETTLE_S)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time\n"
                               f"fd = os.open({str(held / scratch.LOCK)!r}, os.O_RDWR)\n"
                               "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert scratch.sweep(tmp_path) == [] and held.is_dir()
    finally:
        holder.kill()
        holder.wait()
    assert scratch.sweep(tmp_path) == [held] and not held.exists()


def test_a_young_folder_is_not_swept_even_unlocked(tmp_path):
    young = _left(tmp_path, age=1.0)  # its build may be between making it and locking it
    old = _left(tmp_path, age=2 * scratch.SETTLE_S)
    assert scratch.sweep(tmp_path) == [old] and young.is_dir()


def test_a_lock_held_in_this_process_keeps_its_folder(tmp_path):
    held = _left(tmp_path, age=2 * scratch.SETTLE_S)
    fd = os.open(held / scratch.LOCK, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # flock is per open file: the sweep's own open cannot take it
        assert scratch.sweep(tmp_path) == []
    finally:
        os.close(fd)


def test_an_empty_folder_left_without_its_lock_is_swept_once_old(tmp_path):
    cut = Path(tempfile.mkdtemp(prefix=scratch.PREFIX, dir=tmp_path))  # cut short before its lock was made
    assert scratch.sweep(tmp_path) == [] and cut.is_dir()  # young: a build may be about to lock it
    then = time.time() - 2 * scratch.SETTLE_S
    os.utime(cut, (then, then))
    assert scratch.sweep(tmp_path) == [cut] and not cut.exists()


def test_a_folder_without_a_lock_is_never_emptied(tmp_path):
    held = _left(tmp_path)
    (held / scratch.LOCK).unlink()
    then = time.time() - 2 * scratch.SETTLE_S
    os.utime(held, (then, then))
    assert scratch.sweep(tmp_path) == [] and (held / "kg-tasks-x").is_dir()


@pytest.mark.parametrize("name", ["kg-scratch-bench", "kg-scratch-bench-films", "kg-scratch-ABCDEFGH"])
def test_a_folder_that_only_looks_like_a_scratch_folder_is_never_touched(tmp_path, name):
    other = tmp_path / name  # say a benchmark's working folder, with a file named as the lock
    (other / "data").mkdir(parents=True, mode=0o700)
    other.chmod(0o700)
    (other / scratch.LOCK).touch()
    then = time.time() - 2 * scratch.SETTLE_S
    os.utime(other / scratch.LOCK, (then, then))
    os.utime(other, (then, then))
    assert scratch.sweep(tmp_path) == [] and (other / "data").is_dir()


def test_a_scratch_named_folder_that_is_not_private_is_never_touched(tmp_path):
    shared = _left(tmp_path, age=2 * scratch.SETTLE_S)
    shared.chmod(0o755)  # mkdtemp makes every scratch folder private: this one was made otherwise
    assert scratch.sweep(tmp_path) == [] and (shared / "kg-tasks-x").is_dir()


def test_a_temporary_folder_that_cannot_be_written_is_exit_3_naming_it(project, run_kg, monkeypatch, tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    code, output = run_kg(project, "build")
    assert code == 3 and f"cannot make a folder for the build's temporary files in {missing}" in output, output
    assert not (project / "var" / "current").exists()


def test_a_link_named_as_a_scratch_folder_is_never_followed(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    elsewhere = _left(tmp_path / "elsewhere", age=2 * scratch.SETTLE_S)  # a dead build's, as far as it shows
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / elsewhere.name).symlink_to(elsewhere)
    assert scratch.sweep(parent) == [] and (elsewhere / "kg-tasks-x").is_dir()
