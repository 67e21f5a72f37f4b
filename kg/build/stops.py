"""Stops (Ctrl-C, a TERM signal) held off where a build must not be cut short: a worker forking, the switch."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

STOPS = (signal.SIGINT, signal.SIGTERM)
_caught: list[int] = []  # the stops that came while held off, in this process (a child forked meanwhile: its own)


def _catch(signum: int, _: object) -> None:
    _caught.append(signum)


@contextlib.contextmanager
def held_off() -> Iterator[None]:
    """Ctrl-C and TERM wait until the block has run, then are handled as they would have been (the command's
    handler raises where the build is): a child just forked never runs the build's clean-up, a switch is never half
    done. If the block fails, its error is raised and a stop that came meanwhile is dropped (the build is ending).
    Handlers, not a signal mask: Python runs them in the main thread whichever thread the kernel picks."""
    if threading.current_thread() is not threading.main_thread():
        yield  # (only the main thread can set handlers, and only it runs them)
        return
    before = {s: signal.getsignal(s) for s in STOPS}
    try:
        for s, handler in before.items():  # (a stop that comes while they are swapped: raised, all set back)
            if handler not in (signal.SIG_IGN, None):  # an ignored stop stays ignored
                signal.signal(s, _catch)
        yield
    except BaseException:
        _caught.clear()
        _restore(before)
        raise
    caught = _caught[:1]
    _caught.clear()  # before the handlers are set back: a stop then is theirs, and none is left for a later block
    _restore(before)
    caught = caught or _caught[:1]  # (one that came in between)
    _caught.clear()
    if caught:
        handler = before[signal.Signals(caught[0])]
        if callable(handler):
            handler(caught[0], None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), caught[0])


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for s, handler in handlers.items():
        if handler is not None:
            signal.signal(s, handler)


def let_through() -> None:
    """In a child forked inside `held_off`, once it has set its own handlers: a stop that came meanwhile is
    handled now, by them."""
    if _caught:
        signum = _caught[0]
        _caught.clear()
        os.kill(os.getpid(), signum)
