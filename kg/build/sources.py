"""Reading source files (YAML) into records, with errors that name the file, line and field."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import difflib
import io
import json
import operator
import re
from collections.abc import Callable, Container, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import pyoxigraph as ox
import yaml

from kg import vocab
from kg.build.bulk import read_bulk
from kg.build.bulkspec import MAPPING_SUFFIX, Mapping, MappingError, inside, load_mapping, outside
from kg.build.datatypes import typed
from kg.build.decisions import HELP, SECTION, Decisions, Merge, Ref, parse
from kg.build.merges import resolve
from kg.build.notes import Note
from kg.build.rows import deep_line
from kg.config import DEFAULT_BASE
from kg.errors import Failure, Where
from kg.formats import FORMATS
from kg.ids import Minter, is_key, slugify
from kg.jsonld import RemoteDocumentRefused, read
from kg.literals import Duration
from kg.model import (
    EDITORIAL,
    KINDS,
    PART_PREDICATES,
    SECTIONS,
    CastEntry,
    Claim,
    CrewEntry,
    Field,
    Kind,
    LangText,
    Money,
    Origin,
    Rating,
    Record,
    Value,
)
from kg.text import counted, quote, refusal, refused, shorten, without_formatting

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as possible."""

    file: str
    line: int | None
    message: str
    field: str | None = None

    @property
    def where(self) -> Where:
        return Where(self.file, self.line)

    def __str__(self) -> str:
        return f"{self.where}: {shorten(self.field) + ': ' if self.field else ''}{self.message}"


class InputError(Failure):
    """The source files cannot be read into records; `problems` says where and why."""

    def __init__(self, problems: list[Problem], about: str = "the source files") -> None:
        first = {p.file: n for n, p in reversed(list(enumerate(problems)))}  # each file where its first problem is
        # each file's in the order of its lines, whichever check found them
        self.problems = sorted(problems, key=lambda p: (first[p.file], p.line or 0))
        self.about = about
        self.outcome = ""  # what became of the command (a build: nothing was published), said by the command
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:  # (raised in a worker, it is pickled to the build: as it was made)
        return InputError, (self.problems, self.about), {"outcome": self.outcome}

    def lines(self) -> list[str]:
        outcome = f"; {self.outcome}" if self.outcome else ""
        return [f"{counted(len(self.problems), 'problem')} in {self.about}{outcome}:",
                *(f"  {p}" for p in self.problems)]


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that kg does not take: an alias bomb, a key that is a list, a control character."""


ALIASED = 100_000  # values the aliases of one YAML file may add to it (each use counts its anchor's whole value)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


class _Loader(yaml.SafeLoader):
    """SafeLoader that tracks lines, refuses duplicate keys (PyYAML silently keeps the last), alias bombs and
    characters kg does not publish."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliased = 0  # values the aliases read so far stand for
        self.composing: set[str] = set()  # anchors whose value is being read
        self.sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded (capped)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self._alias(event)
            return super().compose_node(parent, index)
        if event.anchor is None:
            return super().compose_node(parent, index)
        self.composing.add(event.anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.composing.discard(event.anchor)

    def _alias(self, event: Any) -> None:
        """Count what an alias stands for; refuse an alias inside its own anchor's value, and alias bombs."""
        if event.anchor in self.composing:
            raise _Refused(None, None, f"the alias *{shorten(str(event.anchor))} is inside the value it names",
                           event.start_mark)
        node = self.anchors.get(event.anchor)
        if node is not None:
            self.aliased += self._size(node)
        if self.aliased > ALIASED:
            raise _Refused(None, None, f"aliases in this file stand for more than {ALIASED:,} values (an alias bomb?): "
                           "write the values out, or use fewer aliases", event.start_mark)

    def _size(self, node: yaml.Node) -> int:
        """How many values a node stands for with its aliases expanded (counted once per use, capped)."""
        stack = [node]
        while stack:
            top = stack[-1]
            if id(top) in self.sizes:
                stack.pop()
                continue
            todo = [c for c in _children(top) if id(c) not in self.sizes]
            if todo:
                stack.extend(todo)
                continue
            self.sizes[id(top)] = min(1 + sum(self.sizes[id(c)] for c in _children(top)), ALIASED + 1)
            stack.pop()
        return self.sizes[id(node)]

    def construct_scalar(self, node: Any) -> Any:
        value = super().construct_scalar(node)
        char = refused(value) if isinstance(value, str) else None
        if char is not None:
            raise _Refused(None, None, _refusal_in_yaml(value, char), node.start_mark)
        return value

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        result = _Map()
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise _Refused(None, None, f"a key is text or a number, not {quote(key)}", key_node.start_mark)
            if key in result:
                raise _DuplicateKey(
                    "while reading a mapping", node.start_mark,
                    f"duplicate key {quote(key)} (first at line {result.key_lines[key]})", key_node.start_mark)
            result.key_lines[key] = key_node.start_mark.line + 1
            result[key] = self.construct_object(value_node, deep=True)
        return result


class _Seq(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    lines: list[int]


def _sequence(loader: _Loader, node: Any) -> Any:
    found = _Seq(loader.construct_object(item, deep=True) for item in node.value)
    found.lines = [item.start_mark.line + 1 for item in node.value]
    return found


def _refusal_in_yaml(value: str, char: str) -> str:
    """Why a YAML value is refused; for a surrogate pair written as two escapes, how to write its character."""
    why = f"{refusal(char)}: {quote(value)}"
    at = value.index(char)
    pair = value[at:at + 2]
    if len(pair) == 2 and "\ud800" <= pair[0] <= "\udbff" and "\udc00" <= pair[1] <= "\udfff":
        code = 0x10000 + ((ord(pair[0]) - 0xD800) << 10) + ord(pair[1]) - 0xDC00
        why += f" (YAML escapes are characters, not UTF-16: write the character itself, or \\U{code:08x})"
    return why


def _timestamp(loader: _Loader, node: Any) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # e.g. 2010-13-45: keep the text so the field parser can say what is wrong, and where
        return loader.construct_scalar(node)


def _int(loader: _Loader, node: Any) -> Any:
    if ":" in str(node.value):  # YAML 1.1's base 60 (1:38:00 would be 5880): the text, for the field's parser to read
        return loader.construct_scalar(node)
    try:
        return loader.construct_yaml_int(node)
    except ValueError:  # more digits than Python reads: kept as text, for the field parser to refuse
        return loader.construct_scalar(node)


def _mapping(loader: _Loader, node: Any) -> Any:
    return loader.construct_mapping(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)


def _mark_line(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark else None


# what the YAML parser says, and what it usually comes of
_YAML_HINTS = (
    ("found '<block mapping start>'", " (a line indented otherwise than the fields beside it: each field of a record "
                                      "starts at the same column)"),
    ("'<scalar>'", " (text after a closing quote, as in \"X\" (2009): quote the whole value)"),
    ("could not find expected ':'", " (a field without ': ' after its name, or a value over several lines that needs "
                                    "quotes)"),
)


_UNCLOSED = {"expected ',' or ']'": "a list [", "expected ',' or '}'": "a mapping {"}  # flow collections


def _colon_in_value(text: str, at: int) -> bool:
    """Whether line `at` (from 0) has ': ' after its key's: a value that needed quotes, not a line indented wrongly."""
    lines = text.splitlines()
    line = lines[at] if at < len(lines) else ""
    return ": " in line[line.index(":") + 1:] if ":" in line else False


def read_yaml(path: Path, display: str) -> Any:
    """Parse one YAML file; raise InputError naming the file and line on any failure."""
    try:
        data = path.read_bytes()
        # YAML may be UTF-16 when a byte-order mark says so (Windows' Notepad saves "Unicode" so)
        text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("utf-8")
    except OSError as exc:
        raise InputError([Problem(display, None, f"cannot read file: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start:exc.end]
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        try:  # what the line says read as Windows' Western encoding, the usual one of a file not saved as UTF-8
            guess = f"; read as cp1252 the line is {quote(data[start:end if end >= 0 else None].decode('cp1252'))}"
        except UnicodeDecodeError:
            guess = ""
        problem = Problem(display, line, f"not valid {exc.encoding.upper()}: byte 0x{bad.hex().upper()[:8]} at offset "
                                         f"{exc.start}{guess}: save the file as UTF-8")
        raise InputError([problem]) from exc
    if (char := refused(text)) is not None:  # YAML's reader stops at most of them, with no line to tell
        raise InputError([Problem(display, text.count("\n", 0, text.index(char)) + 1, refusal(char))])
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except _Refused as exc:
        raise InputError([Problem(display, _mark_line(exc), str(exc.problem))]) from exc
    except yaml.MarkedYAMLError as exc:
        why = str(exc.problem or exc.context)
        mark = exc.problem_mark or exc.context_mark
        if "'\\t'" in why:
            why += (" (YAML indents with spaces, never tabs" + (f"; the tab is character {mark.column + 1} of the line"
                                                                if mark else "") + ")")
        elif "mapping values are not allowed" in why and mark is not None:
            why += (" (a value holding ': ' is quoted: name: \"Review: Beol-sae\")" if _colon_in_value(text, mark.line)
                    else " (is the line indented as the fields beside it are?)")
        elif "end of stream" in why and exc.context_mark is not None and "quoted" in str(exc.context):
            raise InputError([Problem(display, exc.context_mark.line + 1, "malformed YAML: a quote opened on this "
                                      f"line is not closed before the end of the file ({why})")]) from exc
        elif (unclosed := _UNCLOSED.get(why.split(", but", 1)[0])) and exc.context_mark and exc.problem_mark and \
                "'<scalar>'" not in why:  # (text after a quote in the list: its own hint)
            # told where the bracket opened, which is where it is closed: the parser stops where it notices, at the
            # next key or past the file's end
            opened = exc.context_mark.line + 1
            found = (" before the end of the file" if exc.problem_mark.index >= len(text.rstrip())
                     else "" if exc.problem_mark.line + 1 == opened else f" before line {exc.problem_mark.line + 1}")
            raise InputError([Problem(display, opened, f"malformed YAML: {unclosed} opened on this line is not "
                                                       f"closed{found} ({why})")]) from exc
        else:
            why += next((hint for said, hint in _YAML_HINTS if said in why), "")
        raise InputError([Problem(display, _mark_line(exc), f"malformed YAML: {why}")]) from exc
    except yaml.YAMLError as exc:
        raise InputError([Problem(display, None, f"malformed YAML: {exc}")]) from exc
    except RecursionError:
        nested = "lists or mappings nested more deeply than kg reads"
        raise InputError([Problem(display, loader.get_mark().line + 1, nested)]) from None
    finally:
        loader.dispose()


# ---- value parsers: raw YAML value -> typed value; raise ValueError with a curator-facing message ----

_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


_KIND_WORDS = {"int": "a number", "float": "a number", "bool": "true or false", "list": "a list", "dict": "a mapping",
               "date": "a date", "datetime": "a date and time"}  # what YAML read a value as, in a curator's words


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        if raw is None:
            raise ValueError("is empty")
        raise ValueError(f"expected text, got {_KIND_WORDS.get(type(raw).__name__, type(raw).__name__)} {quote(raw)}"
                         " (put it in quotes)")
    if raw.isascii() and raw.isprintable() and (text := raw.strip()):
        return text  # (no control, bidi or other character to refuse or remove: most of a bulk file's cells)
    char = refused(raw)
    if char is not None:
        raise ValueError(f"{refusal(char)}: {quote(raw)}")
    text = without_formatting(raw).strip()
    if not text:
        raise ValueError("is empty")
    return text


def _lang(raw: Any) -> str:
    tag = _text(raw)
    if not _LANG.match(tag):
        raise ValueError(f"{quote(tag)} is not a BCP 47 language tag (e.g. ko, en, ko-Latn)")
    return tag


def _ltext(raw: Any) -> LangText:
    if isinstance(raw, dict):
        extra = set(raw) - {"text", "lang"}
        if extra or "text" not in raw:
            raise ValueError("a language-tagged text is {text: ..., lang: ...}"
                             + (f"; unknown key(s) {sorted(extra)}" if extra else ""))
        return LangText(_text(raw["text"]), _lang(raw["lang"]) if raw.get("lang") is not None else None)
    return LangText(_text(raw))


def _name(raw: Any) -> LangText:
    """A name, its spaces plain and single: a no-break or ideographic space, or two, inside a name is a slip of the
    keyboard (Seol\u00a0Hye-in, 최\u3000수인) that would be published as it is."""
    text = _ltext(raw)
    spaced = _SPACES.sub(" ", text.text)
    return text if spaced == text.text else LangText(spaced, text.lang)


# runs of spaces (every Unicode space separator, and tabs): not the line and paragraph separators, which a name
# keeps as written (escaped wherever it is embedded)
_ODD_SPACE = r"\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_SPACES = re.compile(rf"[ {_ODD_SPACE}]{{2,}}|[{_ODD_SPACE}]")


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):  # YAML read a time of day too: kg keeps dates, and would drop it unsaid
        raise ValueError(f"'{raw.isoformat()}' is a date and a time; write the date alone, "
                         f"e.g. {raw.date().isoformat()} (a time of day is not kept)")
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
        if (ymd := re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", raw.strip())) is not None:  # the form is right
            year, month, day = (int(x) for x in ymd.groups())
            if year >= 1 and not 1 <= month <= 12:
                raise ValueError(f"{quote(raw)} is no day of the calendar: there is no month {month}")
            if year >= 1 and day > (days := calendar.monthrange(year, month)[1]):
                raise ValueError(f"{quote(raw)} is no day of the calendar: {calendar.month_name[month]} {year} has "
                                 f"{days} days")
    raise ValueError(f"{quote(raw)} is not a date; write YYYY-MM-DD, e.g. 2010-09-02")


def _year(raw: Any) -> int:
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) == 4:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1000 <= raw <= 9999:
        raise ValueError(f"{quote(raw)} is not a four-digit year")
    return raw


def _date_or_year(raw: Any) -> dt.date | int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _year(raw)
    if isinstance(raw, str) and re.fullmatch(r"\d{4}", raw.strip()):
        return int(raw)
    try:
        return _date(raw)
    except ValueError as exc:
        if "; write YYYY-MM-DD" in str(exc):  # (of a date not written as one: the year alone is a form too)
            raise ValueError(f"{quote(raw)} is not a date; write YYYY-MM-DD, e.g. 1925-07-02, or the year alone, "
                             "e.g. 1925") from None
        raise


def _positive_int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise ValueError(f"{quote(raw)} is not a positive whole number")
    return raw


LONGEST_MINUTES = 100_000  # the longest films run for weeks (Logistics, 2012: 51,420 minutes); more is a typo


# a running time as catalogues and exports write one: 1h 38m, 1 hr 38 min, 98 mins, 2 hours, 1:38 (hours and
# minutes), 1:38:00, and in Korean, Japanese or Chinese (108분, 1시간 48분, 108分, 1時間48分, 1小时48分钟); an ISO 8601
# duration (PT1H38M) is read by `Duration`
_WRITTEN_TIME = re.compile(r"(?:(\d{1,2}) ?(?:h|hrs?|hours?|시간|時間|小时|小時)\.?)?,? ?"
                           r"(?:(\d{1,4}) ?(?:m|mins?|minutes?|분|分钟|分鐘|分)\.?)?", re.I | re.A)
_CLOCK_TIME = re.compile(r"(\d):([0-5]\d)(?::([0-5]\d))?")  # one digit of hours: 98:30 is refused, not four days


def _written_minutes(text: str) -> int | None:
    """The minutes a running time written out stands for (None: it is not one); a ValueError for seconds that
    make it no whole number of minutes."""
    seconds = None
    if text[:2].upper() == "PT" and len(text) <= 20 and (iso := Duration.parse(text.upper())) is not None:
        seconds = (iso.hours * 60 + iso.minutes) * 60 + iso.seconds
    elif (clock := _CLOCK_TIME.fullmatch(text)) is not None:
        hours, minutes, rest = clock.groups()
        seconds = Decimal(int(hours) * 3600 + int(minutes) * 60 + int(rest or 0))
    elif (words := _WRITTEN_TIME.fullmatch(text)) is not None and any(words.groups()) and not (
            words.group(1) and int(words.group(2) or 0) >= 60):  # (1h 98m: hours and minutes, or a slip?)
        seconds = Decimal(int(words.group(1) or 0) * 3600 + int(words.group(2) or 0) * 60)
    if seconds is None:
        return None
    if seconds % 60:
        raise ValueError(f"{quote(text)} is not a whole number of minutes (a running time is kept in minutes: write "
                         f"{int(seconds // 60)} or {int(seconds // 60) + 1})")
    return int(seconds // 60)


def _minutes(raw: Any) -> int:
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw) < 4000:
        raw = int(raw)  # quoted, or read so from a spreadsheet: the number it is (digits Python reads)
    elif isinstance(raw, str) and len(raw) < 100 and (written := _written_minutes(raw.strip())) is not None:
        raw = written if written > 0 else raw
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise ValueError(f"{quote(raw)} is not a running time: write the whole number of minutes, e.g. 94 (or "
                         "1h 34m, 1:34, 94분, PT1H34M)")
    minutes = raw
    if minutes > LONGEST_MINUTES:
        raise ValueError(f"{minutes} minutes is not a plausible running time (more than {LONGEST_MINUTES:,}, "
                         "about ten weeks)")
    return minutes


def _duration(raw: Any) -> str:
    text = _text(raw)
    duration = Duration.parse(text)
    if duration is None or duration.negative:
        raise ValueError(f"{quote(text)} is not an xsd:duration (ISO 8601 without weeks, e.g. P6D, PT109M)")
    return text


def _url(raw: Any) -> str:
    text = _text(raw)
    if not _URL.match(text):
        raise ValueError(f"{quote(text)} is not an http(s) URL" + (
            " (a space is no part of one: write it %20)" if _URL.match(text.replace(" ", "%20")) else ""))
    return text


def _money(raw: Any) -> Money:
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise ValueError("a monetary amount is {amount: 700000, currency: USD}")
    try:
        amount = Decimal(str(raw["amount"]))
    except InvalidOperation as exc:
        raise ValueError(f"amount {quote(raw['amount'])} is not a number") from exc
    if isinstance(raw["amount"], bool) or not amount.is_finite() or amount < 0:
        raise ValueError(f"amount {quote(raw['amount'])} is not a non-negative number")
    currency = _text(raw["currency"])
    if not _CURRENCY.match(currency):
        raise ValueError(f"currency {quote(currency)} is not an ISO 4217 code such as USD")
    return Money(amount, currency)


def _rating(raw: Any) -> Rating:
    given = raw if isinstance(raw, dict) else {"value": raw}
    if set(given) - {"value", "best", "count"} or "value" not in given:
        raise ValueError("a rating is {value: 4, best: 5} (best: the top of its scale, 5 when not given), and an "
                         "aggregate one may say how many it averages: {value: 7.8, best: 10, count: 1520}")

    def number(key: str) -> Decimal:
        try:
            found = Decimal(str(given[key]).strip())
        except InvalidOperation:
            found = Decimal("NaN")
        if isinstance(given[key], bool) or not found.is_finite() or found < 0:
            raise ValueError(f"rating {key} {quote(given[key])} is not a number of zero or more")
        return found

    value = number("value")
    best = number("best") if given.get("best") is not None else None
    if (best if best is not None else Decimal(5)) < value:
        top = best if best is not None else "5, when best is not given"
        raise ValueError(f"rating {value} is above the top of its scale ({top})")
    count = given.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count <= 0):
        raise ValueError(f"rating count {quote(count)} is not a positive whole number")
    return Rating(value, best, count)


def _key(raw: Any) -> str:
    key = _text(raw)
    if not is_key(key):
        raise ValueError(f"{quote(key)} is not a record key (ASCII lower-case letters a-z, digits, hyphens)")
    return key


_CAST_KEYS = ("actor", "character", "character_name", "billing", "category")


def _cast(raw: Any) -> CastEntry:
    extra = sorted(set(raw) - set(_CAST_KEYS), key=str) if isinstance(raw, dict) else []
    if extra:  # before a missing actor: {actr: x} is a typo for one
        close = [m for k in extra for m in difflib.get_close_matches(str(k), _CAST_KEYS, n=1)]
        raise ValueError(f"unknown key(s) in cast entry: {extra}" + (f" (did you mean {', '.join(close)}?)"
                                                                       if close else "")
                         + f"; a cast entry's keys: {', '.join(_CAST_KEYS)}")
    if not isinstance(raw, dict) or "actor" not in raw:
        raise ValueError("a cast entry is {actor: person-key, character: character-key, character_name: ...}")
    return CastEntry(
        _key(raw["actor"]),
        _key(raw["character"]) if raw.get("character") is not None else None,
        _ltext(raw["character_name"]) if raw.get("character_name") is not None else None,
        _billing(raw["billing"]) if raw.get("billing") is not None else None,
        _text(raw["category"]) if raw.get("category") is not None else None,
    )


def _billing(raw: Any) -> int:
    try:
        return _positive_int(raw)
    except ValueError as exc:
        raise ValueError(f"billing: {exc} (1 for the first billed, 2 for the next, ...)") from None


def _crew(raw: Any) -> CrewEntry:
    if not isinstance(raw, dict) or set(raw) != {"person", "department"}:
        raise ValueError("a crew entry is {person: person-key, department: text}")
    return CrewEntry(_key(raw["person"]), _text(raw["department"]))


def _bool(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise ValueError(f"{quote(raw)} is not true or false")
    return raw


PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "text": _text,
    "ltext": _ltext,
    "lang": _lang,
    "date": _date,
    "year": _year,
    "date_or_year": _date_or_year,
    "minutes": _minutes,
    "int": _positive_int,
    "duration": _duration,
    "url": _url,
    "money": _money,
    "rating": _rating,
    "ref": _key,
    "cast": _cast,
    "crew": _crew,
    "bool": _bool,
    "type": _text,
}


# ---- records ----

def _line(mapping: Any, key: Any) -> int:
    if isinstance(mapping, _Map):
        return mapping.key_lines.get(key, mapping.line)
    return 0


# what a curator may write for a field of another name (a suggestion when the key is unknown)
_SAID_OTHERWISE = {"title": "name", "year": "production_year", "runtime": "running_time", "duration": "running_time",
                   "directors": "director", "composers": "composer", "writer": "screenplay", "genres": "genre",
                   "countries": "country", "languages": "language", "released": "release_date"}


def _parse_values(kind: Kind, raw: _Map, display: str, record: str, problems: list[Problem],
                  skip: frozenset[str] = frozenset()) -> tuple[Value, ...]:
    values: list[Value] = []
    for name, raw_value in raw.items():
        if name in skip:
            continue
        line = _line(raw, name)
        field = kind.field(str(name))
        if field is None:
            names = [f.name for f in kind.fields]
            close = difflib.get_close_matches(str(name), [*names, *skip, *(
                k for k, v in _SAID_OTHERWISE.items() if v in names)], n=1)
            hint = f"did you mean {_SAID_OTHERWISE.get(close[0], close[0])}? " if close else ""
            problems.append(Problem(display, line, f"unknown field for a {kind.name} ({hint}known: {', '.join(names)})",
                                    f"{record}.{shorten(str(name))}"))
            continue
        items = raw_value if isinstance(raw_value, list) else [raw_value]
        if isinstance(raw_value, list) and not field.many:
            problems.append(Problem(display, line, "takes one value, not a list", f"{record}.{field.name}"))
            continue
        at = raw_value.lines if isinstance(raw_value, _Seq) else [line] * len(items)  # each item on its own line
        for item, line in zip(items, at, strict=True):
            origin = Origin(display, line, record, field.name)
            try:
                parsed = PARSERS[field.vtype](item)
                if field.choices and parsed not in field.choices:
                    raise ValueError(f"{quote(parsed)} is not one of {', '.join(field.choices)}")
            except ValueError as exc:
                problems.append(Problem(display, line, str(exc), f"{record}.{field.name}"))
                continue
            values.append(Value(field.name, parsed, origin))
    return _billed(values)


def _billed(values: list[Value]) -> tuple[Value, ...]:
    """The values, a cast list that gives no billing billed in the order it is written (top billing first)."""
    cast = [v for v in values if isinstance(v.value, CastEntry)]
    if len(cast) < 2 or any(v.value.billing is not None for v in cast):
        return tuple(values)
    order = {id(v): n for n, v in enumerate(cast, 1)}
    return tuple(v._replace(value=dataclasses.replace(v.value, billing=order[id(v)])) if id(v) in order else v
                 for v in values)


def _shared_billing(record: Record) -> Iterator[Note]:
    """A note for each actor a source bills at a place it gave another actor already: most often a typo, though
    co-stars billed alike exist (a note, not an error)."""
    for claim in record.claims:
        first: dict[int, Value] = {}
        for v in claim.values:
            if isinstance(v.value, CastEntry) and v.value.billing is not None:
                other = first.setdefault(v.value.billing, v)
                if other.value.actor != v.value.actor:
                    yield Note(v.origin.file, v.origin.line, "suspicious",
                               f"{record.key}: {claim.source} bills {v.value.actor} {v.value.billing}, as it bills "
                               f"{other.value.actor} (line {other.origin.line}); billing is each actor's place in "
                               "the credits (1, 2, 3, ...)")


def _parse_record(kind: Kind, key: Any, raw: Any, line: int, display: str, problems: list[Problem]) -> Record | None:
    if not isinstance(key, str) or not is_key(key):
        hint = " (a name in Hangul or with accents goes in name:, romanised in the key: kim-bo-ra)" if isinstance(
            key, str) and not key.isascii() else ""
        problems.append(Problem(display, line, f"record key {quote(key)} must be ASCII lower-case letters a-z, "
                                f"digits and single hyphens between them{hint}", kind.section))
        return None
    if not isinstance(raw, _Map):
        problems.append(Problem(display, line, f"a {kind.name} is a mapping of fields", key))
        return None
    origin = Origin(display, line, key)
    claims = []
    formerly = _formerly(raw, display, key, problems) if kind.has_claims else ()
    if kind.has_claims:
        claims.append(Claim(EDITORIAL, _parse_values(kind, raw, display, key, problems, _NOT_FIELDS), origin))
        said = raw.get("claims", _Map())
        if said is None or not isinstance(said, _Map):
            problems.append(Problem(display, _line(raw, "claims"), "claims is a mapping: source key -> fields",
                                    f"{key}.claims"))
            said = _Map()
        for source, fields in said.items():
            cline = _line(said, source)
            if not isinstance(fields, _Map):
                problems.append(Problem(display, cline, "a claim is a mapping of fields", f"{key}.claims.{source}"))
                continue
            claims.append(Claim(str(source), _parse_values(kind, fields, display, key, problems),
                                Origin(display, cline, key, f"claims.{source}")))
    else:
        claims.append(Claim(key, _parse_values(kind, raw, display, key, problems), origin))
    if kind.has_claims and not any(v.field == "name" for v in claims[0].values) and not any(
            p.field == f"{key}.name" for p in problems):  # (a name refused is told why already)
        problems.append(Problem(display, line, "needs a preferred name at the top level", f"{key}.name"))
    return Record(kind.name, key, tuple(claims), origin, formerly=formerly)


_NOT_FIELDS = frozenset({"claims", "formerly"})  # what a record's top level holds besides its fields


def _formerly(raw: _Map, display: str, record: str, problems: list[Problem]) -> tuple[tuple[str, Origin], ...]:
    """The keys a record had before it was renamed (`formerly: [old-key]`), each with where it is written."""
    if "formerly" not in raw:
        return ()
    value, line = raw["formerly"], _line(raw, "formerly")
    items = value if isinstance(value, list) else [value]
    found = []
    for n, item in enumerate(items):
        at = value.lines[n] if isinstance(value, _Seq) else line
        if not isinstance(item, str) or not is_key(item) or item == record:
            problems.append(Problem(display, at, f"{quote(item)} is not another record key (formerly: a list of the "
                                    "keys this record had before)", f"{record}.formerly"))
            continue
        found.append((item, Origin(display, at, record, "formerly")))
    return tuple(found)


# an empty section is refused, as an empty file is: what a save cut short leaves would unpublish what it held
_EMPTY = "the section is empty (a save cut short?): give it {1}, or delete the line '{0}:'"


def _decisions(entries: Any, line: int, display: str, decisions: Decisions, problems: list[Problem]) -> None:
    """The `decisions:` section of a source file: one decision per item."""
    if not isinstance(entries, list):
        problems.append(Problem(display, line, _EMPTY.format(SECTION, "one decision per item (- merge ...)")
                                if entries is None else f"decisions is a list, one decision per item: {HELP}", SECTION))
        return
    for n, item in enumerate(entries):
        at = entries.lines[n] if isinstance(entries, _Seq) else line
        why = parse(item, Origin(display, at, SECTION), decisions) if isinstance(item, str) else HELP
        if why is not None:
            problems.append(Problem(display, at, why, SECTION))


def read_file(path: Path, display: str, problems: list[Problem], decisions: Decisions | None = None) -> list[Record]:
    """Read one YAML source file into records, adding any problems to `problems`; InputError if it is not YAML."""
    doc = read_yaml(path, display)
    if doc is None:  # as an empty CSV file is refused: a save cut short would unpublish every record it held
        problems.append(Problem(display, 1, "the file is empty (nothing but blank lines or comments): delete it if "
                                            "it is meant to hold no records"))
        return []
    if not isinstance(doc, _Map):
        problems.append(Problem(display, 1, f"the top level must be a mapping of sections ({', '.join(SECTIONS)})"))
        return []
    records = []
    for section, entries in doc.items():
        kind = SECTIONS.get(section)
        line = _line(doc, section)
        if section == SECTION:
            _decisions(entries, line, display, decisions if decisions is not None else Decisions(), problems)
            continue
        if kind is None:
            known = ", ".join([*SECTIONS, SECTION])
            problems.append(Problem(display, line, f"unknown section {quote(section)} (known: {known})"))
            continue
        if not isinstance(entries, _Map):
            why = _EMPTY.format(section, "its records (key: record)") if entries is None else \
                "a section is a mapping: key -> record"
            problems.append(Problem(display, line, why, str(section)))
            continue
        for key, raw in entries.items():
            record = _parse_record(kind, key, raw, _line(entries, key), display, problems)
            if record is not None:
                records.append(record)
    return records


def _check_references(records: list[Record], problems: list[Problem]) -> None:
    index = {(r.kind, r.key) for r in records}
    keys: dict[str, list[str]] = {}

    def hint(kind: str, key: str) -> str:
        if not keys:  # sorted once, and only when something refers to what does not exist
            for k, existing in sorted(index):
                keys.setdefault(k, []).append(existing)
        close = difflib.get_close_matches(key, keys.get(kind, []), n=1)
        return f" (did you mean {quote(close[0])}?)" if close else ""

    # by id() of what a batch of records read back names: what of it does not exist
    missing: dict[int, frozenset[tuple[str, str]]] = {}
    for record in records:
        along = record.names_along()
        if along is not None:
            gone = missing.get(id(along))
            if gone is None:
                gone = missing[id(along)] = frozenset(along - index)
            if not gone or not record.names_any(gone):
                continue  # nothing it names is missing: one look for a batch of ten thousand records, its claims packed
        elif index.issuperset(record.names()):
            continue
        for claim in record.claims:
            if claim.source != EDITORIAL and ("source", claim.source) not in index:
                problems.append(Problem(claim.origin.file, claim.origin.line,
                                        f"no source document with key {quote(claim.source)}"
                                        f"{hint('source', claim.source)}",
                                        f"{record.key}.{claim.origin.field}" if claim.origin.field else record.key))
            for value in claim.values:
                for target in record.named_by(value):
                    if target not in index:
                        target_kind, key = target
                        problems.append(Problem(value.origin.file, value.origin.line,
                                                f"refers to {'an' if target_kind[0] in 'aeiou' else 'a'} "
                                                f"{target_kind} {quote(key)} that does not exist"
                                                f"{hint(target_kind, key)}",
                                                f"{record.key}.{value.field}"))


class _RdfStated:
    """What the RDF files of data/ state in their source graphs about records' IRIs, read from the files when first
    asked (a decision may name a source that is one, or an IRI only one describes)."""

    def __init__(self, rdf: list[RdfFile], base: str, moves: dict[Ref, Merge]) -> None:
        self.rdf, self.minter, self.moves = rdf, Minter(base), moves
        # (subject, predicate) -> the files stating it -> the values each states (N-Triples)
        self._stated: dict[tuple[str, str], dict[str, set[str]]] | None = None
        self._subjects: set[str] | None = None

    def _read(self) -> dict[tuple[str, str], dict[str, set[str]]]:
        if self._stated is None:
            self._stated = {}
            for file in self.rdf:
                for q in file.quads():  # (a TriG file's named graphs keep their names: no source's statements)
                    if isinstance(q.subject, ox.NamedNode) and isinstance(q.graph_name, ox.DefaultGraph):
                        self._stated.setdefault((q.subject.value, q.predicate.value), {}).setdefault(
                            file.key, set()).add(str(q.object))
        return self._stated

    def values(self, ref: Ref, name: str, source: str) -> set[str]:
        """The values one file (by source key) states of a field of a record, or of a record merged into it (not of
        a part's: a budget's amount)."""
        f = KINDS[ref[0]].field(name)
        if f is None or f.predicate is None or f.vtype in PART_PREDICATES or not self.rdf:
            return set()
        stated = self._read()
        return {v for iri in (self.minter.entity(*ref), *(self.minter.entity(*old) for old, m in self.moves.items()
                                                          if m.kept == ref))
                for v in stated.get((iri.value, f.predicate), {}).get(source, ())}

    def giving(self, ref: Ref, name: str) -> set[str]:
        """The files (by source key) that state a field of a record, or of a record merged into it, where the
        build's conflicts look: the property of the record, or of its part (a budget's amount and currency)."""
        f = KINDS[ref[0]].field(name)
        if f is None or f.predicate is None or not self.rdf:
            return set()
        stated = self._read()
        found: set[str] = set()
        for iri in (self.minter.entity(*ref), *(self.minter.entity(*old) for old, m in self.moves.items()
                                                 if m.kept == ref)):
            if f.vtype in PART_PREDICATES:
                part = self.minter.part(iri, f.predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]).value
                found.update(k for p in PART_PREDICATES[f.vtype] for k in stated.get((part, p), ()))
            else:
                found.update(stated.get((iri.value, f.predicate), ()))
        return found

    def describes(self, ref: Ref) -> bool:
        """Whether an RDF file states anything of the IRI of `ref` (a film only a Turtle file has, say)."""
        if not self.rdf:
            return False
        if self._subjects is None:
            self._subjects = {subject for subject, _ in self._read()}
        return self.minter.entity(*ref).value in self._subjects


def _follow_moves(decisions: Decisions, moves: dict[Ref, Merge]) -> None:
    """Each `not_same` also of the records its keys became (renamed by `formerly`, merged): a pair kept apart stays
    apart under its new keys."""
    for pair, origin in list(decisions.not_same.items()):
        now = frozenset(moves[ref].kept if ref in moves else ref for ref in pair)
        if len(now) == 2 and now != pair:
            decisions.not_same.setdefault(now, origin)


def _check_preferences(records: list[Record], decisions: Decisions, moves: dict[Ref, Merge],
                       problems: list[Problem], twice: Container[Ref] = (),
                       rdf: _RdfStated | None = None) -> None:
    """Each preferred value is one a source (or the curators, for 'editorial') gives the record, or an RDF file
    states of it (unless the record is defined `twice`, already an error)."""
    index = {(r.kind, r.key): r for r in records}
    for pair, origin in decisions.not_same.items():
        for kind, key in sorted(pair):
            if (kind, key) not in index and (kind, key) not in moves and not (rdf and rdf.describes((kind, key))):
                problems.append(Problem(origin.file, origin.line, f"there is no {kind} {quote(key)}", SECTION))
    joined: dict[Ref, set[Ref]] = {}  # what became each record: itself, and the records merged into it
    for retired, merge in moves.items():
        joined.setdefault(merge.kept, {merge.kept}).add(retired)
    for p in decisions.prefer:
        ref = moves[p.record].kept if p.record in moves else p.record
        record = index.get(ref)
        if any(r in twice for r in joined.get(ref, {ref})):
            continue
        if record is None:
            problems.append(Problem(p.origin.file, p.origin.line, f"there is no {ref[0]} {quote(ref[1])}", SECTION))
            continue
        said = {c.source for c in record.claims if any(v.field == p.field for v in c.values)}
        if p.source not in said and p.source != EDITORIAL:
            said |= rdf.giving(ref, p.field) if rdf is not None else set()
        if p.source not in said and p.source != EDITORIAL and ("source", p.source) not in index:
            close = difflib.get_close_matches(p.source, sorted(k for kind, k in index if kind == "source"), n=1)
            problems.append(Problem(p.origin.file, p.origin.line, f"there is no source {quote(p.source)}"
                                    + (f" (did you mean {close[0]}?)" if close else ""), SECTION))
        elif p.source not in said:
            given = ", ".join(sorted(said)) or "none"
            named = "/".join(p.record) + (f" (merged into {'/'.join(ref)})" if ref != p.record else "")
            problems.append(Problem(p.origin.file, p.origin.line, f"{named}: {quote(p.source)} gives no "
                                    f"{p.field} (sources that do, of the record merged: {given})"
                                    if ref != p.record else f"{named}: {quote(p.source)} gives no {p.field} "
                                    f"(sources that do: {given})", SECTION))
        elif p.source != EDITORIAL and len(values := _values_of(record, p.source, p.field) | (
                rdf.values(ref, p.field, p.source) if rdf is not None else set())) > 1:
            # (two records merged, each with its value from one file; a file stating two): the source's is not one
            named = "/".join(p.record) + (f" (merged into {'/'.join(ref)})" if ref != p.record else "")
            own = _values_of(record, EDITORIAL, p.field)
            instead = f"the curators' own {p.field} ({next(iter(own))}) settles it already: drop this decision" \
                if len(own) == 1 else f"give the record its {p.field} in its own fields, at the top level (the " \
                "curators' value), instead"
            problems.append(Problem(p.origin.file, p.origin.line, f"{named}: {quote(p.source)} gives "
                                    f"{len(values)} values of {p.field} ({', '.join(sorted(values))}"
                                    f"{', of the records merged' if ref in joined else ''}), so preferring it "
                                    f"settles nothing: {instead}", SECTION))
        elif p.source != EDITORIAL and p.field != "name" and len(own := _values_of(record, EDITORIAL, p.field)) == 1 \
                and own != _values_of(record, p.source, p.field):
            # the curators' own one value settles it already (several, from records merged, settle nothing)
            first = next(v for c in record.claims if c.source == EDITORIAL for v in c.values if v.field == p.field)
            problems.append(Problem(p.origin.file, p.origin.line, f"{'/'.join(p.record)}: the curators' own "
                                    f"{p.field} ({next(iter(own))}, at {first.origin.file}:{first.origin.line}) "
                                    f"already settles it: prefer {p.source}'s or keep your own, not both", SECTION))


def _values_of(record: Record, source: str, field: str) -> set[str]:
    return {str(v.value) for c in record.claims if c.source == source for v in c.values if v.field == field}


# a source file in any format kg publishes; .jsonl files in data/ are rows for a mapping (docs/bulk.md), not RDF
RDF_FORMATS = {f".{f.extension}": f.oxigraph for f in FORMATS if not f.lines}
UNRESOLVED = "https://unresolved.invalid/"  # the base a JSON-LD file's relative IRIs are found by


@dataclass(frozen=True)
class RdfFile:
    """An RDF source file, published as it is: its triples in the graph <base>source/<key>."""

    path: Path
    display: str
    key: str
    # the films and people the file describes without an IRI (blank nodes): (kind, a name it gives), in order
    anonymous: tuple[tuple[str, str], ...] = ()
    named: frozenset[str] = frozenset()  # the IRIs the file gives a schema:name

    @property
    def format(self) -> ox.RdfFormat:
        return RDF_FORMATS[self.path.suffix.lower()]

    def quads(self) -> Iterator[ox.Quad]:
        """The file's statements as written (a JSON-LD file's contexts named by URL: the ones kg ships), literals
        of markup in kg's datatypes (`datatypes.typed`)."""
        if self.format == ox.RdfFormat.JSON_LD:  # a relative IRI would be dropped silently: it is resolved, and found
            return map(typed, read(self.path.read_bytes(), base_iri=UNRESOLVED))
        return map(typed, ox.parse(path=self.path, format=self.format))

    def lined(self) -> Iterator[tuple[int, ox.Quad]]:
        """`quads`, each with the line it ends on (0 in a JSON-LD file, read whole)."""
        if self.format == ox.RdfFormat.JSON_LD:
            yield from ((0, q) for q in self.quads())
            return
        with self.path.open("rb") as f:
            lines = _ByLine(f)
            for quad in ox.parse(cast(IO[bytes], lines), format=self.format):  # (read as an IO is)
                yield lines.read_to, typed(quad)


class _ByLine(io.RawIOBase):
    """A file given to a parser a line at a time, counting them as the parser does (a line ends at LF, CR or CRLF):
    a statement ends on the last line read when the parser gives it."""

    def __init__(self, f: BinaryIO) -> None:
        super().__init__()
        self.f, self.read_to, self.starts = f, 0, True
        self.held, self.at, self.ended = b"", 0, False  # what was read, and how far into it was given

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while (whole := self._line_end()) is None:  # no line end held (a CR last may be a CRLF's): read more
            more = self.f.read(max(len(buffer), 65536))
            self.held, self.at, self.ended = self.held[self.at:] + more, 0, not more
        size = min(abs(whole) - self.at, len(buffer))  # (a line longer than the buffer: in pieces)
        buffer[:size] = self.held[self.at:self.at + size]
        if size and self.starts:
            self.read_to += 1
        self.at += size
        self.starts = self.at == whole  # the next piece starts a line (not after the file's last, unended one)
        return size

    def _line_end(self) -> int | None:
        """Where the line held at `at` ends (after its LF, CR or CRLF); minus the file's end when it is the last and
        unended; None when more must be read to tell."""
        held, at = self.held, self.at
        lf = held.find(b"\n", at)
        cr = held.find(b"\r", at, lf if lf >= 0 else len(held))
        if cr >= 0 and (cr + 1 < len(held) or self.ended):
            return cr + 2 if held[cr + 1:cr + 2] == b"\n" else cr + 1
        if cr < 0 and lf >= 0:
            return lf + 1
        return -len(held) if self.ended else None


@dataclass
class Sources:
    """Everything read from data/: records, RDF files, what was done to messy rows, and every file read."""

    records: list[Record]
    rdf: list[RdfFile] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    decisions: Decisions = field(default_factory=Decisions)
    moves: dict[Ref, Merge] = field(default_factory=dict)  # retired key -> the merge that retired it
    held: list[tuple[Ref, Ref, str]] = field(default_factory=list)  # sharing an identifier, but kept apart


def source_files(data_dir: Path) -> list[Path]:
    """Every source file under `data_dir` (YAML, mapping files, RDF), in a stable order."""
    suffixes = (*YAML_SUFFIXES, *RDF_FORMATS)
    found = (p for p in data_dir.rglob("*") if p.suffix.lower() in suffixes)
    return sorted(p for p in found if p.is_file() or p.is_symlink())


def input_files(data_dir: Path, root: Path | None = None,
                readable: tuple[Path, ...] | None = None) -> list[Path] | None:
    """What a build of `data_dir` reads, in the order it reads them (read_sources' `inputs`), without reading the
    records; None when a mapping file cannot be read or a file is outside `readable` (only a build can say why)."""
    readable = _readable(data_dir, root, readable)
    found: list[Path] = []
    for path in source_files(data_dir):
        if not inside(path, readable):
            return None
        found.append(path)
        if path.name.endswith(MAPPING_SUFFIX):
            try:
                found.extend(load_mapping(path, _display(path, root), read_yaml,
                                          lambda key, raw, d: _parse_source(key, raw, d, []), readable).files)
            except (InputError, MappingError, ValueError, OSError):
                return None
    return found


def _readable(data_dir: Path, root: Path | None, readable: tuple[Path, ...] | None) -> tuple[Path, ...]:
    """The folders source files may be read from: as given, else the project root (else the data directory)."""
    return readable if readable is not None else ((root or data_dir).resolve(),)


def _parse_source(key: str, raw: Any, display: str, problems: list[Problem]) -> Record:
    fields = _Map()
    fields.line = getattr(raw, "line", 0)
    for k, v in raw.items():
        if k != "key":
            fields[k] = v
            fields.key_lines[k] = _line(raw, k)
    record = _parse_record(KINDS["source"], key, fields, fields.line, display, problems)
    if record is None:
        raise InputError(problems)
    return record


_BASES = {  # how each RDF format that can declare a base does it
    ox.RdfFormat.TURTLE: "@base <{}> . in Turtle",
    ox.RdfFormat.TRIG: "@base <{}> . in TriG",
    ox.RdfFormat.RDF_XML: 'xml:base="{}" on the rdf:RDF element',
    ox.RdfFormat.JSON_LD: '"@base": "{}" in the @context',
}


def _line_of(path: Path, char: str) -> int | None:
    """The first line of a file that holds `char`, as itself or escaped (\\u0001, &#x1;)."""
    code = ord(char)
    spellings = re.compile(rf"{re.escape(char)}|\\u{code:04x}|\\U{code:08x}|&#x0*{code:x};|&#0*{code};", re.I)
    text = path.read_bytes().decode("utf-8", "replace")
    found = spellings.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else None


# what Oxigraph's parsers say of a statement not ended (Turtle, N-Triples and N-Quads, TriG)
_NO_DOT = re.compile(r"dot is expected|followed by a dot|or a '\.' is expected")


def _statement_before(path: Path, line: int, column: int | None) -> tuple[int, int | None] | None:
    """For a parser that wanted a dot where a line starts (column 1, or after spaces; or past the last line), the
    line before it that holds something (not a comment): where the dot is missing; and the next line that does (None:
    the file ends). None when the error is within its line."""
    lines = re.split(r"\r\n|\r|\n", path.read_bytes().decode("utf-8", "replace"))  # (as the parser counts them)
    if not 0 < line <= len(lines) + 1 or line <= len(lines) and lines[line - 1][:max((column or 1) - 1, 0)].strip():
        return None
    more = next((n for n in range(line, len(lines) + 1) if lines[n - 1].strip() and
                 not lines[n - 1].lstrip().startswith("#")), None)
    ended = next((n for n in range(line - 1, 0, -1) if lines[n - 1].strip() and
                  not lines[n - 1].lstrip().startswith("#")), None)
    return (ended, more) if ended is not None else None


def _read_rdf(path: Path, display: str, problems: list[Problem], base: str) -> RdfFile | None:
    rdf = RdfFile(path, display, slugify(path.stem) or "rdf")
    rewritten = rdf.format == ox.RdfFormat.JSON_LD  # parsed as kg wrote it again: the parser's lines are not the file's
    stated = 0
    kinds: dict[ox.BlankNode, str] = {}  # blank nodes typed as a film or a person
    names: dict[ox.BlankNode, str] = {}
    named: set[str] = set()
    try:
        for q in rdf.quads():
            stated += 1
            if isinstance(q.subject, ox.BlankNode):
                if q.predicate == vocab.TYPE and (kind := _ANONYMOUS.get(q.object.value)) is not None:
                    kinds[q.subject] = kind
                elif q.predicate == vocab.S.name and isinstance(q.object, ox.Literal):
                    names.setdefault(q.subject, q.object.value)
            elif q.predicate == vocab.S.name and isinstance(q.subject, ox.NamedNode):
                named.add(q.subject.value)
            if relative := next((t.value for t in (q.subject, q.predicate, q.object, q.graph_name)
                                 if isinstance(t, ox.NamedNode) and t.value.startswith(UNRESOLVED)), None):
                raise SyntaxError(f"error while parsing IRI {quote(relative[len(UNRESOLVED):])}: No scheme found")
            if isinstance(q.object, ox.Literal) and (char := refused(q.object.value)) is not None:
                problems.append(Problem(display, _line_of(path, char), f"{refusal(char)}: {quote(q.object.value)}"))
                return None
    except RecursionError:
        problems.append(Problem(display, deep_line(path.read_bytes().decode("utf-8", "replace")),
                                f"not valid {path.suffix[1:]}: arrays or objects nested more deeply than kg reads"))
        return None
    except json.JSONDecodeError as exc:
        problems.append(Problem(display, exc.lineno, f"not valid {path.suffix[1:]}: {exc.msg} (column {exc.colno})"))
        return None
    except UnicodeDecodeError as exc:
        problems.append(Problem(display, None, f"not valid {path.suffix[1:]}: not UTF-8 ({exc.reason} at byte "
                                               f"{exc.start})"))
        return None
    except RemoteDocumentRefused as exc:
        problems.append(Problem(display, None, f"not valid {path.suffix[1:]}: {exc}"))
        return None
    except SyntaxError as exc:
        line = None if rewritten else getattr(exc, "lineno", None)
        why = str(exc.msg if getattr(exc, "lineno", None) else exc)
        if "LoadDocumentCallback" in why:  # a context the parser would have to fetch ("@import", nested)
            why = ("it names a context to fetch from the network, which kg never does: name schema.org's "
                   "(shipped with kg) or write the context out in the file")
        if "No scheme found" in why:
            why += (" (a relative IRI such as <movie/x>: write it in full, or resolve it with a base, e.g. "
                    f"{_BASES[rdf.format].format(base)})") if rdf.format in _BASES else " (IRIs are full)"
        if line and _NO_DOT.search(why) and (ended := _statement_before(path, line, getattr(exc, "offset", 0))):
            why, line = ("the statement ends here without its '.' (or a ';' or ',' to go on): " + (
                f"the parser found more on line {ended[1]}" if ended[1] else "the file ends after it")), ended[0]
        problems.append(Problem(display, line, f"not valid {path.suffix[1:]}: {why}"))
        return None
    except OSError as exc:
        problems.append(Problem(display, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    if not stated:  # as an empty CSV or YAML file: an export cut short would unpublish every statement it held
        problems.append(Problem(display, None, "the file states nothing (it is empty, or holds only prefixes and "
                                               "comments): delete it if that is meant"))
        return None
    return dataclasses.replace(rdf, anonymous=tuple((kind, names[node]) for node, kind in kinds.items()
                                                    if node in names), named=frozenset(named))


_ANONYMOUS = {vocab.SCHEMA + "Movie": "movie", vocab.SCHEMA + "Person": "person"}  # schema.org type -> kind
_KEY_YEAR = re.compile(r"-[0-9]{4}$")  # a film's key made of its title and its year


def _anonymous_notes(rdf: list[RdfFile], records: list[Record], minter: Minter) -> list[Note]:
    """A note for each film or person an RDF file describes without an IRI: published as a node of its own (a
    Skolem IRI), apart from every record, and never a duplicate candidate; with the record of that name, if one."""
    wanted = {(kind, slugify(name)) for file in rdf for kind, name in file.anonymous}
    if not wanted:
        return []
    from kg.build.remembered import Held  # (the records an edit reads back from the last build: packed)

    named: dict[tuple[str, str], list[str]] = {}
    for r in records:  # (a bulk record read back is told by its key, made of its name: its names stay packed)
        if r.kind in ("movie", "person") and (not isinstance(r, Held) or (r.kind, r.key) in wanted or (
                r.kind, _KEY_YEAR.sub("", r.key)) in wanted):
            for v in r.values("name") + r.values("alternate_name"):
                if isinstance(v.value, LangText) and (r.kind, slugify(v.value.text)) in wanted:
                    named.setdefault((r.kind, slugify(v.value.text)), []).append(r.key)
    notes = []
    for file in rdf:
        for kind, name in file.anonymous:
            keys = sorted(set(named.get((kind, slugify(name)), [])))
            how = ('"@id": "{}"' if file.format == ox.RdfFormat.JSON_LD else "<{}> in place of the blank node")
            notes.append(Note(file.display, None, "suspicious", (
                f"the {'film' if kind == 'movie' else 'person'} {quote(name)} has no IRI in this file: it is published "
                "as a node of its own, apart from every record, and compared with none")
                + (f"; {kind} {quote(keys[0])} has that name: if it is that one, give it "
                   + how.format(minter.entity(kind, keys[0]).value) if len(keys) == 1 else
                   f"; {', '.join(quote(k) for k in keys)} have that name: give it the IRI of the one it is"
                   if keys else "")))
    return notes


def _merge(records: list[Record], extra: list[Record], problems: list[Problem]) -> list[Record]:
    """Records from bulk files join the hand-written record with the same key (its editorial claim wins)."""
    index = {(r.kind, r.key): i for i, r in enumerate(records)}
    out = list(records)
    for record in extra:
        at = index.get((record.kind, record.key))
        if at is None:
            index[(record.kind, record.key)] = len(out)
            out.append(record)
            continue
        old = out[at]
        if record.kind == "source":
            problems.append(Problem(record.origin.file, record.origin.line,
                                    f"source {quote(record.key)} is already defined at {old.origin.file}:"
                                    f"{old.origin.line}",
                                    "source.key"))
            continue
        had = {key for key, _ in old.formerly}  # the keys both were renamed from: all redirect to the one record
        out[at] = Record(old.kind, old.key, old.claims + record.claims[1:], old.origin, old.detailed,
                         old.formerly + tuple(f for f in record.formerly if f[0] not in had))
    return out


_FOUND_BY_NAME = ("person", "organization", "country", "event")  # hand-written kinds a bulk file's name finds


def read_sources(data_dir: Path, files: Iterable[Path] | None = None, root: Path | None = None,
                 base: str = DEFAULT_BASE, readable: tuple[Path, ...] | None = None,
                 bulk: Callable[[list[Mapping], dict[str, Callable[[Any], Any]], list[Note], set[tuple[str, str]],
                                 frozenset[frozenset[tuple[str, str]]], dict[tuple[str, str], tuple[str, ...]]],
                                list[Record]] = read_bulk,
                 ) -> Sources:
    """Read every source file (YAML, bulk mappings, RDF) inside the `readable` folders (by default the project
    root), the bulk files' records through `bulk`; raise InputError listing every problem (a hint that needs the
    project's base IRI gives `base`)."""
    if not data_dir.is_dir():
        raise InputError([Problem(str(data_dir), None, "data directory does not exist" + (
            " (and no kg.toml beside it: no kg project here; `kg init` starts one, `--root` names another)"
            if root is not None and not (root / "kg.toml").exists() else ""))])
    readable = _readable(data_dir, root, readable)
    if not inside(data_dir, readable):
        raise InputError([Problem(str(data_dir), None, f"the data directory is {outside(data_dir)}")])
    problems: list[Problem] = []
    records: list[Record] = []
    seen: dict[tuple[str, str], Record] = {}
    twice: set[tuple[str, str]] = set()  # records defined twice: which of them a decision means is not known
    mappings: list[Mapping] = []
    out = Sources([])
    unreadable = False  # a file that is not YAML at all: what refers to its records cannot be checked
    for path in files if files is not None else source_files(data_dir):
        display = _display(path, root)
        if not inside(path, readable):
            problems.append(Problem(display, None, outside(path)))
            unreadable = True
            continue
        out.inputs.append(path)
        if path.name.endswith(MAPPING_SUFFIX):
            try:
                mapping = load_mapping(path, display, read_yaml,
                                       lambda key, raw, d: _parse_source(key, raw, d, problems), readable)
            except InputError as exc:
                problems.extend(p for p in exc.problems if p not in problems)
                unreadable = True
                continue
            except MappingError as exc:
                problems.append(Problem(display, exc.line, str(exc)))
                unreadable = True
                continue
            mappings.append(mapping)
            out.inputs.extend(mapping.files)
            continue
        if path.suffix.lower() in RDF_FORMATS:
            rdf = _read_rdf(path, display, problems, base)
            same = next((r for r in out.rdf if rdf is not None and r.key == rdf.key), None)
            if same is not None:  # one source graph per file: two files of one name would be one source
                problems.append(Problem(display, None, f"its source graph would be {same.display}'s "
                                        f"(<source/{same.key}>, from the file name): rename one of them"))
            elif rdf is not None:
                out.rdf.append(rdf)
            continue
        try:
            read = read_file(path, display, problems, out.decisions)
        except InputError as exc:
            problems.extend(exc.problems)
            unreadable = True
            continue
        for record in read:
            first = seen.get((record.kind, record.key))
            if first is not None:
                twice.add((record.kind, record.key))
                problems.append(Problem(display, record.origin.line,
                                        f"{record.kind} {quote(record.key)} is already defined at {first.origin.file}:"
                                        f"{first.origin.line}", record.key))
                continue
            seen[(record.kind, record.key)] = record
            records.append(record)
            out.notes.extend(_shared_billing(record))
    if mappings:
        try:
            hand = {(r.kind, r.key) for r in records if r.kind != "source"}  # a bulk key of one joins it (rule 5)
            # hand-written records' names, which a bulk file's names find them by (South Korea, `kr`), lost
            # letters too (F_lix); not a film's, found by its title and year, nor a character's or a work's, whose
            # names repeat from one film or author to the next (a Narrator, a Hamlet)
            spelled = {(r.kind, r.key): tuple(str(getattr(v.value, "text", v.value)) for v in r.values("name"))
                       for r in records if r.kind in _FOUND_BY_NAME}
            records = _merge(records, bulk(mappings, PARSERS, out.notes, hand, frozenset(out.decisions.not_same),
                                           spelled), problems)
        except MappingError as exc:
            problems += [Problem(str(e).split(":", 1)[0], e.line, str(e).split(": ", 1)[-1]) for e in exc.every()]
            unreadable = True
    for rdf in out.rdf:
        if ("source", rdf.key) not in {(r.kind, r.key) for r in records}:
            origin = Origin(rdf.display, 1, rdf.key)
            name = Value("name", LangText(rdf.path.name), origin)
            records.append(Record("source", rdf.key, (Claim(rdf.key, (name,), origin),), origin))
    if not unreadable:  # else "refers to a movie that does not exist" would blame what the unreadable file holds
        troubles: list[tuple[Origin, str]] = []
        resolved = resolve(records, out.decisions, out.notes, troubles)
        problems.extend(Problem(o.file, o.line or None, why, o.field or o.record) for o, why in troubles)
        records, out.moves, out.held = resolved.records, resolved.moves, resolved.held
        _follow_moves(out.decisions, out.moves)
        out.notes.extend(_anonymous_notes(out.rdf, records, Minter(base)))
        decided = out.decisions.not_same.keys() | {frozenset((m.retired, m.kept)) for m in out.decisions.merges}

        def settled(pair: frozenset[tuple[str, str]]) -> bool:  # decided, as read or as its keys are now, or one
            now = frozenset(out.moves[r].kept if r in out.moves else r for r in pair)
            return pair in decided or now in decided or len(now) < 2
        # (each once: a file two mappings read is read twice, its byte-order mark and short rows told each time)
        def joined(pair: frozenset[tuple[str, str]]) -> bool:  # merged into one: an alternative settled
            return len(frozenset(out.moves[r].kept if r in out.moves else r for r in pair)) < 2

        out.notes[:] = [n for n in dict.fromkeys(out.notes) if not (n.pairs and (
            all(settled(p) for p in n.pairs) or n.alternatives and any(joined(p) for p in n.pairs)))]
        _check_references(records, problems)
        _check_preferences(records, out.decisions, out.moves, problems, twice, _RdfStated(out.rdf, base, out.moves))
    if problems:
        raise InputError(problems)
    out.records = sorted(records, key=operator.attrgetter("kind", "key"))
    return out


def read_records(data_dir: Path, files: Iterable[Path] | None = None, root: Path | None = None) -> list[Record]:
    """Read every source file into records, sorted by kind and key; raise InputError listing every problem."""
    return read_sources(data_dir, files, root).records


def _display(path: Path, root: Path | None) -> str:
    try:
        return str(path.absolute().relative_to(root.absolute())) if root else str(path)
    except ValueError:
        return str(path)


__all__ = ["InputError", "Problem", "Sources", "RdfFile", "Note", "read_records", "read_sources", "source_files",
           "Field"]
