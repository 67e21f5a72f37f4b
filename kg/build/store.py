"""The release's on-disk Oxigraph store: bulk-loaded in full, or the previous release's copied and patched."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from zlib_ng import gzip_ng as gzip  # the gzip module's format and API, deflate about twice as fast

from kg import spliced
from kg.build.shards import shard_of
from kg.build.statements import CHUNK, Statements
from kg.layout import (
    DUMPS,
    KEPT_DIR,
    PARTS_FILE,
    STORE_DIR,
    metadata,
)
from kg.progress import counter


def persist(statements: Statements, union_nt: Path, location: Path) -> None:
    """The release's on-disk store, bulk-loaded in slices from the source graphs' file and the union's dump."""
    disk = ox.Store(str(location))

    stop = threading.Event()  # a stop (Ctrl-C, TERM) or a failure: the loads end at their next slice

    def load(disk: ox.Store, path: Path, fmt: ox.RdfFormat, graph: ox.DefaultGraph | None, progress: Any) -> None:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as data:
            while not stop.is_set() and (lines := list(itertools.islice(data, CHUNK))):
                disk.bulk_load(b"".join(lines), format=fmt, to_graph=graph, lenient=True)  # our own output: valid
                progress.update(len(lines))

    # both files at once, on two threads: the loader lets go of the GIL (a quarter faster on two cores)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kg-store") as pool, counter(
            "store", "statements") as progress:
        try:
            loads = [pool.submit(load, disk, statements.whole(".nq"), ox.RdfFormat.N_QUADS, None, progress),
                     pool.submit(load, disk, union_nt, ox.RdfFormat.N_TRIPLES, ox.DefaultGraph(), progress)]
            pending = set(loads)
            while pending:  # in short waits: a stop's handler runs in this thread, but the signal may wake another
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                for done in finished:
                    done.result()
        except BaseException:
            stop.set()  # else the pool's exit would wait for both files to be loaded whole
            raise
    disk.flush()
    disk.optimize()
    del disk  # closed here (nothing else holds it): no collection over the build's millions of objects needed


STORE_FORMAT = 1  # bumped when what the store holds changes shape: a store of another format is never patched

PATCH_LIMIT = 0.25  # patch the previous store when fewer statements than this share of it changed
HELD_PARTS = 4  # parts changed that a patch keeps in memory once read (else it reads each again when asked)


def _lines(path: Path) -> Iterator[bytes]:
    with spliced.open_file(path) as raw, (gzip.open(raw, "rb") if path.suffix == ".gz" else raw) as data:  # type: ignore[no-untyped-call]
        for line in data:
            if line.strip():
                yield line if line.endswith(b"\n") else line + b"\n"


def _digest(line: bytes) -> bytes:
    return hashlib.blake2b(line, digest_size=16).digest()


def delta(old: Path, new: Path) -> tuple[list[bytes], list[bytes], int]:
    """Lines only in `old`, lines only in `new` (both files of our own writing), and the size of `old`."""
    before = {_digest(line) for line in _lines(old)}
    after: set[bytes] = set()
    added = []
    for line in _lines(new):
        d = _digest(line)
        after.add(d)
        if d not in before:
            added.append(line)
    size = len(before)
    del before
    removed = [line for line in _lines(old) if _digest(line) not in after]
    return removed, added, size


_NAMED = next(d for d in DUMPS if d.format.name == "nquads")


def record_parts(statements: Statements, kept: Path) -> None:
    """Write where each part of the quads (a shard's, the tail's) is in the release's N-Quads dump, with its
    digest and size: the next build patches the store from the parts that changed alone."""
    offset, parts = 0, []
    for path, digest, quads in zip(statements.parts(".nq.gz"),
                                   statements.part_digests, statements.part_quads, strict=True):
        length = path.stat().st_size
        parts.append({"digest": digest, "offset": offset, "length": length, "quads": quads})
        offset += length
    (kept / PARTS_FILE).write_text(json.dumps({"shards": len(statements.segments), "parts": parts}) + "\n",
                                   encoding="utf-8")


def _split(data: bytes) -> set[bytes]:
    return set(data.splitlines(keepends=True))


class _Parts:
    """The lines of each part of the previous release's quads and of this build's, read when first asked for."""

    def __init__(self, previous: Path, parts: list[dict[str, int]], statements: Statements) -> None:
        self.previous, self.parts = previous / _NAMED.filename, parts
        self.new_files = statements.parts(".nq")
        self._old: dict[int, set[bytes]] = {}
        self._new: dict[int, set[bytes]] = {}

    def read_old(self, n: int) -> set[bytes]:
        """The lines of the previous release's `n`th part."""
        if n in self._old:
            return self._old[n]
        with spliced.open_file(self.previous) as f:
            f.seek(self.parts[n]["offset"])
            return _split(zlib.decompress(f.read(self.parts[n]["length"]), wbits=31))  # one gzip member

    def read_new(self, n: int) -> set[bytes]:
        """The lines of this build's `n`th part."""
        return self._new[n] if n in self._new else _split(self.new_files[n].read_bytes())

    def old(self, n: int) -> set[bytes]:
        """The lines of the previous release's `n`th part, kept for the next question."""
        if n not in self._old:
            self._old[n] = self.read_old(n)
        return self._old[n]

    def new(self, n: int) -> set[bytes]:
        """The lines of this build's `n`th part, kept for the next question."""
        if n not in self._new:
            self._new[n] = self.read_new(n)
        return self._new[n]


class _TooMany(Exception):
    """More changed than a patch is worth (PATCH_LIMIT)."""


def _by_parts(previous: Path, statements: Statements) -> tuple[list[bytes], list[bytes], int, set[bytes]] | None:
    """Lines only in the previous release's quads, lines only in this build's, the previous release's size, and
    the triples of the lines gone that a line of this build still states; read from the parts that changed (and
    the parts their lines' subjects are in); None when the previous release's parts are not comparable. Raises
    _TooMany when more changed than PATCH_LIMIT."""
    try:
        manifest = json.loads((previous / KEPT_DIR / PARTS_FILE).read_text(encoding="utf-8"))
        shards, old = int(manifest["shards"]), list(manifest["parts"])
        size = sum(int(p["quads"]) for p in old)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    digests = statements.part_digests
    if not shards or shards != len(statements.segments) or len(old) != len(digests):
        return None
    parts, tail = _Parts(previous, old, statements), shards  # the tail is the last part
    gone: set[bytes] = set()
    added: set[bytes] = set()
    changed = [n for n, digest in enumerate(digests) if old[n].get("digest") != digest]
    held = len(changed) <= HELD_PARTS  # an edit's few parts are asked for again below: else one at a time
    for n in changed:
        before, after = (parts.old(n), parts.new(n)) if held else (parts.read_old(n), parts.read_new(n))
        gone |= before - after
        added |= after - before
        if len(gone) + len(added) > PATCH_LIMIT * max(size, 1):
            raise _TooMany
    # a line is in its subject's shard, and the tail may hold it too: a line is only gone (or new) when neither has it
    removed = sorted(x for x in gone if x not in parts.new(tail) and x not in parts.new(shard_of(x, shards)))
    new = sorted(x for x in added if x not in parts.old(tail) and x not in parts.old(shard_of(x, shards)))
    candidates = {line[:line.rfind(b" <")] for line in removed}
    stated = {t for n in {tail} | {shard_of(line, shards) for line in removed}
              for line in parts.new(n) if (t := line[:line.rfind(b" <")]) in candidates} if candidates else set()
    return removed, new, size, stated


def patch(previous: Path, statements: Statements, location: Path) -> dict[str, int] | None:
    """The previous release's store, copied (hard links) and patched with what changed; None when it should not.

    The source graphs' changes are the lines that differ between the previous release's N-Quads dump and this
    build's: in the parts whose digests differ when the previous release recorded its parts, else in the whole
    dumps (compared by digest). The union's follow from them: a triple is added with any quad that states it,
    and removed with the last one (no line of this build states it in any graph). A named graph the build no
    longer has is dropped too: Oxigraph keeps a graph once inserted, even with all its quads gone, and such an
    empty graph would still be listed (service description, `GRAPH ?g {}`) and served (`/store?graph=`).
    """
    try:
        meta = metadata(previous)
    except (OSError, ValueError):
        return None
    if meta.get("store_format") != STORE_FORMAT or not (previous / STORE_DIR).is_dir():
        return None
    try:
        found = _by_parts(previous, statements)
        if found is None:  # a release without its parts: the whole dumps compared
            whole = delta(previous / _NAMED.filename, statements.whole(".nq"))
    except _TooMany:
        return None
    except (OSError, EOFError, zlib.error):  # the previous release's dump is damaged: the store is loaded in full
        return None
    if found is None:
        gone, new, size = whole
        # the triple part of a line: the graph name is its last term, and an IRI holds no space
        candidates = {line[:line.rfind(b" <")] for line in gone}
        stated = {t for line in _lines(statements.whole(".nq")) if (t := line[:line.rfind(b" <")]) in candidates} \
            if candidates else set()
    else:
        gone, new, size, stated = found
    if len(gone) + len(new) > PATCH_LIMIT * max(size, 1):
        return None
    ox.Store.read_only(str(previous / STORE_DIR)).backup(str(location))
    disk = ox.Store(str(location))
    default = ox.DefaultGraph()
    counts = {"removed_quads": len(gone), "added_quads": len(new), "removed_triples": 0, "added_triples": 0,
              "removed_graphs": 0}
    for line, q in zip(gone, ox.parse(b"".join(gone), format=ox.RdfFormat.N_QUADS), strict=True):
        disk.remove(q)
        triple = ox.Quad(q.subject, q.predicate, q.object, default)
        if line[:line.rfind(b" <")] not in stated and triple in disk:  # no source says it any more
            disk.remove(triple)
            counts["removed_triples"] += 1
    for q in ox.parse(b"".join(new), format=ox.RdfFormat.N_QUADS):
        triple = ox.Quad(q.subject, q.predicate, q.object, default)
        if triple not in disk:
            disk.add(triple)
            counts["added_triples"] += 1
        disk.add(q)
    # The build's graphs are those of its lines (the store's graph list is small: one entry a graph, not a quad).
    # Comparing them all, not only the graphs that lost quads, also drops any left empty by an earlier patch.
    built = statements.graphs
    for graph in list(disk.named_graphs()):
        if isinstance(graph, ox.NamedNode) and graph.value not in built:  # every graph kg writes is named by an IRI
            disk.remove_graph(graph)
            counts["removed_graphs"] += 1
    disk.flush()
    del disk  # closed here, as in `persist`
    return counts
