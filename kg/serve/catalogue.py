"""The dataset's own description: its VoID statements, graphs and counts (the home page, /.well-known/void)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg import vocab
from kg.layout import VOID_FILE
from kg.serve.documents import label
from kg.serve.nearby import view
from kg.serve.store import Release


@dataclass
class DatasetDescription:
    """The release's VoID description as a page shows it: the dataset's statements, then its partitions."""

    iri: str
    facts: list[tuple[str, ox.NamedNode | ox.Literal]]  # (predicate, value) in the build's order, no partitions
    classes: list[tuple[str, int]]  # (class, entities), the most common first
    properties: list[tuple[str, int]]  # (property, triples), the most used first
    graphs: list[tuple[str, str]] = field(default_factory=list)  # (named graph, what it is), by name


def void_triples(release: Release) -> list[ox.Triple]:
    """The release's VoID description, each subject's statements together (the dataset's first)."""
    triples = list(ox.parse(path=str(release.path / VOID_FILE), format=ox.RdfFormat.TURTLE))
    first = {t.subject for t in triples if t.predicate == vocab.TYPE and t.object == vocab.V.Dataset}
    return sorted(triples, key=lambda t: (t.subject not in first, t.subject.value, t.predicate.value, str(t.object)))


_OWN_GRAPHS = (("graph/release", "the release: where it came from (PROV)"),
               ("graph/vocabulary", "kg's own terms (kgv:), declared"))


def dataset_description(release: Release) -> DatasetDescription:
    """The release's VoID description, read for a page."""
    triples = list(ox.parse(path=str(release.path / VOID_FILE), format=ox.RdfFormat.TURTLE))  # as the build wrote
    by_subject: dict[ox.NamedNode | ox.BlankNode, dict[str, ox.NamedNode | ox.Literal]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, {})[t.predicate.value] = t.object
    iri = next((t.subject.value for t in triples if t.predicate == vocab.TYPE and t.object == vocab.V.Dataset), "")
    partitions = {vocab.V.classPartition.value, vocab.V.propertyPartition.value, vocab.TYPE.value}
    facts = [(t.predicate.value, t.object) for t in triples
             if t.subject.value == iri and t.predicate.value not in partitions]

    def counted(predicate: ox.NamedNode, what: str, count: str) -> list[tuple[str, int]]:
        found = [(part[what].value, int(part[count].value)) for t in triples
                 if t.subject.value == iri and t.predicate == predicate
                 and what in (part := by_subject.get(t.object, {})) and count in part]
        return sorted(found, key=lambda cn: (-cn[1], cn[0]))

    named = view(release, release.graphs, pages=False)  # served from an engine: the graphs' names, asked once
    graphs = sorted(((g, label(named, g) or next((n for end, n in _OWN_GRAPHS if g.endswith(end)), g))
                     for g in release.graphs), key=lambda gl: (gl[1].lower(), gl[0]))
    return DatasetDescription(iri, facts,
                              counted(vocab.V.classPartition, vocab.V["class"].value, vocab.V.entities.value),
                              counted(vocab.V.propertyPartition, vocab.V.property.value, vocab.V.triples.value), graphs)
