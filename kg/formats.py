"""THE table of RDF and SPARQL result formats, shared by the CLI, the release dumps and content negotiation."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from pyoxigraph import QueryResultsFormat, RdfFormat

from kg.vocab import PREFIXES

STREAM_CHUNK = 20_000  # statements serialised at a time when a document is streamed


@dataclass(frozen=True)
class Format:
    """One RDF serialisation: kg's short name for one of pyoxigraph's formats (which knows its label, media type
    and file extension), the other media types it is asked for by, and rdflib's name for it."""

    name: str
    oxigraph: RdfFormat
    rdflib: str
    also: tuple[str, ...] = ()  # media types clients ask for it by besides its own
    triples_only: bool = False  # kg writes it without named graphs although the syntax has them (JSON-LD)
    lines: bool = False  # JSON Lines: one JSON-LD object per line, each with its context (not a format of its own)

    @property
    def label(self) -> str:
        return "JSON Lines" if self.lines else self.oxigraph.name

    @property
    def media_type(self) -> str:
        return "application/jsonl" if self.lines else self.oxigraph.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        """Every media type it answers to, its own first."""
        return (self.media_type, *self.also)

    @property
    def extension(self) -> str:
        return "jsonl" if self.lines else self.oxigraph.file_extension

    @property
    def entities(self) -> bool:
        """Whether it is written entity by entity, as JSON objects (JSON-LD, JSON Lines)."""
        return self.oxigraph == RdfFormat.JSON_LD

    @property
    def datasets(self) -> bool:
        """Whether it carries named graphs (provenance)."""
        return self.oxigraph.supports_datasets and not self.triples_only

    def serialize(self, data: Iterable[ox.Triple] | Iterable[ox.Quad], entity: str | None = None,
                  labels: Mapping[str, dict[str, Any]] | None = None) -> bytes:
        """The bytes of `data` in this format: for JSON-LD and JSON Lines, an entity's document under the official
        schema.org context when `labels` are given (the names of the nodes it points to), else compact JSON-LD with
        kg's own small context; the store's writers for the rest."""
        if self.entities:
            from kg.jsonld import dumps, entity_bytes

            if labels is not None or self.lines:
                return entity_bytes(entity, (ox.Triple(t.subject, t.predicate, t.object) for t in data),
                                    labels or {}, lines=self.lines)
            return dumps(data)
        if not self.datasets:
            data = (ox.Triple(t.subject, t.predicate, t.object) for t in data)
        return ox.serialize(data, format=self.oxigraph, prefixes=PREFIXES) or b""

    def parse(self, data: bytes) -> Iterator[ox.Quad]:
        """The statements of a document in this format; JSON-LD's contexts named by URL are the ones kg ships."""
        if self.entities:
            from kg.jsonld import read

            return read(data, lines=self.lines)
        return iter(ox.parse(data, format=self.oxigraph))

    def stream(self, data: Iterable[ox.Triple] | Iterable[ox.Quad], chunk: int | None = None) -> Iterator[bytes]:
        """The serialisation of `data` in pieces that together are one document, for graphs too large to hold at
        once; JSON-LD needs `data` grouped by subject, as a store gives it."""
        if self.entities and not self.lines:
            from kg.jsonld import stream

            yield from stream(data)
            return
        if self.lines:
            from kg.jsonld import stream_lines

            yield from stream_lines(data)
            return
        rest: Iterator[Any] = iter(data)  # triples or quads, as given
        size = chunk or STREAM_CHUNK
        pieces: Iterator[list[Any]] = iter(lambda: list(itertools.islice(rest, size)), [])
        first = next(pieces, [])
        text = self.serialize(first)
        if self.name != "rdfxml" or not first:
            yield text
            for piece in pieces:  # Turtle and TriG: each piece starts with the same prefixes; said once is enough
                more = self.serialize(piece)
                while more.startswith(b"@prefix "):
                    more = more[more.index(b"\n") + 1:]
                yield more
            return
        # RDF/XML has one root element: each piece's own prolog and root (declaring the same prefixes) are cut
        yield _unclosed(text)
        for piece in pieces:
            more = self.serialize(piece)
            yield _unclosed(more[more.index(b">", more.index(b"<rdf:RDF")) + 1:])
        yield b"</rdf:RDF>\n"


def _unclosed(rdfxml: bytes) -> bytes:
    return rdfxml.removesuffix(b"\n").removesuffix(b"</rdf:RDF>")


FORMATS: tuple[Format, ...] = (
    Format("turtle", RdfFormat.TURTLE, "turtle", ("application/x-turtle", "text/n3")),  # Turtle is N3 (rdflib's
    # format="n3" asks for it so)
    Format("jsonld", RdfFormat.JSON_LD, "json-ld", ("application/json",), triples_only=True),
    Format("jsonl", RdfFormat.JSON_LD, "json-ld", ("application/x-ndjson", "application/jsonlines",
                                                   "application/x-jsonlines"), triples_only=True, lines=True),
    Format("ntriples", RdfFormat.N_TRIPLES, "nt", ("text/plain",)),
    Format("rdfxml", RdfFormat.RDF_XML, "xml", ("application/xml", "text/xml")),
    Format("trig", RdfFormat.TRIG, "trig"),
    Format("nquads", RdfFormat.N_QUADS, "nquads"),
)


@dataclass(frozen=True)
class ResultFormat:
    """One SPARQL results serialisation (SELECT / ASK): kg's short name and label for one of pyoxigraph's."""

    name: str
    label: str
    oxigraph: QueryResultsFormat
    also: tuple[str, ...] = ()  # media types clients ask for it by besides its own

    @property
    def media_type(self) -> str:
        return self.oxigraph.media_type.split(";", 1)[0]  # the charset is said where the body is sent

    @property
    def media_types(self) -> tuple[str, ...]:
        """Every media type it answers to, its own first."""
        return (self.media_type, *self.also)

    @property
    def extension(self) -> str:
        return self.oxigraph.file_extension


RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "SPARQL JSON", QueryResultsFormat.JSON, ("application/json",)),
    ResultFormat("xml", "SPARQL XML", QueryResultsFormat.XML, ("application/xml", "text/xml")),
    ResultFormat("csv", "CSV", QueryResultsFormat.CSV),
    ResultFormat("tsv", "TSV", QueryResultsFormat.TSV),
)


def by_name(name: str) -> Format | None:
    """The RDF format with this short name or extension (case-insensitive)."""
    name = name.lower()
    return next((f for f in FORMATS if name in (f.name, f.extension)), None)


def named(name: str) -> Format:
    """The RDF format with this short name; KeyError if there is none."""
    found = by_name(name)
    if found is None:
        raise KeyError(name)
    return found


def by_media_type(media_type: str) -> Format | None:
    """The RDF format served under this media type."""
    media_type = media_type.lower()
    return next((f for f in FORMATS if media_type in f.media_types), None)


# What SPARQL clients send as format=, output= or results= (SPARQLWrapper sends all three; Fuseki and Virtuoso read
# them), beyond kg's own names, extensions and media types: for a graph (CONSTRUCT, DESCRIBE) and for a table.
CLIENT_GRAPH_NAMES: dict[str, str] = {"json-ld": "jsonld", "json": "jsonld", "rdf+xml": "rdfxml", "rdf": "rdfxml",
                                      "xml": "rdfxml", "n3": "turtle", "text/n3": "turtle", "n-triples": "ntriples",
                                      "ld+json": "jsonld"}
CLIENT_RESULT_NAMES: dict[str, str] = {"sparql-results+json": "json", "sparql-results+xml": "xml",
                                       "srj": "json", "srx": "xml", "text": "tsv"}


def client_format(name: str, graph: bool) -> str | None:
    """kg's name of the format a client names (json-ld, rdf+xml, n3, a media type...), for a graph result or for a
    table; None when the name is unknown (the client's Accept then decides)."""
    name = name.strip().lower()
    if graph:
        found: Format | ResultFormat | None = by_name(name) or by_media_type(name.split(";", 1)[0].strip())
        return found.name if found is not None else CLIENT_GRAPH_NAMES.get(name)
    found = result_by_name(name) or next((f for f in RESULT_FORMATS if name.split(";", 1)[0].strip() in
                                          f.media_types), None)
    return found.name if found is not None else CLIENT_RESULT_NAMES.get(name)


def known(name: str) -> bool:
    """Whether a client names a format kg knows, for a table, a graph or a dataset (see `client_format`)."""
    return bool(client_format(name, False) or client_format(name, True) or by_name(name.strip())
                or by_media_type(name.split(";", 1)[0].strip()))


def result_by_name(name: str) -> ResultFormat | None:
    """The SPARQL results format with this short name or extension."""
    name = name.lower()
    return next((f for f in RESULT_FORMATS if name in (f.name, f.extension)), None)
