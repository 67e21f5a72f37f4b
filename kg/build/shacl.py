"""SHACL shapes run as SPARQL on the Oxigraph store, with pyshacl's results (tests prove the parity).

Compiles the SHACL Core features kg's shapes use and a few more (tests/test_w3c_shacl.py runs the W3C suite):
class, subjects-of, objects-of, node and implicit class targets; predicate paths; minCount, maxCount, datatype,
nodeKind, class, pattern, hasValue, in, languageIn, min/max in/exclusive, min/maxLength and or (of value
constraints), on property shapes and (but the counts) on node shapes; and SPARQL-based constraints. A shape using
anything else is `Unsupported`: `validate_store_partly` returns it, with why, for the caller to give to pyshacl;
`validate_store` raises. Each property shape becomes one query over its values and one over its counts, so a
graph of millions of triples is checked in a few scans, inside the store, instead of in an rdflib graph in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

from kg.progress import bar

XSD = "http://www.w3.org/2001/XMLSchema#"
SH_NS = "http://www.w3.org/ns/shacl#"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
# datatypes whose lexical forms the store checks by casting, as rdflib (hence pyshacl) does; for the others
# (e.g. xsd:gYear) both check the datatype IRI only
CASTABLE = {XSD + t for t in ("integer", "decimal", "double", "float", "boolean", "dateTime", "date", "time",
                              "duration", "dayTimeDuration", "yearMonthDuration")}
# the types derived from xsd:integer, with their bounds: cast to xsd:integer and compared (the store keeps their
# well-formed literals as xsd:integer, so only an ill-formed one still has the derived type there)
INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    XSD + "long": (-2**63, 2**63 - 1), XSD + "int": (-2**31, 2**31 - 1), XSD + "short": (-2**15, 2**15 - 1),
    XSD + "byte": (-2**7, 2**7 - 1), XSD + "unsignedLong": (0, 2**64 - 1), XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1), XSD + "unsignedByte": (0, 2**8 - 1),
    XSD + "nonNegativeInteger": (0, None), XSD + "positiveInteger": (1, None),
    XSD + "nonPositiveInteger": (None, 0), XSD + "negativeInteger": (None, -1)}
NODE_KINDS = {
    SH.IRI: "isIRI({v})", SH.Literal: "isLiteral({v})", SH.BlankNode: "isBlank({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
VALUE_CONSTRAINTS = {SH.datatype: "DatatypeConstraintComponent", SH.nodeKind: "NodeKindConstraintComponent",
                     SH["class"]: "ClassConstraintComponent", SH.pattern: "PatternConstraintComponent",
                     SH["in"]: "InConstraintComponent", SH.languageIn: "LanguageInConstraintComponent",
                     SH["or"]: "OrConstraintComponent",
                     SH.minInclusive: "MinInclusiveConstraintComponent",
                     SH.maxInclusive: "MaxInclusiveConstraintComponent",
                     SH.minExclusive: "MinExclusiveConstraintComponent",
                     SH.maxExclusive: "MaxExclusiveConstraintComponent",
                     SH.minLength: "MinLengthConstraintComponent", SH.maxLength: "MaxLengthConstraintComponent"}
# A graph for the types of nodes a shard's statements point to, which live in other shards (kg.build.checks): a
# value's class is looked up in it too, but no focus node comes from it. Empty when the whole graph is checked.
REACHED = "urn:kg:reached"
TARGETS = {SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode}
# what a shape may say besides its constraints, which no result depends on (or which the checks read themselves)
ANNOTATIONS = {SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group, SH.deactivated, SH.flags,
               SH.defaultValue}
HANDLED = set(VALUE_CONSTRAINTS) | ANNOTATIONS | TARGETS | {SH.path, SH.minCount, SH.maxCount, SH.hasValue}
NODE_HANDLED = set(VALUE_CONSTRAINTS) | ANNOTATIONS | TARGETS | {SH.property, SH.sparql, SH.hasValue}
OR_MEMBER_HANDLED = (set(VALUE_CONSTRAINTS) - {SH["or"]}) | ANNOTATIONS - {SH.deactivated}


class Unsupported(Exception):
    """The shapes use a SHACL feature this engine does not compile."""


@dataclass(frozen=True)
class Uncompiled:
    """A shape the engine does not compile, and why."""

    shape: rdflib.term.Node
    reason: str


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
class Check:
    """One compiled query and how to turn its rows into results."""

    query: str
    path: str | None
    severity: str
    message: str | None
    components: list[tuple[str, str]] = field(default_factory=list)  # (result variable, component)
    counts: tuple[int | None, int | None] | None = None  # (minCount, maxCount) for a count query
    has_value: bool = False
    # its results for a focus node need only the node's own statements, the types of the nodes it points to and
    # the statements pointing to it (so a shard holding those gives them exactly: kg.build.checks)
    local: bool = True


def _term(node: rdflib.term.Node) -> str:
    """A shapes-graph node as SPARQL syntax."""
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.Literal):
        text = str(node).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if node.language:
            return f'"{text}"@{node.language}'
        return f'"{text}"^^<{node.datatype or XSD + "string"}>'
    raise Unsupported("a blank node as a constraint value")


def term_name(p: rdflib.term.Node) -> str:
    """A predicate as a reason names it: sh:closed, or the IRI."""
    text = str(p)
    return f"sh:{text[len(SH_NS):]}" if text.startswith(SH_NS) else f"<{text}>"


def _one(shapes: rdflib.Graph, shape: rdflib.term.Node, p: rdflib.URIRef) -> rdflib.term.Node | None:
    values = list(shapes.objects(shape, p))
    if len(values) > 1:
        raise Unsupported(f"several values of {term_name(p)} on one shape")
    return values[0] if values else None


def class_types(shapes: rdflib.Graph) -> set[rdflib.term.Node]:
    """The types that make a shape a class, hence its own target class: rdfs:Class and its subclasses."""
    return {RDFS.Class, *shapes.subjects(RDFS.subClassOf, RDFS.Class)}



def closure(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    """`start` and everything reachable from it along `edges` (a class's subclasses, or its superclasses)."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return seen

_REACHING = {"ToMultiSet", "Graph", "ServiceGraphPattern", "Group", "AggregateJoin"}  # algebra that looks further


@lru_cache(maxsize=256)  # parsed by rdflib's pure-Python parser: a fifteenth of a second each
def sparql_local(select: str) -> bool:
    """Whether a SPARQL constraint's query reads only its focus node's own statements: every triple pattern has
    $this as subject, with a plain predicate, and nothing (subquery, GRAPH, SERVICE, grouping) looks further."""
    # rdflib's SPARQL parser is imported here, for shapes with SPARQL constraints only: building its grammar is a
    # twentieth of a second of every build's start
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        algebra = translateQuery(parseQuery(select)).algebra
    except Exception:  # noqa: BLE001 - rdflib's parser raises several kinds; unreadable here means "not proven"
        return False
    this = rdflib.Variable("this")
    todo: list[object] = [algebra]
    while todo:
        node = todo.pop()
        if isinstance(node, CompValue):
            if node.name in _REACHING:
                return False
            for key, value in node.items():
                if key == "triples":
                    if any(t[0] != this or not isinstance(t[1], rdflib.URIRef | rdflib.Variable) for t in value):
                        return False
                elif key != "_vars":
                    todo.append(value)
        elif isinstance(node, list | tuple):
            todo.extend(node)
    return True


class Compiler:
    """Compiles a shapes graph into checks against one store (class hierarchy taken from the data)."""

    def __init__(self, shapes: rdflib.Graph, store: ox.Store) -> None:
        self.shapes = shapes
        self.store = store
        self.subclasses: dict[str, set[str]] = {}
        for row in store.query(f"SELECT DISTINCT ?sub ?sup WHERE {{ ?sub <{RDFS_SUBCLASS}> ?sup }}"):
            self.subclasses.setdefault(row["sup"].value, set()).add(row["sub"].value)
        self.class_types = class_types(shapes)
        # parameters of constraint components the shapes graph declares: constraints, though outside sh:
        self.parameters = {p for param in shapes.objects(None, SH.parameter) for p in shapes.objects(param, SH.path)}

    def descendants(self, cls: str) -> list[str]:
        """A class and every class below it, per the data's rdfs:subClassOf statements."""
        return sorted(closure(cls, self.subclasses))

    def instance_of(self, var: str, cls: str) -> str:
        classes = " ".join(f"<{c}>" for c in self.descendants(cls))
        return (f"EXISTS {{ {{ {var} <{RDF_TYPE}> ?__c }} UNION {{ GRAPH <{REACHED}> {{ {var} <{RDF_TYPE}> ?__c }} }} "
                f"VALUES ?__c {{ {classes} }} }}")

    def supported(self, shape: rdflib.term.Node, handled: set[rdflib.URIRef], where: str) -> None:
        """Raise Unsupported if the shape says anything of SHACL beyond `handled` (other statements are not
        constraints, unless the shapes graph declares them parameters of its own components)."""
        names = sorted({term_name(p) for p in self.shapes.predicates(shape)
                        if p not in handled and (str(p).startswith(SH_NS) or p in self.parameters)})
        if names:
            raise Unsupported(f"{', '.join(names)} on {where}")

    def target_classes(self, shape: rdflib.term.Node) -> list[rdflib.term.Node]:
        """The explicit target classes, and the shape itself when it is a class (an implicit class target)."""
        implicit = any(t in self.class_types for t in self.shapes.objects(shape, RDF.type))
        return [*self.shapes.objects(shape, SH.targetClass), *([shape] if implicit else [])]

    def targets(self, shape: rdflib.term.Node) -> str | None:
        parts = []
        target_classes = self.target_classes(shape)
        for cls in target_classes:
            if not isinstance(cls, rdflib.URIRef):
                raise Unsupported("a blank node as a target class")
            classes = " ".join(f"<{c}>" for c in self.descendants(str(cls)))
            parts.append(f"{{ ?this <{RDF_TYPE}> ?__t . VALUES ?__t {{ {classes} }} }}")
        for p in self.shapes.objects(shape, SH.targetSubjectsOf):
            parts.append(f"{{ ?this <{p}> ?__o }}")
        for p in self.shapes.objects(shape, SH.targetObjectsOf):
            parts.append(f"{{ ?__s <{p}> ?this }}")
        for node in self.shapes.objects(shape, SH.targetNode):
            parts.append(f"{{ VALUES ?this {{ {_term(node)} }} }}")
        if not parts:
            return None
        if len(parts) == 1 and target_classes and len(self.descendants(str(target_classes[0]))) == 1:
            return parts[0]  # one class: each focus node once already (a predicate's would come once a value)
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
            if dt in INTEGER_RANGES:
                n = f"<{XSD}integer>(STR({v}))"
                low, high = INTEGER_RANGES[dt]
                bounds = [f"{n} >= {low}"] * (low is not None) + [f"{n} <= {high}"] * (high is not None)
                return f"({base} && COALESCE({' && '.join(bounds)}, false))"
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
        if p == SH.languageIn:
            tags = [_term(rdflib.Literal(str(t))) for t in Collection(self.shapes, o)]
            return f"(isLiteral({v}) && ({' || '.join(f'langMatches(lang({v}), {t})' for t in tags) or 'false'}))"
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
                self.supported(member, OR_MEMBER_HANDLED, "a shape inside sh:or")
                conds = [self.condition(member, mp, mo)  # type: ignore[arg-type]
                         for mp, mo in sorted(self.shapes.predicate_objects(member)) if mp in VALUE_CONSTRAINTS]
                alternatives.append("(" + (" && ".join(conds) or "true") + ")")
            return "(" + (" || ".join(alternatives) or "false") + ")"
        raise Unsupported(term_name(p))

    def severity(self, shape: rdflib.term.Node, default: str = "Violation") -> str:
        sev = _one(self.shapes, shape, SH.severity)
        return str(sev).rsplit("#", 1)[-1] if sev is not None else default

    def message(self, shape: rdflib.term.Node) -> str | None:
        messages = list(self.shapes.objects(shape, SH.message))
        return str(messages[0]) if messages else None

    def value_checks(self, shape: rdflib.term.Node, targets: str, path: rdflib.URIRef | None) -> Iterator[Check]:
        """The checks of a shape's value constraints and sh:hasValue: on the values of a property shape's path,
        or on the focus node itself (a node shape)."""
        severity, message = self.severity(shape), self.message(shape)
        where = str(path) if path is not None else None
        values = f"?this <{path}> ?value ." if path is not None else "BIND(?this AS ?value)"
        conds = [(f"?__ok{i}", VALUE_CONSTRAINTS[p], self.condition(shape, p, o))  # type: ignore[index,arg-type]
                 for i, (p, o) in enumerate(sorted(self.shapes.predicate_objects(shape)))
                 if p in VALUE_CONSTRAINTS]
        if conds:
            binds = " ".join(f"BIND(COALESCE({c}, false) AS {var})" for var, _, c in conds)
            failing = " || ".join(f"!{var}" for var, _, _ in conds)
            query = (f"SELECT ?this ?value {' '.join(v for v, _, _ in conds)} WHERE {{ {targets} "
                     f"{values} {binds} FILTER({failing}) }}")
            yield Check(query, where, severity, message, [(var[1:], comp) for var, comp, _ in conds])
        for value in self.shapes.objects(shape, SH.hasValue):
            has = f"?this <{path}> {_term(value)}" if path is not None else f"FILTER(sameTerm(?this, {_term(value)}))"
            query = f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ {has} }} }}"
            yield Check(query, where, severity, message, [("", "HasValueConstraintComponent")], has_value=True)

    def property_checks(self, node_shape: rdflib.term.Node, targets: str,
                        prop: rdflib.term.Node) -> Iterator[Check]:
        if _one(self.shapes, prop, SH.deactivated) == rdflib.Literal(True):
            return
        self.supported(prop, HANDLED, "a property shape")
        path = _one(self.shapes, prop, SH.path)
        if not isinstance(path, rdflib.URIRef):
            kinds = ["a sequence"] if (path, RDF.first, None) in self.shapes else sorted(
                {term_name(p) for p in self.shapes.predicates(path)})
            raise Unsupported(f"a path other than a predicate ({', '.join(kinds)})")
        yield from self.value_checks(prop, targets, path)
        severity, message = self.severity(prop), self.message(prop)
        low, high = _one(self.shapes, prop, SH.minCount), _one(self.shapes, prop, SH.maxCount)
        lo = int(low) if low is not None else None  # type: ignore[call-overload]
        hi = int(high) if high is not None else None  # type: ignore[call-overload]
        if lo is not None and lo <= 1 and (hi is None or hi == 1):
            # the common cases, without counting: no value at all; two different values
            if lo == 1:
                query = f"SELECT ?this (0 AS ?n) WHERE {{ {targets} FILTER NOT EXISTS {{ ?this <{path}> ?__v }} }}"
                yield Check(query, str(path), severity, message, counts=(lo, None))
            lo = None
        if hi == 1 and lo is None:
            query = (f"SELECT DISTINCT ?this (2 AS ?n) WHERE {{ {targets} ?this <{path}> ?__v1 . "
                     f"?this <{path}> ?__v2 FILTER(!sameTerm(?__v1, ?__v2)) }}")
            yield Check(query, str(path), severity, message, counts=(None, hi))
        elif lo is not None or hi is not None:
            tests = ([f"?n < {lo}"] if lo is not None else []) + ([f"?n > {hi}"] if hi is not None else [])
            query = (f"SELECT ?this ?n WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {targets} "
                     f"OPTIONAL {{ ?this <{path}> ?v }} }} GROUP BY ?this }} FILTER({' || '.join(tests)}) }}")
            yield Check(query, str(path), severity, message, counts=(lo, hi))

    def sparql_checks(self, node_shape: rdflib.term.Node, targets: str,
                      constraint: rdflib.term.Node) -> Iterator[Check]:
        select = _one(self.shapes, constraint, SH.select)
        if select is None or _one(self.shapes, constraint, SH.prefixes) is not None or re.search(
                r"(?i)\bprefix\b|\$(?!this\b)\w+", str(select)):
            raise Unsupported("SPARQL constraints with prefixes or pre-bound variables other than $this")
        inner = str(select)
        query = f"SELECT ?this ?value ?path WHERE {{ {targets} {{ {inner} }} }}"
        message = self.message(constraint) or self.message(node_shape)
        yield Check(query, None, self.severity(node_shape), message, [("", "SPARQLConstraintComponent")],
                     local=sparql_local(inner))

    def shapes_to_validate(self) -> list[rdflib.term.Node]:
        """Every shape that may have targets (whether it has is known once they are read)."""
        shapes = {s for t in (SH.NodeShape, SH.PropertyShape) for s in self.shapes.subjects(RDF.type, t)}
        shapes |= {s for p in TARGETS for s in self.shapes.subjects(p, None)}
        return sorted(shapes, key=str)

    def compile(self, shape: rdflib.term.Node) -> list[Check]:
        """The checks of one shape against its targets; raises Unsupported if it uses what is not compiled."""
        if _one(self.shapes, shape, SH.deactivated) == rdflib.Literal(True):
            return []
        targets = self.targets(shape)
        if targets is None:
            return []  # a shape without targets is checked only where another shape uses it
        if (shape, SH.path, None) in self.shapes:
            return list(self.property_checks(shape, targets, shape))
        reasons = set()  # every reason, not just the first: the build names them all
        try:
            self.supported(shape, NODE_HANDLED, "a node shape")
        except Unsupported as exc:
            reasons.add(str(exc))
        parts: list[Callable[[], Iterable[Check]]] = [partial(self.value_checks, shape, targets, None)]
        parts += [partial(self.property_checks, shape, targets, p) for p in self.shapes.objects(shape, SH.property)]
        parts += [partial(self.sparql_checks, shape, targets, c) for c in self.shapes.objects(shape, SH.sparql)]
        out: list[Check] = []
        for part in parts:
            try:
                out.extend(part())
            except Unsupported as exc:
                reasons.add(str(exc))
        if reasons:
            raise Unsupported("; ".join(sorted(reasons)))
        return out

    def plan(self) -> tuple[list[Check], list[Uncompiled]]:
        """The checks of every shape compiled, and the shapes that are not (with why)."""
        checks: list[Check] = []
        uncompiled = []
        for shape in self.shapes_to_validate():
            try:
                checks.extend(self.compile(shape))
            except Unsupported as exc:
                uncompiled.append(Uncompiled(shape, str(exc)))
        return checks, uncompiled

    def checks(self) -> list[Check]:
        """The checks of every shape; raises Unsupported if one shape is not compiled."""
        checks, uncompiled = self.plan()
        if uncompiled:
            raise Unsupported(f"{uncompiled[0].shape}: {uncompiled[0].reason}")
        return checks


def run_check(store: ox.Store, check: Check) -> list[Result]:
    """The results of one compiled check on the store's default graph."""
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


def _run_all(store: ox.Store, checks: list[Check], threads: int) -> list[Result]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        batches = list(bar(pool.map(lambda c: run_check(store, c), checks), len(checks), "validate", "shape checks"))
    return [r for batch in batches for r in batch]


def validate_store(store: ox.Store, shapes: rdflib.Graph, threads: int = 2) -> list[Result]:
    """Every SHACL result of the store's default graph against the shapes; raises Unsupported if it cannot."""
    return _run_all(store, Compiler(shapes, store).checks(), threads)


def validate_store_partly(store: ox.Store, shapes: rdflib.Graph,
                          threads: int = 2) -> tuple[list[Result], list[Uncompiled]]:
    """The SHACL results of every shape compiled, and the shapes that are not (for pyshacl to check)."""
    checks, uncompiled = Compiler(shapes, store).plan()
    return _run_all(store, checks, threads), uncompiled
