"""Candidate duplicates: recall and precision on labelled sets, the keys names are compared by, kg duplicates."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import random
import re
import shutil
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import kg.build.blocking
import kg.build.duplicates
import kg.build.pipeline
from conftest import BASE, REPO, log_calls
from kg.build.blocking import made as blocking_made
from kg.build.duplicates import (
    KNOWN_PARTS,
    Candidate,
    Known,
    _best_match,
    _one_film,
    _year_evidence,
    find,
    known_before,
    known_file,
    part_of,
    person_spellings,
    romanised,
    title_words,
    words,
)
from kg.build.remembered import told
from kg.build.slips import other_ending
from kg.build.sources import read_sources
from kg.ids import Minter
from kg.model import Origin, Record

SETS = REPO / "tests" / "data"
LABELLED = [d.name for d in sorted(SETS.glob("duplicates*")) if (d / "labels.yaml").exists()]
# The least recall each set must keep. The held-out set was written by someone who did not see the detector; it
# holds pairs no spelling rule can find (a stage name and a legal one with no word in common: Lady Gaga and
# Stefani Germanotta; Michael Curtiz and Mihály Kertész), so it has a lower floor: its measured recall is 0.79.
RECALL = {"duplicates": 0.9, "duplicates-holdout": 0.75}


def _pair(c: Candidate) -> frozenset[str]:
    return frozenset((c.a[len(BASE):], c.b[len(BASE):]))


@pytest.fixture(scope="module", params=LABELLED)
def labelled(request) -> tuple[set[frozenset[str]], dict[str, set[frozenset[str]]], str]:
    """The pairs kg reports for a labelled set, the set's labels (same, different), and its name."""
    root = SETS / request.param
    sources = read_sources(root / "data", root=root)
    found = {_pair(c) for c in find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))}
    labels = yaml.safe_load((root / "labels.yaml").read_text(encoding="utf-8"))
    return found, {k: {frozenset(p) for p in labels[k]} for k in ("same", "different")}, request.param


def test_candidates_find_the_labelled_duplicates(labelled):
    found, labels, name = labelled
    recall = len(found & labels["same"]) / len(labels["same"])
    assert recall >= RECALL[name], sorted(map(sorted, labels["same"] - found))


def test_at_least_nine_in_ten_candidates_are_labelled_duplicates(labelled):
    found, labels, _ = labelled
    precision = len(found & labels["same"]) / len(found)
    assert precision >= 0.9, sorted(map(sorted, found - labels["same"]))


def test_no_labelled_look_alike_is_a_candidate(labelled):
    found, labels, _ = labelled
    assert not found & labels["different"]


@pytest.mark.parametrize("a, b", [
    ("The Host", "Host, The"), ("Oldboy", "Old Boy"), ("Spider-Man", "Spiderman"), ("Amélie", "Amelie"),
    ("Mr. Vengeance", "Mr Vengeance"), ("Rocky II", "Rocky 2"), ("Pride & Prejudice", "Pride and Prejudice"),
])
def test_titles_alike_but_for_spelling_have_one_key(a, b):
    assert "".join(title_words(a)) == "".join(title_words(b))


@pytest.mark.parametrize("a, b", [("Rocky", "Rocky II"), ("Alien", "Aliens"), ("Mother", "Mothers")])
def test_titles_that_differ_in_a_word_or_number_keep_their_keys(a, b):
    assert "".join(title_words(a)) != "".join(title_words(b))


@pytest.mark.parametrize("a, b", [
    ("Yu Ji-tae", "Yoo Ji-tae"), ("Kang Hye-jeong", "Kang Hye-jung"), ("Lee Yeong-hoon", "Lee Yeong-hun"),
    ("Choi Min-sik", "Choi Min-shik"), ("Cho Yoon-jin", "Jo Yun-jin"), ("Lee Seon-mi", "Lee Sun-mi"),
])
def test_korean_romanisations_fold_to_one_key(a, b):
    assert [romanised(w) for w in words(a)] == [romanised(w) for w in words(b)]


def test_a_quoted_nickname_gives_the_name_without_it_and_the_nickname_alone():
    spelled = {k.strict: how for k, how in person_spellings('Dwayne "The Rock" Johnson')}
    assert spelled["dwaynejohnson"] == "without the nickname" and spelled["rock"] == "the nickname"


def test_initials_match_the_full_given_names_but_not_other_initials():
    from kg.build.duplicates import _best_match

    def match(a: str, b: str) -> bool:
        return _best_match(person_spellings(a), person_spellings(b), ordered=True) is not None

    assert match("R. W. Fassbinder", "Rainer Werner Fassbinder")
    assert not match("Bryce J. Harris", "Bradly J. Harris") and not match("Don Johnson", "Dwayne Johnson")


def test_a_junior_keeps_the_suffix_that_tells_him_from_his_father():
    keys = {k.strict for k, _ in person_spellings("Lon Chaney Jr.")}
    assert "lonchaney" not in keys


@pytest.mark.parametrize("a, b", [("Actor Number1 Testperson", "Actor Number11 Testperson"),
                                  ("Agent 7", "Agent 77"), ("Extra 100", "Extra 10")])
def test_names_that_differ_in_a_number_keep_their_romanised_keys(a, b):
    assert [romanised(w) for w in words(a)] != [romanised(w) for w in words(b)]


@pytest.fixture
def oldboys(empty_project, write) -> Path:
    """One film from a hand-written record and the same film twice from other sources, spelled otherwise."""
    write(empty_project, "sources.yaml", """
        sources:
          archive: {type: WebPage, name: Archive}
          festival: {type: WebPage, name: Festival}
    """)
    write(empty_project, "films.yaml", """
        movies:
          oldboy:
            name: Oldboy
            claims:
              archive: {production_year: 2003, director: [park-chan-wook], cast: [{actor: choi-min-sik}]}
          old-boy-2003:
            name: Old Boy
            claims:
              festival: {production_year: 2003, director: [park-chan-wook-2]}
          oldboy-2013:
            name: Oldboy
            claims:
              festival: {production_year: 2013, director: [spike-lee]}
        people:
          park-chan-wook: {name: Park Chan-wook, claims: {archive: {birth_date: 1963}}}
          park-chan-wook-2: {name: Chan-wook Park, claims: {festival: {birth_date: 1963}}}
          choi-min-sik: {name: Choi Min-sik}
          spike-lee: {name: Spike Lee}
    """)
    return empty_project


def test_kg_duplicates_json_gives_each_pair_with_its_evidence_and_fix(oldboys, run_kg):
    code, output = run_kg(oldboys, "duplicates", "--json")
    assert code == 0, output
    found = json.loads(output[output.index("["):output.rindex("]") + 1])
    pairs = {(c["a"], c["b"]): c for c in found}
    film = pairs[(f"{BASE}movie/oldboy", f"{BASE}movie/old-boy-2003")]
    assert film["kind"] == "movie" and 0 <= film["score"] <= 1 and film["fix"] == (
        "merge movie/old-boy-2003 into movie/oldboy") and "the same year (2003)" in film["evidence"]
    assert (f"{BASE}person/park-chan-wook", f"{BASE}person/park-chan-wook-2") in pairs


def test_kg_duplicates_help_names_every_key_of_its_json(oldboys, run_kg):
    code, output = run_kg(oldboys, "duplicates", "--json")
    keys = set(json.loads(output[output.index("["):output.rindex("]") + 1])[0])
    code, told = run_kg(oldboys, "duplicates", "--help")
    said = told[told.index("{") + 1:told.index("}")]
    assert keys == {k.strip() for k in " ".join(said.split()).split(",")}


def test_a_remake_is_not_a_candidate(oldboys, run_kg):
    code, output = run_kg(oldboys, "duplicates", "--json")
    assert "oldboy-2013" not in output


def test_a_dismissed_pair_is_not_listed_again(oldboys, run_kg, write):
    write(oldboys, "decisions.yaml", """
        decisions:
          - not_same movie/oldboy movie/old-boy-2003
    """)
    code, output = run_kg(oldboys, "duplicates", "--json")
    assert code == 0 and "old-boy-2003" not in output


def test_not_same_may_be_written_with_a_hyphen(oldboys, run_kg, write):
    write(oldboys, "decisions.yaml", """
        decisions:
          - not-same movie/oldboy movie/old-boy-2003
    """)
    code, output = run_kg(oldboys, "duplicates", "--json")
    assert code == 0 and "old-boy-2003" not in output


def test_a_merged_pair_is_one_record_and_not_a_candidate(oldboys, run_kg, write):
    write(oldboys, "decisions.yaml", """
        decisions:
          - merge movie/old-boy-2003 into movie/oldboy
    """)
    sources = read_sources(oldboys / "data", root=oldboys)
    assert ("movie", "old-boy-2003") not in {(r.kind, r.key) for r in sources.records}
    oldboy = next(r for r in sources.records if r.key == "oldboy")
    assert {c.source for c in oldboy.claims} >= {"archive", "festival"}
    assert "old-boy-2003" not in run_kg(oldboys, "duplicates", "--json")[1]


def test_the_evidence_counts_films_and_people_not_their_spellings(oldboys, run_kg, write):
    write(oldboys, "decisions.yaml", """
        decisions:
          - merge movie/old-boy-2003 into movie/oldboy
    """)
    code, output = run_kg(oldboys, "duplicates", "--json")
    assert code == 0, output
    found = json.loads(output[output.index("["):output.rindex("]") + 1])
    (pair,) = [c for c in found if c["kind"] == "person"]
    # both direct the one film, Oldboy (its titles give it several keys), with one actor (several spellings)
    assert "credited in 1 film(s) of the same title" in pair["evidence"], pair["evidence"]
    assert any(e.startswith("1 co-worker(s) in common") for e in pair["evidence"]), pair["evidence"]


def test_two_films_evidence_counts_the_people_they_share_not_their_spellings(empty_project, run_kg, write):
    # Song Kang-il's name has keys in both orders (family name first and last): one person all the same
    write(empty_project, "films.yaml", """
        sources:
          cat: {name: Catalogue, type: CreativeWork}
        people:
          kang-hye-won: {name: Kang Hye-won}
          song-kang-il: {name: Song Kang-il}
          kim-a: {name: Kim Ara}
          lee-b: {name: Lee Bora}
        movies:
          potters-hands:
            name: The Potter's Hands
            claims:
              cat: {name: The Potter's Hands, production_year: 2012, director: [kang-hye-won],
                    cast: [{actor: song-kang-il}, {actor: kim-a}]}
          lighthouse-keeper:
            name: The Lighthouse Keeper
            claims:
              cat: {name: The Lighthouse Keeper, production_year: 2012, director: [kang-hye-won],
                    cast: [{actor: song-kang-il}, {actor: lee-b}]}
        """)
    code, output = run_kg(empty_project, "duplicates", "--json")
    assert code == 0, output
    found = json.loads(output[output.index("["):output.rindex("]") + 1])
    (pair,) = [c for c in found if c["kind"] == "movie"]
    assert "1 cast or crew member(s) in common" in pair["evidence"], pair["evidence"]


SALT_ROAD = """
    sources:
      cat: {type: WebPage, name: Catalogue, url: https://cat.example/}
    movies:
      the-salt-road-2011:
        name: The Salt Road
        claims:
          cat: {name: The Salt Road, production_year: 2011}
    """
# the same film, at a mistyped IRI an RDF file alone describes; and a film of another title and year beside it
SALT_ROAD_RDF = """\
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://films.example.org/movie/the-salt-raod-2011> a schema:Movie ; schema:name "The Salt Road" ;
    schema:dateCreated "2011"^^xsd:gYear ; schema:award "NETPAC Award"@en .
<https://films.example.org/movie/winter-ferry-1998> a schema:Movie ; schema:name "Winter Ferry" ;
    schema:dateCreated "1998"^^xsd:gYear .
<https://films.example.org/movie/the-salt-road-2011> schema:alternateName "소금길"@ko .
<https://films.example.org/movie/salt-road-2011> a schema:Movie ; schema:name "The Salt Road" ;
    schema:dateCreated "2011"^^xsd:gYear .
"""


def _candidates(root: Path) -> list[dict]:
    return [c for c in json.loads((root / "var" / "current" / "duplicates.json").read_text()) if not c["merged"]]


def test_a_film_only_an_rdf_file_describes_is_compared_and_merged_into_the_record(empty_project, write, run_kg):
    write(empty_project, "films.yaml", SALT_ROAD)
    (empty_project / "data" / "extra.ttl").write_text(SALT_ROAD_RDF, encoding="utf-8")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    # not the film of another title, nor the record the file adds a name to, nor the two the file alone describes
    # (no decision merges into either: the file is to be mended): only each of those with the record
    pairs = sorted(_candidates(empty_project), key=lambda c: c["b"])
    assert [c["b"] for c in pairs] == ["https://films.example.org/movie/salt-road-2011",
                                       "https://films.example.org/movie/the-salt-raod-2011"]
    pair = pairs[1]
    assert (pair["a"], pair["b"]) == ("https://films.example.org/movie/the-salt-road-2011",
                                      "https://films.example.org/movie/the-salt-raod-2011")
    assert pair["fix"] == "merge movie/the-salt-raod-2011 into movie/the-salt-road-2011" and pair["where"] == \
        "data/extra.ttl:3"  # where the file's description of it starts
    code, listed = run_kg(empty_project, "duplicates", "--json")
    assert sorted(c["fix"] for c in json.loads(listed[listed.index("["):listed.rindex("]") + 1])) == [
        c["fix"] for c in pairs]
    write(empty_project, "decisions.yaml", f"decisions:\n  - {pairs[0]['fix']}\n  - {pair['fix']}\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0 and _candidates(empty_project) == [], output


def test_two_films_paired_by_one_of_their_titles_are_told_which(empty_project, write, run_kg):
    write(empty_project, "films.yaml", "movies:\n"
          "  microhabitat: {name: Microhabitat, alternate_name: [{text: 소공녀, lang: ko}], production_year: 2017}\n"
          "  little-princess: {name: Little Princess, alternate_name: [{text: 소공녀, lang: ko}], "
          "production_year: 2017}\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    assert [c["evidence"][0] for c in _candidates(empty_project)] == ["a title in common, '소공녀'"]


def test_a_person_an_rdf_file_describes_with_a_records_wikidata_id_is_a_strong_candidate(empty_project, write,
                                                                                            run_kg):
    write(empty_project, "people.yaml", "people:\n  hong-sang-soo:\n    name: Hong Sang-soo\n"
                                        "    same_as: [https://www.wikidata.org/wiki/Q484661]\n")
    (empty_project / "data" / "partner.ttl").write_text(  # spelled beyond what names alone would pair
        "@prefix schema: <http://schema.org/> .\n<https://films.example.org/person/hong-ss> a schema:Person ;\n"
        "  schema:name \"H. S. Hong\" ;\n  schema:sameAs <http://www.wikidata.org/entity/Q484661> .\n",
        encoding="utf-8")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    found = _candidates(empty_project)
    assert [(c["b"], c["score"], c["evidence"][0], c["fix"]) for c in found] == [
        ("https://films.example.org/person/hong-ss", 0.95, "both give Wikidata Q484661",
         "merge person/hong-ss into person/hong-sang-soo")], found


@pytest.mark.parametrize("shared_cast", [True, False])
def test_one_film_under_two_english_titles_is_a_candidate_when_a_cast_member_says_so(empty_project, write, run_kg,
                                                                                     shared_cast):
    cast = "      actor: [lee-mi-yeon]\n" if shared_cast else ""
    write(empty_project, "films.yaml", "sources:\n  kit: {name: Press kit}\n  fest: {name: Festival}\n"
          "people:\n  park-ki-hyung: {name: Park Ki-hyung}\n  lee-mi-yeon: {name: Lee Mi-yeon}\n"
          "movies:\n  whispering-corridors:\n    name: Whispering Corridors\n    claims:\n      kit:\n"
          "        name: {text: Whispering Corridors, lang: en}\n        alternate_name: [{text: 여고괴담, lang: ko}]\n"
          "        production_year: 1998\n        director: [park-ki-hyung]\n" + cast.replace("      ", "        ") +
          "  girls-high-school-ghost-story:\n    name: Girls' High School Ghost Story\n    claims:\n      fest:\n"
          "        name: {text: \"Girls' High School Ghost Story\", lang: en}\n        production_year: 1998\n"
          "        director: [park-ki-hyung]\n" + cast.replace("      ", "        "))
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    found = _candidates(empty_project)
    if shared_cast:  # titled otherwise in English (-0.15), a cast member in common (+0.15)
        assert [c["evidence"][0] for c in found] == ["titles that differ, in en too"], found
    else:  # one director's two films of a year, each titled in English, differently
        assert found == []


def test_a_film_only_an_rdf_file_describes_may_be_kept_apart(empty_project, write, run_kg):
    write(empty_project, "films.yaml", SALT_ROAD)
    (empty_project / "data" / "extra.ttl").write_text(SALT_ROAD_RDF, encoding="utf-8")
    write(empty_project, "decisions.yaml",
          "decisions:\n  - not_same movie/the-salt-road-2011 movie/the-salt-raod-2011\n"
          "  - not_same movie/the-salt-road-2011 movie/salt-road-2011\n")
    code, output = run_kg(empty_project, "build")
    assert code == 0 and _candidates(empty_project) == [], output


def test_records_giving_one_imdb_id_are_merged_and_reported(oldboys, write, run_kg):
    write(oldboys, "more.yaml", """
        movies:
          oldeuboi:
            name: Oldeuboi
            same_as: [https://www.imdb.com/title/tt0364569/]
        decisions:
          - merge movie/old-boy-2003 into movie/oldboy
    """)
    films = (oldboys / "data" / "films.yaml").read_text().replace(
        "name: Oldboy\n    claims:\n      archive:", "name: Oldboy\n    same_as: [https://www.imdb.com/title/tt0364569]\n"
        "    claims:\n      archive:", 1)
    (oldboys / "data" / "films.yaml").write_text(films)
    code, output = run_kg(oldboys, "duplicates", "--json")
    merged = [c for c in json.loads(output[output.index("["):output.rindex("]") + 1]) if c["merged"]]
    assert [(c["a"], c["b"], c["score"]) for c in merged] == [(f"{BASE}movie/oldboy", f"{BASE}movie/oldeuboi", 1.0)]


def test_the_build_counts_candidates_in_the_release(oldboys, run_kg):
    code, output = run_kg(oldboys, "build")
    assert code == 0, output
    meta = json.loads((oldboys / "var" / "current" / "release.json").read_text())
    assert meta["duplicates"]["candidates"] >= 2
    listed = json.loads((oldboys / "var" / "current" / "duplicates.json").read_text())
    assert len([c for c in listed if not c["merged"]]) == meta["duplicates"]["candidates"]


@pytest.mark.parametrize("line, problem", [
    ("merge person/a person/b", "cannot read"),
    ("merge person/choi-min-sik into movie/oldboy", "different kinds"),
    ("merge person/choi-min-sik into person/nobody", "there is no person 'nobody'"),
    ("prefer movie/oldboy genre from archive", "not a single-valued field"),
    ("prefer movie/oldboy running_time from archive", "gives no running_time"),
    ("not_same person/choi-min-sik person/nobody", "there is no person 'nobody'"),
])
def test_a_bad_decision_is_refused_with_its_file_and_line(oldboys, run_kg, write, line, problem):
    write(oldboys, "decisions.yaml", f"# decisions\ndecisions:\n  - {line}\n")
    code, output = run_kg(oldboys, "validate")
    assert code == 2
    assert "data/decisions.yaml:3" in output and problem in output


def test_each_labelled_set_is_large_enough_to_measure(labelled):
    _, labels, _ = labelled
    assert len(labels["same"]) >= 40 and len(labels["different"]) >= 15


@pytest.mark.parametrize("name", LABELLED)
def test_what_an_earlier_build_worked_out_finds_the_same_candidates(name, monkeypatch):
    root = SETS / name
    sources = read_sources(root / "data", root=root)
    args = (sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))
    plain = find(*args)
    first = Known(told)  # every record as if read back unchanged
    assert find(*args, first) == plain
    for work in ("_film_keys", "_person_keys", "_spellings", "_people_of", "_years", "person_spellings", "_by_source"):
        monkeypatch.setattr(kg.build.duplicates, work, lambda *_: pytest.fail("worked out again"))
    assert find(*args, Known(told, first.made)) == plain



def test_what_an_earlier_build_worked_out_is_kept_on_when_nothing_new_was_worked_out():
    root = SETS / LABELLED[0]
    sources = read_sources(root / "data", root=root)
    args = (sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))
    fresh = sources.records[0]  # a record not read back unchanged (no token): worked out for this build only

    def token(record):
        return None if record is fresh else told(record)

    first = Known(token)
    find(*args, first)
    first.settle()
    assert not first.as_before and first.made and told(fresh) not in first.made
    again = Known(token, first.made)
    find(*args, again)
    again.settle()
    assert again.as_before
    less = Known(token, {k: v for n, (k, v) in enumerate(first.made.items()) if n})  # one record's table missing
    find(*args, less)
    less.settle()
    assert not less.as_before
    assert less.changed_parts == {part_of(next(iter(first.made)))}  # the other parts of the memo are kept on


def test_a_part_of_the_memo_that_cannot_be_read_is_written_anew_even_if_nothing_else_in_it_changed(tmp_path):
    records = [object() for _ in range(KNOWN_PARTS)]  # one record read back unchanged in each part
    tokens = {id(r): bytes([n]) * 16 for n, r in enumerate(records)}
    for n, record in enumerate(records):
        (tmp_path / known_file("c", part=n)).write_bytes(pickle.dumps({tokens[id(record)]: [None]}))
    (tmp_path / known_file("c", part=3)).write_bytes(b"\x80\x09damaged")  # (a protocol no pickle has)
    known = known_before(tmp_path, "c", lambda r: tokens[id(r)])
    known.told(records)  # (none of them asked for what was worked out: as for the people an edit does not touch)
    known.settle()
    assert known.changed_parts == {3}


def test_a_table_worked_out_further_changes_its_part_of_the_memo_alone():
    root = SETS / LABELLED[0]
    sources = read_sources(root / "data", root=root)
    args = (sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))
    first = Known(told)
    find(*args, first)
    first.settle()
    token, table = next((t, v) for t, v in first.made.items() if any(x is not None for x in v))
    what = next(n for n, x in enumerate(table) if x is not None)
    again = Known(told, {t: list(v) if t != token else [None if n == what else x for n, x in enumerate(v)]
                         for t, v in first.made.items()})  # one thing about one record not worked out before
    find(*args, again)
    again.settle()
    assert again.made.keys() == first.made.keys() and again.changed_parts == {part_of(token)}


_FOUND = """
import json, sys
from kg.build.duplicates import _World, _blocks, find
from kg.build.sources import read_sources
from kg.ids import Minter
root = __import__("pathlib").Path(sys.argv[1])
sources = read_sources(root / "data", root=root)
world = _World()
for r in sources.records:
    (world.films if r.kind == "movie" else world.people if r.kind == "person" else {})[r.key] = r
found = find(sources.records, sources.decisions, sources.moves, sources.held, Minter(sys.argv[2]))
print(json.dumps([list(_blocks(world)), [c.json() for c in found]]))
"""


@pytest.mark.parametrize("name", LABELLED)
def test_the_blocks_and_candidates_do_not_depend_on_how_python_hashes_text(name):
    import subprocess
    import sys

    said = [subprocess.run([sys.executable, "-c", _FOUND, str(SETS / name), BASE], capture_output=True, text=True,
                           check=True, cwd=REPO, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")]
    assert said[0] == said[1] == said[2] and json.loads(said[0])[0]

def _searched_by(log: Path, monkeypatch) -> None:
    """Logs the pid of the process that looks for duplicates."""
    real = kg.build.duplicates.find

    def logged(*args, **kwargs):
        log.write_text(str(os.getpid()))
        return real(*args, **kwargs)

    monkeypatch.setattr(kg.build.duplicates, "find", logged)


def test_a_build_looks_for_duplicates_in_a_worker_and_finds_what_one_process_finds(oldboys, run_kg, monkeypatch,
                                                                                 tmp_path):
    log = tmp_path / "searched-by"
    _searched_by(log, monkeypatch)
    (oldboys / "kg.toml").write_text("build_workers = 1\n", encoding="utf-8")
    assert run_kg(oldboys, "build", "--full")[0] == 0
    assert log.read_text() == str(os.getpid())
    alone = (oldboys / "var" / "current" / "duplicates.json").read_bytes()
    (oldboys / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")
    assert run_kg(oldboys, "build", "--full")[0] == 0
    assert log.read_text() != str(os.getpid())  # beside the map and the validation
    assert (oldboys / "var" / "current" / "duplicates.json").read_bytes() == alone
    assert json.loads(alone)


@pytest.mark.parametrize("workers, said", [(1, " s)"), (2, " s in a worker, beside the map, validation, dumps and store)")])
def test_the_duplicates_stage_is_said_once_with_its_counts(oldboys, run_kg, workers, said):
    (oldboys / "kg.toml").write_text(f"build_workers = {workers}\n", encoding="utf-8")
    code, output = run_kg(oldboys, "build", "--full")
    lines = [line for line in output.splitlines() if line.startswith("duplicates ")]
    assert code == 0 and len(lines) == 1 and "candidate" in lines[0] and lines[0].endswith(said), lines


def test_the_worker_looking_for_duplicates_gives_way_to_the_build(oldboys, run_kg, monkeypatch, tmp_path):
    log = tmp_path / "niceness"
    real = kg.build.duplicates.find

    def logged(*args, **kwargs):
        log.write_text(str(os.getpriority(os.PRIO_PROCESS, 0)))
        return real(*args, **kwargs)

    monkeypatch.setattr(kg.build.duplicates, "find", logged)
    monkeypatch.setattr("kg.build.pipeline.room_for_copies", lambda copies: True)
    (oldboys / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")
    assert run_kg(oldboys, "build", "--full")[0] == 0
    assert int(log.read_text()) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + kg.build.pipeline.DUPLICATES_NICE)


def test_the_build_writes_its_dumps_and_store_while_a_worker_looks_for_duplicates(oldboys, run_kg, monkeypatch,
                                                                                  tmp_path):
    stored = tmp_path / "stored"
    log_calls(monkeypatch, kg.build.pipeline, "persist", stored, lambda *_: "stored")
    real = kg.build.duplicates.find

    def after_the_store(*args, **kwargs):  # in the worker: only a build that does not wait for it gets this far
        deadline = time.monotonic() + 60
        while not stored.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the build waited for the duplicates before its store")
            time.sleep(0.05)
        return real(*args, **kwargs)

    monkeypatch.setattr(kg.build.duplicates, "find", after_the_store)
    monkeypatch.setattr("kg.build.pipeline.room_for_copies", lambda copies: True)
    (oldboys / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")
    assert run_kg(oldboys, "build")[0] == 0
    assert json.loads((oldboys / "var" / "current" / "duplicates.json").read_text(encoding="utf-8"))


def test_a_duplicate_search_that_fails_in_its_worker_fails_the_build(oldboys, run_kg, monkeypatch):
    (oldboys / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")

    def failing(*_args, **_kwargs):
        raise ValueError("the duplicate search broke")

    monkeypatch.setattr(kg.build.duplicates, "find", failing)
    code, output = run_kg(oldboys, "build")
    assert code == 4 and "ValueError: the duplicate search broke" in output  # kg's internal error
    assert not (oldboys / "var" / "current").exists()


def test_without_memory_for_a_workers_copy_the_build_looks_for_duplicates_itself(oldboys, run_kg, monkeypatch,
                                                                                tmp_path):
    log = tmp_path / "searched-by"
    _searched_by(log, monkeypatch)
    (oldboys / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")
    monkeypatch.setattr("kg.build.pipeline.room_for_copies", lambda copies: False)
    code, output = run_kg(oldboys, "build")
    assert code == 0 and "in a worker, beside" not in output
    assert log.read_text() == str(os.getpid())
    assert json.loads((oldboys / "var" / "current" / "duplicates.json").read_text(encoding="utf-8"))


def test_the_fix_merges_a_newcomer_into_the_record_more_sources_cite(tmp_path):
    """A person added by hand as lee-yeonghoon, beside the lee-yeong-hoon two sources cite: the published record
    stays, the newcomer is merged into it (not the other way, as the shorter key alone would have it)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "people.yaml").write_text(
        "sources:\n  press: {name: Press kit}\n  review: {name: A review}\n"
        "people:\n"
        "  lee-yeong-hoon:\n    name: Lee Yeong-hoon\n    claims:\n      press: {name: Lee Yeong-hoon}\n"
        "      review: {name: Lee Yeong-hoon}\n"
        "  lee-yeonghoon:\n    name: Lee Yeonghoon\n", encoding="utf-8")
    sources = read_sources(tmp_path / "data")
    found = [c for c in find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))
             if c.kind == "person"]
    assert [c.fix for c in found] == ["merge person/lee-yeonghoon into person/lee-yeong-hoon"]
    assert found[0].where.endswith("people.yaml:10")  # the newcomer's line: where the fix is made


def _edited(root: Path, into: Path, rng) -> None:
    """A copy of a labelled set's data with a few records edited in place (no line moves): a name made another
    record's (a new look-alike, or a director now spelled as another), a name changed beyond recognition, a year
    moved."""
    shutil.copytree(root / "data", into, dirs_exist_ok=True)
    for path in sorted(into.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        named = list(re.finditer(r"\bname: ([^,{}\n\"']+)", text))  # plain values: not half a quoted one
        if not named:
            continue
        for m in sorted(rng.sample(named, min(4, len(named))), key=lambda m: -m.start()):
            other = rng.choice([rng.choice(named).group(1), f"Quite Another {rng.randrange(99)}"])
            text = text[:m.start(1)] + other + text[m.end(1):]
        years = list(re.finditer(r"(?:production_year|birth_date): (\d{4})\b", text))
        if years:
            m = rng.choice(years)
            text = text[:m.start(1)] + str(int(m.group(1)) + rng.choice((-1, 1, 40))) + text[m.end(1):]
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", LABELLED)
def test_blocks_patched_for_what_changed_find_what_blocks_made_anew_find(name, tmp_path, monkeypatch):
    rng = random.Random(name)
    sources = read_sources(SETS / name / "data", root=SETS / name)
    known = Known(told)
    find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE), known)
    known.settle()
    made = []
    monkeypatch.setattr(kg.build.blocking, "made", lambda *a, **k: made.append(1) or blocking_made(*a, **k))
    for step in range(6):
        _edited(SETS / name, tmp_path / f"edit-{step}" / "data", rng)
        sources = read_sources(tmp_path / f"edit-{step}" / "data", root=tmp_path / f"edit-{step}")
        records = [r for r in sources.records if rng.random() > 0.01]  # a few records gone
        args = (records, sources.decisions, sources.moves, sources.held, Minter(BASE))
        made.clear()
        anew = find(*args)
        assert made == [1]
        patched = Known(told, known.made, blocks_before=known.blocks, compared_before=known.compared)
        made.clear()
        assert find(*args, patched) == anew, step
        assert made == []  # patched, not made anew
        assert patched.changed  # and the pairs of records unchanged taken from the previous comparisons
        patched.settle()
        known = patched


def test_the_film_a_candidate_film_may_be_is_the_same_in_any_order_the_pairs_are_found():
    pairs = [("c", "d"), ("b", "c"), ("a", "b"), ("x", "y")]
    assert {_one_film(order) == {"b": "a", "c": "a", "d": "a", "y": "x"}
            for order in itertools.permutations(pairs)} == {True}


_TWO_DIRECTORS = """\
sources:
  archive-a: {type: WebPage, name: Archive, url: "https://archive-a.example.org/"}
people:
  ingrid-vale: {name: Ingrid Vale, claims: {archive-a: {name: Ingrid Vale}}}
  tomas-reyes: {name: Tomas Reyes, claims: {archive-a: {name: %s}}}
movies:
  long-harbour:
    name: Long Harbour
    claims: {archive-a: {name: Long Harbour, production_year: 1971, director: [ingrid-vale]}}
  puerto-largo:
    name: Puerto largo
    claims: {archive-a: {name: Puerto largo, production_year: 1971, director: [tomas-reyes]}}
"""


def test_films_whose_director_is_spelled_anew_are_blocked_anew_though_they_did_not_change(tmp_path):
    """Two films of a year by two directors; then one director's record spells the other's name: a film and its
    release abroad under another title, found though neither film's record changed."""
    def found(spelled: str, known: Known) -> list[Candidate]:
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / "data" / "all.yaml").write_text(_TWO_DIRECTORS % spelled, encoding="utf-8")
        sources = read_sources(tmp_path / "data", root=tmp_path)
        return find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE), known)

    known = Known(told)
    assert found("Tomas Reyes", known) == []
    known.settle()
    patched = Known(told, known.made, blocks_before=known.blocks, compared_before=known.compared)
    pairs = [_pair(c) for c in found("Ingrid Vale", patched)]
    assert frozenset(("movie/puerto-largo", "movie/long-harbour")) in pairs
    assert pairs == [_pair(c) for c in found("Ingrid Vale", Known(told))]


_NAMESAKES = """\
sources:
  archive-a: {type: WebPage, name: Archive, url: "https://archive-a.example.org/"}
people:
  anna-berg: {name: Anna Berg, claims: {archive-a: {name: Anna Berg}}}
  anna-berg-2: {name: Anna Berg, claims: {archive-a: {name: Anna Berg}}}
movies:
  harbour-lights:
    name: Harbour Lights
    claims: {archive-a: {name: Harbour Lights, production_year: 1971, cast: [{actor: anna-berg}]}}
  harbour-lights-2:
    name: Harbour Lights
    claims: {archive-a: {name: Harbour Lights, production_year: 1972, cast: [%s]}}
  quiet-shore:
    name: Quiet Shore
    claims: {archive-a: {name: Quiet Shore, production_year: 1985, cast: [{actor: anna-berg-2}]}}
"""


def test_people_a_changed_film_now_credits_are_compared_again(tmp_path):
    """Two namesakes, each credited in films of their own; then a film of the title the first is credited in, a
    year later, credits the second too (only that film's record changed): one person, credited in films of one
    title."""
    def found(cast: str, known: Known) -> set[frozenset[str]]:
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / "data" / "all.yaml").write_text(_NAMESAKES % cast, encoding="utf-8")
        sources = read_sources(tmp_path / "data", root=tmp_path)
        return {_pair(c) for c in find(sources.records, sources.decisions, sources.moves, sources.held,
                                       Minter(BASE), known)}

    known = Known(told)
    assert frozenset(("person/anna-berg", "person/anna-berg-2")) not in found("", known)
    known.settle()
    patched = Known(told, known.made, blocks_before=known.blocks, compared_before=known.compared)
    pairs = found("{actor: anna-berg-2}", patched)
    assert frozenset(("person/anna-berg", "person/anna-berg-2")) in pairs
    assert pairs == found("{actor: anna-berg-2}", Known(told))


def test_people_credited_in_a_film_whose_candidate_film_changed_are_compared_again():
    world = kg.build.duplicates._World()
    world.films = {"b": Record("movie", "b", (), Origin("films.yaml", 1, "b"))}
    world._people["b"] = ((), ("p", "q"))
    world.known.compared_before = kg.build.duplicates.Compared(same_film={"b": "a"})
    world.same_film = {"b": "0"}  # now one with another film first
    again = kg.build.duplicates._Again(set(), set())
    kg.build.duplicates._settled(world, again)
    assert again.people == {"p", "q"}


def _found_among(tmp_path: Path, files: dict[str, str]) -> list[Candidate]:
    """The candidates among the records of a project of these files (by name in data/, each text dedented)."""
    (tmp_path / "data").mkdir()
    for name, text in files.items():
        (tmp_path / "data" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    sources = read_sources(tmp_path / "data", root=tmp_path)
    return find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))


def _found_in(tmp_path: Path, text: str) -> list[Candidate]:
    """The candidates among a YAML file's records."""
    return _found_among(tmp_path, {"a.yaml": text})


def _people_pairs(tmp_path: Path, text: str) -> dict[frozenset[str], float]:
    """The candidate pairs (keys without the base) of a YAML file's records, with their scores."""
    return {_pair(c): c.score for c in _found_in(tmp_path, text)}


def test_one_full_name_written_alike_with_nothing_to_tell_them_apart_is_a_candidate(tmp_path):
    assert _people_pairs(tmp_path, """
        people:
          agnes-varda: {name: Agnès Varda}
          varda: {name: Agnès Varda}
        """) == {frozenset(("person/agnes-varda", "person/varda")): 0.6}


@pytest.mark.parametrize("years, candidate", [
    ((1950, 1990), False),  # careers decades apart: namesakes
    ((None, None), False),  # films of no year: nothing to weigh, and both have films
    ((2024, 2025), True),  # a year apart, no birth years: one career, or namesakes at once (a curator decides)
])
def test_one_full_name_of_two_people_credited_in_films_of_their_own(tmp_path, years, candidate):
    made = [f", production_year: {y}" if y else "" for y in years]
    assert _people_pairs(tmp_path, f"""
        movies:
          a: {{name: Rauhnacht{made[0]}, director: [jurgen-schafer]}}
          b: {{name: Kalter Hafen{made[1]}, director: [juergen-schaefer]}}
        people:
          jurgen-schafer: {{name: Jürgen Schäfer}}
          juergen-schaefer: {{name: Jürgen Schäfer}}
        """) == ({frozenset(("person/jurgen-schafer", "person/juergen-schaefer")): 0.6} if candidate else {})


def _evidence(tmp_path: Path, text: str) -> dict[frozenset[str], list[str]]:
    """The candidate pairs of a YAML file's records, with their evidence."""
    return {_pair(c): c.evidence for c in _found_in(tmp_path, text)}


def test_films_that_may_be_one_are_not_called_films_of_the_same_title(tmp_path):
    found = _evidence(tmp_path, """
        movies:
          film-a: {name: Film A, production_year: 2024, director: [anna-berg]}
          film-b: {name: Film B, production_year: 2024, director: [anna-berg-2]}
        people:
          anna-berg: {name: Anna Berg}
          anna-berg-2: {name: Anna Berg}
        """)
    people = found[frozenset(("person/anna-berg", "person/anna-berg-2"))]
    assert "credited in 1 film(s) that may be one (a candidate pair of films)" in people
    assert not any("same title" in e for e in people)
    assert "a director of the same name" in found[frozenset(("movie/film-a", "movie/film-b"))]


def test_films_whose_directors_are_a_letter_apart_do_not_say_the_same_name(tmp_path):
    found = _evidence(tmp_path, """
        movies:
          lagaan: {name: Lagaan, production_year: 2001, director: [ashutosh-gowariker]}
          lagaan-2: {name: Lagaan, production_year: 2001, director: [ashutosh-gowarikar]}
        people:
          ashutosh-gowariker: {name: Ashutosh Gowariker}
          ashutosh-gowarikar: {name: Ashutosh Gowarikar}
        """)
    film = found[frozenset(("movie/lagaan", "movie/lagaan-2"))]
    assert "directors of names a letter apart" in film and "a director of the same name" not in film


def _bulk_pairs(tmp_path: Path, files: dict[str, str]) -> list[Candidate]:
    """The candidates of a project of CSV files, each mapped as a film list of a source of its own."""
    return _found_among(tmp_path, {written: text for name, csv in files.items() for written, text in (
        (f"{name}.csv", csv), (f"{name}.mapping.yaml", f"""\
            source: {{key: {name}, name: {name}, type: CreativeWork}}
            files: {name}.csv
            record: movie
            fields: {{name: film, production_year: year, cinematographer: person}}
            """))})


def test_of_two_bulk_people_the_one_credited_in_more_films_is_kept(tmp_path):
    found = _bulk_pairs(tmp_path, {
        "press": "film,year,person\nKalter Hafen,2024,Mathias Gros\n",
        "db": "film,year,person\nKalter Hafen,2024,Matthias Gros\nRauhnacht,2021,Matthias Gros\n"})
    assert [(c.a, c.b) for c in found] == [(f"{BASE}person/matthias-gros", f"{BASE}person/mathias-gros")]


def test_of_two_bulk_people_credited_alike_the_spelling_with_its_accents_is_kept(tmp_path):
    found = _bulk_pairs(tmp_path, {"press": "film,year,person\nKalter Hafen,2024,Mathias Gross\n",
                                   "db": "film,year,person\nKalter Hafen,2024,Matthias Groß\n"})
    assert [(c.a, c.b, c.fix) for c in found] == [(f"{BASE}person/matthias-gross", f"{BASE}person/mathias-gross",
                                                   "merge person/mathias-gross into person/matthias-gross")]


@pytest.mark.parametrize("second, candidate", [(1966, True), (1975, False)])  # one career; or further apart
def test_a_name_with_its_family_name_first_in_one_row_is_a_candidate_of_its_other_order(tmp_path, second, candidate):
    found = _found_among(tmp_path, {"films.csv": f"""\
        title,year,director
        The Marines Who Never Returned,1963,Man-hee Lee
        Late Autumn,{second},Lee Man-hee
        """, "films.mapping.yaml": """\
        source: {key: db, name: Collection database, type: Dataset}
        files: films.csv
        record: movie
        fields: {name: title, production_year: year, director: director}
        """})
    assert [(_pair(c), c.evidence[0]) for c in found if c.kind == "person"] == ([(
        frozenset(("person/lee-man-hee", "person/man-hee-lee")),
        "the same name with the family name first in one and last in the other")] if candidate else [])


@pytest.mark.parametrize("ya, yb, said", [
    ({2000}, {2000}, "the same year (2000)"),
    ({1999, 2000}, {2000}, "a year in common (2000: 1999/2000 and 2000)"),  # made in 1999, released in 2000
    ({1999, 2000}, {1999, 2000}, "the same years (1999/2000)"),
])
def test_year_evidence_says_whether_the_years_are_the_same_or_only_meet(ya, yb, said):
    assert _year_evidence(ya, yb, "year")[1] == said


def test_of_two_bulk_films_titled_alike_the_title_with_its_article_is_kept(tmp_path):
    found = _bulk_pairs(tmp_path, {"press": "film,year,person\nWailing,2016,Hong Kyung-pyo\n",
                                   "db": "film,year,person\nThe Wailing,2016,Hong Kyung-pyo\n"})
    assert [c.fix for c in found if c.kind == "movie"] == ["merge movie/wailing-2016 into movie/the-wailing-2016"]


def test_a_film_a_reference_mistypes_by_a_letter_is_a_candidate_of_the_film_of_that_year(tmp_path):
    found = _found_among(tmp_path, {"films.yaml": """\
        movies:
          the-lantern-keeper-2025: {name: The Lantern Keeper, production_year: 2025, director: [ana]}
          the-lantern-keeper-1990: {name: The Lantern Keeper, production_year: 1990, director: [bo]}
        people:
          ana: {name: Ana López}
          bo: {name: Bo Berg}
        """, "screenings.csv": "id,film,year\nS17,The Lanter Keeper,2025\nS18,The Lantern Keper,2011\n",
        "screenings.mapping.yaml": """\
        source: {key: programme, name: Programme, type: CreativeWork}
        files: screenings.csv
        record: event
        key: {id: id}
        fields: {name: id, work_presented: {name: film, year: year}}
        """})
    assert [(_pair(c), c.fix) for c in found] == [
        (frozenset(("movie/the-lantern-keeper-2025", "movie/the-lanter-keeper-2025")),
         "merge movie/the-lanter-keeper-2025 into movie/the-lantern-keeper-2025")]  # (not the 2011 one: no film then)
    assert "the same title but for a letter, of the same year" in found[0].evidence[0]


def test_a_mistyped_one_word_title_is_found_among_many_of_its_year_and_first_letter(tmp_path):
    # (one-word titles of a year share a group by their first letter: 70 of them passed the block cap before)
    others = "\n".join(f"  m{n}: {{name: Mo{chr(97 + n % 26)}{chr(97 + n // 26)}tane, production_year: 2019}}"
                       for n in range(70))
    assert _people_pairs(tmp_path, f"""
movies:
  maleficent: {{name: Maleficent, production_year: 2019, director: [ann]}}
  malefisent-2019: {{name: Malefisent}}
{others}
people:
  ann: {{name: Ann Lee}}
""") == {frozenset(("movie/maleficent", "movie/malefisent-2019")): 0.7}


def test_films_a_letter_apart_that_give_their_own_years_are_no_typo_of_a_reference(tmp_path):
    # (a film list without credits: every film credits no one, but each gives its year; the review's case)
    assert _people_pairs(tmp_path, """
        movies:
          shadows: {name: Shadows, production_year: 1959, director: [john-cassavetes]}
          shadow-1959: {name: Shadow, production_year: 1959}
          angels: {name: Angels, production_year: 2003}
          angel: {name: Angel, production_year: 2003}
          the-hunter: {name: The Hunter, production_year: 2003}
          the-hunted: {name: The Hunted, production_year: 2003, director: [william-friedkin]}
        people: {john-cassavetes: {name: John Cassavetes}, william-friedkin: {name: William Friedkin}}
        """) == {}


# a mapping of f.jsonl, a catalogue's films keyed by their IMDb id (its fields follow)
_CATALOGUE = "source: {key: cat, type: CreativeWork, name: Catalogue}\nfiles: f.jsonl\nrecord: movie\nkey: {id: imdb}\n"


@pytest.mark.parametrize("renamed", [
    "movies: {winter-road-early: {name: Winter Road, formerly: [winter-road-1980]}}\n",
    "movies: {winter-road-early: {name: Winter Road}}\ndecisions:\n  - merge movie/winter-road-1980 into "
    "movie/winter-road-early\n"])
def test_a_pair_kept_apart_stays_apart_once_one_of_it_is_renamed(tmp_path, renamed):
    assert _found_among(tmp_path, {
        "f.jsonl": '{"title":"Winter Road","year":1980,"directors":[{"name":"Anna Bruckner"}]}\n'
                   '{"title":"Winter Road","year":1981,"directors":[{"name":"Anna Bruckner","imdb":"nm0100003"}],'
                   '"imdb":"tt0100005"}\n',
        "f.mapping.yaml": _CATALOGUE + "fields: {name: title, production_year: year, director: {name: directors.name, "
                                       "id: directors.imdb}}\n",
        "c.yaml": renamed + ("decisions:\n" if "decisions" not in renamed else "")
        + "  - not_same movie/tt0100005 movie/winter-road-1980\n"}) == []


def test_a_pair_merged_by_identifier_shows_how_each_was_spelled(tmp_path):
    found = _found_among(tmp_path, {
        "f.jsonl": '{"title":"Silent Station","year":1960,"imdb":"tt0100010","wikidata":"Q777"}\n'
                   '{"title":"Stille Station","year":1960,"imdb":"tt0100011","wikidata":"Q777"}\n',
        "f.mapping.yaml": _CATALOGUE + 'fields: {name: title, same_as: {column: wikidata, template: '
                                       '"http://www.wikidata.org/entity/{}"}}\n'})
    assert [(c.merged, c.names) for c in found] == [(True, ("Silent Station", "Stille Station"))]


def test_kg_duplicates_shows_how_each_of_a_pair_is_spelled(oldboys, run_kg):
    code, output = run_kg(oldboys, "duplicates")
    assert code == 0 and f"'Oldboy' <{BASE}movie/oldboy> = 'Old Boy' <{BASE}movie/old-boy-2003>?" in output


def test_a_name_a_letter_apart_in_another_source_s_cast_of_the_film_is_a_candidate_with_why(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.yaml").write_text(textwrap.dedent("""
        sources:
          kit: {name: Press kit}
          wiki: {name: Wiki}
        movies:
          rio:
            name: Rio das Almas
            claims:
              kit: {name: Rio das Almas, production_year: 2021, cast: [{actor: luiza-tavares}, {actor: sergio}]}
              wiki: {name: Rio das Almas, cast: [{actor: luiza-tavarez}, {actor: sergio}]}
        people:
          luiza-tavares: {name: Luíza Tavares, claims: {kit: {name: Luíza Tavares, birth_date: 1994}}}
          luiza-tavarez: {name: Luiza Tavarez, claims: {wiki: {name: Luiza Tavarez}}}
          sergio: {name: Sérgio Antunes}
        """), encoding="utf-8")
    sources = read_sources(tmp_path / "data", root=tmp_path)
    found = find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))
    assert [(_pair(c), c.evidence[0]) for c in found] == [
        (frozenset(("person/luiza-tavares", "person/luiza-tavarez")),
         "the same name but for a letter, credited in the same film (a typo?)")]


@pytest.mark.parametrize("x, y, other", [
    ("daniel", "daniela", True), ("paulo", "paula", True), ("francesco", "francesca", True),
    ("christian", "christina", True), ("tavares", "tavarez", False), ("coutard", "coutart", False),
    ("mathieu", "matheiu", False), ("kristoffer", "kristofer", False)])
def test_a_name_s_other_ending_is_told_from_a_typo(x, y, other):
    assert other_ending(x, y) is other and other_ending(y, x) is other


def test_a_catalogues_family_name_first_with_a_comma_is_the_same_name(tmp_path):
    assert frozenset(("person/agnes-varda", "person/varda-agnes")) in _people_pairs(tmp_path, """
        people:
          agnes-varda: {name: Agnès Varda}
          varda-agnes: {name: "Varda, Agnes"}
        """)


@pytest.mark.parametrize("a, b, score", [
    ("Harbour, Ann", "Ann Harbor", 0.35), ("Lee, Yeong-hoon", "Yeong-hun Lee", 0.35), ("Koo, Jae", "Jae Ku", 0.35),
    ("Harris, Ed", "Ed Harris Sr.", 0.3), ("Johnson, Dwayne", 'Dwayne "The Rock" Johnson', 0.45),
    ("Lemaître, François", "François Lemaître", 0.5)])
def test_a_name_written_family_name_first_matches_the_other_s_spellings_as_the_name_does(a, b, score):
    found = _best_match(person_spellings(a), person_spellings(b), ordered=True)
    assert found is not None and found[0] == score


def test_a_name_written_family_name_first_with_a_comma_is_told_so_not_as_a_spelling(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.yaml").write_text(textwrap.dedent("""
        people:
          francois-lemaitre: {name: François Lemaître}
          lemaitre-francois: {name: "Lemaître, François"}
          agnes-varda: {name: Agnès Varda}
          agnes-varda-2: {name: Agnes Varda}
        """), encoding="utf-8")
    sources = read_sources(tmp_path / "data", root=tmp_path)
    found = {_pair(c): c.evidence for c in find(sources.records, sources.decisions, sources.moves, sources.held,
                                                 Minter(BASE))}
    assert found == {
        frozenset(("person/francois-lemaitre", "person/lemaitre-francois")): [
            "the same name, written family name first with a comma in one ('Varda, Agnès')"],
        frozenset(("person/agnes-varda", "person/agnes-varda-2")): [
            "the same name, spelled differently only in case, punctuation, spacing or accents"]}


def test_a_given_name_in_common_is_no_evidence_nor_are_films_of_one_title_decades_apart(tmp_path):
    assert _people_pairs(tmp_path, """
        movies:
          echoes-1990: {name: Echoes, production_year: 1990, cast: [{actor: luc-han}]}
          echoes-2015: {name: Echoes, production_year: 2015, cast: [{actor: luc-andersson}]}
        people:
          luc-han: {name: Luc Han, birth_date: 1987}
          luc-andersson: {name: Luc Andersson, birth_date: 1987}
        """) == {}


def test_a_family_name_in_common_with_a_birth_year_and_a_film_is_still_evidence(tmp_path):
    assert frozenset(("person/kitano", "person/beat-takeshi")) in _people_pairs(tmp_path, """
        movies:
          sonatine: {name: Sonatine, production_year: 1993, director: [kitano], cast: [{actor: beat-takeshi}]}
        people:
          kitano: {name: Takeshi Kitano, birth_date: 1947}
          beat-takeshi: {name: Beat Takeshi, birth_date: 1947}
        """)


def test_every_kind_of_candidate_says_how_its_records_are_spelled(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.yaml").write_text(textwrap.dedent("""
        movies:
          oldboy: {name: Oldboy, production_year: 2003, director: [park], same_as: [https://www.imdb.com/title/tt0364569/]}
          oldboy-imdb: {name: Oldeuboi, production_year: 2003, same_as: [https://www.imdb.com/title/tt0364569/]}
          old-boy-2003: {name: Old Boy, production_year: 2003, director: [park]}
          mother: {name: Mother, production_year: 2009, same_as: [https://en.wikipedia.org/wiki/Mother_(2009_film)]}
          mother-again: {name: Mother (re-release), production_year: 2010,
                         same_as: [https://en.wikipedia.org/wiki/Mother_(2009_film)]}
        people:
          park: {name: Park Chan-wook}
        """), encoding="utf-8")
    sources = read_sources(tmp_path / "data", root=tmp_path)
    found = find(sources.records, sources.decisions, sources.moves, sources.held, Minter(BASE))
    assert {c.merged for c in found} == {True, False} and len(found) >= 3
    assert all(c.names[0] for c in found)  # the merged-away record of an identifier merge is spelled no more
    assert all(c.names[1] for c in found if not c.merged)
