"""The `kg` command: build, validate, serve, query. Exit codes (kg.errors): 0 ok, 1 does not conform, 2 bad input
or usage, 3 the release cannot be written (disk full, no permission: the machine, not the input)."""

from __future__ import annotations

import os
import re
import signal
import sys
import traceback
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from kg.config import Config, ConfigError, load_config
from kg.errors import ENVIRONMENT, INTERNAL_ERROR, NONCONFORMING, Failure
from kg.text import counted, visible

if TYPE_CHECKING:
    from kg.build.pipeline import BuildResult



def _say(message: str) -> None:
    """Tell the user on stderr; what came from the data (names, values, file names) cannot drive the terminal."""
    click.echo(visible(message), err=True)


_PATH_OPTIONS = ("data_dir", "shapes_dir", "release_root")  # paths given on the command line, not in kg.toml


class _Context:
    def __init__(self, **options: Any) -> None:
        # a relative path typed on the command line is the shell's, as with any command; kg.toml's are the project's
        self.options = {k: Path.cwd() / v if k in _PATH_OPTIONS and v is not None and not v.is_absolute() else v
                        for k, v in options.items()}

    def _load(self, **extra: Any) -> Config:
        options = dict(self.options)
        return load_config(options.pop("root", None), **options, **extra)

    def quiet_config(self) -> Config | None:
        """The configuration, or None when it is broken (without saying why)."""
        try:
            return self._load()
        except ConfigError:
            return None

    def config(self, **extra: Any) -> Config:
        return self._load(**extra)


def _no_release(config: Config) -> str:
    """What to say when a command finds no release: where it looked, and what makes one."""
    return (f"no release in {config.releases_path} yet (the project at {config.root}); run `kg build` there, "
            "or name the project with --root")


def _tell(failure: Failure) -> None:
    """Say what failed: its first line after `kg: `, the rest (each problem, say) as they are."""
    first, *rest = [part for line in failure.lines() for part in line.split("\n")]  # (a query's line and caret)
    _say(f"kg: {first}")
    for line in rest:
        _say(line)


class _Commands(click.Group):
    """The `kg` group: the one place a failure of any command is told and turned into its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Failure as exc:
            _tell(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:  # what was begun is cleaned up on the way here (temporary files, workers)
            signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
            published = getattr(exc, "published", None)  # the stop came while the release was switched to
            _say(f"kg: published release {published}, then stopped by {signal.Signals(signum).name}" if published
                 else f"kg: stopped by {signal.Signals(signum).name}")
            ctx.exit(128 + signum)  # as a shell reports a command a signal ended
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            if _reader_gone():
                _quiet_stdout()  # `kg releases | head -1`: the reader has what it wanted
                ctx.exit(128 + signal.SIGPIPE)  # as a shell reports a command the pipe's end stopped
            _internal_error()  # a pipe of something else (a worker's, an engine's socket): a bug
            ctx.exit(INTERNAL_ERROR)
        except Exception:  # a bug: not 1, which says the data does not conform, nor 2 (bad input)
            _internal_error()
            ctx.exit(INTERNAL_ERROR)


def _internal_error() -> None:
    traceback.print_exc()
    _say("kg: internal error (a bug in kg, not a problem of the data: please report it with the traceback above); a "
         "build that stops here publishes nothing")


class Stopped(KeyboardInterrupt):
    """A TERM signal (a service manager's stop, `timeout`, a CI job cancelled), raised where the command is so that
    it cleans up as for Ctrl-C."""

    signum = signal.SIGTERM


def _stop(*_: object) -> None:
    raise Stopped


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Project directory (default: .)")
@click.option("--base-iri", help="Base IRI for minted IRIs (default from kg.toml or https://films.example.org/)")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              help="Source facts directory (default: the project's data/; relative to the current directory)")
@click.option("--shapes", "shapes_dir", type=click.Path(path_type=Path),
              help="SHACL shapes directory (relative to the current directory)")
@click.option("--releases", "release_root", type=click.Path(path_type=Path),
              help="Where releases live (default: the project's var/; relative to the current directory)")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """kg: publish film facts as a validated schema.org knowledge graph."""
    _more_open_files()
    ctx.obj = _Context(**options)


def _more_open_files() -> None:
    """Raise this process's soft limit of open files to the hard one (as the JVM and granian do): Oxigraph keeps a
    file open per table of its store, and refuses to open one under a low limit that the hard one would lift."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            pass  # the system caps it lower (fs.nr_open): the soft limit stays, and Oxigraph says what it needs


LISTED = 10  # findings, conflicts and notes of each kind printed without --verbose


def _listed(items: list[Any], verbose: bool, what: str) -> None:
    for item in items if verbose else items[:LISTED]:
        _say(f"  {item}")
    if len(items) > LISTED and not verbose:
        _say(f"  ... and {len(items) - LISTED} more {what} (--verbose lists them all)")


_SAID_ONCE = re.compile(r" \([\d,]+ records of .*: said once for them all\)$")  # a warning's group, in release.json


def _findings(findings: list[Any], verbose: bool, what: str) -> None:
    """Findings one by one when few (or --verbose); else how many of each kind, with where the first one is."""
    if verbose or len(findings) <= LISTED:
        _listed(findings, True, what)
        return
    kinds: dict[str, list[Any]] = {}
    for f in findings:
        kinds.setdefault(f"{f.severity}: {f.message}", []).append(f)
    _say(f"  {len(findings)} {what}, {len(kinds)} kinds (--verbose lists them all):")
    for kind, found in sorted(kinds.items(), key=lambda k: (-len(k[1]), k[0]))[:LISTED]:
        first = found[0]
        _say(f"    {len(found)} × {kind}  (first: {first.origin or first.focus})")
    if len(kinds) > LISTED:
        _say(f"    ... and {len(kinds) - LISTED} more kinds")


def _report(result: BuildResult, verbose: bool, report_file: Path | None, base_iri: str) -> None:
    from kg.build.attention import settling
    from kg.ids import Minter

    minter = Minter(base_iri)
    _findings(result.report.of("Violation"), verbose or len(result.report.of("Violation")) <= 50, "violations")
    _findings(result.report.of("Warning"), verbose, "warnings")
    for c in result.conflicts if verbose else result.conflicts[:LISTED]:
        _say(f"  conflict: {c.describe()}" + (f"  [{c.origin}]" if c.origin else ""))
        if not c.settled:
            _say(f"    to settle it: {settling(c, minter)}")
    if len(result.conflicts) > LISTED and not verbose:
        _say(f"  ... and {len(result.conflicts) - LISTED} more conflicts (--verbose lists them all)")
    if result.report.pyshacl_shapes:
        _say("  shapes checked by pyshacl: " + ", ".join(f"{s} ({why})" for s, why in result.report.pyshacl_shapes))
    if result.notes:
        kinds = sorted({n.action for n in result.notes})
        summary = ", ".join(f"{sum(1 for n in result.notes if n.action == k)} {k}" for k in kinds)
        _say(f"  messy input handled: {summary}" + (f" (all listed in {report_file})" if report_file else ""))
        _listed([str(n) for n in result.notes], verbose, "notes")
    if found := [c for c in result.candidates if not c.merged]:
        pairs = ", ".join(f"{c.names[0] or c.a} / {c.names[1] or c.b}" for c in found[:3])
        _say(f"  possible duplicates: {len(found)} ({pairs}{', ...' if len(found) > 3 else ''}): `kg duplicates` "
             "lists each with its evidence and the decision that merges it or keeps it apart")
    if result.vanished:
        _say(f"  warning: {counted(result.vanished, 'IRI')} of the previous release no longer "
             f"{'exists; it answers' if result.vanished == 1 else 'exist; they answer'} 410 Gone. To "
             "keep one, give the record that replaces it `formerly: [old-key]`, or decide 'merge kind/old into "
             "kind/new'.")
        _listed(result.vanished_iris, verbose, "IRIs gone")


def _said_before(release: Path) -> None:
    """What the build of a release that stays current said (--verbose with nothing changed): its warnings as it
    grouped them, its unsettled conflicts, and where its notes are."""
    from kg.build.attention import settling
    from kg.build.mapping import Conflict
    from kg.build.pipeline import REPORT_FILE
    from kg.ids import Minter
    from kg.layout import metadata

    meta = metadata(release)
    minter = Minter(str(meta.get("base_iri") or ""))
    said, conflicts = meta.get("warnings"), meta.get("conflicts")
    warnings = [str(w) for w in said] if isinstance(said, list) else []
    count = meta.get("warning_count", len(warnings))
    _say(f"  what its build said: {count} warnings" + (f" ({len(warnings)} lines, as it grouped them)" if warnings
                                                        else ""))
    for line in warnings:
        _say(f"    {line}")
    for c in conflicts if isinstance(conflicts, list) else []:
        if isinstance(c, dict) and c.get("preferred") is None:  # told as the build told it
            told = Conflict(str(c["subject"]), str(c["property"]), {str(v): tuple(gs) for v, gs in c["values"].items()},
                            None)
            _say(f"    conflict: {told.describe()}")
            _say(f"      to settle it: {settling(told, minter)}")
    if (release / REPORT_FILE).is_file():
        _say(f"  its notes on messy input: {release / REPORT_FILE}")


def _run(ctx: click.Context, publish: bool, verbose: bool, full: bool = False) -> None:
    from kg.build.pipeline import WriteError, build
    from kg.build.sources import InputError
    from kg.layout import current

    config = ctx.obj.config()
    before = signal.signal(signal.SIGTERM, _stop)  # a TERM mid-build removes its temporary files and workers
    try:
        result = build(config, publish=publish, say=_say, incremental=not full)
    except InputError as exc:
        if publish:
            kept = current(config.releases_path) is not None
            exc.outcome = "nothing was published" + (", the previous release stays" if kept else "")
        raise
    except WriteError as exc:
        raise Failure(f"cannot write the release: {exc}; nothing was published"
                      + (", the previous release stays." if publish else "."), ENVIRONMENT) from exc
    finally:
        if before is not None:  # (None: a handler not set from Python, which cannot be set back)
            signal.signal(signal.SIGTERM, before)
    if result.unchanged:
        if verbose and result.release_dir is not None:
            _said_before(result.release_dir)
        _say(f"kg: nothing changed since release {result.release_id} was built "
             f"({result.counts.get('triples', '?')} triples): it stays current, at {result.release_dir}. "
             "`kg info` describes it; `kg build --full` builds it anew.")
        return
    report_file = None
    if publish:  # the last build's notes (published or not), beside the releases; none: no file
        latest = config.releases_path / "build-report.txt"
        report_file = latest if result.notes else None
        try:
            latest.parent.mkdir(parents=True, exist_ok=True)
            if result.notes:
                latest.write_text("".join(f"{n}\n" for n in result.notes), encoding="utf-8")
            else:
                latest.unlink(missing_ok=True)  # an earlier build's notes are not this one's
        except OSError as exc:
            raise Failure(("" if result.release_dir is None else f"published release {result.release_id}, but ")
                          + f"cannot write {latest}: "
                          f"{exc.strerror or exc}", ENVIRONMENT) from exc
    _report(result, verbose, report_file, config.base_iri)
    violations = len(result.report.of("Violation"))
    if violations:
        raise Failure(f"the graph does not conform ({counted(violations, 'violation')}); "
                      + ("nothing was published, the previous release stays." if publish else
                         "it would not be published."), NONCONFORMING)
    if publish:
        _say(f"kg: published release {result.release_id} ({result.counts['triples']} triples) at {result.release_dir}")
    else:
        _say(f"kg: the graph conforms ({result.counts['quads']} quads, "
             f"{len(result.report.of('Warning'))} warnings, {len(result.conflicts)} conflicts)")


_STARTER_TOML = """\
# kg's settings for this project (README.md lists them all; KG_<NAME> environment variables override them)
base_iri = "{base}"   # the IRIs kg mints: <base_iri>movie/<key>
title = "{title}"
shapes_dir = "shapes"   # the SHACL shapes a release must conform to (a copy of kg's own: edit them freely)
# the licence your data is published under (its address), stated in the dataset's markup and VoID: set it to yours
license = "https://creativecommons.org/licenses/by-sa/4.0/"
# where the site is served, when not at base_iri: the links the server writes (downloads, sitemap, the SPARQL
# service description, markup) start with it. Served on this machine by `kg serve` (port 8000), uncomment:
# public_url = "http://127.0.0.1:8000/"
"""

_STARTER_DATA = """\
# A first film, as a curator writes it: what each source document says, and the curators' own choices.
# data/README.md (in kg's repository) lists every field; CSV, TSV and JSON files come in through mappings.
sources:
  festival-catalogue:
    type: WebPage
    name: The festival's catalogue page
    url: https://festival.example.org/films/night-river
movies:
  night-river:
    name: Night River
    claims:
      festival-catalogue:
        name: Night River
        alternate_name: [{text: 밤의 강, lang: ko}]
        production_year: 2024
        running_time: 98
        director: [ann-lee]
        cast:
          - {actor: bo-kim, character_name: Mira}
people:
  ann-lee:
    name: Ann Lee
    claims:
      festival-catalogue: {name: Ann Lee}
  bo-kim:
    name: Bo Kim
    claims:
      festival-catalogue: {name: Bo Kim}
"""


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--title", default="Film knowledge graph", help="The dataset's title")
@click.pass_context
def init_cmd(ctx: click.Context, directory: Path | None, title: str) -> None:
    """Start a project in DIRECTORY (default: --root, else .): kg.toml, a copy of kg's shapes and a first film."""
    import shutil

    root = (directory or ctx.obj.options.get("root") or Path.cwd()).absolute()
    shapes = Path(__file__).resolve().parent.parent / "shapes"  # kg's own: beside kg/, in a checkout or installed
    if not shapes.is_dir():
        raise Failure(f"kg's own shapes are not at {shapes}: install kg again from its repository (pip install . "
                      "or pip install -e .)")
    taken = [p for p in (root / "kg.toml", root / "data", root / "shapes") if p.exists()]
    if taken:
        raise Failure(f"{root} holds a project already ({', '.join(p.name for p in taken)}): nothing was changed; "
                      "kg init starts a project in an empty directory, or one without those")
    base = ctx.obj.options.get("base_iri") or "https://films.example.org/"
    try:
        (root / "data").mkdir(parents=True)
        shutil.copytree(shapes, root / "shapes", ignore=shutil.ignore_patterns("*~", ".*"))
        (root / "kg.toml").write_text(_STARTER_TOML.format(base=base, title=title.replace('"', "'")),
                                      encoding="utf-8")
        (root / "data" / "films.yaml").write_text(_STARTER_DATA, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"cannot write the project at {root}: {exc.strerror or exc}", ENVIRONMENT) from exc
    where = "" if root == Path.cwd() else f" --root {root}"
    _say(f"kg: a project at {root}: kg.toml, shapes/ (kg's, to edit freely; delete google-movie-carousel.ttl to "
         "drop Google's carousel warnings) and data/films.yaml (a first film)")
    _say(f"  next: kg{where} build, then kg{where} serve")


@cli.command("build")
@click.option("-v", "--verbose", is_flag=True, help="List every warning")
@click.option("--full", is_flag=True, help="Build anew even when nothing changed, and load the store afresh "
              "instead of patching the previous release's")
@click.option("--watch", is_flag=True, help="Keep running: build again whenever data/, the shapes or kg.toml "
              "change (a running `kg serve` shows each new release; Ctrl-C stops)")
@click.pass_context
def build_cmd(ctx: click.Context, verbose: bool, full: bool, watch: bool) -> None:
    """Build data/ into a validated release and make it current."""
    global _quick_exit
    if watch:
        _watch(ctx, verbose, full)
    else:
        _quick_exit = True
        _run(ctx, publish=True, verbose=verbose, full=full)


# set by a one-off `kg build`: all it made is on disk, and freeing its objects one by one would take a second more
_quick_exit = False


WATCH_SECONDS = 0.5  # how often the watched files are looked at (their sizes and times, not their bytes)


def _watch(ctx: click.Context, verbose: bool, full: bool) -> None:
    """Build now, then again each time what the build reads changes; a failed build leaves the release served."""
    import time

    from kg.build.digest import watched

    signal.signal(signal.SIGTERM, _stop)  # a service manager's TERM stops the watch as Ctrl-C does
    seen: object = None
    builds = 0
    try:
        while True:
            config = ctx.obj.quiet_config()
            now = watched(config) if config else ("kg.toml is broken", ctx.obj.options.get("root"))
            if now != seen:
                seen = now
                try:
                    _run(ctx, publish=True, verbose=verbose, full=full and not builds)
                except Failure as exc:
                    _tell(exc)
                    _say("kg: the release being served stays")
                except Exception:  # a bug that one edit's data meets: the next edit is built all the same
                    traceback.print_exc()
                    _say("kg: internal error (a bug in kg: please report it with the traceback above); "
                         "the release being served stays")
                builds += 1
                _say("kg: watching data/, the shapes and kg.toml for changes (Ctrl-C stops)")
            time.sleep(WATCH_SECONDS)
    except KeyboardInterrupt:
        _say("kg: stopped watching")


@cli.command("validate")
@click.option("-v", "--verbose", is_flag=True, help="List every warning")
@click.pass_context
def validate_cmd(ctx: click.Context, verbose: bool) -> None:
    """Check data/ against the shapes and schema.org without publishing."""
    _run(ctx, publish=False, verbose=verbose)


@cli.command("duplicates")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON: a list of {a, b, names, kind, score, "
              "evidence, fix, dismiss, merged, where}, the candidates and the merges by identifier (the merges by "
              "name are the build's notes: var/build-report.txt)")
@click.pass_context
def duplicates_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the films and people of data/ that may be one real thing, with the evidence and the decision to write."""
    import json

    from kg.build.duplicates import find_in, merged_by_name, merges_decided, merges_said
    from kg.build.sources import read_sources
    from kg.ids import Minter

    config = ctx.obj.config()
    sources = read_sources(config.data_path, root=config.root, base=config.base_iri, readable=config.readable)
    found = find_in(sources, Minter(config.base_iri))
    if as_json:
        click.echo(json.dumps([c.json() for c in found], indent=1, ensure_ascii=False))
        return
    open_ = [c for c in found if not c.merged]
    merged = [c for c in found if c.merged]
    for c in open_:
        click.echo(f"{c.score:.2f} {c.kind} {c.shown(c.a)} = {c.shown(c.b)}?\n     {'; '.join(c.evidence)}\n"
                   f"     to merge, decide: {c.fix}\n     to dismiss, decide: {c.dismiss}")
    for c in merged:
        click.echo(f"merged {c.kind} {c.b} into {c.a}: {'; '.join(c.evidence)} (to undo, decide: {c.dismiss})")
    for note in merged_by_name(sources.notes):
        click.echo(f"merged by name: {note.where}: {note.message}")
    _say(f"kg: {counted(len(open_), 'candidate duplicate')}, "
         f"{merges_said(found, sources.notes, merges_decided(sources.moves))}. Decisions go in a "
         "`decisions:` list in any YAML file of data/, one per line.")


@cli.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print the release's metadata (release.json) as it is")
@click.pass_context
def info_cmd(ctx: click.Context, as_json: bool) -> None:
    """Describe the current release: what went in, what came out, what to look at."""
    import json

    from kg.layout import current, metadata

    config = ctx.obj.config()
    release = current(config.releases_path)
    if release is None:
        raise Failure(_no_release(config))
    meta = metadata(release)
    if as_json:
        click.echo(json.dumps(meta, indent=2, ensure_ascii=False))
        return
    for label, text in _info_lines(meta, release):
        click.echo(f"{label:<10} {text}")


def _info_lines(meta: dict[str, Any], release: Path) -> list[tuple[str, str]]:
    """What `kg info` says of a release, line by line (label, text)."""
    counts, notes = meta.get("counts", {}), meta.get("notes", {})
    dups = meta.get("duplicates") or {}
    warnings = meta.get("warnings", [])
    timings, peaks = meta.get("timings", {}), meta.get("peak_mb", {})
    store = meta.get("store", {})
    lines = [
        ("release", f"{meta['id']}, built {meta['built_at']}"),
        ("directory", str(release)),
        ("base IRI", str(meta.get("base_iri", ""))),
        ("sources", f"{len(meta.get('files', []))} files, {counts.get('records', 0):,} records"),
        ("graph", f"{counts.get('triples', 0):,} triples ({counts.get('quads', 0):,} statements in its named "
                  "graphs: the sources', the vocabulary's, the release's)"),
        ("conflicts", f"{len(meta.get('conflicts', [])):,} (where sources disagree; `kg info --json` lists them)"),
        ("duplicates", f"{counted(dups.get('candidates', 0), 'candidate')}, "
                       f"{dups.get('merged', 0):,} merged by identifier"
                       + (f", {by_name:,} by name" if isinstance(by_name := dups.get("merged_by_name"), int) else "")
                       + (f", {decided:,} by the curators' decisions"
                          if isinstance(decided := dups.get("merged_by_decision"), int) and decided else "")
                       + " (`kg duplicates` lists them)"),
        ("redirects", f"{meta.get('redirects', 0):,} (IRIs merged or renamed into another, answering 301)"),
        ("warnings", f"{meta.get('warning_count', len(warnings)):,} "
                     f"({len({_SAID_ONCE.sub('', str(w).split(': Warning: ', 1)[-1]) for w in warnings}):,} kinds, "
                     "as `kg build` counts "
                     "them; the server's /attention page lists them)"),
    ]
    if notes:
        lines.append(("notes", ", ".join(f"{n:,} {action}" for action, n in sorted(notes.items()))
                      + f" (each in {release / 'build-report.txt'})"))
    if timings:
        peak = max(peaks.values(), default=0) if isinstance(peaks, dict) else 0
        cpu = meta.get("cpu_s")
        spent = sum(cpu.values()) if isinstance(cpu, dict) else 0
        extra = ", ".join(([f"peak {peak:,} MB"] if peak else []) + ([f"{spent:.1f} s of CPU"] if spent else []))
        lines.append(("built in", " · ".join(f"{stage} {seconds:.1f} s" for stage, seconds in timings.items())
                      + (f" ({extra})" if extra else "")))
    engine = meta.get("engine")
    if isinstance(engine, dict) and engine.get("slot"):  # served from an engine: which, and which slot
        lines.append(("engine", f"{engine.get('kind', 'an engine')}, slot {engine['slot']}"
                                + (f" ({engine['statements']:,} statements loaded)"
                                   if isinstance(engine.get("statements"), int) else "")))
    elif isinstance(store, dict) and store:
        lines.append(("store", f"patched from release {store['patched_from']}" if "patched_from" in store
                      else "loaded in full"))
    dumps = meta.get("dumps", {})
    if dumps:
        lines.append(("dumps", " · ".join(f"{name} {size:,} bytes" for name, size in dumps.items())))
    return lines


@cli.command("releases")
@click.pass_context
def releases_cmd(ctx: click.Context) -> None:
    """List the kept releases, oldest first; the current one is marked with *."""
    from kg.layout import current, finished, metadata

    config = ctx.obj.config()
    live = current(config.releases_path)
    kept = finished(config.releases_path)
    if not kept:
        raise Failure(_no_release(config))
    for path in kept:
        meta = metadata(path)
        counts = meta.get("counts")
        triples = counts.get("triples", "?") if isinstance(counts, dict) else "?"
        mark = "*" if live is not None and path == live else " "
        click.echo(f"{mark} {meta['id']}  built {meta['built_at']}  {triples} triples  {path.name}")


@cli.command("rollback")
@click.argument("release", required=False)
@click.pass_context
def rollback_cmd(ctx: click.Context, release: str | None) -> None:
    """Serve an earlier release again: the one before the current, or RELEASE (an id or directory kg releases lists)."""
    from kg.build import remote
    from kg.build.publish import rollback

    config = ctx.obj.config()
    try:
        chosen = rollback(config.releases_path, release) if config.store == "embedded" else remote.rollback(
            config, release)
    except LookupError as exc:
        raise Failure(f"cannot roll back: {exc}") from exc
    _say(f"kg: release {chosen.name} is current again; the next `kg build` publishes data/ as it is then (if it "
         "holds the edit you rolled back from, undo it there first)")


@cli.command("publish")
@click.argument("release", required=False)
@click.pass_context
def publish_cmd(ctx: click.Context, release: str | None) -> None:
    """Publish a kept release (default: the current one) into the configured engine's idle slot, verify it there,
    and make it current: after a failed publish, or to move to a new engine."""
    from kg.build import remote
    from kg.layout import metadata

    config = ctx.obj.config()
    if config.store == "embedded":
        raise Failure("nothing to publish into: the store is embedded (set store and slots in kg.toml for an engine)")
    try:
        chosen = remote.republish(config, release, _say)
    except LookupError as exc:
        raise Failure(f"cannot publish: {exc}") from exc
    _say(f"kg: release {chosen.name} is current, served from the {config.store} slot "
         f"{remote.serving(metadata(chosen))}")


@cli.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.pass_context
def diff_cmd(ctx: click.Context, old: str | None, new: str | None) -> None:
    """What changed between two kept releases (default: the one before the current, and the current): each
    statement removed (-) or added (+), with the source graph that states it; counts on stderr."""
    from kg.build.publish import changes, find_release
    from kg.layout import current

    config = ctx.obj.config()
    try:
        after = find_release(config.releases_path, new) if new else current(config.releases_path)
        if after is None:
            raise LookupError(_no_release(config))
        before = find_release(config.releases_path, old)
    except LookupError as exc:
        raise Failure(f"cannot compare: {exc}") from exc
    gone, added = changes(before, after)
    for line in gone:
        click.echo(f"- {line}")
    for line in added:
        click.echo(f"+ {line}")
    _say(f"kg: {len(gone)} statements removed, {len(added)} added from {before.name} to {after.name}")


@cli.command("dump")
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here (default, or "
              "-: standard output); a file is replaced whole, a device or a pipe written to, a link's target written.")
@click.option("--release", "chosen", help="A kept release (an id or directory `kg releases` lists; default: the "
              "current one).")
@click.pass_context
def dump_cmd(ctx: click.Context, name: str, output: Path | None, chosen: str | None) -> None:
    """Write one of a release's dumps (kg.ttl, kg.nt.gz, kg.jsonld, kg.jsonl, kg.trig, kg.nq.gz) as one file: the
    plain ones are kept as the shards' pieces they are made of, joined here as /download/ sends them."""
    from kg import spliced
    from kg.build.publish import find_release
    from kg.layout import DUMPS, current

    if name not in {d.filename for d in DUMPS}:
        raise Failure(f"no dump called {name!r}; a release has {', '.join(d.filename for d in DUMPS)}")
    if chosen is not None and not chosen.strip():
        raise Failure("--release needs a release's id or directory (`kg releases` lists them)")
    config = ctx.obj.config()
    target = None if output is None or str(output) == "-" else output.resolve()  # a link's target is written
    if target is not None and target.is_relative_to(config.releases_path.resolve()):
        raise Failure(f"{output} is among the releases, whose files kg never writes over")
    try:
        release = find_release(config.releases_path, chosen) if chosen else current(config.releases_path)
        if release is None:
            raise LookupError(_no_release(config))
        source = spliced.open_file(release / name)
    except LookupError as exc:
        raise Failure(str(exc).strip("'\"")) from exc
    except OSError as exc:
        raise Failure(f"cannot read {name} of release {release.name}: {exc.strerror or exc}", ENVIRONMENT) from exc
    with source:
        if target is None:
            _copy_out(source, click.get_binary_stream("stdout"), "standard output", stdout=True)
        elif target.exists() and not target.is_file():  # a device or a pipe: nothing to replace, written to
            try:
                out = target.open("wb")
            except OSError as exc:
                raise Failure(f"cannot write {output}: {exc.strerror or exc}", ENVIRONMENT) from exc
            with out:
                _copy_out(source, out, str(output))
        else:
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:
                with partial.open("wb") as written:
                    _copy_out(source, written, str(output))
                partial.replace(target)  # whole or not at all
            except OSError as exc:
                raise Failure(f"cannot write {output}: {exc.strerror or exc}", ENVIRONMENT) from exc
            finally:
                partial.unlink(missing_ok=True)


def _copy_out(source: BinaryIO, out: BinaryIO, where: str, stdout: bool = False) -> None:
    """Copy a dump out, flushed; a Failure (the machine's: exit 3) saying where, when it cannot be written."""
    import shutil

    try:
        shutil.copyfileobj(source, out, 1 << 20)
        out.flush()
    except OSError as exc:
        if stdout and isinstance(exc, BrokenPipeError):  # `kg dump kg.ttl | head`: told by _Commands.invoke
            raise
        if stdout:  # the interpreter would flush what is left again on its way out, and fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        raise Failure(f"cannot write to {where}: {exc.strerror or exc}", ENVIRONMENT) from exc


@cli.command("embed")
@click.argument("target")
@click.pass_context
def embed_cmd(ctx: click.Context, target: str) -> None:
    """Print the schema.org markup of an entity (IRI, kind/key, key or its name), ready to paste into a web page."""
    from kg.ids import PATHS, Minter
    from kg.jsonld import script_tag
    from kg.serve.markup import described
    from kg.serve.nearby import view

    config = ctx.obj.config()
    release = _current(config)
    minter = Minter(config.base_iri)
    path = _page_path(target, config)
    given = [target] if "://" in target else []  # an IRI is tried as it is first (one under the base, of any shape)
    if path is None:  # an IRI minted elsewhere
        candidates = given
    elif "/" in path:
        candidates = list(dict.fromkeys([*given, minter.iri_at(path)]))
    else:
        candidates = list(dict.fromkeys([*given, *(minter.iri_at(f"{kind}/{path}") for kind in PATHS.values())]))
    redirects, gone = release.moved
    for iri in candidates:
        kept = redirects.get(iri)  # renamed or merged: its markup is the record's it joined, as the server's 301 is
        data, lacking = described(view(release, [kept or iri]), kept or iri)  # (an engine's: its neighbourhood)
        if data is not None:
            if kept:
                _say(f"kg: {iri} was merged into {kept} (renamed or one with it): the markup is {kept}'s")
            click.echo(script_tag(data))
            for missing in lacking:
                _say(f"kg: {missing}")
            return
    if removed := [iri for iri in candidates if iri in gone]:
        raise Failure(f"{removed[0]} is gone: an earlier release had it, the current one does not")
    named = _named(release, target, minter)
    exact = [path for path, same in named if same]
    if len(exact) == 1 and exact[0] != target:  # a name, as the site's search finds it: one entity has it
        _say(f"kg: {target!r} is the name of {exact[0]}")
        ctx.invoke(embed_cmd, target=exact[0])
        return
    if len(exact) > 1:  # a name several entities have: which one is for the curator to say
        raise Failure(f"{target!r} is the name of {len(exact)} entities: {', '.join(exact[:10])}"
                      f"{', ...' if len(exact) > 10 else ''} (name one: `kg embed {exact[0]}`)")
    hint = f"; did you mean {' or '.join((exact or [path for path, _ in named])[:5])}?" if named else ""
    tried = ", ".join(c for c in candidates if " " not in c) or "no IRI: a name is no key"
    raise Failure(f"no entity {target!r} in the current release (tried {tried}){hint}")


def _named(release: Any, text: str, minter: Any) -> list[tuple[str, bool]]:
    """The entities (kind/key) whose names a search for `text` finds (its spaces for a key's hyphens), each with
    whether the name is the text itself (case, accents and spacing aside)."""
    from kg.layout import fold
    from kg.serve.search import search

    hits = search(release, text.replace("-", " ")) or []
    return [(path.lstrip("/"), fold(h.matched) == fold(text.replace("-", " "))) for h in hits
            if (path := minter.path_of(h.iri)) is not None]


def _page_path(target: str, config: Config) -> str | None:
    """Where an entity is served, without the leading slash, from its IRI, its page's address as a browser shows it
    (under `public_url`; a format's extension, a query or a fragment dropped), kind/key or key; None for an IRI
    this project does not serve."""
    from kg.formats import FORMATS

    if target.startswith(("http://", "https://")):
        base = next((b for b in (config.public_base, config.base_iri) if target.startswith(b)), None)
        if base is not None:
            target = target[len(base):]
        else:  # this machine's server, as `kg serve` says where it listens (without public_url)
            parts = urllib.parse.urlsplit(target)
            if parts.hostname not in {"127.0.0.1", "localhost", "::1", config.host}:
                return None
            target = parts.path
    path = target.split("#", 1)[0].split("?", 1)[0].strip("/")
    for extension in sorted({f".{f.extension}" for f in FORMATS} | {".html"}, key=len, reverse=True):
        if path.endswith(extension):
            return path[:-len(extension)]
    return path


def _current(config: Config) -> Any:
    from kg.serve.store import NoRelease, Releases, Unservable

    try:
        return Releases(config.releases_path, None if config.store == "embedded" else config.store).current()
    except Unservable as exc:
        raise Failure(str(exc)) from exc
    except NoRelease as exc:
        raise Failure(_no_release(config)) from exc


def _format_names() -> list[str]:
    from kg.formats import FORMATS, RESULT_FORMATS

    return [f.name for f in RESULT_FORMATS] + [f.name for f in FORMATS]


@cli.command("query")
@click.argument("query", required=False)
@click.option("-f", "--file", "path", type=click.File("r", encoding="utf-8"),
              help="Read the query from a file ('-': standard input)")
@click.option("--format", "fmt", type=click.Choice(_format_names(), case_sensitive=False), default=None,
              help="Result format (default: tsv for SELECT and ASK, turtle for CONSTRUCT and DESCRIBE)")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most this many rows or triples (default: all)")
@click.pass_context
def query_cmd(ctx: click.Context, query: str | None, path: Any, fmt: str | None, limit: int | None) -> None:
    """Run a SPARQL query on the current release and print the results (like the /sparql endpoint); QUERY '-'
    reads it from standard input."""
    from kg.serve.sparql import Dataset, Job, answer

    if (query is None) == (path is None):
        raise Failure("give the query as an argument or with --file (exactly one)")
    text = sys.stdin.read() if query == "-" else query if query is not None else path.read()
    config = ctx.obj.config()
    release = _current(config)
    accept = "text/tab-separated-values, text/turtle;q=0.9" if fmt is None else None
    job = Job(text, Dataset(), accept, fmt, limit or 0)
    if release.engine is not None:  # the release is served from an engine: asked there, as /sparql does
        from kg.serve.remote import Gate, forward

        result = forward(release, config.store, job, config.query_timeout, Gate(1))
    else:
        result = answer(release, job)
    if result.status == 406 and fmt is not None and b"is available as" in result.body:  # the other kind's format
        from kg.formats import FORMATS, RESULT_FORMATS

        tables = [f.name for f in RESULT_FORMATS]
        graphs = [f.name for f in FORMATS]
        kind, others = ("tables (SELECT, ASK)", graphs) if fmt.lower() in tables else ("graphs (CONSTRUCT, DESCRIBE)",
                                                                                    tables)
        raise Failure(f"--format {fmt} is for {kind}; this query's result is the other kind: use one of "
                      f"{', '.join(others)}")
    if result.status != 200:
        raise Failure(f"{result.body.decode('utf-8', 'replace').strip()}")
    click.echo(result.body, nl=not result.body.endswith(b"\n"))  # ASK's `true` ends its line too
    if result.truncated_at is not None:
        _say(f"kg: cut at {result.truncated_at} results (--limit)")


def reachable_from_others(host: str) -> bool:
    """Whether a server bound to `host` can be reached from other machines: anything but a loopback address."""
    import ipaddress

    name = host.strip("[]")
    if name == "localhost":
        return False
    try:
        return not ipaddress.ip_address(name).is_loopback
    except ValueError:
        return True  # "" (every address) or a host name: it may well resolve to a public address


@cli.command("serve")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="Port (default 8000)")
@click.option("--workers", type=int, default=None, help="Worker processes (default 2)")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the current release: pages, downloads and SPARQL (granian, a production ASGI server)."""
    config = ctx.obj.config(host=host, port=port, workers=workers)
    if not (config.releases_path / "current").exists():
        raise Failure(_no_release(config))
    from kg.layout import current
    from kg.serve.index import current_version
    from kg.serve.run import check_port, serve

    check_port(config.host, config.port)
    if reachable_from_others(config.host):
        _say(f"kg: warning: listening on {config.host}: the server is reachable from other machines")
    if not config.public_url and (path := urllib.parse.urlsplit(config.base_iri).path) != "/":
        _say(f"kg: warning: base_iri {config.base_iri} has a path ({path}) and public_url is not set: the pages' links "
             f"start at / (/movie/...), so served at {config.base_iri} they would leave the site; set public_url to "
             "the root address the site is served at")
    release = current(config.releases_path)
    if release is not None and not current_version(release):
        _say("kg: the current release was built by an older kg: listings, the sitemap and search run as SPARQL "
             "queries (slow on large graphs); `kg build` writes the index files that make them fast")
    serve(config)


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it (poll says POLLERR of its writing end)."""
    import select

    try:  # a pipe says POLLERR, a socket (ksh93's pipelines, Node's child processes) POLLHUP
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # (no standard output at all: `>&-`)
        return False


def _quiet_stdout() -> None:
    """Standard output pointed at /dev/null: what is still buffered for a reader that has gone is dropped, not
    flushed into another BrokenPipeError as Python exits."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main() -> None:
    """Entry point of the `kg` console script (failures become exit codes in `_Commands.invoke`); a build's process
    ends at once, once it has said everything."""
    try:
        cli(standalone_mode=True)
    except SystemExit as exc:
        if not _quick_exit:
            raise
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1)
