"""Remote SPARQL engines: the table of kinds kg publishes into, and a client for one slot (an engine instance).

A slot is one running engine (an Oxigraph server process, ...) that holds one release at a time. kg loads a release
into a slot that is not being served, checks what the slot holds, and only then switches to it; the server then
sends SPARQL queries to the slot of the current release. Credentials come from the environment only
(KG_ENGINE_USER, KG_ENGINE_PASSWORD) and are never written to settings, command lines or logs.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

USER_ENV, PASSWORD_ENV = "KG_ENGINE_USER", "KG_ENGINE_PASSWORD"
CHUNK = 1 << 20


class Readable(Protocol):
    """A binary stream to load from (a file, a gzip reader)."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Engine:
    """One kind of engine: where its protocols live, and how it takes a bulk load."""

    name: str
    query_path: str  # SPARQL 1.1 Protocol (queries)
    update_path: str  # SPARQL 1.1 Update
    load_path: str  # where N-Quads are POSTed in bulk (the engine's own loading endpoint)
    load_params: str  # what makes that load a bulk one (no transaction held in memory)
    clear: str  # the update that empties the slot before a load


ENGINES: dict[str, Engine] = {
    "oxigraph": Engine("oxigraph", "/query", "/update", "/store", "no_transaction", "CLEAR ALL"),
}
KINDS = ("embedded", *ENGINES)


class EngineError(Exception):
    """A slot did not answer, or answered with an error: what was asked and what came back."""


@dataclass(frozen=True)
class Reply:
    """An engine's answer: its status, content type and body."""

    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Slot:
    """One engine instance, by kind and base URL (http://127.0.0.1:7878)."""

    engine: Engine
    url: str

    @property
    def _parts(self) -> urllib.parse.SplitResult:
        return urllib.parse.urlsplit(self.url)

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        parts = self._parts
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        return kind(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def _headers(self, extra: Mapping[str, str]) -> dict[str, str]:
        headers = dict(extra)
        user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
        if user is not None and password is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def request(self, method: str, path: str, body: bytes | Iterable[bytes] | None, headers: Mapping[str, str],
                timeout: float, max_bytes: int | None = None) -> Reply:
        """One HTTP exchange with the slot, ended by `timeout` seconds in all (not per read)."""
        deadline = time.monotonic() + timeout
        conn = self._connection(timeout)
        try:
            conn.request(method, self._parts.path.rstrip("/") + path, body=body,
                         headers=self._headers(headers), encode_chunked=body is not None and not isinstance(
                             body, bytes))
            response = conn.getresponse()
            pieces: list[bytes] = []
            size = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no complete answer within {timeout:g} s")
                if conn.sock is not None:
                    conn.sock.settimeout(left)
                piece = response.read1(CHUNK)
                if not piece:
                    break
                size += len(piece)
                if max_bytes is not None and size > max_bytes:
                    raise OverflowError(f"the answer is larger than {max_bytes:,} bytes")
                pieces.append(piece)
            return Reply(response.status, response.getheader("Content-Type") or "", b"".join(pieces),
                         {k.lower(): v for k, v in response.getheaders()})
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                raise TimeoutError(f"the {self.engine.name} slot at {self.url} gave no complete answer within "
                                   f"{timeout:g} s") from exc
            raise EngineError(f"the {self.engine.name} slot at {self.url} could not be reached: {exc}") from exc
        finally:
            conn.close()

    def query(self, text: str, accept: str, timeout: float, params: Iterable[tuple[str, str]] = (),
              max_bytes: int | None = None) -> Reply:
        """A SPARQL query, sent form-encoded (every engine takes that; some hang on a direct POST)."""
        body = urllib.parse.urlencode([("query", text), *params]).encode()
        return self.request("POST", self.engine.query_path, body, {
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept}, timeout, max_bytes)

    def select(self, text: str, timeout: float = 60.0) -> list[dict[str, dict[str, str]]]:
        """The rows of a SELECT (SPARQL JSON bindings); EngineError when the slot refuses it."""
        reply = self.query(text, "application/sparql-results+json", timeout)
        if reply.status != 200:
            raise EngineError(f"the {self.engine.name} slot at {self.url} answered {reply.status} to a query: "
                              f"{reply.body[:300].decode('utf-8', 'replace')}")
        rows: list[dict[str, dict[str, str]]] = json.loads(reply.body)["results"]["bindings"]
        return rows

    def ask(self, text: str, timeout: float = 60.0) -> bool:
        """The answer to an ASK."""
        reply = self.query(text, "application/sparql-results+json", timeout)
        if reply.status != 200:
            raise EngineError(f"the {self.engine.name} slot at {self.url} answered {reply.status} to an ASK: "
                              f"{reply.body[:300].decode('utf-8', 'replace')}")
        return bool(json.loads(reply.body)["boolean"])

    def update(self, text: str, timeout: float = 600.0) -> None:
        """A SPARQL update (only the publisher sends one: to empty an idle slot)."""
        reply = self.request("POST", self.engine.update_path, urllib.parse.urlencode([("update", text)]).encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"}, timeout)
        if reply.status not in (200, 204):
            raise EngineError(f"the {self.engine.name} slot at {self.url} refused to be emptied ({reply.status}): "
                              f"{reply.body[:300].decode('utf-8', 'replace')}")

    def load(self, stream: Readable, media_type: str, graph: str | None, timeout: float = 3600.0) -> None:
        """Bulk-load a file's statements (N-Quads into their graphs; N-Triples into the default graph, `graph`
        "default")."""
        params = self.engine.load_params + ("&default" if graph == "default" else "")
        reply = self.request("POST", f"{self.engine.load_path}?{params}", _pieces(stream),
                             {"Content-Type": media_type}, timeout)
        if reply.status not in (200, 201, 204):
            raise EngineError(f"the {self.engine.name} slot at {self.url} refused the load ({reply.status}): "
                              f"{reply.body[:300].decode('utf-8', 'replace')}")


def _pieces(stream: Readable) -> Iterator[bytes]:
    while piece := stream.read(CHUNK):
        yield piece


def slot(kind: str, url: str) -> Slot:
    """The slot at `url` of an engine kind (KeyError for a kind kg does not publish into)."""
    return Slot(ENGINES[kind], url.rstrip("/"))
