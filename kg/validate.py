"""Checks a graph: the SHACL shapes in shapes/ (pyshacl) and schema.org's own vocabulary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import SH

from . import vocab
from .mapping import Mapped
from .model import Origin

VIOLATION = "Violation"
WARNING = "Warning"
INFO = "Info"


@dataclass(frozen=True)
class Finding:
    """One validation result, located in the source files where possible."""

    severity: str
    message: str
    focus: str
    path: str | None
    value: str | None
    origin: Origin | None
    check: str  # "shacl" or "schema.org"

    def __str__(self) -> str:
        where = str(self.origin) if self.origin else self.focus
        detail = f" (value: {self.value})" if self.value else ""
        return f"{where}: {self.severity}: {self.message}{detail}"


@dataclass
class Report:
    """The outcome of validating one graph."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == VIOLATION for f in self.findings)

    def of(self, severity: str) -> list[Finding]:
        """Findings of one severity."""
        return [f for f in self.findings if f.severity == severity]


def load_shapes(shapes_dir: Path) -> rdflib.Graph:
    """Every Turtle file in shapes/ as one shapes graph."""
    graph = rdflib.Graph()
    for path in sorted(shapes_dir.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def to_rdflib(triples: Iterable[ox.Triple | ox.Quad]) -> rdflib.Graph:
    """The union of some quads as an rdflib Graph (via N-Triples: the fastest bridge)."""
    data = ox.serialize((ox.Triple(t.subject, t.predicate, t.object) for t in triples), format=ox.RdfFormat.N_TRIPLES)
    graph = rdflib.Graph()
    # Check the lexical forms as published: rdflib would otherwise rewrite e.g. "PT109M" as "PT1H49M".
    # (pyshacl sets this flag back to True after each run, so it is set here, per parse.)
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        graph.parse(data=data, format="nt")
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    return graph


def _text(node: rdflib.term.Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, rdflib.Literal):
        return str(node)
    return str(node)


def shacl(data: rdflib.Graph, shapes: rdflib.Graph, mapped: Mapped | None = None) -> list[Finding]:
    """Run pyshacl and turn its results into findings located in the source files."""
    _, results, _ = shacl_validate(data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    assert isinstance(results, rdflib.Graph)
    findings = []
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = str(results.value(result, SH.focusNode))
        path_node = results.value(result, SH.resultPath)
        path = str(path_node) if isinstance(path_node, rdflib.URIRef) else None
        severity = str(results.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        message = _text(results.value(result, SH.resultMessage)) or "does not conform"
        value = _text(results.value(result, SH.value))
        origin = mapped.origin_of(focus, path) if mapped else None
        findings.append(Finding(severity, message, focus, path, value, origin, "shacl"))
    return sorted(findings, key=lambda f: (f.severity, f.focus, f.path or "", f.message, f.value or ""))


# ---- schema.org vocabulary ----

@dataclass(frozen=True)
class SchemaVocabulary:
    """The classes and properties of schema.org, with domains, ranges and the class hierarchy."""

    classes: frozenset[str]
    parents: dict[str, frozenset[str]]
    domains: dict[str, frozenset[str]]
    ranges: dict[str, frozenset[str]]

    def ancestors(self, cls: str) -> set[str]:
        """A class and all its superclasses."""
        seen, todo = set(), [cls]
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(self.parents.get(c, ()))
        return seen


@lru_cache(maxsize=1)
def schema_vocabulary() -> SchemaVocabulary:
    """schema.org release 30.0, shipped with kg (http://schema.org/ namespace)."""
    ref = Path(__file__).parent / "data" / "schemaorg-current-http.ttl"
    classes: set[str] = set()
    props: set[str] = set()
    parents: dict[str, set[str]] = defaultdict(set)
    domains: dict[str, set[str]] = defaultdict(set)
    ranges: dict[str, set[str]] = defaultdict(set)
    rdfs_class, rdf_prop = vocab.RDFS + "Class", vocab.RDF + "Property"
    with ref.open("rb") as stream:
        for t in ox.parse(stream, format=ox.RdfFormat.TURTLE):
            s, p, o = t.subject.value, t.predicate.value, t.object.value
            if p == vocab.RDF + "type":
                if o == rdfs_class or o.startswith(vocab.SCHEMA) and o.endswith("DataType"):
                    classes.add(s)
                if o == rdf_prop:
                    props.add(s)
                if o == vocab.SCHEMA + "DataType":
                    classes.add(s)
            elif p == vocab.RDFS + "subClassOf":
                parents[s].add(o)
            elif p == vocab.SCHEMA + "domainIncludes":
                domains[s].add(o)
            elif p == vocab.SCHEMA + "rangeIncludes":
                ranges[s].add(o)
    for prop in props:
        domains.setdefault(prop, set())
        ranges.setdefault(prop, set())
    return SchemaVocabulary(frozenset(classes), {k: frozenset(v) for k, v in parents.items()},
                            {k: frozenset(v) for k, v in domains.items()}, {k: frozenset(v) for k, v in ranges.items()})


_S = vocab.SCHEMA
# literal datatype -> the schema.org data types it satisfies
LITERAL_TYPES: dict[str, tuple[str, ...]] = {
    vocab.XSD + "string": (_S + "Text",),
    vocab.RDF + "langString": (_S + "Text",),
    vocab.XSD + "date": (_S + "Date",),
    vocab.XSD + "gYear": (_S + "Date",),  # an ISO 8601 date with year precision
    vocab.XSD + "dateTime": (_S + "DateTime",),
    vocab.XSD + "duration": (_S + "Duration",),
    vocab.XSD + "integer": (_S + "Integer", _S + "Number"),
    vocab.XSD + "decimal": (_S + "Number",),
    vocab.XSD + "double": (_S + "Number", _S + "Float"),
    vocab.XSD + "boolean": (_S + "Boolean",),
    vocab.XSD + "anyURI": (_S + "URL",),
}


def schema_terms(triples: Iterable[ox.Triple | ox.Quad], mapped: Mapped | None = None) -> list[Finding]:
    """Check every schema.org term exists and is used on types and with values schema.org allows."""
    sv = schema_vocabulary()
    own = {t.iri.value: t for t in vocab.TERMS}
    triples = list(triples)
    types: dict[str, set[str]] = defaultdict(set)
    incoming: set[tuple[str, str]] = set()  # (predicate, object) pairs, for the Role pattern
    for t in triples:
        if t.predicate == vocab.TYPE:
            types[t.subject.value].add(t.object.value)
        elif isinstance(t.object, ox.NamedNode):
            incoming.add((t.predicate.value, t.object.value))

    def closure(node: str) -> set[str]:
        out: set[str] = set()
        for cls in types.get(node, ()):
            term = own.get(cls)
            out |= sv.ancestors(cls)
            if term and term.parent:
                out |= sv.ancestors(term.parent)
        return out

    findings: list[Finding] = []

    def report(t: ox.Triple | ox.Quad, message: str) -> None:
        origin = mapped.origin_of(t.subject.value, t.predicate.value) if mapped else None
        findings.append(Finding(VIOLATION, message, t.subject.value, t.predicate.value, str(t.object), origin,
                                "schema.org"))

    for t in triples:
        p = t.predicate.value
        if p == vocab.RDF + "type":
            o = t.object.value
            if o.startswith(_S) and o not in sv.classes:
                report(t, f"schema.org has no class {o[len(_S):]!r}")
            elif not o.startswith(_S) and o not in own and not o.startswith(vocab.DECLARED_ELSEWHERE):
                report(t, f"the class <{o}> belongs to no declared vocabulary")
            continue
        if not p.startswith(_S):
            if p not in own and not p.startswith(vocab.DECLARED_ELSEWHERE):
                report(t, f"the property <{p}> belongs to no declared vocabulary")
            continue
        if p not in sv.domains:
            report(t, f"schema.org has no property {p[len(_S):]!r}")
            continue
        subject_types = closure(t.subject.value)
        is_role = _S + "Role" in subject_types and (p, t.subject.value) in incoming
        if not is_role and not subject_types & sv.domains[p]:
            own_types = sorted(c[len(_S):] for c in types.get(t.subject.value, ()) if c.startswith(_S))
            kinds = " / ".join(own_types) or "node without a type"
            report(t, f"schema.org does not allow {p[len(_S):]!r} on a {kinds}")
        allowed = sv.ranges[p]
        if isinstance(t.object, ox.Literal):
            dtype = t.object.datatype.value
            ok = any(sv.ancestors(d) & allowed for d in LITERAL_TYPES.get(dtype, ()))
            if not ok:
                report(t, f"schema.org does not allow a {dtype.rsplit('#', 1)[-1]} value for {p[len(_S):]!r}")
        else:
            if _S + "URL" in allowed:
                continue
            object_types = closure(t.object.value)
            if _S + "Role" in object_types:
                continue
            if not object_types & allowed:
                report(t, f"{p[len(_S):]!r} must point to a "
                          f"{' or '.join(sorted(c[len(_S):] for c in allowed))}")
    return findings


def validate(quads: Iterable[ox.Quad], shapes: rdflib.Graph, mapped: Mapped | None = None) -> Report:
    """Validate the union of `quads` against the shapes and schema.org's vocabulary."""
    triples = list({ox.Triple(q.subject, q.predicate, q.object) for q in quads})
    data = to_rdflib(triples)
    return Report(shacl(data, shapes, mapped) + schema_terms(triples, mapped))
