"""A build's scratch folder: every temporary file of one build in one folder, swept once that build is gone."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PREFIX = "kg-build-"
LOCK = "lock"  # held (flock) by the build and the workers it forks, for as long as any of them runs
SETTLE_S = 60.0  # a folder younger than this may be one whose build has not locked it yet


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A folder for this build's temporary files, the default of `tempfile` while the block runs, removed after it;
    the folders of builds that were killed (out of memory, say: their lock is free) are removed first."""
    parent = Path(tempfile.gettempdir())
    sweep(parent)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    lock = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    before = tempfile.tempdir
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tempfile.tempdir = str(folder)
        yield folder
    finally:
        tempfile.tempdir = before
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)


def sweep(parent: Path) -> list[Path]:
    """Remove the scratch folders in `parent` that no running build holds; the ones removed."""
    removed = []
    for folder in sorted(parent.glob(PREFIX + "*")):
        try:
            lock = os.open(folder / LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue  # not locked yet, or another user's
        try:
            if time.time() - os.fstat(lock).st_mtime < SETTLE_S:
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its build (or a worker of it) is running
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(lock)
    return removed
