"""The app as `kg serve` runs it: an ASGI front that reads bodies and writes answers under deadlines, and runs the
WSGI app on threads.

granian's WSGI interface calls the app before the request body has arrived and writes a streamed answer from the
app's thread, so one slow client holds a thread (8 trickling bodies stalled every page). Here the event loop reads
the whole body first (408 past `body_timeout`, 413 past MAX_BODY); the app runs on a pool of threads; an answer
it returns whole is written by the loop, a file by the server itself (ASGI pathsend), and any other stream (a graph
being serialised) on the thread that made it, a piece at a time, each piece written within `write_timeout` or the
connection is dropped. Streams take at most STREAMS of the threads (503 beyond): the rest are for pages and queries.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import os
import sys
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from kg.errors import Refusal

from . import common_headers

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MAX_BODY = 256 * 1024  # a query is at most 64 KiB
BUFFERED = 8 << 20  # an answer of known length up to this is joined on its thread and written by the loop
PAGES = 8  # threads for everything but streams and SPARQL queries
QUERIES = 8  # threads for SPARQL queries, which may wait for an executor: they never take those of pages
STREAMS = 4  # streamed answers at once
IN_FLIGHT = 2  # pieces of one stream made ahead of the client
SLICE = 64 * 1024  # bytes of one message to the server: it holds about a hundred for a client that does not read
FILES = 64  # files without a path of their own (spliced dumps) sent at once: each holds its parts open
FILE_PIECE = 1 << 20  # bytes of such a file read at a time, by a reader thread, while the loop writes the last
READERS = 2  # threads reading those pieces: a read from the page cache takes well under a millisecond


class _Refusal(Refusal):
    """A request refused before the app sees it (a body too large), with the headers that go with the answer."""

    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(status, message)
        self.headers = headers


class FileWrapper:
    """`wsgi.file_wrapper`: a file answered whole is sent by the server from its path, without a thread; one without
    a path of its own (a spliced dump, kg.spliced) a piece at a time by the loop. Seekable, so that a range of it is
    read from where it starts."""

    def __init__(self, file: BinaryIO, block: int = 64 * 1024) -> None:
        self.file, self.block = file, max(block, 64 * 1024)
        name = getattr(file, "name", None)
        self.path = os.path.abspath(name) if isinstance(name, str) and os.path.isfile(name) else None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        piece = self.file.read(self.block)
        if not piece:
            raise StopIteration
        return piece

    def seekable(self) -> bool:
        return self.file.seekable()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.file.close()


class Front:
    """ASGI application serving a WSGI app with bounded waits on the client."""

    def __init__(self, app: WSGIApp, body_seconds: float = 10.0, write_seconds: float = 30.0, pages: int = PAGES,
                 streams: int = STREAMS, cached: WSGIApp | None = None) -> None:
        self.app, self.body_seconds, self.write_seconds = app, body_seconds, write_seconds
        self.cached = cached  # answers kept by the response cache, given on the event loop
        self.pool = ThreadPoolExecutor(pages + streams, thread_name_prefix="kg-app")
        self.queries = ThreadPoolExecutor(QUERIES, thread_name_prefix="kg-query")
        self.streams = threading.BoundedSemaphore(streams)
        self.readers = ThreadPoolExecutor(READERS, thread_name_prefix="kg-read")
        self.files = threading.BoundedSemaphore(FILES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            body = b"" if _bodiless(scope) else await asyncio.wait_for(_read_body(scope, receive), self.body_seconds)
        except TimeoutError:
            await _plain(send, 408, f"The request body did not arrive within {self.body_seconds:g} s.\n",
                         ((b"connection", b"close"),))
            return
        except _Refusal as refused:
            await _plain(send, refused.status, refused.message, refused.headers)
            return
        environ = _environ(scope, body)
        if self.cached is not None:
            status, headers, kept = _call(self.cached, environ)
            if kept is not None:
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b"".join(kept)})
                return
        await self._answer(environ, receive, send)

    async def _answer(self, environ: dict[str, Any], receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        head: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], Any]] = loop.create_future()
        pieces: asyncio.Queue[bytes | None] = asyncio.Queue()
        room = threading.Semaphore(IN_FLIGHT)
        gone = threading.Event()
        pool = self.queries if environ["PATH_INFO"] == "/sparql" else self.pool
        # a plain submit: the loop hears from the thread through `head` (and `pieces`), not through this future
        pool.submit(self._run, environ, loop, head, pieces, room, gone)
        try:
            status, headers, body = await head
        except Exception:  # noqa: BLE001 - the app's own handlers answer its errors; this is the last resort
            await _plain(send, 500, "Internal server error.\n")
            return
        if isinstance(body, str):  # a file
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.pathsend", "path": body})
            return
        if isinstance(body, FileWrapper):  # a file without a path of its own
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await self._file(body, receive, send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if body is not None:
            await send({"type": "http.response.body", "body": body})
            return
        streaming = asyncio.ensure_future(self._stream(pieces, room, send))
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((streaming, left), return_when=asyncio.FIRST_COMPLETED)
        finally:
            left.cancel()
            if not streaming.done():  # the client went: stop at once rather than at the write timeout
                streaming.cancel()
            if streaming.cancelled() or not streaming.done() or streaming.exception() is not None:
                gone.set()  # the thread stops making pieces
                room.release()

    def _hand(self, head: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], Any]],
              answer: tuple[int, list[tuple[bytes, bytes]], FileWrapper]) -> None:
        """On the loop: give the file to the request's answer; closed, its slot back, when the answer is gone."""
        if head.done():
            answer[2].close()
            self.files.release()
        else:
            head.set_result(answer)

    async def _file(self, body: FileWrapper, receive: Receive, send: Send) -> None:
        """Send a file a piece at a time, each read by a reader thread and written within the write timeout: no
        thread waits on the client, and no stream slot is taken."""
        loop = asyncio.get_running_loop()
        reading: concurrent.futures.Future[bytes] | None = None  # the read a reader thread is making

        async def pieces() -> None:
            nonlocal reading
            while piece := await asyncio.wrap_future(reading := self.readers.submit(body.file.read, FILE_PIECE)):
                for at in range(0, len(piece), SLICE):
                    await asyncio.wait_for(send({"type": "http.response.body", "body": piece[at:at + SLICE],
                                                 "more_body": True}), self.write_seconds)
            await send({"type": "http.response.body", "body": b""})

        sending = asyncio.ensure_future(pieces())
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((sending, left), return_when=asyncio.FIRST_COMPLETED)
        finally:
            left.cancel()
            if not sending.done():  # the client went
                sending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # a client gone or too slow: dropped
                await sending
            if reading is not None and not reading.done():  # a read still being made ends before its file closes
                await loop.run_in_executor(None, concurrent.futures.wait, (reading,))
            body.close()
            self.files.release()

    async def _stream(self, pieces: asyncio.Queue[bytes | None], room: threading.Semaphore, send: Send) -> None:
        """Write a stream's pieces as its thread makes them, each within the write timeout."""
        while (piece := await pieces.get()) is not None:
            for at in range(0, len(piece), SLICE):  # granian buffers by message: small ones keep that small
                await asyncio.wait_for(send({"type": "http.response.body", "body": piece[at:at + SLICE],
                                             "more_body": True}), self.write_seconds)
            room.release()
        await send({"type": "http.response.body", "body": b""})

    def _run(self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop,
             head: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], Any]], pieces: asyncio.Queue[bytes | None],
             room: threading.Semaphore, gone: threading.Event) -> None:
        """On a pool thread: call the app, hand its head to the loop, and make a stream's pieces here."""
        try:
            status, headers, result = _call(self.app, environ)
        except BaseException as exc:  # noqa: BLE001 - told to the loop, which answers 500
            loop.call_soon_threadsafe(_settle, head, None, exc)
            return
        streamed = handed = False
        try:
            length = next((v for k, v in headers if k == b"content-length"), b"")
            if isinstance(result, list | tuple) or environ["REQUEST_METHOD"] == "HEAD" or status in _BODILESS:
                loop.call_soon_threadsafe(_settle, head, (status, headers, b"".join(result)), None)
            elif isinstance(result, FileWrapper) and result.path and status == 200:
                loop.call_soon_threadsafe(_settle, head, (status, headers, result.path), None)
            elif isinstance(result, FileWrapper) and status == 200 and not (length.isdigit() and int(
                    length) <= BUFFERED) and self.files.acquire(blocking=False):
                handed = True  # the loop sends it, closes it and gives its slot back
                loop.call_soon_threadsafe(self._hand, head, (status, headers, result))
            elif length.isdigit() and int(length) <= BUFFERED:
                loop.call_soon_threadsafe(_settle, head, (status, headers, b"".join(result)), None)
            elif not self.streams.acquire(blocking=False):
                refusal = (503, [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5")],
                           b"Every slot for streamed answers (graphs, downloads) is in use: try again in a moment.\n")
                loop.call_soon_threadsafe(_settle, head, refusal, None)
            else:
                streamed = True
                loop.call_soon_threadsafe(_settle, head, (status, headers, None), None)
                for piece in result:
                    if not piece:
                        continue
                    if not room.acquire(timeout=self.write_seconds) or gone.is_set():
                        return
                    loop.call_soon_threadsafe(pieces.put_nowait, piece)
        finally:
            close = getattr(result, "close", None)
            if close is not None and not handed:
                close()
            if streamed:
                self.streams.release()
                loop.call_soon_threadsafe(pieces.put_nowait, None)


_BODILESS = (204, 304)  # answers that never have a body (RFC 9110 sections 15.3.5, 15.4.5): no stream slot for them


def _settle(future: asyncio.Future[Any], value: Any, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)


def _call(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], Iterable[bytes]]:
    captured: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured[:] = [status, headers]
        return lambda data: None  # the legacy write(): nothing in kg uses it

    result = app(environ, start_response)
    if result is None:  # the cache had nothing: no answer started
        return 0, [], None
    status, headers = captured
    return (int(status.split(" ", 1)[0]),
            [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers], result)


async def _disconnected(receive: Receive) -> None:
    """Return when the client has gone (nothing else arrives once the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _bodiless(scope: Scope) -> bool:
    """Whether an HTTP/1 request has no body to read: it declares none (no Content-Length, no Transfer-Encoding).
    HTTP/2 may send a body without either, so its requests are always read."""
    return str(scope.get("http_version", "1.1")).startswith("1") and not any(
        k in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _Refusal(413, f"The request body is larger than {MAX_BODY // 1024} KiB.\n", ((b"connection", b"close"),))
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _Refusal(413, f"The request body is larger than {MAX_BODY // 1024} KiB.\n",
                           ((b"connection", b"close"),))
        parts.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(parts)


def _environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP request whose body has been read."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": urllib.parse.unquote_to_bytes(raw).decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]), "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0), "wsgi.url_scheme": scope.get("scheme", "http"), "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.input_terminated": True, "wsgi.file_wrapper": FileWrapper,
    }
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = text
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{text}" if key in environ else text
    if body or "CONTENT_LENGTH" in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


async def _plain(send: Send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = message.encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        *_COMMON, *headers]})
    await send({"type": "http.response.body", "body": body})


_COMMON = tuple((k.lower().encode(), v.encode()) for k, v in common_headers("text/plain").items())


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _app() -> Front:
    from kg.serve.sandbox import die_with_parent

    from . import create_app

    if os.environ.get("KG_ZYGOTE"):  # a worker of `kg serve`: it goes when the server does, even on `kill -9`
        die_with_parent()
    app = create_app()
    settings = app.config["KG"]
    return Front(app, settings.body_timeout, settings.write_timeout, cached=app.extensions.get("kg.cached"))


app = _app()
