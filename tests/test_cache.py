"""The response cache in front of the app: repeated answers from memory, a burst of one request answered once."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from server.cache import ResponseCache


class SlowApp:
    """A WSGI app that takes a while to answer and counts how often it is asked."""

    def __init__(self, status: str = "200 OK") -> None:
        self.calls = 0
        self.status = status
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.calls += 1
        time.sleep(0.3)
        start_response(self.status, [("Content-Type", "text/plain")])
        return [b"answer"]


def _cache(tmp_path: Path, app: SlowApp) -> ResponseCache:
    (tmp_path / "releases" / "r1").mkdir(parents=True)
    os.symlink("releases/r1", tmp_path / "current")
    return ResponseCache(app, tmp_path / "current", 1 << 20, wait_seconds=10)


def _burst(cache: ResponseCache, n: int, environ: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
    answers: list[tuple[str, bytes]] = []

    def one() -> None:
        got: dict[str, str] = {}
        body = b"".join(cache({"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql", "QUERY_STRING": "query=x",
                               **(environ or {})}, lambda status, headers: got.setdefault("status", status)))
        answers.append((got["status"], body))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_a_burst_of_one_request_is_answered_once(tmp_path):
    app = SlowApp()
    cache = _cache(tmp_path, app)
    answers = _burst(cache, 8)
    assert app.calls == 1 and answers == [("200 OK", b"answer")] * 8
    assert cache.shared == 7


def test_twins_of_an_answer_that_is_not_kept_ask_again(tmp_path):
    app = SlowApp("503 SERVICE UNAVAILABLE")
    answers = _burst(_cache(tmp_path, app), 4)
    assert app.calls == 4 and {status for status, _ in answers} == {"503 SERVICE UNAVAILABLE"}


def test_conditional_requests_do_not_make_others_wait(tmp_path):
    app = SlowApp()
    answers = _burst(_cache(tmp_path, app), 3, {"HTTP_IF_NONE_MATCH": '"x"'})
    assert app.calls == 3 and len(answers) == 3
