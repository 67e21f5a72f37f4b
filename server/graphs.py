"""The SPARQL 1.1 Graph Store HTTP Protocol, read-only: `/store?graph=IRI`, `/store?default`, `/store`."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, request

from kg.formats import FORMATS, Format
from kg.serve import documents

from .entities import release
from .errors import error_response
from .render import Answer, Rdf, rdf, renders

bp = Blueprint("graphs", __name__)


@bp.route("/store", methods=["GET", "HEAD"])  # read-only: other methods get 405 with Allow
@renders
def store() -> Answer | Response:
    """One graph (?graph=IRI, or ?default for the union), or with neither the whole dataset, as RDF."""
    rel = release()
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if len(graphs) > 1 or (graphs and default):
        return error_response(400, "Name one graph: ?graph=<IRI> or ?default (neither: the whole dataset).")
    if graphs and not documents.valid_iri(graphs[0]):
        return error_response(400, f"Not a graph IRI: {graphs[0]!r}")

    def statements(fmt: Format) -> Rdf:
        quads = documents.graph_quads(rel, graphs[0] if graphs else None, fmt.entities) if graphs or default \
            else documents.dataset_quads(rel)
        if quads is None:
            abort(error_response(404, f"No graph <{graphs[0]}> in this release (/.well-known/void lists them)."))
        return Rdf(quads, stream=True)

    forms = rdf(statements, FORMATS if graphs or default else [f for f in FORMATS if f.datasets])
    selector = f"graph={graphs[0]}" if graphs else "default" if default else "dataset"
    digest = hashlib.sha1(selector.encode()).hexdigest()[:12]
    return Answer(forms, tags={key: f"store-{digest}-{key}" for key in forms})
