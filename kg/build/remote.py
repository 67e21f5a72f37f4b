"""Publishing a release into a remote engine: loaded into an idle slot, verified, then recorded for the switch."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyoxigraph as ox

from kg import spliced, vocab
from kg.config import Config
from kg.engines import EngineError, Slot, slot
from kg.errors import ENVIRONMENT, Failure
from kg.ids import Minter
from kg.layout import DUMPS, STORE_DIR, metadata

ENGINE_KEY = "engine"  # release.json: which slot serves the release
_NQUADS = next(d for d in DUMPS if d.format.name == "nquads")  # the source graphs
_NTRIPLES = next(d for d in DUMPS if d.format.name == "ntriples")  # the union: the default graph


class PublishError(Failure):
    """A release could not be published into its engine: nothing was switched, the served release stays. (The
    machine's side, not the input's: exit code 3.)"""

    exit_code = ENVIRONMENT

    def lines(self) -> list[str]:
        return [str(self), "nothing was switched; the previous release is still served"]


def slots(config: Config) -> list[Slot]:
    """The configured slots of a remote store."""
    return [slot(config.store, url) for url in config.slots]


def serving(meta: dict[str, Any]) -> str | None:
    """The URL of the slot a release was published into (None: an embedded release)."""
    engine = meta.get(ENGINE_KEY)
    return str(engine["slot"]) if isinstance(engine, dict) and engine.get("slot") else None


def idle(config: Config, live: Path | None) -> Slot:
    """The slot to load the next release into: never the one serving the current release."""
    busy = serving(metadata(live)) if live is not None else None
    return next(s for s in slots(config) if s.url != busy)


@dataclass(frozen=True)
class Expected:
    """What a slot holding the release must answer: its version, counts, and one literal of each kind."""

    release: str
    default: int
    graphs: dict[str, int]
    literals: list[ox.Triple]


def expected(release_dir: Path, base_iri: str) -> Expected:
    """The release's own counts and literal samples, asked of its embedded store (the scans run inside Oxigraph:
    a Python loop over 2.5 M statements took 45 s)."""
    store = ox.Store.read_only(str(release_dir / STORE_DIR))

    def rows(query: str) -> list[ox.QuerySolution]:
        found = store.query(query)
        assert isinstance(found, ox.QuerySolutions)
        return list(found)

    graphs = {r["g"].value: int(r["n"].value) for r in rows(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    default = int(rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value)
    meta = metadata(release_dir)
    release = Minter(base_iri).release(str(meta["id"])).value
    written = meta.get("literal_samples")
    if isinstance(written, list):  # noted by the build while it wrote the dumps
        return Expected(release, default, graphs, [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(
            "\n".join(written).encode(), format=ox.RdfFormat.N_TRIPLES)])
    kinds = sorted((r["dt"].value, r["l"].value) for r in rows(
        "SELECT DISTINCT ?dt ?l WHERE { ?s ?p ?o FILTER(isLiteral(?o)) BIND(datatype(?o) AS ?dt) "
        "BIND(lang(?o) AS ?l) }"))
    samples = []
    for datatype, language in kinds:  # one statement with a literal of each datatype and language
        row = rows(f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(isLiteral(?o) && datatype(?o) = <{datatype}> && "
                   f"lang(?o) = {json.dumps(language)}) }} LIMIT 1")[0]
        samples.append(ox.Triple(row["s"], row["p"], row["o"]))
    return Expected(release, default, graphs, samples)


def pinned(target: Slot, base_iri: str, graphs: Iterable[str]) -> list[tuple[str, str]]:
    """The dataset kg names in every query to the slot (see Slot.pin)."""
    return target.pin(Minter(base_iri).union_graph().value, graphs)


def load(release_dir: Path, target: Slot, timeout: float, base_iri: str | None = None) -> None:
    """Empty the slot, then bulk-load the release: the source graphs, and their union as the default graph (or,
    in an engine without one, as the union graph)."""
    base = base_iri or str(metadata(release_dir)["base_iri"])
    if target.engine.graphs:
        target.update("CLEAR ALL")
        with _gunzipped(release_dir / _NQUADS.filename) as quads:
            target.load(quads, "application/n-quads", None, timeout)
        with _gunzipped(release_dir / _NTRIPLES.filename) as triples:
            target.load(triples, "application/n-triples", "default", timeout)
        return
    for row in target.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "  # kg's graphs only
                             f"FILTER(STRSTARTS(STR(?g), {json.dumps(base)})) }}"):
        target.update(f"DROP SILENT GRAPH <{row['g']['value']}>")
    with tempfile.TemporaryDirectory(prefix="kg-publish-") as scratch:
        for graph, path in _by_graph(release_dir / _NQUADS.filename, Path(scratch)):
            with path.open("rb") as triples:
                target.load(triples, "application/n-triples", graph, timeout)
    with _gunzipped(release_dir / _NTRIPLES.filename) as triples:
        target.load(triples, "application/n-triples", Minter(base).union_graph().value, timeout)


@contextlib.contextmanager
def _gunzipped(path: Path) -> Iterator[BinaryIO]:
    """One of the release's gzipped dumps (a file, or spliced from its parts), read uncompressed."""
    with spliced.open_file(path) as raw, gzip.GzipFile(fileobj=raw) as stream:
        yield cast(BinaryIO, stream)


def _by_graph(nquads: Path, scratch: Path) -> list[tuple[str, Path]]:
    """The N-Quads dump split into one N-Triples file per graph (for a Graph Store that loads one graph at a
    time)."""
    files: dict[str, BinaryIO] = {}
    try:
        with _gunzipped(nquads) as lines:
            for line in lines:
                cut = line.rfind(b" <")
                graph = line[cut + 2:line.rfind(b">")].decode()
                sink = files.get(graph)
                if sink is None:
                    sink = files[graph] = (scratch / f"{len(files)}.nt").open("wb")
                sink.write(line[:cut] + b" .\n")
    finally:
        for f in files.values():
            f.close()
    return [(g, Path(f.name)) for g, f in sorted(files.items())]


def verify(target: Slot, want: Expected, base_iri: str) -> list[str]:
    """What the slot gets wrong against the release (nothing: it holds exactly the release)."""
    problems = []
    dataset = Minter(base_iri).dataset().value
    pin = pinned(target, base_iri, want.graphs)
    if not target.ask(f"ASK {{ <{dataset}> <{vocab.DCTERMS}hasVersion> <{want.release}> }}", params=pin):
        problems.append(f"it does not say it holds {want.release}")
    got = {r["g"]["value"]: int(r["n"]["value"]) for r in target.select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", params=pin)}
    if got != want.graphs:
        wrong = sorted(set(got) ^ set(want.graphs)) + sorted(g for g in set(got) & set(want.graphs)
                                                             if got[g] != want.graphs[g])
        problems.append(f"{len(wrong)} graphs differ in statements (first: {wrong[0]}: "
                        f"{got.get(wrong[0], 0):,} held, {want.graphs.get(wrong[0], 0):,} in the release)")
    default = int(target.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", params=pin)[0]["n"]["value"])
    if default != want.default:
        problems.append(f"its default graph holds {default:,} statements, the release's union {want.default:,}")
    for t in want.literals:  # read back, not matched: an ASK would match a value the engine rewrote in both places
        o = t.object
        assert isinstance(o, ox.Literal)
        held = target.select(f"SELECT ?o WHERE {{ {t.subject} {t.predicate} ?o }}", params=pin)
        if not any(_same(row["o"], o) for row in held):
            kind = f"@{o.language}" if o.language else f"^^<{o.datatype.value}>"
            shown = ", ".join(sorted({_shown(row["o"]) for row in held})[:3]) or "nothing"
            known = dict(target.engine.rewrites).get(o.datatype.value, "the engine changed its value or its type")
            problems.append(f"a {kind} literal does not read back as it was loaded: {t} came back as {shown} "
                            f"({known})")
    return problems


def _same(term: dict[str, str], literal: ox.Literal) -> bool:
    """Whether a SPARQL JSON term is exactly the literal: the same text, and the same language or datatype."""
    if term.get("type") not in ("literal", "typed-literal") or term.get("value") != literal.value:
        return False
    if literal.language:
        return term.get("xml:lang", "").lower() == literal.language.lower()
    return term.get("datatype", vocab.XSD + "string") == literal.datatype.value and "xml:lang" not in term


def _shown(term: dict[str, str]) -> str:
    tail = f"@{term['xml:lang']}" if "xml:lang" in term else f"^^<{term['datatype']}>" if "datatype" in term else ""
    return f'"{term.get("value", "")}"{tail}'


def publish(release_dir: Path, config: Config, live: Path | None, say: Callable[[str], None]) -> dict[str, Any]:
    """Load a release into the idle slot and verify it there; the engine record for its release.json.

    Raises PublishError when the slot cannot be loaded or does not hold exactly the release.
    """
    target = idle(config, live)
    started = time.monotonic()
    try:
        load(release_dir, target, config.engine_timeout, config.base_iri)
        loaded = time.monotonic()
        want = expected(release_dir, config.base_iri)
        problems = verify(target, want, config.base_iri)
    except (EngineError, TimeoutError) as exc:
        raise PublishError(f"publishing into {config.store} failed: {exc}") from exc
    if problems:
        raise PublishError(f"the {config.store} slot at {target.url} does not hold the release as built: "
                           + "; ".join(problems))
    done = time.monotonic()
    say(f"kg: published into the {config.store} slot at {target.url} (load {loaded - started:.1f} s, verify "
        f"{done - loaded:.1f} s: {want.default:,} statements, {len(want.graphs)} graphs, "
        f"{len(want.literals)} kinds of literal read back)")
    return {"kind": config.store, "slot": target.url, "statements": want.default, "graphs": len(want.graphs),
            "graph_names": sorted(want.graphs), "load_s": round(loaded - started, 2),
            "verify_s": round(done - loaded, 2)}


def holds(config: Config, release_dir: Path) -> bool | None:
    """Whether the slot a release was published into still holds it (a rollback may switch back to it); None
    when that slot cannot be reached."""
    url = serving(metadata(release_dir))
    if url is None or url not in config.slots:
        return False
    release = Minter(config.base_iri).release(str(metadata(release_dir)["id"])).value
    dataset = Minter(config.base_iri).dataset().value
    target = slot(config.store, url)
    try:
        return target.ask(f"ASK {{ <{dataset}> <{vocab.DCTERMS}hasVersion> <{release}> }}", 10,
                          pinned(target, config.base_iri, ()))
    except (EngineError, TimeoutError):
        return None


def record(release_dir: Path, engine: dict[str, Any]) -> None:
    """Write which slot serves a release into its release.json (atomically)."""
    path = release_dir / "release.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta[ENGINE_KEY] = engine
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written = path.stat()  # releases are ordered by when their release.json was written: moving one keeps its place
    os.utime(tmp, ns=(written.st_atime_ns, written.st_mtime_ns))
    tmp.replace(path)


def republish(config: Config, target: str | None, say: Callable[[str], None]) -> Path:
    """Publish a kept release (default: the current one) into the idle slot, verify it, and make it current."""
    from kg.build.publish import build_lock, find_release, switch
    from kg.build.scratch import scratch
    from kg.layout import current

    root = config.releases_path
    with build_lock(root, say), scratch():  # its files split by graph go where a killed build's are swept from
        live = current(root)
        chosen = find_release(root, target) if target is not None else live
        if chosen is None:
            raise LookupError("no release yet; run `kg build`")
        record(chosen, publish(chosen, config, live, say))
        switch(root, chosen)
    return chosen


def rollback(config: Config, target: str | None) -> Path:
    """Make an earlier release current again, if the slot it was published into still holds it."""
    from kg.build.publish import build_lock, find_release, switch

    root = config.releases_path
    with build_lock(root, lambda _: None):
        chosen = find_release(root, target)
        held = holds(config, chosen)
        if not held:
            meta = metadata(chosen)
            where = serving(meta)
            why = ("it was never published into an engine" if not where else
                   f"the {config.store} slot at {where} cannot be reached" if held is None else
                   f"the {config.store} slot at {where} no longer holds it")
            raise Failure(f"cannot roll back to {meta['id']}: {why}; publish it again with `kg publish {meta['id']}` "
                          "(it loads into the idle slot, then switches)")
        switch(root, chosen)
    return chosen
