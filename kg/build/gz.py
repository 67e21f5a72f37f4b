"""Reproducible gzip (no file name, no time) for the release's dumps and the shards' segments."""

from __future__ import annotations

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
                shutil.copyfileobj(src, out, 1 << 20)
