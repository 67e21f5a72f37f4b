"""Entity pages (Cool URIs with content negotiation), type listings, name search, and the links every page makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, abort, current_app, g, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from kg import jsonld, vocab
from kg.config import Config
from kg.engines import EngineError
from kg.formats import FORMATS, Format
from kg.ids import Minter, is_web
from kg.layout import finished
from kg.serve import documents, listings, nearby, summaries, views, wording
from kg.serve import search as names
from kg.serve.execute import Busy
from kg.serve.markup import described as described_markup
from kg.serve.markup import markup as entity_markup
from kg.serve.negotiation import languages
from kg.serve.sparql import Dataset, Job
from kg.serve.store import Release
from kg.text import shorten, visible

from .errors import error_response, shown_iri
from .render import RELEASE_TAGS, SHARED_CACHE, Answer, Json, Page, Rdf, Rows, Text, rdf, renders, split_suffix
from .render import csv_cell as csv_cell  # still importable from here, where it used to live

bp = Blueprint("entities", __name__)

ENTITY_FORMS = ("html", *(f.name for f in FORMATS), "embed")  # embed: the ready-to-paste markup snippet, by name
INLINE_SNIPPET = 64 * 1024  # characters: a longer snippet (a film with a crew of hundreds) is a link, not a text box
LISTED = {"movie": "Films", "person": "People", "character": "Characters", "organization": "Organisations",
          "country": "Countries", "event": "Events", "work": "Works", "source": "Sources"}  # kinds with a list
NOUNS = {"movie": ("film", "films"), "person": ("person", "people"), "character": ("character", "characters"),
         "organization": ("organisation", "organisations"), "country": ("country", "countries"),
         "event": ("event", "events"), "work": ("work", "works"), "source": ("source", "sources")}


def release() -> Release:
    """The release being served, or a 503 explaining how to make one."""
    if g.release is None:
        why = g.get("no_release")
        if why and g.get("no_release_private"):  # where and why (an engine's address): for the operator's log,
            if current_app.extensions.get("kg.unservable") != why:  # once, not on every request meanwhile
                current_app.extensions["kg.unservable"] = why
                current_app.logger.warning("cannot serve the release: %s", why)
            said = "This server cannot serve its release at the moment (its log says why): try again in a moment."
        else:
            said = f"This server cannot serve its release: {why}." if why else (
                "No release has been built yet: run `kg build`.")
        abort(error_response(503, said, {"Retry-After": "5"}))
    return g.release  # type: ignore[no-any-return]


def site_title() -> str:
    """The site's name: the served release's (a kg.toml edit reaches a running server with the release it makes)."""
    title = g.release.meta.get("title") if g.get("release") is not None else None
    return str(title) if title else str(current_app.config["KG"].title)


def site_license() -> str:
    """The dataset's licence, as the served release was built with it."""
    found = g.release.meta.get("license") if g.get("release") is not None else None
    return str(found) if found else str(current_app.config["KG"].license)


def local(iri: str) -> str | None:
    """The path on this server of an IRI minted under the base (with its fragment), else None."""
    minter: Minter = current_app.extensions["kg.minter"]
    return minter.path_of(iri)


@bp.app_template_global("href")
def href(iri: str) -> str | None:
    """Where a link to `iri` goes: its path here, else the IRI if a web address; None (shown as text) for others."""
    return local(iri) or (iri if is_web(iri) else None)


def absolute(path: str) -> str:
    """The absolute URL of a path on this site: under the configured public address, never the request's Host."""
    config: Config = current_app.config["KG"]
    return config.public_base + path.lstrip("/")


def address(iri: str) -> str:
    """An entity's absolute URL for scripts and markup: its page on this site, the IRI if a web address, else ''."""
    target = href(iri) or ""
    return absolute(target) if target.startswith("/") else target


@bp.app_template_filter("humane")
def humane(value: ox.Literal) -> str:
    """A literal as a reader wants it (durations in minutes or days, numbers with thousands separators)."""
    return wording.value_text(value)


@bp.app_template_filter("langtag")
def langtag(tag: str) -> str:
    """A language tag as BCP 47 writes it (ko-Latn), not as the store keeps it (ko-latn)."""
    return wording.language_tag(tag)


@bp.app_template_filter("language_name")
def language_name(tag: str) -> str:
    """A language tag in words ('ko' -> 'Korean')."""
    return wording.language_name(tag)


@bp.app_template_filter("amount")
def amount(facts: list[views.Fact]) -> str | None:
    """A monetary amount's currency and value in one text."""
    return wording.amount_text(facts)


PAGE_SIZE = 100
MOST_A_PAGE = 1000  # the largest size= a listing's page takes (a larger one is a 400)
FACET_LABELS = {"born": "birth year"}  # facets whose parameter name is not what a reader calls them


def _link(path: str, params: dict[str, str]) -> str:
    """A path with its query (none when there are no parameters)."""
    return f"{path}?{urlencode(params)}" if params else path


def whole_number(name: str, default: int, most: int = 999_999_999) -> int:
    """The query parameter `name` as a whole number from 1 to `most`; `default` when absent or empty, a 400 naming
    it when it is anything else (a size past the most a page holds too, as Datasette answers: never cut silently)."""
    text = request.args.get(name, "")
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) < 10 and 0 < int(text) <= most):
        abort(error_response(400, f"The parameter '{name}' must be a whole number from 1 to {most:,}, "
                                  f"not {text[:50]!r}."))
    return int(text)


@dataclass
class _Links:
    """Where a listing page points: the pages before and after it, its other forms, each facet value, each
    filter taken away. Every link keeps the page size and the other filters."""

    pages: dict[str, str]
    forms: dict[str, str]
    narrow: dict[tuple[str, str], str]
    widen: dict[str, str]

    @staticmethod
    def of(path: str, listing: listings.Listing, keep: dict[str, str]) -> _Links:
        return _Links(
            {rel: _link(path, {"page": str(n), **keep}) for rel, n in (("prev", listing.page - 1),
                                                                      ("next", listing.page + 1))
             if 1 <= n <= listing.pages},
            {key: _link(path, {"page": str(listing.page), **keep, "format": key}) for key in ("json", "csv")},
            {(f.name, k): _link(path, {**keep, f.name: k}) for f in listing.facets for k, _, _ in f.values},
            {name: _link(path, {k: v for k, v in keep.items() if k != name}) for name in listing.filters})


@dataclass
class _Listed:
    """One page of a listing, as each of its forms shows it (every form links to the pages before and after)."""

    listing: listings.Listing
    links: _Links
    notes: dict[str, str]
    start: int  # how many entities the pages before this one hold

    def headers(self) -> dict[str, str]:
        pages = self.links.pages
        return {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in pages.items())} if pages else {}

    def page(self) -> Page:
        listing, links = self.listing, self.links
        items = jsonld.item_list([(self.start + n + 1, address(e)) for n, (e, _) in enumerate(listing.items)])
        return Page("listing.html", {
            "kind": listing.kind, "title": LISTED[listing.kind], "listing": listing, "facet_labels": FACET_LABELS,
            "links": links.pages, "forms": links.forms, "narrow": links.narrow, "widen": links.widen,
            "summaries": self.notes, "markup": jsonld.safe_json(items)}, headers=self.headers())

    def json(self) -> Json:
        listing, notes = self.listing, self.notes
        return Json({"kind": listing.kind, "page": listing.page, "pages": listing.pages, "total": listing.total,
                     "filters": listing.filters,
                     "items": [{"iri": e, "name": name, "page": local(e) or e, "summary": notes.get(e)}
                               for e, name in listing.items],
                     "facets": {f.name: [{"value": k, "label": label, "count": n} for k, label, n in f.values]
                                for f in listing.facets},
                     "prev": self.links.pages.get("prev"), "next": self.links.pages.get("next")},
                    headers=self.headers())

    def rows(self) -> Rows:
        listing = self.listing
        return Rows(["iri", "name", "page", "summary"],
                    ([e, name, address(e), self.notes.get(e) or ""] for e, name in listing.items),
                    f"{listing.kind}-page-{listing.page}.csv", headers=self.headers())


@bp.get(f"/<any({', '.join(LISTED)}):kind>")
def kind_without_slash(kind: str) -> WerkzeugResponse:
    """/movie means the listing /movie/: a redirect by path (Werkzeug's own would name the request's Host)."""
    return redirect(f"/{kind}/" + _kept_query(), 308)


@bp.get(f"/<any({', '.join(LISTED)}):kind>/")
@renders
def kind_listing(kind: str) -> Answer:
    """One page of the entities of a kind, by name (HTML, or JSON or CSV for scripts), narrowed by its facets,
    with prev/next links."""
    rel = release()
    page, size = whole_number("page", 1), whole_number("size", PAGE_SIZE, MOST_A_PAGE)
    asked = {f: request.args.getlist(f) for f in request.args if listings.meant_as_filter(f)}
    try:
        listings.check_filters(kind, {f: values[0].strip() for f, values in asked.items()})
    except listings.BadFilter as exc:
        abort(error_response(400, f"{exc}."))
    if twice := [f for f in (*sorted(listings.PARAMETERS), *asked) if len(request.args.getlist(f)) > 1]:
        abort(error_response(400, f"{'The filter ' if twice[0] in asked else ''}'{twice[0]}' is given "
                                  f"{len(request.args.getlist(twice[0]))} times: give it once."))
    filters = {f: v.strip()[:200] for f, (v, *_) in asked.items() if v.strip()}
    keep = {k: request.args[k] for k in ("size", "format") if k in request.args} | filters

    def listed() -> _Listed:
        try:
            listing = listings.listing(rel, kind, page, size, filters)
        except listings.NoFacets as exc:
            abort(error_response(400, f"This list cannot be narrowed: {exc}."))
        if page > listing.pages:  # the listing answers its last page for any later one: a link past it is a 404
            abort(error_response(404, f"There is no page {page} of this list: it has {listing.pages} "
                                      f"page{'' if listing.pages == 1 else 's'}."))
        items = [e for e, _ in listing.items]
        return _Listed(listing, _Links.of(request.path, listing, keep),
                       summaries.summaries(nearby.view(rel, items, pages=False), items), (listing.page - 1) * size)

    return Answer({"html": lambda: listed().page(), "json": lambda: listed().json(), "csv": lambda: listed().rows()},
                  tags=RELEASE_TAGS)


@dataclass
class _Found:
    """What a search found, as each of its forms shows it."""

    text: str
    found: names.Found
    searched: bool  # the text was long enough to search for
    notes: dict[str, str]
    kind: str | None

    def _link(self, **change: object) -> str:
        params = {"q": self.text, **({"kind": self.kind} if self.kind else {}), **change}
        return _link("/search", {k: str(v) for k, v in params.items() if v not in (None, "", 1)})

    def page(self) -> Page:
        found = self.found
        links = {rel: self._link(page=n) for rel, n in (("prev", found.page - 1), ("next", found.page + 1))
                 if 1 <= n <= found.pages}
        kinds = [(k, LISTED.get(k, k.title()), n, self._link(kind=k, page=None))
                 for k, n in sorted(found.kinds.items())]
        return Page("search.html", {"q": self.text, "hits": found.hits, "found": found, "searched": self.searched,
                                    "summaries": self.notes, "links": links,
                                    "whole": names.too_short_text(self.text),
                                    "kinds": kinds, "kind": self.kind, "every": self._link(kind=None, page=None)})

    def json(self) -> Json:
        found = self.found
        return Json({"query": self.text, "kind": self.kind, "page": found.page, "pages": found.pages,
                     "total": found.total, "kinds": found.kinds, "approximate": found.approximate, "results": [
                         {"iri": h.iri, "name": h.name, "type": h.type, "matched": h.matched,
                          "page": local(h.iri) or h.iri, "summary": self.notes.get(h.iri)} for h in found.hits]})

    def suggestions(self) -> Json:
        hits = self.found.hits
        return Json([self.text, [h.name for h in hits], [self.notes.get(h.iri) or h.type for h in hits],
                     [address(h.iri) for h in hits]])


def _found(rel: Release, text: str, kind: str | None = None, page: int = 1) -> _Found:
    """The entities whose name or any spelling contains `text`: one page, of one kind when `kind` names one."""
    base = current_app.config["KG"].base_iri
    query = names.search_query(base, text)
    hits = names.search(rel, text, names.MAX_FOUND)  # the release's index of names: a scan of one file
    if hits is None and query is not None and rel.engine is not None:  # no index: the engine scans the names
        try:
            hits = names.search_hits(rel.engine_bindings(query, current_app.config["KG"].query_timeout), text,
                                     names.MAX_FOUND)
        except (EngineError, TimeoutError) as exc:  # where and why: for the operator's log, not the client
            current_app.logger.warning("the engine did not answer a search: %s", exc)
            abort(error_response(503, "The store did not answer: try again in a moment.", {"Retry-After": "5"}))
    if hits is None and query is not None:  # a release built without that index
        try:  # a scan of every name: run where a deadline holds, like any SPARQL query
            answer = current_app.extensions["kg.executors"].run(
                Job(query, Dataset(), "application/sparql-results+json", None, 0))
        except Busy as busy:
            abort(error_response(busy.status, busy.message, {"Retry-After": "1"}))
        if answer.status != 200:  # (a scan past its deadline, 503: when to ask again, as every 503 says)
            abort(error_response(answer.status, answer.body.decode("utf-8", "replace"),
                                 {"Retry-After": "5"} if answer.status == 503 else None))
        hits = names.search_hits(json.loads(answer.body)["results"]["bindings"], text, names.MAX_FOUND)
    found = names.paged(hits or [], base, kind, page)
    if page > found.pages:  # as a listing's: a link past the last page is a 404, not the last page again
        abort(error_response(404, f"There is no page {page} of these results: there "
                                  f"{'is 1 page' if found.pages == 1 else f'are {found.pages} pages'}."))
    iris = [h.iri for h in found.hits]
    return _Found(text, found, query is not None, summaries.summaries(nearby.view(rel, iris, pages=False), iris), kind)


def _earlier_releases(rel: Release) -> set[str]:
    """The ids of the releases kept beside the one served (a cited version of the dataset: gone, not unknown)."""
    return {r.name.split("-")[1] for r in finished(current_app.config["KG"].releases_path)
            if r.name.count("-") >= 2} - {str(rel.meta.get("id"))}


SEARCH_KINDS = (*LISTED, "other")  # "other": what was not minted here, as the search page's links name it


_SEARCH_PARAMETERS = frozenset({"q", "kind", "page", "format"})


@bp.get("/search")
@renders
def search() -> Answer:
    """Entities whose name or any spelling contains the text of ?q= (HTML, or JSON for scripts), a page at a time
    (?page=), narrowed to a kind of record by ?kind= (movie, person, ...)."""
    rel = release()
    # what a listing takes that the search does not (its size, its filters: year, genre, ...) is refused, as a
    # listing refuses a filter it cannot apply; other parameters (a campaign's tag, a cache buster) are let be
    if unknown := sorted(f for f in set(request.args) - _SEARCH_PARAMETERS
                         if f in listings.PARAMETERS or listings.meant_as_filter(f)):
        abort(error_response(400, f"'{unknown[0][:50]}' is no parameter of the search: it takes q, kind and page "
                                  "(and format); the listings (/movie/, /person/, ...) narrow by year and their other "
                                  "facets."))
    if twice := [f for f in sorted(_SEARCH_PARAMETERS) if len(request.args.getlist(f)) > 1]:
        abort(error_response(400, f"'{twice[0]}' is given {len(request.args.getlist(twice[0]))} times: give it once."))
    text = request.args.get("q", "")[:200]
    kind = request.args.get("kind") or None
    if kind is not None and kind not in SEARCH_KINDS:
        abort(error_response(400, f"The parameter 'kind' must be one of {', '.join(SEARCH_KINDS)}, not {kind[:50]!r}."))
    page = whole_number("page", 1)
    return Answer({"html": lambda: _found(rel, text, kind, page).page(),
                   "json": lambda: _found(rel, text, kind, page).json(),
                   "suggest": lambda: _found(rel, text, kind, page).suggestions()}, tags=RELEASE_TAGS)


_URL_SAFE = "/:@!$&'()*+,;=-._~"  # what a path may hold as it is (RFC 3986); anything else is percent-encoded


def _alternates(path: str) -> dict[str, str]:
    """The Link header of an entity's page and documents: its document in every RDF format."""
    return {"Link": ", ".join(f'</{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"' for f in FORMATS)}


def _no_entity(rel: Release, iri: str) -> str:
    """What a 404 for `iri` says: that there is no such entity, and, when it is an entity's IRI with an extension
    that names none of its forms (`parasite.json`, `.xml`, `.n3`), the extensions that do."""
    stem, dot, ext = iri.rpartition(".")
    said = f"No entity {shown_iri(iri)} in this release."
    if dot and ext and "/" not in ext and "#" not in ext and documents.document(nearby.view(rel, [stem]), stem):
        forms = ", ".join(f".{f.extension}" for f in FORMATS)
        said += f" {shown_iri(stem)} is one: its documents end in {forms} (or ask for a media type in Accept)."
    return said


def _entity_page(rel: Release, iri: str, path: str, readers: tuple[str, ...] = ()) -> Page:
    """The entity's page, names in the reader's languages where the graph has them; 404 when the release has no
    entity `iri`."""
    rel = nearby.view(rel, [iri])
    view = views.view(rel, iri, readers=readers)
    if view is None:
        abort(404, _no_entity(rel, iri))

    def shown() -> dict[str, object]:  # only once the page is to be sent: the markup is a query of its own
        data, lacking = described_markup(rel, iri)
        snippet = jsonld.script_tag(data) if data else None
        said = summaries.lead(rel, iri)
        told = [d.value for f in view.facts if f.predicate == vocab.S.description.value
                for d in [f.value] if isinstance(d, ox.Literal) and d.language in (None, "en")]
        description = " — ".join(t for t in (said, told[0] if told else None) if t)
        return {"view": view, "markup": jsonld.safe_json(data) if data else None, "snippet": snippet,
                "lead": said, "description": description[:300], "canonical": absolute(f"/{path}"),
                "og_type": {"movie": "video.movie", "person": "profile"}.get(
                    current_app.extensions["kg.minter"].kind_of(iri) or "", "website"),
                "lacks": lacking,
                "inline": snippet is not None and len(snippet) <= INLINE_SNIPPET, "local": local, "iri": iri,
                "label": wording.property_label, "formats": FORMATS, "path": f"/{path}", "graph": iri in rel.graphs,
                "nouns": NOUNS, "also": rel.merged_into.get(iri, ())}

    return Page("entity.html", shown, headers=_alternates(path))


def _entity_document(rel: Release, iri: str, path: str, fmt: Format) -> Rdf:
    """The entity's document for an RDF format: a dataset format gets the source graphs after their union."""
    rel = nearby.view(rel, [iri])
    quads = documents.document(rel, iri)
    if not quads:
        abort(404, _no_entity(rel, iri))
    statements = documents.triples(quads)
    named = documents.labelling(rel, statements)  # the nodes it points to named, in every format alike
    if fmt.entities:  # one object
        return Rdf(statements, entity=iri, labels=documents.labels(named), named=named,
                   headers={"Content-Location": f"/{path}.{fmt.extension}", **_alternates(path)})
    return Rdf(documents.dataset(quads, named) if fmt.datasets else statements + named,
               headers={"Content-Location": f"/{path}.{fmt.extension}", **_alternates(path)})


def _entity_snippet(rel: Release, iri: str) -> Text:
    """The entity's ready-to-paste <script type="application/ld+json"> block."""
    rel = nearby.view(rel, [iri])
    data = entity_markup(rel, iri)
    if data is None:
        abort(404, f"No entity {shown_iri(iri)} in this release.")
    return Text(jsonld.script_tag(data) + "\n")


def _for_this_release(response: WerkzeugResponse) -> WerkzeugResponse:
    """A merge's 301 or a removal's 410, kept by caches no longer than a page (a browser keeps a bare 301 for good,
    and a rollback may bring the entity back)."""
    response.headers["Cache-Control"] = SHARED_CACHE
    return response


def _kept_query() -> str:
    """The request's query, as a redirect passes it on ("?..."; nothing when there is none)."""
    query = quote(request.query_string.decode("latin-1"), safe=_URL_SAFE + "%?")
    return f"?{query}" if query else ""


def _to_entity(iri: str, suffix: str | None, status: int) -> WerkzeugResponse:
    """A redirect to an entity's page, or its document of the form asked for (`suffix`), keeping the query."""
    target = (local(iri) or "").lstrip("/")
    return redirect("/" + quote(target + (f".{suffix}" if suffix else ""), safe=_URL_SAFE) + _kept_query(), status)


@bp.get("/<path:path>")
@renders
def resource(path: str) -> Answer | WerkzeugResponse:
    """Any IRI minted under the base, served at its path: /movie/break-away, /vocab, /dataset, ..."""
    if path.endswith("/"):  # no minted IRI ends with a slash: /movie/break-away/ means /movie/break-away
        return redirect("/" + quote(path.rstrip("/"), safe=_URL_SAFE) + _kept_query(), 308)
    path, suffix = split_suffix(path, ENTITY_FORMS)
    rel = release()
    iri = current_app.extensions["kg.minter"].iri_at(path)
    redirects, gone = rel.moved
    if iri in redirects:  # merged or renamed: the entity lives on at its new IRI, in the form asked for
        return _for_this_release(_to_entity(redirects[iri], suffix, 301))
    if iri in gone:
        named = f"{visible(shorten(gone[iri]))} ({iri})" if gone[iri] else iri
        abort(_for_this_release(error_response(
            410, f"{named} was in an earlier release of this dataset and is no longer: its sources no longer describe "
                 "it. Search for its name, or ask SPARQL for what is there now.", search=gone[iri] or None)))
    if path.startswith("release/") and path[len("release/"):] in _earlier_releases(rel):
        now = current_app.extensions["kg.minter"].release(str(rel.meta.get("id"))).value
        abort(error_response(410, f"{iri} is an earlier release of this dataset, kept but not served: the current "
                                  f"one is {now} (`kg rollback {path[len('release/'):]}` serves this one again)."))
    if spelled := documents.respelled(rel, iri):  # a name typed for the key: the entity it spells (for now: 302)
        return _to_entity(spelled, suffix, 302)
    if len(found := names.named(rel, iri)) == 1:  # a name whose key has more (a year): the one entity of that name
        return _to_entity(found[0], suffix, 302)
    if found:  # several: the search for it, of that kind (as JSON when a document was asked for by its extension)
        kind = current_app.extensions["kg.minter"].kind_of(found[0])
        asked = {"format": "json"} if suffix and suffix != "html" else {}
        return redirect("/search?" + urlencode({**{k: v for k, v in request.args.items() if k in _SEARCH_PARAMETERS},
                                                "q": iri.rpartition("/")[2],
                                                **({"kind": kind} if kind else {}), **asked}), 302)
    if gone_at := documents.gone_spelled(rel, iri):  # a name no entity has now, that a gone one had: its 410
        return _to_entity(gone_at, suffix, 302)
    readers = languages(request.headers.get("Accept-Language"))
    tags = {key: key for key in ENTITY_FORMS} | {"html": "-".join(("html", *readers))}  # a page per reader's languages
    return Answer({"html": partial(_entity_page, rel, iri, path, readers),
                   **rdf(partial(_entity_document, rel, iri, path)), "embed": partial(_entity_snippet, rel, iri)},
                  suffix=suffix, tags=tags, vary=("Accept", "Accept-Language"))
