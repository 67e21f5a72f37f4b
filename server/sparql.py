"""The SPARQL 1.1 Protocol endpoint (queries only), its service description and the query page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Blueprint, Response, abort, current_app, redirect, request, send_file
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from kg.errors import Refusal
from kg.formats import Format, known
from kg.serve import remote, sparql
from kg.serve.execute import Busy
from kg.serve.guard import MAX_QUERY_CHARS, is_lookup
from kg.serve.sparql import GRAPH_OFFERS, RESULT_OFFERS, Job

from .entities import absolute, release
from .errors import error_response
from .negotiation import choose
from .render import GRAPH_FORMATS, OFFERS, Answer, Page, Rdf, rdf, renders

bp = Blueprint("sparql", __name__)


def _one(values: list[str], what: str) -> str:
    if len(values) > 1:
        raise Refusal(400, f"The request has {len(values)} '{what}' parameters; send exactly one.")
    return values[0]


def _service_description() -> Answer:
    """The endpoint's service description (RDF, Turtle first), or for a browser the query page."""
    def load(fmt: Format) -> Rdf:
        return Rdf(sparql.service_description(absolute("/sparql"), release()))

    return Answer({**rdf(load, GRAPH_FORMATS[:1]), "html": lambda: _query_page(""), **rdf(load, GRAPH_FORMATS[1:])})


def _request() -> tuple[str | None, sparql.Dataset]:
    """The query text and dataset of a protocol request (GET, form POST or direct POST)."""
    _utf8(request.query_string)
    if request.method in ("GET", "HEAD") or (not request.content_length and not request.mimetype):
        params = request.args  # a POST without a body (curl -X POST '...?query=') reads the URL, as Fuseki does
    else:
        mimetype = request.mimetype
        charset = request.mimetype_params.get("charset", "utf-8").lower().replace("_", "-")
        if mimetype in ("application/x-www-form-urlencoded", "application/sparql-query") and charset not in (
                "utf-8", "utf8", "us-ascii", "ascii"):  # (ASCII is UTF-8)
            raise Refusal(415, f"Unsupported charset {charset!r}: the SPARQL protocol sends queries as UTF-8.")
        if mimetype == "application/x-www-form-urlencoded":
            _utf8(request.get_data(cache=True))
            params = CombinedMultiDict([request.form, request.args])  # the URL's too (a dataset, a timeout), as
            # Fuseki and Oxigraph read them: else a query meant for one graph would silently answer over all
        elif mimetype == "application/sparql-query":
            if "query" in request.args or "update" in request.args:  # which one was meant is not known
                raise Refusal(400, "The request sends a query in its body and a 'query' (or 'update') parameter in "
                                   "its URL: send exactly one.")
            try:
                text = request.get_data(as_text=False).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Refusal(400, "The query is not valid UTF-8.") from exc
            return text, sparql.Dataset.asked(request.args.getlist("default-graph-uri"),
                                              request.args.getlist("named-graph-uri"))
        elif mimetype == "application/sparql-update":
            raise Refusal(403, "This endpoint is read-only: SPARQL Update is not accepted.")
        else:
            raise Refusal(415, f"Unsupported request body type {mimetype!r}: send "
                                         "application/x-www-form-urlencoded or application/sparql-query.")
    if "update" in params:
        raise Refusal(403, "This endpoint is read-only: SPARQL Update is not accepted.")
    queries = params.getlist("query")
    if any(len(q) > MAX_QUERY_CHARS for q in queries):
        raise Refusal(413, f"The query is longer than the limit of {MAX_QUERY_CHARS:,} characters.")
    dataset = sparql.Dataset.asked(params.getlist("default-graph-uri"), params.getlist("named-graph-uri"))
    return (_one(queries, "query") if queries else None), dataset


def _utf8(encoded: bytes) -> None:
    """Refuse URL-encoded parameters that are not UTF-8 (SPARQL 1.1 Protocol 2.1.1; werkzeug would pass the bytes
    on as they are written, %E9 for an é in Latin-1)."""
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refusal(400, "The query is not valid UTF-8.") from exc


@bp.route("/sparql", methods=["GET", "POST"], provide_automatic_options=False)
@renders
def endpoint() -> Answer | Response:
    try:
        text, dataset = _request()
        if text is None:
            if request.method in ("GET", "HEAD"):
                return _service_description()
            raise Refusal(400, "Missing 'query' parameter.")
        params = CombinedMultiDict([request.form, request.args]) if request.method == "POST" and \
            request.mimetype.endswith("urlencoded") else request.args
        named = _format_param(params)
        if request.method == "GET" and named is None and _wants_a_page():
            return Answer({"html": lambda: _query_page(text)})  # a person following a link: the query in the editor
        settings = current_app.config["KG"]
        job = Job(text, dataset, request.headers.get("Accept"), named, settings.max_results,
                  settings.max_response_mb << 20)
        deadline = _timeout(params.get("timeout"))
        try:
            if settings.store != "embedded" and release().engine_slot is not None:
                # the current release's engine slot answers, behind the same guard
                limit = min(deadline, settings.query_timeout) if deadline else settings.query_timeout
                result = remote.forward(release(), settings.store, job, limit, current_app.extensions["kg.gate"])
            elif is_lookup(text) and not dataset.default_graphs and not dataset.named_graphs:
                # bounded by the statements about one node: no deadline process needed
                result = sparql.answer(release(), job)
            else:
                result = current_app.extensions["kg.executors"].run(job, deadline)
        except Busy as busy:
            return error_response(busy.status, busy.message, {"Retry-After": "1"})
    except Refusal as exc:
        return error_response(exc.status, exc.message)
    response = Response(result.body, status=result.status, content_type=result.content_type)
    response.headers["Vary"] = "Accept"
    if _UNREPEATABLE.search(text):  # each run answers anew (SPARQL 1.1 17.4): no cache may keep the answer
        response.headers["Cache-Control"] = "no-store"
    if result.retry_after is not None:
        response.headers["Retry-After"] = str(result.retry_after)
    if result.truncated_at is not None:
        response.headers["X-Result-Truncated"] = str(result.truncated_at)
        response.headers["Warning"] = f'299 kg "result cut at the server limit of {result.truncated_at} rows"'
    return response


@bp.post("/sparql/")
def endpoint_slash() -> WerkzeugResponse:
    """A POST to /sparql/ is sent on to /sparql (308 keeps the method and the body), as a GET is."""
    query = request.query_string.decode("latin-1")
    return redirect("/sparql" + (f"?{query}" if query else ""), 308)


BROWSER_OFFERS = RESULT_OFFERS + GRAPH_OFFERS + (OFFERS["html"],)


def _wants_a_page() -> bool:
    """Whether the client prefers HTML to every result format (a browser; never a client that accepts anything)."""
    chosen = choose(request.headers.get("Accept"), BROWSER_OFFERS)  # HTML last: ties go to the results
    return chosen is not None and chosen.key == "html"


def _query_page(text: str) -> Page:
    """The query page; with a query, that query in the editor, run as the page opens."""
    return Page("query.html", {"examples": sparql.examples(release()), "prefixes": release().prefixes,
                               "query": text, "run": bool(text),
                               "endpoint": absolute("/sparql"), "yasgui": (YASGUI_BUILD / "yasgui.min.js").exists()})


def _format_param(params: Any) -> str | None:
    """The result format asked for by name: `format`, or `output` or `results` as Fuseki, Virtuoso and SPARQLWrapper
    also name it; a 400 naming the parameter when kg knows no such format."""
    for name in ("format", "output", "results"):
        value = params.get(name) or request.args.get(name)
        if value:
            if not known(str(value)):
                raise Refusal(400, f"The parameter '{name}' names no format kg knows: {str(value)[:50]!r}. "
                                   f"Name one of {sparql.format_names()}.")
            return str(value)
    return None


def _timeout(value: str | None) -> float | None:
    """The request's own deadline in seconds (it can only lower the server's; 0 or empty, as Virtuoso reads it:
    none of its own)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError as exc:
        raise Refusal(400, f"timeout must be a number of seconds, not {value[:50]!r}") from exc
    if not seconds >= 0:  # (NaN too)
        raise Refusal(400, f"timeout must be a number of seconds, 0 or more, not {value[:50]!r}")
    return seconds or None


_UNREPEATABLE = re.compile(r"\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)  # answers that differ each run


YASGUI_BUILD = Path(__file__).parent / "static" / "node_modules" / "@zazuko" / "yasgui" / "build"
YASGUI_FILES = {"yasgui.min.js": "text/javascript", "yasgui.min.css": "text/css"}


@bp.get("/static/vendor/yasgui/<name>")
def yasgui(name: str) -> Response:
    """The query editor, from the project's own npm install."""
    if name not in YASGUI_FILES or not (YASGUI_BUILD / name).exists():
        abort(404)
    return send_file(YASGUI_BUILD / name, mimetype=YASGUI_FILES[name], max_age=86400)


@bp.route("/sparql", methods=["OPTIONS"])
def preflight() -> Response:
    """What the endpoint allows (a CORS preflight's answer is added to it for every resource)."""
    response = Response(status=204)
    response.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    return response


