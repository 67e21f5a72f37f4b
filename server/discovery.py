"""Discovery: the home page (the dataset's root), its VoID description at /.well-known/void, /sitemap.xml."""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, redirect, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from kg import jsonld, vocab
from kg.layout import DUMPS
from kg.serve import catalogue, listings, wording
from kg.serve.store import Release

from .entities import absolute, address, local, release, site_license, site_title
from .render import GRAPH_FORMATS, Answer, Data, Page, Rdf, rdf, renders

bp = Blueprint("discovery", __name__)
SITEMAP_SIZE = 50_000
HOME_SIZE = 200  # the first names of each kind on the home page; the rest are a link away


def _void(rel: Release) -> dict[str, Callable[[], Data]]:
    """The release's VoID description, in each format of one graph."""
    return rdf(lambda fmt: Rdf(catalogue.void_triples(rel)), GRAPH_FORMATS)


def _void_tags() -> dict[str, str]:
    return {f.name: f"void-{f.name}" for f in GRAPH_FORMATS}


@bp.get("/")
@renders
def home() -> Answer:
    """The dataset's root: a page of its films and people for a browser, its VoID description for RDF clients."""
    rel = release()
    return Answer({"html": lambda: _home(rel), **_void(rel)}, tags={"html": "home", **_void_tags()})


def _home(rel: Release) -> Page:
    front = listings.front_page(rel, HOME_SIZE)
    counts = rel.meta.get("counts")
    markup = jsonld.dataset(current_app.extensions["kg.minter"].dataset().value, site_title(), absolute("/"),
                            site_license(), str(rel.meta["id"]), str(rel.meta["built_at"]),
                            int(counts.get("triples", 0)) if isinstance(counts, dict) else 0, absolute("/sparql"),
                            [(absolute(f"/download/{d.filename}"), d.media_type,
                              f"{d.format.label}, gzipped" if d.gzipped else d.format.label) for d in DUMPS])
    return Page("home.html", {"films": front.films, "people": front.people, "meta": rel.meta,
                              "summaries": front.notes, "title": site_title(), "markup": jsonld.safe_json(markup)},
                headers={"Link": '</.well-known/void>; rel="describedby"; type="text/turtle"'})


@bp.get("/.well-known/void")
@renders
def void() -> Answer:
    """The dataset's VoID description: RDF for clients, a page for a browser (every page's footer links here)."""
    rel = release()
    # RDF first, for a client that takes anything (curl); the page for browsers
    return Answer({**_void(rel), "html": lambda: _void_page(rel)}, tags=_void_tags())


def _void_page(rel: Release) -> Page:
    return Page("void.html", {"void": catalogue.dataset_description(rel), "meta": rel.meta, "local": local,
                              "formats": GRAPH_FORMATS, "label": wording.property_label, "compact": vocab.prefixed},
                headers={"Link": '</.well-known/void>; rel="alternate"; type="text/turtle"'})


def _xml(body: str, media_type: str = "application/xml") -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type=f"{media_type}; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    rel = release()
    total = listings.page_count(rel)
    if total + len(LEAD_PAGES) <= SITEMAP_SIZE:
        return _urlset(listings.pages(rel, 0, total), lead=True)
    parts = -(-total // SITEMAP_SIZE)  # part 0: the lead pages alone, so that no part holds more than the most
    maps = "".join(f"<sitemap><loc>{escape(absolute(f'/sitemap/{n}.xml'))}</loc></sitemap>\n"
                   for n in range(0, parts + 1))
    return _xml(f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{maps}</sitemapindex>\n')


@bp.get("/sitemap/<int:n>.xml")
def sitemap_part(n: int) -> Response:
    if n == 0:
        return _urlset([], lead=True)
    entities = listings.pages(release(), (n - 1) * SITEMAP_SIZE, SITEMAP_SIZE) if n >= 1 else []
    if not entities:
        abort(404)
    return _urlset(entities)


LEAD_PAGES = ("/", "/movie/", "/person/")  # the home page and the listings (a carousel's summary page is /movie/)


def _urlset(entities: list[str], lead: bool = False) -> Response:
    urls = "".join(f"<url><loc>{escape(absolute(p))}</loc></url>\n" for p in (LEAD_PAGES if lead else ()))
    urls += "".join(f"<url><loc>{escape(address(e))}</loc></url>\n" for e in entities if local(e))
    return _xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n')


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """An OpenSearch description: browsers offer the site's name search in their address bar, with suggestions."""
    search = escape(absolute("/search"))
    title = site_title()
    short = title if len(title) <= 16 else title[:17].rsplit(" ", 1)[0] if " " in title[:17] else title[:16]
    body = ('<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">\n'
            f"<ShortName>{escape(short)}</ShortName>\n<Description>{escape(title)}: names and spellings"
            "</Description>\n<InputEncoding>UTF-8</InputEncoding>\n"
            f'<Image type="image/svg+xml">{escape(absolute("/static/favicon.svg"))}</Image>\n'
            f'<Url type="text/html" method="get" template="{search}?q={{searchTerms}}"/>\n'
            '<Url type="application/x-suggestions+json" method="get" '
            f'template="{search}?q={{searchTerms}}&amp;format=suggest"/>\n'
            f'<Url type="application/json" method="get" template="{search}?q={{searchTerms}}&amp;'
            'format=json"/>\n</OpenSearchDescription>\n')
    return _xml(body, "application/opensearchdescription+xml")


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers are welcome on the pages (the sitemap lists them), not on the query endpoints or the dumps."""
    body = ("User-agent: *\nDisallow: /sparql\nDisallow: /search\nDisallow: /download/\n"
            f"Sitemap: {absolute('/sitemap.xml')}\n")
    return Response(body, content_type="text/plain; charset=utf-8")


@bp.get("/favicon.ico")
def favicon() -> WerkzeugResponse:
    """Browsers ask for /favicon.ico whatever the page links to."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
