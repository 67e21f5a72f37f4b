"""A build's scratch folder: every temporary file of one build in one folder, swept once that build is gone."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from kg.errors import ENVIRONMENT, Failure

PREFIX = "kg-scratch-"
_NAME = re.compile(re.escape(PREFIX) + r"[a-z0-9_]{8}")  # as tempfile.mkdtemp names it
LOCK = "lock"  # held (flock) by the build and the workers it forks, for as long as any of them runs
SETTLE_S = 60.0  # a folder younger than this may be one whose build has not locked it yet
_ONE = threading.Lock()


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A folder for this build's temporary files, the default of `tempfile` while the block runs, removed after it;
    the folders of builds that were killed (out of memory, say: their lock is free) are removed first."""
    with _ONE:  # tempfile's default is the process's: a build in another thread waits (kg itself runs one)
        parent = Path(tempfile.gettempdir())
        sweep(parent)
        folder, lock = _made(parent)
        before = tempfile.tempdir
        try:
            tempfile.tempdir = str(folder)
            yield folder
        finally:
            tempfile.tempdir = before
            _remove(folder)
            os.close(lock)


def _made(parent: Path) -> tuple[Path, int]:
    """A new scratch folder in `parent`, and its lock, taken; a Failure (exit 3) when the folder cannot be made."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    except OSError as exc:
        raise _cannot(parent, exc) from exc
    try:
        lock = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        except BaseException:
            os.close(lock)
            raise
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _cannot(parent, exc) from exc
        raise
    return folder, lock


def _cannot(parent: Path, exc: OSError) -> Failure:
    return Failure(f"cannot make a folder for the build's temporary files in {parent}: {exc.strerror or exc}; "
                   "nothing was published", ENVIRONMENT)


def _remove(folder: Path) -> None:
    """Remove a scratch folder, its lock last and then the folder, empty: cut short, what is left is a folder with
    its lock, or an empty one, both of which `sweep` knows for a scratch folder."""
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry.name != LOCK:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    (folder / LOCK).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


def _ours(folder: Path) -> bool:
    """Whether `folder` can be a scratch folder this user's builds made: its name as `mkdtemp` makes it, a real
    folder, this user's, and private (a folder of that name made by anything else is never touched)."""
    try:
        made = folder.lstat()
    except OSError:
        return False
    return bool(_NAME.fullmatch(folder.name)) and stat.S_ISDIR(made.st_mode) and made.st_uid == os.getuid() \
        and stat.S_IMODE(made.st_mode) == 0o700


def sweep(parent: Path) -> list[Path]:
    """Remove the scratch folders in `parent` that no running build holds, and were made a minute ago or more; the
    ones removed. Only a folder that holds a lock (free) is removed with what is in it; one without is removed
    only when empty (its build was cut short before its lock, or as it removed its folder)."""
    removed = []
    for folder in sorted(parent.glob(PREFIX + "*")):
        if not _ours(folder):
            continue
        try:
            lock = os.open(folder / LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime >= SETTLE_S:
                    folder.rmdir()  # fails unless empty: nothing is taken that a build did not leave
                    removed.append(folder)
            continue
        except OSError:
            continue
        try:
            if time.time() - os.fstat(lock).st_mtime < SETTLE_S:
                continue  # its build may not have locked it yet
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its build (or a worker of it) is running
            _remove(folder)
            removed.append(folder)
        finally:
            os.close(lock)
    return removed
