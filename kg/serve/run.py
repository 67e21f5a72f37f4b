"""Running the web app under granian (a production server; never Flask's development server)."""

from __future__ import annotations

import errno
import math
import os
import socket
import threading
from typing import Any

from kg.config import Config
from kg.errors import Failure


class PortInUse(Failure):
    """Another process listens on the address `kg serve` was asked to use."""


def check_port(host: str, port: int) -> None:
    """Refuse an address something listens on: granian binds with SO_REUSEPORT and would share it silently."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port left in TIME_WAIT is free
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            raise PortInUse(f"cannot listen on {host}:{port}: {host!r} is no address of this machine "
                            f"({exc.strerror or exc}); choose one with --host, e.g. 127.0.0.1") from exc
        except OSError as exc:
            hint = ("is another server running there? choose another with --port" if exc.errno == errno.EADDRINUSE
                    else "choose an address of this machine with --host, e.g. 127.0.0.1"
                    if exc.errno == errno.EADDRNOTAVAIL else "choose another with --host or --port")
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc} ({hint})") from exc


def _preload() -> None:
    """Import what workers and executors run before they are forked, so that they share those pages."""
    import gc
    import importlib

    for name in ("server", "server.discovery", "server.downloads", "server.entities", "server.errors",
                 "server.sparql", "server.cache", "server.compress", "kg.serve.sparql"):
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # collections in the children would otherwise write to (and so copy) every shared object


class _Polled(threading.Event):
    """granian's main-loop event, waited for in short waits that also look at the stop and reload flags: a signal
    may wake one of the master's other threads, and then nothing wakes its main thread to run the handler."""

    def __init__(self, server: Any) -> None:
        super().__init__()
        self.server = server

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            return super().wait(timeout)
        while not super().wait(0.25):
            if self.server.interrupt_signal or self.server.reload_signal:
                return True
        return True


def server_class() -> type[Any]:
    """granian's server, whose stop and reload handlers only set a flag, which its main loop looks at every quarter
    of a second: granian's set a `threading.Event`, whose lock a second TERM or Ctrl-C handled inside the first
    handler's `set` waits for forever (a `pkill` and a `timeout` each sending one), and a stop taken by another
    thread of the master was never seen."""
    from granian.server import Server

    class StoppedOnce(Server):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.main_loop_interrupt = _Polled(self)

        def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
            self.interrupt_signal = True  # no lock taken in a signal handler

        def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
            self.reload_signal = True

    return StoppedOnce


def worker_signals(loop: Any) -> Any:
    """granian's `set_loop_signals` for a worker, whose handler tells the worker's event to stop once: a second
    `set` blocks for ever (granian 2.8.7), and a worker is sent two stops when its master stops it after a `pkill`
    or a Ctrl-C to the whole group did."""
    import signal

    from granian._granian import WorkerSignal

    event, told = WorkerSignal(), list[int]()

    def stop(signum: int, frame: object) -> None:
        if not told:
            told.append(signum)
            event.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig, None)
    return event


def serve(config: Config) -> None:
    """Serve `config`'s project until interrupted; workers read their settings from KG_* variables."""
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings

    from kg.serve.execute import Zygote

    os.environ["KG_ROOT"] = str(config.root)
    for name in ("base_iri", "data_dir", "shapes_dir", "release_root", "query_timeout", "max_results", "cache_mb",
                 "query_workers", "query_memory_mb", "max_response_mb", "body_timeout", "write_timeout"):
        os.environ[f"KG_{name.upper()}"] = str(getattr(config, name))
    print(f"kg: serving {config.releases_path / 'current'} at http://{config.host}:{config.port}/ "
          f"(base IRI {config.base_iri})", flush=True)
    _preload()
    Zygote.start(config.releases_path, config.query_memory_mb)  # before granian starts threads or workers
    import granian._signals

    granian._signals.set_loop_signals = worker_signals  # what its workers, forked from here, import and call
    server_class()(
        "server.asgi:app",  # reads bodies and writes answers under deadlines; the Flask app runs on its threads
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        websockets=False,
        workers=config.workers,
        backlog=1024,
        http1_settings=HTTP1Settings(max_buffer_size=256 * 1024, header_read_timeout=10_000),
        log_access=config.access_log,
        respawn_failed_workers=True,  # a worker that dies anyway is replaced; the others go on serving
        workers_kill_timeout=math.ceil(config.stop_timeout),  # a worker not ended by then is killed (granian: never)
        working_dir=None,
    ).serve()
