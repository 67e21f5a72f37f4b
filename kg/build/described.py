"""Films and people that only an RDF file of data/ describes, as records for the duplicate search (never mapped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.build.decisions import Merge, Ref
from kg.build.sources import RdfFile
from kg.ids import PATHS, Minter, is_key
from kg.model import KINDS, Claim, Field, LangText, Origin, Record, Value

COMPARED = ("movie", "person")  # the kinds the duplicate search compares


def _year(term: ox.Literal) -> int | None:
    head = term.value[:4]
    return int(head) if len(term.value) >= 4 and head.isdigit() else None


def _date(term: ox.Literal) -> dt.date | int | None:
    if term.datatype.value == vocab.XSD + "date":
        try:
            return dt.date.fromisoformat(term.value)
        except ValueError:
            return None
    return _year(term)


# by value type: what a statement's object is as a field's value (None: not one the search reads)
_VALUES: dict[str, Callable[[ox.Literal], Any]] = {
    "name": lambda t: LangText(t.value, t.language),
    "ltext": lambda t: LangText(t.value, t.language),
    "year": _year,
    "date": _date,  # (a year alone too: the search reads the years a record is given)
    "date_or_year": _date,
}
_FIELDS = {kind: {f.predicate: f for f in KINDS[kind].fields if f.predicate and not f.vtype.startswith(("cast",
                                                                                                        "crew"))}
           for kind in COMPARED}


def _key(minter: Minter, iri: str, kind: str | None = None) -> tuple[str, str] | None:
    """The kind and key of an IRI minted under the base for a record of a kind compared (of `kind`, when given)."""
    found = minter.kind_of(iri)
    if found not in COMPARED or (kind is not None and found != kind):
        return None
    key = iri[len(minter.base) + len(PATHS[found]) + 1:]
    return (found, key) if is_key(key) else None


def _value(minter: Minter, f: Field, term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
           retired: Mapping[Ref, Merge]) -> Any:
    if f.vtype == "url":
        return term.value if isinstance(term, ox.NamedNode) else None
    if f.vtype == "ref":
        found = _key(minter, term.value, f.ref) if isinstance(term, ox.NamedNode) and f.ref else None
        return (retired[found].kept[1] if found in retired else found[1]) if found else None  # a key merged: its own
    make = _VALUES.get(f.vtype)
    return make(term) if make is not None and isinstance(term, ox.Literal) else None


def described(rdf: Iterable[RdfFile], base: str, records: Iterable[Record],
              retired: Mapping[Ref, Merge]) -> list[Record]:
    """A record for each film and person an RDF file states a name of at an IRI minted under the base, where no
    record is (nor one `retired`: merged or renamed, it stands for the record it became): each file's statements
    as one claim of its source."""
    minter = Minter(base)
    known = {(r.kind, r.key) for r in records} | set(retired)
    found: dict[tuple[str, str], dict[str, list[Value]]] = {}
    origins: dict[tuple[str, str], Origin] = {}
    for file in rdf:
        first: dict[str, int] = {}  # by subject, the line its first statement ends on (as validation names it)
        for line, q in file.lined():  # (what a TriG file says in a named graph of its own is said there, not of a
            # record)
            if not isinstance(q.graph_name, ox.DefaultGraph):
                continue
            line = first.setdefault(q.subject.value, line)
            ref = _key(minter, q.subject.value) if isinstance(q.subject, ox.NamedNode) else None
            f = _FIELDS[ref[0]].get(q.predicate.value) if ref is not None and ref not in known else None
            if ref is None or f is None or (value := _value(minter, f, q.object, retired)) is None:
                continue
            origins.setdefault(ref, Origin(file.display, line, ref[1]))  # (line 0: of a JSON-LD file)
            found.setdefault(ref, {}).setdefault(file.key, []).append(
                Value(f.name, value, Origin(file.display, line, ref[1], f.name)))
    out = []
    for (kind, key), claims in sorted(found.items()):
        if any(v.field == "name" for values in claims.values() for v in values):
            out.append(Record(kind, key, tuple(Claim(source, tuple(values), origins[(kind, key)])
                                               for source, values in claims.items()), origins[(kind, key)]))
    return out
