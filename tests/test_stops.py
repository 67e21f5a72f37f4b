"""Ctrl-C and TERM held off where a build must not be cut short, then handled as they would have been."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from kg.build import stops


class Stop(BaseException):
    """What the command's TERM handler raises (kg.cli.Stopped), in these tests."""


def _stop(*_: object) -> None:
    raise Stop


@pytest.fixture
def term() -> Iterator[None]:
    """TERM raises Stop, as `kg build` makes it; Ctrl-C as Python makes it; both set back afterwards."""
    before = signal.signal(signal.SIGTERM, _stop)
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGTERM, before)
    signal.signal(signal.SIGINT, interrupt)


def test_a_stop_waits_for_the_end_of_the_block(term):
    ran = []
    with pytest.raises(Stop):
        with stops.held_off():
            os.kill(os.getpid(), signal.SIGTERM)
            ran.append("after the stop")
    assert ran == ["after the stop"] and signal.getsignal(signal.SIGTERM) is _stop


def test_a_block_that_fails_raises_its_own_error_not_the_stop(term):
    with pytest.raises(OSError, match="No space left"):  # a switch that fails is told as what it is
        with stops.held_off():
            os.kill(os.getpid(), signal.SIGTERM)
            raise OSError(28, "No space left on device")
    assert stops._caught == [] and signal.getsignal(signal.SIGTERM) is _stop
    with stops.held_off():
        pass  # no stop left over for a later block


def test_a_stop_while_the_handlers_are_swapped_sets_every_one_back(term, monkeypatch):
    real = signal.signal

    def swapping(signum, handler):
        before = real(signum, handler)
        if signum == signal.SIGINT and handler is stops._catch:
            os.kill(os.getpid(), signal.SIGTERM)  # comes before TERM's handler is swapped: raised by the command's
        return before

    monkeypatch.setattr(stops.signal, "signal", swapping)
    with pytest.raises(Stop):
        with stops.held_off():
            pass
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C is not swallowed afterwards
    assert signal.getsignal(signal.SIGTERM) is _stop


def test_an_ignored_stop_stays_ignored(term):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with stops.held_off():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN and stops._caught == []
