"""Writing a release atomically (dumps, VoID, metadata, the Oxigraph store) and finding the current one."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import fcntl
import functools
import gc
import hashlib
import importlib.metadata
import itertools
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import pyoxigraph as ox
import rdflib
from zlib_ng import gzip_ng as gzip  # the gzip module's format and API, deflate about twice as fast

from . import index, vocab
from .config import Config
from .ids import Minter
from .jsonld import stream as jsonld_stream
from .layout import (
    CURRENT,
    DUMPS,
    METADATA,
    RELEASES,
    STORE_DIR,
    VOID_FILE,
    WIRE_DIR,
    Dump,
    current,
    finished,
    metadata,
)
from .mapping import Conflict, Mapped, conflict_quads, find_conflicts, stream
from .model import SINGLE_VALUED, Origin, Record
from .progress import bar, counter
from .sources import Note, Sources, input_files, read_sources, source_files
from .validate import Report, load_shapes, validate_graph
from .vocab import DCT, P, V

T = TypeVar("T")
GZIP_LEVEL = 6  # the default: most of level 9's size at a third of its time
REPORT_FILE = "build-report.txt"
ENGINES = ("pyoxigraph", "rdflib", "pyshacl")  # another version may write or judge the same graph otherwise
_NAMED = ".sources.nq"  # the source graphs as the build writes them, until the on-disk store is loaded


@dataclass
class BuildResult:
    """What a build did: its report, conflicts, counts, timings and the release it published (if any)."""

    report: Report
    conflicts: list[Conflict]
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    release_dir: Path | None = None
    release_id: str | None = None
    notes: list[Note] = field(default_factory=list)
    unchanged: bool = False  # nothing changed since the current release was built: it stays, nothing was built


def input_digest(files: Iterable[Path], root: Path, settings: Iterable[str] = ()) -> str:
    """SHA-256 over the settings that shape the output (base IRI, title, licence) and the source files' relative
    paths and bytes."""
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
    package = Path(__file__).resolve().parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".ttl", ".jsonld")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def new_release_id(digest: str) -> str:
    """The id of a release built from inputs of this digest by this kg."""
    return hashlib.sha256(f"{digest}\0{code_digest()}".encode()).hexdigest()[:12]


def build_digest(digest: str, config: Config) -> str:
    """What decides whether a build would publish anything new: the inputs' digest, the shapes, the vocabularies
    sources may use, kg itself and the libraries that write and check the graph."""
    engines = " ".join(f"{name}=={importlib.metadata.version(name)}" for name in ENGINES)
    h = hashlib.sha256(f"{digest}\0{code_digest()}\0{STORE_FORMAT}\0{chr(31).join(config.vocabularies)}\0"
                       f"{engines}\0".encode())
    for path in sorted(config.shapes_path.glob("*.ttl")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _settings(config: Config) -> tuple[str, ...]:
    """The settings that shape a release's graph (besides its files)."""
    return config.base_iri, config.title, config.license


def unchanged(config: Config) -> Path | None:
    """The current release, when it was built from exactly what a build would read now (there is nothing to do)."""
    release = current(config.releases_path)
    files = input_files(config.data_path, config.root, config.readable) if release and config.data_path.is_dir() \
        else None
    if release is None or files is None or not (release / STORE_DIR).is_dir():
        return None
    try:
        known = metadata(release).get("build_digest")
        return release if known == build_digest(input_digest(files, config.root, _settings(config)), config) else None
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


def _deflate(raw: BinaryIO) -> BinaryIO:
    """A gzip stream into `raw` that is the same for the same bytes (no file name, no time)."""
    return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="",  # type: ignore[no-untyped-call, return-value]
                         compresslevel=GZIP_LEVEL)


def _write(path: Path, dump: Dump, write: Callable[[BinaryIO], None]) -> None:
    """Write one dump (gzipped if it is a .gz dump) through `write`."""
    with path.open("wb") as raw:
        if dump.gzipped:
            with _deflate(raw) as gz:
                write(gz)
        else:
            write(raw)


def _gzip(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as raw, _deflate(raw) as gz:
        shutil.copyfileobj(src, gz, 1 << 20)


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


def _jsonld(store: ox.Store, out: BinaryIO) -> None:
    """The default graph as compact JSON-LD, streamed one node (subject) at a time."""
    for piece in jsonld_stream(store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        out.write(piece)


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


def write_dumps(statements: Statements, target: Path) -> None:
    """Every dump: the union (from the in-memory store) for triple formats, the source graphs for quad formats."""
    store = statements.union

    def union(dump: Dump) -> Callable[[BinaryIO], None]:
        if dump.format.name == "jsonld":
            return lambda out: _jsonld(store, out)

        def write(out: BinaryIO) -> None:
            store.dump(out, format=dump.format.oxigraph, from_graph=ox.DefaultGraph(),
                       prefixes=vocab.PREFIXES if dump.format.name == "turtle" else None)
        return write

    def named(dump: Dump) -> Callable[[BinaryIO], None]:
        if dump.format.name == "trig":
            return lambda out: _trig(statements, out)

        def write(out: BinaryIO) -> None:
            with statements.named_path.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        return write

    def one(dump: Dump) -> None:
        _write(target / dump.filename, dump, named(dump) if dump.format.datasets else union(dump))
        if not dump.gzipped:
            _gzip(target / dump.filename, target / WIRE_DIR / (dump.filename + ".gz"))

    (target / WIRE_DIR).mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # gzip and the store's writers leave the GIL
        list(bar(pool.map(one, DUMPS), len(DUMPS), "dumps", "files"))


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


class _Stages:
    """Times each stage and reports it through `say`."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.timings: dict[str, float] = {}
        self.peaks: dict[str, int] = {}  # the process's peak memory (MB) by the end of each stage
        self.cpu: dict[str, float] = {}  # CPU seconds (user and system, every thread) each stage took

    def run(self, name: str, fn: Callable[[], T], detail: Callable[[T], str] = lambda _: "") -> T:
        start, before = time.perf_counter(), _cpu()
        result = fn()
        self.timings[name] = round(time.perf_counter() - start, 3)
        self.cpu[name] = round(_cpu() - before, 3)
        self.peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        extra = detail(result)
        self.say(f"{name:<10} {self.timings[name]:7.2f} s  {self.peaks[name]:6d} MB peak  "
                 f"{self.cpu[name]:7.1f} s CPU{'  ' + extra if extra else ''}")
        return result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


CHUNK = 100_000  # lines per load into a store: bounds the memory of the stores' loaders
PRETTY_TRIG_BYTES = 16 << 20  # graphs up to this size are written as grouped Turtle in the TriG dump


class Statements:
    """Where a build's statements go: each source graph's quads to an N-Quads file, the union to a store.

    The union (the default graph: every statement once) is what validation and the triple dumps read, so it is
    held in memory; the source graphs are only written out, to be bulk-loaded into the on-disk store at the end.
    Single-valued statements are also kept with their graphs, to find where sources disagree.
    """

    def __init__(self, named: Path) -> None:
        self.union = ox.Store()
        self.claims = ox.Store()
        self.named_path = named
        self._graph_terms: set[str] = set()  # as N-Quads writes them: <iri>
        self.count = 0
        self._named = named.open("w", encoding="utf-8", newline="\n")
        self._lines: list[str] = []
        self._claims: list[ox.Quad] = []
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-union")
        self._pending: list[Future[None]] = []

    def add(self, quads: Iterable[ox.Quad], per_record: bool = False) -> None:
        """Record quads (each in a named graph).

        With `per_record`, a quad repeated within one run of quads about the same subject document (a record
        and its parts) is recorded once: a record states each fact once, and repeats elsewhere are the store's
        to merge.
        """
        write, lines, claims, graphs = self._named.write, self._lines, self._claims, self._graph_terms
        single = SINGLE_VALUED
        seen: set[str] = set()
        current = ""
        for q in quads:
            text = str(q)
            if per_record:
                # the subject is the first term and an IRI holds no space; its document drops any #part
                doc = text[1:text.find(" ") - 1].split("#", 1)[0]
                if doc != current:
                    seen.clear()
                    current = doc
                if text in seen:
                    continue
                seen.add(text)
            write(text + " .\n")
            # the graph name comes last in N-Quads, and an IRI holds no space: cut it off for the triple
            cut = text.rfind(" ")
            lines.append(text[:cut] + " .\n")
            graphs.add(text[cut + 1:])
            if q.predicate.value in single:
                claims.append(q)
            if len(lines) >= CHUNK:
                self._flush()

    @property
    def graphs(self) -> set[str]:
        """The IRIs of the graphs recorded so far."""
        return {g[1:-1] for g in self._graph_terms}

    def _flush(self) -> None:
        if self._lines:
            self.count += len(self._lines)
            data = "".join(self._lines).encode()
            self._lines.clear()
            # The store parses and inserts a chunk (pyoxigraph lets go of the GIL) while the next one is mapped;
            # one loader thread keeps the chunks in order, so the dumps stay reproducible.
            while len(self._pending) >= 2:
                self._pending.pop(0).result()
            self._pending.append(self._loader.submit(self.union.load, data, format=ox.RdfFormat.N_TRIPLES))
        if self._claims:
            self.claims.extend(self._claims)
            self._claims.clear()

    def sync(self) -> None:
        """Everything recorded so far is in the stores."""
        self._flush()
        for pending in self._pending:
            pending.result()
        self._pending.clear()

    def close(self) -> None:
        """Everything recorded is in the file and the stores."""
        self.sync()
        self._named.close()
        self._loader.shutdown()


class _Skolem:
    """Blank nodes of one RDF file as Skolem IRIs, numbered in the order they first appear in the file.

    A blank node would be renamed by every loader on its way to the store; an IRI is the same everywhere.
    Triples outside a named graph go to the file's own source graph.
    """

    def __init__(self, minter: Minter, key: str) -> None:
        self.minter, self.key = minter, key
        self.graph = minter.entity("source", key)
        self.made: dict[ox.BlankNode, ox.NamedNode] = {}

    def __call__(self, term: Any) -> Any:
        if isinstance(term, ox.DefaultGraph):
            return self.graph
        if not isinstance(term, ox.BlankNode):
            return term
        found = self.made.get(term)
        if found is None:
            found = self.made[term] = self.minter.genid(self.key, len(self.made) + 1)
        return found


def rdf_quads(sources: Sources, minter: Minter, mapped: Mapped | None = None) -> Iterator[ox.Quad]:
    """The statements of RDF source files: their triples in the file's source graph, named graphs as they are.

    Each file goes through a store first, so its literals are in the store's canonical forms (1.50 -> 1.5),
    and repeated statements are dropped, exactly as the on-disk store will hold them; blank nodes become
    Skolem IRIs (<base>.well-known/genid/<file>-<n>). With `mapped`, each subject no record stated is known to
    come from its file (a finding about it names the file).
    """
    for rdf in sources.rdf:
        skolem = _Skolem(minter, rdf.key)
        scratch = ox.Store()
        scratch.extend(ox.Quad(skolem(q.subject), q.predicate, skolem(q.object), skolem(q.graph_name))
                       for q in rdf.quads())
        for quad in scratch:
            if mapped is not None and quad.subject.value not in mapped.subjects:
                mapped.subjects[quad.subject.value] = Origin(rdf.display, 0, f"<{quad.subject.value}>")
            yield quad
        del scratch


def persist(statements: Statements, union_nt: Path, location: Path) -> None:
    """The release's on-disk store, bulk-loaded in slices from the source graphs' file and the union's dump."""
    disk = ox.Store(str(location))

    def load(disk: ox.Store, path: Path, fmt: ox.RdfFormat, graph: ox.DefaultGraph | None, progress: Any) -> None:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as data:
            while lines := list(itertools.islice(data, CHUNK)):
                disk.bulk_load(b"".join(lines), format=fmt, to_graph=graph, lenient=True)  # our own output: valid
                progress.update(len(lines))

    # both files at once, on two threads: the loader lets go of the GIL (a quarter faster on two cores)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kg-store") as pool, counter(
            "store", "statements") as progress:
        for done in [pool.submit(load, disk, statements.named_path, ox.RdfFormat.N_QUADS, None, progress),
                     pool.submit(load, disk, union_nt, ox.RdfFormat.N_TRIPLES, ox.DefaultGraph(), progress)]:
            done.result()
    disk.flush()
    disk.optimize()
    del disk
    gc.collect()


STORE_FORMAT = 1  # bumped when what the store holds changes shape: a store of another format is never patched
PATCH_LIMIT = 0.25  # patch the previous store when fewer statements than this share of it changed


def _lines(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as data:
        for line in data:
            if line.strip():
                yield line if line.endswith(b"\n") else line + b"\n"


def _digest(line: bytes) -> bytes:
    return hashlib.blake2b(line, digest_size=16).digest()


def _delta(old: Path, new: Path) -> tuple[list[bytes], list[bytes], int]:
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


def patch(previous: Path, statements: Statements, location: Path) -> dict[str, int] | None:
    """The previous release's store, copied (hard links) and patched with what changed; None when it should not.

    The source graphs' changes are the lines that differ between the previous release's N-Quads dump and this
    build's (compared by digest). The union's follow from them: a triple is added with any quad that states it,
    and removed with the last one (no line of this build states it in any graph).
    """
    try:
        meta = metadata(previous)
    except (OSError, ValueError):
        return None
    named = next(d for d in DUMPS if d.format.name == "nquads")
    if meta.get("store_format") != STORE_FORMAT or not (previous / STORE_DIR).is_dir():
        return None
    gone, new, size = _delta(previous / named.filename, statements.named_path)
    if len(gone) + len(new) > PATCH_LIMIT * max(size, 1):
        return None
    # the triple part of a line: the graph name is its last term, and an IRI holds no space
    candidates = {line[:line.rfind(b" <")] for line in gone}
    stated = {t for line in _lines(statements.named_path) if (t := line[:line.rfind(b" <")]) in candidates} \
        if candidates else set()
    ox.Store.read_only(str(previous / STORE_DIR)).backup(str(location))
    disk = ox.Store(str(location))
    default = ox.DefaultGraph()
    counts = {"removed_quads": len(gone), "added_quads": len(new), "removed_triples": 0, "added_triples": 0}
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
    disk.flush()
    del disk
    gc.collect()
    return counts


def _drain(records: list[Record]) -> Iterator[Record]:
    """The records, each let go once mapped (the store holds what they said)."""
    records.reverse()
    while records:
        yield records.pop()


def load(statements: Statements, sources: Sources, minter: Minter, mapped: Mapped) -> int:
    """Map every record (and RDF file) into the statements, find and record the conflicts."""
    quads = stream(_drain(sources.records), minter, mapped, len(sources.records))
    statements.add(quads, per_record=True)
    statements.add(rdf_quads(sources, minter, mapped))
    statements.sync()
    mapped.conflicts = find_conflicts(statements.claims, minter, mapped)
    statements.add(conflict_quads(mapped.conflicts, minter))
    statements.sync()
    return statements.count


class WriteError(Exception):
    """The release cannot be written (the disk is full, a directory is not writable, ...): the machine's problem,
    not the input's; nothing was published."""


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """An OSError while the release is written, as a WriteError saying what failed and where."""
    try:
        yield
    except OSError as exc:
        raise WriteError(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")) from exc


def build(config: Config, publish: bool = True, say: Callable[[str], None] = lambda _: None,
          incremental: bool = True) -> BuildResult:
    """Read, map and validate data/; if it conforms and `publish`, write and switch to a new release.

    With `incremental`, nothing is built when nothing changed since the current release was built, and otherwise
    the on-disk store is the previous release's, patched, when little changed. Raises InputError for bad input and
    WriteError when the release cannot be written.
    """
    gc.disable()  # millions of acyclic records and terms: the collector's passes over them cost a third of a build
    try:
        return _build(config, publish, say, incremental)
    finally:
        gc.enable()


def _build(config: Config, publish: bool, say: Callable[[str], None], incremental: bool) -> BuildResult:
    if publish:
        _sweep_unless_building(config.releases_path)
    if publish and incremental and (same := unchanged(config)) is not None:
        meta = metadata(same)
        counts = meta.get("counts")
        return BuildResult(Report(), [], dict(counts) if isinstance(counts, dict) else {}, release_dir=same,
                           release_id=str(meta.get("id")), unchanged=True)
    has_data = config.data_path.is_dir()  # without data/, that is what the read says first
    shapes = load_shapes(config.shapes_path) if has_data else None  # missing or broken shapes: told before a long read
    stages = _Stages(say)
    files = source_files(config.data_path) if has_data else []
    sources = stages.run("read", lambda: read_sources(config.data_path, files, config.root, config.base_iri,
                                                      config.readable),
                         lambda s: f"{len(s.records)} records from {len(s.inputs)} files"
                                   f"{', ' + str(len(s.notes)) + ' notes' if s.notes else ''}")
    shapes = shapes if shapes is not None else load_shapes(config.shapes_path)
    minter = Minter(config.base_iri)
    if not publish:  # validating only: the store is scratch, and nothing goes near var/
        with _writing():
            return _build_at(Path(tempfile.mkdtemp(prefix="kg-validate-")), config, sources, minter, shapes, stages,
                             publish, incremental)
    releases = config.releases_path / RELEASES
    with _writing():
        releases.mkdir(parents=True, exist_ok=True)
        with _build_lock(config.releases_path, say):
            _sweep(releases)  # safe: no other build of this project is running
            tmp = releases / f".tmp-{os.getpid()}-{time.time_ns()}"
            tmp.mkdir()
            return _build_at(tmp, config, sources, minter, shapes, stages, publish, incremental)


def _build_at(tmp: Path, config: Config, sources: Sources, minter: Minter, shapes: rdflib.Graph, stages: _Stages,
              publish: bool, incremental: bool) -> BuildResult:
    try:
        result = _build_in(tmp, config, sources, minter, shapes, stages, publish, incremental)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if result.release_dir is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


LOCK_FILE = ".build.lock"


@contextlib.contextmanager
def _build_lock(root: Path, say: Callable[[str], None]) -> Iterator[None]:
    """One publishing build per project at a time: a second one waits for the first (the lock goes with its process)."""
    with (root / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            say(f"kg: another build of this project is running (pid {holder}); waiting for it to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise), so that peak memory stays low."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


def _build_in(tmp: Path, config: Config, sources: Sources, minter: Minter, shapes: rdflib.Graph, stages: _Stages,
              publish: bool, incremental: bool) -> BuildResult:
    statements = Statements(tmp / _NAMED)
    mapped = Mapped()
    counts = {"records": len(sources.records), "files": len(sources.inputs)}
    counts["quads"] = stages.run("map", lambda: load(statements, sources, minter, mapped), lambda n: f"{n} quads")
    _give_back_memory()  # the records are mapped and gone: later stages start from what is really in use
    report = stages.run("validate", lambda: validate_graph(statements.union, shapes, mapped, config.vocabularies),
                        lambda r: f"{len(r.of('Violation'))} violations, {len(r.of('Warning'))} warnings")
    result = BuildResult(report, mapped.conflicts, counts, stages.timings, notes=sources.notes)
    if not report.conforms or not publish:
        statements.close()
        return result
    digest = input_digest(sources.inputs, config.root, _settings(config))
    built = build_time()
    release_id = new_release_id(digest)
    statements.add(release_quads(minter, release_id, digest, built, config,
                                 [ox.NamedNode(g) for g in statements.graphs if "/source/" in g]))
    statements.close()

    def write_files() -> int:
        write_dumps(statements, tmp)
        void, total = void_triples(statements.union, minter, config, release_id, built)
        ox.serialize(void, str(tmp / VOID_FILE), format=ox.RdfFormat.TURTLE, prefixes=vocab.PREFIXES)
        return total

    counts["triples"] = stages.run("dumps", write_files, lambda t: f"{len(DUMPS)} files, {t} triples")

    previous = current(config.releases_path) if incremental else None

    def load_disk() -> dict[str, object]:
        statements.union = ox.Store()  # the in-memory union goes first: never both it and a store's loading
        gc.collect()
        _give_back_memory()
        patched = patch(previous, statements, tmp / STORE_DIR) if previous else None
        if patched is None:
            shutil.rmtree(tmp / STORE_DIR, ignore_errors=True)
            union = next(d for d in DUMPS if d.format.name == "ntriples")
            persist(statements, tmp / union.filename, tmp / STORE_DIR)
        statements.named_path.unlink()
        index.write(ox.Store.read_only(str(tmp / STORE_DIR)), tmp / index.INDEX_DIR, config.base_iri)
        return {"loaded": "in full"} if patched is None else {
            "patched_from": str(metadata(previous)["id"]) if previous else "", **patched}

    store_how = stages.run("store", load_disk, lambda how: "patched the previous release's store: " + ", ".join(
        f"{v} {k.replace('_', ' ')}" for k, v in how.items() if k != "patched_from")
        if "patched_from" in how else "loaded in full")
    meta = {
        "id": release_id,
        "built_at": built.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input_digest": "sha256:" + digest,
        "build_digest": build_digest(digest, config),
        "base_iri": config.base_iri,
        "files": [str(f.relative_to(config.root) if f.is_relative_to(config.root) else f) for f in sources.inputs],
        "counts": counts,
        "conflicts": [{"subject": c.subject, "property": c.predicate, "values": c.values,
                       "where": str(c.origin) if c.origin else None} for c in mapped.conflicts],
        "warnings": [str(f) for f in report.of("Warning")][:1000],
        "notes": {action: sum(1 for x in sources.notes if x.action == action)
                  for action in sorted({x.action for x in sources.notes})},
        "timings": stages.timings,
        "peak_mb": stages.peaks,
        "cpu_s": stages.cpu,
        "store_format": STORE_FORMAT,
        "store": store_how,
        "dumps": {d.filename: (tmp / d.filename).stat().st_size for d in DUMPS},
    }
    (tmp / METADATA).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp / REPORT_FILE).write_text("".join(f"{x}\n" for x in sources.notes), encoding="utf-8")
    _fsync_tree(tmp)
    final = config.releases_path / RELEASES / (
        f"{built.strftime('%Y%m%dT%H%M%SZ')}-{release_id}-{time.time_ns() % 10**6:06d}")
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


def find_release(root: Path, target: str | None = None) -> Path:
    """A kept release: the one whose id or directory is `target`, or (None) the one before the current.

    Raises LookupError when there is no such release.
    """
    kept = finished(root)
    if target is None:
        live = current(root)
        names = [p.name for p in kept]
        earlier = kept[:names.index(live.name)] if live is not None and live.name in names else kept
        if not earlier:
            raise LookupError("no release older than the current one is kept")
        return earlier[-1]
    matches = [p for p in kept if p.name == target or str(metadata(p).get("id")) == target]
    if not matches:
        raise LookupError(f"no kept release {target!r} (kg releases lists them)")
    return matches[-1]


def rollback(root: Path, target: str | None = None) -> Path:
    """Make an earlier release current (see `find_release`); the server follows `current`, so it serves it at once."""
    chosen = find_release(root, target)
    with _build_lock(root, lambda _: None):  # not while a build is about to switch
        switch(root, chosen)
    return chosen


def changes(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """The statements (N-Quads lines, each with its source graph) only in release `old`, and only in `new`, sorted;
    the releases' descriptions of themselves, which differ every time, left out."""
    named = next(d for d in DUMPS if d.format.name == "nquads")
    gone, added, _ = _delta(old / named.filename, new / named.filename)
    own = f"<{metadata(new).get('base_iri', '')}graph/release> .".encode()

    def lines(found: list[bytes]) -> list[str]:
        return sorted(line.decode("utf-8").rstrip("\n") for line in found if not line.rstrip().endswith(own))
    return lines(gone), lines(added)


def _sweep(releases: Path) -> None:
    """Remove what killed builds left behind (never a finished release)."""
    for p in releases.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)


def _sweep_unless_building(root: Path) -> None:
    """Remove what killed builds left behind, unless a build is running (it swept when it started, and what is
    there now is its own); a project whose releases cannot be written is left as it is."""
    releases = root / RELEASES
    if not releases.is_dir():
        return
    try:
        with (root / LOCK_FILE).open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                _sweep(releases)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    except OSError:  # BlockingIOError: a build holds the lock
        return


def prune(root: Path, keep: int) -> None:
    """Delete the oldest finished releases beyond `keep`, never the current one."""
    live = current(root)
    kept = finished(root)
    for old in kept[:-keep] if keep > 0 else []:
        if live is None or old.resolve() != live:
            shutil.rmtree(old, ignore_errors=True)
