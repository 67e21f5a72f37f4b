"""A response cache in front of the app: the data only changes with a release, so answers can be reused.

Keys are the release (the `current` link's target, and when it was made current), the method, host, path, query
string and the negotiation headers (whether the client takes gzip among them). A new release changes the key, so nothing
stale is ever served. Only complete 200 answers up to `max_entry` bytes are kept, in a byte-bounded LRU;
downloads (files) are never cached.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.http import parse_date, parse_etags

from kg.serve.negotiation import languages

from . import common_headers
from .compress import accepts_gzip

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
KEY_HEADERS = ("HTTP_HOST", "HTTP_ACCEPT", "HTTP_ORIGIN")
UNCACHED_PREFIXES = ("/download/", "/static/", "/store")  # files and graphs of any size: streamed, never held
ENTRY_OVERHEAD = 2048  # key, headers and bookkeeping of one entry, measured roughly


class ResponseCache:
    """WSGI middleware: serve repeated GETs from memory, bypassing the app."""

    def __init__(self, app: WSGIApp, current_link: Path, max_bytes: int, max_entry: int = 1 << 20,
                 wait_seconds: float = 1.0) -> None:
        self.app = app
        self.link = str(current_link)
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.wait_seconds = wait_seconds  # how long a request waits for the same request already being answered
        self.size = 0
        self.entries: OrderedDict[tuple[str, ...], tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
        self.running: dict[tuple[str, ...], threading.Event] = {}  # requests being answered, for their twins
        self.lock = threading.Lock()
        self.hits = self.misses = self.shared = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        conditional = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        keep = method == "GET" and not conditional  # only such answers are kept, so only they are waited for
        hit, twin = self._lookup(key, lead=keep)
        if hit is None and twin is not None:
            # the same request is being answered: wait for its answer rather than evaluate the query again (a burst
            # of one expensive query would otherwise fill every executor with copies of it and be refused)
            if not twin.wait(self.wait_seconds):
                # no longer than a query waits for an executor: a thread held here is one pages cannot have
                start_response("429 Too Many Requests", [("Content-Type", "text/plain; charset=utf-8"),
                                                         ("Retry-After", "1"), *common_headers("text/plain").items()])
                return [b"The same request is being answered already: try again in a moment.\n"]
            hit, _ = self._lookup(key, lead=False)
            if hit is not None:
                self.shared += 1
        if hit is not None:
            return self._send(hit, environ, start_response, method)
        self.misses += 1
        try:
            return self._fill(key, environ, start_response, keep)
        finally:
            with self.lock:
                done = self.running.pop(key, None)
            if done is not None:
                done.set()

    def _key(self, environ: dict[str, Any]) -> tuple[str, ...] | None:
        """What identifies the answer to a request; None for one that is never cached."""
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if method not in ("GET", "HEAD") or self.max_bytes <= 0 or path.startswith(UNCACHED_PREFIXES):
            return None
        try:  # and when it became current: a rollback to it makes its Last-Modified anew (kg.serve.store)
            release = f"{os.readlink(self.link)}@{os.lstat(self.link).st_mtime_ns}"
        except OSError:
            return None
        return (release, method, path, environ.get("QUERY_STRING", ""), *(environ.get(h, "") for h in KEY_HEADERS),
                "gzip" if accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")) else "",
                ",".join(languages(environ.get("HTTP_ACCEPT_LANGUAGE"))))  # as pages read it: few variants

    def cached(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
        """The kept answer to a request, if there is one, without waiting for a twin (the ASGI front asks this on its
        event loop, so that a hit costs no thread)."""
        key = self._key(environ)
        if key is None:
            return None
        with self.lock:
            hit = self.entries.get(key)
            if hit is None:
                return None
            self.entries.move_to_end(key)
            self.hits += 1
        return self._send(hit, environ, start_response, key[1])

    def _lookup(self, key: tuple[str, ...], lead: bool = True) -> tuple[
            tuple[str, list[tuple[str, str]], bytes] | None, threading.Event | None]:
        """The cached answer, else the event of the same request being answered (None: this one answers it)."""
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None:
                self.entries.move_to_end(key)
                self.hits += 1
                return hit, None
            twin = self.running.get(key)
            if twin is None and lead:
                self.running[key] = threading.Event()
            return None, twin

    @staticmethod
    def _send(hit: tuple[str, list[tuple[str, str]], bytes], environ: dict[str, Any],
              start_response: Callable[..., Any], method: str) -> Iterable[bytes]:
        status, headers, body = hit
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        modified = parse_date(next((v for k, v in headers if k.lower() == "last-modified"), None))
        since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        if "HTTP_IF_NONE_MATCH" in environ:  # If-Modified-Since only without it (RFC 9110 section 13.1.3)
            held = bool(etag) and parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains_weak(
                (etag or "").removeprefix("W/").strip('"'))
        else:
            held = modified is not None and since is not None and modified <= since
        if held:
            start_response("304 NOT MODIFIED", [(k, v) for k, v in headers if k.lower() in
                                                 ("etag", "vary", "last-modified", "cache-control",
                                                  "content-location", "expires")])
            return [b""]
        start_response(status, headers)
        return [body] if method == "GET" else [b""]

    def _fill(self, key: tuple[str, ...], environ: dict[str, Any], start_response: Callable[..., Any],
              keep: bool) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        status = captured.get("status", "")
        stored = not any(k.lower() == "cache-control" and "no-store" in v.lower() for k, v in captured["headers"])
        if status.startswith("200") and keep and stored and len(body) <= self.max_entry:
            with self.lock:
                if key not in self.entries:
                    self.entries[key] = (status, list(captured["headers"]), body)
                    self.size += len(body) + ENTRY_OVERHEAD
                    while self.size > self.max_bytes and self.entries:
                        _, (_, _, old) = self.entries.popitem(last=False)
                        self.size -= len(old) + ENTRY_OVERHEAD
        return [body]
