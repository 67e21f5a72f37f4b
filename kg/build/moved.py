"""What became of the previous release's IRIs: those merged or renamed redirect, those that vanished are gone."""

from __future__ import annotations

import json
from pathlib import Path

from kg.build.decisions import Merge
from kg.ids import Minter
from kg.layout import INDEX_DIR, MOVED_FILE, PAGES_FILE


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


def _moved_before(release: Path) -> tuple[set[str], set[str]]:
    """The IRIs an earlier release redirected, and those it had as gone."""
    try:
        found = json.loads((release / MOVED_FILE).read_text(encoding="utf-8"))
        redirects, gone = found.get("redirects", {}), found.get("gone", [])
    except (OSError, ValueError, AttributeError):
        return set(), set()
    return ({str(x) for x in redirects} if isinstance(redirects, dict) else set(),
            {str(x) for x in gone} if isinstance(gone, list) else set())


def write(release: Path, previous: Path | None, moves: list[Merge], minter: Minter) -> tuple[list[str], list[str]]:
    """Write the release's redirects and gone IRIs; the IRIs of the previous release that vanished with this one,
    and every IRI that is gone.

    An IRI stays gone in every later release (until an entity has it again), so that the server answers 410
    for it, not 404, however many builds later it is asked for.
    """
    redirects = {minter.entity(*m.retired).value: minter.entity(*m.kept).value for m in moves}
    pages = _pages(release)
    redirected, gone_before = _moved_before(previous) if previous is not None else (set(), set())
    before = _pages(previous) if previous is not None else b""
    # the same pages as before (an edit that named no entity anew): only what the previous release redirected may
    # have vanished, and few IRIs are looked up
    now: set[bytes] | _Paged = _Paged(pages) if before == pages else _entities(pages)
    was = {iri.encode() for iri in redirected} if before == pages else _entities(before) | {
        iri.encode() for iri in redirected}
    vanished = {iri for iri in (x.decode() for x in was if x not in now) if iri not in redirects and minter.owns(iri)}
    gone = sorted(iri for iri in vanished | gone_before if iri not in redirects and iri.encode() not in now)
    (release / MOVED_FILE).write_text(json.dumps({"redirects": dict(sorted(redirects.items())), "gone": gone},
                                                 indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return sorted(vanished), gone
