"""Entity pages (Cool URIs with content negotiation), type listings and the home page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, g, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from kg import jsonld
from kg.config import Config
from kg.formats import FORMATS, by_name
from kg.ids import PATHS, is_web
from kg.serve import documents, listings, summaries, views, wording
from kg.serve import search as names
from kg.serve.execute import Busy
from kg.serve.markup import markup as entity_markup
from kg.serve.sparql import Dataset, Job
from kg.serve.store import Release

from .errors import error_response
from .negotiation import HTML, Offer, by_key, choose

bp = Blueprint("entities", __name__)

OFFERS: tuple[Offer, ...] = (Offer("html", (HTML, "application/xhtml+xml"), ("html",)),) + tuple(
    Offer(f.name, f.media_types, (f.extension,)) for f in FORMATS)
INLINE_SNIPPET = 64 * 1024  # characters: a longer snippet (a film with a crew of hundreds) is a link, not a text box
EMBED = Offer("embed", ("text/plain",))  # only by ?format=embed: the ready-to-paste markup snippet
KINDS = {path: kind for kind, path in PATHS.items()}
LISTED = {"movie": "Films", "person": "People", "character": "Characters", "organization": "Organisations",
          "country": "Countries", "event": "Events", "work": "Works", "source": "Sources"}  # kinds with a list


def release() -> Release:
    """The release being served, or a 503 explaining how to make one."""
    if g.release is None:
        abort(Response("No release has been built yet: run `kg build`.\n", 503, mimetype="text/plain"))
    return g.release  # type: ignore[no-any-return]


def not_acceptable(offers: tuple[Offer, ...]) -> Response:
    """406 listing what is on offer."""
    listing = "\n".join(f"  {o.media_types[0]}  (?format={o.key})" for o in offers)
    return error_response(406, f"Not Acceptable. This resource is available as:\n{listing}")


def negotiate(offers: tuple[Offer, ...], suffix: str | None = None) -> Offer | None:
    """Explicit suffix, then ?format=, then Accept."""
    explicit = suffix or request.args.get("format")
    if explicit:
        return by_key(explicit, offers)
    return choose(request.headers.get("Accept"), offers)


def local(iri: str) -> str | None:
    """The path on this server of an IRI minted under the base, else None."""
    base = current_app.config["KG"].base_iri
    return "/" + iri[len(base):] if iri.startswith(base) else None


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


def conditional(rel: Release, key: str) -> tuple[str, bool]:
    """The ETag of this representation and whether the client has it (weak comparison, RFC 9110 section 13.1.2)."""
    etag = f"{rel.etag}-{key}"
    return etag, request.if_none_match.contains_weak(etag)


def finish(response: Response, rel: Release, etag: str) -> Response:
    """Validators and Vary on every negotiated response."""
    response.set_etag(etag)
    response.headers["Last-Modified"] = rel.last_modified
    response.headers["Vary"] = "Accept"
    return response


def embed(rel: Release, iri: str) -> Response:
    """The entity's ready-to-paste <script type="application/ld+json"> block, as text."""
    data = entity_markup(rel, iri)
    if data is None:
        abort(404, f"No entity {iri} in this release.")
    etag, fresh = conditional(rel, "embed")
    response = Response(status=304) if fresh else Response(jsonld.script_tag(data) + "\n",
                                                           content_type="text/plain; charset=utf-8")
    return finish(response, rel, etag)


@bp.app_template_filter("humane")
def humane(value: ox.Literal) -> str:
    """A literal as a reader wants it (durations in minutes or days, numbers with thousands separators)."""
    return wording.value_text(value)


@bp.app_template_filter("langtag")
def langtag(tag: str) -> str:
    """A language tag as BCP 47 writes it (ko-Latn), not as the store keeps it (ko-latn)."""
    return wording.language_tag(tag)


@bp.app_template_filter("amount")
def amount(facts: list[views.Fact]) -> str | None:
    """A monetary amount's currency and value in one text."""
    return wording.amount_text(facts)


PAGE_SIZE = 100
def _link(path: str, params: dict[str, str]) -> str:
    """A path with its query (none when there are no parameters)."""
    return f"{path}?{urlencode(params)}" if params else path


def _number(text: str | None, default: int, most: int) -> int:
    """A positive whole number from a query parameter, at most `most`; `default` when absent or not a number."""
    return min(int(text), most) if text and text.isdigit() and 0 < len(text) < 10 and int(text) > 0 else default


HTML_OR_JSON = (Offer("html", (HTML, "application/xhtml+xml")), Offer("json", ("application/json",)))  # for scripts
SUGGEST = Offer("suggest", ("application/x-suggestions+json",))  # a browser's search box (OpenSearch suggestions)
FACET_LABELS = {"born": "birth year"}  # facets whose parameter name is not what a reader calls them
LISTING_OFFERS = HTML_OR_JSON + (Offer("csv", ("text/csv",)),)  # a page of a listing as a spreadsheet's rows


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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def csv_cell(text: str) -> str:
    """A cell no spreadsheet runs as a formula: one starting like a formula gets a leading ' (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(header: list[str], rows: Iterable[list[str]], filename: str) -> Response:
    """Rows as a CSV answer, every cell made inert for spreadsheets."""
    out = io.StringIO(newline="")
    table = csv.writer(out)
    table.writerow(header)
    table.writerows([csv_cell(cell) for cell in row] for row in rows)
    response = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get(f"/<any({', '.join(LISTED)}):kind>/")
def kind_listing(kind: str) -> Response | str:
    """One page of the entities of a kind, by name (HTML, or JSON or CSV for scripts), narrowed by its facets,
    with prev/next links."""
    rel = release()
    offer = negotiate(LISTING_OFFERS)
    if offer is None:
        return not_acceptable(LISTING_OFFERS)
    page, size = _number(request.args.get("page"), 1, 10**8), _number(request.args.get("size"), PAGE_SIZE, 1000)
    filters = {f: request.args[f][:200] for f in listings.facet_names(kind) if request.args.get(f, "").strip()}
    try:
        listing = listings.listing(rel, kind, page, size, filters)
    except listings.NoFacets as exc:
        return error_response(400, f"This list cannot be narrowed: {exc}.")
    links = _Links.of(request.path, listing, {k: request.args[k] for k in ("size", "format") if k in request.args}
                      | filters)
    notes = summaries.summaries(rel, (e for e, _ in listing.items))
    if offer.key == "json":
        response = jsonify(kind=listing.kind, page=listing.page, pages=listing.pages, total=listing.total,
                           filters=listing.filters,
                           items=[{"iri": e, "name": name, "page": local(e) or e, "summary": notes.get(e)}
                                  for e, name in listing.items],
                           facets={f.name: [{"value": k, "label": label, "count": n} for k, label, n in f.values]
                                   for f in listing.facets},
                           prev=links.pages.get("prev"), next=links.pages.get("next"))
    elif offer.key == "csv":
        response = _csv(["iri", "name", "page", "summary"],
                        ([e, name, address(e), notes.get(e) or ""]
                         for e, name in listing.items), f"{kind}-page-{listing.page}.csv")
    else:
        start = (listing.page - 1) * size
        items = jsonld.item_list([(start + n + 1, address(e)) for n, (e, _) in enumerate(listing.items)])
        response = Response(render_template("listing.html", kind=kind, title=LISTED[kind], listing=listing,
                                            facet_labels=FACET_LABELS, links=links.pages,
                                            forms=links.forms, narrow=links.narrow, widen=links.widen,
                                            summaries=notes, markup=jsonld.safe_json(items)), mimetype="text/html")
    if links.pages:
        response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel_}"' for rel_, url in links.pages.items())
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/search")
def search() -> Response | str:
    """Entities whose name or any spelling contains the text of ?q= (HTML, or JSON for scripts)."""
    rel = release()
    text = request.args.get("q", "")[:200]
    offer = negotiate(HTML_OR_JSON + (SUGGEST,))
    if offer is None:
        return not_acceptable(HTML_OR_JSON + (SUGGEST,))
    query = names.search_query(current_app.config["KG"].base_iri, text)
    hits = names.search(rel, text)  # the release's index of names: a scan of one file
    if hits is None and query is not None:  # a release built without that index
        try:  # a scan of every name: run where a deadline holds, like any SPARQL query
            answer = current_app.extensions["kg.executors"].run(
                Job(query, Dataset(), "application/sparql-results+json", None, 0))
        except Busy as busy:
            return error_response(429, busy.message, {"Retry-After": "1"})
        if answer.status != 200:
            return error_response(answer.status, answer.body.decode("utf-8", "replace"))
        hits = names.search_hits(json.loads(answer.body)["results"]["bindings"], text)
    hits = hits or []
    notes = summaries.summaries(rel, (h.iri for h in hits))
    if offer.key == "suggest":  # [query, names, descriptions, addresses], as browsers' search boxes read it
        response = Response(json.dumps([text, [h.name for h in hits], [notes.get(h.iri) or h.type for h in hits],
                                        [address(h.iri) for h in hits]],
                                       ensure_ascii=False), content_type="application/x-suggestions+json")
    elif offer.key == "json":
        response = jsonify(query=text, results=[
            {"iri": h.iri, "name": h.name, "type": h.type, "matched": h.matched, "page": local(h.iri) or h.iri,
             "summary": notes.get(h.iri)} for h in hits])
    else:
        response = Response(render_template("search.html", q=text, hits=hits, searched=query is not None,
                                            summaries=notes, shortest=names.MIN_SEARCH), mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response


_URL_SAFE = "/:@!$&'()*+,;=-._~"  # what a path may hold as it is (RFC 3986); anything else is percent-encoded


@bp.get("/<path:path>")
def resource(path: str) -> Response | WerkzeugResponse:
    """Any IRI minted under the base, served at its path: /movie/break-away, /vocab, /dataset, ..."""
    if path.endswith("/"):  # no minted IRI ends with a slash: /movie/break-away/ means /movie/break-away
        query = quote(request.query_string.decode("latin-1"), safe=_URL_SAFE + "%?")
        return redirect("/" + quote(path.rstrip("/"), safe=_URL_SAFE) + (f"?{query}" if query else ""), 308)
    suffix = None
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext and by_key(ext, OFFERS) is not None:
        path, suffix = stem, ext
    rel = release()
    iri = f"{current_app.config['KG'].base_iri}{path}"
    if request.args.get("format") == "embed" and not suffix:
        return embed(rel, iri)
    offer = negotiate(OFFERS, suffix)
    if offer is None:
        return not_acceptable(OFFERS)
    etag, fresh = conditional(rel, offer.key)
    if offer.key == "html":
        view = views.view(rel, iri)
        if view is None:
            abort(404, f"No entity {iri} in this release.")
        if fresh:
            return finish(Response(status=304), rel, etag)
        data = entity_markup(rel, iri)
        markup = jsonld.safe_json(data) if data else None
        snippet = jsonld.script_tag(data) if data else None
        inline = snippet is not None and len(snippet) <= INLINE_SNIPPET
        body = render_template("entity.html", view=view, markup=markup, snippet=snippet, inline=inline, local=local,
                               iri=iri, label=wording.property_label, formats=FORMATS, path=f"/{path}",
                               graph=iri in rel.graphs)
        response = Response(body, mimetype="text/html")
    else:
        quads = documents.document(rel, iri)
        if not quads:
            abort(404, f"No entity {iri} in this release.")
        if fresh:
            return finish(Response(status=304), rel, etag)
        fmt = by_name(offer.key)
        assert fmt is not None
        statements = documents.dataset(quads) if fmt.datasets else documents.triples(quads)
        response = Response(fmt.serialize(statements), content_type=f"{fmt.media_type}; charset=utf-8")
        response.headers["Content-Location"] = f"/{path}.{fmt.extension}"
    response.headers["Link"] = ", ".join(f'</{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                                         for f in FORMATS)
    return finish(response, rel, etag)
