"""Discovery: the VoID description at /.well-known/void and /sitemap.xml."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, request, url_for

from kg import describe
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


def _xml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type="application/xml; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    rel = release()
    total = describe.page_count(rel)
    host = request.host_url.rstrip("/")
    if total <= SITEMAP_SIZE:
        return _urlset(host, describe.pages(rel, 0, total))
    parts = -(-total // SITEMAP_SIZE)
    maps = "".join(f"<sitemap><loc>{escape(host)}/sitemap/{n}.xml</loc></sitemap>\n" for n in range(1, parts + 1))
    return _xml(f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{maps}</sitemapindex>\n')


@bp.get("/sitemap/<int:n>.xml")
def sitemap_part(n: int) -> Response:
    entities = describe.pages(release(), (n - 1) * SITEMAP_SIZE, SITEMAP_SIZE) if n >= 1 else []
    if not entities:
        abort(404)
    return _urlset(request.host_url.rstrip("/"), entities)


def _urlset(host: str, entities: list[str]) -> Response:
    urls = "".join(f"<url><loc>{escape(host + path)}</loc></url>\n" for e in entities if (path := local(e)))
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
