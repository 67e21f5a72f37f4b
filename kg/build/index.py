"""Writing a release's index files from rows gathered shard by shard: listings by name and facet, entity pages,
spellings and their words (for typos)."""

from __future__ import annotations

import json
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.ids import Minter
from kg.layout import (
    FACETS,
    FUZZY_PREFIX,
    INDEX_INFO,
    NAMES_FILE,
    NEAR_FILE,
    OFFSETS,
    PAGES_FILE,
    STEP,
    TERMS_FILE,
    VERSION,
    YEARS,
    clean_field,
    deletions,
    facet_file,
    facet_key,
    fold,
    fuzzy_term,
    indexed_typos,
    listing_file,
)


def _write(path: Path, lines: Iterable[str]) -> int:
    """Write lines and the offsets of every STEP-th; return how many lines there are."""
    offsets = array("Q")
    count = position = 0
    rest = iter(lines)
    with path.open("wb") as out:
        while block := list(islice(rest, STEP)):
            offsets.append(position)
            data = "".join(line + "\n" for line in block).encode("utf-8")
            out.write(data)
            position += len(data)
            count += len(block)
    path.with_suffix(OFFSETS).write_bytes(offsets.tobytes())
    return count


@dataclass
class Rows:
    """What the index files are made of, gathered from some subjects' statements: each row a term's value (an IRI,
    a literal's lexical form)."""

    named: list[tuple[str, str]] = field(default_factory=list)  # (entity, name) in the editorial graph
    typed: set[tuple[str, str]] = field(default_factory=set)  # (entity, type): entities without #part
    least: dict[str, str] = field(default_factory=dict)  # entity -> the least of its literal names
    paged: set[str] = field(default_factory=set)  # entities without #part the editorial graph gives a type
    spelt: set[tuple[str, str]] = field(default_factory=set)  # (name or alternate name, entity)
    valued: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # facet property -> (entity, value) rows

    def add(self, other: Rows) -> None:
        """Take in another part's rows."""
        self.named += other.named
        self.typed |= other.typed
        for e, n in other.least.items():
            self.least[e] = min(n, self.least.get(e, n))
        self.paged |= other.paged
        self.spelt |= other.spelt
        for p, rows in other.valued.items():
            self.valued.setdefault(p, []).extend(rows)


FACET_PROPERTIES = sorted({p for facets in FACETS.values() for ps in facets.values() for p in ps})
_NAME, _ALTERNATE, _TYPE = vocab.S.name.value, vocab.S.alternateName.value, vocab.TYPE.value


def rows_of(union: Iterable[ox.Triple], editorial: Iterable[ox.Triple]) -> Rows:
    """The index rows of some subjects: every triple of the union about them, and their editorial graph's."""
    out = Rows()
    facets: dict[str, set[tuple[Any, Any]]] = {p: set() for p in FACET_PROPERTIES}
    for t in union:
        p, s, o = t.predicate.value, t.subject, t.object
        if p == _TYPE:
            if isinstance(s, ox.NamedNode) and "#" not in s.value:
                out.typed.add((s.value, o.value))
        elif p in (_NAME, _ALTERNATE) and isinstance(o, ox.Literal):
            if p == _NAME:
                out.least[s.value] = min(o.value, out.least.get(s.value, o.value))
            if isinstance(s, ox.NamedNode):
                out.spelt.add((o.value, s.value))
        if p in facets:
            facets[p].add((s, o))  # distinct terms, not values: "2001" and "2001"^^xsd:gYear are two rows
    for t in sorted(editorial, key=str):  # in one order on every build: the last name an entity has wins
        if t.predicate.value == _NAME:
            out.named.append((t.subject.value, t.object.value))
        elif t.predicate.value == _TYPE and isinstance(t.subject, ox.NamedNode) and "#" not in t.subject.value:
            out.paged.add(t.subject.value)
    out.valued = {p: sorted((s.value, o.value) for s, o in found) for p, found in facets.items()}
    return out


def store_rows(store: ox.Store, base_iri: str) -> Rows:
    """The index rows of everything a store holds (its default graph being the union of its named graphs)."""
    return rows_of((q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())),
                   (q.triple for q in store.quads_for_pattern(None, None, None, Minter(base_iri).editorial())))


def write(rows: Rows, target: Path, base_iri: str) -> dict[str, object]:
    """Write a release's index files from its rows; return what index.json says of them."""
    target.mkdir()
    return write_info(target, write_both(rows, target, base_iri))


def write_both(rows: Rows, target: Path, base_iri: str) -> dict[str, object]:
    """Both of `HALVES`, in this process (the listings' order worked out once for both)."""
    listed = _listed(rows, Minter(base_iri), _preferred(rows))
    return {**write_names(rows, target, base_iri, listed), **write_facets(rows, target, base_iri, listed)}


Listed = dict[str, list[tuple[str | None, str]]]  # by kind: its members in the listing's order, (name, entity)


def _listed(rows: Rows, minter: Minter, preferred: dict[str, str]) -> Listed:
    """By kind (what was minted under its path: /event/ ...), its members in the listing's order, (name, entity): the
    order of ORDER BY LCASE(?name) ?e, where an entity without a name comes first (`preferred`)."""
    kinds_of: dict[str, set[str]] = {}
    for e, _ in rows.typed:
        kind = minter.kind_of(e)
        if kind is not None:
            kinds_of.setdefault(kind, set()).add(e)
    return {kind: sorted(((preferred.get(e), e) for e in members),
                         key=lambda row: (row[0] is not None, (row[0] or "").lower(), row[1]))
            for kind, members in sorted(kinds_of.items())}


def _preferred(rows: Rows) -> dict[str, str]:
    """Each entity's name: the curators' preferred one, else the least of those the sources give (a source
    document's title)."""
    return {e: clean_field(n) for e, n in rows.least.items()} | {e: clean_field(n) for e, n in rows.named}


def write_names(rows: Rows, target: Path, base_iri: str, listed: Listed | None = None) -> dict[str, object]:
    """Write the listings, the pages, the names and their terms into `target` (a folder that exists); return what
    index.json says of them."""
    preferred = _preferred(rows)
    listings: dict[str, dict[str, object]] = {}
    for kind, members in (listed or _listed(rows, Minter(base_iri), preferred)).items():
        count = _write(target / listing_file(kind), (f"{e}\t{n or e}" for n, e in members))
        listings[kind] = {"file": listing_file(kind), "count": count}
    types: dict[str, set[str]] = {}
    for e, t in rows.typed:
        types.setdefault(t, set()).add(e)
    type_names = {e: t.rsplit("/", 1)[-1].rsplit("#", 1)[-1] for t, members in sorted(types.items(), reverse=True)
                  for e in members}  # one type's local name per entity, the same on every build
    # in the order of the first field, the search key: search finds the spellings that start with a text as one run
    names = sorted({(fold(n), clean_field(n), e) for n, e in rows.spelt if fold(n)})
    lines = [f"{key}\t{spelling}\t{e}\t{preferred.get(e, spelling)}\t{type_names.get(e, 'Thing')}"
             for key, spelling, e in names]
    return {
        "listings": listings,
        "pages": _write(target / PAGES_FILE, sorted(rows.paged)),
        "names": _write(target / NAMES_FILE, lines),
        **_write_terms(target, [key for key, _, _ in names],
                       accumulate((len(line.encode("utf-8")) + 1 for line in lines), initial=0)),
    }


def write_facets(rows: Rows, target: Path, base_iri: str, listed: Listed | None = None) -> dict[str, object]:
    """Write each facet's file into `target` (a folder that exists); return what index.json says of them."""
    ranks = {kind: {e: (place, n) for place, (n, e) in enumerate(members)}
             for kind, members in (listed or _listed(rows, Minter(base_iri), _preferred(rows))).items()}
    return {"facets": _write_facets(rows.valued, target, ranks)}


HALVES = (write_names, write_facets)  # each may be written by a process of its own, then `write_info`


def write_info(target: Path, *halves: dict[str, object]) -> dict[str, object]:
    """Write index.json from what each of `HALVES` gave; return it."""
    info: dict[str, object] = {"version": VERSION}
    for half in halves:
        info.update(half)
    (target / INDEX_INFO).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return info


def _write_terms(target: Path, keys: list[str], starts: Iterable[int]) -> dict[str, int]:
    """Write terms.tsv and near.tsv from names.tsv's search keys and where each line starts; return their lengths."""
    postings: dict[str, list[int]] = {}  # term -> the byte offsets of the lines of names.tsv that have it
    for key, at in zip(keys, starts, strict=False):  # `starts` also has the end of the file
        words = key.split()
        terms = {w for w in words if fuzzy_term(w)}
        if len(words) == 2 and fuzzy_term("".join(words)):
            terms.add("".join(words))  # a space typed or not: casablanca finds Casa Blanca, spiderman Spider-Man
        for term in terms:
            postings.setdefault(term, []).append(at)
    heads: dict[str, int] = {}  # a term's first letters -> how many of them the index deletes
    for term in postings:
        head = term[:FUZZY_PREFIX]
        heads[head] = max(heads.get(head, 0), indexed_typos(len(term)))
    near: defaultdict[str, list[str]] = defaultdict(list)
    for head in sorted(heads):  # so that each key's list is in order
        for deleted in deletions(head, heads[head]):
            near[deleted].append(head)
    return {"terms": _write(target / TERMS_FILE, (f"{t}\t{' '.join(map(str, postings[t]))}" for t in sorted(postings))),
            "near": _write(target / NEAR_FILE, (f"{k}\t{' '.join(near[k])}" for k in sorted(near)))}


def _write_facets(valued: dict[str, list[tuple[str, str]]], target: Path,
                  ranks: dict[str, dict[str, tuple[int, str | None]]]) -> dict[str, Any]:
    """Each facet's file (lines `key, iri, name` by key, then in the listing's order) and its values with counts,
    from the (entity, value) rows of each facet's properties."""
    out: dict[str, Any] = {}
    for kind, facets in FACETS.items():
        members = ranks.get(kind, {})
        for facet, predicates in facets.items():
            found: dict[str, set[str]] = {}  # entity -> keys, from the first property that gives any
            spellings: dict[str, dict[str, int]] = {}  # key -> its spellings, counted
            for predicate in predicates:
                got: dict[str, set[str]] = {}
                for e, value in valued[predicate]:
                    if e not in members or e in found:
                        continue
                    key = facet_key(facet, value)
                    if key is not None:
                        got.setdefault(e, set()).add(key)
                        shown, spelling = spellings.setdefault(key, {}), key if facet in YEARS else clean_field(value)
                        shown[spelling] = shown.get(spelling, 0) + 1
                found.update(got)
            lines = sorted((key, members[e][0], e) for e, keys in found.items() for key in keys)
            _write(target / facet_file(kind, facet), (f"{key}\t{e}\t{members[e][1] or e}" for key, _, e in lines))
            counts: dict[str, int] = {}
            for key, _, _ in lines:
                counts[key] = counts.get(key, 0) + 1
            # the spelling most sources use, and the first of those in order when several are as common
            labels = {key: min(shown.items(), key=lambda kv: (-kv[1], kv[0]))[0] for key, shown in spellings.items()}
            out.setdefault(kind, {})[facet] = {"file": facet_file(kind, facet),
                                               "values": [[key, labels[key], counts[key]] for key in sorted(counts)]}
    return out
