"""The release's files: every dump (streamed, gzipped, reproducible) and its gzipped copy for the wire, its VoID
description and its own provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import io
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg import vocab
from kg.build.gz import EMPTY, Deflated, Member, deflate_file, deflate_into
from kg.build.index import Run, rows_of, write_run
from kg.build.kept import Kept, digest, keep, link, previous_object
from kg.build.shards import shard_of
from kg.build.statements import Statements
from kg.build.workers import parallel
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
from kg.spliced import PARTS_DIR, Splicer
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
class Counts:
    """What VoID counts: triples by class (of their rdf:type objects) and by property, and the dataset's entities
    (its subjects without #part that have a type)."""

    classes: Counter[str] = field(default_factory=Counter)
    properties: Counter[str] = field(default_factory=Counter)
    entities: int = 0

    def add(self, other: Counts) -> None:
        self.classes.update(other.classes)
        self.properties.update(other.properties)
        self.entities += other.entities


def _counts(triples: list[ox.Triple], base: str) -> Counts:
    counts = Counts()
    entities = set()
    for t in triples:
        counts.properties[t.predicate.value] += 1
        if t.predicate == vocab.TYPE:
            counts.classes[t.object.value] += 1
            s = t.subject.value
            if s.startswith(base) and "#" not in s:
                entities.add(s)
    counts.entities = len(entities)
    return counts


TURTLE_HEAD = "".join(f"@prefix {k}: <{v}> .\n" for k, v in vocab.PREFIXES.items()).encode()


def _turtle(triples: list[ox.Triple]) -> bytes:
    """Triples (sorted: a subject's together) as compact Turtle under kg's prefixes, without the prefix lines."""
    body = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=vocab.PREFIXES) or b""
    while body.startswith(b"@prefix"):
        body = body[body.index(b"\n") + 1:]
    return body.lstrip(b"\n")


ENTITIES_FILE = "entities.pickle"  # in the release's kept/: each shard's piece's key, as the next build finds it
_PIECES = (".jsonld", ".jsonl", ".ttl")  # a shard's piece of each entity dump (in `DUMPS` order below)
_FILES = tuple(s + z for s in (*_PIECES, ".trig") for z in ("", ".z"))  # a piece's files, in the release's parts/


LABELS_FILE = "labels.pickle"  # in the release's kept/: every entity's label, and those the build's own statements gave


def changed_labels(before: object, labels: dict[str, Label], tailed: frozenset[str],
                   anew: frozenset[str] | None) -> frozenset[str] | None:
    """The nodes whose labels differ from those the previous build's pieces named (`before`, as it kept them: None
    when it kept none): those that gained or lost one, and of those whose label may have changed (`anew` and those
    the build's own statements label, now or then; None: any), those whose label is not the same."""
    if not (isinstance(before, tuple) and len(before) == 2 and isinstance(before[0], dict)):
        return None
    old, old_tailed = before
    if anew is None:
        maybe: set[str] = old.keys() | labels.keys()
    else:
        maybe = old.keys() ^ labels.keys()
        maybe.update(anew, tailed, old_tailed)
    return frozenset(iri for iri in maybe if old.get(iri) != labels.get(iri))


@dataclass
class _Piece:
    """One shard's part of the entity dumps: its files in the release's parts/ (`stem` + `_FILES`), which the next
    build links instead of writing them again when nothing they depend on changed."""

    key: str  # a digest of its statements (the shard's and the build's own about its subjects): "" if none
    stem: str  # its files' names without their suffix
    asked: frozenset[str]  # every other node its objects name (with its label, or without: it has none)
    samples: dict[tuple[str, str], str]
    counts: Counts
    run: Run  # the shard's index lines, in its run file (`_run_path`)
    sizes: dict[str, int]  # by suffix: the size of its piece of that entity dump
    graphs: dict[str, tuple[int, int]]  # by graph: its triples as Turtle, where they are in its `.trig`
    wire: dict[str, Deflated]  # by suffix: its bytes deflated apart, its `<suffix>.z`
    wire_graphs: dict[str, tuple[int, Deflated]]  # by graph: its Turtle deflated apart, where in its `.trig.z`


@dataclass
class _EntityJob:
    """What the forked workers writing the shards' dumps inherit."""

    statements: Statements
    labels: dict[str, Label]
    tails: list[list[bytes]]  # by shard: the N-Triples lines of the build's own statements about its subjects
    editorial: list[list[bytes]]  # by shard: the N-Quads lines of the build's own editorial statements about them
    base: str
    kept: Kept | None
    before: list[str] | None  # the previous release's pieces' keys, when it has as many shards
    parts: Path  # this release's parts/
    parts_before: Path | None  # the previous release's parts/
    # the nodes labelled otherwise than by the previous build (None: unknown), worked out when first asked for: once
    # the shards that changed are being made by the workers, which do not need it
    relabelled: Callable[[], frozenset[str] | None] = lambda: None
    _changed: tuple[frozenset[str] | None] | None = None

    def changed(self) -> frozenset[str] | None:
        """The nodes labelled otherwise than by the previous build (None: unknown)."""
        if self._changed is None:
            self._changed = (self.relabelled(),)
        return self._changed[0]


_ENTITY_JOB: _EntityJob | None = None


def _stem(shard: int, key: str) -> str:
    """The name (without suffix) of a shard's piece's files in the release's parts/."""
    return f"{shard:04d}-{key}" if key else f"{shard:04d}"


def _piece_file(shard: int, key: str) -> str:
    """The name a shard's piece (`_Piece`) is kept under, in the release's kept/."""
    return f"piece-{shard:04d}-{key}.pickle"


def _run_file(shard: int, key: str) -> str:
    """The name a shard's index run is kept under, in the release's kept/."""
    return f"index-{shard:04d}-{key}.run"


def _run_path(job: _EntityJob, shard: int, key: str) -> Path:
    """Where a shard's index run is: kept (the index is written from it after the shards' files are gone)."""
    if job.kept is not None and job.kept.into is not None and key:
        return job.kept.into / _run_file(shard, key)
    return job.statements.segments[shard].path(".run")


def _previous(job: _EntityJob, shard: int, key: str) -> _Piece | None:
    """The previous release's piece of the shard when it was made of the same statements (`key`); else None."""
    placed = job.before[shard] if job.before is not None else None
    kept = job.kept
    if placed is None or not key or placed != key or kept is None or kept.into is None or kept.previous is None:
        return None
    old = previous_object(kept, _piece_file(shard, key))
    return old if isinstance(old, _Piece) and old.key == key else None


def _linked(job: _EntityJob, names: tuple[str, ...]) -> bool:
    """Whether the previous release's kept files of these names are now this release's too."""
    kept = job.kept
    assert kept is not None and kept.into is not None and kept.previous is not None
    try:
        for name in names:
            link(kept.previous / name, kept.into / name)
    except OSError:
        return False
    return True


def _read_back(job: _EntityJob, shard: int, old: _Piece) -> bool:
    """Whether the shard's piece of the previous release (of the same statements) is now this release's, its
    files linked: not when a label it names changed, or those files are not what it says."""
    changed = job.changed()
    if changed is None or not old.asked.isdisjoint(changed) or job.parts_before is None:
        return False
    linked = []
    try:
        for suffix in _FILES:
            name = old.stem + suffix
            os.link(job.parts_before / name, job.parts / name)
            linked.append(job.parts / name)
        if _intact(job.parts, old) and _linked(job, (_run_file(shard, old.key), _piece_file(shard, old.key))):
            return True
    except OSError:
        pass
    for path in linked:  # the previous release's files are not what its piece says: made anew
        path.unlink(missing_ok=True)
    return False


def _intact(parts: Path, piece: _Piece) -> bool:
    """Whether the piece's files are as long as it says."""
    def size(suffix: str) -> int:
        return (parts / (piece.stem + suffix)).stat().st_size

    return all(size(s) == piece.sizes.get(s, 0) and size(s + ".z") == piece.wire.get(s, EMPTY).length
               for s in _PIECES) and \
        size(".trig") == sum(n for _, n in piece.graphs.values()) and \
        size(".trig.z") == sum(d.length for _, d in piece.wire_graphs.values())


def _piece_key(job: _EntityJob, shard: int) -> str:
    """A digest of the statements a shard's piece is made of (the shard's and the build's own about its subjects):
    "" when they have none."""
    segment = job.statements.segments[shard]
    if job.kept is None or not segment.digest:
        return ""
    return digest(job.kept.context.encode(), segment.digest.encode(), *sorted(job.tails[shard]), b"editorial",
                  *job.editorial[shard])


def _entity_here(shard: int) -> _Piece | None:
    """The shard's piece read back from the previous release by the parent, without a worker, when nothing it
    depends on changed; else None."""
    job = _ENTITY_JOB
    assert job is not None
    old = _previous(job, shard, _piece_key(job, shard))
    return old if old is not None and _read_back(job, shard, old) else None


def _entity_task(shard: int) -> _Piece:
    """One shard's entities as JSON-LD objects (`.jsonld`), JSON Lines (`.jsonl`) and Turtle (`.ttl`), its graphs
    as Turtle (`.trig`), each deflated apart too, with one statement with a literal of each datatype and language,
    and the shard's counts: read back from the previous release when nothing they depend on changed."""
    job = _ENTITY_JOB
    assert job is not None
    segment = job.statements.segments[shard]
    tail, editorial = sorted(job.tails[shard]), job.editorial[shard]
    key = _piece_key(job, shard)
    old = _previous(job, shard, key)
    if old is not None and _read_back(job, shard, old):
        return old
    stem = _stem(shard, key)

    def path(suffix: str) -> Path:
        return job.parts / (stem + suffix)

    for suffix in _FILES:
        path(suffix).unlink(missing_ok=True)  # perhaps a link to the previous release's, which must stay as it is
    with segment.path(".nt").open("rb") as lines:
        data = b"".join(heapq.merge(lines, tail))
    triples = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    del data
    asked, samples, counts, wire = _entity_files(triples, job.labels, job.base, path)
    graph = f" <{Minter(job.base).editorial().value}> .\n".encode()
    with segment.path(".nq").open("rb") as lines:
        quads = lines.readlines()
    run_path = _run_path(job, shard, key)
    run_path.unlink(missing_ok=True)  # perhaps a link to the previous release's, which must stay as it is
    if old is not None and _linked(job, (_run_file(shard, key),)):
        run = old.run  # of the same statements: only a label it names changed
    else:
        run_path.unlink(missing_ok=True)
        stated = b"".join(line for line in quads if line.endswith(graph)) + b"".join(editorial)
        run = write_run(rows_of(triples, (q.triple for q in ox.parse(stated, format=ox.RdfFormat.N_QUADS))),
                        run_path, job.base)
    del triples
    graphs, wire_graphs = {}, {}
    with path(".trig").open("wb") as out, path(".trig.z").open("wb") as packed:
        # a shard's share of the bytes a graph may have to be written as Turtle: a big graph stays lines, as fast
        for name, body in _graph_bodies(quads, max(1, PRETTY_TRIG_BYTES // len(job.statements.segments))).items():
            graphs[name] = (out.tell(), len(body))
            out.write(body)
            wire_graphs[name] = (packed.tell(), deflate_into(io.BytesIO(body), packed))
    sizes = {suffix: path(suffix).stat().st_size for suffix in _PIECES}
    piece = _Piece(key, stem, asked, samples, counts, run, sizes, graphs, wire, wire_graphs)
    if job.kept is not None and key:
        keep(job.kept, _piece_file(shard, key), piece)
    return piece


def _entity_files(triples: list[ox.Triple], labels: dict[str, Label], base: str, path: Callable[[str], Path]
                  ) -> tuple[frozenset[str], dict[tuple[str, str], str], Counts, dict[str, Deflated]]:
    """Some subjects' triples as entity objects in JSON-LD (`path(".jsonld")`) and JSON Lines (`path(".jsonl")`), and
    as Turtle (`path(".ttl")`), each also deflated apart (`path(".jsonld.z")` ...); the label of every other node
    they name, their samples, counts and deflated parts."""
    samples: dict[tuple[str, str], str] = {}
    asked: set[str] = set()

    def labelled(iri: str) -> Label | None:
        asked.add(iri)
        return labels.get(iri)

    with path(".jsonld").open("wb") as document, path(".jsonl").open("wb") as each:
        entity_segment(triples, labelled, document, each, samples)
    path(".ttl").write_bytes(_turtle(triples))
    wire = {suffix: deflate_file(path(suffix), path(suffix + ".z")) for suffix in _PIECES}
    return frozenset(asked), samples, _counts(triples, base), wire


def _own_piece(statements: Statements, labels: dict[str, Label], base: str) -> _Piece:
    """The entities of the build's statements about itself, apart from every shard's (`<work>/own.*`)."""
    triples = list(ox.parse(b"".join(statements.own_triples), format=ox.RdfFormat.N_TRIPLES))
    asked, samples, counts, wire = _entity_files(triples, labels, base,
                                                 lambda suffix: statements.work / f"own{suffix}")
    run = write_run(rows_of(triples, ()), statements.work / "own.run", base)
    sizes = {suffix: (statements.work / f"own{suffix}").stat().st_size for suffix in _PIECES}
    return _Piece("", "own", asked, samples, counts, run, sizes, {}, wire, {})


def _with_tail(labels: dict[str, Label], tail: list[bytes]) -> tuple[dict[str, Label], frozenset[str]]:
    """The labels, with what the build's own statements add to them; the entities those statements label."""
    named: dict[str, list[ox.Triple]] = {}
    for t in ox.parse(b"".join(tail), format=ox.RdfFormat.N_TRIPLES):
        if t.predicate in (vocab.S.name, vocab.TYPE) and "#" not in t.subject.value:
            named.setdefault(t.subject.value, []).append(t)
    if not named:
        return labels, frozenset()
    out = dict(labels)
    for iri, triples in named.items():
        triples.sort(key=lambda t: t.predicate != vocab.S.name)  # names first, as in labels_in
        out[iri] = label_of(triples, labels.get(iri))
    return out, frozenset(named)


def _before(kept: Kept | None, count: int) -> list[str] | None:
    """The previous release's pieces' keys, when it kept them for as many shards."""
    found = previous_object(kept, ENTITIES_FILE)
    if not isinstance(found, list) or len(found) != count or not all(isinstance(k, str) for k in found):
        return None
    return found


@dataclass(frozen=True)
class _Out:
    """A dump being written: spliced from the pieces, and gzipped for the wire."""

    plain: Splicer
    wire: Member

    def write(self, data: bytes) -> None:
        """Bytes of the dump's own (heads, separators, tails) to follow what was written so far."""
        self.plain.write(data)
        self.wire.write(data)


def _job(statements: Statements, labels: dict[str, Label], tail: list[bytes], base: str, kept: Kept | None,
         target: Path, relabelled: Callable[[], frozenset[str] | None]) -> _EntityJob:
    """What the workers writing the shards' pieces into the release at `target` inherit: `tail`, the build's own
    statements the segments do not hold (N-Triples lines)."""
    count = len(statements.segments)
    tails: list[list[bytes]] = [[] for _ in range(count)]
    for triple in tail:
        tails[shard_of(triple, count)].append(triple)
    editorial: list[list[bytes]] = [[] for _ in range(count)]
    graph = f" <{Minter(base).editorial().value}> .\n".encode()
    for quad in statements.tail_quads:
        if quad.endswith(graph):
            editorial[shard_of(quad, count)].append(quad)
    previous = kept.previous.parent if kept is not None and kept.previous is not None else None
    parts = target / PARTS_DIR
    parts.mkdir(exist_ok=True)
    return _EntityJob(statements, labels, tails, editorial, base, kept, _before(kept, count), parts,
                      previous / PARTS_DIR if previous else None, relabelled)


AHEAD = 4  # shards merged anew that a build writes the pieces of while it validates (more: an edit it is not)
Ahead = dict[int, tuple["_Piece", dict[str, Label | None]]]  # by shard: a piece made ahead, and the labels it asked


def ahead_of(statements: Statements, kept: Kept | None, processes: int) -> bool:
    """Whether the pieces of the shards merged anew are worth making while the build validates (`made_ahead`): an
    edit, on a release that kept its labels, with a worker to spare."""
    fresh = sum(1 for s in statements.segments if s.fresh)
    return (processes > 1 and len(statements.segments) > 1 and 0 < fresh <= AHEAD and kept is not None
            and kept.into is not None and kept.previous is not None and (kept.previous / LABELS_FILE).is_file())


def made_ahead(statements: Statements, base: str, kept: Kept, target: Path) -> Ahead:
    """The pieces of the shards merged anew, made before validation has told every label (in a worker, while the
    build validates): labelled as the previous build labelled what they name, but for the labels the build's
    statements so far give. Each is taken by `write_dumps` only when made of the same statements and every label it
    asked for is the one validation tells (`_taken`); else it is made again (a piece naming a node of a shard the
    edit changed the label of, say)."""
    global _ENTITY_JOB
    before = previous_object(kept, LABELS_FILE)
    guess: dict[str, Label] = dict(before[0]) if isinstance(before, tuple) and isinstance(before[0], dict) else {}
    fresh = [n for n, s in enumerate(statements.segments) if s.fresh]
    tail = statements.tail_so_far()
    guess, _ = _with_tail(guess, tail)
    _ENTITY_JOB = _job(statements, guess, tail, base, kept, target, lambda: None)
    try:
        made: Ahead = {}
        for n in fresh:
            piece = _entity_task(n)
            made[n] = piece, {iri: guess.get(iri) for iri in piece.asked}
        return made
    finally:
        _ENTITY_JOB = None


def _taken(job: _EntityJob, ahead: Ahead) -> dict[int, _Piece]:
    """The pieces made ahead that are what `_entity_task` would make now (the same statements, every label they
    asked for the same); the files of the others are taken away, to be made again."""
    taken = {}
    for n, (piece, asked) in ahead.items():
        if piece.key == _piece_key(job, n) and all(job.labels.get(iri) == label for iri, label in asked.items()):
            taken[n] = piece
            continue
        for suffix in _FILES:
            (job.parts / (piece.stem + suffix)).unlink(missing_ok=True)
        if job.kept is not None and job.kept.into is not None and piece.key:
            for name in (_piece_file(n, piece.key), _run_file(n, piece.key)):
                (job.kept.into / name).unlink(missing_ok=True)
    return taken


def _entities(statements: Statements, labels: dict[str, Label], files: dict[str, Path], wires: dict[str, Path],
              processes: int, base: str, kept: Kept | None, anew: frozenset[str] | None,
              runs_ready: Callable[[list[tuple[Path, Run]]], None], ahead: Callable[[], Ahead] | None
              ) -> tuple[list[str], Counts, list[tuple[Path, Run]]]:
    """The union as JSON-LD under the official schema.org context, as JSON Lines and as Turtle (`files`, by piece
    suffix, each spliced from the shards' pieces, and gzipped in `wires`), shard by shard in worker processes; one
    statement with a literal of each datatype and language, in order, the counts and the index runs (each one's
    file and what it holds)."""
    global _ENTITY_JOB
    count = len(statements.segments)
    labels, tailed = _with_tail(labels, statements.tail_triples + statements.own_triples)
    target = files[".ttl"].parent
    _ENTITY_JOB = job = _job(statements, labels, statements.tail_triples, base, kept, target,
                             lambda: changed_labels(previous_object(kept, LABELS_FILE), labels, tailed, anew))
    made = _taken(job, ahead() if ahead is not None else {})
    first = [n for n, segment in enumerate(statements.segments) if segment.fresh and n not in made]
    if any(_previous(job, n, _piece_key(job, n)) is not None for n in first):
        job.changed()  # a worker would read that piece back: worked out here once, before the workers are forked
    try:
        pieces = list(parallel(_entity_task, count, processes, "entities", first,
                               lambda n: made.get(n) or _entity_here(n)))
        runs = [(_run_path(job, shard, piece.key), piece.run) for shard, piece in enumerate(pieces)]
    finally:
        _ENTITY_JOB = None
    own = _own_piece(statements, labels, base)
    runs.append((statements.work / "own.run", own.run))
    runs_ready(runs)
    if kept is not None:  # (once the index worker has its runs: twenty megabytes at 100,000 films)
        keep(kept, LABELS_FILE, (labels, tailed))
    samples: dict[tuple[str, str], str] = {}
    counts = Counts()
    for piece in [*pieces, own]:
        for key, sample in piece.samples.items():
            samples.setdefault(key, sample)
        counts.add(piece.counts)
    heads = {".jsonld": (DOCUMENT_HEAD, b",", DOCUMENT_TAIL), ".jsonl": (b"", b"", b""),
             ".ttl": (TURTLE_HEAD, b"", b"")}
    for suffix, (head, separator, tail) in heads.items():
        out = _Out(Splicer(target, "release" + suffix), Member(Splicer(target, "wire" + suffix)))
        plain, wire, write = out.plain, out.wire, out.write
        write(head)
        written = False
        for piece in [*pieces, own]:
            size = piece.sizes.get(suffix, 0)
            if size and written and separator:
                write(separator)
            written = written or bool(size)
            if piece is own:
                plain.write((statements.work / f"own{suffix}").read_bytes())
                wire.deflated((statements.work / f"own{suffix}.z").read_bytes(), piece.wire[suffix])
            else:
                plain.part(piece.stem + suffix, 0, size)
                wire.part(piece.stem + suffix + ".z", 0, piece.wire.get(suffix, EMPTY))
        write(tail)
        wire.close(wires[suffix])
        plain.close(files[suffix])
    _assemble_trig(statements, pieces, files[".trig"], wires[".trig"])
    if kept is not None:
        keep(kept, ENTITIES_FILE, [p.key for p in pieces])
    return [samples[k] for k in sorted(samples)], counts, runs


def _graph_bodies(quads: Iterable[bytes], most: int = 0) -> dict[str, bytes]:
    """N-Quads lines (sorted) as each graph's triples in compact Turtle, in graph order; a graph of more than
    `most` bytes (by default PRETTY_TRIG_BYTES) as its lines."""
    by_graph: dict[bytes, list[bytes]] = {}
    for quad in quads:
        cut = quad.rfind(b" <")
        by_graph.setdefault(quad[cut + 2:-4], []).append(quad[:cut] + b" .\n")
    out = {}
    for graph in sorted(by_graph):
        lines = b"".join(by_graph.pop(graph))
        out[graph.decode()] = lines if len(lines) > (most or PRETTY_TRIG_BYTES) else _turtle(
            list(ox.parse(lines, format=ox.RdfFormat.N_TRIPLES)))
    return out


def _assemble_trig(statements: Statements, pieces: list[_Piece], target: Path, wire: Path) -> None:
    """The source graphs as TriG (`target`, spliced from the pieces, and gzipped in `wire`): one block per graph,
    made of each shard's Turtle of it and then the build's own statements in it (a subject's triples are in one
    shard: the pieces concatenate)."""
    tail = _graph_bodies(sorted(statements.tail_quads))
    out = _Out(Splicer(target.parent, "release.trig"), Member(Splicer(target.parent, "wire.trig")))
    plain, member, write = out.plain, out.wire, out.write
    write(TURTLE_HEAD)
    for graph in sorted({g for piece in pieces for g in piece.graphs} | tail.keys()):
        write(f"\n<{graph}> {{\n".encode())
        for piece in pieces:
            if graph in piece.graphs:
                offset, length = piece.graphs[graph]
                at, part = piece.wire_graphs[graph]
                plain.part(piece.stem + ".trig", offset, length)
                member.part(piece.stem + ".trig.z", at, part)
        write(tail.get(graph, b""))
        write(b"}\n")
    member.close(wire)
    plain.close(target)


LINES = {"nquads": ".nq.gz", "ntriples": ".nt.gz"}  # dumps that are the segments' files one after the other


def write_dumps(statements: Statements, target: Path, labels: dict[str, Label], base: str,
                processes: int = 1, kept: Kept | None = None, anew: frozenset[str] | None = None,
                runs_ready: Callable[[list[tuple[Path, Run]]], None] = lambda _: None,
                ahead: Callable[[], Ahead] | None = None) -> tuple[list[str], Counts, list[tuple[Path, Run]]]:
    """The dumps made from entities: the entity documents, Turtle and TriG (each graph's Turtle), shard by shard (in
    `processes` worker processes); one statement (N-Triples) with a literal of each datatype and language, in
    order, the union's counts and the index runs (`index.write_runs`). `labels`: how each entity of the segments is
    labelled where another points to it, `anew`: those whose labels may differ from the previous build's (None:
    any). A shard's piece of the dumps (and its index run) is read back from the previous release (`kept`) when
    nothing it depends on changed. `write_lines` writes the others. `runs_ready` is given the index runs as soon as
    they are made, before the dumps are spliced (no thread of this process is running then). `ahead` gives the
    pieces made while the build validated (`made_ahead`), if any."""
    files = _entity_dumps()
    (target / WIRE_DIR).mkdir(exist_ok=True)
    # the worker processes are forked before this process starts any thread of its own
    return _entities(statements, labels, {k: target / d.filename for k, d in files.items()},
                     {k: target / WIRE_DIR / (d.filename + ".gz") for k, d in files.items()}, processes, base, kept,
                     anew, runs_ready, ahead)


def _entity_dumps() -> dict[str, Dump]:
    """The dumps made from the shards' pieces (`write_dumps`), by the suffix of a shard's piece of them."""
    by_format = {d.format.name: d for d in DUMPS}
    return {".jsonld": next(d for d in DUMPS if d.format.entities), ".jsonl": next(d for d in DUMPS if d.format.lines),
            ".ttl": by_format["turtle"], ".trig": by_format["trig"]}


def write_lines(statements: Statements, target: Path) -> None:
    """The line formats' dumps, spliced from the segments' gzipped files, linked into the release (`write_dumps`
    wrote the others, and the gzipped copy of each for clients that take gzip)."""
    (target / PARTS_DIR).mkdir(exist_ok=True)
    for dump in bar([d for d in DUMPS if d.format.name in LINES], None, "dumps", "files"):
        out = Splicer(target, "lines" + LINES[dump.format.name])
        for path in statements.parts(LINES[dump.format.name]):
            name = "lines-" + path.name  # seg-0001.nq.gz, tail.nq.gz: one of each in a build
            os.link(path, target / PARTS_DIR / name)
            out.part(name, 0, path.stat().st_size)
        out.close(target / dump.filename)


def void_triples(counts: Counts, minter: Minter, config: Config, release_id: str,
                 built: dt.datetime) -> tuple[list[ox.Triple], int]:
    """The VoID description of the release (endpoint, dumps, counts and partitions), and the triple count."""
    ds = minter.dataset()
    base = config.base_iri
    classes = list(counts.classes.items())
    props = list(counts.properties.items())
    entities = counts.entities
    total = sum(n for _, n in props)
    integer = vocab.XSD_INTEGER
    out = [
        ox.Triple(ds, vocab.TYPE, V.Dataset),
        ox.Triple(ds, DCT.title, ox.Literal(config.title, language="en")),
        ox.Triple(ds, DCT.license, ox.NamedNode(config.license)),
        ox.Triple(ds, DCT.created, ox.Literal(built.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=vocab.XSD_DATETIME)),
        ox.Triple(ds, DCT.hasVersion, minter.release(release_id)),
        ox.Triple(ds, V.sparqlEndpoint, ox.NamedNode(config.public_base + "sparql")),  # where it is served
        ox.Triple(ds, V.uriSpace, ox.Literal(base)),
        ox.Triple(ds, V.triples, ox.Literal(str(total), datatype=integer)),
        ox.Triple(ds, V.entities, ox.Literal(str(entities), datatype=integer)),
        ox.Triple(ds, V.classes, ox.Literal(str(len(classes)), datatype=integer)),
        ox.Triple(ds, V.properties, ox.Literal(str(len(props)), datatype=integer)),
        ox.Triple(ds, V.vocabulary, ox.NamedNode(vocab.SCHEMA)),
        ox.Triple(ds, V.vocabulary, vocab.VOCAB_IRI),
        ox.Triple(ds, V.rootResource, ox.NamedNode(base)),
    ]
    for dump in (d for d in DUMPS if d.one_document):  # an RDF reader given kg.jsonl would fail at its second line
        out.append(ox.Triple(ds, V.dataDump, ox.NamedNode(f"{config.public_base}download/{dump.filename}")))
    for cls, n in sorted(classes):
        part = ox.NamedNode(f"{ds.value}#class-{hashlib.sha1(cls.encode()).hexdigest()[:10]}")
        out += [ox.Triple(ds, V.classPartition, part), ox.Triple(part, V["class"], ox.NamedNode(cls)),
                ox.Triple(part, V.entities, ox.Literal(str(n), datatype=integer))]
    for prop, n in sorted(props):
        part = ox.NamedNode(f"{ds.value}#property-{hashlib.sha1(prop.encode()).hexdigest()[:10]}")
        out += [ox.Triple(ds, V.propertyPartition, part), ox.Triple(part, V.property, ox.NamedNode(prop)),
                ox.Triple(part, V.triples, ox.Literal(str(n), datatype=integer))]
    return out, total


PRETTY_TRIG_BYTES = 16 << 20  # graphs of about this size at most are written as grouped Turtle in the TriG dump
