"""Mapping files (`<name>.mapping.yaml`): what a bulk source's files are and how columns become fields."""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import glob
import html
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from kg.build.cleaning import clean_text, name_key, outside_notes, people_names
from kg.model import KINDS, Field, Kind, Record
from kg.text import quote, shorten

MAPPING_SUFFIX = ".mapping.yaml"

FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class MappingError(ValueError):
    """A mapping file that cannot be used; `line` points into it."""

    def __init__(self, message: str, line: int | None = None, more: tuple[MappingError, ...] = (),
                 columns: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.more = more  # the other problems found at once (every column missing, every mapping's): told together
        self.columns = columns  # columns the mapping misses, found once its files were read: the next may be read

    def __reduce__(self) -> tuple[Any, ...]:
        return MappingError, (str(self), self.line, self.more, self.columns)  # (sent back by the worker that read)

    def every(self) -> list[MappingError]:
        """This problem and the others found with it, each once."""
        out = [self]
        for other in self.more:
            out += [e for e in other.every() if str(e) not in {str(x) for x in out}]
        return out

    def replaced(self, old: str, new: str) -> MappingError:
        """The same problems, `old` replaced by `new` in each message."""
        return MappingError(str(self).replace(old, new), self.line, tuple(e.replaced(old, new) for e in self.more),
                            self.columns)



def _named(keys: Iterable[Any]) -> str:
    """Keys a mapping should not have, as a message names them: 'colour', 'size'."""
    return ", ".join(quote(k) for k in sorted(keys, key=str))

def _unfit_format(fmt: str) -> str | None:
    """Why a date format would publish what its cells do not say (None: it is fit): a day and a month, or a
    four-digit year alone, are what a date or a year is made of."""
    codes = set(re.findall(r"%(.)", fmt.replace("%%", ""))) - {"H", "I", "M", "S", "f", "p", "z", "Z", "a", "A"}
    if "y" in codes:
        return "has a two-digit year (%y), which names no century: write the format with %Y"
    if not codes & {"Y", "G"}:
        return "has no year (%Y)"
    dated = (codes & {"d"} and codes & {"m", "b", "B"}) or "j" in codes or (
        codes & {"U", "W"} and codes & {"w", "u"} and "Y" in codes) or {"G", "V"} <= codes and codes & {"u"}
    if codes != {"Y"} and not dated:
        return "lacks the day or the month, which kg would have to make up: a date has both, a year alone is '%Y'"
    return None  # (a time of day in it is read and left out: kg keeps dates)


@dataclass(frozen=True)
class Column:
    """Where a value comes from in a row, and how it is cleaned before the field's own parser sees it."""

    column: str | None = None
    constant: Any = None
    pattern: re.Pattern[str] | None = None  # keep group 1 (or the match); no match -> the value is dropped
    template: str | None = None  # e.g. https://en.wikipedia.org/wiki/{}
    split: str | None = None  # separator of several values in one cell
    lang: str | None = None
    html: bool = False  # decode HTML entities such as &amp;
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)  # value as printed -> value to use
    currency: str | None = None  # for money fields
    best: Any = None  # for rating fields: the top of the ratings' scale (5 when not given)
    count: str | None = None  # for rating fields: the column of how many ratings each averages
    formats: tuple[str, ...] = ()  # for date fields: how the cells write a date (strptime), tried in order
    lang_column: str | None = None  # the column of each row's language tag (lang: {column: ...})
    where: str = dataclasses.field(default="", compare=False)  # the mapping entry, for errors
    line: int | None = dataclasses.field(default=None, compare=False)
    # the columns written after this one in a list: read each in turn while none gives a value, or (`gather`, a field
    # of several values) all of them
    fallback: tuple[Column, ...] = ()
    gather: bool = False

    @staticmethod
    def parse(spec: Any, where: str, line: int | None) -> Column:
        """A column spec from the mapping file: a column name, a mapping of options, or a list of either."""
        if isinstance(spec, list) and spec and not any(isinstance(s, list) for s in spec):
            first, *rest = [Column.parse(s, where, line) for s in spec]
            return dataclasses.replace(first, fallback=tuple(rest))
        if isinstance(spec, str):
            return Column(column=spec, where=where, line=line)
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: a column name, a mapping with 'column' or 'constant', or a list of them "
                               "(read in turn until one gives a value; all of them for a field of several values)",
                               line)
        known = {"column", "constant", "pattern", "template", "split", "lang", "html", "aliases", "currency", "best",
                 "count", "format"}
        extra = set(spec) - known
        if extra:
            raise MappingError(f"{where}: unknown option(s) {_named(extra)} (known: "
                               f"{', '.join(sorted(known))})", line)
        if ("column" in spec) == ("constant" in spec):
            raise MappingError(f"{where}: give exactly one of 'column' or 'constant'", line)
        try:
            pattern = re.compile(spec["pattern"]) if spec.get("pattern") is not None else None
        except re.error as exc:
            raise MappingError(f"{where}: pattern is not a regular expression: {exc}", line) from exc
        aliases = spec.get("aliases") or {}
        if not isinstance(aliases, dict):
            raise MappingError(f"{where}: aliases is a mapping of value -> replacement", line)
        count = spec.get("count")
        if count is not None and not isinstance(count, str):
            raise MappingError(f"{where}: count is the column of how many ratings each value averages", line)
        formats = spec.get("format") or []
        formats = [formats] if isinstance(formats, str) else formats
        for fmt in formats:
            if not isinstance(fmt, str) or "%" not in fmt:
                raise MappingError(f"{where}: format is how the cells write a date, e.g. '%d/%m/%Y' (24/07/1956) or "
                                   "'%B %d, %Y' (June 12, 1936), or a list of them", line)
            if (why := _unfit_format(fmt)) is not None:
                raise MappingError(f"{where}: format {quote(fmt)} {why}", line)
        lang: Any = spec.get("lang")
        lang_column = lang.get("column") if isinstance(lang, dict) else None
        if isinstance(lang, dict):
            if set(lang) != {"column"} or not isinstance(lang_column, str):
                raise MappingError(f"{where}: lang is a language tag (lang: ko) or the column that gives each row's "
                                   "(lang: {column: original_language})", line)
            lang = None
        return Column(spec.get("column"), spec.get("constant"), pattern, spec.get("template"), spec.get("split"),
                      lang, bool(spec.get("html")), {str(k): str(v) for k, v in aliases.items()},
                      spec.get("currency"), spec.get("best"), count, tuple(formats), lang_column, where, line)

    @cached_property
    def plain(self) -> bool:
        """Whether values are taken as they are (only cleaned): the fast path for most columns."""
        return not (self.pattern or self.template or self.split or self.html or self.aliases)

    def chosen(self, row: dict[str, Any]) -> list[Column]:
        """The columns a row's values are read from: this one and those after it (`fallback`) when they are gathered,
        else the first of them that gives a value."""
        if not self.fallback:
            return [self]
        every = [self, *self.fallback]
        return every if self.gather else next(([c] for c in every if c.own(row, [])), [self])

    def values(self, row: dict[str, Any], fixes: list[str]) -> list[Any]:
        """The cleaned values of this column (or of the columns after it: `chosen`) in one row (none for an empty
        cell)."""
        if not self.fallback:
            return self.own(row, fixes)
        return [v for c in self.chosen(row) for v in c.own(row, fixes)]

    def own(self, row: dict[str, Any], fixes: list[str]) -> list[Any]:
        """The cleaned values of this column alone in one row."""
        raw = self.constant if self.column is None else row.get(self.column)
        if raw is None and self.column is not None and "." in self.column:
            raw = nested(row, self.column)
        if raw is None or raw == "":
            return []
        if self.plain and isinstance(raw, str):
            text, repaired = clean_text(raw)
            if repaired:
                fixes.extend(repaired)
            return [text] if text else []
        items = raw if isinstance(raw, list) else [raw]
        out: list[Any] = []
        depth = 0  # inside a parenthetical note that a list split into items: ['Gary Cooper', '(', 'Best Actor', ...]
        for item in items:
            if item is None or item == "":
                continue
            if not isinstance(item, str):
                out.append(item)
                continue
            parts = item.split(self.split) if self.split else [item]
            listed = isinstance(raw, list) or len(parts) > 1
            for part in parts:
                text, repaired = clean_text(html.unescape(part) if self.html else part)
                fixes.extend(repaired)
                if not text:
                    continue
                if listed:
                    text, depth = outside_notes(text, depth, fixes)
                    if not text:
                        continue
                if self.pattern is not None:
                    match = self.pattern.search(text)
                    if match is None:
                        continue
                    text = (match.group(1) if match.groups() else match.group(0)).strip()
                text = self.aliases.get(text, text)
                if self.template is not None:
                    text = self.template.format(text)
                out.append(text)
        return out

    def first(self, row: dict[str, Any], fixes: list[str]) -> Any:
        """The first value, or None."""
        found = self.values(row, fixes)
        return found[0] if found else None


def nested(row: dict[str, Any], path: str) -> Any:
    """The value at a dotted path in a JSON object (`title.en`); through a list, each item's (`genres.name`)."""
    found: Any = row
    for step in path.split("."):
        if isinstance(found, dict):
            found = found.get(step)
        elif isinstance(found, list):
            found = [x for item in found if isinstance(item, dict)
                     for x in (item.get(step) if isinstance(item.get(step), list) else [item.get(step)])]
        else:
            return None
    return found


Reach = tuple[int, frozenset[str], bool]  # how far into a dotted path rows went, the keys there, whether text is there


def reach(row: dict[str, Any], steps: list[str]) -> Reach:
    """How many steps of a dotted path the row has (through lists, as `nested` reads it), and, when it has not all,
    the keys of the objects where it stops and whether a value there is text or a number (not an object)."""
    level: list[Any] = [row]
    for depth, step in enumerate(steps):
        values = [x for v in level for x in (v if isinstance(v, list) else [v]) if x is not None and x != ""]
        objects = [x for x in values if isinstance(x, dict)]
        level = [o[step] for o in objects if step in o]
        if not level:
            return depth, frozenset(k for o in objects for k in o), any(not isinstance(x, (dict, list)) for x in values)
    return len(steps), frozenset(), False


def dotted_columns(mapping: Mapping) -> list[str]:
    """The dotted paths the mapping reads from the rows themselves (not an `items` path, checked apart)."""
    found = [str(c.column) for spec in mapping.fields if spec.items is None for c in spec.columns()]
    i = mapping.identity
    found += [str(x.column) for c in (i.name, i.ident, i.year, i.distinct) if c is not None for x in (c, *c.fallback)
              if x.column is not None]
    # a path into an `items` list's objects, from the row (`credits.crew` + `person.name`)
    found += [f"{spec.items}.{c.column}" for spec in mapping.fields if spec.items for c in spec.columns()
              if "." in str(c.column)]
    return sorted({name for name in found if "." in name})


_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit (what str.isalnum tells), in any script


@dataclass(frozen=True)
class Identity:
    """How a record is identified: by an identifier column when it has one, else by its name (and year)."""

    name: Column | None
    ident: Column | None = None
    year: Column | None = None
    distinct: Column | None = None  # rows with the same name and year but different values here are different

    def keys(self, row: dict[str, Any], fixes: list[str],
             people: bool = False) -> list[tuple[str | None, str | None, str, str, bool]]:
        """(identifier key, name key, distinguishing value, name, whether the name key lacks the year the key has
        when the row gives one) of each record a row names.

        One per name in a list-valued name column (a cast list); just one when an identifier column is set.
        With `people`, what cannot be a person's name is left out (`people_names`).
        """
        idents = self.ident.values(row, fixes) if self.ident else []
        names = self.name.values(row, fixes) if self.name else []
        if len(idents) > 1 and (not names or len(names) == len(idents)):  # a cast's ids beside its names
            return self._paired(row, idents, names, fixes, people)
        if len(idents) > 1:
            fixes.append(f"{len(names)} names and {len(idents)} identifiers in one row: which identifier is whose "
                         "cannot be told, so each is identified by its name alone")
        ident = idents[0] if len(idents) == 1 else None
        if people and names:
            names = people_names([str(n) for n in names], fixes)
            if not names:  # nothing in the cell was a name: no one is named, not even by an identifier
                return []
        if self.ident is not None and len(idents) <= 1:
            names = names[:1]
        year = self._year(row, fixes, ident)
        distinct = str(self.distinct.first(row, fixes) or "") if self.distinct else ""
        out = []
        undated = self.year is not None and year is None
        for name in names:
            text = str(name)
            label = name_key(text) + (f"-{year}" if year is not None else "") if _ALNUM.search(text) else None
            out.append((str(ident).lower() if ident is not None else None, label or None, distinct, text, undated))
        if not names and ident is not None:
            out.append((str(ident).lower(), None, distinct, "", undated))
        return out

    def _paired(self, row: dict[str, Any], idents: list[Any], names: list[Any], fixes: list[str],
                people: bool) -> list[tuple[str | None, str | None, str, str, bool]]:
        """`keys` of a row whose identifier column lists several, as many as its names (none, or a cast's): the
        n-th name is the n-th identifier's."""
        year = self._year(row, fixes, idents[0])
        distinct = str(self.distinct.first(row, fixes) or "") if self.distinct else ""
        undated = self.year is not None and year is None
        out: list[tuple[str | None, str | None, str, str, bool]] = []
        for n, ident in enumerate(idents):
            text = str(names[n]) if names else ""
            if people and text and not (text := next(iter(people_names([text], fixes)), "")):
                continue  # (not a person's name, said in `fixes`: not named by its identifier either)
            label = name_key(text) + (f"-{year}" if year is not None else "") if _ALNUM.search(text) else None
            out.append((str(ident).lower(), label or None, distinct, text, undated))
        return out

    def _year(self, row: dict[str, Any], fixes: list[str], ident: Any) -> Any:
        """The row's year for a key: None unless four digits (said in `fixes` when nothing else identifies it)."""
        year = self.year.first(row, fixes) if self.year else None
        if year is not None and not re.fullmatch(r"\d{4}", str(year).strip()):  # never part of an IRI
            if ident is None:  # (a row with an identifier is identified by it: the year's field says what it lacks)
                fixes.append(f"year {quote(year)} is not a year: identified by name alone")
            year = None
        return year


@dataclass(frozen=True)
class RefSpec:
    """A field whose values are other records (people, companies), identified like any record."""

    kind: str
    identity: Identity


@dataclass(frozen=True)
class FieldSpec:
    """One target field and where its values come from."""

    field: Field
    column: Column | None = None  # plain fields
    ref: RefSpec | None = None  # ref fields, cast actors, crew people
    parts: dict[str, Column] = dataclasses.field(default_factory=dict)  # cast and crew sub-columns
    departments: dict[str, str] = dataclasses.field(default_factory=dict)  # crew: department as printed -> movie field
    items: str | None = None  # cast and crew: a column holding a list of objects, one per credit (JSON)
    line: int | None = None  # of the mapping file, where the field is written (its `items` option's, with one)

    def columns(self) -> list[Column]:
        """The columns this field reads: of the row, or (with `items`) of each object in that column's list."""
        found = [self.column, *self.column.fallback] if self.column is not None else []
        for c in list(found):
            for other in (c.count, c.lang_column):
                if other is not None:
                    found.append(Column(other, where=c.where, line=c.line))
        found += list(self.parts.values())
        if self.ref is not None:
            i = self.ref.identity
            found += [x for c in (i.name, i.ident, i.year, i.distinct) if c is not None for x in (c, *c.fallback)]
        return [c for c in found if c.column is not None]


@dataclass
class Mapping:
    """One mapping file: the source it stands for, the files it reads and how rows become records."""

    path: Path
    display: str
    source: Record
    files: list[Path]
    fmt: str | None
    encoding: str
    kind: Kind
    identity: Identity
    fields: list[FieldSpec]
    items: tuple[str, ...] = ()  # where a JSON document holds its array of objects: ("data",), ("results", "items")
    delimiter: str | None = None  # of CSV cells: by default ',' (';' when the header has semicolons and no comma)
    quoting: str | None = None  # "csv": a cell may be "quoted"; "none": a quote is a character (TSV's default)

    def columns(self) -> list[Column]:
        """Every column the mapping reads from the rows themselves (not from the objects of an `items` list)."""
        found = [c for spec in self.fields if spec.items is None for c in spec.columns()]
        found += [Column(spec.items, where=f"fields.{spec.field.name}", line=spec.line) for spec in self.fields
                  if spec.items]
        i = self.identity
        found += [c for c in (i.name, i.ident, i.year, i.distinct) if c is not None and c.column is not None]
        return found


def _identity(spec: Any, kind: Kind, fields: dict[str, Any], where: str, line: int | None) -> Identity:
    spec = spec or {}
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: 'key' is a mapping (id, name, year, distinct)", line)
    extra = set(spec) - {"id", "name", "year", "distinct"}
    if extra:
        raise MappingError(f"{where}: unknown option(s) {_named(extra)} in key", line)
    name_spec = spec.get("name", fields.get("name"))
    if name_spec is None and spec.get("id") is None:
        raise MappingError(f"{where}: rows need an identifier (key.id) or a name (a 'name' field or key.name)", line)
    year_spec = spec.get("year", fields.get("production_year") if kind.name == "movie" else None)

    def col(s: Any) -> Column | None:
        return Column.parse(s, where, line) if s is not None else None

    return Identity(col(name_spec), col(spec.get("id")), col(year_spec), col(spec.get("distinct")))


def _ref(spec: Any, kind: str, where: str, line: int | None) -> RefSpec:
    if isinstance(spec, str):
        return RefSpec(kind, Identity(Column(column=spec, where=where, line=line)))
    if isinstance(spec, dict) and "name" not in spec and "column" in spec:  # a plain field's options, as written
        raise MappingError(f"{where}: a reference's column goes under `name:` (its options too): "
                           f"{{name: {{column: {spec['column']}{', ...' if len(spec) > 1 else ''}}}}}, with `id:` "
                           "and `year:` beside it if the rows give them", line)
    if not isinstance(spec, dict) or "name" not in spec:
        raise MappingError(f"{where}: a reference is a column of names, or {{name: column, id: column, year: "
                           "column}", line)
    extra = set(spec) - {"name", "id", "year"}
    if extra:
        raise MappingError(f"{where}: unknown option(s) {_named(extra)} in a reference (known: "
                           "name, id, year)", line)
    ident = Column.parse(spec["id"], where, _at(spec, "id", line)) if spec.get("id") is not None else None
    # a year: the film named with its year, as a mapping whose key has one names it (night-garden-2024)
    if spec.get("year") is not None and kind != "movie":
        raise MappingError(f"{where}: a reference gives a year for a film only (a film's key may have its year); "
                           f"this one names a {kind}", line)
    year = Column.parse(spec["year"], where, _at(spec, "year", line)) if spec.get("year") is not None else None
    return RefSpec(kind, Identity(Column.parse(spec["name"], where, _at(spec, "name", line)), ident, year))


def _item_by_item(spec: FieldSpec) -> FieldSpec:
    """A reference whose columns are all paths into one list of objects (`directors.name`, `directors.pid`) read
    item by item, as with `items`: each name with its own item's identifier, not the list's first."""
    if spec.items is not None or spec.ref is None:
        return spec
    paths = [str(c.column).split(".") for c in spec.columns()]
    if len(paths) < 2 or any(len(p) < 2 for p in paths):
        return spec
    prefix = []
    for steps in zip(*(p[:-1] for p in paths), strict=False):
        if len(set(steps)) > 1:
            break
        prefix.append(steps[0])
    if not prefix:
        return spec

    def moved(col: Column | None) -> Column | None:
        if col is None or col.column is None:
            return col
        return dataclasses.replace(col, column=".".join(col.column.split(".")[len(prefix):]))

    i = spec.ref.identity
    identity = Identity(moved(i.name), moved(i.ident), moved(i.year), moved(i.distinct))
    parts = {k: c for k, c in ((k, moved(c)) for k, c in spec.parts.items()) if c is not None}
    return dataclasses.replace(spec, ref=RefSpec(spec.ref.kind, identity), parts=parts, items=".".join(prefix))


def _at(spec: Any, key: str, line: int | None) -> int | None:
    """The line of a key of a field's spec (`cast: {character_name: ...}` on lines of their own), else the field's."""
    found = getattr(spec, "key_lines", {}).get(key)
    return found if isinstance(found, int) else line


def _field_spec(kind: Kind, name: str, spec: Any, where: str, line: int | None) -> FieldSpec:
    found = _item_by_item(_plain_field_spec(kind, name, spec, where, line))
    return found if found.line is not None else dataclasses.replace(found, line=line)


def _plain_field_spec(kind: Kind, name: str, spec: Any, where: str, line: int | None) -> FieldSpec:
    f = kind.field(name)
    if f is None:
        known = [x.name for x in kind.fields]
        close = difflib.get_close_matches(name, known, n=1)
        raise MappingError(f"{where}: {kind.name} has no field {quote(name)} ("
                           f"{f'did you mean {close[0]}? ' if close else ''}known: {', '.join(known)})", line)
    if f.vtype == "ref":
        ref_spec = spec.get("ref", spec) if isinstance(spec, dict) and "ref" in spec else spec
        return FieldSpec(f, ref=_ref(ref_spec, f.ref or "", where, line))
    items = spec.get("items") if isinstance(spec, dict) and f.vtype in ("cast", "crew") else None
    if items is not None and not (isinstance(items, str) and all(items.split("."))):
        raise MappingError(f"{where}: items is the column that holds a list of objects, one per credit",
                           _at(spec, "items", line))
    if f.vtype == "cast":
        if not isinstance(spec, dict) or "actor" not in spec:
            raise MappingError(f"{where}: cast is {{actor: ..., character_name: ..., billing: ..., category: ...}}",
                               line)
        extra = set(spec) - {"actor", "character_name", "billing", "category", "items"}
        if extra:
            raise MappingError(f"{where}: unknown option(s) {_named(extra)} in cast (known: actor, "
                               "character_name, billing, category, items)", line)
        parts = {k: Column.parse(spec[k], where, _at(spec, k, line)) for k in ("character_name", "billing", "category")
                 if k in spec}
        return FieldSpec(f, ref=_ref(spec["actor"], "person", where, _at(spec, "actor", line)), parts=parts,
                         items=items, line=_at(spec, "items", line))
    if f.vtype == "crew":
        if not isinstance(spec, dict) or not {"person", "department"} <= set(spec):
            raise MappingError(f"{where}: crew is {{person: ..., department: ..., fields: {{department: field}}}}",
                               line)
        departments = spec.get("fields") or {}
        for dept, target in departments.items():
            tf = kind.field(str(target))
            if tf is None or tf.vtype != "ref" or tf.ref != "person":
                raise MappingError(f"{where}: department {quote(dept)} maps to {quote(target)}, which is not a people "
                                   "field", line)
        return FieldSpec(f, ref=_ref(spec["person"], "person", where, _at(spec, "person", line)),
                         parts={"department": Column.parse(spec["department"], where, _at(spec, "department", line))},
                         departments={str(k).strip(): str(v) for k, v in departments.items()}, items=items,
                         line=_at(spec, "items", line))
    column = Column.parse(spec, where, line)
    if column.fallback and f.many:
        column = dataclasses.replace(column, gather=True)
    if f.vtype == "date" and any("%Y" in c.formats for c in (column, *column.fallback)):
        raise MappingError(f"{where}: format '%Y' reads a year alone, and {f.name} is a full date: only a year or a "
                           "date field (birth_date) takes a year", line)
    for c in (column, *column.fallback):
        for option, kinds, said in (("format", ("date", "date_or_year"), c.formats),
                                    ("count", ("rating",), c.count), ("best", ("rating",), c.best),
                                    ("currency", ("money",), c.currency)):
            if said and f.vtype not in kinds:
                raise MappingError(f"{where}: {option} is an option of {' and '.join(kinds)} fields, and {f.name} is "
                                   "no such field", line)
    return FieldSpec(f, column=column)


READ_OUTSIDE = ("outside the project: kg reads only files inside the project's folder and the folders that "
                "read_outside names in kg.toml")


def inside(path: Path, folders: Iterable[Path]) -> bool:
    """Whether `path`, its links followed, is in one of `folders` (resolved paths)."""
    try:
        real = path.resolve()
    except RuntimeError:  # a loop of links: reading it fails, and says so
        return True
    return any(real.is_relative_to(folder) for folder in folders)


def outside(path: Path) -> str:
    """Why a file outside the folders kg reads is refused: where it is (never what it holds)."""
    return f"{'a link to ' if path.is_symlink() else ''}{path.resolve()}, {READ_OUTSIDE}"


def load_mapping(path: Path, display: str, read_yaml: Callable[[Path, str], Any],
                 parse_source: Callable[[str, Any, str], Record], readable: tuple[Path, ...]) -> Mapping:
    """Read one mapping file, whose data files must be inside the `readable` folders; raise MappingError naming the
    line on any problem."""
    doc = read_yaml(path, display)
    if not isinstance(doc, dict):
        raise MappingError("a mapping file is a mapping with source, files, record and fields", 1)
    lines: dict[Any, int] = getattr(doc, "key_lines", {})

    def need(key: str) -> Any:
        if key not in doc:
            raise MappingError(f"missing {quote(key)}", 1)
        return doc[key]

    extra = set(doc) - {"source", "files", "format", "encoding", "delimiter", "quoting", "items", "record", "key",
                        "fields"}
    if extra:
        raise MappingError(f"unknown key(s) {_named(extra)} (known: source, files, format, encoding, "
                           "delimiter, quoting, items, record, key, fields)", lines.get(sorted(extra, key=str)[0], 1))
    source_spec = need("source")
    if not isinstance(source_spec, dict) or "key" not in source_spec:
        raise MappingError("source is the document these files are: {key: ..., name: ..., url: ...}",
                           lines.get("source"))
    source = parse_source(str(source_spec["key"]), source_spec, display)
    patterns = need("files")
    patterns = patterns if isinstance(patterns, list) else [patterns]
    files: list[Path] = []
    for pattern in patterns:
        found = sorted(Path(p) for p in glob.glob(str(path.resolve().parent / str(pattern))))
        if not found:
            raise MappingError(f"files: {quote(pattern)} matches no file (relative to {display})", lines.get("files"))
        refused = next((p for p in found if not inside(p, readable)), None)
        if refused is not None:
            raise MappingError(f"files: {quote(pattern)} matches {outside(Path(os.path.normpath(refused)))}",
                               lines.get("files"))
        files.extend(found)
    kind = KINDS.get(str(need("record")))
    if kind is None or not kind.has_claims:
        raise MappingError(f"record: {quote(doc['record'])} is not a record kind (one of "
                           f"{', '.join(k for k, v in KINDS.items() if v.has_claims)})", lines.get("record"))
    fields_spec = need("fields")
    if not isinstance(fields_spec, dict) or not fields_spec:
        raise MappingError("fields is a mapping: field -> column", lines.get("fields"))
    field_lines: dict[Any, int] = getattr(fields_spec, "key_lines", {})
    specs = [_field_spec(kind, str(k), v, f"fields.{k}", field_lines.get(k, lines.get("fields")))
             for k, v in fields_spec.items()]
    identity = _identity(doc.get("key"), kind, fields_spec, "key", lines.get("key", lines.get("fields")))
    fmt = doc.get("format")
    if fmt is not None and fmt not in set(FORMATS.values()):
        raise MappingError(f"format: {quote(fmt)} is not one of {', '.join(sorted(set(FORMATS.values())))}",
                           lines.get("format"))
    items = doc.get("items")
    if items is not None and (not isinstance(items, str) or not all(items.split("."))):
        raise MappingError(f"items: {quote(items)} is not a path like data or results.items", lines.get("items"))
    delimiter = doc.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise MappingError(f"delimiter: {quote(delimiter)} is not one character (e.g. ';' or '|')",
                           lines.get("delimiter"))
    quoting = doc.get("quoting")
    if quoting is not None and quoting not in QUOTING:
        raise MappingError(f"quoting: {quote(quoting)} is not one of {', '.join(QUOTING)}", lines.get("quoting"))
    encoding = str(doc.get("encoding") or "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"encoding: {quote(encoding)} is not an encoding kg knows (e.g. utf-8, cp1252)",
                           lines.get("encoding")) from None
    return Mapping(path, display, source, files, fmt, encoding, kind, identity, specs,
                   tuple(items.split(".")) if items else (), delimiter, quoting)


QUOTING = ("csv", "none")  # a mapping's `quoting`: cells may be "quoted" (CSV's default), or quotes are characters


LISTED = "\0listed"  # among the keys of a field's `items` objects: some row has a list there (perhaps empty)
BESIDE = "\0beside "  # + a key of the object that holds an `items` path's last step (`crew` of `credits.crew`)


def check_columns(mapping: Mapping, present: set[str], within: dict[str, set[str]],
                  reached: dict[str, Reach | None] | None = None) -> None:
    """A column the mapping reads that no row of its files has is a mistake in the mapping, not a messy row.

    `within` holds, for each field with `items`, the keys its lists' objects have; `LISTED`, if some row has a
    list there; and (`BESIDE` + key) the keys of the objects that hold a dotted path's list, when no row has one.
    `reached` holds, for each dotted path of `dotted_columns`, how far into it the JSON rows went (`reach`: the most
    steps, the keys found where they stop, whether text was there; None: no JSON row was read).
    """
    if not present:
        return  # no rows at all: nothing to tell
    missing = []
    for spec in mapping.fields:
        found = within.get(spec.field.name, set())
        keys = {k for k in found if k != LISTED and not k.startswith(BESIDE)}
        if spec.items and keys:
            missing += _missing(mapping, spec.columns(), keys, f"object in {quote(spec.items)}")
            missing += [error for c in spec.columns() if "." in str(c.column) and str(c.column).split(".")[0] in keys
                        and (error := _unreached(mapping, c, f"{spec.items}.{c.column}", reached or {}, "row"))]
        beside = sorted(k[len(BESIDE):] for k in found if k.startswith(BESIDE))
        if spec.items and LISTED not in found and beside and (last := spec.items.rsplit(".", 1)[-1]) not in beside:
            close = difflib.get_close_matches(last, beside, n=1)
            holder = spec.items.rsplit(".", 1)[0]
            missing.append(MappingError(
                f"{mapping.display}: fields.{spec.field.name}: no row of "
                f"{', '.join(display_of(mapping, p) for p in mapping.files)} has a list at {quote(spec.items)}"
                f"{' (did you mean ' + quote(holder + '.' + close[0]) + '?)' if close else ''}; the objects at "
                f"{quote(holder)} have: {', '.join(shorten(k, 40) for k in beside[:40])}", spec.line))
    missing += _missing(mapping, mapping.columns(), present, "row", reached or {})
    if missing:  # every one at once: each would otherwise cost the curator a read of the whole file
        missing.sort(key=lambda e: e.line or 0)
        raise MappingError(str(missing[0]), missing[0].line, tuple(missing[1:]), columns=True)


def _missing(mapping: Mapping, columns: list[Column], present: set[str], what: str,
             reached: dict[str, Reach | None] | None = None) -> list[MappingError]:
    missing, told = [], set()
    # each column once, where a field reads it (the key may read a field's column too: its year), in line order
    for column in sorted(columns, key=lambda c: (not c.where.startswith("fields"), c.line or 0)):
        name = str(column.column)
        if name in present or name in told:
            continue
        steps = name.split(".")
        if reached is not None and reached.get(name) is not None and steps[0] in present:
            if error := _unreached(mapping, column, name, reached, what):
                told.add(name)
                missing.append(error)
            continue
        csv_only = reached is not None and name in reached and reached[name] is None  # (a CSV column is a header's)
        if steps[0] not in present or csv_only:
            told.add(name)
            close = difflib.get_close_matches(name, sorted(present), n=1)
            missing.append(MappingError(
                f"{mapping.display}: {column.where}: no {what} of "
                f"{', '.join(display_of(mapping, p) for p in mapping.files)} has a column {quote(name)}"
                f"{' (did you mean ' + quote(close[0]) + '?)' if close else ''}; its columns: "
                f"{', '.join(shorten(c, 40) for c in sorted(present)[:40])}", column.line))
    return missing


def _unreached(mapping: Mapping, column: Column, name: str, reached: dict[str, Reach | None],
               what: str) -> MappingError | None:
    """The error of a dotted path whose first step the rows have and a later one none has (its values would all
    be lost); None when some row has it whole, when it was not followed, or when no row has anything where it stops
    (empty lists, nulls: nothing tells it is wrong)."""
    steps = name.split(".")
    depth, keys, text = reached.get(name) or (len(steps), frozenset(), False)
    if depth >= len(steps) or not (keys or text):
        return None
    holder, step = ".".join(steps[:depth]), steps[depth]
    files = ', '.join(display_of(mapping, p) for p in mapping.files)
    if not keys:
        return MappingError(f"{mapping.display}: {column.where}: no {what} of {files} has {quote(name)}: what is at "
                            f"{quote(holder)} is text or a number, not an object with {quote(step)} (read it as "
                            f"{quote(holder)}?)", column.line)
    close = difflib.get_close_matches(step, sorted(keys), n=1)
    meant = ".".join([*steps[:depth], close[0], *steps[depth + 1:]]) if close else ""
    return MappingError(
        f"{mapping.display}: {column.where}: no {what} of {files} "
        f"has {quote(name)}: the objects at {quote(holder)} have no key {quote(step)}"
        f"{' (did you mean ' + quote(meant) + '?)' if meant else ''}"
        f"; their keys: {', '.join(shorten(k, 40) for k in sorted(keys)[:40]) or 'none'}", column.line)


def display_of(mapping: Mapping, path: Path) -> str:
    """The data file's path as the mapping file names it, relative to where the mapping's own path starts."""
    return os.path.normpath(os.path.join(os.path.dirname(mapping.display),
                                         os.path.relpath(path, mapping.path.resolve().parent)))

