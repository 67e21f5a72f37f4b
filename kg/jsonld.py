"""Compact schema.org JSON-LD, written directly from triples (no network, no blank nodes)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from . import vocab

# A self-contained context: parsers need nothing from the network to expand it.
CONTEXT: dict[str, str] = {"@vocab": vocab.SCHEMA, **{k: v for k, v in vocab.PREFIXES.items() if k != "schema"}}
_PREFIXES = sorted(((v, k) for k, v in CONTEXT.items() if k != "@vocab"), key=lambda kv: -len(kv[0]))


def compact_iri(iri: str) -> str:
    """schema.org terms by their bare name (via @vocab), other known namespaces as prefix:name."""
    if iri.startswith(vocab.SCHEMA) and "/" not in iri[len(vocab.SCHEMA):] and "#" not in iri[len(vocab.SCHEMA):]:
        return iri[len(vocab.SCHEMA):]
    for ns, prefix in _PREFIXES:
        if iri.startswith(ns) and iri[len(ns):].replace("_", "a").isalnum():
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def value(term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple) -> Any:
    """One object as a JSON-LD value."""
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == vocab.XSD + "string":
            return term.value
        return {"@value": term.value, "@type": compact_iri(term.datatype.value)}
    raise ValueError(f"kg graphs have no blank nodes or quoted triples: {term}")


def nodes(triples: Iterable[ox.Triple | ox.Quad]) -> dict[str, dict[str, Any]]:
    """Node objects keyed by @id, properties in a stable order."""
    out: dict[str, dict[str, Any]] = {}
    for t in sorted(triples, key=lambda t: (t.subject.value, t.predicate.value, str(t.object))):
        node = out.setdefault(t.subject.value, {"@id": t.subject.value})
        if t.predicate == vocab.TYPE:
            node.setdefault("@type", []).append(compact_iri(t.object.value))
        else:
            node.setdefault(compact_iri(t.predicate.value), []).append(value(t.object))
    return out


def document(triples: Iterable[ox.Triple | ox.Quad]) -> dict[str, Any]:
    """A flat JSON-LD document (@context + @graph) for a set of triples."""
    return {"@context": CONTEXT, "@graph": list(nodes(triples).values())}


def dumps(triples: Iterable[ox.Triple | ox.Quad]) -> bytes:
    """Serialize triples as compact JSON-LD."""
    return json.dumps(document(triples), ensure_ascii=False, indent=1).encode("utf-8")
