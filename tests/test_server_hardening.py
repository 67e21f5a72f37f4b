"""The server trusts nothing a request or a source file says about where links go: Host headers, script and data
IRIs, spreadsheet formulas; it serves only its own static files; it answers ranges and validators as HTTP says."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import BASE, REPO, expand
from kg import spliced

HOSTILE_HOST = "evil.example"
MIRROR = "https://mirror.example.net/"
FORMULAS = ["=1+2", "+1+2", "-1+2", "@SUM(1+2)"]  # names a spreadsheet would run as formulas
TRAP = f"""@prefix schema: <http://schema.org/> .
<{BASE}movie/trap> a schema:Movie ; schema:name "Trap" ;
  schema:sameAs <javascript:alert(1)> , <https://www.wikidata.org/wiki/Q1> ;
  schema:url <data:text/html;base64,PHNjcmlwdD5hbGVydCgyKTwvc2NyaXB0Pg==> ;
  schema:image <data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=> ;
  schema:subjectOf <javascript:alert(3)> ;
  schema:isBasedOn <JavaScript:alert(4)> .
<javascript:alert(3)> a schema:CreativeWork ; schema:name "Click me" .
""" + "".join(f'<{BASE}movie/formula-{n}> a schema:Movie ; schema:name "{name}" .\n'
              for n, name in enumerate(FORMULAS))
TRAP_GRAPHS = f"""@prefix schema: <http://schema.org/> .
<javascript:alert(5)> {{ <{BASE}movie/trap> schema:alternateName "Trapped" . }}
<{BASE}source/trap-graphs> {{ <javascript:alert(6)> a schema:CreativeWork ; schema:name "Refers to the trap" ;
  schema:about <{BASE}movie/trap> . }}
"""
SCRIPT_LINK = re.compile(r"""(href|src)\s*=\s*["']?\s*(javascript|data):""", re.IGNORECASE)
SCRIPT_URL = re.compile(r"^\s*(javascript|data):", re.IGNORECASE)


@pytest.fixture(scope="module")
def trap(tmp_path_factory):
    """A release whose RDF files link to javascript: and data: IRIs and name films with spreadsheet formulas."""
    from kg.build.pipeline import build
    from kg.config import load_config

    root = tmp_path_factory.mktemp("trap")
    shutil.copytree(REPO / "shapes", root / "shapes")
    (root / "data").mkdir()
    (root / "data" / "trap.ttl").write_text(TRAP, encoding="utf-8")
    (root / "data" / "trap-graphs.trig").write_text(TRAP_GRAPHS, encoding="utf-8")
    result = build(load_config(root))
    assert result.release_dir is not None, [str(f) for f in result.report.findings]
    return root


@pytest.fixture(scope="module")
def trap_client(trap: Path):
    from kg.config import load_config
    from server import create_app

    return create_app(replace(load_config(trap), cache_mb=0)).test_client()


@pytest.fixture(scope="module")
def uncached(released: Path):
    """The real data's app without the response cache: every request reaches the views."""
    from kg.config import load_config
    from server import create_app

    return create_app(replace(load_config(released), cache_mb=0)).test_client()


# ---- 1. absolute links use the configured public address, never the request's Host ----

HOST_RESOURCES = {
    "sitemap": ("/sitemap.xml", {}),
    "robots": ("/robots.txt", {}),
    "opensearch": ("/opensearch.xml", {}),
    "downloads-json": ("/download/", {"Accept": "application/json"}),
    "listing-csv": ("/movie/?format=csv", {}),
    "listing-csv-accept": ("/person/", {"Accept": "text/csv"}),
    "suggestions": ("/search?q=talju&format=suggest", {}),
    "service-description": ("/sparql", {"Accept": "text/turtle"}),
    "query-page": ("/sparql", {"Accept": "text/html"}),
    "home-markup": ("/", {"Accept": "text/html"}),
    "listing-markup": ("/movie/", {"Accept": "text/html"}),
}


@pytest.mark.parametrize("path, headers", HOST_RESOURCES.values(), ids=HOST_RESOURCES.keys())
def test_absolute_links_ignore_a_hostile_host_header(live, path, headers):
    r = requests.get(live.url + path, headers={"Host": HOSTILE_HOST, **headers}, timeout=30)
    assert r.status_code == 200
    assert HOSTILE_HOST not in r.text and BASE in r.text


@pytest.fixture(scope="module")
def mirrored(released: Path):
    """The real data's app published elsewhere than at its base IRI (the `public_url` setting)."""
    from kg.config import load_config
    from server import create_app

    return create_app(replace(load_config(released, public_url=MIRROR), cache_mb=0)).test_client()


@pytest.mark.parametrize("path, headers", HOST_RESOURCES.values(), ids=HOST_RESOURCES.keys())
def test_absolute_links_use_the_public_url_setting(mirrored, path, headers):
    text = mirrored.get(path, headers=headers).get_data(as_text=True)
    assert MIRROR in text and "localhost" not in text  # the test client's Host


@pytest.mark.parametrize("url", ["ftp://mirror.example.net/", "https://mirror.example.net",
                                 "https://www.example.org/kg/", "https://www.example.org/?a=/"])
def test_a_public_url_that_is_no_web_address_ending_in_a_slash_is_refused(released, url):
    from kg.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="public_url"):
        load_config(released, public_url=url)


# ---- 2. javascript: and data: IRIs from source files are never links ----

TRAP_PAGES = {"entity": "/movie/trap", "void": "/.well-known/void", "search": "/search?q=refers"}


@pytest.mark.parametrize("path", TRAP_PAGES.values(), ids=TRAP_PAGES.keys())
def test_pages_link_no_script_or_data_iri(trap_client, path):
    r = trap_client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert not SCRIPT_LINK.findall(r.get_data(as_text=True))


def test_script_and_data_iris_are_shown_as_text(trap_client):
    html = trap_client.get("/movie/trap", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "javascript:alert(1)" in html and "JavaScript:alert(4)" in html
    assert '<a href="https://www.wikidata.org/wiki/Q1">' in html  # web IRIs stay links


def _strings(data: Any) -> list[str]:
    """Every string in a JSON value (keys' values, list items)."""
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return [data] if isinstance(data, str) else []


def _blocks(html: str) -> list[Any]:
    return [json.loads(b) for b in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


@pytest.mark.parametrize("query", ["", "?format=embed"], ids=["page", "embed"])
def test_markup_carries_no_script_or_data_url(trap_client, query):
    text = trap_client.get("/movie/trap" + query, headers={"Accept": "text/html"}).get_data(as_text=True)
    (block,) = _blocks(text)
    assert block["sameAs"] == "https://www.wikidata.org/wiki/Q1"
    assert not [s for s in _strings(block) if SCRIPT_URL.match(s)]


def test_kg_embed_prints_no_script_or_data_url(trap, run_kg):
    code, output = run_kg(trap, "embed", "movie/trap")
    assert code == 0
    assert not [s for s in _strings(_blocks(output)) if SCRIPT_URL.match(s)]


def test_the_description_query_answers_the_markup_without_script_or_data_iris(trap):
    from kg.config import load_config
    from kg.jsonld import description_query
    from kg.serve.markup import markup
    from kg.serve.store import Releases

    release = Releases(load_config(trap).releases_path).current()
    answer = list(release.query(description_query(f"{BASE}movie/trap")))  # type: ignore[arg-type]
    assert not [t for t in answer if SCRIPT_URL.match(t.subject.value) or SCRIPT_URL.match(t.object.value)]
    # a film's markup is what the rich result reads: part of its description, never more
    assert expand(markup(release, f"{BASE}movie/trap")) <= {str(t) for t in answer}


# ---- 3. only the static files the pages use are served ----

def _referenced_static_files() -> list[str]:
    """The files under server/static/ that the templates and the OpenSearch description link to."""
    found = set()
    for template in (REPO / "server" / "templates").glob("*.html"):
        found |= set(re.findall(r"url_for\('static', filename='([^']+)'\)", template.read_text(encoding="utf-8")))
    return sorted(found | {"favicon.svg"})


@pytest.mark.parametrize("name", _referenced_static_files())
def test_static_files_the_pages_use_are_served(client, name):
    assert client.get(f"/static/{name}").status_code == 200


@pytest.mark.parametrize("path", ["/static/node_modules/@tarekraafat/autocomplete.js/docs/demo/index.html",
                                  "/static/node_modules/@zazuko/yasgui/package.json", "/static/package.json",
                                  "/static/package-lock.json", "/static/node_modules/@zazuko/yasgui/build/yasgui.min.js"])
def test_other_static_files_are_not_served(client, path):
    assert client.get(path).status_code == 404


# ---- 4. CSV listings cannot carry spreadsheet formulas ----

@pytest.mark.parametrize("name", FORMULAS)
def test_csv_listings_quote_cells_a_spreadsheet_would_run(trap_client, name):
    r = trap_client.get("/movie/", query_string={"format": "csv"})
    names = [row[1] for row in csv.reader(io.StringIO(r.get_data(as_text=True)))]
    assert "'" + name in names and name not in names


@pytest.mark.parametrize("text, cell", [("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"),
                                        ("\tx", "'\tx"), ("\rx", "'\rx"), ("Break Away", "Break Away"), ("", ""),
                                        ("a=b", "a=b")])
def test_a_csv_cell_is_made_inert(text, cell):
    from server.entities import csv_cell

    assert csv_cell(text) == cell


# ---- 5. kg serve says when it can be reached from other machines ----

@pytest.mark.parametrize("host, exposed", [("127.0.0.1", False), ("127.8.0.1", False), ("localhost", False),
                                           ("::1", False), ("[::1]", False), ("0.0.0.0", True), ("::", True),
                                           ("", True), ("192.168.1.20", True), ("films.example.org", True)])
def test_which_addresses_are_reachable_from_other_machines(host, exposed):
    from kg.cli import reachable_from_others

    assert reachable_from_others(host) is exposed


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False)])
def test_kg_serve_warns_when_other_machines_can_reach_it(released, monkeypatch, host, warned):
    from click.testing import CliRunner

    import kg.serve.run
    from kg.cli import cli

    served = []
    monkeypatch.setattr(kg.serve.run, "check_port", lambda host, port: None)  # nothing is bound
    monkeypatch.setattr(kg.serve.run, "serve", served.append)
    result = CliRunner().invoke(cli, ["--root", str(released), "serve", "--host", host])
    assert result.exit_code == 0 and len(served) == 1
    assert ("reachable from other machines" in result.stderr) is warned


@pytest.mark.parametrize("settings, warned", [({"KG_BASE_IRI": "https://www.example.org/kg/"}, True),
                                              ({"KG_BASE_IRI": "https://www.example.org/kg/",
                                                "KG_PUBLIC_URL": "https://kg.example.org/"}, False),
                                              ({}, False)])
def test_kg_serve_warns_when_its_links_would_leave_a_base_iri_with_a_path(released, monkeypatch, settings, warned):
    from click.testing import CliRunner

    import kg.serve.run
    from kg.cli import cli

    monkeypatch.setattr(kg.serve.run, "check_port", lambda host, port: None)  # nothing is bound
    monkeypatch.setattr(kg.serve.run, "serve", lambda config: None)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["--root", str(released), "serve"])
    assert result.exit_code == 0
    assert ("set public_url to the root address" in result.stderr) is warned


# ---- 6. the app's own 431 carries the headers every answer has ----

@pytest.mark.parametrize("header, value", [("X-Content-Type-Options", "nosniff"),
                                           ("Referrer-Policy", "strict-origin-when-cross-origin"),
                                           ("Access-Control-Allow-Origin", "*")])
def test_431_has_the_security_headers(client, header, value):
    r = client.get("/", headers={"X-Padding": "x" * 40_000})
    assert r.status_code == 431 and r.headers.get(header) == value


# ---- 7. ranges of downloads: an odd Range header is ignored, not refused ----

@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "bytes=abc", "bytes=0-1,,", "items=0-1", "bytes=-"])
def test_a_multi_range_or_malformed_range_gets_the_whole_file(client, released, header):
    whole = spliced.read_bytes(released / "var" / "current" / "kg.ttl")
    r = client.get("/download/kg.ttl", headers={"Range": header, "Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.data == whole


def test_a_single_range_still_gets_206(client, released):
    whole = spliced.read_bytes(released / "var" / "current" / "kg.ttl")
    r = client.get("/download/kg.ttl", headers={"Range": "bytes=5-14", "Accept-Encoding": "identity"})
    assert r.status_code == 206 and r.data == whole[5:15]


def test_an_unsatisfiable_single_range_still_gets_416(client):
    r = client.get("/download/kg.ttl", headers={"Range": "bytes=999999999-", "Accept-Encoding": "identity"})
    assert r.status_code == 416


@pytest.mark.parametrize("dump", ["kg.ttl", "kg.nq.gz"])
def test_an_unsatisfiable_range_is_told_the_length_it_may_ask_of(client, released, dump):
    r = client.get(f"/download/{dump}", headers={"Range": "bytes=999999999-", "Accept-Encoding": "identity"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{spliced.size(released / 'var' / 'current' / dump)}"


@pytest.mark.parametrize("dump", ["kg.ttl", "kg.nq.gz"])
def test_a_range_of_a_dump_the_client_has_already_is_not_modified(client, dump):
    etag = client.get(f"/download/{dump}", headers={"Accept-Encoding": "identity"}).headers["ETag"]
    r = client.get(f"/download/{dump}", headers={"Range": "bytes=5-14", "If-None-Match": etag,
                                                 "Accept-Encoding": "identity"})
    assert r.status_code == 304 and r.data == b""
    other = client.get(f"/download/{dump}", headers={"Range": "bytes=5-14", "If-None-Match": '"another"',
                                                     "Accept-Encoding": "identity"})
    assert other.status_code == 206 and len(other.data) == 10


# ---- 8. If-None-Match compares weakly ----

VALIDATED = {"page": ("/movie/break-away", {"Accept": "text/html"}),
             "document": ("/movie/break-away.ttl", {}),
             "graph": ("/store", {"Accept": "application/trig"}),
             "download": ("/download/kg.ttl", {})}


@pytest.mark.parametrize("path, headers", VALIDATED.values(), ids=VALIDATED.keys())
@pytest.mark.parametrize("form", ["weak", "star"])
def test_if_none_match_uses_weak_comparison(uncached, path, headers, form):
    etag = uncached.get(path, headers=headers).headers["ETag"]
    tag = "*" if form == "star" else "W/" + etag.removeprefix("W/")
    r = uncached.get(path, headers={**headers, "If-None-Match": tag})
    assert r.status_code == 304


@pytest.mark.parametrize("path, headers", VALIDATED.values(), ids=VALIDATED.keys())
def test_if_none_match_with_another_tag_gets_the_representation(uncached, path, headers):
    r = uncached.get(path, headers={**headers, "If-None-Match": 'W/"another", "other"'})
    assert r.status_code == 200


def test_a_cached_answer_honours_a_star_and_a_weak_if_none_match(app, flask_client):
    page = "/movie/break-away"
    first = flask_client.get(page, headers={"Accept": "text/turtle"})
    flask_client.get(page, headers={"Accept": "text/turtle"})  # now in the cache
    for validator in ("*", "W/" + first.headers["ETag"]):
        r = flask_client.get(page, headers={"Accept": "text/turtle", "If-None-Match": validator})
        assert r.status_code == 304, validator


def test_a_release_built_for_a_public_url_is_described_there_and_named_as_built(project, run_kg):
    from kg.config import load_config
    from server import create_app

    (project / "kg.toml").write_text(f'[kg]\npublic_url = "{MIRROR}"\ntitle = "Old Name"\n', encoding="utf-8")
    assert run_kg(project, "build")[0] == 0
    client = create_app(replace(load_config(project), cache_mb=0)).test_client()
    void = client.get("/.well-known/void", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
    assert f"<http://rdfs.org/ns/void#sparqlEndpoint> <{MIRROR}sparql>" in void
    assert f"<http://rdfs.org/ns/void#dataDump> <{MIRROR}download/kg.ttl>" in void
    (project / "kg.toml").write_text(f'[kg]\npublic_url = "{MIRROR}"\ntitle = "A New Name Of Some Length"\n',
                                     encoding="utf-8")
    assert run_kg(project, "build")[0] == 0  # the running server's settings are still the old ones
    home = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h1>A New Name Of Some Length</h1>" in home and "Old Name" not in home
    page = client.get("/movie/break-away", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<title>Break Away · A New Name Of Some Length</title>" in page
    assert '<a class="brand" href="/">A New Name Of Some Length</a>' in page
    opensearch = client.get("/opensearch.xml").get_data(as_text=True)
    assert "<ShortName>A New Name Of</ShortName>" in opensearch  # at most 16 characters, cut between words


def test_a_host_that_is_no_address_is_told_as_such_not_as_a_port_in_use():
    import kg.serve.run

    with pytest.raises(kg.serve.run.PortInUse) as refused:
        kg.serve.run.check_port("999.1.1.1", 18150)  # no such address: nothing is bound
    assert "'999.1.1.1' is no address of this machine" in str(refused.value)
    assert "another server" not in str(refused.value)
