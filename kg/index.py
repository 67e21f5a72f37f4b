"""A release's lookup files: entities of each kind in name order (and by facet: a film's year, its genre),
every entity page, every spelling.

The build writes them once from the store; the server reads them by seeking, so listings, the sitemap and
search cost the same on a graph of 100 entities as on one of 100,000 (an ORDER BY or a scan of every name on
the store does not: at 100,000 films a page of films took 5 s, a sitemap part 23 s, a search 9 s).
"""

from __future__ import annotations

import csv
import io
import json
import mmap
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import vocab
from .ids import PATHS

INDEX_DIR = "index"
STEP = 100  # the byte offset of every STEP-th line is kept, so any page of a multiple of STEP lines is one seek
KINDS = frozenset(PATHS.values())
VERSION = 3  # bumped when the files change shape: a release with another version is read by SPARQL instead
MAX_MATCHES = 2000
# What a kind's listing can be narrowed by: facet name -> the properties whose values give it, in order of
# preference (a film's year is when it was made, else when first shown). Years are the first four digits.
FACETS: dict[str, dict[str, tuple[str, ...]]] = {
    "movie": {"year": (vocab.S.dateCreated.value, vocab.S.datePublished.value), "genre": (vocab.S.genre.value,)},
    "person": {"born": (vocab.S.birthDate.value,)},
    "event": {"year": (vocab.S.startDate.value,)},
}
YEARS = frozenset({"year", "born"})


def _clean(text: str) -> str:
    return " ".join(text.split())  # a field holds no tab or newline


_APOSTROPHES = "'’ʼ"
_ASCII_FOLD = str.maketrans({**{c: " " for c in "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"}, **{c: None for c in "'"}})


def fold(text: str) -> str:
    """A text as search compares it: lower case, without accents or apostrophes, other punctuation as spaces
    (Jae-hoon and Jae hoon, Chloé and Chloe, O'Brien and OBrien are one)."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_FOLD).split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join("" if unicodedata.category(c) == "Mn" or c in _APOSTROPHES else
                   " " if unicodedata.category(c)[0] in "PS" else c for c in decomposed)
    return " ".join(unicodedata.normalize("NFC", kept).split())  # Hangul syllables come back whole


def listing_file(kind: str) -> str:
    """The file name of a kind's listing."""
    return f"kind-{kind}.tsv"


def facet_file(kind: str, facet: str) -> str:
    """The file name of a facet of a kind's listing."""
    return f"facet-{kind}-{facet}.tsv"


def facet_key(facet: str, value: str) -> str | None:
    """What a value is filed under: a year's four digits, else the text in lower case (None: not filed)."""
    if facet in YEARS:
        return value[:4] if value[:4].isdigit() else None
    key = _clean(value).lower()
    return key or None


def kind_of(iri: str, base_iri: str) -> str | None:
    """The kind of an entity minted under the base (`<base>event/x` -> 'event'); None for anything else."""
    if not iri.startswith(base_iri) or "#" in iri:
        return None
    kind = iri[len(base_iri):].split("/", 1)[0]
    return kind if kind in KINDS else None


def _write(path: Path, lines: Iterable[str]) -> int:
    """Write lines and the offsets of every STEP-th; return how many lines there are."""
    offsets = array("Q")
    count = position = 0
    with path.open("wb") as out:
        for line in lines:
            if count % STEP == 0:
                offsets.append(position)
            data = (line + "\n").encode("utf-8")
            out.write(data)
            position += len(data)
            count += 1
    path.with_suffix(".offsets").write_bytes(offsets.tobytes())
    return count


def read(path: Path, start: int, count: int) -> list[list[str]]:
    """Lines start..start+count-1 of an index file, split into fields."""
    offsets = array("Q")
    offsets.frombytes(path.with_suffix(".offsets").read_bytes())
    block = start // STEP
    if start < 0 or block >= len(offsets):
        return []
    out: list[list[str]] = []
    with path.open("rb") as lines:
        lines.seek(offsets[block])
        for n, raw in enumerate(lines, block * STEP):
            if n >= start:
                out.append(raw.decode("utf-8").rstrip("\n").split("\t"))
                if len(out) == count:
                    break
    return out


def _rows(store: ox.Store, query: str) -> list[list[str]]:
    """A SELECT's rows as plain values (CSV written by the store: no Python object per term)."""
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    data = result.serialize(format=ox.QueryResultsFormat.CSV) or b""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]


def write(store: ox.Store, target: Path, base_iri: str) -> dict[str, object]:
    """Write a release's index files from its store; return what index.json says of them."""
    target.mkdir()
    editorial = f"<{base_iri}source/editorial>"
    name, alternate = f"<{vocab.S.name.value}>", f"<{vocab.S.alternateName.value}>"
    queries = [f"SELECT ?e ?n WHERE {{ GRAPH {editorial} {{ ?e {name} ?n }} }}",
               "SELECT ?e ?t WHERE { ?e a ?t FILTER(isIRI(?e) && !CONTAINS(STR(?e), '#')) }",
               f"SELECT ?e (MIN(STR(?n)) AS ?any) WHERE {{ ?e {name} ?n FILTER(isLiteral(?n)) }} GROUP BY ?e",
               f"SELECT DISTINCT ?e WHERE {{ GRAPH {editorial} {{ ?e a ?t }} FILTER(isIRI(?e) && "
               "!CONTAINS(STR(?e), '#')) }",
               f"SELECT DISTINCT ?n ?e WHERE {{ ?e {name}|{alternate} ?n FILTER(isLiteral(?n) && isIRI(?e)) }}"]
    facet_properties = sorted({p for facets in FACETS.values() for ps in facets.values() for p in ps})
    queries += [f"SELECT DISTINCT ?e ?v WHERE {{ ?e <{p}> ?v }}" for p in facet_properties]
    with ThreadPoolExecutor(max_workers=2) as pool:  # the store evaluates and writes without the GIL
        named, typed, some, paged, spelt, *valued = pool.map(lambda q: _rows(store, q), queries)
    # the curators' preferred name, else the least of the names the sources give (a source document's title)
    preferred = {e: _clean(n) for e, n in some} | {e: _clean(n) for e, n in named}
    types: dict[str, set[str]] = {}
    for e, t in typed:
        types.setdefault(t, set()).add(e)
    kinds_of: dict[str, set[str]] = {}  # a kind's listing is what was minted under its path: /event/ ...
    for e, _ in typed:
        kind = kind_of(e, base_iri)
        if kind is not None:
            kinds_of.setdefault(kind, set()).add(e)
    listings: dict[str, dict[str, object]] = {}
    ranks: dict[str, dict[str, tuple[int, str | None]]] = {}  # kind -> entity -> (place in the listing, name)
    for kind, members in sorted(kinds_of.items()):
        # the order of ORDER BY LCASE(?name) ?e, where an entity without a name comes first
        rows = sorted(((preferred.get(e), e) for e in members),
                      key=lambda row: (row[0] is not None, (row[0] or "").lower(), row[1]))
        count = _write(target / listing_file(kind), (f"{e}\t{n or e}" for n, e in rows))
        listings[kind] = {"file": listing_file(kind), "count": count}
        ranks[kind] = {e: (place, n) for place, (n, e) in enumerate(rows)}
    type_names = {e: t.rsplit("/", 1)[-1].rsplit("#", 1)[-1] for t, members in sorted(types.items(), reverse=True)
                  for e in members}  # one type's local name per entity, the same on every build
    # in the order of the first field, the search key: search finds the spellings that start with a text as one run
    names = sorted({(fold(n), _clean(n), e) for n, e in spelt if fold(n)})
    info = {
        "version": VERSION,
        "listings": listings,
        "pages": _write(target / "pages.tsv", sorted(e for (e,) in paged)),
        "names": _write(target / "names.tsv", (
            f"{key}\t{spelling}\t{e}\t{preferred.get(e, spelling)}\t{type_names.get(e, 'Thing')}"
            for key, spelling, e in names)),
    }
    info["facets"] = _write_facets(dict(zip(facet_properties, valued, strict=True)), target, ranks)
    (target / "index.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return info


def _write_facets(valued: dict[str, list[list[str]]], target: Path,
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
                        shown, spelling = spellings.setdefault(key, {}), key if facet in YEARS else _clean(value)
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


def facet_members(path: Path, key: str) -> list[tuple[str, str]]:
    """(iri, name) of the entities filed under `key` in a facet file, in the listing's order."""
    wanted = key.encode("utf-8") + b"\t"
    if "\n" in key or "\t" in key or path.stat().st_size == 0:
        return []
    out: list[tuple[str, str]] = []
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        at = 0 if data[:len(wanted)] == wanted else data.find(b"\n" + wanted) + 1
        if at == 0 and data[:len(wanted)] != wanted:
            return []
        while at < len(data) and data[at:at + len(wanted)] == wanted:
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            _, iri, name = data[at:end].decode("utf-8").split("\t")
            out.append((iri, name))
            at = end + 1
    return out


def facet_keys(path: Path, members: set[str]) -> dict[str, int]:
    """How many of `members` each key of a facet file holds."""
    counts: dict[str, int] = {}
    with path.open("rb") as lines:
        for raw in lines:
            key, iri, _ = raw.decode("utf-8").split("\t", 2)
            if iri in members:
                counts[key] = counts.get(key, 0) + 1
    return counts


def current_version(release_dir: Path) -> bool:
    """Whether a release has index files of the version this kg reads."""
    try:
        info = json.loads((release_dir / INDEX_DIR / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("version") == VERSION


@dataclass(frozen=True)
class Match:
    """A spelling that contains what was searched for, with its entity."""

    spelling: str
    iri: str
    name: str
    type: str


def _match(data: mmap.mmap, start: int, end: int) -> Match:
    _, spelling, iri, name, kind = data[start:end].decode("utf-8").split("\t")
    return Match(spelling, iri, name, kind)


def search(path: Path, needle: str) -> Iterator[Match]:
    """Spellings in names.tsv whose search key contains `needle` (a key: see `fold`): those that start with it first.

    The file is sorted by the search key, so the spellings whose key starts with the needle are one run of
    lines, found with one search; then every other line that contains it, up to MAX_MATCHES in all.
    """
    wanted = needle.encode("utf-8")
    if not wanted or path.stat().st_size == 0:
        return
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        def starts(at: int) -> bool:
            return data[at:at + len(wanted)] == wanted

        found = 0
        run_start = 0 if starts(0) else data.find(b"\n" + wanted) + 1
        run_end = run_start
        if run_start > 0 or starts(0):
            while found < MAX_MATCHES and run_end < len(data) and starts(run_end):
                end = data.find(b"\n", run_end)
                end = len(data) if end < 0 else end
                if run_end + len(wanted) <= data.find(b"\t", run_end):  # the needle lies in the first field
                    found += 1
                    yield _match(data, run_end, end)
                run_end = end + 1
        at = data.find(wanted)
        while at >= 0 and found < MAX_MATCHES:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            # in the first field (the spelling in lower case), and not one of the run already given
            if at + len(wanted) <= data.find(b"\t", start) and not run_start <= start < run_end:
                found += 1
                yield _match(data, start, end)
            at = data.find(wanted, end)
