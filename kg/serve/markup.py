"""The schema.org markup of an entity: compact JSON-LD that web pages embed."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.jsonld import description_query
from kg.jsonld import markup as build
from kg.literals import finest_date
from kg.serve.documents import valid_iri
from kg.serve.snippet import film_snippet, preferred
from kg.serve.store import Release

_BODY = vocab.S.reviewBody


def markup(release: Release, iri: str) -> dict[str, Any] | None:
    """The entity's schema.org markup: for a film, what Google's Movie rich result reads (`snippet`); for anything
    else, built from the answer of its description query (so it holds exactly that)."""
    return described(release, iri)[0]


def described(release: Release, iri: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The entity's markup, and what Google's rich result still lacks in it (said for a film only)."""
    if not valid_iri(iri):
        return None, []
    film = film_snippet(release, iri)
    if film is not None:
        return film.data, film.lacks
    result = release.query(description_query(iri))
    # a review's text is its publisher's: in the data, never in markup for other pages
    triples = [t for t in result if t.predicate != _BODY]
    if not any(t.subject.value == iri for t in triples):
        return None, []
    return build(iri, triples, {**_finest_dates(iri, triples), **preferred(release, ox.NamedNode(iri))}), []


def _finest_dates(iri: str, triples: list[ox.Triple]) -> dict[str, ox.Literal]:
    """Property -> the most precise of the entity's dates that agree (a year and a day of it: `finest_date`), for
    each property it has several such dates of: the markup gives that one, as a film's does."""
    dates: dict[str, list[ox.Literal]] = {}
    for t in triples:
        if t.subject.value == iri and isinstance(t.object, ox.Literal):
            dates.setdefault(t.predicate.value, []).append(t.object)
    out = {}
    for predicate, values in dates.items():
        if len(set(values)) > 1 and (n := finest_date([(v.value, v.datatype.value) for v in values])) is not None:
            out[predicate] = values[n]
    return out
