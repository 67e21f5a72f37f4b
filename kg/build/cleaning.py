"""Cleaning the text of bulk cells: invisible characters, mojibake, footnote marks, and lists of people's names."""

from __future__ import annotations

import functools
import re
import unicodedata

from kg.ids import KEY_PATTERN, slugify
from kg.text import quote

_MOJIBAKE = re.compile("[ÃÂâ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u02c6\u02dc]")

_INVISIBLE = re.compile(  # controls but tab and line feed, zero-width and bidi formatting, separators, noncharacters
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]"
    # the zero-width (non-)joiner spells Persian and Indic words and joins emoji: kept between two characters
    "|(?<!\\S)[\u200c\u200d]|[\u200c\u200d](?!\\S)")

_APOSTROPHES = re.compile("['\u2019\u2018\u02bc`]")


@functools.lru_cache(maxsize=1 << 16)  # a bulk file names the same people again and again
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
    text = unicodedata.normalize("NFC", without_invisible(text, fixes)).strip()  # (spaces around: said by no one)
    collapsed = " ".join(text.split())
    if "  " in text or "\t" in text:  # (a line break in a quoted cell is a wrapped line: joined, not said)
        fixes.append(f"repaired {quote(text)}: a run of spaces or a tab, collapsed ({quote(collapsed)})")
    return collapsed, fixes


def outside_notes(text: str, depth: int, fixes: list[str]) -> tuple[str, int]:
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
_CREDIT_ITEM = re.compile(r"[(\[]\s*([A-Za-z][A-Za-z ]*?)\s*[)\]]")  # an item that is a note alone: (Director)

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


NOT_A_PERSON = "not a person"  # how a fix that leaves out junk starts: the build reports it as junk
_YEAR_WORD = re.compile(r"(?<![\w.])(1[89]\d\d|20\d\d)(?![\w.])")
_EVENT_WORDS = re.compile(r"\b(?:Olympics?|Olympiad|Festival|Awards?|Championships?|World Cup|Grand Prix"
                          r"|Expo(?:sition)?|Ceremony|Games)\b")
_WIKI_TITLE = re.compile(r"_\(|\w_\w[^ ]*\)$|^[^ ]+_[^ ]+_[^ ]+$")  # Deadpool_(2016), The_Big_Short
_FUNCTION_WORDS = frozenset({"of", "the", "and", "in", "for", "with", "a", "an", "to", "at", "by", "on", "from", "or"})
_GROUP = re.compile(r"^(?:The )?[A-Z][\w'.-]*(?: [A-Z][\w'.-]*)* (?:and|&) (?:the )?[A-Z][\w'.-]*(?: [A-Z][\w'.-]*)*$"
                    r"|^The (?:[A-Z][\w'-]* )+(?:Sisters|Brothers|Boys|Girls|Band|Trio|Quartet|Quintet|Orchestra"
                    r"|Singers|Kids|Stooges|Players|Twins|Family|Dancers|Choir|Ensemble)$")
_FULL_NAME = r"((?!The )[A-Z][\w'.-]*(?: [A-Z][\w'.-]*)+)"  # two capitalised words or more
_TWO_NAMES = re.compile(rf"{_FULL_NAME} (?:and|&) {_FULL_NAME}")
LOST_LETTER = re.compile(r"[^\W\d_]_[^\W\d_]|[^\W\d_]_$|^_[^\W\d_]")  # F_lix Cl_ment: a letter the file lost


def junk(name: str) -> str | None:
    """Why a name in a list of people is not a person (an event, a wiki page's name, a fragment), or None."""
    if "_" in name and _WIKI_TITLE.search(name):
        return "a wiki page's name"
    if _YEAR_WORD.search(name) or _EVENT_WORDS.search(name):
        return "an event or a year"
    words = name.split()
    if len(words) > 1 and words[-1] in _FUNCTION_WORDS:
        return "a fragment of a sentence"
    return None


def group(name: str) -> bool:
    """Whether a name in a list of people names a group or a duo ('Tom and Jerry', 'The Andrews Sisters')."""
    return bool(_GROUP.match(name))


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
    elif article is None and "-" in name and KEY_PATTERN.match(name) and not name.replace("-", "").isdigit():
        fixes.append(f"left out {quote(shown)} from a list of names: lower-case words joined by hyphens, as a key "
                     "is written, not a person's name (a cell of people gives their names, not keys; where several "
                     "people have a name, `kg duplicates` gives the decision that credits the right one)")
    elif (name == low and _PROSE.fullmatch(name) and not name.isdigit()) or _prose(name) or (
            article is not None and article.islower()):
        fixes.append(f"left out {quote(shown)} from a list of names: lower-case words, not a person's name")
    elif (why := junk(shown)) is not None:
        fixes.append(f"{NOT_A_PERSON}: left {quote(shown)} out of a list of people ({why})")
    else:
        if article is not None:
            fixes.append(f"repaired {quote(article)}, {quote(name)}: one name, split after its article")
        return shown
    return None


def people_names(names: list[str], fixes: list[str]) -> list[str]:
    """The names in a list of people, without what a careless list put among them: notes in parentheses, words
    between names, labels (Cast:), lower-case prose (a documentary's subjects), another credit (Dir.: X); an
    article or a suffix split from its name is joined back (The Dionne Quintuplets, House Peters Sr.)."""
    out, said = _people_names(tuple(names))
    fixes.extend(said)
    return list(out)


@functools.lru_cache(maxsize=1 << 16)  # a bulk file names the same people again and again
def _people_names(names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`people_names`: the names, and what was repaired."""
    fixes: list[str] = []
    out: list[str] = []
    article = None
    skip_next = False  # the name a label of another credit gives (Dir.:, Greg Marcks)
    just_added = False  # the item before was a name kept: a note of another credit after it takes it out
    for name in names:
        credit = _CREDIT_ITEM.fullmatch(name)
        if credit is not None and credit.group(1).lower() in _OTHER_CREDITS and just_added:
            fixes.append(f"removed {quote(out.pop())} from a list of names: another credit than this one (the "
                         f"item after it is {quote(name)})")
            just_added = False
            continue
        just_added = False
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
        pair = _TWO_NAMES.fullmatch(name) if article is None and " " in name else None
        if pair is not None:  # Margaret Leslie and Howard E. Nicholas: two people in one item
            fixes.append(f"repaired {quote(name)}: two people in one item of the list")
            out.extend(n for part in pair.groups() if (n := _one_name(part, None, fixes)) is not None)
            continue
        found = _one_name(name, article, fixes)
        if found is not None:
            out.append(found)
            just_added = True
        article = None
    if article is not None:
        fixes.append(f"removed {quote(article)} from the end of a list of names")
    return tuple(out), tuple(fixes)
