"""The release's dumps: correct media types, sizes, Content-Disposition, ETag, Range, gzip on the wire."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_file
from werkzeug.http import parse_range_header

from kg import spliced
from kg.layout import DUMPS, WIRE_DIR
from kg.serve.store import Release

from .compress import accepts_gzip
from .entities import absolute, release
from .errors import error_response
from .render import RELEASE_TAGS, SHARED_CACHE, Answer, Json, Page, renders

bp = Blueprint("downloads", __name__)
BY_NAME = {d.filename: d for d in DUMPS}


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """A size as people read it: 7.3 KB, 36.6 MB (decimal units, as download pages give them)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _sizes(rel: Release) -> dict[str, int]:
    return {d.filename: spliced.size(rel.path / d.filename) for d in DUMPS}


def _listed(rel: Release) -> Json:
    sizes = _sizes(rel)
    return Json({"release": rel.meta.get("id"), "built_at": rel.meta.get("built_at"), "downloads": [
        {"file": d.filename, "url": absolute(f"/download/{d.filename}"), "format": d.format.label,
         "media_type": d.media_type, "content_media_type": d.format.media_type, "gzipped": d.gzipped,
         "named_graphs": d.format.datasets, "bytes": sizes[d.filename]} for d in DUMPS]})


@bp.get("/download/")
@renders
def index() -> Answer:
    """The release's dumps (HTML, or JSON for scripts)."""
    rel = release()
    return Answer({"html": lambda: Page("downloads.html", {"dumps": DUMPS, "sizes": _sizes(rel), "meta": rel.meta}),
                   "json": lambda: _listed(rel)}, tags=RELEASE_TAGS)


def _one_byte_range(header: str) -> bool:
    """Whether a Range header asks for one well-formed byte range (satisfiable or not)."""
    asked = parse_range_header(header)
    return asked is not None and asked.units == "bytes" and len(asked.ranges) == 1


_SUFFIX = re.compile(r"^\s*bytes\s*=\s*-\s*(\d+)\s*$", re.I)  # the last N bytes (RFC 9110 section 14.1.1)


def _precondition_fails(etag: str, modified: float) -> bool:
    """Whether If-Match (compared strongly with `etag`), else If-Unmodified-Since (with `modified`, a time in
    seconds), says no: a 412 that comes before If-None-Match and Range (RFC 9110 section 13.2.2)."""
    if "If-Match" in request.headers:
        return not (request.if_match.star_tag or request.if_match.contains(etag))
    since = request.if_unmodified_since
    return since is not None and int(modified) > since.timestamp()


def _readable(path: Path) -> bool:
    """Whether a file, or the list of a spliced one, is there to be read (a damaged list: the plain dump is sent)."""
    try:
        spliced.size(path)
    except OSError:
        return False
    return True


# the descriptors the spliced dumps this process sends hold at once (each holds its parts open until sent)
DOWNLOADS = spliced.Descriptors()


@bp.get("/download/<path:name>")
def dump(name: str) -> Response:
    found = BY_NAME.get(name)  # only names from the table: nothing else on disk can be reached
    if found is None:
        abort(404, f"No download called {name!r}. Available: {', '.join(BY_NAME)}")
    rel = release()
    path = rel.path / found.filename
    if "Range" in request.headers and (suffix := _SUFFIX.match(request.headers["Range"])) is not None:
        # werkzeug reads bytes=-0 as from the start or as no range (by version), and refuses a suffix longer than
        # the file, which is all of it
        try:
            size = spliced.size(path)
        except OSError:  # the release directory was moved away under a running server
            abort(503, "The release is being replaced; try again in a moment.")
        wanted = int(suffix.group(1))
        request.environ["HTTP_RANGE"] = f"bytes={size}-" if wanted == 0 else "bytes=0-" if wanted >= size else \
            request.environ["HTTP_RANGE"]  # (bytes=<size>- is what werkzeug answers with a 416)
    if "Range" in request.headers and not _one_byte_range(request.headers["Range"]):
        # several ranges, or a header that is no byte range: ignored (RFC 9110 section 14.2), the whole file is sent
        del request.environ["HTTP_RANGE"]
    if "Range" in request.headers and request.headers.get("If-Range", "").lstrip().startswith("W/"):
        del request.environ["HTTP_RANGE"]  # If-Range compares strongly (RFC 9110 section 13.1.5): the whole file
    if "Range" in request.headers and request.if_range.date is not None and \
            int(request.if_range.date.timestamp()) != int(rel.mtime):
        del request.environ["HTTP_RANGE"]  # a date holds only when it is Last-Modified exactly (section 13.1.5)
    ranged = "Range" in request.headers  # a range is of the file itself, never of its gzip copy
    if ranged and (request.if_none_match.star_tag or request.if_none_match.contains_weak(
            f"{rel.etag}-{found.filename}")):
        del request.environ["HTTP_RANGE"]  # If-None-Match comes before Range (RFC 9110 section 13.2.2): a 304
    wire = rel.path / WIRE_DIR / (found.filename + ".gz")
    gzipped = not found.gzipped and not ranged and accepts_gzip(request.headers.get("Accept-Encoding")) and \
        _readable(wire)
    if _precondition_fails(f"{rel.etag}-{found.filename}{'-gzip' if gzipped else ''}", rel.mtime):
        abort(412, "The download has changed since the version your client holds (If-Match or "
                   "If-Unmodified-Since): ask for it again without those headers.")
    for held in ("HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE"):  # they hold: werkzeug must not judge them again
        request.environ.pop(held, None)
    sent, etag = (wire, f"{rel.etag}-{found.filename}-gzip") if gzipped else (path, f"{rel.etag}-{found.filename}")
    if sent.is_file():
        response = send_file(sent, mimetype=found.media_type, as_attachment=True, download_name=found.filename,
                             conditional=True, etag=etag, last_modified=rel.mtime, max_age=0)
    else:  # kept as the shards' pieces it is made of (kg.spliced): sent as one file
        try:
            size, file = spliced.size(sent), spliced.open_file(sent, DOWNLOADS)
        except spliced.Busy:
            abort(error_response(503, "Every descriptor for downloads is in use (a download holds its dump's parts "
                                      "open): try again in a moment.", {"Retry-After": "5"}))
        except OSError:  # the release directory was moved away under a running server
            abort(503, "The release is being replaced; try again in a moment.")
        response = send_file(file, mimetype=found.media_type, as_attachment=True, download_name=found.filename,
                             conditional=False, etag=etag, last_modified=rel.mtime, max_age=0)
        response.content_length = size
        response.make_conditional(request.environ, accept_ranges=True, complete_length=size)  # in place
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    if response.mimetype.startswith("text/") or response.mimetype.startswith("application/") and \
            not found.gzipped and response.mimetype != "application/gzip":
        response.headers["Content-Type"] = f"{found.media_type}; charset=utf-8"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = SHARED_CACHE  # (send_file's says no-cache: a CDN may keep it as a page)
    return response
