"""Shards: records mapped by a pool of processes, their quads routed by subject document into sorted segments."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import heapq
import io
import itertools
import os
import zlib
from collections.abc import Callable, Collection, Generator, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from kg.build.gz import deflate
from kg.build.kept import Kept, digest, keep, read_back
from kg.build.mapping import Mapped, record_quads
from kg.build.remembered import pack, packer
from kg.build.workers import parallel
from kg.ids import Minter
from kg.model import SINGLE_VALUED, Origin, Record

_SINGLE = frozenset(p.encode() for p in SINGLE_VALUED)


RECORDS_PER_SHARD = 2_500  # an edit redoes one shard's work: this keeps it a fraction of a second
MIN_SHARDS, MAX_SHARDS = 16, 64  # (but one for a project of RECORDS_PER_SHARD records or fewer: no worker forked)


def shards_for(records: int) -> int:
    """How many shards a build of so many records is cut into when the project does not say: one for a small
    project (`RECORDS_PER_SHARD` records or fewer: a few workers' start would cost more than its whole build), else
    a power of two, one for about `RECORDS_PER_SHARD` records, within [`MIN_SHARDS`, `MAX_SHARDS`] (an edit redoes
    one shard of a few hundred records). It is a function of the input alone (an edit and a `--full` build must
    agree): an edit that takes the count across 2,500, 40,000 or 80,000 records changes it, and builds everything
    anew, as the dumps' order changes (a project that hovers there sets `shards`)."""
    if records <= RECORDS_PER_SHARD:
        return 1
    shards = MIN_SHARDS
    while shards < MAX_SHARDS and shards * RECORDS_PER_SHARD < records:
        shards *= 2
    return shards


@dataclass(frozen=True)
class Plan:
    """How a build is cut: into how many shards, how many records one mapping task takes, and how many processes
    run the tasks. The shards decide the dumps' order; the workers only how fast they are made."""

    shards: int = 16
    task_records: int = 5_000
    workers: int = 0  # 0: one a core

    @property
    def processes(self) -> int:
        """How many processes run the tasks."""
        return self.workers or len(os.sched_getaffinity(0)) or 1  # the cores this process may run on


@dataclass(frozen=True)
class Segment:
    """One shard's statements: `<stem>.nq` (its quads, sorted, each once), `<stem>.nt` (their triples, sorted,
    each once), both also gzipped (`.nq.gz`, `.nt.gz`), and `<stem>.claims.nq` (its single-valued quads)."""

    stem: Path
    quads: int
    triples: int
    graphs: frozenset[str] = field(default_factory=frozenset)  # as N-Quads writes them: <iri>
    # where, in `<stem>.out.nt`, the triples pointing to each other shard's nodes are: shard -> (offset, length)
    out: dict[int, tuple[int, int]] = field(default_factory=dict)
    # where, in `<stem>.give.nt` (made by `exchange`), the types of this shard's nodes that each other shard points
    # to are: shard -> (offset, length)
    give: dict[int, tuple[int, int]] = field(default_factory=dict)
    out_digests: dict[int, str] = field(default_factory=dict)  # shard -> a digest of the triples pointing to it
    give_digests: dict[int, str] = field(default_factory=dict)  # shard -> a digest of its block of `give`
    sub_digest: str = ""  # of `<stem>.sub.nt`'s bytes
    digest: str = ""  # of `<stem>.nq`'s bytes: an unchanged shard is known without reading it again
    fresh: bool = False  # merged by this build, not read back: what the later stages start first

    def path(self, suffix: str) -> Path:
        """The segment's file with this suffix (".nq", ".nt.gz", ...)."""
        return self.stem.with_name(self.stem.name + suffix)

    def read(self, suffix: str, where: tuple[int, int] | None) -> bytes:
        """The bytes at (offset, length) of the segment's file with this suffix; none for None."""
        if where is None:
            return b""
        with self.path(suffix).open("rb") as f:
            f.seek(where[0])
            return f.read(where[1])


def shard_of(line: bytes, shards: int) -> int:
    """The shard of an N-Quads line: a hash of its subject's document (the subject IRI without its #part)."""
    return shard_of_iri(line[1:line.find(b" ") - 1], shards)


def shard_of_iri(iri: bytes, shards: int) -> int:
    """The shard of a node: a hash of its document (the IRI without its #part)."""
    cut = iri.find(b"#")
    return zlib.crc32(iri if cut < 0 else iri[:cut]) % shards


def object_iri(triple: bytes) -> bytes | None:
    """The object of an N-Triples line (or of the triple part of an N-Quads line) when it is an IRI, without its
    brackets; else None."""
    start = triple.find(b" ", triple.find(b" ") + 1) + 1
    if triple[start:start + 1] != b"<":
        return None
    return triple[start + 1:triple.find(b">", start)]


def _subject(line: bytes) -> bytes:
    return line[:line.find(b" ")]


def route(quads: Iterable[ox.Quad], shards: int, stem: Path) -> dict[str, str]:
    """Write the quads (each in a named graph) to one file per shard, `<stem>-<shard>.nq`, sorted, each once; the
    digest of each file written, by its name's suffix (`-<shard>.nq`)."""
    buckets: list[set[bytes]] = [set() for _ in range(shards)]
    for q in quads:
        line = f"{q} .\n".encode()
        buckets[shard_of(line, shards)].add(line)
    digests = {}
    for n, bucket in enumerate(buckets):
        if bucket:
            data = b"".join(sorted(bucket))
            Path(f"{stem}-{n:04d}.nq").write_bytes(data)
            digests[f"-{n:04d}.nq"] = part_digest(data).hexdigest()
    return digests


_BLOCK = 50_000  # lines written at a time


def _flush(lines: list[bytes], *files: BinaryIO) -> bytes:
    block = b"".join(lines)
    lines.clear()
    for f in files:
        f.write(block)
    return block


FAN_IN = 200  # sorted files merged at once: far below the usual limit of 1,024 open files


def _narrow(parts: list[Path], stem: Path) -> list[Path]:
    """At most FAN_IN sorted files holding the lines of `parts` (merged in passes, each line once)."""
    level = 0
    while len(parts) > FAN_IN:
        merged = []
        for n in range(0, len(parts), FAN_IN):
            group, target = parts[n:n + FAN_IN], Path(f"{stem}.pass{level}-{n // FAN_IN}.nq")
            with ExitStack() as files, target.open("wb") as out:
                last = b""
                for line in heapq.merge(*(files.enter_context(p.open("rb")) for p in group)):
                    if line != last:
                        out.write(line)
                        last = line
            merged.append(target)
            if level:
                for p in group:
                    p.unlink()
        parts, level = merged, level + 1
    return parts


_TYPE = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_SUBCLASS = b"<http://www.w3.org/2000/01/rdf-schema#subClassOf>"


def merge(parts: list[Path], stem: Path, shard: int = 0, shards: int = 1, editorial: bytes = b"") -> Segment:
    """One shard's segment from the sorted files of every mapping task (each statement once); with what its
    validation and the other shards' need: `<stem>.types.nt` (its rdf:type triples), `<stem>.sub.nt` (its
    rdfs:subClassOf triples) and `<stem>.out.nt` (by shard, a triple pointing to each other shard's node by each
    predicate); and what may be a conflict, `<stem>.claims.nq`: the quads of each single-valued property of a
    subject to which the graphs (the `editorial` one, <iri>, among them) give more than one value."""
    quads = triples = 0
    types: list[bytes] = []
    subclasses: list[bytes] = []
    out: dict[int, list[bytes]] = {}
    pointers: set[bytes] = set()  # "<predicate> <object>" of the triples in `out`
    graphs: set[bytes] = set()
    digest = part_digest()
    narrowed = _narrow(parts, stem)
    with ExitStack() as files:
        sources = [files.enter_context(p.open("rb")) for p in narrowed]
        nq = files.enter_context(open(f"{stem}.nq", "wb"))
        nt = files.enter_context(open(f"{stem}.nt", "wb"))
        claims = files.enter_context(open(f"{stem}.claims.nq", "wb"))
        nq_gz = files.enter_context(deflate(files.enter_context(open(f"{stem}.nq.gz", "wb"))))
        nt_gz = files.enter_context(deflate(files.enter_context(open(f"{stem}.nt.gz", "wb"))))
        last = last_triple = b""
        quad_lines: list[bytes] = []
        triple_lines: list[bytes] = []
        claim_lines: list[bytes] = []
        claims_of = _Claims(claim_lines, editorial)
        for line in heapq.merge(*sources):
            if line == last:
                continue
            last = line
            quad_lines.append(line)
            # the graph name is the last term, and an IRI holds no space; the same triple in several graphs sorts
            # into adjacent lines, since a space sorts before anything that could continue a term
            cut = line.rfind(b" <")
            graphs.add(line[cut + 1:-3])
            triple = line[:cut]
            start = line.find(b" ") + 1
            predicate = line[start:line.find(b" ", start)]
            if triple != last_triple:
                last_triple = triple
                written = triple + b" .\n"
                triple_lines.append(written)
                if predicate == _TYPE:
                    types.append(written)
                elif predicate == _SUBCLASS:
                    subclasses.append(written)
                if (target := object_iri(triple)) is not None and (
                        other := shard_of_iri(target, shards)) != shard:
                    # checks only ask whether a node is pointed to by a predicate: one such triple is enough
                    pointer = triple[triple.find(b" ") + 1:]
                    if pointer not in pointers:
                        pointers.add(pointer)
                        out.setdefault(other, []).append(written)
            if predicate[1:-1] in _SINGLE:
                claims_of.add(line, start + len(predicate), line[cut + 1:-3])
            if len(quad_lines) >= _BLOCK:
                quads, triples = quads + len(quad_lines), triples + len(triple_lines)
                digest.update(_flush(quad_lines, nq, nq_gz))
                _flush(triple_lines, nt, nt_gz)
        quads, triples = quads + len(quad_lines), triples + len(triple_lines)
        digest.update(_flush(quad_lines, nq, nq_gz))
        _flush(triple_lines, nt, nt_gz)
        claims_of.flush()
        claims.writelines(claim_lines)
    for p in narrowed:
        if p not in parts:
            p.unlink()
    Path(f"{stem}.types.nt").write_bytes(b"".join(types))
    Path(f"{stem}.sub.nt").write_bytes(sub := b"".join(subclasses))
    out_digests: dict[int, str] = {}
    return Segment(stem, quads, triples, frozenset(g.decode() for g in graphs),
                   _blocks(Path(f"{stem}.out.nt"), out, out_digests), digest=digest.hexdigest(),
                   out_digests=out_digests, sub_digest=part_digest(sub).hexdigest())


class _Claims:
    """Gathers the quads of single-valued properties, given in order (a subject's and property's together), into
    `out` where graphs disagree (the curators' own value among them): the rest cannot be a conflict."""

    def __init__(self, out: list[bytes], editorial: bytes) -> None:
        self.out, self.editorial = out, editorial
        self.key = b""
        self.lines: list[bytes] = []
        self.values: set[bytes] = set()  # the objects the graphs give

    def add(self, line: bytes, end: int, graph: bytes) -> None:
        """One quad; `end`: where its predicate ends, `graph`: its graph name as written."""
        if line[:end] != self.key:
            self.flush()
            self.key = line[:end]
        self.lines.append(line)
        self.values.add(line[end:line.rfind(b" <")])  # the curators' own value too: it settles what it differs from

    def flush(self) -> None:
        """Give the gathered quads to `out` when they disagree."""
        if len(self.values) > 1:
            self.out.extend(self.lines)
        self.lines.clear()
        self.values.clear()


def part_digest(data: bytes = b"") -> Any:
    """The digest that tells a part of the release's N-Quads (a shard's, or the tail's) from another."""
    return hashlib.blake2b(data, digest_size=16)


def _blocks(path: Path, blocks: dict[int, list[bytes]],
            digests: dict[int, str] | None = None) -> dict[int, tuple[int, int]]:
    """Write each block's lines (sorted, each once) one after the other, by key; where each block is (and into
    `digests`, a digest of each)."""
    where: dict[int, tuple[int, int]] = {}
    offset = 0
    path.unlink(missing_ok=True)  # perhaps a link to the previous release's file, which must stay as it is
    with path.open("wb") as f:
        for key in sorted(blocks):
            data = b"".join(sorted(set(blocks[key])))
            f.write(data)
            if digests is not None:
                digests[key] = part_digest(data).hexdigest()
            where[key] = (offset, len(data))
            offset += len(data)
    return where


def exchange_inputs(segments: list[Segment], shard: int) -> list[bytes] | None:
    """What `exchange` makes a shard's `<stem>.give.nt` of, as digests: its statements, and the triples each other
    shard points to its nodes with; None when a segment has no digest."""
    if not all(s.digest for s in segments):
        return None
    return [f"{len(segments)} {shard} {segments[shard].digest}".encode(),
            *(f"{n} {s.out_digests.get(shard, '')}".encode() for n, s in enumerate(segments) if n != shard)]


def exchange(segments: list[Segment], shard: int) -> Segment:
    """The segment with its `<stem>.give.nt`: for each other shard, the types of this shard's nodes that the
    other's triples point to (so that each shard's checks see the types of every node they reach)."""
    mine = segments[shard]
    types: dict[bytes, list[bytes]] = {}
    with mine.path(".types.nt").open("rb") as lines:
        for line in lines:
            types.setdefault(_subject(line), []).append(line)
    wanted: dict[int, list[bytes]] = {}
    for other, segment in enumerate(segments):
        if other == shard or not types:
            continue
        for line in segment.read(".out.nt", segment.out.get(shard)).splitlines(keepends=True):
            target = object_iri(line)
            found = types.get(b"<" + target + b">") if target is not None else None
            if found:
                wanted.setdefault(other, []).extend(found)
    give_digests: dict[int, str] = {}
    give = _blocks(mine.path(".give.nt"), wanted, give_digests)
    return dataclasses.replace(mine, give=give, give_digests=give_digests)


def side(segments: list[Segment], shards: Collection[int]) -> tuple[bytes, bytes]:
    """What some shards' checks reach beyond their own statements, as N-Triples: the triples of the other shards
    pointing to their nodes with every rdfs:subClassOf triple; and the types of the other shards' nodes they point
    to."""
    pointing, types = [], []
    for other, segment in enumerate(segments):
        if other not in shards:
            for shard in sorted(shards):
                pointing.append(segment.read(".out.nt", segment.out.get(shard)))
                types.append(segment.read(".give.nt", segment.give.get(shard)))
        pointing.append(segment.path(".sub.nt").read_bytes())
    return b"".join(pointing), b"".join(types)


def side_digests(segments: list[Segment], shard: int) -> list[bytes]:
    """What `side(segments, {shard})` is made of, as digests (without reading a file): what may tell whether a
    shard's checks reach what they reached before."""
    return [f"{other} {segment.out_digests.get(shard, '')} {segment.give_digests.get(shard, '')} "
            f"{segment.sub_digest}".encode() if other != shard else segment.sub_digest.encode()
            for other, segment in enumerate(segments)]


@dataclass
class _Job:
    """What the forked workers inherit: set by the parent just before it forks them."""

    records: list[Record]
    minter: Minter
    plan: Plan
    work: Path
    parts: list[list[Path]] = field(default_factory=list)  # by shard: the files to merge
    kept: Kept | None = None
    token: Callable[[Record], bytes | None] = lambda _: None  # what tells a record read back unchanged
    keys: list[str | None] = field(default_factory=list)  # by task: the name its output is kept under
    bounds: list[tuple[int, int]] = field(default_factory=list)  # by task: where its records start and end


_JOB: _Job | None = None


_Mapping = tuple[dict[str, Origin], dict[tuple[str, str], Origin], dict[tuple[str, str, str], Origin], dict[str, str]]


_HAND_WRITTEN = (".yaml", ".yml")


def task_bounds(records: list[Record], size: int) -> list[tuple[int, int]]:
    """Where each mapping task's records start and end: at most `size` records, hand-written (YAML) ones never
    in a task with bulk ones, so that editing a YAML file of a project of bulk files maps a few records again."""
    # a record of a bulk file is not `detailed`: only hand-written ones are asked where they were written
    hand = [r.detailed and r.written_in().endswith(_HAND_WRITTEN) for r in records]
    bounds: list[tuple[int, int]] = []
    start = 0
    for _, run in itertools.groupby(hand):  # runs of one sort, cut every `size` records
        end = start + sum(1 for _ in run)
        bounds += [(at, min(at + size, end)) for at in range(start, end, size)]
        start = end
    return bounds or [(0, 0)]


def _map_task(n: int) -> _Mapping:
    """Map the `n`th task's records into one sorted file per shard; where each subject and statement was
    written, and the digest of each file (by its name's suffix)."""
    assert _JOB is not None
    stem = _JOB.work / f"map-{n:06d}"
    records = _JOB.records[slice(*_JOB.bounds[n])]
    out = Mapped()
    digests = route(record_quads(records, _JOB.minter, out), _JOB.plan.shards, stem)
    return _kept_task(n, (out.subjects, out.statements, out.rows, digests))


def _kept_task(n: int, mapping: _Mapping) -> _Mapping:
    """A task's mapping, its files and origins kept for the next build (when it keeps)."""
    assert _JOB is not None
    kept, stem, key = _JOB.kept, _JOB.work / f"map-{n:06d}", _JOB.keys[n]
    if kept is not None and key is not None and kept.into is not None:
        for suffix in mapping[3]:
            os.link(f"{stem}{suffix}", kept.into / f"{key}{suffix}")
        keep(kept, key + ".pickle", mapping)
    return mapping


SPLIT_RECORDS = 1_000  # a task mapped alone (an edit's) of this many records is mapped by every process, a slice each


def _map_slice(n: int, part: int, parts: int) -> _Mapping:
    """The `part`th of `parts` slices of the `n`th task's records mapped into sorted files of their own (`route`)."""
    assert _JOB is not None
    start, end = _JOB.bounds[n]
    cut = [start + (end - start) * i // parts for i in range(parts + 1)]
    out = Mapped()
    digests = route(record_quads(_JOB.records[cut[part]:cut[part + 1]], _JOB.minter, out), _JOB.plan.shards,
                    _JOB.work / f"slice-{n:06d}-{part}")
    return out.subjects, out.statements, out.rows, digests


def _map_split(n: int) -> _Mapping:
    """The `n`th task mapped by every process at once, a slice of its records each, then joined: the files and
    origins `_map_task` gives (mapping is record by record; each file is a sorted set of lines)."""
    assert _JOB is not None
    parts = _JOB.plan.processes
    slices = list(parallel(lambda i: _map_slice(n, i, parts), parts, parts, "map", mine=0))
    subjects: dict[str, Origin] = {}
    statements: dict[tuple[str, str], Origin] = {}
    rows: dict[tuple[str, str, str], Origin] = {}
    for part_subjects, part_statements, part_rows, _ in slices:  # in the records' order, as one task notes them
        subjects.update(part_subjects)  # where a subject was written last
        for key, origin in part_statements.items():
            statements.setdefault(key, origin)  # where a statement was written first
        for at, origin in part_rows.items():
            rows.setdefault(at, origin)
    digests = {}
    for suffix in sorted({suffix for *_, written in slices for suffix in written}):
        lines: set[bytes] = set()
        for part, (*_, written) in enumerate(slices):
            if suffix in written:
                path = _JOB.work / f"slice-{n:06d}-{part}{suffix}"
                lines.update(path.read_bytes().splitlines(keepends=True))
                path.unlink()
        data = b"".join(sorted(lines))
        (_JOB.work / f"map-{n:06d}{suffix}").write_bytes(data)
        digests[suffix] = part_digest(data).hexdigest()
    return _kept_task(n, (subjects, statements, rows, digests))


def _task_key(kept: Kept, records: list[Record], shards: int,
              token: Callable[[Record], bytes | None] = lambda _: None) -> str:
    """The name a mapping task's output is kept under: a digest of its records, the shard count and kg. A record
    with a `token` (read back unchanged) is told by it, the others by their packed contents."""
    told, fresh = [], []
    for record in records:
        found = token(record)
        if found is None:
            fresh.append(record)
        told.append(b"?" if found is None else b"=" + found)  # a token is of fixed length: no two lists read alike
    packed = io.BytesIO()
    packer(packed).dump(pack(fresh))
    return "mapped-" + digest(kept.context.encode(), str(shards).encode(), b"".join(told), packed.getvalue())


def _mapped_back(kept: Kept, key: str, stem: Path) -> _Mapping | None:
    """A mapping task's output as the previous release kept it: its sorted files linked in place, where its
    subjects and statements were written and the files' digests; None when it did not keep it whole."""
    found = read_back(kept, key + ".pickle")
    if not isinstance(found, tuple) or len(found) != 4 or not isinstance(found[3], dict):
        return None
    return found if _linked_back(kept, key, list(found[3]), stem) else None


def _linked_back(kept: Kept, key: str, suffixes: list[str] | tuple[str, ...], stem: Path) -> bool:
    """Link the previous release's kept files `<key><suffix>` as `<stem><suffix>`, and keep them again; False, with
    none of them linked anywhere, when one is missing (what they hold is then made afresh)."""
    assert kept.previous is not None  # what named them was read back from there
    try:
        for suffix in suffixes:
            os.link(kept.previous / f"{key}{suffix}", f"{stem}{suffix}")
            if kept.into is not None:
                os.link(kept.previous / f"{key}{suffix}", kept.into / f"{key}{suffix}")
    except OSError:
        for suffix in suffixes:
            Path(f"{stem}{suffix}").unlink(missing_ok=True)
        if kept.into is not None:
            for linked in kept.into.glob(key + "*"):
                linked.unlink()
        return False
    return True


_MERGED = (".nq", ".nt", ".claims.nq", ".nq.gz", ".nt.gz", ".types.nt", ".sub.nt", ".out.nt")  # what `merge` writes


def _merge_task(shard: int, key: str | None) -> Segment:
    """One shard's segment, merged (and kept under `key`)."""
    assert _JOB is not None
    kept, parts, stem = _JOB.kept, _JOB.parts[shard], _JOB.work / f"seg-{shard:04d}"
    segment = merge(parts, stem, shard, _JOB.plan.shards, f"<{_JOB.minter.editorial().value}>".encode())
    if kept is not None and key is not None and kept.into is not None:
        for suffix in _MERGED:  # never written again once merged: later steps write files of other suffixes
            os.link(segment.path(suffix), kept.into / f"{key}{suffix}")
        keep(kept, key + ".pickle", dataclasses.replace(segment, stem=Path(key)))
    return segment


def _merge_key(kept: Kept, parts: list[Path], shard: int, shards: int, digests: dict[str, str]) -> str:
    """The name a shard's segment is kept under: a digest of the files it is merged from, each told by the digest
    of its bytes its writer gave (`digests`, by file name)."""
    return "merged-" + digest(kept.context.encode(), f"{shard} {shards}".encode(),
                              *(digests[part.name].encode() for part in parts))


def _merged_back(kept: Kept, key: str, stem: Path) -> Segment | None:
    """A shard's segment as the previous release kept it, its files linked in place; None when not kept whole."""
    found = read_back(kept, key + ".pickle")
    if not isinstance(found, Segment) or not _linked_back(kept, key, _MERGED, stem):
        return None
    return dataclasses.replace(found, stem=stem)


def _processes(plan: Plan, tasks: list[int]) -> int:
    """The processes to run these tasks in: none forked for one task, which would cost more than it saves."""
    return plan.processes if len(tasks) > 1 else 1


def map_sharded(records: list[Record], minter: Minter, mapped: Mapped, plan: Plan, work: Path,
                extra: Callable[[], Iterable[ox.Quad]], kept: Kept | None = None,
                token: Callable[[Record], bytes | None] = lambda _: None) -> Generator[Segment, None, None]:
    """Map the records into one segment per shard, given as each is done; `extra()` (asked once the records are
    mapped and `mapped` knows where they were written) gives more quads to route with theirs. The records are let
    go once mapped. A task whose records the previous release mapped (`kept`) links its files instead; `token` tells
    a record read back unchanged without packing it."""
    global _JOB
    bounds = task_bounds(records, plan.task_records)
    tasks = len(bounds)
    _JOB = job = _Job(records, minter, plan, work, kept=kept, token=token, bounds=bounds)
    try:
        # the keys are cheap (a record read back is told by its token): a task kept whole is linked here, unforked
        job.keys = [_task_key(kept, records[start:end], plan.shards, token) if kept else None
                    for start, end in bounds]
        done = {n: found for n, key in enumerate(job.keys) if kept is not None and key is not None
                and (found := _mapped_back(kept, key, work / f"map-{n:06d}")) is not None}
        todo = [n for n in range(tasks) if n not in done]
        if len(todo) == 1 and plan.processes > 1 and bounds[todo[0]][1] - bounds[todo[0]][0] >= SPLIT_RECORDS:
            done[todo[0]] = _map_split(todo[0])  # (an edit of a bulk file: its task's records mapped again)
        else:
            done.update(zip(todo, parallel(lambda i: _map_task(todo[i]), len(todo), _processes(plan, todo), "map"),
                            strict=True))
        digests: dict[str, str] = {}  # by file name: a digest of each file the shards are merged from
        for n in range(tasks):
            subjects, statements, rows, written = done.pop(n)
            mapped.subjects.update(subjects)  # a later record of the same subject is where it was written last
            for key, origin in statements.items():
                mapped.statements.setdefault(key, origin)  # a statement is where it was first written
            for at, origin in rows.items():
                mapped.rows.setdefault(at, origin)
            digests.update((f"map-{n:06d}{suffix}", d) for suffix, d in written.items())
        records.clear()
        job.records = []
        extras = route(extra(), plan.shards, work / "map-extra")
        digests.update((f"map-extra{suffix}", d) for suffix, d in extras.items())
        names = sorted(p.name for p in work.glob("map-*.nq"))
        job.parts = [[work / n for n in names if n.endswith(f"-{k:04d}.nq")] for k in range(plan.shards)]
        merge_keys = [_merge_key(kept, job.parts[k], k, plan.shards, digests) if kept else None
                      for k in range(plan.shards)]
        merged = {k: segment for k, key in enumerate(merge_keys) if kept is not None and key is not None
                  and (segment := _merged_back(kept, key, work / f"seg-{k:04d}")) is not None}
        left = [k for k in range(plan.shards) if k not in merged]
        with contextlib.closing(parallel(lambda i: _merge_task(left[i], merge_keys[left[i]]), len(left),
                                         _processes(plan, left), "merge")) as made:
            for k in range(plan.shards):  # in order: the shards merged here come in the order they were asked for
                yield dataclasses.replace(merged.pop(k), fresh=False) if k in merged else dataclasses.replace(
                    next(made), fresh=True)
    finally:
        _JOB = None
        for p in work.glob("map-*.nq"):
            p.unlink()
