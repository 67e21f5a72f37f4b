"""The schema.org markup of an entity: compact JSON-LD that web pages embed."""

from __future__ import annotations

from typing import Any

from kg.jsonld import description_query
from kg.jsonld import markup as build
from kg.serve.documents import valid_iri
from kg.serve.store import Release


def markup(release: Release, iri: str) -> dict[str, Any] | None:
    """The entity's schema.org markup, built from the answer of its description query (so it holds exactly that)."""
    if not valid_iri(iri):
        return None
    result = release.query(description_query(iri))
    triples = list(result)  # type: ignore[arg-type]
    if not any(t.subject.value == iri for t in triples):
        return None
    return build(iri, triples)
