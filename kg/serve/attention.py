"""What needs a curator's attention in a release (written by the build), read a group and a page at a time."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.layout import ATTENTION_FILE
from kg.serve.store import Release


@dataclass(frozen=True)
class Group:
    """One kind of thing to look at: duplicates, unsettled conflicts, junk, warnings..."""

    kind: str
    title: str
    count: int  # all of them (the file may hold fewer items)
    items: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Attention:
    """Every group, and one page of the items of the group asked for."""

    groups: tuple[Group, ...]
    group: Group | None
    items: list[dict[str, Any]]
    page: int
    pages: int


@functools.lru_cache(maxsize=4)  # a release's files never change
def _groups(path: Path) -> tuple[Group, ...]:
    try:
        found = json.loads((path / ATTENTION_FILE).read_text(encoding="utf-8")).get("groups", [])
    except (OSError, ValueError, AttributeError):
        return ()
    return tuple(Group(str(g["kind"]), str(g["title"]), int(g["count"]), tuple(g["items"])) for g in found
                 if isinstance(g, dict))


def attention(release: Release, kind: str | None, page: int, size: int) -> Attention:
    """The groups, and page `page` of the items of group `kind` (the first group's when none is asked for)."""
    groups = _groups(release.path)
    group = next((g for g in groups if g.kind == kind), None) if kind else (groups[0] if groups else None)
    if group is None:
        return Attention(groups, None, [], 1, 0)
    pages = max(1, -(-len(group.items) // size))
    page = min(page, pages)
    return Attention(groups, group, list(group.items[(page - 1) * size:page * size]), page, pages)
