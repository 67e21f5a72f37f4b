"""What a release is built from: digests of the inputs, the settings and kg itself, and whether anything changed."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import os
from collections.abc import Iterable
from pathlib import Path

from kg.build.sources import input_files, source_files
from kg.build.store import STORE_FORMAT
from kg.build.validate import shapes_digest, shapes_files
from kg.config import Config
from kg.layout import (
    STORE_DIR,
    current,
    metadata,
)

ENGINES = ("pyoxigraph", "rdflib", "pyshacl")  # another version may write or judge the same graph otherwise


_DIGESTS: dict[tuple[object, ...], str] = {}  # input_digest's, by what it read and each file's size and times


def forget_digests() -> None:
    """Let go of the digests worked out so far (a build starts with none: a file may change between builds without
    its size or times telling, when both fall within one tick of the clock)."""
    _DIGESTS.clear()


def input_digest(files: Iterable[Path], root: Path, settings: Iterable[str] = ()) -> str:
    """SHA-256 over the settings that shape the output (base IRI, title, licence, public address) and the source
    files' relative paths and bytes (worked out once a build while no file changes: it asks at its start and at its
    end)."""
    files, settings = list(files), tuple(settings)
    try:
        seen: tuple[object, ...] = (root, settings, *((str(p), *_stamp(p)) for p in files))
    except OSError:
        seen = ()
    if seen and (known := _DIGESTS.get(seen)) is not None:
        return known
    made = _input_digest(files, root, settings)
    if seen:
        _DIGESTS.clear()
        _DIGESTS[seen] = made
    return made


def _stamp(path: Path) -> tuple[int, ...]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _input_digest(files: Iterable[Path], root: Path, settings: Iterable[str]) -> str:
    h = hashlib.sha256()
    for setting in settings:
        h.update(setting.encode() + b"\0")
    for path in files:
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 over kg's own code and shipped data: the same input built by another kg is another release."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent  # all of kg, not only kg/build
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".ttl", ".jsonld")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def new_release_id(digest: str) -> str:
    """The id of a release built from inputs of this digest by this kg."""
    return hashlib.sha256(f"{digest}\0{code_digest()}".encode()).hexdigest()[:12]


def build_digest(digest: str, config: Config, shapes: str | None = None) -> str:
    """What decides whether a build would publish anything new: the inputs' digest, the shapes (`shapes`: the
    digest of those the build parsed; else of the files now), the vocabularies sources may use, kg itself and the
    libraries that write and check the graph."""
    engines = " ".join(f"{name}=={importlib.metadata.version(name)}" for name in ENGINES)
    shaped = shapes or shapes_digest(shapes_files(config.shapes_path))
    return hashlib.sha256(f"{digest}\0{code_digest()}\0{STORE_FORMAT}\0{chr(31).join(config.vocabularies)}\0"
                          f"{engines}\0{shaped}\0".encode()).hexdigest()


def shaping_settings(config: Config) -> tuple[str, ...]:
    """The settings that shape a release's graph (besides its files)."""
    return config.base_iri, config.title, config.license, f"shards={config.shards}", f"public={config.public_base}"


def unchanged(config: Config) -> Path | None:
    """The current release, when it was built from exactly what a build would read now (there is nothing to do)."""
    release = current(config.releases_path)
    files = input_files(config.data_path, config.root, config.readable) if release and config.data_path.is_dir() \
        else None
    if release is None or files is None or not (release / STORE_DIR).is_dir():
        return None
    try:
        meta = metadata(release)
        engine = meta.get("engine")
        if config.store != "embedded" and not (isinstance(engine, dict) and engine.get("kind") == config.store
                                               and engine.get("slot") in config.slots):
            return None  # the same graph, but not yet in the engine now configured: it is published again
        digest = input_digest(files, config.root, shaping_settings(config))
        return release if meta.get("build_digest") == build_digest(digest, config) else None
    except (OSError, ValueError):
        return None


def watched(config: Config) -> tuple[tuple[str, int, int], ...]:
    """The size and time of every file a build reads (data files, shapes, kg.toml): when they change, build."""
    data = config.data_path
    files = (input_files(data, config.root, config.readable) or source_files(data)) if data.is_dir() else []
    shapes = sorted(config.shapes_path.glob("*.ttl")) if config.shapes_path.is_dir() else []
    found = []
    for path in [*files, *shapes, config.root / "kg.toml"]:
        try:
            st = path.stat()
        except OSError:
            continue
        found.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(found)


def build_time() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
