"""Publishing releases: one build at a time (a lock), the atomic switch of `current`, rollback, pruning."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kg.build.store import delta
from kg.ids import Minter
from kg.layout import (
    CURRENT,
    DUMPS,
    MOVED_FILE,
    RELEASES,
    current,
    finished,
    metadata,
)

LOCK_FILE = ".build.lock"
RETIRED = ".retired-"  # a release pruned, being deleted (a build sweeps what a killed deleter left)
RETIRED_GRACE = 600.0  # seconds a retired release is left to its deleter before a build sweeps it
_DELETE = ("import os, shutil, sys\nif os.fork(): os._exit(0)\nos.setsid()\n"
           "for p in sys.argv[1:]: shutil.rmtree(p, True)")


@contextlib.contextmanager
def build_lock(root: Path, say: Callable[[str], None]) -> Iterator[None]:
    """One publishing build per project at a time: a second one waits for the first (the lock goes with its process)."""
    with (root / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            say(f"kg: another build of this project is running (pid {holder}); waiting for it to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fsync_tree(path: Path) -> None:
    """Make every file under `path` durable: one syncfs(2) of its file system where the C library has it (a release
    holds hundreds of files, and an fsync of each waits for a journal commit of its own), else an fsync each."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _syncfs(fd):
            return
    finally:
        os.close(fd)
    for p in path.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _syncfs(fd: int) -> bool:
    """Whether the file system holding `fd` was synced whole."""
    try:
        return int(ctypes.CDLL(None, use_errno=True).syncfs(fd)) == 0
    except (OSError, AttributeError):  # not Linux, or no such call
        return False


def switch(root: Path, release_dir: Path) -> None:
    """Point `current` at a release in one atomic rename: readers see the old release or the new one."""
    link = root / CURRENT
    tmp = root / f".{CURRENT}-{os.getpid()}-{time.time_ns()}"
    os.symlink(os.path.relpath(release_dir, root), tmp)
    os.replace(tmp, link)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def find_release(root: Path, target: str | None = None) -> Path:
    """A kept release: the one whose id or directory is `target`, or (None) the one before the current.

    Raises LookupError when there is no such release.
    """
    kept = finished(root)
    if target is None:
        live = current(root)
        names = [p.name for p in kept]
        earlier = kept[:names.index(live.name)] if live is not None and live.name in names else kept
        if not kept:
            raise LookupError("no release has been published here yet (`kg build` publishes one)")
        if not earlier:
            raise LookupError("no release older than the current one is kept")
        return earlier[-1]
    named = [p for p in kept if p.name == target]
    matches = named or [p for p in kept if str(metadata(p).get("id")) == target]
    if not matches:
        raise LookupError(f"no kept release {target!r} (kg releases lists them)")
    if len(matches) > 1 and len(moved := {_moved(p) for p in matches}) == 1 and None not in moved:  # rebuilt as it was
        return matches[-1]
    if len(matches) > 1:  # one content built more than once (an edit undone): what each redirects or has gone differs
        raise LookupError(f"{len(matches)} kept releases have the id {target!r} (the same data built more than "
                          f"once): name one by its directory: {', '.join(p.name for p in matches)}")
    return matches[0]


def _moved(release: Path) -> bytes | None:
    """What the release redirects and has gone (its file's bytes), which two releases of one content may differ in."""
    try:
        return (release / MOVED_FILE).read_bytes()
    except OSError:
        return None


def rollback(root: Path, target: str | None = None) -> Path:
    """Make an earlier release current (see `find_release`); the server follows `current`, so it serves it at once."""
    chosen = find_release(root, target)
    with build_lock(root, lambda _: None):  # not while a build is about to switch
        switch(root, chosen)
    return chosen


def changes(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """The statements (N-Quads lines, each with its source graph) only in release `old`, and only in `new`, sorted;
    the releases' descriptions of themselves, which differ every time, left out."""
    named = next(d for d in DUMPS if d.format.name == "nquads")
    gone, added, _ = delta(old / named.filename, new / named.filename)
    own = f"<{Minter(str(metadata(new).get('base_iri', ''))).release_graph().value}> .".encode()

    def lines(found: list[bytes]) -> list[str]:
        return sorted(line.decode("utf-8").rstrip("\n") for line in found if not line.rstrip().endswith(own))
    return lines(gone), lines(added)


def sweep(releases: Path) -> None:
    """Remove what killed builds (or deleters of retired releases) left behind (never a finished release)."""
    now = time.time()
    for p in releases.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in releases.glob(RETIRED + "*"):  # one retired a moment ago is its deleter's: this build does not wait
        with contextlib.suppress(OSError):
            if now - p.lstat().st_ctime > RETIRED_GRACE:
                shutil.rmtree(p, ignore_errors=True)


def sweep_unless_building(root: Path) -> None:
    """Remove what killed builds left behind, unless a build is running (it swept when it started, and what is
    there now is its own); a project whose releases cannot be written is left as it is."""
    releases = root / RELEASES
    if not releases.is_dir():
        return
    try:
        with (root / LOCK_FILE).open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                sweep(releases)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    except OSError:  # BlockingIOError: a build holds the lock
        return


def prune(root: Path, keep: int) -> None:
    """Retire the oldest finished releases beyond `keep`, never the current one: each is renamed out of the
    releases at once, and deleted by a process of its own that the build does not wait for (deleting a release
    of a large graph takes seconds of disk work, after the new one is published)."""
    live = current(root)
    _retire([old for old in (finished(root)[:-keep] if keep > 0 else []) if live is None or old.resolve() != live])


def retire_twins(root: Path, release: Path) -> None:
    """Retire the kept releases of `release`'s id but `release` and the current one (after a rollback, a build
    makes again a later release it rolled back from: the same bytes), so that an id names one release and a twin
    never takes a distinct release's place."""
    same = str(metadata(release).get("id"))
    live = current(root)
    _retire([old for old in finished(root) if old.name != release.name and (live is None or old.resolve() != live)
             and _id_of(old) == same])


def _id_of(release: Path) -> str | None:
    try:
        return str(metadata(release).get("id"))
    except (OSError, ValueError):
        return None


def _retire(releases: list[Path]) -> None:
    """Rename releases out of the kept ones at once, and delete them in a process the build does not wait for."""
    retired: list[str] = []
    for old in releases:
        with contextlib.suppress(OSError):
            os.rename(old, gone := old.with_name(RETIRED + old.name))
            retired.append(str(gone))
    if retired:  # the child forks the deleter and exits at once: nothing is left for this process to wait for
        with contextlib.suppress(OSError):  # the release is published: a deleter that cannot start leaves them
            subprocess.run([sys.executable, "-I", "-S", "-c", _DELETE, *retired], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
