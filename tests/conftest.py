"""Shared fixtures: a throw-away project (data/ + shapes/ + var/) and helpers to build it."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.config import Config, load_config
from kg.ids import Minter

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BASE = "https://films.example.org/"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project data and shapes in a temporary directory."""
    shutil.copytree(REPO / "data", tmp_path / "data")
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    return tmp_path


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    """A project with the real shapes and an empty data/ directory."""
    (tmp_path / "data").mkdir()
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    return tmp_path


@pytest.fixture
def config(project: Path) -> Config:
    return load_config(project)


@pytest.fixture
def minter() -> Minter:
    return Minter(BASE)


@pytest.fixture
def write() -> Callable[[Path, str, str], Path]:
    """Write a dedented YAML file into a project's data/ directory."""

    def _write(root: Path, name: str, text: str) -> Path:
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def run_kg() -> Callable[..., tuple[int, str]]:
    """Run the kg CLI in-process; return (exit code, combined output)."""

    def _run(root: Path, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--root", str(root), *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return _run


def nquads(quads: list[ox.Quad]) -> set[str]:
    """Quads as a set of N-Quads lines: with no blank nodes, set equality is graph isomorphism."""
    return {str(q) for q in quads}


def parse_nquads(text: str) -> set[str]:
    """Expected quads written by hand as TriG, as N-Quads lines."""
    return {str(q) for q in ox.parse(text, format=ox.RdfFormat.TRIG)}


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """A project with the real data, built once for the whole session (read-only for tests!)."""
    from kg.release import build

    root = tmp_path_factory.mktemp("released")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "shapes", root / "shapes")
    result = build(load_config(root))
    assert result.report.conforms and result.release_dir is not None
    return root


@pytest.fixture(scope="session")
def app(released: Path):
    from server import create_app

    app = create_app(load_config(released))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """`kg serve` running as a real process on 127.0.0.1."""

    def __init__(self, root: Path, port: int) -> None:
        import os
        import subprocess
        import sys

        self.root, self.port = root, port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = open(root / f"serve-{port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(root), "serve", "--port", str(port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.wait()

    def wait(self, timeout: float = 30.0) -> None:
        import time

        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kg serve exited: {(self.root / f'serve-{self.port}.log').read_text()}")
            try:
                requests.get(self.url + "/sparql", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise TimeoutError("kg serve did not start")

    def stop(self) -> None:
        import os
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, Exception):  # noqa: BLE001
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="session")
def live(released: Path):
    server = LiveServer(released, free_port())
    yield server
    server.stop()
