"""An entity's neighbourhood, asked of the engine serving the release in two queries, as a small store to read.

The page code reads a release's store statement by statement (dozens of lookups for a film's page). Served from
an engine, each lookup would be a round trip; instead the first query fetches the entities, their parts and
who refers to them, the second the documents of every node those point to or come from, with the names of what
those point to. The page is then made from that neighbourhood, exactly as from the whole store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pyoxigraph as ox

from kg import vocab
from kg.ids import NOT_IN_IRI, Minter
from kg.serve.store import Release
from kg.serve.summaries import CREDITED_KINDS, READ_OF_CREDITS

INCOMING = 501  # statements pointing at an entity read per entity: the most a page or summary looks at, plus one
STATED = 1002  # entities a source states, read for its page (it lists 1,000)
GRAPH_CONTENT = 50_001  # statements of a graph read when its name is asked for as a document
_NAMES = ", ".join(f"<{p.value}>" for p in (vocab.TYPE, vocab.S.name, vocab.S.alternateName, vocab.LABEL))
_NAMED = f"FILTER(isIRI(?s) && ?p IN ({_NAMES}))"  # a FILTER, not VALUES: engines would start from every name
_PART = 'FILTER(isIRI(?s) && STRSTARTS(STR(?s), CONCAT(STR(?e), "#")))'


def view(release: Release, iris: Iterable[str], pages: bool = True) -> Release:
    """The release as seen from `iris`: itself when it has its whole store, else a copy whose store holds their
    neighbourhood from the engine (with `pages`, also the source graphs' versions of their statements)."""
    if release.engine is None:
        return release
    entities = sorted({i for i in iris if _safe(i)})
    store = ox.Store()
    if entities:
        minter = Minter(str(release.meta.get("base_iri") or ""))
        credited = entities if pages else [e for e in entities if minter.kind_of(e) in CREDITED_KINDS]
        first = _quads(release, _first(entities, pages, credited))
        store.bulk_extend(first)
        store.bulk_extend(_quads(release, _second(release, entities, first, pages)))
    return dataclasses.replace(release, store=store, engine=None, named=release.graphs)


def _safe(iri: str) -> bool:
    """Whether `iri` can be written between < and > in a query (a request path can carry anything)."""
    return bool(iri) and not any(c in NOT_IN_IRI or c <= " " for c in iri)


def _values(name: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{name} {{ {' '.join(f'<{i}>' for i in sorted(iris))} }}"


def _first(entities: list[str], pages: bool, credited: list[str]) -> str:
    """The entities' statements (in every graph for a page), their parts', and what points at those `credited`."""
    e, s = _values("e", entities), _values("s", entities)
    branches = [f"{{ {s} ?s ?p ?o }}", f"{{ {e} ?e ?x ?s {_PART} ?s ?p ?o }}"]
    if pages:  # the source graphs' versions too, for citations; and the IRIs merged into them (in a source graph)
        branches += [f"{{ {s} GRAPH ?g {{ ?s ?p ?o }} }}", f"{{ {e} ?e ?x ?s {_PART} GRAPH ?g {{ ?s ?p ?o }} }}",
                     f"{{ {_values('o', entities)} GRAPH ?g {{ ?s <{vocab.OWL_SAME_AS.value}> ?o FILTER(isIRI(?s)) }} "
                     f"BIND(<{vocab.OWL_SAME_AS.value}> AS ?p) }}"]  # (the predicate written out: a VALUES of
        # it would have an engine read every owl:sameAs of every graph first)
    branches += [f"{{ SELECT ?s ?p ?o WHERE {{ VALUES ?o {{ <{i}> }} ?s ?p ?o }} LIMIT {INCOMING} }}"
                 for i in credited]
    return "SELECT DISTINCT ?s ?p ?o ?g WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


def _second(release: Release, entities: list[str], first: list[ox.Quad], pages: bool) -> str:
    """The documents of the nodes around the entities, and the names of what those point to; for a page, the
    source graphs' statements of the entities' parts, and what a source graph holds."""
    own = set(entities)
    parts = {q.subject.value for q in first if isinstance(q.subject, ox.NamedNode) and q.subject.value not in own
             and q.subject.value.split("#", 1)[0] in own}
    pointed: set[str] = set()  # what the entities and their parts point to
    referring: set[str] = set()  # the documents of what points to the entities
    direct: set[str] = set()  # the documents whose entity itself points to them (a film naming a character)
    through: set[str] = set()  # the parts of other documents that point to them (a film's credit of a person)
    for q in first:
        if isinstance(q.object, ox.NamedNode) and q.predicate != vocab.TYPE and q.subject.value in own | parts:
            pointed.update((q.object.value, q.object.value.split("#", 1)[0]))
        if isinstance(q.object, ox.NamedNode) and q.object.value in own and isinstance(q.subject, ox.NamedNode):
            referring.add(q.subject.value.split("#", 1)[0])
            (through if "#" in q.subject.value else direct).add(q.subject.value)
        if isinstance(q.graph_name, ox.NamedNode):  # the sources cited
            pointed.add(q.graph_name.value)
    pointed = {n for n in pointed - own if _safe(n)}
    referring = {n for n in referring - own if _safe(n)}
    through = {n for n in through if _safe(n) and n.split("#", 1)[0] in referring}
    branches = []
    # a page reads the whole documents around it and the names of what they point to; of a document that refers
    # to it only through a part (a film crediting a person), the document's own statements and that part's
    whole = pointed | (referring & direct)
    if pages and whole:
        r = _values("e", whole)
        branches += [f"{{ {_values('s', whole)} ?s ?p ?o }}",
                     f"{{ {r} ?e ?x ?s {_PART} ?s ?p ?o }}",
                     f"{{ {r} ?e ?x ?s . ?s ?p ?o {_NAMED} }}",
                     f"{{ {r} ?e ?x ?y . ?y ?z ?s . ?s ?p ?o {_NAMED} "
                     f"FILTER(isIRI(?y) && STRSTARTS(STR(?y), CONCAT(STR(?e), \"#\"))) }}"]
    if pages and referring - whole:
        branches.append(f"{{ {_values('s', (referring - whole) | through)} ?s ?p ?o }}")
    if pages:  # parts that point at their entity (conflicts about it): found among what points at it
        branches += _back_parts(own, first)
    if not pages:  # a summary: the names of what it points to, and what refers to it (a film's year and title)
        if pointed:
            branches.append(f"{{ {_values('s', pointed)} ?s ?p ?o {_NAMED} }}")
        if referring:
            read = ", ".join(f"<{p.value}>" for p in (*READ_OF_CREDITS, vocab.TYPE, vocab.S.name, vocab.LABEL))
            branches.append(f"{{ {_values('s', referring)} ?s ?p ?o FILTER(?p IN ({read})) }}")
    if pages:
        stated = {q.subject.value for q in first}
        for graph in sorted(own & release.graphs):
            if graph in stated:  # a source: the entities it states, with their names
                branches.append(
                    f"{{ {{ SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER(!CONTAINS(STR(?s), "
                    f"\"#\")) }} LIMIT {STATED} }} VALUES ?g {{ <{graph}> }} GRAPH ?g {{ ?s ?p ?o }} }}")
                branches.append(
                    f"{{ {{ SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?t ?u }} FILTER(!CONTAINS(STR(?s), "
                    f"\"#\")) }} LIMIT {STATED} }} ?s ?p ?o {_NAMED} }}")
            else:  # a graph with no statements of its own (vocabulary, release): its content
                branches.append(f"{{ SELECT ?s ?p ?o ?g WHERE {{ VALUES ?g {{ <{graph}> }} GRAPH ?g {{ ?s ?p ?o }} }} "
                                f"LIMIT {GRAPH_CONTENT} }}")
    if not branches:
        return ""
    return "SELECT DISTINCT ?s ?p ?o ?g WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


def _back_parts(own: set[str], first: list[ox.Quad]) -> list[str]:
    """Query branches for the parts of the entities that point at them (conflicts about them), with the names of
    what those point to: the parts the first query saw pointing in, or, for an entity with more references than
    it read, every such part (a scan of what points at it: slow on Virtuoso, so only then)."""
    pointing: dict[str, int] = {}
    back: set[str] = set()
    for q in first:
        if isinstance(q.object, ox.NamedNode) and q.object.value in own and isinstance(q.subject, ox.NamedNode):
            pointing[q.object.value] = pointing.get(q.object.value, 0) + 1
            if q.subject.value.startswith(q.object.value + "#") and _safe(q.subject.value):
                back.add(q.subject.value)
    crowded = {e for e, n in pointing.items() if n >= INCOMING}
    branches = []
    if back:
        b = _values("s", back)
        branches += [f"{{ {b} ?s ?p ?o }}", f"{{ {b} GRAPH ?g {{ ?s ?p ?o }} }}",
                     f"{{ {_values('b', back)} ?b ?x ?s . ?s ?p ?o {_NAMED} }}"]
    if crowded:
        e = _values("e", crowded)
        branches += [f"{{ {e} ?s ?x ?e {_PART} ?s ?p ?o }}", f"{{ {e} ?s ?x ?e {_PART} GRAPH ?g {{ ?s ?p ?o }} }}",
                     f"{{ {e} ?b ?x ?e . ?b ?y ?s . ?s ?p ?o {_NAMED} "
                     f"FILTER(isIRI(?b) && STRSTARTS(STR(?b), CONCAT(STR(?e), \"#\"))) }}"]
    return branches


def _quads(release: Release, query: str) -> list[ox.Quad]:
    """The statements a query's rows ?s ?p ?o (?g: the graph; unbound: the default graph) stand for."""
    if not query:
        return []
    found = []
    for row in release.engine_rows(query):
        s, p, o, g = row["s"], row["p"], row["o"], row["g"]
        if isinstance(s, ox.NamedNode | ox.BlankNode) and isinstance(p, ox.NamedNode) and o is not None:
            found.append(ox.Quad(s, p, o, g if isinstance(g, ox.NamedNode) else ox.DefaultGraph()))
    return found
