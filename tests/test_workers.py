"""Worker processes: each task in a forked child, answers in order, a lost or failing worker an error."""

from __future__ import annotations

import os
import resource
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.build.workers import WorkerLost, background, parallel, room_for_copies


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("cannot pickle this")


def _unpicklable(n: int) -> int:
    if n == 1:
        raise _Unpicklable("a lock in the exception")
    return n


def test_an_exception_that_cannot_be_pickled_comes_back_as_words():
    with pytest.raises(RuntimeError, match="_Unpicklable: a lock in the exception"):
        list(parallel(_unpicklable, 3, 2, "test"))


def _pid(_: int) -> int:
    return os.getpid()


def test_each_task_runs_in_a_worker_process_of_its_own():
    pids = list(parallel(_pid, 6, 2, "test"))
    assert os.getpid() not in pids and len(set(pids)) == 6


def _logged(log: Path) -> Callable[[int], int]:
    def task(n: int) -> int:
        with log.open("a") as f:
            f.write(f"{n}\n")
        time.sleep(0.05)
        return n
    return task


def _uneven(n: int) -> int:
    time.sleep(0.02 * (n % 3))  # tasks that end out of order
    return n * n


@pytest.mark.parametrize("pidfd", [True, False])
def test_the_workers_ends_are_waited_for_on_their_descriptors_or_else_polled(monkeypatch, pidfd):
    if not pidfd:
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    elif not hasattr(os, "pidfd_open"):
        pytest.fail("this Linux has no pidfd_open (5.3 and later have)")
    before = len(os.listdir("/proc/self/fd"))
    assert list(parallel(_uneven, 7, 3, "test")) == [n * n for n in range(7)]
    assert len(os.listdir("/proc/self/fd")) == before  # every descriptor closed


def test_workers_are_waited_for_with_descriptors_numbered_past_select_s_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.fail(f"this machine allows {hard} open files: the test needs 2,048")
    resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))  # as a build with a large store open has
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # the workers' are numbered past 1,023
    try:
        assert list(parallel(_uneven, 5, 2, "test")) == [n * n for n in range(5)]
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_tasks_asked_first_start_first_and_every_result_comes_in_order(tmp_path: Path):
    log = tmp_path / "started"
    assert list(parallel(_logged(log), 6, 2, "test", first=[5, 3])) == list(range(6))
    started = [int(n) for n in log.read_text().split()]
    assert set(started[:2]) == {3, 5} and sorted(started) == list(range(6))


def test_a_task_the_parent_can_answer_needs_no_worker_and_every_result_still_comes_in_order():
    asked: list[int] = []

    def here(n: int) -> int | None:
        asked.append(n)
        return -os.getpid() if n % 2 else None  # the odd ones: answered here, by this process

    found = list(parallel(_pid, 7, 2, "test", first=[4], here=here))
    assert sorted(asked) == [0, 1, 2, 3, 5, 6]  # all but the task started first
    assert [p == -os.getpid() for p in found] == [n % 2 == 1 for n in range(7)]
    assert len({p for p in found if p > 0} - {os.getpid()}) == 4  # the even ones, each in a worker of its own


def test_the_parent_does_its_own_work_once_while_the_workers_run(tmp_path: Path):
    done: list[float] = []
    log = tmp_path / "started"
    found = list(parallel(_logged(log), 3, 2, "test", meanwhile=lambda: done.append(time.monotonic())))
    assert found == [0, 1, 2] and len(done) == 1


def test_the_parent_works_in_steps_while_it_says_it_has_more_and_the_workers_run():
    steps: list[int] = []

    def step() -> bool:  # three steps of work, the last saying it is done
        steps.append(1)
        return len(steps) < 3

    def slow(n: int) -> int:
        time.sleep(0.5)
        return n

    assert list(parallel(slow, 2, 2, "test", meanwhile=step)) == [0, 1]
    assert len(steps) == 3  # not asked again once it said it was done, though the workers still ran


def test_steps_stop_when_the_workers_end():
    steps: list[float] = []

    def step() -> bool:  # would go on for ever
        steps.append(time.monotonic())
        time.sleep(0.01)
        return True

    def slow(n: int) -> int:
        time.sleep(0.3)
        return n

    start = time.monotonic()
    assert list(parallel(slow, 1, 2, "test", meanwhile=step)) == [0]
    assert len(steps) > 3 and steps[-1] - start < 5  # steps while the worker ran, none once it ended


def test_with_one_process_there_is_no_meanwhile():
    done: list[int] = []
    assert list(parallel(_pid, 3, 1, "test", meanwhile=lambda: done.append(1))) == [os.getpid()] * 3
    assert done == []


def _killed(n: int) -> int:
    if n == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer does
    return n


def _failing(n: int) -> int:
    if n == 1:
        raise ValueError(f"task {n} found bad input")
    return n


def test_a_worker_killed_midway_is_an_error_not_a_wait_forever():
    with pytest.raises(WorkerLost, match="task 3 of 5\\) was killed by signal 9"):
        list(parallel(_killed, 5, 2, "test"))


def test_an_exception_in_a_worker_is_raised_in_the_build():
    with pytest.raises(ValueError, match="task 1 found bad input"):
        list(parallel(_failing, 4, 2, "test"))


def test_a_background_task_runs_in_a_worker_while_the_build_goes_on(tmp_path):
    ready = tmp_path / "ready"

    def task(_: int) -> int:
        while not ready.exists():  # waits for the parent: it would never end if the parent waited first
            time.sleep(0.01)
        return os.getpid()

    with background(task, 2, "test") as result:
        ready.touch()
        assert result() != os.getpid()


def _niceness(_: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.parametrize("nice", [0, 7])
def test_a_background_task_gives_way_by_as_much_as_it_is_told(nice):
    with background(_niceness, 2, "test", nice=nice) as result:
        assert result() == min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice)


def _refusing(_: int) -> int:
    raise ValueError("the rows are bad")


def test_a_background_tasks_exception_is_raised_when_its_result_is_asked_for():
    with background(_refusing, 2, "test") as result, pytest.raises(ValueError, match="the rows are bad"):
        result()


def test_a_background_task_killed_is_an_error():
    with background(lambda n: _killed(n + 2), 2, "test") as result, \
            pytest.raises(WorkerLost, match="killed by signal 9"):
        result()


def test_a_background_task_not_waited_for_is_stopped(tmp_path):
    started = tmp_path / "pid"

    def forever(_: int) -> int:
        started.write_text(str(os.getpid()))
        while True:
            time.sleep(0.01)

    with background(forever, 2, "test"):
        while not started.exists() or not started.read_text():
            time.sleep(0.01)
    with pytest.raises(ProcessLookupError):
        os.kill(int(started.read_text()), 0)  # killed and reaped: no such process


def test_with_one_process_a_background_task_runs_when_asked_for():
    with background(_pid, 1, "test") as result:
        assert result() == os.getpid()


def test_one_process_runs_the_tasks_itself():
    assert set(parallel(_pid, 3, 1, "test")) == {os.getpid()}


def test_room_for_copies_weighs_free_memory_against_this_process():
    assert room_for_copies(0)
    assert not room_for_copies(10**9)  # a billion copies of a Python process fit on no machine


def test_one_task_goes_to_a_worker_when_the_parent_has_work_of_its_own():
    done: list[int] = []
    assert list(parallel(_pid, 1, 2, "test")) == [os.getpid()]  # nothing else to do: run here
    found = list(parallel(_pid, 1, 2, "test", meanwhile=lambda: done.append(1)))
    assert found != [os.getpid()] and len(done) <= 1


@pytest.mark.parametrize("tasks", [2, 5])
def test_the_task_the_parent_keeps_for_itself_runs_here_and_the_others_in_workers(tasks: int):
    found = list(parallel(_pid, tasks, 2, "test", first=[0], mine=1))
    assert found[1] == os.getpid()
    assert len(found) == tasks and os.getpid() not in found[:1] + found[2:]
    assert len(set(found)) == tasks  # each other task in a worker of its own


def test_while_the_parent_runs_its_own_task_one_worker_fewer_runs_beside_it(tmp_path: Path):
    log = tmp_path / "log"

    def task(n: int) -> int:
        with log.open("a") as f:
            f.write(f"start {n} {os.getpid()}\n")
        time.sleep(0.3)
        with log.open("a") as f:
            f.write(f"end {n} {os.getpid()}\n")
        return n

    assert list(parallel(task, 3, 2, "test", mine=0)) == [0, 1, 2]
    running, most, by = 0, 0, {}
    for line in log.read_text().splitlines():
        what, n, pid = line.split()
        running += 1 if what == "start" else -1
        most = max(most, running)
        by[int(n)] = int(pid)
    assert by[0] == os.getpid() and os.getpid() not in (by[1], by[2])
    assert most <= 2  # the parent and one worker: two processes, as asked


def test_the_parents_own_task_with_nothing_else_to_run_gives_its_result():
    done: list[int] = []
    assert list(parallel(_pid, 1, 2, "test", mine=0, meanwhile=lambda: done.append(1))) == [os.getpid()]


def test_an_exception_in_the_parents_own_task_stops_the_workers(tmp_path: Path):
    pids = tmp_path / "pids"
    parent = os.getpid()

    def task(n: int) -> int:
        if os.getpid() == parent:
            while len(pids.read_text().split()) < 2 if pids.exists() else True:
                time.sleep(0.01)  # once both workers run
            raise ValueError("the parent's own task found bad input")
        with pids.open("a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(60)
        return n

    with pytest.raises(ValueError, match="the parent's own task found bad input"):
        list(parallel(task, 3, 3, "test", mine=0))
    for pid in pids.read_text().split():
        with pytest.raises(ProcessLookupError):  # killed and reaped: no such process
            os.kill(int(pid), 0)


def test_a_task_for_the_parent_that_is_not_one_of_the_tasks_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ValueError, match="no task 3 of 3"):
        list(parallel(_pid, 3, 2, "test", mine=3))
    assert list(tmp_path.iterdir()) == []  # refused before any folder was made for the answers


_STOPPED_AT_FORK = """
import os, signal, sys, types
import kg.build.workers as workers

class Stop(BaseException):
    pass

def stop(*_):
    raise Stop

signal.signal(signal.SIGTERM, stop)  # as `kg build` does: a TERM raises where the build is
real_fork = os.fork

def fork():
    pid = real_fork()
    if pid == 0:
        os.kill(os.getpid(), signal.SIGTERM)  # a TERM to the whole group, landing in the child just forked
    return pid

workers.os = types.SimpleNamespace(**{**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}, "fork": fork})
build = os.getpid()
try:
    {call}
    print(build, os.getpid(), "done", flush=True)
except BaseException as exc:
    print(build, os.getpid(), type(exc).__name__, flush=True)
"""


def _waited(fn, processes, desc):
    with background(fn, processes, desc) as wait:
        return wait()


@pytest.mark.parametrize("call", ["list(workers.parallel(abs, 3, 2, 'test'))",
                                  "test_workers._waited(abs, 2, 'test')"])
def test_a_stop_that_reaches_a_worker_as_it_is_forked_never_runs_the_builds_own_code(call, tmp_path):
    import subprocess
    import sys

    script = _STOPPED_AT_FORK.replace("{call}", call).replace("import kg.build.workers as workers",
                                                              "import kg.build.workers as workers, test_workers")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).parent)})
    lines = [line.split() for line in out.stdout.splitlines()]
    assert len(lines) == 1 and lines[0][0] == lines[0][1], out.stdout + out.stderr  # the build's line alone
    assert lines[0][2] == "Stop"  # the worker died of the TERM, which the build then took as its own stop
    assert list(tmp_path.iterdir()) == []  # and the build removed the folder of its answers


def _stopped(n: int) -> int:
    os.kill(os.getpid(), signal.SIGINT)  # a terminal's Ctrl-C reaches the workers too: they have no handler of it
    time.sleep(5)
    return n


def test_a_worker_ended_by_ctrl_c_stops_the_build_as_ctrl_c_not_as_a_lost_worker():
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            list(parallel(_stopped, 2, 2, "test"))
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_worker_ended_by_a_stop_the_build_does_not_handle_is_still_a_lost_worker():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(WorkerLost, match="killed by signal 2"):
            list(parallel(_stopped, 2, 2, "test"))
    finally:
        signal.signal(signal.SIGINT, before)
