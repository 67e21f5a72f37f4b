"""Pages from an engine against the embedded store, on a real project: the same bytes, and how long each takes.

    python3 bench/engine_pages.py PROJECT [--kind oxigraph|virtuoso] [--sample 250] [--seed 7]

PROJECT is a kg project already built on the embedded store (`examples/films`, `examples/wikipedia`). Two engine
slots are started on 127.0.0.1 and the current release is published into one by `kg publish` into a copy of the
project's settings (the project's own kg.toml is left as it is). Then `--sample` entities picked at random from
the sitemap are asked for, each as a page (with a Korean Accept-Language), JSON-LD, N-Quads and its snippet,
of an app on the embedded store and of an app on the engine whose release directory has no store. The script
prints every answer that differs and the median, 95th percentile and slowest time of each side, with the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import REPO, start, stop  # noqa: E402 - the engines benchmark's way to start a slot

sys.path.insert(0, str(REPO))
from kg.config import load_config  # noqa: E402
from kg.layout import STORE_DIR, current  # noqa: E402
from server import create_app  # noqa: E402

FORMS = ("", ".jsonld", ".nq", "?format=embed")


def _locs(xml: str) -> list[str]:
    return [loc.split("</loc>")[0].split("/", 3)[3] for loc in xml.split("<loc>")[1:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path)
    parser.add_argument("--kind", choices=("oxigraph", "virtuoso"), default="oxigraph")
    parser.add_argument("--sample", type=int, default=250)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    project = args.project.resolve()
    release = current(project / "var")
    if release is None:
        sys.exit(f"{project} has no release: run `kg build` first")
    work = Path(tempfile.mkdtemp(prefix="kg-engine-pages-"))
    slots = [start(args.kind, work / f"slot-{n}") for n in range(2)]
    settings = (project / "kg.toml").read_text(encoding="utf-8") if (project / "kg.toml").exists() else ""
    try:
        (project / "kg.toml").write_text(settings + f'\nstore = "{args.kind}"\nslots = ["{slots[0][0]}", '
                                         f'"{slots[1][0]}"]\n', encoding="utf-8")
        env = {**os.environ, "KG_ENGINE_USER": "dba", "KG_ENGINE_PASSWORD": "dba"}
        done = subprocess.run([sys.executable, "-m", "kg", "--root", str(project), "publish"], cwd=REPO, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"kg publish failed:\n{done.stdout}\n{done.stderr}")
        replica = work / "replica"  # the release's files, without its store, under the same settings
        shutil.copytree(project, replica, symlinks=True, ignore=shutil.ignore_patterns(STORE_DIR))
        apps = {"embedded": create_app(load_config(project, store="embedded", slots=[], query_workers=1,
                                                   cache_mb=0)),
                args.kind: create_app(load_config(replica, query_workers=1, cache_mb=0))}
        (project / "kg.toml").write_text(settings, encoding="utf-8")
        clients = {k: a.test_client() for k, a in apps.items()}
        embedded = clients["embedded"]
        pages = [p for part in _locs(embedded.get("/sitemap.xml").get_data(as_text=True))
                 for p in _locs(embedded.get("/" + part).get_data(as_text=True))]
        sample = random.Random(args.seed).sample(pages, min(args.sample, len(pages)))
        took: dict[str, list[float]] = {k: [] for k in clients}
        differ = []
        for page in sample:
            for form in FORMS:
                got = {}
                for k, client in clients.items():
                    began = time.perf_counter()
                    got[k] = client.get(f"/{page}{form}", headers={"Accept-Language": "ko, en;q=0.5"})
                    took[k].append(time.perf_counter() - began)
                mine, theirs = got["embedded"], got[args.kind]
                if (theirs.status_code, theirs.data) != (mine.status_code, mine.data):
                    differ.append(f"/{page}{form} ({mine.status_code} / {theirs.status_code})")
        print(f"{project.name}: {len(pages):,} entity pages; {len(sample)} sampled (seed {args.seed}), "
              f"{len(sample) * len(FORMS):,} answers each; {len(differ)} differ")
        for line in differ[:20]:
            print("  differs:", line)
        base = statistics.median(took["embedded"])
        for k, times in took.items():
            times.sort()
            median = statistics.median(times)
            print(f"{k:10} median {median * 1000:7.1f} ms ({median / base:4.2f}x)  p95 "
                  f"{times[int(len(times) * 0.95)] * 1000:7.1f} ms  slowest {times[-1] * 1000:7.1f} ms")
        for app in apps.values():
            app.extensions["kg.executors"].close()
    finally:
        (project / "kg.toml").write_text(settings, encoding="utf-8")
        for _, proc in slots:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
