"""Remote SPARQL engines: the table of kinds kg publishes into, and a client for one slot (an engine instance).

A slot is one running engine (an Oxigraph server process, ...) that holds one release at a time. kg loads a release
into a slot that is not being served, checks what the slot holds, and only then switches to it; the server then
sends SPARQL queries to the slot of the current release. Credentials come from the environment only
(KG_ENGINE_USER, KG_ENGINE_PASSWORD) and are never written to settings, command lines or logs.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Protocol

USER_ENV, PASSWORD_ENV = "KG_ENGINE_USER", "KG_ENGINE_PASSWORD"
CHUNK = 1 << 20


class Readable(Protocol):
    """A binary stream to load from (a file, a gzip reader)."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Engine:
    """One kind of engine: where its protocols live, how it takes a bulk load, and its quirks."""

    name: str
    query_path: str  # SPARQL 1.1 Protocol (queries)
    update_path: str  # SPARQL 1.1 Update
    load_path: str  # where statements are POSTed in bulk (the engine's own loading endpoint)
    load_params: str  # what makes that load a bulk one (no transaction held in memory)
    graphs: bool  # it has a default graph of its own (else the union goes into a named graph, pinned per query)
    graph_param: str = "graph"  # the Graph Store Protocol's name for the graph loaded into
    chunked: bool = True  # it reads a request body sent in chunks (else each load says its length)
    batch_lines: int = 0  # statements per load request (0: a file in one request)
    timeout_param: str | None = None  # the query parameter that bounds a query (milliseconds)
    partial: tuple[str, str] | None = None  # the header and value that mark a cut-off answer sent as 200
    rewrites: tuple[tuple[str, str], ...] = ()  # datatypes it is known to change, with what to do about it


ENGINES: dict[str, Engine] = {
    "oxigraph": Engine("oxigraph", "/query", "/update", "/store", "no_transaction", graphs=True),
    # Virtuoso: updates and loads go to its authenticated endpoints (digest); it has no default graph of its own
    # and lets GRAPH ?g see its system graphs, so every query names its dataset; a timed-out query answers 200
    # with what it had, marked by X-SQL-State: S1TAT; a chunked request body is taken (204) and silently dropped,
    # and a body of a million statements (150 MB) never answered: loads go in batches that state their length
    "virtuoso": Engine("virtuoso", "/sparql", "/sparql-auth", "/sparql-graph-crud-auth", "", graphs=False,
                       graph_param="graph-uri", chunked=False, batch_lines=50_000, timeout_param="timeout",
                       partial=("x-sql-state", "S1TAT"), rewrites=(
                           ("http://www.w3.org/2001/XMLSchema#duration",
                            "Virtuoso 7.2 keeps an xsd:duration as a number of seconds (PT1H49M becomes 6540.0, its "
                            "issue #936), so a graph with running times cannot be served from it exactly: serve it "
                            "from Oxigraph server or the embedded store, or from a Virtuoso that keeps durations"),)),
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

    def _headers(self, extra: Mapping[str, str], method: str, target: str, timeout: float) -> dict[str, str]:
        headers = dict(extra)
        user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
        if user is None or password is None:
            return headers
        if not target.split("?", 1)[0].endswith("-auth"):
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
            return headers
        challenge = self._challenge(target, timeout)  # Virtuoso's -auth endpoints take HTTP digest only
        if challenge is not None:
            headers["Authorization"] = _digest(challenge, method, target, user, password)
        return headers

    def _challenge(self, target: str, timeout: float) -> dict[str, str] | None:
        """The digest challenge of an authenticated endpoint (asked with an empty GET, before a large body)."""
        conn = self._connection(timeout)
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            found = response.getheader("WWW-Authenticate") or ""
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(f"the {self.engine.name} slot at {self.url} could not be reached: {exc}") from exc
        finally:
            conn.close()
        if not found.lower().startswith("digest "):
            return None
        return {k.lower(): v for k, v in re.findall(r'(\w+)="?([^",]*)"?', found[7:])}

    def request(self, method: str, path: str, body: bytes | Iterable[bytes] | IO[bytes] | None,
                headers: Mapping[str, str],
                timeout: float, max_bytes: int | None = None) -> Reply:
        """One HTTP exchange with the slot, ended by `timeout` seconds in all (not per read)."""
        deadline = time.monotonic() + timeout
        target = self._parts.path.rstrip("/") + path
        sent = self._headers(headers, method, target, timeout)
        conn = self._connection(timeout)
        try:
            conn.request(method, target, body=body, headers=sent,
                         encode_chunked=body is not None and not isinstance(body, bytes)
                         and "Content-Length" not in headers)
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

    def pin(self, union: str, graphs: Iterable[str]) -> list[tuple[str, str]]:
        """The dataset every query to an engine without a default graph of its own names: the union graph as
        the default graph, the release's graphs as the named ones (never the engine's own system graphs)."""
        if self.engine.graphs:
            return []
        return [("default-graph-uri", union), *(("named-graph-uri", g) for g in sorted(graphs))]

    def query(self, text: str, accept: str, timeout: float, params: Iterable[tuple[str, str]] = (),
              max_bytes: int | None = None) -> Reply:
        """A SPARQL query, sent form-encoded (every engine takes that; some hang on a direct POST)."""
        bound = [(self.engine.timeout_param, str(max(1, int(timeout * 1000))))] if self.engine.timeout_param else []
        body = urllib.parse.urlencode([("query", text), *params, *bound]).encode()
        return self.request("POST", self.engine.query_path, body, {
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept}, timeout, max_bytes)

    def select(self, text: str, timeout: float = 60.0, params: Iterable[tuple[str, str]] = ()) -> list[
            dict[str, dict[str, str]]]:
        """The rows of a SELECT (SPARQL JSON bindings); EngineError when the slot refuses it."""
        reply = self.query(text, "application/sparql-results+json", timeout, params)
        if reply.status != 200:
            raise EngineError(f"the {self.engine.name} slot at {self.url} answered {reply.status} to a query: "
                              f"{reply.body[:300].decode('utf-8', 'replace')}")
        cut = self.engine.partial
        if cut is not None and reply.headers.get(cut[0], "").upper() == cut[1]:  # 200, but cut off at its deadline
            raise TimeoutError(f"the {self.engine.name} slot at {self.url} gave only part of an answer within "
                               f"{timeout:g} s")
        rows: list[dict[str, dict[str, str]]] = json.loads(reply.body)["results"]["bindings"]
        return rows

    def ask(self, text: str, timeout: float = 60.0, params: Iterable[tuple[str, str]] = ()) -> bool:
        """The answer to an ASK."""
        reply = self.query(text, "application/sparql-results+json", timeout, params)
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
        """Bulk-load a file's statements: N-Quads into their graphs (`graph` None), N-Triples into `graph` (a
        graph's IRI, or "default" for the default graph), through the Graph Store Protocol."""
        params = [p for p in [self.engine.load_params] if p]
        if graph == "default":
            params.append("default")
        elif graph is not None:
            params.append(urllib.parse.urlencode({self.engine.graph_param: graph}))
        path = f"{self.engine.load_path}?{'&'.join(params)}"
        if self.engine.chunked:
            self._loaded(self.request("POST", path, _pieces(stream), {"Content-Type": media_type}, timeout))
            return
        for batch in _batches(stream, self.engine.batch_lines):  # POST adds to the graph: batch after batch
            with batch:
                size = batch.seek(0, 2)
                batch.seek(0)
                self._loaded(self.request("POST", path, batch, {"Content-Type": media_type,
                                                                "Content-Length": str(size)}, timeout))

    def _loaded(self, reply: Reply) -> None:
        if reply.status not in (200, 201, 204):
            raise EngineError(f"the {self.engine.name} slot at {self.url} refused the load ({reply.status}): "
                              f"{reply.body[:300].decode('utf-8', 'replace')}")


def _digest(challenge: dict[str, str], method: str, target: str, user: str, password: str) -> str:
    """An HTTP digest Authorization header (RFC 7616, MD5, qop=auth) answering `challenge`."""
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    cnonce, count = secrets.token_hex(8), "00000001"
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - the protocol's hash
    ha2 = hashlib.md5(f"{method}:{target}".encode()).hexdigest()  # noqa: S324
    qop = "auth" if "auth" in challenge.get("qop", "").split(",") else None
    answer = hashlib.md5((f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}" if qop else  # noqa: S324
                          f"{ha1}:{nonce}:{ha2}").encode()).hexdigest()
    fields = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{target}"',
              f'response="{answer}"', 'algorithm="MD5"']
    if qop:
        fields += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)


def _batches(stream: Readable, lines: int) -> Iterator[IO[bytes]]:
    """A line-based file's statements in temporary files of at most `lines` lines each (all of it: 0)."""
    rest = b""
    batch, count = tempfile.TemporaryFile(), 0
    for piece in _pieces(stream):
        data = rest + piece
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        for line in data[:cut].splitlines(keepends=True):
            batch.write(line)
            count += 1
            if lines and count >= lines:
                yield batch
                batch, count = tempfile.TemporaryFile(), 0
    if rest:
        batch.write(rest + b"\n")
        count += 1
    if count:
        yield batch
    else:
        batch.close()


def _pieces(stream: Readable) -> Iterator[bytes]:
    while piece := stream.read(CHUNK):
        yield piece


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = {host}:{sql}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = {threads}
[HTTPServer]
ServerPort = {host}:{http}
ServerRoot = {dir}
ServerThreads = 4
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = {seconds}
"""


def virtuoso_config(directory: str, sql_port: int, http_port: int, memory_mb: int = 80, host: str = "127.0.0.1",
                    threads: int = 1, max_seconds: int = 300) -> str:
    """A virtuoso.ini for one slot: its database in `directory`, its SQL and HTTP ports on `host`, about
    `memory_mb` of buffers (start it with `virtuoso-t +foreground +configfile <file>`)."""
    buffers = max(2000, memory_mb * 1024 // 8)  # Virtuoso's buffers are 8 KB pages
    return _VIRTUOSO_INI.format(dir=directory, host=host, sql=sql_port, http=http_port, buffers=buffers,
                                dirty=buffers * 3 // 4, threads=threads, seconds=max_seconds)


def slot(kind: str, url: str) -> Slot:
    """The slot at `url` of an engine kind (KeyError for a kind kg does not publish into)."""
    return Slot(ENGINES[kind], url.rstrip("/"))
