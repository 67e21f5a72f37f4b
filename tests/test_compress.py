"""Answers gzip-compressed on the wire for clients that accept it (pages, documents, SPARQL results, scripts)."""

from __future__ import annotations

import gzip

import pytest

from kg import spliced
from server.compress import Compress, accepts_gzip

SELECT = "SELECT * WHERE { ?s ?p ?o }"
COMPRESSED = [
    ("/movie/break-away", {"Accept": "text/html"}),
    ("/movie/break-away", {"Accept": "text/turtle"}),
    ("/movie/break-away", {"Accept": "application/ld+json"}),
    ("/sparql?" + f"query={SELECT}", {"Accept": "application/sparql-results+json"}),
    ("/sparql?" + f"query={SELECT}", {"Accept": "text/csv"}),
    ("/movie/?size=50", {"Accept": "application/json"}),
    ("/.well-known/void", {"Accept": "text/turtle"}),
    ("/static/vendor/yasgui/yasgui.min.js", {}),
]


@pytest.mark.parametrize("path, headers", COMPRESSED, ids=lambda x: x if isinstance(x, str) else "")
def test_gzip_answer_is_the_same_answer(client, path, headers):
    plain = client.get(path, headers=headers)
    packed = client.get(path, headers={**headers, "Accept-Encoding": "gzip, deflate"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) and int(packed.headers["Content-Length"]) == len(packed.data)
    assert packed.headers["Content-Type"] == plain.headers["Content-Type"]


@pytest.mark.parametrize("path, headers", COMPRESSED[:3], ids=["html", "turtle", "jsonld"])
def test_both_answers_vary_on_the_encoding_and_keep_varying_on_accept(client, path, headers):
    for encoding in ("identity", "gzip"):
        vary = {v.strip() for v in client.get(path, headers={**headers, "Accept-Encoding": encoding})
                .headers["Vary"].split(",")}
        assert {"Accept", "Accept-Encoding"} <= vary


def test_the_compressed_answer_has_its_own_etag_and_revalidates(client):
    plain = client.get("/movie/break-away", headers={"Accept": "text/turtle"})
    packed = client.get("/movie/break-away", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get("/movie/break-away", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip",
                                                     "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == packed.headers["ETag"]
    changed = client.get("/movie/break-away", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip",
                                                       "If-None-Match": plain.headers["ETag"]})
    assert changed.status_code == 200  # the identity tag does not validate the gzip representation


@pytest.mark.parametrize("encoding", ["gzip;q=0", "br", "identity", "deflate"])
def test_no_gzip_for_clients_that_do_not_take_it(client, encoding):
    r = client.get("/movie/break-away", headers={"Accept": "text/turtle", "Accept-Encoding": encoding})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers and r.data.startswith(b"@prefix")


def test_small_answers_stay_plain(client):
    r = client.get("/sparql?query=ASK%20%7B%7D", headers={"Accept": "application/sparql-results+json",
                                                           "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers and b"boolean" in r.data


def test_range_requests_on_static_files_stay_plain(client):
    r = client.get("/static/style.css", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert r.status_code == 206 and "Content-Encoding" not in r.headers and len(r.data) == 10


def test_downloads_keep_their_own_precompressed_copies(client):
    r = client.get("/download/kg.ttl", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and r.headers["ETag"].endswith('-gzip"')
    assert gzip.decompress(r.data).startswith(b"@prefix")


@pytest.mark.parametrize("header, expected", [("gzip", True), ("GZIP;q=0.5", True), ("br, *", True),
                                              ("gzip;q=0", False), ("*;q=0", False), ("", False), (None, False),
                                              ("deflate, br", False), ("gzip;q=x", False)])
def test_accept_encoding_is_read_with_q_values(header, expected):
    assert accepts_gzip(header) is expected


def test_a_streamed_answer_of_unknown_length_is_compressed_as_it_streams():
    chunks = [b"x" * 5000, b"y" * 5000, b"z" * 5000]
    closed = []

    class Body:
        def __iter__(self):
            return iter(chunks)

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return Body()

    got = {}
    body = Compress(app)({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "HTTP_ACCEPT_ENCODING": "gzip"},
                         lambda status, headers, exc_info=None: got.update(headers=dict(headers)))
    data = b"".join(body)
    assert got["headers"]["Content-Encoding"] == "gzip" and "Content-Length" not in got["headers"]
    assert gzip.decompress(data) == b"".join(chunks) and closed == [True]


def test_a_head_request_gets_the_headers_of_the_compressed_get(client):
    headers = {"Accept": "text/turtle", "Accept-Encoding": "gzip"}
    got, head = client.get("/movie/break-away", headers=headers), client.head("/movie/break-away", headers=headers)
    assert head.status_code == 200 and head.data == b""
    for name in ("Content-Encoding", "Content-Length", "ETag", "Vary", "Content-Type"):
        assert head.headers[name] == got.headers[name], name


# ---- one reader of Accept-Encoding (werkzeug's) for the pages, the cache and the dumps ----

@pytest.mark.parametrize("header, expected", [("gzip;q=0, *", False), ("*, gzip;q=0", False), ("*;q=0, gzip", True),
                                              ("identity, gzip;q=0.5", True), ("gzip;q=0.000", False),
                                              ("x-gzip", True), ("x-gzip;q=0", False)])
def test_a_named_coding_outranks_the_wildcard(header, expected):
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("encoding, gzipped", [("gzip", True), ("gzip, deflate, br", True), ("*", True),
                                               ("gzip;q=0", False), ("*;q=0", False), ("identity", False),
                                               ("gzip;q=0, *", False), ("deflate", False), ("", False)])
def test_a_dump_is_gzipped_on_the_wire_only_for_a_client_that_takes_gzip(client, released, encoding, gzipped):
    """kg.ttl has a gzip copy for the wire: `gzip;q=0` refuses it (it once got it, being read as containing "gzip")."""
    r = client.get("/download/kg.ttl", headers={"Accept-Encoding": encoding})
    plain = spliced.read_bytes(released / "var" / "current" / "kg.ttl")
    assert r.status_code == 200 and "Accept-Encoding" in r.headers["Vary"]
    if gzipped:
        assert r.headers["Content-Encoding"] == "gzip" and gzip.decompress(r.data) == plain
    else:
        assert "Content-Encoding" not in r.headers and r.data == plain


def test_the_cache_keeps_apart_answers_for_clients_that_refuse_gzip(client):
    headers = {"Accept": "text/turtle"}
    packed = client.get("/movie/break-away", headers={**headers, "Accept-Encoding": "gzip"})
    refused = client.get("/movie/break-away", headers={**headers, "Accept-Encoding": "gzip;q=0, *"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in refused.headers and refused.data.startswith(b"@prefix")


def test_a_sparql_answer_to_a_post_is_compressed_too(client):
    plain = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "text/csv"})
    packed = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "text/csv", "Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.data) == plain.data
