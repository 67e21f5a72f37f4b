"""The kg web app: `create_app(config)` builds the Flask app that publishes the current release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, request, send_from_directory

from kg.config import Config, load_config
from kg.ids import Minter
from kg.serve.store import NoRelease, Releases, Unservable

MAX_HEADER_BYTES = 32 * 1024
STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = frozenset({"style.css", "favicon.svg", "copy.js", "query.js"})  # what the pages link to, no more
CSP = ("default-src 'self'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def common_headers(mimetype: str) -> dict[str, str]:
    """The headers every answer carries, the app's own 431 included (a page also gets its content security policy)."""
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin",
               # every resource is public and read without credentials: any site's scripts may read it (entity
               # documents too, for Linked Data clients running in a browser)
               "Access-Control-Allow-Origin": "*",
               "Access-Control-Expose-Headers": "ETag, Content-Length, Content-Range, Content-Location, Link, "
                                                "Last-Modified, X-Result-Truncated, Warning"}
    if mimetype == "text/html":
        headers["Content-Security-Policy"] = CSP
    return headers


def preflight(response: Response) -> None:
    """A CORS preflight's answer: the methods the resource allows, and any request header (nothing is read with
    credentials), for a day."""
    response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow") or "GET, HEAD, OPTIONS"
    asked = request.headers.get("Access-Control-Request-Headers", "").strip()
    if asked:
        response.headers["Access-Control-Allow-Headers"] = asked
    response.headers["Access-Control-Max-Age"] = "86400"


def _limit_headers(app: Any) -> Any:
    """Refuse requests whose headers add up to more than MAX_HEADER_BYTES (431), before any work is done."""

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        size = sum(len(k) + len(str(v)) for k, v in environ.items() if k.startswith("HTTP_"))
        if size > MAX_HEADER_BYTES:
            start_response("431 Request Header Fields Too Large", [("Content-Type", "text/plain; charset=utf-8"),
                                                                   *common_headers("text/plain").items()])
            return [f"The request headers are larger than {MAX_HEADER_BYTES // 1024} KiB.\n".encode()]
        return app(environ, start_response)

    return guarded


def _static(filename: str) -> Response:
    """One of the files the pages use (STATIC_FILES); nothing else under static/ is served."""
    if filename not in STATIC_FILES:
        abort(404)
    return send_from_directory(STATIC_DIR, filename)


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    """Build the app for a project's configuration (default: the current directory's)."""
    config = config or load_config(**overrides)
    app = Flask(__name__, static_folder=None)  # not the whole of static/: npm installs thousands of files there
    app.config["KG"] = config
    app.extensions["kg.minter"] = Minter(config.base_iri)  # what is served here, and at which path
    remote = None if config.store == "embedded" else config.store  # releases published into it are read from it
    app.extensions["kg.releases"] = Releases(config.releases_path, remote, config.query_timeout)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # request bodies (a query is at most 64 KiB): 413 beyond
    from kg.serve.execute import QUEUE_WAIT, Executors

    # with an engine too: a release built without the engine settings has only its own store, and is answered from it
    app.extensions["kg.executors"] = Executors(config.releases_path, config.query_workers, config.query_timeout,
                                               memory_mb=config.query_memory_mb)
    from kg.serve.remote import Gate

    app.extensions["kg.gate"] = Gate(config.query_workers)  # queries of this worker at a remote engine at once
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from . import attention, discovery, downloads, entities, errors, graphs, sparql

    errors.register(app)
    for module in (discovery, downloads, sparql, graphs, attention, entities):
        app.register_blueprint(module.bp)

    @app.before_request
    def _release() -> None:
        g.release, g.no_release, g.no_release_private = None, None, False
        try:
            g.release = app.extensions["kg.releases"].current()
        except Unservable as exc:
            g.no_release, g.no_release_private = str(exc), exc.private
        except NoRelease:
            pass

    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=_static)

    @app.context_processor
    def _site() -> dict[str, Any]:
        return {"site_title": entities.site_title()}

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in common_headers(response.mimetype or "").items():
            response.headers.setdefault(name, value)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers and \
                response.status_code < 300:
            preflight(response)
        return response

    from .compress import Compress
    app.wsgi_app = Compress(app.wsgi_app)  # type: ignore[method-assign]
    if config.cache_mb > 0:
        from .cache import ResponseCache

        cache = ResponseCache(app.wsgi_app, config.releases_path / "current", config.cache_mb << 20,
                              wait_seconds=QUEUE_WAIT)
        app.extensions["kg.cache"] = app.wsgi_app = cache  # type: ignore[method-assign]
    app.wsgi_app = _limit_headers(app.wsgi_app)  # type: ignore[method-assign]  # before the cache answers anything
    if config.cache_mb > 0:
        app.extensions["kg.cached"] = _limit_headers(cache.cached)  # what the ASGI front answers without a thread
    return app
