"""The records of unchanged bulk files are read back from the previous release, never read from the files again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox
import pytest

import kg.build.blocking
import kg.build.bulkspec
import kg.build.duplicates
import kg.build.kept
import kg.build.pipeline
import kg.build.remembered
import kg.build.shards
import kg.build.sources
from conftest import log_calls
from kg import spliced
from kg.build.bulk import grouped
from kg.build.decisions import Decisions
from kg.build.duplicates import KNOWN_PARTS, part_of
from kg.build.identity import Entry
from kg.build.merges import identifiers, resolve
from kg.build.notes import Note
from kg.build.pipeline import REPORT_FILE
from kg.build.remembered import (
    Held,
    Remembered,
    pack_held,
    packer,
    read_entries_back,
    told,
    unpack_held,
    write_entries,
)
from kg.build.sources import Problem
from kg.layout import DUMPS, DUPLICATES_FILE, KEPT_DIR, STORE_DIR, current
from kg.model import CastEntry, Claim, CrewEntry, LangText, Money, Origin, Record, Value

FILMS = "id,title,year,actor,character\n" + "".join(
    f"tt{n:07d},Film {n},{1950 + n % 60},Person {n % 7},Role {n}\n" for n in range(1, 60)) + \
    "tt0000003,Film 3,1953,Person 3,Role 3\n"  # a row said twice: a note the read makes
MAPPING = ("source: {key: films, name: Films, type: CreativeWork}\nfiles: films.csv\nrecord: movie\nkey: {id: id}\n"
           "fields:\n  name: title\n  production_year: year\n  cast:\n    actor: actor\n    character_name: character\n")


def _every_kind_of_value() -> list[Record]:
    here, there = Origin("data/a.yaml", 3, "a", "name"), Origin("data/b.csv", 7, "b")
    values = (Value("name", LangText("탈주", "ko"), here), Value("name", "plain", here), Value("running_time", 94, there),
              Value("cast", CastEntry("lee", "gyu-nam", LangText("Gyu-nam", "en"), 1, "Leading"), there),
              Value("cast", CastEntry("koo", None, None), there), Value("crew", CrewEntry("kim", "Editing"), there),
              Value("release_date", dt.date(2024, 7, 3), here), Value("budget", Money(Decimal("1.50"), "KRW"), here),
              Value("aspect_ratio", Decimal("7.25"), there), Value("colour", True, there),
              Value("status", None, here),
              Value("same_as", "https://www.imdb.com/title/tt0000001/", there))
    return [Record("movie", "a", (Claim("press", values, here), Claim("editorial", values[:1], there)), here,
                   formerly=(("old-a", there),)),
            Record("person", "b", (), there, detailed=False)]


def _held(records: list[Record]) -> list[Record]:
    made = io.BytesIO()
    packer(made).dump(pack_held(records))
    return unpack_held(pickle.loads(made.getvalue()))


def test_records_of_every_kind_of_value_come_back_as_they_were():
    records = _every_kind_of_value()
    back = _held(records)
    assert back == records and records == back and [hash(r) for r in back] == [hash(r) for r in records]
    assert [type(v.value) for v in back[0].claims[0].values] == [type(v.value) for v in records[0].claims[0].values]


def test_a_record_read_back_tells_its_fields_without_its_claims(monkeypatch):
    records = _every_kind_of_value()
    back = _held(records)
    monkeypatch.setattr(kg.build.remembered._Claims, "of", lambda *_: pytest.fail("claims unpacked"))
    assert identifiers(back[0]) == identifiers(records[0]) != ()
    assert back[0].values("director") == [] and back[1].values("name") == []
    assert back[0].formerly == records[0].formerly and back[0].origin == records[0].origin




def test_a_note_on_markup_without_an_iri_leaves_the_records_read_back_packed(monkeypatch):
    # (their names stay packed: a bulk record is told by its key, which its name made)
    from kg.build.sources import RdfFile, _anonymous_notes
    from kg.ids import Minter
    back = _held([dataclasses.replace(r, detailed=False) for r in _every_kind_of_value()])  # (as bulk records are)
    monkeypatch.setattr(kg.build.remembered._Claims, "of", lambda *_: pytest.fail("claims unpacked"))
    markup = RdfFile(Path("data/markup.jsonld"), "data/markup.jsonld", "markup", (("movie", "Film Number 7"),))
    assert [n.message.split(":")[0] for n in _anonymous_notes([markup], back, Minter("https://films.example.org/"))
            ] == ["the film 'Film Number 7' has no IRI in this file"]


def _unpacked(monkeypatch) -> list[int]:
    """The place in its batch of each record read back whose claims are unpacked."""
    made: list[int] = []
    real = kg.build.remembered._Claims.of

    def counted(self, n):
        made.append(n)
        return real(self, n)

    monkeypatch.setattr(kg.build.remembered._Claims, "of", counted)
    return made


def _credited(n: int, person: str) -> Record:
    there = Origin("data/films.csv", n, f"m{n}")
    return Record("movie", f"m{n}", (Claim("films", (Value("cast", CastEntry(person, None, None), there),), there),),
                  there, detailed=False)


def test_a_record_renamed_unpacks_only_the_records_read_back_that_name_it(monkeypatch):
    there = Origin("data/people.csv", 1, "p")
    held = _held([_credited(n, f"p{n}") for n in range(5)] + [Record("person", f"p{n}", (), there, detailed=False)
                                                             for n in range(5)])
    made = _unpacked(monkeypatch)
    renamed = Record("person", "q2", (), there, formerly=(("p2", there._replace(field="formerly")),))  # written
    resolved = resolve([*held, renamed], Decisions(), [], [])
    assert sorted(made) == [2, 7]  # the film that credits p2 (of five), and p2 (its claims join q2)
    assert [v.value.actor for r in resolved.records if r.key == "m2" for c in r.claims for v in c.values] == ["q2"]


def test_what_is_missing_unpacks_only_the_records_read_back_that_name_it(monkeypatch):
    there = Origin("data/people.csv", 1, "p")
    held = _held([_credited(n, f"p{n}") for n in range(5)] + [Record("person", f"p{n}", (), there, detailed=False)
                                                             for n in range(5) if n != 3]
                 + [Record("source", "films", (), there)])
    made = _unpacked(monkeypatch)
    problems: list[Problem] = []
    kg.build.sources._check_references(held, problems)
    assert made == [3] and [(p.line, p.field) for p in problems] == [(3, "m3.cast")]

def test_a_record_read_back_makes_its_origin_only_when_asked_for(monkeypatch):
    records = _every_kind_of_value()  # a hand-written record, then three of a bulk file
    records += [Record("movie", f"b{n}", (), Origin("data/b.csv", n, f"b{n}"), detailed=False) for n in (7, 8)]
    back = _held(records)
    monkeypatch.setattr(kg.build.remembered._Claims, "origin", lambda *_: pytest.fail("origin made"))
    assert [r.written_in() for r in back] == [r.origin.file for r in records]
    assert kg.build.shards.task_bounds(back, 10) == [(0, 1), (1, 4)]


def test_a_record_read_back_gives_the_identifiers_it_merges_by_as_a_record_does_without_its_claims(monkeypatch):
    records = _every_kind_of_value()
    back = _held(records)
    monkeypatch.setattr(kg.build.remembered._Claims, "of", lambda *_: pytest.fail("claims unpacked"))
    assert [identifiers(r) for r in back] == [identifiers(r) for r in records] == [("IMDb tt0000001",), ()]


def test_a_record_read_back_unpacks_its_claims_once_when_asked():
    back = _held(_every_kind_of_value())
    assert back[0].claims is back[0].claims and back[0].values("running_time") == [back[0].claims[0].values[2]]


def test_a_record_read_back_is_pickled_as_a_record():
    records = _every_kind_of_value()
    again = pickle.loads(pickle.dumps(_held(records)))
    assert [type(r) for r in again] == [Record, Record] and again == records


def test_what_a_record_names():
    here = Origin("data/a.yaml", 3, "a")
    film = Record("movie", "a", (Claim("press", (Value("cast", CastEntry("lee", "gyu-nam", None), here),
                                                 Value("cast", CastEntry("koo", None, None), here),
                                                 Value("crew", CrewEntry("kim", "Editing"), here),
                                                 Value("director", "lee", here), Value("name", "lee", here)), here),
                                  Claim("editorial", (Value("production_company", "b", here),), here)), here)
    assert film.names() == (("source", "press"), ("person", "lee"), ("character", "gyu-nam"), ("person", "koo"),
                            ("person", "kim"), ("organization", "b"))


def test_a_record_read_back_that_names_what_is_missing_is_reported_where_it_was_written():
    there = Origin("data/films.csv", 7, "m1")
    film = Record("movie", "m1", (Claim("films", (Value("cast", CastEntry("p9", None, None), there),), there),),
                  there, detailed=False)
    source = Record("source", "films", (), there)
    problems: list[Problem] = []
    kg.build.sources._check_references(_held([film, source]), problems)
    assert [(p.file, p.line, p.field) for p in problems] == [("data/films.csv", 7, "m1.cast")]
    assert "person 'p9' that does not exist" in problems[0].message


def test_records_read_back_together_tell_all_they_name_at_once(monkeypatch):
    records = _every_kind_of_value()
    back = _held(records)
    monkeypatch.setattr(kg.build.remembered._Claims, "of", lambda *_: pytest.fail("claims unpacked"))
    assert back[0].names_along() is back[1].names_along() == {n for r in records for n in r.names()}
    assert records[0].names_along() is None  # a record read afresh tells only its own (`names`)


def test_records_read_back_whose_batch_names_nothing_missing_are_not_looked_at_one_by_one(monkeypatch):
    there = Origin("data/films.csv", 7, "m1")
    film = Record("movie", "m1", (Claim("films", (Value("cast", CastEntry("p1", None, None), there),), there),),
                  there, detailed=False)
    held = _held([film, Record("person", "p1", (), there, detailed=False), Record("source", "films", (), there)])
    monkeypatch.setattr(Held, "names", lambda *_: pytest.fail("looked at one by one"))
    problems: list[Problem] = []
    kg.build.sources._check_references(held, problems)
    assert problems == []


def test_only_the_records_of_a_batch_that_name_what_is_missing_are_reported():
    there, later = Origin("data/films.csv", 7, "m1"), Origin("data/films.csv", 8, "m2")
    films = [Record("movie", key, (Claim("films", (Value("cast", CastEntry(person, None, None), origin),), origin),),
                    origin, detailed=False) for key, person, origin in (("m1", "p1", there), ("m2", "p2", later))]
    held = _held([*films, Record("person", "p1", (), there, detailed=False), Record("source", "films", (), there)])
    problems: list[Problem] = []
    kg.build.sources._check_references(held, problems)
    assert [(p.file, p.line, p.field) for p in problems] == [("data/films.csv", 8, "m2.cast")]


def test_a_record_read_back_and_rewritten_by_a_merge_is_checked_as_rewritten():
    there = Origin("data/films.csv", 7, "m1")
    film = Record("movie", "m1", (Claim("films", (Value("cast", CastEntry("p1", None, None), there),), there),),
                  there, detailed=False)
    people = [Record("person", "p1", (), there, detailed=False),  # merged into p2: its key is gone
              Record("person", "p2", (), there, formerly=(("p1", there._replace(field="formerly")),))]
    held = _held([film, *people, Record("source", "films", (), there)])
    resolved = resolve(held, Decisions(), [], [])
    assert not any(r.names_along() is not None and r.key == "m1" for r in resolved.records)  # rewritten: checked
    problems: list[Problem] = []
    kg.build.sources._check_references(resolved.records, problems)
    assert problems == []  # it names p2 now; the batch still names p1, which no longer exists


def test_what_a_record_names_of_a_field_its_kind_lacks_is_an_error():
    here = Origin("data/a.yaml", 3, "a")
    with pytest.raises(KeyError, match="no field 'nonsense'"):
        Record("movie", "a", (Claim("press", (Value("nonsense", "x", here),), here),), here).names()


def test_a_record_read_back_names_the_record_a_merge_keeps():
    there = Origin("data/films.csv", 7, "m1")
    film = Record("movie", "m1", (Claim("films", (Value("cast", CastEntry("p1", None, None), there),), there),),
                  there, detailed=False)
    people = [Record("person", "p1", (), there, detailed=False),
              Record("person", "p2", (), there, formerly=(("p1", there._replace(field="formerly")),))]
    untouched = Record("movie", "m2", (Claim("films", (Value("name", "Two", there),), there),), there)
    held = _held([film, untouched, *people])
    resolved = resolve(held, Decisions(), [], [])
    by_key = {r.key: r for r in resolved.records}
    assert by_key["m1"].claims[0].values[0].value.actor == "p2" and "p1" not in by_key
    assert by_key["m2"] is held[1]  # named nothing merged: kept as read back



def test_records_read_back_whose_batch_names_no_record_renamed_keep_their_claims_packed(monkeypatch):
    there = Origin("data/films.csv", 7, "m1")
    film = Record("movie", "m1", (Claim("films", (Value("cast", CastEntry("p3", None, None), there),), there),),
                  there, detailed=False)
    people = [Record("person", "p1", (), there, detailed=False),
              Record("person", "p2", (), there, formerly=(("p1", there._replace(field="formerly")),))]
    held = _held([film, Record("person", "p3", (), there, detailed=False)])
    monkeypatch.setattr(kg.build.remembered._Claims, "of", lambda *_: pytest.fail("claims unpacked"))
    resolved = resolve([*held, *people], Decisions(), [], [])
    assert resolved.records[:2] == held and all(a is b for a, b in zip(resolved.records, held, strict=False))


def test_a_record_read_back_names_what_its_claims_name():
    records = _every_kind_of_value()
    assert [r.names() for r in _held(records)] == [r.names() for r in records]


def test_the_origins_only_claims_have_are_unpacked_with_the_claims():
    row, credit = Origin("data/films.csv", 7, "m1"), Origin("data/cast.csv", 9, "m1")
    records = [Record("movie", "m1", (Claim("films", (Value("name", "One", row),), row),
                                      Claim("cast", (Value("cast", CastEntry("p1", None, None), credit),), credit)),
                      row, detailed=False), *_every_kind_of_value()]
    table, fields, heads, blob, *names = pack_held(records)
    rest, _ = pickle.loads(blob)
    assert tuple(credit) in rest and tuple(credit) not in table and tuple(row) in table
    assert [r.claims for r in unpack_held((table, fields, heads, blob, *names))] == [r.claims for r in records]

@pytest.fixture
def bulk(project: Path, monkeypatch) -> Path:
    """The real data with a bulk file beside it; SOURCE_DATE_EPOCH set (releases comparable byte for byte)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(kg.build.remembered, "_CHUNK", 7)  # the records kept in several chunks
    (project / "data" / "films.csv").write_text(FILMS, encoding="utf-8")
    (project / "data" / "films.mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return project


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """How many records each read of bulk files made: one entry a read."""
    made: list[int] = []
    real = kg.build.remembered.records_of

    def counted(*args):
        records = real(*args)
        made.append(len(records))
        return records

    monkeypatch.setattr(kg.build.remembered, "records_of", counted)
    return made


def _edit_yaml(root: Path) -> None:
    path = root / "data" / "other-films.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: No Regret\n", "name: No Regrets\n", 1),
                    encoding="utf-8")


def _kept(release: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in (release / KEPT_DIR).glob("bulk-*")}


def _same_as_full(release: Path, root: Path, run_kg, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "data", fresh / "data")
    shutil.copytree(root / "shapes", fresh / "shapes")
    if (root / "kg.toml").exists():
        shutil.copy(root / "kg.toml", fresh / "kg.toml")
    assert run_kg(fresh, "build", "--full")[0] == 0
    full = current(fresh / "var")
    for name in [d.filename for d in DUMPS] + [REPORT_FILE, DUPLICATES_FILE]:
        assert spliced.read_bytes(release / name) == spliced.read_bytes(full / name), name
    stores = [{str(q) for q in ox.Store.read_only(str(r / STORE_DIR))} for r in (release, full)]
    assert stores[0] == stores[1]


def test_an_edit_elsewhere_reads_the_bulk_records_back(bulk, run_kg, reads, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    first = current(bulk / "var")
    assert len(reads) == 1 and reads[0] > 60 and len(_kept(first)) == 1
    assert "skipped" in (first / REPORT_FILE).read_text(encoding="utf-8")
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    second = current(bulk / "var")
    assert len(reads) == 1  # not read again
    assert _kept(second) == _kept(first)  # the same file, linked
    _same_as_full(second, bulk, run_kg, tmp_path)


def test_an_edit_elsewhere_unpacks_no_bulk_records_claims_while_reading(bulk, run_kg, monkeypatch, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    _edit_yaml(bulk)
    unpacked: list[int] = []
    real_of = kg.build.remembered._Claims.of
    monkeypatch.setattr(kg.build.remembered._Claims, "of", lambda self, n: unpacked.append(n) or real_of(self, n))
    seen: list[tuple[int, int]] = []  # (records read back, claims unpacked) once the read is done
    real_read = kg.build.pipeline.read_sources

    def read(*args):
        sources = real_read(*args)
        seen.append((sum(isinstance(r, Held) for r in sources.records), len(unpacked)))
        return sources

    monkeypatch.setattr(kg.build.pipeline, "read_sources", read)
    assert run_kg(bulk, "build")[0] == 0
    assert seen[0][0] > 60 and seen[0][1] == 0
    assert not unpacked  # nor later: the edited file's records are mapped by a task without bulk records
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_edited_bulk_file_is_read_again_and_its_records_patched(bulk, run_kg, reads, tmp_path, workers):
    (bulk / "kg.toml").write_text(f"build_workers = {workers}\n", encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    path = bulk / "data" / "films.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,"), encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    assert len(reads) == 1  # the previous build's records, the edited one made again: not all made anew
    release = current(bulk / "var")
    assert len(_kept(release)) == 1
    _same_as_full(release, bulk, run_kg, tmp_path)


def _edit_films(root: Path, old: str, new: str) -> None:
    path = root / "data" / "films.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("old, new", [
    ("id,title,year,actor,character\n", "id,title,year,actor,character\ntt0000099,Film 99,1999,Person 9,Role 99\n"),
    ("tt0000017,Film 17,1967,Person 3,Role 17\n", ""),
    ("Person 3,Role 17", "Person 30,Role 17"),
], ids=["a-row-added-first", "a-row-removed", "a-new-person"])
def test_an_edit_that_changes_which_records_there_are_makes_them_all_anew(bulk, run_kg, reads, tmp_path, old, new):
    assert run_kg(bulk, "build")[0] == 0
    _edit_films(bulk, old, new)
    assert run_kg(bulk, "build")[0] == 0
    assert len(reads) == 2
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


PEOPLE_MAPPING = ("source: {key: people, name: People, type: CreativeWork}\nfiles: people.csv\nrecord: person\n"
                  "key: {id: id}\nfields:\n  name: name\n")


def test_an_edit_that_changes_whom_a_name_is_makes_the_records_anew(bulk, run_kg, reads, tmp_path):
    (bulk / "data" / "people.csv").write_text("id,name\nnm0000003,Person 3\n", encoding="utf-8")
    (bulk / "data" / "people.mapping.yaml").write_text(PEOPLE_MAPPING, encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    # the person named in the films' rows is the person with the identifier no more: its key, and every cast list
    # naming it, change, though each file's rows name the same entries
    (bulk / "data" / "people.csv").write_text("id,name\nnm0000003,Person Three\n", encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    assert len(reads) == 2
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def _tapes(release: Path) -> dict[str, str | None]:
    """Each file of tapes kept, with the file it adds to."""
    return {p.name: kg.build.remembered._adds_to(p) for p in (release / KEPT_DIR).glob("tapes-*")}


def test_the_tapes_of_a_few_rows_read_again_add_to_the_file_of_them_all(bulk, run_kg, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    (whole, adds_to), = _tapes(current(bulk / "var")).items()
    assert adds_to is None
    _edit_films(bulk, "Film 17,", "Film Seventeen,")
    assert run_kg(bulk, "build")[0] == 0
    kept = _tapes(current(bulk / "var"))
    assert kept.pop(whole) is None and list(kept.values()) == [whole]
    _edit_films(bulk, "Film 18,", "Film Eighteen,")  # the new tapes of both edits, added to the same file
    assert run_kg(bulk, "build")[0] == 0
    kept = _tapes(current(bulk / "var"))
    assert kept.pop(whole) is None and list(kept.values()) == [whole]
    path = bulk / "data" / "films.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",Role ", ",Part "), encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    assert list(_tapes(current(bulk / "var")).values()) == [None]  # every row new: all the tapes, whole again
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


@pytest.mark.parametrize("damaged, what", [
    ("tapes-*", b""), ("reading.pickle", b""),
    ("reading.pickle", b"ckg.build.moved_away\nReading\n."),  # written by a kg whose classes have moved
    ("tapes-*", b"ckg.build.moved_away\nTape\n."),
], ids=["tapes-cut", "reading-cut", "reading-of-another-kg", "tapes-of-another-kg"])
def test_damaged_tapes_or_reading_make_the_records_anew(bulk, run_kg, reads, tmp_path, damaged, what):
    assert run_kg(bulk, "build")[0] == 0
    for path in (current(bulk / "var") / KEPT_DIR).glob(damaged):
        path.write_bytes(what or path.read_bytes()[:50])
    _edit_films(bulk, "Film 17,", "Film Seventeen,")
    assert run_kg(bulk, "build")[0] == 0
    assert len(reads) == (2 if damaged == "reading.pickle" else 1)
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_an_edit_undone_keeps_tapes_that_add_to_another_file_or_none(bulk, run_kg, tmp_path, monkeypatch):
    assert run_kg(bulk, "build")[0] == 0
    _edit_films(bulk, "Film 17,", "Film Seventeen,")
    assert run_kg(bulk, "build")[0] == 0
    _edit_films(bulk, "Film Seventeen,", "Film 17,")  # the file as it was: its part has the name of the first read
    assert run_kg(bulk, "build")[0] == 0
    kept = _tapes(current(bulk / "var"))
    assert all(adds_to != name for name, adds_to in kept.items()) and None in kept.values()
    log_calls(monkeypatch, kg.build.bulkspec.Identity, "keys", tmp_path / "keyed", lambda self, row, *_, **__: row["title"])
    _edit_films(bulk, "Film 18,", "Film Eighteen,")
    assert run_kg(bulk, "build")[0] == 0
    assert set((tmp_path / "keyed").read_text().split("\n")) - {""} == {"Film Eighteen"}  # the rest replayed
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_an_edited_mapping_is_read_again(bulk, run_kg, reads):
    assert run_kg(bulk, "build")[0] == 0
    path = bulk / "data" / "films.mapping.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Films,", "name: Film list,"), encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    assert len(reads) == 2


def test_a_full_build_reads_the_bulk_files_again(bulk, run_kg, reads):
    assert run_kg(bulk, "build")[0] == 0
    assert run_kg(bulk, "build", "--full")[0] == 0
    assert len(reads) == 2


def test_damaged_kept_records_are_read_again_from_the_files(bulk, run_kg, reads, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    for kept in (current(bulk / "var") / KEPT_DIR).glob("bulk-*"):
        kept.write_bytes(kept.read_bytes()[:100])
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    assert len(reads) == 2
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


CAST = "film,actor,character\n" + "".join(f"tt{n:07d},Person {n % 5},Part {n}\n" for n in range(1, 40))
CAST_MAPPING = ("source: {key: cast-lists, name: Cast lists, type: CreativeWork}\nfiles: cast.csv\nrecord: movie\n"
                "key: {id: film}\nfields:\n  cast:\n    actor: actor\n    character_name: character\n")


@pytest.fixture
def two(bulk: Path, monkeypatch, tmp_path: Path) -> Path:
    """The bulk project with a second mapping (cast lists for the same films), read by two workers; each file read
    is logged to `tmp_path / "read"` (by whichever process reads it)."""
    (bulk / "data" / "cast.csv").write_text(CAST, encoding="utf-8")
    (bulk / "data" / "cast.mapping.yaml").write_text(CAST_MAPPING, encoding="utf-8")
    (bulk / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")
    real = kg.build.remembered.read_entries

    def logged(mappings, *args):
        with (tmp_path / "read").open("a") as f:
            f.write("".join(f"{f.name}\n" for m in mappings for f in m.files))
        with (tmp_path / "readers").open("a") as f:
            f.write(f"{os.getpid()}\n")
        return real(mappings, *args)

    monkeypatch.setattr(kg.build.remembered, "read_entries", logged)
    return bulk


def _read(tmp_path: Path) -> list[str]:
    log = tmp_path / "read"
    found = sorted(log.read_text().split()) if log.exists() else []
    log.unlink(missing_ok=True)
    return found


def test_an_edited_bulk_file_is_read_again_alone(two, run_kg, tmp_path):
    assert run_kg(two, "build")[0] == 0
    assert _read(tmp_path) == ["cast.csv", "films.csv"]
    path = two / "data" / "films.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,"), encoding="utf-8")
    assert run_kg(two, "build")[0] == 0
    assert _read(tmp_path) == ["films.csv"]  # what the cast file's rows said is read back
    _same_as_full(current(two / "var"), two, run_kg, tmp_path)


def test_what_the_rows_said_outlives_an_edit_elsewhere(two, run_kg, tmp_path):
    assert run_kg(two, "build")[0] == 0
    _read(tmp_path)
    _edit_yaml(two)
    assert run_kg(two, "build")[0] == 0  # the records read back whole: no file read
    assert _read(tmp_path) == []
    path = two / "data" / "cast.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Part 7\n", "Part Seven\n"), encoding="utf-8")
    assert run_kg(two, "build")[0] == 0
    assert _read(tmp_path) == ["cast.csv"]
    _same_as_full(current(two / "var"), two, run_kg, tmp_path)


def test_damaged_kept_rows_are_read_again_from_their_file(two, run_kg, tmp_path):
    assert run_kg(two, "build")[0] == 0
    _read(tmp_path)
    for kept in (current(two / "var") / KEPT_DIR).glob("entries-*"):
        kept.write_bytes(kept.read_bytes()[:100])
    path = two / "data" / "films.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,"), encoding="utf-8")
    assert run_kg(two, "build")[0] == 0
    assert _read(tmp_path) == ["cast.csv", "films.csv"]
    _same_as_full(current(two / "var"), two, run_kg, tmp_path)


def _unpacked_whole(monkeypatch) -> set[tuple[str, str, str]]:
    """The entries unpacked whole (not as heads) from here on, by (source, kind, key)."""
    found: set[tuple[str, str, str]] = set()
    real = kg.build.remembered._unpack_entries

    def unpack(data, out):
        real(data, chunk := {})
        found.update(chunk)
        out.update(chunk)

    monkeypatch.setattr(kg.build.remembered, "_unpack_entries", unpack)
    return found


def test_an_edited_file_unpacks_whole_only_the_entries_near_those_of_the_records_it_changes(two, run_kg,
                                                                                           monkeypatch, tmp_path):
    assert run_kg(two, "build")[0] == 0
    path = two / "data" / "cast.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Part 7\n", "Part Seven\n"), encoding="utf-8")
    whole = _unpacked_whole(monkeypatch)
    assert run_kg(two, "build")[0] == 0
    # the film's entries in the file read back (films.csv) and in the one read again, each with its chunk of 7
    assert ("films", "movie", "tt0000007") in whole and ("cast-lists", "movie", "tt0000007") in whole
    assert ("films", "movie", "tt0000050") not in whole and len(whole) <= 3 * 7
    _same_as_full(current(two / "var"), two, run_kg, tmp_path)


def test_a_name_that_lost_a_letter_finds_its_spelling_in_the_entries_read_back_as_heads(two, run_kg, tmp_path):
    films, cast = two / "data" / "films.csv", two / "data" / "cast.csv"
    films.write_text(films.read_text(encoding="utf-8") + "tt0000070,Film 70,1970,Félix Clément,Role 70\n",
                     encoding="utf-8")
    cast.write_text(cast.read_text(encoding="utf-8") + "tt0000070,F_lix Cl_ment,Part 70\n", encoding="utf-8")
    assert run_kg(two, "build")[0] == 0
    cast.write_text(cast.read_text(encoding="utf-8").replace("Part 7\n", "Part Seven\n"), encoding="utf-8")
    assert run_kg(two, "build")[0] == 0  # films.csv read back as heads: its people's names are in them
    release = current(two / "var")
    assert "'F_lix Cl_ment' lost a letter to '_': it is person" in (release / REPORT_FILE).read_text(encoding="utf-8")
    _same_as_full(release, two, run_kg, tmp_path)


def test_a_first_read_of_two_files_reads_the_larger_here_and_the_other_in_a_worker(two, run_kg, monkeypatch,
                                                                                   tmp_path):
    cast = two / "data" / "cast.csv"
    cast.write_text(cast.read_text(encoding="utf-8") * 40, encoding="utf-8")  # (rows alike are skipped)
    assert cast.stat().st_size > (two / "data" / "films.csv").stat().st_size
    real = kg.build.remembered.read_entries

    def logged(mappings, *args):
        with (tmp_path / "by").open("a") as f:
            f.write("".join(f"{os.getpid()} {f.name}\n" for m in mappings for f in m.files))
        return real(mappings, *args)

    monkeypatch.setattr(kg.build.remembered, "read_entries", logged)
    assert run_kg(two, "build")[0] == 0
    by = dict(reversed(line.split()) for line in (tmp_path / "by").read_text().splitlines())
    assert by["cast.csv"] == str(os.getpid()) and by["films.csv"] != str(os.getpid())


def test_a_file_read_here_is_kept_by_a_worker_as_a_worker_keeps_what_it_reads(two, run_kg, monkeypatch, tmp_path):
    real = kg.build.remembered.write_entries

    def logged(*args):
        with (tmp_path / "writers").open("a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(kg.build.remembered, "write_entries", logged)
    monkeypatch.setattr(kg.build.remembered, "room_for_copies", lambda _: True)  # whatever memory the machine has
    assert run_kg(two, "build")[0] == 0
    writers, readers = ((tmp_path / name).read_text().split() for name in ("writers", "readers"))
    assert len(writers) == 2 and str(os.getpid()) not in writers
    assert str(os.getpid()) in readers and not set(writers) & {str(os.getpid())}
    assert len(set(writers) - set(readers)) == 1  # the part read here: written by a worker that did not read it
    together = {p.name: p.read_bytes() for p in (current(two / "var") / KEPT_DIR).iterdir()
                if p.name.startswith(("entries-", "bulk-"))}
    (two / "kg.toml").write_text("build_workers = 1\n", encoding="utf-8")
    assert run_kg(two, "build", "--full")[0] == 0
    alone = {p.name: p.read_bytes() for p in (current(two / "var") / KEPT_DIR).iterdir()
             if p.name.startswith(("entries-", "bulk-"))}
    assert len(together) == 3 and together == alone


def test_a_bad_row_read_by_a_worker_is_reported_with_its_file_and_line(two, run_kg, tmp_path):
    assert run_kg(two, "build")[0] == 0
    before = current(two / "var")
    path = two / "data" / "cast.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Part 7\n", "P" * 200_000 + "\n"), encoding="utf-8")
    films = two / "data" / "films.csv"  # both files read again: each by a worker
    films.write_text(films.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,"), encoding="utf-8")
    (tmp_path / "readers").unlink()
    code, output = run_kg(two, "build")
    assert code == 2
    assert str(os.getpid()) not in (tmp_path / "readers").read_text().split()  # read by workers
    assert "data/cast.csv:8" in output and "cannot read the row" in output, output
    assert current(two / "var") == before


def test_two_bad_files_read_by_workers_are_reported_in_the_mappings_order(two, run_kg):
    films = two / "data" / "films.csv"  # the shorter read: its worker ends first
    films.write_text(films.read_text(encoding="utf-8").replace("Film 17,", "F" * 200_000 + ","), encoding="utf-8")
    cast = two / "data" / "cast.csv"
    cast.write_text(cast.read_text(encoding="utf-8") * 300 + "tt0000001,Person 1," + "P" * 200_000 + "\n",
                    encoding="utf-8")
    code, output = run_kg(two, "build")
    assert code == 2
    assert "data/cast.csv:" in output and "data/films.csv:" in output, output
    assert output.index("data/cast.csv:") < output.index("data/films.csv:"), output  # not the order the reads ended


def _packers(monkeypatch, tmp_path: Path, pause: float = 0.0) -> Callable[[], list[int]]:
    """Logs the pid of the process that packs each chunk of the records read (to a file: it may be a worker),
    each chunk taking `pause` seconds more; gives them."""
    log = tmp_path / "packers"
    real = Remembered._pack_chunk

    def slowed(*args):
        time.sleep(pause)
        return real(*args)

    monkeypatch.setattr(Remembered, "_pack_chunk", slowed)
    log_calls(monkeypatch, Remembered, "_pack_chunk", log, lambda *_: str(os.getpid()))
    return lambda: [int(x) for x in log.read_text().split()] if log.exists() else []


def _kept_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (current(root / "var") / KEPT_DIR).glob("bulk-*")}


def test_the_records_read_are_packed_by_a_worker_helped_by_the_build_as_the_build_alone_packs_them(
        two, run_kg, monkeypatch, tmp_path):
    packers = _packers(monkeypatch, tmp_path, pause=0.2)  # slow enough that each takes chunks before the other ends
    assert run_kg(two, "build")[0] == 0
    both = packers()
    beside = _kept_bytes(two)
    monkeypatch.setattr(kg.build.remembered, "room_for_copies", lambda _: False)  # no memory for a worker's copy
    assert run_kg(two, "build", "--full")[0] == 0
    alone = packers()[len(both):]
    assert set(alone) == {os.getpid()} and len(alone) == len(both) > 2  # each chunk packed once, either way
    assert len({p for p in both if p != os.getpid()}) == 1 and os.getpid() in both  # the worker, and the build
    assert _kept_bytes(two) == beside and len(beside) == 1


def test_a_pack_that_fails_in_its_worker_fails_the_build(two, run_kg, monkeypatch):
    def failing(*_args):
        raise ValueError("packing broke")

    monkeypatch.setattr(Remembered, "_pack_from", failing)
    code, output = run_kg(two, "build")
    assert code == 4 and "ValueError: packing broke" in output  # kg's internal error
    assert current(two / "var") is None


def _children() -> set[str]:
    return set(Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split())


def test_a_build_that_fails_after_its_read_leaves_no_worker_packing(two, run_kg, monkeypatch):
    def slow(*_args):
        time.sleep(60)

    monkeypatch.setattr(Remembered, "_pack_from", slow)
    (two / "data" / "bad.yaml").write_text("movies:\n  bad:\n    name: Bad\n    director: nobody-at-all\n",
                                           encoding="utf-8")
    before = _children()
    code, said = run_kg(two, "build")
    assert code == 2 and "nobody-at-all" in said
    assert _children() == before


def test_mappings_of_one_source_are_read_together():
    def mapping(source: str) -> SimpleNamespace:
        return SimpleNamespace(source=SimpleNamespace(key=source))

    a, b, c = mapping("films"), mapping("cast"), mapping("films")
    assert kg.build.remembered.apart([a, b]) == [[a], [b]]  # type: ignore[list-item]
    assert kg.build.remembered.apart([a, b, c]) == [[a, b, c]]  # type: ignore[list-item]


def test_what_rows_said_comes_back_as_it_was(monkeypatch):
    monkeypatch.setattr(kg.build.remembered, "_CHUNK", 1)  # a chunk an entry: origins numbered across chunks
    here, there = Origin("data/a.csv", 3, "a"), Origin("data/b.csv", 7, "b")
    entries = {("films", "movie", "a"): Entry("movie", "a", here, "a-1999", False),
               ("films", "person", "nm0000001"): Entry("person", "nm0000001", there, "kim", True)}
    for value in (LangText("탈주", "ko"), "plain", 94, CastEntry("lee", "gyu-nam", LangText("Gyu-nam", "en"), 1, "Lead"),
                  CrewEntry("kim", "Editing"), dt.date(2024, 7, 3), Money(Decimal("1.50"), "KRW")):
        entries[("films", "movie", "a")].add("field", value, there)
    entries[("films", "person", "nm0000001")].add("name", LangText("Kim"), here)
    said = [Note("data/a.csv", 3, "junk", "a note")]
    made = io.BytesIO()
    write_entries(made, said, entries)
    made.seek(0)
    again, back = read_entries_back(made)
    assert again == said
    assert list(back) == list(entries)
    for key, entry in entries.items():
        assert (back[key].kind, back[key].key, back[key].origin, back[key].label, back[key].strong) == \
            (entry.kind, entry.key, entry.origin, entry.label, entry.strong)
        assert list(back[key].values.items()) == list(entry.values.items())
        assert [type(v.value) for v in back[key].values.values()] == [type(v.value) for v in entry.values.values()]


def test_what_rows_said_comes_back_with_each_name_it_repeats_one_object(monkeypatch):
    """Pickled without a memo, every field name, source, kind, file and language would come back a copy of its own:
    a fifth of the memory of a bulk file's entries."""
    monkeypatch.setattr(kg.build.remembered, "_CHUNK", 2)  # names repeated within a chunk and across chunks
    entries = {}
    for n in range(5):
        origin = Origin("".join(["data/", "films.csv"]), n + 2, f"m{n}")  # equal strings, different objects
        entry = entries[("".join(["fi", "lms"]), "".join(["mo", "vie"]), f"m{n}")] = Entry("movie", f"m{n}", origin,
                                                                                          None, True)
        entry.add("".join(["na", "me"]), LangText(f"Film {n}", "".join(["e", "n"])), origin)
    made = io.BytesIO()
    write_entries(made, [], entries)
    made.seek(0)
    _, back = read_entries_back(made)
    values = [v for e in back.values() for v in e.values.values()]
    for names in ([k[0] for k in back], [k[1] for k in back], [e.kind for e in back.values()], [v.field for v in values],
                  [v.origin.file for v in values], [v.value.lang for v in values]):
        assert len({id(name) for name in names}) == 1, names


def _films(count: int, renamed: dict[int, str] | None = None) -> list[Record]:
    here = Origin("data/films.csv", 1, "f")
    return [Record("movie", f"m{n}", (Claim("films", (Value("name", (renamed or {}).get(n, f"Film {n}"),
                                                            Origin("data/films.csv", n + 2, f"m{n}")),), here),),
                   Origin("data/films.csv", n + 2, f"m{n}"), detailed=False) for n in range(count)]


@pytest.fixture
def read_from(tmp_path: Path, monkeypatch) -> Iterator[Callable[[list[Record], Path | None],
                                                           tuple[Remembered, list[Record]]]]:
    """Read records (what `read_bulk` would give) through a Remembered, kept in a kept/ folder of their own."""
    made: list[Remembered] = []
    monkeypatch.setattr(kg.build.remembered, "_CHUNK", 7)
    mapping = SimpleNamespace(path=tmp_path / "films.mapping.yaml", files=[], display="films",
                              source=SimpleNamespace(key="films"))

    def read(records: list[Record], previous: Path | None) -> tuple[Remembered, list[Record]]:
        if records:  # the mapping's bytes stand for the files': records of their own, a file of its own
            mapping.path.write_text(repr(records), encoding="utf-8")
        monkeypatch.setattr(kg.build.remembered, "read_entries", lambda *_: {})
        monkeypatch.setattr(kg.build.remembered, "records_of", lambda *_: list(records))
        remembered = Remembered(tmp_path, "context", previous)
        made.append(remembered)
        got = remembered.read([mapping], {}, [])  # type: ignore[list-item]
        into = tmp_path / f"kept-{len(list(tmp_path.glob('kept-*')))}"
        into.mkdir()
        remembered.keep(into)
        return remembered, got

    yield read
    for remembered in made:
        remembered.close()  # as a build does: its temporary folder goes


def test_what_a_read_keeps_waits_in_a_file_not_in_memory(read_from, tmp_path):
    records = _films(20)
    first, _ = read_from(records, None)
    assert first.made is None and all(part.spilled is None for part in first.parts.values())  # kept: closed
    again = Remembered(tmp_path, "context", None, spill=tmp_path)
    again.read([SimpleNamespace(path=tmp_path / "films.mapping.yaml", files=[], display="films",
                                source=SimpleNamespace(key="films"))], {}, [])  # type: ignore[list-item]
    assert again.made is not None and not isinstance(again.made, bytes)
    assert all(part.made is None and part.spilled is not None for part in again.parts.values())
    (tmp_path / "kept-again").mkdir()
    again.keep(tmp_path / "kept-again")
    again.close()
    assert sorted(p.read_bytes() for p in (tmp_path / "kept-again").iterdir()) == \
        sorted(p.read_bytes() for p in (tmp_path / "kept-0").iterdir())


def test_a_record_is_told_by_its_contents_whether_read_or_read_back(read_from):
    records = _films(20)
    first, read = read_from(records, None)
    tokens = [first.token(r) for r in read]
    assert tokens == [told(r) for r in records] and len(set(tokens)) == 20
    again, back = read_from([], first.root / "kept-0")  # read back: what `read_bulk` gives now is not asked for
    assert again.found is not None
    assert back == records and [again.token(r) for r in back] == tokens


def test_a_record_the_build_made_or_rewrote_is_not_told(read_from):
    remembered, read = read_from(_films(5), None)
    assert remembered.token(dataclasses.replace(read[0])) is None  # equal, but not the object read
    assert remembered.token(_films(5)[0]) is None
    remembered.forget()
    assert remembered.token(read[0]) is None


def test_an_unchanged_chunk_is_told_without_packing_its_records_again(read_from, monkeypatch):
    first, _ = read_from(_films(20), None)
    counted: list[Record] = []
    monkeypatch.setattr(kg.build.remembered, "told", lambda r: counted.append(r) or told(r))
    changed = _films(20, {9: "Film Nine"})  # in the second chunk of 7
    again, read = read_from(changed, first.root / "kept-0")
    assert [r.key for r in counted] == [f"m{n}" for n in range(7, 14)]
    assert [again.token(r) for r in read] == [told(r) for r in changed]


def test_an_edited_row_maps_again_only_the_task_of_its_record(bulk, run_kg, monkeypatch, tmp_path):
    (bulk / "kg.toml").write_text("task_records = 4\nshards = 4\n", encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    assert run_kg(bulk, "build")[0] == 0  # nothing changed: nothing built
    real = kg.build.shards.record_quads
    log = tmp_path / "mapped"

    def counted(records, *args):
        with log.open("a") as f:
            f.write(" ".join(r.key for r in records) + "\n")
        return real(records, *args)

    monkeypatch.setattr(kg.build.shards, "record_quads", counted)
    path = bulk / "data" / "films.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,"), encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    mapped = [line.split() for line in log.read_text().splitlines()]
    assert len(mapped) == 1 and "tt0000017" in mapped[0], mapped
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_an_edited_yaml_film_maps_again_no_bulk_record(bulk, run_kg, monkeypatch, tmp_path):
    (bulk / "kg.toml").write_text("shards = 4\n", encoding="utf-8")  # one task (5,000 records) would hold them all
    assert run_kg(bulk, "build")[0] == 0
    log = tmp_path / "mapped"
    log_calls(monkeypatch, kg.build.shards, "record_quads", log,
              lambda records, *_: " ".join(f"{r.origin.file}:{r.key}" for r in records))
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    mapped = log.read_text().split()
    assert any(m.endswith(":no-regret") for m in mapped), mapped
    assert not [m for m in mapped if not m.split(":")[0].endswith(".yaml")], mapped
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def _working_out_logged(monkeypatch, tmp_path: Path, work: str = "_film_keys") -> Callable[[], list[str]]:
    """Logs the films whose blocking keys (or what `work` works out) are worked out (by the duplicates' worker, so
    to a file); gives them."""
    log = tmp_path / "worked"
    log_calls(monkeypatch, kg.build.duplicates, work, log, lambda film: film.key)
    return lambda: log.read_text().split() if log.exists() else []


def test_an_edit_elsewhere_finds_the_same_duplicates_without_working_out_the_bulk_records_again(
        bulk, run_kg, monkeypatch, tmp_path):
    (bulk / "data" / "lookalike.yaml").write_text("movies:\n  film-five:\n    name: Film 5\n    production_year: 1955\n",
                                                  encoding="utf-8")  # a bulk film's title and year
    assert run_kg(bulk, "build")[0] == 0
    found = json.loads((current(bulk / "var") / DUPLICATES_FILE).read_text(encoding="utf-8"))
    assert any({c["a"].rsplit("/", 1)[-1], c["b"].rsplit("/", 1)[-1]} == {"film-five", "tt0000005"} for c in found)
    worked = _working_out_logged(monkeypatch, tmp_path)
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    assert worked() and not any(key.startswith("tt") for key in worked())  # the hand-written films only
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_an_edit_elsewhere_compares_bulk_records_read_back_without_unpacking_their_claims(bulk, run_kg, monkeypatch,
                                                                                          tmp_path):
    (bulk / "data" / "lookalike.yaml").write_text("movies:\n  film-five:\n    name: Film 5\n    production_year: 1955\n",
                                                  encoding="utf-8")  # compared with a bulk film by every build
    (bulk / "kg.toml").write_text("build_workers = 2\n", encoding="utf-8")  # the duplicates looked for by a worker
    monkeypatch.setattr("kg.build.pipeline.room_for_copies", lambda copies: True)
    assert run_kg(bulk, "build")[0] == 0
    compared, unpacked = tmp_path / "compared", tmp_path / "unpacked"
    log_calls(monkeypatch, kg.build.duplicates, "_compare_films", compared,
              lambda _world, a, b: f"{os.getpid()} {type(a).__name__} {type(b).__name__}")
    log_calls(monkeypatch, kg.build.remembered._Claims, "of", unpacked, lambda *_: str(os.getpid()))
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    pairs = [line.split() for line in compared.read_text().splitlines()]
    assert pairs and any("Held" in pair for pair in pairs)
    assert not unpacked.exists()  # neither by the search nor by the map (of the edited file's records alone)
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def _memo(release: Path) -> dict[str, int]:
    """The files of the duplicate search's memo (its parts), with their inodes."""
    found = {p.name: p.stat().st_ino for p in (release / KEPT_DIR).glob("known-*.pickle")}
    assert len(found) == KNOWN_PARTS
    return found


def _memo_tables(release: Path) -> dict[bytes, object]:
    return {k: v for p in sorted((release / KEPT_DIR).glob("known-*.pickle"))
            for k, v in pickle.loads(p.read_bytes()).items()}


def test_an_edit_elsewhere_keeps_the_duplicate_memo_as_it_was(bulk, run_kg):
    assert run_kg(bulk, "build")[0] == 0
    first = _memo(current(bulk / "var"))
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    assert _memo(current(bulk / "var")) == first  # every part linked, none written again


def test_an_edited_row_writes_again_only_the_parts_of_the_duplicate_memo_its_records_are_in(bulk, run_kg, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    first, before = _memo(current(bulk / "var")), _memo_tables(current(bulk / "var"))
    path = bulk / "data" / "films.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Film 17,", "Film Seventeen,"), encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    again, after = _memo(current(bulk / "var")), _memo_tables(current(bulk / "var"))
    written = {name for name in again if again[name] != first[name]}
    assert after.keys() != before.keys()
    assert written >= {name for name in again if name.endswith(
        tuple(f"-{part_of(t):02d}.pickle" for t in after.keys() ^ before.keys()))}
    assert len(written) < KNOWN_PARTS  # the others linked
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_a_damaged_part_of_the_duplicate_memo_is_written_anew_not_linked_on(bulk, run_kg, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    first = _memo(current(bulk / "var"))
    damaged = sorted(first)[3]
    (current(bulk / "var") / KEPT_DIR / damaged).write_bytes(b"\x80\x09not a pickle")  # (a protocol none knows)
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    again = _memo(current(bulk / "var"))
    assert {name for name in again if again[name] != first[name]} == {damaged}  # the others linked
    assert isinstance(pickle.loads((current(bulk / "var") / KEPT_DIR / damaged).read_bytes()), dict)
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_a_damaged_duplicate_memo_means_the_records_are_worked_out_again(bulk, run_kg, monkeypatch, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    for memo in (current(bulk / "var") / KEPT_DIR).glob("known-*.pickle"):
        memo.write_bytes(memo.read_bytes()[:50])
    worked = _working_out_logged(monkeypatch, tmp_path, "_people_of")  # (the blocking keys are in an index apart)
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    assert any(key.startswith("tt") for key in worked())  # the bulk films too: nothing was taken from the memo
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_a_damaged_index_of_blocking_keys_is_made_anew(bulk, run_kg, monkeypatch, tmp_path):
    assert run_kg(bulk, "build")[0] == 0
    (index,) = (current(bulk / "var") / KEPT_DIR).glob("blocks-*.pickle")
    index.write_bytes(index.read_bytes()[:50])
    log = tmp_path / "made"
    log_calls(monkeypatch, kg.build.blocking, "made", log, lambda *_: "made")
    _edit_yaml(bulk)
    assert run_kg(bulk, "build")[0] == 0
    assert log.read_text().split() == ["made"]
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_while_a_worker_reads_an_edited_file_again_the_build_reads_ahead_what_later_stages_read_back(
        bulk, run_kg, monkeypatch, tmp_path):
    (bulk / "kg.toml").write_text("build_workers = 2\ntask_records = 3\n", encoding="utf-8")
    assert run_kg(bulk, "build")[0] == 0
    build_pid, read = os.getpid(), kg.build.remembered.read_entries

    def slow(*args):  # the worker reading the edited file: slow enough for everything to be read ahead
        if os.getpid() != build_pid:
            time.sleep(1)
        return read(*args)

    given: list[bool] = []  # for each kept object the build's own process asked for: whether it was read ahead
    loaded = kg.build.kept._loaded
    monkeypatch.setattr(kg.build.remembered, "read_entries", slow)
    monkeypatch.setattr(kg.build.kept, "_loaded", lambda path: given.append(path in kg.build.kept._AHEAD) or loaded(path))
    held: dict[str, list[str]] = {}  # what is still held when the map and the store begin

    def noting(stage: str, real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            held.setdefault(stage, [p.name for p in kg.build.kept._AHEAD])
            return real(*args)
        return call

    for stage, name in [("map", "load"), ("store", "patch")]:
        monkeypatch.setattr(kg.build.pipeline, name, noting(stage, getattr(kg.build.pipeline, name)))
    _edit_films(bulk, "Film 17,", "Film Seventeen,")
    assert run_kg(bulk, "build")[0] == 0
    assert sum(given) > 5  # read ahead and given
    # what only the duplicates' worker asks for is let go once it is forked; the rest once the dumps are written
    assert held["map"] and not [n for n in held["map"] if n.startswith(("known-", "blocks-", "compared-"))]
    assert held["store"] == []
    _same_as_full(current(bulk / "var"), bulk, run_kg, tmp_path)


def test_a_file_that_cannot_be_read_ahead_is_passed_over(tmp_path):
    paths = [tmp_path / "bad.pickle", tmp_path / "good.pickle"]
    paths[0].write_bytes(b"\x80\x06.")  # (a ValueError: a protocol no pickle has)
    paths[1].write_bytes(pickle.dumps("good"))
    try:
        assert kg.build.kept.read_ahead(paths, 1 << 20)() is False
        assert list(kg.build.kept._AHEAD) == [paths[1]]
    finally:
        kg.build.kept.forget_ahead()


def test_reading_ahead_stops_at_its_budget_and_gives_each_object_once(tmp_path):
    paths = []
    for n in range(3):
        paths.append(tmp_path / f"f{n}.pickle")
        paths[-1].write_bytes(pickle.dumps([n] * 100))
    step = kg.build.kept.read_ahead(paths, paths[0].stat().st_size * 2)
    assert [step(), step(), step()] == [True, True, False]  # the third file is beyond the budget
    try:
        assert set(kg.build.kept._AHEAD) == set(paths[:2])
        paths[0].write_bytes(pickle.dumps("changed"))  # (never so in a build: kept files are not written again)
        assert kg.build.kept._loaded(paths[0]) == [0] * 100 and kg.build.kept._loaded(paths[0]) == "changed"
    finally:
        kg.build.kept.forget_ahead()


def test_the_entries_that_make_the_records_an_edit_changed_are_those_a_pass_over_all_finds():
    here = Origin("data/x.csv", 2, "?")
    entries = {(source, kind, key): Entry(kind, key, here, None, False)
               for source in ("imdb", "kmdb") for kind, key in [("movie", "a"), ("person", "lee"), ("movie", "b"),
                                                                ("person", "lee-2"), ("movie", "c"), ("person", "p")]}
    del entries[("kmdb", "movie", "c")]
    # lee-2 is lee, b is c, and c (renamed itself) stays c: the keys renamed to a record wanted make it too
    rename = {("person", "lee-2"): "lee", ("movie", "b"): "c", ("movie", "c"): "c", ("person", "p"): "lee"}
    for wanted in [{("person", "lee")}, {("movie", "c"), ("movie", "a")}, {("movie", "b")}, {("person", "zz")}]:
        making = kg.build.remembered._making(entries, rename, wanted)
        assert grouped({name: entries[name] for name in making}, rename) == grouped(entries, rename, wanted)
        assert making == [name for name in entries if name in set(making)]  # in the entries' order
