"""Where a release lives on disk: the directory layout, its dumps, its index files' names and keys, the current one.

Read by the server, written by `kg.build`; deliberately light (no rdflib, no SHACL) so serving stays small.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kg import vocab
from kg.formats import Format, named
from kg.ids import LATIN_LETTERS

CURRENT = "current"
RELEASES = "releases"
METADATA = "release.json"
VOID_FILE = "void.ttl"
MOVED_FILE = "moved.json"  # IRIs that redirect (merged, renamed) and IRIs that are gone
DUPLICATES_FILE = "duplicates.json"  # candidate duplicates, with their evidence and fix
ATTENTION_FILE = "attention.json"  # what needs a curator's attention, grouped by kind
# its groups' kinds, most pressing first (kg.build.attention); a kind with nothing to look at has no group
ATTENTION_KINDS = ("duplicates", "conflicts", "junk", "suspicious", "skipped", "warnings", "gone", "merged",
                   "repaired")
STORE_DIR = "store"
KEPT_DIR = "kept"  # what the next build reads back instead of making again (kg.build.kept)
PARTS_FILE = "parts.json"  # in KEPT_DIR: where each shard's quads are in the N-Quads dump, with their digest
WIRE_DIR = "wire"  # gzip copies of the uncompressed dumps, sent with Content-Encoding: gzip


@dataclass(frozen=True)
class Dump:
    """One downloadable file of a release."""

    filename: str
    format: Format
    gzipped: bool = False

    @property
    def media_type(self) -> str:
        return "application/gzip" if self.gzipped else self.format.media_type

    @property
    def one_document(self) -> bool:
        """Whether the file is one RDF document (a VoID `dataDump`), not a document per line."""
        return not self.format.lines


DUMPS: tuple[Dump, ...] = (
    Dump("kg.ttl", named("turtle")),
    Dump("kg.nt.gz", named("ntriples"), gzipped=True),
    Dump("kg.jsonld", named("jsonld")),
    Dump("kg.jsonl", named("jsonl")),
    Dump("kg.trig", named("trig")),
    Dump("kg.nq.gz", named("nquads"), gzipped=True),
)


def current(root: Path) -> Path | None:
    """The directory of the release being served, if there is one."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    path = (root / target).resolve()
    return path if (path / METADATA).exists() else None


def finished(root: Path) -> list[Path]:
    """Every finished release kept under `root`, oldest first.

    By when each was written, not by name: a name starts with the build time, which is the same for every build
    under SOURCE_DATE_EPOCH and has one-second steps.
    """
    releases = root / RELEASES
    if not releases.is_dir():
        return []
    done = [p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / METADATA).exists()]
    return sorted(done, key=lambda p: ((p / METADATA).stat().st_mtime_ns, p.name))


def metadata(release_dir: Path) -> dict[str, object]:
    """The release's own description (release.json)."""
    data: dict[str, object] = json.loads((release_dir / METADATA).read_text(encoding="utf-8"))
    return data


# The index files (written by kg.build.index, read by seeking in kg.serve.index)
INDEX_DIR = "index"
INDEX_INFO = "index.json"  # what the index holds, and its version
PAGES_FILE = "pages.tsv"  # every entity page, in IRI order
NAMES_FILE = "names.tsv"  # every spelling with its entity, by search key
# every spelling whose search key has punctuation in a word, by its key without it (`fold(joined=True)`: joonho
# finds Joon-ho, koreeda Kore-eda); a release without it searches names.tsv alone
JOINED_FILE = "joined.tsv"
TERMS_FILE = "terms.tsv"  # every word of a spelling (and a two-word spelling run together): where names.tsv has it
NEAR_FILE = "near.tsv"  # the start of every term with letters deleted (see `deletions`): the starts it comes from
OFFSETS = ".offsets"  # beside each file: the byte offset of every STEP-th line
STEP = 100  # the byte offset of every STEP-th line is kept, so any page of a multiple of STEP lines is one seek
VERSION = 6  # bumped when the files change shape: a release with another version is read by SPARQL instead
# What a kind's listing can be narrowed by: facet name -> the properties whose values give it, in order of
# preference (a film's year is when it was made, else when first shown). Years are the first four digits.
FACETS: dict[str, dict[str, tuple[str, ...]]] = {
    "movie": {"year": (vocab.S.dateCreated.value, vocab.S.datePublished.value), "genre": (vocab.S.genre.value,)},
    "person": {"born": (vocab.S.birthDate.value,)},
    "event": {"year": (vocab.S.startDate.value,)},
}
YEARS = frozenset({"year", "born"})


def clean_field(text: str) -> str:
    return " ".join(text.split())  # a field holds no tab or newline


_APOSTROPHES = "'’ʼ"
_PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"
_ASCII_FOLD = str.maketrans({**{c: " " for c in _PUNCTUATION}, **{c: None for c in "'"}})
_ASCII_JOINED = str.maketrans({c: None for c in _PUNCTUATION + "'"})


def fold(text: str, joined: bool = False) -> str:
    """A text as search compares it: lower case, without accents or apostrophes, other punctuation as spaces
    (Jae-hoon and Jae hoon, Chloé and Chloe, O'Brien and OBrien, Ørsted and Orsted are one, as in keys); `joined`:
    without punctuation at all (Joon-ho and Joonho are one)."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_JOINED if joined else _ASCII_FOLD).split())
    decomposed = unicodedata.normalize("NFKD", text.translate(LATIN_LETTERS).casefold())
    apart = "" if joined else " "
    kept = "".join("" if unicodedata.category(c) == "Mn" or c in _APOSTROPHES else
                   apart if unicodedata.category(c)[0] in "PS" else c for c in decomposed)
    folded = " ".join(unicodedata.normalize("NFC", kept).split())  # Hangul syllables come back whole
    # Korean is spaced loosely (윤여정, 윤 여정; 찬실이는 복도 많지, typed 찬실이는복도많지): no space between two
    # Hangul syllables, in what is searched and in what is looked for
    return _HANGUL_SPACE.sub("", folded) if " " in folded else folded


_HANGUL_SPACE = re.compile(r"(?<=[\uac00-\ud7a3]) (?=[\uac00-\ud7a3])")
_DIGITS = re.compile(r"[0-9]+")


def listing_key(name: str | None, iri: str) -> tuple[str, str, str, str]:
    """Where an entity comes in a listing: one without a name first, then by collated name, lower case, IRI."""
    return ("0", "", "", iri) if name is None else ("1", collated(name), name.lower(), iri)


def collated(text: str) -> str:
    """A name as listings order it: as search folds it (Émile beside Emile, not after Zoe), each run of digits
    led by its length, so that Character 2 comes before Character 10."""
    return _DIGITS.sub(lambda m: f"{len(d := m.group().lstrip('0') or '0'):02d}{d}", fold(text))


def listing_file(kind: str) -> str:
    """The file name of a kind's listing."""
    return f"kind-{kind}.tsv"


def facet_file(kind: str, facet: str) -> str:
    """The file name of a facet of a kind's listing."""
    return f"facet-{kind}-{facet}.tsv"


def facet_key(facet: str, value: str) -> str | None:
    """What a value is filed under: a year's four digits, else the text in lower case (None: not filed)."""
    if facet in YEARS:
        return value[:4] if value[:4].isdigit() else None
    key = clean_field(value).lower()
    return key or None


# Search forgives typos: a word finds a term a few edits away (a letter inserted, deleted, changed, or two swapped).
# The index finds such terms without comparing the word with every one: two strings within n edits of each other
# share a string left by deleting at most n letters from each one's first FUZZY_PREFIX letters.
FUZZY_SHORTEST = 4  # letters a word needs before it may be misspelt (a shorter one must be typed as spelt)
FUZZY_PREFIX = 7  # letters of a term whose deletions are indexed: few keys per term, and still few terms per key


def typos(length: int) -> int:
    """How many edits a word of `length` letters may be from a term it finds: none under 4, one up to 7, then two."""
    return 0 if length < FUZZY_SHORTEST else 1 if length < 8 else 2


def indexed_typos(length: int) -> int:
    """How many letters the index deletes from the start of a term of `length` letters: enough for any word."""
    # two from 7 letters on, not 8: an 8-letter word cut to 7 can be two deletions from a 7-letter term two edits off
    return 0 if length < FUZZY_SHORTEST else 1 if length < FUZZY_PREFIX else 2


def fuzzy_term(word: str) -> bool:
    """Whether a word of a spelling is indexed for typos: one a misspelt word can find, not a number."""
    return len(word) >= FUZZY_SHORTEST - 1 and not word.isdigit()


def deletions(term: str, edits: int) -> set[str]:
    """The term's first FUZZY_PREFIX letters, and every string left by deleting up to `edits` letters from them."""
    head = term[:FUZZY_PREFIX]
    found = {head}
    layer = [(head, 0)]
    for _ in range(edits):  # each deletion at or after the one before, so that no set of places is done twice
        layer = [(s[:i] + s[i + 1:], i) for s, start in layer for i in range(start, len(s))]
        found.update(s for s, _ in layer)
    return found
