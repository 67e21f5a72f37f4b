"""Mapping records and RDF files into a build's statements: the union in memory, each source graph to N-Quads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.build.mapping import Mapped, conflict_quads, find_conflicts, identity_quads, preferences, stream
from kg.build.sources import Sources
from kg.ids import Minter
from kg.model import SINGLE_VALUED, Origin, Record

CHUNK = 100_000  # lines per load into a store: bounds the memory of the stores' loaders


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
    statements.add(identity_quads(sources.moves.values(), minter))
    statements.sync()
    mapped.conflicts = find_conflicts(statements.claims, minter, mapped,
                                      preferences(sources.decisions.prefer, sources.moves, minter))
    statements.add(conflict_quads(mapped.conflicts, minter))
    statements.sync()
    return statements.count
