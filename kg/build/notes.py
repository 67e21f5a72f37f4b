"""Notes: what the build did to messy input (merged, skipped, repaired, suspicious), with file and row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """Something the build did to messy input: merged, skipped, repaired or found suspicious."""

    file: str
    row: int | None
    action: str  # merged | skipped | repaired | suspicious
    message: str

    def __str__(self) -> str:
        return f"{self.file}{':' + str(self.row) if self.row else ''}: {self.action}: {self.message}"
