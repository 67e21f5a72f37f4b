"""Worker processes: tasks run in forked children, their answers (or exceptions) brought back to the build."""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Collection, Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

from kg import progress
from kg.build.stops import held_off, let_through
from kg.errors import ENVIRONMENT, Failure
from kg.progress import bar, counter

R = TypeVar("R")


class WorkerLost(Failure):
    """A build's worker process died before it finished its task (killed, or out of memory): nothing was
    published."""

    exit_code = ENVIRONMENT


def _child(fn: Callable[[int], R], task: int, result: Path) -> NoReturn:
    """Run one task in a forked child: its result (or exception), pickled to `result`; never returns, whatever
    happens (a child that went on would run the build's own clean-up: its lock, its directory)."""
    code = 70
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the build stops its children itself
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        let_through()  # forked with stops held off (`held_off`): until here, one would run the parent's handler
        progress.quiet()
        try:
            outcome: tuple[str, object] = ("ok", fn(task))
            code = 0
        except BaseException as exc:  # noqa: BLE001 - every exception goes back to the parent, which raises it
            outcome, code = ("error", exc), 1
        partial = result.with_suffix(".partial")
        try:
            with partial.open("wb") as out:
                pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - an exception that cannot be pickled goes back as words
            said = outcome[1]
            with partial.open("wb") as out:
                pickle.dump(("error", RuntimeError(f"{type(said).__name__}: {said}")), out)
            code = 1
        os.replace(partial, result)  # whole, or not there: a half-written answer is never read
    finally:
        os._exit(code)


def parallel(fn: Callable[[int], R], tasks: int, processes: int, desc: str, first: Collection[int] = (),
             here: Callable[[int], R | None] | None = None,
             meanwhile: Callable[[], object] | None = None, mine: int | None = None) -> Generator[R, None, None]:
    """fn(0) ... fn(tasks - 1), in order: in forked worker processes when there is more than one to use, the tasks
    `first` (the long ones) started before the others. While the workers run, this process asks `here(n)` for each
    other task: what it answers (not None: read back from the previous release, say) needs no worker; then, while
    the workers are still running and none waits to start, it runs `meanwhile()` until it answers something false
    (None: once; True: it has more to do, in steps short enough to see a worker end), (with one process, nothing
    runs it; with it, even one task is given a worker). Task `mine` this process runs itself, as one of the
    processes, once the workers are started: its result needs no sending back.

    Forked, not spawned: a worker inherits what it needs instead of unpickling it. Each task gets a child of its
    own, so the pages of the parent's objects a child copied (touching an object writes its reference count) are
    given back when the task ends. A child that dies before it answers is a WorkerLost, never a wait forever.
    """
    if processes <= 1 or (tasks <= 1 and meanwhile is None):
        yield from bar(map(fn, range(tasks)), tasks, desc, "tasks")
        return
    if mine is not None and not 0 <= mine < tasks:
        raise ValueError(f"no task {mine} of {tasks} for this process to run")
    results = Path(tempfile.mkdtemp(prefix="kg-tasks-"))
    running: dict[int, int] = {}  # pid -> task
    done: dict[int, R] = {}
    others = [n for n in range(tasks) if n not in first]
    forked = collections.deque(sorted(first) if here is not None else [*sorted(first), *others])  # to start
    asked = collections.deque(others if here is not None else [])  # to ask `here` about
    if mine is not None:
        (forked if mine in forked else asked).remove(mine)
        processes -= 1  # this process is one of them
    given = 0
    ends = _Ends()
    try:
        with counter(desc, "tasks", tasks) as progress:
            while given < tasks:
                while forked and len(running) < processes:
                    task = forked.popleft()
                    with held_off():  # a stop comes once the child is known: it is killed below
                        pid = os.fork()
                        if pid == 0:
                            _child(fn, task, results / str(task))
                        running[pid] = task
                        ends.watch(pid)
                if mine is not None:
                    done[mine], mine = fn(mine), None
                    progress.update(1)
                finished = []
                for pid in list(running):
                    try:
                        ended, status = os.waitpid(pid, os.WNOHANG)  # (0, 0) while it runs
                    except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): no status, no answer
                        ended, status = pid, -1
                    if ended:
                        finished.append((running.pop(pid), status))  # reaped: never to be killed again
                        ends.forget(pid)
                for task, status in finished:
                    done[task] = _outcome(results / str(task), status, desc, task, tasks)
                    progress.update(1)
                if not finished and asked and here is not None:
                    task = asked.popleft()
                    if (answer := here(task)) is None:
                        forked.append(task)
                    else:
                        done[task] = answer
                        progress.update(1)
                elif not finished and meanwhile is not None and running and not asked and not forked:
                    if not meanwhile():
                        meanwhile = None
                elif not finished and given not in done:
                    ends.wait()
                    continue
                while given in done:
                    yield done.pop(given)
                    given += 1
    finally:
        ends.close()
        for pid in running:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        shutil.rmtree(results, ignore_errors=True)


class _Ends:
    """Waits until one of the children watched may have ended: on a descriptor of each (Linux's pidfd), which
    wakes the build the moment a child ends; else a short sleep (a poll's lag is 1-5 ms a task, a small build's
    tenth)."""

    def __init__(self) -> None:
        self.fds: dict[int, int] = {}  # pid -> its descriptor
        self.blind = False  # a child without one: its end is polled for

    def watch(self, pid: int) -> None:
        try:
            self.fds[pid] = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux 5.3, or out of descriptors
            self.blind = True

    def forget(self, pid: int) -> None:
        if (fd := self.fds.pop(pid, None)) is not None:
            os.close(fd)

    def wait(self) -> None:
        if self.blind or not self.fds:
            time.sleep(0.005)
            return
        poll = select.poll()  # (not select(): a descriptor numbered past 1,023, in a build with a store open)
        for fd in self.fds.values():
            poll.register(fd, select.POLLIN)
        with contextlib.suppress(InterruptedError):
            poll.poll(50)

    def close(self) -> None:
        for pid in list(self.fds):
            self.forget(pid)


@contextlib.contextmanager
def background(fn: Callable[[int], R], processes: int, desc: str, nice: int = 0) -> Iterator[Callable[[], R]]:
    """fn(0) in a forked child, while this process goes on (with one process, run when its result is asked for):
    gives the function that waits for the result. A child still running when the block ends is killed. With
    `nice`, the child gives way to the build's other processes (work nothing waits for until the end)."""
    if processes <= 1:
        yield lambda: fn(0)
        return
    results = Path(tempfile.mkdtemp(prefix="kg-tasks-"))
    pid = 0
    waited = False

    def wait() -> R:
        nonlocal waited
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): no status
            status = -1
        waited = True
        return cast(R, _outcome(results / "0", status, desc, 0, 1))

    try:
        with held_off():  # a stop comes once the child is known: it is killed below
            pid = os.fork()
            if pid == 0:
                if nice:
                    with contextlib.suppress(OSError):
                        os.nice(nice)
                _child(fn, 0, results / "0")
        yield wait
    finally:
        if pid and not waited:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        shutil.rmtree(results, ignore_errors=True)


def _outcome(result: Path, status: int, desc: str, task: int, tasks: int) -> Any:
    """A finished child's result; its exception raised; WorkerLost when it died without answering."""
    try:
        with result.open("rb") as data:
            kind, value = pickle.load(data)
        result.unlink()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        stopped = os.WTERMSIG(status) if status != -1 and os.WIFSIGNALED(status) else None
        if stopped in (signal.SIGINT, signal.SIGTERM) and callable(signal.getsignal(stopped)):
            # a stop meant for the whole build (a terminal's Ctrl-C, a TERM to the group) that reached the worker
            # first: this process's handler takes it, as it would have a moment later
            signal.raise_signal(stopped)
        if status == -1:
            why = "lost (its exit status was taken by another)"
        elif os.WIFSIGNALED(status):
            why = f"killed by signal {os.WTERMSIG(status)}"
        else:
            why = f"ended with status {os.WEXITSTATUS(status)} without an answer"
        raise WorkerLost(f"a build worker ({desc}, task {task + 1} of {tasks}) was {why}; the machine may be out of "
                         "memory (set build_workers = 1, or give the build more memory); nothing was published") \
            from exc
    if kind == "error":
        raise value
    return value


def room_for_copies(copies: float) -> bool:
    """Whether the machine has memory free for `copies` more of this process (a forked worker that reads all the
    build holds copies the pages it touches); False when it cannot tell."""
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        info = Path("/proc/meminfo").read_text().splitlines()
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        free = next(int(line.split()[1]) for line in info if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    return free >= copies * rss
