"""Queries answered by a remote engine: checked here, sent to the current release's slot, its answer mapped to kg's.

The same guard as the embedded store (no SERVICE, no updates, no graphs from elsewhere) runs before anything is
sent; kg's predefined prefixes and base are written into the query, since the engine knows neither. kg's deadline
holds in front of the engine (an engine's own timeout may not stop a runaway query), and a worker sends at most
`query_workers` queries at once (429 beyond). The engine's refusals and failures become kg's statuses and words.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import re
import threading

import pyoxigraph as ox

from kg.engines import EngineError, Reply, Slot, slot
from kg.errors import Refusal
from kg.formats import Format, ResultFormat
from kg.ids import Minter
from kg.serve import results
from kg.serve.execute import QUEUE_WAIT, Busy
from kg.serve.guard import check, names_graphs
from kg.serve.sparql import (
    NOT_XML,
    TEXTUAL,
    XML_REFUSAL,
    Answer,
    Job,
    in_query_order,
    negotiated,
    refused,
    syntax_message,
)
from kg.serve.store import Release, term

_LOG = logging.getLogger(__name__)

_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:")
_BASE = re.compile(r"(?i)\bBASE\s*<")


class Gate:
    """At most `limit` queries of a server worker at the engine at once; a request waits QUEUE_WAIT for a turn."""

    def __init__(self, limit: int) -> None:
        self.turns = threading.BoundedSemaphore(limit)

    def enter(self) -> None:
        if not self.turns.acquire(timeout=QUEUE_WAIT):
            raise Busy()

    def leave(self) -> None:
        self.turns.release()


def with_prologue(text: str, prefixes: dict[str, str], base: str) -> str:
    """The query with kg's predefined prefixes it does not declare itself, and the base, written out."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(text)}
    lines = [] if _BASE.search(text) or not base else [f"BASE <{base}>"]
    lines += [f"PREFIX {p}: <{ns}>" for p, ns in sorted(prefixes.items()) if p not in declared]
    return "\n".join([*lines, text])


def _parsed(text: str, prefixes: dict[str, str], base: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """The query read by kg's own parser against an empty store (nothing is evaluated): what kind of result it
    gives, and a SELECT's variables in kg's order. A query it cannot read is refused with its words and place
    (the engine's would count the lines of the prologue kg adds)."""
    try:
        return ox.Store().query(text, base_iri=base or None, prefixes=prefixes)
    except SyntaxError as exc:
        raise Refusal(400, syntax_message(text, str(exc), prefixes)) from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise Refusal(400, f"The query could not be evaluated: {exc}") from exc


def forward(release: Release, kind: str, job: Job, deadline: float, gate: Gate) -> Answer:
    """The engine's answer to a query on the release it serves, in kg's terms."""
    url = release.engine_slot
    if url is None:
        return refused(Refusal(503, "This release was not published into an engine: run `kg publish`."))
    base = str(release.meta.get("base_iri") or "")
    try:
        check(job.text, release.graphs, release.prefixes)
        shape = _parsed(job.text, release.prefixes, base)
        fmt = negotiated(isinstance(shape, ox.QueryTriples), job.accept, job.explicit)  # as the embedded store would
        text = with_prologue(job.text, release.prefixes, base)
    except Refusal as exc:
        return refused(exc)
    variables = in_query_order([v.value for v in shape.variables], job.text) if isinstance(
        shape, ox.QuerySolutions) else None
    target = slot(kind, url)
    params = _dataset(target, release, job, base)
    asked = _READ[type(shape)]  # what kg reads back and writes in the negotiated format, cut at max_results
    gate.enter()
    try:
        # what is read back is cut at max_results first, and is wordier than most formats: room for it
        reply = target.query(text, asked or fmt.media_type, deadline, params,
                             (job.max_bytes * READ_BACK_ROOM if asked else job.max_bytes) or None)
    except TimeoutError:
        return refused(Refusal(503, f"Query timed out after {deadline:g} s (the lower of this request's timeout and "
                                    "the server's limit): kg stopped "
                                    "waiting for the store. Narrow it down, add a LIMIT, or ask for a longer timeout "
                                    "within the server's limit."))
    except OverflowError:
        return refused(Refusal(503, f"The result is more than this server's limit of {job.max_bytes >> 20:,} MiB per "
                                   "response (max_response_mb). Add a LIMIT or select fewer or shorter values."))
    except EngineError as exc:  # where the engine is and what failed are for the operator's log, not the client
        _LOG.warning("the engine did not answer a SPARQL query: %s", exc)
        return dataclasses.replace(refused(Refusal(503, "The store did not answer: try again in a moment.")),
                                   retry_after=5)
    finally:
        gate.leave()
    cut = target.engine.partial
    if cut is not None and reply.headers.get(cut[0], "").upper() == cut[1]:  # an answer cut off at the deadline
        return refused(Refusal(503, f"Query timed out after {deadline:g} s (the lower of this request's timeout and "
                                    "the server's limit): the store "
                                    "stopped it. Narrow it down, add a LIMIT, or ask for a longer timeout within the "
                                    "server's limit."))
    if reply.status != 200:
        return _mapped(reply)
    media = fmt.media_type
    try:
        body, at = _written(reply.body, fmt, variables, job.max_results) if asked else (reply.body, None)
    except (ValueError, SyntaxError, KeyError, TypeError) as exc:
        return refused(Refusal(503, f"The store's answer could not be read: {exc}"))
    if job.max_bytes and len(body) > job.max_bytes:
        return refused(Refusal(503, f"The result is {len(body) / (1 << 20):,.1f} MiB, more than this server's limit of "
                                    f"{job.max_bytes >> 20:,} MiB per response (max_response_mb). Add a LIMIT or "
                                    "select fewer or shorter values."))
    if media.endswith("xml") and NOT_XML.search(body):
        return refused(Refusal(406, XML_REFUSAL))
    return Answer(200, media + ("; charset=utf-8" if media.startswith(TEXTUAL) else ""), body, at)


READ_BACK_ROOM = 8  # an engine's answer read back may be this many times max_response_mb before it is cut
_READ: dict[type, str | None] = {ox.QuerySolutions: "application/sparql-results+json",
                                 ox.QueryTriples: "application/n-triples", ox.QueryBoolean: None}


def _written(body: bytes, fmt: Format | ResultFormat, variables: list[str] | None,
             limit: int) -> tuple[bytes, int | None]:
    """The engine's rows (SPARQL JSON) or statements (N-Triples), at most `limit` of them (0: all), written as
    the embedded store writes them in `fmt`; and where they were cut."""
    if variables is not None and isinstance(fmt, ResultFormat):
        bindings = json.loads(body)["results"]["bindings"]
        rows: list[list[results.Term | None]] = [[term(b[v]) if v in b else None for v in variables]
                                                 for b in bindings[:limit + 1 if limit else None]]
        cut = limit if limit and len(rows) > limit else None
        return results.write(fmt.name, variables, rows[:limit] if cut else rows), cut
    if isinstance(fmt, ResultFormat):
        raise TypeError("a graph is not a result table")
    triples = list(dict.fromkeys(t.triple for t in itertools.islice(
        ox.parse(body, format=ox.RdfFormat.N_TRIPLES), limit + 1 if limit else None)))
    cut = limit if limit and len(triples) > limit else None
    return fmt.serialize(triples[:limit] if cut else triples), cut


NO_GRAPH = "urn:kg:no-such-graph"  # what stands for a graph the release does not hold: an empty one


def _dataset(target: Slot, release: Release, job: Job, base: str) -> list[tuple[str, str]]:
    """The dataset to name to the engine: the client's (only the release's graphs: any other is empty, as on the
    embedded store), or for an engine without a default graph of its own the release's pinned one."""
    asked = [("default-graph-uri", g) for g in job.dataset.default_graphs] + [
        ("named-graph-uri", g) for g in job.dataset.named_graphs]
    if target.engine.graphs:
        return asked
    if asked:
        return [(k, g if g in release.graphs else NO_GRAPH) for k, g in asked]
    if names_graphs(job.text):  # FROM / FROM NAMED (the release's own graphs, as the guard checked) decide
        return []
    return target.pin(Minter(base).union_graph().value, release.graphs)


def _mapped(reply: Reply) -> Answer:
    """An engine's reply as kg answers: results as they are, its refusals in kg's statuses."""
    if reply.status == 200:
        return Answer(200, reply.content_type, reply.body)
    said = reply.body[:2000].decode("utf-8", "replace").strip()
    if reply.status in (400, 406, 413, 415):
        return refused(Refusal(reply.status, f"The query was refused: {said}"))
    if reply.status == 429:
        return refused(Busy())
    return refused(Refusal(503, f"The store could not answer ({reply.status}): {said[:300]}"))
