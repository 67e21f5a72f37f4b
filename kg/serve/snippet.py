"""A film's markup for a web editor to paste: what Google's Movie rich result reads, one value each, a few KB."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.ids import is_web
from kg.jsonld import item_list, markup_value, safe_json
from kg.literals import finest_date
from kg.serve.documents import label
from kg.serve.store import Release

S = vocab.S
TOP_BILLED = 5  # actors the snippet names (the full cast is in the entity's JSON-LD document)
LISTED = 3  # directors, reviews, genres beyond these are left to the full document
MAX_BYTES = 8 * 1024  # the bound the tests hold every film's snippet to
_DEFAULT = ox.DefaultGraph()


@dataclass
class Snippet:
    """The markup, and what Google's rich result still lacks (said above the copy button and by `kg embed`)."""

    data: dict[str, Any]
    lacks: list[str] = field(default_factory=list)


def _values(release: Release, node: ox.NamedNode, predicate: ox.NamedNode) -> list[Any]:
    """The values, in one order whatever store holds them (an engine's neighbourhood is held in memory)."""
    return sorted((q.object for q in release.store.quads_for_pattern(node, predicate, None, _DEFAULT)), key=str)


def preferred(release: Release, node: ox.NamedNode) -> dict[str, Any]:
    """Property -> the value curators chose, for each property of the entity that sources disagree on."""
    found: dict[str, Any] = {}
    for q in release.store.quads_for_pattern(None, vocab.K.conflictSubject, node, _DEFAULT):
        props = _values(release, q.subject, vocab.K.conflictProperty)  # type: ignore[arg-type]
        chosen = _values(release, q.subject, vocab.K.preferredValue)  # type: ignore[arg-type]
        if props and chosen:
            found[props[0].value] = chosen[0]
    return found


def disputed(release: Release, node: ox.NamedNode) -> dict[str, list[Any]]:
    """Property -> the values sources give, for each property of the entity they disagree on that no curator has
    settled."""
    found: dict[str, list[Any]] = {}
    for q in release.store.quads_for_pattern(None, vocab.K.conflictSubject, node, _DEFAULT):
        props = _values(release, q.subject, vocab.K.conflictProperty)  # type: ignore[arg-type]
        if props and not _values(release, q.subject, vocab.K.preferredValue):  # type: ignore[arg-type]
            found[props[0].value] = _values(release, q.subject, vocab.K.conflictValue)  # type: ignore[arg-type]
    return found


def json_text(value: Any) -> str:
    """A markup value as a message quotes it: a typed value's lexical form."""
    return str(value["@value"]) if isinstance(value, dict) and "@value" in value else str(value)


def one_value(release: Release, node: ox.NamedNode, predicate: ox.NamedNode, preferred: dict[str, Any]) -> Any:
    """The one value of a single-valued property: the curators' choice; else, of dates that agree (a year and a day
    of it), the most precise; else the value most sources state; on a tie, the first in lexical order (documented
    in docs/markup.md). None when there is none."""
    if predicate.value in preferred:
        return preferred[predicate.value]
    stated: Counter[Any] = Counter()
    for q in release.store.quads_for_pattern(node, predicate, None, None):
        if not isinstance(q.graph_name, ox.DefaultGraph):
            stated[q.object] += 1
    if not stated:
        return None
    values = sorted(stated, key=str)
    dates = [(o.value, o.datatype.value) for o in values if isinstance(o, ox.Literal)]
    if len(dates) == len(values) and (finest := finest_date(dates)) is not None:
        return values[finest]  # a year and a day of it agree: the day says more
    return min(stated, key=lambda o: (-stated[o], str(o)))


def _named(release: Release, node: Any, kind: str | None = None) -> dict[str, Any]:
    types = [t.value[len(vocab.SCHEMA):] for t in _values(release, node, vocab.TYPE)
             if t.value.startswith(vocab.SCHEMA)]
    out: dict[str, Any] = {"@type": kind or (types[0] if types else "Thing"), "@id": node.value}
    name = label(release, node.value)
    if name:
        out["name"] = name
    return out


def _actors(release: Release, film: ox.NamedNode) -> list[dict[str, Any]]:
    """The top-billed actors, each with the character played (a cast role), in billing order."""
    credits = []
    for credit in _values(release, film, S.actor):
        if not isinstance(credit, ox.NamedNode) or not is_web(credit.value):
            continue
        billing = [int(b.value) for b in _values(release, credit, vocab.K.billing) if b.value.isdigit()]
        credits.append((min(billing) if billing else 1 << 30, credit.value, credit))
    out = []
    for _, _, credit in sorted(credits)[:TOP_BILLED]:
        players = [a for a in _values(release, credit, S.actor) if isinstance(a, ox.NamedNode)]
        if not players:  # the film names the actor directly
            out.append(_named(release, credit))
            continue
        role: dict[str, Any] = {"@type": "PerformanceRole", "@id": credit.value,
                                "actor": _named(release, players[0])}
        characters = sorted(c.value for c in _values(release, credit, S.characterName))
        if characters:
            role["characterName"] = characters[0]
        out.append(role)
    return out


def _genres(release: Release, film: ox.NamedNode) -> list[str]:
    """Genres, those differing only by case said once (the first spelling in order)."""
    seen: dict[str, str] = {}
    for g in sorted(v.value for v in _values(release, film, S.genre)):
        seen.setdefault(g.casefold(), g)
    return list(seen.values())[:LISTED]


def _reviews(release: Release, film: ox.NamedNode) -> list[dict[str, Any]]:
    """Each review with what a Review needs: its author, its rating when given, and its address."""
    out = []
    for review in sorted(_values(release, film, S.review), key=str)[:LISTED]:
        if not isinstance(review, ox.NamedNode):
            continue
        item: dict[str, Any] = {"@type": "Review", "@id": review.value}
        authors = [a for a in _values(release, review, S.author) if isinstance(a, ox.NamedNode)]
        if authors:
            item["author"] = _named(release, authors[0])
        ratings = [r for r in _values(release, review, S.reviewRating) if isinstance(r, ox.NamedNode)]
        if ratings:  # its node and typed figures, as the release states them (as a date is given)
            rating: dict[str, Any] = {"@type": "Rating", "@id": ratings[0].value}
            for p in ("ratingValue", "bestRating", "worstRating"):
                found = _values(release, ratings[0], ox.NamedNode(vocab.SCHEMA + p))
                if found and isinstance(found[0], ox.Literal):
                    rating[p] = markup_value(p, found[0])
            item["reviewRating"] = rating
        for term in ("datePublished", "dateCreated"):  # its date, as the release states it (never restated)
            dated = _values(release, review, ox.NamedNode(vocab.SCHEMA + term))
            if dated and isinstance(dated[0], ox.Literal):  # with its author: what a review without a rating needs
                item[term] = markup_value(term, dated[0])
                break
        urls = [u.value for u in _values(release, review, S.url) if is_web(u.value)]
        if urls:
            item["url"] = urls[0]
        out.append(item)  # never the review's text: it is its publisher's to publish
    return out


def _one_or_all(values: list[Any]) -> Any:
    """One value as itself, several as a list (as kg's other markup, and Google's examples, write them)."""
    return values[0] if len(values) == 1 else values


def film_snippet(release: Release, iri: str) -> Snippet | None:
    """The film's markup for Google's Movie rich result; None when `iri` is not a film of the release."""
    film = ox.NamedNode(iri)
    if S.Movie not in _values(release, film, vocab.TYPE):
        return None
    chosen = preferred(release, film)
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Movie", "@id": iri,
                            "name": label(release, iri) or iri}
    lacks = []
    others = sorted({n.value for n in _values(release, film, S.alternateName)
                     if isinstance(n, ox.Literal) and n.language})
    if others:
        data["alternateName"] = [markup_value("alternateName", n) for n in _values(release, film, S.alternateName)
                                 if isinstance(n, ox.Literal) and n.language and n.value in others[:LISTED]]
    same = sorted(i.value for i in _values(release, film, S.sameAs) if is_web(i.value))
    if same:  # the same film elsewhere (Wikidata, IMDb, Wikipedia): what links the markup to the known entity
        data["sameAs"] = _one_or_all(same[:LISTED])
    pages = sorted(i.value for i in _values(release, film, S.url) if is_web(i.value))
    if pages:
        data["url"] = pages[0]
    images = sorted(i.value for i in _values(release, film, S.image) if is_web(i.value))
    if images:
        data["image"] = images[0]
    else:
        lacks.append("no image: Google will not show this film in the Movie carousel (field: image)")
    for term in ("dateCreated", "datePublished", "duration"):
        value = one_value(release, film, ox.NamedNode(vocab.SCHEMA + term), chosen)
        if value is not None:
            data[term] = markup_value(term, value)
    if "dateCreated" not in data and "datePublished" not in data:
        lacks.append("no date: Google recommends dateCreated (fields: production_year, release_date)")
    unsettled = disputed(release, film)
    for term in ("dateCreated", "datePublished", "duration"):
        if term in data and (said := unsettled.get(vocab.SCHEMA + term)):
            given = [json_text(markup_value(term, v)) for v in said]
            lacks.append(f"sources disagree on {term} ({' / '.join(sorted(given))}): the markup gives "
                         f"{json_text(data[term])}, the value most sources state (on a tie, the first in lexical "
                         "order: 2008 before 2009) until a `prefer` decision settles it")
    directors = sorted((d for d in _values(release, film, S.director) if isinstance(d, ox.NamedNode)), key=str)
    if directors:
        data["director"] = _one_or_all([_named(release, d, "Person") for d in directors[:LISTED]])
    else:
        lacks.append("no director: Google recommends one (field: director)")
    actors = _actors(release, film)
    if actors:
        data["actor"] = _one_or_all(actors)
    genres = _genres(release, film)
    if genres:
        data["genre"] = _one_or_all(genres)
    ratings = [r for r in _values(release, film, S.aggregateRating) if isinstance(r, ox.NamedNode)]
    if ratings:  # its figures as the curators chose them, where sources disagree (as for the film's own)
        settled = preferred(release, ratings[0])
        data["aggregateRating"] = {"@type": "AggregateRating", "@id": ratings[0].value, **{
            p: markup_value(p, found) for p in ("ratingValue", "ratingCount", "reviewCount", "bestRating")
            if (found := one_value(release, ratings[0], ox.NamedNode(vocab.SCHEMA + p), settled)) is not None
            and isinstance(found, ox.Literal)}}
    reviews = _reviews(release, film)
    if reviews:
        data["review"] = _one_or_all(reviews)
    if not ratings and not reviews:
        lacks.append("no review or aggregateRating: Google recommends one (a Review source with item_reviewed)")
    # the editor's own page of the film, not kg's: a carousel's list points to pages on the list's own site
    yours = f"https://www.example.com/films/{iri.rstrip('/').rsplit('/', 1)[-1]}"
    listed = safe_json(item_list([(1, yours)])).replace("\n", "")
    lacks.append("a carousel also needs a summary page listing the films as an ItemList (kg's /movie/ has one); "
                 f"on your own site's list of films, paste one with your page of each film in order, such as "
                 f"{listed}")
    return Snippet(data, lacks)
