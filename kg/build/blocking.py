"""Which films and people share a blocking key: an index kept between builds and patched for the records an edit
changed, instead of worked out for every record again."""

from __future__ import annotations

import bisect
import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

Ref = tuple[str, str]  # (kind, record key)

TOKEN = 16  # bytes of a record's token (kg.build.remembered)
_NONE = bytes(TOKEN)  # the token of a record without one: never the same as this build's, so always worked out
PATCHED_MOST = 256  # records changed (or keyed anew) that a patch takes; more, and the index is made anew
_GONE_SHARE = 0.25  # of the records numbered, gone ones that make the index be made anew (to number them again)


def key_hash(kind: str, key: str) -> int:
    """A blocking key as the index holds it: 64 bits of a digest (two keys sharing them share a block; at a few
    million keys, that is about one chance in a million million)."""
    return int.from_bytes(hashlib.blake2b(f"{kind}\0{key}".encode(), digest_size=8).digest(), "big")


@dataclass
class Index:
    """Every blocking key of every record, sorted (`hashes`), each with the number of its record (`owners`); by
    number, each record's kind and key (`refs`; None once gone) and token (`tokens`: what tells it unchanged)."""

    refs: list[Ref | None] = field(default_factory=list)
    tokens: bytearray = field(default_factory=bytearray)
    hashes: array[int] = field(default_factory=lambda: array("Q"))
    owners: array[int] = field(default_factory=lambda: array("Q"))
    token_bytes: int = TOKEN  # (an index of tokens of another size is not this kg's)

    def blocks(self, most: int) -> Iterator[tuple[str, list[str]]]:
        """(kind, keys of the records of that kind sharing a key), for each key shared by 2 to `most` records."""
        hashes, start, end = self.hashes.tolist(), 0, len(self.hashes)
        for at in range(1, end + 1):
            if at == end or hashes[at] != hashes[start]:
                if at - start > 1:
                    by_kind: dict[str, list[str]] = {}
                    for n in self.owners[start:at]:
                        kind, key = self.refs[n]  # type: ignore[misc]
                        by_kind.setdefault(kind, []).append(key)
                    yield from ((kind, keys) for kind, keys in by_kind.items() if 1 < len(keys) <= most)
                start = at


R = TypeVar("R")  # a record


def made(records: Sequence[tuple[str, str, R]], tokens: Sequence[bytes | None],
         keys: Callable[[str, R], Iterable[str]]) -> Index:
    """The index of these records ((kind, key, record) each, with its token in `tokens`; `keys` gives a record's
    blocking keys), made anew."""
    index = Index()
    entries: list[int] = []
    for (kind, key, record), token in zip(records, tokens, strict=True):
        number = len(index.refs)
        index.refs.append((kind, key))
        index.tokens += token or _NONE
        entries += (h << 32 | number for h in {key_hash(kind, k) for k in keys(kind, record)})
    entries.sort()
    index.hashes = array("Q", (e >> 32 for e in entries))
    index.owners = array("Q", (e & 0xFFFFFFFF for e in entries))
    return index


def patched(before: Index, records: Sequence[tuple[str, str, R]], tokens: Sequence[bytes | None],
            keys: Callable[[str, R], Iterable[str]], depends: Callable[[set[Ref]], set[Ref]]
            ) -> tuple[Index, dict[Ref, bytes | None]] | None:
    """`before` patched for these records ((kind, key, record) each, with its token in `tokens`): the keys of those
    changed, new or gone (and of those `depends` says depend on them, given the changed) made again; with the records
    changed, new or gone, each with its token in `before` (None: it had none, or was not there). None when too much
    changed for a patch."""
    numbers = {ref: n for n, ref in enumerate(before.refs) if ref is not None}
    changed: dict[Ref, R] = {}
    present: dict[Ref, R] = {}
    told: dict[Ref, bytes | None] = {}
    tokens_then = before.tokens
    for (kind, key, record), mine in zip(records, tokens, strict=True):
        ref = (kind, key)
        present[ref], told[ref] = record, mine
        n = numbers.get(ref)
        if n is None or mine is None or tokens_then[n * TOKEN:(n + 1) * TOKEN] != mine:
            changed[ref] = record
            if len(changed) > PATCHED_MOST:
                return None
    gone = [ref for ref in numbers if ref not in present]
    redone = changed.keys() | set(gone)
    again = {ref: present[ref] for ref in depends(redone) if ref in present and ref not in changed}
    if len(changed) + len(gone) + len(again) > PATCHED_MOST or \
            sum(ref is None for ref in before.refs) + len(gone) > _GONE_SHARE * len(before.refs):
        return None
    refs, index_tokens = list(before.refs), bytearray(before.tokens)
    hashes, owners = array("Q", before.hashes), array("Q", before.owners)
    out = {numbers[ref] for ref in redone | again.keys() if ref in numbers}
    at_out = _positions(owners, out)
    hashes, owners = _without(hashes, at_out), _without(owners, at_out)
    for ref in gone:
        n = numbers[ref]
        refs[n], index_tokens[n * TOKEN:(n + 1) * TOKEN] = None, _NONE
    for ref, record in sorted({**changed, **again}.items()):
        n = numbers.get(ref)
        if n is None:
            n = len(refs)
            refs.append(ref)
            index_tokens += _NONE
        index_tokens[n * TOKEN:(n + 1) * TOKEN] = told[ref] or _NONE
        for h in sorted({key_hash(ref[0], k) for k in keys(ref[0], record)}):
            at = bisect.bisect_right(hashes, h)
            hashes.insert(at, h)
            owners.insert(at, n)
    was = {ref: bytes(before.tokens[n * TOKEN:(n + 1) * TOKEN]) if (n := numbers.get(ref)) is not None else None
           for ref in redone}
    return Index(refs, index_tokens, hashes, owners), {
        ref: None if then == _NONE else then for ref, then in was.items()}


_SEARCHED_MOST = 4  # numbers looked for by a search of the bytes each; for more, one pass in Python is faster


def _positions(numbers: array[int], wanted: set[int]) -> list[int]:
    """Where these numbers are in the array, in order: for a few, found by searching its bytes (a pass in Python
    over a million keys' owners took most of a patch that changed one record)."""
    if len(wanted) > _SEARCHED_MOST:
        return [at for at, n in enumerate(numbers) if n in wanted]
    raw, size, found = numbers.tobytes(), numbers.itemsize, []
    for n in wanted:
        needle = array(numbers.typecode, [n]).tobytes()
        at = raw.find(needle)
        while at != -1:
            if at % size == 0:
                found.append(at // size)
            at = raw.find(needle, at + 1)
    return sorted(found)


def _without(items: array[int], positions: list[int]) -> array[int]:
    """The array without the items at these positions (in order)."""
    out, start = array(items.typecode), 0
    for at in positions:
        out += items[start:at]
        start = at + 1
    return out + items[start:]

