"""The curator's page: what needs attention in the release being served (duplicates, conflicts, junk, warnings)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, request

from kg.layout import ATTENTION_KINDS
from kg.serve.attention import Attention, attention

from .entities import local, release, whole_number
from .errors import error_response
from .render import RELEASE_TAGS, Answer, Json, Page, renders

bp = Blueprint("attention", __name__)
PAGE_SIZE = 50


def _json(found: Attention, kind: str | None) -> Json:
    """The page as JSON: a kind asked for that has nothing (all settled) is an empty list of items, not an error."""
    group = found.group
    return Json({"groups": [{"kind": g.kind, "title": g.title, "count": g.count} for g in found.groups],
                 "kind": group.kind if group else kind, "page": found.page, "pages": found.pages,
                 "items": found.items})


def _page(found: Attention) -> Page:
    kind = found.group.kind if found.group else None
    links = {rel: f"/attention?{urlencode({'kind': kind or '', 'page': n})}"
             for rel, n in (("prev", found.page - 1), ("next", found.page + 1)) if 1 <= n <= found.pages}
    return Page("attention.html", {"found": found, "links": links, "local": local})


@bp.get("/attention")
@renders
def needs_attention() -> Answer:
    """What the curators should look at, by kind, a page at a time (HTML, or JSON for scripts)."""
    rel = release()
    kind = request.args.get("kind") or None
    found = attention(rel, kind, whole_number("page", 1), PAGE_SIZE)
    if kind and found.group is None and kind not in ATTENTION_KINDS:
        abort(error_response(404, f"No kind {kind!r} of things to look at; the kinds are "
                                  f"{', '.join(ATTENTION_KINDS)}."))
    return Answer({"html": lambda: _page(found), "json": lambda: _json(found, kind)}, tags=RELEASE_TAGS)
