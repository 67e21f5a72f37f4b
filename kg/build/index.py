"""Writing a release's index files from rows gathered shard by shard: listings by name and facet, entity pages,
spellings and their words (for typos)."""

from __future__ import annotations

import heapq
import json
import tempfile
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.ids import Minter
from kg.layout import (
    FACETS,
    FUZZY_PREFIX,
    INDEX_INFO,
    JOINED_FILE,
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
    listing_key,
)


def _write(path: Path, lines: Iterable[str]) -> int:
    """Write lines and the offsets of every STEP-th; return how many lines there are."""
    return _write_bytes(path, (line.encode("utf-8") + b"\n" for line in lines))


def _write_bytes(path: Path, lines: Iterable[bytes]) -> int:
    """Write lines (each ending in a newline) and the offsets of every STEP-th; return how many there are."""
    offsets = array("Q")
    count = position = 0
    rest = iter(lines)
    with path.open("wb") as out:
        while block := list(islice(rest, STEP)):
            offsets.append(position)
            data = b"".join(block)
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
_SETTLED = {vocab.K.conflictSubject.value: 0, vocab.K.conflictProperty.value: 1, vocab.K.preferredValue.value: 2}


def rows_of(union: Iterable[ox.Triple], editorial: Iterable[ox.Triple]) -> Rows:
    """The index rows of some subjects: every triple of the union about them, and their editorial graph's."""
    out = Rows()
    facets: dict[str, set[tuple[Any, Any]]] = {p: set() for p in FACET_PROPERTIES}
    settled: dict[Any, list[Any]] = {}  # a conflict node -> its entity, property and preferred value
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
        elif p in _SETTLED:  # a conflict the curators settled: its entity is filed under the value they chose
            settled.setdefault(s, [None, None, None])[_SETTLED[p]] = o
    for t in sorted(editorial, key=str):  # in one order on every build: the last name an entity has wins
        if t.predicate.value == _NAME:
            out.named.append((t.subject.value, t.object.value))
        elif t.predicate.value == _TYPE and isinstance(t.subject, ox.NamedNode) and "#" not in t.subject.value:
            out.paged.add(t.subject.value)
    for entity, predicate, chosen in settled.values():
        if entity is not None and chosen is not None and predicate is not None and predicate.value in facets:
            found = facets[predicate.value]
            found.difference_update([(s, o) for s, o in found if s == entity])
            found.add((entity, chosen))
    out.valued = {p: sorted((s.value, o.value) for s, o in found) for p, found in facets.items()}
    return out


def store_rows(store: ox.Store, base_iri: str) -> Rows:
    """The index rows of everything a store holds (its default graph being the union of its named graphs)."""
    return rows_of((q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())),
                   (q.triple for q in store.quads_for_pattern(None, None, None, Minter(base_iri).editorial())))


def write(rows: Rows, target: Path, base_iri: str) -> dict[str, object]:
    """Write a release's index files from all its rows (one run, merged alone); return what index.json says."""
    target.mkdir()
    with tempfile.TemporaryDirectory(prefix="kg-index-") as work:
        run = Path(work) / "all.run"
        return write_runs([(run, write_run(rows, run, base_iri))], target)


@dataclass(frozen=True)
class Run:
    """Some entities' index lines, in a file of their own (`write_run`): by index file, where its lines are (offset,
    how many, and how many parts the sort key leading each has); the kinds listed; by facet file, how many lines
    have each key and how often each spelling gives it."""

    sections: dict[str, tuple[int, int, int]]
    kinds: frozenset[str]
    counts: dict[str, dict[str, int]]
    spellings: dict[str, dict[str, dict[str, int]]]


def _sort_part(text: str) -> bytes:
    """A part of a sort key: UTF-8 (its bytes sort as the text's code points), bytes 0 and 1 escaped so that a 0 ends
    the part and whole keys still sort as their parts do."""
    return text.encode("utf-8").replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01")


def _keyed(key: tuple[str, ...], line: str) -> bytes:
    """A line led by its sort key."""
    return b"".join(_sort_part(part) + b"\x00" for part in key) + line.encode("utf-8") + b"\n"


def write_run(rows: Rows, path: Path, base_iri: str) -> Run:
    """Write the index lines of some entities into `path` (every row of each of them is in `rows`), each index
    file's lines sorted; return where they are. Runs of other entities merge into the release's files (`write_runs`)."""
    minter = Minter(base_iri)
    # each entity's name: the curators' preferred one, else the least of those the sources give
    preferred = {e: clean_field(n) for e, n in rows.least.items()} | {e: clean_field(n) for e, n in rows.named}
    kinds: dict[str, set[str]] = {}
    type_of: dict[str, str] = {}  # one type per entity, the same on every build
    for e, t in rows.typed:
        if (kind := minter.kind_of(e)) is not None:
            kinds.setdefault(kind, set()).add(e)
        type_of[e] = min(t, type_of.get(e, t))

    def listed(e: str) -> tuple[str, str, str, str]:
        return listing_key(preferred.get(e), e)

    files: dict[str, tuple[int, list[bytes]]] = {
        listing_file(kind): (4, [_keyed(listed(e), f"{e}\t{preferred.get(e) or e}") for e in members])
        for kind, members in kinds.items()}
    files[PAGES_FILE] = (1, [_keyed((e,), e) for e in rows.paged])
    # in the order of the first field, the search key: search finds the spellings that start with a text as one run
    names: set[tuple[str, str, str]] = set()
    joined: set[tuple[str, str, str]] = set()
    for n, e in rows.spelt:
        if folded := fold(n):
            names.add((folded, spelt_as := clean_field(n), e))
            if (run_together := fold(n, joined=True)) != folded:
                joined.add((run_together, spelt_as, e))
    for file, spellings_keyed in ((NAMES_FILE, names), (JOINED_FILE, joined)):
        files[file] = (3, [_keyed(key, f"{key[0]}\t{key[1]}\t{key[2]}\t{preferred.get(key[2], key[1])}\t"
                                       f"{_local(type_of[key[2]]) if key[2] in type_of else 'Thing'}")
                           for key in spellings_keyed])
    counts: dict[str, dict[str, int]] = {}
    spellings: dict[str, dict[str, dict[str, int]]] = {}
    for kind, facets in FACETS.items():
        members = kinds.get(kind, set())
        for facet, predicates in facets.items():
            name = facet_file(kind, facet)
            found: dict[str, set[str]] = {}  # entity -> keys, from the first property that gives any
            shown = spellings[name] = {}
            for predicate in predicates:
                got: dict[str, set[str]] = {}
                for e, value in rows.valued.get(predicate, ()):
                    if e not in members or e in found:
                        continue
                    key = facet_key(facet, value)
                    if key is not None:
                        got.setdefault(e, set()).add(key)
                        spelt = shown.setdefault(key, {})
                        spelling = key if facet in YEARS else clean_field(value)
                        spelt[spelling] = spelt.get(spelling, 0) + 1
                found.update(got)
            counted = counts[name] = {}
            for keys in found.values():
                for key in keys:
                    counted[key] = counted.get(key, 0) + 1
            files[name] = (5, [_keyed((key, *listed(e)), f"{key}\t{e}\t{preferred.get(e) or e}")
                               for e, keys in found.items() for key in keys])
    sections = {}
    with path.open("wb") as out:
        for name, (parts, lines) in files.items():
            lines.sort()
            sections[name] = (out.tell(), len(lines), parts)
            out.writelines(lines)
    return Run(sections, frozenset(kinds), counts, spellings)


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _section(path: Path, where: tuple[int, int, int]) -> Iterator[bytes]:
    offset, count, _ = where
    with path.open("rb") as f:
        f.seek(offset)
        yield from islice(f, count)


def _merged(runs: Sequence[tuple[Path, Run]], name: str) -> Iterator[bytes]:
    """An index file's lines, in order, from every run that has some (their sort keys taken off)."""
    found = [(path, run.sections[name]) for path, run in runs if name in run.sections]
    if not found:
        return
    parts = found[0][1][2]
    for line in heapq.merge(*(_section(path, where) for path, where in found)):
        yield line.split(b"\x00", parts)[parts]


def write_runs(runs: Sequence[tuple[Path, Run]], target: Path) -> dict[str, object]:
    """Write a release's index files into `target` (a folder that exists) from its entities' runs (each run's file
    and what `write_run` said of it), and index.json; return what index.json says."""
    info = {"version": VERSION, **write_lists(runs, target), **write_names(runs, target)}
    write_info(target, info)
    return info


def write_lists(runs: Sequence[tuple[Path, Run]], target: Path) -> dict[str, object]:
    """The listings, entity pages and facets of `write_runs` (what index.json says of them): apart from the names,
    so that two workers write the index at once."""
    info: dict[str, Any] = {"listings": {}, "facets": {}}
    for kind in sorted({kind for _, run in runs for kind in run.kinds}):
        info["listings"][kind] = {"file": listing_file(kind),
                                  "count": _write_bytes(target / listing_file(kind), _merged(runs, listing_file(kind)))}
    info["pages"] = _write_bytes(target / PAGES_FILE, _merged(runs, PAGES_FILE))
    for kind, facets in FACETS.items():
        for facet in facets:
            name = facet_file(kind, facet)
            _write_bytes(target / name, _merged(runs, name))
            counts: dict[str, int] = {}
            spellings: dict[str, dict[str, int]] = {}
            for _, run in runs:
                for key, n in run.counts.get(name, {}).items():
                    counts[key] = counts.get(key, 0) + n
                for key, spelt in run.spellings.get(name, {}).items():
                    shown = spellings.setdefault(key, {})
                    for spelling, n in spelt.items():
                        shown[spelling] = shown.get(spelling, 0) + n
            # the spelling most sources use, and the first of those in order when several are as common
            labels = {key: min(shown.items(), key=lambda kv: (-kv[1], kv[0]))[0] for key, shown in spellings.items()}
            info["facets"].setdefault(kind, {})[facet] = {"file": name, "values": [[key, labels[key], counts[key]]
                                                                                  for key in sorted(counts)]}
    return info


def write_names(runs: Sequence[tuple[Path, Run]], target: Path) -> dict[str, object]:
    """The spellings, run-together spellings and their words (for typos) of `write_runs` (what index.json says of
    them)."""
    keys: list[str] = []
    ends: list[int] = [0]

    def names() -> Iterator[bytes]:
        for line in _merged(runs, NAMES_FILE):
            keys.append(line[:line.index(b"\t")].decode("utf-8"))
            ends.append(ends[-1] + len(line))
            yield line

    info: dict[str, object] = {"names": _write_bytes(target / NAMES_FILE, names())}
    info["joined"] = _write_bytes(target / JOINED_FILE, _merged(runs, JOINED_FILE))
    info.update(_write_terms(target, keys, ends))
    return info


def write_info(target: Path, info: dict[str, object]) -> None:
    """Write index.json: what `write_lists` and `write_names` said, and the index's version."""
    (target / INDEX_INFO).write_text(json.dumps({"version": VERSION, **info}, indent=1, sort_keys=True) + "\n",
                                     encoding="utf-8")


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
