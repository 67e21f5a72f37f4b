"""Notes: what the build did to messy input (merged, skipped, repaired, suspicious), with file and row."""

from __future__ import annotations

from dataclasses import dataclass

from kg.errors import Where

TOLD_FIX = "(`kg duplicates` gives the decision that merges them, or keeps them apart)"  # ends a note of candidates


@dataclass(frozen=True)
class Note:
    """Something the build did to messy input: merged, skipped, repaired or found suspicious."""

    file: str
    row: int | None
    action: str  # merged | skipped | repaired | suspicious
    message: str
    # the pairs of records (kind, key) the note asks the curators about: once a decision settles each (merge or
    # not_same), the note is not told again
    pairs: tuple[frozenset[tuple[str, str]], ...] = ()
    candidates: bool = False  # the pairs are candidate duplicates too: `kg duplicates` lists them, with the fix
    alternatives: bool = False  # one record is one of the others at most: a decision on any pair settles the note

    @property
    def where(self) -> Where:
        return Where(self.file, self.row)

    def __str__(self) -> str:
        return f"{self.where}: {self.action}: {self.message}"
