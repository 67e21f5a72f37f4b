"""SPARQL SELECT results written row by row, so a result can be capped at a limit and say so."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.vocab import XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None
_XML_TEXT = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;", '"': "&quot;"}


def _x(text: str) -> str:
    return escape(text, _XML_TEXT)


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):  # a triple term (SPARQL 1.2): its parts, as Oxigraph writes it
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_x(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_x(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{_x(term.value)}</literal>"
        if term.datatype.value != XSD + "string":
            return f"<literal datatype={quoteattr(term.datatype.value)}>{_x(term.value)}</literal>"
        return f"<literal>{_x(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"not an RDF term: {term!r}")


_SHORT = {  # literals TSV may write as bare Turtle numbers and booleans, when their form is Turtle's
    XSD + "integer": re.compile(r"[+-]?\d+"),
    XSD + "decimal": re.compile(r"[+-]?\d*\.\d+"),
    XSD + "double": re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+"),
    XSD + "boolean": re.compile(r"true|false"),
}


def _tsv_term(term: Term) -> str:
    if isinstance(term, ox.Literal):
        short = _SHORT.get(term.datatype.value)
        if short is not None and short.fullmatch(term.value):
            return term.value
    if isinstance(term, ox.Triple):  # SPARQL 1.2's triple term syntax
        return f"<<( {_tsv_term(term.subject)} {_tsv_term(term.predicate)} {_tsv_term(term.object)} )>>"
    return str(term)


def write(fmt: str, variables: list[str], rows: Iterable[list[Term]]) -> bytes:
    """Serialize solutions in one of the SPARQL result formats: json, xml, csv or tsv."""
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False).encode("utf-8")
    if fmt == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                    for v, t in zip(variables, row, strict=True) if t is not None]
            out.append("</result>")
        out.append("</results></sparql>")
        return "".join(out).encode("utf-8")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            # a blank node as _:label (SPARQL 1.1 CSV and TSV section 3.2), other terms by their value
            writer.writerow(["" if t is None else str(t) if isinstance(t, ox.Triple | ox.BlankNode) else t.value
                             for t in row])
        return buffer.getvalue().encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join("" if t is None else _tsv_term(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt!r}")
