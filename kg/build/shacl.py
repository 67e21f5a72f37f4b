"""SHACL shapes run as SPARQL on the Oxigraph store, with pyshacl's results (tests prove the parity).

Covers the SHACL Core features kg's shapes use: class, subjects-of and objects-of targets; predicate paths;
minCount, maxCount, datatype, nodeKind, class, pattern, hasValue, in, min/max in/exclusive, min/maxLength, or;
and SPARQL-based constraints. Shapes using anything else raise `Unsupported` (the caller falls back to pyshacl).
Each property shape becomes one query over its values and one over its counts, so a graph of millions of
triples is checked in a few scans, inside the store, instead of in an rdflib graph in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from kg.progress import bar

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
# datatypes whose lexical forms the store checks by casting, as rdflib (hence pyshacl) does; for the others
# (e.g. xsd:gYear) both check the datatype IRI only
CASTABLE = {XSD + t for t in ("integer", "decimal", "double", "float", "boolean", "dateTime", "date", "time",
                              "duration", "dayTimeDuration", "yearMonthDuration")}
NODE_KINDS = {
    SH.IRI: "isIRI({v})", SH.Literal: "isLiteral({v})", SH.BlankNode: "isBlank({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
VALUE_CONSTRAINTS = {SH.datatype: "DatatypeConstraintComponent", SH.nodeKind: "NodeKindConstraintComponent",
                     SH["class"]: "ClassConstraintComponent", SH.pattern: "PatternConstraintComponent",
                     SH["in"]: "InConstraintComponent", SH["or"]: "OrConstraintComponent",
                     SH.minInclusive: "MinInclusiveConstraintComponent",
                     SH.maxInclusive: "MaxInclusiveConstraintComponent",
                     SH.minExclusive: "MinExclusiveConstraintComponent",
                     SH.maxExclusive: "MaxExclusiveConstraintComponent",
                     SH.minLength: "MinLengthConstraintComponent", SH.maxLength: "MaxLengthConstraintComponent"}
HANDLED = set(VALUE_CONSTRAINTS) | {SH.path, SH.minCount, SH.maxCount, SH.hasValue, SH.message, SH.severity,
                                    SH.name, SH.description, SH.order, SH.group, SH.deactivated, SH.flags, RDF.type}
NODE_HANDLED = {SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.property, SH.sparql,
                SH.message, SH.severity, SH.deactivated, SH.name, SH.description, RDF.type,
                rdflib.RDFS.label, rdflib.RDFS.comment}


class Unsupported(Exception):
    """The shapes use a SHACL feature this engine does not compile."""


@dataclass(frozen=True)
class Result:
    """One validation result, as pyshacl would report it."""

    severity: str  # Violation | Warning | Info
    message: str | None
    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    path: str | None
    value: ox.NamedNode | ox.BlankNode | ox.Literal | None
    component: str


@dataclass
class _Check:
    """One compiled query and how to turn its rows into results."""

    query: str
    path: str | None
    severity: str
    message: str | None
    components: list[tuple[str, str]] = field(default_factory=list)  # (result variable, component)
    counts: tuple[int | None, int | None] | None = None  # (minCount, maxCount) for a count query
    has_value: bool = False


def _term(node: rdflib.term.Node) -> str:
    """A shapes-graph node as SPARQL syntax."""
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.Literal):
        text = str(node).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if node.language:
            return f'"{text}"@{node.language}'
        return f'"{text}"^^<{node.datatype or XSD + "string"}>'
    raise Unsupported(f"blank node {node} as a constraint value")


def _one(shapes: rdflib.Graph, shape: rdflib.term.Node, p: rdflib.URIRef) -> rdflib.term.Node | None:
    values = list(shapes.objects(shape, p))
    if len(values) > 1:
        raise Unsupported(f"several values of {p} on one shape")
    return values[0] if values else None


class Compiler:
    """Compiles a shapes graph into checks against one store (class hierarchy taken from the data)."""

    def __init__(self, shapes: rdflib.Graph, store: ox.Store) -> None:
        self.shapes = shapes
        self.store = store
        self.subclasses: dict[str, set[str]] = {}
        for row in store.query(f"SELECT DISTINCT ?sub ?sup WHERE {{ ?sub <{RDFS_SUBCLASS}> ?sup }}"):
            self.subclasses.setdefault(row["sup"].value, set()).add(row["sub"].value)

    def descendants(self, cls: str) -> list[str]:
        """A class and every class below it, per the data's rdfs:subClassOf statements."""
        seen, todo = set(), [cls]
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(self.subclasses.get(c, ()))
        return sorted(seen)

    def instance_of(self, var: str, cls: str) -> str:
        classes = " ".join(f"<{c}>" for c in self.descendants(cls))
        return f"EXISTS {{ {var} <{RDF_TYPE}> ?__c . VALUES ?__c {{ {classes} }} }}"

    def targets(self, shape: rdflib.term.Node) -> str | None:
        parts = []
        for cls in self.shapes.objects(shape, SH.targetClass):
            classes = " ".join(f"<{c}>" for c in self.descendants(str(cls)))
            parts.append(f"{{ ?this <{RDF_TYPE}> ?__t . VALUES ?__t {{ {classes} }} }}")
        for p in self.shapes.objects(shape, SH.targetSubjectsOf):
            parts.append(f"{{ ?this <{p}> ?__o }}")
        for p in self.shapes.objects(shape, SH.targetObjectsOf):
            parts.append(f"{{ ?__s <{p}> ?this }}")
        for node in self.shapes.objects(shape, SH.targetNode):
            parts.append(f"{{ VALUES ?this {{ {_term(node)} }} }}")
        if (shape, RDF.type, rdflib.RDFS.Class) in self.shapes:
            raise Unsupported("implicit class targets")
        if not parts:
            return None
        target_classes = list(self.shapes.objects(shape, SH.targetClass))
        if len(parts) == 1 and (not target_classes or len(self.descendants(str(target_classes[0]))) == 1):
            return parts[0]  # one class or one predicate: no duplicates to remove
        return f"{{ SELECT DISTINCT ?this WHERE {{ {' UNION '.join(parts)} }} }}"

    def condition(self, shape: rdflib.term.Node, p: rdflib.URIRef, o: rdflib.term.Node) -> str:
        """A SPARQL expression true when ?value satisfies one value constraint."""
        v = "?value"
        if p == SH.datatype:
            dt = str(o)
            if dt == LANG_STRING:
                return f"(isLiteral({v}) && lang({v}) != \"\")"
            base = f"isLiteral({v}) && datatype({v}) = <{dt}> && lang({v}) = \"\""
            if dt in CASTABLE:
                return f"({base} && COALESCE(STR(<{dt}>(STR({v}))) != \"\", false))"
            return f"({base})"
        if p == SH.nodeKind:
            if o not in NODE_KINDS:
                raise Unsupported(f"node kind {o}")
            return NODE_KINDS[o].format(v=v)  # type: ignore[index]
        if p == SH["class"]:
            return self.instance_of(v, str(o))
        if p == SH.pattern:
            flags = _one(self.shapes, shape, SH.flags)
            regex = _term(rdflib.Literal(str(o)))
            flag = f", {_term(rdflib.Literal(str(flags)))}" if flags is not None else ""
            return f"(!isBlank({v}) && REGEX(STR({v}), {regex}{flag}))"
        if p == SH["in"]:
            members = list(Collection(self.shapes, o))
            return f"({' || '.join(f'sameTerm({v}, {_term(m)})' for m in members) or 'false'})"
        if p in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive):
            op = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}[p]
            return f"COALESCE({v} {op} {_term(o)}, false)"
        if p in (SH.minLength, SH.maxLength):
            op = ">=" if p == SH.minLength else "<="
            return f"(!isBlank({v}) && STRLEN(STR({v})) {op} {int(o)})"  # type: ignore[call-overload]
        if p == SH["or"]:
            members = list(Collection(self.shapes, o))
            alternatives = []
            for member in members:
                conds = []
                for mp, mo in self.shapes.predicate_objects(member):
                    if mp not in VALUE_CONSTRAINTS or mp == SH["or"]:
                        raise Unsupported(f"{mp} inside sh:or")
                    conds.append(self.condition(member, mp, mo))  # type: ignore[arg-type]
                alternatives.append("(" + (" && ".join(conds) or "true") + ")")
            return "(" + (" || ".join(alternatives) or "false") + ")"
        raise Unsupported(str(p))

    def severity(self, shape: rdflib.term.Node, default: str = "Violation") -> str:
        sev = _one(self.shapes, shape, SH.severity)
        return str(sev).rsplit("#", 1)[-1] if sev is not None else default

    def message(self, shape: rdflib.term.Node) -> str | None:
        messages = list(self.shapes.objects(shape, SH.message))
        return str(messages[0]) if messages else None

    def property_checks(self, node_shape: rdflib.term.Node, targets: str,
                        prop: rdflib.term.Node) -> Iterator[_Check]:
        if _one(self.shapes, prop, SH.deactivated) == rdflib.Literal(True):
            return
        for p, _ in self.shapes.predicate_objects(prop):
            if p not in HANDLED:
                raise Unsupported(f"{p} on a property shape")
        path = _one(self.shapes, prop, SH.path)
        if not isinstance(path, rdflib.URIRef):
            raise Unsupported("only predicate paths")
        severity, message = self.severity(prop), self.message(prop)
        conds = [(f"?__ok{i}", VALUE_CONSTRAINTS[p], self.condition(prop, p, o))  # type: ignore[index,arg-type]
                 for i, (p, o) in enumerate(sorted(self.shapes.predicate_objects(prop)))
                 if p in VALUE_CONSTRAINTS]
        if conds:
            binds = " ".join(f"BIND(COALESCE({c}, false) AS {var})" for var, _, c in conds)
            failing = " || ".join(f"!{var}" for var, _, _ in conds)
            query = (f"SELECT ?this ?value {' '.join(v for v, _, _ in conds)} WHERE {{ {targets} "
                     f"?this <{path}> ?value . {binds} FILTER({failing}) }}")
            yield _Check(query, str(path), severity, message, [(var[1:], comp) for var, comp, _ in conds])
        low, high = _one(self.shapes, prop, SH.minCount), _one(self.shapes, prop, SH.maxCount)
        lo = int(low) if low is not None else None  # type: ignore[call-overload]
        hi = int(high) if high is not None else None  # type: ignore[call-overload]
        if lo is not None and lo <= 1 and (hi is None or hi == 1):
            # the common cases, without counting: no value at all; two different values
            if lo == 1:
                query = f"SELECT ?this (0 AS ?n) WHERE {{ {targets} FILTER NOT EXISTS {{ ?this <{path}> ?__v }} }}"
                yield _Check(query, str(path), severity, message, counts=(lo, None))
            lo = None
        if hi == 1 and lo is None:
            query = (f"SELECT DISTINCT ?this (2 AS ?n) WHERE {{ {targets} ?this <{path}> ?__v1 . "
                     f"?this <{path}> ?__v2 FILTER(!sameTerm(?__v1, ?__v2)) }}")
            yield _Check(query, str(path), severity, message, counts=(None, hi))
        elif lo is not None or hi is not None:
            tests = ([f"?n < {lo}"] if lo is not None else []) + ([f"?n > {hi}"] if hi is not None else [])
            query = (f"SELECT ?this ?n WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {targets} "
                     f"OPTIONAL {{ ?this <{path}> ?v }} }} GROUP BY ?this }} FILTER({' || '.join(tests)}) }}")
            yield _Check(query, str(path), severity, message, counts=(lo, hi))
        for value in self.shapes.objects(prop, SH.hasValue):
            query = f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this <{path}> {_term(value)} }} }}"
            yield _Check(query, str(path), severity, message, [("", "HasValueConstraintComponent")],
                         has_value=True)

    def sparql_check(self, node_shape: rdflib.term.Node, targets: str, constraint: rdflib.term.Node) -> _Check:
        select = _one(self.shapes, constraint, SH.select)
        if select is None or _one(self.shapes, constraint, SH.prefixes) is not None or re.search(
                r"(?i)\bprefix\b|\$(?!this\b)\w+", str(select)):
            raise Unsupported("SPARQL constraints with prefixes or pre-bound variables other than $this")
        inner = str(select)
        query = f"SELECT ?this ?value ?path WHERE {{ {targets} {{ {inner} }} }}"
        message = self.message(constraint) or self.message(node_shape)
        return _Check(query, None, self.severity(node_shape), message, [("", "SPARQLConstraintComponent")])

    def checks(self) -> list[_Check]:
        out: list[_Check] = []
        shapes = set(self.shapes.subjects(RDF.type, SH.NodeShape))
        shapes |= {s for p in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
                   for s in self.shapes.subjects(p, None)}
        for shape in sorted(shapes, key=str):
            if _one(self.shapes, shape, SH.deactivated) == rdflib.Literal(True):
                continue
            for p, _ in self.shapes.predicate_objects(shape):
                if p not in NODE_HANDLED:
                    raise Unsupported(f"{p} on a node shape")
            targets = self.targets(shape)
            if targets is None:
                continue
            for prop in self.shapes.objects(shape, SH.property):
                out.extend(self.property_checks(shape, targets, prop))
            for constraint in self.shapes.objects(shape, SH.sparql):
                out.append(self.sparql_check(shape, targets, constraint))
        return out


def _run(store: ox.Store, check: _Check) -> list[Result]:
    results = []
    for row in store.query(check.query):
        focus = row["this"]
        if check.counts is not None:
            n = int(row["n"].value)
            lo, hi = check.counts
            if lo is not None and n < lo:
                results.append(Result(check.severity, check.message, focus, check.path, None,
                                      "MinCountConstraintComponent"))
            if hi is not None and n > hi:
                results.append(Result(check.severity, check.message, focus, check.path, None,
                                      "MaxCountConstraintComponent"))
        elif check.has_value:
            results.append(Result(check.severity, check.message, focus, check.path, None,
                                  "HasValueConstraintComponent"))
        elif check.components[0][0] == "":
            path = row["path"].value if row["path"] is not None else check.path
            results.append(Result(check.severity, check.message, focus, path, row["value"],
                                  check.components[0][1]))
        else:
            for var, component in check.components:
                if row[var] is not None and row[var].value == "false":
                    results.append(Result(check.severity, check.message, focus, check.path, row["value"],
                                          component))
    return results


def validate_store(store: ox.Store, shapes: rdflib.Graph, threads: int = 2) -> list[Result]:
    """Every SHACL result of the store's default graph against the shapes; raises Unsupported if it cannot."""
    checks = Compiler(shapes, store).checks()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        batches = list(bar(pool.map(lambda c: _run(store, c), checks), len(checks), "validate", "shape checks"))
    return [r for batch in batches for r in batch]
