"""Bulk sources: CSV, TSV, JSON, JSON Lines and RDF files, mapped by a mapping file; messy rows; identities."""

from __future__ import annotations

import gzip
import json
import pickle
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import BASE, REPO, SHARED
from kg import spliced, vocab
from kg.build.cleaning import people_names
from kg.build.sources import input_files, read_sources
from kg.config import load_config
from kg.formats import FORMATS
from kg.layout import STORE_DIR, current

S = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"

FILMS = [
    {"id": "tt0000001", "title": "Night River", "year": "2001", "cast": ["Ann Lee", "Bo Kim"], "genre": "drama"},
    {"id": "tt0000002", "title": "Blue City", "year": "2003", "cast": ["Bo Kim"], "genre": "war"},
]


def _csv(sep: str) -> str:
    rows = [sep.join(["id", "title", "year", "cast", "genre"])]
    rows += [sep.join([f["id"], f["title"], f["year"], "|".join(f["cast"]), f["genre"]]) for f in FILMS]
    return "\n".join(rows) + "\n"


DATA = {
    "csv": lambda: _csv(","),
    "tsv": lambda: _csv("\t"),
    "json": lambda: json.dumps(FILMS, ensure_ascii=False),
    "jsonl": lambda: "\n".join(json.dumps(f, ensure_ascii=False) for f in FILMS) + "\n",
}


def mapping(files: str, fields: str, key: str = "", record: str = "movie", source: str = "films") -> str:
    """A mapping file's text."""
    return textwrap.dedent(f"""\
        source: {{key: {source}, name: The {source} list, type: CreativeWork}}
        files: {files}
        record: {record}
        """) + (f"key:\n{textwrap.indent(textwrap.dedent(key).strip(), '  ')}\n" if key else "") + (
        "fields:\n" + textwrap.indent(textwrap.dedent(fields), "  "))


def put(root: Path, name: str, text: str | bytes) -> Path:
    path = root / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def ask(root: Path, query: str) -> list[tuple[str, ...]]:
    """Rows of a SELECT on the current release's store, as tuples of values."""
    store = ox.Store.read_only(str(current(root / "var") / STORE_DIR))
    rows = [tuple(t.value if t is not None else "" for t in row) for row in store.query(query)]
    return sorted(rows)


def built(root: Path, run_kg) -> str:
    code, output = run_kg(root, "build")
    assert code == 0, output
    return output


FIELDS = """\
name: title
production_year: year
genre: genre
actor: {name: {column: cast, split: "|"}}
"""


@pytest.mark.parametrize("fmt", sorted(DATA))
def test_each_bulk_format_gives_the_same_graph(fmt, empty_project, run_kg):
    put(empty_project, f"films.{fmt}", DATA[fmt]())
    fields = FIELDS if fmt in ("csv", "tsv") else FIELDS.replace('{column: cast, split: "|"}', "cast")
    put(empty_project, "films.mapping.yaml", mapping(f"films.{fmt}", fields, "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?title ?year ?actor WHERE {{ ?m a <{S}Movie> . GRAPH <{BASE}source/films> {{ ?m "
                              f"<{S}name> ?title ; <{S}dateCreated> ?year ; <{S}actor> ?r }} "
                              f"?r <{S}actor> ?a . ?a <{S}name> ?actor }}") == [
        ("Blue City", "2003", "Bo Kim"), ("Night River", "2001", "Ann Lee"), ("Night River", "2001", "Bo Kim")]


def test_a_new_file_a_mapping_matches_is_built(empty_project, run_kg):
    put(empty_project, "films-1.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", mapping("films-*.csv", FIELDS, "id: id"))
    built(empty_project, run_kg)
    put(empty_project, "films-2.csv", "id,title,year,genre,cast\ntt0000009,Late Storm,2009,drama,Cy Park\n")
    assert "published release" in built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ <{BASE}movie/tt0000009> <{S}name> ?t }}") == [("Late Storm",)]


def test_input_files_are_what_a_build_reads(empty_project):
    put(empty_project, "films-1.csv", DATA["csv"]())
    put(empty_project, "films-2.csv", "id,title,year,genre,cast\ntt0000009,Late Storm,2009,drama,Cy Park\n")
    put(empty_project, "films.mapping.yaml", mapping("films-*.csv", FIELDS, "id: id"))
    put(empty_project, "notes.yaml", "sources:\n  notes: {name: Notes, type: CreativeWork}\n")
    data = empty_project / "data"
    assert input_files(data, empty_project) == read_sources(data, root=empty_project).inputs


def test_no_input_files_are_told_for_a_broken_mapping(empty_project):
    put(empty_project, "films.mapping.yaml", "source: [\n")
    assert input_files(empty_project / "data", empty_project) is None


def _json_films(root: Path, run_kg) -> None:
    """The two films as a JSON source, keyed by their IMDb ids, built."""
    put(root, "films.json", DATA["json"]())
    put(root, "films.mapping.yaml", mapping("films.json", FIELDS.replace('{column: cast, split: "|"}', "cast"),
                                            "id: id"))
    built(root, run_kg)


def test_imdb_ids_become_keys_and_same_as_links(empty_project, run_kg):
    _json_films(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?same WHERE {{ <{BASE}movie/tt0000001> <{S}sameAs> ?same }}") == [
        ("https://www.imdb.com/title/tt0000001/",)]


def test_people_are_shared_across_films(empty_project, run_kg):
    _json_films(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m <{S}actor>/<{S}actor> <{BASE}person/bo-kim> }}") == [
        (f"{BASE}movie/tt0000001",), (f"{BASE}movie/tt0000002",)]


def test_every_bulk_fact_cites_its_file(empty_project, run_kg):
    put(empty_project, "films.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", FIELDS, "id: id"))
    built(empty_project, run_kg)
    graphs = ask(empty_project, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{BASE}movie/tt0000001> ?p ?o "
                                f"FILTER(?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>) }} }}")
    assert graphs == [(f"{BASE}source/editorial",), (f"{BASE}source/films",)]
    assert ask(empty_project, f"SELECT ?name WHERE {{ <{BASE}source/films> <{S}name> ?name }}") == [
        ("The films list",)]


# ---- messy input ----

CREW = "title,person,imdb,department\n"


def _notes(root: Path) -> list[str]:
    return [str(n) for n in read_sources(root / "data", root=root).notes]


def test_byte_order_mark_is_removed_and_reported(empty_project, run_kg):
    put(empty_project, "films.csv", b"\xef\xbb\xbf" + DATA["csv"]().encode())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", FIELDS, "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ <{BASE}movie/tt0000001> <{S}name> ?t }}") == [("Night River",)]
    assert any("byte-order mark" in n for n in _notes(empty_project))


def test_rows_that_are_not_utf8_are_skipped_and_reported(empty_project, run_kg):
    text = (b"id,title,year\n"
            b"tt0000001,Chlo\x95 in Paris,2001\n"  # not UTF-8: never published garbled
            b"tt0000002,Blue City,2003\n")
    put(empty_project, "films.csv", text)
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    output = built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Blue City",)]
    assert "data/films.csv:2: skipped: not valid utf-8 (bytes 0x95)" in output


def test_a_file_two_mappings_read_has_each_of_its_notes_told_once(empty_project, run_kg):
    put(empty_project, "p.csv", "\ufefftitle,year,venue\nOasis,2002,Hall A\nOasis,2002,Hall A\nPoetry,2010\n")
    put(empty_project, "films.mapping.yaml", mapping("p.csv", "name: title\nproduction_year: year\n"))
    put(empty_project, "venues.mapping.yaml", mapping("p.csv", "name: venue\n", record="organization", source="venues"))
    output = built(empty_project, run_kg)
    notes = _notes(empty_project)
    assert [notes.count(n) for n in ("data/p.csv: repaired: removed a byte-order mark (utf-8)",
                                     "data/p.csv:3: skipped: duplicate of line 2",
                                     "data/p.csv:4: skipped: 2 cells where the header has 3")] == [1, 1, 1], notes
    assert "messy input handled: 1 repaired, 2 skipped" in output, output


def test_a_misspelt_column_of_a_file_with_a_row_not_in_its_encoding_lists_only_its_columns(empty_project, run_kg):
    put(empty_project, "films.csv", b"id,title,year\ntt0000001,Chlo\x95 in Paris,2001\ntt0000002,Blue City,2003\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: titel\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "has a column 'titel' (did you mean 'title'?); its columns: id, title, year\n" in output


def test_a_file_in_another_encoding_gets_the_mapping_line_to_add(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,Chloé in Paris,2001\ntt2,Blue,2003\n".encode("cp1252"))
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    output = built(empty_project, run_kg)
    assert "data/films.csv: suspicious: 1 byte not valid utf-8 (their rows are left out); the whole file reads as " \
           "cp1252: if it is in cp1252, say `encoding: cp1252` in its mapping" in output


def test_an_encoding_that_reads_the_bytes_as_symbols_is_not_recommended(empty_project, run_kg):
    # FiveThirtyEight's crew file: bytes of no one encoding, which mac_roman reads as '€ric Pouliot', 'Garç†o'
    put(empty_project, "films.csv", b"id,title,year\ntt1,\xdbric Pouliot,2016\ntt2,Miguel Gar\xe7\xa0o,2016\n"
                                    b"tt3,J\x5fr\xafme,2016\ntt4,Atli Krist\x84fer,2016\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert "reads as mac_roman" not in output and "the whole file reads as" not in output
    assert "name the file's encoding with `encoding:` in its mapping (it may mix encodings)" in output


def test_an_encoding_named_that_reads_the_bytes_as_symbols_is_said_to(empty_project, run_kg):
    put(empty_project, "films.csv", b"id,title,year\ntt1,\xdbric Pouliot,2016\ntt2,Miguel Gar\xe7\xa0o,2016\n"
                                    b"tt3,Iv\xf6n del Rio,2016\n")
    put(empty_project, "films.mapping.yaml", "encoding: mac_roman\n" + mapping(
        "films.csv", "name: title\nproduction_year: year\n", "id: id"))
    output = built(empty_project, run_kg)
    assert "data/films.csv: suspicious: read as mac_roman, the file's characters beyond ASCII look garbled" in output
    assert "'Ivˆn'" in output


def test_an_encoding_named_that_reads_the_letters_as_letters_says_nothing(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\ntt1,Chloé in Paris,2001\n".encode("cp1252"))
    put(empty_project, "films.mapping.yaml", "encoding: cp1252\n" + mapping(
        "films.csv", "name: title\nproduction_year: year\n", "id: id"))
    assert "suspicious" not in built(empty_project, run_kg)


def test_a_file_that_mixes_encodings_is_said_to(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,Chloé in Paris,2001\n".encode("cp1252")
        + "tt0000002,Café Noir,2003\n".encode())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    output = built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Café Noir",)]
    assert "the rest of the file is valid utf-8, so it mixes encodings" in output


@pytest.mark.parametrize("encoding, titles", [
    ("cp949", ["아가씨", "살인의 추억", "벌새"]),  # Korean Excel's default
    ("cp932", ["千と千尋の神隠し", "となりのトトロ"]),  # Japanese Excel's
])
def test_a_file_of_every_row_in_a_two_byte_encoding_is_refused_with_the_line_to_add(empty_project, run_kg,
                                                                                     encoding, titles):
    rows = "".join(f"{title},{2000 + n}\n" for n, title in enumerate(titles))
    put(empty_project, "films.csv", ("title,year\n" + rows).encode(encoding))
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"data/films.csv: no row could be read, {len(titles)} rows left out for their bytes: the " \
        f"whole file reads as {encoding}: if it is in {encoding}, say `encoding: {encoding}` in its mapping" in output, \
        output


@pytest.mark.parametrize("text, encoding, told", [
    ("Amélie,2001\nLéon,1994\n", "cp1252", "cp1252"),  # an accented letter and the next read in cp932 are kanji
    ("Éric Pouliot,2016\nGonçalves,2016\n", "mac_roman", "mac_roman"),  # ... and kana
    ("東京物語,1953\n七人の侍,1954\n羅生門,1950\n", "cp932", "cp932"),  # kanji alone read in cp949 are Hangul
])
def test_a_file_in_another_encoding_is_told_the_one_it_is_in(empty_project, run_kg, text, encoding, told):
    put(empty_project, "films.csv", ("title,year\n" + text).encode(encoding))
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"the whole file reads as {told}: if it is in {told}, say `encoding: {told}`" in output, \
        output


def test_a_file_in_cp949_with_rows_of_plain_ascii_is_published_and_told_its_encoding_not_a_mix(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year\nOasis,2002\n아가씨,2016\n".encode("cp949"))
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    output = built(empty_project, run_kg)
    assert "the whole file reads as cp949: if it is in cp949, say `encoding: cp949` in its mapping" in output, output
    assert "mixes encodings" not in output


def test_a_file_in_cp949_is_read_once_its_mapping_names_the_encoding(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year\n아가씨,2016\n".encode("cp949"))
    put(empty_project, "films.mapping.yaml", "encoding: cp949\n" + mapping("films.csv", "name: title\n"
                                                                                          "production_year: year\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("아가씨",)]


def test_a_declared_encoding_is_used(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,Chloé in Paris,2001\n".encode("cp1252"))
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id")
        + "encoding: cp1252\n")
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Chloé in Paris",)]


def test_mojibake_is_repaired_and_reported(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,CafÃ© Society,2016\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Café Society",)]
    assert any("repaired mojibake 'CafÃ© Society' -> 'Café Society'" in n for n in _notes(empty_project))


def test_a_run_of_spaces_inside_a_value_is_collapsed_and_reported_but_spaces_around_it_are_only_trimmed(
        empty_project, run_kg):
    put(empty_project, "films.csv", 'id,title,director\ntt0000001,Night  River, Lee Chang-dong \n')
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\ndirector: {name: director}\n",
                                                     "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Night River",)]
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?p a <{S}Person> ; <{S}name> ?n }}") == [("Lee Chang-dong",)]
    notes = _notes(empty_project)
    assert "data/films.csv:2: repaired: repaired 'Night  River': a run of spaces or a tab, collapsed ('Night River')" \
        in notes
    assert not any("Lee Chang-dong" in n for n in notes)


def test_duplicate_rows_are_skipped_and_reported(empty_project):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,Night River,2001\ntt0000001,Night River,2001\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    assert "data/films.csv:3: skipped: duplicate of line 2" in _notes(empty_project)


@pytest.mark.parametrize(("fmt", "again"), [("csv", " "), ("tsv", ""), ("csv", "\ufeff")])  # two exports joined
def test_the_header_row_again_is_skipped_not_published(fmt, again, empty_project, run_kg):
    sep = "," if fmt == "csv" else "\t"
    header = sep.join(["id", "title", "year"])
    put(empty_project, f"films.{fmt}",
        f"\ufeff{header}\n{sep.join(['tt0000001', 'Night River', '2001'])}\n{again}{header}\n")
    put(empty_project, "films.mapping.yaml", mapping(f"films.{fmt}", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    assert f"data/films.{fmt}:3: skipped: the header row again (were files joined?)" in _notes(empty_project)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Night River",)]


def test_an_absurd_running_time_in_a_row_is_skipped_with_its_field(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,minutes\ntt0000001,Night River,99999999999999999999\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nrunning_time: minutes\n", "id: id"))
    built(empty_project, run_kg)
    assert any(n.startswith("data/films.csv:2: skipped: running_time:") and "not a plausible running time" in n
               for n in _notes(empty_project)), _notes(empty_project)


RUNNING_TIMES = ["98", "PT1H38M", "pt98m", "1h 38m", "1h38m", "1 hr 38 min", "98 mins", "98 min.", "1 hour 38 minutes",
                 "1:38", "1:38:00", "98분", "1시간 38분", "98分", "1時間38分", "1小时38分钟"]


def test_a_running_time_written_out_is_read_as_its_minutes(empty_project, run_kg):
    rows = "".join(f"tt{n:07d},Film {n},{written}\n" for n, written in enumerate(RUNNING_TIMES, 1))
    put(empty_project, "films.csv", "id,title,minutes\n" + rows)
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nrunning_time: minutes\n", "id: id"))
    built(empty_project, run_kg)
    found = ask(empty_project, "SELECT ?f ?d WHERE { ?f <http://schema.org/duration> ?d }")
    assert [d for _, d in found] == ["PT1H38M"] * len(RUNNING_TIMES) and _notes(empty_project) == []


@pytest.mark.parametrize("written, why", [
    ("PT1H38M30S", "not a whole number of minutes (a running time is kept in minutes: write 98 or 99)"),
    ("1:38:20", "not a whole number of minutes"),
    ("98:30", "not a running time"),  # minutes and seconds, or 98 hours: not read as either
    ("1.5h", "not a running time"),
    ("1h 98m", "not a running time"),  # hours and more than an hour of minutes: a slip
])
def test_a_running_time_that_is_no_whole_number_of_minutes_is_skipped_with_why(empty_project, run_kg, written, why):
    put(empty_project, "films.csv", f"id,title,minutes\ntt0000001,Night River,{written}\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nrunning_time: minutes\n", "id: id"))
    built(empty_project, run_kg)
    assert any(n.startswith(f"data/films.csv:2: skipped: running_time: '{written}' is {why}")
               for n in _notes(empty_project)), _notes(empty_project)


def test_a_number_in_a_json_file_where_text_is_meant_is_that_text(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([{"id": "tt0212712", "title": 2046, "tagline": 1999,
                                                  "genre_ids": [18]}]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\ndescription: tagline\n"
                                                     "genre: genre_ids\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, "SELECT ?n ?d WHERE { <https://films.example.org/movie/tt0212712> "
                              "<http://schema.org/name> ?n ; <http://schema.org/description> ?d }") == [("2046", "1999")]
    # a genre's id is no genre: still left out, and said
    assert _notes(empty_project) == ["data/films.json:1: skipped: genre: expected text, got a number 18 (put it in "
                                     "quotes)"]


def test_rows_whose_cells_only_join_alike_are_not_duplicates(empty_project):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,Night\x1fRiver,2001\ntt0000001\x1fNight,River,2001\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    assert not any("duplicate" in n for n in _notes(empty_project))


def test_the_same_film_under_two_title_spellings_is_one_film(empty_project, run_kg):
    put(empty_project, "cast.csv", "movie,actor\nRogue One,Felicity Jones\n")
    put(empty_project, "crew.csv", "movie,person\nRogue One_(2016),Gareth Edwards\n")
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", """\
        name: movie
        production_year: {constant: 2016}
        actor: actor
        """, source="cast"))
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", r"""
        name: {column: movie, pattern: '^(.*?)_'}
        production_year: {column: movie, pattern: '\((\d{4})\)$'}
        director: person
        """, key=r"year: {column: movie, pattern: '\((\d{4})\)$'}", source="crew"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m ?a ?d WHERE {{ ?m a <{S}Movie> ; <{S}actor>/<{S}actor> ?a ; <{S}director> ?d }}") == [
        (f"{BASE}movie/rogue-one-2016", f"{BASE}person/felicity-jones", f"{BASE}person/gareth-edwards")]


def test_title_aliases_join_differently_worded_titles(empty_project, run_kg):
    put(empty_project, "a.csv", "movie,year\nRogue One: A Star Wars Story,2016\n")
    put(empty_project, "b.csv", "movie,year\nRogue One,2016\n")
    put(empty_project, "a.mapping.yaml", mapping("a.csv", "name: movie\nproduction_year: year\n", source="a"))
    put(empty_project, "b.mapping.yaml", mapping("b.csv", """\
        name: {column: movie, aliases: {Rogue One: "Rogue One: A Star Wars Story"}}
        production_year: year
        """, source="b"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}") == [
        (f"{BASE}movie/rogue-one-a-star-wars-story-2016",)]


@pytest.mark.parametrize("items", ["", "results.films"])
def test_a_json_items_notes_name_the_line_it_starts_on(items, empty_project):
    films = [{"id": "tt1", "title": "Night River"}, {"id": "tt2", "title": "Blue City"},
             {"id": "tt1", "title": "Night River"}]
    document = {"meta": {"count": [3]}, "results": {"films": films}} if items else films
    put(empty_project, "films.json", json.dumps(document, indent=2))  # each item over four lines
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\n", "id: id")
        + (f"items: {items}\n" if items else ""))
    first = 2 if not items else 9  # the line of the first item's brace
    assert f"data/films.json:{first + 8}: skipped: duplicate of line {first}" in _notes(empty_project)


def test_a_json_key_given_twice_has_the_lines_of_the_array_it_keeps(empty_project):
    put(empty_project, "films.json", '{"films": [\n{"id": "tt1", "title": "A"},\n{"id": "tt1", "title": "A"}\n],\n'
                                     '"films": [\n{"id": "tt2", "title": "B"},\n{"id": "tt2", "title": "B"}\n]}')
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\n", "id: id") + "items: films\n")
    notes = _notes(empty_project)  # json.loads keeps the second array: its duplicate is on line 7 (or item 2)
    assert any(n.startswith("data/films.json:") and "duplicate" in n for n in notes), notes
    assert not any(n.startswith("data/films.json:3:") for n in notes), notes


def _director_and_namesake(root: Path) -> None:
    """A film whose director a CSV names, and a JSON list that gives a person of that name an IMDb id."""
    put(root, "films.csv", "title,year,director\nOldboy,2003,Park Chan-wook\n")
    put(root, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\ndirector: director\n"))
    put(root, "people.json", '[{"name": "Park Chan-wook", "imdb": "nm0661791"}]')
    put(root, "people.mapping.yaml", mapping("people.json", "name: name\n", "id: imdb", "person", "imdb"))


def test_a_name_key_of_a_hand_written_record_joins_it_not_an_identified_namesake(empty_project, run_kg):
    put(empty_project, "people.yaml", "people:\n  park-chan-wook:\n    name: Park Chan-wook\n")
    _director_and_namesake(empty_project)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?d WHERE {{ ?m <{S}director> ?d }}") == [(f"{BASE}person/park-chan-wook",)]
    assert any("data/films.csv:2: suspicious: person 'park-chan-wook' is the hand-written record of that key, "
               "which 'nm0661791' may be too" in n for n in _notes(empty_project))


@pytest.mark.parametrize("decision", ["merge person/nm0661791 into person/park-chan-wook",
                                      "not_same person/park-chan-wook person/nm0661791"])
def test_the_note_on_a_hand_written_key_s_namesake_goes_once_a_decision_settles_it(empty_project, run_kg, decision):
    put(empty_project, "people.yaml", "people:\n  park-chan-wook:\n    name: Park Chan-wook\n")
    _director_and_namesake(empty_project)
    built(empty_project, run_kg)
    put(empty_project, "decisions.yaml", f"decisions:\n  - {decision}\n")
    built(empty_project, run_kg)
    assert not any("hand-written record of that key" in n for n in _notes(empty_project))


def test_a_hand_written_record_added_later_is_joined_by_the_next_build_too(empty_project, run_kg):
    _director_and_namesake(empty_project)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?d WHERE {{ ?m <{S}director> ?d }}") == [(f"{BASE}person/nm0661791",)]
    put(empty_project, "people.yaml", "people:\n  park-chan-wook:\n    name: Park Chan-wook\n")
    built(empty_project, run_kg)  # the bulk files are unchanged: their records kept are not those now
    assert ask(empty_project, f"SELECT ?d WHERE {{ ?m <{S}director> ?d }}") == [(f"{BASE}person/park-chan-wook",)]


_OLDBOY = "movies:\n  oldboy: {name: Oldboy, production_year: 2003, director: [park-chan-wook]}\n" \
          "people:\n  park-chan-wook: {name: Park Chan-wook}\n"


def _undated_oldboy(root: Path, rows: str) -> None:
    """A hand-written Oldboy (2003) keyed by its title, and a CSV of Oldboy rows (`rows`: title,year,director)."""
    put(root, "films.yaml", _OLDBOY)
    put(root, "films.csv", "title,year,director\n" + rows)
    put(root, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\ndirector: director\n"))


def _directors(root: Path) -> list[tuple[str, ...]]:
    return ask(root, f"SELECT ?m ?d WHERE {{ ?m <{S}director> ?d }}")


def test_a_row_without_a_year_is_kept_apart_from_a_hand_written_film_of_its_title_when_others_have_it(
        empty_project, run_kg):
    _undated_oldboy(empty_project, "Oldboy,,Spike Lee\nOldboy,2013,Spike Lee\n")
    built(empty_project, run_kg)
    assert _directors(empty_project) == [(f"{BASE}movie/oldboy", f"{BASE}person/park-chan-wook"),
                                         (f"{BASE}movie/oldboy-2013", f"{BASE}person/spike-lee"),
                                         (f"{BASE}movie/oldboy-undated", f"{BASE}person/spike-lee")]
    assert "data/films.csv:2: suspicious: film 'oldboy' gives no year, and films of that title are 'oldboy' (written " \
           "by hand) and 'oldboy-2013': it could be any of them, so it is kept apart as 'oldboy-undated'" \
           in "\n".join(_notes(empty_project))


def test_a_row_without_a_year_kept_apart_is_a_candidate_duplicate_of_each_film_it_could_be(empty_project, run_kg):
    _undated_oldboy(empty_project, "Oldboy,,Spike Lee\nOldboy,2013,Spike Lee\n")
    built(empty_project, run_kg)
    code, output = run_kg(empty_project, "duplicates")
    assert code == 0 and "merge movie/oldboy-undated into movie/oldboy\n" in output + "\n" and \
        "merge movie/oldboy-undated into movie/oldboy-2013" in output, output


def test_merging_the_row_without_a_year_into_one_film_settles_its_note(empty_project, run_kg):
    _undated_oldboy(empty_project, "Oldboy,,Spike Lee\nOldboy,2013,Spike Lee\n")
    built(empty_project, run_kg)
    put(empty_project, "decisions.yaml", "decisions:\n  - merge movie/oldboy-undated into movie/oldboy-2013\n")
    built(empty_project, run_kg)
    assert _directors(empty_project) == [(f"{BASE}movie/oldboy", f"{BASE}person/park-chan-wook"),
                                         (f"{BASE}movie/oldboy-2013", f"{BASE}person/spike-lee")]
    assert not any("gives no year" in n for n in _notes(empty_project))
    assert "0 candidate duplicates" in run_kg(empty_project, "duplicates")[1]


def test_a_row_without_a_year_joins_the_hand_written_film_of_its_title_when_it_is_the_only_one(empty_project,
                                                                                               run_kg):
    _undated_oldboy(empty_project, "Oldboy,,Park Chan-wook\n")
    built(empty_project, run_kg)
    assert _directors(empty_project) == [(f"{BASE}movie/oldboy", f"{BASE}person/park-chan-wook")]
    assert "data/films.csv:2: merged: film 'oldboy' gives no year: it is the hand-written film of that key, the " \
           "only one of that title" in _notes(empty_project)


def test_a_row_without_a_year_leaves_the_hand_written_film_once_a_dated_row_of_its_title_is_added(empty_project,
                                                                                                  run_kg):
    _undated_oldboy(empty_project, "Oldboy,,Spike Lee\n")
    built(empty_project, run_kg)
    put(empty_project, "films.csv", "title,year,director\nOldboy,,Spike Lee\nOldboy,2013,Spike Lee\n")
    built(empty_project, run_kg)  # (the file read again, beside what the last build kept)
    edited = _directors(empty_project)
    assert run_kg(empty_project, "build", "--full")[0] == 0
    assert edited == _directors(empty_project) and (f"{BASE}movie/oldboy-undated", f"{BASE}person/spike-lee") in edited


def test_a_row_without_a_year_is_kept_apart_when_an_identified_film_has_its_title_in_some_year(empty_project,
                                                                                                   run_kg):
    _undated_oldboy(empty_project, "Oldboy,,Spike Lee\n")
    put(empty_project, "imdb.csv", "id,title,year\ntt1321511,Oldboy,2013\n")
    put(empty_project, "imdb.mapping.yaml", mapping("imdb.csv", "name: title\nproduction_year: year\n", "id: id",
                                                    source="imdb"))
    built(empty_project, run_kg)
    assert (f"{BASE}movie/oldboy-undated", f"{BASE}person/spike-lee") in _directors(empty_project)
    assert "films of that title are 'oldboy' (written by hand) and 'tt1321511'" in "\n".join(_notes(empty_project))


def test_a_hand_written_key_ending_in_a_number_is_not_a_year_of_a_shorter_title(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  blade-runner: {name: Blade Runner, production_year: 1982}\n"
                                     "  blade-runner-2049: {name: Blade Runner 2049, production_year: 2017}\n")
    put(empty_project, "films.csv", "title,year,director\nBlade Runner,,Ridley Scott\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"
                                                                  "director: director\n"))
    built(empty_project, run_kg)
    assert _directors(empty_project) == [(f"{BASE}movie/blade-runner", f"{BASE}person/ridley-scott")]


def test_a_row_with_a_title_ending_in_a_number_and_no_year_is_told_by_its_missing_year_not_its_title(
        empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  blade-runner-2049: {name: Blade Runner 2049, production_year: 2017}\n")
    put(empty_project, "films.csv", "title,year\nBlade Runner 2049,\nBlade Runner 2049,2017\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    built(empty_project, run_kg)
    assert "data/films.csv:2: suspicious: film 'blade-runner-2049' gives no year, and films of that title are " \
           "'blade-runner-2049' (written by hand) and 'blade-runner-2049-2017'" in "\n".join(_notes(empty_project))


_KIMS = "people:\n  kim-sung-su: {name: Kim Sung-su, birth_date: 1961}\n" \
        "  kim-sung-su-actor: {name: Kim Sung-su, birth_date: 1973}\n"


def _hard_day(root: Path) -> None:
    """Two hand-written people of one name, and a CSV crediting that name."""
    put(root, "people.yaml", _KIMS)
    put(root, "films.csv", "title,year,actor\nHard Day,2014,Kim Sung-su\n")
    put(root, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\nactor: actor\n"))


def _actors(root: Path) -> list[tuple[str, ...]]:
    return ask(root, f"SELECT ?p WHERE {{ ?m <{S}actor> ?r . ?r <{S}actor> ?p }}")


def test_a_name_two_hand_written_people_share_is_kept_apart_from_both(empty_project, run_kg):
    _hard_day(empty_project)
    built(empty_project, run_kg)
    assert _actors(empty_project) == [(f"{BASE}person/kim-sung-su-unresolved",)]
    assert "data/films.csv:2: suspicious: person 'kim-sung-su' is named as hand-written people 'kim-sung-su' and " \
           "'kim-sung-su-actor' are: it could be any of them, so it is kept apart as 'kim-sung-su-unresolved'" \
           in "\n".join(_notes(empty_project))
    code, output = run_kg(empty_project, "duplicates")
    assert "merge person/kim-sung-su-unresolved into person/kim-sung-su-actor" in output and \
        "merge person/kim-sung-su-unresolved into person/kim-sung-su\n" in output, output


def test_merging_a_shared_name_into_one_hand_written_person_credits_them_and_settles_the_note(empty_project, run_kg):
    _hard_day(empty_project)
    put(empty_project, "decisions.yaml", "decisions:\n  - merge person/kim-sung-su-unresolved into "
                                         "person/kim-sung-su-actor\n")
    built(empty_project, run_kg)
    assert _actors(empty_project) == [(f"{BASE}person/kim-sung-su-actor",)]
    assert not any("hand-written people" in n for n in _notes(empty_project))


def test_a_second_hand_written_person_of_a_credited_name_moves_the_credit_apart_on_the_next_build(empty_project,
                                                                                                   run_kg):
    _hard_day(empty_project)
    put(empty_project, "people.yaml", "people:\n  kim-sung-su: {name: Kim Sung-su, birth_date: 1961}\n")
    built(empty_project, run_kg)
    assert _actors(empty_project) == [(f"{BASE}person/kim-sung-su",)]
    put(empty_project, "people.yaml", _KIMS)
    built(empty_project, run_kg)  # (the bulk file unchanged: what it said is kept, its identities worked out again)
    assert _actors(empty_project) == [(f"{BASE}person/kim-sung-su-unresolved",)]


def _korean_film(root: Path, decision: str = "") -> None:
    """A hand-written country keyed by its code, and a CSV naming it by its name."""
    put(root, "places.yaml", "countries:\n  kr: {name: South Korea, code: KR}\n"
        + (f"decisions:\n  - {decision}\n" if decision else ""))
    put(root, "films.csv", "title,year,country\nA Film,2001,South Korea\n")
    put(root, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\ncountry: country\n"))


def test_a_name_in_a_bulk_file_finds_the_hand_written_record_of_that_name_under_another_key(empty_project, run_kg):
    _korean_film(empty_project)
    built(empty_project, run_kg)  # (the shapes want a country's code, which only the hand-written record has)
    assert ask(empty_project, f"SELECT ?c WHERE {{ ?m <{S}countryOfOrigin> ?c }}") == [(f"{BASE}country/kr",)]
    assert "data/films.csv:2: merged: country 'south-korea' is the hand-written country 'kr' (same name; to keep " \
           "them apart, decide 'not_same country/south-korea country/kr')" in _notes(empty_project)


def test_a_name_the_curators_keep_apart_from_a_hand_written_record_stays_apart(empty_project, run_kg):
    _korean_film(empty_project, "not_same country/south-korea country/kr")
    code, output = run_kg(empty_project, "build")
    assert code == 1 and "A country needs its ISO 3166-1 alpha-2 code" in output, output  # its own record, codeless


def test_a_name_kept_apart_from_a_hand_written_record_may_still_be_an_identified_record_of_it(empty_project,
                                                                                                  run_kg):
    put(empty_project, "people.yaml", "people:\n  pcw: {name: Park Chan-wook}\n"
                                      "decisions:\n  - not_same person/park-chan-wook person/pcw\n")
    _director_and_namesake(empty_project)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?d WHERE {{ ?m <{S}director> ?d }}") == [(f"{BASE}person/nm0661791",)]


def test_a_name_the_key_s_hand_written_holder_does_not_spell_but_another_does_finds_neither(empty_project, run_kg):
    put(empty_project, "people.yaml", "people:\n  kim-sung-su: {name: 김성수, birth_date: 1961}\n"
                                      "  kim-sung-su-actor: {name: Kim Sung-su, birth_date: 1973}\n")
    put(empty_project, "films.csv", "title,year,actor\nHard Day,2014,Kim Sung-su\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\nactor: actor\n"))
    built(empty_project, run_kg)
    assert _actors(empty_project) == [(f"{BASE}person/kim-sung-su-unresolved",)]


def test_dismissing_one_of_three_namesakes_leaves_the_note_until_a_merge(empty_project, run_kg):
    _hard_day(empty_project)
    put(empty_project, "people.yaml", _KIMS + "  kim-sung-su-writer: {name: Kim Sung-su, birth_date: 1980}\n"
        "decisions:\n  - not_same person/kim-sung-su-unresolved person/kim-sung-su\n")
    built(empty_project, run_kg)
    assert any("kept apart as 'kim-sung-su-unresolved'" in n for n in _notes(empty_project))
    put(empty_project, "people.yaml", _KIMS + "  kim-sung-su-writer: {name: Kim Sung-su, birth_date: 1980}\n"
        "decisions:\n  - merge person/kim-sung-su-unresolved into person/kim-sung-su-writer\n")
    built(empty_project, run_kg)
    assert not any("kim-sung-su-unresolved" in n for n in _notes(empty_project))


def test_a_character_s_name_does_not_find_a_hand_written_character_of_another_film(empty_project, run_kg):
    put(empty_project, "characters.yaml", "characters:\n  narrator-of-our-town: {name: Narrator}\n")
    put(empty_project, "films.csv", "title,year,character\nA Film,2001,Narrator\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"
                                                                  "character: character\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?c WHERE {{ ?m <{S}character> ?c }}") == [(f"{BASE}character/narrator",)]


def test_a_name_two_hand_written_records_share_finds_neither(empty_project, run_kg):
    put(empty_project, "companies.yaml", "organizations:\n  cj-1995: {name: CJ Entertainment}\n"
                                         "  cj-2010: {name: CJ Entertainment}\n")
    put(empty_project, "films.csv", "title,year,company\nA Film,2001,CJ Entertainment\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"
                                                                  "production_company: company\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?c WHERE {{ ?m <{S}productionCompany> ?c }}") == [
        (f"{BASE}organization/cj-entertainment",)]
    assert "data/films.csv:2: suspicious: organisation 'cj-entertainment' is named as hand-written organisations " \
           "'cj-1995' and 'cj-2010' are: it could be any of them, so it is kept apart" in "\n".join(
               _notes(empty_project))


def test_a_bulk_film_merged_into_a_hand_written_one_leaves_its_title_to_its_source_not_the_curators(empty_project,
                                                                                                      run_kg):
    put(empty_project, "films.yaml", "movies:\n  microhabitat: {name: Microhabitat, production_year: 2017}\n"
                                     "decisions:\n  - merge movie/little-princess-2017 into movie/microhabitat\n")
    put(empty_project, "films.csv", "title,year\nLittle Princess,2017\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    built(empty_project, run_kg)
    said = ask(empty_project, f"SELECT ?g ?p ?n WHERE {{ GRAPH ?g {{ <{BASE}movie/microhabitat> ?p ?n }} "
                              f"FILTER(?p IN (<{S}name>, <{S}alternateName>)) }}")
    assert said == [(f"{BASE}source/editorial", f"{S}name", "Microhabitat"),
                    (f"{BASE}source/films", f"{S}alternateName", "Little Princess")], said


def test_repeated_title_and_year_that_are_different_films_stay_apart(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([
        {"title": "Carmen", "year": 1915, "href": "Carmen_(1915_Cecil_B._DeMille_film)"},
        {"title": "Carmen", "year": 1915, "href": "Carmen_(1915_Raoul_Walsh_film)"},
        {"title": "Carmen", "year": 1915, "href": "Carmen_(1915_Cecil_B._DeMille_film)", "cast": ["Wallace Reid"]},
    ]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", """\
        name: title
        production_year: year
        actor: cast
        """, "distinct: href"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}") == [
        (f"{BASE}movie/carmen-1915",), (f"{BASE}movie/carmen-1915-raoul-walsh-film",)]
    assert ask(empty_project, f"SELECT ?a WHERE {{ <{BASE}movie/carmen-1915> <{S}actor>/<{S}actor> ?a }}") == [
        (f"{BASE}person/wallace-reid",)]
    assert any("data/films.json:2: suspicious: 'carmen-1915' again, but a different film "
               "(href='Carmen_(1915_Raoul_Walsh_film)'; the first, at line 1, has "
               "href='Carmen_(1915_Cecil_B._DeMille_film)')" in n for n in _notes(empty_project))


def test_a_second_film_whose_page_names_only_its_title_is_numbered(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([
        {"title": "On the Jump", "year": 1918, "href": "On_the_Jump_(1918_Fox_film)"},
        {"title": "On the Jump", "year": 1918, "href": "On_the_Jump"},
        {"title": "On the Jump", "year": 1918, "href": "On_the_Jump", "cast": ["Ann Lee"]},
    ]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\nactor: cast\n",
                                                     "distinct: href"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }} ORDER BY ?m") == [
        (f"{BASE}movie/on-the-jump-1918",), (f"{BASE}movie/on-the-jump-1918-2",)]
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m <{S}actor>/<{S}actor> ?a }}") == [(f"{BASE}movie/on-the-jump-1918-2",)]


def test_one_title_and_page_listed_a_year_apart_is_one_film_with_both_years(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([
        {"title": "Hard Eight", "year": 1996, "href": "Hard_Eight_(film)", "cast": ["Philip Baker Hall"]},
        {"title": "Hard Eight", "year": 1997, "href": "Hard_Eight_(film)", "cast": ["John C. Reilly"]},
    ]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\nactor: cast\n",
                                                     "distinct: href"))
    built(empty_project, run_kg)
    film = f"{BASE}movie/hard-eight-1996"
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}") == [(film,)]
    assert ask(empty_project, f"SELECT ?y WHERE {{ <{film}> <{S}dateCreated> ?y }} ORDER BY ?y") == [("1996",), ("1997",)]
    assert len(ask(empty_project, f"SELECT ?a WHERE {{ <{film}> <{S}actor>/<{S}actor> ?a }}")) == 2
    assert "data/films.json:2: merged: 'hard-eight-1997' is 'hard-eight-1996' of line 1, a year apart, with the same " \
           "href ('Hard_Eight_(film)'): one film, both years stated" in _notes(empty_project)


@pytest.mark.parametrize("director, said", [
    ('{column: director, split: "|"}', "fields.director: a reference's column goes under `name:` (its options too): "
                                       "{name: {column: director, ...}}"),
    ("[director]", "fields.director: a reference is a column of names, or {name: column, id: column, year: column}\n"),
])
def test_a_reference_written_as_a_plain_field_is_refused_with_how_to_write_it(empty_project, run_kg, director, said):
    _directed(empty_project, "title,year,director\nInception,2010,Christopher Nolan\n", f"director: {director}")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"data/films.mapping.yaml:7: {said}" in output + "\n", output


def test_a_cell_of_several_names_is_split_under_name(empty_project, run_kg):
    _directed(empty_project, "title,year,director\nFargo,1996,Joel Coen|Ethan Coen\n",
              'director: {name: {column: director, split: "|"}}')
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?m <{S}director>/<{S}name> ?n }} ORDER BY ?n") == [
        ("Ethan Coen",), ("Joel Coen",)]


def test_merges_by_name_on_the_row_of_a_merge_by_identifier_are_each_listed(empty_project, run_kg):
    put(empty_project, "crew.csv", "title,year,director,imdb\nRogue One,2016,Gareth Edwards,nm2284484\n")
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", "name: title\nproduction_year: year\n"
                                                                "director: {name: director, id: imdb}\n", source="crew"))
    put(empty_project, "cast.csv", "id,title,year,actor\ntt3748528,Rogue One,2016,Gareth Edwards\n")
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", "name: title\nproduction_year: year\nactor: actor\n",
                                                    "id: id", source="cast"))
    put(empty_project, "films.yaml", "movies:\n  rogue-one:\n    name: Rogue One\n"
                                     "    same_as: [https://www.imdb.com/title/tt3748528/]\n")
    assert "1 merged by identifier, 2 by name" in built(empty_project, run_kg)
    code, listed = run_kg(empty_project, "duplicates")
    by_name = [line for line in listed.splitlines() if line.startswith("merged by name: ")]
    assert code == 0 and len(by_name) == 2 and "1 merged by identifier, 2 by name" in listed
    assert any("data/cast.csv:2: person 'gareth-edwards' is 'nm2284484'" in line for line in by_name)


_TWICE = "title,year,director\nInception,2010,Christopher Nolan\nInception,2010,Christopher Nolen\n"


def _directed(root: Path, rows: str, director: str = "director: director") -> None:
    put(root, "films.csv", rows)
    put(root, "films.mapping.yaml", mapping("films.csv", f"name: title\nproduction_year: year\n{director}\n"))


def test_two_rows_of_one_film_crediting_names_a_letter_apart_are_a_note_and_a_candidate(empty_project, run_kg):
    _directed(empty_project, _TWICE)
    output = built(empty_project, run_kg)
    assert "data/films.csv:3: suspicious: director 'christopher-nolen' at data/films.csv:3 and 'christopher-nolan' " \
           "at data/films.csv:2, in one film: names a letter apart, one misspelt?" in output
    code, listed = run_kg(empty_project, "duplicates")
    assert code == 0 and "merge person/christopher-nolen into person/christopher-nolan" in listed
    assert "1 candidate duplicate," in listed


def test_two_rows_crediting_names_a_letter_apart_are_one_attention_item_at_the_later_row(empty_project, run_kg):
    _directed(empty_project, "title,year,director\nMemento,2000,Christopher Nolen\n" + _TWICE.split("\n", 1)[1])
    built(empty_project, run_kg)
    groups = json.loads((empty_project / "var" / "current" / "attention.json").read_text(encoding="utf-8"))["groups"]
    items = [(g["kind"], i["where"]) for g in groups for i in g["items"] if "one misspelt?" in i["what"]]
    assert items == [("duplicates", "data/films.csv:4")]


@pytest.mark.parametrize("rows", [
    "title,year,director\nFargo,1996,Joel Coenn\nFargo,1996,Joel Coenn|Joel Coent\n",  # the later row names both
    "title,year,director\nFargo,1996,Joel Coenn|Joel Coent\nFargo,1996,Joel Coenn\n",
])
def test_a_row_that_names_both_makes_them_two_whatever_the_rows_before(empty_project, run_kg, rows):
    _directed(empty_project, rows, 'director: {name: {column: director, split: "|"}}')
    assert "one misspelt?" not in built(empty_project, run_kg)


@pytest.mark.parametrize("decision", ["not_same person/nm0634240 person/christopher-nolen",
                                      "merge person/christopher-nolen into person/nm0634240"])
def test_a_decision_on_the_keys_as_they_are_now_settles_the_note_too(empty_project, run_kg, decision):
    put(empty_project, "films.csv", _TWICE.replace("director\n", "director,dirid\n").replace("Nolan\n", "Nolan,\n")
        .replace("Nolen\n", "Nolen,\n") + "Tenet,2020,Christopher Nolan,nm0634240\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"
                                                                  "director: {name: director, id: dirid}\n"))
    code, listed = run_kg(empty_project, "duplicates")
    assert f"to {'dismiss' if decision.startswith('not') else 'merge'}, decide: {decision}" in listed, listed
    put(empty_project, "decisions.yaml", f"decisions:\n  - {decision}\n")
    assert "one misspelt?" not in built(empty_project, run_kg)
    assert "0 candidate duplicates" in run_kg(empty_project, "duplicates")[1]


@pytest.mark.parametrize("rows, director", [
    ("title,year,director\nInception,2010,Christopher Nolan|Christopher Nolen\n",  # one row credits both: two
     'director: {name: {column: director, split: "|"}}'),
    ("title,year,director,editor\nInception,2010,Christopher Nolan,\nInception,2010,,Christopher Nolen\n",
     "director: director\neditor: editor"),  # as two things: two people
    ("title,year,director\nInception,2010,Daniel Brandt\nInception,2010,Daniela Brandt\n",  # a name's other form
     "director: director"),
    ("title,year,director\nInception,2010,Jon Nolan\nInception,2010,Jan Nolan\n", "director: director"),  # short
])
def test_names_a_letter_apart_that_are_two_people_are_no_candidate(empty_project, run_kg, rows, director):
    _directed(empty_project, rows, director)
    output = built(empty_project, run_kg)
    assert "one misspelt?" not in output
    assert "0 candidate duplicates" in run_kg(empty_project, "duplicates")[1]


def test_a_cast_s_rows_are_not_compared(empty_project, run_kg):  # (a file of a row per credit: many rows a film)
    put(empty_project, "cast.csv", "title,year,actor\nInception,2010,Christopher Nolan\nInception,2010,Christopher Nolen\n")
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", "name: title\nproduction_year: year\nactor: actor\n"))
    assert "one misspelt?" not in built(empty_project, run_kg)


def test_a_decision_settles_two_rows_crediting_names_a_letter_apart(empty_project, run_kg):
    _directed(empty_project, _TWICE)
    put(empty_project, "decisions.yaml", "decisions:\n  - not_same person/christopher-nolan person/christopher-nolen\n")
    output = built(empty_project, run_kg)
    assert "one misspelt?" not in output and "0 candidate duplicates" in run_kg(empty_project, "duplicates")[1]


def test_two_rows_crediting_names_a_letter_apart_are_told_again_by_an_edit(empty_project, run_kg):
    _directed(empty_project, _TWICE + "Tenet,2020,Christopher Nolan\n")
    put(empty_project, "other.csv", "title,year\nHeat,1995\n")
    put(empty_project, "other.mapping.yaml", mapping("other.csv", "name: title\nproduction_year: year\n",
                                                     source="other"))
    built(empty_project, run_kg)
    put(empty_project, "other.csv", "title,year\nHeat,1996\n")  # the films read back
    assert "data/films.csv:3: suspicious: director 'christopher-nolen'" in built(empty_project, run_kg)
    put(empty_project, "films.csv", _TWICE + "Tenet,2021,Christopher Nolan\n")  # the films read again
    assert "data/films.csv:3: suspicious: director 'christopher-nolen'" in built(empty_project, run_kg)
    assert "merge person/christopher-nolen into person/christopher-nolan" in run_kg(empty_project, "duplicates")[1]


@pytest.mark.parametrize("kind", ["Dataset", "Book", "SocialMediaPosting"])
def test_a_bulk_source_may_be_a_dataset_a_book_or_a_post(empty_project, run_kg, kind):
    put(empty_project, "films.csv", "title,year\nNight River,2001\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n")
        .replace("type: CreativeWork", f"type: {kind}"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ <{BASE}source/films> a ?t }} ORDER BY ?t") == [
        (f"{S}{kind}",), ("http://www.w3.org/ns/prov#Entity",)]


def test_a_merge_by_name_is_counted_and_listed_as_one(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([
        {"title": "Hard Eight", "year": 1996, "href": "Hard_Eight_(film)"},
        {"title": "Hard Eight", "year": 1997, "href": "Hard_Eight_(film)"},
    ]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\n",
                                                     "distinct: href"))
    output = built(empty_project, run_kg)
    assert "0 candidates, 0 merged by identifier, 1 by name" in output and "messy input handled: 1 merged" in output
    code, listed = run_kg(empty_project, "duplicates")
    assert code == 0 and "merged by name: data/films.json:2: 'hard-eight-1997' is 'hard-eight-1996'" in listed
    assert "0 merged by identifier, 1 by name" in listed
    code, info = run_kg(empty_project, "info")
    assert code == 0 and "0 candidates, 0 merged by identifier, 1 by name" in info


@pytest.mark.parametrize("years", [(1905, 1925), (1996, 1998)])
def test_one_title_and_page_listed_further_apart_stays_two_films(empty_project, run_kg, years):
    put(empty_project, "films.json", json.dumps([{"title": "The Train Wreckers", "year": y, "href": "The_Train_Wreckers"}
                                                 for y in years]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\n",
                                                     "distinct: href"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}") == [
        (f"{BASE}movie/the-train-wreckers-{y}",) for y in years]


def test_a_repeated_title_whose_first_film_has_no_distinguishing_value_says_so(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([
        {"title": "The Decoy", "year": 1916},
        {"title": "The Decoy", "year": 1916, "href": "The_Decoy_(1916_film)"},
    ]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\n",
                                                     "distinct: href"))
    built(empty_project, run_kg)
    assert any("data/films.json:2: suspicious: 'the-decoy-1916' again, but a different film "
               "(href='The_Decoy_(1916_film)'; the first, at line 1, has no href): kept apart as "
               "'the-decoy-1916-film'" in n for n in _notes(empty_project))


def _titles(root: Path) -> list[tuple[str, ...]]:
    return ask(root, f"SELECT ?m ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }} ORDER BY ?m")


@pytest.mark.parametrize("text", [
    'id,title,year\ntt0000001,"Night River,2001\ntt0000002,Day Lake,2002\ntt0000003,Dusk,2003\n',  # to the end
    'id,year,title\ntt0000001,2001,"Night River\ntt0000002,2002,Day Lake\ntt0000003,2003,Dusk\n',  # a last column
], ids=["middle-column", "last-column"])
def test_a_quote_never_closed_loses_no_row_after_it(empty_project, run_kg, text):
    put(empty_project, "films.csv", text)
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    assert _titles(empty_project) == [(f"{BASE}movie/tt0000001", "Night River"), (f"{BASE}movie/tt0000002", "Day Lake"),
                                      (f"{BASE}movie/tt0000003", "Dusk")]
    assert "data/films.csv:2: repaired: a quote opened in this row is not closed on its line and runs on to line 4: " \
           "the quote is dropped, and lines 3–4 are read as rows of their own" in _notes(empty_project)


def test_a_tsv_cell_keeps_its_quotes(empty_project, run_kg):
    put(empty_project, "films.tsv", 'id\ttitle\tyear\ntt0000001\t"Weird Al" Yankovic Live\t1999\n'
                                    'tt0000002\t"Crocodile\t2002\ntt0000003\tDusk\t2003\n')
    put(empty_project, "films.mapping.yaml", mapping("films.tsv", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    assert [t for _, t in _titles(empty_project)] == ['"Weird Al" Yankovic Live', '"Crocodile', "Dusk"]


def test_a_tsv_written_with_csv_quotes_is_read_with_quoting_csv(empty_project, run_kg):
    put(empty_project, "films.tsv", 'id\ttitle\tyear\ntt0000001\t"""Weird Al"" Yankovic\tLive"\t1999\n')
    put(empty_project, "films.mapping.yaml", mapping("films.tsv", "name: title\nproduction_year: year\n", "id: id")
        + "quoting: csv\n")
    built(empty_project, run_kg)
    assert [t for _, t in _titles(empty_project)] == ['"Weird Al" Yankovic Live']  # the tab, as any space, collapses


def test_an_unknown_quoting_is_refused_with_its_line(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\ntt0000001,Dusk,2003\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id")
        + "quoting: double\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.mapping.yaml:" in output and "quoting: 'double' is not one of csv, none" in output


def test_a_quoted_cell_over_two_lines_stays_one_cell(empty_project, run_kg):
    put(empty_project, "films.csv", 'id,title,year\ntt0000001,"Night\nRiver",2001\ntt0000002,Day Lake,2002\n')
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    assert _titles(empty_project) == [(f"{BASE}movie/tt0000001", "Night River"), (f"{BASE}movie/tt0000002", "Day Lake")]
    assert _notes(empty_project) == []


def test_lines_ended_by_carriage_returns_alone_are_rows(empty_project, run_kg):
    put(empty_project, "films.csv", b"id,title,year\rtt0000001,Night River,2001\rtt0000002,Day Lake,2002\r")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    assert [t for _, t in _titles(empty_project)] == ["Night River", "Day Lake"]


def test_empty_cells_are_no_value(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year,genre\ntt0000001,Night River,,\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\ngenre: genre\n",
                                                     "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?p WHERE {{ GRAPH <{BASE}source/films> {{ <{BASE}movie/tt0000001> ?p ?o }} }}") == [
        (f"{S}name",), (f"{S}sameAs",)]
    assert _notes(empty_project) == []


def test_names_without_letters_are_skipped_and_odd_characters_cleaned(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([{"title": "Feet", "year": 2010,
                                                  "cast": ["Franny\u200b's  Feet", ".", "Ann Lee"]}]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\nactor: cast\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?p a <{S}Person> ; <{S}name> ?n }}") == [
        ("Ann Lee",), ("Franny's Feet",)]
    notes = _notes(empty_project)
    assert "data/films.json:1: skipped: person name '.' has no letters or digits" in notes
    assert any("removed invisible or control characters" in n for n in notes)


def test_joiners_inside_a_name_are_kept_and_stray_ones_removed(empty_project, run_kg):
    """The zero-width non-joiner spells Persian words, the zero-width joiner emoji: only stray ones go."""
    persian, emoji = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "Team \U0001F469\u200d\U0001F3A4"
    put(empty_project, "films.json", json.dumps([{"title": persian, "year": 2010, "cast": [emoji, "\u200dAnn Lee\u200c"]}],
                                                ensure_ascii=False))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\nactor: cast\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?f a <{S}Movie> ; <{S}name> ?n }}") == [(persian,)]
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?p a <{S}Person> ; <{S}name> ?n }}") == [("Ann Lee",), (emoji,)]


def test_a_bad_cell_is_skipped_with_its_row_and_field(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year,budget\ntt0000001,Night River,20x1,#N/A\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", """\
        name: title
        production_year: year
        budget: {column: budget, currency: USD}
        """, "id: id"))
    built(empty_project, run_kg)
    notes = _notes(empty_project)
    assert "data/films.csv:2: skipped: production_year: '20x1' is not a four-digit year" in notes
    assert "data/films.csv:2: skipped: budget: amount '#N/A' is not a number" in notes


# ---- identities ----

def _crew_and_cast(root: Path, crew: str, cast: str, cast_year: int) -> None:
    """A crew file (a row with an IMDb person page) from 2016 and a cast file (a name alone) from `cast_year`."""
    put(root, "crew.csv", f"movie,person,imdb\n{crew}\n")
    put(root, "cast.csv", f"movie,actor\n{cast}\n")
    put(root, "crew.mapping.yaml", mapping("crew.csv", r"""
        name: movie
        production_year: {constant: 2016}
        director: {name: person, id: {column: imdb, pattern: '/name/(nm\d+)/'}}
        """, source="crew"))
    put(root, "cast.mapping.yaml", mapping("cast.csv", f"name: movie\nproduction_year: {{constant: {cast_year}}}\n"
                                                       "actor: actor\n", source="cast"))


def test_a_name_matching_one_identified_person_becomes_that_person(empty_project, run_kg):
    _crew_and_cast(empty_project, "Rogue One,Gareth Edwards,http://www.imdb.com/name/nm2284484/",
                   "Monsters,Gareth Edwards", 2010)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m ?p WHERE {{ ?m (<{S}actor>/<{S}actor>)|<{S}director> ?p }}") == [
        (f"{BASE}movie/monsters-2010", f"{BASE}person/nm2284484"),
        (f"{BASE}movie/rogue-one-2016", f"{BASE}person/nm2284484")]
    assert ask(empty_project, f"SELECT ?s WHERE {{ <{BASE}person/nm2284484> <{S}sameAs> ?s }}") == [
        ("https://www.imdb.com/name/nm2284484/",)]
    assert any("merged: person 'gareth-edwards' is 'nm2284484'" in n for n in _notes(empty_project))


def test_a_person_found_by_name_is_spelled_as_the_row_with_the_identifier_spells_them(empty_project, run_kg):
    put(empty_project, "a-cast.csv", "movie,actor\nFinding Dory,Angus Maclane\n")  # read first
    put(empty_project, "crew.csv", "movie,person,imdb\nFinding Dory,Angus MacLane,nm0533691\n")
    put(empty_project, "a-cast.mapping.yaml", mapping("a-cast.csv", "name: movie\nproduction_year: {constant: 2016}\n"
                                                                   "actor: actor\n", source="cast"))
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", "name: movie\nproduction_year: {constant: 2016}\n"
                                                               "director: {name: person, id: imdb}\n", source="crew"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ <{BASE}person/nm0533691> <{S}name> ?n }}") == [("Angus MacLane",)]


def test_a_name_that_lost_a_letter_is_the_hand_written_person_who_has_it(empty_project, run_kg):
    put(empty_project, "people.yaml", "sources:\n  notes: {type: CreativeWork, name: Notes}\npeople:\n"
                                      "  felix-clement:\n    name: Félix Clément\n    claims:\n"
                                      "      notes: {name: Félix Clément}\n")
    put(empty_project, "crew.csv", "movie,person,imdb\nThe Little Prince,F_lix Cl_ment,nm5775900\n")
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", "name: movie\nproduction_year: {constant: 2015}\n"
                                                               "director: {name: person, id: imdb}\n", source="crew"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?p WHERE {{ ?m <{S}director> ?p }}") == [(f"{BASE}person/felix-clement",)]
    assert any("'F_lix Cl_ment' lost a letter to '_': it is person 'felix-clement'" in n for n in _notes(empty_project))


def test_not_same_undoes_a_merge_of_a_name_matching_one_identified_person(empty_project, run_kg):
    _crew_and_cast(empty_project, "Rogue One,David London,http://www.imdb.com/name/nm4360218/",
                   "Hidden Figures,David London", 2016)
    built(empty_project, run_kg)
    assert any("to keep them apart, decide 'not_same person/david-london person/nm4360218'" in n
               for n in _notes(empty_project))
    put(empty_project, "decisions.yaml", "decisions:\n  - not_same person/david-london person/nm4360218\n")
    built(empty_project, run_kg)
    credits = f"SELECT ?m ?p WHERE {{ ?m (<{S}actor>/<{S}actor>)|<{S}director> ?p }}"
    assert ask(empty_project, credits) == [(f"{BASE}movie/hidden-figures-2016", f"{BASE}person/david-london"),
                                           (f"{BASE}movie/rogue-one-2016", f"{BASE}person/nm4360218")]
    assert not any("'david-london' is 'nm4360218'" in n for n in _notes(empty_project))


def test_a_name_shared_by_two_identified_people_is_kept_apart(empty_project):
    put(empty_project, "crew.csv", "movie,person,imdb\nA,John Smith,nm0000001\nB,John Smith,nm0000002\n")
    put(empty_project, "cast.csv", "movie,actor\nC,John Smith\n")
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", """\
        name: movie
        director: {name: person, id: imdb}
        """, source="crew"))
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", "name: movie\nactor: actor\n", source="cast"))
    sources = read_sources(empty_project / "data", root=empty_project)
    assert sorted(r.key for r in sources.records if r.kind == "person") == ["john-smith", "nm0000001", "nm0000002"]
    assert any("person 'john-smith' could be any of ['nm0000001', 'nm0000002']; kept apart" in str(n)
               for n in sources.notes)


def test_a_bulk_record_joins_the_hand_written_one(empty_project, write, run_kg):
    write(empty_project, "films.yaml", """
        movies:
          night-river-2001:
            name: Night River
            running_time: 101
        """)
    put(empty_project, "films.csv", "title,year\nNight River,2001\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?p WHERE {{ <{BASE}movie/night-river-2001> ?p ?o FILTER(?p IN "
                              f"(<{S}duration>, <{S}dateCreated>)) }}") == [(f"{S}dateCreated",), (f"{S}duration",)]


# ---- bad mappings ----

@pytest.mark.parametrize(("text", "line", "message"), [
    (mapping("films.csv", "title: title\n"), 5, "movie has no field 'title'"),
    (mapping("films.csv", "name: title\nproductionyear: year\n"), 6,
     "movie has no field 'productionyear' (did you mean production_year? known: name,"),
    (mapping("films.csv", "name: {column: title, colour: red}\n"), 5, "unknown option(s) 'colour'"),
    (mapping("nothing-*.csv", "name: title\n"), 2, "matches no file"),
    (mapping("films.csv", "name: title\n", record="film"), 3, "'film' is not a record kind"),
    (mapping("films.csv", "name: title\n") + "colour: red\n", 6, "unknown key(s) 'colour'"),
    (mapping("films.csv", "name: title\ngenre: genres\n"), 6,
     "fields.genre: no row of data/films.csv has a column 'genres' (did you mean 'genre'?)"),
    (mapping("films.csv", "name: title\nactor: {name: {column: cast, split: '|'}, id: cast_id}\n"), 6,
     "fields.actor: no row of data/films.csv has a column 'cast_id'"),
    (mapping("films.csv", "name: title\nactor:\n  name: {column: cast, split: '|'}\n  id: cast_id\n"), 8,
     "fields.actor: no row of data/films.csv has a column 'cast_id'"),  # at the line of its option
])
def test_a_bad_mapping_file_is_refused_with_its_line(text, line, message, empty_project, run_kg):
    put(empty_project, "films.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", text)
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert f"data/films.mapping.yaml:{line}: " in output and message in output
    assert not (empty_project / "var").exists()


def test_every_column_a_mapping_misses_is_told_in_one_build(empty_project, run_kg):
    put(empty_project, "films.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: titel\nproduction_year: yeer\ngenre: genre\n"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "2 problems in the source files" in output
    assert "films.mapping.yaml:5: fields.name: no row of data/films.csv has a column 'titel'" in output
    assert "films.mapping.yaml:6: fields.production_year: no row of data/films.csv has a column 'yeer'" in output


def test_the_columns_two_mappings_miss_are_told_in_one_build(empty_project, run_kg):
    put(empty_project, "films.csv", DATA["csv"]())  # read by a worker, the other by the build: both refusals told
    put(empty_project, "more.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: titel\n"))
    put(empty_project, "more.mapping.yaml", mapping("more.csv", "name: title\ngenre: genra\n", source="more"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "2 problems in the source files" in output
    assert "films.mapping.yaml:5: fields.name: no row of data/films.csv has a column 'titel'" in output
    assert "more.mapping.yaml:6: fields.genre: no row of data/more.csv has a column 'genra'" in output
    assert not (empty_project / "var").exists()


@pytest.mark.parametrize(("document", "items"), [
    (lambda films: {"meta": {"count": len(films)}, "data": films}, "data"),
    (lambda films: {"results": {"items": films, "next": None}}, "results.items"),
])
def test_a_json_document_whose_array_is_inside_it_is_read_at_items(document, items, empty_project, run_kg):
    put(empty_project, "films.json", json.dumps(document(FILMS)))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\n", "id: id") + f"items: {items}\n")
    built(empty_project, run_kg)
    assert len(ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}")) == len(FILMS)


@pytest.mark.parametrize(("items", "message"), [
    ("", "data/films.json: the top level is not an array of objects but an object; set items: (in "
         "data/films.mapping.yaml) to the key of its array (data)"),
    ("items: rows\n", "data/films.json: no 'rows' in the top level (its keys: data, meta); check the mapping's items: "
                      "(in data/films.mapping.yaml)"),
    ("items: meta\n", "data/films.json: meta is not an array of objects but an object"),
])
def test_a_json_document_without_an_array_where_the_mapping_looks_is_refused(items, message, empty_project, run_kg):
    put(empty_project, "films.json", json.dumps({"meta": {"count": 2}, "data": FILMS}))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\n", "id: id") + items)
    code, output = run_kg(empty_project, "build")
    assert code == 2 and message in output, output


@pytest.mark.parametrize(("text", "extra"), [
    ("id;title;year\ntt0000001;Night River;1999\ntt0000002;Blue, Dream;2001\n", ""),  # a spreadsheet's export
    ("id|title|year\ntt0000001|Night River|1999\ntt0000002|Blue, Dream|2001\n", "delimiter: '|'\n"),
])
def test_csv_cells_split_by_another_character(text, extra, empty_project, run_kg):
    put(empty_project, "films.csv", text)
    put(empty_project, "films.mapping.yaml",
        mapping("films.csv", "name: title\nproduction_year: year\n", "id: id") + extra)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?m a <{S}Movie> ; <{S}name> ?n }}") == [
        ("Blue, Dream",), ("Night River",)]


def test_a_delimiter_of_more_than_one_character_is_refused(empty_project, run_kg):
    put(empty_project, "films.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\n", "id: id") + "delimiter: '::'\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.mapping.yaml:" in output and "delimiter: '::' is not one character" in output


def test_a_json_column_that_only_some_rows_have_is_read_where_it_is(empty_project, run_kg):
    films = [dict(FILMS[0], budget="1000"), FILMS[1]]
    put(empty_project, "films.jsonl", "".join(json.dumps(f) + "\n" for f in films))
    put(empty_project, "films.mapping.yaml", mapping("films.jsonl", "name: title\nbudget: {column: budget, "
                                                                    "currency: USD}\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?v WHERE {{ ?m <{BASE}vocab#budget>/<{S}value> ?v }}") == [("1000",)]


def test_a_json_column_that_no_row_has_is_refused(empty_project, run_kg):
    put(empty_project, "films.jsonl", DATA["jsonl"]())
    put(empty_project, "films.mapping.yaml", mapping("films.jsonl", "name: title\nrunning_time: minutes\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/films.mapping.yaml:8: fields.running_time: no row of data/films.jsonl has a column " \
                         "'minutes'" in output



NESTED = [  # as film APIs export them (TMDB-like): objects and lists of objects
    {"id": "tt0000001", "title": {"en": "Night River", "ko": "밤의 강"}, "year": 2001,
     "genres": [{"id": 18, "name": "Drama"}, {"id": 10752, "name": "War"}],
     "credits": {"cast": [{"name": "Ann Lee", "imdb": "nm0000001", "character": "Mia", "order": 1},
                          {"name": "Bo Kim", "character": "Joon", "order": 2}],
                 "crew": [{"name": "Cy Park", "job": "Directed by"}, {"name": "Di Moon", "job": "Editing"}]}},
]
NESTED_FIELDS = """\
name: title.en
alternate_name: {column: title.ko, lang: ko}
genre: genres.name
cast:
  items: credits.cast
  actor: {name: name, id: imdb}
  character_name: character
  billing: order
crew:
  items: credits.crew
  person: name
  department: job
  fields: {Directed by: director}
"""


def test_nested_json_is_read_by_dotted_columns_and_items_lists(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps(NESTED, ensure_ascii=False))
    put(empty_project, "films.mapping.yaml", mapping("films.json", NESTED_FIELDS, "id: id"))
    built(empty_project, run_kg)
    film = f"<{BASE}movie/tt0000001>"
    assert ask(empty_project, f"SELECT ?n ?a WHERE {{ {film} <{S}name> ?n ; <{S}alternateName> ?a }}") == [
        ("Night River", "밤의 강")]
    assert ask(empty_project, f"SELECT ?g WHERE {{ {film} <{S}genre> ?g }}") == [("Drama",), ("War",)]
    assert ask(empty_project, f"SELECT ?p ?c ?b WHERE {{ {film} <{S}actor> ?r . ?r <{S}actor> ?p ; "
                              f"<{S}characterName> ?c ; <{BASE}vocab#billing> ?b }}") == [
        (f"{BASE}person/bo-kim", "Joon", "2"), (f"{BASE}person/nm0000001", "Mia", "1")]
    assert ask(empty_project, f"SELECT ?d WHERE {{ {film} <{S}director> ?d }}") == [(f"{BASE}person/cy-park",)]
    assert ask(empty_project, f"SELECT ?n WHERE {{ {film} <{S}contributor>/<{S}roleName> ?n }}") == [("Editing",)]


def test_the_columns_an_items_list_and_its_rows_miss_are_told_in_one_build(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps(NESTED))
    put(empty_project, "films.mapping.yaml", mapping("films.json", NESTED_FIELDS.replace(
        "character_name: character", "character_name: role").replace("name: title.en", "name: titel.en"), "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "2 problems in the source files" in output
    # each at its own line: character_name's inside cast (line 13), the title's (line 7)
    assert "films.mapping.yaml:13: fields.cast: no object in 'credits.cast' of data/films.json has a column 'role'" \
        in output
    assert "films.mapping.yaml:7: fields.name: no row of data/films.json has a column 'titel.en'" in output


def test_a_dotted_column_some_row_has_whole_is_no_mistake(empty_project, run_kg):
    films = [dict(NESTED[0], id="tt0000002", title={"en": "Other"}, extra={}),  # the first row stops at 'extra'
             dict(NESTED[0], extra={"note": {"text": "a note"}})]
    put(empty_project, "films.json", json.dumps(films))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title.en\ndescription: extra.note.text\n",
                                                     "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?d WHERE {{ ?m a <{S}Movie> ; <{S}description> ?d }}") == [("a note",)]


def test_a_dotted_column_where_the_rows_hold_text_is_refused(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([{"id": "tt0000001", "title": "Night River"}]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title.en\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "fields.name: no row of data/films.json has 'title.en': what is at 'title' is text or a " \
        "number, not an object with 'en' (read it as 'title'?)" in output, output


def test_a_dotted_column_whose_lists_are_all_empty_is_no_mistake(empty_project, run_kg):
    films = [dict(NESTED[0], genres=[]), dict(NESTED[0], id="tt0000002", genres=None),
             dict(NESTED[0], id="tt0000003", genres="")]  # (an export's empty string for a missing object)
    put(empty_project, "films.json", json.dumps(films))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title.en\ngenre: genres.name\n", "id: id"))
    built(empty_project, run_kg)


def test_a_dotted_column_of_a_csv_file_is_a_header_or_refused(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,a\ntt0000001,Night,x\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\ndescription: a.b\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "fields.description: no row of data/films.csv has a column 'a.b'" in output, output


def test_a_reference_read_item_by_item_from_one_object_is_checked_too(empty_project, run_kg):
    film = {"id": "tt0000001", "title": "Night Ferry", "credits": {"music": [{"name": "A B", "imdb": "nm1"}]}}
    put(empty_project, "films.json", json.dumps([film]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\ncomposer: {name: credits.musik.name, "
                                                     "id: credits.music.imdb}\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "fields.composer: no object in 'credits' of data/films.json has a column 'musik.name'" \
        in output, output


@pytest.mark.parametrize("written, misspelt, said", [
    # an items list no row has, told at the line of items
    ("items: credits.crew", "items: credits.crews", "films.mapping.yaml:16: fields.crew: no row of data/films.json "
     "has a list at 'credits.crews' (did you mean 'credits.crew'?); the objects at 'credits' have: cast, crew"),
    # a dotted column misspelt past its first step, refused with the keys there
    ("name: title.en", "name: title.en\ndirector: credits.crew.nmae", "films.mapping.yaml:8: fields.director: no row "
     "of data/films.json has 'credits.crew.nmae': the objects at 'credits.crew' have no key 'nmae' (did you mean "
     "'credits.crew.name'?); their keys: job, name"),
], ids=["items list", "dotted column"])
def test_a_path_into_nested_json_that_no_row_has_is_refused_where_it_is_written(empty_project, run_kg, written,
                                                                                misspelt, said):
    put(empty_project, "films.json", json.dumps(NESTED))
    put(empty_project, "films.mapping.yaml", mapping("films.json", NESTED_FIELDS.replace(written, misspelt), "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and said in output, output


def test_an_items_list_every_row_has_empty_is_no_mistake(empty_project, run_kg):
    films = [{**film, "credits": {"cast": [], "crew": []}} for film in NESTED]  # (and {} in the tapes' test)
    put(empty_project, "films.json", json.dumps(films))
    put(empty_project, "films.mapping.yaml", mapping("films.json", NESTED_FIELDS, "id: id"))
    built(empty_project, run_kg)


def test_the_columns_two_mappings_of_one_source_miss_are_told_in_one_build(empty_project, run_kg):
    put(empty_project, "films.csv", DATA["csv"]())
    put(empty_project, "more.csv", DATA["csv"]())
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: titel\n"))
    put(empty_project, "more.mapping.yaml", mapping("more.csv", "name: title\ngenre: genra\n"))  # source: films too
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "2 problems in the source files" in output
    assert "'titel'" in output and "'genra'" in output


def test_a_column_no_object_of_an_items_list_has_is_refused(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps(NESTED))
    put(empty_project, "films.mapping.yaml", mapping("films.json", NESTED_FIELDS.replace(
        "character_name: character", "character_name: role"), "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "fields.cast: no object in 'credits.cast' of data/films.json has a column 'role'" in output


def test_items_that_are_not_objects_are_left_out_and_reported(empty_project, run_kg):
    film = dict(NESTED[0], credits={"cast": ["Ann Lee", {"name": "Bo Kim", "imdb": "nm0000002",
                                                                 "character": "Joon", "order": 2}]})
    put(empty_project, "films.json", json.dumps([film]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", NESTED_FIELDS.split("crew:")[0], "id: id"))
    output = built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?p WHERE {{ ?m <{S}actor>/<{S}actor> ?p }}") == [(f"{BASE}person/nm0000002",)]
    assert "data/films.json:1: suspicious: 1 item(s) of 'credits.cast' are not objects; left out of cast" in output


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_json_escape_that_is_half_a_surrogate_pair_skips_its_row(fmt, empty_project, run_kg):
    rows = [{"id": "tt0000001", "title": "Caf\ud800"}, {"id": "tt0000002", "title": "Blue \ud83c\udf19 City"}]
    text = json.dumps(rows) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in rows)
    put(empty_project, f"films.{fmt}", text)  # json.dumps writes the escapes: \\ud800 as it stands
    put(empty_project, "films.mapping.yaml", mapping(f"films.{fmt}", "name: title\n", "id: id"))
    output = built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ ?m a <{S}Movie> ; <{S}name> ?t }}") == [("Blue 🌙 City",)]
    assert f"data/films.{fmt}:1: skipped: \\ud800 is half of a UTF-16 surrogate pair" in output


# ---- RDF files ----

def test_a_turtle_file_is_published_in_its_own_graph(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"""@prefix schema: <{S}> .
        <{BASE}person/ann-lee> a schema:Person ; schema:name "Ann Lee" ;
            schema:sameAs <https://www.wikidata.org/wiki/Q1> .
        """)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ GRAPH <{BASE}source/extra> {{ ?p a <{S}Person> ; <{S}name> ?n }} }}") == [
        ("Ann Lee",)]
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?p a <{S}Person> ; <{S}name> ?n }}") == [("Ann Lee",)]


def test_a_name_an_rdf_file_gives_a_record_beside_its_own_is_one_of_its_other_names(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  white-nights:\n    name: White Nights\n    production_year: 2024\n")
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://schema.org", "@id": f"{BASE}movie/white-nights",
                                                    "@type": "Movie", "name": "Les Nuits blanches"}))
    put(empty_project, "extra.ttl", f'<{BASE}movie/white-nights> <{S}name> "White Nights" .\n')
    built(empty_project, run_kg)  # (before: "A film needs exactly one preferred title", at the YAML record)
    film = f"<{BASE}movie/white-nights>"
    assert ask(empty_project, f"SELECT ?g ?p ?n WHERE {{ GRAPH ?g {{ {film} ?p ?n FILTER(?p IN (<{S}name>, "
                              f"<{S}alternateName>)) }} FILTER(?g != <{BASE}source/editorial>) }}") == [
        (f"{BASE}source/extra", f"{S}name", "White Nights"),
        (f"{BASE}source/markup", f"{S}alternateName", "Les Nuits blanches")]


def test_a_film_or_person_markup_gives_no_iri_is_noted_with_the_record_of_its_name(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  white-nights:\n    name: White Nights\n    production_year: 2024\n")
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://schema.org", "@type": "Movie",
                                                    "name": "White Nights", "director": {"@type": "Person",
                                                                                         "name": "Claire Dubois"}}))
    built(empty_project, run_kg)
    notes = _notes(empty_project)
    assert "data/markup.jsonld: suspicious: the film 'White Nights' has no IRI in this file: it is published as a " \
           "node of its own, apart from every record, and compared with none; movie 'white-nights' has that name: " \
           f'if it is that one, give it "@id": "{BASE}movie/white-nights"' in notes
    assert "data/markup.jsonld: suspicious: the person 'Claire Dubois' has no IRI in this file: it is published as " \
           "a node of its own, apart from every record, and compared with none" in notes


def test_markup_without_an_iri_is_noted_with_the_bulk_record_of_that_other_name(empty_project, run_kg):
    put(empty_project, "films.csv", "title,original,year\nWhite Nights,Les Nuits blanches,2024\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nalternate_name: original\n"
                                                     "production_year: year\n"))
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://schema.org", "@type": "Movie",
                                                    "name": "Les Nuits blanches"}))
    built(empty_project, run_kg)
    assert any("movie 'white-nights-2024' has that name" in n for n in _notes(empty_project))


def test_markup_without_an_iri_is_noted_with_the_bulk_record_of_its_name_read_back_too(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year\nWhite Nights,2024\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://schema.org", "@type": "Movie",
                                                    "name": "White Nights"}))
    built(empty_project, run_kg)
    put(empty_project, "films.yaml", "people:\n  ann: {name: Ann Lee}\n")  # an edit: the CSV's records read back
    said = built(empty_project, run_kg)
    assert f'movie \'white-nights-2024\' has that name: if it is that one, give it "@id": "{BASE}movie/white-nights-2024"' \
        in (current(empty_project / "var") / "build-report.txt").read_text(encoding="utf-8")
    assert "messy input handled" in said


def test_schema_org_terms_written_with_https_are_published_as_schema_org_s_own(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"""@prefix schema: <https://schema.org/> .
        <{BASE}movie/o-rio> a schema:Movie ; schema:name "O Rio" ; schema:genre "Drama" ; schema:duration "PT1H41M" ;
            schema:datePublished "2021-03-11"^^schema:Date .
        """)
    output = built(empty_project, run_kg)
    assert "vocabulary" not in output
    assert ask(empty_project, f"SELECT ?g (DATATYPE(?d) AS ?t) (DATATYPE(?p) AS ?u) WHERE {{ GRAPH <{BASE}source/extra> "
                              f"{{ ?m a <{S}Movie> ; <{S}genre> ?g ; <{S}duration> ?d ; <{S}datePublished> ?p }} }}") == [
        ("Drama", f"{XSD}duration", f"{XSD}date")]
    assert ask(empty_project, "SELECT ?p WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?p), 'https://schema.org/')) }") == []


@pytest.mark.parametrize("fmt", [f for f in FORMATS if not f.lines], ids=lambda f: f.name)  # .jsonl: bulk rows
def test_an_rdf_file_in_each_format_is_published_in_its_own_graph(fmt, empty_project, run_kg):
    ann, studio = ox.NamedNode(f"{BASE}person/ann-lee"), ox.NamedNode(f"{BASE}organization/studio")
    triples = [ox.Triple(ann, vocab.TYPE, ox.NamedNode(f"{S}Person")), ox.Triple(ann, ox.NamedNode(f"{S}name"),
               ox.Literal("Ann Lée")), ox.Triple(ann, ox.NamedNode(f"{S}worksFor"), studio),
               ox.Triple(studio, vocab.TYPE, ox.NamedNode(f"{S}Organization")),
               ox.Triple(studio, ox.NamedNode(f"{S}name"), ox.Literal("Studio"))]
    put(empty_project, f"extra.{fmt.extension}", fmt.serialize(
        [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n ?w WHERE {{ GRAPH <{BASE}source/extra> {{ ?p a <{S}Person> ; <{S}name> ?n ; "
                              f"<{S}worksFor> ?o . ?o <{S}name> ?w }} }}") == [("Ann Lée", "Studio")]


def test_schema_org_markup_as_json_ld_is_read_with_the_shipped_context(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({
        "@context": "https://schema.org", "@id": f"{BASE}movie/x", "@type": "Movie", "name": "X",
        "director": {"@type": "Person", "name": "Ann Lee"}}))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ GRAPH <{BASE}source/markup> {{ <{BASE}movie/x> <{S}director> ?d . "
                              f"?d a <{S}Person> ; <{S}name> ?n }} }}") == [("Ann Lee",)]


MARKUP = {"@context": "https://schema.org", "@id": f"{BASE}movie/o-rio", "@type": "Movie", "name": "O Rio",
          "datePublished": "2021-03-11", "dateCreated": "2020", "duration": "PT1H41M",
          "aggregateRating": {"@type": "AggregateRating", "ratingValue": "8.10", "bestRating": 10,
                              "ratingCount": "120"}}


def test_schema_org_markup_s_dates_durations_and_figures_are_read_in_kg_s_datatypes(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps(MARKUP))  # dates typed schema:Date by the context, the rest plain
    built(empty_project, run_kg)
    rows = ask(empty_project, f"SELECT ?p ?v (DATATYPE(?v) AS ?t) WHERE {{ GRAPH <{BASE}source/markup> {{ "
                              f"{{ <{BASE}movie/o-rio> ?p ?v }} UNION {{ <{BASE}movie/o-rio> <{S}aggregateRating> ?r . "
                              f"?r ?p ?v }} FILTER(isLiteral(?v) && ?p != <{S}name>) }} }}")
    assert rows == sorted([(f"{S}datePublished", "2021-03-11", f"{XSD}date"), (f"{S}dateCreated", "2020", f"{XSD}gYear"),
                           (f"{S}duration", "PT1H41M", f"{XSD}duration"), (f"{S}ratingValue", "8.1", f"{XSD}decimal"),
                           (f"{S}bestRating", "10", f"{XSD}decimal"), (f"{S}ratingCount", "120", f"{XSD}integer")])


def test_markup_stating_what_a_turtle_file_states_in_kg_s_datatypes_is_no_conflict(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps(MARKUP))
    put(empty_project, "extra.ttl", f'<{BASE}movie/o-rio> <{S}datePublished> "2021-03-11"^^<{XSD}date> ; '
                                    f'<{S}duration> "PT1H41M"^^<{XSD}duration> .\n')
    output = built(empty_project, run_kg)
    assert "conflict" not in output


@pytest.mark.parametrize("prop, text, datatype, read", [
    ("ratingValue", "8.10", "string", ("8.1", f"{XSD}decimal")),
    ("ratingValue", "1e1000000", "string", None),  # no figure: left as written (it crashed the build)
    ("value", "1e1000000", "double", None),
    ("ratingCount", "1.2E2", "double", ("120", f"{XSD}integer")),
    ("dateModified", "2024-03-11T20:00", "string", None),  # an xsd:dateTime has its seconds
    ("dateModified", "2024-03-11T20:00:00Z", "string", ("2024-03-11T20:00:00Z", f"{XSD}dateTime")),
    ("dateCreated", "２０２０", "string", None),  # digits of another script
    ("datePublished", "2021-02-30", "string", None),  # no such day
])
def test_markup_literals_are_read_in_kg_s_datatypes_only_when_they_are_such(prop, text, datatype, read):
    from kg.build.datatypes import typed

    written = ox.Literal(text, datatype=ox.NamedNode(XSD + datatype))
    found = typed(ox.Quad(ox.NamedNode(f"{BASE}x"), ox.NamedNode(S + prop), written, ox.DefaultGraph())).object
    assert (found.value, found.datatype.value) == (read or (text, XSD + datatype))


def test_a_markup_date_that_is_no_date_gets_kg_s_message_alone(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({**MARKUP, "datePublished": "March 2021"}))
    code, output = run_kg(empty_project, "build")
    assert code == 1 and "A release date must be a date YYYY-MM-DD" in output and \
        "(the value's datatype: schema:Date)" in output, output
    assert "'March 2021' is no date: a date is written 2021-03-11, 2021-03 or 2021" in output


def test_a_markup_date_that_is_no_date_is_a_violation_where_no_shape_checks_the_property(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://schema.org", "@id": f"{BASE}person/ann",
                                                    "@type": "Person", "name": "Ann", "deathDate": "late 1990"}))
    code, output = run_kg(empty_project, "build")
    assert code == 1 and "'late 1990' is no date" in output and "for 'deathDate'" in output, output


def test_two_values_written_alike_but_typed_otherwise_are_a_conflict_that_shows_both(empty_project, run_kg):
    put(empty_project, "extra.ttl", f'<{BASE}movie/o-rio> a <{S}Movie> ; <{S}name> "O Rio" ; '
                                    f'<{S}identifier> "42", "42"@en .\n')
    output = built(empty_project, run_kg)
    assert "identifier: '42 (xsd:string)' and '42 (@en)', all according to extra" in output, output


def test_rows_of_one_file_disagreeing_on_a_film_name_the_row_of_each_value(empty_project, run_kg):
    put(empty_project, "fest.csv", "title,year,minutes\nOasis,2002,132\nPoetry,2010,139\nOasis,2002,132\n"
                                   "Oasis,2002,133\n")
    put(empty_project, "fest.mapping.yaml", mapping("fest.csv", "name: title\nproduction_year: year\n"
                                                                "running_time: minutes\n"))
    output = built(empty_project, run_kg)
    assert "duration: 'PT2H12M' (132 min) at data/fest.csv:2 and 'PT2H13M' (133 min) at data/fest.csv:5, all " \
           "according to films" in output, output


def test_rows_disagreeing_beside_an_rdf_file_on_the_same_property_name_no_rows(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year,minutes\nOldboy,2003,120\nOldboy,2003,119\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"
                                                                  "running_time: minutes\n"))
    put(empty_project, "extra.ttl", f'<{BASE}movie/oldboy-2003> <{S}duration> '
                                    '"PT1H50M"^^<http://www.w3.org/2001/XMLSchema#duration> .\n')
    output = built(empty_project, run_kg)
    said = next(line for line in output.splitlines() if "conflict: " in line)
    assert "'PT1H50M' (110 min) according to extra; 'PT1H59M' (119 min) according to films" in said and \
        " at data/" not in said.split("  [")[0], said


def test_rows_of_two_sources_disagreeing_name_the_row_of_each_value(empty_project, run_kg):
    put(empty_project, "a.csv", "title,year,minutes\nOasis,2002,132\n")
    put(empty_project, "b.csv", "title,year,minutes\nPoetry,2010,139\nOasis,2002,133\n")
    put(empty_project, "a.mapping.yaml", mapping("a.csv", "name: title\nproduction_year: year\nrunning_time: minutes\n",
                                                 source="first"))
    put(empty_project, "b.mapping.yaml", mapping("b.csv", "name: title\nproduction_year: year\nrunning_time: minutes\n",
                                                 source="second"))
    output = built(empty_project, run_kg)
    assert "duration: 'PT2H12M' (132 min) at data/a.csv:2 according to first; 'PT2H13M' (133 min) at data/b.csv:3 " \
           "according to second" in output, output


def test_a_list_of_schema_org_markup_documents_is_read(empty_project, run_kg):
    pages = [{"@context": "https://schema.org", "@id": f"{BASE}movie/m{n}", "@type": "Movie", "name": f"M{n}"}
             for n in range(300)]
    put(empty_project, "markup.jsonld", json.dumps(pages))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}source/markup> {{ ?m a <{S}Movie> }} }}") \
        == [("300",)]


def test_a_json_ld_file_that_is_not_utf8_is_refused(empty_project, run_kg):
    put(empty_project, "markup.jsonld", '{"@context": "https://schema.org", "name": "Café"}'.encode("latin-1"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/markup.jsonld: not valid jsonld: not UTF-8" in output


def test_a_json_ld_file_naming_a_context_kg_does_not_ship_is_refused(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://example.org/context.jsonld", "name": "X"}))
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/markup.jsonld: not valid jsonld: kg does not fetch JSON-LD documents from the network: " \
           "'https://example.org/context.jsonld'" in output


def test_a_json_ld_file_importing_a_remote_context_is_refused(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({"@context": {"@version": 1.1, "@import": "https://example.org/c"},
                                                   "@id": f"{BASE}movie/x", "name": "X"}))
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/markup.jsonld: not valid jsonld: it names a context to fetch from the network, which kg never does" \
        in output


def test_a_json_ld_file_that_is_not_json_is_refused_with_its_line(empty_project, run_kg):
    put(empty_project, "markup.jsonld", '{"@context": "https://schema.org",\n "name": "X"\n "genre": "drama"}\n')
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/markup.jsonld:3: not valid jsonld: Expecting ',' delimiter" in output


def test_a_relative_iri_in_json_ld_is_refused_not_dropped(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({"@context": "https://schema.org", "@id": "movie/x", "name": "X"}))
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/markup.jsonld: not valid jsonld: error while parsing IRI 'movie/x'" in output
    assert '"@base": "https://films.example.org/" in the @context' in output


def test_a_json_ld_base_resolves_relative_iris(empty_project, run_kg):
    put(empty_project, "markup.jsonld", json.dumps({"@context": ["https://schema.org", {"@base": BASE}],
                                                   "@id": "movie/x", "@type": "Movie", "name": "X"}))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ <{BASE}movie/x> <{S}name> ?n }}") == [("X",)]


def test_a_relative_iri_in_rdf_xml_is_refused_with_how_to_give_a_base(empty_project, run_kg):
    put(empty_project, "extra.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-'
                                    f'ns#" xmlns:s="{S}">\n<s:Movie rdf:about="movie/x"><s:name>X</s:name></s:Movie>\n'
                                    '</rdf:RDF>\n')
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "data/extra.rdf:" in output and 'xml:base="https://films.example.org/"' in output


def test_two_rdf_files_of_one_name_are_refused(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"<{BASE}person/a> <{S}name> \"A\" .\n")
    put(empty_project, "extra.nt", f"<{BASE}person/b> <{S}name> \"B\" .\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/extra.ttl: its source graph would be data/extra.nt's (<source/extra>, from the file name)" in output


def test_named_graphs_of_an_nquads_file_are_kept(empty_project, run_kg):
    put(empty_project, "extra.nq", f'<{BASE}person/ann-lee> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                                   f'<{S}Person> <https://graphs.example/g1> .\n'
                                   f'<{BASE}person/ann-lee> <{S}name> "Ann Lee" <https://graphs.example/g1> .\n')
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?g WHERE {{ GRAPH ?g {{ ?p a <{S}Person> ; <{S}name> ?n }} }}") == [
        ("https://graphs.example/g1",)]


def test_an_rdf_file_that_breaks_the_shapes_is_not_published(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"<{BASE}movie/x> a <{S}Movie> .\n")  # a film without a title
    code, output = run_kg(empty_project, "build")
    assert code == 1
    assert "A film needs exactly one preferred title" in output


def test_a_finding_about_a_node_an_rdf_file_describes_names_the_file_and_the_line_its_description_starts_on(
        empty_project, run_kg):
    put(empty_project, "extra.nt", f"<{BASE}movie/y> <{S}name> \"Y\" .\n<{BASE}movie/y> <{vocab.TYPE.value}> <{S}Movie> .\n"
                                   f"<{BASE}movie/x> <{S}name> \"X\" .\n<{BASE}movie/x> <{vocab.TYPE.value}> <{S}Movie> .\n"
                                   f"<{BASE}movie/x> <{S}director> <{BASE}movie/x> .\n")  # a film directed a film
    code, output = run_kg(empty_project, "validate")
    assert code == 1
    assert f"data/extra.nt:3 [<{BASE}movie/x>]: Violation: A director must be a person" in output


def test_a_finding_in_a_turtle_file_names_the_line_of_the_description_it_is_about(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"""@prefix schema: <{S}> .
@base <{BASE}> .

<movie/a> a schema:Movie ;
    schema:name "A" .

# a film directed by a film
<movie/b> a schema:Movie ;
    schema:name "B" ;
    schema:director <movie/a> .
""")
    code, output = run_kg(empty_project, "validate")
    assert code == 1
    assert f"data/extra.ttl:8 [<{BASE}movie/b>]: Violation: A director must be a person" in output


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_a_finding_in_a_turtle_file_of_other_line_ends_names_the_line_the_parser_counts(empty_project, run_kg, end):
    put(empty_project, "extra.ttl", end.join([f"@prefix schema: <{S}> .", "", f"<{BASE}movie/a> a schema:Movie ;",
                                              '    schema:name "A" .', f"<{BASE}movie/b> a schema:Movie ;",
                                              f"    schema:director <{BASE}movie/a> .", ""]))
    code, output = run_kg(empty_project, "validate")
    assert code == 1
    assert f"data/extra.ttl:5 [<{BASE}movie/b>]: Violation: A director must be a person" in output, output


def test_a_finding_about_what_an_rdf_file_adds_to_a_hand_written_record_names_the_file(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  oldboy:\n    name: Oldboy\n")
    put(empty_project, "extra.ttl", f'<{BASE}movie/oldboy> <{S}alternateName> "Old Boy" .\n'
                                    f'<{BASE}movie/oldboy> <{S}notAProperty> "y" .\n')
    code, output = run_kg(empty_project, "validate")
    assert code == 1
    assert f"data/extra.ttl:2 [<{BASE}movie/oldboy>]: Violation: schema.org has no property 'notAProperty'" in output
    assert "films.yaml" not in output.split("notAProperty")[0].rsplit("\n", 1)[-1]


@pytest.mark.parametrize("subject", ["movie/b", "movie/a"])  # the file's own node; one a record has
def test_a_triple_term_in_an_rdf_file_is_a_finding_not_a_failure(empty_project, run_kg, subject):
    put(empty_project, "films.yaml", "movies:\n  a: {name: A}\n")
    put(empty_project, "star.ttl", f'@prefix s: <{S}> .\n<{BASE}movie/b> a s:Movie ; s:name "B" .\n'
                                   f'<{BASE}{subject}> s:about <<( <{BASE}movie/a> s:name "A" )>> .\n')
    code, output = run_kg(empty_project, "validate")
    assert code == 1, output
    assert f"data/star.ttl:{2 if subject == 'movie/b' else 3} [<{BASE}{subject}>]: Violation: 'about' must point to" \
        in output, output


def test_a_statement_about_a_mistyped_iri_asks_whether_it_is_mistyped(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  oldboy:\n    name: Oldboy\n")
    put(empty_project, "extra.ttl", f'<{BASE}movie/old-boy> <{S}award> "Grand Prix" .\n')
    code, output = run_kg(empty_project, "validate")
    assert code == 1
    line = next(line for line in output.splitlines() if "'award'" in line)
    assert line.lstrip().startswith(f"data/extra.ttl:1 [<{BASE}movie/old-boy>]: Violation: schema.org does not "
                                    "allow 'award' on a node without a type") and line.endswith(
        "; nothing gives this node a type: is its IRI mistyped, or its type left out? (value: \"Grand Prix\")"), line


def test_a_blank_node_without_a_type_is_not_asked_about_its_iri(empty_project, run_kg):
    put(empty_project, "extra.ttl", f'@prefix s: <{S}> .\n<{BASE}movie/b> a s:Movie ; s:name "B" ;\n'
                                    '  s:award [ s:award "Grand Prix" ] .\n')
    code, output = run_kg(empty_project, "validate")
    line = next(line for line in output.splitlines() if "on a node without a type" in line)
    assert code == 1 and "/.well-known/genid/" in line and "mistyped" not in line, output


def test_a_finding_about_a_value_an_rdf_file_adds_beside_a_records_own_names_the_file(empty_project, run_kg):
    put(empty_project, "films.yaml", "people:\n  p: {name: P}\nmovies:\n  f:\n    name: F\n    director: [p]\n")
    put(empty_project, "extra.ttl", f"<{BASE}movie/f> <{S}director> <{BASE}person/p> ,\n  <{BASE}person/ghost> .\n")
    code, output = run_kg(empty_project, "validate")
    line = next(line for line in output.splitlines() if "A director must be a person" in line)
    assert code == 1 and line.lstrip().startswith(f"data/extra.ttl:2 [<{BASE}movie/f>]"), output  # the value's line


def test_a_finding_quoting_a_literal_an_rdf_file_adds_beside_a_records_own_names_the_file(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  f:\n    name: F\n    production_year: 2009\n")
    put(empty_project, "extra.ttl", f'<{BASE}movie/f> <{S}dateCreated> "--05-28"^^<{vocab.XSD}gMonthDay> .\n')
    code, output = run_kg(empty_project, "validate")  # schema.org's check quotes the value as N-Triples writes it
    line = next(line for line in output.splitlines() if "does not allow a value of that datatype" in line)
    assert code == 1 and line.lstrip().startswith(f"data/extra.ttl:1 [<{BASE}movie/f>]"), output


def test_a_finding_in_a_json_ld_file_names_the_file_without_a_line(empty_project, run_kg):
    put(empty_project, "films.yaml", "movies:\n  oldboy:\n    name: Oldboy\n")
    put(empty_project, "extra.jsonld", json.dumps({"@id": f"{BASE}movie/oldboy", f"{S}notAProperty": "y"}, indent=1))
    code, output = run_kg(empty_project, "validate")
    assert code == 1
    assert f"data/extra.jsonld [<{BASE}movie/oldboy>]: Violation: schema.org has no property 'notAProperty'" in output


def test_an_rdf_file_naming_a_merged_iri_names_the_record_it_joined(empty_project, run_kg):
    put(empty_project, "films.yaml", "people:\n  hayao-miyazaki: {name: Hayao Miyazaki}\n"
                                     "  miyazaki-hayao: {name: Miyazaki Hayao}\n"
                                     "decisions: [merge person/miyazaki-hayao into person/hayao-miyazaki]\n")
    put(empty_project, "extra.ttl", f'<{BASE}movie/spirited-away> a <{S}Movie> ; <{S}name> "Spirited Away" ;\n'
                                    f"  <{S}director> <{BASE}person/miyazaki-hayao> .\n")
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?d WHERE {{ <{BASE}movie/spirited-away> <{S}director> ?d }}") == [
        (f"{BASE}person/hayao-miyazaki",)]


def test_the_statements_of_an_rdf_file_s_own_subjects_are_not_each_located(empty_project):
    from kg.build.mapping import Mapped
    from kg.build.statements import rdf_quads
    from kg.ids import Minter

    put(empty_project, "films.yaml", "movies:\n  oldboy:\n    name: Oldboy\n")
    put(empty_project, "extra.nt", "".join(f'<{BASE}movie/x{n}> <{S}name> "X{n}" .\n' for n in range(50))
        + f'<{BASE}movie/oldboy> <{S}alternateName> "Old Boy" .\n')
    sources = read_sources(empty_project / "data", root=empty_project)
    mapped = Mapped(subjects={f"{BASE}movie/oldboy": sources.records[0].origin})
    assert len(list(rdf_quads(sources, Minter(BASE), mapped))) == 51
    assert list(mapped.statements) == [(f"{BASE}movie/oldboy", f"{S}alternateName")]  # a record's, from the file
    assert mapped.subjects[f"{BASE}movie/x7"].file == "data/extra.nt"  # the file's own: located by their subject


def test_a_malformed_rdf_file_is_refused_with_its_line(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"<{BASE}movie/x> a <{S}Movie> .\n<{BASE}movie/y> a \n")
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/extra.ttl:" in output and "not valid ttl" in output


@pytest.mark.parametrize("gap", ["", "\n# the next film\n", "\n    "])
def test_a_statement_without_its_dot_is_refused_at_its_own_line_not_the_next(empty_project, run_kg, gap):
    put(empty_project, "extra.ttl", f"@prefix schema: <{S}> .\n<{BASE}movie/x> schema:name \"X\"\n{gap}"
                                    f"<{BASE}movie/y> schema:name \"Y\" .\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/extra.ttl:2: not valid ttl: the statement ends here without its '.' (or a ';' or ',' to go on): " \
           f"the parser found more on line {3 + gap.count(chr(10))}" in output, output


@pytest.mark.parametrize("name, text, said", [
    ("extra.ttl", f'@prefix s: <{S}> .\n<{BASE}movie/x> s:name "X"\n', "the file ends after it"),
    ("extra.ttl", f'@prefix s: <{S}> .\r<{BASE}movie/x> s:name "X"\r<{BASE}movie/y> s:name "Y" .\r',
     "the parser found more on line 3"),
    ("extra.nt", f'<{BASE}movie/x> <{S}name> "X"\n\n<{BASE}movie/y> <{S}name> "Y" .\n', "the parser found more on "
                                                                                       "line 3"),
    ("extra.trig", f'<{BASE}g> {{\n<{BASE}movie/x> <{S}name> "X"\n<{BASE}movie/y> <{S}name> "Y" . }}\n',
     "the parser found more on line 3")], ids=["last-statement", "cr-lines", "n-triples", "trig"])
def test_a_statement_without_its_dot_is_refused_at_its_line_in_every_line_format(empty_project, run_kg, name, text,
                                                                                 said):
    put(empty_project, name, text)
    code, output = run_kg(empty_project, "build")
    line = 1 if name == "extra.nt" else 2
    assert code == 2 and f"data/{name}:{line}: not valid {name.rsplit('.', 1)[1]}: the statement ends here without " \
        f"its '.' (or a ';' or ',' to go on): {said}" in output, output


def test_a_relative_iri_in_turtle_is_refused_with_how_to_give_a_base(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"<{BASE}movie/x> a <{S}Movie> ; <{S}name> \"X\" .\n<movie/x> <{S}award> \"Y\" .\n")
    code, output = run_kg(empty_project, "build")
    assert code == 2
    assert "data/extra.ttl:2: not valid ttl" in output and "@base <https://films.example.org/> ." in output


def test_the_relative_iri_hint_gives_the_projects_own_base(empty_project, run_kg):
    put(empty_project, "extra.ttl", "<movie/x> a <http://schema.org/Movie> .\n")
    code, output = run_kg(empty_project, "--base-iri", "https://archive.example.net/films/", "build")
    assert code == 2 and "@base <https://archive.example.net/films/> . in Turtle" in output


def test_a_turtle_base_resolves_relative_iris(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"@base <{BASE}> .\n<movie/x> a <{S}Movie> ; <{S}name> \"X\" .\n")
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ <{BASE}movie/x> <{S}name> ?n }}") == [("X",)]


# ---- the two real data sets ----

@pytest.fixture(scope="module")
def real_films(tmp_path_factory):
    """examples/films as read, with the Wikipedia films of the 2010s alone (those these tests look at: the
    36,273 of every decade take half a minute)."""
    shared, root = (SHARED / "films").resolve(), tmp_path_factory.mktemp("films")
    (root / "data").mkdir()
    (root / "kg.toml").write_text(f'shapes_dir = "{REPO / "shapes"}"\nread_outside = ["{shared}"]\n', encoding="utf-8")
    for mapping in (REPO / "examples" / "films" / "data").glob("*.mapping.yaml"):
        text = mapping.read_text(encoding="utf-8").replace("../../../../shared/films", str(shared))
        assert str(shared) in text, mapping  # (the example's paths are as this fixture expects)
        (root / "data" / mapping.name).write_text(text.replace("movies-*.json", "movies-2010s.json"), encoding="utf-8")
    config = load_config(root)
    return read_sources(config.data_path, root=config.root, readable=config.readable)


def _movie(sources, key):
    return next(r for r in sources.records if r.kind == "movie" and r.key == key)


def test_a_2016_film_in_both_data_sets_is_one_film_with_every_source(real_films):
    rogue = _movie(real_films, "rogue-one-a-star-wars-story-2016")
    assert {c.source for c in rogue.claims} == {"editorial", "wikipedia-movie-data", "fivethirtyeight-next-bechdel-cast",
                                                "fivethirtyeight-next-bechdel-crew"}
    assert {v.value for v in rogue.values("director")} == {"nm2284484"}
    assert any(v.value.character_name and v.value.billing == 1 for v in rogue.values("cast"))


def test_a_bechdel_film_joins_its_wikipedia_entry_by_title_and_year(real_films):
    film = _movie(real_films, "tt2024544")  # 12 Years a Slave (2013)
    assert {c.source for c in film.claims} == {"editorial", "fivethirtyeight-bechdel", "wikipedia-movie-data"}
    assert {v.field for v in film.values("budget")} == {"budget"}
    assert any(v.field == "image" for v in film.values("image"))


def test_the_crew_file_rows_that_are_not_utf8_are_reported(real_films):
    bad = [n for n in real_films.notes if n.file.endswith("nextBechdel_crewGender.csv") and "not valid utf-8" in n.message]
    assert len(bad) > 100
    names = {v.value.text for r in real_films.records if r.kind == "person" for v in r.values("name")}
    assert not any("\ufffd" in n or "\udc95" in n for n in names)


def test_wikipedia_films_have_images_links_and_attributed_summaries(real_films):
    film = _movie(real_films, "garbage-dreams-2010")
    wiki = next(c for c in film.claims if c.source == "wikipedia-movie-data")
    fields = {v.field: v.value for v in wiki.values}
    assert fields["same_as"] == "https://en.wikipedia.org/wiki/Garbage_Dreams"
    assert fields["description"].lang == "en"
    source = next(r for r in real_films.records if r.kind == "source" and r.key == "wikipedia-movie-data")
    assert "CC BY-SA" in next(v.value for v in source.values("credit"))


def test_the_example_projects_are_configured(tmp_path):
    for name in ("films", "wikipedia"):
        config = load_config(REPO / "examples" / name)
        assert config.shapes_path.resolve() == (REPO / "shapes").resolve()
        assert any(p.name.endswith(".mapping.yaml") for p in config.data_path.iterdir())


def test_blank_nodes_of_an_rdf_file_become_skolem_iris_shared_by_its_graph_and_the_union(empty_project, run_kg):
    put(empty_project, "extra.ttl", f"""@prefix schema: <{S}> .
        <{BASE}person/ann-lee> a schema:Person ; schema:name "Ann Lee" ;
            schema:worksFor [ a schema:Organization ; schema:name "Studio" ] .
        """)
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ GRAPH <{BASE}source/extra> {{ ?o a <{S}Organization> ; "
                              f"<{S}name> ?n }} <{BASE}person/ann-lee> <{S}worksFor> ?o . ?o <{S}name> ?n }}") == [
        ("Studio",)]
    assert ask(empty_project, f"SELECT ?o WHERE {{ <{BASE}person/ann-lee> <{S}worksFor> ?o }}") == [
        (f"{BASE}.well-known/genid/extra-1",)]


def test_a_fact_a_source_repeats_is_published_once(empty_project, run_kg):
    """One actor credited twice for one film (two character names): the role's facts are stated once."""
    put(empty_project, "cast.csv", "film,title,actor,character\ntt0000001,Night,Bo Kim,A\ntt0000001,Night,Bo Kim,B\n")
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", """\
        name: title
        cast:
          actor: {name: actor}
          character_name: character
        """, "id: film"))
    built(empty_project, run_kg)
    with gzip.open(spliced.open_file(current(empty_project / "var") / "kg.nq.gz"), "rt", encoding="utf-8") as dump:
        lines = [line for line in dump if line.strip()]
    assert len(lines) == len(set(lines))
    assert sum(f"<{BASE}movie/tt0000001#cast-bo-kim> <{S}actor> " in line for line in lines) == 1


def test_the_home_page_of_a_large_catalogue_shows_the_first_films_and_links_to_all(empty_project, run_kg):
    from server import create_app
    from server.discovery import HOME_SIZE

    films = HOME_SIZE + 50
    put(empty_project, "films.csv", "id,title,year\n" + "".join(
        f"tt{n:07d},Film number {n:04d},{1950 + n % 60}\n" for n in range(1, films + 1)))
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n", "id: id"))
    built(empty_project, run_kg)
    app = create_app(load_config(empty_project, query_workers=1, cache_mb=0))
    try:
        html = app.test_client().get("/").get_data(as_text=True)
    finally:
        app.extensions["kg.executors"].close()
    assert html.count('<li><a href="/movie/') == HOME_SIZE
    assert f'<h2>Films ({films:,})</h2>' in html and f'<a href="/movie/">all {films:,} films</a>' in html


@pytest.fixture
def remakes(empty_project, run_kg):
    """Films of one name and year told apart only by their cast, and an actor in films of several years."""
    put(empty_project, "films.json", json.dumps([
        {"title": "Carmen", "year": 1915, "href": "Carmen_(1915_Cecil_B._DeMille_film)",
         "cast": ["Geraldine Farrar", "Wallace Reid"]},
        {"title": "Carmen", "year": 1915, "href": "Carmen_(1915_Raoul_Walsh_film)", "cast": ["Theda Bara"]},
        {"title": "Late", "year": 1990, "cast": ["Wallace Reid"]},
        {"title": "Early", "year": 1970, "cast": ["Wallace Reid"]},
    ]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", """\
        name: title
        production_year: year
        actor: cast
        """, "distinct: href"))
    built(empty_project, run_kg)
    from server import create_app

    app = create_app(load_config(empty_project, query_workers=1, cache_mb=0))
    yield app.test_client()
    app.extensions["kg.executors"].close()


def test_search_tells_apart_films_of_one_name_and_year_by_their_cast(remakes):
    hits = remakes.get("/search", query_string={"q": "carmen"}, headers={"Accept": "application/json"}).json
    assert sorted(h["summary"] for h in hits["results"]) == [
        "1915, with Geraldine Farrar, Wallace Reid", "1915, with Theda Bara"]


def test_an_actors_films_are_listed_by_year(remakes):
    html = remakes.get("/person/wallace-reid").get_data(as_text=True)
    section = html[html.index("<h2>Films</h2>"):]  # only films refer to him
    assert section.index("(1915)") < section.index("Early") < section.index("Late")
    assert "(1970)" in section and "(1990)" in section


def test_films_and_people_named_only_in_another_script_are_kept_apart(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year,director\n괴물,2006,봉준호\n살인의 추억,2003,봉준호\nКрылья,1966,\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", """\
        name: title
        production_year: year
        director: {name: director}
        """))
    output = built(empty_project, run_kg)
    films = ask(empty_project, f"SELECT ?m ?n WHERE {{ ?m a <{S}Movie> ; <{S}name> ?n }}")
    assert sorted(n for _, n in films) == ["Крылья", "괴물", "살인의 추억"]
    assert len({m for m, _ in films}) == 3
    directors = ask(empty_project, f"SELECT DISTINCT ?d WHERE {{ ?m <{S}director> ?d }}")
    assert len(directors) == 1  # one person, named the same in both rows
    assert "no letters or digits" not in output


def test_a_films_page_shows_cast_by_billing_and_crew_by_department(empty_project, run_kg):
    put(empty_project, "cast.csv", "film,title,actor,character,billing\n"
                                   "tt0000001,Night River,Abe Zane,Ann,2\ntt0000001,Night River,Zoe Adams,Bob,1\n"
                                   "tt0000001,Night River,Cy Moss,Cat,3\n")
    put(empty_project, "crew.csv", "film,title,person,department\ntt0000001,Night River,Cy Moss,Art Department\n"
                                   "tt0000001,Night River,Al Bell,Art Department\ntt0000001,Night River,Di Roe,Thanks\n")
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", """\
        name: title
        cast: {actor: actor, character_name: character, billing: billing}
        """, "id: film", source="cast"))
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", """\
        name: title
        crew: {person: person, department: department}
        """, "id: film", source="crew"))
    built(empty_project, run_kg)
    from server import create_app

    app = create_app(load_config(empty_project, query_workers=1, cache_mb=0))
    try:
        html = app.test_client().get("/movie/tt0000001").get_data(as_text=True)
        listed = app.test_client().get("/movie/?format=json").json["items"]
    finally:
        app.extensions["kg.executors"].close()
    cast = html[html.index("<h2>Cast</h2>"):html.index("</table>", html.index("<h2>Cast</h2>"))]
    assert cast.index("Zoe Adams") < cast.index("Abe Zane") < cast.index("Cy Moss")  # by billing, not by name
    assert listed[0]["summary"] == "with Zoe Adams, Abe Zane et al."  # the top billed tell the film apart
    crew = html[html.index("<h2>Crew</h2>"):html.index("</table>", html.index("<h2>Crew</h2>"))]
    art = crew[crew.index("Art Department"):crew.index("Thanks")]
    assert "Al Bell" in art and "Cy Moss" in art and "Di Roe" not in art
    assert "role name" not in html  # credits are not repeated as raw role nodes under Facts


@pytest.mark.parametrize("cast", [
    ["Gary Cooper", "(", "Best Actor", "nominee)", "Jean Arthur"],
    ["Gary Cooper (Best", "Actor nominee)", "Jean Arthur"],
    ["screenwriter)", "Gary Cooper", "(", "Academy Award for Best Actor", ")", "Jean Arthur"],
])
def test_a_note_in_parentheses_that_a_list_split_into_items_is_not_taken_for_names(cast, empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([{"title": "Mr. Deeds Goes to Town", "year": 1936, "cast": cast}]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\n"
                                                                   "actor: {name: cast}\n", "name: title\nyear: year"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?m <{S}actor>/<{S}name> ?n }}") == [("Gary Cooper",),
                                                                                      ("Jean Arthur",)]
    assert any(note.startswith("data/films.json:1: repaired: removed ") and "note in parentheses" in note
               for note in _notes(empty_project))


def _cast_of(root: Path, run_kg, cast: list[str]) -> list[tuple[str, ...]]:
    """The names published as the cast of a one-film JSON source with this cast list."""
    put(root, "films.json", json.dumps([{"title": "Reunion", "year": 1936, "cast": cast}]))
    put(root, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\nactor: {name: cast}\n",
                                            "name: title\nyear: year"))
    built(root, run_kg)
    return ask(root, f"SELECT ?n WHERE {{ ?m <{S}actor>/<{S}name> ?n }}")


@pytest.mark.parametrize("item", ["and", "with", "voices of", "(narrator)", "(as herself)", "[2]"])
def test_a_word_or_note_between_names_is_not_a_person(item, empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["Jean Hersholt", item, "Rochelle Hudson"]) == [
        ("Jean Hersholt",), ("Rochelle Hudson",)]
    assert any(f"repaired: removed {item!r} from a list of names" in n for n in _notes(empty_project))


def test_lower_case_words_in_a_cast_list_are_left_out_and_reported(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["The", "motorcycle racing", "world championship", "MotoGP"]) == [
        ("MotoGP",)]
    assert "data/films.json:1: suspicious: left out 'world championship' from a list of names: lower-case words, " \
           "not a person's name" in _notes(empty_project)


_TITLES = """\
accession,title_english,title_original,title_romanised,year,running_time,runtime_alt
K1,The Housemaid,하녀,Hanyeo,1960,108,
K2,,자유부인,Jayu buin,1956,,125
"""


def test_a_list_of_columns_gives_a_field_of_one_value_the_first_that_has_one(empty_project, run_kg):
    put(empty_project, "films.csv", _TITLES)
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: [title_english, {column: title_original, "
                                                                  "lang: ko}]\nrunning_time: [running_time, "
                                                                  "runtime_alt]\n", "id: accession"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m ?n ?d WHERE {{ ?m <{S}name> ?n ; <{S}duration> ?d }} ORDER BY ?m") == [
        (f"{BASE}movie/k1", "The Housemaid", "PT1H48M"), (f"{BASE}movie/k2", "자유부인", "PT2H5M")]
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m <{S}name> ?n FILTER(lang(?n) = 'ko') }}") == [
        (f"{BASE}movie/k2",)]


def test_a_list_of_columns_gives_a_field_of_several_values_all_of_them_each_with_its_options(empty_project, run_kg):
    put(empty_project, "films.csv", _TITLES)
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title_english\nalternate_name: [{column: "
                                                                  "title_original, lang: ko}, {column: "
                                                                  "title_romanised, lang: ko-Latn}]\n",
                                                     "id: accession"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n (lang(?n) AS ?l) WHERE {{ <{BASE}movie/k1> <{S}alternateName> ?n }} "
                              "ORDER BY ?n") == [("Hanyeo", "ko-latn"), ("하녀", "ko")]


def test_a_column_of_a_list_that_no_row_has_is_named(empty_project, run_kg):
    put(empty_project, "films.csv", _TITLES)
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: [title_english, title_korean]\n",
                                                     "id: accession"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "title_korean" in output, output


_PAIRED = 'actor:\n  name: {column: cast, split: "|"}\n  id: {column: cast_ids, split: "|"}\n'


def test_a_cells_names_and_anothers_identifiers_are_paired_in_order(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year,cast,cast_ids\n"
                                    "Parasite,2019,Song Kang-ho|Lee Sun-kyun|Cho Yeo-jeong,nm0814280|nm1310525|nm1856097\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n" + _PAIRED))
    built(empty_project, run_kg)
    assert sorted(ask(empty_project, f"SELECT ?a ?n WHERE {{ ?m <{S}actor>/<{S}actor> ?a . ?a <{S}name> ?n }}")) == [
        (f"{BASE}person/nm0814280", "Song Kang-ho"), (f"{BASE}person/nm1310525", "Lee Sun-kyun"),
        (f"{BASE}person/nm1856097", "Cho Yeo-jeong")]


def test_names_and_identifiers_of_different_counts_are_named_alone_and_said(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year,cast,cast_ids\n"
                                    "Parasite,2019,Song Kang-ho|Lee Sun-kyun|Cho Yeo-jeong,nm0814280|nm1310525\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n" + _PAIRED))
    built(empty_project, run_kg)
    assert sorted(ask(empty_project, f"SELECT ?a WHERE {{ ?m <{S}actor>/<{S}actor> ?a }}")) == [
        (f"{BASE}person/cho-yeo-jeong",), (f"{BASE}person/lee-sun-kyun",), (f"{BASE}person/song-kang-ho",)]
    assert any("3 names and 2 identifiers in one row: which identifier is whose cannot be told" in n
               for n in _notes(empty_project))


def test_a_key_in_a_company_cell_names_the_hand_written_company_without_becoming_its_name(empty_project, run_kg):
    put(empty_project, "films.yaml", "organizations:\n  cj-entertainment: {name: CJ Entertainment}\n")
    put(empty_project, "films.csv", "title,year,company\nMother,2009,cj-entertainment\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"
                                                                  "production_company: company\n"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?m ?p ?n WHERE {{ ?m <{S}productionCompany> ?c . ?c ?p ?n "
                              "FILTER(isLiteral(?n)) }") == [(f"{BASE}movie/mother-2009", f"{S}name", "CJ Entertainment")]


def test_a_source_that_spells_a_hand_written_name_as_its_key_keeps_that_spelling(empty_project, run_kg):
    put(empty_project, "people.yaml", "sources: {press: {name: Press}}\n"
                                      "people:\n  k-os: {name: K-os, claims: {press: {name: k-os}}}\n")
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ GRAPH <{BASE}source/press> {{ ?p <{S}alternateName> ?n }} }}") == [
        ("k-os",)]


def test_a_key_in_a_cast_list_is_left_out_as_a_key(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["Jean Hersholt", "kim-sung-su-actor"]) == [("Jean Hersholt",)]
    assert "data/films.json:1: suspicious: left out 'kim-sung-su-actor' from a list of names: lower-case words " \
           "joined by hyphens, as a key is written, not a person's name" in " ".join(_notes(empty_project))


def test_an_article_split_from_its_name_is_joined_back(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["Jean Hersholt", "The", "Dionne Quintuplets"]) == [
        ("Jean Hersholt",), ("The Dionne Quintuplets",)]


def test_a_suffix_split_from_its_name_is_joined_back(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["House Peters", "Sr.", "Myrtle Stedman"]) == [
        ("House Peters Sr.",), ("Myrtle Stedman",)]


def test_labels_in_a_cast_list_are_not_people_nor_is_the_credit_of_another_label(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["Dir.:", "Greg Marcks", "Cast:", "Shane West", "Cast: Ed Harris"]) == [
        ("Ed Harris",), ("Shane West",)]  # Greg Marcks directed it


@pytest.mark.parametrize(("cast", "names"), [
    (["Harry Carter (actor)", "Joe King (narrator)"], ["Harry Carter", "Joe King"]),  # a note after the name
    (["Ann Lee", "Bobby Smith Jr. (teleplay)", "David Brendel (Screenplay)"], ["Ann Lee"]),  # other credits
    (["Ann Lee", "and Ateesh Randev"], ["Ann Lee", "Ateesh Randev"]),
    (["Ann Lee", "the", "Brenton Butler case"], ["Ann Lee"]),  # a documentary's subject
    (["Ann Lee", "A year in the life of Susan Tom and her 11 children"], ["Ann Lee"]),
    (["Cheryl Cole (Girls Aloud)", "Dave (Tex) O'Brien", "Oscar de la Hoya"],
     ["Cheryl Cole (Girls Aloud)", "Dave (Tex) O'Brien", "Oscar de la Hoya"]),  # names, as they are
])
def test_what_a_cast_list_says_beside_names_is_not_published_as_names(cast, names, empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, cast) == [(n,) for n in sorted(names)]


def test_a_credit_whose_name_is_left_out_is_dropped_with_its_identifier(empty_project, run_kg):
    put(empty_project, "crew.csv", "film,title,name,imdb\ntt0000001,Night River,Ann Lee,nm0000001\n"
                                   "tt0000001,Night River,and,nm0000002\ntt0000001,Night River,_ve Giordani,nm0000003\n")
    put(empty_project, "crew.mapping.yaml", mapping("crew.csv", "name: title\ncrew:\n  person: {name: name, id: imdb}\n"
                                                                "  department: {constant: Editing}\n", "id: film"))
    built(empty_project, run_kg)  # no credit of a person without a name: 'and' is not one
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?p a <{S}Person> ; <{S}name> ?n }}") == [
        ("Ann Lee",), ("_ve Giordani",)]  # a name whose first letter was lost in the file is still a name


@pytest.mark.parametrize(("title", "published"), [
    ("The Curtain Pole[1]", "The Curtain Pole"), ("Fly by Night [fr]", "Fly by Night"),
    ("[REC]", "[REC]"), ("Alien [Director's Cut]", "Alien [Director's Cut]"),
])
def test_a_footnote_or_language_mark_after_a_title_is_removed(title, published, empty_project, run_kg):
    put(empty_project, "films.json", json.dumps([{"title": title, "year": 1909}]))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\nproduction_year: year\n",
                                                     "name: title\nyear: year"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?m a <{S}Movie> ; <{S}name> ?n }}") == [(published,)]


def test_punctuation_before_a_name_is_removed(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["Ann Lee", ". Caroline Martin"]) == [("Ann Lee",), ("Caroline Martin",)]


def test_names_written_in_lower_case_with_dots_or_in_another_script_are_kept(empty_project, run_kg):
    assert _cast_of(empty_project, run_kg, ["will.i.am", "k.d. lang", "봉준호"]) == [
        ("k.d. lang",), ("will.i.am",), ("봉준호",)]


def test_a_name_with_its_parentheses_closed_is_kept_whole(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,cast\ntt0000001,St Trinian's,Cheryl Cole (Girls Aloud)|Colin Firth\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\n"
                                                                  "actor: {name: {column: cast, split: '|'}}\n",
                                                     "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?n WHERE {{ ?m <{S}actor>/<{S}name> ?n }}") == [
        ("Cheryl Cole (Girls Aloud)",), ("Colin Firth",)]


def test_a_page_shows_the_entitys_https_image(empty_project, run_kg):
    from server import create_app

    put(empty_project, "films.csv", "id,title,poster\ntt0000001,Night River,https://img.example/night.jpg\n"
                                    "tt0000002,Blue Dream,http://img.example/blue.jpg\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nimage: poster\n", "id: id"))
    built(empty_project, run_kg)
    app = create_app(load_config(empty_project, query_workers=1, cache_mb=0))
    try:
        night = app.test_client().get("/movie/tt0000001").get_data(as_text=True)
        blue = app.test_client().get("/movie/tt0000002").get_data(as_text=True)
    finally:
        app.extensions["kg.executors"].close()
    assert '<img src="https://img.example/night.jpg" alt="Night River"' in night
    assert "<img" not in blue and "http://img.example/blue.jpg" in blue  # the page's policy loads https only


def test_a_year_that_is_not_a_year_never_becomes_part_of_an_iri(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year\nThirst,20x9\nThirst,2009\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    built(empty_project, run_kg)
    films = ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}")
    assert films == [(f"{BASE}movie/thirst",), (f"{BASE}movie/thirst-2009",)]
    assert any("year '20x9' is not a year: identified by name alone" in n for n in _notes(empty_project))


@pytest.mark.parametrize("names", [["Cast:", "Dave (Tex) O'Brien", "and Jane Doe"], ["The", "Andrews Sisters"]])
def test_a_list_of_names_read_again_is_repaired_and_told_the_same_each_time(names):
    first: list[str] = []
    again: list[str] = []
    assert people_names(list(names), first) == people_names(list(names), again)
    assert first and first == again  # a second row with the same list: the same repairs said again, in its notes


def test_a_literal_type_in_an_rdf_file_is_a_violation_not_a_crash(empty_project, run_kg):
    put(empty_project, "extra.ttl", f'<{BASE}movie/x> a <{S}Movie>, "Action" ; <{S}name> "X" .\n')
    code, output = run_kg(empty_project, "build")
    assert code == 1 and "a type is a class (an IRI), not a literal" in output and "Traceback" not in output


def test_the_build_report_beside_the_releases_is_the_current_release_s(empty_project, run_kg):
    report = empty_project / "var" / "build-report.txt"
    _cast_of(empty_project, run_kg, ["Jean Hersholt", "and", "Rochelle Hudson"])
    assert "repaired: removed 'and'" in report.read_text(encoding="utf-8")
    _cast_of(empty_project, run_kg, ["Jean Hersholt", "Rochelle Hudson"])  # a release without notes
    assert not report.exists()  # not the earlier build's notes, as if they were this one's


@pytest.mark.parametrize(("names", "kept"), [
    (["Mira Nair", "(Director)", "Riz Ahmed", "Kate Hudson"], ["Riz Ahmed", "Kate Hudson"]),
    (["Riz Ahmed", "(Screenplay)"], []),
    (["Riz Ahmed", "(narrator)", "Kate Hudson"], ["Riz Ahmed", "Kate Hudson"]),  # a note on this credit: kept
    (["(Director)", "Riz Ahmed"], ["Riz Ahmed"]),  # a note with no name before it
])
def test_a_name_followed_by_a_note_of_another_credit_is_left_out_of_the_cast(names, kept):
    fixes: list[str] = []
    assert people_names(names, fixes) == kept
    assert fixes


def test_a_mapping_error_sent_back_by_a_worker_keeps_every_problem():
    from kg.build.bulkspec import MappingError
    error = MappingError("a.mapping.yaml: one", 4, (MappingError("a.mapping.yaml: two", 6),))
    again = pickle.loads(pickle.dumps(error))
    assert [(str(e), e.line) for e in again.every()] == [("a.mapping.yaml: one", 4), ("a.mapping.yaml: two", 6)]


def test_a_digit_that_is_no_ascii_digit_in_a_number_column_is_a_value_left_out_not_a_crash(empty_project, run_kg):
    put(empty_project, "films.csv", "title,year\nNight River,²\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n"))
    code, output = run_kg(empty_project, "build", "--verbose")
    assert code == 0, output
    assert "'²' is not a four-digit year" in output


_DIRECTED = [{"id": "F1", "title": "Night River", "directors": [{"name": "Ann Lee", "pid": "P1"},
                                                              {"name": "Bo Kim", "pid": "P2"}]},
             {"id": "F2", "title": "Salt Road", "directors": [{"name": "Cy Park"}, {"name": "Di Song", "pid": "P4"}]}]


def test_names_and_ids_read_through_one_list_pair_item_by_item(empty_project, run_kg):
    put(empty_project, "films.json", json.dumps(_DIRECTED))
    put(empty_project, "films.mapping.yaml", mapping("films.json", "name: title\n"
                                                     "director: {name: directors.name, id: directors.pid}\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?f ?n WHERE {{ ?f <{S}director>/<{S}name> ?n }}") == [
        (f"{BASE}movie/f1", "Ann Lee"), (f"{BASE}movie/f1", "Bo Kim"), (f"{BASE}movie/f2", "Cy Park"),
        (f"{BASE}movie/f2", "Di Song")]
    assert ask(empty_project, f"SELECT ?n WHERE {{ <{BASE}person/p4> <{S}name> ?n }}") == [("Di Song",)]


def test_a_row_without_a_name_says_what_is_left_out_with_it(empty_project, run_kg):
    put(empty_project, "films.jsonl", '{"title": "Silent Station", "imdb": "tt0100010", "runtime": 90}\n'
                                      '{"title": "", "year": 1961, "imdb": "tt0100011", "runtime": 95}\n')
    put(empty_project, "films.mapping.yaml", mapping("films.jsonl", "name: title\nproduction_year: year\n"
                                                     "running_time: runtime\n", "id: imdb"))
    built(empty_project, run_kg)
    assert "data/films.jsonl:2: skipped: movie 'tt0100011' has no name: left out with what its rows give it " \
           "(production_year, running_time, same_as); a movie is published with a name" in _notes(empty_project)


def test_a_date_column_is_read_in_the_formats_the_mapping_names(empty_project, run_kg):
    put(empty_project, "films.csv", 'id,title,released\nF1,A,24/07/2001\nF2,B,"June 12, 1999"\nF3,C,2003-01-02\n'
                                    "F4,D,07-24-2001\nF5,E,31/06/2025\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", "name: title\nrelease_date: {column: released, format: ['%d/%m/%Y', '%B %d, %Y']}\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?f ?d WHERE {{ ?f <{S}datePublished> ?d }}") == [
        (f"{BASE}movie/f1", "2001-07-24"), (f"{BASE}movie/f2", "1999-06-12"), (f"{BASE}movie/f3", "2003-01-02")]
    assert "data/films.csv:5: skipped: release_date: '07-24-2001' is not a date; write YYYY-MM-DD, e.g. 2010-09-02 " \
           "(nor written as '%d/%m/%Y' or '%B %d, %Y')" in _notes(empty_project)
    assert "data/films.csv:6: skipped: release_date: '31/06/2025' is no day of the calendar: June 2025 has 30 days" \
        in _notes(empty_project)  # (as YAML says it: before, "is not a date" and its formats)


@pytest.mark.parametrize("cell, formats, said", [
    ("31/06/2025", ("%m/%d/%Y", "%d/%m/%Y"), "June 2025 has 30 days"),  # the reading of a month that is one
    ("00/06/2025", ("%d/%m/%Y",), "there is no day 0"),
    ("30/13/2025", ("%d/%m/%Y",), "there is no month 13"),
])
def test_a_date_cell_of_no_day_of_the_calendar_says_what_is_wrong(cell, formats, said):
    from kg.build.bulk import _dated
    with pytest.raises(ValueError, match=f"'{cell}' is no day of the calendar: {said}$"):
        _dated(cell, formats)


def test_a_rating_column_may_name_the_column_of_its_count(empty_project, run_kg):
    put(empty_project, "films.csv", 'id,title,rating,votes\nF1,A,7.5,120\nF2,B,6,\nF3,C,5,"1,234"\nF4,D,4,1200.0\n'
                                    "F5,E,3,0\nF6,F,2,many\nF7,G,1,1.000\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", "name: title\naggregate_rating: {column: rating, best: 10, count: votes}\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?f ?c WHERE {{ ?f <{S}aggregateRating> ?r OPTIONAL {{ ?r <{S}ratingCount> ?c }} }}"
               ) == [(f"{BASE}movie/f1", "120"), (f"{BASE}movie/f2", ""), (f"{BASE}movie/f3", "1234"),
                     (f"{BASE}movie/f4", "1200"), (f"{BASE}movie/f5", ""), (f"{BASE}movie/f6", ""),
                     (f"{BASE}movie/f7", "")]  # '1.000': a thousand in one locale, one in another: none
    assert "data/films.csv:7: suspicious: aggregate_rating: count 'many' is not a whole number of ratings above " \
           "zero: the rating is kept without its count" in _notes(empty_project)


@pytest.mark.parametrize(("fmt", "why"), [
    ("'%B %Y'", "lacks the day or the month"), ("'%d/%m/%y'", "has a two-digit year (%y)"), ("'%d/%m'", "has no year"),
])
def test_a_date_format_that_would_make_up_part_of_a_date_is_refused(empty_project, run_kg, fmt, why):
    put(empty_project, "films.csv", "id,title,released\nF1,A,June 1936\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", f"name: title\nrelease_date: {{column: released, format: {fmt}}}\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and f"format {fmt} {why}" in output


def test_a_date_format_with_a_time_of_day_reads_the_date(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,released\nF1,A,2001-07-24T10:30:00+0200\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", "name: title\nrelease_date: {column: released, format: '%Y-%m-%dT%H:%M:%S%z'}\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?d WHERE {{ ?f <{S}datePublished> ?d }}") == [("2001-07-24",)]


def test_a_year_format_for_a_field_of_full_dates_is_refused(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,released\nF1,A,2001\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", "name: title\nrelease_date: {column: released, format: ['%d/%m/%Y', '%Y']}\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "format '%Y' reads a year alone, and release_date is a full date" in output


def test_a_year_format_gives_a_year_not_the_first_of_january(empty_project, run_kg):
    put(empty_project, "people.csv", "id,name,born\nP1,Ann Lee,1956\nP2,Bo Kim,24/07/1960\n")
    put(empty_project, "people.mapping.yaml", mapping(
        "people.csv", "name: name\nbirth_date: {column: born, format: ['%d/%m/%Y', '%Y']}\n", "id: id", "person"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?p ?d WHERE {{ ?p <{S}birthDate> ?d }}") == [
        (f"{BASE}person/p1", "1956"), (f"{BASE}person/p2", "1960-07-24")]


def test_an_option_of_another_kind_of_field_is_refused(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title\nF1,A\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: {column: title, format: '%Y'}\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "format is an option of date and date_or_year fields, and name is no such field" in output


def test_a_mapping_may_give_the_records_type_and_a_type_not_allowed_is_skipped(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title\nF1,A\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\n", "id: id"))
    put(empty_project, "events.csv", "id,name,film,kind\nS1,A at noon,F1,ScreeningEvent\nS2,Gala,F1,Gala\n")
    put(empty_project, "events.mapping.yaml", mapping(
        "events.csv", "name: name\ntype: kind\nwork_presented: {name: film, id: film}\n", "id: id", "event",
        "events"))
    code, output = run_kg(empty_project, "build")
    assert code == 1, output  # S2 is a plain Event, which may not present a film
    assert "data/events.csv:3: skipped: type: 'Gala' is not one of Event, Festival, ScreeningEvent" in output
    put(empty_project, "events.csv", "id,name,film,kind\nS1,A at noon,F1,ScreeningEvent\n")
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?t WHERE {{ <{BASE}event/s1> a ?t }}") == [(f"{S}ScreeningEvent",)]


def test_a_reference_with_a_year_names_the_record_a_mapping_keyed_by_name_and_year_made(empty_project, run_kg):
    put(empty_project, "prog.csv", "code,title,year,premiere\nJN1,Night Garden,2024,2024-05-02\n"
                                   "JN2,Winter Bus,2024,2024-05-03\n")
    put(empty_project, "prog.mapping.yaml", mapping("prog.csv", "name: title\nproduction_year: year\n",
                                                    source="prog"))
    put(empty_project, "screenings.mapping.yaml", mapping(
        "prog.csv", "type: {constant: ScreeningEvent}\nname: {column: title, template: 'Premiere: {}'}\n"
        "start_date: premiere\nwork_presented: {name: title, year: year}\n", "id: code", "event", "screenings"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?e ?w WHERE {{ ?e <{S}workPresented> ?w }}") == [
        (f"{BASE}event/jn1", f"{BASE}movie/night-garden-2024"), (f"{BASE}event/jn2", f"{BASE}movie/winter-bus-2024")]
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}") == [  # no film of the title alone beside
        (f"{BASE}movie/night-garden-2024",), (f"{BASE}movie/winter-bus-2024",)]


def test_a_reference_to_a_person_with_a_year_is_refused(empty_project, run_kg):
    put(empty_project, "prog.csv", "code,title,year,director\nJN1,Night Garden,2024,Kim Lee\n")
    put(empty_project, "prog.mapping.yaml", mapping(
        "prog.csv", "name: title\nproduction_year: year\ndirector: {name: director, year: year}\n", source="prog"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "a reference gives a year for a film only" in output and "names a person" in output, output


def test_a_reference_by_title_alone_to_a_film_keyed_with_its_year_is_a_candidate_duplicate(empty_project, run_kg):
    put(empty_project, "prog.csv", "code,title,year\nJN1,Night Garden,2024\n")
    put(empty_project, "prog.mapping.yaml", mapping("prog.csv", "name: title\nproduction_year: year\n",
                                                    source="prog"))
    put(empty_project, "screenings.mapping.yaml", mapping(
        "prog.csv", "type: {constant: ScreeningEvent}\nname: title\nwork_presented: title\n", "id: code", "event",
        "screenings"))
    output = built(empty_project, run_kg)
    found = json.loads((empty_project / "var" / "current" / "duplicates.json").read_text(encoding="utf-8"))
    assert [(c["a"], c["b"], c["fix"]) for c in found] == [
        (f"{BASE}movie/night-garden-2024", f"{BASE}movie/night-garden",
         "merge movie/night-garden into movie/night-garden-2024")], output
    assert "one gives no year and credits no one" in found[0]["evidence"][-1]


def test_a_line_that_is_not_json_is_skipped_with_the_column_the_parser_stopped_at(empty_project, run_kg):
    put(empty_project, "films.jsonl", '{"id": "F1", "title": "A"}\n{"id": "F2", "title": "B}\n{"id": "F3", "title": }\n')
    put(empty_project, "films.mapping.yaml", mapping("films.jsonl", "name: title\n", "id: id"))
    built(empty_project, run_kg)
    notes = _notes(empty_project)
    assert "data/films.jsonl:2: skipped: not JSON: Unterminated string starting at column 23" in notes
    assert "data/films.jsonl:3: skipped: not JSON: Expecting value (column 23)" in notes


def test_a_record_of_another_kind_kept_apart_by_its_distinct_column_is_called_by_its_kind(empty_project, run_kg):
    put(empty_project, "events.csv", "name,venue\nLe Fils,Cinematheque\nLe Fils,Lumiere Hall\n")
    put(empty_project, "events.mapping.yaml", mapping("events.csv", "name: name\n", "distinct: venue", "event",
                                                      "events"))
    built(empty_project, run_kg)
    assert any("data/events.csv:3: suspicious: 'le-fils' again, but a different event (venue='Lumiere Hall'" in n
               for n in _notes(empty_project))


def test_a_row_with_an_identifier_is_not_said_to_be_identified_by_name_for_its_odd_year(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,year\nA-25,Thirst,c. 1964\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nproduction_year: year\n",
                                                     "id: id\nname: title\nyear: year"))
    built(empty_project, run_kg)
    notes = _notes(empty_project)
    assert ask(empty_project, f"SELECT ?m WHERE {{ ?m a <{S}Movie> }}") == [(f"{BASE}movie/a-25",)]
    assert not any("identified by name alone" in n for n in notes)
    assert any("production_year: 'c. 1964' is not a four-digit year" in n for n in notes)


def test_rows_that_give_one_identifier_two_names_are_noted(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,director\nF2,Salt Road,Bo Kim\nF2,Iron Coast,Cy Park\n"
                                    "F3,Same,Ann Lee\nF3,Same,Di Song\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\ndirector: director\n", "id: id"))
    built(empty_project, run_kg)
    told = [n for n in _notes(empty_project) if "two names" in n]
    assert told == ["data/films.csv:3: suspicious: 'f2' is named 'Iron Coast' here and 'Salt Road' at "
                    "data/films.csv:2: one film with two names, or two under one identifier? (the names are "
                    "published as one record's)"]


CAST_FIELDS = "name: title\nproduction_year: year\nactor: {name: {column: cast, split: \"|\"}}\n"


def _pairs(root: Path) -> list[tuple[str, str, str]]:
    found = json.loads((root / "var" / "current" / "duplicates.json").read_text(encoding="utf-8"))
    return sorted((c["a"][len(BASE):], c["b"][len(BASE):], c["evidence"][0]) for c in found)


def test_a_typo_in_one_source_s_cast_stays_a_candidate_through_an_edit_elsewhere_as_in_a_full_build(
        empty_project, run_kg):
    put(empty_project, "a.csv", "id,title,year,cast\ntt1,Rio das Almas,2021,Luíza Tavares|Sérgio Antunes\n"
                                "tt2,Blue City,2003,Bo Kim\n")
    put(empty_project, "b.csv", "id,title,year,cast\ntt1,Rio das Almas,2021,Luiza Tavarez|Sérgio Antunes\n")
    for name in ("a", "b"):
        put(empty_project, f"{name}.mapping.yaml", mapping(f"{name}.csv", CAST_FIELDS, "id: id", source=name))
    built(empty_project, run_kg)
    typo = [("person/luiza-tavares", "person/luiza-tavarez",
             "the same name but for a letter, credited in the same film (a typo?)")]
    assert _pairs(empty_project) == typo
    put(empty_project, "a.csv", "id,title,year,cast\ntt1,Rio das Almas,2021,Luíza Tavares|Sérgio Antunes\n"
                                "tt2,Blue City (edited),2003,Bo Kim\n")
    assert "patched" in built(empty_project, run_kg)  # (an edit: the previous build's comparisons read back)
    assert _pairs(empty_project) == typo
    # the film gone from both, its people credited in a film of one source each: no longer in one film
    put(empty_project, "a.csv", "id,title,year,cast\ntt2,Blue City (edited),2003,Bo Kim\ntt3,Sea,2020,Luíza Tavares\n")
    put(empty_project, "b.csv", "id,title,year,cast\ntt2,Blue City,2003,Bo Kim\ntt4,Sky,2022,Luiza Tavarez\n")
    built(empty_project, run_kg)
    assert _pairs(empty_project) == []
    assert run_kg(empty_project, "build", "--full")[0] == 0 and _pairs(empty_project) == []


def test_a_texts_language_may_come_from_a_column_of_its_row(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,original,orig_lang\nF1,Night River,밤의 강,ko\nF2,Salt Road,Route du sel,fr\n"
                                    "F3,Iron,Eisen,not a tag!\nF4,Plain,Plain,\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", "name: title\nalternate_name: {column: original, lang: {column: orig_lang}}\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?f (STR(?a) AS ?t) (LANG(?a) AS ?l) WHERE {{ ?f <{S}alternateName> ?a }}") == [
        (f"{BASE}movie/f1", "밤의 강", "ko"), (f"{BASE}movie/f2", "Route du sel", "fr"), (f"{BASE}movie/f3", "Eisen", "")]
    assert "data/films.csv:4: suspicious: alternate_name: language 'not a tag!' is not a BCP 47 tag (e.g. ko, en, " \
           "ko-Latn): the text is published without one" in _notes(empty_project)


def test_an_original_title_that_is_the_title_itself_is_no_other_name(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,original\nF1,O Rio,O Rio\nF2,Night Bus,Le Bus de Nuit\n")
    put(empty_project, "films.mapping.yaml", mapping("films.csv", "name: title\nalternate_name: original\n", "id: id"))
    built(empty_project, run_kg)
    assert ask(empty_project, f"SELECT ?f ?a WHERE {{ ?f <{S}alternateName> ?a }}") == [
        (f"{BASE}movie/f2", "Le Bus de Nuit")]
    assert ask(empty_project, f"SELECT ?n WHERE {{ GRAPH <{BASE}source/films> {{ <{BASE}movie/f1> <{S}name> ?n }} }}") \
        == [("O Rio",)]


def test_a_language_column_that_no_row_has_is_refused_as_any_column_is(empty_project, run_kg):
    put(empty_project, "films.csv", "id,title,original\nF1,Night River,밤의 강\n")
    put(empty_project, "films.mapping.yaml", mapping(
        "films.csv", "name: title\nalternate_name: {column: original, lang: {column: orig_lang}}\n", "id: id"))
    code, output = run_kg(empty_project, "build")
    assert code == 2 and "has a column 'orig_lang'" in output


def test_a_character_no_actor_plays_is_left_out_with_a_note(empty_project, run_kg):
    put(empty_project, "cast.csv", "film,title,actor,character\ntt0000001,Night River,Abe Zane,Ann\n"
                                   "tt0000001,Night River,,Housekeeper\ntt0000001,Night River,,\n")
    put(empty_project, "cast.mapping.yaml", mapping("cast.csv", """\
        name: title
        cast: {actor: actor, character_name: character}
        """, "id: film", source="cast"))
    built(empty_project, run_kg)
    report = (empty_project / "var" / "build-report.txt").read_text(encoding="utf-8")
    assert "data/cast.csv:3: skipped: cast: 'Housekeeper' is played by no one named: left out" in report
    assert "cast.csv:4" not in report  # a row that names no one and no character says nothing worth a note
