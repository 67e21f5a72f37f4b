"""The web app through Flask's test client: pages, negotiation, SPARQL protocol, downloads, discovery."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
from html import unescape
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from conftest import BASE, REPO, entity_paths, rdflib_read, with_labels
from kg import spliced
from kg.formats import FORMATS, RESULT_FORMATS, named
from kg.layout import DUMPS

BREAK_AWAY = "/movie/break-away"
SELECT = "SELECT ?name WHERE { <https://films.example.org/movie/break-away> <http://schema.org/name> ?name }"


def _vary(r) -> set[str]:
    return {v.strip() for v in r.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_entity_by_accept(client, fmt):
    r = client.get(BREAK_AWAY, headers={"Accept": fmt.media_type})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == f"{fmt.media_type}; charset=utf-8"
    assert "Accept" in _vary(r)
    parsed = list(fmt.parse(r.data))
    assert any(t.subject.value == BASE + "movie/break-away" for t in parsed)


ALSO = [(fmt, also) for fmt in FORMATS for also in fmt.also]


@pytest.mark.parametrize("fmt, also", ALSO, ids=[a for _, a in ALSO])
def test_entity_by_every_media_type_its_format_answers_to(client, fmt, also):
    r = client.get(BREAK_AWAY, headers={"Accept": f"{also}, */*;q=0.1"})  # as rdflib's parse(format="n3") asks
    assert r.status_code == 200 and r.mimetype == fmt.media_type
    assert any(t.subject.value == BASE + "movie/break-away" for t in fmt.parse(r.data))


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_suffix_and_format_parameter_win_over_accept(client, fmt):
    by_suffix = client.get(f"{BREAK_AWAY}.{fmt.extension}", headers={"Accept": "text/html"})
    by_param = client.get(f"{BREAK_AWAY}?format={fmt.name}", headers={"Accept": "text/html"})
    assert by_suffix.status_code == by_param.status_code == 200
    assert by_suffix.mimetype == by_param.mimetype == fmt.media_type
    assert by_suffix.data == by_param.data


def test_browser_gets_html_with_embedded_json_ld(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    start = html.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(html[start:html.index("</script>", start)])
    assert data["@id"] == BASE + "movie/break-away"
    for variant in ("Talju", "탈주", "Sources disagree", "Lee Yeong-hoon", "Kang Jae-hun", "USD 700,000"):
        assert variant in html
    assert 'rel="alternate" type="text/turtle"' in html


def test_a_name_shows_its_language_as_the_source_wrote_it(flask_client):
    html = flask_client.get(BREAK_AWAY, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<span lang="ko-Latn" dir="auto">Talju</span> <small class="lang">ko-Latn</small>' in html  # data/ says ko-Latn


def test_person_page_links_to_films(client):
    html = client.get("/person/leesong-hee-il", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'href="{BREAK_AWAY}"' in html and 'href="/movie/no-regret"' in html
    assert "LEESONG Hee-il" in html and "Lee Song Hee-il" in html


def test_combined_accept_header_with_q_values(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "text/turtle;q=0.9, application/ld+json"})
    assert r.mimetype == "application/ld+json"


def test_406_lists_what_is_offered(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "image/png"})
    assert r.status_code == 406
    text = r.get_data(as_text=True)
    assert all(f.media_type in text for f in FORMATS)


def test_unknown_entity_is_404(client):
    assert client.get("/movie/no-such-film", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/nonsense/thing").status_code == 404


@pytest.mark.parametrize("path, shown", [("/movie/x%1b%5b2J", "/movie/x%1B[2J"), ("/movie/a%00b", "/movie/a%00b"),
                                         ("/movie/100%25-wolf", "/movie/100%25-wolf"), ("/movie/a%20b", "/movie/a%20b")])
def test_a_missing_entity_s_message_writes_the_path_encoded_never_a_control_character(client, path, shown):
    r = client.get(path, headers={"Accept": "text/plain"})
    text = r.get_data(as_text=True)
    assert r.status_code == 404 and f"No entity https://films.example.org{shown} in this release." in text
    assert not any(ord(c) < 32 and c != "\n" or ord(c) == 127 for c in text)


@pytest.mark.parametrize("path, target", [("/movie/Break%20Away", BREAK_AWAY), ("/movie/Break-Away.ttl",
                                                                                  BREAK_AWAY + ".ttl")])
def test_a_name_typed_for_a_key_redirects_to_the_entity_it_spells(client, path, target):
    r = client.get(path)
    assert r.status_code == 302 and r.headers["Location"] == target
    assert client.get(target).status_code == 200


def test_a_typed_name_s_redirect_keeps_the_query(client):
    r = client.get("/movie/Break%20Away?format=ttl")
    assert r.status_code == 302 and r.headers["Location"] == BREAK_AWAY + "?format=ttl"


def test_an_entity_whose_iri_is_no_key_is_served_not_redirected_to_its_spelling(project, write, run_kg):
    from server import create_app

    write(project, "odd.ttl", """
        @prefix schema: <http://schema.org/> .
        <https://films.example.org/movie/Break_Away> a schema:Movie ; schema:name "Another film" .
        """)
    code, output = run_kg(project, "build")
    assert code == 0, output
    r = create_app(root=project, cache_mb=0).test_client().get("/movie/Break_Away", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and "Another film" in r.get_data(as_text=True)


def test_a_name_typed_for_a_merged_key_redirects_to_the_entity_it_joined(project, write, run_kg):
    from server import create_app

    write(project, "decisions.yaml", "decisions:\n  - merge movie/crossing into movie/break-away\n")
    code, output = run_kg(project, "build")
    assert code == 0, output
    r = create_app(root=project, cache_mb=0).test_client().get("/movie/Crossing")
    assert r.status_code == 302 and r.headers["Location"] == BREAK_AWAY


def test_a_name_typed_for_a_key_of_no_entity_is_a_404(client):
    assert client.get("/movie/Nothing%20Like%20It").status_code == 404


def _named_with_years(project, write, run_kg):
    from server import create_app

    write(project, "years.yaml", "movies:\n  the-salt-road-2011: {name: The Salt Road, production_year: 2011}\n"
                                 "  echoes-1990: {name: Echoes, production_year: 1990}\n"
                                 "  echoes-2015: {name: Echoes, production_year: 2015}\n")
    code, output = run_kg(project, "build")
    assert code == 0, output
    return create_app(root=project, cache_mb=0).test_client()


def test_a_name_typed_for_a_key_that_has_a_year_redirects_to_the_one_entity_of_that_name(project, write, run_kg):
    client = _named_with_years(project, write, run_kg)
    r = client.get("/movie/The%20Salt%20Road")
    assert r.status_code == 302 and r.headers["Location"] == "/movie/the-salt-road-2011"
    r = client.get("/movie/the%20salt%20road.ttl?format=nt")
    assert r.status_code == 302 and r.headers["Location"] == "/movie/the-salt-road-2011.ttl?format=nt"


def test_a_key_shaped_name_of_no_entity_redirects_to_the_one_entity_of_that_name(project, write, run_kg):
    client = _named_with_years(project, write, run_kg)
    r = client.get("/movie/the-salt-road")  # the key a name makes, but the record's key has its year
    assert r.status_code == 302 and r.headers["Location"] == "/movie/the-salt-road-2011"
    r = client.get("/movie/echoes.jsonld")
    assert r.status_code == 302 and r.headers["Location"] == "/search?q=echoes&kind=movie&format=json"
    assert client.get("/movie/the-salt-road-2011").status_code == 200  # a key that is an entity's: itself
    assert client.get("/movie/the-salt-roads").status_code == 404


def test_a_name_typed_that_several_entities_have_redirects_to_their_search(project, write, run_kg):
    client = _named_with_years(project, write, run_kg)
    r = client.get("/movie/Echoes")
    assert r.status_code == 302 and r.headers["Location"] == "/search?q=Echoes&kind=movie"
    page = client.get(r.headers["Location"], headers={"Accept": "application/json"}).get_json()
    assert {h["iri"].rsplit("/", 1)[1] for h in page["results"]} == {"echoes-1990", "echoes-2015"}
    r = client.get("/movie/Echoes.ttl?page=1")  # a document asked for: the search's own document, JSON
    assert r.status_code == 302 and r.headers["Location"] == "/search?page=1&q=Echoes&kind=movie&format=json"
    assert {h["iri"].rsplit("/", 1)[1] for h in client.get(r.headers["Location"]).get_json()["results"]} == {
        "echoes-1990", "echoes-2015"}


def test_a_name_is_looked_up_only_under_a_kind_of_record(project, write, run_kg):
    client = _named_with_years(project, write, run_kg)
    assert client.get("/nothing/Echoes").status_code == 404
    assert client.get("/movie/" + "Echoes%20" * 40).status_code == 404  # longer than any key a name makes


def test_a_name_typed_under_another_kind_is_a_404(project, write, run_kg):
    client = _named_with_years(project, write, run_kg)
    assert client.get("/person/The%20Salt%20Road").status_code == 404


@pytest.mark.parametrize("path, target", [(BREAK_AWAY + "/", BREAK_AWAY), (BREAK_AWAY + "//?format=ttl",
                                                                            BREAK_AWAY + "?format=ttl")])
def test_a_trailing_slash_on_an_entity_redirects_to_it(client, path, target):
    r = client.get(path)
    assert r.status_code == 308 and r.headers["Location"] == target
    assert client.get(target).status_code == 200


@pytest.mark.parametrize("path, target", [("/movie", "/movie/"), ("/person?born=1970", "/person/?born=1970")])
def test_a_listing_without_its_slash_redirects_by_path_whatever_the_host_says(client, path, target):
    r = client.get(path, headers={"Host": "evil.example"})
    assert r.status_code == 308 and r.headers["Location"] == target
    assert client.get(target).status_code == 200


@pytest.mark.parametrize("path, target", [("/movie/%0D/", "/movie/%0D"), ("/movie/a%20b/?q=%0A", "/movie/a%20b?q=%0A"),
                                          ("/movie/%C3%A9t%C3%A9/", "/movie/%C3%A9t%C3%A9")])
def test_a_trailing_slash_redirect_keeps_odd_characters_encoded(client, path, target):
    r = client.get(path)
    assert r.status_code == 308 and r.headers["Location"] == target
    assert client.get(target).status_code == 404


@pytest.mark.parametrize("path", ["/", "/movie/", "/movie/?page=1&format=json", "/search?q=lee", "/download/",
                                  "/attention"])
def test_pages_of_the_release_carry_its_validators_and_are_304_while_it_stays(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["Last-Modified"]
    assert r.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert client.get(path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": r.headers["Last-Modified"]}).status_code == 304


def test_a_download_may_be_kept_by_a_cdn_as_a_page_is(client):
    r = client.get("/download/kg.ttl")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_etag_and_304(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "text/turtle"})
    etag = r.headers["ETag"]
    assert r.headers["Last-Modified"]
    again = client.get(BREAK_AWAY, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(BREAK_AWAY, headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200


def test_home_lists_films_and_people(client):
    html = client.get("/").get_data(as_text=True)
    assert "Break Away" in html and "Leesong Hee-il" in html
    assert "Jae-hoon" not in html  # characters are not people


@pytest.mark.parametrize(("film", "year"), [("Ballad of a Soldier", "(1960)"), ("Break Away", "(2008/2009)")])
def test_home_gives_each_film_its_year(client, film, year):
    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'>{film}</a> <span class="summary">{year}</span>' in html  # both years where sources disagree


def test_a_director_has_his_films_and_what_else_refers_to_him_apart(client):
    html = client.get("/person/leesong-hee-il", headers={"Accept": "text/html"}).get_data(as_text=True)
    films = re.search(r'<h2>Films</h2>\s*<p class="count">([\d,]+) films?</p>', html)
    others = re.search(r'<h2>Referenced by</h2>\s*<p class="count">([\d,]+) entit(?:y|ies)</p>', html)
    assert films and others and (int(films.group(1)), int(others.group(1))) == (2, 1)
    assert [li.split(" (")[0] for li in _referenced_by(client, "/person/leesong-hee-il")] == [
        "Break Away", "No Regret"]


def test_what_only_films_refer_to_lists_them_as_its_films(client):
    html = client.get("/person/lee-yeong-hoon", headers={"Accept": "text/html"}).get_data(as_text=True)
    count = re.search(r'<h2>Films</h2>\s*<p class="count">([\d,]+) films?</p>', html)
    assert count and int(count.group(1)) == len(_referenced_by(client, "/person/lee-yeong-hoon")) == 2
    assert "<h2>Referenced by</h2>" not in html


def _referenced_by(client, path: str) -> list[str]:
    html = client.get(path).get_data(as_text=True)
    section = re.search(r"<h2>(?:Referenced by|Films)</h2>.*?<ul>(.*?)</ul>", html, re.S)
    assert section, path
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip()
            for li in re.findall(r"<li>(.*?)</li>", section.group(1), re.S)]


def _labels(client, path: str) -> set[str]:
    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    return set(re.findall(r'<tr><td title="http://schema.org/[^"]+">([^<]+)</td>', html))


def test_the_preferred_name_heads_the_names_and_spellings(client):
    html = client.get("/person/leesong-hee-il", headers={"Accept": "text/html"}).get_data(as_text=True)
    table = html[html.index("<h2>Names and spellings</h2>"):]
    rows = re.findall(r"<tr><td><span[^>]*>([^<]+)</span>", table[:table.index("</table>")])
    assert rows[0] == "Leesong Hee-il" and {"LEESONG Hee-il", "Lee Song Hee-il"} <= set(rows[1:])


def _cast_header(html: str) -> list[str]:
    table = html[html.index("<h2>Cast</h2>"):]
    return re.findall(r"<th[^>]*>([^<]+)</th>", table[:table.index("</tr>")])


def test_a_cast_listed_without_billing_is_billed_in_the_order_written(client):
    html = client.get(BREAK_AWAY, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert _cast_header(html) == ["actor", "character", "billing", "according to"]
    cast = html[html.index("<h2>Cast</h2>"):]
    cast = cast[:cast.index("</table>")]
    assert cast.index("Lee Yeong-hoon") < cast.index("So Yu-jin") < cast.index("Jin Yi-han")


def test_a_billed_cast_shows_its_billing(crewed):
    import requests

    html = requests.get(f"{crewed.url}/movie/night-river-2001", headers={"Accept": "text/html"}, timeout=10).text
    assert _cast_header(html) == ["actor", "character", "billing", "according to"]
    assert re.search(r"Ann Lee</a></td>\s*<td>Mara .*?</td>\s*<td>1</td>", html)


def test_one_source_giving_two_years_is_not_sources_disagreeing(tmp_path):
    from kg.build.pipeline import build
    from kg.config import load_config
    from server import create_app

    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "films.json").write_text(json.dumps([
        {"title": "Hard Eight", "year": 1996, "href": "Hard_Eight_(film)"},
        {"title": "Hard Eight", "year": 1997, "href": "Hard_Eight_(film)"}]))
    (tmp_path / "data" / "films.mapping.yaml").write_text(
        "source: {key: films, name: The films, type: CreativeWork}\nfiles: films.json\nrecord: movie\n"
        "key: {distinct: href}\nfields:\n  name: title\n  production_year: year\n")
    assert build(load_config(tmp_path)).release_dir is not None
    client = create_app(load_config(tmp_path)).test_client()
    html = client.get("/movie/hard-eight-1996", headers={"Accept": "text/html"}).get_data(as_text=True)
    section = html[html.index('<section class="conflicts">'):]
    section = re.sub(r"<[^>]+>", "", section[:section.index("</section>")])
    assert "More than one value" in section and "Sources disagree" not in section
    assert re.search(r"production year:\s+1996 and 1997, all according to The films", section), section


def test_sources_that_disagree_are_said_to(client):
    html = client.get(BREAK_AWAY, headers={"Accept": "text/html"}).get_data(as_text=True)
    section = html[html.index('<section class="conflicts">'):]
    section = re.sub(r"<[^>]+>", "", section[:section.index("</section>")])
    assert "Sources disagree" in section and "2008 (huangsy, forum post) vs 2009 (Finecut, press kit)" in section, \
        section


def test_a_film_page_words_its_properties_as_a_films(client):
    assert {"screenplay", "release date", "production year", "running time", "language", "country"} <= _labels(
        client, BREAK_AWAY)


def test_a_news_article_page_words_its_properties_as_an_articles(client):
    labels = _labels(client, "/source/variety-news-2008-11-07")
    assert {"author", "date published"} <= labels and not labels & {"screenplay", "release date"}


def test_a_film_page_words_durations_and_amounts_for_readers(client):
    html = client.get(BREAK_AWAY, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<span title="PT1H49M">109 min</span>' in html
    assert "USD 700,000" in html and "currency: USD" not in html
    assert '<span title="P5D">5 days</span>' in html


def test_an_actors_page_names_the_film_and_the_character_not_the_role_node(client):
    assert _referenced_by(client, "/person/jin-yi-han") == ["Break Away (2008/2009) (cast: Min-jae / Park Min-jae)"]


def test_a_characters_page_says_who_plays_them(client):
    assert _referenced_by(client, "/character/break-away-min-jae") == [
        "Break Away (2008/2009) (character: played by Jin Yi-han)"]
    assert _referenced_by(client, "/character/break-away-dong-min") == ["Break Away (2008/2009) (character)"]


def test_an_entity_referring_in_several_roles_is_listed_once_with_each_director_first(client):
    refs = _referenced_by(client, "/person/leesong-hee-il")
    assert "Break Away (2008/2009) (director; screenplay; editor)" in refs and "No Regret (director)" in refs
    assert len(refs) == len(set(refs))


def test_a_search_hit_says_which_film_it_is(client):
    r = client.get("/search", query_string={"q": "break away"}, headers={"Accept": "application/json"})
    film = next(h for h in json.loads(r.data)["results"] if h["type"] == "Movie")
    assert film["summary"] == "2008/2009, Leesong Hee-il"  # both years the sources give, and the director
    html = client.get("/search", query_string={"q": "break away"}).get_data(as_text=True)
    assert '<span class="summary">2008/2009, Leesong Hee-il</span>' in html


def test_each_kinds_list_holds_what_its_path_holds(client):
    for kind in ("event", "work", "source", "person", "character"):
        items = json.loads(client.get(f"/{kind}/", query_string={"format": "json", "size": 1000}).data)["items"]
        assert items and all(item["page"].startswith(f"/{kind}/") for item in items), kind


def test_the_events_list_holds_festivals_and_screenings(client):
    items = json.loads(client.get("/event/?format=json").data)["items"]
    summaries = {item["name"]: item["summary"] for item in items}
    assert summaries["Pusan International Film Festival 2009"] == "Busan, South Korea"  # where
    assert summaries["Break Away at the Pusan International Film Festival 2009 (Korean Cinema Today)"] == "2009-10-14"


def test_a_page_says_when_it_lists_only_the_first_references(released, monkeypatch):
    from kg.config import load_config
    from kg.serve import views
    from server import create_app

    app = create_app(load_config(released, cache_mb=0, query_workers=1))
    try:
        page = app.test_client().get("/person/leesong-hee-il").get_data(as_text=True)
        assert "all of them in SPARQL" not in page
        monkeypatch.setattr(views, "MAX_INCOMING", 2)
        page = app.test_client().get("/person/leesong-hee-il").get_data(as_text=True)
    finally:
        app.extensions["kg.executors"].close()
    assert "These are the first 2 references" in page and "all of them in SPARQL" in page


def test_the_source_listing_names_each_source_document_and_not_the_release(client):
    items = json.loads(client.get("/source/", query_string={"format": "json"}).data)["items"]
    names = [item["name"] for item in items]
    assert "Review: Break Away" in names and "kg editorial decisions" in names
    assert not [item for item in items if "/release/" in item["iri"] or item["name"].startswith("http")]


def test_a_node_named_only_by_rdfs_label_is_called_by_it(client):
    refs = _referenced_by(client, "/source/forum-post")
    assert [r for r in refs if r.startswith("release ")], refs


def test_type_listing_as_json_for_scripts(client):
    r = client.get("/person/", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = json.loads(r.data)
    names = [item["name"] for item in body["items"]]
    assert "Suh Youngjoo" in names and names == sorted(names, key=str.lower)
    assert body["total"] == len(body["items"]) and body["page"] == body["pages"] == 1
    assert all(item["page"].startswith("/person/") for item in body["items"])
    leesong = next(item for item in body["items"] if item["name"] == "Leesong Hee-il")
    assert leesong["summary"] == "b. 1971, film director"


def test_type_listing_as_csv_has_the_rows_of_the_json(client):
    r = client.get("/person/?size=7&page=2", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    items = json.loads(client.get("/person/?size=7&page=2&format=json").data)["items"]
    assert [(row["iri"], row["name"], row["summary"]) for row in rows] == [
        (i["iri"], i["name"], i["summary"] or "") for i in items]
    assert all(urlsplit(row["page"]).path == i["page"] for row, i in zip(rows, items, strict=True))


def test_a_listing_page_links_its_json_and_csv_forms_keeping_the_page(client):
    html = client.get("/person/?size=5&page=2", headers={"Accept": "text/html"}).get_data(as_text=True)
    for fmt in ("json", "csv"):
        link = re.search(rf'href="([^"]*format={fmt}[^"]*)"', html).group(1).replace("&amp;", "&")
        assert "page=2" in link and "size=5" in link
        assert client.get(link).status_code == 200

def test_type_listing_pages_link_to_each_other(client):
    everyone = json.loads(client.get("/person/", query_string={"format": "json"}).data)
    seen, url, pages = [], "/person/?size=5&format=json", 0
    while url:
        r = client.get(url)
        body = json.loads(r.data)
        assert len(body["items"]) <= 5 and body["total"] == everyone["total"]
        assert (body["next"] is None) == ('rel="next"' not in r.headers.get("Link", ""))
        seen += [item["iri"] for item in body["items"]]
        url, pages = body["next"], pages + 1
    assert seen == [item["iri"] for item in everyone["items"]] and pages == -(-everyone["total"] // 5)


def test_type_listing_html_pager_keeps_the_page_size(client):
    html = client.get("/person/?size=5&page=2").get_data(as_text=True)
    assert 'rel="prev" href="/person/?page=1&amp;size=5"' in html
    assert 'rel="next" href="/person/?page=3&amp;size=5"' in html
    assert html.count("<li>") == 5


@pytest.mark.parametrize("path, title", [("/movie/", "Films"), ("/person/", "People"), ("/source/", "Sources")])
def test_a_listing_is_titled_as_readers_call_its_kind(client, path, title):
    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"<title>{title} · kg film knowledge graph</title>" in html and f"<h1>{title} <small>" in html

def test_type_listing_refuses_a_format_it_does_not_have(client):
    assert client.get("/person/?format=xml").status_code == 406


def test_entity_documents_are_readable_by_scripts_of_other_sites(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "text/turtle", "Origin": "https://app.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/person/", headers={"Accept": "application/json"}).headers["Access-Control-Allow-Origin"] == "*"


def test_type_listing_is_paged(client):
    r = client.get("/person/?page=1")
    assert r.status_code == 200 and "Suh Youngjoo" in r.get_data(as_text=True)


LISTING_FORMS = ["text/html", "application/json", "text/csv"]


@pytest.mark.parametrize("path", ["/movie/?", "/search?q=break&", "/attention?"])
@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "9" * 20])
def test_a_malformed_page_number_is_a_400_naming_it(client, path, value):
    r = client.get(f"{path}page={value}", headers={"Accept": "application/json"})
    assert r.status_code == 400 and f"'page' must be a whole number from 1 to 999,999,999, not '{value}'" in \
        r.get_data(as_text=True)


def test_a_page_size_past_the_most_a_page_holds_is_a_400_saying_the_most(client):
    r = client.get("/movie/?size=5000", headers={"Accept": "application/json"})
    assert r.status_code == 400 and "'size' must be a whole number from 1 to 1,000" in r.get_data(as_text=True)


@pytest.mark.parametrize("query, said", [
    ("q=break&year=2009", "'year' is no parameter of the search: it takes q, kind and page"),
    ("q=break&size=2", "'size' is no parameter of the search"),
    ("q=break&kind=movie&kind=person", "'kind' is given 2 times: give it once."),
])
def test_the_search_refuses_what_it_cannot_do_as_a_listing_does(client, query, said):
    r = client.get(f"/search?{query}", headers={"Accept": "application/json"})
    assert r.status_code == 400 and said in r.get_data(as_text=True)


def test_the_search_lets_a_campaign_s_tag_be_as_a_listing_does(client):
    assert client.get("/search?q=break&utm_source=newsletter", headers={"Accept": "application/json"}).status_code == 200


def test_a_search_page_past_the_last_is_a_404(client):
    r = client.get("/search?q=break&page=9", headers={"Accept": "application/json"})
    assert r.status_code == 404 and "no page 9 of these results" in r.get_data(as_text=True)


@pytest.mark.parametrize("accept", LISTING_FORMS)
@pytest.mark.parametrize("name, value", [("size", "abc"), ("size", "0"), ("year", "abcd"), ("year", "19")])
def test_a_malformed_listing_parameter_is_a_400_naming_it_in_every_form(client, accept, name, value):
    r = client.get(f"/movie/?{name}={value}", headers={"Accept": accept})
    assert r.status_code == 400 and f"'{name}'" in unescape(r.get_data(as_text=True))


@pytest.mark.parametrize("path, name, filters", [("/person/?year=1963", "year", "its filters are born"),
                                                 ("/movie/?born=1971", "born", "its filters are year, genre"),
                                                 ("/character/?genre=drama", "genre", "it has no filters"),
                                                 ("/person/?birth_year=1969", "birth_year", "its filters are born"),
                                                 ("/movie/?genres=drama", "genres", "its filters are year, genre"),
                                                 ("/movie/?Year=2009", "Year", "its filters are year, genre")])
def test_a_filter_the_kind_does_not_have_is_a_400_listing_its_filters(client, path, name, filters):
    r = client.get(path, headers={"Accept": "application/json"})
    assert r.status_code == 400 and f"no filter '{name}': {filters}" in r.get_data(as_text=True)


@pytest.mark.parametrize("twice", ["year=2008&year=2009", "page=1&page=2", "size=5&size=10"])
def test_a_filter_or_parameter_given_twice_is_a_400(client, twice):
    r = client.get(f"/movie/?{twice}", headers={"Accept": "application/json"})
    assert r.status_code == 400 and f"'{twice.split('=')[0]}' is given 2 times" in r.get_data(as_text=True)


@pytest.mark.parametrize("extra", ["utm_source=news", "_=1733500000", "fbclid=abc", "srsltid=AfmBOo", "mc_cid=1",
                                   "ref=home", "lang=ko"])
def test_a_tracking_parameter_leaves_a_listing_as_it_is(client, extra):
    plain = client.get("/movie/?year=2008&format=json").json
    assert client.get(f"/movie/?year=2008&format=json&{extra}").json["items"] == plain["items"]


@pytest.mark.parametrize("accept", LISTING_FORMS)
def test_a_page_past_the_last_is_a_404_saying_how_many_there_are(client, accept):
    pages = client.get("/person/?size=5&format=json").json["pages"]
    r = client.get(f"/person/?size=5&page={pages + 1}", headers={"Accept": accept})
    assert r.status_code == 404 and f"no page {pages + 1} of this list: it has {pages} pages" in r.get_data(as_text=True)


def test_a_listing_s_404_offers_no_search_for_its_kind(client):
    r = client.get("/person/?page=999", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "/search?q=person" not in r.get_data(as_text=True)


def _listing_links(client, path: str) -> set[str]:
    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    return {unescape(h) for h in re.findall(r'href="(/movie/\?[^"]*)"', html)}


def test_every_link_a_listing_page_makes_to_itself_answers(client):
    links = _listing_links(client, "/movie/?size=1&page=2")  # pages, forms, and each facet value
    narrowed = next(link for link in links if "genre=" in link)
    assert any("page=3" in link for link in links) and any("year=" in link for link in links)
    for link in links | _listing_links(client, narrowed):  # and, narrowed, the way back
        assert client.get(link, headers={"Accept": "text/html"}).status_code == 200, link


# ---- SPARQL protocol ----

@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_select_in_every_result_format(client, fmt):
    r = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": fmt.media_type})
    assert r.status_code == 200 and r.mimetype == fmt.media_type
    if fmt.name == "csv":  # CSV results are lossy by design: oxigraph does not parse them back
        assert list(csv.DictReader(io.StringIO(r.get_data(as_text=True)))) == [{"name": "Break Away"}]
        return
    rows = list(ox.parse_query_results(r.data, format=fmt.oxigraph))
    assert [row["name"].value for row in rows] == ["Break Away"]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets], ids=lambda f: f.name)
def test_construct_in_every_graph_format(client, fmt):
    q = f"CONSTRUCT WHERE {{ <{BASE}movie/break-away> <http://schema.org/director> ?d }}"
    r = client.get("/sparql", query_string={"query": q, "format": fmt.name})
    assert r.status_code == 200 and r.mimetype == fmt.media_type
    assert [t.object.value for t in fmt.parse(r.data)] == [BASE + "person/leesong-hee-il"]


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_output_parameter_names_the_result_format(client, fmt):
    r = client.get("/sparql", query_string={"query": SELECT, "output": fmt.name}, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == fmt.media_type


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("param", ["format", "output", "results"])
def test_an_unknown_result_format_is_a_400_naming_the_parameter_and_the_formats(client, method, param):
    fields = {"query": SELECT, param: "bogus"}
    r = client.get("/sparql", query_string=fields, headers={"Accept": "*/*"}) if method == "GET" else client.post(
        "/sparql", data=fields, headers={"Accept": "*/*"})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and f"'{param}' names no format kg knows: 'bogus'" in text
    assert all(f.name in text for f in RESULT_FORMATS) and all(f.name in text for f in FORMATS)


CONSTRUCT = f"CONSTRUCT WHERE {{ <{BASE}movie/break-away> <http://schema.org/director> ?d }}"


@pytest.mark.parametrize("query, name, media", [
    (SELECT, "turtle", "text/turtle"), ("ASK { ?s ?p ?o }", "jsonld", "application/ld+json"),
    (CONSTRUCT, "csv", "text/csv"), ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "trig", "application/trig")])
def test_a_format_named_that_does_not_fit_the_result_is_a_406_when_accept_does_not_fit_either(client, query, name,
                                                                                               media):
    named = client.get("/sparql", query_string={"query": query, "format": name}, headers={"Accept": media})
    accepted = client.get("/sparql", query_string={"query": query}, headers={"Accept": media})
    assert named.status_code == accepted.status_code == 406 and named.data == accepted.data
    assert "is available as" in named.get_data(as_text=True)


@pytest.mark.parametrize("query, name", [(SELECT, "turtle"), ("ASK { ?s ?p ?o }", "jsonld"), (CONSTRUCT, "csv")])
def test_a_format_named_that_does_not_fit_the_result_leaves_it_to_accept(client, query, name):
    # SPARQLWrapper names the format it was set to (format=, output=, results=) whatever the query, with Accept: */*
    r = client.get("/sparql", query_string={"query": query, "format": name, "output": name}, headers={"Accept": "*/*"})
    assert r.status_code == 200


@pytest.mark.parametrize(("accept", "page"), [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # a browser following a link
    ("*/*", False), ("", False), ("text/html;q=0.5, application/sparql-results+json", False)])
def test_a_query_url_opens_the_query_page_only_for_a_client_that_prefers_html(client, accept, page):
    r = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and (r.mimetype == "text/html") == page
    if page:
        assert "Break Away" in r.get_data(as_text=True) and 'data-run="1"' in r.get_data(as_text=True)


def test_the_query_page_without_a_query_runs_nothing_as_it_opens(client):
    r = client.get("/sparql", headers={"Accept": "text/html"})
    assert r.mimetype == "text/html" and 'id="yasgui"' in r.get_data(as_text=True)
    assert "data-run" not in r.get_data(as_text=True)


def test_post_form_and_direct_post(client):
    form = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "text/csv"})
    direct = client.post("/sparql", data=SELECT.encode(), content_type="application/sparql-query",
                         headers={"Accept": "text/csv"})
    assert form.status_code == direct.status_code == 200
    assert form.data == direct.data == b"name\r\nBreak Away\r\n"


def test_ask(client):
    r = client.get("/sparql", query_string={"query": "ASK { ?s a <http://schema.org/Movie> }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.json == {"head": {}, "boolean": True}


@pytest.mark.parametrize(("kwargs", "status", "text"), [
    ({"method": "GET", "query_string": {"query": "SELEC * WHERE"}}, 400, "syntax error"),
    ({"method": "POST", "data": "x=1", "content_type": "application/x-www-form-urlencoded"}, 400, "Missing 'query'"),
    ({"method": "GET", "query_string": [("query", SELECT), ("query", SELECT)]}, 400, "exactly one"),
    ({"method": "POST", "data": "x", "content_type": "text/plain"}, 415, "Unsupported"),
    ({"method": "POST", "data": {"update": "INSERT DATA { <a:a> <a:b> <a:c> }"}}, 403, "read-only"),
    ({"method": "POST", "data": b"DROP ALL", "content_type": "application/sparql-update"}, 403, "read-only"),
    ({"method": "GET", "query_string": {"query": "INSERT DATA { <a:a> <a:b> <a:c> }"}}, 403, "read-only"),
    ({"method": "GET", "query_string": {"query": "PREFIX x: <a:> DELETE WHERE { ?s ?p ?o }"}}, 403, "read-only"),
    ({"method": "POST", "data": b"\xff\xfe", "content_type": "application/sparql-query"}, 400, "UTF-8"),
    ({"method": "POST", "data": b"ASK {}", "content_type": "application/sparql-query",
      "query_string": {"query": "SELECT * {}"}}, 400, "in its body and a 'query' (or 'update') parameter in its URL"),
])
def test_protocol_errors(client, kwargs, status, text):
    r = client.open("/sparql", **kwargs)
    assert r.status_code == status
    assert text in r.get_data(as_text=True)


def test_syntax_error_names_the_position(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert "line 1, column " in r.get_data(as_text=True)


def test_syntax_error_shows_the_line_with_a_caret_and_no_grammar_sets(client):
    query = "SELECT ?s\nWHERE { ?s ?p ?o"  # the parser stops at the end of line 2, column 17
    text = client.get("/sparql", query_string={"query": query}).get_data(as_text=True)
    assert "line 2, column 17 (the end of the query)" in text
    assert "\n  WHERE { ?s ?p ?o\n" + " " * 18 + "^" in text
    assert "or a name" in text and "\\u{" not in text and "..=" not in text


def test_a_syntax_error_suggests_neither_service_which_the_endpoint_refuses_nor_lateral_past_sparql_1_1(client):
    text = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o . ?s ?p }"}).get_data(as_text=True)
    assert "(the end of the query): expected a name\n" in text and "SERVICE" not in text and "LATERAL" not in text


@pytest.mark.parametrize("query, said", [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT", "(LIMIT takes a whole number after it: LIMIT 10)"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 5 OFFSET ten", "(OFFSET takes a whole number after it: OFFSET 10)"),
])
def test_a_limit_or_offset_without_its_number_is_pointed_out(client, query, said):
    assert said in client.get("/sparql", query_string={"query": query}).get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "SELECT ?limit WHERE { ?limit ?p }",
    'SELECT * WHERE { ?f <http://schema.org/name> "Limitless" . ?f <http://ex.org/offset> ?o . ?f ?p }',
    "# limit the films\nSELECT * WHERE { ?f ?p ?o . ?f ?p }",
])
def test_limit_in_a_name_string_iri_or_comment_is_no_limit_without_its_number(client, query):
    text = client.get("/sparql", query_string={"query": query}).get_data(as_text=True)
    assert "SPARQL syntax error" in text and "takes a whole number" not in text


def test_the_parsers_own_words_among_what_it_expected_are_said_whole(client):
    text = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s"}).get_data(
        as_text=True)
    assert "(the end of the query): SELECT * is not authorized with GROUP BY\n" in text and "authorized, with" not in text


@pytest.mark.parametrize("clause", ["LIMIT", "OFFSET"])
def test_a_limit_too_large_for_the_parser_is_said_in_its_words(client, clause):
    r = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ ?s ?p ?o }} {clause} {10 ** 23}"})
    assert r.status_code == 400
    assert f"The query {clause.lower()} should be a non negative integer" in r.get_data(as_text=True)


@pytest.mark.parametrize("query", ["", "  \n "])
def test_an_empty_query_is_said_to_be_empty(client, query):
    r = client.get("/sparql", query_string={"query": query})
    assert r.status_code == 400 and "the query is empty" in r.get_data(as_text=True)


def test_named_graph_parameters(client):
    q = "SELECT ?y WHERE { ?m <http://schema.org/dateCreated> ?y }"
    r = client.get("/sparql", query_string={"query": q, "default-graph-uri": BASE + "source/forum-post"},
                   headers={"Accept": "text/csv"})
    assert r.data == b"y\r\n2008\r\n"
    q = "SELECT ?g WHERE { GRAPH ?g { ?m <http://schema.org/dateCreated> ?y } } ORDER BY ?g"
    r = client.get("/sparql", query_string={"query": q, "named-graph-uri": BASE + "source/finecut-press-kit"},
                   headers={"Accept": "text/csv"})
    graphs = r.get_data(as_text=True).splitlines()[1:]
    assert graphs and set(graphs) == {BASE + "source/finecut-press-kit"}


def test_a_dataset_graph_the_release_lacks_is_an_empty_graph(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                            "default-graph-uri": "http://example.org/not-here"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and json.loads(r.data)["results"]["bindings"] == []


def test_select_all_lists_variables_in_query_order(client):
    q = "SELECT * WHERE { ?movie <http://schema.org/duration> ?length ; <http://schema.org/name> ?a } LIMIT 1"
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert json.loads(r.data)["head"]["vars"] == ["movie", "length", "a"]


@pytest.mark.parametrize("before", ["# tip: SELECT * returns ?s first\n", "PREFIX e: <http://x/SELECT*?s>\n"])
def test_an_explicit_projection_keeps_its_order_whatever_a_comment_or_an_iri_says(client, before):
    q = before + "SELECT ?p ?o ?s WHERE { ?s ?p ?o } LIMIT 1"
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert json.loads(r.data)["head"]["vars"] == ["p", "o", "s"]


def test_select_all_lists_variables_in_query_order_not_as_a_comment_names_them(client):
    q = "# ?a first\nSELECT * WHERE { ?movie <http://schema.org/name> ?a } LIMIT 1"
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert json.loads(r.data)["head"]["vars"] == ["movie", "a"]


def test_an_explicit_projection_keeps_its_order_around_a_select_all_subquery(client):
    # a "?movie" inside an IRI comes first in the text: only a SELECT * may be reordered by appearance
    q = ("PREFIX e: <http://example.org/search?movie=1> "
         "SELECT ?name ?movie WHERE { { SELECT * WHERE { ?movie <http://schema.org/name> ?name } } } LIMIT 1")
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert json.loads(r.data)["head"]["vars"] == ["name", "movie"]


def test_relative_iris_in_a_query_resolve_against_the_base(client):
    r = client.get("/sparql", query_string={"query": "ASK { <movie/break-away> a <http://schema.org/Movie> }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert json.loads(r.data)["boolean"] is True


def test_tsv_writes_numbers_as_turtle_does(client):
    q = ("SELECT ?i ?d ?s WHERE { VALUES (?i ?d ?s) { (109 1.5 \"109\") } }")
    r = client.get("/sparql", query_string={"query": q}, headers={"Accept": "text/tab-separated-values"})
    assert r.get_data(as_text=True).splitlines()[1] == '109\t1.5\t"109"'


def test_service_description_by_default(client):
    r = client.get("/sparql", headers={"Accept": "*/*"})
    assert r.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=r.data, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef(BASE + "sparql")) in g  # where the site is published (base_iri)
    assert (None, sd.supportedLanguage, sd.SPARQL11Query) in g


def test_browser_gets_the_query_page(client):
    r = client.get("/sparql", headers={"Accept": "text/html"})
    html = r.get_data(as_text=True)
    assert r.mimetype == "text/html" and "Cast with the characters they play" in html
    assert "cdn" not in html.lower()


def _examples(client) -> dict[str, str]:
    html = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    return {title: unescape(query) for query, title in re.findall(r'data-query="([^"]*)">([^<]+)</a>', html)}


def _rows(client, query: str) -> list:
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return json.loads(r.data)["results"]["bindings"]


def test_every_example_on_the_query_page_answers(client):
    found = _examples(client)
    assert len(found) == 5 and "Cast with the characters they play" in found
    assert {title: bool(_rows(client, q)) for title, q in found.items()} == {title: True for title in found}


OTHER_BASE = "https://archive.example.net/"


@pytest.fixture(scope="module")
def night_rivers(tmp_path_factory):
    """A project of two films of one title with a cast but no characters or directors, under another base IRI."""
    from kg.build.pipeline import build
    from kg.config import load_config
    from server import create_app

    root = tmp_path_factory.mktemp("night-rivers")
    (root / "kg.toml").write_text(f'base_iri = "{OTHER_BASE}"\n')
    shutil.copytree(REPO / "shapes", root / "shapes")
    (root / "data").mkdir()
    (root / "data" / "films.json").write_text(json.dumps([
        {"title": "Night River", "year": 2001, "cast": ["Ann Lee", "Bo Kim"]},
        {"title": "Night River", "year": 2011, "cast": ["Ann Lee", "Cy Park"]}]))
    (root / "data" / "films.mapping.yaml").write_text(
        "source: {key: films, name: The films, type: CreativeWork}\nfiles: films.json\nrecord: movie\n"
        "fields:\n  name: title\n  production_year: year\n  actor: {name: cast}\n")
    assert build(load_config(root)).release_dir is not None
    return create_app(load_config(root)).test_client()


def test_the_examples_are_about_the_projects_own_films(night_rivers):
    found = _examples(night_rivers)
    assert "Films of a director" not in found and "Cast with the characters they play" not in found
    cast = _rows(night_rivers, found["Cast of a film"])
    assert {row["actorName"]["value"] for row in cast} in ({"Ann Lee", "Bo Kim"}, {"Ann Lee", "Cy Park"})  # one film
    assert _rows(night_rivers, found["Which source says what about a film"])
    assert f"<{OTHER_BASE}source/editorial>" in found["Where the sources disagree"]


def test_the_home_page_tells_apart_films_of_one_title(night_rivers):
    html = night_rivers.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert re.findall(r'>Night River</a> <span class="summary">([^<]+)</span>', html) == ["2001, with Ann Lee, Bo Kim",
                                                                                         "2011, with Ann Lee, Cy Park"]


@pytest.mark.parametrize("name, summary", [("Bo Kim", "actor, in Night River (2001)"),
                                           ("Ann Lee", "actor, 2 films, from Night River (2001)")])
def test_a_person_without_birth_or_job_is_told_apart_by_their_films(night_rivers, name, summary):
    hits = json.loads(night_rivers.get("/search", query_string={"q": name, "format": "json"}).data)["results"]
    assert [(h["name"], h["summary"]) for h in hits] == [(name, summary)]


@pytest.fixture(scope="module")
def river_crew(tmp_path_factory):
    """A project of two films whose people are credited as director, composer and actor."""
    from kg.build.pipeline import build
    from kg.config import load_config
    from server import create_app

    root = tmp_path_factory.mktemp("river-crew")
    shutil.copytree(REPO / "shapes", root / "shapes")
    (root / "data").mkdir()
    (root / "data" / "films.json").write_text(json.dumps([
        {"title": "Day River", "year": 2005, "director": ["Dee Moon"], "music": ["Dee Moon", "Eun Oh"],
         "cast": ["Eun Oh"]},
        {"title": "Dawn River", "year": 2007, "music": ["Eun Oh"]}]))
    (root / "data" / "films.mapping.yaml").write_text(
        "source: {key: films, name: The films, type: CreativeWork}\nfiles: films.json\nrecord: movie\n"
        "fields:\n  name: title\n  production_year: year\n  director: {name: director}\n"
        "  composer: {name: music}\n  actor: {name: cast}\n")
    assert build(load_config(root)).release_dir is not None
    return create_app(load_config(root)).test_client()


@pytest.mark.parametrize("name, summary", [("Dee Moon", "composer and director, in Day River (2005)"),
                                           ("Eun Oh", "composer and actor, 2 films, from Day River (2005)")])
def test_a_person_without_a_job_title_is_summed_up_by_what_the_films_credit_them_as(river_crew, name, summary):
    hits = json.loads(river_crew.get("/search", query_string={"q": name, "format": "json"}).data)["results"]
    assert [(h["name"], h["summary"]) for h in hits] == [(name, summary)]


def test_cors_on_endpoint_and_downloads(client):
    assert client.get("/sparql", query_string={"query": SELECT}).headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/download/kg.ttl").headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options("/sparql", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]


# ---- downloads ----

@pytest.mark.parametrize("dump", DUMPS, ids=lambda d: d.filename)
def test_download(client, released, dump):
    r = client.get(f"/download/{dump.filename}")
    assert r.status_code == 200
    assert r.mimetype == dump.media_type
    assert f'filename={dump.filename}' in r.headers["Content-Disposition"]
    path = released / "var" / "current" / dump.filename
    assert int(r.headers["Content-Length"]) == spliced.size(path)
    assert r.data == spliced.read_bytes(path)


def test_download_gzip_on_the_wire(client, released):
    r = client.get("/download/kg.ttl", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == spliced.read_bytes(released / "var" / "current" / "kg.ttl")


def test_download_range(client, released):
    r = client.get("/download/kg.ttl", headers={"Range": "bytes=10-19", "Accept-Encoding": "gzip"})
    assert r.status_code == 206 and "Content-Encoding" not in r.headers
    assert r.data == spliced.read_bytes(released / "var" / "current" / "kg.ttl")[10:20]


def test_download_etag(client):
    etag = client.get("/download/kg.trig").headers["ETag"]
    assert client.get("/download/kg.trig", headers={"If-None-Match": etag}).status_code == 304


def test_downloads_listed_as_json_for_scripts(client, released):
    r = client.get("/download/", headers={"Accept": "application/json"})
    assert r.mimetype == "application/json" and "Accept" in _vary(r)
    listed = json.loads(r.data)
    assert listed["release"] == json.loads((released / "var" / "current" / "release.json").read_text())["id"]
    assert [d["file"] for d in listed["downloads"]] == [d.filename for d in DUMPS]
    for entry, dump in zip(listed["downloads"], DUMPS, strict=True):
        got = client.get(urlsplit(entry["url"]).path)
        assert got.status_code == 200 and len(got.data) == entry["bytes"]
        assert got.mimetype == entry["media_type"] == dump.media_type
        assert entry["gzipped"] is dump.gzipped and entry["named_graphs"] is dump.format.datasets


def test_downloads_page_stays_html_for_browsers(client):
    r = client.get("/download/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.mimetype == "text/html" and "kg.nq.gz" in r.get_data(as_text=True)


def test_the_downloads_page_gives_sizes_as_people_read_them_and_exactly_on_hover(client):
    html = client.get("/download/", headers={"Accept": "text/html"}).get_data(as_text=True)
    listed = json.loads(client.get("/download/", headers={"Accept": "application/json"}).data)["downloads"]
    for entry in listed:
        size = entry["bytes"]
        shown = f"{size / 1000:.1f} KB" if size >= 1000 else f"{size} bytes"
        assert f'title="{size:,} bytes">{shown}</td>' in html


@pytest.mark.parametrize("size, text", [(999, "999 bytes"), (7509, "7.5 KB"), (36_630_846, "36.6 MB"),
                                        (2_100_000_000, "2.1 GB")])
def test_sizes_in_decimal_units(size, text):
    from server.downloads import filesize

    assert filesize(size) == text

@pytest.mark.parametrize("path", ["/download/../release.json", "/download/..%2f..%2fetc%2fpasswd", "/download/store",
                                  "/download/wire/kg.ttl.gz", "/download/release.json"])
def test_download_only_serves_dumps(client, path):
    assert client.get(path).status_code == 404


# ---- discovery ----

def test_void(client, released):
    r = client.get("/.well-known/void")
    assert r.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=r.data, format="turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    ds = rdflib.URIRef(BASE + "dataset")
    assert (ds, void.sparqlEndpoint, rdflib.URIRef(BASE + "sparql")) in g
    assert {str(o).rsplit("/", 1)[-1] for o in g.objects(ds, void.dataDump)} == {
        d.filename for d in DUMPS if d.one_document}
    meta = json.loads((released / "var" / "current" / "release.json").read_text())
    assert int(g.value(ds, void.triples)) == meta["counts"]["triples"]
    assert len(list(g.objects(ds, void.classPartition))) > 5 and len(list(g.objects(ds, void.propertyPartition))) > 20
    assert client.get("/.well-known/void", headers={"Accept": "application/ld+json"}).mimetype == "application/ld+json"



def test_every_void_data_dump_is_one_rdf_document(client):
    g = rdflib.Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    dumps = list(g.objects(rdflib.URIRef(BASE + "dataset"), rdflib.URIRef("http://rdfs.org/ns/void#dataDump")))
    assert len(dumps) >= 5
    for url in dumps:
        dump = next(d for d in DUMPS if d.filename == str(url).rsplit("/", 1)[-1])
        data = client.get("/download/" + dump.filename).data
        assert not dump.format.lines, dump.filename  # a document per line: what reads one RDF file fails on it
        parsed = rdflib_read(gzip.decompress(data) if dump.gzipped else data, dump.format, dataset=True)
        assert len(parsed) > 100, dump.filename


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def _void_graph(client) -> rdflib.Graph:
    return rdflib.Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "text/turtle"}).data,
                                format="turtle")


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "text/html"])
def test_a_browser_gets_the_dataset_description_as_a_page(client, accept):
    r = client.get("/.well-known/void", headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == "text/html" and "Accept" in _vary(r)
    assert "<h1>Dataset description</h1>" in r.get_data(as_text=True)


def test_the_description_page_shows_every_partition_with_its_count(client):
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).get_data(as_text=True)
    g, void = _void_graph(client), rdflib.Namespace("http://rdfs.org/ns/void#")
    shown = dict(re.findall(r'<td title="([^"]+)">[^<]*</td><td class="number"><a [^>]*>([\d,]+)</a>', html))
    expected = {str(g.value(p, void["class"]) or g.value(p, void.property)): int(g.value(p, void.entities)
                or g.value(p, void.triples)) for p in g.subjects(None, None) if "#class-" in p or "#property-" in p}
    assert {k: int(v.replace(",", "")) for k, v in shown.items()} == expected and len(expected) > 30


def test_the_description_page_names_every_named_graph(client):
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).get_data(as_text=True)
    section = html[html.index("<h2>Named graphs"):]
    shown = dict(re.findall(r'<li><a href="[^"]+" title="([^"]+)">([^<]+)</a>', section[:section.index("</ul>")]))
    graphs = {row["g"]["value"] for row in _rows(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert set(shown) == graphs and len(graphs) == 7
    assert shown[f"{BASE}source/variety-news-2008-11-07"] == "Fine Cut takes two S. Korean films"
    assert not [g for g, name in shown.items() if name == g]  # each has a name, kg's own graphs too


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets], ids=lambda f: f.name)
def test_the_description_page_links_each_rdf_form(client, fmt):
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).get_data(as_text=True)
    href = f"/.well-known/void?format={fmt.name}"
    assert f'<link rel="alternate" type="{fmt.media_type}" href="{href}">' in html and f'href="{href}"' in html
    r = client.get(href, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == fmt.media_type


def test_the_description_in_turtle_states_each_subject_once(client):
    text = client.get("/.well-known/void", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    subjects = [line.split(" ", 1)[0] for line in text.splitlines() if line.startswith("<")]
    assert subjects[0] == f"<{BASE}dataset>" and len(subjects) == len(set(subjects)) > 30


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets], ids=lambda f: f.name)
def test_the_root_gives_rdf_clients_the_dataset_description(client, fmt):
    r = client.get("/", headers={"Accept": fmt.media_type})
    assert r.status_code == 200 and r.mimetype == fmt.media_type and "Accept" in _vary(r)
    served = ox.Store()
    served.extend(ox.Quad(t.subject, t.predicate, t.object) for t in fmt.parse(r.data))
    void = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert isomorphic(rdflib.Graph().parse(data=served.dump(format=ox.RdfFormat.N_QUADS), format="nt"),
                      rdflib.Graph().parse(data=void.data, format="turtle"))


def test_the_root_gives_browsers_the_home_page_pointing_at_the_description(client):
    r = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.mimetype == "text/html" and "Accept" in _vary(r)
    assert "</.well-known/void>" in r.headers["Link"] and 'rel="describedby"' in r.headers["Link"]


def test_the_root_refuses_what_it_cannot_give(client):
    r = client.get("/", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.get_data(as_text=True)

def test_sitemap_lists_every_entity_page(client):
    r = client.get("/sitemap.xml")
    assert r.mimetype == "application/xml"
    text = r.get_data(as_text=True)
    assert f"<loc>{BASE}movie/break-away</loc>" in text  # where the site is published (base_iri), not the Host
    assert f"<loc>{BASE}person/leesong-hee-il</loc>" in text
    assert "#" not in text


def test_sitemap_leads_with_the_home_page_and_the_listings(client):
    locs = re.findall(r"<loc>([^<]+)</loc>", client.get("/sitemap.xml").get_data(as_text=True))
    assert locs[:3] == [BASE, f"{BASE}movie/", f"{BASE}person/"] and all(
        client.get(loc[len(BASE) - 1:]).status_code == 200 for loc in locs[:3])


def test_security_headers_on_pages(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "text/html"})
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"]


@pytest.mark.parametrize("iri", ["movie/break-away", "person/leesong-hee-il"])
@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets], ids=lambda f: f.name)
def test_negotiated_description_is_the_releases(client, released, iri, fmt):
    """The served graph equals the release's statements about the entity's document."""
    release = rdflib.Graph().parse(data=spliced.read_bytes(released / "var" / "current" / "kg.ttl"), format="turtle")
    subject = BASE + iri
    expected = rdflib.Graph()
    for t in release:
        if str(t[0]) == subject or str(t[0]).startswith(subject + "#"):
            expected.add(t)
    r = client.get(f"/{iri}", headers={"Accept": fmt.media_type})
    served = rdflib_read(r.data, fmt)
    assert isomorphic(served, with_labels(expected, release))  # the nodes it points to named, in every format


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.datasets and f.name != "jsonld"], ids=lambda f: f.name)
def test_every_format_of_an_entity_gives_the_graph_json_ld_gives(client, fmt):
    jsonld = rdflib_read(client.get(BREAK_AWAY, headers={"Accept": "application/ld+json"}).data,
                         next(f for f in FORMATS if f.name == "jsonld"))
    served = rdflib_read(client.get(BREAK_AWAY, headers={"Accept": fmt.media_type}).data, fmt)
    assert len(served) > 20 and isomorphic(served, jsonld)


EXPANDED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"'


def test_json_ld_in_expanded_form_needs_no_context_and_gives_the_turtle_graph(client):
    r = client.get(BREAK_AWAY, headers={"Accept": EXPANDED})
    assert r.status_code == 200 and 'profile="http://www.w3.org/ns/json-ld#expanded"' in r.headers["Content-Type"]
    assert "@context" not in r.get_data(as_text=True)
    expanded = rdflib.Graph().parse(data=r.data, format="json-ld")  # no context to fetch: read offline
    turtle = rdflib.Graph().parse(data=client.get(BREAK_AWAY, headers={"Accept": "text/turtle"}).data, format="turtle")
    assert len(expanded) > 20 and isomorphic(expanded, turtle)


def test_expanded_json_ld_has_an_etag_of_its_own(client):
    compacted = client.get(BREAK_AWAY, headers={"Accept": "application/ld+json"}).headers["ETag"]
    r = client.get(BREAK_AWAY, headers={"Accept": EXPANDED, "If-None-Match": compacted})
    assert r.status_code == 200 and r.headers["ETag"] != compacted


def test_expanded_json_ld_names_no_content_location_that_would_answer_compacted(client):
    compacted = client.get(BREAK_AWAY, headers={"Accept": "application/ld+json"})
    assert compacted.headers["Content-Location"].endswith(".jsonld")
    r = client.get(BREAK_AWAY, headers={"Accept": EXPANDED})
    assert r.status_code == 200 and "Content-Location" not in r.headers
    again = client.get(BREAK_AWAY, headers={"Accept": EXPANDED, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and "Content-Location" not in again.headers


def test_query_editor_is_served_from_the_projects_own_files(client):
    html = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<script src="/static/vendor/yasgui/yasgui.min.js"></script>' in html
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)  # nothing from a CDN
    r = client.get("/static/vendor/yasgui/yasgui.min.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript" and len(r.data) > 100_000
    assert client.get("/static/vendor/yasgui/package.json").status_code == 404


def test_repeated_requests_are_answered_from_the_cache(app, flask_client):
    client = flask_client
    cache = app.extensions["kg.cache"]
    url = "/sparql?query=" + SELECT.replace(" ", "%20")
    first = client.get(url, headers={"Accept": "text/csv"})
    hits = cache.hits
    second = client.get(url, headers={"Accept": "text/csv"})
    assert cache.hits == hits + 1
    assert second.data == first.data and second.headers["Content-Type"] == first.headers["Content-Type"]
    other = client.get(url, headers={"Accept": "application/sparql-results+json"})
    assert other.mimetype == "application/sparql-results+json"


def test_cached_entity_honours_if_none_match(app, flask_client):
    client = flask_client
    client.get(BREAK_AWAY, headers={"Accept": "text/turtle"})
    r = client.get(BREAK_AWAY, headers={"Accept": "text/turtle"})
    hits = app.extensions["kg.cache"].hits
    again = client.get(BREAK_AWAY, headers={"Accept": "text/turtle", "If-None-Match": r.headers["ETag"]})
    assert app.extensions["kg.cache"].hits == hits + 1 and again.status_code == 304


def test_head_request(client):
    r = client.head(BREAK_AWAY, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.data == b""


def test_every_minted_iri_resolves(client, released):
    store = ox.Store.read_only(str(released / "var" / "current" / "store"))
    minted = set()
    for q in store:
        for term in (q.subject, q.object, q.graph_name):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE):
                minted.add(term.value.split("#")[0])
    assert len(minted) > 50 and BASE + "vocab" in minted and BASE + "dataset" in minted
    for iri in sorted(minted):
        r = client.get("/" + iri[len(BASE):], headers={"Accept": "text/turtle"})
        assert r.status_code == 200, iri


def test_trig_of_an_entity_writes_each_graph_in_one_block(client):
    text = client.get("/movie/break-away.trig").get_data(as_text=True)
    heads = re.findall(r"^(<[^>]+>) \{", text, re.MULTILINE)
    assert len(heads) >= 3 and len(heads) == len(set(heads))


def test_a_client_asking_for_plain_json_gets_json_ld(client):
    r = client.get(BREAK_AWAY, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    graph = rdflib_read(r.data, named("jsonld"))
    assert (rdflib.URIRef(BASE + "movie/break-away"), rdflib.URIRef("http://schema.org/name"),
            rdflib.Literal("Break Away")) in graph


def test_a_select_asked_for_as_plain_json_still_gets_sparql_json_results(client):
    r = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json["results"]["bindings"][0]["name"]["value"] == "Break Away"


def _references(page: str) -> tuple[list[int], list[str]]:
    """The reference numbers a page cites, and the sources it lists under Sources (as IRIs, in order)."""
    cited = [int(n) for n in re.findall(r'href="#ref-(\d+)"', page)]
    listed = re.findall(r'<li id="ref-(\d+)"><a href="([^"]+)"', page)
    assert [int(n) for n, _ in listed] == list(range(1, len(listed) + 1))
    return cited, [BASE + href.lstrip("/") for _, href in listed]


@pytest.mark.parametrize("path", entity_paths())
def test_an_entity_page_cites_each_source_of_its_facts_and_lists_it_once(flask_client, path):
    cited, listed = _references(flask_client.get(f"/{path}").get_data(as_text=True))
    def graphs(condition: str) -> set[str]:
        q = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{BASE}{path}> ?p ?o }} FILTER(!CONTAINS(STR(?g), '/graph/') " \
            f"{condition}) }}"
        return {row["g"]["value"] for row in flask_client.get("/sparql", query_string={"query": q}, headers={
            "Accept": "application/sparql-results+json"}).json["results"]["bindings"]}

    facts = graphs("&& ?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>") - {BASE + "source/editorial"}
    assert set(cited) == set(range(1, len(listed) + 1)) and len(listed) == len(set(listed))
    assert listed and facts <= set(listed) <= graphs("")


def test_a_fact_cites_the_sources_that_state_it(client):
    page = client.get(BREAK_AWAY).get_data(as_text=True)
    _, listed = _references(page)
    rows = re.findall(r'<td title="http://schema.org/dateCreated">[^<]*</td>\n<td><span>(\d+)</span></td>\n'
                      r'<td class="cites">(.*?)</td>',
                      page)
    years = {year: {listed[int(n) - 1] for n in re.findall(r"#ref-(\d+)", refs)} for year, refs in rows}
    assert years == {"2008": {BASE + "source/forum-post"}, "2009": {BASE + "source/finecut-press-kit"}}


def test_the_values_of_a_property_from_the_same_sources_share_a_row(client):
    page = client.get(BREAK_AWAY).get_data(as_text=True)
    rows = re.findall(r'<tr><td title="http://schema.org/character">.*?</tr>', page, re.S)
    assert len(rows) == 1
    assert re.findall(r'href="/character/break-away-([a-z-]+)"', rows[0]) == ["dong-min", "jae-hoon", "min-jae",
                                                                            "so-young"]


def test_long_texts_keep_a_row_each(client):
    page = client.get(BREAK_AWAY).get_data(as_text=True)
    assert len(re.findall(r'<tr><td title="http://schema.org/description">', page)) == 3

def _search(client, text: str) -> list[dict[str, str]]:
    r = client.get("/search", query_string={"q": text}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.json["results"]


def test_search_finds_an_entity_by_any_of_its_spellings(client):
    hits = _search(client, "lee song")  # the Variety spelling of Leesong Hee-il
    assert [(h["iri"], h["matched"]) for h in hits] == [(BASE + "person/leesong-hee-il", "Lee Song")]


def test_search_finds_a_film_by_its_korean_title(client):
    hits = _search(client, "탈주")  # the film, then the forum post whose title quotes it
    assert [h["iri"] for h in hits] == [BASE + "movie/break-away", BASE + "source/forum-post"]


@pytest.mark.parametrize(("text", "iri", "matched"), [
    ("jae hoon", "character/break-away-jae-hoon", "Jae-hoon"),  # a hyphen is a space
    ("Yeong hoon", "person/lee-yeong-hoon", "Lee Yeong-hoon"),
    ("leesong hee il", "person/leesong-hee-il", "Leesong Hee-il"),
])
def test_search_reads_punctuation_as_spaces(client, text, iri, matched):
    assert (BASE + iri, matched) in [(h["iri"], h["matched"]) for h in _search(client, text)]


def test_search_puts_the_exact_name_first(client):
    hits = _search(client, "BREAK away")
    assert hits[0]["iri"] == BASE + "movie/break-away" and len(hits) > 1  # sources titled "... Break Away" follow


@pytest.mark.parametrize("text", ['") } DROP ALL #', "\\", "'''", "a\nb", "}}}"])
def test_search_text_is_never_taken_as_query_syntax(client, text):
    assert _search(client, text) == []


def test_a_search_page_lists_its_hits_as_links(client):
    page = client.get("/search", query_string={"q": "talju"}).get_data(as_text=True)
    assert '<a href="/movie/break-away">Break Away</a>' in page and "Talju" in page


def test_a_search_of_one_letter_finds_only_names_that_are_it(client):
    r = client.get("/search", query_string={"q": "b"})  # every film here has a b in it; none is called B
    assert r.status_code == 200 and "0 entities with a name or spelling that is <q>b</q>" in r.get_data(as_text=True)


def test_a_blank_search_asks_for_a_name(client):
    r = client.get("/search", query_string={"q": "  "})
    assert r.status_code == 200 and "Type a name, or part of one, to search for." in r.get_data(as_text=True)


def test_cors_on_search_so_another_site_can_suggest_names(client):
    r = client.get("/search", query_string={"q": "talju"}, headers={"Accept": "application/json",
                                                                    "Origin": "https://app.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("how", [{"query_string": {"q": "talju", "format": "suggest"}},
                                 {"query_string": {"q": "talju"},
                                  "headers": {"Accept": "application/x-suggestions+json"}}], ids=["format", "accept"])
def test_search_suggestions_for_a_browsers_search_box(client, how):
    r = client.get("/search", **how)
    assert r.status_code == 200 and r.mimetype == "application/x-suggestions+json"
    query, names, descriptions, urls = json.loads(r.data)
    assert query == "talju" and names == ["Break Away"] and descriptions[0].startswith("2008")
    assert urlsplit(urls[0]).path == BREAK_AWAY


def test_the_opensearch_description_points_at_the_search(client):
    from xml.etree import ElementTree

    r = client.get("/opensearch.xml")
    assert r.mimetype == "application/opensearchdescription+xml"
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    root = ElementTree.fromstring(r.data)
    assert 0 < len(root.findtext("os:ShortName", namespaces=ns)) <= 16
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    suggest = templates["application/x-suggestions+json"].replace("{searchTerms}", "talju")
    assert json.loads(client.get(urlsplit(suggest).path + "?" + urlsplit(suggest).query).data)[1] == ["Break Away"]
    page = templates["text/html"].replace("{searchTerms}", "talju")
    assert "Break Away" in client.get(urlsplit(page).path + "?" + urlsplit(page).query).get_data(as_text=True)


def test_every_page_tells_the_browser_where_the_search_is(client):
    page = client.get("/movie/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<link rel="search" type="application/opensearchdescription+xml"' in page and 'href="/opensearch.xml"' in page

def test_a_missing_entity_page_offers_a_search_for_its_words(client):
    r = client.get("/movie/brake-away", headers={"Accept": "text/html"})
    page = r.get_data(as_text=True)
    assert r.status_code == 404 and "Not Found" in page and 'href="/search?q=brake%20away"' in page


@pytest.mark.parametrize("query", [SELECT, None], ids=["query", "service-description"])
def test_head_on_the_endpoint_answers_as_get_does_without_a_body(client, query):
    params = {"query": query} if query else {}
    get = client.get("/sparql", query_string=params, headers={"Accept": "text/turtle, application/sparql-results+json"})
    head = client.head("/sparql", query_string=params,
                       headers={"Accept": "text/turtle, application/sparql-results+json"})
    assert head.status_code == get.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"] and head.data == b""


def test_a_post_without_a_body_reads_the_query_from_the_url(client):
    r = client.post("/sparql?" + urlencode({"query": SELECT}), headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.data == b"name\r\nBreak Away\r\n"


def test_a_post_with_an_unknown_body_type_is_still_refused(client):
    r = client.post("/sparql?" + urlencode({"query": SELECT}), data=b"x", content_type="text/plain")
    assert r.status_code == 415


def test_robots_txt_points_crawlers_at_the_sitemap_and_away_from_the_endpoints(client):
    r = client.get("/robots.txt")
    lines = r.get_data(as_text=True).splitlines()
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert {"Disallow: /sparql", "Disallow: /search", "Disallow: /download/"} <= set(lines)
    sitemap = next(line.split(" ", 1)[1] for line in lines if line.startswith("Sitemap: "))
    path = "/" + sitemap.split("/", 3)[3]  # http://host:port/sitemap.xml -> /sitemap.xml
    assert path == "/sitemap.xml" and client.get(path).status_code == 200


def test_favicon_ico_leads_to_the_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["Location"].endswith("/static/favicon.svg")


def test_the_home_page_describes_the_dataset_for_dataset_search(client):
    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1
    data = json.loads(scripts[0])
    assert data["@type"] == "Dataset" and data["name"] == "kg film knowledge graph" in html
    assert data["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert 50 <= len(data["description"]) <= 5000  # what dataset search asks of a description
    served = {d["contentUrl"].rsplit("/", 1)[-1]: d["encodingFormat"] for d in data["distribution"]}
    assert served == {d.filename: d.media_type for d in DUMPS}
    assert f"downloads in {len(DUMPS)} RDF files" in data["description"]  # as many as it lists
    for d in data["distribution"]:
        path = d["contentUrl"].split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200


@pytest.mark.parametrize("path", ["/movie/break-away", "/movie/break-away.jsonld"])
def test_an_entity_is_kept_by_a_cdn_and_asked_again_by_a_browser(client, path):
    cache = client.get(path, headers={"Accept": "text/html"}).headers.get("Cache-Control", "")
    assert cache == "public, max-age=0, s-maxage=60"  # no stale-while-revalidate: a browser never shows an old page


@pytest.mark.parametrize("accept", ["text/html", "*/*", "text/turtle"])
def test_a_missing_entity_s_answer_varies_by_accept(client, accept):
    r = client.get("/movie/nothing-here", headers={"Accept": accept})
    vary = {v.strip().lower() for v in r.headers.get("Vary", "").split(",")}
    assert r.status_code == 404 and "accept" in vary  # an HTML page for a browser, text for the others


@pytest.mark.parametrize("kind", ["release", "dataset"])
def test_the_release_and_the_dataset_pages_show_their_facts(client, released, kind):
    release_id = json.loads((released / "var" / "current" / "release.json").read_text(encoding="utf-8"))["id"]
    path = f"/release/{release_id}" if kind == "release" else "/dataset"
    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h2>Facts</h2>" in html and ("was derived from" in html if kind == "release" else "license" in html)


@pytest.mark.parametrize("size", [3, 10])
def test_no_sitemap_holds_more_than_the_most_the_lead_pages_counted(released, monkeypatch, size):
    import server.discovery
    from server import create_app

    monkeypatch.setattr(server.discovery, "SITEMAP_SIZE", size)
    client = create_app(root=released, cache_mb=0).test_client()  # no answer kept from another test
    index = client.get("/sitemap.xml").get_data(as_text=True)
    parts = [loc.split("/", 3)[3] for loc in re.findall(r"<sitemap><loc>([^<]+)</loc>", index)]
    urlsets = [client.get("/" + p).get_data(as_text=True) for p in parts] or [index]
    counts = [s.count("<url>") for s in urlsets]
    assert max(counts) <= size and sum(counts) == len(set(re.findall(r"<loc>([^<]+)</loc>", "".join(urlsets))))
    assert f"<loc>{BASE}movie/</loc>" in "".join(urlsets)


def test_a_character_is_told_apart_by_its_film_in_listings(client):
    html = client.get("/character/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert re.search(r'href="/character/break-away-jae-hoon">[^<]+</a>\s*<span class="summary">in Break Away', html)


@pytest.mark.parametrize("path, status", [("/movie/no-such-film", 404), ("/movie/?genres=1", 400),
                                          ("/movie/?size=abc", 400)])
def test_an_error_asked_for_as_json_is_json(client, path, status):
    r = client.get(path, headers={"Accept": "application/json"})
    assert r.status_code == status and r.mimetype == "application/json"
    assert r.json["status"] == status and r.json["message"]


@pytest.mark.parametrize("accept", ["application/ld+json", 'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"',
                                    "application/jsonl", "application/x-ndjson", "application/jsonlines"])
def test_an_error_asked_for_as_json_ld_or_json_lines_is_json(client, accept):
    r = client.get("/movie/no-such-film", headers={"Accept": accept})
    assert r.status_code == 404 and r.mimetype == "application/json" and r.json["status"] == 404


def test_an_error_of_a_json_listing_asked_for_by_format_is_json(client):
    r = client.get("/movie/?format=json&year=19")
    assert r.status_code == 400 and r.mimetype == "application/json" and "'year'" in r.json["message"]


def test_an_error_page_escapes_what_the_request_put_in_its_message(client):
    r = client.get("/movie/?year=%3Cscript%3Ealert(1)%3C/script%3E", headers={"Accept": "text/html"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_a_sparql_error_stays_text_when_json_is_asked_for(client):
    r = client.get("/sparql?query=SELEC", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.mimetype == "text/plain"


@pytest.mark.parametrize("query", ['SELECT ?s WHERE { ?s <http://schema.org/name> "Selec" }',
                                   "SELECT ?s WHERE { ?s ?p ?o . ?s <http://x/FILTR> ?o } LIMIT 2"])
def test_a_word_close_to_a_keyword_in_a_valid_query_is_no_error(client, query):
    assert client.get("/sparql", query_string={"query": query},
                      headers={"Accept": "application/sparql-results+json"}).status_code == 200


def test_a_misspelt_keyword_s_error_says_which_it_may_be(client):
    r = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o . FILTR(?s) }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 400 and "did you mean FILTER?" in r.get_data(as_text=True)


def test_a_film_s_lead_gives_the_running_time_the_curators_preferred(project, write, run_kg):
    from server import create_app

    path = project / "data" / "break-away.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[80] = lines[80].replace("running_time: 109", "running_time: 110")  # the Variety review's
    path.write_text("\n".join(lines), encoding="utf-8")
    client = create_app(root=project, cache_mb=0).test_client()
    code, output = run_kg(project, "build")
    assert code == 0, output
    assert "109 min / 110 min" in client.get(BREAK_AWAY, headers={"Accept": "text/html"}).get_data(as_text=True)
    write(project, "decisions.yaml",
          "decisions:\n  - prefer movie/break-away running_time from variety-review-2009-10-14\n")
    code, output = run_kg(project, "build")
    assert code == 0, output
    html = create_app(root=project, cache_mb=0).test_client().get(BREAK_AWAY, headers={"Accept": "text/html"})
    text = html.get_data(as_text=True)
    assert "110 min" in text and "109 min / 110 min" not in text


def test_the_cast_example_lists_each_role_once_at_its_highest_billing(empty_project, write):
    from kg.build.pipeline import build
    from kg.config import load_config
    from server import create_app

    write(empty_project, "films.yaml", """
        sources: {a: {name: A}, b: {name: B}}
        people: {p: {name: Pat Lee}, q: {name: Quinn Ko}}
        characters: {mira: {name: Mira}}
        movies:
          x:
            name: X
            claims:
              a: {cast: [{actor: p, character: mira, character_name: Mira}, {actor: q, character_name: Jun}]}
              b: {cast: [{actor: q, character_name: Jun}, {actor: p, character_name: Mira}]}
        """)
    assert build(load_config(empty_project)).release_dir is not None
    client = create_app(load_config(empty_project)).test_client()
    rows = _rows(client, _examples(client)["Cast with the characters they play"])
    assert [(r["billing"]["value"], r["actorName"]["value"]) for r in rows] == [("1", "Pat Lee"), ("1", "Quinn Ko")]


@pytest.mark.parametrize("ext", ["json", "xml", "n3"])
def test_an_extension_that_names_no_form_of_an_entity_says_which_do(client, ext):
    r = client.get(f"{BREAK_AWAY}.{ext}", headers={"Accept": "text/plain"})
    text = r.get_data(as_text=True)
    assert r.status_code == 404 and "is one: its documents end in" in text and ".jsonld" in text and ".ttl" in text


def test_an_unknown_entity_with_a_dot_gets_no_hint(client):
    r = client.get("/movie/no-such-film.json", headers={"Accept": "text/plain"})
    assert r.status_code == 404 and "is one" not in r.get_data(as_text=True)
