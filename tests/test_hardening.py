"""A public endpoint that stays up: deadlines, limits, no outbound requests, read-only, hostile input."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

CHEAP = "SELECT ?n WHERE { <https://films.example.org/movie/break-away> <http://schema.org/name> ?n }"
# a three-way cross product over the whole graph: hundreds of millions of rows to count
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = {"Accept": "application/sparql-results+json"}


def _get(server, query, **params):
    """A SPARQL GET; `params` are protocol parameters (e.g. the query's own `timeout`)."""
    return requests.get(server.url + "/sparql", params={"query": query, **params}, headers=JSON, timeout=60)


# ---- time limit ----

def test_query_past_the_deadline_gets_a_clear_503(strict):
    start = time.monotonic()
    r = _get(strict, SLOW)
    spent = time.monotonic() - start
    assert r.status_code == 503 and "timed out after 3 s" in r.text
    assert 2.5 < spent < 6


def test_request_may_lower_its_deadline(strict):
    start = time.monotonic()
    r = _get(strict, SLOW, timeout="0.5")
    assert r.status_code == 503 and "timed out after 0.5 s (the timeout this request asked for)" in r.text
    assert time.monotonic() - start < 2.5


def test_request_cannot_raise_the_deadline(strict):
    r = _get(strict, SLOW, timeout="1000")
    assert r.status_code == 503 and "timed out after 3 s (this server's limit, query_timeout)" in r.text


def test_stopped_query_frees_its_cpu(strict):
    assert _get(strict, SLOW, timeout="1").status_code == 503
    time.sleep(1.0)
    before = strict.cpu_seconds()
    time.sleep(2.0)
    assert strict.cpu_seconds() - before < 0.5  # nothing keeps evaluating the abandoned query


def test_other_clients_are_served_during_a_slow_query(strict):
    slow = threading.Thread(target=_get, args=(strict, SLOW))
    slow.start()
    time.sleep(0.3)
    answers = [_get(strict, CHEAP).status_code for _ in range(10)]
    slow.join()
    assert answers.count(200) >= 8 and set(answers) <= {200, 429}
    assert _get(strict, CHEAP).json()["results"]["bindings"][0]["n"]["value"] == "Break Away"


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _executors(server) -> list[int]:
    """The executor processes: children of the one child of `kg serve` that has children (the zygote)."""
    parents = [c for c in _children(server.proc.pid) if _children(c)]
    assert len(parents) == 1, parents
    return _children(parents[0])


def test_executors_are_forked_by_one_zygote(live):
    assert _get(live, "ASK { ?s ?p ?o }").status_code == 200  # not a lookup: answered by an executor
    assert len(_executors(live)) == 2 * (2 + 1)  # default: 2 workers x (2 executors + 1 in the quick lane)


def _settled(server, count: int) -> set[int]:
    """The executors once no replacement is under way (the same `count` processes twice in a row)."""
    deadline = time.monotonic() + 20
    last: set[int] = set()
    while time.monotonic() < deadline:
        now = set(_executors(server))
        if now == last and len(now) == count:
            return now
        last = now
        time.sleep(0.3)
    raise AssertionError(f"executors did not settle: {last}")


def test_a_stopped_query_executor_is_replaced(strict):
    before = _settled(strict, 4)
    assert _get(strict, SLOW, timeout="1").status_code == 503
    deadline = time.monotonic() + 20
    now = before
    while time.monotonic() < deadline:
        now = set(_executors(strict))
        if len(now - before) == 1 and len(before - now) == 1:
            break
        time.sleep(0.2)
    assert len(now) == 4 and len(now - before) == 1  # 2 workers x (1 + the quick lane): the killed one replaced
    assert _get(strict, "ASK { ?s ?p ?o }").json()["boolean"] is True


def test_no_process_outlives_the_server(released):
    import os
    import signal

    from conftest import LiveServer, free_port

    server = LiveServer(released, free_port())
    try:
        assert _get(server, "ASK { ?s ?p ?o }").status_code == 200
        pids = server.pids()
        assert len(pids) >= 1 + 1 + 2 + 4  # kg serve, zygote, workers, executors
        os.kill(server.proc.pid, signal.SIGTERM)  # the server alone, as a service manager would
        server.proc.wait(timeout=15)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
            time.sleep(0.2)
        assert [p for p in pids if os.path.exists(f"/proc/{p}")] == []
    finally:
        server.stop()


def test_a_query_whose_worker_is_killed_ends_by_its_deadline(released):
    """A worker killed (or stopped sooner than its queries' deadline) leaves no query running on without end."""
    from conftest import LiveServer, free_port

    server = LiveServer(released, free_port(), {"KG_QUERY_TIMEOUT": "3", "KG_CACHE_MB": "0"})
    try:
        executors = set(_executors(server))
        workers = [c for c in _children(server.proc.pid) if not _children(c)]  # (the zygote has the executors)
        def ask() -> None:
            with contextlib.suppress(requests.ConnectionError):  # its worker is killed while it waits
                _get(server, SLOW)

        slow = threading.Thread(target=ask, daemon=True)
        slow.start()
        time.sleep(0.5)  # the query is running in one of the executors
        started = time.monotonic()
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        assert _gone(executors, within=3 + 2 + 3 - (time.monotonic() - started))
    finally:
        server.stop()


def _gone(pids, within):
    """Whether every one of `pids` has exited within `within` seconds."""
    import os

    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    return not any(os.path.exists(f"/proc/{p}") for p in pids)


def test_a_worker_that_will_not_stop_is_killed(released):
    import os
    import signal

    from conftest import LiveServer, free_port

    server = LiveServer(released, free_port(), {"KG_STOP_TIMEOUT": "1"})
    try:
        assert _get(server, CHEAP).status_code == 200
        pids = server.pids()
        children = [int(c) for c in Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()]
        workers = [c for c in children if len(os.listdir(f"/proc/{c}/task")) > 1]  # the zygote has one thread
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGSTOP)  # never gets to handle the TERM its master sends it
        os.kill(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=20)  # granian alone would wait for that worker for ever
        assert _gone(pids, 15)
    finally:
        server.stop()


STOP_SEEN = """
import threading
from kg.serve.run import server_class

server = server_class()("server.asgi:app")
woke = []
waiter = threading.Thread(target=lambda: woke.append(server.main_loop_interrupt.wait()))  # granian's main loop
waiter.start()
with server.main_loop_interrupt._cond:  # as when a stop comes while the first one's handler holds this lock
    server.signal_handler_interrupt()  # granian's took that lock again, and waited for ever
waiter.join(5)  # nothing set the event: the loop sees the flag (a stop that woke another thread of the master)
print("stopping:", server.interrupt_signal, woke)
"""


def test_a_stop_is_seen_without_a_lock_or_a_wake_up():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", STOP_SEEN], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "stopping: True [True]\n"


TWO_STOPS_TO_A_WORKER = """
from kg.serve.run import worker_signals


class Loop:
    def __init__(self):
        self.handlers = []

    def add_signal_handler(self, sig, handler, *args):
        self.handlers.append((handler, args))


loop = Loop()
worker_signals(loop)
for handler, args in loop.handlers:  # a Ctrl-C and a TERM, before the worker's loop has taken either
    handler(*args)
print(len(loop.handlers), "handled")
"""


def test_a_worker_stopped_twice_does_not_hang():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", TWO_STOPS_TO_A_WORKER], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 handled\n"


TWO_STOPS = {
    # `pkill -f "kg serve"` under `timeout`, or Ctrl-C with a service manager's TERM: every process gets two stops,
    # and granian's workers and master hung on the second one (one time in six, before 2026-12-06)
    "group": lambda pid: [os.killpg(pid, signal.SIGTERM) for _ in range(2)],
    # two different signals to the master: the second could be taken by another of its threads, and never seen
    "master": lambda pid: [os.kill(pid, sig) for sig in (signal.SIGTERM, signal.SIGINT)],
}


@pytest.mark.parametrize("stops", sorted(TWO_STOPS))
def test_two_stops_end_the_server(released, stops):
    from conftest import LiveServer, free_port

    for _ in range(3):  # each hang was one time in four to six: three rounds catch most
        server = LiveServer(released, free_port(), {"KG_STOP_TIMEOUT": "60"})  # hangs are not ended by kills here
        try:
            assert requests.get(server.url + "/", timeout=30).status_code == 200
            pids = server.pids()
            TWO_STOPS[stops](server.proc.pid)
            server.proc.wait(timeout=20)
            assert _gone(pids, 15)
        finally:
            server.stop()


def test_bad_timeout_parameter(strict):
    assert _get(strict, CHEAP, timeout="soon").status_code == 400
    assert _get(strict, CHEAP, timeout="-1").status_code == 400
    assert _get(strict, CHEAP, timeout="nan").status_code == 400


@pytest.mark.parametrize("timeout", ["0", "", "1e7"])
def test_a_timeout_of_none_of_its_own_or_past_the_servers_gets_the_servers(strict, timeout):
    assert _get(strict, CHEAP, timeout=timeout).status_code == 200  # 0: Virtuoso's "no limit"


# ---- result limits ----

def test_results_are_capped_and_say_so(strict):
    r = _get(strict, "SELECT * WHERE { ?s ?p ?o }")
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 5
    assert r.headers["X-Result-Truncated"] == "5" and "cut" in r.headers["Warning"]
    g = requests.get(strict.url + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                     headers={"Accept": "application/n-triples"}, timeout=30)
    assert len(g.text.strip().splitlines()) == 5 and g.headers["X-Result-Truncated"] == "5"


def test_small_results_are_not_marked(strict):
    r = _get(strict, CHEAP)
    assert "X-Result-Truncated" not in r.headers and len(r.json()["results"]["bindings"]) == 1


# ---- concurrency ----

def test_saturated_server_answers_429_with_retry_after(strict):
    results: list[requests.Response] = []
    threads = [threading.Thread(target=lambda: results.append(_get(strict, SLOW, timeout="2.5"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert 429 in codes and set(codes) <= {429, 503}
    assert all(r.headers["Retry-After"] == "1" for r in results if r.status_code == 429)
    time.sleep(1.5)
    assert _get(strict, CHEAP).status_code == 200


# ---- no outbound requests ----

def test_no_query_makes_the_server_connect_anywhere(live, listener):
    port, accepted = listener
    target = f"http://127.0.0.1:{port}/sparql"
    queries = [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z {{ SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        f"PREFIX r: <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE r:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE # comment\n <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{target}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"LOAD <{target}>",
        f"LOAD SILENT <{target}> INTO GRAPH <urn:x>",
        f"DESCRIBE <{target}>",
        f"SELECT * WHERE {{ BIND(IRI(\"{target}\") AS ?x) ?x ?p ?o }}",
        f"ASK {{ <{target}> ?p ?o }}",
    ]
    statuses = []
    for q in queries:
        statuses.append(requests.get(live.url + "/sparql", params={"query": q}, headers=JSON, timeout=30).status_code)
        statuses.append(requests.post(live.url + "/sparql", data={"query": q}, headers=JSON, timeout=30).status_code)
    for params in ({"default-graph-uri": target}, {"named-graph-uri": target}):
        statuses.append(requests.get(live.url + "/sparql", params={"query": CHEAP, **params}, headers=JSON,
                                     timeout=30).status_code)
    time.sleep(0.5)
    assert accepted == []
    assert 500 not in statuses and statuses.count(400) >= 10


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <http://example.org/graph> WHERE { ?s ?p ?o }",
])
def test_outbound_refused_before_evaluation_with_a_clear_400(live, query):
    r = requests.get(live.url + "/sparql", params={"query": query}, timeout=30)
    assert r.status_code == 400 and ("never makes requests" in r.text or "never loads data" in r.text)


# ---- read-only ----

@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DELETE WHERE { ?s ?p ?o }", "CLEAR ALL", "DROP DEFAULT",
    "CREATE GRAPH <urn:g>", "PREFIX x: <urn:> INSERT { ?s x:p 1 } WHERE { ?s ?p ?o }", "ADD DEFAULT TO <urn:g>",
    "MOVE DEFAULT TO <urn:g>", "COPY DEFAULT TO <urn:g>", "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
])
def test_updates_change_nothing(live, update):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before = _get(live, count).json()["results"]["bindings"][0]["n"]["value"]
    responses = [
        requests.post(live.url + "/sparql", data={"update": update}, timeout=30),
        requests.post(live.url + "/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-update"},
                      timeout=30),
        requests.post(live.url + "/sparql", data={"query": update}, timeout=30),
        requests.get(live.url + "/sparql", params={"query": update}, timeout=30),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert _get(live, count).json()["results"]["bindings"][0]["n"]["value"] == before


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_write_methods_are_not_allowed(live, method):
    assert requests.request(method, live.url + "/sparql", data="x", timeout=30).status_code == 405
    assert requests.request(method, live.url + "/movie/break-away", data="x", timeout=30).status_code == 405


@pytest.mark.parametrize(("path", "allowed"), [("/sparql", {"GET", "HEAD", "POST", "OPTIONS"}),
                                                ("/movie/break-away", {"GET", "HEAD", "OPTIONS"})])
def test_a_refused_method_is_told_what_is_allowed(live, path, allowed):
    r = requests.put(live.url + path, data="x", timeout=30)
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == allowed


# ---- request limits ----

def test_overlong_query_is_413(live):
    long_query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 70_000
    assert requests.post(live.url + "/sparql", data={"query": long_query}, timeout=30).status_code == 413
    assert requests.post(live.url + "/sparql", data=long_query.encode(),
                         headers={"Content-Type": "application/sparql-query"}, timeout=30).status_code == 413


def test_oversized_body_is_413(live):
    body = b"query=" + b"x" * 400_000
    r = requests.post(live.url + "/sparql", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"},
                      timeout=30)
    assert r.status_code == 413


def test_oversized_headers_are_refused_without_a_500(live):
    try:
        r = requests.get(live.url + "/movie/break-away", headers={"X-Big": "x" * 200_000}, timeout=30)
        assert r.status_code in (400, 413, 431)
        r = requests.get(live.url + "/movie/break-away", headers={"X-Big": "x" * 40_000}, timeout=30)
        assert r.status_code == 431
    except requests.ConnectionError:
        pass  # refusing the connection outright is also bounded
    assert requests.get(live.url + "/movie/break-away", timeout=30).status_code == 200


# ---- hostile input ----

HOSTILE_PATHS = [
    "/movie/%zz", "/movie/%ff%fe", "/movie/%00", "/movie/break%20away", "/movie/<script>alert(1)</script>",
    "/movie/" + "a" * 5000, "/movie/break-away.%2e%2e", "/%2e%2e/%2e%2e/etc/passwd", "/download/../../etc/passwd",
    "/download/..%2f..%2fetc%2fpasswd", "/download/%2e%2e/%2e%2e/etc/passwd", "/download/....//....//etc/passwd",
    "/static/../kg/config.py", "/static/..%2f..%2fpyproject.toml", "/static/vendor/yasgui/..%2f..%2fpackage.json",
    "/download/%c0%ae%c0%ae/etc/passwd", "/sparql?query=%ff%fe%fd", "/sparql?query=%", "/sparql?query=SELECT%",
    "/movie/?page=%ff", "/movie/?page=99999999999999999999", "/.well-known/void?format=%00",
    "/movie/break-away?format=../../etc/passwd", "/sitemap/0.xml", "/sitemap/-1.xml",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_never_500_nor_leak(live, path):
    r = requests.get(live.url + path, headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code < 500
    assert "Traceback" not in r.text and "root:x:" not in r.text and "[build-system]" not in r.text
    assert "<script>alert(1)</script>" not in r.text


@pytest.mark.parametrize("accept", ["", "*/*;q=" + "9" * 500, "text/html;;;,,,;q=x", "a/" * 3000,
                                    "application/sparql-results+json;q=0.5;level=1, */*;q=0.1", "\x7f\x01"])
def test_absurd_accept_headers(live, accept):
    for path in ("/movie/break-away", "/sparql?query=" + CHEAP.replace(" ", "%20"), "/.well-known/void"):
        r = requests.get(live.url + path, headers={"Accept": accept}, timeout=30)
        # 400: the HTTP layer refuses control characters in a header value before the app sees it
        assert r.status_code in (200, 406) or (r.status_code == 400 and accept.isprintable() is False)


def test_error_echoing_the_query_is_escaped_in_html(live):
    r = requests.get(live.url + "/movie/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers={"Accept": "text/html"},
                     timeout=30)
    assert r.status_code == 404 and "<script>alert(1)" not in r.text and "%3Cscript%3Ealert(1)" in r.text
    q = requests.get(live.url + "/sparql", params={"query": "<script>alert(1)</script>"},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert q.status_code == 400 and q.headers["Content-Type"].startswith("text/plain")
    page = requests.get(live.url + "/sparql", params={"query": "<script>alert(1)</script>"},
                        headers={"Accept": "text/html"}, timeout=30)  # a browser: the query page, the query as text
    assert page.status_code == 200 and "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text


def test_bounded_lookups_are_answered_even_when_every_executor_is_busy(strict):
    """A single pattern with a constant subject runs in the worker: saturating the executors does not block it."""
    slow = [threading.Thread(target=_get, args=(strict, SLOW)) for _ in range(4)]
    for t in slow:
        t.start()
    time.sleep(0.5)
    lookup = "SELECT ?p ?o WHERE { <https://films.example.org/movie/break-away> ?p ?o } LIMIT 3"
    answers = [_get(strict, lookup) for _ in range(5)]
    for t in slow:
        t.join()
    assert [a.status_code for a in answers] == [200] * 5
    assert all(len(a.json()["results"]["bindings"]) == 3 for a in answers)


def test_executors_are_spawned_when_the_zygote_has_died(released):
    import os
    import signal

    from conftest import LiveServer, free_port

    server = LiveServer(released, free_port(), {"KG_QUERY_TIMEOUT": "2", "KG_QUERY_WORKERS": "1", "KG_CACHE_MB": "0",
                                                "KG_WORKERS": "1"})  # one executor in all: it must be replaced
    try:
        zygote = next(c for c in _children(server.proc.pid) if _children(c))
        os.kill(zygote, signal.SIGKILL)
        assert _get(server, SLOW).status_code == 503  # that executor is killed; the zygote cannot replace it
        deadline = time.monotonic() + 30
        statuses = []
        while time.monotonic() < deadline:
            statuses.append(_get(server, "ASK { ?s ?p ?o }").status_code)
            if statuses[-1] == 200 and len(statuses) > 4:
                break
            time.sleep(0.2)
        assert statuses[-1] == 200 and set(statuses) <= {200, 429}
    finally:
        server.stop()


def test_a_worker_without_a_reachable_zygote_spawns_its_executors(monkeypatch, tmp_path):
    from kg.serve.execute import Zygote

    monkeypatch.setenv(Zygote.ENV, str(tmp_path / "no-such-socket"))
    assert Zygote.connect() is None
    monkeypatch.delenv(Zygote.ENV)
    assert Zygote.connect() is None


def test_serve_loads_the_app_before_forking_so_its_processes_share_those_pages():
    import subprocess
    import sys

    probe = ("import gc, sys; from kg.serve.run import _preload; _preload(); "
             "print(gc.get_freeze_count() > 1000, all(m in sys.modules for m in ('server.sparql', 'kg.serve.sparql', "
             "'flask', 'pyoxigraph')))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.stdout.split() == ["True", "True"], run.stderr


def test_a_second_server_on_a_port_in_use_is_refused_rather_than_sharing_it(live, released):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "kg", "--root", str(released), "serve", "--port", str(live.port)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and f"127.0.0.1:{live.port}" in run.stderr and "in use" in run.stderr
    assert requests.get(f"{live.url}/sparql", timeout=5).status_code == 200  # the first one is untouched


def test_a_port_something_else_listens_on_is_refused(released):
    import subprocess
    import sys

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "kg", "--root", str(released), "serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "in use" in run.stderr


def test_an_access_log_when_asked_for_has_a_line_per_request(released):
    from conftest import LiveServer, free_port

    server = LiveServer(released, free_port(), {"KG_ACCESS_LOG": "true"})
    try:
        assert requests.get(server.url + "/movie/", timeout=10).status_code == 200
        assert requests.get(server.url + "/no/such/thing", timeout=10).status_code == 404
    finally:
        server.stop()
    log = (released / f"serve-{server.port}.log").read_text(encoding="utf-8")
    assert re.search(r'"GET /movie/ HTTP/1.1" 200 ', log) and re.search(r'"GET /no/such/thing HTTP/1.1" 404 ', log)


def test_the_access_log_setting_takes_true_or_false_only(empty_project, monkeypatch):
    from kg.config import ConfigError, load_config

    monkeypatch.setenv("KG_ACCESS_LOG", "off")
    assert load_config(empty_project).access_log is False
    monkeypatch.setenv("KG_ACCESS_LOG", "sometimes")
    with pytest.raises(ConfigError, match="'sometimes' is not true or false"):
        load_config(empty_project)
