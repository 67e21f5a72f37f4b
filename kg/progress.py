"""Progress bars for long stages (on a terminal only, and only when there is enough work to watch)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
THRESHOLD = 20_000  # items below which a stage is too short to need a bar


def bar(items: Iterable[T], total: int | None, desc: str, unit: str) -> Iterator[T]:
    """Iterate `items`, showing a bar with count and rate on stderr when it is a terminal and the work is long."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    # an unknown total (rows of a file being read) gets a running count and rate
    if (total is not None and total < THRESHOLD) or not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=f"{desc:<9}", unit=f" {unit}", unit_scale=True, leave=False,
                    mininterval=0.5, file=sys.stderr, dynamic_ncols=True)
