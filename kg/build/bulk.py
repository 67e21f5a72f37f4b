"""Bulk sources (CSV, TSV, JSON, JSON Lines) read into records by a declarative mapping file per source.

A mapping file `<name>.mapping.yaml` in data/ names the files it reads, the source document they are, the kind
of record each row becomes, how rows are identified and which column feeds which field (docs/bulk.md). Messy
rows are never fatal: what was repaired, merged or skipped is reported as a `Note` with file and row.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import glob
import hashlib
import html
import io
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from kg.ids import is_key, slugify
from kg.model import EDITORIAL, KINDS, CastEntry, Claim, CrewEntry, Field, Kind, LangText, Origin, Record, Value
from kg.progress import bar
from kg.text import quote, shorten

MAPPING_SUFFIX = ".mapping.yaml"
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
IDENTIFIER_LINKS = {  # identifiers that become schema:sameAs links (and drive identity)
    re.compile(r"^nm\d{7,}$"): "https://www.imdb.com/name/{}/",
    re.compile(r"^tt\d{7,}$"): "https://www.imdb.com/title/{}/",
}
_MOJIBAKE = re.compile("[ÃÂâ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u02c6\u02dc]")
_INVISIBLE = re.compile(  # controls but tab and line feed, zero-width and bidi formatting, separators, noncharacters
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]")
_APOSTROPHES = re.compile("['\u2019\u2018\u02bc`]")


@dataclass(frozen=True)
class Note:
    """Something the build did to messy input: merged, skipped, repaired or found suspicious."""

    file: str
    row: int | None
    action: str  # merged | skipped | repaired | suspicious
    message: str

    def __str__(self) -> str:
        return f"{self.file}{':' + str(self.row) if self.row else ''}: {self.action}: {self.message}"


class MappingError(ValueError):
    """A mapping file that cannot be used; `line` points into it."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def name_key(text: str) -> str:
    """The documented identity rule for names: apostrophes dropped, accents folded, then slugged."""
    return slugify(_APOSTROPHES.sub("", text))


_TRAILING_MARK = re.compile(r"\s*\[(?:\d{1,3}|[a-z]{2,3})\]$")  # a footnote mark [1], another wiki's language [fr]


def without_invisible(text: str, fixes: list[str]) -> str:
    """`text` without invisible, control and bidi formatting characters; what was removed is said in `fixes`."""
    if not _INVISIBLE.search(text):
        return text
    fixes.append(f"removed invisible or control characters from {quote(text)}")
    return _INVISIBLE.sub("", text)


def clean_text(text: str) -> tuple[str, list[str]]:
    """Text with invisible characters removed, whitespace collapsed and NFC, without a trailing footnote or
    language mark (The Curtain Pole[1], Fly by Night [fr]); and what was repaired."""
    if text.isascii() and text.isprintable() and "  " not in text and text.strip() == text and text[-1:] != "]":
        return text, []
    fixes = []
    mark = _TRAILING_MARK.search(text) if text.endswith("]") else None
    if mark is not None and mark.start() > 0:
        fixes.append(f"removed {quote(mark.group().strip())} from the end of {quote(text)}: a footnote or language "
                     "mark")
        text = text[:mark.start()]
    if _MOJIBAKE.search(text):
        try:
            repaired = text.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            fixes.append(f"looks like mojibake but cannot be repaired: {quote(text)}")
        else:
            fixes.append(f"repaired mojibake {quote(text)} -> {quote(repaired)}")
            text = repaired
    text = without_invisible(text, fixes)
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return text, fixes


def _outside_notes(text: str, depth: int, fixes: list[str]) -> tuple[str, int]:
    """A list item without the parenthetical note a list split into items, and the note's depth after it.

    ['Walter Huston', '(', 'Best Actor', 'nominee)', 'Ruth Chatterton']: the three middle items are a note on
    the one before, not values; an item that closes a note never opened ('writer)') is a note's tail.
    """
    opens, closes = text.count("("), text.count(")")
    if depth > 0 or closes > opens:
        fixes.append(f"removed {quote(text)} from a list: part of a note in parentheses, not a value")
        return "", max(0, depth + opens - closes)
    if opens > closes:  # 'Anurag Basu (Director' opens a note that the next items continue
        unmatched: list[int] = []
        for at, char in enumerate(text):
            if char == "(":
                unmatched.append(at)
            elif char == ")" and unmatched:
                unmatched.pop()
        head = text[:unmatched[0]].strip()
        fixes.append(f"removed {quote(text[unmatched[0]:])} from a list item: the start of a note in parentheses")
        return head, len(unmatched)
    return text, 0


_CONNECTORS = frozenset({"and", "with", "of", "by", "as", "featuring", "starring", "voices of", "voice of",
                         "narrated by", "and orchestra"})  # words a list of names carried among them
_ARTICLES = frozenset({"The", "A", "An", "the", "a", "an"})
_SUFFIXES = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})  # House Peters, Sr.: one name, split
_NOTE = re.compile(r"[(\[].*[)\]]")  # (narrator), [2]: a note or a footnote mark, whole
_PROSE = re.compile(r"[a-z0-9' ,-]+")  # all lower case: words of a description, not a person's name
_LABEL = re.compile(r"([A-Z][\w.]*(?: [a-z]+)?)\.?:\s*(.*)")  # Cast: ..., Dir.: ..., Directed by: ...
_CAST_LABELS = frozenset({"Cast", "Starring", "With", "Voices", "Featuring"})
_ROLE_NOTE = re.compile(r"(.+?)\s*\(([A-Za-z][a-z ]*)\)")  # Harry Carter (actor), David Brendel (Screenplay)
_OTHER_CREDITS = frozenset({"screenplay", "teleplay", "writer", "director", "producer", "novel", "book", "story"})
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "das", "do", "dos", "del", "della", "di", "du", "la",
                        "le", "bin", "al", "el", "ibn", "ter", "ten", "y", "e", "zu", "af", "av"})  # in names


def _prose(name: str) -> bool:
    """Words of a sentence rather than a name: three or more in lower case that are not name particles, or a first
    word in lower case (his Orchestra) that is neither a particle (de la Hoya) nor written with dots (k.d. lang)."""
    first = name.split(" ", 1)[0]
    if first[:1].islower() and first not in _PARTICLES and "." not in first:  # not _ve Giordani (a lost É)
        return True
    return name.count(" ") >= 2 and sum(1 for w in name.split() if w.islower() and len(w) > 1
                                        and w not in _PARTICLES) >= 3


def _one_name(name: str, article: str | None, fixes: list[str]) -> str | None:
    """One item of a list of people (after an `article` the list split from it), repaired; None if it is no name."""
    if name[:1] in ".,;:" and name.lstrip(".,;: "):
        fixes.append(f"repaired {quote(name)}: punctuation before the name")
        name = name.lstrip(".,;: ")
    if article is None and name.startswith(("and ", "with ")):
        fixes.append(f"repaired {quote(name)}: a word before the name")
        name = name.split(" ", 1)[1]
    note = _ROLE_NOTE.fullmatch(name) if name.endswith(")") else None
    if note is not None and note.group(2).lower() in _OTHER_CREDITS:
        fixes.append(f"removed {quote(name)} from a list of names: another credit than this one")
        return None
    if note is not None and note.group(2).islower():  # a capitalised one is part of the name: Dave (Tex) O'Brien
        fixes.append(f"repaired {quote(name)}: the note {quote('(' + note.group(2) + ')')} after the name")
        name = note.group(1)
    shown = f"{article} {name}" if article is not None else name
    if _NOTE.fullmatch(name):
        fixes.append(f"removed {quote(shown)} from a list of names: a note, not a name")
    elif (low := name.lower()) in _CONNECTORS:
        fixes.append(f"removed {quote(shown)} from a list of names: a word between names")
    elif (name == low and _PROSE.fullmatch(name) and not name.isdigit()) or _prose(name) or (
            article is not None and article.islower()):
        fixes.append(f"left out {quote(shown)} from a list of names: lower-case words, not a person's name")
    else:
        if article is not None:
            fixes.append(f"repaired {quote(article)}, {quote(name)}: one name, split after its article")
        return shown
    return None


def people_names(names: list[str], fixes: list[str]) -> list[str]:
    """The names in a list of people, without what a careless list put among them: notes in parentheses, words
    between names, labels (Cast:), lower-case prose (a documentary's subjects), another credit (Dir.: X); an
    article or a suffix split from its name is joined back (The Dionne Quintuplets, House Peters Sr.)."""
    out: list[str] = []
    article = None
    skip_next = False  # the name a label of another credit gives (Dir.:, Greg Marcks)
    for name in names:
        if skip_next:
            fixes.append(f"removed {quote(name)} from a list of names: named after a label of another credit")
            skip_next = False
            continue
        label = _LABEL.fullmatch(name) if ":" in name else None
        if label is not None:
            head, rest = label.group(1).rstrip("."), label.group(2)
            if head not in _CAST_LABELS or not rest:
                fixes.append(f"removed {quote(name)} from a list of names: a label"
                             + ("" if head in _CAST_LABELS else ", and the credit it gives is not this one"))
                skip_next = not rest and head not in _CAST_LABELS
                continue
            fixes.append(f"repaired {quote(name)}: a label before the name")
            name = rest
        if article is None and name in _ARTICLES:
            article = name
            continue
        if article is None and name in _SUFFIXES:
            if out:
                fixes.append(f"repaired {quote(out[-1])}, {quote(name)}: one name, split before its suffix")
                out[-1] = f"{out[-1]} {name}"
            else:
                fixes.append(f"removed {quote(name)} from a list of names: a suffix without its name")
            continue
        found = _one_name(name, article, fixes)
        if found is not None:
            out.append(found)
        article = None
    if article is not None:
        fixes.append(f"removed {quote(article)} from the end of a list of names")
    return out


# ---- column specs ----

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
    where: str = dataclasses.field(default="", compare=False)  # the mapping entry, for errors
    line: int | None = dataclasses.field(default=None, compare=False)

    @staticmethod
    def parse(spec: Any, where: str, line: int | None) -> Column:
        """A column spec from the mapping file: a column name or a mapping of options."""
        if isinstance(spec, str):
            return Column(column=spec, where=where, line=line)
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: a column name or a mapping with 'column' or 'constant'", line)
        known = {"column", "constant", "pattern", "template", "split", "lang", "html", "aliases", "currency"}
        extra = set(spec) - known
        if extra:
            raise MappingError(f"{where}: unknown option(s) {quote(sorted(extra, key=str))} (known: "
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
        return Column(spec.get("column"), spec.get("constant"), pattern, spec.get("template"), spec.get("split"),
                      spec.get("lang"), bool(spec.get("html")), {str(k): str(v) for k, v in aliases.items()},
                      spec.get("currency"), where, line)

    @cached_property
    def plain(self) -> bool:
        """Whether values are taken as they are (only cleaned): the fast path for most columns."""
        return not (self.pattern or self.template or self.split or self.html or self.aliases)

    def values(self, row: dict[str, Any], fixes: list[str]) -> list[Any]:
        """The cleaned values of this column in one row (none for an empty cell)."""
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
                    text, depth = _outside_notes(text, depth, fixes)
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


@dataclass(frozen=True)
class Identity:
    """How a record is identified: by an identifier column when it has one, else by its name (and year)."""

    name: Column | None
    ident: Column | None = None
    year: Column | None = None
    distinct: Column | None = None  # rows with the same name and year but different values here are different

    def keys(self, row: dict[str, Any], fixes: list[str],
             people: bool = False) -> list[tuple[str | None, str | None, str, str]]:
        """(identifier key, name key, distinguishing value, name) of each record a row names.

        One per name in a list-valued name column (a cast list); just one when an identifier column is set.
        With `people`, what cannot be a person's name is left out (`people_names`).
        """
        ident = self.ident.first(row, fixes) if self.ident else None
        names = self.name.values(row, fixes) if self.name else []
        if people and names:
            names = people_names([str(n) for n in names], fixes)
            if not names:  # nothing in the cell was a name: no one is named, not even by an identifier
                return []
        if self.ident is not None:
            names = names[:1]
        year = self.year.first(row, fixes) if self.year else None
        distinct = str(self.distinct.first(row, fixes) or "") if self.distinct else ""
        out = []
        for name in names:
            text = str(name)
            label = name_key(text) + (f"-{year}" if year is not None else "") if any(
                ch.isalnum() for ch in text) else None
            out.append((str(ident).lower() if ident is not None else None, label or None, distinct, text))
        if not names and ident is not None:
            out.append((str(ident).lower(), None, distinct, ""))
        return out


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

    def columns(self) -> list[Column]:
        """The columns this field reads: of the row, or (with `items`) of each object in that column's list."""
        found = [self.column] if self.column is not None else []
        found += list(self.parts.values())
        if self.ref is not None:
            i = self.ref.identity
            found += [c for c in (i.name, i.ident, i.year, i.distinct) if c is not None]
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
        found += [Column(spec.items, where=f"fields.{spec.field.name}") for spec in self.fields if spec.items]
        i = self.identity
        found += [c for c in (i.name, i.ident, i.year, i.distinct) if c is not None and c.column is not None]
        return found


def _identity(spec: Any, kind: Kind, fields: dict[str, Any], where: str, line: int | None) -> Identity:
    spec = spec or {}
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: 'key' is a mapping (id, name, year, distinct)", line)
    extra = set(spec) - {"id", "name", "year", "distinct"}
    if extra:
        raise MappingError(f"{where}: unknown option(s) {quote(sorted(extra, key=str))} in key", line)
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
    if not isinstance(spec, dict) or "name" not in spec:
        raise MappingError(f"{where}: a reference is a column of names, or {{name: column, id: column}}", line)
    extra = set(spec) - {"name", "id"}
    if extra:
        raise MappingError(f"{where}: unknown option(s) {quote(sorted(extra, key=str))} in a reference", line)
    ident = Column.parse(spec["id"], where, line) if spec.get("id") is not None else None
    return RefSpec(kind, Identity(Column.parse(spec["name"], where, line), ident))


def _field_spec(kind: Kind, name: str, spec: Any, where: str, line: int | None) -> FieldSpec:
    f = kind.field(name)
    if f is None or f.vtype == "type":
        raise MappingError(f"{where}: {kind.name} has no field {quote(name)} (known: "
                           f"{', '.join(x.name for x in kind.fields if x.vtype != 'type')})", line)
    if f.vtype == "ref":
        ref_spec = spec.get("ref", spec) if isinstance(spec, dict) and "ref" in spec else spec
        return FieldSpec(f, ref=_ref(ref_spec, f.ref or "", where, line))
    items = spec.get("items") if isinstance(spec, dict) and f.vtype in ("cast", "crew") else None
    if items is not None and not (isinstance(items, str) and all(items.split("."))):
        raise MappingError(f"{where}: items is the column that holds a list of objects, one per credit", line)
    if f.vtype == "cast":
        if not isinstance(spec, dict) or "actor" not in spec:
            raise MappingError(f"{where}: cast is {{actor: ..., character_name: ..., billing: ..., category: ...}}",
                               line)
        extra = set(spec) - {"actor", "character_name", "billing", "category", "items"}
        if extra:
            raise MappingError(f"{where}: unknown option(s) {quote(sorted(extra, key=str))} in cast (known: actor, "
                               "character_name, billing, category, items)", line)
        parts = {k: Column.parse(spec[k], where, line) for k in ("character_name", "billing", "category") if k in spec}
        return FieldSpec(f, ref=_ref(spec["actor"], "person", where, line), parts=parts, items=items)
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
        return FieldSpec(f, ref=_ref(spec["person"], "person", where, line),
                         parts={"department": Column.parse(spec["department"], where, line)},
                         departments={str(k).strip(): str(v) for k, v in departments.items()}, items=items)
    return FieldSpec(f, column=Column.parse(spec, where, line))


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
        raise MappingError(f"unknown key(s) {quote(sorted(extra, key=str))} (known: source, files, format, encoding, "
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


# ---- rows ----

def _decode(data: bytes, encoding: str, display: str, notes: list[Note]) -> str:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            notes.append(Note(display, None, "repaired", f"removed a byte-order mark ({codec})"))
            data, encoding = data[len(bom):], codec
            break
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        # undecodable bytes become lone surrogates, so each bad row can be reported and skipped, never published
        return data.decode(encoding, errors="surrogateescape")


_SURROGATES = re.compile("[\udc80-\udcff]")
_GARBLED = "\0garbled"  # marks rows of a file that did not decode, so only those are checked


def _bad_bytes(text: str) -> str | None:
    bad = [c for c in text if "\udc80" <= c <= "\udcff"]
    return " ".join(f"0x{ord(c) - 0xDC00:02X}" for c in bad[:4]) if bad else None


GUESSES = ("cp1252", "mac_roman")  # what a file that is not UTF-8 most often is: Windows' and old Macs' Latin


def _encoding_hint(data: bytes, encoding: str, text: str) -> str:
    """What to tell a curator whose file has bytes its encoding does not read: another encoding, or a mix."""
    bad = len(_SURROGATES.findall(text))
    said = f"{bad} byte{'' if bad == 1 else 's'} not valid {encoding} (their rows are left out)"
    if any(ch > "\x7f" and not "\udc80" <= ch <= "\udcff" for ch in text):
        return f"{said}; the rest of the file is valid {encoding}, so it mixes encodings: fix those rows at the source"
    for guess in GUESSES:
        try:
            data.decode(guess)
        except UnicodeDecodeError:
            continue
        return f"{said}; the whole file reads as {guess}: if it is in {guess}, say `encoding: {guess}` in its mapping"
    return f"{said}; name the file's encoding with `encoding:` in its mapping"


def rows(path: Path, fmt: str, encoding: str, display: str, notes: list[Note], items: tuple[str, ...] = (),
         delimiter: str | None = None, quoting: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) of a data file; header and undecodable rows reported, never crashing."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{display}: cannot read file: {exc.strerror or exc}") from exc
    text = _decode(data, encoding, display, notes)
    garbled = bool(_SURROGATES.search(text))
    if garbled:
        notes.append(Note(display, None, "suspicious", _encoding_hint(data, encoding, text)))
    for line, row in _parse(text, fmt, display, notes, items, delimiter, quoting):
        if garbled:
            row[_GARBLED] = True
        yield line, row


def _array(document: Any, path: tuple[str, ...], display: str) -> list[Any]:
    """The array of objects at `path` in a JSON document, or a MappingError saying what is there instead."""
    found = document
    for depth, key in enumerate(path):
        if not isinstance(found, dict) or key not in found:
            where = ".".join(path[:depth]) or "the top level"
            keys = f" (its keys: {', '.join(shorten(k, 40) for k in sorted(map(str, found))[:10])})" if isinstance(
                found, dict) else ""
            raise MappingError(f"{display}: no {quote(key)} in {where}{keys}; check the mapping's items:")
        found = found[key]
    if isinstance(found, list):
        return found
    hint = ""
    if isinstance(found, dict):
        arrays = sorted(k for k, v in found.items() if isinstance(v, list))
        hint = f"; set items: to the key of its array ({', '.join(map(str, arrays[:5]))})" if arrays else ""
    where = ".".join(path) or "the top level"
    kind = {dict: "an object", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(found), "null")
    raise MappingError(f"{display}: {where} is not an array of objects but {kind}{hint}")


QUOTING = ("csv", "none")  # a mapping's `quoting`: cells may be "quoted" (CSV's default), or quotes are characters


def _delimiter(text: str, fmt: str) -> str:
    """A TSV file's tab; a CSV file's comma, or semicolon when its header has semicolons and no comma (spreadsheets
    in locales that write decimal commas export so)."""
    if fmt == "tsv":
        return "\t"
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


class _Physical:
    """The physical lines of a text (split at line feeds only) for a csv reader, which can be sent back to a line."""

    def __init__(self, text: str) -> None:
        self.text = text if "\n" in text else text.replace("\r", "\n")  # old Mac spreadsheets end lines with CR
        self.pos = 0  # where the next line starts
        self.at = 0  # how many lines were read

    def __iter__(self) -> _Physical:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.text):
            raise StopIteration
        line = self.line(self.pos)
        self.pos += len(line)
        self.at += 1
        return line

    def line(self, pos: int) -> str:
        """The line that starts at `pos`, with its line feed."""
        end = self.text.find("\n", pos)
        return self.text[pos:] if end < 0 else self.text[pos:end + 1]


def _unclosed(record: str, delimiter: str) -> bool:
    """Whether a record's text ends inside a quoted cell (the end of the file came before the closing quote)."""
    try:
        for _ in csv.reader(io.StringIO(record, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _cells(reader: Iterator[list[str]], line: int, display: str) -> list[str] | None:
    """The cells of the next row (its first line `line`), or None at the end; a MappingError if it cannot be read."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        why = (f"a cell is longer than {csv.field_size_limit():,} characters, the most kg reads (a quote opened and "
               "never closed makes one cell of the lines after it)" if "field larger" in str(exc) else str(exc))
        raise MappingError(f"{display}: cannot read the row: {why}", line) from None


def _delimited(text: str, delimiter: str, display: str, notes: list[Note],
               quotes: bool = True) -> Iterator[tuple[int, dict[str, Any]]]:
    """(first line, row) of a CSV/TSV text, `quotes` as CSV quotes cells or as characters (as TSV has them).

    A quote opened and never closed would swallow the rest of the file into one cell: such a row is read again
    line by line, its quote taken as a character, and reported.
    """
    physical = _Physical(text)
    quoting: Literal[0, 3] = csv.QUOTE_MINIMAL if quotes else csv.QUOTE_NONE
    reader = csv.reader(physical, delimiter=delimiter, quoting=quoting)
    header = _cells(reader, 1, display)
    if header is None:
        return
    header = [h.strip() for h in header]
    while True:
        start, start_pos = physical.at, physical.pos
        cells = _cells(reader, start + 1, display)
        if cells is None:
            return
        line, end = start + 1, physical.at
        if not any(c.strip() for c in cells):
            continue
        if end - start > 1 and (len(cells) != len(header) or _unclosed(physical.text[start_pos:physical.pos],
                                                                        delimiter)):
            first = physical.line(start_pos)
            cells = [c[1:] if c.startswith('"') and c.count('"') == 1 else c
                     for c in next(csv.reader([first], delimiter=delimiter, quoting=csv.QUOTE_NONE))]
            physical.pos, physical.at = start_pos + len(first), start + 1  # the lines swallowed are rows of their own
            reader = csv.reader(physical, delimiter=delimiter, quoting=quoting)
            fixed = len(cells) == len(header)
            swallowed = f"a quote opened in this row is not closed on its line and runs on to line {end}: "
            notes.append(Note(display, line, "repaired", swallowed + "the quote is dropped, and lines "
                              f"{line + 1}–{end} are read as rows of their own") if fixed else Note(
                              display, line, "skipped", swallowed + f"the row has {len(cells)} cells where the header "
                              f"has {len(header)}; lines {line + 1}–{end} are read as rows of their own"))
            if not fixed:
                continue
        if len(cells) != len(header):
            notes.append(Note(display, line, "skipped", f"{len(cells)} cells where the header has {len(header)}"))
            continue
        yield line, dict(zip(header, cells, strict=True))


_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # a JSON string (skipped whole), or where nesting changes
NESTED = 200  # how deep arrays and objects nest where deep_line says the nesting goes too deep


def deep_line(text: str) -> int | None:
    """The line of a JSON text where its arrays and objects first nest NESTED deep (strings are skipped)."""
    depth = 0
    for token in _NESTING.finditer(text):
        char = token.group()
        if char in ("[", "{"):
            depth += 1
            if depth >= NESTED:
                return text.count("\n", 0, token.start()) + 1
        elif char in ("]", "}"):
            depth -= 1
    return None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # JSON's way to write half a UTF-16 pair
_LONE = re.compile("[\ud800-\udfff]")


def _half_pair(item: Any) -> str | None:
    """A lone UTF-16 surrogate an item's JSON escapes made (not a character: it cannot be written as UTF-8)."""
    found = _LONE.search(json.dumps(item, ensure_ascii=False))
    return f"\\u{ord(found.group()):04x}" if found else None


def _objects(items: Iterable[tuple[int, Any, bool]], display: str, notes: list[Note],
             what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The items that are JSON objects; `suspect` (the text has escapes of surrogates) has each one checked."""
    for line, item, suspect in items:
        if not isinstance(item, dict):
            notes.append(Note(display, line, "skipped", f"{what} is not a JSON object"))
        elif suspect and (half := _half_pair(item)):
            notes.append(Note(display, line, "skipped", f"{half} is half of a UTF-16 surrogate pair, not a character; "
                                                        "the row is left out rather than published garbled"))
        else:
            yield line, item


def _parse(text: str, fmt: str, display: str, notes: list[Note], items_at: tuple[str, ...] = (),
           delimiter: str | None = None, quoting: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt in ("csv", "tsv"):
        quotes = (quoting or ("none" if fmt == "tsv" else "csv")) == "csv"
        yield from _delimited(text, delimiter or _delimiter(text, fmt), display, notes, quotes)
    elif fmt == "jsonl":
        def lines() -> Iterator[tuple[int, Any, bool]]:
            for line, raw in enumerate(text.splitlines(), 1):
                if not raw.strip():
                    continue
                try:
                    yield line, json.loads(raw), _SURROGATE_ESCAPE.search(raw) is not None
                except json.JSONDecodeError as exc:
                    notes.append(Note(display, line, "skipped", f"not JSON: {exc.msg}"))
        yield from _objects(lines(), display, notes, "a line")
    else:
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingError(f"{display}: not JSON: {exc.msg}", exc.lineno) from exc
        suspect = _SURROGATE_ESCAPE.search(text) is not None  # once per file: most files have no such escape
        yield from _objects(((n, item, suspect) for n, item in enumerate(_array(items, items_at, display), 1)),
                            display, notes, "an item")


def _check_columns(mapping: Mapping, present: set[str], within: dict[str, set[str]]) -> None:
    """A column the mapping reads that no row of its files has is a mistake in the mapping, not a messy row.

    `within` holds, for each field with `items`, the keys its lists' objects have.
    """
    if not present:
        return  # no rows at all: nothing to tell
    for spec in mapping.fields:
        if spec.items and within.get(spec.field.name):
            _check(mapping, spec.columns(), within[spec.field.name], f"object in {quote(spec.items)}")
    _check(mapping, mapping.columns(), present, "row")


def _check(mapping: Mapping, columns: list[Column], present: set[str], what: str) -> None:
    for column in columns:
        name = str(column.column)
        if name not in present and name.split(".", 1)[0] not in present:
            close = difflib.get_close_matches(name, sorted(present), n=1)
            raise MappingError(f"{mapping.display}: {column.where}: no {what} of "
                               f"{', '.join(_display_of(mapping, p) for p in mapping.files)} has a column {quote(name)}"
                               f"{' (did you mean ' + quote(close[0]) + '?)' if close else ''}; its columns: "
                               f"{', '.join(shorten(c, 40) for c in sorted(present)[:40])}", column.line)


# ---- rows -> records ----

@dataclass
class _Entry:
    """What one source says about one record, gathered over its rows."""

    kind: str
    key: str
    origin: Origin
    label: str | None  # name (and year) key, for merging with identified records
    strong: bool  # keyed by an identifier
    values: dict[tuple[str, Any], Value] = dataclasses.field(default_factory=dict)
    rows: dict[str, int] = dataclasses.field(default_factory=dict)  # distinguishing value -> first row

    def add(self, name: str, value: Any, origin: Origin) -> None:
        self.values.setdefault((name, value), Value(name, value, origin))


class _Reader:
    """Reads the rows of every mapping into entries: (source, kind, key) -> values."""

    def __init__(self, parsers: dict[str, Callable[[Any], Any]], notes: list[Note]) -> None:
        self.parsers = parsers
        self.notes = notes
        self.entries: dict[tuple[str, str, str], _Entry] = {}

    def entry(self, source: str, kind: str, key: str, origin: Origin, label: str | None, strong: bool) -> _Entry:
        found = self.entries.get((source, kind, key))
        if found is None:
            found = self.entries[(source, kind, key)] = _Entry(kind, key, origin, label, strong)
            if strong:
                self.same_as(found, key, origin)
        return found

    def identify(self, mapping: Mapping, identity: Identity, kind: str, row: dict[str, Any], origin: Origin,
                 fixes: list[str]) -> list[tuple[str, str | None, bool, str]]:
        """(key, name key, identified by an identifier?, name) of each record the row names."""
        found = []
        for ident, label, distinct, name in identity.keys(row, fixes, people=kind == "person"):
            one = self.identify_one(mapping, identity, kind, origin, ident, label, distinct, name)
            if one is not None:
                found.append((*one, name))
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
                                       f"{quote(label)} is {quote(near.key)} of row {near.rows[distinct]}, a year "
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
                                   f"{quote(label)} again, but a different film ({column}={quote(distinct)}; the "
                                   f"first, at row {first[1]}, has {earlier}): kept apart as {quote(key)}"))
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

    def a_year_apart(self, source: str, kind: str, label: str, distinct: str) -> _Entry | None:
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

    def read(self, mapping: Mapping) -> None:
        present: set[str] = set()
        within: dict[str, set[str]] = {spec.field.name: set() for spec in mapping.fields if spec.items}
        for path in mapping.files:
            display = _display_of(mapping, path)
            try:
                self.read_file(mapping, path, display, present, within)
            except RecursionError:
                line = deep_line(path.read_bytes().decode(mapping.encoding, "replace"))
                raise MappingError(f"{display}: arrays or objects nested more deeply than kg reads", line) from None
        _check_columns(mapping, present, within)

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
            bad = _bad_bytes(json.dumps(row, ensure_ascii=False)) if row.get(_GARBLED) else None
            row.pop(_GARBLED, None)
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
        found = self.identify(mapping, mapping.identity, kind, row, origin, fixes)
        if not found:
            if mapping.identity.name is None or not mapping.identity.name.values(row, []):
                self.notes.append(Note(display, line, "skipped", f"no {kind} name"))
            return
        key, label, strong, _ = found[0]
        origin = Origin(display, line, key)
        entry = self.entry(source, kind, key, origin, label, strong)
        if mapping.identity.distinct is not None:
            entry.rows.setdefault(str(mapping.identity.distinct.first(row, []) or ""), line)
        for spec in mapping.fields:
            self.field(mapping, spec, entry, row, origin, fixes)
        for fix in dict.fromkeys(fixes):
            self.notes.append(Note(display, line, "repaired" if fix.startswith(("repaired", "removed")) else
                                   "suspicious", fix))

    def same_as(self, entry: _Entry, ident: str, origin: Origin) -> None:
        for pattern, template in IDENTIFIER_LINKS.items():
            if pattern.match(ident):
                entry.add("same_as", template.format(ident), origin)

    def parse(self, f: Field, raw: Any, origin: Origin) -> Any:
        try:
            return self.parsers[f.vtype](raw)
        except ValueError as exc:
            self.notes.append(Note(origin.file, origin.line, "skipped", f"{f.name}: {exc}"))
            return None

    def referenced(self, mapping: Mapping, ref: RefSpec, row: dict[str, Any], origin: Origin,
                   fixes: list[str]) -> list[str]:
        keys = []
        for key, label, strong, name in self.identify(mapping, ref.identity, ref.kind, row, origin, fixes):
            target = self.entry(mapping.source.key, ref.kind, key, Origin(origin.file, origin.line, key), label,
                                strong)
            if name:
                target.add("name", LangText(name), target.origin)
            keys.append(key)
        return keys

    def field(self, mapping: Mapping, spec: FieldSpec, entry: _Entry, row: dict[str, Any], origin: Origin,
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

    def reference(self, spec: FieldSpec, entry: _Entry, key: str, row: dict[str, Any], origin: Origin,
                  fixes: list[str]) -> None:
        f = spec.field
        if f.vtype == "ref":
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


def _display_of(mapping: Mapping, path: Path) -> str:
    """The data file's path as the mapping file names it, relative to where the mapping's own path starts."""
    return os.path.normpath(os.path.join(os.path.dirname(mapping.display),
                                         os.path.relpath(path, mapping.path.resolve().parent)))


def _resolve(entries: dict[tuple[str, str, str], _Entry], notes: list[Note]) -> dict[tuple[str, str], str]:
    """Name-keyed records that match exactly one identified record of the same name become that record."""
    strong: dict[tuple[str, str], set[str]] = {}
    for e in entries.values():
        if e.strong and e.label:
            strong.setdefault((e.kind, e.label), set()).add(e.key)
    rename: dict[tuple[str, str], str] = {}
    for e in entries.values():
        if e.strong or (e.kind, e.key) in rename:
            continue
        targets = strong.get((e.kind, e.label or ""), set())
        if len(targets) == 1:
            target = next(iter(targets))
            rename[(e.kind, e.key)] = target
            notes.append(Note(e.origin.file, e.origin.line, "merged",
                              f"{e.kind} {quote(e.key)} is {quote(target)} (same name"
                              f"{' and year' if e.kind == 'movie' else ''}, and only one record with an identifier "
                              "has it)"))
        elif len(targets) > 1:
            notes.append(Note(e.origin.file, e.origin.line, "suspicious",
                              f"{e.kind} {quote(e.key)} could be any of {sorted(targets)}; kept apart"))
    return rename


def _renamed(value: Value, f: Field, rename: dict[tuple[str, str], str]) -> Value:
    v = value.value
    if f.vtype == "ref" and (f.ref, v) in rename:
        return value._replace(value=rename[(f.ref or "", v)])
    if f.vtype == "cast" and ("person", v.actor) in rename:
        return value._replace(value=CastEntry(rename[("person", v.actor)], v.character, v.character_name, v.billing,
                                              v.category))
    if f.vtype == "crew" and ("person", v.person) in rename:
        return value._replace(value=CrewEntry(rename[("person", v.person)], v.department))
    return value


def read_bulk(mappings: list[Mapping], parsers: dict[str, Callable[[Any], Any]],
              notes: list[Note]) -> list[Record]:
    """Every record the mappings' files describe (one claim per source), identities merged, plus the sources."""
    reader = _Reader(parsers, notes)
    for mapping in mappings:
        reader.read(mapping)
    rename = _resolve(reader.entries, notes)
    merged: dict[tuple[str, str], list[tuple[str, _Entry]]] = {}
    for (source, kind, key), entry in reader.entries.items():
        merged.setdefault((kind, rename.get((kind, key), key)), []).append((source, entry))
    records = [m.source for m in mappings]
    for (kind_name, key), said in merged.items():
        kind_of = KINDS[kind_name]
        claims: dict[str, list[Value]] = {}
        for source, entry in said:
            values = claims.setdefault(source, [])
            for value in entry.values.values():
                f = kind_of.field(value.field)
                assert f is not None
                values.append(_renamed(value, f, rename))
        for _, entry in said:
            entry.values.clear()  # now held by the claims: free the index as we go, it is the larger part
        first = said[0][1]
        name = next((v.value for vs in claims.values() for v in vs if v.field == "name"), None)
        if name is None:
            notes.append(Note(first.origin.file, first.origin.line, "skipped", f"{kind_name} {quote(key)} has no name"))
            continue
        origin = Origin(first.origin.file, first.origin.line, key)
        editorial = Claim(EDITORIAL, (Value("name", name, origin),), origin)
        records.append(Record(kind_name, key, (editorial, *(Claim(s, tuple(v), origin) for s, v in claims.items())),
                              origin, detailed=False))
    return records
