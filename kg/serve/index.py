"""A release's lookup files: entities of each kind in name order (and by facet: a film's year, its genre),
every entity page, every spelling, and the words of the spellings for finding them despite typos.

The build writes them once from the store; the server reads them by seeking, so listings, the sitemap and
search cost the same on a graph of 100 entities as on one of 100,000 (an ORDER BY or a scan of every name on
the store does not: at 100,000 films a page of films took 5 s, a sitemap part 23 s, a search 9 s).

A misspelt word is looked up the same way, never by comparing it with every word: near.tsv holds the strings left
by deleting a letter or two from the start of each term (see `kg.layout.deletions`), so the terms a few edits away
are those filed under the word's own deletions; terms.tsv gives each term's lines in names.tsv.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import json
import mmap
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.layout import (
    FUZZY_PREFIX,
    INDEX_DIR,
    INDEX_INFO,
    NEAR_FILE,
    OFFSETS,
    STEP,
    TERMS_FILE,
    VERSION,
    deletions,
    typos,
)

MAX_MATCHES = 2000


def read(path: Path, start: int, count: int) -> list[list[str]]:
    """Lines start..start+count-1 of an index file, split into fields."""
    offsets = array("Q")
    offsets.frombytes(path.with_suffix(OFFSETS).read_bytes())
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


def info(release_dir: Path) -> dict[str, Any] | None:
    """The release's index.json, if its index files are of the version this kg reads and are still there (else
    None: the release is read by SPARQL instead)."""
    found = _info(release_dir)
    return found if found is not None and (release_dir / INDEX_DIR).is_dir() else None


@functools.lru_cache(maxsize=8)  # a release's files never change: read once per release
def _info(release_dir: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((release_dir / INDEX_DIR / INDEX_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("version") == VERSION else None


def current_version(release_dir: Path) -> bool:
    """Whether a release has index files of the version this kg reads."""
    return info(release_dir) is not None


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


def exact(path: Path, needle: str) -> Iterator[Match]:
    """Spellings in names.tsv whose search key is `needle`, found by bisection in its sampled lines (not a scan)."""
    wanted = needle.encode("utf-8")
    if not wanted or b"\t" in wanted or b"\n" in wanted or path.stat().st_size == 0:
        return
    with _opened(path) as (data, samples):
        for count, (field, rest) in enumerate(_run(data, samples, wanted)):
            if field != wanted or count >= MAX_MATCHES:  # (sorted: the key itself before the keys it starts)
                return
            spelling, iri, name, kind = rest.decode("utf-8").split("\t")
            yield Match(spelling, iri, name, kind)


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


def edits(a: str, b: str, most: int) -> int:
    """Edits (a letter inserted, deleted or changed, two neighbours swapped) from `a` to `b`; over `most`: most + 1."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > most:
        return most + 1
    over = most + 1
    before: list[int] = []
    above = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [over] * len(b)
        for j in range(max(1, i - most), min(len(b), i + most) + 1):  # a cell further off the diagonal is > most
            cost = min(above[j] + 1, row[j - 1] + 1, above[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cost = min(cost, before[j - 2] + 1)
            row[j] = cost
        if min(row) > most:
            return over
        before, above = above, row
    return min(above[-1], over)


def _run(data: mmap.mmap, samples: array[int], wanted: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(first field, the rest) of the lines of a file sorted by first field whose first field starts with `wanted`."""
    # they are one run: it starts after the last sampled line before `wanted`, within the STEP lines that follow
    i = bisect.bisect_left(samples, wanted, key=lambda at: data[at:data.find(b"\t", at)])
    at = 0
    if i > 0:
        end = samples[i] + len(wanted) if i < len(samples) else len(data)
        at = data.find(b"\n" + wanted, samples[i - 1], end) + 1
        if at == 0:
            return
    while at < len(data) and data[at:at + len(wanted)] == wanted:
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        tab = data.find(b"\t", at, end)
        yield data[at:tab], data[tab + 1:end]
        at = end + 1


@dataclass(frozen=True)
class Term:
    """A word of the spellings (or a two-word spelling run together) close to a word searched for."""

    text: str
    edits: int
    lines: tuple[int, ...]  # where names.tsv has it: the byte offset of each line


def similar(index_dir: Path, word: str) -> list[Term]:
    """The terms as many edits from `word` as `kg.layout.typos` allows (the word itself included)."""
    most = typos(len(word))
    if most == 0 or not (index_dir / NEAR_FILE).stat().st_size:
        return []
    heads: set[bytes] = set()
    with _opened(index_dir / NEAR_FILE) as (data, samples):
        for deleted in deletions(word, most):
            key = deleted.encode("utf-8")
            heads.update(head for field, rest in _run(data, samples, key) if field == key
                         for head in rest.split(b" "))
    found: list[Term] = []
    with _opened(index_dir / TERMS_FILE) as (data, samples):
        for head in sorted(heads):
            whole = len(head.decode("utf-8")) < FUZZY_PREFIX  # the term itself, not the start of longer ones
            for field, rest in _run(data, samples, head):
                if whole and field != head:
                    break
                term = field.decode("utf-8")
                distance = edits(word, term, most)
                if distance <= most:
                    found.append(Term(term, distance, tuple(int(n) for n in rest.split(b" "))))
    return found


def lines_at(path: Path, starts: Iterable[int]) -> Iterator[tuple[str, Match]]:
    """The search key and the spelling of the lines of names.tsv that start at these byte offsets."""
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for at in starts:
            end = data.find(b"\n", at)
            match = _match(data, at, len(data) if end < 0 else end)
            yield data[at:data.find(b"\t", at)].decode("utf-8"), match


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[mmap.mmap, array[int]]]:
    """A sorted index file, mapped, with the offsets of its sampled lines."""
    samples = array("Q")
    samples.frombytes(path.with_suffix(OFFSETS).read_bytes())
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data, samples
