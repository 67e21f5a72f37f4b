"""The release's files: every dump (streamed, gzipped, reproducible), its VoID description and its own provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg import vocab
from kg.build.gz import concatenate, deflate, gzip_file
from kg.build.shards import parallel, shard_of
from kg.build.statements import Statements
from kg.config import Config
from kg.ids import Minter
from kg.jsonld import (
    DOCUMENT_HEAD,
    DOCUMENT_TAIL,
    EntityWriter,
    Label,
    Placement,
    Statement,
    document_piece,
    entity_objects,
    label_of,
    line,
)
from kg.layout import (
    DUMPS,
    WIRE_DIR,
    Dump,
)
from kg.progress import bar
from kg.vocab import DCT, P, V


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


def _write(path: Path, dump: Dump, write: Callable[[BinaryIO], None]) -> None:
    """Write one dump (gzipped if it is a .gz dump) through `write`."""
    with path.open("wb") as raw:
        if dump.gzipped:
            with deflate(raw) as gz:
                write(gz)
        else:
            write(raw)


class _Lines:
    """A writable that passes the store's Turtle output on without its prefix lines (TriG has them once, on top)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.rest, self.head = out, b"", True

    def write(self, chunk: bytes) -> int:
        data = self.rest + chunk
        cut = data.rfind(b"\n") + 1
        self.rest, done = data[cut:], data[:cut]
        if self.head:
            lines = done.split(b"\n")
            skip = 0
            while skip < len(lines) - 1 and (lines[skip].startswith(b"@prefix") or not lines[skip]):
                skip += 1
            self.head = skip == len(lines) - 1
            done = b"\n".join(lines[skip:])
        self.out.write(done)
        return len(chunk)

    def flush(self) -> None:
        """The store flushes when done; lines are written as they complete."""

    def close(self) -> None:
        if self.rest:
            self.write(b"\n")


def labels(store: ox.Store) -> dict[str, Label]:
    """How each entity (a subject without #part) of the default graph is written where another points to it."""
    named: dict[str, list[ox.Quad]] = {}
    dg = ox.DefaultGraph()
    for predicate in (vocab.S.name, vocab.TYPE):  # the store's order: a label's keys come in that order
        for q in store.quads_for_pattern(None, predicate, None, dg):
            if "#" not in q.subject.value:
                named.setdefault(q.subject.value, []).append(q)
    return {iri: label_of(ts) for iri, ts in named.items()}


def entity_segment(triples: Iterable[ox.Triple], labelled: Callable[[str], Label | None], document: BinaryIO,
                   lines: BinaryIO, samples: dict[tuple[str, str], str]) -> int:
    """The triples (one shard's entities, their parts with them) as the objects of the JSON-LD document's @graph
    (comma-separated, without the document's head and tail) and as JSON Lines: one object per entity, its parts
    nested, the nodes it points to named (`labelled`). `samples` gets one statement (N-Triples) with a literal of
    each datatype and language, which an engine must give back exactly (kg.build.remote). Gives how many objects
    were written."""
    placement = Placement()
    by_subject: dict[str, list[Statement]] = {}
    for t in triples:  # every statement is seen before anything is written
        placement.see(t)
        by_subject.setdefault(t.subject.value, []).append(t)
        o = t.object
        if isinstance(o, ox.Literal) and (o.datatype.value, o.language or "") not in samples:
            samples[(o.datatype.value, o.language or "")] = f"{t.subject} {t.predicate} {o} ."
    placement.done()

    def statements(iri: str) -> list[Statement]:
        return by_subject.get(iri, [])

    writer = EntityWriter(statements, labelled, placement)
    exists = by_subject.__contains__
    ordered = ((iri, by_subject[iri]) for iri in sorted(by_subject)  # in IRI order: the same dump every time
               if "#" not in iri or not placement.placed(iri, exists))
    n = 0
    for n, node in enumerate(entity_objects(writer, ordered, exists), 1):
        document.write(document_piece(node, n == 1))
        lines.write(line(node))
    return n


@dataclass
class _EntityJob:
    """What the forked workers writing the entity documents inherit."""

    statements: Statements
    labels: dict[str, Label]
    tails: list[list[bytes]]  # by shard: the N-Triples lines of the build's own statements about its subjects


_ENTITY_JOB: _EntityJob | None = None


def _entity_task(shard: int) -> dict[tuple[str, str], str]:
    """One shard's entities as JSON-LD objects (`<segment>.jsonld`) and JSON Lines (`<segment>.jsonl`)."""
    assert _ENTITY_JOB is not None
    segment = _ENTITY_JOB.statements.segments[shard]
    triples = itertools.chain(ox.parse(path=str(segment.path(".nt")), format=ox.RdfFormat.N_TRIPLES),
                              ox.parse(b"".join(_ENTITY_JOB.tails[shard]), format=ox.RdfFormat.N_TRIPLES))
    samples: dict[tuple[str, str], str] = {}
    with segment.path(".jsonld").open("wb") as document, segment.path(".jsonl").open("wb") as each:
        entity_segment(triples, _ENTITY_JOB.labels.get, document, each, samples)
    return samples


def _entities(statements: Statements, document: Path, lines: Path, processes: int) -> list[str]:
    """The union as JSON-LD under the official schema.org context and as JSON Lines, shard by shard in worker
    processes; one statement with a literal of each datatype and language, in order."""
    global _ENTITY_JOB
    count = len(statements.segments)
    tails: list[list[bytes]] = [[] for _ in range(count)]
    for triple in statements.tail_triples:
        tails[shard_of(triple, count)].append(triple)
    _ENTITY_JOB = _EntityJob(statements, labels(statements.union), tails)
    samples: dict[tuple[str, str], str] = {}
    try:
        for found in parallel(_entity_task, count, processes, "entities"):
            for key, sample in found.items():
                samples.setdefault(key, sample)
    finally:
        _ENTITY_JOB = None
    pieces = [p for s in statements.segments if (p := s.path(".jsonld")).stat().st_size]
    with document.open("wb") as out:
        out.write(DOCUMENT_HEAD)
        for n, piece in enumerate(pieces):
            out.write(b"," if n else b"")
            with piece.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        out.write(DOCUMENT_TAIL)
    concatenate([s.path(".jsonl") for s in statements.segments], lines)
    return [samples[k] for k in sorted(samples)]


def _trig(statements: Statements, out: BinaryIO) -> None:
    """The source graphs as TriG: one block per graph, each graph's triples as compact Turtle."""
    out.write("".join(f"@prefix {k}: <{v}> .\n" for k, v in vocab.PREFIXES.items()).encode())
    split = statements.named_path.with_suffix(".split")
    split.mkdir(exist_ok=True)
    files: dict[str, BinaryIO] = {}
    try:
        with statements.named_path.open("rb") as lines:  # one pass, each graph's triples to a file of its own
            for line in lines:
                cut = line.rfind(b" <")
                graph = line[cut + 2:-4].decode()
                sink = files.get(graph)
                if sink is None:
                    sink = files[graph] = (split / f"{len(files)}.nt").open("wb")
                sink.write(line[:cut] + b" .\n")
        for f in files.values():
            f.close()
        for graph in sorted(files):
            out.write(f"\n<{graph}> {{\n".encode())
            path = Path(files[graph].name)
            if path.stat().st_size > PRETTY_TRIG_BYTES:  # too big to regroup in memory: its lines as they are
                with path.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            else:
                scratch = ox.Store()
                scratch.load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
                body = _Lines(out)
                scratch.dump(body, format=ox.RdfFormat.TURTLE, from_graph=ox.DefaultGraph(),  # type: ignore[arg-type]
                             prefixes=vocab.PREFIXES)
                body.close()
                del scratch
            out.write(b"}\n")
    finally:
        shutil.rmtree(split, ignore_errors=True)


LINES = {"nquads": ".nq.gz", "ntriples": ".nt.gz"}  # dumps that are the segments' files one after the other


def write_dumps(statements: Statements, target: Path, processes: int = 1) -> list[str]:
    """Every dump: the entity documents shard by shard (in `processes` worker processes), the other triple formats
    from the union's store, the line formats from the segments, TriG from the source graphs; and one statement
    (N-Triples) with a literal of each datatype and language, in order."""
    store = statements.union
    document = next(d for d in DUMPS if d.format.entities)
    lines = next(d for d in DUMPS if d.format.lines)
    # the worker processes are forked before this process starts any thread of its own
    samples = _entities(statements, target / document.filename, target / lines.filename, processes)

    def union(dump: Dump) -> Callable[[BinaryIO], None]:
        def write(out: BinaryIO) -> None:
            store.dump(out, format=dump.format.oxigraph, from_graph=ox.DefaultGraph(),
                       prefixes=vocab.PREFIXES if dump.format.name == "turtle" else None)
        return write

    def one(dump: Dump) -> None:
        if dump.format.name in LINES:  # the segments' lines, already gzipped by the shards
            concatenate(statements.parts(LINES[dump.format.name]), target / dump.filename)
            return
        if not dump.format.entities and not dump.format.lines:
            _write(target / dump.filename, dump, (lambda out: _trig(statements, out)) if dump.format.datasets
                   else union(dump))
        if not dump.gzipped:
            gzip_file(target / dump.filename, target / WIRE_DIR / (dump.filename + ".gz"))

    (target / WIRE_DIR).mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # gzip and the store's writers leave the GIL
        list(bar(pool.map(one, DUMPS), len(DUMPS), "dumps", "files"))
    return samples


def _count(store: ox.Store, query: str) -> list[tuple[str, int]]:
    return [(row[0].value, int(row[1].value)) for row in store.query(query)]


def void_triples(store: ox.Store, minter: Minter, config: Config, release_id: str,
                 built: dt.datetime) -> tuple[list[ox.Triple], int]:
    """The VoID description of the release (endpoint, dumps, counts and partitions), and the triple count."""
    ds = minter.dataset()
    base = config.base_iri
    classes = _count(store, "SELECT ?c (COUNT(*) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")
    props = _count(store, "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p")
    entities = _count(store, f"SELECT (1 AS ?x) (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?t "
                             f"FILTER(STRSTARTS(STR(?s), {json.dumps(base)}) && !CONTAINS(STR(?s), \"#\")) }}")[0][1]
    total = sum(n for _, n in props)
    integer = vocab.XSD_INTEGER
    out = [
        ox.Triple(ds, vocab.TYPE, V.Dataset),
        ox.Triple(ds, DCT.title, ox.Literal(config.title, language="en")),
        ox.Triple(ds, DCT.license, ox.NamedNode(config.license)),
        ox.Triple(ds, DCT.created, ox.Literal(built.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=vocab.XSD_DATETIME)),
        ox.Triple(ds, DCT.hasVersion, minter.release(release_id)),
        ox.Triple(ds, V.sparqlEndpoint, ox.NamedNode(base + "sparql")),
        ox.Triple(ds, V.uriSpace, ox.Literal(base)),
        ox.Triple(ds, V.triples, ox.Literal(str(total), datatype=integer)),
        ox.Triple(ds, V.entities, ox.Literal(str(entities), datatype=integer)),
        ox.Triple(ds, V.classes, ox.Literal(str(len(classes)), datatype=integer)),
        ox.Triple(ds, V.properties, ox.Literal(str(len(props)), datatype=integer)),
        ox.Triple(ds, V.vocabulary, ox.NamedNode(vocab.SCHEMA)),
        ox.Triple(ds, V.vocabulary, vocab.VOCAB_IRI),
        ox.Triple(ds, V.rootResource, ox.NamedNode(base)),
    ]
    for dump in DUMPS:
        out.append(ox.Triple(ds, V.dataDump, ox.NamedNode(f"{base}download/{dump.filename}")))
    for cls, n in sorted(classes):
        part = ox.NamedNode(f"{ds.value}#class-{hashlib.sha1(cls.encode()).hexdigest()[:10]}")
        out += [ox.Triple(ds, V.classPartition, part), ox.Triple(part, V["class"], ox.NamedNode(cls)),
                ox.Triple(part, V.entities, ox.Literal(str(n), datatype=integer))]
    for prop, n in sorted(props):
        part = ox.NamedNode(f"{ds.value}#property-{hashlib.sha1(prop.encode()).hexdigest()[:10]}")
        out += [ox.Triple(ds, V.propertyPartition, part), ox.Triple(part, V.property, ox.NamedNode(prop)),
                ox.Triple(part, V.triples, ox.Literal(str(n), datatype=integer))]
    return out, total


PRETTY_TRIG_BYTES = 16 << 20  # graphs up to this size are written as grouped Turtle in the TriG dump
