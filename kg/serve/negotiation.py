"""Accept headers read (q-values, wildcards) and the best of a list of offers chosen; offers asked for by name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HTML = "text/html"


@dataclass(frozen=True)
class Offer:
    """Something the server can send: its key (a format name) and media types (first is canonical)."""

    key: str
    media_types: tuple[str, ...]
    aliases: tuple[str, ...] = ()


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """Media ranges of an Accept header as (range, q, order); malformed parts are skipped, never fatal."""
    if not header or not header.strip():
        return [("*/*", 1.0, 0)]
    ranges = []
    for order, part in enumerate(header.split(",")[:64]):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media or len(media) > 128:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, val = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(val.strip())))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, order))
    return ranges


def profiles(header: str | None, media: str) -> tuple[str, ...]:
    """The profiles an Accept header asks of a media type (JSON-LD 1.1's `profile` parameter: space-separated
    IRIs), from its ranges of that type that it does not refuse (q=0)."""
    found: list[str] = []
    for part in (header or "").split(",")[:64]:
        pieces = [p.strip() for p in part.split(";")]
        if pieces[0].lower() != media:
            continue
        params = {name.strip().lower(): value.strip().strip('"') for name, _, value in
                  (p.partition("=") for p in pieces[1:])}
        if params.get("q", "1").strip() not in ("0", "0.0", "0.00", "0.000"):
            found += params.get("profile", "").split()
    return tuple(found)


MAX_LANGUAGES = 3  # a reader's languages a page looks for names in


def languages(header: str | None) -> tuple[str, ...]:
    """The languages of an Accept-Language header a page may name things in, best first, lower case: at most
    MAX_LANGUAGES, without q=0, wildcards or malformed tags ("ko-KR,ko;q=0.9,en;q=0.8" -> ("ko-kr", "ko", "en"))."""
    if not header:
        return ()
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*" or len(tag) > 35 or not all(p.isalnum() and p.isascii() for p in tag.split("-")):
            continue
        q = 1.0
        name, _, val = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(val.strip())
            except ValueError:
                q = 0.0
        if q > 0:
            ranked.append((-q, order, tag))
    return tuple(dict.fromkeys(tag for _, _, tag in sorted(ranked)))[:MAX_LANGUAGES]


def _quality(media: str, ranges: list[tuple[str, float, int]], sent: bool) -> tuple[float, int, int]:
    """q of the most specific range matching `media`, with specificity and position as tie-breakers.

    Wildcards match only the media type that is `sent`, never an alias: `application/*` must not get HTML
    because XHTML is an alias of it.
    """
    best: tuple[float, int, int] | None = None
    kind = media.split("/")[0]
    for rng, q, order in ranges:
        if rng == media:
            spec = 3
        elif rng == f"{kind}/*" and sent:
            spec = 2
        elif rng == "*/*" and sent:
            spec = 1
        else:
            continue
        if best is None or spec > best[1]:
            best = (q, spec, -order)
    return best or (0.0, 0, 0)


def choose(accept: str | None, offers: Sequence[Offer]) -> Offer | None:
    """The offer the client prefers, or None if it accepts none of them (-> 406).

    Ties go to the client's more specific range, then to its earlier entry, then to the server's order.
    """
    ranges = parse_accept(accept)
    scored = []
    for rank, offer in enumerate(offers):
        for n, media in enumerate(offer.media_types):
            q, spec, order = _quality(media, ranges, n == 0)
            if q > 0:
                scored.append((q, spec, order, -rank, offer))
    if not scored:
        return None
    return max(scored, key=lambda s: s[:4])[4]


def by_key(key: str, offers: Sequence[Offer]) -> Offer | None:
    """The offer named by an explicit ?format= or file suffix."""
    key = key.lower()
    return next((o for o in offers if o.key == key or key in o.aliases or key in o.media_types), None)
