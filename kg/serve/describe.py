"""What the server shows of an entity: its document's statements, labels, sources, variants and conflicts."""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import layout, vocab
from kg.layout import VOID_FILE
from kg.serve import index
from kg.serve.store import Release

NAME = vocab.S.name
_RDFS_LABEL = vocab.LABEL
ALT = vocab.S.alternateName
CONFLICT_SUBJECT = vocab.K.conflictSubject
HIDDEN_GRAPH_SUFFIXES = ("graph/vocabulary", "graph/release")
MAX_INCOMING = 500  # a page lists at most this many referring entities; SPARQL has the rest
MAX_GRAPH_DOCUMENT = 50_000  # a graph name resolves to its content up to this many statements


def valid_iri(iri: str) -> bool:
    """Whether `iri` is a well-formed IRI (a request path can carry anything)."""
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return not any(c in iri for c in '<>"{}|^`\\ ')


def document(release: Release, iri: str) -> list[ox.Quad]:
    """Every quad of the entity's document: the entity, its parts (<iri>#...) and conflicts about it."""
    if not valid_iri(iri):
        return []
    node = ox.NamedNode(iri)
    store = release.store

    def named(subject: ox.NamedNode) -> list[ox.Quad]:
        found = store.quads_for_pattern(subject, None, None)
        return [q for q in found if not isinstance(q.graph_name, ox.DefaultGraph)]

    quads = named(node)
    if not quads:
        # a graph name (e.g. <base>graph/vocabulary) resolves to the graph's content
        content = []
        for q in store.quads_for_pattern(None, None, None, node):
            content.append(q)
            if len(content) > MAX_GRAPH_DOCUMENT:
                return []
        return sorted(content, key=str)
    parts = {q.object for q in quads if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(iri + "#")}
    # parts that point at their document (conflicts, vocabulary terms' rdfs:isDefinedBy)
    parts |= {q.subject for q in store.quads_for_pattern(None, None, node)  # type: ignore[misc]
              if q.subject.value.startswith(iri + "#")}
    for part in sorted(parts, key=lambda n: n.value):
        quads.extend(named(part))
    return sorted(quads, key=str)


def graph_quads(release: Release, graph: str | None) -> Iterator[ox.Quad] | None:
    """The statements of one graph of the release, grouped by subject: a named graph (None when the release has no
    graph of that name), or with `graph` None the default graph, the union of all."""
    if graph is None:
        return release.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    if graph not in release.graphs:
        return None
    return release.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))


def dataset_quads(release: Release) -> Iterator[ox.Quad]:
    """Every statement of the release: the default graph's and each named graph's."""
    return iter(release.store)


def triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    """The union of some quads: each statement once."""
    return list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads))


def dataset(quads: list[ox.Quad]) -> list[ox.Quad]:
    """A document as a dataset: its statements in the default graph, then each source graph's, graph by graph.

    Clients that read only the default graph of a TriG or N-Quads document (Comunica, most triple stores) get
    the facts; the named graphs add who said them.
    """
    default = ox.DefaultGraph()
    union = [ox.Quad(t.subject, t.predicate, t.object, default) for t in triples(quads)]
    return union + sorted(quads, key=lambda q: (str(q.graph_name), str(q)))


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
    def crew(self) -> list[tuple[str, list[tuple[_Term, list[str]]], list[str] | None]]:
        """Crew credits schema.org has no property for, by department: (department, [(person, sources)], and the
        sources when every credit of the department has the same ones)."""
        departments: dict[str, list[tuple[_Term, list[str]]]] = {}
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
        (links and short texts; a long text, a structured value, keeps a row of its own)."""
        rows: dict[tuple[str, tuple[str, ...]] | int, tuple[str, list[Fact]]] = {}
        for n, f in enumerate(facts):
            alone = isinstance(f.value, ox.NamedNode) and f.value.value in self.parts or \
                not isinstance(f.value, ox.NamedNode) and len(f.value.value) > GROUPED_TEXT
            key: tuple[str, tuple[str, ...]] | int = n if alone else (f.predicate, tuple(f.sources))
            rows.setdefault(key, (f.predicate, []))[1].append(f)
        return list(rows.values())

    @property
    def filmography(self) -> bool:
        """Whether everything that refers to the entity is a film (a person's or a company's films, by year)."""
        return bool(self.incoming) and all(r.film for r in self.incoming)

    @property
    def referrers(self) -> list[tuple[str, list[Reference]]]:
        """The referring entities, each once with its references: by year (those without one last), then name."""
        groups: dict[str, list[Reference]] = {}
        for r in self.incoming:
            groups.setdefault(r.iri, []).append(r)
        return sorted(groups.items(), key=lambda g: (
            self.years.get(g[0], "~"), self.labels.get(g[0], g[0]).lower(), g[0]))


def label(release: Release, iri: str, lang: str = "en") -> str | None:
    """The preferred name of a node (schema:name, else rdfs:label; in the page's language first), if it has one."""
    node = ox.NamedNode(iri)
    names = [q.object for q in release.store.quads_for_pattern(node, NAME, None)] or [
        q.object for q in release.store.quads_for_pattern(node, _RDFS_LABEL, None)]
    for n in names:
        if isinstance(n, ox.Literal) and n.language == lang:
            return n.value
    plain = [n for n in names if isinstance(n, ox.Literal) and not n.language]
    return (plain or names)[0].value if (plain or names) else None


def _facts(quads: list[ox.Quad], subject: str) -> list[Fact]:
    grouped: dict[tuple[str, str], tuple[ox.NamedNode | ox.Literal | ox.BlankNode, list[str]]] = {}
    for q in quads:
        if q.subject.value != subject or q.graph_name.value.endswith(HIDDEN_GRAPH_SUFFIXES):
            continue
        key = (q.predicate.value, str(q.object))
        entry = grouped.setdefault(key, (q.object, []))  # type: ignore[arg-type]
        entry[1].append(q.graph_name.value)
    return [Fact(p, value, sorted(sources)) for (p, _), (value, sources) in sorted(grouped.items())]


def view(release: Release, iri: str, lang: str = "en") -> View | None:
    """The entity page for `iri`, or None when the release has no such entity."""
    quads = document(release, iri)
    if not quads:
        return None
    facts = _facts(quads, iri)
    part_iris = sorted({q.subject.value for q in quads if q.subject.value != iri})
    parts = {p: _facts(quads, p) for p in part_iris}
    types = sorted({f.value.value for f in facts if f.predicate == vocab.RDF + "type"})
    variants = [(f.value.value, getattr(f.value, "language", None), f.sources) for f in facts
                if f.predicate in (NAME.value, ALT.value) and isinstance(f.value, ox.Literal)]
    conflicts = []
    for p in part_iris:
        pf = {f.predicate: f for f in parts[p]}
        if vocab.K.conflictProperty.value in pf:
            prop = pf[vocab.K.conflictProperty.value].value.value
            said = [(f.value, f.sources) for f in facts if f.predicate == prop]
            # one source giving several values (a film it lists under two years) is not sources disagreeing
            one_source = len({tuple(sorted(srcs)) for _, srcs in said}) == 1
            conflicts.append({"property": prop, "values": said, "one_source": one_source})
    incoming, more = _incoming(release, iri)
    labels: dict[str, str] = {}
    for node in {f.value.value for fs in [facts, *parts.values()] for f in fs if isinstance(f.value, ox.NamedNode)} | {
            r.iri for r in incoming} | {s for fs in parts.values() for f in fs for s in f.sources} | {
            s for f in facts for s in f.sources}:
        found = label(release, node, lang)
        if found:
            labels[node] = found
    name = label(release, iri, lang) or iri
    variants.sort(key=lambda v: v[0] != name)  # the preferred name first, as the page's title says it
    return View(iri, name, types, facts, parts, variants, incoming, conflicts, labels,
                {r.iri: y for r in incoming if (y := year(release, r.iri))}, more)


_DETAILS = (vocab.S.characterName, vocab.S.roleName)  # what a role node says beyond whom it links


def _incoming(release: Release, iri: str) -> tuple[list[Reference], bool]:
    """Who refers to `iri` (not its own parts, not conflict notes), a role node standing for its entity; and
    whether there are more than MAX_INCOMING references."""
    seen: set[tuple[str, str]] = set()
    base = str(release.meta.get("base_iri") or "")
    for q in release.store.quads_for_pattern(None, None, ox.NamedNode(iri), ox.DefaultGraph()):
        if not q.subject.value.startswith(iri + "#") and q.predicate != CONFLICT_SUBJECT:
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
        found.append(Reference(doc, p, tuple(details), layout.kind_of(doc, base) == "movie"))
    return found, len(seen) > MAX_INCOMING


def _players(release: Release, film: str, character: str) -> list[str]:
    """Who plays a character in a film: the actors of the film's cast roles whose character name is one of the
    character's names (a role names its character as a source printed it; the character record has them all)."""
    names = {v.value for p in (NAME, ALT) for v in _values(release, ox.NamedNode(character), p)}
    actors: set[str] = set()
    for role in _values(release, ox.NamedNode(film), vocab.S.actor):
        if isinstance(role, ox.NamedNode) and "#" in role.value and any(
                v.value in names for v in _values(release, role, vocab.S.characterName)):
            actors.update(a.value for a in _values(release, role, vocab.S.actor) if isinstance(a, ox.NamedNode))
    return sorted(label(release, a) or a for a in actors)


_Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
_YEARS = (vocab.S.dateCreated, vocab.S.datePublished)  # a film's year: when made, else when first shown
_BY = (vocab.S.director,)
_BORN = vocab.S.birthDate
_JOB = vocab.S.jobTitle


def _values(release: Release, iri: ox.NamedNode, predicate: ox.NamedNode) -> list[_Term]:
    return [q.object for q in release.store.quads_for_pattern(iri, predicate, None, ox.DefaultGraph())]


def _player(release: Release, node: _Term) -> _Term:
    """The actor of a cast role node (or the node itself, when the film names the actor directly)."""
    if isinstance(node, ox.NamedNode) and "#" in node.value:
        found = _values(release, node, vocab.S.actor)
        return found[0] if found else node
    return node


def _few(release: Release, nodes: list[_Term], lang: str) -> str | None:
    """The names of the first two entities among `nodes`, in IRI order (one name lookup each, not one per node)."""
    iris = sorted({n.value for n in nodes if isinstance(n, ox.NamedNode) and "#" not in n.value})
    if not iris:
        return None
    names = sorted(label(release, iri, lang) or iri for iri in iris[:2])
    return ", ".join(names) + (" et al." if len(iris) > 2 else "")


def _top_billed(release: Release, film: ox.NamedNode, lang: str) -> str | None:
    """The first two of a film's cast, top billing first where its roles have one (else by role), 'et al.' if more."""
    def billing(role: _Term) -> tuple[int, str]:
        found = [int(v.value) for v in _values(release, role, vocab.K.billing)
                 if isinstance(v, ox.Literal) and v.value.isdigit()] if isinstance(role, ox.NamedNode) else []
        return (min(found) if found else 1 << 30, role.value if isinstance(role, ox.NamedNode) else "")

    actors: list[str] = []
    roles = [r for r in _values(release, film, vocab.S.actor) if isinstance(r, ox.NamedNode)]
    for role in sorted(roles, key=billing):
        actor = _player(release, role)
        if isinstance(actor, ox.NamedNode) and "#" not in actor.value and actor.value not in actors:
            actors.append(actor.value)
            if len(actors) == 2:
                break
    if not actors:
        return None
    return ", ".join(label(release, a, lang) or a for a in actors) + (" et al." if len(roles) > 2 else "")


def year(release: Release, iri: str) -> str | None:
    """A film's year (every year its sources give, when they disagree: '2008/2009'), or None."""
    node = ox.NamedNode(iri)
    for predicate in _YEARS:
        years = sorted({v.value[:4] for v in _values(release, node, predicate)
                        if isinstance(v, ox.Literal) and v.value[:4].isdigit()})
        if years:
            return "/".join(years)
    return None


def _film(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """Its year (every year the sources give) and director, or else its top-billed cast."""
    made = year(release, node.value)
    directors = _few(release, [d for p in _BY for d in _values(release, node, p)], lang)
    cast = None if directors else _top_billed(release, node, lang)  # no director: the cast tells remakes apart
    return [t for t in (made, directors, "with " + cast if cast else None) if t]


def _person(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """Birth year and job; without either, the films they are credited in (how many, and the first)."""
    born = sorted(v.value[:4] for v in _values(release, node, _BORN) if isinstance(v, ox.Literal))
    jobs = sorted(v.value for v in _values(release, node, _JOB) if isinstance(v, ox.Literal))
    known = ([f"b. {born[0]}"] if born else []) + jobs[:1]
    return known or _credits(release, node, lang)


CREDITS_SCANNED = 500  # statements that name a person, read to find their films (a summary, not a filmography)


def _credits(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """'in Night River (2001)', or '95 films, from Def by Temptation (1990)': the films that credit a person."""
    base = str(release.meta.get("base_iri", ""))
    films = set()
    for q in itertools.islice(release.store.quads_for_pattern(None, None, node, ox.DefaultGraph()), CREDITS_SCANNED):
        doc = q.subject.value.split("#", 1)[0]
        if layout.kind_of(doc, base) == "movie":
            films.add(doc)
    if not films:
        return []
    first = min(films, key=lambda f: (year(release, f) or "9999", f))
    made = year(release, first)
    title = (label(release, first, lang) or first) + (f" ({made})" if made else "")
    count = f"{len(films)}+" if len(films) >= CREDITS_SCANNED else str(len(films))
    return [f"in {title}"] if len(films) == 1 else [f"{count} films, from {title}"]


def _event(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """When and where it starts (a place's name, or the location as written)."""
    starts = sorted(v.value for v in _values(release, node, vocab.S.startDate) if isinstance(v, ox.Literal))
    places = _values(release, node, vocab.S.location)
    place = _few(release, places, lang) or next(iter(sorted(p.value for p in places if isinstance(p, ox.Literal))),
                                                None)
    return starts[:1] + ([place] if place else [])


_SUMMARIES: dict[str, Callable[[Release, ox.NamedNode, str], list[str]]] = {
    "movie": _film, "person": _person, "event": _event}


def summary(release: Release, iri: str, lang: str = "en") -> str | None:
    """A few words that tell apart entities of the same name, as Wikidata's descriptions do, by kind.

    A film: '1915, Cecil B. DeMille' or '1915, with Geraldine Farrar, Wallace Reid'; a person: 'b. 1971, film
    director'; an event: '2009-10-14, Busan'; anything else: None.
    """
    words = _SUMMARIES.get(layout.kind_of(iri, str(release.meta.get("base_iri", ""))) or "")
    return ", ".join(words(release, ox.NamedNode(iri), lang)) or None if words else None


def summaries(release: Release, iris: Iterable[str], lang: str = "en") -> dict[str, str]:
    """The summary of each of `iris` that has one."""
    return {iri: text for iri in dict.fromkeys(iris) if (text := summary(release, iri, lang))}


@dataclass
class Listing:
    """One page of the entities of a kind (narrowed by `filters`: facet -> value), with the facets to narrow it by."""

    kind: str
    items: list[tuple[str, str]]  # (iri, name)
    page: int
    pages: int
    total: int
    filters: dict[str, str] = field(default_factory=dict)
    facets: list[Facet] = field(default_factory=list, compare=False)  # read from the index only


@dataclass
class Facet:
    """What a listing can be narrowed by (a film's year, its genre) and how many of its entities each value has."""

    name: str
    values: list[tuple[str, str, int]]  # (key, label, count): years in order, other values the most common first
    active: str | None = None  # the key the listing is narrowed to
    active_label: str | None = None  # and how that value is spelled


class NoFacets(LookupError):
    """The release was built without the facet index (by an older kg): its listings cannot be narrowed."""


def facet_names(kind: str) -> tuple[str, ...]:
    """The facets a kind's listing can be narrowed by."""
    return tuple(layout.FACETS.get(kind, {}))


@functools.lru_cache(maxsize=8)
def _index_info(release_dir: Path) -> dict[str, Any] | None:
    """The release's index.json (None for a release built before kg wrote indexes of this version)."""
    if not index.current_version(release_dir):
        return None
    info: dict[str, Any] = json.loads((release_dir / layout.INDEX_DIR / "index.json").read_text(encoding="utf-8"))
    return info


@dataclass
class FrontPage:
    """The home page's content: the first films and people, and a few words after some names."""

    films: Listing
    people: Listing
    notes: dict[str, str]  # a film's year; for names shared by several entities, what tells them apart


def front_page(release: Release, size: int) -> FrontPage:
    """The first `size` films and people by name, each film with its year, repeated names with a summary."""
    films, people = listing(release, "movie", size=size), listing(release, "person", size=size)
    named = Counter(name for part in (films, people) for _, name in part.items)
    notes = {iri: f"({found})" for iri, _ in films.items if (found := year(release, iri))}
    notes.update(summaries(release, (iri for part in (films, people) for iri, name in part.items if named[name] > 1)))
    return FrontPage(films, people, notes)


def listing(release: Release, kind: str, page: int = 1, size: int = 100,
            filters: dict[str, str] | None = None) -> Listing:
    """The entities minted under a kind's path (`/event/...`), by name, a page at a time; with `filters`
    (facet -> value, see `facet_names`), only those with every value. Raises NoFacets for a release without the
    facet index.

    The name is the curators' preferred one, else the least of those the sources give.
    """
    info = _index_info(release.path)
    if filters:
        facets = (info or {}).get("facets", {}).get(kind)
        if facets is None:
            raise NoFacets("this release was built without the facet index; `kg build` makes it anew")
        narrowed = _narrowed(release.path, facets, filters)
        total = len(narrowed)
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        return Listing(kind, narrowed[(page - 1) * size:page * size], page, pages, total, dict(filters),
                       _facets(release.path, facets, filters, narrowed))
    if info is not None:
        entry = info["listings"].get(kind)
        total = int(entry["count"]) if entry else 0
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        lines = index.read(release.path / layout.INDEX_DIR / entry["file"], (page - 1) * size, size) if entry else []
        return Listing(kind, [(line[0], line[1]) for line in lines], page, pages, total,
                       facets=_facets(release.path, info.get("facets", {}).get(kind, {}), {}, None))
    prefix = json.dumps(f"{release.meta['base_iri']}{kind}/")
    members = f"?e a ?t FILTER(isIRI(?e) && STRSTARTS(STR(?e), {prefix}) && !CONTAINS(STR(?e), '#'))"
    count_rows = release.select(f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {members} }}")
    total = int(count_rows[0]["n"].value)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = release.select(f"""
        SELECT ?e (COALESCE(SAMPLE(?n), MIN(STR(?a))) AS ?name) WHERE {{
            {members}
            OPTIONAL {{ GRAPH <{release.meta['base_iri']}source/editorial> {{ ?e <{NAME.value}> ?n }} }}
            OPTIONAL {{ ?e <{NAME.value}> ?a FILTER(isLiteral(?a)) }}
        }} GROUP BY ?e ORDER BY LCASE(STR(?name)) ?e LIMIT {size} OFFSET {(page - 1) * size}""")
    items = [(row["e"].value, row["name"].value if row["name"] is not None else row["e"].value)
             for row in rows]
    return Listing(kind, items, page, pages, total)


def _narrowed(release_dir: Path, facets: dict[str, Any], filters: dict[str, str]) -> list[tuple[str, str]]:
    """The (iri, name) of the entities with every filter's value, in the listing's order."""
    runs = []
    for facet, value in filters.items():
        key = layout.facet_key(facet, value)
        entry = facets.get(facet)
        runs.append(index.facet_members(release_dir / layout.INDEX_DIR / entry["file"], key)
                    if entry is not None and key is not None else [])
    first, *rest = runs
    keep = [{iri for iri, _ in run} for run in rest]
    return [(iri, name) for iri, name in first if all(iri in k for k in keep)]


def _facets(release_dir: Path, facets: dict[str, Any], filters: dict[str, str],
            members: list[tuple[str, str]] | None) -> list[Facet]:
    """The facets of a listing: counts over all its entities, or (narrowed) over those it still holds."""
    out = []
    inside = {iri for iri, _ in members} if members is not None else None
    for name, entry in facets.items():
        values = [(str(k), str(label), int(n)) for k, label, n in entry["values"]]
        active = layout.facet_key(name, filters[name]) if name in filters else None
        spelled = next((label for k, label, _ in values if k == active), filters.get(name))
        if inside is not None:
            counts = index.facet_keys(release_dir / layout.INDEX_DIR / entry["file"], inside)
            values = [(k, label, counts[k]) for k, label, _ in values if k in counts]
        if name not in layout.YEARS:
            values.sort(key=lambda v: (-v[2], v[1].lower()))
        out.append(Facet(name, values, active, spelled))
    return out


@dataclass
class DatasetDescription:
    """The release's VoID description as a page shows it: the dataset's statements, then its partitions."""

    iri: str
    facts: list[tuple[str, ox.NamedNode | ox.Literal]]  # (predicate, value) in the build's order, no partitions
    classes: list[tuple[str, int]]  # (class, entities), the most common first
    properties: list[tuple[str, int]]  # (property, triples), the most used first
    graphs: list[tuple[str, str]] = field(default_factory=list)  # (named graph, what it is), by name


def void_triples(release: Release) -> list[ox.Triple]:
    """The release's VoID description, each subject's statements together (the dataset's first)."""
    triples = list(ox.parse(path=str(release.path / VOID_FILE), format=ox.RdfFormat.TURTLE))
    first = {t.subject for t in triples if t.predicate == vocab.TYPE and t.object == vocab.V.Dataset}
    return sorted(triples, key=lambda t: (t.subject not in first, t.subject.value, t.predicate.value, str(t.object)))


_OWN_GRAPHS = (("graph/release", "the release: where it came from (PROV)"),
               ("graph/vocabulary", "kg's own terms (kgv:), declared"))


def dataset_description(release: Release) -> DatasetDescription:
    """The release's VoID description, read for a page."""
    triples = list(ox.parse(path=str(release.path / VOID_FILE), format=ox.RdfFormat.TURTLE))  # as the build wrote
    by_subject: dict[ox.NamedNode | ox.BlankNode, dict[str, ox.NamedNode | ox.Literal]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, {})[t.predicate.value] = t.object
    iri = next((t.subject.value for t in triples if t.predicate == vocab.TYPE and t.object == vocab.V.Dataset), "")
    partitions = {vocab.V.classPartition.value, vocab.V.propertyPartition.value, vocab.TYPE.value}
    facts = [(t.predicate.value, t.object) for t in triples
             if t.subject.value == iri and t.predicate.value not in partitions]

    def counted(predicate: ox.NamedNode, what: str, count: str) -> list[tuple[str, int]]:
        found = [(part[what].value, int(part[count].value)) for t in triples
                 if t.subject.value == iri and t.predicate == predicate
                 and what in (part := by_subject.get(t.object, {})) and count in part]
        return sorted(found, key=lambda cn: (-cn[1], cn[0]))

    graphs = sorted(((g, label(release, g) or next((n for end, n in _OWN_GRAPHS if g.endswith(end)), g))
                     for g in release.graphs), key=lambda gl: (gl[1].lower(), gl[0]))
    return DatasetDescription(iri, facts,
                              counted(vocab.V.classPartition, vocab.V["class"].value, vocab.V.entities.value),
                              counted(vocab.V.propertyPartition, vocab.V.property.value, vocab.V.triples.value), graphs)


def page_count(release: Release) -> int:
    """How many entity pages the release has (the sitemap's size)."""
    info = _index_info(release.path)
    return int(info["pages"]) if info is not None else len(_pages_by_query(release))


def pages(release: Release, start: int, count: int) -> list[str]:
    """IRIs of entity pages start..start+count-1, in IRI order."""
    if _index_info(release.path) is not None:
        return [row[0] for row in index.read(release.path / layout.INDEX_DIR / "pages.tsv", start, count)]
    return _pages_by_query(release)[start:start + count]


def _pages_by_query(release: Release) -> list[str]:
    rows = release.select(f"SELECT DISTINCT ?e WHERE {{ GRAPH <{release.meta['base_iri']}source/editorial> "
                          "{ ?e a ?t } } ORDER BY ?e")
    return [row["e"].value for row in rows if "#" not in row["e"].value]


MIN_SEARCH = 2  # characters a search needs
MAX_HITS = 50


def _needle(text: str) -> str:
    """What a search looks for: the text in lower case, its spaces collapsed."""
    return " ".join(text.split()).lower()


@dataclass
class Hit:
    """One entity a search found: its preferred name, its type and the spelling that matched."""

    iri: str
    name: str
    type: str
    matched: str


def search_query(base_iri: str, text: str) -> str | None:
    """The SPARQL query for entities with a name or spelling containing `text` (None if `text` is too short)."""
    needle = _needle(text)
    if len(needle) < MIN_SEARCH:
        return None
    literal = json.dumps(needle, ensure_ascii=False)  # a valid SPARQL string: quotes, backslashes, controls escaped
    return f"""SELECT ?e ?n ?name ?t WHERE {{
  ?e <{NAME.value}>|<{ALT.value}> ?n . FILTER(CONTAINS(LCASE(STR(?n)), {literal}))
  ?e a ?t .
  OPTIONAL {{ GRAPH <{base_iri}source/editorial> {{ ?e <{NAME.value}> ?name }} }}
}} LIMIT 2000"""


_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "der", "die", "das", "el", "il", "lo", "los", "las"})


def _ranked(found: Iterable[Hit], text: str, limit: int) -> list[Hit]:
    """One hit per entity, best first: exact, then prefix (both also after a leading article: 'godfather' is
    exactly The Godfather), then word start, then the rest; within each, a whole word before part of one
    ('godfather' finds The Godfather before 3 Godfathers), shorter spellings first, then by name."""
    needle = layout.fold(text)
    word = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")

    def rank(spelling: str) -> tuple[int, bool, int]:
        low = layout.fold(spelling)
        head, _, rest = low.partition(" ")
        place = min(0 if t == needle else 1 if t.startswith(needle) else 2 if f" {needle}" in f" {low}" else 3
                    for t in ((low, rest) if head in _ARTICLES and rest else (low,)))
        return place, word.search(low) is None, len(low)

    best: dict[str, tuple[tuple[int, bool, int], Hit]] = {}
    for hit in found:
        known = best.get(hit.iri)
        if known is None or (rank(hit.matched), hit.type == "Thing", hit.matched != hit.name) < (
                known[0], known[1].type == "Thing", known[1].matched != known[1].name):  # the preferred name on a tie
            best[hit.iri] = (rank(hit.matched), hit)
    ordered = sorted(best.values(), key=lambda rh: (rh[0], rh[1].name.lower(), rh[1].iri))
    return [hit for _, hit in ordered[:limit]]


def search_hits(rows: list[dict[str, dict[str, str]]], text: str, limit: int = MAX_HITS) -> list[Hit]:
    """The entities of a search's SPARQL JSON rows (see `search_query`), best first."""
    return _ranked((Hit(row["e"]["value"], row.get("name", row["n"])["value"],
                        row["t"]["value"].rsplit("/", 1)[-1].rsplit("#", 1)[-1], row["n"]["value"])
                    for row in rows), text, limit)


def search(release: Release, text: str, limit: int = MAX_HITS) -> list[Hit] | None:
    """Entities with a name or spelling containing `text`, from the release's index (None if it has none)."""
    if _index_info(release.path) is None:
        return None
    needle = layout.fold(text)
    if len(needle) < MIN_SEARCH:
        return []
    found = index.search(release.path / layout.INDEX_DIR / "names.tsv", needle)
    return _ranked((Hit(m.iri, m.name, m.type, m.spelling) for m in found), text, limit)


_TERM_LABELS = {t.iri.value: t.label for t in vocab.TERMS}
_SPECIAL = {vocab.RDF + "type": "type", vocab.S.actor.value: "cast", vocab.S.musicBy.value: "music"}
_OF_A_FILM = {vocab.S.author.value: "author / screenplay", vocab.S.dateCreated.value: "production year (created)",
              vocab.S.datePublished.value: "release date (published)", vocab.S.duration.value: "running time"}


def property_label(iri: str, film: bool = False) -> str:
    """A readable label for a property: 'countryOfOrigin' -> 'country of origin'; a film's in film words."""
    if film and iri in _OF_A_FILM:
        return _OF_A_FILM[iri]
    if iri in _SPECIAL:
        return _SPECIAL[iri]
    if iri in _TERM_LABELS:
        return _TERM_LABELS[iri]
    local = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return "".join(" " + c.lower() if c.isupper() else c for c in local).strip()


_DURATION = re.compile(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_UNITS = ("year", "month", "day")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def language_tag(tag: str) -> str:
    """A language tag in BCP 47's conventional case (the store lower-cases tags): ko-latn -> ko-Latn, en-us -> en-US."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(out) > 1 and len(out[-1]) == 1:  # after a singleton (x-, u-): private or extension subtags as they are
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def value_text(value: ox.Literal) -> str:
    """A literal as a reader wants it: '109 min' for PT1H49M, '5 days' for P5D, '700,000' for 700000."""
    kind = value.datatype
    if kind == vocab.XSD_DURATION:
        match = _DURATION.match(value.value)
        if not match:
            return value.value
        sign, *parts = match.groups()
        dated = [_plural(int(n), u) for n, u in zip(parts[:3], _UNITS, strict=True) if n and int(n)]
        hours, minutes, seconds = (int(parts[3] or 0), int(parts[4] or 0), parts[5])
        timed = []
        if hours or minutes:
            timed.append(f"{hours * 60 + minutes} min")
        if seconds and float(seconds):
            timed.append(f"{seconds} s")
        return (sign or "") + (" ".join(dated + timed) or "0 min")
    if kind in (vocab.XSD_INTEGER, vocab.XSD_DECIMAL):
        whole, dot, fraction = value.value.partition(".")
        if whole.lstrip("-+").isdigit():
            return f"{int(whole):,}" + dot + fraction
    return value.value


def amount_text(facts: list[Fact]) -> str | None:
    """A monetary amount node's value and currency as one text ('USD 700,000'), if it is one."""
    by = {f.predicate: f.value for f in facts}
    value, currency = by.get(vocab.S.value.value), by.get(vocab.S.currency.value)
    if isinstance(value, ox.Literal) and isinstance(currency, ox.Literal):
        return f"{currency.value} {value_text(value)}"
    return None


def markup(release: Release, iri: str) -> dict[str, Any] | None:
    """The entity's schema.org markup, built from the answer of its description query (so it holds exactly that)."""
    from kg.jsonld import description_query
    from kg.jsonld import markup as build

    if not valid_iri(iri):
        return None
    result = release.query(description_query(iri))
    triples = list(result)  # type: ignore[arg-type]
    if not any(t.subject.value == iri for t in triples):
        return None
    return build(iri, triples)
