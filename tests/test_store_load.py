"""Loading a release's store: a stop (Ctrl-C, TERM) while it loads ends the load at its next slice, not at the
end of its files."""

from __future__ import annotations

import gc
import os
import signal
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.build.store
from kg.build.store import persist

LINES = 4_000


class _Quads:
    """What `persist` asks of a build's statements: the file of every quad."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def whole(self, suffix: str) -> Path:
        return self.path


class _Stop(Exception):
    """What `kg build`'s TERM handler raises (a KeyboardInterrupt there), here apart from pytest's own Ctrl-C."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop


class _StopAtFirstSlice:
    """A progress bar that sends this process a TERM as the first slice is loaded."""

    sent = False

    def update(self, n: int) -> None:
        if not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_stop_while_the_store_loads_ends_the_load_at_its_next_slice(tmp_path, monkeypatch):
    quads, triples = tmp_path / "all.nq", tmp_path / "all.nt"
    quads.write_text("".join(f"<http://e.org/s{n}> <http://e.org/p> \"{n}\" <http://e.org/g> .\n"
                             for n in range(LINES)))
    triples.write_text("".join(f"<http://e.org/s{n}> <http://e.org/p> \"{n}\" .\n" for n in range(LINES)))
    monkeypatch.setattr(kg.build.store, "CHUNK", 10)  # 400 slices a file
    bar = _Bar()
    monkeypatch.setattr(kg.build.store, "counter", lambda *_: bar)
    before = signal.signal(signal.SIGTERM, _stop)
    try:
        with pytest.raises(_Stop):
            persist(_Quads(quads), triples, tmp_path / "store")  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGTERM, before)
    gc.collect()  # the interrupted call's store, closed
    loaded = len(ox.Store(str(tmp_path / "store")))
    assert 0 < loaded < LINES  # of 8,000: both loads ended long before their files did


class _Bar:
    bar = _StopAtFirstSlice()

    def __enter__(self) -> _StopAtFirstSlice:
        return self.bar

    def __exit__(self, *exc: object) -> None:
        return None
