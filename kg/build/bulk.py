"""Bulk sources (CSV, TSV, JSON, JSON Lines) read into records by a declarative mapping file per source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg.build.bulkspec import (
    FORMATS,
    FieldSpec,
    Mapping,
    MappingError,
    RefSpec,
    check_columns,
    display_of,
    nested,
)
from kg.build.cleaning import LOST_LETTER, NOT_A_PERSON, group
from kg.build.identity import Entry, Identities, lost_letters, renamed, resolve
from kg.build.notes import Note
from kg.build.rows import GARBLED, bad_bytes, deep_line, rows
from kg.model import EDITORIAL, KINDS, CastEntry, Claim, CrewEntry, Field, LangText, Origin, Record, Value
from kg.progress import bar
from kg.text import quote


class _Reader:
    """Reads the rows of every mapping into values of the entries its `Identities` tells the rows are."""

    def __init__(self, parsers: dict[str, Callable[[Any], Any]], notes: list[Note]) -> None:
        self.parsers = parsers
        self.notes = notes
        self.ids = Identities(notes)

    def read(self, mapping: Mapping) -> None:
        present: set[str] = set()
        within: dict[str, set[str]] = {spec.field.name: set() for spec in mapping.fields if spec.items}
        for path in mapping.files:
            display = display_of(mapping, path)
            try:
                self.read_file(mapping, path, display, present, within)
            except RecursionError:
                line = deep_line(path.read_bytes().decode(mapping.encoding, "replace"))
                raise MappingError(f"{display}: arrays or objects nested more deeply than kg reads", line) from None
        check_columns(mapping, present, within)

    def read_file(self, mapping: Mapping, path: Path, display: str, present: set[str],
                  within: dict[str, set[str]]) -> None:
        """The rows of one of a mapping's files; the columns they have are added to `present` and `within`."""
        fmt = mapping.fmt or FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise MappingError(f"{display}: unknown file type; set format: csv, tsv, json or jsonl")
        seen: dict[bytes, int] = {}
        for line, row in bar(rows(path, fmt, mapping.encoding, display, self.notes, mapping.items,
                                  mapping.delimiter, mapping.quoting), None,
                             "read", f"rows of {path.name}"):
            if not seen or fmt not in ("csv", "tsv"):  # a CSV file's rows all have the header's columns
                present.update(row)
                for spec in mapping.fields:
                    if spec.items and isinstance(listed := nested(row, spec.items), list):
                        within[spec.field.name].update(k for x in listed if isinstance(x, dict) for k in x)
            bad = bad_bytes(json.dumps(row, ensure_ascii=False)) if row.get(GARBLED) else None
            row.pop(GARBLED, None)
            if bad:
                self.notes.append(Note(display, line, "skipped", f"not valid {mapping.encoding} (bytes {bad}); "
                                       "the row is left out rather than published garbled"))
                continue
            # a digest, not the row: the rows of a large file are not all kept alive until it is read
            fingerprint = hashlib.blake2b(("\x1f".join(row.values()) if fmt in ("csv", "tsv") else json.dumps(
                row, sort_keys=True, ensure_ascii=False)).encode("utf-8", "surrogateescape"),
                digest_size=16).digest()
            if fingerprint in seen:
                self.notes.append(Note(display, line, "skipped", f"duplicate of row {seen[fingerprint]}"))
                continue
            seen[fingerprint] = line
            self.row(mapping, mapping.source.key, display, line, row)

    def row(self, mapping: Mapping, source: str, display: str, line: int, row: dict[str, Any]) -> None:
        fixes: list[str] = []
        kind = mapping.kind.name
        origin = Origin(display, line, "?")
        found = self.ids.identify(mapping, mapping.identity, kind, row, origin, fixes)
        if not found:
            if mapping.identity.name is None or not mapping.identity.name.values(row, []):
                self.notes.append(Note(display, line, "skipped", f"no {kind} name"))
            return
        key, label, strong, _ = found[0]
        origin = Origin(display, line, key)
        entry = self.ids.entry(source, kind, key, origin, label, strong)
        if mapping.identity.distinct is not None:
            entry.rows.setdefault(str(mapping.identity.distinct.first(row, []) or ""), line)
        for spec in mapping.fields:
            self.field(mapping, spec, entry, row, origin, fixes)
        for fix in dict.fromkeys(fixes):
            self.notes.append(Note(display, line, "junk" if fix.startswith(NOT_A_PERSON) else "repaired"
                                   if fix.startswith(("repaired", "removed")) else "suspicious", fix))

    def parse(self, f: Field, raw: Any, origin: Origin) -> Any:
        try:
            return self.parsers[f.vtype](raw)
        except ValueError as exc:
            self.notes.append(Note(origin.file, origin.line, "skipped", f"{f.name}: {exc}"))
            return None

    def referenced(self, mapping: Mapping, ref: RefSpec, row: dict[str, Any], origin: Origin,
                   fixes: list[str]) -> list[str]:
        keys = []
        for key, label, strong, name in self.ids.identify(mapping, ref.identity, ref.kind, row, origin, fixes):
            target = self.ids.entry(mapping.source.key, ref.kind, key, Origin(origin.file, origin.line, key), label,
                                strong)
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
            for raw in col.values(row, fixes):
                if f.vtype == "money":
                    raw = {"amount": raw, "currency": col.currency or "USD"}
                elif f.vtype in ("ltext", "name") and col.lang:
                    raw = {"text": raw, "lang": col.lang}
                if f.vtype in ("year", "int", "minutes") and isinstance(raw, str) and raw.strip().isdigit():
                    raw = int(raw)
                value = self.parse(f, raw, origin)
                if value is not None:
                    entry.add(f.name, value, origin)
            return
        assert spec.ref is not None
        for sub in self.credits(spec, row, origin) if spec.items else [row]:
            for key in self.referenced(mapping, spec.ref, sub, origin, fixes):
                self.reference(spec, entry, key, sub, origin, fixes)

    def grouped(self, mapping: Mapping, target: Entry, name: str, origin: Origin, fixes: list[str]) -> None:
        """A group or a duo credited as one: a performing group where the credit allows one (a cast), else flagged."""
        if any(spec.field.name in ("cast", "actor") for spec in mapping.fields if spec.ref is not None):
            if ("type", "PerformingGroup") not in target.values:
                target.add("type", "PerformingGroup", target.origin)
                fixes.append(f"repaired {quote(name)}: a group or a duo, published as a schema:PerformingGroup")
        else:
            fixes.append(f"{quote(name)} looks like a group or a duo, credited where only a person can be")

    @staticmethod
    def billed(entry: Entry) -> int:
        """The billing of the next actor a source lists for a film: one more than it has listed so far."""
        entry.billed += 1
        return entry.billed

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
            entry.add("cast", CastEntry(key, None, None, self.billed(entry)), origin)
        elif f.vtype == "ref":
            entry.add(f.name, key, origin)
        elif f.vtype == "cast":
            def part(name: str) -> Any:
                col = spec.parts.get(name)
                return col.first(row, fixes) if col else None
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
                billing_n = self.billed(entry)
            entry.add("cast", CastEntry(key, None, LangText(str(character)) if character else None, billing_n,
                                        str(category) if category else None), origin)
        elif f.vtype == "crew":
            dept = spec.parts["department"].first(row, fixes)
            if dept is None:
                entry.add("crew", CrewEntry(key, "crew"), origin)
                return
            dept = str(dept).rstrip(" _")
            target = spec.departments.get(dept)
            if target:
                entry.add(target, key, origin)
            else:
                entry.add("crew", CrewEntry(key, dept), origin)


_LINKING = ("ref", "cast", "crew")  # the value types that name other records


Entries = dict[tuple[str, str, str], Entry]  # (source, kind, key) -> what the source's rows say of that record


def apart(mappings: list[Mapping]) -> list[list[Mapping]]:
    """The mappings in parts that can be read apart: one each, as a row only ever finds its record among its own
    source's; all in one part when two share a source."""
    if len({m.source.key for m in mappings}) < len(mappings):
        return [mappings]
    return [[m] for m in mappings]


def read_entries(mappings: list[Mapping], parsers: dict[str, Callable[[Any], Any]], notes: list[Note]) -> Entries:
    """What the mappings' rows say, entry by entry, in the order the rows named them."""
    reader = _Reader(parsers, notes)
    for mapping in mappings:
        reader.read(mapping)
    return reader.ids.entries


def read_bulk(mappings: list[Mapping], parsers: dict[str, Callable[[Any], Any]],
              notes: list[Note]) -> list[Record]:
    """Every record the mappings' files describe (one claim per source), identities merged, plus the sources."""
    return records_of(mappings, read_entries(mappings, parsers, notes), notes)


def records_of(mappings: list[Mapping], entries: Entries, notes: list[Note]) -> list[Record]:
    """The records the entries of every source make, identities merged, plus the sources (`read_bulk`'s)."""
    rename = lost_letters(entries, notes)
    rename.update({k: rename.get(("person", v), v) if k[0] == "person" else v
                   for k, v in resolve(entries, notes).items() if k not in rename})
    merged: dict[tuple[str, str], list[tuple[str, Entry]]] = {}
    for (source, kind, key), entry in entries.items():
        merged.setdefault((kind, rename.get((kind, key), key)), []).append((source, entry))
    records = [m.source for m in mappings]
    linking = {k.name: {f.name: f for f in k.fields if f.vtype in _LINKING} for k in KINDS.values()}
    for (kind_name, key), said in merged.items():
        links = linking[kind_name]  # the fields whose values may name a record renamed
        claims: dict[str, list[Value]] = {}
        for source, entry in said:
            values = claims.setdefault(source, [])
            if rename:
                values.extend(v if (f := links.get(v.field)) is None else renamed(v, f, rename)
                              for v in entry.values.values())
            else:
                values.extend(entry.values.values())
        for _, entry in said:
            entry.values.clear()  # now held by the claims: free the index as we go, it is the larger part
        first = said[0][1]
        names = [v.value for vs in claims.values() for v in vs if v.field == "name"]
        # the first row's spelling, unless it lost a letter that another row has (F_lix, Félix)
        name = next((n for n in names if not LOST_LETTER.search(str(getattr(n, "text", n)))), names[0] if names
                    else None)
        if name is None:
            notes.append(Note(first.origin.file, first.origin.line, "skipped", f"{kind_name} {quote(key)} has no name"))
            continue
        origin = Origin(first.origin.file, first.origin.line, key)
        editorial = Claim(EDITORIAL, (Value("name", name, origin),), origin)
        records.append(Record(kind_name, key, (editorial, *(Claim(s, tuple(v), origin) for s, v in claims.items())),
                              origin, detailed=False))
    return records
