"""Queries with a deadline: each query runs in an executor process that is killed when the deadline passes.

pyoxigraph cannot interrupt a running query (an aggregate or a cross product runs to its end inside
Rust), so the only way to free the CPU is to stop the process evaluating it. Each server worker keeps a
few executor processes; a query borrows one, and one that runs past its deadline is killed and replaced
(in the background) while the client gets a 503 saying the query timed out. When every executor is busy,
a request waits briefly and then gets 429 with Retry-After, instead of queueing without end.

Under `kg serve` the executors are forked by a `Zygote`, a process forked before the server starts any
thread or worker: they share its memory pages instead of each loading Python and pyoxigraph afresh, and no
multiprocessing helper processes are needed. Elsewhere (the Flask test client, another WSGI server) they
are spawned.
"""

from __future__ import annotations

import atexit
import hashlib
import math
import multiprocessing as mp
import os
import queue
import re
import selectors
import shutil
import signal
import socket
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from multiprocessing.connection import Connection
from pathlib import Path

from kg.errors import Refusal
from kg.serve.sparql import Answer, Job

_CTX = mp.get_context("spawn")  # never fork a process that holds threads and an open store
SLOW_AFTER = 0.25  # seconds after which a running query is lowered to the least CPU priority
QUEUE_WAIT = 1.0  # seconds a request waits for a free executor before 429
QUICK_LANE = 1  # executors per worker kept for queries not known to be slow, while heavy ones hold the others
QUICK_SECONDS = 1.0  # how long a query may run in the quick lane
KNOWN_SLOW = 1024  # digests of queries that ran long, remembered so that they stay out of the quick lane
OWN_DEADLINE_GRACE = 2  # seconds past its deadline after which an executor whose worker is gone ends itself


def _renice(pid: int | None, niceness: int) -> bool:
    """Set a process's CPU priority; False where that is not permitted (raising it back needs privileges)."""
    if pid is None:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
        return True
    except (PermissionError, ProcessLookupError, OSError):
        return False


class Busy(Refusal):
    """Every executor stayed busy for the whole wait (or the quick lane's time ran out). (429)."""

    def __init__(self, message: str = "Too many queries at once: try again in a moment.") -> None:
        super().__init__(429, message)


def _serve(conn: Connection, root: str, memory_mb: int) -> None:
    """The executor's loop: answer jobs on the current release until the pipe closes."""
    from kg.serve.sandbox import confine
    from kg.serve.sparql import answer
    from kg.serve.store import NoRelease, Releases

    confine(memory_mb)  # before any query: no network sockets, a bounded heap
    # the server's Ctrl-C is not ours to act on: the worker that asked for the query ends it, else its own alarm
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the kernel ends the process: no Python code need run
    releases = Releases(Path(root))
    try:
        releases.current()  # open the store before saying ready
    except NoRelease:
        pass
    conn.send("ready")
    while True:
        try:
            job, seconds = conn.recv()
        except (EOFError, OSError):
            return
        # a query in Rust cannot be interrupted: past its deadline, the worker kills this process; should the worker
        # be gone (stopped, killed), the alarm does, a little later
        signal.alarm(math.ceil(seconds) + OWN_DEADLINE_GRACE)
        try:
            result = answer(releases.current(), job)
            if job.max_bytes and len(result.body) > job.max_bytes:
                result = _refusal(f"The result is {len(result.body) / (1 << 20):,.1f} MiB, more than this "
                                  f"server's limit of {job.max_bytes >> 20:,} MiB per response "
                                  "(max_response_mb). Add a LIMIT or select fewer or shorter values.")
        except NoRelease:
            result = Answer(503, "text/plain; charset=utf-8", b"No release has been built yet: run `kg build`.\n")
        except MemoryError:
            result = _refusal(_over_memory(memory_mb))
        except Exception as exc:  # noqa: BLE001 - an executor must answer, whatever happened
            result = Answer(500, "text/plain; charset=utf-8", f"The query failed: {type(exc).__name__}\n".encode())
        signal.alarm(0)
        try:
            conn.send(result)
        except MemoryError:  # pickling a large body needs a copy of it
            conn.send(_refusal(_over_memory(memory_mb)))


def _over_memory(memory_mb: int) -> str:
    return (f"The query was stopped: it needed more than this server's limit of {memory_mb:,} MiB of memory per "
            "query (query_memory_mb). Narrow it down, or add a LIMIT.")


def _refusal(message: str) -> Answer:
    return Answer(503, "text/plain; charset=utf-8", (message + "\n").encode())


def _zygote_loop(listener: socket.socket, parent_alive: int, root: str, memory_mb: int) -> None:
    """Fork an executor for each byte a client sends; hand back its pid and its end of a socket pair.

    Single-threaded on purpose: forking is only safe from a process that runs no other thread.
    """
    from kg.serve import sparql  # noqa: F401 - loaded once here, shared by every executor forked below

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # executors are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C ends us when the parent goes
    events = selectors.DefaultSelector()
    events.register(listener, selectors.EVENT_READ)
    events.register(parent_alive, selectors.EVENT_READ)
    while True:
        for key, _ in events.select():
            if key.fileobj is listener:
                client, _ = listener.accept()
                events.register(client, selectors.EVENT_READ)
                continue
            if key.fileobj == parent_alive:
                return  # the server has exited
            client = key.fileobj  # type: ignore[assignment]
            if not client.recv(1):
                events.unregister(client)
                client.close()
                continue
            ours, theirs = socket.socketpair()
            pid = os.fork()
            if pid == 0:
                for held in list(events.get_map().values()):
                    os.close(held.fd)
                ours.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                try:
                    _serve(Connection(theirs.detach()), root, memory_mb)
                finally:
                    os._exit(0)
            theirs.close()
            socket.send_fds(client, [str(pid).encode()], [ours.fileno()])
            ours.close()


_ZYGOTE_FOLDER = re.compile(r"kg-zygote-[a-z0-9_]{8}")  # as `mkdtemp` names one


def _sweep_zygotes(older: float = 60.0) -> None:
    """Remove the folders of zygotes that are gone: a server killed with its whole group (SIGKILL) left its own.
    Only this user's, of mkdtemp's naming, holding a socket no one listens on any more (or nothing)."""
    base = Path(tempfile.gettempdir())
    try:
        found = [p for p in base.iterdir() if _ZYGOTE_FOLDER.fullmatch(p.name)]
    except OSError:
        return
    for folder in found:
        try:
            info = folder.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or time.time() - info.st_mtime < older:
                continue
            inside = [p.name for p in folder.iterdir()]
            if inside not in ([], ["socket"]):
                continue
            if inside:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    try:
                        probe.connect(str(folder / "socket"))
                        continue  # a zygote answers: its server runs
                    except ConnectionRefusedError:
                        pass
            shutil.rmtree(folder, True)
        except OSError:
            continue  # gone meanwhile, or not ours to look into


class Zygote:
    """A process forked while `kg serve` is single-threaded, which forks query executors for its workers.

    Workers (other processes) reach it through a Unix socket in a private directory named by KG_ZYGOTE.
    """

    ENV = "KG_ZYGOTE"
    _keep: int | None = None

    @classmethod
    def start(cls, root: Path, memory_mb: int = 0) -> None:
        """Fork the zygote and publish its socket to the workers this process starts later."""
        if threading.active_count() > 1:
            raise RuntimeError("the zygote must be forked before any thread starts")
        _sweep_zygotes()
        folder = tempfile.mkdtemp(prefix="kg-zygote-")  # mode 0700: only this user can ask for executors
        path = os.path.join(folder, "socket")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(64)
        parent_alive, keep = os.pipe()
        if os.fork() == 0:
            os.close(keep)
            try:
                _zygote_loop(listener, parent_alive, str(root), memory_mb)
            finally:
                shutil.rmtree(folder, True)  # the server may have been killed: its atexit never ran
                os._exit(0)
        os.close(parent_alive)
        listener.close()
        os.environ[cls.ENV] = path
        atexit.register(shutil.rmtree, folder, True)
        cls._keep = keep  # closed only when this process exits, which tells the zygote to go

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lock = threading.Lock()

    @classmethod
    def connect(cls) -> Zygote | None:
        """The zygote `kg serve` started for this worker, if any."""
        path = os.environ.get(cls.ENV)
        try:
            return cls(path) if path else None
        except OSError:
            return None  # gone (or never there): executors are spawned instead

    def fork(self) -> tuple[int, Connection]:
        """A new executor: its pid and the connection to it."""
        with self.lock:
            self.sock.sendall(b"+")
            message, fds, _, _ = socket.recv_fds(self.sock, 32, 1)
        if not fds:
            raise OSError("the executor zygote has gone")
        return int(message), Connection(fds[0])


class _Executor:
    def __init__(self, root: Path, zygote: Zygote | None, memory_mb: int = 0) -> None:
        self.proc: mp.process.BaseProcess | None = None
        if zygote is not None:
            try:
                self.pid, self.conn = zygote.fork()
                return
            except OSError:
                pass  # the zygote is gone (killed?): spawn this executor instead
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=_serve, args=(child, str(root), memory_mb), daemon=True, name="kg-query")
        self.proc.start()
        child.close()
        self.pid = self.proc.pid or 0

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until the process has imported everything and opened the store."""
        try:
            return bool(self.conn.poll(timeout)) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc is not None:
            self.proc.join(5)
        self.conn.close()


_PLACEHOLDER = {"var": "?", "num": "0", "string": '""'}


def _shape(text: str) -> str:
    """A query without its variable names, numbers and strings: variants of one heavy query share it."""
    from kg.serve.guard import tokens

    return " ".join(_PLACEHOLDER.get(kind, value) for kind, value in tokens(text))


class Executors:
    """A fixed number of executor processes shared by the threads of one server worker."""

    def __init__(self, root: Path, size: int = 2, timeout: float = 30.0, wait: float = QUEUE_WAIT,
                 memory_mb: int = 0, lane: int = QUICK_LANE) -> None:
        self.root, self.timeout, self.wait, self.memory_mb = root, timeout, wait, memory_mb
        self.zygote = Zygote.connect()
        self.idle: queue.Queue[_Executor] = queue.Queue()
        self.quick: queue.Queue[_Executor] = queue.Queue()  # the lane heavy queries cannot hold for long
        self.slow: OrderedDict[bytes, None] = OrderedDict()
        self.slow_lock = threading.Lock()
        self.returned = threading.Condition()  # notified whenever an executor becomes idle
        self.replacing = 0  # executors being started in place of killed ones
        starting = [(_Executor(root, self.zygote, memory_mb), self.idle) for _ in range(size)]
        starting += [(_Executor(root, self.zygote, memory_mb), self.quick) for _ in range(lane)]
        for executor, home in starting:
            executor.wait_ready()
            home.put(executor)

    def _known_slow(self, text: str, ran_long: bool = False) -> bool:
        key = hashlib.blake2b(_shape(text).encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self.slow_lock:
            if ran_long:
                self.slow[key] = None
                while len(self.slow) > KNOWN_SLOW:
                    self.slow.popitem(last=False)
            return key in self.slow

    def _borrow(self, text: str) -> tuple[_Executor, queue.Queue[_Executor]]:
        """An idle executor and the queue it goes back to: a regular one, else the quick lane, else wait for either.

        A query known to be slow takes only a regular executor that is free now: it never holds a server thread
        waiting (heavy clients would otherwise take every thread that pages need)."""
        known_slow = self._known_slow(text)
        lanes = [self.idle] if known_slow else [self.idle, self.quick]
        # ...unless one is being replaced: then it is worth the wait
        until = time.monotonic() + (self.wait if not known_slow or self.replacing else 0)
        with self.returned:
            while True:
                for home in lanes:
                    try:
                        return home.get_nowait(), home
                    except queue.Empty:
                        continue
                left = until - time.monotonic()
                if left <= 0:
                    raise Busy()
                self.returned.wait(left)

    def _give_back(self, executor: _Executor, home: queue.Queue[_Executor]) -> None:
        with self.returned:
            home.put(executor)
            self.returned.notify()

    def run(self, job: Job, timeout: float | None = None) -> Answer:
        """Answer `job` within min(timeout, the configured deadline); Busy if no executor frees up in time."""
        deadline = min(timeout, self.timeout) if timeout else self.timeout
        executor, home = self._borrow(job.text)
        quick = home is self.quick
        if quick:
            deadline = min(deadline, QUICK_SECONDS)
        started = time.monotonic()
        niced = False
        try:
            executor.conn.send((job, deadline))
            ready = executor.conn.poll(min(SLOW_AFTER, deadline))
            if not ready:
                self._known_slow(job.text, ran_long=True)
            if not ready and deadline > SLOW_AFTER and not quick:
                # A long query yields the CPU to short ones: on a small machine a few heavy queries
                # would otherwise starve everybody until their deadline.
                niced = _renice(executor.pid, 19)
            if not ready and deadline > SLOW_AFTER:
                ready = executor.conn.poll(deadline - (time.monotonic() - started))
            if ready:
                result: Answer = executor.conn.recv()
                if niced and not _renice(executor.pid, 0):
                    threading.Thread(target=self._replace, args=(executor, home), daemon=True).start()
                else:
                    self._give_back(executor, home)
                return result
        except (EOFError, OSError, BrokenPipeError):
            pass  # the executor died (killed, out of memory): replace it below
        threading.Thread(target=self._replace, args=(executor, home), daemon=True).start()
        spent = time.monotonic() - started
        if quick and spent >= deadline - 0.01:
            raise Busy("Every query executor is busy with long queries, and this query needed more than the "
                       f"{QUICK_SECONDS:g} s it could have meanwhile: try again in a moment.")
        if spent >= deadline - 0.01:
            own = deadline < self.timeout  # the request asked for less than the server allows
            return Answer(503, "text/plain; charset=utf-8",
                          (f"Query timed out after {deadline:g} s (" + ("the timeout this request asked for" if own
                           else "this server's limit, query_timeout") + "); it was stopped. Narrow it down or add "
                           "a LIMIT" + (f", or ask for a longer timeout within the server's {self.timeout:g} s"
                                        if own else "") + ".\n").encode())
        return _refusal("The query process stopped before answering: most likely the query needed more memory "
                        f"than this server allows per query ({self.memory_mb:,} MiB, query_memory_mb), or the "
                        "server is stopping. Narrow it down, or add a LIMIT, or try again in a moment.")

    def _replace(self, executor: _Executor, home: queue.Queue[_Executor]) -> None:
        with self.returned:
            self.replacing += 1
        try:
            executor.kill()
            fresh = _Executor(self.root, self.zygote, self.memory_mb)
            fresh.wait_ready()  # a new executor takes work only once it can answer at once
        finally:
            with self.returned:
                self.replacing -= 1
        self._give_back(fresh, home)

    def close(self) -> None:
        """Stop every idle executor (busy ones stop with the process)."""
        for home in (self.idle, self.quick):
            while True:
                try:
                    home.get_nowait().kill()
                except queue.Empty:
                    break
