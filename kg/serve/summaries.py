"""One-line summaries that tell entities of one name apart: a film's year and director, a person's films."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import pyoxigraph as ox

from kg import vocab
from kg.ids import Minter
from kg.literals import Duration
from kg.serve.documents import Term, label
from kg.serve.store import Release

_YEARS = (vocab.S.dateCreated, vocab.S.datePublished)  # a film's year: when made, else when first shown
READ_OF_CREDITS = _YEARS  # besides names and types, what a summary reads of the films that credit a person
CREDITED_KINDS = ("person",)  # the kinds whose summary may read what refers to them (their films)

_BY = (vocab.S.director,)

_BORN = vocab.S.birthDate

_JOB = vocab.S.jobTitle


def values_of(release: Release, iri: ox.NamedNode, predicate: ox.NamedNode) -> list[Term]:
    return [q.object for q in release.store.quads_for_pattern(iri, predicate, None, ox.DefaultGraph())]


def _player(release: Release, node: Term) -> Term:
    """The actor of a cast role node (or the node itself, when the film names the actor directly)."""
    if isinstance(node, ox.NamedNode) and "#" in node.value:
        found = values_of(release, node, vocab.S.actor)
        return found[0] if found else node
    return node


def _few(release: Release, nodes: list[Term], lang: str) -> str | None:
    """The names of the first two entities among `nodes`, in IRI order (one name lookup each, not one per node)."""
    iris = sorted({n.value for n in nodes if isinstance(n, ox.NamedNode) and "#" not in n.value})
    if not iris:
        return None
    names = sorted(label(release, iri, lang) or iri for iri in iris[:2])
    return ", ".join(names) + (" et al." if len(iris) > 2 else "")


def _top_billed(release: Release, film: ox.NamedNode, lang: str) -> str | None:
    """The first two of a film's cast, top billing first where its roles have one (else by role), 'et al.' if more."""
    def billing(role: Term) -> tuple[int, str]:
        found = [int(v.value) for v in values_of(release, role, vocab.K.billing)
                 if isinstance(v, ox.Literal) and v.value.isdigit()] if isinstance(role, ox.NamedNode) else []
        return (min(found) if found else 1 << 30, role.value if isinstance(role, ox.NamedNode) else "")

    actors: list[str] = []
    roles = [r for r in values_of(release, film, vocab.S.actor) if isinstance(r, ox.NamedNode)]
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
    """A film's year: the curators' choice where its sources disagree, else every year they give ('2008/2009');
    None when it has none."""
    node = ox.NamedNode(iri)
    for predicate in _YEARS:
        years = sorted({v.value[:4] for v in values_of(release, node, predicate)
                        if isinstance(v, ox.Literal) and v.value[:4].isdigit()})
        if len(years) > 1 and (chosen := _preferred(release, node, predicate)) is not None:
            return chosen.value[:4]
        if years:
            return "/".join(years)
    return None


def _preferred(release: Release, node: ox.NamedNode, predicate: ox.NamedNode) -> ox.Literal | None:
    """The value the curators preferred for a property its sources disagree on (a conflict's), if any."""
    for q in release.store.quads_for_pattern(None, vocab.K.conflictSubject, node, ox.DefaultGraph()):
        conflict = q.subject
        if isinstance(conflict, ox.NamedNode) and predicate in values_of(release, conflict, vocab.K.conflictProperty):
            chosen = values_of(release, conflict, vocab.K.preferredValue)
            if chosen and isinstance(chosen[0], ox.Literal):
                return chosen[0]
    return None


def _film(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """Its year (every year the sources give) and director, or else its top-billed cast."""
    made = year(release, node.value)
    directors = _few(release, [d for p in _BY for d in values_of(release, node, p)], lang)
    cast = None if directors else _top_billed(release, node, lang)  # no director: the cast tells remakes apart
    return [t for t in (made, directors, "with " + cast if cast else None) if t]


def _person(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """Birth year (the curators' choice where its sources disagree, else every year they give) and job; without a
    job, the films they are credited in (how many, and the first)."""
    born = sorted({v.value[:4] for v in values_of(release, node, _BORN) if isinstance(v, ox.Literal)})
    if len(born) > 1 and (chosen := _preferred(release, node, _BORN)) is not None:
        born = [chosen.value[:4]]
    jobs = sorted(v.value for v in values_of(release, node, _JOB) if isinstance(v, ox.Literal))
    return ([f"b. {'/'.join(born)}"] if born else []) + (jobs[:1] or _credits(release, node, lang, roles=True))


CREDITS_SCANNED = 500  # statements that name a person, read to find their films (a summary, not a filmography)

# what a person was in a film, by the property that credits them (a crew credit's department is the source's words,
# not read for a summary)
_ROLES = {vocab.S.director: "director", vocab.S.actor: "actor", vocab.S.author: "writer", vocab.S.editor: "editor",
          vocab.S.producer: "producer", vocab.S.musicBy: "composer", vocab.K.executiveProducer: "executive producer",
          vocab.K.cinematographer: "cinematographer", vocab.K.lightingDirector: "lighting director",
          vocab.K.soundDesigner: "sound designer"}


def _credits(release: Release, node: ox.NamedNode, lang: str, roles: bool = False) -> list[str]:
    """'in Night River (2001)', or '95 films, from Def by Temptation (1990)': the films that credit a person; with
    `roles`, what they were in them first, the most frequent (at most two): 'director, in Night River (2001)'."""
    minter = Minter(str(release.meta.get("base_iri", "")))
    films: dict[str, set[str]] = {}
    for q in itertools.islice(release.store.quads_for_pattern(None, None, node, ox.DefaultGraph()), CREDITS_SCANNED):
        doc = q.subject.value.split("#", 1)[0]
        if minter.kind_of(doc) == "movie":
            films.setdefault(doc, set()).update([_ROLES[q.predicate]] if q.predicate in _ROLES else [])
    if not films:
        return []
    first = min(films, key=lambda f: (year(release, f) or "9999", f))
    made = year(release, first)
    title = (label(release, first, lang) or first) + (f" ({made})" if made else "")
    count = f"{len(films)}+" if len(films) >= CREDITS_SCANNED else str(len(films))
    frequency: dict[str, int] = {}
    for role in itertools.chain.from_iterable(films.values()):
        frequency[role] = frequency.get(role, 0) + 1
    most = sorted(frequency, key=lambda r: (-frequency[r], r))[:2] if roles else []
    films_said = f"in {title}" if len(films) == 1 else f"{count} films, from {title}"
    return [" and ".join(most), films_said] if most else [films_said]


def _event(release: Release, node: ox.NamedNode, lang: str) -> list[str]:
    """When and where it starts (a place's name, or the location as written)."""
    starts = sorted(v.value for v in values_of(release, node, vocab.S.startDate) if isinstance(v, ox.Literal))
    places = values_of(release, node, vocab.S.location)
    place = _few(release, places, lang) or next(iter(sorted(p.value for p in places if isinstance(p, ox.Literal))),
                                                None)
    return starts[:1] + ([place] if place else [])


_SUMMARIES: dict[str, Callable[[Release, ox.NamedNode, str], list[str]]] = {
    "movie": _film, "person": _person, "event": _event, "character": _credits}  # a character: its film


def summary(release: Release, iri: str, lang: str = "en") -> str | None:
    """A few words that tell apart entities of the same name, as Wikidata's descriptions do, by kind.

    A film: '1915, Cecil B. DeMille' or '1915, with Geraldine Farrar, Wallace Reid'; a person: 'b. 1971, film
    director' or 'b. 1935, actor, in Night River (2001)'; an event: '2009-10-14, Busan'; a character: 'in Break Away
    (2008/2009)'; anything else: None.
    """
    words = _SUMMARIES.get(Minter(str(release.meta.get("base_iri", ""))).kind_of(iri) or "")
    return ", ".join(words(release, ox.NamedNode(iri), lang)) or None if words else None


def summaries(release: Release, iris: Iterable[str], lang: str = "en") -> dict[str, str]:
    """The summary of each of `iris` that has one."""
    return {iri: text for iri in dict.fromkeys(iris) if (text := summary(release, iri, lang))}


def lead(release: Release, iri: str, lang: str = "en") -> str | None:
    """The line under an entity page's title: '2009 · Leesong Hee-il · South Korea · 109 min' for a film (year,
    director, country, running time); a person's or an event's summary otherwise."""
    node = ox.NamedNode(iri)
    kind = Minter(str(release.meta.get("base_iri", ""))).kind_of(iri)
    if kind == "event":  # its start as the page's facts write it ('12 June 2025'), not as a listing's ('2025-06-12')
        from kg.serve.wording import value_text  # (wording reads views, which read this module)
        starts = sorted((v for v in values_of(release, node, vocab.S.startDate) if isinstance(v, ox.Literal)),
                        key=lambda v: v.value)
        words = _event(release, node, lang)
        if starts and words and words[0] == starts[0].value:
            words[0] = value_text(starts[0])
        return ", ".join(words) or None
    if kind != "movie":
        return summary(release, iri, lang)
    made = year(release, iri)
    directors = _few(release, values_of(release, node, vocab.S.director), lang)
    countries = sorted(label(release, c.value, lang) or c.value for c in values_of(release, node,
                                                                                   vocab.S.countryOfOrigin)
                       if isinstance(c, ox.NamedNode))
    durations = values_of(release, node, vocab.S.duration)
    if len(durations) > 1 and (chosen := _preferred(release, node, vocab.S.duration)) is not None:
        durations = [chosen]  # the curators settled it: the one they chose
    lengths = sorted({f"{d.hours * 60 + d.minutes} min" for v in durations
                      if isinstance(v, ox.Literal) and (d := Duration.parse(v.value)) is not None
                      and not d.days and (d.hours or d.minutes)})
    parts = [made, directors, ", ".join(countries[:2]) or None, " / ".join(lengths) or None]
    return " · ".join(p for p in parts if p) or None
