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
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            _empty(fd)
        finally:
            os.close(fd)
        folder.rmdir()


def _empty(fd: int) -> None:
    """Empty the folder open as `fd`, through it (never through its path): its lock last."""
    for name in os.listdir(fd):
        if name != LOCK:
            if stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                shutil.rmtree(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(LOCK, dir_fd=fd)


def sweep(parent: Path) -> list[Path]:
    """Remove the scratch folders in `parent` that no running build holds, and were made a minute ago or more; the
    ones removed. Only a folder that holds a lock (free) is removed with what is in it; one without is removed
    only when empty (its build was cut short before its lock, or as it removed its folder)."""
    removed = []
    for folder in sorted(parent.glob(PREFIX + "*")):
        if not _NAME.fullmatch(folder.name):
            continue
        try:
            if _swept(folder):
                removed.append(folder)
        except OSError:
            continue  # left as it is: a sweep never fails a build
    return removed


def _swept(folder: Path) -> bool:
    """Remove one scratch folder if no build holds it; whether it was. Checked and emptied through one handle of
    the folder itself, never through its path again (which another user could point elsewhere meanwhile)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False  # not a folder (a link, say), or not ours to read
    try:
        made = os.fstat(fd)
        if made.st_uid != os.getuid() or stat.S_IMODE(made.st_mode) != 0o700:
            return False  # mkdtemp makes every scratch folder this user's and private: this one was made otherwise
        try:
            lock = os.open(LOCK, os.O_RDWR | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if time.time() - made.st_mtime < SETTLE_S:
                return False
            os.rmdir(folder)  # fails unless empty: nothing is taken that a build did not leave
            return True
        try:
            if time.time() - os.fstat(lock).st_mtime < SETTLE_S:
                return False  # its build may not have locked it yet
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # its build (or a worker of it) is running
            _empty(fd)
        finally:
            os.close(lock)
        os.rmdir(folder)  # (a link put in its place meanwhile is not a folder: refused)
        return True
    finally:
        os.close(fd)
