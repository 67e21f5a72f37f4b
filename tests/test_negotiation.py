"""Content negotiation: q-values, wildcards, specificity, malformed headers."""

from __future__ import annotations

import pytest

from server.negotiation import HTML, Offer, by_key, choose, parse_accept

OFFERS = (Offer("html", (HTML, "application/xhtml+xml")), Offer("turtle", ("text/turtle",), ("ttl",)),
          Offer("jsonld", ("application/ld+json",), ("jsonld",)), Offer("ntriples", ("application/n-triples",)))


@pytest.mark.parametrize(("accept", "expected"), [
    ("text/turtle", "turtle"),
    ("application/ld+json", "jsonld"),
    ("text/turtle;q=0.9, application/ld+json", "jsonld"),
    ("text/turtle, application/ld+json;q=0.5", "turtle"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("*/*", "html"),
    ("", "html"),
    (None, "html"),
    ("text/*", "html"),
    ("application/*;q=0.2, text/turtle;q=0.1", "jsonld"),
    ("application/*", "jsonld"),
    ("application/xhtml+xml", "html"),
    ("text/turtle;q=0, */*", "html"),
    ("application/n-triples;charset=utf-8", "ntriples"),
    ("TEXT/TURTLE", "turtle"),
])
def test_choose(accept, expected):
    offer = choose(accept, OFFERS)
    assert offer is not None and offer.key == expected


@pytest.mark.parametrize("accept", ["image/png", "application/pdf, image/*", "text/turtle;q=0", "garbage"])
def test_nothing_acceptable(accept):
    assert choose(accept, OFFERS) is None


@pytest.mark.parametrize("accept", ["text/turtle;q=abc", ";;;,,,", "a" * 10000, "text/turtle;q=1;;q=", "*/*;q=-1"])
def test_malformed_accept_never_raises(accept):
    choose(accept, OFFERS)
    assert isinstance(parse_accept(accept), list)


def test_explicit_key_by_name_extension_or_media_type():
    assert by_key("ttl", OFFERS).key == "turtle"
    assert by_key("turtle", OFFERS).key == "turtle"
    assert by_key("application/ld+json", OFFERS).key == "jsonld"
    assert by_key("nope", OFFERS) is None


@pytest.mark.parametrize(("accept", "found"), [
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"', ("http://www.w3.org/ns/json-ld#expanded",)),
    ('application/ld+json; profile="a b", text/turtle;profile=c', ("a", "b")),
    ('application/ld+json;profile=a;q=0', ()),
    ("application/ld+json", ()),
    (None, ()),
])
def test_the_profiles_asked_of_a_media_type(accept, found):
    from kg.serve.negotiation import profiles

    assert profiles(accept, "application/ld+json") == found
