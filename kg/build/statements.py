"""A build's statements: records and RDF files mapped, shard by shard, into files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.build.gz import concatenate, deflate
from kg.build.kept import Kept
from kg.build.mapping import (
    Mapped,
    conflict_quads,
    editorial_quads,
    find_conflicts,
    identity_quads,
    preferences,
    vocabulary_quads,
)
from kg.build.shards import Plan, Segment, map_sharded, part_digest, shard_of
from kg.build.sources import Sources
from kg.ids import Minter
from kg.model import LangText, Origin, Record

CHUNK = 100_000  # lines per load into a store: bounds the memory of the stores' loaders


class Statements:
    """Where a build's statements are: the shards' segments and the tail (what the build adds once the records are
    mapped: conflicts, the release's own statements), as files. Single-valued statements are also kept in a store
    with their graphs, to find where sources disagree."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.claims = ox.Store()
        self.segments: list[Segment] = []
        self.count = 0
        self._graph_terms: set[str] = set()  # as N-Quads writes them: <iri>
        self._tail: list[bytes] = []  # N-Quads lines
        self._seen: set[bytes] = set()  # the tail's lines
        self._tail_triples: list[bytes] = []  # N-Triples lines of the tail's statements no segment holds, but the own
        self._own: set[bytes] = set()  # the subjects (<iri>) of the build's statements about itself
        self._others: set[bytes] = set()  # the subjects of the tail's other statements
        self._own_triples: list[bytes] = []  # N-Triples lines of those about subjects nothing else states (`close`)
        self._tail_digest = ""

    def adopt(self, segments: Iterable[Segment]) -> None:
        """Take the shards' segments in, in order."""
        for segment in segments:
            self.segments.append(segment)
            self.count += segment.quads
            self._graph_terms |= segment.graphs
            self.claims.bulk_load(path=str(segment.path(".claims.nq")), format=ox.RdfFormat.N_QUADS, lenient=True)

    def add(self, quads: Iterable[ox.Quad], own: bool = False) -> None:
        """Record quads (each in a named graph) after the segments, each once, in order; `own`: the build's
        statements about itself (the release, the dataset), which change on every build."""
        lines = {f"{q} .\n".encode(): q for q in quads}
        for line in sorted(lines):
            (self._own if own else self._others).add(_subject(line))
            if line in self._seen:
                continue
            self._seen.add(line)
            self._tail.append(line)
            self._graph_terms.add(str(lines[line].graph_name))
            self.count += 1

    def tail_lines(self) -> list[bytes]:
        """The triples of the tail so far, as N-Triples lines, each once, in order."""
        return list(dict.fromkeys(line[:line.rfind(b" <")] + b" .\n" for line in self._tail))

    @property
    def tail_quads(self) -> list[bytes]:
        """The N-Quads lines of the statements added after the segments, in order."""
        return list(self._tail)

    @property
    def graphs(self) -> set[str]:
        """The IRIs of the graphs recorded so far."""
        return {g[1:-1] for g in self._graph_terms}

    def whole(self, suffix: str) -> Path:
        """One file of every quad (".nq": the segments' and then the tail's) or of every triple of the union once
        (".nt"), joined from the parts when first asked for (after `close`): a patched store needs neither."""
        path = self.work / f"all{suffix}"
        if not path.exists():
            partial = path.with_suffix(".partial")
            concatenate(self.parts(suffix), partial)
            partial.replace(path)
        return path

    @property
    def tail_triples(self) -> list[bytes]:
        """The N-Triples lines of the statements added after the segments that no segment holds, but for
        `own_triples` (after `close`)."""
        return list(self._tail_triples)

    @property
    def own_triples(self) -> list[bytes]:
        """The N-Triples lines of the build's statements about itself whose subjects nothing else states: entities
        of their own, apart from every shard's (after `close`), so that no shard's dumps change with them."""
        return list(self._own_triples)

    def parts(self, suffix: str) -> list[Path]:
        """The files that, one after the other, hold every quad (".nq", ".nq.gz") or triple (".nt", ".nt.gz")."""
        return [s.path(suffix) for s in self.segments] + [self.work / f"tail{suffix}"]

    @property
    def part_digests(self) -> list[str]:
        """The digest of each part of the quads (`parts(".nq")`): the shards' and then the tail's (after `close`)."""
        return [s.digest for s in self.segments] + [self._tail_digest]

    @property
    def part_quads(self) -> list[int]:
        """How many quads each part holds (after `close`)."""
        return [s.quads for s in self.segments] + [len(self._tail)]

    def _new_triples(self) -> tuple[list[bytes], set[bytes]]:
        """The tail's triples that no segment holds (a segment holds its subjects' triples: only theirs are read),
        and which of the build's own subjects a segment states anything about."""
        lines = self.tail_lines()
        if not self.segments:
            return lines, set()
        by_shard: dict[int, set[bytes]] = {}
        for line in lines:
            by_shard.setdefault(shard_of(line, len(self.segments)), set()).add(line)
        held: set[bytes] = set()
        stated: set[bytes] = set()
        for shard, wanted in by_shard.items():
            with self.segments[shard].path(".nt").open("rb") as segment:
                for line in segment:
                    if line in wanted:
                        held.add(line)
                    if self._own and _subject(line) in self._own:
                        stated.add(_subject(line))
        return [line for line in lines if line not in held], stated

    def tail_so_far(self) -> list[bytes]:
        """The N-Triples lines of the statements added so far that no segment holds (what `tail_triples` will be,
        but for the build's own statements, which come later)."""
        return self._new_triples()[0]

    def close(self) -> None:
        """Write the tail."""
        new, stated = self._new_triples()
        others = self._others | stated
        self._own_triples = [line for line in new if (s := _subject(line)) in self._own and s not in others]
        self._tail_triples = [line for line in new if _subject(line) not in self._own or _subject(line) in others]
        self._tail_digest = part_digest(b"".join(self._tail)).hexdigest()
        for suffix, lines in ((".nq", self._tail), (".nt", new)):
            (self.work / f"tail{suffix}").write_bytes(b"".join(lines))
            with (self.work / f"tail{suffix}.gz").open("wb") as raw, deflate(raw) as gz:
                gz.write(b"".join(lines))


def _subject(line: bytes) -> bytes:
    return line[:line.find(b" ")]


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


def rdf_quads(sources: Sources, minter: Minter, mapped: Mapped | None = None,
              names: dict[str, LangText] | None = None) -> Iterator[ox.Quad]:
    """The statements of RDF source files: their triples in the file's source graph, named graphs as they are.

    Each file goes through a store first, so its literals are in the store's canonical forms (1.50 -> 1.5),
    and repeated statements are dropped, exactly as the on-disk store will hold them; blank nodes become
    Skolem IRIs (<base>.well-known/genid/<file>-<n>); an IRI a record was renamed or merged from is the record's.
    With `mapped`, each subject and each (subject, predicate) no record stated is known to come from its file (a
    finding about it names the file). A name the file gives a record other than the one it prefers is one of its
    other names (`_as_claimed`; `names`: the preferred names, by IRI, of the records the files name, when the records
    are gone by then: `preferred_names`).
    """
    moved = {minter.entity(*m.retired): minter.entity(*m.kept) for m in sources.moves.values()}

    def kept(term: Any) -> Any:  # an IRI renamed or merged away: the record's it joined, as a YAML reference is
        return moved.get(term, term) if moved and isinstance(term, ox.NamedNode) else term

    if names is None:
        names = preferred_names(sources, minter)

    for rdf in sources.rdf:
        skolem = _Skolem(minter, rdf.key)
        scratch = ox.Store()
        lines: dict[tuple[str, ...], int] = {}  # (subject, predicate or "", value) -> the line its first statement
        # ends on (a value as the file writes it: the store's canonical form may differ, then its predicate's line)
        quads = ((_as_claimed(ox.Quad(kept(skolem(q.subject)), q.predicate, kept(skolem(q.object)),
                                      skolem(q.graph_name)), names), line) for line, q in rdf.lined())
        scratch.extend(_noting_lines(quads, lines, mapped.subjects) if mapped is not None else (q for q, _ in quads))
        own: set[str] = set()  # the subjects this file brings: a finding on one names the file already
        for quad in scratch:
            if mapped is not None:
                subject = quad.subject.value
                if subject not in mapped.subjects:
                    mapped.subjects[subject] = Origin(rdf.display, lines.get((subject, ""), 0), f"<{subject}>")
                    own.add(subject)
                elif subject not in own:  # what it adds to a record's subject is the file's, statement by statement
                    origin = Origin(rdf.display, lines.get((subject, quad.predicate.value), 0), f"<{subject}>")
                    said = mapped.statements.setdefault((subject, quad.predicate.value), origin)
                    if said.file != rdf.display:  # the record states this property too: the file's value is its
                        mapped.values[(subject, quad.predicate.value, _text(quad.object))] = origin._replace(
                            line=lines.get((subject, quad.predicate.value, _text(quad.object)), origin.line))
            yield quad
        del scratch


def preferred_names(sources: Sources, minter: Minter) -> dict[str, LangText]:
    """By IRI, the preferred name of each record an RDF file names (`schema:name`)."""
    if not sources.rdf:
        return {}
    moved = {minter.entity(*m.retired).value: minter.entity(*m.kept).value for m in sources.moves.values()}
    wanted = {moved.get(iri, iri) for rdf in sources.rdf for iri in rdf.named}  # (noted as the files were read)
    found = {}
    for record in sources.records:
        if (iri := minter.entity(record.kind, record.key).value) in wanted and record.claims and (
                name := next((v.value for v in record.claims[0].values if v.field == "name"), None)) is not None:
            found[iri] = name
    return found


def _as_claimed(quad: ox.Quad, names: dict[str, LangText]) -> ox.Quad:
    """An RDF file's quad as a claim of a source file would be published: a name of a record other than the one the
    record prefers is one of its other names (`schema:alternateName`), as a YAML claim's or a mapped row's is."""
    if quad.predicate != vocab.S.name or not isinstance(quad.object, ox.Literal) or not isinstance(
            quad.subject, ox.NamedNode) or (preferred := names.get(quad.subject.value)) is None:
        return quad
    lang = quad.object.language.lower() if quad.object.language else None
    if quad.object.value == preferred.text and lang == (preferred.lang.lower() if preferred.lang else None):
        return quad
    return ox.Quad(quad.subject, vocab.S.alternateName, quad.object, quad.graph_name)


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """A term's value; a triple term (RDF 1.2) as N-Triples writes it."""
    return str(term) if isinstance(term, ox.Triple) else term.value


def _noting_lines(lined: Iterable[tuple[ox.Quad, int]], lines: dict[tuple[str, ...], int],
                  records: Container[str]) -> Iterator[ox.Quad]:
    """The quads, noting in `lines` where each subject's first statement ends; of a subject a record has (the
    `records`' subjects: what the file adds to it is located statement by statement), where its first of each
    predicate and of each value end."""
    for quad, line in lined:
        s = quad.subject.value
        lines.setdefault((s, ""), line)
        if s in records:
            p = quad.predicate.value
            lines.setdefault((s, p), line)
            lines.setdefault((s, p, _text(quad.object)), line)
        yield quad


def load(statements: Statements, sources: Sources, minter: Minter, mapped: Mapped, plan: Plan,
         kept: Kept | None = None, token: Callable[[Record], bytes | None] = lambda _: None) -> int:
    """Map every record (and RDF file) into the statements, shard by shard (a task the previous release mapped
    read back from it, `kept`; `token` tells a record read back unchanged); find and record the conflicts."""
    names = preferred_names(sources, minter)  # (the map lets go of the records before it asks for `extra`)

    def extra() -> Iterator[ox.Quad]:
        yield from vocabulary_quads(minter)
        yield from editorial_quads(minter)
        yield from rdf_quads(sources, minter, mapped, names)
        yield from identity_quads(sources.moves.values(), minter)

    with contextlib.closing(map_sharded(sources.records, minter, mapped, plan, statements.work, extra, kept,
                                               token)) as made:
        statements.adopt(made)  # closed even when adopting fails: no worker goes on merging after the build
    mapped.conflicts = find_conflicts(statements.claims, minter, mapped,
                                      preferences(sources.decisions.prefer, sources.moves, minter))
    statements.add(conflict_quads(mapped.conflicts, minter))
    return statements.count
