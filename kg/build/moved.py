"""What became of the previous release's IRIs: those merged or renamed redirect, those that vanished are gone."""

from __future__ import annotations

import json
from pathlib import Path

from kg.build.decisions import Merge
from kg.ids import Minter
from kg.layout import INDEX_DIR, MOVED_FILE, PAGES_FILE


def _entities(release: Path) -> set[bytes]:
    """The entity IRIs a release has pages for, UTF-8 (none when it has no index): bytes, as a hundred thousand
    lines split and decoded cost more than the rest of `write`."""
    try:
        data = (release / INDEX_DIR / PAGES_FILE).read_bytes()
    except OSError:
        return set()
    return {line.split(b"\t", 1)[0].strip() for line in data.split(b"\n") if line.strip()}


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
    now = _entities(release)
    redirected, gone_before = _moved_before(previous) if previous is not None else (set(), set())
    before = (_entities(previous) | {iri.encode() for iri in redirected}) if previous is not None else set()
    vanished = {iri for iri in (x.decode() for x in before - now) if iri not in redirects and minter.owns(iri)}
    gone = sorted(iri for iri in vanished | gone_before if iri not in redirects and iri.encode() not in now)
    (release / MOVED_FILE).write_text(json.dumps({"redirects": dict(sorted(redirects.items())), "gone": gone},
                                                 indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return sorted(vanished), gone
