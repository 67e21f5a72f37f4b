"""THE table of RDF and SPARQL result formats, shared by the CLI, the release dumps and content negotiation."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from pyoxigraph import QueryResultsFormat, RdfFormat

from kg.vocab import PREFIXES

STREAM_CHUNK = 20_000  # statements serialised at a time when a document is streamed


@dataclass(frozen=True)
class Format:
    """One RDF serialisation: its short name, media types (first is canonical) and file extension."""

    name: str
    label: str
    media_types: tuple[str, ...]
    extension: str
    oxigraph: RdfFormat
    rdflib: str
    datasets: bool  # carries named graphs (provenance)

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    def serialize(self, data: Iterable[ox.Triple] | Iterable[ox.Quad]) -> bytes:
        """The bytes of `data` in this format (compact JSON-LD for JSON-LD; the store's writers otherwise)."""
        if self.name == "jsonld":
            from kg.jsonld import dumps

            return dumps(data)
        if not self.datasets:
            data = (ox.Triple(t.subject, t.predicate, t.object) for t in data)
        return ox.serialize(data, format=self.oxigraph, prefixes=PREFIXES) or b""

    def stream(self, data: Iterable[ox.Triple] | Iterable[ox.Quad], chunk: int | None = None) -> Iterator[bytes]:
        """The serialisation of `data` in pieces that together are one document, for graphs too large to hold at
        once; JSON-LD needs `data` grouped by subject, as a store gives it."""
        if self.name == "jsonld":
            from kg.jsonld import stream

            yield from stream(data)
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
    Format("turtle", "Turtle", ("text/turtle", "application/x-turtle"), "ttl", RdfFormat.TURTLE, "turtle", False),
    Format("jsonld", "JSON-LD", ("application/ld+json", "application/json"), "jsonld", RdfFormat.JSON_LD, "json-ld",
           False),
    Format("ntriples", "N-Triples", ("application/n-triples", "text/plain"), "nt", RdfFormat.N_TRIPLES, "nt", False),
    Format("rdfxml", "RDF/XML", ("application/rdf+xml", "application/xml"), "rdf", RdfFormat.RDF_XML, "xml", False),
    Format("trig", "TriG", ("application/trig",), "trig", RdfFormat.TRIG, "trig", True),
    Format("nquads", "N-Quads", ("application/n-quads",), "nq", RdfFormat.N_QUADS, "nquads", True),
)


@dataclass(frozen=True)
class ResultFormat:
    """One SPARQL results serialisation (SELECT / ASK)."""

    name: str
    label: str
    media_types: tuple[str, ...]
    extension: str
    oxigraph: QueryResultsFormat

    @property
    def media_type(self) -> str:
        return self.media_types[0]


RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "SPARQL JSON", ("application/sparql-results+json", "application/json"), "srj",
                 QueryResultsFormat.JSON),
    ResultFormat("xml", "SPARQL XML", ("application/sparql-results+xml", "application/xml", "text/xml"), "srx",
                 QueryResultsFormat.XML),
    ResultFormat("csv", "CSV", ("text/csv",), "csv", QueryResultsFormat.CSV),
    ResultFormat("tsv", "TSV", ("text/tab-separated-values",), "tsv", QueryResultsFormat.TSV),
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


def result_by_name(name: str) -> ResultFormat | None:
    """The SPARQL results format with this short name or extension."""
    name = name.lower()
    return next((f for f in RESULT_FORMATS if name in (f.name, f.extension)), None)
