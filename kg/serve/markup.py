"""The schema.org markup of an entity: compact JSON-LD that web pages embed."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.jsonld import description_query
from kg.jsonld import markup as build
from kg.serve.documents import valid_iri
from kg.serve.snippet import film_snippet
from kg.serve.store import Release


def markup(release: Release, iri: str) -> dict[str, Any] | None:
    """The entity's schema.org markup: for a film, what Google's Movie rich result reads (`snippet`); for anything
    else, built from the answer of its description query (so it holds exactly that)."""
    if not valid_iri(iri):
        return None
    film = film_snippet(release, iri)
    if film is not None:
        return film.data
    result = release.query(description_query(iri))
    triples = list(result)  # type: ignore[arg-type]
    if not any(t.subject.value == iri for t in triples):
        return None
    return build(iri, triples, billing(release, iri), preferred(release, iri))


def billing(release: Release, iri: str) -> dict[str, int]:
    """The billing of each of the entity's cast roles (the top-billed first in the markup's list of actors)."""
    found: dict[str, int] = {}
    for q in release.store.quads_for_pattern(ox.NamedNode(iri), vocab.S.actor, None, ox.DefaultGraph()):
        if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(iri + "#"):
            for b in release.store.quads_for_pattern(q.object, vocab.K.billing, None, ox.DefaultGraph()):
                if b.object.value.isdigit():
                    found[q.object.value] = min(int(b.object.value), found.get(q.object.value, 1 << 30))
    return found


def preferred(release: Release, iri: str) -> dict[str, ox.NamedNode | ox.Literal]:
    """Property -> the value curators chose, for each property of the entity that sources disagree on."""
    found: dict[str, ox.NamedNode | ox.Literal] = {}
    for q in release.store.quads_for_pattern(None, vocab.K.conflictSubject, ox.NamedNode(iri), ox.DefaultGraph()):
        props = [p.object for p in release.store.quads_for_pattern(q.subject, vocab.K.conflictProperty, None,
                                                                     ox.DefaultGraph())]
        values = [p.object for p in release.store.quads_for_pattern(q.subject, vocab.K.preferredValue, None,
                                                                      ox.DefaultGraph())]
        if props and values and isinstance(values[0], ox.NamedNode | ox.Literal):
            found[props[0].value] = values[0]
    return found


def lacks(release: Release, iri: str) -> list[str]:
    """What Google's rich result still lacks in the entity's markup (for a film; nothing is said of the rest)."""
    film = film_snippet(release, iri) if valid_iri(iri) else None
    return film.lacks if film is not None else []
