"""Listings of a kind's entities by name, narrowed by facets, and the pages of the sitemap (from the index)."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import layout
from kg.ids import Minter
from kg.serve import index
from kg.serve.documents import NAME
from kg.serve.nearby import view
from kg.serve.store import Release
from kg.serve.summaries import summaries, year


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


class BadFilter(ValueError):
    """A filter a kind's listing does not have, or a value that filter cannot hold (a year that is not one)."""


FILTERS = frozenset(name for facets in layout.FACETS.values() for name in facets)  # what any kind is narrowed by


def facet_names(kind: str) -> tuple[str, ...]:
    """The facets a kind's listing can be narrowed by."""
    return tuple(layout.FACETS.get(kind, {}))


PARAMETERS = frozenset(("page", "size", "format"))  # what a listing reads besides its filters


def meant_as_filter(name: str) -> bool:
    """Whether a query parameter that is no listing parameter was meant as a filter: one of any kind's, or a name
    like one (birth_year, Year, genres); other parameters (a campaign's tag, a cache buster) are let be."""
    low = name.lower()
    return name not in PARAMETERS and (low in FILTERS or any(f in low for f in FILTERS) or bool(
        difflib.get_close_matches(low, FILTERS | PARAMETERS, n=1, cutoff=0.7)))


def check_filters(kind: str, filters: dict[str, str]) -> None:
    """Raise BadFilter for a filter the kind's listing does not have, or a year filter whose value is not a year."""
    have = facet_names(kind)
    for name, value in filters.items():
        if name not in have:
            raise BadFilter(f"This list has no filter '{name}': "
                            + (f"its filters are {', '.join(have)}" if have else "it has no filters"))
        # as `layout.facet_key` files it; an empty one narrows nothing
        if name in layout.YEARS and value and not (len(value) == 4 and value.isdigit()):
            raise BadFilter(f"The filter '{name}' must be a year of four digits (as 1953), not {value[:50]!r}")


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
    repeated = [iri for part in (films, people) for iri, name in part.items if named[name] > 1]
    release = view(release, [*(iri for iri, _ in films.items), *repeated], pages=False)
    notes = {iri: f"({found})" for iri, _ in films.items if (found := year(release, iri))}
    notes.update(summaries(release, repeated))
    return FrontPage(films, people, notes)


def listing(release: Release, kind: str, page: int = 1, size: int = 100,
            filters: dict[str, str] | None = None) -> Listing:
    """The entities minted under a kind's path (`/event/...`), by name, a page at a time; with `filters`
    (facet -> value, see `facet_names`), only those with every value. Raises NoFacets for a release without the
    facet index.

    The name is the curators' preferred one, else the least of those the sources give.
    """
    info = index.info(release.path)
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
    # a release without the index (built by an older kg): every member's name, ordered as the index orders them
    rows = release.select(f"""
        SELECT ?e (COALESCE(SAMPLE(?n), MIN(STR(?a))) AS ?name) WHERE {{
            {members}
            OPTIONAL {{ GRAPH <{Minter(str(release.meta['base_iri'])).editorial().value}> {{ ?e <{NAME.value}> ?n }} }}
            OPTIONAL {{ ?e <{NAME.value}> ?a FILTER(isLiteral(?a)) }}
        }} GROUP BY ?e""")
    named = sorted(((row["e"].value, row["name"].value if row["name"] is not None else None) for row in rows),
                   key=lambda item: layout.listing_key(item[1], item[0]))
    items = [(e, name if name is not None else e) for e, name in named[(page - 1) * size:page * size]]
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


def page_count(release: Release) -> int:
    """How many entity pages the release has (the sitemap's size)."""
    info = index.info(release.path)
    return int(info["pages"]) if info is not None else len(_pages_by_query(release))


def pages(release: Release, start: int, count: int) -> list[str]:
    """IRIs of entity pages start..start+count-1, in IRI order."""
    if index.info(release.path) is not None:
        return [row[0] for row in index.read(release.path / layout.INDEX_DIR / layout.PAGES_FILE, start, count)]
    return _pages_by_query(release)[start:start + count]


def _pages_by_query(release: Release) -> list[str]:
    editorial = Minter(str(release.meta["base_iri"])).editorial().value
    rows = release.select(f"SELECT DISTINCT ?e WHERE {{ GRAPH <{editorial}> {{ ?e a ?t }} }} ORDER BY ?e")
    return [row["e"].value for row in rows if "#" not in row["e"].value]
