"""Where a release lives on disk: the directory layout, its dumps, and which release is current.

Read by the server, written by `kg.release`; deliberately light (no rdflib, no SHACL) so serving stays small.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .formats import Format, named

CURRENT = "current"
RELEASES = "releases"
METADATA = "release.json"
VOID_FILE = "void.ttl"
STORE_DIR = "store"
WIRE_DIR = "wire"  # gzip copies of the uncompressed dumps, sent with Content-Encoding: gzip


@dataclass(frozen=True)
class Dump:
    """One downloadable file of a release."""

    filename: str
    format: Format
    gzipped: bool = False

    @property
    def media_type(self) -> str:
        return "application/gzip" if self.gzipped else self.format.media_type


DUMPS: tuple[Dump, ...] = (
    Dump("kg.ttl", named("turtle")),
    Dump("kg.nt.gz", named("ntriples"), gzipped=True),
    Dump("kg.jsonld", named("jsonld")),
    Dump("kg.trig", named("trig")),
    Dump("kg.nq.gz", named("nquads"), gzipped=True),
)


def current(root: Path) -> Path | None:
    """The directory of the release being served, if there is one."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    path = (root / target).resolve()
    return path if (path / METADATA).exists() else None


def finished(root: Path) -> list[Path]:
    """Every finished release kept under `root`, oldest first.

    By when each was written, not by name: a name starts with the build time, which is the same for every build
    under SOURCE_DATE_EPOCH and has one-second steps.
    """
    releases = root / RELEASES
    if not releases.is_dir():
        return []
    done = [p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / METADATA).exists()]
    return sorted(done, key=lambda p: ((p / METADATA).stat().st_mtime_ns, p.name))


def metadata(release_dir: Path) -> dict[str, object]:
    """The release's own description (release.json)."""
    data: dict[str, object] = json.loads((release_dir / METADATA).read_text(encoding="utf-8"))
    return data
