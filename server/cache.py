"""A response cache in front of the app: the data only changes with a release, so answers can be reused.

Keys are the release (the `current` link's target), the method, host, path, query string and the
negotiation headers. A new release changes the key, so nothing stale is ever served. Only complete 200
answers up to `max_entry` bytes are kept, in a byte-bounded LRU; downloads (files) are never cached.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
KEY_HEADERS = ("HTTP_HOST", "HTTP_ACCEPT", "HTTP_ORIGIN")
UNCACHED_PREFIXES = ("/download/", "/static/")
ENTRY_OVERHEAD = 2048  # key, headers and bookkeeping of one entry, measured roughly


class ResponseCache:
    """WSGI middleware: serve repeated GETs from memory, bypassing the app."""

    def __init__(self, app: WSGIApp, current_link: Path, max_bytes: int, max_entry: int = 1 << 20) -> None:
        self.app = app
        self.link = str(current_link)
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.size = 0
        self.entries: OrderedDict[tuple[str, ...], tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if method not in ("GET", "HEAD") or self.max_bytes <= 0 or path.startswith(UNCACHED_PREFIXES):
            return self.app(environ, start_response)
        try:
            release = os.readlink(self.link)
        except OSError:
            return self.app(environ, start_response)
        key = (release, method, path, environ.get("QUERY_STRING", ""), *(environ.get(h, "") for h in KEY_HEADERS))
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None:
                self.entries.move_to_end(key)
                self.hits += 1
        if hit is not None:
            status, headers, body = hit
            etag = next((v for k, v in headers if k.lower() == "etag"), None)
            if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
                start_response("304 NOT MODIFIED", [(k, v) for k, v in headers if k.lower() in
                                                     ("etag", "vary", "last-modified", "cache-control")])
                return [b""]
            start_response(status, headers)
            return [body] if method == "GET" else [b""]
        self.misses += 1
        return self._fill(key, environ, start_response)

    def _fill(self, key: tuple[str, ...], environ: dict[str, Any],
              start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        conditional = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        status = captured.get("status", "")
        if status.startswith("200") and not conditional and key[1] == "GET" and len(body) <= self.max_entry:
            with self.lock:
                if key not in self.entries:
                    self.entries[key] = (status, list(captured["headers"]), body)
                    self.size += len(body) + ENTRY_OVERHEAD
                    while self.size > self.max_bytes and self.entries:
                        _, (_, _, old) = self.entries.popitem(last=False)
                        self.size -= len(old) + ENTRY_OVERHEAD
        return [body]
