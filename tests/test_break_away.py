"""The Break Away data set: the facts of the source page, queried with SPARQL from the built store."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
import pytest

from conftest import BASE, REPO
from kg.build.pipeline import build
from kg.config import load_config
from kg.layout import STORE_DIR, current

PREFIX = f"""PREFIX schema: <http://schema.org/>
PREFIX kgv: <https://films.example.org/vocab#>
PREFIX : <{BASE}>
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ox.Store:
    root = tmp_path_factory.mktemp("release")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "shapes", root / "shapes")
    result = build(load_config(root))
    assert result.report.conforms
    release = current(root / "var")
    assert release is not None
    return ox.Store.read_only(str(release / STORE_DIR))


def rows(store: ox.Store, query: str) -> set[tuple[str, ...]]:
    return {tuple(term.value if term is not None else "" for term in row)
            for row in store.query(PREFIX + query)}


def sources_of(store: ox.Store, s: str, p: str, o: str) -> set[str]:
    """Which source documents assert a statement."""
    found = store.query(PREFIX + f"SELECT ?g WHERE {{ GRAPH ?g {{ {s} {p} {o} }} }}")
    return {row["g"].value.rsplit("/", 1)[-1] for row in found}


def test_titles_with_language_tags(store):
    assert rows(store, "SELECT ?n (LANG(?n) AS ?l) WHERE { <movie/break-away> schema:name|schema:alternateName ?n }"
                .replace("<movie/", f"<{BASE}movie/")) == {("Break Away", ""), ("탈주", "ko"), ("Talju", "ko-latn")}


def test_korean_title_comes_from_the_forum_post_and_romanisation_from_the_review(store):
    assert sources_of(store, ":movie\\/break-away", "schema:alternateName", '"탈주"@ko') == {"forum-post"}
    assert sources_of(store, ":movie\\/break-away", "schema:alternateName", '"Talju"@ko-Latn') == {
        "variety-review-2009-10-14"}


@pytest.mark.parametrize(("prop", "people"), [
    ("schema:director", {"leesong-hee-il"}),
    ("schema:author", {"leesong-hee-il"}),
    ("schema:editor", {"leesong-hee-il"}),
    ("kgv:executiveProducer", {"kimjho-gwang-soo", "lee-sun-mi"}),
    ("schema:producer", {"cho-yoon-jin"}),
    ("kgv:cinematographer", {"yun-ji-un"}),
    ("kgv:lightingDirector", {"kang-seong-hun"}),
    ("schema:musicBy", {"lee-byung-hoon"}),
    ("kgv:soundDesigner", {"lee-sung-jin"}),
    ("schema:productionCompany", {"generation-blue-films"}),
    ("kgv:inAssociationWith", {"ktb"}),
    ("kgv:salesAgent", {"finecut"}),
    ("schema:countryOfOrigin", {"south-korea"}),
])
def test_crew_and_companies(store, prop, people):
    found = rows(store, f"SELECT ?x WHERE {{ :movie\\/break-away {prop} ?x }}")
    assert {x[0].rsplit("/", 1)[-1] for x in found} == people


def test_cast_with_the_characters_they_play(store):
    found = rows(store, """SELECT ?actor ?character WHERE {
        GRAPH :source\\/finecut-press-kit { :movie\\/break-away schema:actor ?role .
            ?role schema:actor ?actor ; schema:characterName ?character } }""")
    assert {(a.rsplit("/", 1)[-1], c) for a, c in found} == {
        ("lee-yeong-hoon", "Jae-hoon"), ("so-yu-jin", "So-young"), ("jin-yi-han", "Min-jae")}


def test_fourth_soldier_is_a_character_with_no_actor(store):
    found = rows(store, """SELECT ?name WHERE { :movie\\/break-away schema:character ?c . ?c schema:name ?name .
        FILTER NOT EXISTS { :movie\\/break-away schema:actor ?r . ?r schema:characterName ?cn .
                            ?c schema:name|schema:alternateName ?cn } }""")
    assert found == {("Dong-min",)}


def test_tech_info(store):
    found = rows(store, """SELECT ?p ?v WHERE { :movie\\/break-away ?p ?v .
        FILTER(?p IN (schema:duration, schema:datePublished, schema:inLanguage, kgv:format, kgv:aspectRatio,
                      kgv:colour, kgv:soundMix, kgv:featureNumber, schema:creativeWorkStatus)) }""")
    assert {(p.rsplit("/", 1)[-1].rsplit("#", 1)[-1], v) for p, v in found} == {
        ("duration", "PT1H49M"), ("datePublished", "2010-09-02"), ("inLanguage", "ko"), ("format", "HD"),
        ("aspectRatio", "2.35:1"), ("colour", "Color"), ("soundMix", "Stereo"), ("featureNumber", "2"),
        ("creativeWorkStatus", "post-production")}


def test_budget_is_a_monetary_amount_in_usd(store):
    assert rows(store, """SELECT ?v ?c WHERE { :movie\\/break-away kgv:budget ?b .
        ?b a schema:MonetaryAmount ; schema:value ?v ; schema:currency ?c }""") == {("700000", "USD")}


@pytest.mark.parametrize(("key", "variants"), [
    ("leesong-hee-il", {"LEESONG Hee-il": "finecut-press-kit", "Lee Song Hee-il": "variety-review-2009-10-14",
                        "Lee Song": "variety-review-2009-10-14"}),
    ("lee-yeong-hoon", {"LEE Yeong-hoon": "finecut-press-kit", "Lee Yeong-hun": "variety-review-2009-10-14"}),
    ("jin-yi-han", {"JIN Yi-han": "finecut-press-kit", "Jin I-han": "variety-review-2009-10-14"}),
    ("yun-ji-un", {"YUN Ji-un": "finecut-press-kit", "Yun Ji-woon": "variety-review-2009-10-14"}),
    ("lee-byung-hoon", {"LEE Byung-hoon": "finecut-press-kit", "Lee Byong-hun": "variety-review-2009-10-14"}),
    ("cho-yoon-jin", {"CHO Yoon-jin": "finecut-press-kit", "Jo Yun-jin": "variety-review-2009-10-14"}),
    ("kimjho-gwang-soo", {"KIMJHO Gwang-soo": "finecut-press-kit", "Kim Jo Gwang-su": "variety-review-2009-10-14"}),
    ("lee-sun-mi", {"LEE Sun-mi": "finecut-press-kit", "Lee Seon-mi": "variety-review-2009-10-14"}),
])
def test_one_iri_per_person_with_every_spelling_traceable(store, key, variants):
    names = rows(store, f"SELECT ?n WHERE {{ :person\\/{key} schema:name ?n }}")
    assert len(names) == 1
    for variant, source in variants.items():
        assert sources_of(store, f":person\\/{key}", "schema:alternateName", f'"{variant}"') == {source}


def test_preferred_spelling_used_by_a_source_is_traced_to_it(store):
    assert sources_of(store, ":person\\/leesong-hee-il", "schema:name", '"Leesong Hee-il"') == {
        "editorial", "variety-news-2008-11-07"}


def test_conflicts_are_kept_with_their_sources(store):
    assert sources_of(store, ":movie\\/break-away", "schema:dateCreated", '"2009"^^<http://www.w3.org/2001/XMLSchema#gYear>') == {"finecut-press-kit"}
    assert sources_of(store, ":movie\\/break-away", "schema:dateCreated", '"2008"^^<http://www.w3.org/2001/XMLSchema#gYear>') == {"forum-post"}
    found = rows(store, """SELECT ?p (COUNT(?v) AS ?n) WHERE { ?c a kgv:Conflict ; kgv:conflictSubject :movie\\/break-away ;
        kgv:conflictProperty ?p ; kgv:conflictValue ?v } GROUP BY ?p""")
    assert found == {("http://schema.org/dateCreated", "2"), ("https://films.example.org/vocab#storyDuration", "2")}


def test_festival_list_belongs_to_no_regret(store):
    found = rows(store, """SELECT ?film ?festival WHERE { ?s a schema:ScreeningEvent ; schema:workPresented ?film ;
        schema:superEvent ?festival }""")
    assert {(f.rsplit("/", 1)[-1], e.rsplit("/", 1)[-1]) for f, e in found} == {
        ("no-regret", "berlinale-57"), ("no-regret", "piff-11"), ("break-away", "piff-2009")}


def test_review_of_the_film(store):
    found = rows(store, """SELECT ?r ?date ?pub WHERE { :movie\\/break-away schema:review ?r .
        ?r a schema:Review ; schema:dateCreated ?date ; schema:publisher ?pub ; schema:reviewBody ?body }""")
    assert {(r.rsplit("/", 1)[-1], d, p.rsplit("/", 1)[-1]) for r, d, p in found} == {
        ("variety-review-2009-10-14", "2009-10-14", "variety")}


def test_sales_company_formed_by_a_former_cineclick_asia_head(store):
    assert rows(store, """SELECT ?name ?old WHERE { :organization\\/finecut schema:founder ?f .
        ?f schema:name ?name ; kgv:formerEmployer ?o . ?o schema:name ?old }""") == {("Suh Youngjoo", "Cineclick Asia")}


def test_other_films_the_sales_company_represents(store):
    found = rows(store, """SELECT ?title ?director ?country WHERE { ?m kgv:salesAgent :organization\\/finecut ;
        schema:name ?title ; schema:director/schema:name ?director .
        OPTIONAL { ?m schema:countryOfOrigin/schema:name ?country } FILTER(?m != :movie\\/break-away) }""")
    assert found == {("The Opium War", "Siddiq Barmak", "Afghanistan"), ("Lion's Den", "Pablo Trapero", "Argentina"),
                     ("Crossing", "Kim Tae-kyun", "South Korea"),
                     ("Searching for the Elephant", "S.K. Jhung", "South Korea")}


def test_star_of_searching_for_the_elephant_and_volcano_high(store):
    found = rows(store, "SELECT ?t WHERE { ?m schema:actor :person\\/jang-hyuk ; schema:name ?t }")
    assert found == {("Searching for the Elephant",), ("Volcano High",)}


def test_directors_first_feature_and_the_1960_film_he_cites(store):
    assert rows(store, """SELECT ?t WHERE { ?m schema:director :person\\/leesong-hee-il ; kgv:featureNumber 1 ;
        schema:name ?t }""") == {("No Regret",)}
    assert rows(store, """SELECT ?t ?y ?d WHERE { ?w schema:citation ?m ; schema:author :person\\/leesong-hee-il .
        ?m schema:name ?t ; schema:dateCreated ?y ; schema:director/schema:name ?d }""") == {
        ("Ballad of a Soldier", "1960", "Grigory Chukhrai")}


def test_default_graph_is_the_set_union_of_the_source_graphs(store):
    union = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in store
             if not isinstance(q.graph_name, ox.DefaultGraph)}
    default = [str(ox.Triple(q.subject, q.predicate, q.object))
               for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    assert sorted(default) == sorted(union)


def test_counting_in_the_default_graph_counts_each_statement_once(store):
    n = rows(store, "SELECT (COUNT(*) AS ?n) WHERE { :movie\\/break-away schema:director ?d }")
    assert n == {("1",)}
