"""The W3C SHACL Core test suite against kg's SHACL compiler (kg.build.shacl), one case per manifest entry.

Each entry's data graph is loaded into the default graph of an Oxigraph store, its shapes graph into rdflib;
`validate_store` runs the shapes, and its results are compared with the entry's expected report: `sh:conforms`
and the set of results, each as (focus node, result path, value, constraint component, severity). Source shapes
and messages are not compared (the compiler reports neither). `DEVIATIONS` lists, with the reason, each entry the
compiler does not pass (most because it does not compile a feature: the build gives such shapes to pyshacl). An
unlisted entry must pass, and a listed one must still fail (or not compile), so the list cannot go stale. A
second case per entry runs it as the build does, the shapes compiled in the store and pyshacl given only the
others, and checks that this finds what pyshacl finds given every shape.

Blank nodes: the store is filled term by term from rdflib's parse of the data file, so each blank node keeps the
label rdflib gave it, and results are matched by that label. A Turtle label names one node throughout its
document, so where the expected report is in the data graph's own file (as in every entry whose report holds a
blank node focus or value), `_:b1` in the report is the very node `_:b1` of the data: the comparison is exact.
Where the report is in another file its blank nodes cannot denote the data's, and any blank node is compared
only as "a blank node". A blank node result path (a complex path) is compared by its structure.

Literals are compared by datatype and language, and by value when well-formed, else by lexical form: Oxigraph
keeps literals in canonical forms ("4.0"^^xsd:decimal comes back as "4").

Each entry is named by its IRI relative to the suite's folder (core/node/class-001: local names repeat across
folders). The top manifest also includes sparql/manifest.ttl, the SPARQL-based tests, which the shared copy
does not hold: the Core suite is what is run.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from conftest import SHARED
from kg.build.shacl import Unsupported, validate_store
from kg.build.validate import Finding, shacl, shacl_checked, to_rdflib

SUITE = SHARED / "w3c-shacl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
XSD_STRING = rdflib.XSD.string

PYSHACL = "not compiled: the build gives such shapes to pyshacl"
PATHS = f"paths other than a predicate (sequence, inverse, alternative, zero/one or more) are {PYSHACL}"
PAIRS = f"property pair constraints (sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals) are {PYSHACL}"
LOGIC = f"sh:and, sh:not and sh:xone are {PYSHACL}"
NODE = f"sh:node is {PYSHACL}"
QUALIFIED = f"qualified value shapes are {PYSHACL}"
NESTED = f"property shapes of property shapes are {PYSHACL}"
DEVIATIONS: dict[str, str] = {
    "core/complex/personexample": f"sh:closed is {PYSHACL}",
    "core/complex/shacl-shacl": f"the shapes of SHACL itself use sh:node, sh:xone, sh:not and complex paths, {PYSHACL}",
    "core/node/and-001": LOGIC,
    "core/node/and-002": LOGIC,
    "core/node/closed-001": f"sh:closed is {PYSHACL}",
    "core/node/closed-002": f"sh:closed is {PYSHACL}",
    "core/node/disjoint-001": PAIRS,
    "core/node/equals-001": PAIRS,
    "core/node/node-001": NODE,
    "core/node/not-001": LOGIC,
    "core/node/not-002": LOGIC,
    "core/node/or-001": f"sh:or is compiled only over value constraints; an alternative with property shapes is {PYSHACL}",
    "core/node/qualified-001": QUALIFIED,
    "core/node/xone-001": LOGIC,
    "core/node/xone-duplicate": LOGIC,
    "core/path/path-alternative-001": PATHS,
    "core/path/path-complex-001": PATHS,
    "core/path/path-complex-002": PATHS,
    "core/path/path-inverse-001": PATHS,
    "core/path/path-oneOrMore-001": PATHS,
    "core/path/path-sequence-001": PATHS,
    "core/path/path-sequence-002": PATHS,
    "core/path/path-sequence-duplicate-001": PATHS,
    "core/path/path-strange-001": PATHS,
    "core/path/path-strange-002": PATHS,
    "core/path/path-zeroOrMore-001": PATHS,
    "core/path/path-zeroOrOne-001": PATHS,
    "core/property/and-001": LOGIC,
    "core/property/datatype-ill-formed": "Oxigraph keeps every literal of a type derived from xsd:integer as an "
    "xsd:integer, even an out-of-range one: \"300\"^^xsd:byte is in the store, and in the result, as \"300\"^^xsd:integer "
    "(kg publishes the store's form, so that is what the shapes see)",
    "core/property/disjoint-001": PAIRS,
    "core/property/equals-001": PAIRS,
    "core/property/lessThan-001": PAIRS,
    "core/property/lessThan-002": PAIRS,
    "core/property/lessThanOrEquals-001": PAIRS,
    "core/property/node-001": NODE,
    "core/property/node-002": NODE,
    "core/property/not-001": LOGIC,
    "core/property/property-001": NESTED,
    "core/property/qualifiedMinCountDisjoint-001": QUALIFIED,
    "core/property/qualifiedValueShape-001": QUALIFIED,
    "core/property/qualifiedValueShapesDisjoint-001": QUALIFIED,
    "core/property/uniqueLang-001": f"sh:uniqueLang is {PYSHACL}",
    "core/property/uniqueLang-002": f"sh:uniqueLang is {PYSHACL}",
    "core/validation-reports/shared": NESTED,
}


def _path(iri: rdflib.term.Node) -> Path:
    return Path(unquote(urlparse(str(iri)).path))


@cache
def _graph(path: Path) -> rdflib.Graph:
    """A suite file as parsed once (so one file's blank nodes are the same nodes wherever it is used)."""
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False  # load the literals as written
    try:
        return rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    finally:
        rdflib.NORMALIZE_LITERALS = normalize


def _entries(path: Path) -> list[tuple[str, Path, rdflib.term.Node]]:
    """(name, manifest file, entry) of every sht:Validate entry under a manifest, includes followed."""
    g = _graph(path)
    out = []
    manifest = rdflib.URIRef(path.as_uri())
    for included in g.objects(manifest, MF.include):
        if _path(included).exists():
            out.extend(_entries(_path(included)))
    for entries in g.objects(manifest, MF.entries):
        for entry in Collection(g, entries):
            if (entry, RDF.type, SHT.Validate) in g:
                name = _path(entry).relative_to(SUITE).as_posix()
                out.append((name, path, entry))
    return out


ENTRIES = _entries(SUITE / "manifest.ttl")


def test_the_suite_is_the_core_suite():
    """Only the SPARQL-based tests are left out (they are not in the shared copy); the Core suite is all there."""
    top = _graph(SUITE / "manifest.ttl")
    missing = [_path(i).relative_to(SUITE).as_posix() for i in top.objects(None, MF.include) if not _path(i).exists()]
    assert missing == ["sparql/manifest.ttl"]
    assert len(ENTRIES) == 98 and all(name.startswith("core/") for name, _, _ in ENTRIES)
    assert len({name for name, _, _ in ENTRIES}) == len(ENTRIES)


def _ox(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, rdflib.Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)


def _store(data: rdflib.Graph) -> ox.Store:
    """The data graph as a store's default graph, each blank node under the label rdflib gave it."""
    store = ox.Store()
    store.extend(ox.Quad(_ox(s), _ox(p), _ox(o), ox.DefaultGraph()) for s, p, o in data)
    return store


def _key(term: rdflib.term.Node | None, exact_blanks: bool) -> tuple | None:
    """A term as compared: IRIs by IRI, literals canonically, blank nodes by label only within one document."""
    if term is None:
        return None
    if isinstance(term, rdflib.BNode):
        return ("blank", str(term)) if exact_blanks else ("blank",)
    if isinstance(term, rdflib.Literal):
        datatype = term.datatype or (None if term.language else XSD_STRING)
        parsed = rdflib.Literal(str(term), lang=term.language, datatype=datatype)
        by_value = parsed.value is not None and not parsed.ill_typed and datatype not in (RDF.HTML, RDF.XMLLiteral)
        value = parsed.value if by_value else str(term)
        return ("literal", value, str(datatype or ""), (term.language or "").lower())
    return ("iri", str(term))


def _rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> rdflib.term.Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=False)


def _path_key(g: rdflib.Graph, path: rdflib.term.Node | None) -> tuple | None:
    """A result path by its structure (a predicate, or a sequence, inverse, alternative, ... of paths)."""
    if path is None:
        return None
    if isinstance(path, rdflib.URIRef):
        return ("iri", str(path))
    if g.value(path, RDF.first) is not None:
        return ("sequence", *(_path_key(g, p) for p in Collection(g, path)))
    for kind in (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        if (inner := g.value(path, kind)) is not None:
            return (str(kind), _path_key(g, inner))
    if (alternatives := g.value(path, SH.alternativePath)) is not None:
        return ("alternative", *(_path_key(g, p) for p in Collection(g, alternatives)))
    raise AssertionError(f"unknown path {path}")


def _local(iri: rdflib.term.Node | str | None) -> str:
    return str(iri).rsplit("#", 1)[-1]


def _expected(g: rdflib.Graph, entry: rdflib.term.Node, exact_blanks: bool) -> tuple[bool, set[tuple]]:
    report = g.value(entry, MF.result)
    conforms = g.value(report, SH.conforms)
    assert conforms is not None, "the entry expects a validation report"
    results = {(_key(g.value(r, SH.focusNode), exact_blanks), _path_key(g, g.value(r, SH.resultPath)),
                _key(g.value(r, SH.value), exact_blanks), _local(g.value(r, SH.sourceConstraintComponent)),
                _local(g.value(r, SH.resultSeverity)))
               for r in g.objects(report, SH.result)}
    return bool(conforms.toPython()), results


def _graphs(entry_graph: rdflib.Graph, entry: rdflib.term.Node) -> tuple[rdflib.Graph, rdflib.Graph]:
    """An entry's data graph and shapes graph."""
    action = entry_graph.value(entry, MF.action)
    return (_graph(_path(entry_graph.value(action, SHT.dataGraph))),
            _graph(_path(entry_graph.value(action, SHT.shapesGraph))))


def _got(entry_graph: rdflib.Graph, entry: rdflib.term.Node) -> tuple[bool, set[tuple], bool]:
    """(conforms, results, blank nodes compared exactly) of the compiler on one entry; raises Unsupported."""
    data, shapes = _graphs(entry_graph, entry)
    exact = data is entry_graph
    results = validate_store(_store(data), shapes)
    got = {(_key(_rdflib(r.focus), exact), ("iri", r.path) if r.path else None, _key(_rdflib(r.value), exact),
            r.component, r.severity) for r in results}
    return not results, got, exact


CASES = [pytest.param(name, manifest, entry, id=name) for name, manifest, entry in ENTRIES]


@pytest.mark.parametrize(("name", "manifest", "entry"), CASES)
def test_w3c_shacl(name: str, manifest: Path, entry: rdflib.term.Node) -> None:
    g = _graph(manifest)
    try:
        conforms, got, exact = _got(g, entry)
    except Unsupported as exc:
        assert name in DEVIATIONS, f"the compiler does not compile it ({exc}), and DEVIATIONS does not say so"
        return
    expected = _expected(g, entry, exact)
    if name in DEVIATIONS:
        assert (conforms, got) != expected, f"listed in DEVIATIONS ({DEVIATIONS[name]}) but passes: unlist it"
        return
    assert conforms == expected[0]
    assert got == expected[1]


def _shown(text: str | None) -> object:
    """A node as a finding shows it, as compared: every blank node alike, a number by its value (the store shows
    its canonical form, "4", where pyshacl shows a focus node as the shapes graph writes it, "4.0")."""
    if text is None or text.startswith("_:"):
        return text and "_:"
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


@pytest.mark.parametrize(("name", "manifest", "entry"), CASES)
def test_w3c_shacl_as_the_build_runs_it(name: str, manifest: Path, entry: rdflib.term.Node) -> None:
    """The build's way, every shape compiled run in the store and pyshacl given only the others, finds what
    pyshacl finds given every shape (on the same graph, as the store keeps it), deviations or not."""
    data, shapes = _graphs(_graph(manifest), entry)
    store = _store(data)
    findings, _ = shacl_checked(store, shapes)
    expected = shacl(to_rdflib(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), shapes)

    def key(f: Finding) -> tuple:
        return f.severity, _shown(f.focus), f.path, _shown(f.value)

    assert Counter(map(key, findings)) == Counter(map(key, expected))
