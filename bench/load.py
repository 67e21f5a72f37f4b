"""Load test: cheap and pathological SPARQL queries at once against `kg serve`, on 127.0.0.1, for a fixed time.

    python bench/load.py [--seconds 30] [--timeout 3]
    python bench/load.py --attack [--root examples/wikipedia]   # the hostile mix below, on a built project

Two wrk processes run side by side: 8 connections cycling through cheap, distinct lookups and 2 connections
sending a three-way cross product that can only end by timing out. Prints requests, errors by kind, p50/p99
latency for each, the server's peak memory (PSS of all its processes), and whether it answers normally after.

With --attack (the response cache on, as served by default): 20 connections sending distinct heavy queries, 12
sending one identical slow GET, 10 slow clients (5 trickling a POST body at 1 byte/s, 5 reading the whole
dataset at 1 KB/s), while 4 connections send cheap queries, each one unique (no cache answers them), and 2 fetch
listing pages. Prints the cheap queries' and the pages' p50/p99 and status counts, and the peak memory.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from serve import Server, free_port, rss_kib  # noqa: E402

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def lua(paths: list[str], target: Path) -> Path:
    body = ",\n".join(f'"{p}"' for p in paths)
    target.write_text(f"""local paths = {{ {body} }}
local i = 0
local threads = {{}}
wrk.headers["Accept"] = "application/sparql-results+json"
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {{}} end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do io.write(string.format("status %d %d\\n", status, n)) end
  end
end
""")
    return target


def run_wrk(base: str, script: Path, conns: int, seconds: int, out: dict[str, str], key: str) -> None:
    out[key] = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s",
                               str(script), base], capture_output=True, text=True, check=True).stdout


def summary(text: str) -> str:
    total = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(r"Socket errors:.*", text)
    kinds: dict[str, int] = {}
    for status, n in re.findall(r"^status (\d+) (\d+)$", text, re.M):
        kinds[status] = kinds.get(status, 0) + int(n)
    by_kind = ", ".join(f"HTTP {k}: {v}" for k, v in sorted(kinds.items()))
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    return (f"{total.group(1) if total else '?'} requests ({by_kind}), {non2xx.group(1) if non2xx else 0} non-2xx, "
            f"{socket_errors.group(0) if socket_errors else 'no socket errors'}, "
            f"p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}")


HEAVY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a{n} ?b ?c . ?d ?e ?f . ?g ?h ?i }}"


def unique_lua(template: str, target: Path) -> Path:
    """A wrk script sending `template` with {n} replaced by a new number each request (so no cache answers it)."""
    prefix, _, suffix = template.partition("{n}")
    target.write_text(f"""local n = 0
local threads = {{}}
wrk.headers["Accept"] = "application/sparql-results+json"
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {{}}; n = math.random(1, 1000000000) end
request = function()
  n = n + 1
  return wrk.format("GET", "{prefix}" .. n .. "{suffix}")
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for status, k in pairs(t:get("statuses")) do io.write(string.format("status %d %d\\n", status, k)) end
  end
end
""")
    return target


def html_lua(paths: list[str], target: Path) -> Path:
    """lua() asking for HTML, as a browser does."""
    lua(paths, target)
    target.write_text(target.read_text().replace("application/sparql-results+json", "text/html"))
    return target


def watch_peak(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Until `stop`, keep in peak[0] the largest memory (PSS KiB) of the server's processes, read twice a second."""
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib(pid))
        time.sleep(0.5)


def slow_clients(port: int, seconds: int, stop: threading.Event) -> list[str]:
    """Five bodies trickled at 1 byte/s and five readers of the whole dataset at 1 KB/s, for `seconds`."""
    import socket

    outcomes: list[str] = []

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                      b"\r\nContent-Length: 100000\r\n\r\nquery=")
            s.settimeout(1.0)
            for _ in range(seconds):
                if stop.is_set():
                    break
                try:
                    head = s.recv(64)
                    outcomes.append("trickle: " + head.split(b"\r\n")[0].decode("latin-1"))
                    return
                except TimeoutError:
                    s.sendall(b"a")
            outcomes.append("trickle: still open")

    def read_slowly() -> None:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /store?default HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/n-triples\r\n\r\n")
            got = 0
            for _ in range(seconds):
                if stop.is_set():
                    break
                try:
                    chunk = s.recv(1024)
                except OSError:
                    break
                if not chunk:
                    outcomes.append(f"reader: closed by the server after {got:,} bytes")
                    return
                got += len(chunk)
                time.sleep(1.0)
            outcomes.append(f"reader: {got:,} bytes read")

    threads = [threading.Thread(target=f, daemon=True) for f in [trickle] * 5 + [read_slowly] * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 5)
    return outcomes


def attack(args: argparse.Namespace) -> None:
    """The hostile mix of --attack, on `args.root` (built) or a copy of data/."""
    if args.root:
        work = args.root.resolve()  # the server runs from /
    else:
        work = Path(tempfile.mkdtemp(prefix="kg-load-"))
        shutil.copytree(REPO / "data", work / "data")
        shutil.copytree(REPO / "shapes", work / "shapes")
        subprocess.run([sys.executable, "-m", "kg", "--root", str(work), "build"], check=True,
                       stderr=subprocess.DEVNULL)
    server = Server("kg", [sys.executable, "-m", "kg", "--root", str(work), "serve", "--port", "{port}"], free_port(),
                    "/sparql", {"KG_QUERY_TIMEOUT": str(args.timeout)})
    server.cmd = [c.replace("{port}", str(server.port)) for c in server.cmd]
    tmp = Path(tempfile.mkdtemp(prefix="kg-wrk-"))
    cheap = "/sparql?query=" + urllib.parse.quote(
        'SELECT ?s ?p ?o WHERE { ?s <http://schema.org/name> "A title {n}" ; ?p ?o }'
    ).replace(urllib.parse.quote("{n}"), "{n}")
    heavy = [f"/sparql?query={urllib.parse.quote(HEAVY.format(n=n))}" for n in range(40)]
    pages = [f"/movie/?size={n}" for n in range(1, 200)]
    server.start(120)
    try:
        out: dict[str, str] = {}
        stop = threading.Event()
        peak = [0]
        watcher = threading.Thread(target=watch_peak, args=(server.proc.pid, stop, peak))  # type: ignore[union-attr]
        slow: list[str] = []
        jobs = [
            threading.Thread(target=run_wrk, args=(server.url, unique_lua(cheap, tmp / "cheap.lua"), 4, args.seconds,
                                                   out, "cheap")),
            threading.Thread(target=run_wrk, args=(server.url, html_lua(pages, tmp / "pages.lua"), 2, args.seconds,
                                                   out, "pages")),
            threading.Thread(target=run_wrk, args=(server.url, lua(heavy, tmp / "heavy.lua"), 20, args.seconds, out,
                                                   "heavy")),
            threading.Thread(target=run_wrk, args=(server.url, lua([heavy[0]], tmp / "twins.lua"), 12, args.seconds,
                                                   out, "twins")),
            threading.Thread(target=lambda: slow.extend(slow_clients(server.port, args.seconds, stop))),
        ]
        watcher.start()
        for t in jobs:
            t.start()
        for t in jobs:
            t.join()
        stop.set()
        watcher.join()
        time.sleep(args.timeout + 1)
        start = time.monotonic()
        after = requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        print(f"\n## Attack mix: {args.seconds} s, query deadline {args.timeout:g} s, {work}, wrk on 127.0.0.1\n")
        print(f"- cheap queries (4 connections, each request unique): {summary(out['cheap'])}")
        print(f"- listing pages (2 connections): {summary(out['pages'])}")
        print(f"- heavy queries (20 connections, 40 distinct cross products): {summary(out['heavy'])}")
        print(f"- identical slow GETs (12 connections): {summary(out['twins'])}")
        print(f"- slow clients (5 trickling bodies, 5 readers at 1 KB/s): {sorted(slow)}")
        print(f"- peak server memory (PSS, all processes): {peak[0] / 1024:.0f} MiB")
        print(f"- afterwards: HTTP {after.status_code} in {1000 * (time.monotonic() - start):.0f} ms")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=3.0, help="the server's query deadline")
    ap.add_argument("--attack", action="store_true", help="the hostile mix (see above)")
    ap.add_argument("--root", type=Path, help="with --attack: a built project to serve (default: a copy of data/)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk not installed; `bash bench/setup` installs what the benchmarks need")
    if args.attack:
        attack(args)
        return
    work = Path(tempfile.mkdtemp(prefix="kg-load-"))
    shutil.copytree(REPO / "data", work / "data")
    shutil.copytree(REPO / "shapes", work / "shapes")
    subprocess.run([sys.executable, "-m", "kg", "--root", str(work), "build"], check=True, stderr=subprocess.DEVNULL)
    server = Server("kg", [sys.executable, "-m", "kg", "--root", str(work), "serve", "--port", "{port}"], free_port(),
                    "/sparql", {"KG_QUERY_TIMEOUT": str(args.timeout), "KG_CACHE_MB": "0"})
    server.cmd = [c.replace("{port}", str(server.port)) for c in server.cmd]
    tmp = Path(tempfile.mkdtemp(prefix="kg-wrk-"))
    cheap = [f"/sparql?query={urllib.parse.quote(f'SELECT ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {n}')}"
             for n in range(1, 400)]
    server.start(60)
    try:
        out: dict[str, str] = {}
        peak = [0]
        done = threading.Event()
        threads = [threading.Thread(target=run_wrk, args=(server.url, lua(cheap, tmp / "cheap.lua"), 8,
                                                          args.seconds, out, "cheap")),
                   threading.Thread(target=run_wrk, args=(server.url, lua(
                       [f"/sparql?query={urllib.parse.quote(SLOW)}"], tmp / "slow.lua"), 2, args.seconds, out,
                       "pathological")),
                   threading.Thread(target=watch_peak, args=(server.proc.pid, done, peak))]
        for t in threads:
            t.start()
        for t in threads[:2]:
            t.join()
        done.set()
        threads[2].join()
        time.sleep(args.timeout + 1)
        start = time.monotonic()
        after = requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        print(f"\n## Load: {args.seconds} s, query deadline {args.timeout:g} s, wrk on 127.0.0.1\n")
        print(f"- cheap (8 connections, distinct lookups): {summary(out['cheap'])}")
        print(f"- pathological (2 connections, cross product; every one must time out): {summary(out['pathological'])}")
        print(f"- peak server memory (PSS, all processes): {peak[0] / 1024:.0f} MiB")
        print(f"- afterwards: HTTP {after.status_code} in {1000 * (time.monotonic() - start):.0f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
