"""SPARQL on a release: evaluating queries, serialising results, and the service description."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from . import vocab
from .formats import FORMATS, RESULT_FORMATS, Format, ResultFormat
from .store import Release, is_update

SD = vocab.SD


class QueryError(Exception):
    """A query the endpoint will not or cannot answer; `status` is the HTTP status to report."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of a request (SPARQL protocol default-graph-uri / named-graph-uri)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def evaluate(release: Release, text: str, dataset: Dataset = Dataset()) -> Result:
    """Parse and start evaluating a query; updates and syntax errors become QueryError (400/403)."""
    if is_update(text):
        raise QueryError(403, "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) "
                              "is not accepted.")
    for iri in dataset.default_graphs + dataset.named_graphs:
        if not iri.startswith(("http://", "https://", "urn:")) or any(c in iri for c in "<> \"{}|\\^`"):
            raise QueryError(400, f"Not a graph IRI: {iri!r}")
    try:
        if not dataset.default_graphs and not dataset.named_graphs:
            return release.query(text)
        return release.query(text, list(dataset.default_graphs), list(dataset.named_graphs))
    except SyntaxError as exc:
        raise QueryError(400, f"SPARQL syntax error: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(400, f"The query could not be evaluated: {exc}") from exc


def kind(result: Result) -> str:
    """'solutions', 'boolean' or 'graph'."""
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QuerySolutions):
        return "solutions"
    return "graph"


def serialize(result: Result, fmt: Format | ResultFormat) -> bytes:
    """The bytes of a result in the chosen format; evaluation errors surface here as QueryError."""
    try:
        if isinstance(fmt, ResultFormat):
            if isinstance(result, ox.QueryTriples):
                raise QueryError(406, "CONSTRUCT and DESCRIBE results are graphs, not result tables")
            return result.serialize(format=fmt.oxigraph) or b""
        if not isinstance(result, ox.QueryTriples):
            raise QueryError(406, "SELECT and ASK results are tables, not graphs")
        return fmt.serialize(list(dict.fromkeys(result)))
    except (OSError, RuntimeError, ValueError, SyntaxError) as exc:
        raise QueryError(400, f"The query could not be evaluated: {exc}") from exc


def service_description(endpoint: str, release: Release) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint at `endpoint`."""
    svc = ox.NamedNode(endpoint)
    ds = ox.NamedNode(f"{release.meta['base_iri']}dataset")
    dflt = ox.NamedNode(f"{endpoint}#default-graph")
    sd = vocab._NS(SD)
    out = [
        ox.Triple(svc, vocab.TYPE, sd.Service),
        ox.Triple(svc, sd.endpoint, svc),
        ox.Triple(svc, sd.supportedLanguage, sd.SPARQL11Query),
        ox.Triple(svc, sd.feature, sd.UnionDefaultGraph),
        ox.Triple(svc, sd.defaultEntailmentRegime, ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(svc, sd.defaultDataset, ds),
        ox.Triple(ds, vocab.TYPE, sd.Dataset),
        ox.Triple(ds, sd.defaultGraph, dflt),
        ox.Triple(dflt, vocab.TYPE, sd.Graph),
        ox.Triple(dflt, vocab.V.triples,
                  ox.Literal(str(release.meta["counts"]["triples"]),  # type: ignore[index]
                             datatype=vocab.XSD_INTEGER)),
    ]
    for f in RESULT_FORMATS:
        out.append(ox.Triple(svc, sd.resultFormat, ox.NamedNode(f.oxigraph.iri)))
    for rdf in FORMATS:
        out.append(ox.Triple(svc, sd.resultFormat, ox.NamedNode(rdf.oxigraph.iri)))
    for g in sorted(release.store.named_graphs(), key=lambda n: n.value):
        if isinstance(g, ox.NamedNode):
            named = ox.NamedNode(f"{endpoint}#graph-{hashlib.sha1(g.value.encode()).hexdigest()[:12]}")
            out += [ox.Triple(ds, sd.namedGraph, named), ox.Triple(named, sd.name, g)]
    return out
