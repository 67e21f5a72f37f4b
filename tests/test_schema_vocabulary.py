"""The graph is checked against schema.org's own vocabulary (release 30.0, shipped with kg)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from conftest import REPO
from kg.build.mapping import map_records
from kg.build.sources import read_records
from kg.build.validate import schema_terms

HEAD = """
@prefix schema: <http://schema.org/> .
@prefix kgv: <https://films.example.org/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@base <https://films.example.org/> .
<movie/m> a schema:Movie ; schema:name "M" .
<person/p> a schema:Person ; schema:name "P" .
<organization/o> a schema:Organization ; schema:name "O" .
"""


def _check(turtle: str) -> list[str]:
    return [f.message for f in schema_terms(list(ox.parse(HEAD + turtle, format=ox.RdfFormat.TURTLE)))]


CASES = [
    ("unknown schema.org property", '<movie/m> schema:runningTime "PT109M"^^xsd:duration .', "no property 'runningTime'"),
    ("unknown schema.org class", "<movie/x> a schema:Film .", "no class 'Film'"),
    ("property on a type that does not allow it", '<person/p> schema:duration "PT1M"^^xsd:duration .',
     "does not allow 'duration' on a Person"),
    ("property on a type that does not allow it, and where it is allowed",
     '<event/f> a schema:Festival ; schema:workPresented <movie/m> .',
     "does not allow 'workPresented' on a Festival (only on a ScreeningEvent: give each screening an event of its "
     "own, of type ScreeningEvent, with super_event: the festival)"),
    ("literal of a type the range does not allow", '<movie/m> schema:datePublished "soon" .',
     "does not allow a string value for 'datePublished'"),
    ("object of a class the range does not allow", "<movie/m> schema:countryOfOrigin <person/p> .",
     "'countryOfOrigin' must point to a Country"),
    ("undeclared namespace", '<movie/m> <http://example.com/myProp> "x" .',
     "belongs to no declared vocabulary (if it is meant, add 'http://example.com/' to `vocabularies` in kg.toml)"),
    ("undeclared project term", '<movie/m> kgv:notATerm "x" .',
     "belongs to no declared vocabulary (kg's own vocabulary has no such term: docs/vocabulary.md lists them)"),
]


@pytest.mark.parametrize(("case", "turtle", "message"), CASES, ids=[c[0] for c in CASES])
def test_schema_check_catches(case, turtle, message):
    messages = _check(turtle)
    assert any(message in m for m in messages), messages


def test_valid_uses_pass():
    assert _check("""
        <movie/m> schema:director <person/p> ; schema:productionCompany <organization/o> ;
            schema:duration "PT109M"^^xsd:duration ; schema:dateCreated "2009"^^xsd:gYear ;
            schema:actor <movie/m#r> ; kgv:budget <movie/m#b> .
        <movie/m#r> a schema:PerformanceRole ; schema:actor <person/p> ; schema:characterName "C" .
        <movie/m#b> a schema:MonetaryAmount ; schema:value 1.0 ; schema:currency "USD" .
        """) == []


def test_the_project_data_uses_schema_org_correctly(project, minter):
    mapped = map_records(read_records(project / "data", root=project), minter)
    assert schema_terms(mapped.quads, mapped) == []


def test_the_shapes_use_the_same_schema_namespace_as_the_graph():
    text = (REPO / "shapes" / "kg.ttl").read_text()
    assert "<http://schema.org/>" in text and "https://schema.org/" not in text


def test_a_declared_vocabulary_is_accepted_and_only_that_one():
    from kg.build.validate import schema_terms_store, union_store

    triples = list(ox.parse(HEAD + '<movie/m> <http://xmlns.com/foaf/0.1/nick> "x" ; <http://example.com/p> "y" .',
                            format=ox.RdfFormat.TURTLE))
    found = schema_terms_store(union_store(triples), vocabularies=("http://xmlns.com/foaf/0.1/",))
    assert [f.path for f in found] == ["http://example.com/p"]


@pytest.mark.parametrize("value", ["foaf", "http://xmlns.com/foaf/0.1/nick", 3])
def test_a_malformed_vocabularies_setting_is_refused(tmp_path, value):
    from kg.config import ConfigError, load_config

    (tmp_path / "kg.toml").write_text(f"vocabularies = [{value!r}]\n".replace("'", '"'))
    with pytest.raises(ConfigError, match="vocabularies") as refused:
        load_config(tmp_path)
    assert str(tmp_path / "kg.toml") in str(refused.value)


def test_vocabularies_may_be_set_in_the_environment(tmp_path, monkeypatch):
    from kg.config import load_config

    monkeypatch.setenv("KG_VOCABULARIES", "http://xmlns.com/foaf/0.1/, http://example.org/")
    assert load_config(tmp_path).vocabularies == ("http://xmlns.com/foaf/0.1/", "http://example.org/")
