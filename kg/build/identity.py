"""Which record a bulk row is: identifiers and names as keys, films a year apart, merges into identified records."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping as AbstractMapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from kg.build.bulkspec import Identity, Mapping
from kg.build.cleaning import LOST_LETTER, name_key
from kg.build.notes import TOLD_FIX, Note
from kg.ids import is_key, slugify
from kg.model import CastEntry, CrewEntry, Field, Origin, Value
from kg.text import quote

IDENTIFIER_LINKS = {  # identifiers that become schema:sameAs links (and drive identity)
    re.compile(r"^nm\d{7,}$"): "https://www.imdb.com/name/{}/",
    re.compile(r"^tt\d{7,}$"): "https://www.imdb.com/title/{}/",
}


@dataclass
class Entry:
    """What one source says about one record, gathered over its rows."""

    kind: str
    key: str
    origin: Origin
    label: str | None  # name (and year) key, for merging with identified records
    strong: bool  # keyed by an identifier
    values: dict[tuple[str, Any], Value] = dataclasses.field(default_factory=dict)
    rows: dict[str, int] = dataclasses.field(default_factory=dict)  # distinguishing value -> first row
    billed: int = 0  # actors listed so far: the source's order is its billing
    billings: dict[tuple[str, str | None], int] | None = None  # (actor, character) -> its billing, once listed
    undated: bool = False  # a film keyed by its title alone, where its rows give no year (docs/bulk.md, rule 5)

    def add(self, name: str, value: Any, origin: Origin) -> None:
        if (key := (name, value)) not in self.values:  # (a Value made only when kept: a million per big read)
            self.values[key] = Value(name, value, origin)

def kind_word(kind: str) -> str:
    """A record kind as messages name it: film, organisation, else its own name."""
    return {"movie": "film", "organization": "organisation"}.get(kind, kind)


class Identities:
    """The entries rows have named so far, (source, kind, key) -> entry, and how a row's names find theirs."""

    def __init__(self, notes: list[Note]) -> None:
        self.notes = notes
        self.entries: dict[tuple[str, str, str], Entry] = {}

    def entry(self, source: str, kind: str, key: str, origin: Origin, label: str | None, strong: bool,
              undated: bool = False) -> Entry:
        found = self.entries.get((source, kind, key))
        if found is None:
            found = self.entries[(source, kind, key)] = Entry(kind, key, origin, label, strong, undated=undated)
            if strong:
                self.same_as(found, key, origin)
        return found

    def identify(self, mapping: Mapping, identity: Identity, kind: str, origin: Origin,
                 keys: list[tuple[str | None, str | None, str, str, bool]]
                 ) -> list[tuple[str, str | None, bool, str, bool]]:
        """(key, name key, identified by an identifier?, name, keyed by a title the row gives no year for) of each
        record a row names, from what its cells give (`Identity.keys`)."""
        found = []
        for ident, label, distinct, name, undated in keys:
            one = self.identify_one(mapping, identity, kind, origin, ident, label, distinct, name)
            if one is not None:
                # (a film named where no year is read, in a list of films say, is as undated as a row without one)
                dateless = undated or (kind == "movie" and identity.year is None)
                found.append((*one, name, dateless and not one[2] and one[0] == label))
        return found

    def identify_one(self, mapping: Mapping, identity: Identity, kind: str, origin: Origin, ident: str | None,
                     label: str | None, distinct: str, name: str) -> tuple[str, str | None, bool] | None:
        if ident is not None and is_key(ident):
            return ident, label, True
        if ident is not None:
            self.notes.append(Note(origin.file, origin.line, "suspicious",
                                   f"identifier {quote(ident)} is not usable as a key; identified by name instead"))
        if label is None:
            self.notes.append(Note(origin.file, origin.line, "skipped",
                                   f"{kind} name {quote(name)} has no letters or digits"))
            return None
        entry = self.entries.get((mapping.source.key, kind, label))
        if identity.distinct is not None and identity.year is not None and distinct and (
                entry is None or distinct not in entry.rows):
            near = self.a_year_apart(mapping.source.key, kind, label, distinct)
            if near is not None:
                self.notes.append(Note(origin.file, origin.line, "merged",
                                       f"{quote(label)} is {quote(near.key)} of line {near.rows[distinct]}, a year "
                                       f"apart, with the same {identity.distinct.column} ({quote(distinct)}): one "
                                       "film, both years stated"))
                return near.key, near.label, False
        if identity.distinct is not None and entry is not None and distinct not in entry.rows:
            first = next(iter(entry.rows.items()))
            tail = slugify(distinct)
            for known in label.rsplit("-", 1) if identity.year else [label]:
                tail = tail[len(known):].strip("-") if tail.startswith(known) else tail
            key = f"{label}-{tail[:40].strip('-') or self.numbered(mapping.source.key, kind, label, distinct)}"
            column = identity.distinct.column
            earlier = f"{column}={quote(first[0])}" if first[0] else f"no {column}"
            self.notes.append(Note(origin.file, origin.line, "suspicious",
                                   f"{quote(label)} again, but a different {kind_word(kind)} ({column}="
                                   f"{quote(distinct)}; the "
                                   f"first, at line {first[1]}, has {earlier}): kept apart as {quote(key)}"))
            return key, None, False
        return label, label, False

    def numbered(self, source: str, kind: str, label: str, distinct: str) -> int:
        """The number that keeps apart a film whose distinguishing value names only its title: 2, 3, ... (the same
        value, the same number)."""
        for n in itertools.count(2):
            found = self.entries.get((source, kind, f"{label}-{n}"))
            if found is None or distinct in found.rows:
                return n
        raise AssertionError("unreachable")

    def a_year_apart(self, source: str, kind: str, label: str, distinct: str) -> Entry | None:
        """The film of the same title a year before or after with the same distinguishing value (the page it links).

        A festival premiere and the release a year later are listed as two films; further apart, the same page
        is more likely a wrong link, and the films stay apart.
        """
        stem, _, year = label.rpartition("-")
        if not (stem and year.isdigit()):
            return None
        for other in (int(year) - 1, int(year) + 1):
            found = self.entries.get((source, kind, f"{stem}-{other}"))
            if found is not None and distinct in found.rows:
                return found
        return None

    def same_as(self, entry: Entry, ident: str, origin: Origin) -> None:
        for pattern, template in IDENTIFIER_LINKS.items():
            if pattern.match(ident):
                entry.add("same_as", template.format(ident), origin)



Apart = AbstractSet[frozenset[tuple[str, str]]]  # pairs of records the curators decided are not the same (not_same)


def resolve(entries: dict[tuple[str, str, str], Entry], notes: list[Note],
            hand: AbstractSet[tuple[str, str]] = frozenset(), apart: Apart = frozenset(),
            spelled: AbstractMapping[tuple[str, str], tuple[str, ...]] = MappingProxyType({})
            ) -> dict[tuple[str, str], str]:
    """Name-keyed records that match exactly one identified record of the same name become that record, but for
    those whose key is a hand-written record's (`hand`): they join it (docs/bulk.md, rule 5), with a note when
    hand-written people of that name are several (`spelled`: their names); and for those the curators keep apart
    from it (`apart`): a name alone is no proof."""
    strong: dict[tuple[str, str], set[str]] = {}
    for e in entries.values():
        if e.strong and e.label:
            strong.setdefault((e.kind, e.label), set()).add(e.key)
    rename: dict[tuple[str, str], str] = {}
    named = _hand_named(spelled)
    for e in entries.values():
        if e.strong or (e.kind, e.key) in rename:
            continue
        targets = strong.get((e.kind, e.label or ""), set())
        if (e.kind, e.key) in hand:
            if e.undated and e.kind == "movie":
                if (undated := _undated(e, entries, hand, notes)) is not None:
                    rename[(e.kind, e.key)] = undated
                continue
            # (the key's own holder is one of them, however it is named: 김성수, keyed kim-sung-su)
            if e.kind == "person" and len(sharing := tuple(sorted({*named.get((e.kind, e.label or ""), ()),
                                                                   e.key}))) > 1:
                kept_as = e.key + UNRESOLVED  # (any of them: a merge decision says which)
                rename[(e.kind, e.key)] = kept_as
                notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                                  f"person {quote(e.key)} is named as hand-written people "
                                  f"{' and '.join(map(quote, sharing))} are: it could be any of them, so it is kept "
                                  f"apart as {quote(kept_as)} {TOLD_FIX}",
                                  tuple(frozenset((("person", kept_as), ("person", o))) for o in sharing),
                                  candidates=True, alternatives=True))
                continue
            if targets:
                notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                                  f"{e.kind} {quote(e.key)} is the hand-written record of that key, which "
                                  f"{', '.join(map(quote, sorted(targets)))} may be too (same name"
                                  f"{' and year' if e.kind == 'movie' else ''}): kept apart; merge them with a "
                                  "decision if they are one",
                                  tuple(frozenset(((e.kind, e.key), (e.kind, t))) for t in sorted(targets))))
            continue
        if (by_hand := named.get((e.kind, e.label or ""), ())) and e.kind != "movie" and (  # (a film's is its
                _join_hand_written(e, by_hand, apart, rename, notes)):  # title's and year's, a hand-written one's
            continue  # year unknown here)
        if len(targets) == 1 and frozenset(((e.kind, e.key), (e.kind, next(iter(targets))))) in apart:
            continue  # the curators decided they are not the same: a name alone is no proof
        if len(targets) == 1:
            target = next(iter(targets))
            rename[(e.kind, e.key)] = target
            notes.append(Note(e.origin.file, e.origin.line, "merged",
                              f"{e.kind} {quote(e.key)} is {quote(target)} (same name"
                              f"{' and year' if e.kind == 'movie' else ''}, and only one record with an identifier "
                              f"has it; to keep them apart, decide "
                              f"{quote(f'not_same {e.kind}/{e.key} {e.kind}/{target}')})"))
        elif len(targets) > 1:
            notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                              f"{e.kind} {quote(e.key)} could be any of {sorted(targets)}; kept apart"))
    return rename


def _hand_named(spelled: AbstractMapping[tuple[str, str], tuple[str, ...]]
                ) -> dict[tuple[str, str], tuple[str, ...]]:
    """The keys of the hand-written records of each kind and name key (two for Kim Sung-su, the director and the
    actor)."""
    keys: dict[tuple[str, str], set[str]] = {}
    for (kind, key), names in spelled.items():
        for n in names:
            keys.setdefault((kind, name_key(n)), set()).add(key)
    return {n: tuple(sorted(ks)) for n, ks in keys.items()}


def _join_hand_written(e: Entry, by_hand: tuple[str, ...], apart: Apart, rename: dict[tuple[str, str], str],
                       notes: list[Note]) -> bool:
    """A name-keyed record named as hand-written records are, keyed otherwise (South Korea, written by hand as
    `kr`): it is the one, unless the curators keep them apart; of several, it stays apart (docs/bulk.md, rule 5).
    False when the curators keep it apart from the one: the other rules decide."""
    word = kind_word(e.kind)
    if len(by_hand) > 1:
        notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                          f"{word} {quote(e.key)} is named as hand-written {word}s {' and '.join(map(quote, by_hand))} "
                          f"are: it could be any of them, so it is kept apart {TOLD_FIX}",
                          tuple(frozenset(((e.kind, e.key), (e.kind, o))) for o in by_hand), candidates=True,
                          alternatives=True))
        return True
    target = by_hand[0]
    if frozenset(((e.kind, e.key), (e.kind, target))) in apart:
        return False  # the curators decided they are not the same: a name alone is no proof
    rename[(e.kind, e.key)] = target
    notes.append(Note(e.origin.file, e.origin.line, "merged",
                      f"{word} {quote(e.key)} is the hand-written {word} {quote(target)} (same name; to keep them "
                      f"apart, decide {quote(f'not_same {e.kind}/{e.key} {e.kind}/{target}')})"))
    return True


UNDATED = "-undated"  # ends the key of a film kept apart from a hand-written one of its title: its rows give no year
UNRESOLVED = "-unresolved"  # ends the key of a person named as several hand-written people are, kept apart from them
APART = (UNDATED, UNRESOLVED)  # (a record kept apart so is not a former key of theirs: its key is a hand-written one)
_DATED = re.compile(r"(.+)-\d{4}")


def _undated(e: Entry, entries: dict[tuple[str, str, str], Entry], hand: AbstractSet[tuple[str, str]],
             notes: list[Note]) -> str | None:
    """Where a film whose rows give no year goes when its title is the key of a hand-written film: its own key
    (`UNDATED`), when films of that title are known in some year (it could be any of them, the hand-written one
    too); else None, and it joins the hand-written film, with a note (docs/bulk.md, rule 5)."""
    # (told by the rows' name keys, which end with their year, an identified film's too; not by a key written by
    # hand, 'blade-runner-2049', which may end with its title's number)
    dated = sorted({x.key for x in entries.values() if x.kind == "movie" and not x.undated and x.label is not None
                    and (m := _DATED.fullmatch(x.label)) is not None and m.group(1) == e.key})
    if not dated:
        notes.append(Note(e.origin.file, e.origin.line, "merged",
                          f"film {quote(e.key)} gives no year: it is the hand-written film of that key, the only one "
                          "of that title"))
        return None
    apart = e.key + UNDATED
    others = [e.key, *dated]
    notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                      f"film {quote(e.key)} gives no year, and films of that title are {quote(e.key)} (written by "
                      f"hand) and {', '.join(map(quote, dated))}: it could be any of them, so it is kept apart as "
                      f"{quote(apart)} {TOLD_FIX}",
                      tuple(frozenset((("movie", apart), ("movie", o))) for o in others), candidates=True,
                      alternatives=True))
    return apart


def renamed(value: Value, f: Field, rename: dict[tuple[str, str], str]) -> Value:
    v = value.value
    if f.vtype == "ref" and (f.ref, v) in rename:
        return value._replace(value=rename[(f.ref or "", v)])
    if f.vtype == "cast" and ("person", v.actor) in rename:
        return value._replace(value=CastEntry(rename[("person", v.actor)], v.character, v.character_name, v.billing,
                                              v.category))
    if f.vtype == "crew" and ("person", v.person) in rename:
        return value._replace(value=CrewEntry(rename[("person", v.person)], v.department))
    return value


def _skeleton(name: str) -> str:
    """A name with each letter outside ASCII as '_', as a file that lost them writes it."""
    return "".join(c if c.isascii() else "_" for c in name)


Spelled = AbstractMapping[tuple[str, str], tuple[str, ...]]  # hand-written people's names, by (kind, key)


def lost_letters(entries: dict[tuple[str, str, str], Entry], notes: list[Note],
                 spelled_by_hand: Spelled = MappingProxyType({})) -> dict[tuple[str, str], str]:
    """People whose name lost a letter to '_' ('F_lix Cl_ment') become the person of the same name with the letter
    ('Félix Clément'), in the rows or written by hand (`spelled_by_hand`), when exactly one has it; the others are
    flagged."""
    def name(e: Entry) -> str | None:
        return next((str(getattr(v.value, "text", v.value)) for (f, _), v in e.values.items() if f == "name"), None)

    spelled: dict[str, set[str]] = {}
    for (_, kind, key), e in entries.items():
        if kind == "person" and (n := name(e)) and not n.isascii():
            spelled.setdefault(_skeleton(n), set()).add(key)
    for (kind, key), names in spelled_by_hand.items():
        for n in names:
            if kind == "person" and not n.isascii():
                spelled.setdefault(_skeleton(n), set()).add(key)
    rename: dict[tuple[str, str], str] = {}
    for (_, kind, key), e in entries.items():
        n = name(e)
        if kind != "person" or not n or "_" not in n or not LOST_LETTER.search(n) or ("person", key) in rename:
            continue
        found = spelled.get(n, set()) - {key}
        if len(found) == 1:
            target = next(iter(found))
            rename[("person", key)] = target
            notes.append(Note(e.origin.file, e.origin.line, "repaired",
                              f"{quote(n)} lost a letter to '_': it is person {quote(target)}, whose name has it"))
        else:
            notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                              f"{quote(n)} lost a letter to '_' and no name with it was found"
                              f"{' (more than one)' if found else ''}: published as written"))
    return rename

