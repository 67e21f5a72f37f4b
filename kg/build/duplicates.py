"""Candidate duplicates: films and people that may be one real thing, found by blocking keys, with the evidence."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kg.build import blocking
from kg.build.blocking import TOKEN, Index
from kg.build.decisions import Decisions, Merge, Ref, merge_line, not_same_line
from kg.build.described import described
from kg.build.kept import Kept, digest, keep, link, previous_object
from kg.build.merges import by_identifier, identifiers, years
from kg.build.notes import TOLD_FIX, Note
from kg.build.slips import SLIP_SHORTEST, one_edit_apart, other_ending, plural, slipped_words
from kg.build.sources import Sources
from kg.ids import Minter
from kg.model import KINDS, CastEntry, CrewEntry, LangText, Record
from kg.text import quote

THRESHOLD = 0.6  # a pair is reported from this score up
BLOCK = 60  # records sharing one key compared pairwise at most: a larger block is a common name, not evidence
_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "l", "el", "il", "lo", "der", "die", "das", "los",
                       "las"})
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_HONORIFICS = frozenset({"sir", "dame", "dr", "mr", "mrs", "ms", "prof"})
_INVERTED = re.compile(r"([^,]+),([^,]+)")  # 'Family, Given', as catalogues sort people
# 'Davis, Jr.' or 'Smith, III' ends in no given name (`words` has made the numeral a digit)
_SUFFIXES = frozenset({"jr", "sr", "junior", "senior", "2", "3", "4"})
_NICKNAME = re.compile(r"[\"“”]([^\"“”]+)[\"“”]|(?:^|\s)['‘’]([^'‘’]+)['‘’](?=\s|$)")
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"})
_PEOPLE_FIELDS = frozenset(f.name for f in KINDS["movie"].fields if f.ref == "person")


_ASCII = str.maketrans({**{chr(c): " " for c in range(128) if not chr(c).isalnum()}, "'": None, "`": None,
                        "-": None, "&": " and "})


def words(text: str) -> list[str]:
    """The words of a name as compared: lower case, no accents, '&' as 'and', roman sequel numbers as digits,
    apostrophes dropped and other punctuation as spaces; hyphenated words joined."""
    if text.isascii():
        return [_ROMAN.get(w, w) for w in text.lower().translate(_ASCII).split()]
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    kept = "".join("" if unicodedata.category(c) == "Mn" or c in "'’ʼ‘`" or c == "-" else
                   " and " if c == "&" else " " if not c.isalnum() else c for c in folded)
    return [_ROMAN.get(w, w) for w in kept.split()]


def title_words(text: str) -> list[str]:
    """A title's words without a leading article, or a trailing one moved there ('Host, The')."""
    found = words(text)
    if len(found) > 1 and found[0] in _ARTICLES:
        found = found[1:]
    elif len(found) > 1 and found[-1] in _ARTICLES and re.search(r",\s*\w+\s*$", text):
        found = found[:-1]
    return found


@functools.lru_cache(maxsize=1 << 16)
def romanised(word: str) -> str:
    """A word with the spelling differences of romanised Korean (and other transliterations) folded: eo/o/u,
    oo/u, ae/e, ue/u, oe/o, sh/s, ch/zh/j, k/g, t/d, p/b, r/l, a final y/i, doubled letters."""
    if not word.isascii():
        return word
    w = word.replace("sh", "s").replace("zh", "j").replace("ch", "j").replace("ue", "u").replace("oe", "o")
    w = w[:-1] + "i" if len(w) > 3 and w.endswith("y") else w  # Andrey, Andrei; Tarkovskiy, Tarkovsky
    w = re.sub(r"(?<=[bdgjkpst])h", "", w)
    w = w.replace("eo", "o").replace("oo", "u").replace("ou", "u").replace("ae", "e").replace("ee", "i")
    w = w.replace("yi", "i").replace("wu", "u").replace("wo", "u").replace("o", "u")
    w = w.translate(str.maketrans("ktpr", "gdbl"))
    return re.sub(r"([a-z])\1+", r"\1", w)  # letters only: Extra 11 is not Extra 1


@dataclass(frozen=True)
class Keys:
    """How one spelling is compared: exactly (case, punctuation, spacing, articles, accents aside), with its words
    in any order, and with romanisation folded."""

    strict: str
    ordered: str
    loose: str
    words: tuple[str, ...] = ()  # romanisation folded

    @staticmethod
    def of(ws: list[str]) -> Keys:
        folded = tuple(romanised(w) for w in ws)
        return Keys("".join(ws), "".join(sorted(ws)), "".join(folded), folded)


@functools.lru_cache(maxsize=1 << 18)
def person_spellings(name: str) -> list[tuple[Keys, str]]:
    """The keys of a person's name, and of its forms without and as a quoted nickname ('Dwayne "The Rock"
    Johnson': 'Dwayne Johnson', 'The Rock'), each with how it was derived."""
    ws = title_words(name)
    if len(ws) > 2 and ws[0] in _HONORIFICS:  # Sir Alfred Hitchcock
        ws = ws[1:]
    found = [(Keys.of(ws), "name")]
    inverted = _INVERTED.fullmatch(name.strip())
    if inverted and (given := words(inverted.group(2))) and given[-1] not in _SUFFIXES:
        found.append((Keys.of(given + words(inverted.group(1))), "name"))  # a catalogue's 'Varda, Agnès'

    if len(ws) >= 2 and len(ws[-1]) > 2:  # R. W. Fassbinder, Rainer Werner Fassbinder: the initials and the last name
        initialled = any(len(w) == 1 for w in ws[:-1])
        found.append((Keys(f"{ws[-1]}:" + "".join(w[0] for w in ws[:-1]), "", ""),
                      "initials" if initialled else "given names"))
    if len(ws) > 2 and ws[-1] in ("sr", "senior"):  # the father is often named without it; the son keeps his Jr.
        found.append((Keys.of(ws[:-1]), "without Sr."))
    nick = _NICKNAME.search(name)
    if nick:
        quoted = nick.group(1) or nick.group(2)
        rest = (name[:nick.start()] + " " + name[nick.end():]).strip()
        found.append((Keys.of(title_words(rest)), "without the nickname"))
        found.append((Keys.of(title_words(quoted)), "the nickname"))
    return [(k, how) for k, how in found if k.strict]


@functools.lru_cache(maxsize=1 << 16)
def film_keys(title: str) -> Keys:
    """The keys of a film title."""
    return Keys.of(title_words(title))


@dataclass
class Candidate:
    """Two records that may be one real thing, with the evidence and the decision that settles it."""

    a: str  # IRI of the record that would stay
    b: str  # IRI of the record that would be merged into it
    kind: str
    score: float
    evidence: list[str]
    fix: str
    dismiss: str
    merged: bool = False  # certain (the same identifier): merged by the build already
    where: str | None = None  # where the record to merge is written (file:line)
    names: tuple[str, str] = ("", "")  # how each is spelled (its first name): what a curator compares first

    def json(self) -> dict[str, object]:
        """The candidate as `kg duplicates --json` prints it."""
        return {"a": self.a, "b": self.b, "kind": self.kind, "score": self.score, "evidence": self.evidence,
                "fix": self.fix, "dismiss": self.dismiss, "merged": self.merged, "where": self.where,
                "names": list(self.names)}

    def shown_name(self, iri: str) -> str:
        """How one of the pair is spelled ('' when not known)."""
        return self.names[0] if iri == self.a else self.names[1] if iri == self.b else ""

    def shown(self, iri: str) -> str:
        """One of the pair as a message names it: its spelling, then its IRI."""
        name = self.shown_name(iri)
        return f"{quote(name)} <{iri}>" if name else f"<{iri}>"


def _names(record: Record) -> list[str]:
    """Every spelling of a record's name (its preferred name first)."""
    out: dict[str, None] = {}
    for claim in record.claims:
        for v in claim.values:
            if v.field == "name" or v.field == "alternate_name":
                out[v.value.text if isinstance(v.value, LangText) else str(v.value)] = None
    return list(out)


def _titled_in(record: Record) -> list[tuple[str, str]]:
    """A record's names as (language tag, loose key), each once (ko and ko-Latn apart: a script is another
    spelling); untagged ones left out, as they may be in any language."""
    return sorted({(v.value.lang.lower(), film_keys(v.value.text).loose) for claim in record.claims
                   for v in claim.values if v.field in ("name", "alternate_name") and isinstance(v.value, LangText)
                   and v.value.lang})


def _people_of(film: Record) -> tuple[set[str], set[str]]:
    """A film's directors and everyone it credits (person keys)."""
    directors: set[str] = set()
    everyone: set[str] = set()
    for claim in film.claims:
        for v in claim.values:
            if v.field in _PEOPLE_FIELDS:
                everyone.add(str(v.value))
                if v.field == "director":
                    directors.add(str(v.value))
            elif isinstance(v.value, CastEntry):
                everyone.add(v.value.actor)
            elif isinstance(v.value, CrewEntry):
                everyone.add(v.value.person)
    return directors, everyone


# what `Known` keeps of a record
NAMES, YEARS, SPELLINGS, MOVIE_KEYS, PERSON_KEYS, DIRECTORS, CREDITED, PERSON_SPELLINGS, TITLED, BY_SOURCE = range(10)
_WORKED_OUT = 10


@dataclass
class Known:
    """What was worked out about records read back unchanged, by their `token` (a digest of their contents), each
    record's in one list (by what was worked out: NAMES, YEARS, ...; None when not yet): by the previous build
    (`before`), and by this one (`made`, for the next)."""

    token: Callable[[Record], bytes | None] = lambda _: None
    before: dict[bytes, list[tuple[Any, ...] | None]] = field(default_factory=dict)
    made: dict[bytes, list[tuple[Any, ...] | None]] = field(default_factory=dict)
    as_before: bool = False  # `made` is `before` (set by `settle`): the previous release's files can be kept on
    # (set by `settle`) the parts (`part_of`) of `made` that differ from the previous release's files: the others'
    # files are kept on
    changed_parts: frozenset[int] = field(default_factory=lambda: frozenset(range(KNOWN_PARTS)))
    unread: frozenset[int] = frozenset()  # the parts of `before` its file could not give (damaged or missing)
    blocks_before: Index | None = None  # the previous build's index of blocking keys
    blocks: Index | None = None  # this build's (for the next)
    compared_before: Compared | None = None  # what the previous build's comparisons gave
    compared: Compared | None = None  # this build's (for the next)
    # the records changed, new or gone since the previous build (each with its token then; None: it had none),
    # when its index of blocking keys was patched (None: everything is compared anew)
    changed: dict[Ref, bytes | None] | None = None
    # the tokens of the records something was worked out for that `before` did not have
    _grown: set[bytes] = field(default_factory=set)
    _tables: dict[int, list[tuple[Any, ...] | None]] = field(default_factory=dict)  # id() of a record -> its list
    _untold: set[int] = field(default_factory=set)  # id() of each record without a token: worked out for this build
    _seen: set[bytes] = field(default_factory=set)  # the tokens of this build's records told so far (`told`)
    tokens: Callable[[list[Record]], list[bytes | None]] | None = None  # `token` of many records at once: faster
    _told: dict[int, bytes | None] = field(default_factory=dict)  # id() of a record told -> its token

    exiting: bool = False  # its process ends once the search is done (a worker): what it lets go of is left to the
    # end of the process, not freed object by object (half a second at 100,000 films)

    def told(self, records: list[Record]) -> None:
        """Tell the records (`token_of` gives each one's token then): what the previous build worked out for each is
        kept for the next build too, whether this one asks for it or not."""
        found = self.tokens(records) if self.tokens is not None else [self.token(r) for r in records]
        self._told.update(zip(map(id, records), found, strict=True))
        self._seen.update(t for t in found if t is not None)

    def token_of(self, record: Record) -> bytes | None:
        """The record's token (None: it has none), as `told` found it."""
        return self._told[id(record)] if id(record) in self._told else self.token(record)

    def settle(self) -> None:
        """Let go of `before`, once the records are compared: what the next build needs is in `made`."""
        for token in self._seen:
            if token not in self.made and (found := self.before.get(token)) is not None:
                self.made[token] = found
        if self.before:
            differ = (self.made.keys() ^ self.before.keys()) | self._grown
            self.changed_parts = frozenset(map(part_of, differ)) | self.unread
        else:  # (a build with nothing to keep on: no set of every token made for it, a million at a million films)
            self.changed_parts = frozenset(range(KNOWN_PARTS))
        self.as_before = not self.changed_parts
        if self.exiting:
            _LEFT.append((self.before, self._tables, self._untold, self._seen, self.blocks_before, self._told))
        self.before, self._tables, self._untold, self._seen, self.blocks_before = {}, {}, set(), set(), None
        self._told = {}
        self.compared_before, self.changed = None, None

    def credited_before(self, film: str) -> tuple[str, ...] | None:
        """Everyone a changed or gone film credited in the previous build (None: not known)."""
        token = self.changed.get(("movie", film)) if self.changed is not None else None
        if token is None:
            return self.compared_before.untold.get(film) if self.compared_before is not None else None
        table = self.before.get(token)
        return table[CREDITED] if table is not None else None


    def table(self, record: Record) -> list[tuple[Any, ...] | None]:
        """What was worked out about the record so far (by what)."""
        table = self._tables.get(id(record))
        if table is None:
            token = self.token_of(record)
            if token is None:  # not read back unchanged: worked out for this build only
                table = [None] * _WORKED_OUT
                self._untold.add(id(record))
            else:
                table = self.made.get(token)
                if table is None:
                    found = self.before.get(token)
                    table = self.made[token] = found if found is not None else [None] * _WORKED_OUT
            self._tables[id(record)] = table
        return table

    def of(self, what: int, record: Record, work: Callable[[Record], Iterable[Any]]) -> tuple[Any, ...]:
        """`work(record)`, or what a build worked out for a record of the same contents."""
        table = self.table(record)
        found = table[what]
        if found is None:
            found = table[what] = tuple(work(record))
            if self.before and id(record) not in self._untold and (token := self.token_of(record)) is not None:
                self._grown.add(token)
        return found


_LEFT: list[object] = []  # what a worker's search let go of: freed when its process ends (`Known.exiting`)


@dataclass
class Compared:
    """What one build's comparisons gave, for the next: each pair's result (by (kind, key, key), keys in order;
    None: not alike enough), everyone each film without a token credited, and the film each may be one with."""

    results: dict[tuple[str, str, str], tuple[float, list[str]] | None] = field(default_factory=dict)
    untold: dict[str, tuple[str, ...]] = field(default_factory=dict)
    same_film: dict[str, str] = field(default_factory=dict)
    slipped: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # `_slips`' pairs -> their films


KNOWN_PARTS = 16  # `Known.made` is kept in as many files, by token: an edit writes again only those it changed


def part_of(token: bytes) -> int:
    """The part of `Known.made` a record's token is kept in (tokens are digests: the parts are about even)."""
    return token[0] % KNOWN_PARTS


def known_file(context: str, what: str = "known", part: int | None = None) -> str:
    """The kept/ file of `Known.made`'s `part` (`what` "blocks": of `Known.blocks`), for this kg and settings."""
    return f"{what}-" + digest(context.encode()) + (f"-{part:02d}" if part is not None else "") + ".pickle"


def keep_known(kept: Kept, known: Known) -> None:
    """Keep what this build worked out for the next: a part the same as the previous release's file, a link to it."""
    if kept.into is None:
        return
    parts: dict[int, dict[bytes, list[tuple[Any, ...] | None]]] = {}
    for n in range(KNOWN_PARTS):
        name = known_file(kept.context, part=n)
        if n not in known.changed_parts and kept.previous is not None and (kept.previous / name).is_file():
            link(kept.previous / name, kept.into / name)
        else:
            parts[n] = {}
    if parts:
        for token, table in known.made.items():
            if (part := parts.get(part_of(token))) is not None:
                part[token] = table
        for n, made in parts.items():
            keep(kept, known_file(kept.context, part=n), made)
    if known.blocks is not None:
        keep(kept, known_file(kept.context, "blocks"), known.blocks)
    if known.compared is not None:
        keep(kept, known_file(kept.context, "compared"), known.compared)


def known_before(previous: Path | None, context: str, token: Callable[[Record], bytes | None],
                 tokens: Callable[[list[Record]], list[bytes | None]] | None = None, exiting: bool = False) -> Known:
    """What the previous release's build worked out (none when it kept nothing for this `context`)."""
    found: dict[bytes, list[tuple[Any, ...] | None]] = {}
    unread = set()
    for n in range(KNOWN_PARTS) if previous is not None else ():
        part = previous_object(Kept(context, None, previous), known_file(context, part=n))
        if isinstance(part, dict):
            found.update(part)
        else:  # damaged or missing: its records are worked out again, and the part written anew
            unread.add(n)
    blocks = previous_object(Kept(context, None, previous), known_file(context, "blocks")) \
        if previous is not None else None
    compared = previous_object(Kept(context, None, previous), known_file(context, "compared")) \
        if previous is not None else None
    return Known(token, found, unread=frozenset(unread),
                 blocks_before=blocks if isinstance(blocks, Index) and blocks.token_bytes == TOKEN else None,
                 compared_before=compared if isinstance(compared, Compared) else None, tokens=tokens,
                 exiting=exiting)


def _spellings(person: Record) -> set[str]:
    return {x for name in _names(person) for k, _ in person_spellings(name) for x in (k.loose, k.ordered) if x}


_T = TypeVar("_T")


def _once(cache: dict[int, _T], record: Record, make: Callable[[Record], _T]) -> _T:
    """`make(record)`, worked out once for the record (by its id(): the records compared outlive the cache)."""
    found = cache.get(id(record))
    if found is None:
        found = cache[id(record)] = make(record)
    return found


@dataclass
class _World:
    """What the comparison needs of every film and person: spellings, years, credits."""

    films: dict[str, Record] = field(default_factory=dict)
    people: dict[str, Record] = field(default_factory=dict)
    credits: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # person -> films
    known: Known = field(default_factory=Known)

    person_keys: dict[str, set[str]] = field(default_factory=dict)
    slipped: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # `_slips`' pairs -> their films
    titles_slipped: set[tuple[str, str]] = field(default_factory=set)  # `_title_slips`' pairs (keys in order)
    _people: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    _names: dict[int, tuple[str, ...]] = field(default_factory=dict)  # id() of a record compared -> its names
    _years: dict[int, set[int]] = field(default_factory=dict)
    _spelled: dict[int, list[tuple[Keys, str]]] = field(default_factory=dict)

    def names(self, record: Record) -> tuple[str, ...]:
        """Every spelling of a record's name (of a record read back unchanged, without unpacking its claims)."""
        return _once(self._names, record, lambda r: self.known.of(NAMES, r, _names))

    def person_spellings(self, record: Record) -> list[tuple[Keys, str]]:
        """How a person's names may be spelled (`person_spellings` of each)."""
        return _once(self._spelled, record, lambda r: [(Keys(*k), how) for *k, how in self.known.of(
            PERSON_SPELLINGS, r, lambda r: [(k.strict, k.ordered, k.loose, k.words, how) for n in self.names(r)
                                             for k, how in person_spellings(n)])])

    def credited_by_source(self, film: Record) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Everyone each source credits in a film (`_by_source`)."""
        return self.known.of(BY_SOURCE, film, _by_source)

    def titled(self, record: Record) -> tuple[tuple[str, str], ...]:
        """A film's titles in the languages their tags name (`_titled_in`)."""
        return self.known.of(TITLED, record, _titled_in)

    def years(self, record: Record) -> set[int]:
        """The years a record's sources give it."""
        return _once(self._years, record, lambda r: {int(y) for y in self.known.of(YEARS, r, _years)})

    def spelled(self, keys: Iterable[str]) -> set[str]:
        """The loose keys of every spelling of these people (for 'the same person, spelled otherwise')."""
        found: set[str] = set()
        for key in keys:
            mine = self.person_keys.get(key)
            if mine is None:
                record = self.people.get(key)
                mine = self.person_keys[key] = set(self.known.of(SPELLINGS, record, _spellings)) if record else {key}
            found |= mine
        return found

    def people_of(self, film: Record) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A film's directors and everyone it credits (person keys, each once)."""
        found = self._people.get(film.key)
        if found is None:
            both: list[tuple[set[str], set[str]]] = []  # worked out once for the two, if either is needed

            def of(r: Record) -> tuple[set[str], set[str]]:
                if not both:
                    both.append(_people_of(r))
                return both[0]

            found = self._people[film.key] = (self.known.of(DIRECTORS, film, lambda r: of(r)[0]),
                                              self.known.of(CREDITED, film, lambda r: of(r)[1]))
        return found

    same_film: dict[str, str] = field(default_factory=dict)  # film -> the candidate film it may be

    def film_keys(self, key: str) -> set[str]:
        """What tells a film: its titles' keys, and the film it may be one with (a candidate pair)."""
        return {film_keys(n).loose for n in self.names(self.films[key])} | {"=" + self.same_film.get(key, key)}

    def coworkers(self, person: str) -> set[str]:
        return {p for film in self.credits.get(person, []) for p in self.people_of(self.films[film])[1]} - {person}


_DERIVED = {  # how a spelling was derived -> (base score, how the match is told)
    "without the nickname": (0.45, "one's name is the other's without its quoted nickname"),
    "the nickname": (0.45, "one's name is the other's quoted nickname"),
    "without Sr.": (0.3, "one's name is the other's without 'Sr.'"),
    "initials": (0.35, "the same last name, and initials of the same given names"),
    "main title": (0.4, "one's title is the other's without its subtitle"),
    "without the possessive": (0.4, "one's title is the other's without whose film it is before it"),
}


_STRICT = "the same name apart from case, punctuation, spacing, articles or accents"
_ORDERED = "the same name with the family name first in one and last in the other"


def _best_match(a: list[tuple[Keys, str]], b: list[tuple[Keys, str]],
                ordered: bool = False) -> tuple[float, str] | None:
    """How closely two records' spellings match (the base score) and how, if they do; with `ordered`, names with
    their words in another order match too (a family name first or last)."""
    best: tuple[float, str] | None = None
    for (ka, how_a), (kb, how_b) in itertools.product(a, b):
        by_initials = {how_a, how_b} & {"initials", "given names"}
        if by_initials and by_initials != {"initials", "given names"}:
            continue  # initials match a full name (R. W., Rainer Werner): not two full names (Don, Dwayne Johnson),
            # nor two initials (Bryce J., Bradly J. Harris: their names differ)
        if how_a != "name" and how_b != "name" and not by_initials:
            continue  # two nicknames alike ('Red') say little
        derived = _DERIVED["initials"] if by_initials else _DERIVED.get(how_a if how_a != "name" else how_b)
        if ka.strict == kb.strict:
            found = derived or (0.5, _STRICT)
        elif ordered and ka.ordered == kb.ordered and not derived:
            found = (0.4, _ORDERED)
        elif ka.loose == kb.loose and not derived:
            found = (0.35, "the same name spelled another way (eo/o/u, oo/u, ae/e, k/g, ...: another romanisation "
                           "or spelling)")
        else:
            continue
        if best is None or found[0] > best[0]:
            best = found
    return best


def _shared_word(a: list[tuple[Keys, str]], b: list[tuple[Keys, str]]) -> bool:
    """Whether two people's names share a word of three letters or more (romanisation folded). A word that is
    the first of both names counts only when their other words are alike but for a letter (Ashutosh Gowarikar,
    Gowariker): a given name in common (Luc Han, Luc Andersson), or a family name written first (Kim, Lee), is what
    namesakes share most."""
    firsts_a, firsts_b = _name_words(a, first=True), _name_words(b, first=True)
    if _name_words(a) & _name_words(b) - (firsts_a & firsts_b):
        return True
    rest_a, rest_b = _name_words(a) - firsts_a, _name_words(b) - firsts_b
    return bool(firsts_a & firsts_b) and any(_one_edit(x, y) for x in rest_a for y in rest_b)


def _name_words(spelled: list[tuple[Keys, str]], first: bool = False) -> set[str]:
    """The words of a person's names of three letters or more (with `first`, only each name's first word)."""
    return {w for k, how in spelled if how == "name" for w in (k.words[:1] if first else k.words) if len(w) > 2}


def _year_evidence(ya: set[int], yb: set[int], what: str) -> tuple[float, str | None, bool]:
    """(score, evidence, apart) from two records' years."""
    if not ya or not yb:
        return 0.0, None, False
    gap = min(abs(x - y) for x in ya for y in yb)
    if gap == 0:
        given = ['/'.join(map(str, sorted(y))) for y in (ya, yb)]  # (a film's release may be another's making)
        said = (f"the same {what} ({given[0]})" if len(ya) == 1 else f"the same {what}s ({given[0]})") if ya == yb \
            else f"a {what} in common ({min(ya & yb)}: {given[0]} and {given[1]})"
        return 0.2 if what == "year" else 0.3, said, False
    if gap == 1:  # a premiere and a release; but also two films of one title in consecutive years (1910s)
        return 0.05 if what == "year" else 0.1, f"{what}s a year apart ({min(ya)}, {min(yb)})", False
    return 0.0, None, True


def _articles(names: Iterable[str]) -> set[str]:
    """The leading articles of a record's titles."""
    return {w[0] for n in names if len(w := words(n)) > 1 and w[0] in _ARTICLES}


def _catalogued_apart(a: Record, b: Record) -> bool:
    """Whether each record is a different entry of one catalogue (two IMDb ids): two things, for that catalogue."""
    ids_a, ids_b = set(identifiers(a)), set(identifiers(b))  # (a record read back tells them without its claims)
    return any(x.split(" ")[0] == y.split(" ")[0] and x not in ids_b and y not in ids_a for x in ids_a for y in ids_b)


def _compare_films(world: _World, a: Record, b: Record) -> tuple[float, list[str]] | None:
    names_a, names_b = world.names(a), world.names(b)
    spell_a, spell_b = _title_spellings(names_a), _title_spellings(names_b)
    if _parts(names_a) != _parts(names_b):
        return None  # Part II and Part III, Rocky and Rocky II: each film of a series
    match = _best_match(spell_a, spell_b)
    if match is None and tuple(sorted((a.key, b.key))) in world.titles_slipped:
        # (paired within one year only, the reference's year being in its key when it gives no year of its own)
        match = (THRESHOLD, "the same title but for a letter, of the same year, one of them crediting no one (a "
                            "typo in a reference?)")
    differ: list[str] = []  # titles that differ: perhaps in two languages, unless both are titled in one, differently
    if match is None:  # (Winter Bus, 겨울 버스; Seven Bridges of Jeonju, 전주의 일곱 다리: two films)
        titled_a, titled_b = world.titled(a), world.titled(b)
        differ = sorted(lang for lang in {g for g, _ in titled_a} & {g for g, _ in titled_b}
                        if not {k for g, k in titled_a if g == lang} & {k for g, k in titled_b if g == lang})
        match = (0.2, "titles that differ" + (f", in {', '.join(differ)} too" if differ else " (another language?)"))
    score, evidence = match[0] - (0.15 if differ else 0), [match[1].replace("name", "title")]
    if (common := set(names_a) & set(names_b)) and match[0] >= 0.5:  # (named by it where their titles differ: the
        # Korean title of Microhabitat and Little Princess)
        first_a, first_b = next(iter(names_a), ""), next(iter(names_b), "")
        evidence = ["the same title" if first_a == first_b or first_a in common and first_b in common
                    else f"a title in common, {quote(min(common))}"]
    elif (arts_a := _articles(names_a)) and (arts_b := _articles(names_b)) and not arts_a & arts_b:
        score -= 0.15  # 'A Square Deal' and 'The Square Deal'
        evidence.append("but each with its own article")
    year_score, said, apart = _year_evidence(world.years(a), world.years(b), "year")
    if apart:
        return None  # a remake, or another film of that title
    score += year_score
    evidence += [said] if said else []
    if _catalogued_apart(a, b):
        return None
    people_a, people_b = world.people_of(a), world.people_of(b)
    dir_a, all_a, dir_b, all_b = set(people_a[0]), set(people_a[1]), set(people_b[0]), set(people_b[1])
    shared_dirs = world.spelled(dir_a) & world.spelled(dir_b) or _near(world.spelled(dir_a), world.spelled(dir_b))
    if dir_a and dir_b and not shared_dirs:
        score -= 0.2  # each by its own director (or one spelled beyond recognition)
        evidence.append("but no director in common")
    if shared_dirs:
        score += 0.3
        # (by spelling: two records of one name may be one director, or two, which the people's own pair tells)
        evidence.append("the same director" if dir_a & dir_b else "a director of the same name" if world.spelled(
            dir_a) & world.spelled(dir_b) else "directors of names a letter apart")
    others_a, others_b = world.spelled(all_a - dir_a), world.spelled(all_b - dir_b)
    shared: set[str] = set()  # people, not their spellings' keys; counted on both sides (one may credit a person twice)
    if others_a & others_b:
        shared = min({p for p in all_a - dir_a if world.spelled((p,)) & others_b},
                     {p for p in all_b - dir_b if world.spelled((p,)) & others_a}, key=len)
    if shared:
        score += min(0.3, 0.15 * len(shared))
        evidence.append(f"{len(shared)} cast or crew member(s) in common")
    elif len(all_a - dir_a) >= 3 and len(all_b - dir_b) >= 3 and not shared_dirs:
        return None  # two casts, nobody in common
    if match[0] < 0.35 and not (shared_dirs and year_score >= 0.2 and (shared or not all_a - dir_a or
                                                                        not all_b - dir_b)):
        return None  # titles alike in nothing: only one director's one film of one year, and its cast, tell
    if match[0] >= 0.5 and any(not world.years(r) and not all_r for r, all_r in ((a, all_a), (b, all_b))):
        score += 0.1  # one is a title alone, no year, no one credited: what a reference by title makes
        evidence.append("one gives no year and credits no one (a film named by a reference?)")
    return score, evidence


_NUMBERS = re.compile(r"\d+")
_SUBTITLE = re.compile(r"\s*(?::|\s[-–—]\s)\s*")
# whose film it is, before its title: Tyler Perry's Boo! A Madea Halloween, Dr. Seuss' The Lorax (a name of two
# words or more, not a title's own: Schindler's List, The King's Speech)
_POSSESSIVE = re.compile(r"(?!(?:The|A|An)\s)(?:[A-Z][\w.-]*\s+){1,3}[A-Z][\w.-]*(?:['’]s|s['’])\s+(\S.*)")


def _without_possessive(title: str) -> str | None:
    """A title without whose film it is before it ('Boo! A Madea Halloween'); None when it has none (or the rest
    would be too short to tell a film by)."""
    found = _POSSESSIVE.fullmatch(title)
    return found.group(1) if found is not None and len(found.group(1)) > 2 else None


def _title_spellings(names: Iterable[str]) -> list[tuple[Keys, str]]:
    """A film's titles, and the main title of one with a subtitle ('Lagaan: Once Upon a Time in India')."""
    found = [(film_keys(n), "name") for n in names]
    found += [(film_keys(main), "main title") for n in names
              if (main := _SUBTITLE.split(n, 1)[0]) != n and len(main) > 2]
    found += [(film_keys(rest), "without the possessive") for n in names if (rest := _without_possessive(n))]
    return found


def _near(a: set[str], b: set[str]) -> set[str]:
    """The names of `a` one letter away from one of `b` (Gowarikar, Gowariker), long names only."""
    return {x for x in a for y in b if min(len(x), len(y)) >= 8 and abs(len(x) - len(y)) <= 1 and _one_edit(x, y)}


def _one_edit(x: str, y: str) -> bool:
    """Whether two different texts are one substitution, insertion or deletion apart."""
    if len(x) > len(y):
        x, y = y, x
    i = 0
    while i < len(x) and x[i] == y[i]:
        i += 1
    return x[i + (len(x) == len(y)):] == y[i + 1:]


def _parts(names: Iterable[str]) -> frozenset[str]:
    """The part numbers in a film's titles (Part II, Rocky 2, Episode IV), as digits."""
    return frozenset(n for title in names for w in words(title) for n in _NUMBERS.findall(w)
                     if len(n) < 3 and n not in ("0", "1"))


def _compare_people(world: _World, a: Record, b: Record) -> tuple[float, list[str]] | None:
    names_a, names_b = world.names(a), world.names(b)
    spell_a, spell_b = world.person_spellings(a), world.person_spellings(b)
    match = _best_match(spell_a, spell_b, ordered=True)
    if match is None and _shared_word(spell_a, spell_b) and world.years(a) & world.years(b):
        match = (0.2, "a name in common (a stage name and a legal one?)")
    if match is None and tuple(sorted((a.key, b.key))) in world.slipped:
        match = (0.35, "the same name but for a letter, credited in the same film (a typo?)")
    if match is None or _catalogued_apart(a, b):
        return None
    score, evidence = match
    evidence_list = [evidence]
    if score >= 0.5 and not set(names_a) & set(names_b):
        score += 0.15  # spelled differently by punctuation, case or accents: no one writes two namesakes so
        if evidence == _STRICT:
            inverted = [any(_INVERTED.fullmatch(n.strip()) for n in names) for names in (names_a, names_b)]
            evidence_list = ["the same name, written family name first with a comma in one ('Varda, Agnès')"
                             if inverted[0] != inverted[1] else
                             "the same name, spelled differently only in case, punctuation, spacing or accents"]
    born, said, apart = _year_evidence(world.years(a), world.years(b), "birth year")
    if apart:
        return None  # namesakes
    score += born
    evidence_list += [said] if said else []
    films_a = {k for f in world.credits.get(a.key, []) for k in world.film_keys(f)}
    films_b = {k for f in world.credits.get(b.key, []) for k in world.film_keys(f)}
    shared, as_candidates = _films_in_common(world, a.key, b.key) if films_a & films_b else (0, 0)
    years_a = {y for f in world.credits.get(a.key, []) for y in world.years(world.films[f])}
    years_b = {y for f in world.credits.get(b.key, []) for y in world.years(world.films[f])}
    if years_a and years_b and (min(years_a) - max(years_b) > 30 or min(years_b) - max(years_a) > 30):
        return None  # careers decades apart: namesakes
    if match[0] < 0.35 and not (shared and born >= 0.3):
        return None  # one word of a name in common: only the same birth year and a film together tell
    if shared:
        score += 0.3
        titled = shared - as_candidates
        evidence_list.append(", ".join(
            ([f"credited in {titled} film(s) of the same title"] if titled else [])
            + ([f"{'and ' if titled else 'credited '}in {as_candidates} film(s) that may be one (a candidate pair of "
                "films)"] if as_candidates else [])))
    mates_a, mates_b = world.spelled(world.coworkers(a.key)), world.spelled(world.coworkers(b.key))
    together = mates_a & mates_b
    # of the smaller circle, how much the other shares: two prolific actors of one studio era share a few
    # co-workers by chance; a name credited once, with most of its film's cast in the other's films, is one person
    share = len(together) / max(1, min(len(mates_a), len(mates_b)))
    if share >= 0.1 or (together and match[0] >= 0.45):  # a name alike but for punctuation or a nickname: any
        score += 0.25 if share >= 0.5 else 0.15 if share >= 0.25 or match[0] >= 0.45 else 0.1
        theirs = world.spelled(world.coworkers(b.key) - {a.key})  # people, not spellings, and not the pair itself
        people = sum(1 for p in world.coworkers(a.key) - {b.key} if world.spelled([p]) & theirs)
        evidence_list.append(f"{people} co-worker(s) in common ({share:.0%} of the smaller circle)" if people else
                             "credited beside each other")
    if score < THRESHOLD and (set(names_a) & set(names_b) or match[1] == _ORDERED) and len(words(names_a[0])) > 1 \
            and not (world.years(a) and world.years(b)):
        # one full name, written alike (or its family name first in one: Lee Man-hee, Man-hee Lee), and no birth
        # years to weigh: with no films of both, or films of both a few years apart (one career, or two namesakes at
        # once), a curator should look
        if not (world.credits.get(a.key) and world.credits.get(b.key)):
            score, evidence_list = THRESHOLD, [*evidence_list, "nothing known tells them apart (no birth year or "
                                                               "film of both to compare)"]
        elif not (years_a and years_b):
            pass  # films of both, of no years to weigh: namesakes as likely as not
        elif (gap := min(abs(x - y) for x in years_a for y in years_b)) <= _CAREER_GAP:
            score, evidence_list = THRESHOLD, [*evidence_list, "nothing known tells them apart: no birth year, and "
                                               + ("films of the same year" if not gap else
                                                  f"films {gap} year{'s' if gap > 1 else ''} apart")
                                               + " (one career, or two namesakes?)"]
    return score, evidence_list


def _accented(name: str) -> int:
    """How many of a name's letters are Latin letters beyond ASCII (é, ß, ø)."""
    return sum(1 for c in name if ord(c) > 127 and unicodedata.name(c, "").startswith("LATIN"))


_CAREER_GAP = 5  # the years between the films of two people of one full name within which they are a candidate


_DIGIT = re.compile(r"\d")


_KEY_YEAR = re.compile(r"-(1[89]|2[0-9])[0-9]{2}$")  # a film's key made of its title and year (`-2025`)


def _title_slips(world: _World) -> list[tuple[str, list[str]]]:
    """Blocks of a film a reference alone names (a screening list's, say: no one credited, no year of its own but
    the one in its key) and a film of that year whose title is the same but for a letter of one word of five letters
    or more (not its first, not a digit, not a vowel or an 's' at its end: Angel, Angels). No blocking key brings
    them together; this looks through the films of the years such films have, comparing at most BLOCK² pairs a
    group (one-word titles of a year share a group by their first letter)."""
    stubs = {key: int(key[-4:]) for key, film in world.films.items()
             if _KEY_YEAR.search(key) and not world.years(film) and not world.people_of(film)[1]}
    if not stubs:
        return []
    years = set(stubs.values())
    alike: dict[tuple[Any, ...], list[tuple[str, str]]] = {}  # (year, place, first letter, other words) -> (film,
    # the word left out)
    for key, film in world.films.items():
        stub = key in stubs
        if not (ys := {stubs[key]} if stub else set(world.years(film)) & years):
            continue
        for name in world.names(film):
            ws = title_words(name)
            for i, w in enumerate(ws):
                if len(w) >= SLIP_SHORTEST and not _DIGIT.search(w):
                    for year in ys:
                        alike.setdefault((year, i, w[0], *ws[:i], "", *ws[i + 1:]), []).append((key, w))
    found: set[tuple[str, str]] = set()
    for group in alike.values():
        mine = [(k, w) for k, w in group if k in stubs]
        theirs = [(k, w) for k, w in group if k not in stubs]
        if not mine or not theirs or len(mine) * len(theirs) > BLOCK * BLOCK:  # (bounded: no quadratic pass)
            continue
        for (x, wx), (y, wy) in itertools.product(mine, theirs):
            if one_edit_apart(wx, wy) and not other_ending(wx, wy) and not plural(wx, wy):
                found.add((min(x, y), max(x, y)))
    world.titles_slipped = found
    return [("movie", [x, y]) for x, y in sorted(found)]


def _slipped(a: list[tuple[Keys, str]], b: list[tuple[Keys, str]]) -> bool:
    """Whether two people's full names are the same but for one letter of one long word (`slips.slipped_words`)."""
    return any(how_a == "name" and how_b == "name" and slipped_words(ka.words, kb.words) for ka, how_a in a
               for kb, how_b in b)


def _slips(world: _World, again: _Again | None) -> list[tuple[str, list[str]]]:
    """Blocks of two people one film credits, by two sources, whose names are the same but for a letter
    (`_slipped`): no blocking key brings them together. (One source crediting both lists two people.) With `again`,
    only the films changed or crediting someone changed are looked through: the previous build's pairs stand for
    the others."""
    before = world.known.compared_before.slipped if again is not None and world.known.compared_before else None
    films = world.films if before is None or again is None else {
        key: world.films[key] for key in again.films | {f for p in again.people for f in world.credits.get(p, ())}
        if key in world.films}
    found: dict[tuple[str, str], set[str]] = {}
    if before is not None and again is not None:
        for pair, where in before.items():  # (a film or person gone, or changed, is looked at again or not at all)
            if not again.people.intersection(pair) and all(p in world.people for p in pair) and (kept := {
                    f for f in where if f in world.films and f not in films and f not in again.films}):
                found[pair] = kept
    spelled: dict[str, tuple[list[tuple[Keys, str]], set[tuple[Any, ...]]]] = {}  # a person -> (full names'
    # spellings, each with one word that may be misspelt left out, with its place and first letter)

    def spellings(key: str) -> tuple[list[tuple[Keys, str]], set[tuple[Any, ...]]]:
        if (known := spelled.get(key)) is None:
            person = world.people.get(key)
            full = [(k, how) for k, how in (world.person_spellings(person) if person is not None else ())
                    if how == "name" and len(k.words) > 1]
            known = spelled[key] = (full, {(i, w[0], *k.words[:i], *k.words[i + 1:]) for k, _ in full
                                           for i, w in enumerate(k.words)
                                           if len(w) >= SLIP_SHORTEST and not _DIGIT.search(w)})
        return known

    for film_key, film in films.items():
        credited = world.people_of(film)[1]
        if len(credited) < 2:
            continue
        alike: dict[tuple[Any, ...], list[str]] = {}  # people whose names are the same but for one word
        for key in credited:
            for masked in spellings(key)[1]:
                alike.setdefault(masked, []).append(key)
        groups = [group for group in alike.values() if len(group) > 1]
        if not groups or sum(1 for one in world.credited_by_source(film) if one) < 2:
            continue  # (what one source credits alone are that many people)
        for group in groups:
            for x, y in itertools.combinations(sorted(set(group)), 2):
                if _slipped(spellings(x)[0], spellings(y)[0]) and _credited_alike(world.credited_by_source(film), x, y):
                    found.setdefault((x, y), set()).add(film_key)
    world.slipped = {pair: frozenset(where) for pair, where in sorted(found.items())}
    return [("person", [x, y]) for x, y in world.slipped]


def _credited_alike(by_source: Iterable[tuple[tuple[str, str], ...]], x: str, y: str) -> bool:
    """Whether two sources credit the two people as the same thing (both in the cast, or in one department), and
    no source credits both (two people one list gives side by side are two)."""
    as_x: set[str] = set()
    as_y: set[str] = set()
    for one in by_source:
        mine_x, mine_y = {what for key, what in one if key == x}, {what for key, what in one if key == y}
        if mine_x and mine_y:
            return False
        as_x |= mine_x
        as_y |= mine_y
    return bool(as_x & as_y)


def _by_source(film: Record) -> list[tuple[tuple[str, str], ...]]:
    """Everyone each source credits in a film and as what (person key, 'cast', a field's name or a department),
    source by source."""
    out = []
    for claim in film.claims:
        found: set[tuple[str, str]] = set()
        for v in claim.values:
            if v.field in _PEOPLE_FIELDS:
                found.add((str(v.value), v.field))
            elif isinstance(v.value, CastEntry):
                found.add((v.value.actor, "cast"))
            elif isinstance(v.value, CrewEntry):
                found.add((v.value.person, v.value.department.casefold()))
        out.append(tuple(sorted(found)))
    return out


def _films_in_common(world: _World, a: str, b: str) -> tuple[int, int]:
    """How many of a person's films the other is credited in too, as far as titles and years tell: a film of the
    same title (or the candidate film it may be one with), in the same year or the next, when both give one (Echoes,
    1990, and Echoes, 2015, are two films); and how many of those only as a candidate film."""
    theirs = set(world.credits.get(b, []))
    shared = candidates = 0
    for f in set(world.credits.get(a, [])):
        found = [world.film_keys(f) & world.film_keys(g) for g in theirs if _close_years(
            world.years(world.films[f]), world.years(world.films[g]))]
        if any(found):
            shared += 1
            candidates += all(k <= {"=" + world.same_film.get(f, f)} for k in found if k)
    return shared, candidates


def _close_years(ya: set[int], yb: set[int]) -> bool:
    return not ya or not yb or min(abs(x - y) for x in ya for y in yb) <= 1


def _film_keys(film: Record) -> list[str]:
    """The blocking keys of a film's titles (and of their main titles, without a subtitle), each once, in order."""
    mine: set[str] = set()
    for name in _names(film):
        rest = _without_possessive(name)
        for keys in (film_keys(name), film_keys(_SUBTITLE.split(name, 1)[0]), *([film_keys(rest)] if rest else [])):
            mine.update((keys.strict, keys.ordered, keys.loose))
    return sorted(mine - {""})


def _person_keys(person: Record) -> list[str]:
    """The blocking keys of a person's names, and a word of a name with the birth year (a stage name and a legal
    one), each once, in order."""
    mine: set[str] = set()
    for name in _names(person):
        for keys, _ in person_spellings(name):
            mine.update((keys.strict, keys.ordered, keys.loose))
            mine.update(f"{w}:{y}" for w in keys.words if len(w) > 2 for y in years(person))
    return sorted(mine - {""})


def _block_keys(world: _World, kind: str, record: Record) -> list[str]:
    """A film's or person's blocking keys."""
    if kind == "person":
        return list(world.known.of(PERSON_KEYS, record, _person_keys))
    found = list(world.known.of(MOVIE_KEYS, record, _film_keys))
    if years := world.known.of(YEARS, record, _years):
        # a director and a year: the same film under a title in another language (no title key has a ':')
        found += (f"{d}:{y}" for d in sorted(world.spelled(world.people_of(record)[0])) for y in years)
    return found


def _blocks(world: _World) -> list[tuple[str, list[str]]]:
    """(kind, keys of records that share a blocking key), each block once, films' first: from the previous build's
    index of blocking keys patched for the records changed since, or from an index made anew."""
    records = [("movie", k, r) for k, r in world.films.items()] + [("person", k, r) for k, r in world.people.items()]
    known = world.known

    def keys(kind: str, record: Record) -> list[str]:
        return _block_keys(world, kind, record)

    def directed(refs: set[Ref]) -> set[Ref]:  # the films directed by these people: their keys spell them
        people = {key for kind, key in refs if kind == "person"}
        if not people:
            return set()
        return {("movie", key) for key, film in world.films.items() if people.intersection(world.people_of(film)[0])}

    tokens = [known.token_of(r) for _, _, r in records]
    patched = blocking.patched(known.blocks_before, records, tokens, keys, directed) \
        if known.blocks_before is not None else None
    if patched is not None:
        known.blocks, known.changed = patched
    else:
        known.blocks, known.changed = blocking.made(records, tokens, keys), None
    return sorted(known.blocks.blocks(BLOCK), key=lambda b: b[0] != "movie")


@dataclass
class _Again:
    """The films and people whose comparisons must be made again: the others' are the previous build's."""

    films: set[str]
    people: set[str]

    def reused(self, kind: str, a: str, b: str) -> bool:
        """Whether the pair's comparison is the previous build's."""
        again = self.films if kind == "movie" else self.people
        return a not in again and b not in again


def _again(world: _World) -> _Again | None:
    """The films and people whose comparisons may differ from the previous build's: those changed, new or gone;
    films crediting a person changed (spelled otherwise); people credited in a film changed (now or before), or
    beside a person changed. None when everything is compared anew. (`settled` adds those credited in a film whose
    candidate film changed.)"""
    known = world.known
    if known.changed is None or known.compared_before is None:
        return None
    films = {key for kind, key in known.changed if kind == "movie"}
    people = {key for kind, key in known.changed if kind == "person"}
    again = _Again(set(films), set(people))
    for key in films:
        before = known.credited_before(key)
        if before is None and known.changed[("movie", key)] is not None:
            return None  # what it credited is not known
        again.people.update(before or ())
        if key in world.films:
            again.people.update(world.people_of(world.films[key])[1])
    for key, film in world.films.items() if people else ():
        if people.intersection(world.people_of(film)[1]):
            again.films.add(key)
            again.people.update(world.people_of(film)[1])  # beside a person changed: their co-workers
    return again


def _settled(world: _World, again: _Again | None) -> None:
    """Once the films are compared: those credited in a film whose candidate film changed are compared again."""
    before = world.known.compared_before
    if again is None or before is None:
        return
    for film in before.same_film.keys() | world.same_film.keys():
        if before.same_film.get(film, film) != world.same_film.get(film, film) and film in world.films:
            again.people.update(world.people_of(world.films[film])[1])


def _one_film(pairs: Iterable[tuple[str, ...]]) -> dict[str, str]:
    """Each film of a candidate pair -> the first (by key) of the films it may be one with, pair by pair: the same
    whatever order the pairs were found in."""
    first: dict[str, str] = {}

    def root(key: str) -> str:
        while (up := first.get(key, key)) != key:
            key = up
        return key

    for pair in pairs:
        a, b = root(pair[0]), root(pair[1])
        if a != b:
            first[max(a, b)] = min(a, b)
    return {key: root(key) for key in first}


def _years(record: Record) -> list[str]:
    return [str(y) for y in years(record)]


_RERELEASE = re.compile(r"\b(?:3-?d|re-?release[sd]?|director'?s cut|special edition|imax|remastered|anniversary"
                        r"|extended|restored)\b", re.I)


TOLD = 0.7  # the score of a pair the read told of (two rows of one film crediting names a letter apart)


def _followed(moves: dict[Ref, Merge], ref: Ref) -> Ref:
    """The record a key ends up in, once merged or renamed."""
    return moves[ref].kept if ref in moves else ref


def records_of_kind(world: _World, ref: Ref) -> Record | None:
    return (world.films if ref[0] == "movie" else world.people).get(ref[1])


def _rereleased(a: Record | None, b: Record | None) -> bool:
    """Whether two films linking one page years apart are a film and its re-release (a title saying so, or a few
    years between them: a festival premiere and a release abroad), not a remake."""
    if a is None or b is None:
        return False
    if any(_RERELEASE.search(n) for r in (a, b) for n in _names(r)):
        return True
    ya, yb = years(a), years(b)
    return bool(ya and yb) and min(abs(x - y) for x in ya for y in yb) <= 3


def merge_counts(candidates: Iterable[Candidate], notes: Iterable[Note]) -> tuple[int, int]:
    """How many records the build merged by identifier, and how many more by name (a bulk row found to be the one
    record with an identifier of its name, or a film listed a year apart): each such merge has its note."""
    return sum(1 for c in candidates if c.merged), len(merged_by_name(notes))


def merged_by_name(notes: Iterable[Note]) -> list[Note]:
    """The notes of the records the build merged by name (`identity.py`'s), not by identifier."""
    return [n for n in notes if n.action == "merged" and not by_identifier(n)]


def merges_said(candidates: Iterable[Candidate], notes: Iterable[Note], decided: int = 0) -> str:
    """The merges the build made, and those the curators `decided`, as its summaries say them."""
    by_identifier, by_name = merge_counts(candidates, notes)
    return (f"{by_identifier:,} merged by identifier, {by_name:,} by name (the notes say which)"
            + (f", {decided:,} by the curators' decisions" if decided else ""))


def merges_decided(moves: Mapping[Ref, Merge]) -> int:
    """How many records the curators' `merge` decisions merged into others."""
    return sum(1 for m in moves.values() if m.why == "merge")


def find_in(sources: Sources, minter: Minter, known: Known | None = None) -> list[Candidate]:
    """`find` among the records read, and the films and people only an RDF file describes (`described`)."""
    rdf_only = described(sources.rdf, minter.base, sources.records, sources.moves)
    told = [(a, b, n.message.removesuffix(TOLD_FIX).rstrip(), str(n.where)) for n in sources.notes if n.candidates
            for a, b in (sorted(p) for p in n.pairs)]
    return find([*sources.records, *rdf_only] if rdf_only else sources.records, sources.decisions, sources.moves,
                sources.held, minter, known, {(r.kind, r.key) for r in rdf_only}, told)


SHARED_ID = 0.95  # the score of a record and what an RDF file says of another IRI, both giving one identifier


def _shared_with_rdf(world: _World, only_rdf: AbstractSet[Ref], decisions: Decisions,
                     found: dict[frozenset[Ref], Candidate], add: Callable[..., None]) -> None:
    """Candidates of what an RDF file says of an IRI no record has and the records giving one of its identifiers
    (a Wikidata or IMDb id): records that do are merged, but the file's IRI is the file's to change, or a decision's
    to merge (docs/bulk.md, rule 7)."""
    if not only_rdf:
        return
    by_id: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in (*world.films.values(), *world.people.values()):
        if (r.kind, r.key) not in only_rdf:
            for ident in identifiers(r):
                by_id[(r.kind, ident)].append(r)
    for ref in sorted(only_rdf):
        if (described := records_of_kind(world, ref)) is None:
            continue
        for ident in identifiers(described):
            for other in by_id.get((described.kind, ident), []):
                pair = frozenset((ref, (other.kind, other.key)))
                if not decisions.apart(ref, (other.kind, other.key)):
                    had = found[pair].evidence if pair in found else []
                    add(described.kind, other, described, SHARED_ID, [f"both give {ident}", *had])


def find(records: Iterable[Record], decisions: Decisions, moves: dict[Ref, Merge],
         held: list[tuple[Ref, Ref, str]], minter: Minter, known: Known | None = None,
         only_rdf: AbstractSet[Ref] = frozenset(), told: Iterable[tuple[Ref, Ref, str, str]] = ()
         ) -> list[Candidate]:
    """Every pair of films or people that may be one, best first: the identifier merges the build made, pairs that
    share an identifier but were kept apart, pairs found by name with evidence, and the pairs the read `told` of
    (with why and where) (not those dismissed). What an earlier build worked out about a record read back unchanged
    is taken from `known`. The records `only_rdf` are what an RDF file says of an IRI no record has: never the one a
    merge keeps (a decision merges into records)."""
    world = _World(known=known or Known())
    for r in records:
        if r.kind == "movie":
            world.films[r.key] = r
        elif r.kind == "person":
            world.people[r.key] = r
    world.known.told([*world.films.values(), *world.people.values()])
    if world.known.exiting:
        _LEFT.append(world)
    for key, film in world.films.items():
        for person in world.people_of(film)[1]:
            world.credits[person].append(key)
    found: dict[frozenset[Ref], Candidate] = {}

    def add(kind: str, a: Record, b: Record, score: float, evidence: list[str], merged: bool = False,
            where: str | None = None) -> None:
        # the one to keep: hand-written, then (of two hand-written) cited by more sources, the established record
        # rather than a newcomer of one claim; of two people, the one credited in more films, then the spelling that
        # kept its accented letters (Groß, not Gross: the one a file's encoding or a typist did not strip); of two
        # films, the title with its article (The Wailing, not Wailing: a catalogue's sorting form); then the shorter
        # key (bulk records read back are not unpacked for it)
        kept, other = sorted((a, b), key=lambda r: (
            (r.kind, r.key) in only_rdf, not r.detailed, bare(r), -len(r.claims) if r.detailed else 0,
            -len(world.credits.get(r.key, ())) if kind == "person" else 0,
            -_accented(next(iter(world.names(r)), "")) if kind == "person" else 0,
            not _articles(world.names(r)) if kind == "movie" else False, len(r.key), r.key))
        ra, rb = (kind, kept.key), (kind, other.key)
        found[frozenset((ra, rb))] = Candidate(
            minter.entity(*ra).value, minter.entity(*rb).value, kind, round(min(score, 1.0), 2), evidence,
            merge_line(rb, ra), not_same_line(ra, rb), merged, where or str(other.origin.where),
            (next(iter(world.names(kept)), ""), next(iter(world.names(other)), "")))

    def bare(r: Record) -> bool:  # a film of a title alone (a reference's): the one merged into the other
        return r.kind == "movie" and not world.years(r) and not world.people_of(r)[1]

    compare = {"movie": (_compare_films, world.films), "person": (_compare_people, world.people)}
    films_done = False
    blocks = _blocks(world)
    again = _again(world)
    blocks = [*_title_slips(world), *blocks, *_slips(world, again)]  # (films first: their pairs are evidence)
    before = world.known.compared_before.results if again is not None and world.known.compared_before else {}
    results: dict[tuple[str, str, str], tuple[float, list[str]] | None] = {}
    for kind, members in blocks:  # films first: their pairs are evidence for people credited in them under two
        if kind == "person" and not films_done:  # titles
            films_done = True
            world.same_film = _one_film([tuple(k for _, k in pair) for pair in found if next(iter(pair))[0] == "movie"])
            _settled(world, again)
        fn, records_of = compare[kind]
        for ka, kb in itertools.combinations(sorted(members), 2):
            pair = frozenset(((kind, ka), (kind, kb)))
            if pair in found or decisions.apart((kind, ka), (kind, kb)) or pair <= only_rdf:
                continue  # (two an RDF file alone describes: no decision merges into either; the file is the fix)
            at = (kind, ka, kb)
            if at in results:
                continue  # compared in another block
            if again is not None and at in before and again.reused(kind, ka, kb):
                result = results[at] = before[at]
            else:
                result = results[at] = fn(world, records_of[ka], records_of[kb])
            if result is not None and result[0] >= THRESHOLD:
                add(kind, records_of[ka], records_of[kb], *result)
    for a, b, why, said_at in told:  # (as the records are now: a key may have been merged into another since)
        ra, rb = records_of_kind(world, a := _followed(moves, a)), records_of_kind(world, b := _followed(moves, b))
        if ra is not None and rb is not None and a != b and not decisions.apart(a, b) and \
                frozenset((a, b)) not in found:
            add(ra.kind, ra, rb, TOLD, [why], where=said_at)
    _shared_with_rdf(world, only_rdf, decisions, found, add)
    world.known.compared = Compared(results, {key: world.people_of(film)[1] for key, film in world.films.items()
                                              if world.known.token_of(film) is None}, world.same_film, world.slipped)
    out = list(found.values())
    def spelling(ref: Ref) -> str:
        record = records_of_kind(world, ref)
        return next(iter(world.names(record)), "") if record is not None else ""

    retired: dict[str, list[Merge]] = defaultdict(list)  # a record -> the records merged into it by identifier
    for m in moves.values():
        if m.why not in ("merge", "formerly"):
            retired[minter.entity(*m.kept).value].append(m)
    for c in list(out):  # a candidate of a record is one of each record merged into it, too
        for mine, other in ((c.a, c.b), (c.b, c.a)):
            for m in retired.get(mine, []):  # (spelled as the record it is merged into)
                out.append(Candidate(other, minter.entity(*m.retired).value, c.kind, c.score,
                                     [*c.evidence, f"{'/'.join(m.retired)} is merged into {'/'.join(m.kept)}"],
                                     c.fix, c.dismiss, names=(c.shown_name(other), c.shown_name(mine))))
    for m in moves.values():
        if m.why not in ("merge", "formerly"):
            out.append(Candidate(minter.entity(*m.kept).value, minter.entity(*m.retired).value, m.kept[0], 1.0,
                                 [f"both give {m.why}"], f"merged by the build (both give {m.why})",
                                 not_same_line(m.kept, m.retired), merged=True, where=str(m.origin.where),
                                 names=(spelling(m.kept), m.name)))  # (as it was spelled before the merge)
    for a, b, why in held:
        if not _rereleased(records_of_kind(world, a), records_of_kind(world, b)):
            continue  # one title, decades apart: a remake that a list linked to the original's page
        out.append(Candidate(minter.entity(*a).value, minter.entity(*b).value, a[0], 0.6, [why], merge_line(b, a),
                             not_same_line(a, b), names=(spelling(a), spelling(b))))
    return sorted(out, key=lambda c: (-c.score, c.kind, c.a, c.b))
