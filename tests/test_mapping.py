"""records -> quads: every field maps to exactly the expected statements, in the right source graph."""

from __future__ import annotations

import random
import textwrap

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BASE, nquads, parse_nquads
from kg import vocab
from kg.build.mapping import (
    Conflict,
    Mapped,
    Preference,
    conflict_quads,
    find_conflicts,
    map_records,
    preferences,
    stream,
)
from kg.build.sources import read_records, read_sources
from kg.ids import Minter
from kg.literals import finest_date
from kg.model import KINDS

PREFIXES = f"""
@prefix schema: <http://schema.org/> .
@prefix kgv: <https://films.example.org/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix : <{BASE}> .
@base <{BASE}> .
"""

WORLD = """
sources:
  doc: {name: Doc}
people:
  p: {name: P}
characters:
  c: {name: C}
organizations:
  o: {name: O}
countries:
  kr: {name: Korea, code: KR}
events:
  fest: {name: F, type: Festival}
movies:
  other: {name: Other}
"""

# (kind, key, one field as YAML, the statements that claim makes in graph :source/doc, as Turtle)
FIELD_CASES = [
    ("movies", "movie/x", "name: X", '<movie/x> schema:name "X" .'),
    ("movies", "movie/x", "name: Ex", '<movie/x> schema:alternateName "Ex" .'),
    ("movies", "movie/x", "alternate_name: [{text: 탈주, lang: ko}, Talju]",
     '<movie/x> schema:alternateName "탈주"@ko, "Talju" .'),
    ("movies", "movie/x", "description: [{text: Synopsis, lang: en}]", '<movie/x> schema:description "Synopsis"@en .'),
    ("movies", "movie/x", "same_as: ['https://www.wikidata.org/wiki/Q1']",
     "<movie/x> schema:sameAs <https://www.wikidata.org/wiki/Q1> ."),
    ("movies", "movie/x", "image: ['https://img.example/x.jpg']", "<movie/x> schema:image <https://img.example/x.jpg> ."),
    ("movies", "movie/x", "url: 'https://x.example/'", "<movie/x> schema:url <https://x.example/> ."),
    ("movies", "movie/x", "genre: [drama]", '<movie/x> schema:genre "drama" .'),
    ("movies", "movie/x", "keywords: [desertion]", '<movie/x> schema:keywords "desertion" .'),
    ("movies", "movie/x", "director: [p]", "<movie/x> schema:director <person/p> ."),
    ("movies", "movie/x", "screenplay: [p]", "<movie/x> schema:author <person/p> ."),
    ("movies", "movie/x", "editor: [p]", "<movie/x> schema:editor <person/p> ."),
    ("movies", "movie/x", "producer: [p]", "<movie/x> schema:producer <person/p> ."),
    ("movies", "movie/x", "executive_producer: [p]", "<movie/x> kgv:executiveProducer <person/p> ."),
    ("movies", "movie/x", "cinematographer: [p]", "<movie/x> kgv:cinematographer <person/p> ."),
    ("movies", "movie/x", "lighting_director: [p]", "<movie/x> kgv:lightingDirector <person/p> ."),
    ("movies", "movie/x", "composer: [p]", "<movie/x> schema:musicBy <person/p> ."),
    ("movies", "movie/x", "sound: [p]", "<movie/x> kgv:soundDesigner <person/p> ."),
    ("movies", "movie/x", "actor: [p]", "<movie/x> schema:actor <person/p> ."),
    ("movies", "movie/x", "cast: [{actor: p, character: c, character_name: Jae-hoon}]",
     """<movie/x> schema:actor <movie/x#cast-p-c> ; schema:character <character/c> .
        <movie/x#cast-p-c> a schema:PerformanceRole ; schema:actor <person/p> ; schema:characterName "Jae-hoon" ."""),
    ("movies", "movie/x", "cast: [{actor: p}]",
     """<movie/x> schema:actor <movie/x#cast-p> .
        <movie/x#cast-p> a schema:PerformanceRole ; schema:actor <person/p> ."""),
    ("movies", "movie/x", "cast: [{actor: p, character_name: Madea, billing: 1, category: Leading}]",
     """<movie/x> schema:actor <movie/x#cast-p> .
        <movie/x#cast-p> a schema:PerformanceRole ; schema:actor <person/p> ; schema:characterName "Madea" ;
            kgv:billing 1 ; kgv:castCategory "Leading" ."""),
    ("movies", "movie/x", "crew: [{person: p, department: Visual Effects}]",
     """<movie/x> schema:contributor <movie/x#crew-p-visual-effects> .
        <movie/x#crew-p-visual-effects> a schema:Role ; schema:contributor <person/p> ;
            schema:roleName "Visual Effects" ."""),
    ("movies", "movie/x", "domestic_gross: {amount: 25682380, currency: USD}",
     """<movie/x> kgv:domesticGross <movie/x#domesticGross> .
        <movie/x#domesticGross> a schema:MonetaryAmount ; schema:value "25682380"^^xsd:decimal ; schema:currency "USD" ."""),
    ("movies", "movie/x", "worldwide_gross: {amount: 42195766, currency: USD}",
     """<movie/x> kgv:worldwideGross <movie/x#worldwideGross> .
        <movie/x#worldwideGross> a schema:MonetaryAmount ; schema:value "42195766"^^xsd:decimal ; schema:currency "USD" ."""),
    ("movies", "movie/x", "character: [c]", "<movie/x> schema:character <character/c> ."),
    ("movies", "movie/x", "production_company: [o]", "<movie/x> schema:productionCompany <organization/o> ."),
    ("movies", "movie/x", "in_association_with: [o]", "<movie/x> kgv:inAssociationWith <organization/o> ."),
    ("movies", "movie/x", "sales_agent: [o]", "<movie/x> kgv:salesAgent <organization/o> ."),
    ("movies", "movie/x", "running_time: 109", '<movie/x> schema:duration "PT1H49M"^^xsd:duration .'),
    ("movies", "movie/x", "production_year: 2009", '<movie/x> schema:dateCreated "2009"^^xsd:gYear .'),
    ("movies", "movie/x", "release_date: 2010-09-02", '<movie/x> schema:datePublished "2010-09-02"^^xsd:date .'),
    ("movies", "movie/x", "country: [kr]", "<movie/x> schema:countryOfOrigin <country/kr> ."),
    ("movies", "movie/x", "language: [ko]", '<movie/x> schema:inLanguage "ko" .'),
    ("movies", "movie/x", "format: HD", '<movie/x> kgv:format "HD" .'),
    ("movies", "movie/x", "aspect_ratio: '2.35:1'", '<movie/x> kgv:aspectRatio "2.35:1" .'),
    ("movies", "movie/x", "colour: Color", '<movie/x> kgv:colour "Color" .'),
    ("movies", "movie/x", "sound_mix: Stereo", '<movie/x> kgv:soundMix "Stereo" .'),
    ("movies", "movie/x", "budget: {amount: 700000, currency: USD}",
     """<movie/x> kgv:budget <movie/x#budget> .
        <movie/x#budget> a schema:MonetaryAmount ; schema:value "700000"^^xsd:decimal ; schema:currency "USD" ."""),
    ("movies", "movie/x", "status: post-production", '<movie/x> schema:creativeWorkStatus "post-production" .'),
    ("movies", "movie/x", "story_duration: P6D", '<movie/x> kgv:storyDuration "P6D"^^xsd:duration .'),
    ("movies", "movie/x", "feature_number: 2", '<movie/x> kgv:featureNumber "2"^^xsd:integer .'),
    ("people", "person/x", "birth_date: 1971", '<person/x> schema:birthDate "1971"^^xsd:gYear .'),
    ("people", "person/x", "birth_date: 1971-02-03", '<person/x> schema:birthDate "1971-02-03"^^xsd:date .'),
    ("people", "person/x", "job_title: [singer]", '<person/x> schema:jobTitle "singer" .'),
    ("people", "person/x", "award: [{text: 여우주연상, lang: ko}]", '<person/x> schema:award "여우주연상"@ko .'),
    ("movies", "movie/x", 'award: ["Audience Award, Seoul 2019"]', '<movie/x> schema:award "Audience Award, Seoul 2019" .'),
    ("movies", "movie/x", "aggregate_rating: {value: 7.8, best: 10, count: 1520}",
     """<movie/x> schema:aggregateRating <movie/x#aggregateRating> .
        <movie/x#aggregateRating> a schema:AggregateRating ; schema:ratingValue "7.8"^^xsd:decimal ;
            schema:bestRating "10"^^xsd:decimal ; schema:ratingCount 1520 ."""),
    ("movies", "movie/x", "aggregate_rating: 4",
     """<movie/x> schema:aggregateRating <movie/x#aggregateRating> .
        <movie/x#aggregateRating> a schema:AggregateRating ; schema:ratingValue "4"^^xsd:decimal ."""),
    ("people", "person/x", "former_employer: [o]", "<person/x> kgv:formerEmployer <organization/o> ."),
    ("people", "person/x", "works_for: [o]", "<person/x> schema:worksFor <organization/o> ."),
    ("characters", "character/x", "description: Rookie", '<character/x> schema:description "Rookie" .'),
    ("organizations", "organization/x", "founder: [p]", "<organization/x> schema:founder <person/p> ."),
    ("organizations", "organization/x", "location: Seoul", '<organization/x> schema:location "Seoul" .'),
    ("countries", "country/x", "code: AF", '<country/x> schema:identifier "AF" .'),
    ("events", "event/x", "start_date: 2009-10-14", '<event/x> schema:startDate "2009-10-14"^^xsd:date .'),
    ("events", "event/x", "end_date: 2009-10-16", '<event/x> schema:endDate "2009-10-16"^^xsd:date .'),
    ("events", "event/x", "location: Busan", '<event/x> schema:location "Busan" .'),
    ("events", "event/x", "super_event: fest",
     "<event/x> schema:superEvent <event/fest> . <event/fest> schema:subEvent <event/x> ."),
    ("events", "event/x", "work_presented: [other]", "<event/x> schema:workPresented <movie/other> ."),
    ("events", "event/x", "organizer: [o]", "<event/x> schema:organizer <organization/o> ."),
    ("works", "work/x", "author: [p]", "<work/x> schema:author <person/p> ."),
    ("works", "work/x", "about: [other]", "<work/x> schema:about <movie/other> ."),
    ("works", "work/x", "text: Statement", '<work/x> schema:text "Statement" .'),
    ("works", "work/x", "citation: [other]", "<work/x> schema:citation <movie/other> ."),
]


def _claim_quads(project, write, section: str, field_yaml: str) -> set[str]:
    key_name = "X"
    write(project, "world.yaml", WORLD)
    write(project, "case.yaml", f"""
        {section}:
          x:
            name: {key_name}
            claims:
              doc:
                {field_yaml}
        """)
    records = read_records(project / "data", root=project)
    from kg.ids import Minter

    mapped = map_records(records, Minter(BASE))
    doc = f"<{BASE}source/doc>"
    return {q for q in nquads(mapped.quads) if q.endswith(doc) and not q.startswith(doc)}


def _expected(turtle: str) -> set[str]:
    return parse_nquads(PREFIXES + f"<source/doc> {{\n{textwrap.dedent(turtle)}\n}}")


@pytest.mark.parametrize(("section", "subject", "field_yaml", "turtle"), FIELD_CASES,
                         ids=[f"{c[0]}.{c[2].split(':')[0]}-{i}" for i, c in enumerate(FIELD_CASES)])
def test_field_maps_to_expected_statements(section, subject, field_yaml, turtle, empty_project, write):
    assert _claim_quads(empty_project, write, section, field_yaml) == _expected(turtle)


def test_every_field_of_every_kind_is_covered():
    covered = {(c[0], c[2].split(":")[0]) for c in FIELD_CASES} | {(s[0], s[1]) for s in SOURCE_CASES}
    missing = [(k.section, f.name) for k in KINDS.values() for f in k.fields
               if f.vtype != "type" and (k.section, f.name) not in covered
               and not (f.name in {"name", "alternate_name", "description", "same_as", "image", "url"}
                        and k.section != "sources")]
    assert missing == []


# source documents describe themselves, in their own graph
SOURCE_CASES = [
    ("sources", "name", "name: A title", '<source/s> schema:name "A title" .'),
    ("sources", "alternative_headline", "alternative_headline: Sub", '<source/s> schema:alternativeHeadline "Sub" .'),
    ("sources", "publisher", "publisher: o", "<source/s> schema:publisher <organization/o> ."),
    ("sources", "author", "author: [p]", "<source/s> schema:author <person/p> ."),
    ("sources", "author_organization", "author_organization: [o]", "<source/s> schema:author <organization/o> ."),
    ("sources", "credit", "credit: kdramafanusa", '<source/s> schema:creditText "kdramafanusa" .'),
    ("sources", "date_published", "date_published: 2008-11-07",
     '<source/s> schema:datePublished "2008-11-07"^^xsd:date .'),
    ("sources", "date_created", "date_created: 2009-10-14", '<source/s> schema:dateCreated "2009-10-14"^^xsd:date .'),
    ("sources", "url", "url: 'https://news.example/a'", "<source/s> schema:url <https://news.example/a> ."),
    ("sources", "quote", "quote: Pic is in post", '<source/s> schema:text "Pic is in post" .'),
    ("sources", "quoted_in", "quoted_in: doc", "<source/doc> prov:wasQuotedFrom <source/s> ."),
    ("sources", "about", "about: [other]", "<source/s> schema:about <movie/other> ."),
    ("sources", "item_reviewed", "item_reviewed: other",
     "<source/s> schema:itemReviewed <movie/other> . <movie/other> schema:review <source/s> ."),
    ("sources", "review_body", "review_body: Classy", '<source/s> schema:reviewBody "Classy" .'),
    ("sources", "review_rating", "review_rating: {value: 3.5}",
     """<source/s> schema:reviewRating <source/s#reviewRating> .
        <source/s#reviewRating> a schema:Rating ; schema:ratingValue "3.5"^^xsd:decimal ."""),
    ("sources", "genre", "genre: press kit", '<source/s> schema:genre "press kit" .'),
    ("sources", "language", "language: [en]", '<source/s> schema:inLanguage "en" .'),
]


@pytest.mark.parametrize(("section", "field", "field_yaml", "turtle"), SOURCE_CASES, ids=[c[1] for c in SOURCE_CASES])
def test_source_field_maps_into_its_own_graph(section, field, field_yaml, turtle, empty_project, write):
    from kg.ids import Minter

    write(empty_project, "world.yaml", WORLD)
    extra = "" if field == "name" else "    name: A title\n"
    write(empty_project, "case.yaml", f"sources:\n  s:\n{extra}    {field_yaml}\n")
    mapped = map_records(read_records(empty_project / "data", root=empty_project), Minter(BASE))
    graph = f"<{BASE}source/s>"
    got = {q for q in nquads(mapped.quads) if q.endswith(graph)}
    expected_turtle = turtle if field == "name" else turtle + '\n<source/s> schema:name "A title" .'
    expected = parse_nquads(PREFIXES + f"<source/s> {{ {expected_turtle} }}")
    assert got == expected


@pytest.mark.parametrize(("section", "type_yaml", "types"), [
    ("movies", "", ["schema:Movie"]),
    ("people", "", ["schema:Person"]),
    ("characters", "", ["kgv:Character"]),
    ("organizations", "", ["schema:Organization"]),
    ("countries", "code: AF", ["schema:Country"]),
    ("events", "", ["schema:Event"]),
    ("events", "type: ScreeningEvent", ["schema:ScreeningEvent"]),
    ("works", "", ["schema:CreativeWork"]),
    ("sources", "type: NewsArticle", ["prov:Entity", "schema:NewsArticle"]),
    ("sources", "", ["prov:Entity", "schema:CreativeWork"]),
])
def test_types_are_stated_in_the_editorial_graph(section, type_yaml, types, empty_project, write):
    from kg.ids import Minter

    write(empty_project, "case.yaml", f"{section}:\n  x:\n    name: X\n    {type_yaml}\n")
    mapped = map_records(read_records(empty_project / "data", root=empty_project), Minter(BASE))
    path = {"movies": "movie", "people": "person", "characters": "character", "organizations": "organization",
            "countries": "country", "events": "event", "works": "work", "sources": "source"}[section]
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    got = {q for q in nquads(mapped.quads) if rdf_type in q and q.startswith(f"<{BASE}{path}/x>")}
    expected = parse_nquads(PREFIXES + f"<{BASE}source/editorial> {{ <{BASE}{path}/x> a {', '.join(types)} . }}")
    assert got == expected


def test_preferred_name_goes_to_editorial_graph_and_variants_to_their_sources(empty_project, write, minter):
    write(empty_project, "a.yaml", """
        sources:
          kit: {name: Kit}
          review: {name: Review}
        people:
          lee:
            name: Leesong Hee-il
            claims:
              kit: {name: LEESONG Hee-il}
              review: {name: Leesong Hee-il}
        """)
    mapped = map_records(read_records(empty_project / "data", root=empty_project), minter)
    lee = f"<{BASE}person/lee>"
    got = {q for q in nquads(mapped.quads) if q.startswith(lee) and "schema.org/" in q and "Name" in q or
           q.startswith(lee) and "schema.org/name" in q}
    assert got == parse_nquads(PREFIXES + f"""
        <{BASE}source/editorial> {{ {lee} schema:name "Leesong Hee-il" . }}
        <{BASE}source/kit> {{ {lee} schema:alternateName "LEESONG Hee-il" . }}
        <{BASE}source/review> {{ {lee} schema:name "Leesong Hee-il" . }}
        """)


def test_conflicting_single_values_are_recorded_with_sources(empty_project, write, minter):
    write(empty_project, "a.yaml", """
        sources:
          kit: {name: Kit}
          forum: {name: Forum}
        movies:
          x:
            name: X
            claims:
              kit: {production_year: 2009, running_time: 109}
              forum: {production_year: 2008, running_time: 109}
        """)
    mapped = map_records(read_records(empty_project / "data", root=empty_project), minter)
    assert [(c.predicate, c.values) for c in mapped.conflicts] == [
        ("http://schema.org/dateCreated", {"2008": (f"{BASE}source/forum",), "2009": (f"{BASE}source/kit",)})]
    node = f"<{BASE}movie/x#conflict-dateCreated>"
    conflict_quads = {q for q in nquads(mapped.quads) if q.startswith(node) and "conflict" in q.split(" ")[1]}
    assert conflict_quads == parse_nquads(PREFIXES + f"""<{BASE}source/editorial> {{
        {node} kgv:conflictSubject <{BASE}movie/x> ; kgv:conflictProperty schema:dateCreated ;
               kgv:conflictValue "2008"^^xsd:gYear, "2009"^^xsd:gYear . }}""")


@pytest.mark.parametrize(("one", "other", "conflict"), [
    ("1960", "1960-12-20", False),  # a year and a day of it agree: one says more
    ("1960-12-20", "1960", False),
    ("1960", "1961-01-01", True),
    ("1960-12-20", "1960-12-21", True),
])
def test_a_year_and_a_date_in_it_are_no_conflict(empty_project, write, minter, one, other, conflict):
    write(empty_project, "a.yaml", f"""
        sources: {{kit: {{name: Kit}}, forum: {{name: Forum}}}}
        people:
          p: {{name: P, claims: {{kit: {{birth_date: '{one}'}}, forum: {{birth_date: '{other}'}}}}}}
        """)
    assert [c.predicate for c in _conflicts(empty_project, minter)] == (
        ["http://schema.org/birthDate"] if conflict else [])


@pytest.mark.parametrize(("values", "finest"), [
    ([("1960", "gYear"), ("1960-12", "gYearMonth"), ("1960-12-20", "date")], 2),
    ([("-0044-03-15", "date"), ("-0044", "gYear")], 0),
    ([("1960", "gYear"), ("1960-12-20", "date"), ("1961", "gYear")], None),  # two agree, a third does not
    ([("2009-05-01", "date"), ("2009-05-01-05:00", "date")], None),  # a time zone makes it a day of its own
    ([("1960Z", "gYear"), ("1960-12-20", "date")], None),
    ([("1960", "gYear"), ("1960-12-20T10:00:00", "dateTime")], None),  # a time of day: not compared
])
def test_dates_agree_when_each_is_the_finest_told_less_precisely(values, finest):
    assert finest_date([(text, vocab.XSD + kind) for text, kind in values]) == finest


@pytest.mark.parametrize("decided", ["prefer", "own"])
def test_a_curators_choice_between_a_year_and_a_date_in_it_still_holds(empty_project, write, minter, decided):
    write(empty_project, "a.yaml", f"""
        sources: {{kit: {{name: Kit}}, forum: {{name: Forum}}}}
        people:
          p:
            name: P
            {"birth_date: '1960'" if decided == "own" else ""}
            claims: {{kit: {{birth_date: '1960'}}, forum: {{birth_date: '1960-12-20'}}}}
        decisions: {"[prefer person/p birth_date from kit]" if decided == "prefer" else "[]"}
        """)
    assert [(c.predicate, c.preferred) for c in _conflicts(empty_project, minter)] == [
        ("http://schema.org/birthDate", ox.Literal("1960", datatype=vocab.XSD_GYEAR))]


def _conflicts(root, minter) -> list[Conflict]:
    """The conflicts of a project's records, as a build finds them (the curators' preferences applied)."""
    sources = read_sources(root / "data", root=root)
    out, store = Mapped(), ox.Store()
    store.extend(stream(sources.records, minter, out))
    return find_conflicts(store, minter, out, preferences(sources.decisions.prefer, sources.moves, minter))


@pytest.mark.parametrize("decided", [False, True])
def test_sources_disagreeing_on_an_amount_of_money_are_a_conflict_a_curator_settles(empty_project, write, minter,
                                                                                   decided):
    write(empty_project, "a.yaml", """
        sources: {kit: {name: Kit}, forum: {name: Forum}}
        movies:
          x: {name: X, claims: {kit: {budget: {amount: 100, currency: USD}},
                                forum: {budget: {amount: 200, currency: USD}}}}
        decisions: %s
        """ % ("[prefer movie/x budget from forum]" if decided else "[]"))
    conflicts = _conflicts(empty_project, minter)
    budget = f"{BASE}movie/x#budget"
    assert [(c.subject, c.predicate, c.values, c.preferred) for c in conflicts] == [
        (budget, "http://schema.org/value", {"100": (f"{BASE}source/kit",), "200": (f"{BASE}source/forum",)},
         ox.Literal("200", datatype=ox.NamedNode(vocab.XSD + "decimal")) if decided else None)]
    node = f"{BASE}movie/x#conflict-budget-value"  # a node of the film's, about its budget's amount
    assert ox.Quad(ox.NamedNode(node), vocab.K.conflictSubject, ox.NamedNode(budget), minter.editorial()) in list(
        conflict_quads(conflicts, minter))


def test_the_curators_own_value_settles_what_a_single_source_says_otherwise(empty_project, write, run_kg):
    write(empty_project, "a.yaml", """
        sources: {s1: {name: One}}
        movies:
          f: {name: F, running_time: 100, claims: {s1: {running_time: 90}}}
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 0 and "'PT1H40M' (100 min) according to editorial (settled: 'PT1H40M' preferred" in output, output
    code, output = run_kg(empty_project, "embed", "movie/f")
    assert code == 0 and '"PT1H40M"' in output and "PT1H30M" not in output


def test_two_merged_records_own_values_that_differ_are_left_for_the_curators(empty_project, write, minter):
    write(empty_project, "a.yaml", """
        sources: {s1: {name: One}, s2: {name: Two}}
        movies:
          d1: {name: D, production_year: 2003, claims: {s1: {production_year: 2003}}}
          d2: {name: D, production_year: 2002, claims: {s2: {production_year: 2003}}}
        decisions: [merge movie/d2 into movie/d1]
        """)
    conflicts = _conflicts(empty_project, minter)
    assert [(c.subject, c.preferred) for c in conflicts] == [(f"{BASE}movie/d1", None)]  # not the first in order


def test_a_conflict_of_sources_names_each_source_with_its_value():
    c = Conflict(f"{BASE}movie/x", "http://schema.org/dateCreated",
                 {"2008": (f"{BASE}source/forum",), "2009": (f"{BASE}source/kit",)}, None)
    assert c.describe() == f"{BASE}movie/x dateCreated: '2008' according to forum; '2009' according to kit"


def test_one_source_giving_two_values_is_not_told_as_sources_disagreeing():
    c = Conflict(f"{BASE}movie/x", "http://schema.org/dateCreated",
                 {"2008": (f"{BASE}source/markup",), "2009": (f"{BASE}source/markup",)}, None)
    assert c.describe() == f"{BASE}movie/x dateCreated: '2008' and '2009', all according to markup"


def test_same_input_in_any_file_order_gives_identical_quads(project, minter):
    from kg.build.sources import source_files

    files = source_files(project / "data")
    first = map_records(read_records(project / "data", files, project), minter).quads
    shuffled = files[:]
    random.Random(7).shuffle(shuffled)
    second = map_records(read_records(project / "data", shuffled, project), minter).quads
    assert [str(q) for q in first] == [str(q) for q in second]


def test_iris_come_from_the_configured_base(project):
    from kg.ids import Minter

    mapped = map_records(read_records(project / "data", root=project), Minter("https://archive.example/kg/"))
    subjects = {q.subject.value for q in mapped.quads}
    assert "https://archive.example/kg/movie/break-away" in subjects
    assert not any(s.startswith(BASE) and not s.startswith(BASE + "vocab") for s in subjects)


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 400), st.integers(0, 100),
       st.integers(0, 5000), st.integers(0, 5000))
@settings(max_examples=300, deadline=None)
def test_durations_are_written_in_the_stores_canonical_form(y, mo, d, h, mi, sec):
    import pyoxigraph as ox

    from kg.build.mapping import canonical_duration

    text = f"P{y}Y{mo}M{d}DT{h}H{mi}M{sec}S"
    lit = ox.Literal(text, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#duration"))
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://b"), lit))
    stored = next(iter(store)).object.value
    assert canonical_duration(text) == stored


@pytest.mark.parametrize("amount", ["-0.0", "0.00", "-1.50", "1200000", "0.000010"])
def test_a_decimal_is_written_as_the_store_keeps_it(amount):
    from decimal import Decimal

    from kg.build.mapping import _decimal

    literal = _decimal(Decimal(amount))
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("https://x/a"), ox.NamedNode("http://schema.org/value"), literal))
    assert [q.object for q in store] == [literal]


ROLES_WORLD = """
sources: {a: {name: A}, b: {name: B}}
people: {p: {name: P}, q: {name: Q}}
characters: {mira: {name: Mira}, jun-ho: {name: Jun-ho}, twin: {name: Twin}}
"""


@pytest.mark.parametrize(("cast_a", "cast_b", "roles"), [
    # one source names the character's record, the other prints its name, or nothing: one role
    ("{actor: p, character: mira, character_name: Mira}", "{actor: p, character_name: mira}", {"cast-p-mira"}),
    ("{actor: p, character: mira, character_name: Mira}", "{actor: p}", {"cast-p-mira"}),
    ("{actor: p, character: jun-ho}", "{actor: p, character_name: Jun Ho}", {"cast-p-jun-ho"}),  # as its key spells
    # look-alikes kept apart: another name, another actor, an actor with two roles and no name to tell them
    ("{actor: p, character: mira, character_name: Mira}", "{actor: p, character_name: Jun}", {"cast-p-mira", "cast-p"}),
    ("{actor: p, character: mira, character_name: Mira}", "{actor: q, character_name: Mira}", {"cast-p-mira", "cast-q"}),
    ("{actor: p, character: mira}, {actor: p, character: twin}", "{actor: p}", {"cast-p-mira", "cast-p-twin", "cast-p"}),
    ("{actor: p, character: mira}, {actor: p, character: twin}", "{actor: p, character_name: Twin}",
     {"cast-p-mira", "cast-p-twin"}),
])
def test_a_cast_role_one_source_keys_and_another_prints_is_one_role(cast_a, cast_b, roles, empty_project, write):
    from kg.ids import Minter

    write(empty_project, "world.yaml", ROLES_WORLD)
    write(empty_project, "film.yaml", f"movies:\n  x:\n    name: X\n    claims:\n      a: {{cast: [{cast_a}]}}\n"
                                       f"      b: {{cast: [{cast_b}]}}\n")
    mapped = map_records(read_records(empty_project / "data", root=empty_project), Minter(BASE))
    found = {q.object.value.rsplit("#", 1)[1] for q in mapped.quads
             if q.subject.value == f"{BASE}movie/x" and q.predicate == vocab.S.actor}
    assert found == roles


def test_a_settled_conflict_between_values_written_alike_names_the_source_of_the_one_chosen():
    minter = Minter(BASE)
    country, code = ox.NamedNode(f"{BASE}country/kr"), ox.NamedNode("http://schema.org/identifier")
    a, b = minter.entity("source", "a"), minter.entity("source", "b")
    store = ox.Store()
    store.add(ox.Quad(country, code, ox.Literal("KR"), a))
    store.add(ox.Quad(country, code, ox.Literal("KR", language="en"), b))
    found = find_conflicts(store, minter, Mapped(), {(country.value, code.value): Preference(b.value, None)})
    assert [list(c.values) for c in found] == [["KR (xsd:string)", "KR (@en)"]]
    assert [q.object.value for q in conflict_quads(found, minter)
            if q.predicate.value.endswith("preferredSource")] == [b.value]
