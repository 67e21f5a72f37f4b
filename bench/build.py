"""Build benchmark: N synthetic films (people shared across films) as CSV bulk sources, built by `kg build`.

    python3 bench/build.py [--films 1000 10000 100000] [--work /tmp/kg-build-bench]

For each N: the generated project is built by `kg build --full` in a fresh process with one worker process
(KG_BUILD_WORKERS=1), then with every core (end to end wall time, peak memory of the process and its workers,
and each stage's time from the release's metadata), for the speedup of every core over one; then the project's
one hand-written (YAML) film is edited and the project rebuilt on the previous release (with each stage's time),
three times in a row (the median is the figure: one run varies by a few tenths of a second; an edit's wall time is
taken without sampling the memory of its processes, which on 2 cores slowed it by about half a second), then one row of
films.csv, three times: the last release of each is compared, byte for byte, with a `--full` build of the same data;
then it is built once more with nothing changed; then the release's N-Triples are loaded by bare `oxigraph load`
(PyPI `oxigraph`) as the reference, and so is everything the release's store holds (the source graphs' N-Quads
and the union's N-Triples, both files at once): the part of a build that is the store engine's own work.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ("night", "river", "city", "blue", "last", "winter", "road", "secret", "house", "dream", "fire", "moon",
         "stranger", "garden", "storm", "silent", "golden", "lost", "summer", "shadow")
GENRES = ("drama", "comedy", "thriller", "romance", "documentary", "horror", "animation", "war")
CAST = 3
EDITS = 3  # of each kind, each on the release of the one before: the median is reported


def _env() -> dict[str, str]:
    """The environment kg runs in: this process's as it is now (SOURCE_DATE_EPOCH, set by `main`, included), but
    with the modules' bytecode cached, as an installation runs kg: a shell that turns the cache off would add each
    module's compilation to every build timed (a few tenths of a second, most of an edit's start)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


FILMS_MAPPING = """\
source: {key: synthetic-films, name: Synthetic film catalogue, type: CreativeWork}
files: films.csv
record: movie
key: {id: id}
fields:
  name: title
  production_year: year
  running_time: minutes
  genre: {column: genres, split: "|"}
  language: language
  description: {column: summary, lang: en}
  director: {name: director, id: director_id}
"""
CAST_MAPPING = """\
source: {key: synthetic-cast, name: Synthetic cast lists, type: CreativeWork}
files: cast.csv
record: movie
key: {id: film}
fields:
  cast:
    actor: {name: actor, id: actor_id}
    character_name: character
    billing: billing
"""


def generate(root: Path, films: int, seed: int = 1) -> None:
    """A kg project whose data/ holds films.csv and cast.csv and their mappings."""
    rng = random.Random(seed)
    people = max(10, films // 2)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    (root / "kg.toml").write_text(f'shapes_dir = "{REPO / "shapes"}"\n', encoding="utf-8")
    (data / "films.mapping.yaml").write_text(FILMS_MAPPING, encoding="utf-8")
    (data / "cast.mapping.yaml").write_text(CAST_MAPPING, encoding="utf-8")
    with (data / "films.csv").open("w", newline="", encoding="utf-8") as f, \
            (data / "cast.csv").open("w", newline="", encoding="utf-8") as c:
        fw, cw = csv.writer(f), csv.writer(c)
        fw.writerow(["id", "title", "year", "minutes", "genres", "language", "summary", "director", "director_id"])
        cw.writerow(["film", "actor", "actor_id", "character", "billing"])
        for n in range(films):
            film = f"tt{n + 1:08d}"
            d = rng.randrange(people)
            fw.writerow([film, f"The {rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n}",
                         1950 + rng.randrange(70), 80 + rng.randrange(80),
                         "|".join(rng.sample(GENRES, 2)), "en", f"A synthetic film about a {rng.choice(WORDS)}.",
                         f"Person {d}", f"nm{d + 1:08d}"])
            for i in range(CAST):
                a = rng.randrange(people)
                cw.writerow([film, f"Person {a}", f"nm{a + 1:08d}", f"Character {n}-{i}", i + 1])


HAND_WRITTEN = """\
sources:
  bench-notes:
    type: CreativeWork
    name: Notes on one film, written by hand
movies:
  hand-written-film:
    name: {name}
    claims:
      bench-notes:
        name: {name}
        description: A film a curator wrote down by hand, beside the bulk files.
"""


def write_hand_written(root: Path, name: str) -> None:
    """One film in a YAML file of its own, beside the bulk files."""
    (root / "data" / "hand-written.yaml").write_text(HAND_WRITTEN.format(name=name), encoding="utf-8")


def same_dumps(a: Path, b: Path) -> bool:
    """Whether two releases' dumps, VoID and index files are byte for byte the same."""
    names = ["kg.ttl", "kg.nt.gz", "kg.jsonld", "kg.jsonl", "kg.trig", "kg.nq.gz", "void.ttl"]
    index = sorted(str(p.relative_to(a)) for p in (a / "index").iterdir())
    if index != sorted(str(p.relative_to(b)) for p in (b / "index").iterdir()):
        return False
    from kg import spliced  # the plain dumps are kept as the ranges of the shards' pieces they are made of
    return all(spliced.read_bytes(a / n) == spliced.read_bytes(b / n) for n in names + index)


def edit_one_film(root: Path) -> None:
    """Change the title of the first film (one row of films.csv)."""
    path = root / "data" / "films.csv"
    text = path.read_text(encoding="utf-8")
    head, first, rest = text.split("\n", 2)
    cells = first.split(",")
    cells[1] = cells[1] + " (edited)"
    path.write_text("\n".join([head, ",".join(cells), rest]), encoding="utf-8")


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child, and its output."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=_env())
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: only meaningful when it grew
    return wall, max(peak, before) / 1024, proc.stdout + proc.stderr


def _tree(pid: int) -> list[int]:
    """The process and every process below it."""
    found = [pid]
    for tid in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []:
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def _pss_kb(pid: int) -> int:
    """The process's proportional set size (shared pages split between the processes that share them)."""
    try:
        for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if row.startswith("Pss:"):
                return int(row.split()[1])
    except OSError:
        pass
    return 0


def peak_of(cmd: list[str], cwd: Path | None = None,
            env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, the peak memory (MB) of the command's whole process tree (the build's workers included:
    the largest sum of their proportional set sizes, sampled every 0.1 s, less often when a sample takes longer
    than a hundredth of a second), and its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**_env(), **(env or {})})
    peak = 0
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else b""))
    reader.start()
    while proc.poll() is None:
        took = time.perf_counter()
        peak = max(peak, sum(_pss_kb(p) for p in _tree(proc.pid)))
        # reading a large process's page tables is slow: the sampler takes a tenth of a core at most
        time.sleep(max(0.1, 9 * (time.perf_counter() - took)))
    reader.join()
    wall = time.perf_counter() - start
    said = b"".join(out).decode(errors="replace")
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{said}")
    return wall, peak / 1024, said


def bench(films: int, work: Path) -> dict[str, object]:
    root = work / f"films-{films}"
    shutil.rmtree(root, ignore_errors=True)
    generate(root, films)
    write_hand_written(root, "A Hand-Written Film")
    kg = [sys.executable, "-m", "kg", "--root", str(root), "build"]
    one_wall, one_peak, _ = peak_of([*kg, "--full"], REPO, {"KG_BUILD_WORKERS": "1"})  # one process
    wall, peak, _ = peak_of([*kg, "--full"], REPO)  # every core: the release the edits are built on
    meta = json.loads((root / "var" / "current" / "release.json").read_text())
    edits: dict[str, object] = {}
    for what, edit in (("yaml", lambda n: write_hand_written(root, f"A Hand-Written Film, Edited {n}")),
                       ("row", lambda _: edit_one_film(root))):
        walls = []
        for n in range(EDITS):  # each on the release of the one before
            edit(n)
            walls.append(run(kg, REPO)[0])  # (not sampling the memory of its processes, which costs the build)
        edits[what], edits[what + "_each"] = statistics.median(walls), walls
        incremental = (root / "var" / "current").resolve()
        edits[what + "_stages"] = json.loads((incremental / "release.json").read_text())["timings"]
        peak_of([*kg, "--full"], REPO)
        edits[what + "_identical"] = same_dumps(incremental, (root / "var" / "current").resolve())
    rewall, repeak = edits["row"], 0.0
    same, _, said = run(kg, REPO)
    if "nothing changed" not in said:
        sys.exit(f"a build with nothing changed built something:\n{said}")
    nt, nq = work / f"films-{films}.nt", work / f"films-{films}.nq"
    from kg import spliced  # the dumps are kept as the ranges of the shards' files they are made of
    for dump, plain in (("kg.nt.gz", nt), ("kg.nq.gz", nq)):
        with spliced.open_file(root / "var" / "current" / dump) as raw, gzip.open(raw, "rb") as src, \
                plain.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    ref = {"wall": None, "peak": None}
    held = {"wall": None, "peak": None}  # what the release's store holds: the source graphs and their union
    oxigraph = shutil.which("oxigraph")
    if oxigraph:
        store = work / f"oxigraph-{films}"
        for into, files in ((ref, [nt]), (held, [nq, nt])):
            shutil.rmtree(store, ignore_errors=True)
            into["wall"], into["peak"], _ = peak_of([oxigraph, "load", "--lenient", "--location", str(store),
                                                     "--file", *map(str, files)])
        shutil.rmtree(store, ignore_errors=True)
    nt.unlink()
    nq.unlink()
    return {"films": films, "triples": meta["counts"]["triples"], "wall": wall, "peak": peak,
            "stages": meta["timings"], "stage_peaks": meta.get("peak_mb"), "stage_cpu": meta.get("cpu_s"),
            "rebuild": rewall, "rebuild_peak": repeak, "one_worker": one_wall, "one_worker_peak": one_peak,
            "edits": edits,
            "unchanged": same,
            "oxigraph": ref, "oxigraph_store": held}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--films", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/kg-build-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    rows = [bench(n, args.work) for n in args.films]
    print(f"{'films':>8} {'triples':>9} {'build s':>8} {'peak MB':>8} {'read':>6} {'map':>6} {'valid.':>6} "
          f"{'dumps':>6} {'store':>6} {'rebuild s':>9} {'unchanged s':>11} {'oxigraph load s':>17} {'ratio':>6} "
          f"{'oxigraph load, store content s':>31} {'ratio':>6}")
    for r in rows:
        st = r["stages"]
        cells = []
        for ox in (r["oxigraph"], r["oxigraph_store"]):
            cells.append(f"{ox['wall']:.1f} ({ox['peak']:.0f} MB)" if ox["wall"] else "not installed")
            cells.append(f"{r['wall'] / ox['wall']:.1f}x" if ox["wall"] else "-")
        print(f"{r['films']:>8} {r['triples']:>9} {r['wall']:>8.1f} {r['peak']:>8.0f} {st.get('read', 0):>6.1f} "
              f"{st.get('map', 0):>6.1f} {st.get('validate', 0):>6.1f} {st.get('dumps', 0):>6.1f} "
              f"{st.get('store', 0):>6.1f} {r['rebuild']:>9.1f} {r['unchanged']:>11.1f} {cells[0]:>17} {cells[1]:>6} "
              f"{cells[2]:>31} {cells[3]:>6}")
        print(f"{'':>8} one worker: {r['one_worker']:.1f} s ({r['one_worker_peak']:.0f} MB); "
              f"{os.cpu_count()} workers: {r['wall']:.1f} s; speedup {r['one_worker'] / r['wall']:.2f}x")
        e = r["edits"]
        print(f"{'':>8} one YAML film edited: {e['yaml']:.1f} s, the median of {EDITS} edits in a row "
              f"({', '.join(f'{w:.2f}' for w in e['yaml_each'])}; the last byte-identical to --full: "
              f"{e['yaml_identical']}); one bulk row edited: {e['row']:.1f} s "
              f"({', '.join(f'{w:.2f}' for w in e['row_each'])}; byte-identical to --full: {e['row_identical']})")
        print(f"{'':>8} stages of the YAML edit: {e['yaml_stages']}; of the row edit: {e['row_stages']}")
        print(f"{'':>8} peak MB by stage (the build's own process): {r['stage_peaks']}")
        print(f"{'':>8} CPU s by stage (every thread): {r['stage_cpu']}")


if __name__ == "__main__":
    main()
