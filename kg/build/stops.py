"""Stops (Ctrl-C, a TERM signal) held off where a build must not be cut short: a worker forking, the switch."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

STOPS = (signal.SIGINT, signal.SIGTERM)
_caught: list[int] = []  # the stops that came while held off, in this process (a child forked meanwhile: its own)


def _catch(signum: int, _: object) -> None:
    _caught.append(signum)


@contextlib.contextmanager
def held_off() -> Iterator[None]:
    """Ctrl-C and TERM wait until the block has run, then are handled as they would have been (the command's
    handler raises where the build is): a child just forked never runs the build's clean-up, a switch is never half
    done. Handlers, not a signal mask: Python runs them in the main thread whichever thread the kernel picks."""
    if threading.current_thread() is not threading.main_thread():
        yield  # (only the main thread can set handlers, and only it runs them)
        return
    before = {s: signal.getsignal(s) for s in STOPS}
    for s, handler in before.items():
        if handler not in (signal.SIG_IGN, None):  # an ignored stop stays ignored
            signal.signal(s, _catch)
    try:
        yield
    finally:
        for s, handler in before.items():
            if handler is not None:
                signal.signal(s, handler)
        if _caught:
            signum = _caught.pop(0)
            _caught.clear()
            handler = before[signal.Signals(signum)]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def let_through() -> None:
    """In a child forked inside `held_off`, once it has set its own handlers: a stop that came meanwhile is
    handled now, by them."""
    if _caught:
        signum = _caught[0]
        _caught.clear()
        os.kill(os.getpid(), signum)
