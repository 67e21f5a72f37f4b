"""Records -> quads (subject, predicate, object, graph = the source document that said it)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Store

from kg import vocab
from kg.build.decisions import Merge, Prefer
from kg.ids import Minter, slugify
from kg.literals import Duration, finest_date
from kg.model import (
    EDITORIAL,
    KINDS,
    PART_PREDICATES,
    SINGLE_VALUED,
    CastEntry,
    Claim,
    CrewEntry,
    Field,
    LangText,
    Money,
    Origin,
    Rating,
    Record,
    Value,
)
from kg.progress import bar
from kg.text import quote
from kg.vocab import K, S

Term = NamedNode | Literal
OWL_SAME_AS = vocab.OWL_SAME_AS


_TIMES = frozenset({S.duration.value, K.storyDuration.value})  # running times: told in minutes too


@dataclass(frozen=True)
class Conflict:
    """Sources that disagree on a single-valued property of one entity."""

    subject: str
    predicate: str
    values: dict[str, tuple[str, ...]]  # object's lexical value (and datatype, if two share it) -> source graph IRIs
    origin: Origin | None
    terms: tuple[Term, ...] = ()
    preferred: Term | None = None  # the value curators chose, if they did
    decided: str | None = None  # where they did: their prefer decision, or their own top-level value
    decided_in: str | None = None  # the file of their prefer decision (the published statement names no line)
    rows: dict[str, Origin] = field(default_factory=dict)  # a bulk record's: the row giving a value (as shown) first

    @property
    def settled(self) -> bool:
        """Whether curators chose a value."""
        return self.preferred is not None

    def graphs_of(self, term: Term) -> tuple[str, ...]:
        """The graphs that give one of the values (`values` is keyed as shown: two written alike, by datatype too)."""
        return next((graphs for t, graphs in zip(self.terms, self.values.values(), strict=False) if t == term), ())

    def _said(self, value: str, published: bool = False) -> str:
        """A value as the conflict quotes it: a running time with its minutes, as a curator wrote it (PT1H48M, 108);
        for a curator (not `published`), at the row that gives it where rows of one record disagree."""
        took = Duration.parse(value) if self.predicate in _TIMES else None
        minutes = took.hours * 60 + took.minutes if took is not None else 0
        shown = f" ({minutes} min)" if took and minutes and not (took.years or took.months or took.days) else ""
        row = self.rows.get(value) if not published else None
        return quote(value) + shown + (f" at {row.where}" if row is not None else "")

    def describe(self, published: bool = False) -> str:
        """One line for a curator; `published`, for the graph: where a decision is, by its file alone (a line
        added above it is no change to the data)."""
        prop = self.predicate.rsplit('/', 1)[-1].rsplit('#', 1)[-1]
        sources = {g for graphs in self.values.values() for g in graphs}
        if len(sources) == 1:  # not sources disagreeing: one source giving several values
            return (f"{self.subject} {prop}: {' and '.join(self._said(v, published) for v in self.values)}, all "
                    f"according to {next(iter(sources)).rsplit('/', 1)[-1]}")
        said = "; ".join(f"{self._said(obj, published)} according to {', '.join(g.rsplit('/', 1)[-1] for g in graphs)}"
                         for obj, graphs in self.values.items())
        decided = f"as decided in {self.decided_in}" if published and self.decided_in else self.decided
        settled = f" (settled: {quote(self.preferred.value)} preferred, {decided})" if self.preferred else ""
        return f"{self.subject} {prop}: {said}{settled}"


_NT_LITERAL = re.compile(r'"([^"\\]*)"(?:\^\^<[^>]*>|@[A-Za-z0-9-]+)?')  # an unescaped literal in N-Triples


@dataclass
class Mapped:
    """Where each subject (and, for hand-written files, each statement) came from; the quads when kept."""

    quads: list[Quad] = field(default_factory=list)
    subjects: dict[str, Origin] = field(default_factory=dict)
    statements: dict[tuple[str, str], Origin] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    # of a bulk record, where a single-valued property's value is given when not on its first row (its subject's
    # place): (subject, predicate, value as N-Triples) -> the first other row giving it
    rows: dict[tuple[str, str, str], Origin] = field(default_factory=dict)
    # an RDF file's statement on what a record also states: (subject, predicate, object's value) -> the file's place
    values: dict[tuple[str, str, str], Origin] = field(default_factory=dict)

    def origin_of(self, subject: str, predicate: str | None = None, value: str | None = None) -> Origin | None:
        """Where a statement (or else its subject) was written, if known."""
        if predicate is not None and value is not None and self.values:
            found = self.values.get((subject, predicate, value))
            if not found and (plain := _NT_LITERAL.fullmatch(value)):  # a check that quotes the value as N-Triples
                found = self.values.get((subject, predicate, plain.group(1)))
            if found:
                return found
        if predicate is not None:
            found = self.statements.get((subject, predicate))
            if found:
                return found
        return self.subjects.get(subject) or self.subjects.get(subject.split("#", 1)[0])


def _lit(value: LangText) -> Literal:
    # the store keeps language tags in lower case (RDF compares them case-insensitively); so does every output
    return Literal(value.text, language=value.lang.lower()) if value.lang else Literal(value.text)


def _date_lit(value: dt.date | int) -> Literal:
    if isinstance(value, int):
        return Literal(f"{value:04d}", datatype=vocab.XSD_GYEAR)
    return Literal(value.isoformat(), datatype=vocab.XSD_DATE)


def _decimal(value: Decimal) -> Literal:
    text = format(value.normalize(), "f") if value else "0"  # the store keeps -0 as 0: so does every output
    return Literal(text, datatype=vocab.XSD_DECIMAL)


def canonical_duration(text: str) -> str:
    """The canonical lexical form the store keeps (e.g. PT109M -> PT1H49M), so every output agrees."""
    duration = Duration.parse(text)
    if duration is None:
        raise ValueError(f"not an ISO 8601 duration: {quote(text)}")
    return duration.canonical()


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
    """Turns one record at a time into quads, noting where subjects and statements were written."""

    def __init__(self, minter: Minter, out: Mapped) -> None:
        self.m = minter
        self.out = out
        self.editorial = minter.editorial()
        self.predicates: dict[str, NamedNode] = {}
        self.track = True  # per-statement origins: for hand-written files only (bulk rows share the record's)
        self.rows = False  # a bulk record's rows giving its single-valued properties (`Mapped.rows`)
        self.first: Origin | None = None  # the record's place
        self.first_line, self.first_file = 0, ""  # (its line and file, which tell a row from the first for little)
        self.roles: dict[tuple[str, str | None], str] = {}  # the record's cast roles a source left unkeyed (`_roles`)

    def graph(self, claim: Claim) -> NamedNode:
        return self.editorial if claim.source == EDITORIAL else self.m.entity("source", claim.source)

    def predicate(self, iri: str) -> NamedNode:
        node = self.predicates.get(iri)
        if node is None:
            node = self.predicates[iri] = NamedNode(iri)
        return node

    def emit(self, s: NamedNode, p: NamedNode, o: Term, g: NamedNode, origin: Origin | None) -> Quad:
        if self.track and origin is not None:
            self.out.statements.setdefault((s.value, p.value), origin)
        elif (self.rows and origin is not None and (origin.line != self.first_line or origin.file != self.first_file)
              and p.value in SINGLE_VALUED):
            self.out.rows.setdefault((s.value, p.value, str(o)), origin)
        return Quad(s, p, o, g)

    def record(self, record: Record) -> Iterator[Quad]:
        kind = KINDS[record.kind]
        subject = self.m.entity(record.kind, record.key)
        self.out.subjects[subject.value] = record.origin
        self.track = record.detailed
        self.rows = not record.detailed
        self.first = record.origin
        self.first_line, self.first_file = (record.origin.line or 0, record.origin.file) if record.origin else (0, "")
        chosen = [v.value for v in record.values("type")] or ([kind.default_type] if kind.default_type else [])
        types = list(kind.types) + [vocab.SCHEMA + t for t in chosen]
        for t in types:
            yield self.emit(subject, vocab.TYPE, self.predicate(t), self.editorial, record.origin)
        preferred = next((v.value for v in record.claims[0].values if v.field == "name"), None)
        self.roles = _roles(record) if kind.field("cast") is not None else {}
        for claim in record.claims:
            g = self.graph(claim)
            named = {v.value for v in claim.values if v.field == "name"}
            for value in claim.values:
                if value.field == "alternate_name" and value.value in named:
                    continue  # (a column of original titles gives the title itself: not another name)
                if record.detailed and value.field == "name" and value.value != preferred and (
                        getattr(value.value, "text", value.value) == record.key) and "-" in record.key and (
                        value.origin is None or not value.origin.file.endswith((".yaml", ".yml"))):
                    continue  # (a bulk cell that named a hand-written record by its key: not another name of it)
                f = kind.field(value.field)
                assert f is not None
                yield from self.value(subject, f, value, g, preferred)

    def value(self, subject: NamedNode, f: Field, value: Value, g: NamedNode,
              preferred: LangText | None) -> Iterator[Quad]:
        origin = value.origin
        if f.vtype == "type":
            return
        if f.vtype == "name":
            p = S.name if value.value == preferred else S.alternateName
            yield self.emit(subject, p, _lit(value.value), g, origin)
        elif f.vtype == "cast":
            yield from self.cast(subject, value.value, g, origin)
        elif f.vtype == "crew":
            yield from self.crew(subject, value.value, g, origin)
        elif f.vtype == "money":
            yield from self.money(subject, self.predicate(f.predicate or ""), value.value, g, origin)
        elif f.vtype == "rating":
            yield from self.rating(subject, self.predicate(f.predicate or ""), value.value, g, origin)
        else:
            obj = OBJECTS[f.vtype](value.value, self.m, f)
            if f.predicate:
                yield self.emit(subject, self.predicate(f.predicate), obj, g, origin)
            if f.inverse and isinstance(obj, NamedNode):
                yield self.emit(obj, self.predicate(f.inverse), subject, g, origin)

    def cast(self, movie: NamedNode, entry: CastEntry, g: NamedNode, origin: Origin) -> Iterator[Quad]:
        character = entry.character or (self.roles.get((entry.actor, _folded(entry.character_name))) if self.roles
                                        else None)
        role = self.m.part(movie, f"cast-{entry.actor}" + (f"-{character}" if character else ""))
        yield self.emit(movie, S.actor, role, g, origin)
        yield self.emit(role, vocab.TYPE, S.PerformanceRole, g, origin)
        yield self.emit(role, S.actor, self.m.entity("person", entry.actor), g, origin)
        if entry.character_name:
            yield self.emit(role, S.characterName, _lit(entry.character_name), g, origin)
        if entry.billing is not None:
            yield self.emit(role, K.billing, Literal(str(entry.billing), datatype=vocab.XSD_INTEGER), g, origin)
        if entry.category:
            yield self.emit(role, K.castCategory, Literal(entry.category), g, origin)
        if entry.character:
            yield self.emit(movie, S.character, self.m.entity("character", entry.character), g, origin)

    def crew(self, movie: NamedNode, entry: CrewEntry, g: NamedNode, origin: Origin) -> Iterator[Quad]:
        role = self.m.part(movie, f"crew-{entry.person}-{slugify(entry.department) or 'crew'}")
        yield self.emit(movie, S.contributor, role, g, origin)
        yield self.emit(role, vocab.TYPE, S.Role, g, origin)
        yield self.emit(role, S.contributor, self.m.entity("person", entry.person), g, origin)
        yield self.emit(role, S.roleName, Literal(entry.department), g, origin)

    def money(self, subject: NamedNode, p: NamedNode, money: Money, g: NamedNode, origin: Origin) -> Iterator[Quad]:
        node = self.m.part(subject, p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        yield self.emit(subject, p, node, g, origin)
        yield self.emit(node, vocab.TYPE, S.MonetaryAmount, g, origin)
        yield self.emit(node, S.value, _decimal(money.amount), g, origin)
        yield self.emit(node, S.currency, Literal(money.currency), g, origin)


    def rating(self, subject: NamedNode, p: NamedNode, rating: Rating, g: NamedNode, origin: Origin
               ) -> Iterator[Quad]:
        node = self.m.part(subject, p.value.rsplit("/", 1)[-1])
        yield self.emit(subject, p, node, g, origin)
        yield self.emit(node, vocab.TYPE, S.AggregateRating if p == S.aggregateRating else S.Rating, g, origin)
        yield self.emit(node, S.ratingValue, _decimal(rating.value), g, origin)
        if rating.best is not None:
            yield self.emit(node, S.bestRating, _decimal(rating.best), g, origin)
        if rating.count is not None:
            yield self.emit(node, S.ratingCount, Literal(str(rating.count), datatype=vocab.XSD_INTEGER), g, origin)


def _folded(name: LangText | str | None) -> str | None:
    """A character's name as compared: its letters and digits, case folded (`Jun-Ho`, `jun ho` and `jun-ho` alike)."""
    text = name.text if isinstance(name, LangText) else name
    return "".join(c for c in text.casefold() if c.isalnum()) if text is not None else None


def _roles(record: Record) -> dict[tuple[str, str | None], str]:
    """(actor, character name folded, or None) -> the character key of the one role of that actor, in another
    source's claim, that names the character's record: a source that prints no character, or the name that role
    is printed with (or its key spells), means that role, not one of its own (an actor with two roles named so is
    joined only by the name one of them has)."""
    keyed: dict[str, dict[str, set[str | None]]] = {}
    unkeyed = False
    for value in record.values("cast"):
        entry: CastEntry = value.value
        if entry.character:
            keyed.setdefault(entry.actor, {}).setdefault(entry.character, set()).add(_folded(entry.character_name))
        else:
            unkeyed = True
    if not keyed or not unkeyed:
        return {}
    out: dict[tuple[str, str | None], str] = {}
    for actor, roles in keyed.items():
        if len(roles) == 1:
            out[(actor, None)] = next(iter(roles))
        by_name: dict[str, set[str]] = {}
        for character, names in roles.items():
            for name in {*names, _folded(character)} - {None}:  # or the name its key spells
                by_name.setdefault(name, set()).add(character)  # type: ignore[arg-type]
        out.update(((actor, name), next(iter(found))) for name, found in by_name.items() if len(found) == 1)
    return out


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


_CONFLICTING = """
SELECT ?s ?p ?o ?g WHERE {{
  {{ SELECT ?s ?p WHERE {{
      GRAPH ?g {{ ?s ?p ?o }} VALUES ?p {{ {predicates} }}
    }} GROUP BY ?s ?p HAVING (COUNT(DISTINCT ?o) > 1) }}
  GRAPH ?g {{ ?s ?p ?o }}
}}"""  # the curators' own value counts among those that differ: it settles them


@dataclass(frozen=True)
class Preference:
    """The source (a graph IRI: a source document's, or the editorial one) whose value curators prefer."""

    graph: str
    origin: Origin | None  # their decision; None for their own top-level value


def preferences(prefers: Iterable[Prefer], moves: dict[tuple[str, str], Merge], minter: Minter) -> dict[
        tuple[str, str], Preference]:
    """(subject IRI, predicate IRI) -> the preferred source, from the curators' `prefer` decisions."""
    found = {}
    for p in prefers:
        kind, key = moves[p.record].kept if p.record in moves else p.record
        f = KINDS[kind].field(p.field)
        assert f is not None and f.predicate is not None
        graph = minter.editorial() if p.source == EDITORIAL else minter.entity("source", p.source)
        subject = minter.entity(kind, key)
        if f.vtype in PART_PREDICATES:  # its parts' values, all the one source's (see `_Mapper.money`)
            node = minter.part(subject, f.predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]).value
            for predicate in PART_PREDICATES[f.vtype]:
                found[(node, predicate)] = Preference(graph.value, p.origin)
        else:
            found[(subject.value, f.predicate)] = Preference(graph.value, p.origin)
    return found


def _agreeing_dates(terms: list[Term]) -> bool:
    """Whether the values are dates of one calendar day, month or year told at different precisions."""
    dates = [(t.value, t.datatype.value) for t in terms if isinstance(t, Literal)]
    return len(dates) == len(terms) and finest_date(dates) is not None


def _typed_as(term: Term) -> str:
    """What a value is, beside its lexical form: its language or datatype."""
    if isinstance(term, Literal):
        return "@" + term.language if term.language else vocab.prefixed(term.datatype.value)
    return "IRI"


def find_conflicts(store: Store, minter: Minter, out: Mapped,
                   prefer: dict[tuple[str, str], Preference] | None = None) -> list[Conflict]:
    """Single-valued properties to which different sources give different values (asked of the store), each
    settled where curators prefer a source's value or gave their own at the top level of the record."""
    query = _CONFLICTING.format(predicates=" ".join(f"<{p}>" for p in sorted(SINGLE_VALUED)),
                                editorial=minter.editorial().value)
    seen: dict[tuple[str, str], dict[str, tuple[Term, set[str]]]] = defaultdict(dict)
    for row in store.query(query):
        obj: Term = row["o"]
        entry = seen[(row["s"].value, row["p"].value)].setdefault(str(obj), (obj, set()))
        entry[1].add(row["g"].value)
    conflicts = []
    editorial = minter.editorial()
    for (s, p), values in sorted(seen.items()):
        lexical = Counter(t.value for t, _ in values.values())  # (a value written alike, typed otherwise: both shown)
        said = {t.value if lexical[t.value] == 1 else f"{t.value} ({_typed_as(t)})": tuple(sorted(gs))
                for _, (t, gs) in sorted(values.items())}
        chosen, decided = None, None
        preference = (prefer or {}).get((s, p))
        decided_in = preference.origin.file if preference is not None and preference.origin is not None else None
        if preference is not None and preference.graph != editorial.value:
            chosen = next((t for _, (t, gs) in sorted(values.items()) if preference.graph in gs), None)
            decided = f"as decided at {preference.origin.where}" if preference.origin else None
        if chosen is None:  # the curators' own value, written at the top level of the record
            own = {str(q.object): q.object for q in store.quads_for_pattern(NamedNode(s), NamedNode(p), None,
                                                                             editorial)}
            if len(own) == 1:  # (two records merged, each with its own value: the curators have not chosen yet)
                chosen = next(iter(own.values()))  # type: ignore[assignment]
                decided = ("as decided at " + str(preference.origin.where) if preference and preference.origin
                           else "the curators' own value")
        if chosen is None and _agreeing_dates([t for t, _ in values.values()]):
            continue  # a year beside a day of it: one told more precisely, not sources that disagree (a choice the
            # curators made between them still holds, recorded as a settled conflict)
        later = {shown: row for (key, _), shown in zip(sorted(values.items()), said, strict=True)
                 if (row := out.rows.get((s, p, key))) is not None}
        where = next(iter(later.values()), None) or out.origin_of(s, p)  # a bulk record's: a row giving a value
        # (a value given by no later row is the record's first row's, unless a file written otherwise, RDF or YAML,
        # states the property too: then which row gives what is not known, and only the conflict is located)
        first = out.subjects.get(s) or out.subjects.get(s.split("#", 1)[0])
        rows = {shown: later.get(shown) or first for shown in said} if later and first is not None and (
            s, p) not in out.statements else {}
        conflicts.append(Conflict(s, p, said, where, tuple(t for _, (t, _) in sorted(values.items())),
                                  chosen, decided, decided_in if chosen is not None else None, rows))
    return conflicts


def conflict_quads(conflicts: Iterable[Conflict], minter: Minter) -> Iterator[Quad]:
    """Each conflict as a kgv:Conflict node in the editorial graph."""
    editorial = minter.editorial()
    for conflict in conflicts:
        s, p = conflict.subject, conflict.predicate
        doc, _, part = s.partition("#")  # a part's (a budget's amount): a node of its entity's, named after both
        node = minter.part(NamedNode(doc), "conflict-" + (f"{part}-" if part else "")
                           + p.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        yield Quad(node, vocab.TYPE, K.Conflict, editorial)
        yield Quad(node, K.conflictSubject, NamedNode(s), editorial)
        yield Quad(node, K.conflictProperty, NamedNode(p), editorial)
        yield Quad(node, vocab.COMMENT, Literal("Sources disagree: " + conflict.describe(published=True),
                                                language="en"), editorial)
        for term in conflict.terms:
            yield Quad(node, K.conflictValue, term, editorial)
        if conflict.preferred is not None:
            yield Quad(node, K.preferredValue, conflict.preferred, editorial)
            for graph in conflict.graphs_of(conflict.preferred):
                yield Quad(node, K.preferredSource, NamedNode(graph), editorial)


def identity_quads(moves: Iterable[Merge], minter: Minter) -> Iterator[Quad]:
    """Each retired IRI is the same as the one it was merged into (the server redirects it there)."""
    editorial = minter.editorial()
    for m in moves:
        yield Quad(minter.entity(*m.retired), OWL_SAME_AS, minter.entity(*m.kept), editorial)


def record_quads(records: Iterable[Record], minter: Minter, out: Mapped) -> Iterator[Quad]:
    """Every quad of the records (may repeat), noting in `out` where each subject and statement was written."""
    mapper = _Mapper(minter, out)
    for record in records:
        yield from mapper.record(record)


def stream(records: Iterable[Record], minter: Minter, out: Mapped, total: int | None = None) -> Iterator[Quad]:
    """Every quad of the records, the vocabulary and the editorial source (may repeat; the store dedupes)."""
    yield from record_quads(bar(records, total, "map", "records"), minter, out)
    yield from vocabulary_quads(minter)
    yield from editorial_quads(minter)


def map_records(records: Iterable[Record], minter: Minter) -> Mapped:
    """Map records to quads in memory, deduplicated, in a stable order, with conflicts found and recorded.

    For small graphs and tests; `kg build` streams the same quads into the store instead.
    """
    out = Mapped()
    store = Store()
    store.extend(stream(records, minter, out))
    out.conflicts = find_conflicts(store, minter, out)
    store.extend(conflict_quads(out.conflicts, minter))
    out.quads = sorted(store, key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
    return out
