"""Synthetic film records (people shared across films), mapped by kg's own mapping; for benchmarks."""

from __future__ import annotations

import random
from pathlib import Path

from kg.config import Config
from kg.mapping import map_records
from kg.model import EDITORIAL, CastEntry, Claim, LangText, Origin, Record, Value
from kg.release import BuildResult, publish_release
from kg.validate import Report

WORDS = ("night", "river", "city", "blue", "last", "winter", "road", "secret", "house", "dream", "fire", "moon",
         "stranger", "garden", "storm", "silent", "golden", "lost", "summer", "shadow")
GENRES = ("drama", "comedy", "thriller", "romance", "documentary", "horror", "animation", "war")


def records(films: int, seed: int = 1) -> list[Record]:
    """`films` films with about 24 statements each, directors and actors drawn from a shared pool."""
    rng = random.Random(seed)
    people = max(10, films // 2)
    origin = Origin("synthetic", 0, "synthetic")
    source = Record("source", "synthetic", (Claim("synthetic", (Value("name", LangText("Synthetic catalogue"), origin),
                                                                     Value("type", "CreativeWork", origin)), origin),),
                    origin)
    out = [source]
    for p in range(people):
        name = LangText(f"Person {p}")
        out.append(Record("person", f"person-{p}", (Claim(EDITORIAL, (Value("name", name, origin),), origin),), origin))
    out.append(Record("country", "kr", (Claim(EDITORIAL, (Value("name", LangText("South Korea"), origin),
                                                          Value("code", "KR", origin)), origin),), origin))
    for f in range(films):
        title = LangText(f"The {rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {f}")
        cast = tuple(Value("cast", CastEntry(f"person-{rng.randrange(people)}", None,
                                             LangText(f"Character {f}-{i}")), origin) for i in range(3))
        claim = (Value("name", title, origin), Value("production_year", 1950 + rng.randrange(70), origin),
                 Value("running_time", 80 + rng.randrange(80), origin),
                 Value("director", f"person-{rng.randrange(people)}", origin),
                 Value("genre", rng.choice(GENRES), origin), Value("language", "ko", origin),
                 Value("country", "kr", origin),
                 Value("description", LangText(f"A synthetic film about a {rng.choice(WORDS)}."), origin)) + cast
        out.append(Record("movie", f"film-{f}", (Claim(EDITORIAL, (Value("name", title, origin),), origin),
                                                 Claim("synthetic", claim, origin)), origin))
    return out


def publish(config: Config, films: int) -> BuildResult:
    """Map synthetic films and publish them as the project's current release (no SHACL run: bench only)."""
    mapped = map_records(records(films), _minter(config))
    result = BuildResult(Report(), [], {"records": films, "quads": len(mapped.quads), "files": 0})
    return publish_release(config, mapped, result, [])


def _minter(config: Config):  # type: ignore[no-untyped-def]
    from kg.ids import Minter

    return Minter(config.base_iri)


if __name__ == "__main__":
    import sys
    import time

    from kg.config import load_config

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    root = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"/tmp/kg-synth-{n}")
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = publish(load_config(root), n)
    print(f"{n} films: {result.counts} in {time.perf_counter() - start:.1f} s -> {result.release_dir}")
