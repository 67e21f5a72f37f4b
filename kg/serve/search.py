"""Search by name: the index of every spelling, ranked exact, then word start, then the rest; close spellings
when nothing contains the text."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kg import layout
from kg.ids import MAX_SLUG, Minter
from kg.serve import index
from kg.serve.documents import ALT, NAME, valid_iri
from kg.serve.store import Release

MIN_SEARCH = 2  # characters a search for names containing it needs; a shorter one finds whole names alone


def too_short(needle: str) -> bool:
    """Whether a search text is too short to look for names containing it (a wide character, a Hangul syllable or
    a Chinese character, holds about as much as two letters: 탈 is a search of its own)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in needle) < MIN_SEARCH


def too_short_text(text: str) -> bool:
    """Whether a text typed is too short to look for names containing it: folded (`too_short`), or as typed (Æ
    folds to two letters, ae, but is one)."""
    return too_short(layout.fold(text)) or too_short(_needle(text))


MAX_HITS = 50  # a page of hits
MAX_FOUND = 2000  # hits a search ranks at most (its pages go that far)


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
    edits: int | None = None  # how far the spelling is from the text searched for (None: it contains the text)


def search_query(base_iri: str, text: str) -> str | None:
    """The SPARQL query for entities with a name or spelling containing `text` (that is `text`, when it is shorter
    than MIN_SEARCH; None when it is blank)."""
    needle = _needle(text)
    if not needle:
        return None
    literal = json.dumps(needle, ensure_ascii=False)  # a valid SPARQL string: quotes, backslashes, controls escaped
    test = f"LCASE(STR(?n)) = {literal}" if too_short(needle) else f"CONTAINS(LCASE(STR(?n)), {literal})"
    return f"""SELECT ?e ?n ?name ?t WHERE {{
  ?e <{NAME.value}>|<{ALT.value}> ?n . FILTER({test})
  ?e a ?t .
  OPTIONAL {{ GRAPH <{Minter(base_iri).editorial().value}> {{ ?e <{NAME.value}> ?name }} }}
}} LIMIT 2000"""


_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "der", "die", "das", "el", "il", "lo", "los", "las"})


@dataclass
class Found:
    """One page of what a search found, with how many there are of each kind (films, people, ...)."""

    hits: list[Hit]
    total: int  # of the kind asked for (all kinds when none)
    kinds: dict[str, int]
    page: int
    pages: int
    approximate: bool = False  # nothing contains the text: these are close spellings


def paged(hits: list[Hit], base_iri: str, kind: str | None, page: int, size: int = MAX_HITS) -> Found:
    """A page of ranked hits, narrowed to one kind of record when `kind` names one."""
    minter = Minter(base_iri)
    kinds: dict[str, int] = {}
    for h in hits:
        k = minter.kind_of(h.iri) or "other"
        kinds[k] = kinds.get(k, 0) + 1
    chosen = [h for h in hits if (minter.kind_of(h.iri) or "other") == kind] if kind else hits
    pages = max(1, -(-len(chosen) // size))
    page = min(max(page, 1), pages)
    return Found(chosen[(page - 1) * size:page * size], len(chosen), kinds, page, pages,
                 any(h.edits is not None for h in hits))


def _ranked(found: Iterable[Hit], text: str, limit: int) -> list[Hit]:
    """One hit per entity, best first: a spelling that contains the text before a close one (fewer edits first);
    then exact, then prefix (both also after a leading article: 'godfather' is exactly The Godfather), then word
    start, then the rest; within each, a whole word before part of one ('godfather' finds The Godfather before
    3 Godfathers), shorter spellings first, then by name."""
    needle = layout.fold(text)
    word = re.compile(rf"(?<!\w){re.escape(needle)}(?!\w)")

    def rank(hit: Hit) -> tuple[int, int, bool, int]:
        low = layout.fold(hit.matched)
        head, _, rest = low.partition(" ")
        place = min(0 if t == needle else 1 if t.startswith(needle) else 2 if f" {needle}" in f" {low}" else 3
                    for t in ((low, rest) if head in _ARTICLES and rest else (low,)))
        return -1 if hit.edits is None else hit.edits, place, word.search(low) is None, len(low)

    best: dict[str, tuple[tuple[int, int, bool, int], Hit]] = {}
    for hit in found:
        known = best.get(hit.iri)
        if known is None or (rank(hit), hit.type == "Thing", hit.matched != hit.name) < (
                known[0], known[1].type == "Thing", known[1].matched != known[1].name):  # the preferred name on a tie
            best[hit.iri] = (rank(hit), hit)
    ordered = sorted(best.values(), key=lambda rh: (rh[0], rh[1].name.lower(), rh[1].iri))
    return [hit for _, hit in ordered[:limit]]


def search_hits(rows: list[dict[str, dict[str, str]]], text: str, limit: int = MAX_HITS) -> list[Hit]:
    """The entities of a search's SPARQL JSON rows (see `search_query`), best first."""
    return _ranked((Hit(row["e"]["value"], row.get("name", row["n"])["value"],
                        row["t"]["value"].rsplit("/", 1)[-1].rsplit("#", 1)[-1], row["n"]["value"])
                    for row in rows), text, limit)


def search(release: Release, text: str, limit: int = MAX_HITS) -> list[Hit] | None:
    """Entities with a name or spelling containing `text`, else with one close to it (see `close`), from the
    release's index (None if it has none)."""
    if index.info(release.path) is None:
        return None
    needle = layout.fold(text)
    if too_short_text(text):  # one letter: the names that are it, not every name that holds it
        return _ranked((Hit(m.iri, m.name, m.type, m.spelling)
                        for m in index.exact(release.path / layout.INDEX_DIR / layout.NAMES_FILE, needle)), text,
                       limit) if needle else []
    found = list(index.search(release.path / layout.INDEX_DIR / layout.NAMES_FILE, needle))
    joined = layout.fold(text, joined=True)  # punctuation in a word is no word break (joonho finds Joon-ho)
    if joined != needle:
        found += index.search(release.path / layout.INDEX_DIR / layout.NAMES_FILE, joined)
    if (path := release.path / layout.INDEX_DIR / layout.JOINED_FILE).is_file() and not too_short(joined):
        found += index.search(path, joined)
    hits = _ranked((Hit(m.iri, m.name, m.type, m.spelling) for m in found), text, limit)
    # only when nothing contains the text: a close spelling ranked among exact ones would be noise
    return hits or _ranked(close(release.path / layout.INDEX_DIR, needle), text, limit)


def named(release: Release, iri: str) -> list[str]:
    """For an IRI whose last segment is a name typed in a link (`/movie/The Salt Road`, or `the-salt-road`, whose
    key has its year) and not an entity, the entities of that kind (the IRIs under the same path) one of whose
    spellings is that name, whole (none without the release's index)."""
    head, _, last = iri.rpartition("/")
    minted = Minter(str(release.meta.get("base_iri") or ""))
    if not head or not last or len(last) > MAX_SLUG or minted.kind_of(iri) is None or \
            index.info(release.path) is None:
        return []
    found = index.exact(release.path / layout.INDEX_DIR / layout.NAMES_FILE, layout.fold(last))
    named = sorted({m.iri for m in found if m.iri.rpartition("/")[0] == head and "#" not in m.iri})
    if not named or iri in named or iri in release.graphs or (valid_iri(iri) and release.select(
            f"SELECT ?p WHERE {{ <{iri}> ?p ?o }} LIMIT 1")):
        return []  # (an IRI the release states something of is its own, whatever it looks like)
    return named


def _fuzzy(word: str) -> bool:
    """Whether a word searched for may be misspelt: long enough, and not a number (a year is typed as it is)."""
    return layout.typos(len(word)) > 0 and not word.isdigit()


def _reach(index_dir: Path, word: str) -> dict[int, tuple[int, str]]:
    """The lines of names.tsv (by offset) with a term close to `word`: the fewest edits to one, and which."""
    found: dict[int, tuple[int, str]] = {}
    for term in index.similar(index_dir, word):
        for at in term.lines:
            if at not in found or term.edits < found[at][0]:
                found[at] = (term.edits, term.text)
    return found


def close(index_dir: Path, needle: str) -> list[Hit]:
    """Spellings close to a search key (none contains it), each with how many edits it is from the key."""
    # Close: each word of the key that may be misspelt (`_fuzzy`) is a few edits (`layout.typos`) from a word of
    # the spelling, or from its two words run together (an edit more), in any order, and each other word starts
    # one of its words (a number may be missing: an edit more). Or else: the key's words run together are close to
    # a word of the spelling (an edit more per space taken out).
    words = needle.split()
    misspelt = [w for w in words if _fuzzy(w)]
    typed = [w for w in words if not _fuzzy(w)]
    apart = [_reach(index_dir, w) for w in misspelt]
    together = _reach(index_dir, "".join(words)) if len(words) > 1 else {}
    every = set.intersection(*(set(r) for r in apart)) if apart else set()
    guess = {at: sum(r[at][0] for r in apart) for at in every}
    for at, (n, _) in together.items():
        guess[at] = min(guess.get(at, n), n)
    order = sorted(guess, key=lambda at: (guess[at], at))
    hits: list[Hit] = []
    for at, (key, match) in zip(order, index.lines_at(index_dir / layout.NAMES_FILE, order), strict=True):
        own, spaced = set(key.split()), f" {key}"
        costs = []
        if at in every and all(f" {w}" in spaced or w.isdigit() for w in typed):
            costs.append(sum(n + (term not in own) for n, term in (r[at] for r in apart))
                         + sum(f" {w}" not in spaced for w in typed))
        if at in together:
            n, term = together[at]
            costs.append(n + (term not in own) + len(words) - 1)
        if costs:
            hits.append(Hit(match.iri, match.name, match.type, match.spelling, min(costs)))
            if len(hits) == index.MAX_MATCHES:
                break
    return hits
