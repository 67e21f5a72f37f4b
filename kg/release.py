"""Writing a release atomically (dumps, VoID, metadata, the Oxigraph store) and finding the current one."""

from __future__ import annotations

import datetime as dt
import gc
import gzip
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from . import vocab
from .config import Config
from .ids import Minter
from .layout import CURRENT, DUMPS, METADATA, RELEASES, STORE_DIR, VOID_FILE, WIRE_DIR, Dump, current
from .mapping import Conflict, Mapped, map_records
from .progress import bar
from .sources import read_records, source_files
from .validate import Report, load_shapes, validate
from .vocab import DCT, P, V

T = TypeVar("T")
@dataclass
class BuildResult:
    """What a build did: its report, conflicts, counts, timings and the release it published (if any)."""

    report: Report
    conflicts: list[Conflict]
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    release_dir: Path | None = None
    release_id: str | None = None


def input_digest(files: Iterable[Path], root: Path) -> str:
    """SHA-256 over the source files' relative paths and bytes."""
    h = hashlib.sha256()
    for path in files:
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def build_time() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)


def release_quads(minter: Minter, release_id: str, digest: str, built: dt.datetime, config: Config,
                  sources: Iterable[ox.NamedNode]) -> Iterator[ox.Quad]:
    """What the release says of itself: when and from what it was built."""
    g = minter.release_graph()
    rel, ds = minter.release(release_id), minter.dataset()
    stamp = ox.Literal(built.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=vocab.XSD_DATETIME)
    yield ox.Quad(ds, vocab.TYPE, V.Dataset, g)
    yield ox.Quad(ds, DCT.title, ox.Literal(config.title, language="en"), g)
    yield ox.Quad(ds, DCT.license, ox.NamedNode(config.license), g)
    yield ox.Quad(ds, DCT.hasVersion, rel, g)
    yield ox.Quad(rel, vocab.TYPE, P.Entity, g)
    yield ox.Quad(rel, vocab.LABEL, ox.Literal(f"release {release_id}", language="en"), g)
    yield ox.Quad(rel, DCT.isVersionOf, ds, g)
    yield ox.Quad(rel, P.generatedAtTime, stamp, g)
    yield ox.Quad(rel, DCT.created, stamp, g)
    yield ox.Quad(rel, vocab.K.inputDigest, ox.Literal("sha256:" + digest), g)
    for source in sorted(sources, key=lambda n: n.value):
        yield ox.Quad(rel, P.wasDerivedFrom, source, g)


def union(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    """The default graph: every statement once, whichever sources made it, in a stable order."""
    seen: dict[ox.Triple, None] = {}
    for q in quads:
        seen.setdefault(ox.Triple(q.subject, q.predicate, q.object), None)
    return list(seen)


def _write(path: Path, data: Iterable[ox.Triple] | Iterable[ox.Quad], dump: Dump) -> None:
    body = dump.format.serialize(data)
    if dump.gzipped:
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(body)
    else:
        path.write_bytes(body)


def _gzip(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                                          filename="") as gz:
        shutil.copyfileobj(src, gz)


def void_triples(minter: Minter, config: Config, triples: list[ox.Triple], release_id: str,
                 built: dt.datetime) -> list[ox.Triple]:
    """The VoID description of the release: endpoint, dumps, counts and partitions."""
    ds = minter.dataset()
    base = config.base_iri
    classes = Counter(t.object.value for t in triples if t.predicate == vocab.TYPE)
    props = Counter(t.predicate.value for t in triples)
    entities = {t.subject.value for t in triples if t.predicate == vocab.TYPE and minter.owns(t.subject.value)
                and "#" not in t.subject.value}
    integer = vocab.XSD_INTEGER
    out = [
        ox.Triple(ds, vocab.TYPE, V.Dataset),
        ox.Triple(ds, DCT.title, ox.Literal(config.title, language="en")),
        ox.Triple(ds, DCT.license, ox.NamedNode(config.license)),
        ox.Triple(ds, DCT.created, ox.Literal(built.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=vocab.XSD_DATETIME)),
        ox.Triple(ds, DCT.hasVersion, minter.release(release_id)),
        ox.Triple(ds, V.sparqlEndpoint, ox.NamedNode(base + "sparql")),
        ox.Triple(ds, V.uriSpace, ox.Literal(base)),
        ox.Triple(ds, V.triples, ox.Literal(str(len(triples)), datatype=integer)),
        ox.Triple(ds, V.entities, ox.Literal(str(len(entities)), datatype=integer)),
        ox.Triple(ds, V.classes, ox.Literal(str(len(classes)), datatype=integer)),
        ox.Triple(ds, V.properties, ox.Literal(str(len(props)), datatype=integer)),
        ox.Triple(ds, V.vocabulary, ox.NamedNode(vocab.SCHEMA)),
        ox.Triple(ds, V.vocabulary, vocab.VOCAB_IRI),
        ox.Triple(ds, V.rootResource, ox.NamedNode(base)),
    ]
    for dump in DUMPS:
        out.append(ox.Triple(ds, V.dataDump, ox.NamedNode(f"{base}download/{dump.filename}")))
    for cls, n in sorted(classes.items()):
        part = ox.NamedNode(f"{ds.value}#class-{hashlib.sha1(cls.encode()).hexdigest()[:10]}")
        out += [ox.Triple(ds, V.classPartition, part), ox.Triple(part, V["class"], ox.NamedNode(cls)),
                ox.Triple(part, V.entities, ox.Literal(str(n), datatype=integer))]
    for prop, n in sorted(props.items()):
        part = ox.NamedNode(f"{ds.value}#property-{hashlib.sha1(prop.encode()).hexdigest()[:10]}")
        out += [ox.Triple(ds, V.propertyPartition, part), ox.Triple(part, V.property, ox.NamedNode(prop)),
                ox.Triple(part, V.triples, ox.Literal(str(n), datatype=integer))]
    return out


class _Stages:
    """Times each stage and reports it through `say`."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.timings: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], T], detail: Callable[[T], str] = lambda _: "") -> T:
        start = time.perf_counter()
        result = fn()
        self.timings[name] = round(time.perf_counter() - start, 3)
        extra = detail(result)
        self.say(f"{name:<10} {self.timings[name]:7.2f} s{'  ' + extra if extra else ''}")
        return result


def build(config: Config, publish: bool = True, say: Callable[[str], None] = lambda _: None) -> BuildResult:
    """Read, map and validate data/; if it conforms and `publish`, write and switch to a new release."""
    stages = _Stages(say)
    files = source_files(config.data_path) if config.data_path.is_dir() else []
    records = stages.run("read", lambda: read_records(config.data_path, files, config.root),
                         lambda r: f"{len(r)} records from {len(files)} files")
    minter = Minter(config.base_iri)
    mapped = stages.run("map", lambda: map_records(records, minter), lambda m: f"{len(m.quads)} quads")
    shapes = load_shapes(config.shapes_path)
    report = stages.run("validate", lambda: validate(mapped.quads, shapes, mapped),
                        lambda r: f"{len(r.of('Violation'))} violations, {len(r.of('Warning'))} warnings")
    counts = {"records": len(records), "quads": len(mapped.quads), "files": len(files)}
    result = BuildResult(report, mapped.conflicts, counts, stages.timings)
    if not report.conforms or not publish:
        return result
    return publish_release(config, mapped, result, files, stages)


def publish_release(config: Config, mapped: Mapped, result: BuildResult, files: list[Path],
                    stages: _Stages | None = None) -> BuildResult:
    """Write a validated mapping as a new release and switch to it (the last stage of `build`)."""
    stages = stages or _Stages(lambda _: None)
    counts = result.counts
    report = result.report
    minter = Minter(config.base_iri)
    digest = input_digest(files, config.root)
    built = build_time()
    release_id = digest[:12]
    sources = {q.graph_name for q in mapped.quads if isinstance(q.graph_name, ox.NamedNode)}
    quads = mapped.quads + list(release_quads(minter, release_id, digest, built, config,
                                              [s for s in sources if "/source/" in s.value]))
    triples = union(quads)
    counts["triples"] = len(triples)
    releases = config.releases_path / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    _sweep(releases)
    tmp = releases / f".tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()

    def write_files() -> None:
        (tmp / WIRE_DIR).mkdir()
        for dump in DUMPS:
            _write(tmp / dump.filename, quads if dump.format.datasets else triples, dump)
            if not dump.gzipped:
                _gzip(tmp / dump.filename, tmp / WIRE_DIR / (dump.filename + ".gz"))
        ox.serialize(void_triples(minter, config, triples, release_id, built), str(tmp / VOID_FILE),
                     format=ox.RdfFormat.TURTLE, prefixes=vocab.PREFIXES)

    def load_store() -> None:
        # Oxigraph's "union default graph" repeats a triple once per graph that holds it, so the union is
        # stored as the real default graph: queries see a set, GRAPH ?g still sees each source.
        store = ox.Store(str(tmp / STORE_DIR))
        store.bulk_extend(bar(quads, len(quads), "store", "quads"))
        store.bulk_extend(bar((ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples),
                              len(triples), "store", "triples"))
        store.flush()
        store.optimize()
        del store
        gc.collect()

    stages.run("dumps", write_files, lambda _: f"{len(DUMPS)} files, {len(triples)} triples")
    stages.run("store", load_store, lambda _: f"{len(quads)} quads + {len(triples)} default-graph triples")
    meta = {
        "id": release_id,
        "built_at": built.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input_digest": "sha256:" + digest,
        "base_iri": config.base_iri,
        "files": [str(f.relative_to(config.root) if f.is_relative_to(config.root) else f) for f in files],
        "counts": counts,
        "conflicts": [{"subject": c.subject, "property": c.predicate, "values": c.values,
                       "where": str(c.origin) if c.origin else None} for c in mapped.conflicts],
        "warnings": [str(f) for f in report.of("Warning")],
        "timings": stages.timings,
        "dumps": {d.filename: (tmp / d.filename).stat().st_size for d in DUMPS},
    }
    (tmp / METADATA).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _fsync_tree(tmp)
    final = releases / f"{built.strftime('%Y%m%dT%H%M%SZ')}-{release_id}-{time.time_ns() % 10**6:06d}"
    os.rename(tmp, final)
    switch(config.releases_path, final)
    prune(config.releases_path, config.keep_releases)
    result.release_dir, result.release_id = final, release_id
    return result


def _fsync_tree(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def switch(root: Path, release_dir: Path) -> None:
    """Point `current` at a release in one atomic rename: readers see the old release or the new one."""
    link = root / CURRENT
    tmp = root / f".{CURRENT}-{os.getpid()}-{time.time_ns()}"
    os.symlink(os.path.relpath(release_dir, root), tmp)
    os.replace(tmp, link)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _sweep(releases: Path) -> None:
    """Remove what killed builds left behind (never a finished release)."""
    for p in releases.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)


def prune(root: Path, keep: int) -> None:
    """Delete the oldest finished releases beyond `keep`, never the current one."""
    live = current(root)
    finished = sorted(p for p in (root / RELEASES).iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in finished[:-keep] if keep > 0 else []:
        if live is None or old.resolve() != live:
            shutil.rmtree(old, ignore_errors=True)
