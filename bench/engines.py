"""Engine benchmark: the same synthetic films served by `kg serve` from the embedded store, Oxigraph server and
Virtuoso, side by side in one run.

    python3 bench/engines.py [--films 100000] [--runs 5] [--work /tmp/kg-engine-bench]

The project of bench/build.py (N films, cast lists, people shared across films) is built once on the embedded
store, without running times: Virtuoso 7.2 keeps an xsd:duration as seconds, so kg refuses to publish a graph
with running times into it (tests/test_virtuoso.py). Then for each engine two slots are started on 127.0.0.1 and
the release is published into one by `kg publish` (load time and verify time from its release.json, disk size of
the slot), and a `kg serve` in front of it is asked the same queries (lookup, one-hop, two-hop, aggregates, text
filter), a film's and a person's page and a page of a listing (pages from an engine are made from two queries),
each `--runs` times; the median is printed, with its ratio to the embedded store.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import REPO, generate  # noqa: E402 - the same synthetic project as the build benchmark

sys.path.insert(0, str(REPO))  # kg from this checkout, installed or not
from kg.engines import virtuoso_config  # noqa: E402

OX = "oxigraph"
QUERIES = {
    "lookup": "SELECT ?n WHERE { <movie/tt00000123> schema:name ?n }",
    "one-hop": "SELECT ?d ?name WHERE { <movie/tt00000123> schema:director ?d . ?d schema:name ?name }",
    "two-hop": "SELECT ?film WHERE { <movie/tt00000123> schema:director ?d . ?film schema:director ?d }",
    "aggregate": "SELECT ?genre (COUNT(*) AS ?n) WHERE { ?film schema:genre ?genre } GROUP BY ?genre",
    "aggregate, join": "SELECT (COUNT(DISTINCT ?person) AS ?n) WHERE { ?film schema:actor/schema:actor ?person }",
    "text filter": 'SELECT ?film WHERE { ?film a schema:Movie ; schema:name ?n FILTER(CONTAINS(LCASE(?n), '
                   '"silent river")) } LIMIT 100',
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    sys.exit(f"{what} did not start")


def start(kind: str, where: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """One engine instance on a loopback port with its own data directory."""
    where.mkdir(parents=True)
    port = free_port()
    log = (where / "out.log").open("wb")
    if kind == "oxigraph":
        cmd = [shutil.which(OX) or OX, "serve", "--location", str(where / "store"), "--bind", f"127.0.0.1:{port}"]
    else:
        (where / "virtuoso.ini").write_text(virtuoso_config(str(where), free_port(), port, memory_mb=1300,
                                                            threads=2))
        cmd = ["virtuoso-t", "+foreground", "+configfile", str(where / "virtuoso.ini")]
    proc = subprocess.Popen(cmd, cwd=where, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait(url + ("/query?query=ASK%7B%7D" if kind == "oxigraph" else "/sparql?query=ASK%7B%7D"), proc, kind)
    return url, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def timed(url: str, runs: int, **params: str) -> float:
    """Median seconds of `runs` requests (after one warm-up), each checked for a 200."""
    took = []
    for n in range(runs + 1):
        start_at = time.perf_counter()
        r = requests.get(url, params=params, headers={"Accept": "text/csv" if "query" in params else "text/html",
                                                      "Cache-Control": "no-cache"}, timeout=600)
        if r.status_code != 200:
            sys.exit(f"{url} {params}: {r.status_code} {r.text[:300]}")
        if n:
            took.append(time.perf_counter() - start_at)
    return statistics.median(took)


def serve(root: Path, runs: int) -> dict[str, float]:
    """The medians of every query and of an entity page through a `kg serve` of the project."""
    port = free_port()
    env = {**os.environ, "KG_CACHE_MB": "0"}  # each request is answered, not replayed
    proc = subprocess.Popen([sys.executable, "-m", "kg", "--root", str(root), "serve", "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait(url + "/sparql", proc, "kg serve")
        out = {name: timed(url + "/sparql", runs, query=q, timeout="300") for name, q in QUERIES.items()}
        out["entity page"] = timed(url + "/movie/tt00000123", runs)
        out["person page"] = timed(url + "/person/nm00000123", runs)
        out["listing (100 summaries)"] = timed(url + "/person/", runs, page="7")
    finally:
        stop(proc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--films", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kg-engine-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    root = args.work / "project"
    generate(root, args.films)
    mapping = root / "data" / "films.mapping.yaml"
    mapping.write_text(mapping.read_text().replace("  running_time: minutes\n", ""))  # see the docstring
    shapes = (root / "kg.toml").read_text()
    kg = [sys.executable, "-m", "kg", "--root", str(root)]
    started = time.perf_counter()
    subprocess.run([*kg, "build"], cwd=REPO, check=True, capture_output=True)
    release = root / "var" / "current"
    meta = json.loads((release / "release.json").read_text())
    print(f"{args.films:,} films, {meta['counts']['triples']:,} triples; built in "
          f"{time.perf_counter() - started:.1f} s; embedded store {size_mb(release / 'store'):,.0f} MB")
    results = {"embedded": serve(root, args.runs)}
    publishing = {}
    for kind in ("oxigraph", "virtuoso"):
        slots = [start(kind, args.work / f"{kind}-{n}") for n in range(2)]
        try:
            (root / "kg.toml").write_text(shapes + f'store = "{kind}"\nslots = ["{slots[0][0]}", "{slots[1][0]}"]\n')
            env = {**os.environ, "KG_ENGINE_USER": "dba", "KG_ENGINE_PASSWORD": "dba"}
            began = time.perf_counter()
            done = subprocess.run([*kg, "publish"], cwd=REPO, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"kg publish into {kind} failed:\n{done.stdout}\n{done.stderr}")
            engine = json.loads((release / "release.json").read_text())["engine"]
            publishing[kind] = (time.perf_counter() - began, engine["load_s"], engine["verify_s"],
                                size_mb(args.work / f"{kind}-0"))
            results[kind] = serve(root, args.runs)
        finally:
            for _, proc in slots:
                stop(proc)
            (root / "kg.toml").write_text(shapes)
    print()
    print(f"{'publish':24} {'kg publish':>11} {'load':>9} {'verify':>9} {'disk':>9}")
    for kind, (wall, load, verify, disk) in publishing.items():
        print(f"{kind:24} {wall:10.1f}s {load:8.1f}s {verify:8.1f}s {disk:7,.0f}MB")
    print()
    print(f"{'median of ' + str(args.runs):24} " + " ".join(f"{k:>22}" for k in results))
    for name in [*QUERIES, "entity page", "person page", "listing (100 summaries)"]:
        base = results["embedded"][name]
        cells = [f"{results[k][name] * 1000:10.1f} ms ({results[k][name] / base:4.2f}x)" for k in results]
        print(f"{name:24} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
