"""Validation by shard: each shard checked in a worker, on a store of its own statements and what its checks reach.

A compiled check's results for a focus node depend on the node's own statements (in its shard), the types of the
nodes it points to, whether a predicate points to it (a target `sh:targetObjectsOf`, or schema.org's allowance for
a role) and the class hierarchy. `shards.side` brings the types (into a graph of their own, `shacl.REACHED`, so
that they make no focus node) and one triple for each predicate pointing to the shard's nodes from other shards;
every rdfs:subClassOf triple is in every shard's store. So each shard reports its own nodes' results exactly as a
run on the whole graph would, and the reports add up to the whole graph's. What is not known
to be local (a SPARQL constraint that looks further, a shape pyshacl checks) runs on the whole graph, loaded
into memory only then.

A shard's findings and labels depend on nothing but its statements, what `side` brings it, the tail and the
checks: kept in the release under a digest of those (`Kept`), an unchanged shard's are read back by the next build
instead of checked again, and only the shards of a batch that changed are checked. A finding about a literal is
kept with each shard that states the literal. Findings are kept without their place in the source files, which an
edit elsewhere may move: the parent locates every finding afresh.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

import pyoxigraph as ox
import rdflib

from kg.build.kept import Kept, digest, keep, link, link_kept, previous_object, read_back
from kg.build.mapping import Mapped
from kg.build.shacl import REACHED, Check, Compiler, Uncompiled, run_check
from kg.build.shards import (
    Plan,
    Segment,
    exchange,
    exchange_inputs,
    object_iri,
    part_digest,
    shard_of_iri,
    side,
    side_digests,
)
from kg.build.statements import Statements
from kg.build.validate import (
    Finding,
    Report,
    fallback,
    finding,
    schema_terms_store,
    uncompiled_findings,
)
from kg.build.workers import parallel
from kg.jsonld import Label, labels_in
from kg.model import Origin


@dataclass
class _Job:
    """What the forked workers checking the shards inherit."""

    segments: list[Segment]
    batches: list[frozenset[int]]  # the shards checked by each task
    checks: list[Check]  # the local ones
    vocabularies: tuple[str, ...]
    tail: bytes  # the build's own statements so far (N-Triples)
    reached: bytes  # the types of the nodes they point to
    kept: Kept | None
    ends: tuple[bytes, bytes] = (b"", b"")  # digests of `tail` and `reached`, for the findings' keys


_JOB: _Job | None = None


# A Finding without its origin, what a shard's checks keep, laid out so that tuples of them sort as a report lists
# its findings (the compiled checks' first, then `order`, ties broken by the rest): (not shacl, severity, focus,
# path or "", message, value or "", no path, no value, check). A tuple unpickles about ten times faster than an
# object, and a batch's, kept sorted, make the whole report's a few runs to merge (300,000 findings at 100,000 films).
_Raw = tuple[bool, str, str, str, str, str, bool, bool, str]


def _raw(f: Finding) -> _Raw:
    return (f.check != "shacl", f.severity, f.focus, f.path or "", f.message, f.value or "", f.path is None,
            f.value is None, f.check)


def _located(raw: list[_Raw], origin_of: Callable[[str, str | None, str | None], Origin | None]
             ) -> list[tuple[_Raw, Finding]]:
    """Each `_Raw` tuple, with its finding, located by `origin_of` (sorted as the tuples are: `_sorted`)."""
    out = []
    for r in raw:
        _, severity, focus, path, message, value, no_path, no_value, check = r
        where = None if no_path else path
        said = None if no_value else value
        out.append((r, Finding(severity, message, focus, where, said, origin_of(focus, where, said), check)))
    return out


def _sorted(located: list[tuple[_Raw, Finding]]) -> list[Finding]:
    """The findings in the order a report lists them (their tuples' order: a few sorted runs, merged)."""
    located.sort(key=itemgetter(0))
    return [f for _, f in located]


@dataclass
class _Found:
    """One shard's findings (`_Raw`) and its entities' labels."""

    own: list[_Raw]  # about the shard's own nodes: no other shard reports them
    # about literals, which several shards may reach: by (check, literal as N-Triples), a literal's every finding
    # of a check (depending on nothing but the literal, they are the same in every shard that reaches it)
    shared: dict[tuple[int, str], list[_Raw]]
    labels: dict[str, Label]
    read_back: bool = False  # by the parent, from the previous release: its labels are the previous build's


def _key(kept: Kept, segments: list[Segment], shard: int, *parts: bytes) -> str | None:
    """The name a shard's findings are kept under: a digest of what its checks depend on; None when its statements
    have no digest."""
    if not segments[shard].digest:
        return None
    return "checks-" + digest(kept.context.encode(), f"{len(segments)} {shard}".encode(),
                              segments[shard].digest.encode(), *parts) + ".pickle"


def _check_task(batch: int) -> _Found:
    """The findings of one batch of shards (not located in the source files) and their entities' labels: each
    shard's read back when nothing its checks depend on changed, the others' checked together."""
    assert _JOB is not None
    segments, shards, kept = _JOB.segments, _JOB.batches[batch], _JOB.kept
    keys = _batch_keys(batch)
    found: dict[int, _Found] = {}
    for n, key in keys.items():
        if kept is not None and key is not None and isinstance(back := read_back(kept, key), _Found):
            found[n] = back
    if todo := frozenset(shards - found.keys()):
        for n, checked in _check(segments, todo).items():
            found[n] = checked
            if kept is not None and (name := keys.get(n)) is not None:
                keep(kept, name, checked)
    return _joined(found)


def _batch_keys(batch: int) -> dict[int, str | None]:
    """By shard of a batch, the name its findings are kept under (`_key`); none without a `kept`."""
    assert _JOB is not None
    segments, kept = _JOB.segments, _JOB.kept
    if kept is None:
        return {}
    return {n: _key(kept, segments, n, *side_digests(segments, n), *_JOB.ends) for n in _JOB.batches[batch]}


def _joined(found: dict[int, _Found]) -> _Found:
    """The findings and labels of some shards, as one batch's."""
    joined = _Found([], {}, {})
    for n in sorted(found):
        joined.own += found[n].own
        for literal, findings in found[n].shared.items():
            joined.shared.setdefault(literal, findings)
        joined.labels.update(found[n].labels)
    return joined


def _check_here(batch: int) -> _Found | None:
    """The findings of one batch of shards read back by the parent, without a worker, when nothing any of its
    shards' checks depend on changed; else None."""
    assert _JOB is not None
    segments, shards, kept = _JOB.segments, _JOB.batches[batch], _JOB.kept
    if kept is None or kept.into is None or any(segments[n].fresh for n in shards):
        return None
    found: dict[int, _Found] = {}
    names: list[str] = []
    for n, key in _batch_keys(batch).items():
        back = previous_object(kept, key) if key is not None else None
        if not isinstance(back, _Found) or key is None:
            return None
        found[n] = back
        names.append(key)
    for name in names:  # all or none: a worker checking the batch keeps each shard's findings itself
        link_kept(kept, name)
    return dataclasses.replace(_joined(found), read_back=True)


def _check(segments: list[Segment], shards: frozenset[int]) -> dict[int, _Found]:
    """The findings of some shards, checked together, and their entities' labels, shard by shard."""
    assert _JOB is not None
    pointing, types = side(segments, shards)
    store = ox.Store()
    for shard in shards:
        store.bulk_load(path=str(segments[shard].path(".nt")), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    labels = labels_in(store)  # before the other shards' statements come in
    store.bulk_load(pointing + _JOB.tail, format=ox.RdfFormat.N_TRIPLES, lenient=True)
    store.bulk_load(types + _JOB.reached, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(REACHED),
                    lenient=True)
    count = len(segments)

    def shard_of(iri: str) -> int:
        return shard_of_iri(iri.encode(), count)

    out = {n: _Found([], {}, {}) for n in shards}
    shared: dict[tuple[int, str], list[_Raw]] = {}
    for n, check in enumerate(_JOB.checks):
        for result in run_check(store, check):
            if not isinstance(result.focus, ox.NamedNode | ox.BlankNode):
                shared.setdefault((n, str(result.focus)), []).append(_raw(finding(result, None)))
            elif (mine := shard_of(result.focus.value)) in shards:
                out[mine].own.append(_raw(finding(result, None)))
    for f in schema_terms_store(store, None, threads=1, vocabularies=_JOB.vocabularies,
                                keep=lambda iri: shard_of(iri) in shards):
        out[shard_of(f.focus)].own.append(_raw(f))
    for iri, label in labels.items():
        out[shard_of(iri)].labels[iri] = label
    for done in out.values():
        done.own.sort()  # the parent merges the batches' runs
    reaching = _reaching(segments, shards, {literal for _, literal in shared})
    for (n, literal), each in shared.items():
        for shard in reaching.get(literal, shards):  # a literal no shard states is the tail's: every shard reaches it
            out[shard].shared[(n, literal)] = each
    return out


def _reaching(segments: list[Segment], shards: frozenset[int], literals: set[str]) -> dict[str, set[int]]:
    """Which of the shards state each of these literals (as N-Triples writes them) as an object."""
    wanted = {literal.encode() for literal in literals}
    found: dict[str, set[int]] = {}
    for shard in sorted(shards) if wanted else []:
        with segments[shard].path(".nt").open("rb") as lines:
            for line in lines:
                term = line[line.find(b" ", line.find(b" ") + 1) + 1:-3]
                if term in wanted:
                    found.setdefault(term.decode(), set()).add(shard)
    return found


CHECK_TRIPLES = 400_000  # shards are checked together up to this many statements: each store's checks cost as much
# again to plan as to run on a small shard


def batches(segments: list[Segment], processes: int, most: int = CHECK_TRIPLES) -> list[frozenset[int]]:
    """The shards, in batches of consecutive shards to check together: about the same number of statements in each,
    at most `most` where shards allow, and as many batches as keeps every process busy."""
    total = sum(s.triples for s in segments)
    count = max(1, -(-total // most))
    count = min(len(segments), -(-count // processes) * processes) if len(segments) > 1 else 1
    out: list[set[int]] = [set()]
    size = 0
    for n, segment in enumerate(segments):
        if out[-1] and size >= len(out) * total / count and len(out) < count:
            out.append(set())
        out[-1].add(n)
        size += segment.triples
    return [frozenset(b) for b in out]


def _give_name(kept: Kept, segments: list[Segment], shard: int) -> str | None:
    """The name a shard's `<stem>.give.nt` is kept under (+ ".nt"; where each block of it is: + ".pickle")."""
    inputs = exchange_inputs(segments, shard)
    return None if inputs is None else "give-" + digest(kept.context.encode(), *inputs)


def _exchange_task(segments: list[Segment], kept: Kept | None, shard: int) -> Segment:
    """The shard's segment with its `<stem>.give.nt` (`exchange`), kept for the next build."""
    made = exchange(segments, shard)
    if kept is not None and kept.into is not None and (name := _give_name(kept, segments, shard)) is not None:
        for suffix in (".nt", ".pickle"):
            (kept.into / (name + suffix)).unlink(missing_ok=True)  # perhaps linked by `_exchange_here`, which failed
        link(made.path(".give.nt"), kept.into / (name + ".nt"))
        keep(kept, name + ".pickle", (made.give, made.give_digests))
    return made


def _exchange_here(segments: list[Segment], kept: Kept | None, shard: int) -> Segment | None:
    """The shard's segment with the `<stem>.give.nt` the previous release kept, when it was made of the same
    statements; else None."""
    if kept is None or kept.into is None or kept.previous is None:
        return None
    name = _give_name(kept, segments, shard)
    back = previous_object(kept, name + ".pickle") if name is not None else None
    if name is None or not isinstance(back, tuple) or len(back) != 2:
        return None
    give, give_digests = back
    mine = segments[shard]
    try:
        link(kept.previous / (name + ".nt"), mine.path(".give.nt"))
        for suffix in (".nt", ".pickle"):
            link_kept(kept, name + suffix)
    except OSError:
        return None
    return dataclasses.replace(mine, give=give, give_digests=give_digests)


def _reached(statements: Statements, tail: list[bytes]) -> bytes:
    """The types of the nodes the tail's triples point to."""
    wanted: dict[int, set[bytes]] = {}
    count = len(statements.segments)
    for line in tail:
        if (target := object_iri(line)) is not None:
            wanted.setdefault(shard_of_iri(target, count), set()).add(b"<" + target + b"> ")
    found = []
    for shard, subjects in sorted(wanted.items()):
        with statements.segments[shard].path(".types.nt").open("rb") as lines:
            found += [line for line in lines if line[:line.find(b" ") + 1] in subjects]
    return b"".join(found)


def _whole(statements: Statements, tail: bytes) -> ox.Store:
    """Every triple in one store in memory: for the checks that reach beyond a shard."""
    store = ox.Store()
    for segment in statements.segments:
        store.bulk_load(path=str(segment.path(".nt")), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    store.bulk_load(tail, format=ox.RdfFormat.N_TRIPLES, lenient=True)
    return store


def _plan(statements: Statements, shapes: rdflib.Graph, kept: Kept | None) -> tuple[list[Check], list[Uncompiled]]:
    """The shapes compiled (and those that are not); read back from the previous release when the shapes and the
    classes the data declares are the same (`kept.context` holds the shapes) and every shape was compiled."""
    name = None
    if kept is not None and statements.segments and all(s.sub_digest for s in statements.segments):
        name = "plan-" + digest(kept.context.encode(), *(s.sub_digest.encode() for s in statements.segments)) + \
            ".pickle"
        found = read_back(kept, name)
        if isinstance(found, list) and all(isinstance(c, Check) for c in found):
            return found, []
    checks, uncompiled = Compiler(shapes, _hierarchy(statements)).plan()
    if kept is not None and name is not None and not uncompiled:
        keep(kept, name, checks)
    return checks, uncompiled


def _hierarchy(statements: Statements) -> ox.Store:
    """A store of every rdfs:subClassOf triple: all a check's compilation reads of the data."""
    store = ox.Store()
    for segment in statements.segments:
        store.bulk_load(path=str(segment.path(".sub.nt")), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    return store


def validate_shards(statements: Statements, shapes: rdflib.Graph, mapped: Mapped, plan: Plan,
                    vocabularies: tuple[str, ...] = (), kept: Kept | None = None
                    ) -> tuple[Report, dict[str, Label], frozenset[str]]:
    """The report of the statements so far against the shapes and schema.org's vocabulary, the same as a run on
    the whole graph, checked shard by shard in worker processes (a batch `kept` unchanged is read back); how each
    entity is labelled (from the segments: kg.build.dumps adds the tail's statements), and the entities whose
    labels were worked out anew (those of a batch read back are as the previous build had them)."""
    global _JOB
    checks, uncompiled = _plan(statements, shapes, kept)
    local = [c for c in checks if c.local]
    tail = statements.tail_lines()
    count = len(statements.segments)
    segments = list(statements.segments)
    groups = batches(segments, plan.processes)
    try:
        segments = list(parallel(lambda n: _exchange_task(segments, kept, n), count,
                                 plan.processes if count > 1 else 1, "exchange",
                                 here=lambda n: _exchange_here(segments, kept, n)))
        joined, reached = b"".join(tail), _reached(statements, tail)
        _JOB = _Job(segments, groups, local, vocabularies, joined, reached, kept,
                    (part_digest(joined).hexdigest().encode(), part_digest(reached).hexdigest().encode()))
        located: list[tuple[_Raw, Finding]] = []
        shared: dict[tuple[int, str], list[_Raw]] = {}
        labels: dict[str, Label] = {}
        anew: set[str] = set()

        def presort() -> None:  # while workers check what changed: the final sort then merges a few long runs
            located.sort(key=itemgetter(0))

        for found in parallel(_check_task, len(groups), plan.processes if len(groups) > 1 else 1, "validate",
                              [b for b, batch in enumerate(groups) if any(segments[n].fresh for n in batch)],
                              _check_here, presort):
            # located as each batch comes: those read back while a worker checks the batches that changed
            located += _located(found.own, mapped.origin_of)
            for key, each in found.shared.items():
                shared.setdefault(key, each)
            labels.update(found.labels)
            if not found.read_back:
                anew.update(found.labels)
    finally:
        _JOB = None
    statements.segments = segments
    rest = [f for each in shared.values() for f in each]
    remote = [c for c in checks if not c.local]
    if remote or uncompiled:
        whole = _whole(statements, b"".join(tail))
        rest += [_raw(finding(r, None)) for check in remote for r in run_check(whole, check)]
        rest += [_raw(f) for f in uncompiled_findings(whole, shapes, uncompiled, None)]
    located += _located(sorted(rest), mapped.origin_of)
    return Report(_sorted(located), fallback(shapes, uncompiled)), labels, frozenset(anew)

