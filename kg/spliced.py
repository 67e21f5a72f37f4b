"""Files kept as the ranges of other files they are made of (a dump made of its shards' pieces): written by the
build, read back and sent whole or in part by the server, as if they were one file."""

from __future__ import annotations

import bisect
import errno
import io
import json
import os
import re
import resource
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SUFFIX = ".parts"  # `kg.ttl.parts` lists the ranges `kg.ttl` is made of, beside where `kg.ttl` would be
PARTS_DIR = "parts"  # the files the ranges are in: in the directory of the list, or (its "up" 1) the one above
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a part's file name: nothing that leaves PARTS_DIR


@dataclass(frozen=True)
class Range:
    """`length` bytes of the file `name` (in PARTS_DIR), from `offset`."""

    name: str
    offset: int
    length: int


class Splicer:
    """Writes a spliced file into `directory`: bytes given here go into a file of its own (`glue`, in PARTS_DIR,
    written at `close`: heads, separators, tails, all small), parts are named where they already are."""

    def __init__(self, directory: Path, glue: str) -> None:
        self.directory, self.glue_name = directory, glue
        self._glue = io.BytesIO()
        self.ranges: list[Range] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        """Bytes to follow what was written so far."""
        if data:
            self._add(Range(self.glue_name, self._glue.tell(), len(data)))
            self._glue.write(data)

    def part(self, name: str, offset: int, length: int) -> None:
        """`length` bytes of the file `name` (in PARTS_DIR) from `offset`, to follow what was written so far."""
        if length:
            self._add(Range(name, offset, length))

    def close(self, target: Path) -> int:
        """Write the glue, and the list of ranges as `target` + SUFFIX (in `directory`, or a directory of it); the
        spliced file's size."""
        up = len(target.parent.relative_to(self.directory).parts)
        if up > 1:
            raise ValueError(f"{target} is too far below {self.directory} for its parts")
        (self.directory / PARTS_DIR).mkdir(exist_ok=True)
        (self.directory / PARTS_DIR / self.glue_name).write_bytes(self._glue.getvalue())
        listed = {"size": self.size, "ranges": [[r.name, r.offset, r.length] for r in self.ranges], **(
            {"up": up} if up else {})}
        target.with_name(target.name + SUFFIX).write_text(json.dumps(listed, separators=(",", ":")) + "\n")
        return self.size

    def _add(self, found: Range) -> None:
        last = self.ranges[-1] if self.ranges else None
        if last is not None and last.name == found.name and last.offset + last.length == found.offset:
            self.ranges[-1] = Range(last.name, last.offset, last.length + found.length)
        else:
            self.ranges.append(found)
        self.size += found.length


def _ranges(path: Path) -> tuple[int, list[Range], Path]:
    """The size and ranges a spliced file's list gives, and the directory of their files (ValueError: it is not
    one kg wrote)."""
    listed = json.loads((path.with_name(path.name + SUFFIX)).read_bytes(), parse_constant=_no_constant)
    size, ranges = listed.get("size") if isinstance(listed, dict) else None, listed.get("ranges")
    up = listed.get("up", 0) if isinstance(listed, dict) else None
    if type(size) is not int or not isinstance(ranges, list) or up not in (0, 1) or type(up) is not int or not all(
            isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and _NAME.fullmatch(r[0])
            and type(r[1]) is int and type(r[2]) is int and r[1] >= 0 and r[2] > 0 for r in ranges) or \
            sum(r[2] for r in ranges) != size:
        raise ValueError(f"{path}{SUFFIX} is not a list of ranges kg wrote")
    return size, [Range(*r) for r in ranges], (path.parent.parent if up else path.parent) / PARTS_DIR


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is no size")


def exists(path: Path) -> bool:
    """Whether `path` is a file, or a spliced one."""
    return path.is_file() or path.with_name(path.name + SUFFIX).is_file()


def size(path: Path) -> int:
    """The size of `path`, a file or a spliced one (OSError: neither)."""
    if path.is_file():
        return path.stat().st_size
    try:
        return _ranges(path)[0]
    except (ValueError, AttributeError) as exc:
        raise OSError(f"{path}: {exc}") from exc


class Busy(OSError):
    """The descriptors a budget (`Descriptors`) lets spliced files hold are taken."""


class Descriptors:
    """The file descriptors the spliced files opened with this budget (`open_file`) may hold at once: half of the
    process's limit of open files, so that a burst of downloads (each holds every part of its dump open, one per
    shard) leaves the rest to sockets, the store and everything else. A file that needs more than is left is refused
    (`Busy`), never waited for; one that needs more than the whole budget is let in alone."""

    def __init__(self) -> None:
        # re-entrant: a file left unclosed gives its descriptors back when collected, which may be inside `take`
        self._lock = threading.RLock()
        self.held = 0

    def take(self, n: int) -> bool:
        """Whether `n` more may be held (then they are)."""
        allowed = resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2
        with self._lock:
            if self.held and self.held + n > allowed:
                return False
            self.held += n
            return True

    def give(self, n: int) -> None:
        """`n` held no more."""
        if n:
            with self._lock:
                self.held -= n


def open_file(path: Path, budget: Descriptors | None = None) -> BinaryIO:
    """`path` open for reading, a file or a spliced one (seekable; OSError: neither, or a part is missing or
    shorter than its ranges); with a `budget`, a spliced one takes its descriptors from it until closed (Busy: they
    are taken)."""
    if path.is_file():
        return path.open("rb")
    try:
        _, ranges, parts = _ranges(path)
    except (ValueError, AttributeError) as exc:
        raise OSError(f"{path}: {exc}") from exc
    needed = len({r.name for r in ranges})
    if budget is not None and not budget.take(needed):
        raise Busy(errno.EMFILE, f"the {needed} files of {path.name} would be more than its budget of descriptors "
                                 "has left")
    try:
        reader = _Reader(parts, ranges)
    except BaseException:
        if budget is not None:
            budget.give(needed)
        raise
    reader.budget, reader.taken = budget, needed
    return io.BufferedReader(reader, buffer_size=1 << 20)


def read_bytes(path: Path) -> bytes:
    """All of `path`, a file or a spliced one."""
    with open_file(path) as f:
        return f.read()


class _Reader(io.RawIOBase):
    """The ranges read one after the other as one file. Every file they are in is opened at once and held until
    closed: a download goes on to its end when its release is retired (renamed, then deleted) meanwhile."""

    budget: Descriptors | None = None  # what it takes its descriptors from (`open_file`), given back by `close`
    taken = 0

    def __init__(self, directory: Path, ranges: list[Range]) -> None:
        super().__init__()
        self._fds: dict[str, int] = {}
        try:
            for name in dict.fromkeys(r.name for r in ranges):
                self._fds[name] = os.open(directory / name, os.O_RDONLY)
            sizes = {name: os.fstat(fd).st_size for name, fd in self._fds.items()}
        except OSError:
            self.close()
            raise
        for r in ranges:
            if sizes[r.name] < r.offset + r.length:
                self.close()
                raise OSError(f"{directory / r.name} ends before the range of it a spliced file holds")
        self.directory, self.ranges = directory, ranges
        self.starts = [0]
        for r in ranges:
            self.starts.append(self.starts[-1] + r.length)
        self.at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.at

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence not in (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END):
            raise ValueError(f"invalid whence ({whence})")
        at = offset + {os.SEEK_SET: 0, os.SEEK_CUR: self.at, os.SEEK_END: self.starts[-1]}[whence]
        if at < 0:
            raise ValueError(f"negative seek position {at}")
        self.at = at
        return at

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read of a closed file")
        n = bisect.bisect_right(self.starts, self.at) - 1
        if n >= len(self.ranges) or not len(buffer):
            return 0
        r = self.ranges[n]
        within = self.at - self.starts[n]
        wanted = min(len(buffer), r.length - within)
        got = os.preadv(self._fds[r.name], [memoryview(buffer)[:wanted]], r.offset + within)
        if got <= 0:
            raise OSError(f"{self.directory / r.name} ends before the range of it a spliced file holds")
        self.at += got
        return got

    def close(self) -> None:
        for fd in getattr(self, "_fds", {}).values():
            os.close(fd)
        self._fds = {}
        if self.budget is not None:
            taken, self.taken = self.taken, 0
            self.budget.give(taken)
        super().close()
