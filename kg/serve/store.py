"""The current release, opened read-only; re-opened when a new release is switched in."""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.engines import EngineError, Slot, slot
from kg.ids import PATHS, Minter
from kg.layout import CURRENT, METADATA, MOVED_FILE, STORE_DIR, current, fold, metadata

_LOG = logging.getLogger(__name__)


class NoRelease(RuntimeError):
    """There is no published release to serve yet."""


class Unservable(NoRelease):
    """There is a release, but this server cannot serve it (no store and no engine settings; a slot that holds
    another release): the message says why and what to do; `private` when it names an engine (the operator's to
    read, in the log, not a client's)."""

    def __init__(self, message: str, private: bool = False) -> None:
        super().__init__(message)
        self.private = private


@dataclass(frozen=True)
class Release:
    """One published release: its id, directory, metadata and read-only store."""

    id: str
    path: Path
    store: ox.Store
    meta: dict[str, object]
    mtime: float
    engine: Slot | None = None  # the engine slot serving it: pages then read a neighbourhood fetched from it
    timeout: float = 60.0  # seconds a page's query to the engine may take
    named: frozenset[str] | None = None  # the graph names, when `store` holds only part of the release

    @cached_property
    def graphs(self) -> frozenset[str]:
        """The names of the dataset's named graphs (one per source document, plus vocabulary and release)."""
        if self.named is not None:
            return self.named
        engine = self.meta.get("engine")
        if self.engine is not None and isinstance(engine, dict) and isinstance(engine.get("graph_names"), list):
            return frozenset(str(g) for g in engine["graph_names"])
        return frozenset(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    @cached_property
    def prefixes(self) -> dict[str, str]:
        """The prefixes a query may use undeclared: the vocabularies', and one per record kind (movie:, ...)."""
        base = str(self.meta.get("base_iri") or "")
        kinds = {kind: f"{base}{path}/" for kind, path in PATHS.items()} if base else {}
        return {**kinds, **vocab.QUERY_PREFIXES}

    @cached_property
    def moved(self) -> tuple[dict[str, str], dict[str, str]]:
        """IRIs this release redirects (retired -> the entity they were merged into), and IRIs that are gone (-> the
        name the last release that had one gave it, "" when none is known)."""
        try:
            found = json.loads((self.path / MOVED_FILE).read_text(encoding="utf-8"))
            redirects, gone, names = found.get("redirects", {}), found.get("gone", []), found.get("gone_names", {})
        except FileNotFoundError:  # a release of a kg before redirects
            return {}, {}
        except (OSError, ValueError, AttributeError) as exc:  # damaged: merged IRIs would answer as if never merged
            _LOG.error("release %s: %s cannot be read (%s): merged and removed IRIs are not redirected or gone",
                       self.id, self.path / MOVED_FILE, exc)
            return {}, {}
        names = names if isinstance(names, dict) else {}
        return ({str(k): str(v) for k, v in redirects.items()} if isinstance(redirects, dict) else {},
                {str(x): n if isinstance(n := names.get(x), str) else "" for x in gone} if isinstance(gone, list)
                else {})

    @cached_property
    def merged_into(self) -> dict[str, tuple[str, ...]]:
        """Entity -> the IRIs that redirect to it (records merged into it, keys it had before), sorted."""
        found: dict[str, list[str]] = {}
        for retired, kept in self.moved[0].items():
            found.setdefault(kept, []).append(retired)
        return {kept: tuple(sorted(retired)) for kept, retired in found.items()}

    @cached_property
    def gone_by_name(self) -> dict[tuple[str, str], str]:
        """The gone IRIs by (what precedes their last segment, their name folded as search folds it): of a name
        that one gone IRI alone of its kind had."""
        found: dict[tuple[str, str], str | None] = {}
        for iri, name in self.moved[1].items():
            if name:
                at = (iri.rpartition("/")[0], fold(name))
                found[at] = None if at in found else iri
        return {at: iri for at, iri in found.items() if iri is not None}

    @property
    def etag(self) -> str:
        """A validator that changes with every release and is the same for every copy of one (replicas behind a
        load balancer): its id and build time, from release.json, never the directory it was copied to."""
        release_id, built = self.meta.get("id"), str(self.meta.get("built_at") or "")
        return f"{release_id}-{''.join(c for c in built if c.isdigit())}" if release_id else self.path.name

    @property
    def engine_slot(self) -> str | None:
        """The URL of the engine slot the release was published into (None: served from its embedded store)."""
        engine = self.meta.get("engine")
        return str(engine["slot"]) if isinstance(engine, dict) and engine.get("slot") else None

    @property
    def last_modified(self) -> str:
        """HTTP date of the release."""
        return email.utils.formatdate(self.mtime, usegmt=True)

    def query(self, sparql: str, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL query; the default graph is the union of all graphs unless a dataset is given.

        Relative IRIs in the query resolve against the dataset's base IRI (`<movie/break-away>` is that film).
        """
        base = str(self.meta.get("base_iri") or "") or None
        if default_graphs is not None or named_graphs is not None:
            return self.store.query(
                sparql, base_iri=base, prefixes=self.prefixes,
                # named graphs alone leave the default graph empty, as FROM NAMED alone does (SPARQL 1.1 Query 13.2)
                default_graph=[ox.NamedNode(g) for g in default_graphs] if default_graphs else
                [] if named_graphs else ox.DefaultGraph(),
                named_graphs=[ox.NamedNode(g) for g in named_graphs] if named_graphs is not None else None)
        return self.store.query(sparql, base_iri=base, prefixes=self.prefixes)


    def select(self, sparql: str) -> list[ox.QuerySolution] | list[Row]:
        """The rows of a SELECT query over the default (union) graph (the engine's, when one serves it)."""
        if self.engine is not None:
            return self.engine_rows(sparql)
        result = self.store.query(sparql)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("select() takes a SELECT query")
        return list(result)

    def engine_rows(self, sparql: str, timeout: float | None = None) -> list[Row]:
        """The rows of a SELECT asked of the engine slot serving the release, as terms."""
        return [Row(found) for found in self.engine_bindings(sparql, timeout)]

    def engine_bindings(self, sparql: str, timeout: float | None = None) -> list[dict[str, dict[str, str]]]:
        """The rows of a SELECT asked of the engine slot serving the release, over its pinned dataset (SPARQL
        JSON bindings)."""
        if self.engine is None:
            raise TypeError("the release is not served from an engine")
        base = str(self.meta.get("base_iri") or "")
        return self.engine.select(sparql, timeout or self.timeout,
                                  self.engine.pin(Minter(base).union_graph().value, self.graphs))


class Row:
    """One row of an engine's SELECT answer, read as pyoxigraph's rows are: `row["var"]` or `row[0]` is a term."""

    def __init__(self, binding: dict[str, dict[str, str]]) -> None:
        self._terms = {name: term(value) for name, value in binding.items()}

    def __getitem__(self, key: str | int) -> ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None:
        if isinstance(key, int):
            return list(self._terms.values())[key] if key < len(self._terms) else None
        return self._terms.get(key)


def term(value: dict[str, Any]) -> ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple:
    """A term of the SPARQL 1.1 JSON results format."""
    kind = value.get("type")
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":  # an engine's own label may not be a valid one (Virtuoso's nodeID://b10): keep it apart
        label = value["value"]
        return ox.BlankNode(label if _BNODE.fullmatch(label) else "b" + hashlib.sha1(label.encode()).hexdigest())
    if kind == "triple":
        inner = value["value"]
        return ox.Triple(term(inner["subject"]), term(inner["predicate"]), term(inner["object"]))  # type: ignore[arg-type]
    if value.get("xml:lang"):
        return ox.Literal(value["value"], language=value["xml:lang"])
    if value.get("datatype") and value["datatype"] != _LANG_STRING:
        return ox.Literal(value["value"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["value"])


_BNODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


HOLD_CHECK = 30.0  # seconds between asking the engine slot whether it still holds the release it serves


class Releases:
    """Follows `<root>/current`: each call to `current()` returns the release being served right now."""

    def __init__(self, root: Path, engine: str | None = None, timeout: float = 60.0) -> None:
        self.root = root
        self.engine = engine  # the engine kind serving releases published into one (None: the embedded store)
        self.timeout = timeout  # seconds a page's query to that engine may take
        self._lock = threading.Lock()
        self._target: tuple[str, int, int, int] | None = None
        self._release: Release | None = None
        self._checked = 0.0  # when the engine slot was last seen holding the release
        self._lost: str | None = None  # why the slot does not serve the release (it holds another)

    def current(self) -> Release:
        """The current release; opened on first use, whenever `current` points somewhere new, and whenever its
        release.json changes (`kg publish` moves a release to another slot)."""
        try:
            written = (self.root / CURRENT / METADATA).stat()  # rewritten (a new file) when `kg publish` moves it
            # and when the link was made: a rollback to the release a worker had open makes its Last-Modified anew
            target: tuple[str, int, int, int] | None = (os.readlink(self.root / CURRENT), written.st_ino,
                                                        written.st_mtime_ns, (self.root / CURRENT).lstat().st_mtime_ns)
        except OSError:
            target = None
        release = self._release
        if release is None or target != self._target:
            with self._lock:
                if self._release is None or target != self._target:
                    self._release, self._target, self._checked, self._lost = self._open(), target, 0.0, None
                release = self._release
        assert release is not None
        if release.engine is not None and time.monotonic() - self._checked > HOLD_CHECK:
            self._check(release)
        if self._lost is not None:
            raise Unservable(self._lost, private=True)
        return release

    def _open(self) -> Release:
        path = current(self.root)
        if path is None:
            raise NoRelease(f"no release in {self.root}: run `kg build`")
        meta = metadata(path)
        served = meta.get("engine")
        url = served.get("slot") if self.engine and isinstance(served, dict) else None
        engine = slot(self.engine, str(url)) if self.engine and url else None
        if engine is None and not (path / STORE_DIR).is_dir():
            raise Unservable(f"release {meta.get('id')} has no store of its own: it is served from the engine it was "
                            "published into, so this server needs that project's `store` and `slots` settings")
        # served from an engine, a replica needs no store of its own: pages ask the engine
        store = ox.Store() if engine is not None and not (path / STORE_DIR).is_dir() else ox.Store.read_only(
            str(path / STORE_DIR))
        # last modified when built, or when it became current again (a rollback): a client that asks whether it
        # changed since a later release's date is told it did
        try:
            switched = (self.root / CURRENT).lstat().st_mtime
        except OSError:
            switched = 0.0
        modified = max((path / METADATA).stat().st_mtime, switched)
        return Release(str(meta["id"]), path, store, meta, modified, engine, self.timeout)

    def _check(self, release: Release) -> None:
        """Whether the engine slot still holds the release (another build, or another project with the same
        slots, may have loaded it since): a slot that holds another is not served from."""
        assert release.engine is not None
        minter = Minter(str(release.meta.get("base_iri") or ""))
        ask = f"ASK {{ <{minter.dataset().value}> <{vocab.DCTERMS}hasVersion> <{minter.release(release.id).value}> }}"
        try:
            held = release.engine.ask(ask, min(release.timeout, 10.0),
                                      release.engine.pin(minter.union_graph().value, ()))
        except (EngineError, TimeoutError):
            held = self._lost is None  # unreachable: each page says so; asked again later
        self._checked = time.monotonic()
        self._lost = None if held else (
            f"the {release.engine.engine.name} slot at {release.engine.url} no longer holds release {release.id} "
            f"(another build loaded another release into it, or the engine was started again on an empty store): run "
            f"`kg publish {release.id}` to load it again")
