"""Load test: cheap and pathological SPARQL queries at once against `kg serve`, on 127.0.0.1, for a fixed time.

    python bench/load.py [--seconds 30] [--timeout 3]

Two wrk processes run side by side: 8 connections cycling through cheap, distinct lookups and 2 connections
sending a three-way cross product that can only end by timing out. Prints requests, errors by kind, p50/p99
latency for each, the server's peak memory (PSS of all its processes), and whether it answers normally after.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=3.0, help="the server's query deadline")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk not installed; `bash bench/setup` installs what the benchmarks need")
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

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_kib(server.proc.pid))  # type: ignore[union-attr]
                time.sleep(0.5)

        threads = [threading.Thread(target=run_wrk, args=(server.url, lua(cheap, tmp / "cheap.lua"), 8,
                                                          args.seconds, out, "cheap")),
                   threading.Thread(target=run_wrk, args=(server.url, lua(
                       [f"/sparql?query={urllib.parse.quote(SLOW)}"], tmp / "slow.lua"), 2, args.seconds, out,
                       "pathological")),
                   threading.Thread(target=watch)]
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
