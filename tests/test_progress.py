"""Progress bars: on a terminal, with counts and rates; nothing at all when output is not a terminal."""

from __future__ import annotations

import io
import threading

import pytest

from kg import progress
from kg.build import workers


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    """Makes stderr a terminal when called (in the test itself: pytest resets stderr between phases)."""
    monkeypatch.setattr(progress, "DELAY", 0)

    def install() -> _Terminal:
        out = _Terminal()
        monkeypatch.setattr(progress.sys, "stderr", out)
        return out

    return install


def test_no_terminal_no_bar(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", out)
    assert list(progress.bar(range(5), 5, "map", "records")) == [0, 1, 2, 3, 4]
    with progress.counter("store", "statements") as c:
        c.update(10)
    assert out.getvalue() == ""


def test_bar_shows_count_total_and_rate(terminal):
    terminal = terminal()
    assert list(progress.bar(range(5), 5, "map", "records")) == [0, 1, 2, 3, 4]
    shown = terminal.getvalue()
    assert "map" in shown and "/5.00" in shown and "records/s" in shown  # count of total, rate


def test_counter_adds_up_updates_from_several_threads(terminal):
    terminal = terminal()
    with progress.counter("store", "statements") as c:
        threads = [threading.Thread(target=lambda: [c.update(1000) for _ in range(50)]) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert c.n == 100_000
    assert "store" in terminal.getvalue() and "statements" in terminal.getvalue()


def _drawn_by_task(_: int) -> str:
    """What a task's bar and counter draw on its (terminal) stderr."""
    before = len(progress.sys.stderr.getvalue())  # what the parent drew before the fork, inherited
    assert list(progress.bar(range(5), 5, "read", "rows")) == [0, 1, 2, 3, 4]
    with progress.counter("store", "statements") as c:
        c.update(10)
    return progress.sys.stderr.getvalue()[before:]  # type: ignore[no-any-return]


def test_a_worker_draws_no_bar_the_build_draws_its_own(terminal):
    terminal = terminal()
    assert list(workers.parallel(_drawn_by_task, 2, 2, "read")) == ["", ""]  # each in a worker of its own
    assert _drawn_by_task(0) != ""  # the same task in the build's own process: drawn
