"""Every SHACL constraint in shapes/: the valid graph conforms, and each mistake is caught with its message."""

from __future__ import annotations

import datetime as dt
import re

import pyoxigraph as ox
import pytest
import rdflib

from conftest import REPO
from kg.build.shacl import Compiler
from kg.build.validate import load_shapes, shacl, shacl_store

PREFIXES = """
@prefix schema: <http://schema.org/> .
@prefix kgv: <https://films.example.org/vocab#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix : <https://films.example.org/> .
"""

VALID = PREFIXES + """
kgv:Character rdfs:subClassOf schema:Thing .
:movie/m a schema:Movie ; schema:name "M" ; schema:image <https://img.example/m.jpg> ;
    schema:alternateName "엠"@ko ; schema:duration "PT109M"^^xsd:duration ; schema:dateCreated "2009"^^xsd:gYear ;
    schema:datePublished "2010-09-02"^^xsd:date ; schema:director :person/p ; schema:actor :movie/m#cast ;
    schema:character :character/c ; schema:productionCompany :organization/o ; schema:countryOfOrigin :country/kr ;
    schema:inLanguage "ko" ; kgv:budget :movie/m#budget ; kgv:aspectRatio "2.35:1" ;
    kgv:featureNumber 2 ; kgv:storyDuration "P6D"^^xsd:duration ; schema:review :source/r ;
    schema:aggregateRating :movie/m#rating .
:movie/m#rating a schema:AggregateRating ; schema:ratingValue 4.5 ; schema:ratingCount 12 .
:person/p a schema:Person ; schema:name "P" ; schema:birthDate "1971"^^xsd:gYear .
:character/c a kgv:Character ; schema:name "C" .
:organization/o a schema:Organization ; schema:name "O" ; schema:founder :person/p .
:country/kr a schema:Country ; schema:name "Korea" ; schema:identifier "KR" .
:movie/m#cast a schema:PerformanceRole ; schema:actor :person/p ; schema:characterName "C" .
:movie/m#budget a schema:MonetaryAmount ; schema:value 700000.0 ; schema:currency "USD" .
:event/f a schema:Festival ; schema:name "F" .
:event/s a schema:ScreeningEvent ; schema:name "S" ; schema:workPresented :movie/m ; schema:superEvent :event/f ;
    schema:startDate "2009-10-14"^^xsd:date ; schema:endDate "2009-10-14"^^xsd:date .
:source/r a prov:Entity, schema:Review ; schema:name "R" ; schema:itemReviewed :movie/m ; schema:reviewBody "Classy" ;
    schema:author :organization/o ; schema:publisher :organization/o ; schema:datePublished "2009-10-14"^^xsd:date ;
    schema:url <https://news.example/r> .
:work/w a schema:CreativeWork ; schema:name "W" .
:movie/m#conflict a kgv:Conflict ; kgv:conflictSubject :movie/m ; kgv:conflictProperty schema:dateCreated ;
    kgv:conflictValue "2008"^^xsd:gYear, "2009"^^xsd:gYear .
"""

S = "http://schema.org/"
K = "https://films.example.org/vocab#"
B = "https://films.example.org/"

# (case, (subject, predicate) pairs to remove, Turtle to add, expected message fragment, severity)
NEGATIVE = [
    ("movie without name", [("movie/m", S + "name")], "", "exactly one preferred title", "Violation"),
    ("movie with two names", [], ':movie/m schema:name "M2" .', "exactly one preferred title", "Violation"),
    ("alternate title not text", [], ":movie/m schema:alternateName :person/p .", "Alternate titles", "Violation"),
    ("description not text", [], ":movie/m schema:description :person/p .", "description must be text", "Violation"),
    ("running time in months", [("movie/m", S + "duration")], ':movie/m schema:duration "P1M"^^xsd:duration .',
     "running time", "Violation"),
    ("production year as text", [("movie/m", S + "dateCreated")], ':movie/m schema:dateCreated "2009" .',
     "production year", "Violation"),
    ("release date as year", [], ':movie/m schema:datePublished "2010"^^xsd:gYear .', "release date", "Violation"),
    ("director not a person", [], ":movie/m schema:director :organization/o .", "director must be a person",
     "Violation"),
    ("screenplay not a person", [], ":movie/m schema:author :organization/o .", "screenplay", "Violation"),
    ("editor not a person", [], ":movie/m schema:editor :organization/o .", "editor must be", "Violation"),
    ("producer not a person", [], ":movie/m schema:producer :organization/o .", "producer must be", "Violation"),
    ("composer not a person", [], ":movie/m schema:musicBy :organization/o .", "composer", "Violation"),
    ("executive producer not a person", [], ":movie/m kgv:executiveProducer :organization/o .", "executive producer",
     "Violation"),
    ("cinematographer not a person", [], ":movie/m kgv:cinematographer :organization/o .", "cinematographer",
     "Violation"),
    ("lighting director not a person", [], ":movie/m kgv:lightingDirector :organization/o .", "lighting director",
     "Violation"),
    ("sound not a person", [], ":movie/m kgv:soundDesigner :organization/o .", "sound credit", "Violation"),
    ("actor not a person", [], ":movie/m schema:actor :organization/o .", "actor must be a person", "Violation"),
    ("character not a character", [], ":movie/m schema:character :person/p .", "character must be defined",
     "Violation"),
    ("production company not an organisation", [], ":movie/m schema:productionCompany :person/p .",
     "production company", "Violation"),
    ("association not an organisation", [], ":movie/m kgv:inAssociationWith :person/p .", "in association with",
     "Violation"),
    ("sales agent not an organisation", [], ":movie/m kgv:salesAgent :person/p .", "sales agent", "Violation"),
    ("country not a country", [], ":movie/m schema:countryOfOrigin :organization/o .", "country of production",
     "Violation"),
    ("language not BCP 47", [], ':movie/m schema:inLanguage "Korean language" .', "BCP 47 code", "Violation"),
    ("two budgets", [], ":movie/m kgv:budget :movie/m#budget2 . :movie/m#budget2 a schema:MonetaryAmount ; "
     'schema:value 1.0 ; schema:currency "USD" .', "at most one budget", "Violation"),
    ("aspect ratio malformed", [], ':movie/m kgv:aspectRatio "wide" .', "aspect ratio", "Violation"),
    ("feature number zero", [("movie/m", K + "featureNumber")], ":movie/m kgv:featureNumber 0 .", "feature number",
     "Violation"),
    ("story duration malformed", [], ':movie/m kgv:storyDuration "six days" .', "story duration", "Violation"),
    ("review not a review", [], ":movie/m schema:review :work/w .", "Review source document", "Violation"),
    ("image not a URL", [], ':movie/m schema:image "m.jpg" .', "image must be a URL", "Violation"),
    ("carousel: no image", [("movie/m", S + "image")], "", "(required): the film has no image", "Warning"),
    ("carousel: no name", [("movie/m", S + "name")], "", "(required): the film has no name", "Warning"),
    ("carousel: no date", [("movie/m", S + "dateCreated")], "", "no release/creation date", "Warning"),
    ("carousel: no director", [("movie/m", S + "director")], "", "(recommended): no director", "Warning"),
    ("carousel: no review", [("movie/m", S + "review")], "", "(recommended): no review", "Warning"),
    ("carousel: no rating", [("movie/m", S + "aggregateRating")], "", "no aggregateRating", "Warning"),
    ("bad language tag", [], ':movie/m schema:alternateName "x"@en-abcdefghij .', "language tag must be BCP 47",
     "Violation"),
    ("running time of days", [("movie/m", S + "duration")], ':movie/m schema:duration "P6DT12H40M"^^xsd:duration .',
     "a day or more", "Warning"),
    ("birth date in the future", [("person/p", S + "birthDate")], ':person/p schema:birthDate "9999-01-01"^^xsd:date .',
     "birth date in the future", "Warning"),
    ("birth year in the future", [("person/p", S + "birthDate")], ':person/p schema:birthDate "9999"^^xsd:gYear .',
     "birth date in the future", "Warning"),
    ("person without name", [("person/p", S + "name")], "", "person needs exactly one", "Violation"),
    ("person variant not text", [], ":person/p schema:alternateName :person/p .", "Name variants", "Violation"),
    ("birth date as text", [("person/p", S + "birthDate")], ':person/p schema:birthDate "1971" .', "birth date",
     "Violation"),
    ("former employer not an organisation", [], ":person/p kgv:formerEmployer :person/p .", "former employer",
     "Violation"),
    ("character typed a person", [], ":character/d a kgv:Character, schema:Person ; schema:name \"D\" .",
     "fictional",
     "Violation"),
    ("organisation without name", [("organization/o", S + "name")], "", "organisation needs", "Violation"),
    ("founder not a person", [], ":organization/o schema:founder :organization/o .", "founder must be", "Violation"),
    ("country code malformed", [("country/kr", S + "identifier")], ':country/kr schema:identifier "Korea" .',
     "ISO 3166-1", "Violation"),
    ("role without actor", [("movie/m#cast", S + "actor")], "", "cast entry needs an actor", "Violation"),
    ("character name not text", [], ":movie/m#cast schema:characterName :person/p .", "character name must be text",
     "Violation"),
    ("amount not a number", [("movie/m#budget", S + "value")], ':movie/m#budget schema:value "lots" .',
     "needs a number", "Violation"),
    ("currency malformed", [("movie/m#budget", S + "currency")], ':movie/m#budget schema:currency "dollars" .',
     "ISO 4217", "Violation"),
    ("event without name", [("event/f", S + "name")], "", "event needs exactly one", "Violation"),
    ("start date as text", [("event/s", S + "startDate")], ':event/s schema:startDate "14 Oct" .', "start date",
     "Violation"),
    ("festival not an event", [], ":event/s schema:superEvent :movie/m .", "festival must be an event", "Violation"),
    ("hangul tagged kr", [], ':movie/m schema:alternateName "엠"@kr .', "Kanuri; Korean is ko", "Warning"),
    ("a film in kr", [], ':movie/m schema:inLanguage "kr" .', "Kanuri; Korean is ko", "Warning"),
    ("a title tagged jp", [], ':movie/m schema:alternateName "雪国急行"@jp .', "Japanese is ja (not jp)", "Warning"),
    ("a film in cn", [], ':movie/m schema:inLanguage "CN" .', "Chinese zh (cn)", "Warning"),
    ("rating without a number", [("movie/m#rating", S + "ratingValue")], ':movie/m#rating schema:ratingValue "high" .',
     "A rating needs one number", "Violation"),
    ("aggregate rating without a count", [("movie/m#rating", S + "ratingCount")], "",
     "how many ratings it averages", "Warning"),
    ("event ending before it starts", [("event/s", S + "endDate")], ':event/s schema:endDate "2009-10-01"^^xsd:date .',
     "ends before it starts", "Warning"),
    ("screening without film", [("event/s", S + "workPresented")], "", "name the film it presents", "Violation"),
    ("review without item", [("source/r", S + "itemReviewed")], "", "name the film it reviews", "Violation"),
    ("review without body", [("source/r", S + "reviewBody")], "", "A review without its text", "Warning"),
    ("review body not text", [("source/r", S + "reviewBody")], ':source/r schema:reviewBody <https://x.org/r> .',
     "review's text is a text", "Violation"),
    ("review without author", [("source/r", S + "author")], "", "needs an author", "Violation"),
    ("source without title", [("source/r", S + "name")], "", "source document needs exactly one title",
     "Violation"),
    ("publisher not an organisation", [], ":source/r schema:publisher :person/p .", "publisher must be",
     "Violation"),
    ("publication date as text", [], ':source/r schema:datePublished "Nov 7" .', "publication date", "Violation"),
    ("url as text", [], ':source/r schema:url "news.example" .', "http(s) URL", "Violation"),
    ("work without title", [("work/w", S + "name")], "", "work needs exactly one title", "Violation"),
    ("conflict with one value", [("movie/m#conflict", K + "conflictValue")], ':movie/m#conflict kgv:conflictValue 1 .',
     "at least two values", "Violation"),
    ("conflict without subject", [("movie/m#conflict", K + "conflictSubject")], "", "names one entity", "Violation"),
    ("conflict without property", [("movie/m#conflict", K + "conflictProperty")], "", "names one property",
     "Violation"),
    ("country without name", [("country/kr", S + "name")], "", "country needs exactly one preferred name",
     "Violation"),
    ("dangling reference", [], ":movie/m schema:director :person/nobody .", "dangling reference", "Violation"),
]


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return load_shapes(REPO / "shapes")


def _turtle(text: str) -> str:
    """Allow the readable shorthand :movie/m#cast for <https://films.example.org/movie/m#cast>."""
    return re.sub(r"(?<![\w<]):([a-z]+/[\w#/-]+)", lambda m: f"<{B}{m.group(1)}>", text)


def _graph(remove, add) -> rdflib.Graph:
    graph = rdflib.Graph().parse(data=_turtle(VALID), format="turtle")
    for subject, predicate in remove:
        graph.remove((rdflib.URIRef(B + subject), rdflib.URIRef(predicate), None))
    if add:
        graph.parse(data=_turtle(PREFIXES + add), format="turtle")
    return graph


def _store(graph: rdflib.Graph) -> ox.Store:
    store = ox.Store()
    store.load(graph.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    return store


# The two engines: pyshacl on an rdflib graph, and kg's shapes compiled to SPARQL and run on the Oxigraph store.
ENGINES = {"pyshacl": lambda graph, shapes: shacl(graph, shapes),
           "store": lambda graph, shapes: shacl_store(_store(graph), shapes)}


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return ENGINES[request.param]


def test_valid_graph_has_no_findings(shapes, engine):
    assert engine(_graph([], ""), shapes) == []


@pytest.mark.parametrize(("case", "remove", "add", "message", "severity"), NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_shape_catches_mistake(case, remove, add, message, severity, shapes, engine):
    findings = engine(_graph(remove, add), shapes)
    assert [f.severity for f in findings if message in f.message] == [severity]


@pytest.mark.parametrize("add, path", [(':movie/m schema:alternateName "엠"@kr .', "alternateName"),
                                       (':movie/m schema:inLanguage "kr" .', "inLanguage"),
                                       (':movie/m schema:alternateName "x"@en-abcdefghij .', "alternateName")])
def test_a_language_tag_finding_names_the_property_it_is_on(add, path, shapes, engine):
    found = [f for f in engine(_graph([], add), shapes) if "Kanuri" in f.message or "BCP 47" in f.message]
    assert [f.path for f in found] == [S + path]


def test_an_events_dates_two_sources_give_each_in_order_are_no_warning(shapes, engine):
    later = ':event/s schema:startDate "2009-10-20"^^xsd:date ; schema:endDate "2009-10-25"^^xsd:date .'
    assert engine(_graph([], later), shapes) == []


def test_an_end_before_each_start_is_one_warning_however_many_starts(shapes, engine):
    wrong = ':event/s schema:startDate "2009-10-20"^^xsd:date ; schema:endDate "2009-10-01"^^xsd:date .'
    assert [f.value for f in engine(_graph([], wrong), shapes) if "ends before" in f.message] == ["2009-10-01"]


def test_a_birth_date_of_today_or_before_is_no_warning(shapes, engine):
    today = dt.datetime.now(dt.UTC).date()  # NOW() is the store's clock, read in UTC
    dates = f':person/q a schema:Person ; schema:name "Q" ; schema:birthDate "{today.isoformat()}"^^xsd:date , ' \
            f'"{today.year}"^^xsd:gYear .'
    assert [f for f in engine(_graph([], dates), shapes) if "future" in f.message] == []


def test_a_running_time_under_a_day_is_no_warning(shapes, engine):
    long = ':movie/m schema:duration "PT23H59M"^^xsd:duration .'
    assert [f for f in engine(_graph([("movie/m", S + "duration")], long), shapes) if "a day" in f.message] == []


# Mistakes beyond the one-per-constraint cases: ill-typed literals, wrong node kinds, blank nodes, several values.
MESSY = """
:movie/m schema:duration "soon"^^xsd:duration , "PT2H"^^xsd:duration ; schema:dateCreated "20x9"^^xsd:gYear ;
    schema:datePublished "2010-02-30"^^xsd:date ; kgv:featureNumber "two"^^xsd:integer , 0 , -3 ;
    schema:image "not an IRI" ; schema:director _:someone , "A. Director" ; schema:name "Second"@en ;
    schema:inLanguage "en_GB" , <http://example.org/lang> ; kgv:aspectRatio "wide" .
:movie/n a schema:Movie ; schema:actor :person/p , :organization/o ; schema:character :person/p .
:country/kr schema:identifier "kr" , "KOR" .
:movie/m#budget schema:value "lots" ; schema:currency "usd" .
:person/q a schema:Person ; schema:name "Q"@en-GB-oxendict-x , "Q2" ; schema:birthDate "1971-13-01"^^xsd:date .
_:anon a schema:Organization .
"""


def _key(f):
    """A finding with blank node labels (which differ between rdflib and the store) left out."""
    def blank(text):
        return "_:" if text.startswith("_:") else text
    return (f.severity, blank(f.focus), f.path or "", f.message, blank(f.value or ""))


def test_store_engine_finds_what_pyshacl_finds(shapes):
    """Parity on a graph with every negative case at once plus a pile of messy values."""
    removes = [r for case in NEGATIVE for r in case[1]]
    adds = "\n".join(case[2] for case in NEGATIVE if case[2]) + MESSY
    graph = _graph(removes, adds)
    expected = sorted(_key(f) for f in shacl(graph, shapes))
    assert len(expected) > len(NEGATIVE)
    assert sorted(_key(f) for f in shacl_store(_store(graph), shapes)) == expected


def test_store_engine_compiles_every_shape(shapes):
    """No shape in shapes/ needs the pyshacl fallback (which would not scale)."""
    assert Compiler(shapes, ox.Store()).checks()


def test_every_property_shape_has_a_negative_case(shapes):
    """No constraint in shapes/ is left without a test proving it catches something."""
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    messages = {str(m) for m in shapes.objects(None, sh.message)}
    tested = {m for m in messages if any(c[3] in m for c in NEGATIVE)}
    assert messages - tested == set()


# A shape the compiler cannot handle goes to pyshacl alone: the others still run in the store, and the build
# says which shape went and why.
MIXED_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
@prefix ex: <https://films.example.org/test-shapes#> .
ex:Named a sh:NodeShape ; sh:targetClass schema:Person ;
    sh:property [ sh:path schema:name ; sh:minCount 1 ; sh:message "A person needs a name." ] .
ex:Screened a sh:NodeShape ; sh:targetClass schema:Movie ;
    sh:property [ sh:path schema:director ; sh:node ex:Named ; sh:message "A director must be named." ] ,
        [ sh:path [ sh:inversePath schema:workPresented ] ; sh:minCount 1 ; sh:severity sh:Warning ;
          sh:message "A film is never screened." ] .
"""
MIXED_DATA = ':movie/n a schema:Movie ; schema:name "N" ; schema:director :person/anon .\n:person/anon a schema:Person .'
MIXED_FALLBACK = [("ex:Screened", "a path other than a predicate (sh:inversePath); sh:node on a property shape")]


def test_a_shape_not_compiled_is_checked_by_pyshacl_alone():
    from kg.build.validate import shacl_checked

    shapes = rdflib.Graph().parse(data=MIXED_SHAPES, format="turtle")
    graph = _graph([], MIXED_DATA)
    findings, fallback = shacl_checked(_store(graph), shapes)
    assert fallback == MIXED_FALLBACK
    assert sorted(_key(f) for f in findings) == sorted(_key(f) for f in shacl(graph, shapes))
    # ex:Named is checked once, in the store, though ex:Screened (given to pyshacl) refers to it
    assert sorted((f.focus.rsplit("/", 1)[-1], f.message) for f in findings) == [
        ("anon", "A person needs a name."), ("n", "A director must be named."), ("n", "A film is never screened.")]


def test_the_report_names_the_shapes_pyshacl_checked():
    from kg.build.validate import validate_graph

    shapes = rdflib.Graph().parse(data=MIXED_SHAPES, format="turtle")
    assert validate_graph(_store(_graph([], MIXED_DATA)), shapes).pyshacl_shapes == MIXED_FALLBACK
    assert validate_graph(_store(_graph([], "")), load_shapes(REPO / "shapes")).pyshacl_shapes == []


def test_the_build_says_which_shapes_pyshacl_checked_and_why(project, run_kg):
    (project / "shapes" / "mixed.ttl").write_text(MIXED_SHAPES, encoding="utf-8")
    _, output = run_kg(project, "validate")
    assert ("  shapes checked by pyshacl: ex:Screened (a path other than a predicate (sh:inversePath); "
            "sh:node on a property shape)\n") in output
    assert output.count("checked by pyshacl") == 1


def test_a_findings_message_is_told_short_however_long_it_is():
    from kg.build.validate import MESSAGE_CHARS, Finding

    finding = Finding("Violation", "Value " + "x" * 100_000 + " is not allowed", "https://films.example.org/movie/x",
                      None, None, None, "shacl")
    told = str(finding)
    assert len(told) < MESSAGE_CHARS + 200 and told.endswith("…")


def test_a_reports_findings_of_a_severity_follow_the_findings_added_to_it():
    from kg.build.validate import Finding, Report

    def one(severity: str, n: int) -> Finding:
        return Finding(severity, f"finding {n}", f"https://films.example.org/movie/{n}", None, None, None, "shacl")

    report = Report([one("Warning", 1), one("Violation", 2)])
    assert [f.message for f in report.of("Warning")] == ["finding 1"] and not report.conforms
    report.findings.append(one("Warning", 3))
    report.of("Warning").clear()  # a copy: the report's own stay
    assert [f.message for f in report.of("Warning")] == ["finding 1", "finding 3"]
    report.findings = [one("Violation", 5)]  # another list, of the same length or not
    assert not report.of("Warning") and [f.message for f in report.of("Violation")] == ["finding 5"]
    assert Report([one("Warning", 4)]).conforms


def test_a_project_without_the_carousel_profile_gets_no_carousel_warnings(project, run_kg):
    (project / "shapes" / "google-movie-carousel.ttl").unlink()
    code, output = run_kg(project, "validate")
    assert code == 0 and "Google Movie carousel" not in output and "0 warnings" in output
