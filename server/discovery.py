"""Discovery: the VoID description at /.well-known/void and /sitemap.xml."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, request, url_for

from kg.formats import FORMATS, by_name
from kg.layout import VOID_FILE

from .entities import local, not_acceptable, release
from .negotiation import Offer, by_key, choose

bp = Blueprint("discovery", __name__)
OFFERS = tuple(Offer(f.name, f.media_types, (f.extension,)) for f in FORMATS if not f.datasets)
SITEMAP_SIZE = 50_000


@bp.get("/.well-known/void")
def void() -> Response:
    rel = release()
    explicit = request.args.get("format")
    offer = by_key(explicit, OFFERS) if explicit else choose(request.headers.get("Accept"), OFFERS)
    if offer is None:
        return not_acceptable(OFFERS)
    fmt = by_name(offer.key)
    assert fmt is not None
    triples = list(ox.parse(path=str(rel.path / VOID_FILE), format=ox.RdfFormat.TURTLE))
    response = Response(fmt.serialize(triples), content_type=f"{fmt.media_type}; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.set_etag(f"{rel.etag}-void-{fmt.name}")
    return response


def _entities() -> list[str]:
    rel = release()
    rows = rel.select(f"SELECT DISTINCT ?e WHERE {{ GRAPH <{rel.meta['base_iri']}source/editorial> {{ ?e a ?t }} }} "
                     "ORDER BY ?e")
    return [row["e"].value for row in rows if "#" not in row["e"].value]


def _xml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type="application/xml; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    entities = _entities()
    host = request.host_url.rstrip("/")
    if len(entities) <= SITEMAP_SIZE:
        urls = "".join(f"<url><loc>{escape(host + (local(e) or ''))}</loc></url>\n" for e in entities if local(e))
        return _xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n')
    parts = -(-len(entities) // SITEMAP_SIZE)
    maps = "".join(f"<sitemap><loc>{escape(host)}/sitemap/{n}.xml</loc></sitemap>\n" for n in range(1, parts + 1))
    return _xml(f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{maps}</sitemapindex>\n')


@bp.get("/sitemap/<int:n>.xml")
def sitemap_part(n: int) -> Response:
    entities = _entities()[(n - 1) * SITEMAP_SIZE: n * SITEMAP_SIZE]
    if n < 1 or not entities:
        abort(404)
    host = request.host_url.rstrip("/")
    urls = "".join(f"<url><loc>{escape(host + (local(e) or ''))}</loc></url>\n" for e in entities if local(e))
    return _xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n')


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers are welcome on the pages (the sitemap lists them), not on the query endpoints or the dumps."""
    body = ("User-agent: *\nDisallow: /sparql\nDisallow: /search\nDisallow: /download/\n"
            f"Sitemap: {request.host_url.rstrip('/')}/sitemap.xml\n")
    return Response(body, content_type="text/plain; charset=utf-8")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links to."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
