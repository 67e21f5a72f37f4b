"""Errors as short, escaped messages in the client's format; never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from kg.engines import EngineError

from .negotiation import HTML, Offer, choose

_OFFERS = (Offer("text", ("text/plain",)), Offer("html", (HTML,)))


def _search_hint(status: int) -> str | None:
    """For a missing or gone entity page, the last part of its path as words to search for (none for a listing's
    page)."""
    if status not in (404, 410) or request.path.endswith("/"):
        return None
    words = request.path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").strip()
    return words or None


def error_response(status: int, message: str, extra_headers: dict[str, str] | None = None) -> Response:
    """An error as HTML for browsers and plain text for everyone else."""
    wants = choose(request.headers.get("Accept"), _OFFERS)
    if wants is not None and wants.key == "html" and not request.path.startswith("/sparql"):
        body = render_template("error.html", status=status, message=message,
                               reason=HTTP_STATUS_CODES.get(status, "Error"), search=_search_hint(status))
        response = Response(body, status=status, mimetype="text/html")
    else:
        response = Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain")
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
