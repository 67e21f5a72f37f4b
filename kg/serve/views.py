"""What an entity page shows: its facts grouped by property and source, and the entities that refer to it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.ids import Minter
from kg.serve.documents import ALT, CONFLICT_SUBJECT, HIDDEN_GRAPH_SUFFIXES, NAME, Term, document, label
from kg.serve.store import Release
from kg.serve.summaries import values_of, year

MAX_INCOMING = 500  # a page lists at most this many referring entities; SPARQL has the rest


@dataclass
class Fact:
    """One statement of the page: a property, a value and the source documents that assert it."""

    predicate: str
    value: ox.NamedNode | ox.Literal | ox.BlankNode
    sources: list[str]


@dataclass(frozen=True)
class Reference:
    """An entity that refers to the page's one: directly, or through one of its parts (a cast or crew role)."""

    iri: str  # the referring entity (the document of the part, for a part)
    predicate: str
    details: tuple[str, ...] = ()  # what the part adds: the character played, the job
    film: bool = False  # the referring entity is a film (its properties are worded as a film's)


_S = vocab.S
# the order of a page's first facts: what a film record gives first (after its title), then its credits
FILM_KEY_FACTS = tuple(p.value for p in (_S.dateCreated, _S.datePublished, _S.director, _S.countryOfOrigin,
                                          _S.duration, _S.genre, _S.inLanguage))
FILM_CREDITS = tuple(p.value for p in (_S.author, _S.producer, vocab.K.executiveProducer, vocab.K.cinematographer,
                                        _S.editor, _S.musicBy, vocab.K.lightingDirector, vocab.K.soundDesigner,
                                        _S.productionCompany, vocab.K.inAssociationWith, vocab.K.salesAgent))
KEY_FACTS = tuple(p.value for p in (_S.birthDate, _S.jobTitle, _S.worksFor, vocab.K.formerEmployer, _S.startDate,
                                    _S.endDate, _S.location, _S.superEvent, _S.publisher, _S.author,
                                    _S.datePublished, _S.dateCreated))
CAST_ROW = "cast"  # the key-facts row that stands for the cast table
_CREDIT_RANK = {p: n for n, p in enumerate(dict.fromkeys((_S.director.value, _S.actor.value, *FILM_CREDITS)))}
_NOT_FACTS = (_S.name.value, _S.alternateName.value, vocab.RDF + "type")
_FIRST_OF_THE_REST = (_S.description.value,)

GROUPED_TEXT = 60  # texts up to this long share a row with the property's other values from the same sources


@dataclass
class View:
    """Everything an entity page shows."""

    iri: str
    name: str
    types: list[str]
    facts: list[Fact]
    parts: dict[str, list[Fact]]
    variants: list[tuple[str, str | None, list[str]]]  # (text, language, sources)
    incoming: list[Reference]  # at most MAX_INCOMING
    conflicts: list[dict[str, Any]]
    labels: dict[str, str] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)  # of the entities that refer to this one, when they have one
    more_incoming: bool = False  # more entities refer to it than the page lists
    preferred: dict[str, str] = field(default_factory=dict)  # property -> the value curators chose (N-Triples form)
    citations: dict[str, str] = field(default_factory=dict)  # source -> how a reader knows it: "Variety, 14 Oct 2009"
    stated: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # a source's: (kind, [(iri, name)])
    more_stated: bool = False  # the source makes statements about more entities than `stated` lists
    preferred_name: str = ""  # the curators' name for it (the title, `name`, may be in the reader's language)

    @property
    def name_language(self) -> str | None:
        """The language of the title when it is not the preferred name (a Korean reader's 탈주)."""
        if self.name == self.preferred_name:
            return None
        return next((lang for text, lang, _ in self.variants if text == self.name and lang), None)

    @property
    def is_film(self) -> bool:
        """Whether its properties are worded as a film's (its author wrote the screenplay)."""
        return vocab.S.Movie.value in self.types

    def _roles(self, predicate: ox.NamedNode) -> list[Fact]:
        return [f for f in self.facts if f.predicate == predicate.value and isinstance(f.value, ox.NamedNode)
                and f.value.value in self.parts]

    @property
    def cast(self) -> list[Fact]:
        """The facts that link the cast roles, in billing order (the unbilled last, by role)."""
        def billing(f: Fact) -> tuple[int, str]:
            found = [int(pf.value.value) for pf in self.parts[f.value.value]
                     if pf.predicate == vocab.K.billing.value and pf.value.value.isdigit()]
            return (min(found) if found else 1 << 30, f.value.value)
        return sorted(self._roles(vocab.S.actor), key=billing)

    @property
    def crew(self) -> list[tuple[str, list[tuple[Term, list[str]]], list[str] | None]]:
        """Crew credits schema.org has no property for, by department: (department, [(person, sources)], and the
        sources when every credit of the department has the same ones)."""
        departments: dict[str, list[tuple[Term, list[str]]]] = {}
        for f in self._roles(vocab.S.contributor):
            part = {pf.predicate: pf.value for pf in self.parts[f.value.value]}
            person, job = part.get(vocab.S.contributor.value), part.get(vocab.S.roleName.value)
            if person is not None and isinstance(job, ox.Literal):
                departments.setdefault(job.value, []).append((person, f.sources))
        return [(job, people, people[0][1] if all(srcs == people[0][1] for _, srcs in people) else None)
                for job, people in sorted(departments.items(), key=lambda d: d[0].lower())]

    @property
    def image(self) -> str | None:
        """The entity's first image that its page may show (https: the page's policy loads no other images)."""
        found = sorted(f.value.value for f in self.facts if f.predicate == vocab.S.image.value
                       and isinstance(f.value, ox.NamedNode) and f.value.value.startswith("https://"))
        return found[0] if found else None

    def rows(self, facts: Iterable[Fact]) -> list[tuple[str, list[Fact]]]:
        """Facts as table rows, in order: the values of one property that the same sources state share a row
        (links and short texts; a long text, a structured value, or a value of a property the curators preferred a
        value of, which the row marks preferred or not, keeps a row of its own)."""
        rows: dict[tuple[str, tuple[str, ...]] | int, tuple[str, list[Fact]]] = {}
        for n, f in enumerate(facts):
            alone = isinstance(f.value, ox.NamedNode) and f.value.value in self.parts or \
                not isinstance(f.value, ox.NamedNode) and len(f.value.value) > GROUPED_TEXT or \
                f.predicate in self.preferred
            key: tuple[str, tuple[str, ...]] | int = n if alone else (f.predicate, tuple(f.sources))
            rows.setdefault(key, (f.predicate, []))[1].append(f)
        return list(rows.values())

    def _order(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (FILM_KEY_FACTS, FILM_CREDITS) if self.is_film else (KEY_FACTS, ())

    @property
    def key_facts(self) -> list[Fact]:
        """The facts a reader looks for first, in a curated order (a film's year, director, country, running
        time, genres, language; a person's birth date and jobs)."""
        order = self._order()[0]
        return sorted((f for f in self.facts if f.predicate in order), key=lambda f: order.index(f.predicate))

    @property
    def key_rows(self) -> list[tuple[str, list[Fact]]]:
        """The key facts as table rows; a film's cast ("cast", no facts: the page lists it) right after its
        director, as a film record gives it."""
        rows = self.rows(self.key_facts)
        if self.is_film and self.cast:
            after = max((n + 1 for n, (p, _) in enumerate(rows) if FILM_KEY_FACTS.index(p) <= 2), default=0)
            rows.insert(after, (CAST_ROW, []))
        return rows

    @property
    def credits(self) -> list[Fact]:
        """A film's crew credits that have a property of their own (screenplay, producers, music...), in order."""
        order = self._order()[1]
        return sorted((f for f in self.facts if f.predicate in order), key=lambda f: order.index(f.predicate))

    @property
    def other_facts(self) -> list[Fact]:
        """Every other fact: a description first, then by property."""
        key, credits = self._order()
        skip = {*key, *credits, *_NOT_FACTS}
        roles = {f.value.value for f in self.cast} | ({f.value.value for f in self._roles(vocab.S.contributor)}
                                                      if self.crew else set())
        rest = [f for f in self.facts if f.predicate not in skip and not (
            isinstance(f.value, ox.NamedNode) and f.value.value in roles)]
        return sorted(rest, key=lambda f: f.predicate not in _FIRST_OF_THE_REST)

    def cite(self, source: str) -> str:
        """How the page names a source where it cites one."""
        return self.citations.get(source) or self.labels.get(source) or source.rsplit("/", 1)[-1]

    @property
    def referrers(self) -> list[tuple[str, list[tuple[str, list[Reference]]]]]:
        """The referring entities in sections, the films first (a person's or a company's films), then the rest:
        each entity once with its references, by year (those without one last), then name."""
        sections: list[tuple[str, list[tuple[str, list[Reference]]]]] = []
        for title, films in (("Films", True), ("Referenced by", False)):
            groups: dict[str, list[Reference]] = {}
            for r in self.incoming:
                if r.film == films:
                    groups.setdefault(r.iri, []).append(r)
            for refs in groups.values():  # a film's credits in the order its own page gives them: director first
                refs.sort(key=lambda r: _CREDIT_RANK.get(r.predicate, len(_CREDIT_RANK)))
            if groups:
                sections.append((title, sorted(groups.items(), key=lambda g: (
                    self.years.get(g[0], "~"), self.labels.get(g[0], g[0]).lower(), g[0]))))
        return sections


def _facts(quads: list[ox.Quad], subject: str, hidden: tuple[str, ...] = HIDDEN_GRAPH_SUFFIXES) -> list[Fact]:
    grouped: dict[tuple[str, str], tuple[ox.NamedNode | ox.Literal | ox.BlankNode, list[str]]] = {}
    for q in quads:
        if q.subject.value != subject or q.graph_name.value.endswith(hidden):
            continue
        key = (q.predicate.value, str(q.object))
        entry = grouped.setdefault(key, (q.object, []))  # type: ignore[arg-type]
        entry[1].append(q.graph_name.value)
    return [Fact(p, value, sorted(sources)) for (p, _), (value, sources) in sorted(grouped.items())]


def view(release: Release, iri: str, lang: str = "en", readers: tuple[str, ...] = ()) -> View | None:
    """The entity page for `iri`, or None when the release has no such entity."""
    quads = document(release, iri)
    if not quads:
        return None
    editorial = Minter(str(release.meta.get("base_iri") or "")).editorial().value
    # the release's and the vocabulary's graphs say nothing of the entities; of a release, a term, they are all
    facts = _decided(_facts(quads, iri) or _facts(quads, iri, ()), editorial)
    part_iris = sorted({q.subject.value for q in quads if q.subject.value != iri})
    parts = {p: _decided(_facts(quads, p), editorial) for p in part_iris}
    types = sorted({f.value.value for f in facts if f.predicate == vocab.RDF + "type"})
    variants = [(f.value.value, getattr(f.value, "language", None), f.sources) for f in facts
                if f.predicate in (NAME.value, ALT.value) and isinstance(f.value, ox.Literal)]
    conflicts: list[dict[str, Any]] = []
    preferred: dict[str, str] = {}
    for p in part_iris:
        pf = {f.predicate: f for f in parts[p]}
        if vocab.K.conflictProperty.value in pf:
            prop = pf[vocab.K.conflictProperty.value].value.value
            subject = pf[CONFLICT_SUBJECT.value].value.value if CONFLICT_SUBJECT.value in pf else iri
            said = [(f.value, f.sources) for f in (facts if subject == iri else parts.get(subject, []))
                    if f.predicate == prop]
            # one source giving several values (a film it lists under two years) is not sources disagreeing
            one_source = len({tuple(sorted(srcs)) for _, srcs in said}) == 1
            chosen = pf.get(vocab.K.preferredValue.value)
            if chosen is not None:  # the curators' choice first; the others are also stated
                said.sort(key=lambda vs: str(vs[0]) != str(chosen.value))
                if any(f.predicate == vocab.K.preferredSource.value and f.value.value == editorial for f in parts[p]):
                    # their own value, which a source also gives: cited as theirs first (`_decided` credits sources)
                    said[0] = (said[0][0], [editorial, *(s for s in said[0][1] if s != editorial)])
                if subject == iri:
                    preferred[prop] = str(chosen.value)
            if subject != iri:  # a part's value (a budget's amount) is told as the entity's property that has it
                prop = next((f.predicate for f in facts if f.value.value == subject), prop)
            conflicts.append({"property": prop, "values": said, "one_source": one_source,
                              "preferred": chosen.value if chosen is not None else None})
    incoming, more = _incoming(release, iri)
    labels: dict[str, str] = {}
    for node in {f.value.value for fs in [facts, *parts.values()] for f in fs if isinstance(f.value, ox.NamedNode)} | {
            r.iri for r in incoming} | {s for fs in parts.values() for f in fs for s in f.sources} | {
            s for f in facts for s in f.sources}:
        found = label(release, node, lang, readers)
        if found:
            labels[node] = found
    preferred_name = label(release, iri, lang) or iri
    name = label(release, iri, lang, readers) or iri
    variants.sort(key=lambda v: (v[0] != name, v[0] != preferred_name))  # the title's name first
    facts.sort(key=lambda f: (f.predicate, f.predicate in preferred and str(f.value) != preferred[f.predicate]))
    cited = {s for fs in [facts, *parts.values()] for f in fs for s in f.sources} | {
        s for c in conflicts for _, srcs in c["values"] for s in srcs}
    stated, more_stated = _stated(release, iri, lang) if iri in release.graphs else ([], False)
    return View(iri, name, types, facts, parts, variants, incoming, conflicts, labels,
                {r.iri: y for r in incoming if (y := year(release, r.iri))}, more, preferred,
                _citations(release, cited, lang), stated, more_stated, preferred_name)


def _decided(facts: list[Fact], editorial: str) -> list[Fact]:
    """Facts citing the curators' graph only where it is theirs alone: a name a source also gives is the source's."""
    for f in facts:
        if editorial in f.sources and len(f.sources) > 1:
            f.sources = [s for s in f.sources if s != editorial]
    return facts


MAX_STATED = 1000  # a source's page lists at most this many of the entities it makes statements about

_TYPE_WORDS = {"DiscussionForumPosting": "forum post", "NewsArticle": "news article", "Review": "review",
               "WebPage": "web page", "Book": "book", "Dataset": "dataset", "Article": "article",
               "SocialMediaPosting": "post", "Movie": "film"}


def _when(term: ox.Literal) -> str:
    """A date as readers write it in a citation: 14 Oct 2009 (a year or a month as given)."""
    text = term.value
    parts = text.split("-")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    if len(parts) >= 3 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12 and parts[2][:2].isdigit():
        return f"{int(parts[2][:2])} {months[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        return f"{months[int(parts[1]) - 1]} {parts[0]}"
    return text


def _citations(release: Release, sources: set[str], lang: str) -> dict[str, str]:
    """How a page cites each of its sources (`citation`); two a page would cite alike are told apart by their names
    (two undated web pages of one publisher)."""
    found = {s: citation(release, s, lang) for s in sources}
    alike = Counter(found.values())
    return {s: f"{text}: {label(release, s, lang) or s.rsplit('/', 1)[-1]}" if alike[text] > 1 else text
            for s, text in found.items()}


def citation(release: Release, source: str, lang: str = "en") -> str:
    """A source as a reader knows it: who published it and when ("Variety, 14 Oct 2009"), else who and what it is
    ("Finecut, press kit"), else its name."""
    node = ox.NamedNode(source)
    who = next((name for p in (vocab.S.publisher, vocab.S.author) for o in values_of(release, node, p)
                if isinstance(o, ox.NamedNode) and (name := label(release, o.value, lang))), None)
    when = next((_when(o) for p in (vocab.S.datePublished, vocab.S.dateCreated) for o in values_of(release, node, p)
                 if isinstance(o, ox.Literal)), None)
    what = next((o.value for o in values_of(release, node, vocab.S.genre) if isinstance(o, ox.Literal)), None) or next(
        (_TYPE_WORDS[t] for o in values_of(release, node, vocab.TYPE)
         if (t := o.value.rsplit("/", 1)[-1]) in _TYPE_WORDS), None)
    name = label(release, source, lang) or source.rsplit("/", 1)[-1]
    if who and (when or what):
        return f"{who}, {when or what}"
    return name


def _stated(release: Release, source: str, lang: str) -> tuple[list[tuple[str, list[tuple[str, str]]]], bool]:
    """The entities a source makes statements about, by kind (films first), each with its name; and whether there
    are more than MAX_STATED."""
    minter = Minter(str(release.meta.get("base_iri") or ""))
    seen: set[str] = set()
    more = False
    retired = release.moved[0]
    for q in release.store.quads_for_pattern(None, None, None, ox.NamedNode(source)):
        doc = q.subject.value.split("#", 1)[0]
        if doc != source and minter.kind_of(doc) not in (None, "source") and doc not in retired:
            seen.add(doc)
            if len(seen) > MAX_STATED:
                more = True
                break
    kinds: dict[str, list[tuple[str, str]]] = {}
    for doc in sorted(seen)[:MAX_STATED]:
        kinds.setdefault(minter.kind_of(doc) or "other", []).append((doc, label(release, doc, lang) or doc))
    order = ("movie", "person", "character", "organization", "event", "country", "work")
    return [(k, sorted(v, key=lambda e: (e[1].lower(), e[0]))) for k, v in sorted(
        kinds.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))], more


_DETAILS = (vocab.S.characterName, vocab.S.roleName)  # what a role node says beyond whom it links


def _incoming(release: Release, iri: str) -> tuple[list[Reference], bool]:
    """Who refers to `iri` (not its own parts, not conflict notes), a role node standing for its entity; and
    whether there are more than MAX_INCOMING references."""
    seen: set[tuple[str, str]] = set()
    minter = Minter(str(release.meta.get("base_iri") or ""))
    retired = release.moved[0]  # an IRI renamed or merged into another says only that: not an entity
    for q in release.store.quads_for_pattern(None, None, ox.NamedNode(iri), ox.DefaultGraph()):
        if not q.subject.value.startswith(iri + "#") and q.predicate != CONFLICT_SUBJECT \
                and q.subject.value not in retired:
            seen.add((q.subject.value, q.predicate.value))
            if len(seen) > MAX_INCOMING:
                break
    found = []
    for s, p in sorted(seen)[:MAX_INCOMING]:
        doc, part, _ = s.partition("#")
        details = sorted({q.object.value for d in _DETAILS for q in release.store.quads_for_pattern(
            ox.NamedNode(s), d, None, ox.DefaultGraph())}) if part else []
        if p == vocab.S.character.value and not part:
            details = [f"played by {name}" for name in _players(release, s, iri)]
        found.append(Reference(doc, p, tuple(details), minter.kind_of(doc) == "movie"))
    return found, len(seen) > MAX_INCOMING


def _players(release: Release, film: str, character: str) -> list[str]:
    """Who plays a character in a film: the actors of the film's cast roles whose character name is one of the
    character's names (a role names its character as a source printed it; the character record has them all)."""
    names = {v.value for p in (NAME, ALT) for v in values_of(release, ox.NamedNode(character), p)}
    actors: set[str] = set()
    for role in values_of(release, ox.NamedNode(film), vocab.S.actor):
        if isinstance(role, ox.NamedNode) and "#" in role.value and any(
                v.value in names for v in values_of(release, role, vocab.S.characterName)):
            actors.update(a.value for a in values_of(release, role, vocab.S.actor) if isinstance(a, ox.NamedNode))
    return sorted(label(release, a) or a for a in actors)
