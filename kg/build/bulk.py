"""Bulk sources (CSV, TSV, JSON, JSON Lines) read into records by a declarative mapping file per source."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import marshal
import re
from collections.abc import Callable, Container, Iterator
from collections.abc import Set as AbstractSet
from functools import partial
from itertools import islice
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from kg.build.bulkspec import (
    BESIDE,
    FORMATS,
    LISTED,
    Column,
    FieldSpec,
    Identity,
    Mapping,
    MappingError,
    Reach,
    RefSpec,
    check_columns,
    display_of,
    dotted_columns,
    nested,
    reach,
)
from kg.build.cleaning import LOST_LETTER, NOT_A_PERSON, group
from kg.build.identity import (
    APART,
    Apart,
    Entry,
    Identities,
    Spelled,
    kind_word,
    lost_letters,
    renamed,
    resolve,
)
from kg.build.notes import TOLD_FIX, Note
from kg.build.rows import GARBLED, MAPPING, bad_bytes, deep_line, rows
from kg.build.slips import slipped_words
from kg.model import EDITORIAL, KINDS, CastEntry, Claim, CrewEntry, Field, LangText, Origin, Record, Value
from kg.progress import bar
from kg.text import counted, quote

T = TypeVar("T")

Tape = list[tuple[Any, tuple[str, ...]]]  # what a row's pure work gave, in the order asked, with the fixes it made


class TapesOut(Protocol):
    """Where a read's tapes go (`Tapes`)."""

    def batch(self, tapes: dict[bytes, Tape]) -> None:
        """Some of all the tapes."""

    def close(self, adds_to: str | None, new: dict[bytes, Tape] | None) -> None:
        """The end: after batches, all the tapes given (`adds_to` None); else those not in the file `adds_to`."""

    def restart(self) -> None:
        """Forget the batches given: the read begins again."""


_BATCH = 10_000  # tapes given at a time
NEW_SHARE = 4  # tapes are kept as those new since a file of them all until they are a quarter of the rows


class Tapes:
    """The `Tape` of each row by its digest. `before`: the previous read's, replayed for a row read again unchanged
    (its cells are not parsed, cleaned or keyed again), of which those of the rows in `whole` are in a file of them
    all (`adds_to`). This read's go to `out`: those not in `whole` while they are few, else all of them, a batch at
    a time as they are made (never all held); with no `out`, all of them are held in `now`."""

    def __init__(self, before: dict[bytes, Tape] | None = None, out: TapesOut | None = None,
                 whole: Container[bytes] = frozenset(), adds_to: str | None = None) -> None:
        self.before = before or {}
        self.out, self.whole, self.adds_to = out, whole, adds_to
        self.now: dict[bytes, Tape] = {}  # with no `out`: every row's; else those not given yet
        self.rows: list[bytes] = []  # the rows read, while only the tapes not in `whole` are kept
        self.all = adds_to is None  # giving all of them

    def add(self, digest: bytes, tape: Tape) -> None:
        """The tape of the next row read."""
        if self.out is None or self.all:
            self.now[digest] = tape
            if self.out is not None and len(self.now) >= _BATCH:
                self._give()
            return
        self.rows.append(digest)
        if digest not in self.whole:
            self.now[digest] = tape
            if len(self.now) > _BATCH and len(self.now) * NEW_SHARE > len(self.rows):
                self._all()

    def _give(self) -> None:
        assert self.out is not None
        self.out.batch(self.now)
        self.now = {}

    def _all(self) -> None:
        """Give all of them from here on, those of the rows read so far first."""
        new, rows, self.now, self.rows, self.all = self.now, self.rows, {}, [], True
        for digest in rows:
            self.add(digest, new[digest] if digest in new else self.before[digest])

    def close(self) -> None:
        """Give what is left."""
        if self.out is None:
            return
        if not self.all and len(self.now) * NEW_SHARE > len(self.rows):
            self._all()
        if self.all:
            self._give()
            self.out.close(None, None)
        else:
            self.out.close(self.adds_to, self.now)

    def restart(self) -> None:
        """Begin again with no tapes before."""
        self.before, self.whole, self.adds_to, self.now, self.rows, self.all = {}, frozenset(), None, {}, [], True
        if self.out is not None:
            self.out.restart()


def _exact(row: dict[str, Any]) -> bytes:
    """A digest of a row's columns and cells in their order: marshal's version 2 writes no back-references, so its
    bytes depend on the values alone, never on which of them are one object (and it is twice as fast as repr)."""
    try:
        data = marshal.dumps(tuple(row.items()), 2)
    except ValueError:  # (rows are parsed CSV and JSON: never a type marshal cannot write)
        data = repr(list(row.items())).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(data, digest_size=16).digest()


class _Unlike(Exception):
    """A row's tape did not answer what its replay asked (never expected): the rows are read again without tapes."""


class _Reader:
    """Reads the rows of every mapping into values of the entries its `Identities` tells the rows are. What a
    row's cells give (keys, cleaned and parsed values) depends on the row alone: with `tapes`, it is taken from the
    tape of a row read before, and each row's is kept."""

    def __init__(self, parsers: dict[str, Callable[[Any], Any]], notes: list[Note], tapes: Tapes | None = None
                 ) -> None:
        self.parsers = parsers
        self.notes = notes
        self.ids = Identities(notes)
        self.tapes = tapes
        self._replay: Iterator[tuple[Any, tuple[str, ...]]] | None = None  # the tape of the row being replayed
        self._tape: Tape | None = None  # the tape of the row being read
        self._credited: set[str] = set()  # the records the row being read names in a reference (people, ...)
        self._slipping = False  # whether the mapping being read credits people outside a cast (`slips`)

    def pure(self, fixes: list[str], work: Callable[[], T]) -> T:
        """What `work` gives (work on the row's cells alone, which may add to `fixes`): from the tape when the row
        is replayed, else done (and taped)."""
        if self._replay is not None:
            try:
                found, fixed = next(self._replay)
            except StopIteration:
                raise _Unlike from None
            fixes.extend(fixed)
            return found  # type: ignore[no-any-return]
        if self._tape is None:
            return work()
        start = len(fixes)
        made = work()
        self._tape.append((made, tuple(fixes[start:]) if len(fixes) > start else ()))
        return made

    def read(self, mapping: Mapping) -> None:
        self._slipping = _crediting(mapping)
        present: set[str] = set()
        within: dict[str, set[str]] = {spec.field.name: set() for spec in mapping.fields if spec.items}
        reached: dict[str, Reach | None] = dict.fromkeys(dotted_columns(mapping))
        for path in mapping.files:
            display = display_of(mapping, path)
            try:
                self.read_file(mapping, path, display, present, within, reached)
            except RecursionError:
                line = deep_line(path.read_bytes().decode(mapping.encoding, "replace"))
                raise MappingError(f"{display}: arrays or objects nested more deeply than kg reads", line) from None
        present.discard(GARBLED)  # a mark of kg's own on the rows that did not decode, not a column
        check_columns(mapping, present, within, reached)

    def read_file(self, mapping: Mapping, path: Path, display: str, present: set[str],
                  within: dict[str, set[str]], reached: dict[str, Reach | None] | None = None) -> None:
        """The rows of one of a mapping's files; the columns they have are added to `present` and `within`."""
        fmt = mapping.fmt or FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise MappingError(f"{display}: unknown file type; set format: csv, tsv, json or jsonl")
        seen: dict[bytes, int] = {}
        csv = fmt in ("csv", "tsv")
        try:
            self._read_rows(mapping, path, fmt, display, present, within, seen, csv,
                            {} if reached is None else reached)
        except MappingError as exc:
            if MAPPING not in str(exc):
                raise
            raise exc.replaced(MAPPING, f"in {mapping.display}") from exc

    def _read_rows(self, mapping: Mapping, path: Path, fmt: str, display: str, present: set[str],
                   within: dict[str, set[str]], seen: dict[bytes, int], csv: bool,
                   reached: dict[str, Reach | None]) -> None:
        """`read_file`'s rows."""
        # the dotted paths no JSON row has had whole so far (once one has, the others are not asked; a CSV file's
        # columns are its header's)
        pending = {name: name.split(".") for name, was in reached.items()
                   if was is None or was[0] < name.count(".") + 1} if not csv else {}
        readable, left_out = False, (0, "")  # (a row read; the rows left out for their bytes, and what to tell)
        for line, row in bar(rows(path, fmt, mapping.encoding, display, self.notes, mapping.items,
                                  mapping.delimiter, mapping.quoting), None,
                             "read", f"rows of {path.name}"):
            if not seen or not csv:  # a CSV file's rows all have the header's columns
                present.update(row)
                for spec in mapping.fields:
                    if spec.items and isinstance(listed := nested(row, spec.items), (list, dict)):
                        listed = [listed] if isinstance(listed, dict) else listed  # (one object: read as a list)
                        within[spec.field.name].update(k for x in listed if isinstance(x, dict) for k in x)
                        within[spec.field.name].add(LISTED)
                    elif spec.items and "." in spec.items and LISTED not in within[spec.field.name] and isinstance(
                            holder := nested(row, spec.items.rsplit(".", 1)[0]), dict):
                        within[spec.field.name].update(BESIDE + k for k in holder)
                for name, steps in list(pending.items()):
                    depth, keys, text = reach(row, steps)
                    was = reached[name]
                    if depth == len(steps):
                        reached[name] = (depth, frozenset(), False)
                        del pending[name]
                    elif was is None or depth > was[0]:  # what is where the rows got furthest
                        reached[name] = (depth, keys, text)
                    elif depth == was[0]:
                        reached[name] = (depth, keys | was[1], text or was[2])
            garbled = row.pop(GARBLED, None)
            bad = bad_bytes(json.dumps(row, ensure_ascii=False)) if garbled else None
            if bad:
                self.notes.append(Note(display, line, "skipped", f"not valid {mapping.encoding} (bytes {bad}); "
                                       "the row is left out rather than published garbled"))
                left_out = (left_out[0] + 1, garbled)
                continue
            readable = True
            # digests, not the rows: the rows of a large file are not all kept alive until it is read. `exact`: of
            # the columns and cells in their order (a row's tape is found by it); a duplicate is the same cells, or
            # in JSON the same object whatever the order of its keys
            exact = _exact(row) if csv or self.tapes is not None else b""
            fingerprint = exact if csv else hashlib.blake2b(json.dumps(row, sort_keys=True, ensure_ascii=False).encode(
                "utf-8", "surrogateescape"), digest_size=16).digest()
            if fingerprint in seen:
                self.notes.append(Note(display, line, "skipped", f"duplicate of line {seen[fingerprint]}"))
                continue
            seen[fingerprint] = line
            if self.tapes is None:
                self.row(mapping, mapping.source.key, display, line, row)
            else:
                self.taped(mapping, display, line, row, exact)
        if left_out[0] and not readable:  # publishing the rest would drop all the file held, without a word
            raise MappingError(f"{display}: no row could be read, {counted(left_out[0], 'row')} left out for "
                               f"{'its' if left_out[0] == 1 else 'their'} bytes: {left_out[1].split('; ', 1)[-1]}")

    def taped(self, mapping: Mapping, display: str, line: int, row: dict[str, Any], digest: bytes) -> None:
        """Read one row, its pure work replayed from the tape of a row read before with the same cells (and
        columns), else taped."""
        assert self.tapes is not None
        tape = self.tapes.before.get(digest)
        if tape is not None:
            self._replay = iter(tape)
        else:
            self._tape = tape = []
        try:
            self.row(mapping, mapping.source.key, display, line, row)
            if self._replay is not None and next(self._replay, None) is not None:
                raise _Unlike
        finally:
            self._replay = self._tape = None
        self.tapes.add(digest, tape)

    def row(self, mapping: Mapping, source: str, display: str, line: int, row: dict[str, Any]) -> None:
        fixes: list[str] = []
        kind = mapping.kind.name
        origin = Origin(display, line, "?")
        found = self.identify(mapping, mapping.identity, kind, row, origin, fixes)
        if not found:
            name = mapping.identity.name
            if name is None or not self.pure([], lambda: name.values(row, [])):
                self.notes.append(Note(display, line, "skipped", f"no {kind} name"))
            return
        key, label, strong, _, undated = found[0]
        origin = Origin(display, line, key)
        self._credited.clear()
        entry = self.ids.entry(source, kind, key, origin, label, strong, undated)
        if mapping.identity.distinct is not None:
            entry.rows.setdefault(str(mapping.identity.distinct.first(row, []) or ""), line)
        before = len(entry.values)
        for spec in mapping.fields:
            self.field(mapping, spec, entry, row, origin, fixes)
        if strong and (entry.origin.line, entry.origin.file) != (line, display) and len(entry.values) > before:
            self.renamed(entry, kind, before, origin)
        if 0 < before < len(entry.values) <= _SLIPS_LOOKED_AT and self._slipping:  # (rows before, and this one
            # said more)
            self.slips(entry, kind, before, origin)
        for fix in dict.fromkeys(fixes):
            self.notes.append(Note(display, line, "junk" if fix.startswith(NOT_A_PERSON) else "repaired"
                                   if fix.startswith(("repaired", "removed")) else "suspicious", fix))

    def renamed(self, entry: Entry, kind: str, before: int, origin: Origin) -> None:
        """A note when a row names a record its identifier gave another name on an earlier row (two films under
        one id, or one film's two titles: a curator should know which)."""
        added = islice(reversed(entry.values), len(entry.values) - before)  # what this row added, and no more
        new = next((value for field, value in added if field == "name"), None)
        if new is None:
            return  # (most rows: a cast list's name no film)
        first = next((v for (field, _), v in entry.values.items() if field == "name"), None)
        if first is None or first.value == new:
            return
        word = kind_word(kind)
        self.notes.append(Note(origin.file, origin.line, "suspicious",
                               f"{quote(entry.key)} is named {quote(_text(new))} here and "
                               f"{quote(_text(first.value))} at {first.origin.where}: one {word} with two names, or "
                               "two under one identifier? (the names are published as one record's)"))

    def slips(self, entry: Entry, kind: str, before: int, origin: Origin) -> None:
        """A note, and a candidate duplicate, when a row credits someone in a record outside its cast (as its
        director, in its crew) whose name is a letter away from someone an earlier row credits there as the same (one
        film listed twice, its director misspelt once): two rows are two credits, but rarely of two people a letter
        apart."""
        values = list(entry.values.values())  # (at most _SLIPS_LOOKED_AT)
        mine = [c for v in values[before:] if (c := _credit(kind, v)) is not None]  # what this row added
        if not mine:
            return
        for v in values[:before]:
            if (c := _credit(kind, v)) is None:
                continue
            role, other = c
            for my_role, person in mine:
                # (a key a letter from another is as long but for one, and begins alike: most are told apart here)
                if my_role != role or person == other or abs(len(person) - len(other)) > 1 or person[0] != other[0] \
                        or other in self._credited or v.origin.line == origin.line and v.origin.file == origin.file:
                    continue  # (a row that names both: two people side by side)
                if slipped_words(person.split("-"), other.split("-")):
                    pair = frozenset((("person", person), ("person", other)))
                    self.notes.append(Note(origin.file, origin.line, "suspicious",
                                           f"{role} {quote(person)} at {origin.where} and {quote(other)} at "
                                           f"{v.origin.where}, in one {kind_word(kind)}: names a letter apart, one "
                                           f"misspelt? {TOLD_FIX}", (pair,), candidates=True))

    def identify(self, mapping: Mapping, identity: Identity, kind: str, row: dict[str, Any], origin: Origin,
                 fixes: list[str]) -> list[tuple[str, str | None, bool, str, bool]]:
        """(key, name key, identified by an identifier?, name, keyed by a title without its year) of each record the
        row names."""
        keys = self.pure(fixes, lambda: identity.keys(row, fixes, people=kind == "person"))
        return self.ids.identify(mapping, identity, kind, origin, keys)

    def parsed(self, f: Field, col: Column, row: dict[str, Any], fixes: list[str]) -> list[tuple[bool, Any]]:
        """Each value of a column in the row parsed for the field: (True, value), or (False, why it is not one)."""
        out: list[tuple[bool, Any]] = []
        read = [(c, raw) for c in col.chosen(row) for raw in c.own(row, fixes)]  # (each with its column's options)
        for col, raw in read:
            if f.vtype in _TEXTUAL and isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)  # an export's number where a title is meant: the film 2046 (not a genre's id)
            if f.vtype == "money":
                raw = {"amount": raw, "currency": col.currency or "USD"}
            elif f.vtype == "rating":
                raw = {"value": raw, "best": col.best}
                if col.count is not None and (count := Column(col.count).first(row, fixes)) is not None:
                    if (number := _count(count)) is not None:
                        raw["count"] = number
                    else:  # the rating stands without it
                        fixes.append(f"{f.name}: count {quote(count)} is not a whole number of ratings above zero: "
                                     "the rating is kept without its count")
            elif f.vtype in ("ltext", "name") and (col.lang or col.lang_column):
                tag = col.lang or Column(col.lang_column).first(row, fixes)
                if tag and col.lang_column and not self.tag(str(tag), f, fixes):
                    tag = None
                raw = {"text": raw, "lang": tag} if tag else raw
            if f.vtype in ("year", "int", "minutes") and isinstance(raw, str) and raw.strip().isascii() \
                    and raw.strip().isdigit():
                raw = int(raw)
            try:
                if col.formats and isinstance(raw, str):
                    raw = _dated(raw, col.formats)
                value = self.parsers[f.vtype](raw)
                if f.choices and value not in f.choices:
                    raise ValueError(f"{quote(value)} is not one of {', '.join(f.choices)}")
                out.append((True, value))
            except ValueError as exc:
                out.append((False, str(exc) + (f" (nor written as {' or '.join(map(quote, col.formats))})"
                                               if col.formats and isinstance(raw, str) and not isinstance(
                                                   exc, _NoSuchDay) else "")))
        return out

    def tag(self, tag: str, f: Field, fixes: list[str]) -> bool:
        """Whether a row's language tag is one (else the text is published without it, and a note says so)."""
        try:
            self.parsers["lang"](tag)
            return True
        except ValueError:
            fixes.append(f"{f.name}: language {quote(tag)} is not a BCP 47 tag (e.g. ko, en, ko-Latn): the text is "
                         "published without one")
            return False

    def referenced(self, mapping: Mapping, ref: RefSpec, row: dict[str, Any], origin: Origin,
                   fixes: list[str]) -> list[str]:
        keys = []
        for key, label, strong, name, undated in self.identify(mapping, ref.identity, ref.kind, row, origin, fixes):
            target = self.ids.entry(mapping.source.key, ref.kind, key, Origin(origin.file, origin.line, key), label,
                                    strong, undated)
            if name:
                target.add("name", LangText(name), target.origin)
                if ref.kind == "person" and group(name):
                    self.grouped(mapping, target, name, origin, fixes)
            keys.append(key)
        return keys

    def field(self, mapping: Mapping, spec: FieldSpec, entry: Entry, row: dict[str, Any], origin: Origin,
              fixes: list[str]) -> None:
        f = spec.field
        if spec.column is not None:
            col = spec.column
            for ok, value in self.pure(fixes, lambda: self.parsed(f, col, row, fixes)):
                if ok:
                    entry.add(f.name, value, origin)
                else:
                    self.notes.append(Note(origin.file, origin.line, "skipped", f"{f.name}: {value}"))
            return
        assert spec.ref is not None
        for sub in self.credits(spec, row, origin) if spec.items else [row]:
            keys = self.referenced(mapping, spec.ref, sub, origin, fixes)
            self._credited.update(keys)
            for key in keys:
                self.reference(spec, entry, key, sub, origin, fixes)
            if not keys and f.vtype == "cast" and (played := spec.parts.get("character_name")) is not None and (
                    character := self.pure(fixes, partial(played.first, sub, fixes))):
                self.notes.append(Note(origin.file, origin.line, "skipped",
                                       f"cast: {quote(str(character))} is played by no one named: left out"))

    def grouped(self, mapping: Mapping, target: Entry, name: str, origin: Origin, fixes: list[str]) -> None:
        """A group or a duo credited as one: a performing group where the credit allows one (a cast), else flagged."""
        if any(spec.field.name in ("cast", "actor") for spec in mapping.fields if spec.ref is not None):
            if ("type", "PerformingGroup") not in target.values:
                target.add("type", "PerformingGroup", target.origin)
                fixes.append(f"repaired {quote(name)}: a group or a duo, published as a schema:PerformingGroup")
        else:
            fixes.append(f"{quote(name)} looks like a group or a duo, credited where only a person can be")

    @staticmethod
    def billed(entry: Entry, actor: str, character: str | None) -> int:
        """The billing of an actor a source lists for a film: one more than it has listed so far, or the one it
        gave this actor (in this part) on an earlier row (a row repeated is not more of the cast)."""
        if entry.billings is None:
            entry.billings = {}
        known = entry.billings.get((actor, character))
        if known is None:
            entry.billed += 1
            known = entry.billings[(actor, character)] = entry.billed
        return known

    def credits(self, spec: FieldSpec, row: dict[str, Any], origin: Origin) -> list[dict[str, Any]]:
        """The objects of a cast or crew list (`items`), each read as a row of its own."""
        found = nested(row, str(spec.items))
        found = [found] if isinstance(found, dict) else found if isinstance(found, list) else []
        objects = [x for x in found if isinstance(x, dict)]
        if len(objects) < len(found):
            self.notes.append(Note(origin.file, origin.line, "suspicious",
                                   f"{len(found) - len(objects)} item(s) of {quote(spec.items)} are not objects; "
                                   f"left out of {spec.field.name}"))
        return objects

    def reference(self, spec: FieldSpec, entry: Entry, key: str, row: dict[str, Any], origin: Origin,
                  fixes: list[str]) -> None:
        f = spec.field
        if f.vtype == "ref" and f.name == "actor":  # a list of actors in billing order: a cast with no characters
            entry.add("cast", CastEntry(key, None, None, self.billed(entry, key, None)), origin)
        elif f.vtype == "ref":
            entry.add(f.name, key, origin)
        elif f.vtype == "cast":
            def part(name: str) -> Any:
                col = spec.parts.get(name)
                return self.pure(fixes, lambda: col.first(row, fixes)) if col else None
            character = part("character_name")
            billing = part("billing")
            try:
                billing_n = int(billing) if billing is not None and int(billing) > 0 else None
            except (TypeError, ValueError):
                self.notes.append(Note(origin.file, origin.line, "suspicious",
                                       f"billing {quote(billing)} is not a number"))
                billing_n = None
            category = part("category")
            if billing_n is None and "billing" not in spec.parts:  # the source's order is its billing
                billing_n = self.billed(entry, key, str(character) if character else None)
            entry.add("cast", CastEntry(key, None, LangText(str(character)) if character else None, billing_n,
                                        str(category) if category else None), origin)
        elif f.vtype == "crew":
            dept = self.pure(fixes, lambda: spec.parts["department"].first(row, fixes))
            if dept is None:
                entry.add("crew", CrewEntry(key, "crew"), origin)
                return
            dept = str(dept).rstrip(" _")
            target = spec.departments.get(dept)
            if target:
                entry.add(target, key, origin)
            else:
                entry.add("crew", CrewEntry(key, dept), origin)


_SLIPS_LOOKED_AT = 200  # a record's values from which a row's credits are no longer compared with earlier rows'
# the fields whose people two rows of one record are compared in: not a cast's (a file of a row per credit names
# a film's cast on many rows, and comparing them cost about 1.5 s of a 100,000-film read); its director's, its
# writers', its crew's
_PEOPLE = {k.name: frozenset(f.name for f in k.fields if f.ref == "person") - {"actor"} for k in KINDS.values()}


def _crediting(mapping: Mapping) -> bool:
    """Whether a mapping's rows credit people outside a cast (its records' rows are compared: `_Reader.slips`)."""
    return any(spec.ref is not None and spec.ref.kind == "person" and spec.field.name in _PEOPLE[mapping.kind.name]
               or spec.field.vtype == "crew" for spec in mapping.fields)


def _credit(kind: str, value: Value) -> tuple[str, str] | None:
    """As what a value credits someone outside a cast (a field's name or a department) and whom (a person's key);
    None when it credits no one, or a cast."""
    if value.field in _PEOPLE[kind]:
        return value.field, str(value.value)
    if value.field == "crew":  # (a CrewEntry)
        return value.value.department.casefold(), value.value.person
    return None


def _text(value: Any) -> str:
    return str(getattr(value, "text", value))


def _count(cell: Any) -> int | None:
    """A count of ratings as exports write one: 1520, '1,520', '1520.0' (a spreadsheet's); None if it is none."""
    if isinstance(cell, bool):
        return None
    text = str(cell).strip()
    # digits, grouped by commas in threes, or a spreadsheet's float (1200.0): not '1.000' or '12,5', which
    # another locale writes for a thousand and for twelve and a half
    if not text.isascii() or not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+|[0-9]+(\.0{1,2})?", text):
        return None
    number = int(text.replace(",", "").split(".")[0])
    return number if number > 0 else None


class _NoSuchDay(ValueError):
    """A cell written as a date format writes one, of a day the calendar does not have."""


def _dated(text: str, formats: tuple[str, ...]) -> str:
    """A cell's date written as YYYY-MM-DD, or its year alone for a format of a year alone ('%Y'), when one of the
    mapping's formats reads it (else the cell as it is)."""
    for fmt in formats:
        try:
            read = dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        return f"{read.year:04d}" if fmt.replace("%%", "").count("%") == 1 else read.isoformat()
    said = []  # written as a format writes a date, but of no day of the calendar (31/06/2025): what is wrong
    for fmt in formats:
        pattern = re.escape(fmt).replace("%d", r"(?P<d>\d{1,2})").replace("%m", r"(?P<m>\d{1,2})").replace(
            "%Y", r"(?P<Y>\d{4})")
        if "%" in pattern.replace("%%", "") or not {"d", "m", "Y"} <= set(re.compile(pattern).groupindex):
            continue
        if found := re.fullmatch(pattern, text.strip()):
            year, month, day = int(found["Y"]), int(found["m"]), int(found["d"])
            if not 1 <= month <= 12:
                said.append((1, f"there is no month {month}"))
            elif day < 1:
                said.append((0, f"there is no day {day}"))
            elif day > (last := calendar.monthrange(year, month)[1]):
                said.append((0, f"{calendar.month_name[month]} {year} has {last} days"))
    if said:  # (the reading of a month that is one first: 31/06 read as day and month is June's 31st)
        raise _NoSuchDay(f"{quote(text)} is no day of the calendar: {min(said)[1]}")
    return text


_LINKING = ("ref", "cast", "crew")  # the value types that name other records
_TEXTUAL = frozenset(("ltext", "name"))  # the value types (titles, names) a JSON file's whole number is the text of


Entries = dict[tuple[str, str, str], Entry]  # (source, kind, key) -> what the source's rows say of that record


def apart(mappings: list[Mapping]) -> list[list[Mapping]]:
    """The mappings in parts that can be read apart: one each, as a row only ever finds its record among its own
    source's; all in one part when two share a source."""
    if len({m.source.key for m in mappings}) < len(mappings):
        return [mappings]
    return [[m] for m in mappings]


def read_entries(mappings: list[Mapping], parsers: dict[str, Callable[[Any], Any]], notes: list[Note],
                 tapes: Tapes | None = None) -> Entries:
    """What the mappings' rows say, entry by entry, in the order the rows named them; with `tapes`, the rows' pure
    work taken from their tapes where it can be, and taped."""
    before = len(notes)
    try:
        reader = _Reader(parsers, notes, tapes)
        refused: list[MappingError] = []  # the columns each mapping of a part misses, all told
        for mapping in mappings:
            try:
                reader.read(mapping)
            except MappingError as exc:
                if not exc.columns:
                    raise
                refused += exc.every()
        if refused:
            raise MappingError(str(refused[0]), refused[0].line, tuple(refused[1:]), columns=True)
    except _Unlike:
        del notes[before:]
        assert tapes is not None
        tapes.restart()
        return read_entries(mappings, parsers, notes, tapes)
    if tapes is not None:
        tapes.close()
    return reader.ids.entries


def read_bulk(mappings: list[Mapping], parsers: dict[str, Callable[[Any], Any]],
              notes: list[Note], hand: AbstractSet[tuple[str, str]] = frozenset(),
              apart: Apart = frozenset(), spelled: Spelled = MappingProxyType({})) -> list[Record]:
    """Every record the mappings' files describe (one claim per source), identities merged (a key of a hand-written
    record, `hand`, joins it; a pair the curators keep `apart` is not joined by name), plus the sources."""
    return records_of(mappings, read_entries(mappings, parsers, notes), notes, hand=hand, apart=apart,
                      spelled=spelled)


def renames(entries: Entries, notes: list[Note], hand: AbstractSet[tuple[str, str]] = frozenset(),
            apart: Apart = frozenset(), spelled: Spelled = MappingProxyType({})) -> dict[tuple[str, str], str]:
    """The records the entries name that become another: people whose name lost a letter, then name-keyed records
    that match one identified record, unless a hand-written record has their key (`records_of`'s first step; its
    notes said in this order)."""
    rename = lost_letters(entries, notes, spelled)
    rename.update({k: rename.get(("person", v), v) if k[0] == "person" else v
                   for k, v in resolve(entries, notes, hand, apart, spelled).items() if k not in rename})
    return rename


Said = list[tuple[str, Entry]]  # the entries of one record, with their sources, in the order the rows named them


def grouped(entries: Entries, rename: dict[tuple[str, str], str],
            only: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], Said]:
    """The entries by the record they make, (kind, key) once renamed, in the order the rows named them (of the
    records `only`, when given)."""
    merged: dict[tuple[str, str], Said] = {}
    for (source, kind, key), entry in entries.items():
        made = (kind, rename.get((kind, key), key))
        if only is None or made in only:
            merged.setdefault(made, []).append((source, entry))
    return merged


_LINKS = {k.name: {f.name: f for f in k.fields if f.vtype in _LINKING} for k in KINDS.values()}


def record_of(kind_name: str, key: str, said: Said, rename: dict[tuple[str, str], str], notes: list[Note],
              clear: bool = False) -> Record | None:
    """The record one group of entries makes (`grouped`): a claim per source, values renamed; None (and a note)
    when none of them gives a name. With `clear`, the entries' values are let go once claimed."""
    links = _LINKS[kind_name]  # the fields whose values may name a record renamed
    # the spelling of the rows that have the record's own key (an identifier) first: a name-keyed row found to be
    # it spells it as its file does ('Angus Maclane' in a cast list, 'Angus MacLane' where IMDb's id is)
    own = [v.value for _, entry in said if entry.key == key for v in entry.values.values() if v.field == "name"]
    claims: dict[str, list[Value]] = {}
    for source, entry in said:
        values = claims.setdefault(source, [])
        if rename:
            values.extend(v if (f := links.get(v.field)) is None else renamed(v, f, rename)
                          for v in entry.values.values())
        else:
            values.extend(entry.values.values())
    if clear:
        for _, entry in said:
            entry.values.clear()  # now held by the claims: free the index as we go, it is the larger part
    first = said[0][1]
    names = own + [v.value for vs in claims.values() for v in vs if v.field == "name"]
    # the first row's spelling, unless it lost a letter that another row has (F_lix, Félix)
    name = next((n for n in names if not LOST_LETTER.search(str(getattr(n, "text", n)))), names[0] if names
                else None)
    if name is None:
        given = sorted({v.field for vs in claims.values() for v in vs})
        notes.append(Note(first.origin.file, first.origin.line, "skipped", f"{kind_name} {quote(key)} has no name" + (
            f": left out with what its rows give it ({', '.join(given)}); a {kind_name} is published with a name"
            if given else ": no row describes it (only referred to, by its identifier?), so it is left out")))
        return None
    origin = Origin(first.origin.file, first.origin.line, key)
    editorial = Claim(EDITORIAL, (Value("name", name, origin),), origin)
    former: dict[str, Origin] = {}  # the keys of rows found to be this record (a name-keyed row of an identified
    for _, entry in said:           # film): their IRIs redirect to it, as a published one did before the merge
        if entry.key != key and key not in (entry.key + suffix for suffix in APART):  # (a hand-written one's IRI)
            former.setdefault(entry.key, Origin(entry.origin.file, entry.origin.line, entry.key))
    return Record(kind_name, key, (editorial, *(Claim(s, tuple(v), origin) for s, v in claims.items())), origin,
                  detailed=False, formerly=tuple(sorted(former.items())))


def records_of(mappings: list[Mapping], entries: Entries, notes: list[Note],
               rename: dict[tuple[str, str], str] | None = None,
               hand: AbstractSet[tuple[str, str]] = frozenset(), apart: Apart = frozenset(),
               spelled: Spelled = MappingProxyType({})) -> list[Record]:
    """The records the entries of every source make, identities merged, plus the sources (`read_bulk`'s); `rename`
    is `renames(entries, ...)` when that was asked already."""
    if rename is None:
        rename = renames(entries, notes, hand, apart, spelled)
    records = [m.source for m in mappings]
    for (kind_name, key), said in grouped(entries, rename).items():
        if (record := record_of(kind_name, key, said, rename, notes, clear=True)) is not None:
            records.append(record)
    return records
