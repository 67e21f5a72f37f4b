"""Bad input: every kind of mistake gets an error naming file and line/field, exit code 2, nothing published."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

import kg.build.pipeline
import kg.build.validate
from conftest import REPO
from kg.build.sources import InputError, Problem, read_records, read_sources

SOURCE = """
sources:
  doc:
    name: A document
"""

BAD_INPUT = {
    "malformed YAML": ("movies:\n  x: [unclosed\n", "bad.yaml:", "malformed YAML"),
    "unknown field": ("movies:\n  x:\n    name: X\n    titel: Oops\n", "bad.yaml:4: x.titel:", "unknown field"),
    "misspelt field": ("movies:\n  x:\n    name: X\n    runing_time: 90\n", "bad.yaml:4", "did you mean running_time?"),
    "a field by another name": ("movies:\n  x:\n    name: X\n    titel: X\n", "bad.yaml:4", "did you mean name?"),
    "claims misspelt": ("movies:\n  x:\n    name: X\n    claim: {}\n", "bad.yaml:4", "did you mean claims?"),
    "unknown section": ("films:\n  x:\n    name: X\n", "bad.yaml:1", "unknown section 'films'"),
    "bad date": ("movies:\n  x:\n    name: X\n    release_date: 10 Sept 2010\n", "bad.yaml:4",
                 "is not a date; write YYYY-MM-DD"),
    "a month but no day of a birth date": ("people:\n  x:\n    name: X\n    birth_date: 1925-07\n", "bad.yaml:4",
                                           "'1925-07' is not a date; write YYYY-MM-DD, e.g. 1925-07-02, or the year "
                                           "alone, e.g. 1925"),
    "no such month": ("movies:\n  x:\n    name: X\n    release_date: 2010-13-45\n", "bad.yaml:4",
                      "'2010-13-45' is no day of the calendar: there is no month 13"),
    "no such day": ("movies:\n  x:\n    name: X\n    release_date: 2020-02-30\n", "bad.yaml:4",
                    "'2020-02-30' is no day of the calendar: February 2020 has 29 days"),
    "bad year": ("movies:\n  x:\n    name: X\n    production_year: twenty\n", "bad.yaml:4", "four-digit year"),
    "bad duration": ("movies:\n  x:\n    name: X\n    story_duration: six days\n", "bad.yaml:4", "is not an xsd:duration"),
    "bad running time": ("movies:\n  x:\n    name: X\n    running_time: -3\n", "bad.yaml:4",
                         "-3 is not a running time: write the whole number of minutes, e.g. 94"),
    "minutes and seconds": ("movies:\n  x:\n    name: X\n    running_time: 98:30\n", "bad.yaml:4",
                            "'98:30' is not a running time"),  # (YAML 1.1 would read 5910: base 60)
    "running time in words": ("movies:\n  x:\n    name: X\n    running_time: an hour and a half\n", "bad.yaml:4",
                              "'an hour and a half' is not a running time: write the whole number of minutes"),
    "tab after a colon": ("movies:\n  x:\n    name: X\n    running_time:\t96\n", "bad.yaml:4",
                          "never tabs; the tab is character 18 of the line"),
    "indented too far": ("movies:\n  x:\n    name: X\n     production_year: 2010\n", "bad.yaml:4",
                         "(is the line indented as the fields beside it are?)"),
    "full-width digits in a date": ('movies:\n  x:\n    name: X\n    release_date: "２０２０-０２-１０"\n', "bad.yaml:4",
                                    "is not a date; write YYYY-MM-DD"),
    "date and time": ("movies:\n  x:\n    name: X\n    release_date: 2020-03-05T23:30:00+09:00\n", "bad.yaml:4",
                      "is a date and a time; write the date alone, e.g. 2020-03-05"),
    "year zero": ('movies:\n  x:\n    name: X\n    release_date: "0000-01-15"\n', "bad.yaml:4",
                  "is not a date; write YYYY-MM-DD"),
    "superscript running time": ('movies:\n  x:\n    name: X\n    running_time: "²"\n', "bad.yaml:4",
                                 "is not a running time"),
    "colon in a value": ("movies:\n  x:\n    name: Review: Beol-sae\n", "bad.yaml:3",
                         "a value holding ': ' is quoted"),
    "space in a url": ("movies:\n  x:\n    name: X\n    image: https://x.example/a b.jpg\n", "bad.yaml:4",
                       "a space is no part of one: write it %20"),
    "billing in words": ("people:\n  p: {name: P}\nmovies:\n  x:\n    name: X\n    cast: [{actor: p, billing: second}]\n",
                         "bad.yaml:6", "billing: 'second' is not a positive whole number"),
    "unknown cast key": ("people:\n  p: {name: P}\nmovies:\n  x:\n    name: X\n    cast: [{actor: p, role: Lead}]\n",
                         "bad.yaml:6", "a cast entry's keys: actor, character, character_name, billing, category"),
    "rating above its scale": ("movies:\n  x:\n    name: X\n    aggregate_rating: {value: 7.8, count: 10}\n",
                               "bad.yaml:4", "rating 7.8 is above the top of its scale (5, when best is not given)"),
    "rating in words": ("movies:\n  x:\n    name: X\n    aggregate_rating: {value: good}\n", "bad.yaml:4",
                        "rating value 'good' is not a number of zero or more"),
    "rating with a stray key": ("movies:\n  x:\n    name: X\n    aggregate_rating: {value: 4, votes: 10}\n",
                                "bad.yaml:4", "a rating is {value: 4, best: 5}"),
    "merged into itself": ("movies:\n  x: {name: X}\ndecisions:\n  - merge movie/x into movie/x\n", "bad.yaml:4",
                           "movie/x is merged into itself"),
    "hangul key": ("movies:\n  김보라2:\n    name: X\n", "bad.yaml:2", "must be ASCII lower-case letters a-z"),
    "missing organization": ("movies:\n  x:\n    name: X\n    production_company: [nobody]\n", "bad.yaml:4",
                             "refers to an organization 'nobody'"),
    "absurd running time": ("movies:\n  x:\n    name: X\n    running_time: 99999999999999999999\n", "bad.yaml:4",
                            "not a plausible running time"),
    "duplicate key": ("movies:\n  x:\n    name: X\n    name: Y\n", "bad.yaml:4", "duplicate key 'name'"),
    "missing reference": ("movies:\n  x:\n    name: X\n    director: [nobody]\n", "bad.yaml:4",
                          "person 'nobody' that does not exist"),
    "missing actor": ("movies:\n  x:\n    name: X\n    cast: [{actor: nobody}]\n", "bad.yaml:4",
                      "person 'nobody' that does not exist"),
    "missing character": ("people:\n  p:\n    name: P\nmovies:\n  x:\n    name: X\n"
                          "    cast: [{actor: p, character: nobody}]\n", "bad.yaml:7",
                          "character 'nobody' that does not exist"),
    "missing crew member": ("movies:\n  x:\n    name: X\n    crew: [{person: nobody, department: Sound}]\n",
                            "bad.yaml:4", "person 'nobody' that does not exist"),
    "unknown source": ("movies:\n  x:\n    name: X\n    claims:\n      nowhere: {name: X}\n",
                       "bad.yaml:5: x.claims.nowhere:", "no source document with key 'nowhere'"),
    "misspelt reference": ("people:\n  leesong-hee-il:\n    name: Leesong Hee-il\nmovies:\n  x:\n    name: X\n"
                           "    director: [leesong-hee-ill]\n", "bad.yaml:7", "person 'leesong-hee-ill' that does not "
                           "exist (did you mean 'leesong-hee-il'?)"),
    "misspelt source": ("movies:\n  x:\n    name: X\n    claims:\n      dok: {name: X}\n", "bad.yaml:5",
                        "no source document with key 'dok' (did you mean 'doc'?)"),
    "bad language tag": ("movies:\n  x:\n    name: X\n    alternate_name: [{text: Y, lang: 'not a tag'}]\n",
                         "bad.yaml:4", "BCP 47"),
    "bad money": ("movies:\n  x:\n    name: X\n    budget: {amount: lots, currency: USD}\n", "bad.yaml:4",
                  "not a number"),
    "bad currency": ("movies:\n  x:\n    name: X\n    budget: {amount: 5, currency: dollars}\n", "bad.yaml:4",
                     "ISO 4217"),
    "bad key": ("movies:\n  Break Away:\n    name: X\n", "bad.yaml:2", "record key"),
    "no preferred name": ("movies:\n  x:\n    genre: [drama]\n", "bad.yaml:2", "preferred name"),
    "list for single field": ("movies:\n  x:\n    name: X\n    release_date: [2010-01-01, 2011-01-01]\n",
                              "bad.yaml:4: x.release_date:", "one value, not a list"),
    "number where text": ("movies:\n  x:\n    name: 1917\n", "bad.yaml:3", "expected text"),
    "bad url": ("movies:\n  x:\n    name: X\n    same_as: [not-a-url]\n", "bad.yaml:4", "http(s) URL"),
    "bad cast": ("movies:\n  x:\n    name: X\n    cast: [{character: y}]\n", "bad.yaml:4", "cast entry"),
    "empty file": ("", "bad.yaml:1", "the file is empty"),
    "indented otherwise": ("movies:\n  x:\n    name: X\n   genre: drama\n", "bad.yaml:4",
                           "(a line indented otherwise than the fields beside it: each field of a record starts at the "
                           "same column)"),
    "quote not closed": ("movies:\n  x:\n    name: \"X\n    genre: drama\n", "bad.yaml:3",
                         "a quote opened on this line is not closed before the end of the file"),
    "text after a quote": ("movies:\n  x:\n    name: \"X\" (2009)\n", "bad.yaml:3",
                           "(text after a closing quote, as in \"X\" (2009): quote the whole value)"),
    "list not closed": ("movies:\n  x:\n    name: X\n    genre: [drama\n", "bad.yaml:4",
                        "a list [ opened on this line is not closed before the end of the file (expected ',' or ']'"),
    "mapping not closed": ("movies:\n  x: {name: X, production_year: 2001\n  y:\n    name: Y\n", "bad.yaml:2",
                           "a mapping { opened on this line is not closed before line 3 (expected ',' or '}', but "
                           "got ':')"),
    "list closed as a mapping": ("movies:\n  x: {name: X, genre: [drama}\n", "bad.yaml:2",
                                 "a list [ opened on this line is not closed (expected ',' or ']', but got '}')"),
    "field without a colon": ("movies:\n  x:\n    name: X\n    genre\n    year: 1\n", "bad.yaml:5",
                              "(a field without ': ' after its name"),
    "empty section": ("people:\n  p: {name: P}\nmovies:\n", "bad.yaml:3",
                      "movies: the section is empty (a save cut short?): give it its records (key: record), or delete "
                      "the line 'movies:'"),
    "empty decisions": ("people:\n  p: {name: P}\ndecisions:\n", "bad.yaml:3",
                        "decisions: the section is empty (a save cut short?): give it one decision per item"),
    "decisions as a mapping": ("people:\n  p: {name: P}\ndecisions: {merge: x}\n", "bad.yaml:3",
                               "decisions is a list, one decision per item"),
    "comments alone": ("# the films, to come\n\n", "bad.yaml:1", "the file is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_names_file_and_line(case, empty_project, write, run_kg):
    text, where, what = BAD_INPUT[case]
    write(empty_project, "sources.yaml", SOURCE)
    write(empty_project, "bad.yaml", text)
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert f"data/{where}" in output
    assert what in output
    assert not (empty_project / "var" / "current").exists()


def test_a_file_emptied_is_refused_and_the_release_stays(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    served = (project / "var" / "current").resolve()
    films = next(p for p in sorted((project / "data").glob("*.yaml")) if "movies:" in p.read_text(encoding="utf-8"))
    films.write_text("", encoding="utf-8")  # an editor's save cut short
    code, output = run_kg(project, "build")
    assert code == 2 and f"data/{films.name}:1" in output and "the file is empty" in output
    assert (project / "var" / "current").resolve() == served


@pytest.mark.parametrize("minutes", [1_500, 51_420])  # The Clock runs a day; Logistics, five weeks
def test_a_film_longer_than_a_day_conforms(minutes, empty_project, write, run_kg):
    write(empty_project, "films.yaml", f"movies:\n  x:\n    name: X\n    running_time: {minutes}\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output


def test_a_record_defined_twice_is_one_error_not_one_more_for_its_decisions(empty_project, write, run_kg):
    write(empty_project, "sources.yaml", SOURCE)
    write(empty_project, "films.yaml", "movies:\n  x:\n    name: X\n    claims:\n      doc: {production_year: 2003}\n"
                                      "decisions:\n  - prefer movie/x production_year from doc\n")
    write(empty_project, "another.yaml", "movies:\n  x:\n    name: Y\n")  # read first: the films' x is the second
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "movie 'x' is already defined at data/another.yaml:2" in output
    assert "gives no production_year" not in output and "1 problem in the source files" in output


def test_a_record_defined_twice_and_merged_is_one_error_not_one_more_for_the_record_it_joined(empty_project, write,
                                                                                              run_kg):
    write(empty_project, "sources.yaml", SOURCE)
    write(empty_project, "films.yaml", "movies:\n  x:\n    name: X\n    claims:\n      doc: {production_year: 2003}\n"
                                      "  z:\n    name: Z\n"
                                      "decisions:\n  - merge movie/x into movie/z\n"
                                      "  - prefer movie/z production_year from doc\n")
    write(empty_project, "another.yaml", "movies:\n  x:\n    name: Y\n")  # the x that is kept, without the claim
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "movie 'x' is already defined at data/another.yaml:2" in output
    assert "gives no production_year" not in output


def test_tab_indent_says_yaml_wants_spaces(empty_project, write, run_kg):
    write(empty_project, "bad.yaml", "movies:\n  x:\n\tname: X\n")
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    assert "data/bad.yaml:3" in output and "indents with spaces" in output


def test_malformed_file_does_not_make_references_to_its_records_errors(empty_project, write, run_kg):
    write(empty_project, "people.yaml", "people:\n  ann:\n    name: Ann\n    name: Ann B\n")  # duplicate key
    write(empty_project, "movies.yaml", "movies:\n  x:\n    name: X\n    director: [ann]\n")
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    assert "data/people.yaml:4" in output and "duplicate key" in output
    assert "does not exist" not in output
    assert "1 problem in the source files" in output


def test_invalid_utf8_is_reported_with_line(empty_project, run_kg):
    (empty_project / "data" / "latin1.yaml").write_bytes(b"movies:\n  x:\n    name: Caf\xe9\n")
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    assert "data/latin1.yaml:3" in output and "not valid UTF-8" in output
    assert "byte 0xE9 at offset 26; read as cp1252 the line is '    name: Café'" in output


def test_a_name_refused_is_not_also_said_to_be_missing(empty_project, run_kg):
    (empty_project / "data" / "films.yaml").write_text("movies:\n  nineteen-seventeen:\n    name: 1917\n",
                                                       encoding="utf-8")
    code, output = run_kg(empty_project, "validate")
    assert code == 2 and "expected text, got a number 1917 (put it in quotes)" in output
    assert "needs a preferred name" not in output and "1 problem in the source files" in output


def test_the_problems_of_a_file_are_listed_in_the_order_of_its_lines(empty_project, run_kg):
    (empty_project / "data" / "films.yaml").write_text(
        "movies:\n  a:\n    name: A\n    director: [nobody]\n  b:\n    name: B\n    running_time: long\n",
        encoding="utf-8")  # a reference to nothing (line 4) is found after the values are read (line 7)
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    lines = [line.strip().split(":")[1] for line in output.splitlines() if line.strip().startswith("data/films.yaml:")]
    assert lines == ["4", "7"], output


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_yaml_saved_with_a_byte_order_mark_is_read(empty_project, run_kg, encoding):
    text = "people:\n  ann:\n    name: Ann Lee\n    claims:\n      doc: {name: 이안}\n" + SOURCE
    data = text.encode(encoding)
    (empty_project / "data" / "people.yaml").write_bytes(b"\xfe\xff" + data if encoding == "utf-16-be" else data)
    code, output = run_kg(empty_project, "validate")
    assert code == 0, output
    ann = next(r for r in read_records(empty_project / "data", root=empty_project) if r.key == "ann")
    assert {v.value.text for v in ann.values("name")} == {"Ann Lee", "이안"}


def test_unreadable_file_is_reported(empty_project, run_kg):
    (empty_project / "data" / "gone.yaml").symlink_to(empty_project / "nowhere.yaml")
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    assert "data/gone.yaml" in output and "cannot read file" in output


def test_same_record_in_two_files_is_refused(empty_project, write, run_kg):
    write(empty_project, "a.yaml", "people:\n  ann:\n    name: Ann\n")
    write(empty_project, "b.yaml", "people:\n  ann:\n    name: Ann B\n")
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    assert "data/b.yaml:2" in output and "already defined at data/a.yaml:2" in output


def test_all_problems_are_listed_not_just_the_first(empty_project, write):
    write(empty_project, "bad.yaml", "movies:\n  x:\n    name: X\n    titel: 1\n    release_date: soon\n")
    with pytest.raises(InputError) as err:
        read_records(empty_project / "data", root=empty_project)
    lines = {p.line for p in err.value.problems}
    assert lines == {4, 5}


def test_a_build_without_its_shapes_is_refused(project, run_kg):
    shutil.rmtree(project / "shapes")
    code, output = run_kg(project, "build")
    assert code == 2 and "the shapes directory does not exist" in output and str(project / "shapes") in output
    assert not (project / "var" / "current").exists()
    assert f"kg's own shapes for films are in {REPO / 'shapes'}" in output  # where a new project finds them


def test_missing_shapes_are_told_before_the_data_is_read(project, run_kg):
    shutil.rmtree(project / "shapes")
    code, output = run_kg(project, "build")
    assert code == 2 and "the shapes directory does not exist" in output
    assert "records from" not in output  # the read stage's line: it never ran


def test_a_shapes_directory_with_no_shapes_is_refused(project, run_kg):
    for path in (project / "shapes").glob("*.ttl"):
        path.unlink()
    code, output = run_kg(project, "validate")
    assert code == 2 and "no SHACL shapes (*.ttl)" in output


def test_a_broken_shapes_file_is_refused_with_its_line_and_the_release_stays(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    before = (project / "var" / "current").resolve()
    (project / "shapes" / "extra.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n\n<a:s> a sh:NodeShape ;\n"
                                                  "  sh:targetClass <a:c> ;;; [ .\n", encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2 and "shapes/extra.ttl:4: the shapes file is not valid Turtle" in output
    assert (project / "var" / "current").resolve() == before


SHAPES_HEAD = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix schema: <http://schema.org/> .\n\n"


def test_a_sparql_constraint_that_does_not_parse_is_refused_at_its_line_and_the_release_stays(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    before = (project / "var" / "current").resolve()
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#shouting> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n  sh:sparql [\n"
        '    sh:message "No title in capitals." ;\n    sh:select """\n      SELECT $this ?value WHERE {\n'
        "        $this <http://schema.org/name> ?value .\n        FILTER(ucase(str(?value)) = str(?value)\n      }\"\"\" ] .\n",
        encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2
    assert "shapes/extra.ttl:12: a SPARQL constraint's query (sh:select) is refused: it does " \
           "not parse: error at 5:7: expected one of" in output
    assert (project / "var" / "current").resolve() == before


def test_a_sparql_constraint_with_a_prebound_path_is_left_to_pyshacl_not_refused(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#named-directors> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n  sh:property [\n"
        "    sh:path schema:director ;\n    sh:sparql [\n      sh:message \"A director without a name.\" ;\n"
        '      sh:select """SELECT $this ?value WHERE { $this $PATH ?value .\n'
        '        FILTER NOT EXISTS { $this $PATH/<http://schema.org/name> ?n } }""" ] ] .\n', encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 0, output
    assert "shapes checked by pyshacl: " in output and "named-directors" in output


@pytest.mark.parametrize(("select", "line", "why"), [
    ('"""SELECT $this ?value WHERE {\n  SERVICE <http://example.org/sparql> { $this ?p ?value } }"""', 7,
     "it calls SERVICE, and kg fetches nothing from the network"),
    ('"""SELECT $this ?value WHERE { $this ?p ?value .\n  FILTER(regex(str(?value), \"\\\\d+\") }"""', 4,
     "it does not parse: error at"),  # a Turtle escape in it: told at its shape's line
])
def test_a_sparql_constraint_kg_cannot_run_is_refused_where_it_is_written(project, run_kg, select, line, why):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#odd> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        f"  sh:sparql [ sh:message \"Odd.\" ;\n    sh:select {select} ] .\n", encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2 and f"extra.ttl:{line}: a SPARQL constraint's query (sh:select) is refused: {why}" in output


@pytest.mark.parametrize("select", [
    '"""SELECT $this ?service WHERE { $this <http://schema.org/publisher> ?service }"""',
    '"""SELECT $this ?value WHERE { $this <http://schema.org/publisher> ?value . ?value a <http://schema.org/Service> }"""',
    '"""SELECT $this ?value WHERE { $this <http://schema.org/name> ?value FILTER(CONTAINS(?value, \"service\")) }"""',
])
def test_the_word_service_outside_a_service_call_is_no_refusal(project, run_kg, select):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#odd> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        f"  sh:sparql [ sh:message \"Odd.\" ;\n    sh:select {select} ] .\n", encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 0, output


def test_a_constraint_shacl_does_not_allow_is_refused_with_its_shape_and_line(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    before = (project / "var" / "current").resolve()
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        "  sh:property [ sh:path schema:name ; sh:maxCount \"one\" ] .\n", encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2
    assert "shapes/extra.ttl:6: the shapes are not valid SHACL: the property shape of " \
           "schema:name: MaxCountConstraintComponent sh:maxCount must be a literal with datatype xsd:integer" in output
    assert (project / "var" / "current").resolve() == before


@pytest.mark.parametrize("pattern, flags", [("([a-z", None), ("^a", "z")])
def test_a_pattern_that_is_no_regular_expression_is_refused_with_its_shape_and_line(project, run_kg, pattern, flags):
    flag = f' ; sh:flags "{flags}"' if flags else ""
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        f'  sh:property [ sh:path schema:name ; sh:pattern "{pattern}"{flag} ] .\n', encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 2, output
    assert f"shapes/extra.ttl:6: the shapes are not valid SHACL: the property shape of " \
           f'schema:name: sh:pattern "{pattern}"' in output and "is not a regular expression" in output


def test_a_pattern_of_xpath_s_unicode_classes_is_checked_as_sparql_reads_it(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(  # \\p{Lu}: Python's re has no such class; SPARQL's REGEX has
        SHAPES_HEAD + "<#capital> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        '  sh:property [ sh:path schema:name ; sh:pattern "^\\\\p{Lu}" ; sh:severity sh:Warning ;\n'
        '    sh:message "A title starts with a capital." ] .\n', encoding="utf-8")
    (project / "data" / "lower.yaml").write_text("movies:\n  lower:\n    name: a lower-case title\n",
                                                 encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 0, output
    warned = [line for line in output.splitlines() if "A title starts with a capital." in line]
    assert len(warned) == 1 and "lower.yaml" in warned[0], output


_LEFT_TO_PYSHACL = "<#directed> a sh:NodeShape ;\n  sh:targetClass schema:Person ;\n" \
    "  sh:property [\n    sh:path [ sh:inversePath schema:director ] ;\n    sh:pattern {pattern} ] .\n"


def test_a_pattern_python_cannot_read_in_a_shape_left_to_pyshacl_is_refused_where_it_is_written(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    before = (project / "var" / "current").resolve()
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + _LEFT_TO_PYSHACL.format(pattern='"^\\\\p{L}"'), encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2, output
    assert "shapes/extra.ttl:8: sh:pattern \"^\\\\p{L}\" is checked by pyshacl" in output
    assert (project / "var" / "current").resolve() == before


@pytest.mark.parametrize("pattern, shown", [
    ("'^[\\\\p{Lu}\"]+$'", '"^[\\\\p{Lu}\\"]+$"'),  # single quotes, a double quote in them
    ('"[\\u00e9\\\\p{N}]"', '"[é\\\\p{N}]"'),  # a \\u escape
    ('"""^\\\\p{L}"x"""', '"^\\\\p{L}\\"x"'),  # a long string
])
def test_a_pattern_python_cannot_read_is_located_however_it_is_written(project, run_kg, pattern, shown):
    (project / "shapes" / "aa.ttl").write_text(  # the same pattern where the store runs it: not this one
        SHAPES_HEAD + "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        f"  sh:property [ sh:path schema:name ; sh:pattern {pattern} ] .\n", encoding="utf-8")
    (project / "shapes" / "zz.ttl").write_text(
        SHAPES_HEAD + "# a comment quoting it: " + pattern + "\n" + _LEFT_TO_PYSHACL.format(pattern=pattern),
        encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 2, output
    assert f"shapes/zz.ttl:9: sh:pattern {shown} is checked by pyshacl" in output
    assert "aa.ttl" not in output


@pytest.mark.parametrize("deactivated", [
    "  sh:property [ sh:path [ sh:inversePath schema:director ] ; sh:minCount 0 ] ;\n"
    '  sh:property [ sh:path schema:name ; sh:deactivated true ; sh:pattern "^\\\\p{L}" ] .\n',
    "  sh:property [ sh:path [ sh:inversePath schema:director ] ; sh:minCount 0 ] ;\n  sh:node <#named> .\n"
    '<#named> sh:deactivated true ; sh:property [ sh:path schema:name ; sh:pattern "^\\\\p{L}" ] .\n',
])
def test_a_pattern_python_cannot_read_in_a_deactivated_shape_is_no_refusal(project, run_kg, deactivated):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#directed> a sh:NodeShape ;\n  sh:targetClass schema:Person ;\n" + deactivated,
        encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 0, output


def test_a_pattern_python_reads_in_a_shape_left_to_pyshacl_is_checked(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + _LEFT_TO_PYSHACL.format(pattern='"^never"'), encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 1 and "does not match pattern '^never'" in output.lower(), output


@pytest.mark.parametrize("constraint, said", [
    ("sh:path schema:name ; sh:minCoutn 1", "sh:minCoutn, which is not a SHACL term (did you mean sh:minCount?)"),
    ("sh:path schema:nmae ; sh:minCount 1", "schema:nmae, which is not a schema.org term (did you mean schema:name?)"),
    ("sh:path schema:dateCreated ; sh:datatype <http://www.w3.org/2001/XMLSchema#dat>",
     "xsd:dat, which is not an XML Schema datatype (did you mean xsd:date?)"),
    ("sh:path schema:name ; sh:severity sh:Violaton", "sh:Violaton, which is not a SHACL term (did you mean "
                                                      "sh:Violation?)"),
])
def test_a_misspelt_term_in_the_shapes_is_refused_at_its_line_and_the_release_stays(project, run_kg, constraint,
                                                                                     said):
    assert run_kg(project, "build")[0] == 0
    before = (project / "var" / "current").resolve()
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        f"  sh:property [ {constraint} ] .\n", encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2, output
    assert f"shapes/extra.ttl:6: the shapes name {said}: a typo would switch a check off" in output
    assert (project / "var" / "current").resolve() == before


def test_a_refused_shapes_file_is_headed_as_the_shapes_and_the_build_says_the_release_stays(project, run_kg):
    assert run_kg(project, "build")[0] == 0
    (project / "shapes" / "extra.ttl").write_text(SHAPES_HEAD + "<#s> a sh:NodeShape ; sh:minCoutn 1 .\n",
                                                  encoding="utf-8")
    code, output = run_kg(project, "build")
    assert code == 2 and "kg: 1 problem in the shapes; nothing was published, the previous release stays:" in output


def test_a_first_build_refused_does_not_speak_of_a_previous_release(empty_project, write, run_kg):
    write(empty_project, "films.yaml", "movies:\n  x:\n    name: X\n    running_time: soon\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "kg: 1 problem in the source files; nothing was published:" in output, output


@pytest.mark.parametrize("command", ["validate", "duplicates"])
def test_a_command_that_publishes_nothing_does_not_say_nothing_was_published(empty_project, write, run_kg, command):
    write(empty_project, "films.yaml", "movies:\n  x:\n    name: X\n    running_time: soon\n")
    code, output = run_kg(empty_project, command)
    assert code == 2 and "kg: 1 problem in the source files:" in output and "published" not in output, output


@pytest.mark.parametrize("statements", [
    "<#s> <http://www.w3.org/2002/07/owl#imports> <http://www.w3.org/ns/shacl#> .\n",  # a namespace itself
    "<#s> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://schema.org/docs/schemas.html>, schema: .\n",
    "<#s> sh:values [ sh:count 1 ; sh:orderBy sh:this ] .\n",  # SHACL-AF's node expressions
    "<#s> <http://www.w3.org/2000/01/rdf-schema#range> <http://www.w3.org/2001/XMLSchema#anyAtomicType> .\n",
    '<#s> <http://www.w3.org/2000/01/rdf-schema#comment> "not schema:Movei, sh:minCoutn" .\n',  # in a string
])
def test_terms_of_the_namespaces_that_are_no_typo_are_no_refusal(project, run_kg, statements):
    (project / "shapes" / "extra.ttl").write_text(SHAPES_HEAD + statements, encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 0, output


def test_a_misspelt_term_is_located_where_it_is_used_not_in_a_comment(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "# schema:Movei was renamed\n<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movei .\n",
        encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 2 and "shapes/extra.ttl:6: the shapes name schema:Movei" in output, output


def test_a_misspelt_target_class_is_refused_at_its_line(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movei ;\n"
        "  sh:property [ sh:path schema:name ; sh:minCount 1 ] .\n", encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 2 and "shapes/extra.ttl:5: the shapes name schema:Movei, which is not a " \
        "schema.org term (did you mean schema:Movie?)" in output, output


def test_shapes_of_schema_org_s_https_namespace_are_refused_once_at_its_prefix(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD.replace("<http://schema.org/>", "<https://schema.org/>") +
        "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
        "  sh:property [ sh:path schema:name ; sh:minCount 1 ] .\n", encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 2, output
    said = [line for line in output.splitlines() if "https://schema.org/" in line]
    assert len(said) == 1 and "shapes/extra.ttl:2: the shapes name 2 term(s) of " \
        "<https://schema.org/>" in said[0] and "declare schema: as <http://schema.org/>" in said[0]


def test_shapes_a_release_was_built_with_are_not_judged_again(project, run_kg, monkeypatch):
    assert run_kg(project, "build")[0] == 0
    judged: list[object] = []
    monkeypatch.setattr(kg.build.validate, "_not_shacl", lambda graph: judged.append(graph))
    other = project / "data" / "other-films.yaml"
    other.write_text(other.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n"),
                     encoding="utf-8")
    assert run_kg(project, "build")[0] == 0 and judged == []
    (project / "shapes" / "extra.ttl").write_text(SHAPES_HEAD, encoding="utf-8")  # other shapes: judged
    assert run_kg(project, "build")[0] == 0 and len(judged) == 1


def test_shapes_edited_while_a_build_runs_are_judged_by_the_next_build(project, run_kg, monkeypatch):
    assert run_kg(project, "build")[0] == 0
    real = kg.build.pipeline.Build._read

    def edited_meanwhile(self, files):  # after the shapes were read and judged
        (project / "shapes" / "extra.ttl").write_text(
            SHAPES_HEAD + "<#titled> a sh:NodeShape ;\n  sh:targetClass schema:Movie ;\n"
            "  sh:property [ sh:path schema:name ; sh:maxCount \"one\" ] .\n", encoding="utf-8")
        return real(self, files)

    monkeypatch.setattr(kg.build.pipeline.Build, "_read", edited_meanwhile)
    other = project / "data" / "other-films.yaml"
    other.write_text(other.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n"),
                     encoding="utf-8")
    assert run_kg(project, "build")[0] == 0  # built with the shapes it read
    monkeypatch.setattr(kg.build.pipeline.Build, "_read", real)
    code, output = run_kg(project, "build")
    assert code == 2 and "the shapes are not valid SHACL" in output


def test_a_node_shape_with_a_path_is_refused_naming_its_file(project, run_kg):
    (project / "shapes" / "extra.ttl").write_text(
        SHAPES_HEAD + "<#titled> a sh:NodeShape ; sh:targetClass schema:Movie ; sh:path schema:name .\n",
        encoding="utf-8")
    code, output = run_kg(project, "validate")
    assert code == 2
    assert "shapes/extra.ttl: the shapes are not valid SHACL" in output
    assert "A shape defined as a NodeShape cannot be the subject of a 'sh:path' predicate" in output


def test_missing_data_directory(tmp_path: Path, run_kg):
    code, output = run_kg(tmp_path, "validate")
    assert code == 2
    assert "data directory does not exist" in output
    assert "no kg project here; `kg init` starts one" in output  # (no kg.toml either)


def test_unknown_option_is_a_usage_error(empty_project, run_kg):
    code, _ = run_kg(empty_project, "build", "--no-such-option")
    assert code == 2


def test_bad_base_iri_is_a_usage_error(empty_project, run_kg):
    code, output = run_kg(empty_project, "--base-iri", "not an iri", "validate")
    assert code == 2
    assert "base_iri" in output


@pytest.mark.parametrize("license", ["CC-BY", "https://example.org/a b", "https://example.org/<x>", ""])
def test_a_license_that_is_no_iri_is_a_usage_error_before_any_build(empty_project, run_kg, license):
    (empty_project / "kg.toml").write_text(f'license = "{license}"\n', encoding="utf-8")
    for command in ("validate", "build"):
        code, output = run_kg(empty_project, command)
        assert code == 2, command
        assert "setting 'license'" in output and "not an absolute IRI" in output


def test_a_license_iri_is_accepted(empty_project, run_kg):
    (empty_project / "kg.toml").write_text('license = "https://creativecommons.org/licenses/by/4.0/"\n',
                                           encoding="utf-8")
    code, output = run_kg(empty_project, "validate")
    assert code == 0, output


@pytest.mark.parametrize(("setting", "message"), [
    ("keep_releases = -1", "'keep_releases': -1 is out of range (1 to 1000)"),
    ("query_timeout = 0", "'query_timeout': 0 is out of range"),
    ("port = 70000", "'port': 70000 is out of range (1 to 65535)"),
    ("port = 8000.5", "'port': 8000.5 is not a whole number"),
    ("workers = true", "'workers': True is not a whole number"),
])
def test_a_setting_out_of_its_range_is_a_usage_error(empty_project, run_kg, setting, message):
    (empty_project / "kg.toml").write_text(setting + "\n", encoding="utf-8")
    code, output = run_kg(empty_project, "validate")
    assert code == 2
    assert f"kg.toml: setting {message}" in output


def test_a_setting_in_range_is_taken(empty_project):
    from kg.config import load_config

    (empty_project / "kg.toml").write_text("query_timeout = 2.5\ncache_mb = 0\n", encoding="utf-8")
    config = load_config(empty_project)
    assert (config.query_timeout, config.cache_mb) == (2.5, 0)


def test_each_item_of_a_list_is_located_on_its_own_line_and_a_typo_in_a_cast_entry_is_named(empty_project, write,
                                                                                            run_kg):
    write(empty_project, "a.yaml", """
        people:
          song-kang-ho: {name: Song Kang-ho}
        movies:
          f:
            name: F
            cast:
              - {actr: song-kang-ho}
              - song-kang-ho
              - {actor: song-kang-ho, billing: first}
        """)
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/a.yaml:7: f.cast: unknown key(s) in cast entry: ['actr'] (did you mean actor?)" in output
    assert "data/a.yaml:8: f.cast: a cast entry is" in output and "data/a.yaml:9: f.cast: billing: 'first'" in output


def test_a_running_time_written_as_quoted_digits_is_its_number_of_minutes(empty_project, write, run_kg):
    write(empty_project, "films.yaml", 'movies:\n  x:\n    name: X\n    running_time: "94"\n')
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert '"@value": "PT1H34M"' in run_kg(empty_project, "embed", "movie/x")[1]


@pytest.mark.parametrize("written", ["Seol\u00a0Hye-in", "Seol  Hye-in", "Seol\u3000Hye-in", "Seol \t Hye-in"])
def test_a_names_odd_or_doubled_spaces_are_published_as_one_plain_space(empty_project, write, run_kg, written):
    write(empty_project, "people.yaml", f'people:\n  seol-hye-in:\n    name: "{written}"\n')
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert '"name": "Seol Hye-in"' in run_kg(empty_project, "embed", "person/seol-hye-in")[1]


def _notes(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.yaml").write_text(text, encoding="utf-8")
    return [str(n) for n in read_sources(tmp_path / "data", root=tmp_path).notes]


_BILLED = """people:
  p: {name: P}
  q: {name: Q}
sources:
  s: {type: CreativeWork, name: S}
  t: {type: CreativeWork, name: T}
movies:
  x:
    name: X
    claims:
      s:
        cast:
          - {actor: p, billing: 1}
          - {actor: q, billing: %s}
      t:
        cast:
          - {actor: q, billing: 1}
          - {actor: p, billing: 2}
"""


def test_two_actors_one_source_bills_alike_are_noted_where_the_second_is(tmp_path):
    assert _notes(tmp_path, _BILLED % 1) == ["data/a.yaml:14: suspicious: x: s bills q 1, as it bills p (line 13); "
                                             "billing is each actor's place in the credits (1, 2, 3, ...)"]


def test_sources_that_bill_the_cast_each_in_its_own_order_are_not_noted(tmp_path):
    assert _notes(tmp_path, _BILLED % 2) == []


def test_a_misspelt_setting_in_the_environment_is_refused_with_the_one_meant(empty_project, monkeypatch):
    from kg.config import ConfigError, load_config

    monkeypatch.setenv("KG_PORTT", "1")
    with pytest.raises(ConfigError, match="KG_PORTT is no setting of kg: did you mean KG_PORT"):
        load_config(empty_project)


def test_a_misspelt_setting_in_kg_toml_is_refused_with_the_one_meant(empty_project):
    from kg.config import ConfigError, load_config

    (empty_project / "kg.toml").write_text("portt = 8080\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'portt' \\(did you mean 'port'\\? known: "):
        load_config(empty_project)


def test_another_programs_variable_is_said_to_be_ignored(empty_project, monkeypatch, capsys):
    from kg.config import load_config

    monkeypatch.setenv("KG_COLOURS_OF_MY_SHELL", "1")
    assert load_config(empty_project).port == load_config(empty_project, port=None).port
    assert capsys.readouterr().err.count("ignoring the environment variable KG_COLOURS_OF_MY_SHELL") == 1


@pytest.mark.parametrize("written", ["1:38", "1:38:00", "1h 38m", "PT1H38M", "98"])
def test_a_running_time_written_unquoted_in_yaml_is_its_minutes(empty_project, written):
    (empty_project / "data" / "films.yaml").write_text(f"movies:\n  x:\n    name: X\n    running_time: {written}\n",
                                                       encoding="utf-8")
    (film,) = read_records(empty_project / "data", root=empty_project)
    assert [v.value for v in film.values("running_time")] == [98]


def test_an_input_error_crosses_from_a_worker_as_it_was_made():
    error = InputError([Problem("shapes/kg.ttl", 3, "a typo")], "the shapes")
    error.outcome = "nothing was published"
    assert pickle.loads(pickle.dumps(error)).lines() == error.lines() == [
        "1 problem in the shapes; nothing was published:", "  shapes/kg.ttl:3: a typo"]
