"""Serving benchmark: kg serve vs oxigraph serve vs rdflib-endpoint, same data, same queries, wrk on 127.0.0.1.

    python bench/serve.py                    # the curated data/ set
    python bench/serve.py --films 100000     # a synthetic graph of 100,000 films (about 2.4 million triples)

Servers run side by side; every round visits them in a rotating order and the medians are reported, since
this machine's speed drifts. Prints requests/second and p50/p99 latency per query and server, the ratios,
and each server's memory (RSS of all its processes).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BASE = "https://films.example.org/"
PREFIX = "PREFIX schema: <http://schema.org/> "
JSON = "application/sparql-results+json"
SLOW = frozenset({"aggregate", "text-filter"})  # queries of a second or so: timed one at a time 3 times only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int, field: str = "Pss") -> int:
    """Memory of a process and all its descendants: PSS (shared pages counted once in all) or RSS."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            found = re.search(rf"^{field}:\s+(\d+)", rollup, re.M)
            total += int(found.group(1)) if found else 0
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


@dataclass
class Server:
    name: str
    cmd: list[str]
    port: int
    query_path: str
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",  # no
                                     # checkout in the current directory shadows the kg the interpreter has installed
                                     start_new_session=True, env={**os.environ, **(self.env or {})})
        deadline = time.monotonic() + timeout
        probe = self.url + self.query_path + "?query=" + urllib.parse.quote("ASK {}")
        while time.monotonic() < deadline:
            try:
                if requests.get(probe, headers={"Accept": JSON}, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up")
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} did not start within {timeout} s")

    def drain(self, timeout: float = 900) -> float:
        """Wait until the server has worked off what earlier runs queued (a slow server keeps evaluating)."""
        start = time.monotonic()
        probe = self.url + self.query_path + "?query=" + urllib.parse.quote("ASK { }")
        while time.monotonic() - start < timeout:
            try:
                t = time.monotonic()
                requests.get(probe, headers={"Accept": JSON}, timeout=timeout)
                if time.monotonic() - t < 1.0:
                    break
            except requests.RequestException:
                time.sleep(1)
        return time.monotonic() - start

    def latency(self, variants: list[str], times: int) -> float:
        """Median wall time (ms) of `times` single, sequential requests on one kept-alive connection, each for the
        next of the query's variants (a different film each time, where the query has variants)."""
        spent = []
        with requests.Session() as session:
            for n in range(times):
                url = self.url + self.query_path + "?query=" + urllib.parse.quote(variants[n % len(variants)])
                t = time.perf_counter()
                r = session.get(url, headers={"Accept": JSON}, timeout=900)
                r.raise_for_status()
                spent.append((time.perf_counter() - t) * 1000)
        return statistics.median(spent)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:  # whatever is left of the group (a server still evaluating a queued query) goes now
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wrk(url_paths: list[str], base: str, accept: str, seconds: int, lua_dir: Path) -> dict[str, float]:
    """Run wrk against one or many paths (cycled); return rps, p50 and p99 in milliseconds, errors."""
    script = lua_dir / f"s{time.time_ns()}.lua"
    paths = ",\n".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in url_paths)
    script.write_text(f"""local paths = {{ {paths} }}
local i = 0
wrk.headers["Accept"] = "{accept}"
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
""")
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "60s", "--latency", "-s", str(script),
                          base], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"),
            "bad": float(non2xx.group(1)) if non2xx else 0.0, "timeouts": float(errors.group(1)) if errors else 0.0}


def release_films(release: Path, n: int = 5000) -> tuple[list[str], str]:
    """Up to `n` films of a built release that have a cast, and one director or actor: for --work on another project."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(release / "store"))
    rows = list(store.query(PREFIX + f"SELECT ?f ?d WHERE {{ ?f a schema:Movie ; schema:actor ?d }} LIMIT {n}"))
    del store
    return [r[0].value for r in rows], rows[len(rows) // 2][1].value


def queries(films: int, chosen: tuple[list[str], str] | None = None) -> dict[str, list[str]]:
    """The benchmark's SELECT queries; each a list of variants that wrk cycles through."""
    n = max(films, 1)
    if chosen:
        film = chosen[0]
    elif films:
        film = [f"{BASE}movie/tt{i + 1:08d}" for i in range(n)]
    else:
        from kg.build.sources import read_records

        film = [f"{BASE}movie/{r.key}" for r in read_records(REPO / "data") if r.kind == "movie"]
        film.insert(0, film.pop(film.index(f"{BASE}movie/break-away")))
    person = chosen[1] if chosen else f"{BASE}person/nm00000008" if films else f"{BASE}person/leesong-hee-il"
    word = "night" if films else "away"
    return {
        "lookup": [f"SELECT ?p ?o WHERE {{ <{film[0]}> ?p ?o }}"],
        "lookup-varied": [f"SELECT ?p ?o WHERE {{ <{f}> ?p ?o }}" for f in film],
        "one-hop": [PREFIX + f"SELECT ?film ?title WHERE {{ ?film schema:director <{person}> ; schema:name ?title }}"],
        "one-hop-varied": [PREFIX + f"SELECT ?x ?p ?v WHERE {{ <{f}> schema:actor ?x . ?x ?p ?v }}" for f in film],
        "two-hop": [PREFIX + "SELECT ?title ?actor WHERE { ?film schema:director <" + person + "> ; "
                    "schema:name ?title ; schema:actor ?role . ?role schema:actor/schema:name ?actor }"],
        "aggregate": [PREFIX + "SELECT ?year (COUNT(?film) AS ?n) WHERE { ?film a schema:Movie ; "
                      "schema:dateCreated ?year } GROUP BY ?year ORDER BY ?year"],
        "text-filter": [PREFIX + "SELECT ?film ?title WHERE { ?film a schema:Movie ; schema:name ?title "
                        f'FILTER(CONTAINS(LCASE(?title), "{word}")) }} LIMIT 100'],
    }


def prepare(films: int, work: Path) -> Path:
    """A built project: data/ through `kg build`, or a synthetic release."""
    if films == 0:
        shutil.copytree(REPO / "data", work / "data")
        shutil.copytree(REPO / "shapes", work / "shapes")
        subprocess.run([sys.executable, "-m", "kg", "--root", str(work), "build"], check=True,
                       stderr=subprocess.DEVNULL)
    else:
        from bench.build import generate

        generate(work, films)
        subprocess.run([sys.executable, "-m", "kg", "--root", str(work), "build"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (work / "var" / "current").resolve()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--films", type=int, default=0, help="synthetic films (0: the curated data/)")
    ap.add_argument("--seconds", type=int, default=5, help="duration of each wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (medians are reported)")
    ap.add_argument("--work", type=Path, help="reuse a built project directory")
    ap.add_argument("--skip-rdflib", action="store_true", help="leave out rdflib-endpoint")
    ap.add_argument("--rdflib-latency-only", action="store_true",
                    help="time rdflib-endpoint one request at a time only (on a large graph its queued "
                         "aggregates take minutes to drain)")
    ap.add_argument("--only", help="comma-separated query names")
    ap.add_argument("--against", type=Path, help="the Python of another kg install (say, a virtualenv of an "
                    "older commit): served uncached beside this kg, in the same rounds")
    ap.add_argument("--sequential", type=int, default=200,
                    help="sequential requests per query, server and round for the one-at-a-time latency")
    args = ap.parse_args()
    tools = ("wrk", "oxigraph") + (() if args.skip_rdflib else ("rdflib-endpoint",))
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        sys.exit(f"bench: {', '.join(missing)} not installed; `bash bench/setup` installs what the benchmarks need")

    work = (args.work or Path(tempfile.mkdtemp(prefix="kg-bench-"))).resolve()  # servers run from /
    release = (work / "var" / "current").resolve() if (work / "var" / "current").exists() else prepare(args.films,
                                                                                                       work)
    chosen = release_films(release) if args.work and not args.films and work.resolve() != REPO else None
    lua = Path(tempfile.mkdtemp(prefix="kg-wrk-"))
    servers = [
        Server("kg", [sys.executable, "-m", "kg", "--root", str(work), "serve", "--port", "{port}"], 0, "/sparql"),
        Server("kg (no cache)", [sys.executable, "-m", "kg", "--root", str(work), "serve", "--port", "{port}"], 0,
               "/sparql", {"KG_CACHE_MB": "0"}),
        Server("oxigraph", ["oxigraph", "serve-read-only", "--location", str(release / "store"), "--bind",
                            "127.0.0.1:{port}"], 0, "/query"),
    ]
    if args.against:  # another kg (an older checkout's interpreter), uncached, beside this one in every round
        servers.append(Server("other kg (no cache)", [str(args.against), "-m", "kg", "--root", str(work),
                                                      "serve", "--port", "{port}"], 0, "/sparql", {"KG_CACHE_MB": "0"}))
    if not args.skip_rdflib:  # it reads a file: the Turtle dump joined from the shards' pieces it is kept as
        from kg import spliced
        (lua / "kg.ttl").write_bytes(spliced.read_bytes(release / "kg.ttl"))
        servers.append(Server("rdflib-endpoint", ["rdflib-endpoint", "serve", "--host", "127.0.0.1", "--port",
                                                  "{port}", str(lua / "kg.ttl")], 0, "/"))
    for s in servers:
        s.port = free_port()
        s.cmd = [c.replace("{port}", str(s.port)) for c in s.cmd]
    try:
        for s in servers:
            t = time.monotonic()
            s.start(timeout=900)
            print(f"# {s.name} ready in {time.monotonic() - t:.1f} s", flush=True)
        idle = {s.name: rss_kib(s.proc.pid) for s in servers if s.proc}  # type: ignore[union-attr]
        idle_rss = {s.name: rss_kib(s.proc.pid, "Rss") for s in servers if s.proc}  # type: ignore[union-attr]
        qs = queries(args.films, chosen)
        if args.only:
            qs = {k: v for k, v in qs.items() if k in args.only.split(",")}
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        peak = dict.fromkeys(idle, 0)
        peak_rss = dict.fromkeys(idle, 0)
        for rnd in range(args.rounds):
            order = servers[rnd % len(servers):] + servers[: rnd % len(servers)]
            for name, variants in qs.items():
                for s in order:
                    if args.rdflib_latency_only and s.name == "rdflib-endpoint":
                        continue
                    paths = [f"{s.query_path}?query={urllib.parse.quote(v)}" for v in variants]
                    results.setdefault((name, s.name), []).append(wrk(paths, s.url, JSON, args.seconds, lua))
                    s.drain()
                    peak[s.name] = max(peak[s.name], rss_kib(s.proc.pid))  # type: ignore[union-attr]
                    peak_rss[s.name] = max(peak_rss[s.name], rss_kib(s.proc.pid, "Rss"))  # type: ignore[union-attr]
            print(f"# round {rnd + 1}/{args.rounds} done", flush=True)

        single: dict[tuple[str, str], list[float]] = {}
        for rnd in range(args.rounds):  # rotating, as the wrk runs are
            for q, variants in qs.items():
                for s in servers[rnd % len(servers):] + servers[: rnd % len(servers)]:
                    times = 3 if q in SLOW or s.name == "rdflib-endpoint" else args.sequential
                    single.setdefault((q, s.name), []).append(s.latency(variants, times))
        for s in servers:
            peak[s.name] = max(peak[s.name], rss_kib(s.proc.pid))  # type: ignore[union-attr]
            peak_rss[s.name] = max(peak_rss[s.name], rss_kib(s.proc.pid, "Rss"))  # type: ignore[union-attr]
        pages: dict[str, dict[str, float]] = {}
        kg = servers[0]
        varied = queries(args.films, chosen)["lookup-varied"]
        film_paths = [v.split("<")[1].split(">")[0].replace(BASE, "/") for v in varied]
        for label, paths, accept in [("entity page (HTML)", film_paths[:1], "text/html"),
                                     ("entity pages, varied (HTML)", film_paths, "text/html"),
                                     ("entity (Turtle)", film_paths[:1], "text/turtle"),
                                     ("dump kg.nt.gz", ["/download/kg.nt.gz"], "*/*")]:
            runs = [wrk(paths, kg.url, accept, args.seconds, lua) for _ in range(args.rounds)]
            pages[label] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        peak["kg"] = max(peak["kg"], rss_kib(kg.proc.pid))  # type: ignore[union-attr]
    finally:
        for s in servers:
            s.stop()

    def med(q: str, s: str, k: str) -> float:
        return statistics.median(r[k] for r in results[(q, s)])

    names = [s.name for s in servers]
    wrk_names = [n for n in names if not (args.rdflib_latency_only and n == "rdflib-endpoint")]
    data = str(args.work) if chosen else "data/ (curated)" if not args.films else f"{args.films:,} synthetic films"
    print(f"\n## SPARQL SELECT, {data}: wrk -t2 -c16, {args.seconds} s x {args.rounds} rounds, medians\n")
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else "∞"

    head = "| query | " + " | ".join(f"{n} req/s (p50 / p99 ms)" for n in wrk_names)
    head += " | oxigraph ÷ kg / ÷ kg (no cache) |"
    head += " kg / kg (no cache) ÷ rdflib-endpoint |" if "rdflib-endpoint" in wrk_names else ""
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for q in qs:
        cells = [f"{med(q, n, 'rps'):,.0f} ({med(q, n, 'p50'):.2f} / {med(q, n, 'p99'):.1f})"
                 + (f" [{med(q, n, 'bad'):.0f} errors]" if med(q, n, "bad") else "") for n in wrk_names]
        row = f"| {q} | " + " | ".join(cells) + f" | {ratio(med(q, 'oxigraph', 'rps'), med(q, 'kg', 'rps'))} / " \
            f"{ratio(med(q, 'oxigraph', 'rps'), med(q, 'kg (no cache)', 'rps'))} |"
        if "rdflib-endpoint" in wrk_names:
            rd = med(q, "rdflib-endpoint", "rps")
            row += (f" {med(q, 'kg', 'rps') / rd:.1f}× / {med(q, 'kg (no cache)', 'rps') / rd:.1f}× |" if rd
                    else " ∞ (rdflib-endpoint answered nothing within the run) |")
        print(row)
    print(f"\n## One request at a time (median of {args.sequential} sequential requests on one connection, each for "
          f"the next variant, median of {args.rounds} rounds; ms; kg (no cache) evaluates every time)\n")
    single_ms = {k: statistics.median(v) for k, v in single.items()}
    rdflib = "rdflib-endpoint" in names
    print("| query | " + " | ".join(names) + " | kg (no cache) ÷ oxigraph |"
          + (" rdflib-endpoint ÷ kg (no cache) |" if rdflib else ""))
    print("|" + "---|" * (len(names) + 2 + rdflib))
    for q in qs:
        print(f"| {q} | " + " | ".join(f"{single_ms[(q, n)]:,.2f}" for n in names)
              + f" | {single_ms[(q, 'kg (no cache)')] / single_ms[(q, 'oxigraph')]:.2f}× |"
              + (f" {single_ms[(q, 'rdflib-endpoint')] / single_ms[(q, 'kg (no cache)')]:.1f}× |" if rdflib else ""))
    print("\n## kg pages and downloads\n\n| request | req/s | p50 ms | p99 ms |\n|---|---|---|---|")
    for label, r in pages.items():
        print(f"| {label} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.1f} |")
    print("\n## Memory of all processes of each server (PSS counts shared pages once; RSS for reference)\n")
    print("| server | idle PSS MiB | peak PSS MiB | peak PSS ÷ oxigraph | idle RSS MiB | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for n in names:
        print(f"| {n} | {idle[n] / 1024:,.0f} | {peak[n] / 1024:,.0f} | {peak[n] / max(1, peak['oxigraph']):.2f}× "
              f"| {idle_rss[n] / 1024:,.0f} | {peak_rss[n] / 1024:,.0f} |")


if __name__ == "__main__":
    main()
