"""What became of the previous release's IRIs: those merged or renamed redirect, those that vanished are gone."""

from __future__ import annotations

import json
from pathlib import Path

from kg.build.decisions import Merge
from kg.ids import Minter
from kg.layout import INDEX_DIR, MOVED_FILE, PAGES_FILE, listing_file


def _pages(release: Path) -> bytes:
    """A release's pages file (its entity IRIs, a line each), b"" when it has none."""
    try:
        return (release / INDEX_DIR / PAGES_FILE).read_bytes()
    except OSError:
        return b""


def _entities(data: bytes) -> set[bytes]:
    """The entity IRIs of a pages file, UTF-8: bytes, as a hundred thousand lines split and decoded cost more than
    the rest of `write`."""
    return {line.split(b"\t", 1)[0].strip() for line in data.split(b"\n") if line.strip()}


class _Paged:
    """Whether an IRI has a page in a release: looked up in its pages file's bytes, the set of them made once more
    than a few are asked (an edit asks for few: its pages are most often the previous release's, byte for byte)."""

    FEW = 16  # each lookup reads the whole file (a few milliseconds at 100,000 films)

    def __init__(self, data: bytes) -> None:
        self.data, self.asked, self.set = b"\n" + data, 0, None if data else set[bytes]()

    def __contains__(self, iri: object) -> bool:
        self.asked += 1
        if self.set is None and self.asked > self.FEW:
            self.set = _entities(self.data)
        if self.set is not None:
            return iri in self.set
        return isinstance(iri, bytes) and (b"\n" + iri + b"\n" in self.data or b"\n" + iri + b"\t" in self.data)


def _moved_before(release: Path) -> tuple[set[str], set[str], dict[str, str]]:
    """The IRIs an earlier release redirected, those it had as gone, and the names it knew them by."""
    try:
        found = json.loads((release / MOVED_FILE).read_text(encoding="utf-8"))
        redirects, gone, names = found.get("redirects", {}), found.get("gone", []), found.get("gone_names", {})
    except (OSError, ValueError, AttributeError):
        return set(), set(), {}
    return ({str(x) for x in redirects} if isinstance(redirects, dict) else set(),
            {str(x) for x in gone} if isinstance(gone, list) else set(),
            {str(k): v for k, v in names.items() if isinstance(v, str)} if isinstance(names, dict) else {})


def _names_in(release: Path, iris: set[str], minter: Minter) -> dict[str, str]:
    """The names a release's listings give some of its entities (a line of a kind's listing: IRI, tab, name)."""
    by_kind: dict[str, set[bytes]] = {}
    for iri in iris:
        if (kind := minter.kind_of(iri)) is not None:
            by_kind.setdefault(kind, set()).add(iri.encode())
    names: dict[str, str] = {}
    for kind, wanted in sorted(by_kind.items()):
        try:
            with (release / INDEX_DIR / listing_file(kind)).open("rb") as f:
                for line in f:
                    at, _, name = line.rstrip(b"\n").partition(b"\t")
                    if at in wanted and name:
                        names[at.decode()] = name.decode("utf-8", "replace")
        except OSError:  # an older release's, or one without listings: the page says the IRI alone
            continue
    return names


def write(release: Path, previous: Path | None, moves: list[Merge], minter: Minter) -> tuple[list[str], list[str]]:
    """Write the release's redirects and gone IRIs; the IRIs of the previous release that vanished with this one,
    and every IRI that is gone.

    An IRI stays gone in every later release (until an entity has it again), so that the server answers 410
    for it, not 404, however many builds later it is asked for.
    """
    redirects = {minter.entity(*m.retired).value: minter.entity(*m.kept).value for m in moves}
    pages = _pages(release)
    redirected, gone_before, named = _moved_before(previous) if previous is not None else (set(), set(), {})
    before = _pages(previous) if previous is not None else b""
    # the same pages as before (an edit that named no entity anew): only what the previous release redirected may
    # have vanished, and few IRIs are looked up
    now: set[bytes] | _Paged = _Paged(pages) if before == pages else _entities(pages)
    was = {iri.encode() for iri in redirected} if before == pages else _entities(before) | {
        iri.encode() for iri in redirected}
    vanished = {iri for iri in (x.decode() for x in was if x not in now) if iri not in redirects and minter.owns(iri)}
    gone = sorted(iri for iri in vanished | gone_before if iri not in redirects and iri.encode() not in now)
    if vanished and previous is not None:
        named = {**named, **_names_in(previous, vanished, minter)}
    names = {iri: named[iri] for iri in gone if iri in named}  # what the 410 page calls it
    (release / MOVED_FILE).write_text(json.dumps({"redirects": dict(sorted(redirects.items())), "gone": gone,
                                                  "gone_names": names}, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return sorted(vanished), gone
