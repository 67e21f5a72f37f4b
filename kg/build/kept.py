"""What a build keeps for the next one: files found again by the digest of what made them."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Kept:
    """Where this build keeps what the next may read back (None: nothing kept), where the previous release kept
    its own (None: everything made anew), and a digest of what everything kept depends on besides the statements
    (kg, the shapes, the vocabularies, the base IRI)."""

    context: str
    into: Path | None = None
    previous: Path | None = None


def digest(*parts: bytes) -> str:
    """A digest of the parts, each told from the next."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()


_AHEAD: dict[Path, Any] = {}  # objects of the previous release's kept files, read before they were asked for
_MISSING = object()
# what unpickling a damaged file raises (a protocol it does not know: ValueError)
_UNREADABLE = (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, ValueError)


def read_ahead(paths: list[Path], most: int) -> Callable[[], bool]:
    """A step of reading ahead: each call reads one of the files (up to `most` bytes of them in all, in order) into
    memory for `read_back` and `previous_object` to give, and says whether there is more to read. For a build that
    would otherwise wait (for a worker reading a bulk file again): what later stages read back then costs nothing."""
    left = list(reversed(paths))
    budget = most

    def step() -> bool:
        nonlocal budget
        while left:
            path = left.pop()
            try:
                size = path.stat().st_size
                if size > budget:
                    left.clear()
                    break
                budget -= size
                _AHEAD[path] = pickle.loads(path.read_bytes())
                return bool(left)
            except Exception:  # noqa: BLE001 - reading ahead never fails a build: asked for later, the file is read
                continue  # then, and found wanting then, by the stage that knows what to do without it
        return False

    return step


def forget_ahead(prefix: str = "") -> None:
    """Let go of what was read ahead and not asked for (of the files whose names start with `prefix`): once the
    stage that asks for them is done, or a worker was forked to ask for them."""
    for path in [p for p in _AHEAD if p.name.startswith(prefix)]:
        del _AHEAD[path]


def _loaded(path: Path) -> Any:
    """The object kept in `path`: the one read ahead (given once), else read now."""
    found = _AHEAD.pop(path, _MISSING)
    return pickle.loads(path.read_bytes()) if found is _MISSING else found


def read_back(kept: Kept, name: str) -> Any:
    """The object the previous release kept as `name`, now kept by this build too (a link, not written again);
    None when there is none or it cannot be read."""
    if kept.previous is None:
        return None
    path = kept.previous / name
    try:
        found = _loaded(path)  # our own file, written by the same kg (the context holds kg's)
    except (OSError, *_UNREADABLE):
        return None
    if kept.into is not None:
        link(path, kept.into / name)
    return found


def link_kept(kept: Kept, name: str) -> None:
    """The previous release's kept file `name`, kept by this build too (a link)."""
    if kept.previous is not None and kept.into is not None:
        link(kept.previous / name, kept.into / name)


def link(source: Path, target: Path) -> None:
    """`target` the same file as `source` (a hard link; a copy where the file system has none), in place of any file
    of that name: never written through, which would change another release's file linked there too."""
    try:
        os.link(source, target)
        return
    except OSError as exc:
        if not isinstance(exc, FileExistsError) and not source.is_file():
            raise
    made = target.with_name(f".{target.name}.{os.getpid()}.link")
    made.unlink(missing_ok=True)  # a leftover of a build killed here
    try:
        try:
            os.link(source, made)
        except OSError:
            shutil.copyfile(source, made)
        os.replace(made, target)
    except BaseException:
        made.unlink(missing_ok=True)
        raise


def keep(kept: Kept, name: str, found: object) -> None:
    """Keep the object as `name` for the next build."""
    if kept.into is not None:
        (kept.into / name).write_bytes(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))


def previous_object(kept: Kept | None, name: str) -> Any:
    """The object the previous release kept as `name` (not kept again); None when there is none."""
    if kept is None or kept.previous is None:
        return None
    try:
        return _loaded(kept.previous / name)
    except (OSError, *_UNREADABLE):
        return None
