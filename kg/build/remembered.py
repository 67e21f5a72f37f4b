"""The records of unchanged bulk files: kept by the digest of the mappings and their files, read back by the next
build instead of read again; what each mapping's rows said is kept too, so that an edit reads only its own file."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import mmap
import multiprocessing
import os
import pickle
import shutil
import struct
import sys
import tempfile
from array import array
from collections.abc import Callable, Container, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from kg.build.bulk import Entries, Tape, Tapes, apart, grouped, read_entries, record_of, records_of, renames
from kg.build.bulkspec import Mapping, MappingError
from kg.build.identity import Apart, Entry, Spelled
from kg.build.kept import digest, link
from kg.build.merges import identifier
from kg.build.notes import Note
from kg.build.workers import background, parallel, room_for_copies
from kg.model import CastEntry, Claim, LangText, Origin, Record, Value

_CHUNK = 10_000  # records packed and pickled at a time
# what reading a kept file that is damaged, or written by another kg (whose classes moved), may raise
UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, AttributeError, KeyError,
              ImportError, OverflowError, MemoryError, RecursionError)
_TEXT, _CAST, _OTHER = 0, 1, 2  # how a packed value that is not a plain str, int or None says what it was


def _pack_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is LangText:
        return (_TEXT, value.text, value.lang)
    if kind is CastEntry:
        name = value.character_name
        return (_CAST, value.actor, value.character, None if name is None else (name.text, name.lang), value.billing,
                value.category)
    return (_OTHER, value)  # rare kinds go to pickle as they are


def _unpack_value(packed: Any) -> Any:
    if type(packed) is not tuple:
        return packed
    if packed[0] == _TEXT:
        return LangText(packed[1], packed[2] if packed[2] is None else sys.intern(packed[2]))
    if packed[0] == _CAST:
        name = packed[3]
        return CastEntry(packed[1], packed[2], None if name is None else LangText(*name), packed[4], packed[5])
    return packed[1]


def _numbering(origins: dict[Origin, int], fresh: list[Origin] | None = None) -> Callable[[Origin], int]:
    """The number of an origin in `origins`, the next one for an origin not seen yet (added, and to `fresh`)."""
    def at(origin: Origin) -> int:
        found = origins.get(origin)
        if found is None:
            found = origins[origin] = len(origins)
            if fresh is not None:
                fresh.append(origin)
        return found

    return at


def pack(records: list[Record]) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """The records as plain tuples (pickled several times faster than the objects), their origins numbered once."""
    origins: dict[Origin, int] = {}
    at = _numbering(origins)
    out = [(r.kind, r.key, pack_claims(r, at), at(r.origin), r.detailed, tuple((key, at(o)) for key, o in r.formerly))
           for r in records]
    return [tuple(o) for o in origins], out


def packer(out: BinaryIO) -> pickle.Pickler:
    """A pickler for packed records: without a memo (plain tuples, no cycles), three times faster."""
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    return pickler


def pack_claims(record: Record, at: Callable[[Origin], int]) -> tuple[Any, ...]:
    """A record's claims as plain tuples, their origins numbered by `at`."""
    return tuple((c.source, tuple((v.field, _pack_value(v.value), at(v.origin)) for v in c.values), at(c.origin))
                 for c in record.claims)


def _unpack_claims(packed: tuple[Any, ...], origins: list[Origin]) -> tuple[Claim, ...]:
    one = sys.intern  # (the names they repeat, one object each: see `_unpack_entries`)
    return tuple(Claim(one(source), tuple(Value(one(f), _unpack_value(v), origins[o]) for f, v, o in values),
                       origins[origin]) for source, values, origin in packed)


def pack_held(records: list[Record]) -> tuple[Any, ...]:
    """Records to read back as `Held` (`unpack_held`): what a build asks of each record read back unchanged (its
    kind, key, origin and the fields it has) apart from its claims, packed as one blob with the origins only they
    have; and what all the records name (`Held.names_along`)."""
    origins: dict[Origin, int] = {}
    at = _numbering(origins)
    fieldsets: dict[tuple[str, ...], int] = {}
    heads = []
    along: dict[tuple[str, str], list[int]] = {}  # what the records name -> those that name it (by place)
    for n, r in enumerate(records):
        has: set[str] = set()
        idents: set[str] = set()
        for c in r.claims:  # one pass over the values for the fields it has and the identifiers it gives
            for v in c.values:
                has.add(v.field)
                if v.field == "same_as" and (i := identifier(str(v.value))):
                    idents.add(i)
        fields = fieldsets.setdefault(tuple(sorted(has)), len(fieldsets))
        for name in r.names():
            along.setdefault(name, []).append(n)
        heads.append((r.kind, r.key, at(r.origin), r.detailed, tuple((key, at(o)) for key, o in r.formerly), fields,
                      tuple(sorted(idents))))
    first = len(origins)  # the origins the heads name are unpacked with them; the claims' others, with the claims
    claims = [pack_claims(r, at) for r in records]
    blob = io.BytesIO()
    packer(blob).dump(([tuple(o) for o in itertools.islice(origins, first, None)], claims))
    who, starts = array("I"), array("I", [0])
    for naming in along.values():
        who.extend(naming)
        starts.append(len(who))
    return ([tuple(o) for o in itertools.islice(origins, first)], list(fieldsets), heads, blob.getvalue(),
            tuple(x for pair in along for x in pair), who.tobytes(), starts.tobytes())


class _Claims:
    """The claims of the records of one packed blob (`pack_held`), unpickled when the first is asked for, and the
    origins of the chunk, made when the first is asked for."""

    __slots__ = ("blob", "table", "origins", "packed", "along", "names", "who", "asked")

    def __init__(self, blob: bytes, table: list[tuple[Any, ...]], along: tuple[str, ...], who: tuple[bytes, bytes]
                 ) -> None:
        self.blob, self.table = blob, table  # the heads' origins, as tuples: the blob has the rest
        self.origins: list[Origin] | None = None
        self.packed: list[tuple[Any, ...]] | None = None
        self.along = along  # what all its records name, (kind, key) pairs one after the other
        self.names = frozenset(zip(along[::2], along[1::2], strict=True))
        self.who = who  # by name of `along`, where in the first array the places of the records naming it start
        self.asked: tuple[object, frozenset[int]] | None = None  # the last `naming` asked, and its answer

    def naming(self, wanted: Container[tuple[str, str]]) -> frozenset[int]:
        """The places of the records that name any of `wanted` (asked again with the same object: answered once)."""
        if self.asked is not None and self.asked[0] is wanted:
            return self.asked[1]
        who, starts = array("I"), array("I")
        who.frombytes(self.who[0])
        starts.frombytes(self.who[1])
        found: set[int] = set()
        for place, name in enumerate(zip(self.along[::2], self.along[1::2], strict=True)):
            if name in wanted:
                found.update(who[starts[place]:starts[place + 1]])
        self.asked = wanted, frozenset(found)
        return self.asked[1]

    def origin(self, at: int) -> Origin:
        if self.origins is None:
            self.origins = [Origin(sys.intern(o[0]), *o[1:]) for o in self.table]
        return self.origins[at]

    def of(self, n: int) -> tuple[Claim, ...]:
        if self.packed is None:
            rest, self.packed = pickle.loads(self.blob)
            self.origins, self.blob = [Origin(sys.intern(o[0]), *o[1:]) for o in self.table + rest], b""
        assert self.origins is not None
        return _unpack_claims(self.packed[n], self.origins)


_CLAIMS, _ORIGIN_SLOT = Record.__dict__["claims"], Record.__dict__["origin"]  # the slots held lazily


class Held(Record):
    """A record read back from a previous release: its claims are unpacked only when asked for (most records of an
    edit are not), the rest of what a build asks of it (`values` of a field it lacks, what its batch names) is kept
    beside."""

    __slots__ = ("_from", "_n", "_at", "_fields", "identifiers")
    _from: _Claims
    _n: int
    _at: int  # where its origin is in its chunk's
    _fields: frozenset[str]
    identifiers: tuple[str, ...]  # those its `same_as` addresses give, sorted (kg.build.merges.identifier)

    @property
    def origin(self) -> Origin:
        try:
            held: Origin = _ORIGIN_SLOT.__get__(self, Held)
            return held
        except AttributeError:
            made = self._from.origin(self._at)
            _ORIGIN_SLOT.__set__(self, made)
            return made

    @property
    def claims(self) -> tuple[Claim, ...]:
        try:
            held: tuple[Claim, ...] = _CLAIMS.__get__(self, Held)
            return held
        except AttributeError:
            made: tuple[Claim, ...] = self._from.of(self._n)
            _CLAIMS.__set__(self, made)
            return made

    def values(self, field: str) -> list[Value]:
        return Record.values(self, field) if field in self._fields else []

    def names_along(self) -> frozenset[tuple[str, str]]:
        return self._from.names

    def names_any(self, wanted: Container[tuple[str, str]]) -> bool:
        return self._n in self._from.naming(wanted)  # without its claims

    def written_in(self) -> str:
        return str(self._from.table[self._at][0])  # without making its origin

    def _as_record(self) -> Record:
        return Record(self.kind, self.key, self.claims, self.origin, self.detailed, self.formerly)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self._as_record() == (
            other._as_record() if isinstance(other, Held) else other)

    def __hash__(self) -> int:
        return hash(self._as_record())

    def __reduce__(self) -> tuple[Any, ...]:
        return Record, (self.kind, self.key, self.claims, self.origin, self.detailed, self.formerly)


def unpack_held(packed: tuple[Any, ...]) -> list[Record]:
    """The records `pack_held` gave, as `Held`."""
    table, fieldsets, heads, blob, along, who, starts = packed
    claims = _Claims(blob, table, along, (who, starts))
    fields = [frozenset(f) for f in fieldsets]
    return [_held(kind, key, at, detailed, tuple((k, claims.origin(o)) for k, o in formerly) if formerly else (),
                  claims, n, fields[has], idents)
            for n, (kind, key, at, detailed, formerly, has, idents) in enumerate(heads)]


_KIND, _KEY, _DETAILED, _FORMERLY = (Record.__dict__[n].__set__ for n in ("kind", "key", "detailed", "formerly"))
_FROM, _N, _AT, _FIELDS, _IDENTIFIERS = (Held.__dict__[n].__set__ for n in (
    "_from", "_n", "_at", "_fields", "identifiers"))


def _held(kind: str, key: str, at: int, detailed: bool, formerly: tuple[tuple[str, Origin], ...], claims: _Claims,
          n: int, fields: frozenset[str], identifiers: tuple[str, ...]) -> Held:
    """A `Held`, its slots set one by one rather than through a frozen dataclass's `__init__`: more than twice as
    fast, and a hundred thousand are made at every edit."""
    held = object.__new__(Held)
    _KIND(held, kind), _KEY(held, key), _DETAILED(held, detailed), _FORMERLY(held, formerly)
    _FROM(held, claims), _N(held, n), _AT(held, at), _FIELDS(held, fields), _IDENTIFIERS(held, identifiers)
    return held


def _size(part: list[Mapping]) -> int:
    """How many bytes the files of a part hold (its read takes about as long)."""
    total = 0
    for mapping in part:
        for path in mapping.files:
            with contextlib.suppress(OSError):
                total += path.stat().st_size
    return total


def _write_entries_to(out: BinaryIO, said: list[Note], entries: Entries) -> None:
    """`write_entries` into a file shared with the build (a worker's: written through before it exits)."""
    write_entries(out, said, entries)
    out.flush()


def write_entries(out: BinaryIO, said: list[Note], entries: Entries) -> None:
    """What a part's rows said (`read_entries`) and the notes their read made, into `out`: as plain tuples, a chunk
    at a time, each chunk pickled on its own with the origins it names (read back a chunk at a time,
    `read_entries_back`, they are never all held as tuples at once; a chunk the next read gives alike is found by
    its bytes, `reread`). What a read needs of them afterwards, not where the read was (the rows it saw, the actors
    billed so far)."""
    pickler = packer(out)
    pickler.dump(said)
    items = iter(entries.items())
    while chunk := list(itertools.islice(items, _CHUNK)):
        origins: dict[Origin, int] = {}
        at = _numbering(origins)
        rows = [(source, kind, key, at(e.origin), e.label, e.strong | e.undated << 1,  # (flags: one small int)
                 tuple((v.field, _pack_value(v.value), at(v.origin)) for v in e.values.values()))
                for (source, kind, key), e in chunk]
        packed = io.BytesIO()
        packer(packed).dump(([tuple(o) for o in origins], rows))
        pickler.dump(packed.getvalue())
    pickler.dump(None)


def _entry_chunks(src: BinaryIO) -> tuple[list[Note], Iterator[bytes]]:
    """The notes `write_entries` wrote, and each chunk of entries it wrote (pickled)."""
    unpickler = pickle.Unpickler(src)
    said: list[Note] = unpickler.load()

    def chunks() -> Iterator[bytes]:
        while (data := unpickler.load()) is not None:
            yield data

    return said, chunks()


def _unpack_entries(data: bytes, out: Entries) -> None:
    """The entries of one chunk `write_entries` wrote, into `out`; the names they repeat (sources, kinds, fields,
    files) one object each, as they were when read (pickled without a memo, each would come back a copy)."""
    table, rows = pickle.loads(data)
    one = sys.intern
    origins = [Origin(one(o[0]), *o[1:]) for o in table]
    for source, kind, key, at, label, flags, values in rows:
        source, kind = one(source), one(kind)
        entry = out[(source, kind, key)] = Entry(kind, key, origins[at], label, bool(flags & 1),
                                                 undated=bool(flags & 2))
        for f, v, o in values:
            value = _unpack_value(v)
            f = one(f)
            entry.values[(f, value)] = Value(f, value, origins[o])


@dataclass
class _Head(Entry):
    """An entry read back without its values but for a person's names (what identities are worked out from): its
    values are unpacked (`_Lazy.filled`) only for a record an edit makes again; `chunk`: where in `_Lazy` they are."""

    chunk: int = -1


class _Lazy:
    """The chunks of entries read back as `_Head`s, by number, for those an edit needs whole (`filled`)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def heads(self, data: bytes, out: Entries) -> None:
        """The entries of one chunk `write_entries` wrote, as `_Head`s, into `out`."""
        chunk = len(self.chunks)
        self.chunks.append(data)
        table, rows = pickle.loads(data)
        one = sys.intern

        def origin(at: int) -> Origin:
            return Origin(one(table[at][0]), *table[at][1:])

        for source, kind, key, at, label, flags, values in rows:
            kind = one(kind)
            head = out[(one(source), kind, key)] = _Head(kind, key, origin(at), label, bool(flags & 1),
                                                         undated=bool(flags & 2), chunk=chunk)
            if kind == "person":  # (`lost_letters` asks a person's names)
                for f, packed, where in values:
                    if f == "name":
                        value = _unpack_value(packed)
                        head.values[("name", value)] = Value("name", value, origin(where))

    def filled(self, entries: Entries, names: Iterable[tuple[str, str, str]] | None = None) -> None:
        """The `_Head`s of `entries` (of those `names`, when given) replaced by their whole entries, each chunk they
        are in unpacked once."""
        chunks = sorted({e.chunk for e in (entries.values() if names is None else map(entries.__getitem__, names))
                         if type(e) is _Head})
        for n in chunks:
            whole: Entries = {}
            _unpack_entries(self.chunks[n], whole)
            for name, entry in whole.items():
                if type(head := entries.get(name)) is _Head and head.chunk == n:
                    entries[name] = entry

    def heads_back(self, src: BinaryIO) -> tuple[list[Note], Entries]:
        """The notes and entries `write_entries` wrote, the entries as `_Head`s."""
        said, chunks = _entry_chunks(src)
        out: Entries = {}
        for data in chunks:
            self.heads(data, out)
        return said, out


def _making(entries: Entries, rename: dict[tuple[str, str], str], wanted: set[tuple[str, str]]
            ) -> list[tuple[str, str, str]]:
    """The names of the entries that make the records `wanted` (kind and key, once renamed), in the entries' order:
    looked up by key rather than by testing each entry read (a row edited in a file of 100,000)."""
    keys: dict[tuple[str, str], list[str]] = {}  # a record wanted -> the keys of the entries that make it
    for kind, key in wanted:
        if (kind, key) not in rename:  # (an entry of this key renamed makes another record)
            keys.setdefault((kind, key), []).append(key)
    for (kind, key), to in rename.items():
        if (kind, to) in wanted:
            keys.setdefault((kind, to), []).append(key)
    sources = {source for source, _, _ in entries}
    found = {(source, kind, key) for (kind, _), each in keys.items() for key in each for source in sources}
    found.intersection_update(entries)
    if len(found) < 2:
        return list(found)
    place = {name: n for n, name in enumerate(entries)}
    return sorted(found, key=place.__getitem__)


def read_entries_back(src: BinaryIO) -> tuple[list[Note], Entries]:
    """The notes and entries `write_entries` wrote."""
    said, chunks = _entry_chunks(src)
    out: Entries = {}
    for data in chunks:
        _unpack_entries(data, out)
    return said, out


def _exactly(entry: Entry) -> list[tuple[Any, ...]]:
    """An entry's values as told apart exactly (Decimal("10.0") and Decimal("10.00") are equal, not alike)."""
    return [(v.field, type(v.value), repr(v.value), v.origin) for v in entry.values.values()]


def _alike(a: Entry, b: Entry) -> bool:
    """Whether two entries say the same (what `write_entries` keeps of them)."""
    return a.origin == b.origin and a.label == b.label and a.strong == b.strong and a.undated == b.undated and \
        _exactly(a) == _exactly(b)


def key_of(mappings: list[Mapping], root: Path, context: str) -> str:
    """The name what these mappings' rows said is kept under: a digest of the mappings and every file they read
    (paths as the records' origins name them, and bytes), and of `context` (kg and its settings)."""
    parts = [context.encode()]
    for mapping in mappings:
        for path in (mapping.path, *mapping.files):
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            parts += [str(shown).encode(), mapping.display.encode(), path.read_bytes()]
    return f"entries-{digest(*parts)}.pickle"


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root) if path.is_relative_to(root) else path)


def mappings_of(mappings: list[Mapping], root: Path, context: str) -> str:
    """A digest of the mappings themselves (and of the names of the files they read, not their bytes)."""
    parts = [context.encode()]
    for mapping in mappings:
        parts += [_shown(mapping.path, root).encode(), mapping.display.encode(), mapping.path.read_bytes(),
                  *(_shown(path, root).encode() for path in mapping.files)]
    return digest(*parts)


def tapes_of(name: str) -> str:
    """The name the tapes of a part's rows are kept under, beside its entries (`name`)."""
    return "tapes-" + name.removeprefix("entries-")


def _adds_to(path: Path) -> str | None:
    """The name of the file of all the tapes a kept file of tapes adds to (None: it has them all)."""
    with path.open("rb") as f:
        adds_to: str | None = pickle.load(f)
    return adds_to


def _tapes_file(path: Path) -> tuple[str | None, dict[bytes, Tape]]:
    """A kept file of tapes (`_TapesOut`): the name of the file of all the tapes it adds to (None: it has them
    all), and its tapes."""
    tapes: dict[bytes, Tape] = {}
    with path.open("rb") as f:
        unpickler = pickle.Unpickler(f)
        adds_to: str | None = unpickler.load()
        while (batch := unpickler.load()) is not None:
            tapes.update(batch)
    return adds_to, tapes


class _TapesOut:
    """A file of tapes, made as a read gives them (`bulk.Tapes`): the name of the file of all the tapes it adds to
    (None: it has them all), then its tapes, a batch at a time, then None."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.open("wb")
        self.pickler = packer(self.file)
        self.begun = False

    def batch(self, tapes: dict[bytes, Tape]) -> None:
        if not self.begun:
            self.pickler.dump(None)
            self.begun = True
        self.pickler.dump(tapes)

    def close(self, adds_to: str | None, new: dict[bytes, Tape] | None) -> None:
        if not self.begun:
            self.pickler.dump(adds_to)
        if new:
            self.pickler.dump(new)
        self.pickler.dump(None)
        self.file.close()

    def restart(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.pickler = packer(self.file)
        self.begun = False


READING = "reading.pickle"  # what the read of the bulk files was, kept for the next build to patch its records


@dataclass
class _Reading:
    """What a build read of the bulk files: its context, each part's mappings (`mappings_of`) and the name its rows'
    entries are kept under, the name its records are kept under, what renamed records, and how many of the notes
    kept with the records (the last ones) say a record had no name."""

    context: str
    parts: list[tuple[str, str]]
    records: str
    rename: dict[tuple[str, str], str]
    nameless: int


@dataclass
class _Before:
    """What the previous build read, for this one to patch: its reading, its records (`Held`) with each chunk they
    were kept in (packed, and their digests), the notes kept with them, and the entries of the parts read again."""

    reading: _Reading
    records: list[Record]
    chunks: list[tuple[bytes, bytes]]
    said: list[Note]
    # by part read again: each chunk's digest, the chunk (`write_entries`) and its entries as heads (`_Lazy`)
    entries: dict[int, list[tuple[bytes, bytes, Entries]]]


@dataclass
class _Part:
    """What the rows of one part of the mappings (`apart`) said, and the notes their read made; `made` packed, to
    keep; `found`, the previous release's file they were read back from; `refused`, the mapping error that
    stopped their read (message, line)."""

    notes: list[Note] = field(default_factory=list)
    entries: Entries | None = None  # None: only `made` (a worker's answer), unpacked by the build
    made: bytes | None = None
    found: Path | None = None
    refused: MappingError | None = None
    spilled: BinaryIO | None = None  # `made`, once read: in a file until kept
    writing: Callable[[], object] | None = None  # waits for the worker writing `spilled` (the build's own read)
    tapes: Path | None = None  # the file of the tapes of the rows read (`_TapesOut`), until kept


_TOKEN = 16  # bytes of a record's digest
# free memory, in copies of the build's own, that packing the records read in a worker needs (its copy of the pages
# of the records it reads, and room for the rest of the build beside it); else the build packs them itself
_PACKING_ROOM = 3


def told(record: Record) -> bytes:
    """A digest of a record's contents (origins included): what tells it from any other."""
    made = io.BytesIO()
    packer(made).dump(pack([record]))
    return hashlib.blake2b(made.getvalue(), digest_size=_TOKEN).digest()


def _spill(data: bytes, where: Path | None) -> BinaryIO:
    """`data` in an unnamed temporary file (in `where` when it is a folder): held until kept, not in memory (at a
    million films, what a build keeps of its read is more than a gigabyte)."""
    spilled = tempfile.TemporaryFile(dir=where if where is not None and where.is_dir() else None)
    spilled.write(data)
    return spilled


def _write_spilled(spilled: BinaryIO, path: Path) -> None:
    spilled.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(spilled, out, 1 << 20)
    spilled.close()


def _chunk_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_TOKEN).digest()


def _chunks(path: Path, said: list[Note] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """A kept file's chunks: each one's packed records (pickled) and the digest of each record (`told`); the notes
    the read made go to `said`."""
    with path.open("rb") as f:
        unpickler = pickle.Unpickler(f)
        notes, count = unpickler.load()
        if said is not None:
            said.extend(notes)
        for _ in range(count):
            data, tokens = unpickler.load()
            yield data, tokens


class _Ends:
    """The two ends of the chunks still to pack, shared with a forked worker: the worker packs them from the front,
    this process from the back once it has nothing else to do, and each chunk is packed once."""

    def __init__(self, count: int) -> None:
        self.lock = multiprocessing.get_context("fork").Lock()
        self.ends = mmap.mmap(-1, 16)  # anonymous and shared: the worker's moves are seen here
        self.ends[:] = struct.pack("<qq", 0, count)

    def take(self, front: bool) -> int | None:
        """The next chunk from one end, None when none is left."""
        with self.lock:
            first, end = (int(x) for x in struct.unpack("<qq", self.ends[:]))
            if first >= end:
                return None
            if front:
                self.ends[:8] = struct.pack("<q", first + 1)
                return first
            self.ends[8:] = struct.pack("<q", end - 1)
            return end - 1


def _joined(said: list[Note], chunks: Iterable[tuple[bytes, bytes]], count: int, where: Path | None
            ) -> tuple[BinaryIO, bytes]:
    """What is kept of the records read (the notes their read made, then each of the `count` chunks) in an unnamed
    temporary file (`_spill`), written as the chunks come rather than joined in memory first (at 100,000 films the
    joined copies were 150 MB of the read's peak); and the digest of each record."""
    spilled = _spill(b"", where)
    pickler = packer(spilled)
    pickler.dump((said, count))
    tokens = bytearray()
    for chunk in chunks:
        pickler.dump(chunk)
        tokens += chunk[1]
    return spilled, bytes(tokens)


class Remembered:
    """Reads bulk files as `read_bulk` does, unless the previous release kept their records (in `previous`, a
    release's kept/ folder); when it did not, what the rows of each unchanged mapping said is read back, and only
    the others' files are read (by up to `processes` workers). What it read or read back is kept for the next
    build by `keep`. Each record read is told by a digest of its contents (`token`), kept with it: a record read
    back needs no packing to be told."""

    def __init__(self, root: Path, context: str, previous: Path | None, processes: int = 1,
                 spill: Path | None = None, idle: Callable[[], bool] = lambda: False) -> None:
        self.root, self.context, self.previous, self.processes = root, context, previous, processes
        self.idle = idle  # a step of work for while workers read bulk files again (True: there is more)
        self.spill = spill  # where what is to be kept waits for `keep` (the temporary folder when not a folder)
        self.name: str | None = None
        self.found: Path | None = None  # the previous release's file, read back
        self.made: BinaryIO | None = None  # what this build read, to keep
        self.parts: dict[str, _Part] = {}  # by name: what each part of the mappings said (to keep)
        self._tokens = bytearray()  # the digest of each record read, in order
        self._records: list[Record] = []  # every record read, in order: held, so that no other takes its id()
        self._at: dict[int, int] = {}  # id() of a record read -> its place in `_records`
        self._read: list[Record] = []  # the records read, until they are packed and told
        self._packing: Callable[[], dict[int, tuple[bytes, bytes]]] | None = None  # waits for the worker packing
        self._ends: _Ends | None = None  # the chunks the worker and this process have yet to pack
        self._said: list[Note] = []  # the notes the read made
        self._beside = contextlib.ExitStack()  # the worker packing them, stopped by `close`
        self._before: _Before | None = None  # what the previous build read, to patch (read while workers read)
        self._lazy = _Lazy()  # the chunks of the entries read back as heads, while the bulk files are read
        self.reading: _Reading | None = None  # what this build read, to keep
        self.reading_found: Path | None = None  # the previous release's reading, when its records were read back
        self._tapes_dir: Path | None = None  # where the tapes of the rows read wait until kept

    def token(self, record: Record) -> bytes | None:
        """The digest of this record's contents (`told`) when it is the very object read (not one the build made
        or rewrote since, whose contents it would not be); else None."""
        if self._packing is not None:
            self.settle()
        n = self._at.get(id(record))  # no other object has this id: the record read is held
        if n is None:
            return None
        return bytes(self._tokens[n * _TOKEN:(n + 1) * _TOKEN])

    def tokens(self, records: list[Record]) -> list[bytes | None]:
        """`token` of each of these records, at once."""
        if self._packing is not None:
            self.settle()
        at, told = self._at, bytes(self._tokens)
        return [told[n * _TOKEN:(n + 1) * _TOKEN] if (n := at.get(id(r))) is not None else None for r in records]

    def forget(self) -> None:
        """Let go of the records read (once mapped, nothing asks for their tokens)."""
        self._tokens, self._records, self._at = bytearray(), [], {}

    def _know(self, records: list[Record], tokens: bytes) -> None:
        if len(tokens) != len(records) * _TOKEN:
            raise ValueError("a chunk's records and digests do not match")
        for record in records:
            self._at[id(record)] = len(self._records)
            self._records.append(record)
        self._tokens += tokens

    def _previous_tokens(self) -> dict[bytes, bytes]:
        """By the digest of a chunk the previous release kept, its records' digests (to tell an unchanged chunk's
        records without packing each again); empty when there is none to read."""
        found: dict[bytes, bytes] = {}
        try:
            for path in sorted(self.previous.glob("bulk-*.pickle")) if self.previous is not None else []:
                for data, tokens in _chunks(path):
                    found[_chunk_digest(data)] = tokens
        except UNREADABLE:
            return {}
        return found

    def read(self, mappings: list[Mapping], parsers: dict[str, Callable[[Any], Any]],
             notes: list[Note], hand: AbstractSet[tuple[str, str]] = frozenset(),
             kept_apart: Apart = frozenset(), spelled: Spelled = MappingProxyType({})) -> list[Record]:
        """Every record the mappings' files describe, with the notes on them (`read_bulk`'s); which of their keys
        hand-written records have (`hand`), and which pairs the curators keep apart, decide identities too, so the
        records kept depend on them."""
        parts = apart(mappings)
        names = [key_of(part, self.root, self.context) for part in parts]
        # (not what the records say, which an edit keeps, but for hand-written people's names)
        keys = "\n".join([*sorted(f"{kind}/{key}" for kind, key in hand),
                          *sorted(" ".join(sorted(f"{k}/{v}" for k, v in pair)) for pair in kept_apart),
                          *sorted(f"{k}/{v}\t{chr(31).join(n)}" for (k, v), n in spelled.items())])
        self.name = f"bulk-{digest(*(n.encode() for n in names), keys.encode())}.pickle"
        if self.previous is not None and (self.previous / self.name).is_file():
            said: list[Note] = []
            try:
                records = []
                for data, tokens in _chunks(self.previous / self.name, said):
                    records += (chunk := unpack_held(pickle.loads(data)))
                    self._know(chunk, tokens)
            except UNREADABLE:
                self.forget()  # unreadable: read the files again
            else:
                notes.extend(said)
                self.found = self.previous / self.name
                self.reading_found = self.previous / READING if (self.previous / READING).is_file() else None
                # what the rows said is kept on too, for the build that reads one of the files again
                self.parts = {n: _Part(found=self.previous / n) for n in names if (self.previous / n).is_file()}
                return records
        before = len(notes)
        entries, changed = self._entries(parts, names, parsers, notes)
        rename = renames(entries, notes, hand, kept_apart, spelled)
        digests = [mappings_of(part, self.root, self.context) for part in parts]
        patched = self._patched(entries, changed, rename, notes, digests, names)
        if patched is None:
            self._lazy.filled(entries)  # the records are all made anew
        self._lazy = _Lazy()
        if patched is not None:
            records, tokens, chunks, nameless = patched
            self._know(records, tokens)
            self.made = _joined(notes[before:], chunks, len(chunks), self.spill)[0]
            self.reading = _Reading(self.context, list(zip(digests, names, strict=True)), self.name, rename, nameless)
            return records
        named = len(notes)
        records = records_of(mappings, entries, notes, rename)
        said = notes[before:]
        self.reading = _Reading(self.context, list(zip(digests, names, strict=True)), self.name, rename,
                                len(notes) - named)
        self._read, self._said = records, said
        if self.processes > 1 and room_for_copies(_PACKING_ROOM):
            # packed by a worker while this process resolves identities and checks references (and then helps)
            ends = self._ends = _Ends(-(-len(records) // _CHUNK))
            self._packing = self._beside.enter_context(background(lambda _: self._pack_from(records, ends),
                                                                  self.processes, "pack"))
        else:
            earlier = self._previous_tokens()
            count = -(-len(records) // _CHUNK)
            self._settle(_joined(said, (self._pack_chunk(records, n, earlier) for n in range(count)), count,
                                 self.spill))
        return records

    def _reading(self) -> _Reading | None:
        """What the previous build read (made by the same kg with the same settings), if it kept it."""
        if self.previous is None:
            return None
        try:
            reading = pickle.loads((self.previous / READING).read_bytes())
        except UNREADABLE:
            return None
        return reading if isinstance(reading, _Reading) and reading.context == self.context else None

    def _tapes_before(self, parts: list[list[Mapping]], n: int) -> tuple[dict[bytes, Tape], set[bytes], str] | None:
        """The tapes of the rows the previous build read for the `n`th part, when it read it with the same
        mappings; the rows whose tapes are in the file of them all, and its name."""
        reading = self._reading()
        if self.previous is None or reading is None or len(reading.parts) != len(parts) or reading.parts[n][
                0] != mappings_of(parts[n], self.root, self.context):
            return None
        name = tapes_of(reading.parts[n][1])
        try:
            adds_to, found = _tapes_file(self.previous / name)
            if adds_to is not None:
                new, (further, found) = found, _tapes_file(self.previous / adds_to)
                if further is not None:
                    return None  # (never written so)
            whole = set(found)
            if adds_to is not None:
                found.update(new)
        except UNREADABLE:
            return None
        return found, whole, adds_to or name

    def _load_before(self, parts: list[list[Mapping]], names: list[str], fresh: list[int]) -> None:
        """Read what the previous build read (`_Before`) when it read the same parts with the same mappings (those
        not read again unchanged): the parts read again may only have changed a few records."""
        reading = self._reading()
        if self.previous is None or not fresh or reading is None:
            return
        try:
            if len(reading.parts) != len(parts) or any(n not in fresh and reading.parts[n][1] != names[n]
                                                       for n in range(len(parts))):
                return
            if any(reading.parts[n][0] != mappings_of(parts[n], self.root, self.context) for n in fresh):
                return
            entries: dict[int, list[tuple[bytes, bytes, Entries]]] = {}
            for n in fresh:  # as heads (while a worker reads the part again): unpacked whole only where it differs
                with (self.previous / reading.parts[n][1]).open("rb") as src:
                    entries[n] = []
                    for data in _entry_chunks(src)[1]:
                        heads: Entries = {}
                        self._lazy.heads(data, heads)
                        entries[n].append((_chunk_digest(data), data, heads))
            said: list[Note] = []
            chunks, records = [], []
            for data, tokens in _chunks(self.previous / reading.records, said):
                chunks.append((data, tokens))
                records += unpack_held(pickle.loads(data))
        except UNREADABLE:
            return  # unreadable: the records are made anew
        self._before = _Before(reading, records, chunks, said, entries)

    def _patched(self, entries: Entries, changed: list[tuple[str, str, str]] | None,
                 rename: dict[tuple[str, str], str],
                 notes: list[Note], digests: list[str], names: list[str]
                 ) -> tuple[list[Record], bytes, list[tuple[bytes, bytes]], int] | None:
        """The records the entries make, as the previous build's with those whose entries changed (`changed`, found
        by `_reread`) made again (and their chunks packed again): when the parts read again name the same records
        in the same order, and rename the same ones, and every record changed still has a name. Else None: the
        records are all made anew. Gives the records, the digest of each, the chunks to keep, and how many notes
        say a record had no name (the previous build's, added to `notes`)."""
        before, self._before = self._before, None
        if before is None or changed is None or before.reading.rename != rename or any(
                before.reading.parts[n] != (digests[n], names[n]) for n in range(len(names))
                if n not in before.entries):
            return None
        places = {(r.kind, r.key): n for n, r in enumerate(before.records)}
        records = list(before.records)
        replaced: set[int] = set()
        skipped: list[Note] = []
        wanted = {(kind, rename.get((kind, key), key)) for _, kind, key in changed}
        making = _making(entries, rename, wanted)
        self._lazy.filled(entries, making)
        made = grouped({name: entries[name] for name in making}, rename)
        if any(type(entry) is _Head for said in made.values() for _, entry in said):
            raise AssertionError("an entry of a record made again was not unpacked")
        for (kind, key), said in made.items():
            record = record_of(kind, key, said, rename, skipped)
            if record is None or (kind, key) not in places:
                return None  # a record gone or new: the notes on nameless records are not the previous build's
            records[places[(kind, key)]] = record
            replaced.add(places[(kind, key)])
        chunks, tokens, start = [], bytearray(), 0
        for data, told_before in before.chunks:
            end = start + len(told_before) // _TOKEN
            if replaced.isdisjoint(range(start, end)):
                chunks.append((data, told_before))
            else:
                packed = io.BytesIO()
                packer(packed).dump(pack_held(records[start:end]))
                told_now = b"".join(told(records[n]) if n in replaced else told_before[
                    (n - start) * _TOKEN:(n - start + 1) * _TOKEN] for n in range(start, end))
                chunks.append((packed.getvalue(), told_now))
            tokens += chunks[-1][1]
            start = end
        if start != len(records):
            return None
        nameless = before.reading.nameless
        notes.extend(before.said[len(before.said) - nameless:] if nameless else [])
        return records, bytes(tokens), chunks, nameless

    def _pack_chunk(self, records: list[Record], n: int, earlier: dict[bytes, bytes]) -> tuple[bytes, bytes]:
        """The `n`th chunk of the records packed to keep, and the digest of each record (`told`, unless a chunk the
        previous release kept, `earlier`, was packed alike)."""
        chunk = records[n * _CHUNK:(n + 1) * _CHUNK]  # the packed tuples of all the records are never held at once
        packed = io.BytesIO()
        packer(packed).dump(pack_held(chunk))
        data = packed.getvalue()
        return data, earlier.get(_chunk_digest(data)) or b"".join(told(r) for r in chunk)

    def _pack_from(self, records: list[Record], ends: _Ends) -> dict[int, tuple[bytes, bytes]]:
        """In the worker: the chunks it packed, taken from the front until none is left."""
        earlier = self._previous_tokens()
        done = {}
        while (n := ends.take(front=True)) is not None:
            done[n] = self._pack_chunk(records, n, earlier)
        return done

    def _settle(self, packed: tuple[BinaryIO, bytes]) -> None:
        self.made, tokens = packed
        self._know(self._read, tokens)
        self._read = []

    def settle(self) -> None:
        """Wait for the records read to be packed (by a worker, which this process helps from the other end of the
        chunks), if they are being: their tokens are known then."""
        if self._packing is not None and self._ends is not None:
            waiting, ends, self._packing, self._ends = self._packing, self._ends, None, None
            try:
                mine = {}
                while (n := ends.take(front=False)) is not None:
                    mine[n] = self._pack_chunk(self._read, n, {})  # told afresh: cheaper than reading `earlier`
                theirs = waiting()
                count = -(-len(self._read) // _CHUNK)  # (each let go of once written)
                self._settle(_joined(self._said, (mine.pop(n) if n in mine else theirs.pop(n) for n in range(count)),
                                     count, self.spill))
                self._written()
            finally:
                self._beside.close()
        self._written()

    def _written(self) -> None:
        """Wait for what this process read to be written to keep, by the workers writing it."""
        for part in self.parts.values():
            if (wait := part.writing) is not None:
                part.writing = None
                wait()

    def close(self) -> None:
        """Stop packing the records read, if a worker still is (the build failed); remove the tapes not kept."""
        self._packing = None
        self._beside.close()
        if self._tapes_dir is not None:
            shutil.rmtree(self._tapes_dir, ignore_errors=True)
            self._tapes_dir = None

    def _taping(self) -> Path:
        """The folder the tapes of the rows read wait in (a temporary one: the releases' folder is swept of
        leftovers when the release is begun, after the read)."""
        if self._tapes_dir is None:
            self._tapes_dir = Path(tempfile.mkdtemp(prefix="kg-tapes-"))
        return self._tapes_dir

    def _entries(self, parts: list[list[Mapping]], names: list[str], parsers: dict[str, Callable[[Any], Any]],
                 notes: list[Note]) -> tuple[Entries, list[tuple[str, str, str]] | None]:
        """What the rows of every mapping said, in order: each part's read back when the previous release kept it,
        else read (the parts to read, in workers while this process reads back the others, and what the previous
        build read, to patch); and the entries that changed since the previous build (None: not known)."""
        build = os.getpid()

        def read(n: int) -> _Part:
            if (back := kept(n)) is not None:
                return back
            said: list[Note] = []
            before = self._tapes_before(parts, n)
            path = self._taping() / f"part-{n}.pickle"
            out = _TapesOut(path)
            # the tapes new since a file of them all, unless it is this part's own (an edit undone)
            tapes = Tapes(None, out) if before is None else Tapes(before[0], out, *before[1:]) if before[
                2] != tapes_of(names[n]) else Tapes(before[0], out)
            try:
                found = read_entries(parts[n], parsers, said, tapes)
            except MappingError as exc:  # raised by the build, in the mappings' order (not in the order reads end)
                return _Part(refused=exc)
            if os.getpid() == build:
                spilled = _spill(b"", self.spill)
                if self.processes > 1 and room_for_copies(_PACKING_ROOM):
                    # read here: what to keep of it is written by a worker, while this process goes on
                    writing = self._beside.enter_context(background(
                        lambda _: _write_entries_to(spilled, said, found), self.processes, "keep"))
                    return _Part(said, found, spilled=spilled, writing=writing, tapes=path)
                write_entries(spilled, said, found)  # into the file: never held packed in memory beside the objects
                return _Part(said, found, spilled=spilled, tapes=path)
            made = io.BytesIO()
            write_entries(made, said, found)
            # a worker sends what it read packed: the objects themselves would take longer to send than to unpack
            return _Part(said, None, made.getvalue(), tapes=path)

        def kept(n: int) -> _Part | None:
            path = self.previous / names[n] if self.previous is not None else None
            if path is None or not path.is_file():
                return None
            try:
                with path.open("rb") as src:  # (as heads when the records will be patched: few are made again)
                    said, entries = self._lazy.heads_back(src) if patching else read_entries_back(src)
                return _Part(said, entries, found=path)
            except UNREADABLE:
                return None  # unreadable: read the files again

        fresh = [n for n, name in enumerate(names) if self.previous is None or not (self.previous / name).is_file()]
        if fresh:
            self._taping()  # made here: the workers write in it
        entries: Entries = {}
        changed: list[tuple[str, str, str]] | None = []  # None: not known (the records are made anew)
        asked = False

        def meanwhile() -> bool:  # while workers read: what the previous build read; then the build's `idle` work
            nonlocal asked
            if not asked:
                asked = True
                self._load_before(parts, names, fresh)
                return True
            return self.idle()

        # with what the previous build read to load meanwhile, even one part is read by a worker; else, with every
        # part to read and no more of them than processes, this process reads the largest itself (nothing to send back)
        patching = bool(fresh) and self._reading() is not None
        aside = meanwhile if patching else None
        # (never with more: the workers' next parts would wait for this process's read to end)
        alone = aside is None and len(fresh) == len(parts) <= self.processes
        mine = max(fresh, key=lambda n: _size(parts[n])) if alone else None
        refused: list[MappingError] = []  # every mapping's problems told at once, in the mappings' order
        for n, (name, part) in enumerate(zip(names, parallel(read, len(parts), self.processes if len(fresh) > 0 else 1,
                                                             "read", first=fresh, here=kept, meanwhile=aside,
                                                             mine=mine),
                                             strict=True)):
            if part.refused is not None or refused:
                refused += [part.refused] if part.refused is not None else []
                continue
            if part.found is None and not asked:
                meanwhile()  # no worker read meanwhile
            if part.found is None and changed is not None:
                again = self._reread(n, part)
                changed = None if again is None else changed + again
            if part.entries is None:
                part.notes, part.entries = read_entries_back(io.BytesIO(part.made or b""))
            if part.made is not None:
                part.spilled, part.made = _spill(part.made, self.spill), None
            notes.extend(part.notes)
            entries.update(part.entries)
            part.entries = None  # held by `entries` now
            self.parts[name] = part
        if refused:
            raise MappingError(str(refused[0]), refused[0].line, (*refused[0].more, *refused[1:]))
        return entries, changed

    def _reread(self, n: int, part: _Part) -> list[tuple[str, str, str]] | None:
        """For a part read again, the entries that changed since the previous build read it, its entries (in
        `part`) made of the previous build's where a chunk of them is alike; None when the previous build did not
        read it or its entries are not the same ones in the same order."""
        old = self._before.entries.get(n) if self._before is not None else None
        if old is None:
            return None
        if part.made is not None:
            src: BinaryIO = io.BytesIO(part.made)
        elif part.spilled is not None and part.writing is None:  # read by this process, written into its file
            part.spilled.seek(0)
            src = part.spilled
        else:
            return None
        said, chunks = _entry_chunks(src)
        data = list(chunks)
        if len(data) != len(old):
            return None
        out: Entries = {}
        changed = []
        for data_now, (digest_then, data_then, heads) in zip(data, old, strict=True):
            if _chunk_digest(data_now) == digest_then:
                out.update(heads)  # alike: the same entries, in the same order
                continue
            found: Entries = {}
            then: Entries = {}
            _unpack_entries(data_now, found)
            _unpack_entries(data_then, then)
            if list(found) != list(then):
                return None
            changed += [key for key, entry in found.items() if not _alike(entry, then[key])]
            out.update(found)
        part.notes, part.entries = said, out
        return changed

    def keep(self, into: Path) -> None:
        """Keep the records in a release's kept/ folder (a link to the previous release's file when read back)."""
        self.settle()
        if self.name is None:
            return
        for name, part in self.parts.items():
            if part.found is not None:
                link(part.found, into / name)
                if (tapes := part.found.with_name(tapes_of(part.found.name))).is_file():
                    link(tapes, into / tapes.name)
            elif part.spilled is not None:
                _write_spilled(part.spilled, into / name)
            if part.tapes is not None:
                shutil.move(part.tapes, into / tapes_of(name))
            with contextlib.suppress(*UNREADABLE):
                adds_to = _adds_to(into / tapes_of(name)) if (into / tapes_of(name)).is_file() else None
                if adds_to is not None and self.previous is not None and not (into / adds_to).exists():
                    link(self.previous / adds_to, into / adds_to)  # the file the tapes add to, kept beside them
        self.parts = {}
        if self.reading is not None:
            (into / READING).write_bytes(pickle.dumps(self.reading, protocol=pickle.HIGHEST_PROTOCOL))
        elif self.reading_found is not None:
            link(self.reading_found, into / READING)
        if self.found is not None:
            link(self.found, into / self.name)
        elif self.made is not None:
            _write_spilled(self.made, into / self.name)
            self.made = None
