"""Responses gzip-compressed on the wire for clients that accept it: pages, documents, SPARQL results, scripts.

The dumps are not touched here: they have their own precompressed copies (server/downloads.py). A compressed
answer is another representation, so its ETag gets a `-gzip` suffix, and every answer that could have been
compressed says `Vary: Accept-Encoding`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.http import parse_accept_header
from zlib_ng import gzip_ng

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
COMPRESSIBLE = ("text/", "application/json", "application/ld+json", "application/sparql-results+",
                "application/n-triples", "application/n-quads", "application/trig", "application/rdf+xml",
                "application/xml", "application/javascript", "image/svg+xml")
MIN_BYTES = 1024  # smaller answers gain nothing worth the header
BUFFERED = 8 << 20  # answers of known length up to this are compressed whole (and get a Content-Length)
LEVEL = 6
SUFFIX = "-gzip"


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header admits gzip, read by werkzeug's parser (q-values, `*`, `gzip;q=0`); a
    client may still name it x-gzip (RFC 9110, 8.4.1.3)."""
    accepted = parse_accept_header(header)
    return accepted.quality("gzip") > 0 or any(v.lower() == "x-gzip" and q > 0 for v, q in accepted)


def _tagged(etag: str) -> str:
    """The ETag of the compressed representation: `"x"` -> `"x-gzip"` (weak tags too)."""
    return etag[:-1] + SUFFIX + '"' if etag.endswith('"') else etag + SUFFIX


def _stream(body: Iterable[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    try:
        for chunk in body:
            out = packer.compress(chunk)
            if out:
                yield out
        yield packer.flush()
    finally:
        close = getattr(body, "close", None)
        if close:
            close()


class Compress:
    """WSGI middleware: gzip the answers to GET requests (and POSTs: SPARQL queries) whose client accepts it."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD", "POST") or environ.get("PATH_INFO", "").startswith("/download/"):
            return self.app(environ, start_response)
        wanted = "HTTP_RANGE" not in environ and accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
        if method == "HEAD" and wanted:  # the headers a GET would get (the compressed length): answer it as one
            environ["REQUEST_METHOD"] = "GET"
            body = self(environ, start_response)
            close = getattr(body, "close", None)
            if close:
                close()
            return [b""]
        if wanted and "HTTP_IF_NONE_MATCH" in environ:  # the app knows its tags without the suffix
            environ["HTTP_IF_NONE_MATCH"] = environ["HTTP_IF_NONE_MATCH"].replace(SUFFIX + '"', '"')
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: None  # the app returns its body; nothing here writes through start_response

        body = self.app(environ, capture)
        status, headers, exc_info = captured["status"], captured["headers"], captured["exc_info"]
        named = {k.lower(): v for k, v in headers}
        if not named.get("content-type", "").startswith(COMPRESSIBLE) or "content-encoding" in named:
            start_response(status, headers, exc_info)
            return body
        vary = named.get("vary")
        headers = [(k, v) for k, v in headers if k.lower() != "vary"]
        headers.append(("Vary", f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"))
        length = int(named["content-length"]) if named.get("content-length", "").isdigit() else None
        small = length is not None and length < MIN_BYTES
        if status.startswith("304") and wanted and "etag" in named:
            headers = [(k, _tagged(v) if k.lower() == "etag" else v) for k, v in headers]
        if not wanted or not status.startswith("200") or small:
            start_response(status, headers, exc_info)
            return body
        headers = [(k, _tagged(v) if k.lower() == "etag" else v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Encoding", "gzip"))
        if length is not None and length <= BUFFERED:
            try:
                data = gzip_ng.compress(b"".join(body), LEVEL, mtime=0)  # type: ignore[no-untyped-call]
            finally:
                close = getattr(body, "close", None)
                if close:
                    close()
            start_response(status, [*headers, ("Content-Length", str(len(data)))], exc_info)
            return [data]
        start_response(status, headers, exc_info)
        return _stream(body)
