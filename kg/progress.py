"""Progress bars for long stages (on a terminal only, and only once a stage has run for a moment)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from kg.text import visible

T = TypeVar("T")
DELAY = 1.0  # seconds a stage runs before its bar appears: short work stays quiet
_drawn = True  # whether this process draws bars (a build's workers do not: two processes would draw over each other)


def quiet() -> None:
    """Draw no bar in this process from now on (a worker's: the build's own process shows how the tasks go)."""
    global _drawn
    _drawn = False


def _tqdm(**options: Any) -> Any:
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: a build forks its workers, which is only safe without threads
    return tqdm(leave=False, mininterval=0.5, delay=DELAY, file=sys.stderr, dynamic_ncols=True, unit_scale=True,
                **options)


def bar(items: Iterable[T], total: int | None, desc: str, unit: str) -> Iterator[T]:
    """Iterate `items`, showing a bar with count and rate on stderr when it is a terminal and the work is long."""
    if not _drawn or not sys.stderr.isatty():
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    # an unknown total (rows of a file being read) gets a running count and rate
    yield from _tqdm(iterable=items, total=total, desc=f"{desc:<9}", unit=f" {visible(unit)}")


class _Quiet:
    def update(self, n: int = 1) -> None:
        """Count nothing."""


@contextmanager
def counter(desc: str, unit: str, total: int | None = None) -> Iterator[Any]:
    """A bar advanced by `update(n)` (safe from several threads), for work that is not one loop."""
    if not _drawn or not sys.stderr.isatty():
        yield _Quiet()
        return
    with _tqdm(total=total, desc=f"{desc:<9}", unit=f" {unit}") as progress:
        yield progress
