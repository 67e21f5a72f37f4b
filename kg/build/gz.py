"""Reproducible gzip (no file name, no time) for the release's dumps and the shards' segments, files joined from
the parts of others, and one gzip member spliced from parts deflated apart."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from zlib_ng import gzip_ng as gzip  # the gzip module's format and API, deflate about twice as fast
from zlib_ng import zlib_ng as zlib

from kg.spliced import Splicer

GZIP_LEVEL = 6  # the default: most of level 9's size at a third of its time


def deflate(raw: BinaryIO) -> BinaryIO:
    """A gzip stream into `raw` that is the same for the same bytes (no file name, no time)."""
    return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="",  # type: ignore[no-untyped-call, return-value]
                         compresslevel=GZIP_LEVEL)


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


@dataclass(frozen=True)
class Deflated:
    """Bytes deflated on their own (raw deflate, sync-flushed: they end on a byte boundary and refer to nothing
    before them, so they follow any other such part): `length` bytes of it stand for `size` bytes whose CRC-32 is
    `crc`."""

    length: int
    size: int
    crc: int


EMPTY = Deflated(0, 0, 0)


def deflate_into(source: BinaryIO, out: BinaryIO) -> Deflated:
    """The rest of `source`, deflated on its own, appended to `out` (nothing for no bytes)."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    length = size = crc = 0
    while block := source.read(1 << 20):
        size += len(block)
        crc = zlib.crc32(block, crc)
        length += out.write(packer.compress(block))
    if size:
        length += out.write(packer.flush(zlib.Z_SYNC_FLUSH))
    return Deflated(length, size, crc)


def deflate_file(source: Path, target: Path) -> Deflated:
    """`source`, deflated on its own, as `target`."""
    with source.open("rb") as src, target.open("wb") as out:
        return deflate_into(src, out)


_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time, from an unknown system
_LAST = b"\x03\x00"  # an empty final block: the parts before it are not final


class Member:
    """One gzip member (what a browser takes as Content-Encoding: gzip) spliced (`kg.spliced`) from parts deflated
    apart (`Deflated`, named where they are) and from bytes given here (deflated when the next part comes)."""

    def __init__(self, out: Splicer) -> None:
        self.out, self.size, self.crc = out, 0, 0
        self._pending: list[bytes] = []
        out.write(_HEADER)

    def write(self, data: bytes) -> None:
        """Bytes to follow what was written so far."""
        self._pending.append(data)

    def part(self, name: str, offset: int, part: Deflated) -> None:
        """A part deflated apart, `part.length` bytes of the file `name` (in the splicer's parts) from `offset`, to
        follow what was written so far."""
        self._flush()
        self.out.part(name, offset, part.length)
        self._add(part)

    def deflated(self, data: bytes, part: Deflated) -> None:
        """A part deflated apart, given as its bytes, to follow what was written so far."""
        if len(data) != part.length:
            raise ValueError("deflated bytes that are not the part they are said to be")
        self._flush()
        self.out.write(data)
        self._add(part)

    def close(self, target: Path) -> int:
        """End the member (its last block, and the CRC-32 and size of everything it holds) as `target`; its size."""
        self._flush()
        self.out.write(_LAST + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        return self.out.close(target)

    def _add(self, part: Deflated) -> None:
        self.crc = zlib.crc32_combine(self.crc, part.crc, part.size)
        self.size += part.size

    def _flush(self) -> None:
        data = b"".join(self._pending)
        self._pending = []
        if data:
            packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
            self.out.write(packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH))
            self._add(Deflated(0, len(data), zlib.crc32(data)))
