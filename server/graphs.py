"""The SPARQL 1.1 Graph Store HTTP Protocol, read-only: `/store?graph=IRI`, `/store?default`, `/store`."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from kg.formats import FORMATS, named
from kg.serve import documents

from .entities import conditional, finish, negotiate, not_acceptable, release
from .errors import error_response
from .negotiation import Offer

bp = Blueprint("graphs", __name__)
GRAPH_OFFERS = tuple(Offer(f.name, f.media_types, (f.extension,)) for f in FORMATS)
DATASET_OFFERS = tuple(o for o, f in zip(GRAPH_OFFERS, FORMATS, strict=True) if f.datasets)


@bp.route("/store", methods=["GET", "HEAD"])  # read-only: other methods get 405 with Allow
def store() -> Response:
    """One graph (?graph=IRI, or ?default for the union), or with neither the whole dataset, as RDF."""
    rel = release()
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if len(graphs) > 1 or (graphs and default):
        return error_response(400, "Name one graph: ?graph=<IRI> or ?default (neither: the whole dataset).")
    if graphs and not documents.valid_iri(graphs[0]):
        return error_response(400, f"Not a graph IRI: {graphs[0]!r}")
    offers = GRAPH_OFFERS if graphs or default else DATASET_OFFERS
    offer = negotiate(offers)
    if offer is None:
        return not_acceptable(offers)
    fmt = named(offer.key)
    quads = documents.graph_quads(rel, graphs[0] if graphs else None) if graphs or default \
        else documents.dataset_quads(rel)
    if quads is None:
        return error_response(404, f"No graph <{graphs[0]}> in this release (/.well-known/void lists them).")
    selector = f"graph={graphs[0]}" if graphs else "default" if default else "dataset"
    etag, fresh = conditional(rel, f"store-{hashlib.sha1(selector.encode()).hexdigest()[:12]}-{fmt.name}")
    if fresh:
        return finish(Response(status=304), rel, etag)
    body = fmt.stream(quads) if request.method == "GET" else iter([b""])
    return finish(Response(body, content_type=f"{fmt.media_type}; charset=utf-8"), rel, etag)
