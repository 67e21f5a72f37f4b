"""Records -> quads (subject, predicate, object, graph = the source document that said it)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from . import vocab
from .ids import Minter
from .model import EDITORIAL, KINDS, SINGLE_VALUED, CastEntry, Claim, Field, LangText, Money, Origin, Record, Value
from .progress import bar
from .vocab import K, S

Term = NamedNode | Literal


@dataclass(frozen=True)
class Conflict:
    """Sources that disagree on a single-valued property of one entity."""

    subject: str
    predicate: str
    values: dict[str, tuple[str, ...]]  # object's lexical value -> source graph IRIs
    origin: Origin | None

    def describe(self) -> str:
        """One line for a curator."""
        said = "; ".join(f"{obj!r} according to {', '.join(g.rsplit('/', 1)[-1] for g in graphs)}"
                         for obj, graphs in self.values.items())
        return f"{self.subject} {self.predicate.rsplit('/', 1)[-1].rsplit('#', 1)[-1]}: {said}"


@dataclass
class Mapped:
    """The quads of a build, and where each subject and statement came from."""

    quads: list[Quad] = field(default_factory=list)
    subjects: dict[str, Origin] = field(default_factory=dict)
    statements: dict[tuple[str, str], list[Origin]] = field(default_factory=lambda: defaultdict(list))
    conflicts: list[Conflict] = field(default_factory=list)

    def origin_of(self, subject: str, predicate: str | None = None) -> Origin | None:
        """Where a statement (or else its subject) was written, if known."""
        if predicate is not None:
            found = self.statements.get((subject, predicate))
            if found:
                return found[0]
        return self.subjects.get(subject)


def _lit(value: LangText) -> Literal:
    # the store keeps language tags in lower case (RDF compares them case-insensitively); so does every output
    return Literal(value.text, language=value.lang.lower()) if value.lang else Literal(value.text)


def _date_lit(value: dt.date | int) -> Literal:
    if isinstance(value, int):
        return Literal(f"{value:04d}", datatype=vocab.XSD_GYEAR)
    return Literal(value.isoformat(), datatype=vocab.XSD_DATE)


def _decimal(value: Decimal) -> Literal:
    text = format(value.normalize(), "f")
    return Literal(text, datatype=vocab.XSD_DECIMAL)


_DURATION_PARTS = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def canonical_duration(text: str) -> str:
    """The canonical lexical form the store keeps (e.g. PT109M -> PT1H49M), so every output agrees."""
    match = _DURATION_PARTS.match(text)
    if not match:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    y, mo, d, h, mi, sec = match.groups()
    months = int(y or 0) * 12 + int(mo or 0)
    seconds = ((int(d or 0) * 24 + int(h or 0)) * 60 + int(mi or 0)) * 60 + Decimal(sec or 0)
    years, months = divmod(months, 12)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    date = (f"{years}Y" if years else "") + (f"{months}M" if months else "") + (f"{int(days)}D" if days else "")
    secs_text = format(secs.normalize(), "f") if secs else ""
    time = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "") + (
        f"{secs_text}S" if secs_text else "")
    if not date and not time:
        return "PT0S"
    return "P" + date + (("T" + time) if time else "")


# vtype -> function(value, minter, field) -> object term; the special vtypes are handled in _Mapper.
OBJECTS: dict[str, Callable[[Any, Minter, Field], Term]] = {
    "text": lambda v, m, f: Literal(v),
    "ltext": lambda v, m, f: _lit(v),
    "lang": lambda v, m, f: Literal(v),
    "date": lambda v, m, f: _date_lit(v),
    "year": lambda v, m, f: _date_lit(v),
    "date_or_year": lambda v, m, f: _date_lit(v),
    "minutes": lambda v, m, f: Literal(canonical_duration(f"PT{v}M"), datatype=vocab.XSD_DURATION),
    "duration": lambda v, m, f: Literal(canonical_duration(v), datatype=vocab.XSD_DURATION),
    "int": lambda v, m, f: Literal(str(v), datatype=vocab.XSD_INTEGER),
    "bool": lambda v, m, f: Literal("true" if v else "false", datatype=vocab.XSD_BOOLEAN),
    "url": lambda v, m, f: NamedNode(v),
    "ref": lambda v, m, f: m.entity(f.ref or "", v),
}


class _Mapper:
    def __init__(self, minter: Minter, out: Mapped) -> None:
        self.m = minter
        self.out = out

    def graph(self, claim: Claim) -> NamedNode:
        return self.m.editorial() if claim.source == EDITORIAL else self.m.entity("source", claim.source)

    def emit(self, s: NamedNode, p: NamedNode, o: Term, g: NamedNode, origin: Origin | None) -> None:
        self.out.quads.append(Quad(s, p, o, g))
        if origin is not None:
            self.out.statements[(s.value, p.value)].append(origin)

    def record(self, record: Record) -> None:
        kind = KINDS[record.kind]
        subject = self.m.entity(record.kind, record.key)
        self.out.subjects[subject.value] = record.origin
        editorial = self.m.editorial()
        chosen = [v.value for v in record.values("type")] or ([kind.default_type] if kind.default_type else [])
        types = list(kind.types) + [vocab.SCHEMA + t for t in chosen]
        for t in types:
            self.emit(subject, vocab.TYPE, NamedNode(t), editorial, record.origin)
        preferred = next((v.value for v in record.claims[0].values if v.field == "name"), None)
        for claim in record.claims:
            g = self.graph(claim)
            for value in claim.values:
                f = kind.field(value.field)
                assert f is not None
                self.value(subject, f, value, g, preferred)

    def value(self, subject: NamedNode, f: Field, value: Value, g: NamedNode, preferred: LangText | None) -> None:
        origin = value.origin
        if f.vtype == "type":
            return
        if f.vtype == "name":
            p = S.name if value.value == preferred else S.alternateName
            self.emit(subject, p, _lit(value.value), g, origin)
            return
        if f.vtype == "cast":
            self.cast(subject, value.value, g, origin)
            return
        if f.vtype == "money":
            self.money(subject, NamedNode(f.predicate or ""), value.value, g, origin)
            return
        obj = OBJECTS[f.vtype](value.value, self.m, f)
        if f.predicate:
            self.emit(subject, NamedNode(f.predicate), obj, g, origin)
        if f.inverse and isinstance(obj, NamedNode):
            self.emit(obj, NamedNode(f.inverse), subject, g, origin)

    def cast(self, movie: NamedNode, entry: CastEntry, g: NamedNode, origin: Origin) -> None:
        role = self.m.part(movie, f"cast-{entry.actor}" + (f"-{entry.character}" if entry.character else ""))
        self.out.subjects.setdefault(role.value, origin)
        self.emit(movie, S.actor, role, g, origin)
        self.emit(role, vocab.TYPE, S.PerformanceRole, g, origin)
        self.emit(role, S.actor, self.m.entity("person", entry.actor), g, origin)
        if entry.character_name:
            self.emit(role, S.characterName, _lit(entry.character_name), g, origin)
        if entry.character:
            self.emit(movie, S.character, self.m.entity("character", entry.character), g, origin)

    def money(self, subject: NamedNode, p: NamedNode, money: Money, g: NamedNode, origin: Origin) -> None:
        node = self.m.part(subject, p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        self.out.subjects.setdefault(node.value, origin)
        self.emit(subject, p, node, g, origin)
        self.emit(node, vocab.TYPE, S.MonetaryAmount, g, origin)
        self.emit(node, S.value, _decimal(money.amount), g, origin)
        self.emit(node, S.currency, Literal(money.currency), g, origin)


def editorial_quads(minter: Minter) -> Iterator[Quad]:
    """The editorial pseudo-source describes itself like any source document."""
    g = ed = minter.editorial()
    yield Quad(ed, vocab.TYPE, vocab.P.Entity, g)
    yield Quad(ed, vocab.TYPE, S.CreativeWork, g)
    yield Quad(ed, S.name, Literal("kg editorial decisions"), g)
    yield Quad(ed, S.description, Literal("What the curators decided: preferred names, record types and identities, "
                                          "and where the sources disagree."), g)


def vocabulary_quads(minter: Minter) -> Iterator[Quad]:
    """The declaration of the project vocabulary (labels, comments, parents)."""
    g = minter.vocabulary_graph()
    v = vocab.VOCAB_IRI
    yield Quad(v, vocab.TYPE, vocab.OWL_ONTOLOGY, g)
    yield Quad(v, vocab.LABEL, Literal("kg film vocabulary", language="en"), g)
    yield Quad(v, vocab.COMMENT, Literal("Terms for film facts that schema.org has no term for.", language="en"), g)
    for term in vocab.TERMS:
        is_class = term.kind == "class"
        yield Quad(term.iri, vocab.TYPE, vocab.RDFS_CLASS if is_class else vocab.RDF_PROPERTY, g)
        yield Quad(term.iri, vocab.LABEL, Literal(term.label, language="en"), g)
        yield Quad(term.iri, vocab.COMMENT, Literal(term.comment, language="en"), g)
        yield Quad(term.iri, vocab.IS_DEFINED_BY, v, g)
        if term.parent:
            yield Quad(term.iri, vocab.SUBCLASS if is_class else vocab.SUBPROPERTY, NamedNode(term.parent), g)


def _find_conflicts(out: Mapped, minter: Minter) -> None:
    editorial = minter.editorial()
    seen: dict[tuple[str, str], dict[str, tuple[Term, set[str]]]] = defaultdict(dict)
    for q in out.quads:
        if q.predicate.value in SINGLE_VALUED and q.graph_name != editorial:
            obj: Term = q.object  # type: ignore[assignment]
            entry = seen[(q.subject.value, q.predicate.value)].setdefault(str(obj), (obj, set()))
            entry[1].add(str(q.graph_name.value))
    for (s, p), values in sorted(seen.items()):
        if len(values) < 2:
            continue
        said = {t.value: tuple(sorted(gs)) for _, (t, gs) in sorted(values.items())}
        conflict = Conflict(s, p, said, out.origin_of(s, p))
        out.conflicts.append(conflict)
        node = minter.part(NamedNode(s), "conflict-" + p.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        out.subjects.setdefault(node.value, conflict.origin)  # type: ignore[arg-type]
        out.quads.append(Quad(node, vocab.TYPE, K.Conflict, editorial))
        out.quads.append(Quad(node, K.conflictSubject, NamedNode(s), editorial))
        out.quads.append(Quad(node, K.conflictProperty, NamedNode(p), editorial))
        out.quads.append(Quad(node, vocab.COMMENT, Literal("Sources disagree: " + conflict.describe(), language="en"),
                              editorial))
        for term, _ in values.values():
            out.quads.append(Quad(node, K.conflictValue, term, editorial))


def map_records(records: Iterable[Record], minter: Minter) -> Mapped:
    """Map records to quads, deduplicated and in a stable order, with conflicts found and recorded."""
    out = Mapped()
    mapper = _Mapper(minter, out)
    records = list(records)
    for record in bar(records, len(records), "map", "records"):
        mapper.record(record)
    out.quads.extend(vocabulary_quads(minter))
    out.quads.extend(editorial_quads(minter))
    _find_conflicts(out, minter)
    out.quads = sorted(set(out.quads), key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate),
                                                      str(q.object)))
    return out
