"""Errors as short, escaped messages in the client's format; never a stack trace."""

from __future__ import annotations

import json
import re
import unicodedata

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from kg.engines import EngineError
from kg.formats import FORMATS
from kg.ids import NOT_IN_IRI

from .negotiation import HTML, Offer, choose

_OFFERS = (Offer("text", ("text/plain",)), Offer("html", (HTML,)),  # (a JSON or JSON-LD reader's: JSON)
           Offer("json", ("application/json", "application/ld+json", *(t for f in FORMATS if f.lines
                                                                        for t in (f.media_type, *f.media_types)))))

_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _encoded(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8"))


def shown_iri(iri: str) -> str:
    """An IRI made of a request's path, as it can be written in a message: what an IRI cannot hold (controls,
    spaces, a stray '%') percent-encoded, so that a crafted link prints no terminal escape."""
    iri = _STRAY_PERCENT.sub("%25", iri)
    return "".join(_encoded(c) if c in NOT_IN_IRI or unicodedata.category(c)[0] in "CZ" else c for c in iri)


def _printable(message: str) -> str:
    """A plain-text message without control characters (but its line breaks)."""
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") else _encoded(c) for c in message)


def _search_hint(status: int, search: str | None = None) -> str | None:
    """For a missing or gone entity page, the words to search for: `search` (a gone entity's name), else the last
    part of its path (none for a listing's page)."""
    if status not in (404, 410) or request.path.endswith("/"):
        return None
    if search:
        return search
    words = request.path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").strip()
    return words or None


def error_response(status: int, message: str, extra_headers: dict[str, str] | None = None,
                   search: str | None = None) -> Response:
    """An error as HTML for browsers and plain text for everyone else (a missing page's with a search for `search`)."""
    wants = choose(request.headers.get("Accept"), _OFFERS)
    protocol = request.path.startswith("/sparql")  # the SPARQL protocol's errors are text, whatever is asked
    if wants is not None and wants.key == "html" and not protocol:
        body = render_template("error.html", status=status, message=message,
                               reason=HTTP_STATUS_CODES.get(status, "Error"), search=_search_hint(status, search))
        response = Response(body, status=status, mimetype="text/html")
    elif (wants is not None and wants.key == "json" or request.args.get("format") == "json") and not protocol:
        # a script that reads JSON (by Accept or ?format=json) reads its errors
        body = json.dumps({"status": status, "error": HTTP_STATUS_CODES.get(status, "Error"),
                           "message": message.rstrip("\n")}, ensure_ascii=False)
        response = Response(body + "\n", status=status, mimetype="application/json")
    else:
        response = Response(_printable(message.rstrip("\n")) + "\n", status=status, mimetype="text/plain")
    if not request.path.startswith("/sparql"):
        response.vary.add("Accept")  # the page or the text, by Accept: a cache must not give one for the other
    for name, value in (extra_headers or {}).items():
        response.headers[name] = value
    return response


def register(app: Flask) -> None:
    """Install handlers so every error, expected or not, is a clean response."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        # 405 must say Allow; 416 the length a range may be asked of (Content-Range: bytes */N, RFC 9110 15.5.17)
        kept = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after", "content-range")}
        if exc.code == 405 and "Allow" in kept:
            return error_response(405, f"{request.method} is not answered here; this resource answers {kept['Allow']} "
                                       "(kg publishes: nothing on this server takes changes).", kept)
        return error_response(exc.code or 500, exc.description or exc.name, kept)

    @app.errorhandler(EngineError)
    @app.errorhandler(TimeoutError)
    def _engine(exc: Exception) -> Response:  # a page asked the engine serving the release, which failed
        app.logger.warning("the engine did not answer a page's query: %s", exc)
        return error_response(503, "The store did not answer: try again in a moment.", {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unexpected error")
        return error_response(500, "Internal error: the server could not answer this request.")
