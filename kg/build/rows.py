"""Reading the rows of a bulk file (CSV, TSV, JSON, JSON Lines): decoding, delimiters, nesting, bad bytes."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from kg.build.bulkspec import MappingError
from kg.build.notes import Note
from kg.text import quote, shorten


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

GARBLED = "\0garbled"  # marks rows of a file that did not decode, so only those are checked


def bad_bytes(text: str) -> str | None:
    bad = [c for c in text if "\udc80" <= c <= "\udcff"]
    return " ".join(f"0x{ord(c) - 0xDC00:02X}" for c in bad[:4]) if bad else None


GUESSES = ("cp1252", "mac_roman")  # what a file that is not UTF-8 most often is: Windows' and old Macs' Latin
# encodings of two bytes a letter (Japanese and Korean Excel's defaults), and the letters their text is mostly of: a
# file read in one is taken as such only when they are (UTF-8's or cp1252's bytes read in cp949 make Hanja, or the
# Hangul of its extension), Japanese first (its kanji alone read in cp949 are that Hangul; not its half-width kana,
# which Korean's bytes read in cp932 are)
WIDE_GUESSES = (("cp932", ((0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xFF01, 0xFF60))),  # kana, kanji, their marks
                ("cp949", ((0xAC00, 0xD7A3), (0x3131, 0x318E))))  # Hangul syllables and letters


def _mostly(text: str, fits: Callable[[str], bool], none: bool = False) -> bool:
    """Whether nine in ten of the characters beyond ASCII of `text` are ones that `fits` (`none`: when it has none;
    each asked once: the characters are counted in C, a file of millions of letters in a second)."""
    wide = [(c, n) for c, n in Counter(text).items() if c > "\x7f"]
    return sum(n for c, n in wide if fits(c)) >= 0.9 * sum(n for _, n in wide) if wide else none


def _wide_guess(data: bytes) -> str | None:
    """The two-byte encoding the whole file reads in, with its characters beyond ASCII nine in ten of its script."""
    for guess, ranges in WIDE_GUESSES:
        try:
            decoded = data.decode(guess)
        except UnicodeDecodeError:
            continue
        # (Latin read so makes a letter of an accented one and the next, glued to the word's ASCII letters: Éric
        # in Mac Roman read in cp932 is 'ビic'; CJK text seldom glues its letters to Latin ones)
        if _mostly(decoded, functools.partial(_within, ranges)) and \
                _GLUED.subn("", decoded)[1] <= 0.3 * _WIDE.subn("", decoded)[1]:
            return guess
    return None


_WIDE = re.compile("[^\x00-\x7f]")
_GLUED = re.compile("[^\x00-\x7f][A-Za-z]")


def _within(ranges: tuple[tuple[int, int], ...], c: str) -> bool:
    return any(lo <= ord(c) <= hi for lo, hi in ranges)


def _latin_guess(data: bytes) -> str | None:
    """The Latin encoding (`GUESSES`) the whole file reads in as letters and typography, if one does."""
    for guess in GUESSES:
        try:
            decoded = data.decode(guess)
        except UnicodeDecodeError:
            continue
        if _plausible(decoded):  # (mac_roman reads any bytes at all: 'Éric' as '€ric' is no reading to recommend)
            return guess
    return None


def _encoding_hint(data: bytes, encoding: str, text: str) -> str:
    """What to tell a curator whose file has bytes its encoding does not read: another encoding, or a mix."""
    bad = len(_SURROGATES.findall(text))
    said = f"{bad} byte{'' if bad == 1 else 's'} not valid {encoding} (their rows are left out)"
    latin = _latin_guess(data)  # (French read in cp932 is kanji: Windows' Latin reading first; not Mac Roman's,
    # which reads kanji's bytes as accented letters)
    if latin != GUESSES[0] and (wide := _wide_guess(data)) is not None:  # (its pairs of bytes are at times UTF-8)
        return f"{said}; the whole file reads as {wide}: if it is in {wide}, say `encoding: {wide}` in its mapping"
    if any(ch > "\x7f" and not "\udc80" <= ch <= "\udcff" for ch in text):
        return f"{said}; the rest of the file is valid {encoding}, so it mixes encodings: fix those rows at the source"
    if latin is not None:
        return f"{said}; the whole file reads as {latin}: if it is in {latin}, say `encoding: {latin}` in its mapping"
    return f"{said}; name the file's encoding with `encoding:` in its mapping (it may mix encodings)"


_TYPOGRAPHIC = frozenset("‘’‚“”„–—…•·°€£©®™")  # what Windows' and old Macs' Latin text holds besides letters


def _plausible(text: str) -> bool:
    """Whether a file's characters beyond ASCII, read in a guessed encoding, are as text has them: nine in ten
    letters (Éric, Gonçalves) or typographic marks (’ – …), not the symbols a wrong guess makes (€ric, Garç†o)."""
    return _mostly(text, _fitting, none=True)


def _fitting(c: str) -> bool:
    return c <= "\x7f" or unicodedata.category(c) in ("Ll", "Lu", "Lt", "Lo") or c in _TYPOGRAPHIC


def _unlikely_words(text: str) -> list[str]:
    """Words holding a character beyond ASCII that text seldom has (Ivˆn, Garç†o), each once, in order."""
    return list(dict.fromkeys(w for w in _WORD.findall(text) if not all(_fitting(c) for c in w)))


_WORD = re.compile(r"[^\s,;|\t\"]+")  # a word of a row, between the separators of a CSV, TSV or JSON file


def rows(path: Path, fmt: str, encoding: str, display: str, notes: list[Note], items: tuple[str, ...] = (),
         delimiter: str | None = None, quoting: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) of a data file; header and undecodable rows reported, never crashing."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{display}: cannot read file: {exc.strerror or exc}") from exc
    text = _decode(data, encoding, display, notes)
    garbled = _encoding_hint(data, encoding, text) if _SURROGATES.search(text) else ""
    if garbled:
        notes.append(Note(display, None, "suspicious", garbled))
    elif not encoding.lower().startswith("utf") and not _plausible(text):  # an encoding named (mac_roman reads
        # any bytes at all) that makes symbols of letters
        shown = ", ".join(quote(w) for w in _unlikely_words(text)[:3])
        notes.append(Note(display, None, "suspicious", f"read as {encoding}, the file's characters beyond ASCII look "
                                                       f"garbled ({shown}): is it in another encoding, or several?"))
    for line, row in _parse(text, fmt, display, notes, items, delimiter, quoting):
        if garbled:
            row[GARBLED] = garbled  # (what to tell when no row is left)
        yield line, row


MAPPING = "{mapping}"  # where an error about the array's place names the mapping file (filled in by its reader)


def _array(document: Any, path: tuple[str, ...], display: str) -> list[Any]:
    """The array of objects at `path` in a JSON document, or a MappingError saying what is there instead."""
    found = document
    for depth, key in enumerate(path):
        if not isinstance(found, dict) or key not in found:
            where = ".".join(path[:depth]) or "the top level"
            keys = f" (its keys: {', '.join(shorten(k, 40) for k in sorted(map(str, found))[:10])})" if isinstance(
                found, dict) else ""
            raise MappingError(f"{display}: no {quote(key)} in {where}{keys}; check the mapping's items: ({MAPPING})")
        found = found[key]
    if isinstance(found, list):
        return found
    hint = ""
    if isinstance(found, dict):
        arrays = sorted(k for k, v in found.items() if isinstance(v, list))
        hint = (f"; set items: ({MAPPING}) to the key of its array ({', '.join(map(str, arrays[:5]))})"
                if arrays else "")
    where = ".".join(path) or "the top level"
    kind = {dict: "an object", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(found), "null")
    raise MappingError(f"{display}: {where} is not an array of objects but {kind}{hint}")


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
    if header is None or not any(h.strip() for h in header):  # an export cut short would unpublish all it held
        raise MappingError(f"{display}: the file is empty, without even its header row (a file of no records "
                           "still has its header)", 1)
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
        if [c.replace("\ufeff", "").strip() for c in cells] == header:  # files joined (with their BOMs): not a film
            notes.append(Note(display, line, "skipped", "the header row again (were files joined?)"))
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


def _json_error(exc: json.JSONDecodeError) -> str:
    """What the JSON parser says, with the column it says it of (its message alone may end in 'starting at')."""
    return f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else f"{exc.msg} (column {exc.colno})"


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
                    notes.append(Note(display, line, "skipped", f"not JSON: {_json_error(exc)}"))
        yield from _objects(lines(), display, notes, "a line")
    else:
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingError(f"{display}: not JSON: {_json_error(exc)}", exc.lineno) from exc
        suspect = _SURROGATE_ESCAPE.search(text) is not None  # once per file: most files have no such escape
        array = _array(items, items_at, display)
        starts = _item_lines(text, items_at, array) or range(1, len(array) + 1)  # else the items' numbers
        yield from _objects(((n, item, suspect) for n, item in zip(starts, array, strict=True)), display, notes,
                            "an item")


_DECODER = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")


def _item_lines(text: str, path: tuple[str, ...], array: list[Any]) -> list[int] | None:
    """The line each item of `array`, at `path` of a JSON text, starts on; None when items share a line (a file
    written on one line: their numbers tell them apart better) or the text is not as `json.loads` read it (a key
    given twice, say)."""
    def blank(pos: int) -> int:
        return _BLANK.match(text, pos).end()  # (it matches the empty string)

    try:
        pos = blank(0)
        for key in path:
            if text[pos] != "{":
                return None
            pos = blank(pos + 1)
            while True:
                name, pos = _DECODER.raw_decode(text, pos)
                pos = blank(pos)
                if text[pos] != ":":
                    return None
                pos = blank(pos + 1)
                if name == key:
                    break
                pos = blank(_DECODER.raw_decode(text, pos)[1])
                if text[pos] != ",":
                    return None
                pos = blank(pos + 1)
        if text[pos] != "[":
            return None
        lines: list[int] = []
        line, counted = 1, 0
        pos = blank(pos + 1)
        first = last = None
        while text[pos] != "]":
            line, counted = line + text.count("\n", counted, pos), pos
            lines.append(line)
            item, end = _DECODER.raw_decode(text, pos)
            first, last = item if first is None else first, item
            pos = blank(end)
            if text[pos] == ",":
                pos = blank(pos + 1)
    except (ValueError, IndexError):
        return None
    if len(lines) != len(array) or (array and (first != array[0] or last != array[-1])):
        return None  # not the array json.loads kept: a key given twice, the last one kept
    return lines if all(a < b for a, b in itertools.pairwise(lines)) else None
