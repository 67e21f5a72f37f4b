"""Reproducible gzip (no file name, no time) for the release's dumps and the shards' segments, and files joined
from the parts of others."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from zlib_ng import gzip_ng as gzip  # the gzip module's format and API, deflate about twice as fast

GZIP_LEVEL = 6  # the default: most of level 9's size at a third of its time


def deflate(raw: BinaryIO) -> BinaryIO:
    """A gzip stream into `raw` that is the same for the same bytes (no file name, no time)."""
    return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="",  # type: ignore[no-untyped-call, return-value]
                         compresslevel=GZIP_LEVEL)


def gzip_file(source: Path, target: Path) -> None:
    """`source`, gzipped, as `target`."""
    with source.open("rb") as src, target.open("wb") as raw, deflate(raw) as gz:
        shutil.copyfileobj(src, gz, 1 << 20)


def concatenate(parts: list[Path], target: Path) -> None:
    """The files one after the other, as `target` (gzip members concatenate into one gzip file)."""
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                copy_range(src, 0, part.stat().st_size, out)


def copy_range(source: BinaryIO, offset: int, length: int, out: BinaryIO) -> int:
    """Append `length` bytes of `source`, from `offset`, to `out`: copied by the kernel where it can, never through
    this process's memory; how many were copied (fewer only where `source` ends first)."""
    out.flush()
    at, done = out.tell(), 0
    try:
        while done < length:
            copied = os.copy_file_range(source.fileno(), out.fileno(), length - done, offset + done, at + done)
            if not copied:
                break
            done += copied
    except OSError:  # not here (another file system, an older kernel): through memory
        source.seek(offset + done)
        out.seek(at + done)
        while done < length and (block := source.read(min(1 << 20, length - done))):
            out.write(block)
            done += len(block)
        return done
    out.seek(at + done)
    return done
