"""Literals of RDF source files in the datatypes kg's own records give the same properties: schema.org markup writes
a date as "2021-03-11" typed schema:Date (its context says so) or untyped, a running time as a plain "PT1H41M", a
rating as a JSON number or a string; read as kg's xsd:date, xsd:duration and xsd:decimal, they are checked and
compared as a record's values are. schema.org's terms written with https are read in its http namespace."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pyoxigraph as ox

from kg.literals import Duration
from kg.vocab import SCHEMA, XSD

_S = SCHEMA
_PLAIN = XSD + "string"
_LARGEST = 30  # the largest power of ten a figure read as a decimal may have (a rating, an amount)
_NUMBERS = frozenset({XSD + "integer", XSD + "double", XSD + "float", XSD + "decimal", _S + "Number"})


def _date(text: str) -> str | None:
    """The xsd datatype of a date as markup writes it (a year, a month, a day, a day and time); None if it is none."""
    try:
        if re.fullmatch(r"[0-9]{4}", text):
            return XSD + "gYear"
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
            dt.date.fromisoformat(text + "-01")
            return XSD + "gYearMonth"
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            dt.date.fromisoformat(text)
            return XSD + "date"
        # (xsd:dateTime has its seconds: '2024-03-11T20:00' is left as written, for the shapes to tell)
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?",
                        text):
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return XSD + "dateTime"
    except ValueError:  # (2021-02-30: left as written, for the shapes to say what is wrong)
        return None
    return None


def _dated(literal: ox.Literal) -> ox.Literal | None:
    if literal.datatype.value not in (_PLAIN, _S + "Date", _S + "DateTime"):
        return None
    found = _date(literal.value.strip())
    return ox.Literal(literal.value.strip(), datatype=ox.NamedNode(found)) if found else None


def _timed(literal: ox.Literal) -> ox.Literal | None:
    text = literal.value.strip()
    if literal.datatype.value not in (_PLAIN, _S + "Duration") or Duration.parse(text) is None:
        return None
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "duration"))


def _figure(literal: ox.Literal, written: frozenset[str]) -> ox.Literal | None:
    if literal.datatype.value not in written:
        return None
    try:
        number = Decimal(literal.value.strip())
        if not number.is_finite() or abs(number.adjusted()) > _LARGEST:
            return None  # (1e1000000: no figure a rating or an amount has, and a million digits written out)
        return ox.Literal(format(number.normalize(), "f"), datatype=ox.NamedNode(XSD + "decimal"))
    except ArithmeticError:  # (InvalidOperation: not a number)
        return None


def _count(literal: ox.Literal) -> ox.Literal | None:
    found = _figure(literal, frozenset({_PLAIN, _S + "Number", XSD + "double", XSD + "float", XSD + "decimal"}))
    if found is None or "." in found.value or found.value.startswith("-"):
        return None
    return ox.Literal(found.value, datatype=ox.NamedNode(XSD + "integer"))


# by property: how its literals are read (None: as written)
_READ: dict[str, Callable[[ox.Literal], ox.Literal | None]] = {
    **{_S + p: _dated for p in ("datePublished", "dateCreated", "birthDate", "deathDate", "startDate", "endDate",
                                "foundingDate", "dissolutionDate", "dateModified", "uploadDate")},
    **{_S + p: _timed for p in ("duration", "timeRequired")},
    # a rating's figures, written as numbers or strings; an amount's, as numbers only (a PropertyValue's value
    # may be a code such as "00123")
    **{_S + p: (lambda lit: _figure(lit, _NUMBERS | {_PLAIN})) for p in ("ratingValue", "bestRating", "worstRating")},
    _S + "value": lambda lit: _figure(lit, _NUMBERS),
    **{_S + p: _count for p in ("ratingCount", "reviewCount")},
}


_HTTPS = "https://schema.org/"  # schema.org's terms written with https: the same terms (schema.org says so)


def _http(term: ox.NamedNode) -> ox.NamedNode:
    return ox.NamedNode(SCHEMA + term.value[len(_HTTPS):]) if term.value.startswith(_HTTPS) else term


def typed(quad: ox.Quad) -> ox.Quad:
    """The quad, its literal in kg's datatype for the property when markup wrote it otherwise, and schema.org's
    terms written `https://schema.org/...` in the namespace kg publishes them in (`http://schema.org/`, schema.org's
    own RDF's), as one vocabulary."""
    obj = quad.object
    if _HTTPS in quad.predicate.value or (isinstance(obj, ox.NamedNode) and _HTTPS in obj.value) or (
            isinstance(quad.subject, ox.NamedNode) and _HTTPS in quad.subject.value) or (
            isinstance(obj, ox.Literal) and _HTTPS in obj.datatype.value):
        if isinstance(obj, ox.NamedNode):
            obj = _http(obj)
        elif isinstance(obj, ox.Literal) and obj.datatype.value.startswith(_HTTPS):  # "2021-03-11"^^schema:Date
            obj = ox.Literal(obj.value, datatype=_http(obj.datatype))
        quad = ox.Quad(_http(quad.subject) if isinstance(quad.subject, ox.NamedNode) else quad.subject,
                       _http(quad.predicate), obj, quad.graph_name)
    read = _READ.get(quad.predicate.value)
    if read is None or not isinstance(quad.object, ox.Literal) or quad.object.language:
        return quad
    found = read(quad.object)
    return quad if found is None or found == quad.object else ox.Quad(quad.subject, quad.predicate, found,
                                                                      quad.graph_name)
