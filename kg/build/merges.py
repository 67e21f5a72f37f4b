"""One record per real thing: records that share an identifier, and those curators merge or rename, become one."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from kg.build.decisions import Decisions, Merge, Ref, not_same_line
from kg.build.identity import renamed
from kg.build.notes import Note
from kg.model import EDITORIAL, KINDS, Claim, LangText, Origin, Record
from kg.text import quote

_IDENTIFIERS = (  # a web address that names one thing for certain -> (scheme, its identifier)
    (re.compile(r"^https?://(?:www\.|m\.)?imdb\.com/(?:[a-z]{2}/)?(?:title|name)/((?:tt|nm)\d{7,})/?(?:[?#].*)?$",
                re.I), "IMDb"),
    (re.compile(r"^https?://(?:www\.|m\.)?wikidata\.org/(?:wiki|entity)/(Q\d+)/?$", re.I), "Wikidata"),
    (re.compile(r"^https?://([a-z-]+)\.(?:m\.)?wikipedia\.org/wiki/([^?#]+)$", re.I), "Wikipedia"),
)
_YEAR_FIELDS = ("production_year", "release_date", "birth_date")


def identifier(url: str) -> str | None:
    """The identifier a `same_as` address gives ('IMDb tt0364569', 'Wikipedia en:Oldboy_(2003_film)'), if any."""
    for pattern, scheme in _IDENTIFIERS:
        found = pattern.match(url.strip())
        if found is None:
            continue
        if scheme == "Wikipedia":
            title = unquote(found.group(2)).replace(" ", "_")
            return f"{scheme} {found.group(1).lower()}:{title[:1].upper()}{title[1:]}"
        return f"{scheme} {found.group(1).lower() if scheme == 'IMDb' else found.group(1).upper()}"
    return None


def identifiers(record: Record) -> tuple[str, ...]:
    """The identifiers a record's `same_as` addresses give, sorted (a record read back knows them already)."""
    known: tuple[str, ...] | None = getattr(record, "identifiers", None)
    if known is not None:
        return known
    same = record.values("same_as")
    return tuple(sorted({i for v in same if (i := identifier(str(v.value)))})) if same else ()


def years(record: Record) -> set[int]:
    """The years a record's sources give it (made, first shown, born)."""
    found = set()
    for name in _YEAR_FIELDS:
        for v in record.values(name):
            y = v.value if isinstance(v.value, int) else getattr(v.value, "year", None)
            if isinstance(y, int):
                found.add(y)
    return found


def _apart_in_time(a: Record, b: Record) -> bool:
    """Whether two records' years are more than one apart (a remake, a namesake): not one thing, whatever a link
    says (a list that links a title's page from each of its versions)."""
    ya, yb = years(a), years(b)
    return bool(ya and yb) and min(abs(x - y) for x in ya for y in yb) > 1


def _words(record: Record) -> list[set[str]]:
    return [set(re.findall(r"\w+", str(getattr(v.value, "text", v.value)).casefold())) for v in record.values("name")]


def _titled_alike(a: Record, b: Record) -> bool:
    """Whether one record's name holds every word of the other's ('Army of Darkness', 'Evil Dead 3: Army of
    Darkness'): a page may be linked from an item and its re-release, not from two films of a series."""
    return any(x and y and (x <= y or y <= x) for x in _words(a) for y in _words(b))


@dataclass
class Resolved:
    """The records after merging, and every retired key with the decision that retired it."""

    records: list[Record]
    moves: dict[Ref, Merge]
    held: list[tuple[Ref, Ref, str]]  # pairs sharing an identifier but kept apart: (a, b, why), for the report


def _survivor(group: list[Record]) -> Record:
    """Which of records found to be one keeps its key: a hand-written one, else the shortest key."""
    return min(group, key=lambda r: (not r.detailed, len(r.key), r.key))


_BY_IDENTIFIER = re.compile(r"[a-z]+/\S+ is [a-z]+/\S+: both give ")  # how `_by_identifier`'s notes begin


def by_identifier(note: Note) -> bool:
    """Whether a note is of a merge by identifier (`_by_identifier`'s), not of one by name (`identity.py`'s)."""
    return note.action == "merged" and _BY_IDENTIFIER.match(note.message) is not None


def _by_identifier(records: dict[Ref, Record], decisions: Decisions, notes: list[Note],
                   held: list[tuple[Ref, Ref, str]]) -> list[Merge]:
    """Merges of records whose `same_as` gives the same identifier."""
    sharing: dict[str, list[Ref]] = defaultdict(list)
    for ref, record in records.items():
        for ident in identifiers(record):
            sharing[ident].append(ref)
    merges: list[Merge] = []
    done: set[Ref] = set()
    for ident, refs in sorted((i, refs) for i, refs in sharing.items() if len(refs) > 1):  # a lone one merges nothing
        group = [records[r] for r in dict.fromkeys(refs) if r not in done]
        if len(group) < 2:
            continue
        kept = _survivor(group)
        for other in sorted(group, key=lambda r: r.key):
            a, b = (kept.kind, kept.key), (other.kind, other.key)
            if other is kept or a[0] != b[0]:
                continue
            if decisions.apart(a, b):
                continue
            if ident.startswith("Wikipedia") and not _titled_alike(kept, other):
                notes.append(Note(other.origin.file, other.origin.line, "suspicious",
                                  f"{'/'.join(b)} and {'/'.join(a)} both link {ident}, but neither's name holds the "
                                  "other's: kept apart (a page about a series, or a wrong link?)"))
                continue
            if ident.startswith("Wikipedia") and _apart_in_time(kept, other):
                held.append((a, b, f"both link {ident}, but their years are more than one apart"))
                continue
            merges.append(Merge(b, a, other.origin, ident))
            done.add(b)
            notes.append(Note(other.origin.file, other.origin.line, "merged",
                              f"{'/'.join(b)} is {'/'.join(a)}: both give {ident} (to keep them apart, decide "
                              f"{quote(not_same_line(a, b))})"))
    return merges


def _targets(merges: Iterable[Merge], problems: list[tuple[Origin, str]]) -> dict[Ref, Ref]:
    """Where each retired key ends up, following chains (a into b, b into c: a into c). A key merged into two
    records is no contradiction when they end up one (a into b, a into c, c into b: what `kg duplicates` proposes
    for three spellings of one name, pair by pair)."""
    direct: dict[Ref, Merge] = {}
    again: list[tuple[Merge, Merge]] = []  # a key merged into another record than its first merge: checked last
    for m in merges:
        first = direct.get(m.retired)
        if first is not None and first.kept != m.kept:
            again.append((m, first))
            continue
        direct.setdefault(m.retired, m)
    final: dict[Ref, Ref] = {}
    for start in direct:
        seen = [start]
        at = direct[start].kept
        while at in direct:
            if at in seen:
                problems.append((direct[start].origin, "merges go round in a circle: " +
                                 " -> ".join("/".join(r) for r in [*seen, at])))
                break
            seen.append(at)
            at = direct[at].kept
        else:
            final[start] = at
    for m, first in again:
        if m.retired not in final or final.get(m.kept, m.kept) != final[m.retired]:
            problems.append((m.origin, f"{'/'.join(m.retired)} is merged into {'/'.join(first.kept)} already "
                                       f"({first.origin.where})"))
    return final


def resolve(records: list[Record], decisions: Decisions, notes: list[Note],
            problems: list[tuple[Origin, str]]) -> Resolved:
    """The records with merges applied: by identifier, by the curators' decisions, and renamed keys (`formerly`)."""
    index: dict[Ref, Record] = {(r.kind, r.key): r for r in records}
    merges = list(decisions.merges)
    found: list[Merge] = []  # the keys of bulk rows found to be another record (`bulk.record_of`): automatic
    for record in records:
        for old, origin in record.formerly:
            merge = Merge((record.kind, old), (record.kind, record.key), origin, "formerly")
            (merges if origin.field == "formerly" else found).append(merge)  # a curator wrote `formerly:`
    written = {m.retired for m in merges}
    # an automatic one gives way to what curators wrote of that key, and to a record that has it (a hand-written
    # record a bulk row's name-key happens to equal is that record, not a former name of another)
    merges += [m for m in found if m.retired not in written and m.retired not in index]
    for m in merges:
        if decisions.apart(m.retired, m.kept):
            problems.append((m.origin, f"{m.line}, but {quote(not_same_line(m.retired, m.kept))} is decided at "
                                       f"{decisions.not_same[frozenset((m.retired, m.kept))].where}"))
    curated = {m.retired for m in merges}
    held: list[tuple[Ref, Ref, str]] = []
    merges += [m for m in _by_identifier({r: x for r, x in index.items() if r not in curated}, decisions, notes,
                                         held) if m.retired not in curated]
    final = _targets(merges, problems)
    by_retired: dict[Ref, Merge] = {}
    for m in merges:
        by_retired.setdefault(m.retired, m)
    moves: dict[Ref, Merge] = {}
    for retired, kept in final.items():
        if kept not in index or kept in final:
            m = by_retired[retired]
            problems.append((m.origin, f"{m.line}: there is no {kept[0]} {quote(kept[1])}"))
            continue
        was = index.get(retired)
        named = next((v.value.text if isinstance(v.value, LangText) else str(v.value) for v in was.values("name")),
                     "") if was is not None else ""
        moves[retired] = Merge(retired, kept, by_retired[retired].origin, by_retired[retired].why, named)
    _mistyped(decisions, index, set(final), notes)
    if not moves:
        return Resolved(records, moves, held)
    rename = {r: m.kept[1] for r, m in moves.items()}
    joined: dict[Ref, list[Record]] = defaultdict(list)
    for retired in sorted(moves):
        if retired in index:
            joined[moves[retired].kept].append(index[retired])
    retired_keys = {key for _, key in rename}
    out = []
    clear: dict[int, bool] = {}  # by id() of what a batch of records read back names: whether it names none renamed
    for record in records:
        ref = (record.kind, record.key)
        if ref in moves:
            continue
        if ref not in joined and not _names_renamed(record, rename, clear):
            out.append(record)
            continue
        # (a bulk record's editorial claim is only the name kg chose among its sources': merged away, that name is
        # theirs, in their graphs, not the curators')
        claims = (*record.claims, *(c for other in joined.get(ref, []) for c in other.claims
                                    if other.detailed or c.source != EDITORIAL))
        rewritten = tuple(_rewritten(record.kind, c, rename, retired_keys) for c in claims)
        out.append(record if rewritten == record.claims else Record(
            record.kind, record.key, rewritten, record.origin, record.detailed, record.formerly))
    return Resolved(out, moves, held)


def _mistyped(decisions: Decisions, index: dict[Ref, Record], retired: set[Ref], notes: list[Note]) -> None:
    """A note for each curators' merge of a key no record has that is close to one a record has: a rename is meant
    so (its old address redirects), but more likely the record was meant, and stays apart. Not for a record merged
    already, one the curators keep apart from the key (not_same), nor one whose key differs only in its digits (a
    numbered or dated key's neighbours: film-17-2007, film-917-2007)."""
    keys: dict[str, list[str]] = {}
    for m in decisions.merges:
        if m.retired in index:
            continue
        kind, key = m.retired
        if kind not in keys:
            keys[kind] = sorted(k for c, k in index if c == kind and (c, k) not in retired)
        near = [k for k in keys[kind] if k[:1] == key[:1] and abs(len(k) - len(key)) <= 2 and k != m.kept[1]
                and _DIGITS.sub("", k) != _DIGITS.sub("", key) and not decisions.apart(m.retired, (kind, k))]
        close = difflib.get_close_matches(key, near, n=1, cutoff=0.85)
        if close:
            notes.append(Note(m.origin.file, m.origin.line, "suspicious",
                              f"{m.line}: no {kind} has the key {quote(key)}, so it is taken as a rename (its address "
                              f"redirects to {quote(m.kept[1])}) and {kind}/{close[0]} stays apart: "
                              f"did you mean {quote(f'merge {kind}/{close[0]} into {m.kept[0]}/{m.kept[1]}')}? (if "
                              f"not, {quote(not_same_line(m.retired, (kind, close[0])))} says so)"))


_DIGITS = re.compile(r"\d")


def _rewritten(kind: str, claim: Claim, rename: dict[Ref, str], retired: set[str]) -> Claim:
    """A claim whose references to retired keys name the records they were merged into (the same claim when it
    names none)."""
    def names_one(value: object) -> bool:
        return (value in retired if isinstance(value, str) else
                getattr(value, "actor", None) in retired or getattr(value, "person", None) in retired
                or getattr(value, "character", None) in retired)

    if not any(names_one(v.value) for v in claim.values):
        return claim
    fields = KINDS[kind]
    values = []
    for v in claim.values:
        f = fields.field(v.field)
        assert f is not None
        values.append(renamed(v, f, rename))
    return Claim(claim.source, tuple(values), claim.origin)


def _names_renamed(record: Record, rename: dict[Ref, str], clear: dict[int, bool]) -> bool:
    """Whether the record names one of the records renamed: for a record read back unchanged, told by what its
    batch names (`clear`, by batch), and when the batch names one, by the records of the batch that do."""
    along = record.names_along()
    if along is not None:
        fine = clear.get(id(along))
        if fine is None:
            fine = clear[id(along)] = along.isdisjoint(rename)
        if fine:
            return False
    return record.names_any(rename)  # (a record read back tells without unpacking its claims)
