"""Answering a request: the one place that negotiates a form of a view's answer, renders it and sets its headers.

A view returns an `Answer`: the forms it offers, each as a function giving its data (a `Page`, `Json`, `Rows`,
`Text` or `Rdf`), called only for the form negotiated. `render` picks the form (the path's suffix, then `?format=`,
then `Accept`), answers 406 listing the forms when none fits, loads the data, answers 304 when the client holds
that form, and turns the data into a response with the renderer of RENDERERS under the form's key.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial, wraps
from typing import Any, ParamSpec

import pyoxigraph as ox
from flask import Response, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from kg.formats import FORMATS, Format, known
from kg.serve.store import Release

from .errors import error_response
from .negotiation import HTML, Offer, by_key, choose, profiles

OFFERS: dict[str, Offer] = {o.key: o for o in (
    Offer("html", (HTML, "application/xhtml+xml"), ("html",)),
    Offer("json", ("application/json",)),  # a page's data, for scripts
    Offer("csv", ("text/csv",)),  # a page of a listing as a spreadsheet's rows
    Offer("suggest", ("application/x-suggestions+json",)),  # a browser's search box (OpenSearch suggestions)
    Offer("embed", ("text/plain",)),  # an entity's ready-to-paste markup snippet
    *(Offer(f.name, f.media_types, (f.extension,)) for f in FORMATS))}
GRAPH_FORMATS = tuple(f for f in FORMATS if not f.datasets)  # for what is one graph, without named graphs
BY_NAME_ONLY = frozenset({"embed"})  # chosen by ?format= alone: never by Accept or a suffix, not listed in a 406


@dataclass(frozen=True)
class Data:
    """A form's data; its `headers` go with it when it is sent (never with a 304)."""

    headers: Mapping[str, str] = field(default_factory=dict, kw_only=True)


@dataclass(frozen=True)
class Page(Data):
    """An HTML page: its template and what it shows (a function when that is work a 304 need not do)."""

    template: str
    context: Mapping[str, Any] | Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class Json(Data):
    """A JSON value for scripts."""

    value: Any


@dataclass(frozen=True)
class Rows(Data):
    """A table for spreadsheets: its header, its rows and the file name it is offered as."""

    header: list[str]
    rows: Iterable[list[str]]
    filename: str


@dataclass(frozen=True)
class Text(Data):
    """Plain text."""

    text: str


@dataclass(frozen=True)
class Rdf(Data):
    """Statements, for whichever RDF format is chosen."""

    statements: Iterable[ox.Triple] | Iterable[ox.Quad]
    stream: bool = False  # too large to hold: serialised in pieces as it is sent
    entity: str | None = None  # the entity they describe: JSON-LD writes it as one object
    labels: Mapping[str, dict[str, Any]] | None = None  # for JSON-LD: the nodes they point to, named
    named: Sequence[ox.Triple] = ()  # the same as statements (JSON-LD's expanded form writes those)


@dataclass(frozen=True)
class Answer:
    """What a view answers, before negotiation: its forms by key (preferred first), each a function giving its data."""

    forms: Mapping[str, Callable[[], Data]]
    suffix: str | None = None  # the form the path's extension names (/movie/x.ttl): before ?format= and Accept
    tags: Mapping[str, str] = field(default_factory=dict)  # a form's ETag after the release's, Last-Modified, 304
    vary: tuple[str, ...] = ("Accept",)  # the request headers its answer depends on


class _ByKey(Mapping[str, str]):
    """Each form's tag is its key: for an answer that depends on nothing but the release and its own URL."""

    def __getitem__(self, key: str) -> str:
        return key

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


RELEASE_TAGS: Mapping[str, str] = _ByKey()


def rdf(load: Callable[[Format], Rdf], formats: Iterable[Format] = FORMATS) -> dict[str, Callable[[], Data]]:
    """The RDF forms of an answer, one per format of the table in kg.formats, each loaded for its format."""
    return {f.name: partial(load, f) for f in formats}


def split_suffix(path: str, keys: Iterable[str]) -> tuple[str, str | None]:
    """A path without the extension that names one of the forms `keys` (movie/x.ttl -> movie/x, ttl), and that."""
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext and by_key(ext, _listed(keys)) is not None:
        return stem, ext
    return path, None


def _listed(keys: Iterable[str]) -> list[Offer]:
    return [OFFERS[k] for k in keys if k not in BY_NAME_ONLY]


def not_acceptable(offers: Iterable[Offer]) -> Response:
    """406 listing what is on offer."""
    listing = "\n".join(f"  {o.media_types[0]}  (?format={o.key})" for o in offers)
    return error_response(406, f"Not Acceptable. This resource is available as:\n{listing}")


def _known(name: str) -> bool:
    """Whether kg knows a format of this name for any resource (a page's, a listing's, RDF, SPARQL results)."""
    return by_key(name, list(OFFERS.values())) is not None or known(name)


def negotiate(answer: Answer) -> Offer | None:
    """The form asked for: by the path's suffix, then ?format=, then the Accept header; None when none fits."""
    listed = _listed(answer.forms)
    explicit = answer.suffix or request.args.get("format")
    if explicit:
        return by_key(explicit, listed + [OFFERS[k] for k in answer.forms if k in BY_NAME_ONLY])
    return choose(request.headers.get("Accept"), listed)


def render(answer: Answer) -> Response:
    """The response to a request for `answer`: negotiated, validated and rendered, varying on Accept."""
    offer = negotiate(answer)
    named = request.args.get("format")
    if offer is None and named and not answer.suffix and not _known(named):
        # a name kg knows for no form is a mistake in the request (as /sparql says); a form not offered here, a 406
        forms = ", ".join(o.key for o in _listed(answer.forms))
        return error_response(400, f"The parameter 'format' names no format kg knows: {named[:50]!r}. "
                                   f"This resource is available as: {forms}.")
    if offer is None:
        refused = not_acceptable(_listed(answer.forms))
        refused.headers["Vary"] = ", ".join(answer.vary)
        return refused
    data = answer.forms[offer.key]()
    tag = answer.tags.get(offer.key)
    expanded = _expanded(offer.key, data)
    if tag is not None and expanded:
        tag += "-expanded"
    # the expanded form has no address of its own: the document's (x.jsonld) answers compacted
    headers = {k: v for k, v in data.headers.items() if not (expanded and k.lower() == "content-location")}
    rel: Release | None = g.release
    etag = f"{rel.etag}-{tag}" if tag is not None and rel is not None else None
    if etag is not None and rel is not None and _not_modified(etag, rel):
        kept = Response(status=304)  # with what a 200 would say of where it is (RFC 9110 section 15.4.5)
        kept.headers.update({k: v for k, v in headers.items() if k.lower() in _KEPT_BY_304})
        return _finish(kept, rel, etag, answer.vary)
    response = RENDERERS[offer.key](data)
    response.headers.update(headers)
    return _finish(response, rel, etag, answer.vary)


_KEPT_BY_304 = ("content-location", "cache-control", "expires")


def _not_modified(etag: str, rel: Release) -> bool:
    """Whether the client holds this form: If-None-Match (weak comparison, RFC 9110 section 13.1.2), else
    If-Modified-Since (section 13.1.3)."""
    if "If-None-Match" in request.headers:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and int(rel.mtime) <= since.timestamp()


# a CDN in front may keep an answer a minute (s-maxage); a browser asks again each time (a 304 while the release
# stays), so that a page opened after a build or a rollback is the release's, as the listing that links to it is
SHARED_CACHE = "public, max-age=0, s-maxage=60"


def _finish(response: Response, rel: Release | None, etag: str | None, vary: tuple[str, ...]) -> Response:
    """Validators and caching on a tagged form (the same on every replica of a release), Vary on every negotiated
    one."""
    if etag is not None and rel is not None:
        response.set_etag(etag)
        response.headers["Last-Modified"] = rel.last_modified
        response.headers.setdefault("Cache-Control", SHARED_CACHE)
    response.headers["Vary"] = ", ".join(vary)
    return response


P = ParamSpec("P")


def renders(view: Callable[P, Answer | ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """A view whose Answers are rendered here (it may also return a response: a redirect, an error)."""

    @wraps(view)
    def rendered(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        result = view(*args, **kwargs)
        return render(result) if isinstance(result, Answer) else result

    return rendered


def _page(data: Page) -> Response:
    context = data.context() if callable(data.context) else data.context
    return Response(render_template(data.template, **context), mimetype="text/html")


def _json(data: Json) -> Response:
    return jsonify(data.value)


def _suggestions(data: Json) -> Response:
    """[query, names, descriptions, addresses], as browsers' search boxes read it."""
    return Response(json.dumps(data.value, ensure_ascii=False), content_type="application/x-suggestions+json")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def csv_cell(text: str) -> str:
    """A cell no spreadsheet runs as a formula: one starting like a formula gets a leading ' (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(data: Rows) -> Response:
    """Rows as a CSV answer, every cell made inert for spreadsheets."""
    out = io.StringIO(newline="")
    table = csv.writer(out)
    table.writerow(data.header)
    table.writerows([csv_cell(cell) for cell in row] for row in data.rows)
    response = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{data.filename}"'
    return response


def _text(data: Text) -> Response:
    return Response(data.text, content_type="text/plain; charset=utf-8")


EXPANDED = "http://www.w3.org/ns/json-ld#expanded"


def _expanded(key: str, data: object) -> bool:
    """Whether the client asked for JSON-LD in expanded form (JSON-LD 1.1's profile; read without any context, so
    without fetching schema.org's), of an answer held whole."""
    return key == "jsonld" and isinstance(data, Rdf) and not data.stream and \
        EXPANDED in profiles(request.headers.get("Accept"), "application/ld+json")


def _rdf(fmt: Format, data: Rdf) -> Response:
    if _expanded(fmt.name, data):
        expanded = ox.serialize([*data.statements, *data.named], format=ox.RdfFormat.JSON_LD)
        return Response(expanded, content_type=f'{fmt.media_type}; profile="{EXPANDED}"; charset=utf-8')
    body = (fmt.stream(data.statements) if data.stream
            else fmt.serialize(data.statements, entity=data.entity, labels=data.labels))
    return Response(body, content_type=f"{fmt.media_type}; charset=utf-8")


RENDERERS: dict[str, Callable[[Any], Response]] = {
    "html": _page, "json": _json, "csv": _csv, "suggest": _suggestions, "embed": _text,
    **{f.name: partial(_rdf, f) for f in FORMATS}}
