"""`kg build`: read -> map -> validate -> dumps -> store -> index, in a temporary directory, then published."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from kg import spliced, vocab
from kg.build import attention, duplicates, index, moved, remote
from kg.build.checks import validate_shards
from kg.build.digest import (
    build_digest,
    build_time,
    forget_digests,
    input_digest,
    new_release_id,
    shaping_settings,
    unchanged,
)
from kg.build.dumps import (
    LABELS_FILE,
    ahead_of,
    made_ahead,
    release_quads,
    void_triples,
    write_dumps,
    write_lines,
)
from kg.build.duplicates import Candidate
from kg.build.kept import Kept, forget_ahead, read_ahead
from kg.build.mapping import Conflict, Mapped
from kg.build.notes import Note
from kg.build.publish import build_lock, fsync_tree, prune, retire_twins, sweep, sweep_unless_building, switch
from kg.build.remembered import Remembered
from kg.build.scratch import scratch
from kg.build.shards import Plan, shards_for
from kg.build.sources import Sources, read_sources, source_files
from kg.build.statements import Statements, load
from kg.build.stops import held_off
from kg.build.store import STORE_FORMAT, patch, persist, record_parts
from kg.build.validate import Report, Shapes, read_shapes
from kg.build.workers import background, room_for_copies
from kg.config import Config
from kg.errors import ENVIRONMENT, Failure
from kg.ids import Minter
from kg.layout import (
    DUMPS,
    DUPLICATES_FILE,
    INDEX_DIR,
    KEPT_DIR,
    METADATA,
    RELEASES,
    STORE_DIR,
    VOID_FILE,
    current,
    finished,
    metadata,
)
from kg.text import counted

T = TypeVar("T")

REPORT_FILE = "build-report.txt"

# free memory, in copies of the build's own, that the duplicates' worker needs: its copy of the records it reads,
# and room for the map's workers beside it (a million films: the build holds 9 GB, and looks for them itself)
_DUPLICATES_ROOM = 3

_WORK = ".statements"  # the shards' segments and the build's other statement files, until the store is loaded


@dataclass
class BuildResult:
    """What a build did: its report, conflicts, counts, timings and the release it published (if any)."""

    report: Report
    conflicts: list[Conflict]
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    release_dir: Path | None = None
    release_id: str | None = None
    notes: list[Note] = field(default_factory=list)
    unchanged: bool = False  # nothing changed since the current release was built: it stays, nothing was built
    candidates: list[Candidate] = field(default_factory=list)  # possible duplicates, and merges by identifier
    vanished: int = 0  # IRIs of the previous release that this one no longer has (and does not redirect)
    vanished_iris: list[str] = field(default_factory=list)  # which


class _Stages:
    """Times each stage and reports it through `say`."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.timings: dict[str, float] = {}
        self.peaks: dict[str, int] = {}  # this process's peak memory (MB) by the end of each stage (not its workers')
        self.cpu: dict[str, float] = {}  # CPU seconds (user and system, every thread) each stage took

    def run(self, name: str, fn: Callable[[], T], detail: Callable[[T], str] | None = lambda _: "") -> T:
        """fn(), timed as stage `name` (a stage run in two goes, started and later waited for, adds them up), and
        its line said unless `detail` is None (the first of two goes: the second says it)."""
        start, before = time.perf_counter(), _cpu()
        result = fn()
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)
        self.cpu[name] = round(self.cpu.get(name, 0.0) + _cpu() - before, 3)
        self.peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        if detail is None:
            return result
        extra = detail(result)
        self.say(f"{name:<10} {self.timings[name]:7.2f} s  {self.peaks[name]:6d} MB peak  "
                 f"{self.cpu[name]:7.1f} s CPU{'  ' + extra if extra else ''}")
        return result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class WriteError(Failure):
    """The release cannot be written (the disk is full, a directory is not writable, ...): the machine's problem,
    not the input's; nothing was published."""

    exit_code = ENVIRONMENT


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """An OSError while the release is written, as a WriteError saying what failed and where."""
    try:
        yield
    except OSError as exc:
        raise WriteError(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")) from exc


DUPLICATES_NICE = 10  # how far the duplicate search beside the build gives way to it (`os.nice`)


def build(config: Config, publish: bool = True, say: Callable[[str], None] = lambda _: None,
          incremental: bool = True) -> BuildResult:
    """Read, map and validate data/; if it conforms and `publish`, write and switch to a new release.

    With `incremental`, nothing is built when nothing changed since the current release was built, and otherwise
    the on-disk store is the previous release's, patched, when little changed. Raises InputError for bad input and
    WriteError when the release cannot be written.
    """
    gc.disable()  # millions of acyclic records and terms: the collector's passes over them cost a third of a build
    forget_digests()
    try:
        with scratch():  # its temporary files, workers' too, in one folder: gone after it, even if it was killed
            return Build(config, publish, say, incremental).run()
    finally:
        forget_ahead()
        # what the build left is old now: else the next young collection would go through all of it (half a second
        # at 100,000 films), since none ran while it was made
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def _judged(release: Path | None) -> str | None:
    """The digest of the shapes a release was built with (`validate.Shapes`): SHACL, since it was built."""
    try:
        found = metadata(release).get("shapes_digest") if release is not None else None
    except (OSError, ValueError):
        return None
    return found if isinstance(found, str) else None


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise), so that peak memory stays low."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


# what the stages after the read read back of the previous release, in the order they ask for it: read ahead while
# the build would wait for a worker reading a bulk file again (a row edited), at most READ_AHEAD_BYTES of files
_READ_AHEAD = ("known-*.pickle", "blocks-*.pickle", "compared-*.pickle",  # (the duplicates' worker, forked next)
               "mapped-*.pickle", "checks-*.pickle", "piece-*.pickle", LABELS_FILE)
_DUPLICATES_AHEAD = ("known-", "blocks-", "compared-")  # what only the duplicate search asks for
READ_AHEAD_BYTES = 192 << 20


def _ahead(previous: Path | None) -> Callable[[], bool]:
    """The steps of reading ahead the previous release's kept files (`read_ahead`), listed at the first."""
    steps: list[Callable[[], bool]] = []

    def step() -> bool:
        if previous is None:
            return False
        if not steps:
            steps.append(read_ahead([p for pattern in _READ_AHEAD for p in sorted(previous.glob(pattern))],
                                    READ_AHEAD_BYTES))
        return steps[0]()

    return step


class Build:
    """One build of a project: what it reads and how it publishes, held once instead of passed down each stage."""

    def __init__(self, config: Config, publish: bool, say: Callable[[str], None], incremental: bool) -> None:
        self.config, self.publish, self.say, self.incremental = config, publish, say, incremental
        self.stages = _Stages(say)
        self.minter = Minter(config.base_iri)
        self.samples: list[str] = []  # a statement with a literal of each datatype and language (release.json)
        self.indexed: Callable[[], object] = lambda: None  # waits for the index files, written beside the store
        self.plan = Plan(config.shards, config.task_records, config.build_workers)
        self.beside = False  # whether a worker looks for the duplicates beside the stages
        self.rolled_back = False  # whether the current release is older than the newest kept one (`kg rollback`)

    def run(self) -> BuildResult:
        """The result of the build; published when it conforms and `publish` was asked."""
        config, publish = self.config, self.publish
        if publish:
            sweep_unless_building(config.releases_path)
        kept, live = finished(config.releases_path), current(config.releases_path)
        self.rolled_back = live is not None and bool(kept) and kept[-1].resolve() != live
        if publish and self.incremental and (same := unchanged(config)) is not None:
            meta = metadata(same)
            counts = meta.get("counts")
            return BuildResult(Report(), [], dict(counts) if isinstance(counts, dict) else {}, release_dir=same,
                               release_id=str(meta.get("id")), unchanged=True)
        has_data = config.data_path.is_dir()  # without data/, that is what the read says first
        # missing or broken shapes are told before a long read
        shapes = read_shapes(config.shapes_path, _judged(live), config.root) if has_data else None
        files = source_files(config.data_path) if has_data else []
        # what all a build keeps depends on (the shapes as parsed: an edit of them meanwhile is the next build's)
        self.context = build_digest("kept", config, shapes.digest if shapes else None) + config.base_iri
        before = current(config.releases_path) if publish and self.incremental else None
        self.remembered = Remembered(config.root, self.context, before / KEPT_DIR if before is not None else None,
                                     self.plan.processes, config.releases_path / RELEASES,
                                     _ahead(before / KEPT_DIR if before is not None else None))
        try:
            return self._read_and_build(files, shapes, before)
        finally:
            self.remembered.close()

    def _read_and_build(self, files: list[Path], shapes: Shapes | None, before: Path | None) -> BuildResult:
        """Read the sources, then build on them (in `_at`)."""
        config, publish = self.config, self.publish
        sources = self.stages.run("read", lambda: self._read(files),
                                  lambda s: f"{len(s.records)} records from {len(s.inputs)} files"
                                            f"{', ' + str(len(s.notes)) + ' notes' if s.notes else ''}")
        self.sources = sources
        if not config.shards:  # the project leaves it to the build: by how many records there are
            self.plan = dataclasses.replace(self.plan, shards=shards_for(len(sources.records)))
        self.known_in = before / KEPT_DIR if before is not None else None  # what the last build worked out
        self.shapes = shapes if shapes is not None else read_shapes(config.shapes_path, root=config.root)
        if not publish:  # validating only: the store is scratch, and nothing goes near var/
            with _writing():
                return self._at(Path(tempfile.mkdtemp(prefix="kg-validate-")))
        releases = config.releases_path / RELEASES
        with _writing():
            releases.mkdir(parents=True, exist_ok=True)
            with build_lock(config.releases_path, self.say):
                sweep(releases)  # safe: no other build of this project is running
                tmp = releases / f".tmp-{os.getpid()}-{time.time_ns()}"
                tmp.mkdir()
                return self._at(tmp)

    def _read(self, files: list[Path]) -> Sources:
        """The sources read, once the bulk records read are packed to keep and told (by a worker, meanwhile)."""
        config = self.config
        sources = read_sources(config.data_path, files, config.root, config.base_iri, config.readable,
                               self.remembered.read)
        self.remembered.settle()
        return sources

    def _look_for_duplicates(self, kept: Kept) -> Callable[[], tuple[list[Candidate], float]]:
        """What waits for the possible duplicates (`_duplicates`): looked for by a worker while this process maps,
        validates, writes the dumps and the store, as nothing there needs them; alone, or when the machine lacks the
        memory for the worker's copy of the records (and the map's workers beside it), this process looks for them
        now (the map lets go of the records)."""
        self.beside = self.plan.processes > 1 and room_for_copies(_DUPLICATES_ROOM)
        if not self.beside:
            found = self._duplicates(kept)
            return lambda: found
        # niced: the map, validation and dumps on the way to the release come first, the search takes what is left
        waiting = self.exits.enter_context(background(lambda _: self._duplicates(kept), self.plan.processes,
                                                      "duplicates", nice=DUPLICATES_NICE))
        for prefix in _DUPLICATES_AHEAD:  # the worker has its copy
            forget_ahead(prefix)
        return waiting

    def _duplicates(self, kept: Kept) -> tuple[list[Candidate], float]:
        """The possible duplicates among the records read, and how long finding them took; what was worked out
        about each record is kept for the next build (and taken from the last one for a record unchanged)."""
        start = time.perf_counter()
        sources = self.sources
        known = duplicates.known_before(self.known_in, self.context, self.remembered.token, self.remembered.tokens,
                                        exiting=self.beside)  # (a worker's, which ends once it has found them)
        found = duplicates.find_in(sources, self.minter, known)
        known.settle()
        duplicates.keep_known(kept, known)
        return found, time.perf_counter() - start

    def _candidates(self, found: Callable[[], tuple[list[Candidate], float]]) -> list[Candidate]:
        """The possible duplicates, once `found` (a worker looks for them while the stages before go on)."""
        self.candidates = self.stages.run("duplicates", found, lambda c: (
            f"{counted(sum(1 for x in c[0] if not x.merged), 'candidate')}, "
            f"{duplicates.merges_said(c[0], self.sources.notes, duplicates.merges_decided(self.sources.moves))} "
            f"({c[1]:.2f} s"
            f"{' in a worker, beside the map, validation, dumps and store' if self.beside else ''})"))[0]
        return self.candidates

    def _at(self, tmp: Path) -> BuildResult:
        """Build in `tmp`, which is removed unless it became the published release."""
        try:
            with contextlib.ExitStack() as self.exits:  # what runs beside the stages: stopped if the build fails
                result = self._in(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if result.release_dir is None:
            shutil.rmtree(tmp, ignore_errors=True)
        return result

    def _in(self, tmp: Path) -> BuildResult:
        """Map, validate and (when it conforms and is to be published) write, load and switch to the release."""
        config, sources, minter, stages, publish = self.config, self.sources, self.minter, self.stages, self.publish
        shapes, incremental = self.shapes, self.incremental
        (tmp / _WORK).mkdir()
        statements = Statements(tmp / _WORK)
        mapped = Mapped()
        counts = {"records": len(sources.records), "files": len(sources.inputs)}
        plan = self.plan
        before = current(config.releases_path) if incremental else None
        kept = Kept(self.context, tmp / KEPT_DIR if publish else None,
                    before / KEPT_DIR if before is not None else None)
        if kept.into is not None:
            kept.into.mkdir()
            self.remembered.keep(kept.into)
        found = stages.run("duplicates", lambda: self._look_for_duplicates(kept), None)  # (told once waited for)
        counts["quads"] = stages.run("map", lambda: load(statements, sources, minter, mapped, plan, kept,
                                                           self.remembered.token),
                                     lambda n: f"{n} quads in {plan.shards} shards")
        self.remembered.forget()
        forget_ahead("mapped-")  # (those of tasks mapped again, never asked for)
        _give_back_memory()  # the records are mapped and gone: later stages start from what is really in use
        ahead = None  # an edit's few pieces of the dumps, made by a worker while this process validates
        if ahead_of(statements, kept, plan.processes):  # (only when this build keeps what it makes)
            ahead = self.exits.enter_context(background(
                lambda _: made_ahead(statements, config.base_iri, kept, tmp), plan.processes, "ahead"))
        report, labels, relabelled = stages.run(
            "validate", lambda: validate_shards(statements, shapes.graph, mapped, plan, config.vocabularies, kept),
            lambda r: f"{counted(len(r[0].of('Violation')), 'violation')}, "
                      f"{counted(len(r[0].of('Warning')), 'warning')}")
        forget_ahead("checks-")  # (those of the batches a worker checked)
        result = BuildResult(report, mapped.conflicts, counts, stages.timings, notes=sources.notes)
        if not report.conforms or not publish:
            result.candidates = self._candidates(found)
            return result
        digest = input_digest(sources.inputs, config.root, shaping_settings(config))
        built = build_time()
        release_id = new_release_id(digest)
        statements.add(release_quads(minter, release_id, digest, built, config,
                                     [ox.NamedNode(g) for g in statements.graphs if "/source/" in g]), own=True)
        counts["quads"] = statements.count  # (the release's own graph too: as many as kg.nq.gz holds)
        statements.close()

        def index_beside(runs: list[tuple[Path, index.Run]]) -> None:
            """The index files merged from the shards' runs by two workers (the names and their words, the rest),
            beside the rest of the dumps and the store; index.json once both are done."""
            target = tmp / INDEX_DIR
            target.mkdir()

            def half(write: Callable[[list[tuple[Path, index.Run]], Path], dict[str, object]]
                     ) -> Callable[[], dict[str, object]]:
                return self.exits.enter_context(background(lambda _: write(runs, target), plan.processes, "index"))

            halves = [half(index.write_names), half(index.write_lists)]
            self.indexed = lambda: index.write_info(target, {k: v for done in halves for k, v in done().items()})

        def write_files() -> int:
            self.samples, union, _ = write_dumps(statements, tmp, labels, config.base_iri,
                                                 plan.processes if len(statements.segments) > 1 else 1, kept,
                                                 relabelled, index_beside, ahead)
            write_lines(statements, tmp)
            record_parts(statements, tmp / KEPT_DIR)
            void, total = void_triples(union, minter, config, release_id, built)
            ox.serialize(void, str(tmp / VOID_FILE), format=ox.RdfFormat.TURTLE, prefixes=vocab.PREFIXES)
            return total

        counts["triples"] = stages.run("dumps", write_files, lambda t: f"{len(DUMPS)} files, {t} triples")
        forget_ahead()  # nothing later reads back

        previous = before
        warned: list[dict[str, object]] = []  # the warnings, grouped as the attention file lists them

        def load_disk() -> dict[str, object]:
            patched = patch(previous, statements, tmp / STORE_DIR) if previous else None
            if patched is None:
                shutil.rmtree(tmp / STORE_DIR, ignore_errors=True)
                persist(statements, statements.whole(".nt"), tmp / STORE_DIR)
            warned.extend(attention.warnings(report.of("Warning")))  # (while the index worker finishes)
            self.indexed()  # before the shards' files go: one of the runs is there
            shutil.rmtree(statements.work)
            result.vanished_iris, self.gone = moved.write(tmp, current(config.releases_path),
                                                          list(sources.moves.values()), minter)
            result.vanished = len(result.vanished_iris)
            return {"loaded": "in full"} if patched is None else {
                "patched_from": str(metadata(previous)["id"]) if previous else "", **patched}

        store_how = stages.run("store", load_disk, lambda how: "patched the previous release's store: " + ", ".join(
            f"{v} {k.replace('_', ' ')}" for k, v in how.items() if k != "patched_from")
            if "patched_from" in how else "loaded in full")
        result.candidates = self._candidates(found)
        meta = {
            "id": release_id,
            "built_at": built.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "input_digest": "sha256:" + digest,
            "build_digest": build_digest(digest, config, self.shapes.digest),
            "shapes_digest": self.shapes.digest,  # of the bytes parsed at the start, not of the files now
            "base_iri": config.base_iri,
            "title": config.title,  # the server names the site after the release it serves, not its own settings
            "license": config.license,
            "files": [str(f.relative_to(config.root) if f.is_relative_to(config.root) else f) for f in sources.inputs],
            "counts": counts,
            "conflicts": [{"subject": c.subject, "property": c.predicate, "values": c.values,
                           "where": str(c.origin) if c.origin else None,
                           "preferred": c.preferred.value if c.preferred is not None else None,
                           "decided": c.decided} for c in mapped.conflicts],
            "warnings": [f"{w['where']}: Warning: {w['what']}" for w in warned[:1000]],
            "warning_count": len(report.of("Warning")),
            "notes": {action: sum(1 for x in sources.notes if x.action == action)
                      for action in sorted({x.action for x in sources.notes})},
            "duplicates": dict(zip(("candidates", "merged", "merged_by_name", "merged_by_decision"),
                                   (sum(1 for c in self.candidates if not c.merged),
                                    *duplicates.merge_counts(self.candidates, sources.notes),
                                    duplicates.merges_decided(sources.moves)), strict=True)),
            "vanished": result.vanished,
            "redirects": len(sources.moves),
            "timings": stages.timings,
            "peak_mb": stages.peaks,
            "cpu_s": stages.cpu,
            "store_format": STORE_FORMAT,
            "store": store_how,
            "dumps": {d.filename: spliced.size(tmp / d.filename) for d in DUMPS},
            "literal_samples": self.samples,  # what an engine slot must give back exactly (kg.build.remote)
        }
        (tmp / METADATA).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / DUPLICATES_FILE).write_text(json.dumps([c.json() for c in self.candidates], indent=1,
                                                      ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / REPORT_FILE).write_text("".join(f"{x}\n" for x in sources.notes), encoding="utf-8")
        attention.write(tmp, attention.groups(
            self.candidates, mapped.conflicts, sources.notes,
            warned if len(report.of("Warning")) == len(report.findings) else attention.warnings(report.findings),
            self.gone, minter))
        if config.store != "embedded":  # into the engine's idle slot, verified there, before anything is switched
            remote.record(tmp, stages.run("engine", lambda: remote.publish(
                tmp, config, current(config.releases_path), self.say), lambda e: f"slot {e['slot']}"))
        fsync_tree(tmp)
        final = config.releases_path / RELEASES / (
            f"{built.strftime('%Y%m%dT%H%M%SZ')}-{release_id}-{time.time_ns() % 10**6:06d}")
        try:
            with held_off():  # a stop waits until the release is switched to and the kept ones pruned
                os.rename(tmp, final)
                switch(config.releases_path, final)
                if self.rolled_back:  # built again what a later kept release was built from: one of an id is kept
                    retire_twins(config.releases_path, final)
                prune(config.releases_path, config.keep_releases)
        except KeyboardInterrupt as stop:
            stop.published = release_id  # type: ignore[attr-defined]  # told by the command: it was published
            raise
        result.release_dir, result.release_id = final, release_id
        return result
