"""Running the web app under granian (a production server; never Flask's development server)."""

from __future__ import annotations

import os
import socket

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
        except OSError as exc:
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                            "(is another server running there? choose another with --port)") from exc


def _preload() -> None:
    """Import what workers and executors run before they are forked, so that they share those pages."""
    import gc
    import importlib

    for name in ("server", "server.discovery", "server.downloads", "server.entities", "server.errors",
                 "server.sparql", "server.cache", "server.compress", "kg.serve.sparql"):
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # collections in the children would otherwise write to (and so copy) every shared object


def serve(config: Config) -> None:
    """Serve `config`'s project until interrupted; workers read their settings from KG_* variables."""
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    from kg.serve.execute import Zygote

    os.environ["KG_ROOT"] = str(config.root)
    for name in ("base_iri", "data_dir", "shapes_dir", "release_root", "query_timeout", "max_results", "cache_mb",
                 "query_workers", "query_memory_mb", "max_response_mb", "body_timeout", "write_timeout"):
        os.environ[f"KG_{name.upper()}"] = str(getattr(config, name))
    print(f"kg: serving {config.releases_path / 'current'} at http://{config.host}:{config.port}/ "
          f"(base IRI {config.base_iri})", flush=True)
    _preload()
    Zygote.start(config.releases_path, config.query_memory_mb)  # before granian starts threads or workers
    Server(
        "server.asgi:app",  # reads bodies and writes answers under deadlines; the Flask app runs on its threads
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        websockets=False,
        workers=config.workers,
        backlog=1024,
        http1_settings=HTTP1Settings(max_buffer_size=256 * 1024, header_read_timeout=10_000),
        log_access=False,
        respawn_failed_workers=True,  # a worker that dies anyway is replaced; the others go on serving
        working_dir=None,
    ).serve()
