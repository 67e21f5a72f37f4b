"""The only place that mints IRIs: `<base><kind>/<key>` from record keys, never from row order."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from pyoxigraph import NamedNode

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# record kind -> path segment under the base IRI
PATHS: dict[str, str] = {
    "movie": "movie",
    "person": "person",
    "character": "character",
    "organization": "organization",
    "country": "country",
    "event": "event",
    "work": "work",
    "source": "source",
}


_KINDS_BY_PATH = {path: kind for kind, path in PATHS.items()}

WEB_SCHEMES = ("http://", "https://")  # the only IRIs pages and markup link to


def is_web(iri: str) -> bool:
    """Whether an IRI is a web address (http or https, any case): never javascript:, data: or another scheme."""
    return iri[:8].lower().startswith(WEB_SCHEMES)


# Latin letters that do not decompose into an ASCII letter and a mark
NOT_IN_IRI = frozenset('<>"{}|^`\\ ')  # what an IRI cannot hold (RFC 3987), control characters aside

LATIN_LETTERS = str.maketrans({"ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                               "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
                               "ı": "i"})
_LETTERS = ("Lu", "Ll", "Lt", "Lo", "Nd", "Nl", "No")  # not Lm: modifier letters (ʻ in Hawaiʻi) are punctuation here


def slugify(text: str) -> str:
    """A readable ASCII key from any text: 'Rogue One (2016)' -> 'rogue-one-2016'.

    Text with letters of another script than Latin keeps them, Punycode-encoded ('괴물' -> 'xn-hd0b39x'): dropping
    them would give every Korean, Russian or Japanese title the same empty key.
    """
    folded = unicodedata.normalize("NFKD", text.translate(LATIN_LETTERS))
    if not folded.isascii() and any(not ch.isascii() and unicodedata.category(ch) in _LETTERS for ch in folded):
        words = "-".join(unicodedata.normalize("NFC", text).lower().split())
        coded = words.encode("punycode").decode("ascii").lower()
        return _short("xn-" + re.sub(r"[^a-z0-9]+", "-", coded).strip("-"))
    plain = folded.encode("ascii", "ignore").decode("ascii").lower()
    return _short(re.sub(r"[^a-z0-9]+", "-", plain).strip("-"))


MAX_SLUG = 200  # characters of a key made from a name: an IRI stays an address a server and a browser take


def _short(slug: str) -> str:
    """A key cut to MAX_SLUG characters, the rest told by a digest of the whole (two long names keep two keys)."""
    if len(slug) <= MAX_SLUG:
        return slug
    return slug[:MAX_SLUG - 13].rstrip("-") + "-" + hashlib.sha256(slug.encode()).hexdigest()[:12]


def is_key(key: str) -> bool:
    """Whether `key` is a valid record key (lower-case letters, digits and single hyphens)."""
    return bool(KEY_PATTERN.match(key))


class Minter:
    """Mints every IRI of a release from one configured base."""

    def __init__(self, base: str) -> None:
        self.base = base

    def entity(self, kind: str, key: str) -> NamedNode:
        """The IRI of a record, e.g. <base>movie/break-away."""
        return NamedNode(f"{self.base}{PATHS[kind]}/{key}")

    def part(self, parent: NamedNode, name: str) -> NamedNode:
        """A node that only exists inside its parent (a cast role, a budget): <parent>#<name>."""
        return NamedNode(f"{parent.value}#{name}")

    def genid(self, source: str, n: int) -> NamedNode:
        """The Skolem IRI standing for the n-th blank node of an RDF source file."""
        return NamedNode(f"{self.base}.well-known/genid/{source}-{n}")

    def editorial(self) -> NamedNode:
        """The graph of the curators' own decisions (preferred names, types, identities, conflicts)."""
        return NamedNode(f"{self.base}source/editorial")

    def vocabulary_graph(self) -> NamedNode:
        """The graph that declares the project vocabulary."""
        return NamedNode(f"{self.base}graph/vocabulary")

    def release_graph(self) -> NamedNode:
        """The graph that describes the release itself."""
        return NamedNode(f"{self.base}graph/release")

    def union_graph(self) -> NamedNode:
        """Where an engine without a default graph of its own holds the union of a release (pinned as the default
        graph of every query kg sends it)."""
        return NamedNode(f"{self.base}graph/union")

    def dataset(self) -> NamedNode:
        """The dataset every release publishes."""
        return NamedNode(f"{self.base}dataset")

    def release(self, release_id: str) -> NamedNode:
        """One release of the dataset."""
        return NamedNode(f"{self.base}release/{release_id}")

    def kind_of(self, iri: str) -> str | None:
        """The kind of an entity minted here (`<base>event/x` -> 'event'); None for a part or anything else."""
        if not iri.startswith(self.base) or "#" in iri:
            return None
        return _KINDS_BY_PATH.get(iri[len(self.base):].split("/", 1)[0])

    def owns(self, iri: str) -> bool:
        """Whether an IRI was minted under this base."""
        return iri.startswith(self.base)

    def path_of(self, iri: str) -> str | None:
        """Where an IRI minted here is served, with its fragment (`<base>movie/x#cast-1` -> /movie/x#cast-1)."""
        return "/" + iri[len(self.base):] if self.owns(iri) else None

    def iri_at(self, path: str) -> str:
        """The IRI served at a path of this server (without its leading slash): the inverse of `path_of`."""
        return self.base + path

    def document_of(self, iri: str) -> str:
        """The path (without leading slash) where an IRI minted here is served."""
        return iri[len(self.base):].split("#", 1)[0]
