"""Curation end to end: decisions (merge, formerly, not_same, prefer), IRIs that are gone (410), billing order,
junk in bulk cast lists, the /attention page and the duplicate counts of a release.

Real `kg build` runs (the CLI, in process) and the real `kg serve` process over HTTP. Two projects are built once
per module: `curated` (the real data plus curation input) and `gone` (a tiny project built six times in a row).
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner

from conftest import BASE, REPO, LiveServer, free_port
from kg.cli import cli
from kg.layout import ATTENTION_KINDS, current

pytestmark = pytest.mark.e2e

S = "http://schema.org/"
KGV = "https://films.example.org/vocab#"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
EDITORIAL = BASE + "source/editorial"
SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _kg(root: Path, *args: str) -> tuple[int, str]:
    """Run the kg CLI in process (as the `run_kg` fixture does, for module-scoped fixtures): (exit code, output)."""
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _put(root: Path, name: str, text: str) -> None:
    (root / "data" / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def _get(server: LiveServer, path: str, **headers: str) -> requests.Response:
    return requests.get(server.url + path, headers=headers, allow_redirects=False, timeout=30)


def _select(server: LiveServer, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT asked of the server's SPARQL endpoint, each {variable: value}."""
    r = requests.post(server.url + "/sparql", data={"query": query},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in row.items()} for row in r.json()["results"]["bindings"]]


def _markup(text: str) -> dict:
    """The JSON-LD of the one <script type="application/ld+json"> block in `text`."""
    blocks = SCRIPT.findall(text)
    assert len(blocks) == 1, text[:500]
    return json.loads(blocks[0])


def _values(node: object) -> list[str]:
    """A markup property's values, a list or not, as plain strings."""
    items = node if isinstance(node, list) else [node]
    return [str(x["@value"]) if isinstance(x, dict) else str(x) for x in items]


# ---- the curated project: the real data, plus decisions, renamed and merged records, cast lists and bulk files ----

CURATION = """\
    # curation input of the tests: decisions, a renamed film, a merge, duplicate candidates, a written cast order
    sources:
      cur-a: {name: Curation source A, type: CreativeWork}
      cur-b: {name: Curation source B, type: CreativeWork}
    decisions:
      - merge person/old-name into person/new-name
      - prefer movie/break-away production_year from finecut-press-kit
    people:
      old-name:
        name: Old Name
        claims:
          cur-a: {name: Old Name, job_title: [stunt double]}
      new-name:
        name: New Name
        claims:
          cur-a: {name: New Name}
      mary-smith:
        name: Mary Smith
        claims:
          cur-a: {name: Mary Smith}
      mary-smith-2:
        name: Mary-Smith
        claims:
          cur-b: {name: Mary-Smith}
      pat-one:
        name: Pat One
        same_as: [https://www.imdb.com/name/nm0000001/]
      pat-two:
        name: Pat Two
        same_as: [https://www.imdb.com/name/nm0000001/]
      zed-zulu: {name: Zed Zulu}
      amy-alpha: {name: Amy Alpha}
      max-mid: {name: Max Mid}
    movies:
      renamed-film:
        name: Renamed Film
        formerly: [old-film-key]
        production_year: 2011
        claims:
          cur-a: {name: Renamed Film, production_year: 2011}
          cur-b: {name: Renamed Film, production_year: 2012}
      ordered-film:
        name: Ordered Film
        claims:
          cur-a:
            name: Ordered Film
            director: [old-name]
            cast:
              - {actor: zed-zulu}
              - {actor: amy-alpha}
              - {actor: max-mid}
    """

BULK = {
    # one row per credit, no billing column: billed in row order (not the alphabetical Abe, Mo, Zoe)
    "credits.csv": "movie,actor\nCredit Row Film,Zoe Zimmer\nCredit Row Film,Abe Archer\nCredit Row Film,Mo Middleton\n",
    "credits.mapping.yaml": """\
        source: {key: credits, name: The credit list, type: CreativeWork}
        files: credits.csv
        record: movie
        fields:
          name: movie
          production_year: {constant: 2001}
          cast: {actor: actor}
        """,
    # a JSON array of actor names: billed in array order
    "arrays.json": json.dumps([{"title": "Array Film", "year": "2002", "cast": ["Yul Young", "Ada Ames", "Mick Mott"]}]),
    "arrays.mapping.yaml": """\
        source: {key: arrays, name: The array list, type: CreativeWork}
        files: arrays.json
        record: movie
        fields:
          name: title
          production_year: year
          actor: {name: cast}
        """,
    # junk, groups, two people in one item, and names that lost a letter to '_' (one of them spelled elsewhere)
    "messy.csv": "title,year,cast\n"
                 "Messy Film,2003,Real Person|1972 Summer Olympics|The politics of|Deadpool_(2016)|Tom and Jerry|"
                 "The Andrews Sisters|Margaret Leslie and Howard E. Nicholas|F_lix Cl_ment\n"
                 "Tidy Film,2004,Félix Clément|Ren_ Cl_ir\n",
    "messy.mapping.yaml": """\
        source: {key: messy, name: The messy list, type: CreativeWork}
        files: messy.csv
        record: movie
        fields:
          name: title
          production_year: year
          actor: {name: {column: cast, split: "|"}}
        """,
    # a film by name in one list and by identifier in another: one film, its name-keyed IRI a redirect
    "named.csv": "title,year\nNight River,2001\n",
    "named.mapping.yaml": """\
        source: {key: named, name: A list by name, type: CreativeWork}
        files: named.csv
        record: movie
        fields: {name: title, production_year: year}
        """,
    "identified.csv": "imdb,title,year\ntt0000001,Night River,2001\n",
    "identified.mapping.yaml": """\
        source: {key: identified, name: A list by identifier, type: CreativeWork}
        files: identified.csv
        record: movie
        key: {id: imdb}
        fields: {name: title, production_year: year}
        """,
}
JUNK = ["1972 Summer Olympics", "The politics of", "Deadpool_(2016)"]
GROUPS = ["Tom and Jerry", "The Andrews Sisters"]


@dataclass
class Built:
    root: Path
    server: LiveServer
    output: str


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("curated")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "shapes", root / "shapes")
    _put(root, "curation.yaml", CURATION)
    for name, text in BULK.items():
        _put(root, name, text)
    code, output = _kg(root, "build")
    assert code == 0, output
    server = LiveServer(root, free_port())
    yield Built(root, server, output)
    server.stop()


def _location(r: requests.Response) -> str:
    """Where a redirect points, as a path and query on the server."""
    target = urlsplit(urljoin(r.url, r.headers["Location"]))
    return target.path + (f"?{target.query}" if target.query else "")


# ---- merge ----

def test_a_merged_iri_redirects_permanently_to_the_record_it_joined(curated):
    r = _get(curated.server, "/person/old-name")
    assert r.status_code == 301
    assert _location(r) == "/person/new-name"


def test_the_page_of_the_record_kept_names_the_iri_merged_into_it(curated):
    page = _get(curated.server, "/person/new-name").text
    assert re.search(r'<p class="also">Also at <code>' + re.escape(BASE + "person/old-name") + "</code>", page)


def test_a_merge_redirect_is_kept_by_caches_no_longer_than_a_page(curated):
    r = _get(curated.server, "/person/old-name")
    assert r.status_code == 301 and r.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_a_merge_redirect_keeps_the_form_asked_for(curated):
    r = _get(curated.server, "/person/old-name.ttl")
    assert r.status_code == 301
    assert _location(r) == "/person/new-name.ttl"


def test_a_merge_redirect_keeps_the_query_string(curated):
    r = _get(curated.server, "/person/old-name?x=1&y=a%20b")
    assert r.status_code == 301
    assert _location(r) == "/person/new-name?x=1&y=a%20b"


def test_a_client_following_the_redirect_keeps_its_content_negotiation(curated):
    r = requests.get(curated.server.url + "/person/old-name", headers={"Accept": "text/turtle"}, timeout=30)
    assert [h.status_code for h in r.history] == [301]
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == "text/turtle"
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(r.content, format=ox.RdfFormat.TURTLE)]
    assert ox.Triple(ox.NamedNode(BASE + "person/new-name"), ox.NamedNode(S + "name"), ox.Literal("New Name")) in triples
    old, new = ox.NamedNode(BASE + "person/old-name"), ox.NamedNode(BASE + "person/new-name")
    assert {t.subject for t in triples} == {old, new}
    assert [t for t in triples if t.subject == old] == [ox.Triple(old, ox.NamedNode(OWL_SAME_AS), new)]  # how it got here


def test_a_merge_is_stated_as_owl_same_as_in_the_editorial_graph(curated):
    rows = _select(curated.server, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{BASE}person/old-name> <{OWL_SAME_AS}> "
                                   f"<{BASE}person/new-name> }} }}")
    assert rows == [{"g": EDITORIAL}]


def test_the_facts_of_a_merged_record_join_the_kept_record(curated):
    # its own facts, and the credits other records give it
    assert _select(curated.server, f"SELECT ?t WHERE {{ <{BASE}person/new-name> <{S}jobTitle> ?t }}") == [
        {"t": "stunt double"}]
    assert _select(curated.server, f"SELECT ?d WHERE {{ <{BASE}movie/ordered-film> <{S}director> ?d }}") == [
        {"d": BASE + "person/new-name"}]
    # of the retired IRI, nothing is said but that it is the kept one
    said = _select(curated.server, f"SELECT ?p WHERE {{ {{ <{BASE}person/old-name> ?p ?o }} UNION "
                                   f"{{ ?s ?p <{BASE}person/old-name> }} }}")
    assert said == [{"p": OWL_SAME_AS}]


def test_a_name_keyed_row_found_to_be_an_identified_record_redirects_to_it(curated):
    r = _get(curated.server, "/movie/night-river-2001")
    assert r.status_code == 301 and _location(r) == "/movie/tt0000001"


def test_a_renamed_key_redirects_to_the_record(curated):
    r = _get(curated.server, "/movie/old-film-key")
    assert r.status_code == 301
    assert _location(r) == "/movie/renamed-film"


def test_a_retired_iri_is_not_listed_as_an_entity_that_refers_or_is_stated(curated):
    # it says only that it is the kept record: neither the record's page (but for the line of IRIs that redirect
    # to it) nor the editorial source's lists it
    for path in ("/person/new-name", "/movie/renamed-film", "/source/editorial"):
        html = re.sub(r'<p class="also">.*?</p>', "", _get(curated.server, path).text, flags=re.S)
        assert "old-name" not in html and "old-film-key" not in html, path


# ---- not_same (reads data/ only: no build needed) ----

def test_not_same_dismisses_a_candidate_pair(empty_project, write, run_kg):
    write(empty_project, "people.yaml", """
        people:
          mary-smith: {name: Mary Smith}
          mary-smith-2: {name: Mary-Smith}
        """)
    pair = {BASE + "person/mary-smith", BASE + "person/mary-smith-2"}
    code, output = run_kg(empty_project, "duplicates", "--json")
    assert code == 0 and [{c["a"], c["b"]} for c in json.loads(output)] == [pair]
    write(empty_project, "decisions.yaml", """
        decisions:
          - not_same person/mary-smith-2 person/mary-smith
        """)
    code, output = run_kg(empty_project, "duplicates", "--json")
    assert code == 0 and json.loads(output) == []


def test_a_build_names_the_possible_duplicates_among_its_findings(empty_project, write, run_kg):
    write(empty_project, "people.yaml", """
        people:
          mary-smith: {name: Mary Smith}
          mary-smith-2: {name: Mary-Smith}
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 0 and "possible duplicates: 1 (Mary Smith / Mary-Smith): `kg duplicates` lists each" in output
    write(empty_project, "decisions.yaml", "decisions:\n  - not_same person/mary-smith-2 person/mary-smith\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0 and "possible duplicates" not in output


# ---- prefer ----

def test_a_preferred_value_is_marked_on_the_entity_page(curated):
    html = _get(curated.server, "/movie/break-away", Accept="text/html").text
    assert re.search(r"<span>2009</span>\s*<small class=\"rank\">\(preferred\)</small>", html)
    assert re.search(r"<span>2008</span>\s*<small class=\"rank\">\(also stated\)</small>", html)


def test_the_markup_has_only_the_preferred_value(curated):
    code, output = _kg(curated.root, "embed", "break-away")
    assert code == 0, output
    created = _markup(output)["dateCreated"]
    assert not isinstance(created, list)
    assert _values(created) == ["2009"]


def test_the_entity_page_embeds_the_markup_with_the_preferred_value(curated):
    html = _get(curated.server, "/movie/break-away", Accept="text/html").text
    assert _values(_markup(html)["dateCreated"]) == ["2009"]


def test_every_value_stays_in_its_source_graph(curated):
    rows = _select(curated.server, f"SELECT ?g ?y WHERE {{ GRAPH ?g {{ <{BASE}movie/break-away> <{S}dateCreated> ?y }} }}")
    assert sorted((r["g"], r["y"]) for r in rows) == [
        (BASE + "source/finecut-press-kit", "2009"), (BASE + "source/forum-post", "2008")]


def test_the_conflict_node_records_the_preferred_value(curated):
    rows = _select(curated.server, f"SELECT ?v WHERE {{ <{BASE}movie/break-away#conflict-dateCreated> "
                                   f"<{KGV}preferredValue> ?v }}")
    assert rows == [{"v": "2009"}]


def test_without_a_decision_the_markup_has_one_value_by_the_documented_rule(released, run_kg):
    code, output = run_kg(released, "embed", "break-away")
    assert code == 0, output
    assert _values(_markup(output)["dateCreated"]) == ["2008"]  # one source each: the lower of the two


def test_the_curators_own_value_settles_a_conflict_in_the_markup_and_the_conflict_node(curated):
    code, output = _kg(curated.root, "embed", "renamed-film")
    assert code == 0, output
    created = _markup(output)["dateCreated"]
    assert not isinstance(created, list) and _values(created) == ["2011"]
    assert _select(curated.server, f"SELECT ?v WHERE {{ <{BASE}movie/renamed-film#conflict-dateCreated> "
                                   f"<{KGV}preferredValue> ?v }}") == [{"v": "2011"}]


@pytest.mark.parametrize("path", ["/", "/movie/", "/person/leesong-hee-il", "/search?q=break+away"])
def test_a_preferred_year_is_the_films_year_wherever_it_is_summed_up(curated, path):
    html = _get(curated.server, path, Accept="text/html").text  # settled by a prefer decision: 2009
    assert "2008/2009" not in html and re.search(r'href="/movie/break-away">Break Away</a>.{0,80}2009', html), path


TWO_BIRTHS = """
        sources:
          festival: {name: Festival catalogue, type: WebPage}
          registry: {name: People registry, type: WebPage}
        people:
          kim-min-jae:
            name: Kim Min-jae
            claims:
              festival: {name: Kim Min-jae, birth_date: 1987, job_title: actor}
              registry: {name: Kim Min-jae, birth_date: 1988-05-02}
        """


def test_a_person_of_a_birth_year_and_no_job_is_summed_up_with_the_films_that_credit_them(empty_project, write,
                                                                                           run_kg):
    from server import create_app

    write(empty_project, "films.yaml", """\
        movies:
          night-river: {name: Night River, production_year: 2001, director: [kim-min-jae]}
        people:
          kim-min-jae: {name: Kim Min-jae, birth_date: 1935}
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    client = create_app(root=empty_project, cache_mb=0).test_client()
    hits = client.get("/search?q=kim+min&format=json").get_json()["results"]
    assert [h["summary"] for h in hits] == ["b. 1935, director, in Night River (2001)"]  # (before: 'b. 1935' alone)


@pytest.mark.parametrize("decided, shown", [("", "b. 1987/1988, actor"),
                                            ("decisions:\n  - prefer person/kim-min-jae birth_date from registry\n",
                                             "b. 1988, actor")])
def test_a_person_s_birth_year_is_summed_up_as_the_curators_chose_or_as_every_source_gives_it(
        empty_project, write, run_kg, decided, shown):
    from server import create_app

    write(empty_project, "people.yaml", TWO_BIRTHS.rstrip(" ") + textwrap.indent(decided, " " * 8))
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    client = create_app(root=empty_project, cache_mb=0).test_client()
    hits = client.get("/search?q=kim+min&format=json").get_json()["results"]
    assert [h["summary"] for h in hits] == [shown]
    listed = client.get("/person/?format=json").get_json()["items"]
    assert [r["summary"] for r in listed] == [shown]
    born = "1988" if "1988," in shown else "1987"  # the listing by birth year agrees with the summary
    assert [r["summary"] for r in client.get(f"/person/?born={born}&format=json").get_json()["items"]] == [shown]
    assert shown in client.get("/person/kim-min-jae").get_data(as_text=True)


def test_the_curators_own_value_that_a_source_also_gives_is_cited_as_theirs_where_sources_disagree(
        empty_project, write, run_kg):
    from server import create_app

    write(empty_project, "films.yaml", """
        sources:
          kmdb: {name: KMDb, type: WebPage}
          busan: {name: Busan catalogue, type: WebPage}
        movies:
          x: {name: X, running_time: 110, claims: {kmdb: {name: X, running_time: 110},
                                                   busan: {name: X, running_time: 112}}}
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    html = create_app(root=empty_project, cache_mb=0).test_client().get("/movie/x").get_data(as_text=True)
    said = re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", html.split("Sources disagree", 1)[1].split("</li>", 1)[0]))
    assert said.strip() == "running time : 110 min (preferred; KMDb kg editorial decisions ) ; also stated: 112 min " \
                           "( Busan catalogue )", said


def test_the_curators_own_value_is_marked_preferred_on_the_entity_page(curated):
    html = _get(curated.server, "/movie/renamed-film", Accept="text/html").text
    assert re.search(r"<span>2011</span>\s*<small class=\"rank\">\(preferred\)</small>", html)
    assert re.search(r"<span>2012</span>\s*<small class=\"rank\">\(also stated\)</small>", html)


# ---- billing order ----

WRITTEN = ["zed-zulu", "amy-alpha", "max-mid"]  # not in the keys' alphabetical order


def test_a_row_repeated_does_not_bill_its_cast_again(empty_project, write, run_kg):
    write(empty_project, "films.csv", "title,year,cast,note\nMother,2009,Kim Hye-ja|Won Bin,a\n"
                                      "Mother,2009,Kim Hye-ja|Won Bin,b\nMother,2009,Jin Goo,c\n")
    write(empty_project, "films.mapping.yaml", """
        source: {key: list, name: A list}
        files: films.csv
        record: movie
        fields: {name: title, production_year: year, actor: {name: {column: cast, split: "|"}}}
        """)
    assert run_kg(empty_project, "build")[0] == 0
    code, output = run_kg(empty_project, "query", f"SELECT ?n ?b WHERE {{ ?r <{S}actor>/<{S}name> ?n ; "
                                                  f"<{KGV}billing> ?b }} ORDER BY ?b")
    assert code == 0 and output.splitlines()[1:] == ['"Kim Hye-ja"\t1', '"Won Bin"\t2', '"Jin Goo"\t3'], output


def test_a_yaml_cast_without_billing_is_listed_in_written_order_on_the_page(curated):
    html = _get(curated.server, "/movie/ordered-film", Accept="text/html").text
    at = [html.index(f'href="/person/{key}"') for key in WRITTEN]
    assert at == sorted(at)


def test_a_yaml_cast_without_billing_is_in_written_order_in_the_markup(curated):
    code, output = _kg(curated.root, "embed", "ordered-film")
    assert code == 0, output
    assert [role["actor"]["@id"] for role in _markup(output)["actor"]] == [BASE + f"person/{k}" for k in WRITTEN]


def _billed(server: LiveServer, film: str) -> list[tuple[int, str]]:
    rows = _select(server, f"SELECT ?b ?name WHERE {{ <{BASE}movie/{film}> <{S}actor> ?role . ?role <{S}actor> ?p ; "
                           f"<{KGV}billing> ?b . ?p <{S}name> ?name }}")
    return sorted((int(r["b"]), r["name"]) for r in rows)


def test_a_bulk_file_of_one_row_per_credit_is_billed_in_row_order(curated):
    assert _billed(curated.server, "credit-row-film-2001") == [(1, "Zoe Zimmer"), (2, "Abe Archer"), (3, "Mo Middleton")]


def test_a_json_array_of_actors_is_billed_in_array_order(curated):
    assert _billed(curated.server, "array-film-2002") == [(1, "Yul Young"), (2, "Ada Ames"), (3, "Mick Mott")]


# ---- junk in bulk cast lists ----

def _people_named(server: LiveServer, name: str) -> list[dict[str, str]]:
    return _select(server, f"SELECT ?p ?t WHERE {{ ?p <{S}name>|<{S}alternateName> {json.dumps(name)} ; a ?t }}")


@pytest.mark.parametrize("name", JUNK)
def test_junk_in_a_cast_list_is_not_published(curated, name):
    assert _people_named(curated.server, name) == []


@pytest.mark.parametrize("name", JUNK)
def test_junk_is_noted_in_the_build_report_with_file_and_row(curated, name):
    report = (curated.root / "var" / "build-report.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("data/messy.csv:2: junk: ") and repr(name) in line for line in report), report


@pytest.mark.parametrize("name", GROUPS)
def test_a_group_is_a_performing_group_not_a_person(curated, name):
    types = {r["t"] for r in _people_named(curated.server, name)}
    assert types == {S + "PerformingGroup"}


def test_two_people_in_one_item_are_two_people(curated):
    actors = {r["name"] for r in _select(curated.server, f"SELECT ?name WHERE {{ <{BASE}movie/messy-film-2003> "
                                                         f"<{S}actor>/<{S}actor>/<{S}name> ?name }}")}
    assert {"Margaret Leslie", "Howard E. Nicholas"} <= actors
    assert _people_named(curated.server, "Margaret Leslie and Howard E. Nicholas") == []


def test_a_name_that_lost_a_letter_is_the_person_spelled_with_it(curated):
    query = f"SELECT ?p WHERE {{ <{BASE}movie/%s> <{S}actor>/<{S}actor> ?p }}"
    in_messy = {r["p"] for r in _select(curated.server, query % "messy-film-2003")}
    in_tidy = {r["p"] for r in _select(curated.server, query % "tidy-film-2004")}
    assert BASE + "person/felix-clement" in in_messy & in_tidy
    r = _get(curated.server, "/person/f-lix-cl-ment")  # the key of the rows that lost it: one IRI, redirected
    assert r.status_code == 301 and _location(r) == "/person/felix-clement"


def test_a_person_found_by_a_lost_letter_keeps_the_name_with_the_letter(curated):
    names = _select(curated.server, f"SELECT ?n WHERE {{ GRAPH <{EDITORIAL}> {{ <{BASE}person/felix-clement> "
                                    f"<{S}name> ?n }} }}")
    assert names == [{"n": "Félix Clément"}]


def test_a_name_that_lost_a_letter_and_has_no_match_is_flagged(curated):
    report = (curated.root / "var" / "build-report.txt").read_text(encoding="utf-8")
    assert "data/messy.csv:3: suspicious: 'Ren_ Cl_ir' lost a letter to '_'" in report


# ---- the attention page ----

def _attention(server: LiveServer, query: str = "") -> dict:
    r = _get(server, "/attention" + query, Accept="application/json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), r.text
    return r.json()


def test_the_attention_page_is_html(curated):
    r = _get(curated.server, "/attention", Accept="text/html")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Possible duplicates" in r.text and "Not people (left out)" in r.text


def test_the_attention_json_has_groups_and_a_page_of_items(curated):
    found = _attention(curated.server)
    assert set(found) == {"groups", "kind", "page", "pages", "items"}
    assert all(set(g) == {"kind", "title", "count"} and g["count"] > 0 for g in found["groups"])
    assert {"duplicates", "conflicts", "junk", "warnings"} <= {g["kind"] for g in found["groups"]}
    assert found["kind"] == found["groups"][0]["kind"] and found["page"] == 1 and found["pages"] >= 1


def test_attention_lists_the_duplicate_candidates(curated):
    found = _attention(curated.server, "?kind=duplicates")
    assert [(i["fix"], i["dismiss"]) for i in found["items"]] == [
        ("merge person/mary-smith-2 into person/mary-smith", "not_same person/mary-smith person/mary-smith-2")]


def test_attention_lists_each_merge_once_and_as_many_as_kg_info_counts(curated):
    found = _attention(curated.server, "?kind=merged")
    whats = [i["what"] for i in found["items"]]
    assert len(whats) == len(set(whats)) == 2  # pat-two by identifier, night-river-2001 by name
    assert sum("both give IMDb nm0000001" in w for w in whats) == 1
    code, output = _kg(curated.root, "info")
    assert code == 0 and "1 merged by identifier, 1 by name" in output


def test_attention_lists_only_unsettled_conflicts(curated):
    found = _attention(curated.server, "?kind=conflicts")
    assert [(i["iri"], i["what"].split(":", 2)[1].split()[-1]) for i in found["items"]] == [
        (BASE + "movie/break-away", "storyDuration")]  # dateCreated is settled by a decision and renamed-film's too


OWN_VALUE = "give movie/f1 the curators' own running_time: in a YAML file, movies: {f1: {name: ..., running_time: ...}}"


@pytest.mark.parametrize("rows_a, rows_b, fix", [
    ("f1,Night River,100\n", "f1,Night River,110\n",
     "prefer movie/f1 running_time from cat-a or prefer movie/f1 running_time from cat-b"),
    # cat-a gives two values (two rows of one film): preferring it would settle nothing, so it is not proposed
    ("f1,Night River,100\nf1,Night River,110\n", "f1,Night River,120\n", "prefer movie/f1 running_time from cat-b"),
    ("f1,Night River,100\nf1,Night River,110\n", "f2,Blue Road,90\n", OWN_VALUE)])
def test_the_build_and_the_attention_file_say_how_to_settle_a_conflict(empty_project, write, run_kg, rows_a, rows_b,
                                                                       fix):
    _catalogue(write, empty_project, "cat-a", "minutes", rows_a)
    _catalogue(write, empty_project, "cat-b", "minutes", rows_b)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert f"\n    to settle it: {fix}\n" in output
    found = json.loads((empty_project / "var" / "current" / "attention.json").read_text(encoding="utf-8"))
    assert [i["fix"] for g in found["groups"] if g["kind"] == "conflicts" for i in g["items"]] == [fix]


def test_the_curators_own_value_written_as_the_build_says_settles_the_conflict(empty_project, write, run_kg):
    _catalogue(write, empty_project, "cat-a", "minutes", "f1,Night River,100\nf1,Night River,110\n")
    write(empty_project, "own.yaml", "movies: {f1: {name: Night River, running_time: 110}}\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0 and "to settle it" not in output and "(settled: 'PT1H50M' preferred, the curators' own value)" \
        in output, output


def test_attention_lists_the_junk_with_file_and_row(curated):
    found = _attention(curated.server, "?kind=junk")
    assert sorted(i["where"] for i in found["items"]) == ["data/messy.csv:2"] * len(JUNK)
    assert all(any(repr(name) in i["what"] for i in found["items"]) for name in JUNK)


def test_attention_says_a_warning_of_many_records_of_one_file_once(curated):
    found = _attention(curated.server, "?kind=warnings")
    same = [i for i in found["items"] if i["what"].startswith("Google Movie carousel (recommended): no aggregateRating (")
            and i["where"].startswith("data/other-films.yaml")]
    assert len(same) == 1
    assert same[0]["count"] > 1 and f"{same[0]['count']} records of data/other-films.yaml" in same[0]["what"]


def test_attention_of_an_unknown_kind_is_not_found(curated):
    assert _get(curated.server, "/attention?kind=nonexistent", Accept="application/json").status_code == 404


def test_attention_of_a_kind_with_nothing_left_is_an_empty_list(curated):
    kinds = {g["kind"] for g in _attention(curated.server)["groups"]}
    settled = next(k for k in ATTENTION_KINDS if k not in kinds)
    found = _attention(curated.server, f"?kind={settled}")
    assert found["kind"] == settled and found["items"] == []


def test_the_home_page_links_to_the_attention_page(curated):
    html = _get(curated.server, "/", Accept="text/html").text
    assert 'href="/attention"' in html


# ---- duplicates in kg info and release.json ----

def test_kg_info_tells_the_duplicates(curated):
    code, output = _kg(curated.root, "info")
    assert code == 0, output
    lines = [line for line in output.splitlines() if line.startswith("duplicates ")]
    assert len(lines) == 1 and "1 candidate, 1 merged by identifier" in lines[0]


def test_release_json_counts_candidates_and_merges(curated):
    meta = json.loads((current(curated.root / "var") / "release.json").read_text(encoding="utf-8"))
    code, output = _kg(curated.root, "duplicates", "--json")
    assert code == 0
    listed = json.loads(output)
    code, text = _kg(curated.root, "duplicates")
    by_name = sum(1 for line in text.splitlines() if line.startswith("merged by name: "))
    assert meta["duplicates"] == {"candidates": sum(1 for c in listed if not c["merged"]),
                                  "merged": sum(1 for c in listed if c["merged"]), "merged_by_name": by_name,
                                  "merged_by_decision": 1} \
        == {"candidates": 1, "merged": 1, "merged_by_name": 1, "merged_by_decision": 1}  # (the fixture's decision)


def test_merges_the_curators_decided_are_counted_where_the_build_s_are(empty_project, write, run_kg):
    write(empty_project, "films.yaml", """\
        movies:
          microhabitat: {name: Microhabitat, production_year: 2017}
          little-princess: {name: Little Princess, production_year: 2017}
        decisions:
          - merge movie/little-princess into movie/microhabitat
        """)
    code, built = run_kg(empty_project, "build")
    said = "0 merged by identifier, 0 by name (the notes say which), 1 by the curators' decisions"
    assert code == 0 and said in built, built
    assert said in run_kg(empty_project, "duplicates")[1]
    info = run_kg(empty_project, "info")[1]
    assert "0 by name, 1 by the curators' decisions" in info and \
        "redirects  1 (IRIs merged or renamed into another, answering 301)" in info, info


# ---- gone (410): a tiny project built six times, served all along ----

TINY = """\
    sources:
      notes: {name: Notes, type: CreativeWork}
    people:
      kept-person: {name: Kept Person}
      lonely-person: {name: Lonely Person}
    movies:
      a-film:
        name: A Film
        claims:
          notes: {name: A Film, production_year: 2001, director: [kept-person]}
    """
WITHOUT_LONELY = TINY.replace("      lonely-person: {name: Lonely Person}\n", "")
RENAMED = TINY.replace("      a-film:\n", "      b-film:\n        formerly: [a-film]\n")
STEPS = (
    TINY,  # 1: the person is there
    WITHOUT_LONELY,  # 2: removed
    WITHOUT_LONELY.replace("2001", "2002"),  # 3: something else edited
    TINY,  # 4: the person is back
    RENAMED,  # 5: the film renamed, its old key kept as `formerly`
    RENAMED.replace("        formerly: [a-film]\n", ""),  # 6: the old key dropped: /movie/a-film redirected in release 5
)
WATCHED = ("/person/lonely-person", "/movie/a-film")


@dataclass
class Steps:
    """After each build: its output, the status of each watched path, and the release's moved.json."""

    outputs: list[str] = field(default_factory=list)
    status: list[dict[str, int]] = field(default_factory=list)
    moved: list[dict] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # the body of the lonely person's IRI


@pytest.fixture(scope="module")
def gone(tmp_path_factory) -> Iterator[Steps]:
    root = tmp_path_factory.mktemp("gone")
    (root / "data").mkdir()
    shutil.copytree(REPO / "shapes", root / "shapes")
    steps = Steps()
    server = None
    try:
        for text in STEPS:
            _put(root, "films.yaml", text)
            code, output = _kg(root, "build")
            assert code == 0, output
            server = server or LiveServer(root, free_port())
            steps.outputs.append(output)
            steps.status.append({path: _get(server, path).status_code for path in WATCHED})
            steps.said.append(_get(server, LONELY).text)
            steps.moved.append(json.loads((current(root / "var") / "moved.json").read_text(encoding="utf-8")))
        yield steps
    finally:
        if server is not None:
            server.stop()


LONELY = "/person/lonely-person"


def test_a_record_removed_since_the_previous_release_is_gone(gone):
    assert [s[LONELY] for s in gone.status[:2]] == [200, 410]


def test_a_gone_iri_says_its_sources_no_longer_describe_it_not_who_removed_it(gone):
    # (a bulk row left out as messy makes an IRI gone too: the curators may have removed nothing)
    assert "its sources no longer describe it" in gone.said[1] and "curators removed" not in gone.said[1]


def test_the_build_tells_how_many_iris_no_longer_exist(gone):
    assert "1 IRI of the previous release no longer exists" in gone.outputs[1]
    assert f"\n  {BASE}person/lonely-person\n" in gone.outputs[1]  # named, not only counted
    assert "no longer exist" not in gone.outputs[0]


def test_a_gone_iri_stays_gone_after_a_later_build(gone):
    assert "no longer exist" not in gone.outputs[2]  # not vanished again: it was gone already
    assert gone.status[2][LONELY] == 410
    assert BASE + LONELY.lstrip("/") in gone.moved[2]["gone"]


def test_a_record_added_back_is_served_again(gone):
    assert gone.status[3][LONELY] == 200
    assert gone.moved[3]["gone"] == []


def test_a_renamed_record_keeps_its_old_iri_as_a_redirect_not_gone(gone):
    assert gone.status[4]["/movie/a-film"] == 301
    assert "no longer exist" not in gone.outputs[4]


def test_an_iri_that_redirected_is_gone_once_its_redirect_is_dropped(gone):
    assert gone.status[5]["/movie/a-film"] == 410
    assert "1 IRI of the previous release no longer exists" in gone.outputs[5]


# ---- bad decisions: refused with file and line, the release served stays (last: they build the curated project) ----

BAD = {
    "unreadable": ("merge person/old-name person/new-name", "cannot read"),
    "merge-into-nothing": ("merge person/mary-smith into person/nobody-here", "there is no person 'nobody-here'"),
    "prefer-many-valued": ("prefer movie/break-away director from finecut-press-kit",
                           "'director' is not a single-valued field"),
    "prefer-silent-source": ("prefer movie/break-away production_year from variety-review-2009-10-14",
                             "'variety-review-2009-10-14' gives no production_year"),
    "prefer-on-a-merged-record": ("prefer person/old-name birth_date from forum-post",  # named as written
                                  "person/old-name (merged into person/new-name): 'forum-post' gives no birth_date"),
    "prefer-from-no-source": ("prefer movie/break-away production_year from finecut-presskit",
                              "there is no source 'finecut-presskit' (did you mean finecut-press-kit?)"),
    "prefer-no-such-field": ("prefer movie/break-away runtime from finecut-press-kit",
                             "a movie has no field 'runtime' (did you mean running_time?)"),
    "prefer-against-the-curators-own": ("prefer movie/renamed-film production_year from cur-b",
                                        "movie/renamed-film: the curators' own production_year (2011, at data/"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_decision_is_refused_and_the_release_stays(curated, case):
    line, why = BAD[case]
    before = current(curated.root / "var")
    etag = _get(curated.server, "/movie/break-away.ttl").headers["ETag"]
    bad = curated.root / "data" / "zz-bad.yaml"
    bad.write_text(f"# a curator's mistake\ndecisions:\n  - {line}\n", encoding="utf-8")
    try:
        code, output = _kg(curated.root, "build")
    finally:
        bad.unlink()
    assert code == 2, output
    assert "data/zz-bad.yaml:3: decisions: " in output and why in output
    assert current(curated.root / "var") == before
    assert _get(curated.server, "/movie/break-away.ttl").headers["ETag"] == etag
    assert _get(curated.server, "/person/old-name").status_code == 301


def test_kg_embed_of_a_merged_iri_gives_the_markup_of_the_record_it_joined(curated):
    code, output = _kg(curated.root, "embed", "person/old-name")
    assert code == 0 and "merged into" in output and _markup(output)["@id"] == BASE + "person/new-name"


def test_kg_embed_of_an_iri_gone_since_an_earlier_release_says_so(empty_project, write, run_kg):
    write(empty_project, "films.yaml", "movies:\n  a: {name: A}\n  b: {name: B}\n")
    assert run_kg(empty_project, "build")[0] == 0
    write(empty_project, "films.yaml", "movies:\n  a: {name: A}\n")
    assert run_kg(empty_project, "build")[0] == 0
    code, output = run_kg(empty_project, "embed", "movie/b")
    assert code == 2 and f"{BASE}movie/b is gone" in output


def test_a_gone_iri_is_kept_by_caches_no_longer_than_a_page(empty_project, write, run_kg):
    from server import create_app

    write(empty_project, "people.yaml", "people:\n  lonely: {name: Lonely Person}\n  other: {name: Other}\n")
    assert run_kg(empty_project, "build")[0] == 0
    write(empty_project, "people.yaml", "people:\n  other: {name: Other}\n")
    assert run_kg(empty_project, "build")[0] == 0
    r = create_app(root=empty_project, cache_mb=0).test_client().get("/person/lonely")
    assert r.status_code == 410 and r.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"


def _lost_film(root: Path, write, run_kg):
    """A test client of a project whose film 'The Lost Film' (lost-1) is gone since its previous release."""
    from server import create_app

    write(root, "films.yaml", "movies:\n  a: {name: A}\n  lost-1: {name: The Lost Film}\n")
    assert run_kg(root, "build")[0] == 0
    write(root, "films.yaml", "movies:\n  a: {name: A}\n")
    assert run_kg(root, "build")[0] == 0
    return create_app(root=root).test_client()


def test_a_gone_page_offers_a_search_for_the_name_it_had(empty_project, write, run_kg):
    client = _lost_film(empty_project, write, run_kg)
    r = client.get("/movie/lost-1", headers={"Accept": "text/html"})
    assert r.status_code == 410 and 'href="/search?q=The%20Lost%20Film"' in r.get_data(as_text=True)


def test_a_gone_iri_is_told_by_the_name_it_had(empty_project, write, run_kg):
    client = _lost_film(empty_project, write, run_kg)
    r = client.get("/movie/lost-1", headers={"Accept": "text/plain"})
    assert r.status_code == 410 and r.text.startswith(f"The Lost Film ({BASE}movie/lost-1) was in an earlier release")


@pytest.mark.parametrize("typed", ["/movie/lost-1", "/movie/Lost%201", "/movie/The%20Lost%20Film",
                                   "/movie/the%20lost%20film"])
def test_a_name_typed_for_a_gone_entity_leads_to_its_410(empty_project, write, run_kg, typed):
    client = _lost_film(empty_project, write, run_kg)
    r = client.get(typed, follow_redirects=True)
    assert r.status_code == 410 and r.request.path == "/movie/lost-1"


def test_a_name_typed_goes_to_the_entity_that_has_it_now_not_to_a_gone_one(empty_project, write, run_kg):
    from server import create_app

    write(empty_project, "films.yaml", "movies:\n  heat-1995: {name: Heat}\n")
    assert run_kg(empty_project, "build")[0] == 0
    write(empty_project, "films.yaml", "movies:\n  heat-1996: {name: Heat}\n")  # its year mended, no formerly
    assert run_kg(empty_project, "build")[0] == 0
    r = create_app(root=empty_project).test_client().get("/movie/Heat")
    assert r.status_code == 302 and r.headers["Location"].endswith("/movie/heat-1996")


def test_an_entity_whose_key_is_a_gone_entity_s_name_is_served(empty_project, write, run_kg):
    from server import create_app

    write(empty_project, "films.yaml", "movies:\n  heat: {name: Other Title}\n  heat-2: {name: Heat}\n")
    assert run_kg(empty_project, "build")[0] == 0
    write(empty_project, "films.yaml", "movies:\n  heat: {name: Other Title}\n")
    assert run_kg(empty_project, "build")[0] == 0
    assert create_app(root=empty_project).test_client().get("/movie/heat").status_code == 200


def test_a_name_two_gone_entities_had_leads_to_neither(empty_project, write, run_kg):
    from server import create_app

    write(empty_project, "films.yaml", "movies:\n  a: {name: A}\n  heat-1: {name: Heat}\n  heat-2: {name: Heat}\n")
    assert run_kg(empty_project, "build")[0] == 0
    write(empty_project, "films.yaml", "movies:\n  a: {name: A}\n")
    assert run_kg(empty_project, "build")[0] == 0
    assert create_app(root=empty_project).test_client().get("/movie/Heat").status_code == 404


def test_a_gone_iri_keeps_its_name_in_later_releases(gone):
    assert [m["gone_names"] for m in gone.moved[1:3]] == [{BASE + LONELY.lstrip("/"): "Lonely Person"}] * 2
    assert "Lonely Person (" in gone.said[2]


_NAMED = {"named.csv": "title,year\nNight River,2001\n",
          "named.mapping.yaml": "source: {key: named, name: By name}\nfiles: named.csv\nrecord: movie\n"
                                "fields: {name: title, production_year: year}\n",
          "identified.csv": "imdb,title,year\ntt0000001,Night River,2001\n",
          "identified.mapping.yaml": "source: {key: identified, name: By id}\nfiles: identified.csv\nrecord: movie\n"
                                     "key: {id: imdb}\nfields: {name: title, production_year: year}\n"}


def _redirects(root: Path) -> dict[str, str]:
    return json.loads((current(root / "var") / "moved.json").read_text(encoding="utf-8"))["redirects"]


@pytest.mark.parametrize("hand", [
    "movies: {tt0000001: {name: Night River}}\n",  # a hand-written record of the identified key: it keeps the redirect
    "movies: {night-river: {name: Night River, production_year: 2001}}\n"  # the curators merge both themselves
    "decisions: [merge movie/tt0000001 into movie/night-river, merge movie/night-river-2001 into movie/night-river]\n",
])
def test_a_name_keyed_rows_redirect_survives_what_curators_write(empty_project, write, run_kg, hand):
    for name, text in _NAMED.items():
        (empty_project / "data" / name).write_text(text, encoding="utf-8")
    write(empty_project, "hand.yaml", hand)
    code, output = run_kg(empty_project, "build")
    kept = "night-river" if "decisions" in hand else "tt0000001"
    assert code == 0 and _redirects(empty_project)[f"{BASE}movie/night-river-2001"] == f"{BASE}movie/{kept}", output


def test_a_hand_written_record_is_never_retired_by_a_bulk_rows_former_key(empty_project, write, run_kg):
    (empty_project / "data" / "cast.csv").write_text("title,year,cast\nA,2001,Félix Clément\nB,2002,F_lix Cl_ment\n",
                                                     encoding="utf-8")
    write(empty_project, "cast.mapping.yaml", """
        source: {key: casts, name: Casts}
        files: cast.csv
        record: movie
        fields: {name: title, production_year: year, actor: {name: {column: cast, split: "|"}}}
        """)
    write(empty_project, "hand.yaml", "people:\n  f-lix-cl-ment: {name: Flix Clment}\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0 and f"{BASE}person/f-lix-cl-ment" not in _redirects(empty_project), output


def test_a_budget_its_sources_give_otherwise_shows_each_amount_in_the_facts(empty_project, write, run_kg):
    from server import create_app

    write(empty_project, "a.yaml", """
        sources: {s1: {name: One}, s2: {name: Two}}
        movies:
          b:
            name: B
            claims:
              s1: {budget: {amount: 100, currency: USD}}
              s2: {budget: {amount: 200, currency: KRW}}
        decisions: [prefer movie/b budget from s2]
        """)
    assert run_kg(empty_project, "build")[0] == 0
    html = create_app(root=empty_project).test_client().get("/movie/b", headers={"Accept": "text/html"}).get_data(
        as_text=True)
    assert "USD 100 / KRW 200" in html and "USD 200" not in html and "KRW 100" not in html


THREE_SPELLINGS = """
    people:
      kore-eda-hirokazu: {name: Kore-eda Hirokazu}
      hirokazu-koreeda: {name: Hirokazu Koreeda}
      hirokazu-kore-eda: {name: Hirokazu Kore-eda}
    decisions:
    """


def test_pairwise_merges_of_three_spellings_that_end_in_one_record_build(empty_project, write, run_kg):
    # what pasting every merge `kg duplicates` proposes pair by pair writes: one key merged into two records, which
    # are one
    write(empty_project, "people.yaml", THREE_SPELLINGS + """
      - merge person/kore-eda-hirokazu into person/hirokazu-koreeda
      - merge person/hirokazu-kore-eda into person/hirokazu-koreeda
      - merge person/hirokazu-kore-eda into person/kore-eda-hirokazu
    """)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert _redirects(empty_project) == {f"{BASE}person/hirokazu-kore-eda": f"{BASE}person/hirokazu-koreeda",
                                         f"{BASE}person/kore-eda-hirokazu": f"{BASE}person/hirokazu-koreeda"}


def test_a_key_merged_into_two_records_that_stay_apart_is_refused(empty_project, write, run_kg):
    write(empty_project, "people.yaml", THREE_SPELLINGS + """
      - merge person/hirokazu-kore-eda into person/hirokazu-koreeda
      - merge person/hirokazu-kore-eda into person/kore-eda-hirokazu
    """)
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert ("people.yaml:8: decisions: person/hirokazu-kore-eda is merged into person/hirokazu-koreeda already "
            "(data/people.yaml:7)") in output


def test_a_language_tag_warning_points_at_the_line_of_the_value(empty_project, write, run_kg):
    write(empty_project, "films.yaml", """
        sources: {catalogue: {name: Catalogue}}
        movies:
          lucky:
            name: Lucky Chan-sil
            claims:
              catalogue:
                name: Lucky Chan-sil
                alternate_name:
                  - {text: 찬실이는 복도 많지, lang: kr}
        """)
    code, output = run_kg(empty_project, "build", "--verbose")
    assert code == 0
    assert "data/films.yaml:9 [lucky.alternate_name]: Warning: kr is the language tag of Kanuri" in output


def test_a_merge_of_a_mistyped_key_is_noted_with_the_line_meant(empty_project, write, run_kg):
    write(empty_project, "people.yaml", """
        people:
          yoo-ji-tae: {name: Yoo Ji-tae}
          yu-ji-tae: {name: Yu Ji-tae}
        decisions:
          - merge person/yoo-ji-tea into person/yu-ji-tae
        """)
    code, output = run_kg(empty_project, "build", "--verbose")
    assert code == 0
    assert "did you mean 'merge person/yoo-ji-tae into person/yu-ji-tae'?" in output
    assert "people.yaml:5" in output.split("did you mean")[0].rsplit("\n", 1)[-1]


@pytest.mark.parametrize("movies, decisions", [
    # the value the curators wrote themselves is the one preferred
    ("a-film: {name: A Film, production_year: 2011, claims: {cur-a: {name: A Film, production_year: 2011}, "
     "cur-b: {name: A Film, production_year: 2012}}}",
     "- prefer movie/a-film production_year from cur-a"),
    # two merged records' own values settle nothing: a preference does
    ("a-film: {name: A Film, production_year: 2011, claims: {cur-a: {name: A Film, production_year: 2011}}}\n"
     "          a-film-2: {name: A Film, production_year: 2012, claims: {cur-b: {name: A Film, production_year: 2012}}}",
     "- merge movie/a-film-2 into movie/a-film\n          - prefer movie/a-film production_year from cur-b"),
], ids=["the-curators-own-value", "merged-records-values"])
def test_a_preference_beside_the_curators_own_values_that_contradicts_none_is_built(empty_project, write, run_kg,
                                                                                     movies, decisions):
    write(empty_project, "films.yaml", f"""
        sources:
          cur-a: {{name: Catalogue A, type: CreativeWork}}
          cur-b: {{name: Catalogue B, type: CreativeWork}}
        movies:
          {movies}
        decisions:
          {decisions}
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output


def test_a_preference_for_a_source_that_gives_no_value_says_so_though_the_curators_gave_one(empty_project, write,
                                                                                              run_kg):
    write(empty_project, "films.yaml", """
        sources:
          cur-a: {name: Catalogue A, type: CreativeWork}
        movies:
          a-film: {name: A Film, production_year: 2011, claims: {cur-a: {name: A Film}}}
        decisions:
          - prefer movie/a-film production_year from cur-a
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "'cur-a' gives no production_year" in output


# two records of one film merged, each with its date from one file; the curators' own date settles it
SALT_FLOWERS = """
        sources:
          prog: {name: Programme export, type: WebPage}
        movies:
          salt-flower: {name: Salt Flower, release_date: 2024-05-09,
                        claims: {prog: {name: Salt Flower, release_date: 2024-05-03}}}
          salt-flowers: {name: Salt Flowers, claims: {prog: {name: Salt Flowers, release_date: 2024-05-09}}}
        decisions:
          - merge movie/salt-flowers into movie/salt-flower
        """


def test_a_preference_for_a_source_that_gives_two_of_the_values_is_refused(empty_project, write, run_kg):
    write(empty_project, "films.yaml", """
        sources:
          prog: {name: Programme export, type: WebPage}
        movies:
          salt-flower: {name: Salt Flower, claims: {prog: {name: Salt Flower, release_date: 2024-05-03}}}
          salt-flowers: {name: Salt Flowers, claims: {prog: {name: Salt Flowers, release_date: 2024-05-09}}}
        decisions:
          - merge movie/salt-flowers into movie/salt-flower
          - prefer movie/salt-flower release_date from prog
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 2, output
    assert "films.yaml:8: decisions: movie/salt-flower: 'prog' gives 2 values of release_date (2024-05-03, " \
           "2024-05-09, of the records merged), so preferring it settles nothing" in output
    write(empty_project, "films.yaml", SALT_FLOWERS)  # what the message says to do instead: the curators' own value
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    meta = json.loads((empty_project / "var" / "current" / "release.json").read_text(encoding="utf-8"))
    assert [(c["preferred"], c["decided"]) for c in meta["conflicts"]] == [("2024-05-09", "the curators' own value")]


@pytest.mark.parametrize("own", ["", " production_year: 2023,"])
def test_a_preference_for_an_rdf_file_that_states_two_of_the_values_is_refused(empty_project, write, run_kg, own):
    write(empty_project, "films.yaml", f"""
        sources:
          kit: {{name: Press kit}}
        movies:
          salt-road: {{name: Salt Road,{own} claims: {{kit: {{name: Salt Road, production_year: 2020}}}}}}
        decisions:
          - prefer movie/salt-road production_year from extra
        """)
    (empty_project / "data" / "extra.ttl").write_text(
        "@prefix schema: <http://schema.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        '<https://films.example.org/movie/salt-road> schema:dateCreated "2024"^^xsd:gYear, "2022"^^xsd:gYear .\n',
        encoding="utf-8")
    code, output = run_kg(empty_project, "build")
    assert code == 2, output
    assert "movie/salt-road: 'extra' gives 2 values of production_year" in output
    assert ("the curators' own production_year (2023) settles it already: drop this decision" if own else
            "give the record its production_year in its own fields") in output


def test_values_one_source_gives_are_each_marked_preferred_or_not_on_a_row_of_their_own(empty_project, write,
                                                                                           run_kg):
    from server import create_app

    write(empty_project, "films.yaml", SALT_FLOWERS)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    html = create_app(root=empty_project, cache_mb=0).test_client().get("/movie/salt-flower").get_data(as_text=True)
    rows = [re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", row)).strip()
            for row in re.findall(r"(?s)<tr>.*?</tr>", html) if "May 2024" in row]
    assert rows == ["release date 9 May 2024 (preferred) Programme export",
                    "release date 3 May 2024 (also stated) Programme export"], rows


def _catalogue(write: Callable[[Path, str, str], Path], root: Path, name: str, columns: str, rows: str) -> None:
    """A CSV file of films and its mapping, as the source `name`."""
    (root / "data" / f"{name}.csv").write_text(f"id,title,{columns}\n{rows}", encoding="utf-8")
    fields = "\n".join(f"  {f}: {c}" for f, c in (("running_time", "minutes"), ("genre", "genre")) if c in columns)
    write(root, f"{name}.mapping.yaml", f"""
        source: {{key: {name}, name: {name}, type: CreativeWork}}
        files: {name}.csv
        record: movie
        key: {{id: id}}
        fields:
          name: title
        """ + fields + "\n")


def test_a_conflict_between_bulk_files_is_located_at_a_row_giving_one_of_the_values(empty_project, write, run_kg):
    _catalogue(write, empty_project, "0-genres", "genre", "f1,Night River,drama\n")  # read first: gives neither
    _catalogue(write, empty_project, "cat-a", "minutes", "f2,Blue Road,90\nf1,Night River,100\n")
    _catalogue(write, empty_project, "cat-b", "minutes", "f1,Night River,110\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    meta = json.loads((empty_project / "var" / "current" / "release.json").read_text(encoding="utf-8"))
    assert [(c["subject"].rsplit("/", 1)[-1], c["where"]) for c in meta["conflicts"]] == [("f1", "data/cat-a.csv:3 [f1]")]
    assert "according to cat-b  [data/cat-a.csv:3 [f1]]" in output


RDF_FACTS = """\
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://films.example.org/movie/salt-road> schema:duration "PT2H"^^xsd:duration ;
    schema:dateCreated "2012"^^xsd:gYear .
"""


@pytest.mark.parametrize("field, value", [("running_time", "PT2H"), ("production_year", "2012")])
def test_a_preference_for_what_an_rdf_file_states_settles_the_conflict(empty_project, write, run_kg, field, value):
    (empty_project / "data" / "extra.ttl").write_text(RDF_FACTS, encoding="utf-8")
    write(empty_project, "films.yaml", f"""
        sources:
          cat: {{name: Catalogue, type: CreativeWork}}
        movies:
          salt-road: {{name: The Salt Road, claims: {{cat: {{name: The Salt Road, running_time: 138,
                                                      production_year: 2011}}}}}}
        decisions:
          - prefer movie/salt-road {field} from extra
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    conflicts = json.loads(next((empty_project / "var" / "releases").glob("*/release.json")).read_text())["conflicts"]
    settled = [c for c in conflicts if c["preferred"] is not None]
    assert [c["preferred"] for c in settled] == [value] and settled[0]["decided"].endswith("films.yaml:7")


@pytest.mark.parametrize("name, text, field", [
    # said in a named graph of the file's own: not the source graph a preference picks from
    ("extra.trig", "<http://example.org/g> { <https://films.example.org/movie/salt-road> "
                   "<http://schema.org/duration> \"PT2H\"^^<http://www.w3.org/2001/XMLSchema#duration> }",
     "running_time"),
    # a node of the film's own, but not its budget's
    ("extra.ttl", "<https://films.example.org/movie/salt-road#domesticGross> <http://schema.org/value> 7 .", "budget"),
])
def test_a_preference_for_an_rdf_file_counts_only_what_the_conflict_would_be_between(empty_project, write, run_kg,
                                                                                    name, text, field):
    (empty_project / "data" / name).write_text(text + "\n", encoding="utf-8")
    write(empty_project, "films.yaml", f"""
        sources:
          cat: {{name: Catalogue, type: CreativeWork}}
        movies:
          salt-road: {{name: The Salt Road, claims: {{cat: {{name: The Salt Road, running_time: 138,
                                                      budget: {{amount: 10, currency: USD}}}}}}}}
        decisions:
          - prefer movie/salt-road {field} from extra
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"'extra' gives no {field} (sources that do: cat)" in output, output


def test_a_line_added_above_a_prefer_decision_changes_no_published_statement(empty_project, write, run_kg):
    text = """
        sources:
          cur-a: {name: Catalogue A, type: CreativeWork}
          cur-b: {name: Catalogue B, type: CreativeWork}
        movies:
          a-film: {name: A Film, claims: {cur-a: {name: A Film, production_year: 2011},
                                          cur-b: {name: A Film, production_year: 2012}}}
        decisions:
          - prefer movie/a-film production_year from cur-b
        """
    write(empty_project, "films.yaml", text)
    assert run_kg(empty_project, "build")[0] == 0
    write(empty_project, "films.yaml", "# the curators' notes, added above\n" + textwrap.dedent(text).lstrip())
    assert run_kg(empty_project, "build")[0] == 0
    code, output = run_kg(empty_project, "diff")
    assert code == 0 and "0 statements removed, 0 added" in output, output
    store = ox.Store.read_only(str(current(empty_project / "var") / "store"))
    comment = [r["c"].value for r in store.query(  # type: ignore[union-attr]
        "SELECT ?c WHERE { ?x a <https://films.example.org/vocab#Conflict> ; "
        "<http://www.w3.org/2000/01/rdf-schema#comment> ?c }")]
    assert comment == ["Sources disagree: https://films.example.org/movie/a-film dateCreated: '2011' according to "
                       "cur-a; '2012' according to cur-b (settled: '2012' preferred, as decided in data/films.yaml)"]


def test_a_preference_for_an_rdf_file_that_states_nothing_of_the_field_says_which_sources_do(empty_project, write,
                                                                                               run_kg):
    (empty_project / "data" / "extra.ttl").write_text(RDF_FACTS, encoding="utf-8")
    write(empty_project, "films.yaml", """
        sources:
          cat: {name: Catalogue, type: CreativeWork}
        movies:
          salt-road: {name: The Salt Road, claims: {cat: {name: The Salt Road, release_date: 2011-05-01}}}
        decisions:
          - prefer movie/salt-road release_date from extra
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "'extra' gives no release_date (sources that do: cat)" in output, output


@pytest.mark.parametrize("people, decisions", [
    ("yu-ji-tae: {name: Yu Ji-tae}\n          kim-min-hee: {name: Kim Min-hee}",  # a rename: nothing near the key
     "- merge person/ji-tae-yu into person/yu-ji-tae"),
    ("lee-sun-mi: {name: Lee Sun-mi}\n          lee-sung-jin: {name: Lee Sung-jin}",  # merged already, above
     "- merge person/lee-sun-mi into person/lee-sung-jin\n          - merge person/lee-sun-mii into person/lee-sung-jin"),
    ("film-917-2007: {name: Film 917}\n          film-seventeen-2007: {name: Film Seventeen}",  # only digits differ
     "- merge person/film-17-2007 into person/film-seventeen-2007"),
    ("yoo-ji-tae: {name: Yoo Ji-tae}\n          yu-ji-tae: {name: Yu Ji-tae}",  # the curators said it is no typo
     "- merge person/yoo-ji-tea into person/yu-ji-tae\n          - not_same person/yoo-ji-tea person/yoo-ji-tae"),
])
def test_a_rename_is_not_taken_for_a_mistyped_merge(empty_project, write, run_kg, people, decisions):
    write(empty_project, "people.yaml", f"""
        people:
          {people}
        decisions:
          {decisions}
        """)
    code, output = run_kg(empty_project, "build", "--verbose")
    assert code == 0, output
    assert "did you mean" not in output


def test_a_damaged_moved_file_is_logged_not_ignored(empty_project, write, run_kg, caplog):
    from server import create_app

    write(empty_project, "films.yaml", "movies:\n  a: {name: A}\n")
    assert run_kg(empty_project, "build")[0] == 0
    (current(empty_project / "var") / "moved.json").write_text("{not json", encoding="utf-8")
    assert create_app(root=empty_project, cache_mb=0).test_client().get("/movie/a").status_code == 200
    assert "moved.json cannot be read" in caplog.text and "not redirected or gone" in caplog.text
