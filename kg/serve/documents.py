"""An entity's document: the quads of the entity, its parts and the conflicts about it; graphs; labels."""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import IO, Any, cast

import pyoxigraph as ox

from kg import spliced, vocab
from kg.ids import MAX_SLUG, NOT_IN_IRI, is_key, slugify
from kg.jsonld import label_of
from kg.layout import DUMPS, fold
from kg.serve.store import Release

NAME = vocab.S.name

_RDFS_LABEL = vocab.LABEL

ALT = vocab.S.alternateName

CONFLICT_SUBJECT = vocab.K.conflictSubject

HIDDEN_GRAPH_SUFFIXES = ("graph/vocabulary", "graph/release")
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
MAX_GRAPH_DOCUMENT = 50_000  # a graph name resolves to its content up to this many statements


def valid_iri(iri: str) -> bool:
    """Whether `iri` is a well-formed IRI (a request path can carry anything)."""
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return not any(c in NOT_IN_IRI for c in iri)


def respellings(iri: str) -> list[str]:
    """For an IRI whose last segment is no record key but a name typed in a link ('Break Away', '괴물-2006'), the
    IRIs of the keys that name makes (none for a key)."""
    head, _, last = iri.rpartition("/")
    if not head or not last or len(last) > MAX_SLUG or is_key(last):  # (Punycode's time grows as a name's square)
        return []
    parts = [slugify(p) for p in re.split(r"[\s\-]+", last)]
    return [found for key in dict.fromkeys((slugify(last), "-".join(p for p in parts if p)))
            if is_key(key) and valid_iri(found := f"{head}/{key}")]


def respelled(release: Release, iri: str) -> str | None:
    """The first of the IRI's `respellings` that the release has an entity of, or redirects (None: none, or the
    IRI is itself one the release states something of, or a graph's). One query, the engine's when one serves it."""
    spellings = respellings(iri)
    if not spellings or iri in release.graphs:
        return None
    redirects, _ = release.moved
    asked = " ".join(f"<{x}>" for x in (iri, *spellings) if valid_iri(x))  # (a typed name: seldom an IRI itself)
    found = {row["s"].value for row in release.select(
        f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {asked} }} ?s ?p ?o }}")}
    if iri in found:
        return None
    return next((redirects.get(x, x) for x in spellings if x in redirects or x in found), None)


def gone_spelled(release: Release, iri: str) -> str | None:
    """The gone IRI (which answers 410) a name typed for a key spells, or whose last name it is when one alone
    had it (ask once no entity of the release has the name: a film's new key, its year mended, is that film)."""
    _, gone = release.moved
    if not gone or not (spellings := respellings(iri)):
        return None  # (a key, as every page's path is: no name typed, and nothing looked up)
    head, _, typed = iri.rpartition("/")
    return next((x for x in spellings if x in gone), None) or release.gone_by_name.get((head, fold(typed)))


def document(release: Release, iri: str) -> list[ox.Quad]:
    """Every quad of the entity's document: the entity, its parts (<iri>#...) and conflicts about it."""
    if not valid_iri(iri):
        return []
    node = ox.NamedNode(iri)
    store = release.store

    def named(subject: ox.NamedNode) -> list[ox.Quad]:
        found = store.quads_for_pattern(subject, None, None)
        return [q for q in found if not isinstance(q.graph_name, ox.DefaultGraph)]

    quads = named(node)
    if not quads:
        # a graph name (e.g. <base>graph/vocabulary) resolves to the graph's content
        content = []
        for q in store.quads_for_pattern(None, None, None, node):
            content.append(q)
            if len(content) > MAX_GRAPH_DOCUMENT:
                return []
        return sorted(content, key=str)
    parts = {q.object for q in quads if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(iri + "#")}
    # parts that point at their document (conflicts, vocabulary terms' rdfs:isDefinedBy)
    parts |= {q.subject for q in store.quads_for_pattern(None, None, node)  # type: ignore[misc]
              if q.subject.value.startswith(iri + "#")}
    parts |= {q.subject for part in list(parts)  # type: ignore[misc]
              for q in store.quads_for_pattern(None, CONFLICT_SUBJECT, part)}  # about a part (a budget's amount)
    for part in sorted(parts, key=lambda n: n.value):
        quads.extend(named(part))
    # the IRIs merged into it, which redirect here: what a client that held one of them reads to follow it
    quads.extend(q for q in store.quads_for_pattern(None, vocab.OWL_SAME_AS, node) if not isinstance(
        q.graph_name, ox.DefaultGraph) and isinstance(q.subject, ox.NamedNode))
    return sorted(quads, key=str)


def labelling(release: Release, statements: list[ox.Triple]) -> list[ox.Triple]:
    """The types and names of the entities the statements point to: what an entity's document adds of them, in
    every format alike."""
    subjects = {t.subject for t in statements}
    dg = ox.DefaultGraph()
    pointed = {t.object for t in statements if isinstance(t.object, ox.NamedNode) and t.predicate != vocab.TYPE}
    return [ox.Triple(q.subject, q.predicate, q.object) for node in sorted(pointed - subjects, key=lambda n: n.value)
            for p in (vocab.TYPE, NAME)  # in order of value: a store's own order is its encoding's, not the same in
            for q in sorted(release.store.quads_for_pattern(node, p, None, dg), key=str)]  # an engine's neighbourhood


def labels(triples: list[ox.Triple]) -> dict[str, dict[str, Any]]:
    """The @id, types and names of these labelling triples' nodes (`labelling`), as an entity's JSON-LD names them."""
    by_node: dict[str, list[ox.Triple]] = {}
    for t in triples:
        by_node.setdefault(t.subject.value, []).append(t)
    return {node: label_of(found) for node, found in by_node.items()}


def graph_quads(release: Release, graph: str | None, grouped: bool = False) -> Iterator[ox.Quad] | None:
    """The statements of one graph of the release, grouped by subject: a named graph (None when the release has no
    graph of that name), or with `graph` None the default graph, the union of all. With `grouped`, each entity's
    statements come together, its parts' after them."""
    if graph is not None and graph not in release.graphs:
        return None
    if release.engine is not None:  # no store of its own: the release's dumps hold the same statements
        name = ox.NamedNode(graph) if graph is not None else None
        found = _dumped(release, "kg.nt.gz") if name is None else (
            q for q in _dumped(release, "kg.nq.gz") if q.graph_name == name)
        # a format written entity by entity needs each subject's statements together, then its parts': the dumps
        # are in the build's order, so those are sorted (in memory: the graph's size)
        return iter(sorted(found, key=lambda q: q.subject.value)) if grouped else found
    if graph is None:
        return release.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    return release.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))


def dataset_quads(release: Release) -> Iterator[ox.Quad]:
    """Every statement of the release: the default graph's and each named graph's."""
    if release.engine is not None:
        return itertools.chain(_dumped(release, "kg.nt.gz"), _dumped(release, "kg.nq.gz"))
    return iter(release.store)


def _dumped(release: Release, filename: str) -> Iterator[ox.Quad]:
    """The statements of one of the release's gzipped dumps (N-Triples: the default graph), read as they stream."""
    dump = next(d for d in DUMPS if d.filename == filename)
    with spliced.open_file(release.path / filename) as raw, gzip.GzipFile(fileobj=raw) as stream:
        yield from ox.parse(cast(IO[bytes], stream), format=dump.format.oxigraph)


def triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    """The union of some quads: each statement once."""
    return list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads))


def dataset(quads: list[ox.Quad], extra: Sequence[ox.Triple] = ()) -> list[ox.Quad]:
    """A document as a dataset: its statements (and `extra`) in the default graph, then each source graph's,
    graph by graph.

    Clients that read only the default graph of a TriG or N-Quads document (Comunica, most triple stores) get
    the facts; the named graphs add who said them.
    """
    default = ox.DefaultGraph()
    union = [ox.Quad(t.subject, t.predicate, t.object, default) for t in [*triples(quads), *extra]]
    return union + sorted(quads, key=lambda q: (str(q.graph_name), str(q)))


def label(release: Release, iri: str, lang: str = "en", readers: tuple[str, ...] = ()) -> str | None:
    """The name of a node for a reader: one of its names or spellings in a language of `readers` (best first, up to
    the site's language `lang`, which preferred names are in), else its preferred name (schema:name, else
    rdfs:label; in `lang` first), if it has one."""
    node = ox.NamedNode(iri)
    if readers:
        spelled = [q.object for p in (NAME, ALT) for q in release.store.quads_for_pattern(node, p, None)]
        for wanted in readers:
            if reads_as(lang, wanted):  # the preferred name is in the site's language: the reader reads it
                break
            found = sorted(n.value for n in spelled if isinstance(n, ox.Literal) and n.language
                           and reads_as(n.language, wanted))
            if found:
                return found[0]
    names = [q.object for q in release.store.quads_for_pattern(node, NAME, None)] or [
        q.object for q in release.store.quads_for_pattern(node, _RDFS_LABEL, None)]
    for n in names:
        if isinstance(n, ox.Literal) and n.language == lang:
            return n.value
    plain = [n for n in names if isinstance(n, ox.Literal) and not n.language]
    return (plain or names)[0].value if (plain or names) else None


def reads_as(tag: str, wanted: str) -> bool:
    """Whether text tagged `tag` is in the language a reader asked for as `wanted`: 'ko' and 'ko-KR' read as
    'ko'; 'ko-Latn' (romanised) does not, unless asked for by its script."""
    tag, wanted = tag.lower(), wanted.lower()
    if tag == wanted:
        return True
    ours, theirs = tag.split("-"), wanted.split("-")
    if ours[0] != theirs[0]:
        return False
    script = next((p for p in ours[1:] if len(p) == 4 and p.isalpha()), None)
    asked = next((p for p in theirs[1:] if len(p) == 4 and p.isalpha()), None)
    return script == asked
