"""Shards: records mapped by a pool of processes, their quads routed by subject document into sorted segments."""

from __future__ import annotations

import heapq
import multiprocessing as mp
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

import pyoxigraph as ox

from kg.build.gz import deflate
from kg.build.mapping import Mapped, record_quads
from kg.ids import Minter
from kg.model import SINGLE_VALUED, Origin, Record
from kg.progress import bar

T = TypeVar("T")
R = TypeVar("R")

_SINGLE = frozenset(p.encode() for p in SINGLE_VALUED)


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
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True)
class Segment:
    """One shard's statements: `<stem>.nq` (its quads, sorted, each once), `<stem>.nt` (their triples, sorted,
    each once), both also gzipped (`.nq.gz`, `.nt.gz`), and `<stem>.claims.nq` (its single-valued quads)."""

    stem: Path
    quads: int
    triples: int
    graphs: frozenset[str] = field(default_factory=frozenset)  # as N-Quads writes them: <iri>

    def path(self, suffix: str) -> Path:
        """The segment's file with this suffix (".nq", ".nt.gz", ...)."""
        return self.stem.with_name(self.stem.name + suffix)


def shard_of(line: bytes, shards: int) -> int:
    """The shard of an N-Quads line: a hash of its subject's document (the subject IRI without its #part)."""
    doc = line[1:line.find(b" ") - 1]
    cut = doc.find(b"#")
    return zlib.crc32(doc if cut < 0 else doc[:cut]) % shards


def route(quads: Iterable[ox.Quad], shards: int, stem: Path) -> None:
    """Write the quads (each in a named graph) to one file per shard, `<stem>-<shard>.nq`, sorted, each once."""
    buckets: list[set[bytes]] = [set() for _ in range(shards)]
    for q in quads:
        line = f"{q} .\n".encode()
        buckets[shard_of(line, shards)].add(line)
    for n, bucket in enumerate(buckets):
        if bucket:
            with open(f"{stem}-{n:04d}.nq", "wb") as out:
                out.writelines(sorted(bucket))


_BLOCK = 50_000  # lines written at a time


def _flush(lines: list[bytes], *files: BinaryIO) -> None:
    block = b"".join(lines)
    lines.clear()
    for f in files:
        f.write(block)


def merge(parts: list[Path], stem: Path) -> Segment:
    """One shard's segment from the sorted files of every mapping task (each statement once)."""
    quads = triples = 0
    graphs: set[bytes] = set()
    with ExitStack() as files:
        sources = [files.enter_context(p.open("rb")) for p in parts]
        nq = files.enter_context(open(f"{stem}.nq", "wb"))
        nt = files.enter_context(open(f"{stem}.nt", "wb"))
        claims = files.enter_context(open(f"{stem}.claims.nq", "wb"))
        nq_gz = files.enter_context(deflate(files.enter_context(open(f"{stem}.nq.gz", "wb"))))
        nt_gz = files.enter_context(deflate(files.enter_context(open(f"{stem}.nt.gz", "wb"))))
        last = last_triple = b""
        quad_lines: list[bytes] = []
        triple_lines: list[bytes] = []
        claim_lines: list[bytes] = []
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
            if triple != last_triple:
                last_triple = triple
                triple_lines.append(triple + b" .\n")
            start = line.find(b" ") + 2
            if line[start:line.find(b" ", start) - 1] in _SINGLE:
                claim_lines.append(line)
            if len(quad_lines) >= _BLOCK:
                quads, triples = quads + len(quad_lines), triples + len(triple_lines)
                _flush(quad_lines, nq, nq_gz)
                _flush(triple_lines, nt, nt_gz)
        quads, triples = quads + len(quad_lines), triples + len(triple_lines)
        _flush(quad_lines, nq, nq_gz)
        _flush(triple_lines, nt, nt_gz)
        claims.writelines(claim_lines)
    return Segment(stem, quads, triples, frozenset(g.decode() for g in graphs))


@dataclass
class _Job:
    """What the forked workers inherit: set by the parent just before it forks them."""

    records: list[Record]
    minter: Minter
    plan: Plan
    work: Path
    parts: list[list[Path]] = field(default_factory=list)  # by shard: the files to merge


_JOB: _Job | None = None


def _map_task(n: int) -> tuple[dict[str, Origin], dict[tuple[str, str], Origin]]:
    """Map the `n`th slice of the records into one sorted file per shard; where each subject and statement was
    written."""
    assert _JOB is not None
    size = _JOB.plan.task_records
    out = Mapped()
    route(record_quads(_JOB.records[n * size:(n + 1) * size], _JOB.minter, out), _JOB.plan.shards,
          _JOB.work / f"map-{n:06d}")
    return out.subjects, out.statements


def _merge_task(shard: int) -> Segment:
    assert _JOB is not None
    return merge(_JOB.parts[shard], _JOB.work / f"seg-{shard:04d}")


def parallel(fn: Callable[[int], R], tasks: int, processes: int, desc: str) -> Iterator[R]:
    """fn(0) ... fn(tasks - 1), in order: in forked worker processes when there is more than one to use."""
    if processes <= 1 or tasks <= 1:
        yield from bar(map(fn, range(tasks)), tasks, desc, "shards")
        return
    # Forked, not spawned: a worker inherits what it needs instead of unpickling it. A worker is forked afresh for
    # each task, so the pages of the parent's objects it copied (touching an object writes its reference count) are
    # given back when the task ends, instead of adding up in a long-lived worker.
    with mp.get_context("fork").Pool(min(processes, tasks), maxtasksperchild=1) as pool:
        yield from bar(pool.imap(fn, range(tasks)), tasks, desc, "shards")


def map_sharded(records: list[Record], minter: Minter, mapped: Mapped, plan: Plan, work: Path,
                extra: Callable[[], Iterable[ox.Quad]]) -> Iterator[Segment]:
    """Map the records into one segment per shard, given as each is done; `extra()` (asked once the records are
    mapped and `mapped` knows where they were written) gives more quads to route with theirs. The records are let
    go once mapped."""
    global _JOB
    tasks = max(1, -(-len(records) // plan.task_records))
    processes = plan.processes if tasks > 1 else 1  # records for one task: forking would cost more than it saves
    _JOB = _Job(records, minter, plan, work)
    try:
        for subjects, statements in parallel(_map_task, tasks, processes, "map"):
            mapped.subjects.update(subjects)  # a later record of the same subject is where it was written last
            for key, origin in statements.items():
                mapped.statements.setdefault(key, origin)  # a statement is where it was first written
        records.clear()
        _JOB.records = []
        route(extra(), plan.shards, work / "map-extra")
        names = sorted(p.name for p in work.glob("map-*.nq"))
        _JOB.parts = [[work / n for n in names if n.endswith(f"-{k:04d}.nq")] for k in range(plan.shards)]
        yield from parallel(_merge_task, plan.shards, processes, "merge")
    finally:
        _JOB = None
        for p in work.glob("map-*.nq"):
            p.unlink()
