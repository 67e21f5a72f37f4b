"""A row read again unchanged is replayed from its tape: the same entries and notes as reading it afresh."""

from __future__ import annotations

import json
import pickle
import random
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from test_bulk import NESTED_FIELDS, mapping

import kg.build.bulk
from kg.build.bulk import Entries, Tapes, read_entries
from kg.build.bulkspec import Identity, Mapping, load_mapping
from kg.build.notes import Note
from kg.build.sources import PARSERS, _parse_source, read_yaml
from kg.model import CastEntry, CrewEntry, LangText, Money

# rows that drive every rule whose outcome depends on the rows before: a title again (kept apart, numbered), a film
# a year apart, a row said twice, a group credited, a name that lost a letter, values that do not parse
HEADER = "title,year,page,minutes,genres,director,director_id,cast\n"
ROWS = [
    "Carmen,1915,Carmen_(DeMille),59,drama|romance,Cecil B. DeMille,nm0001124,Geraldine Farrar|Wallace Reid",
    "Carmen,1915,Carmen_(Walsh),,drama,Raoul Walsh,,Theda Bara",
    "On the Jump,1918,On_the_Jump,52,comedy,Raoul Walsh,,Ann Lee|Bo Kim",
    "On the Jump,1918,On_the_Jump_(Fox),,comedy,,,Ann Lee",
    "Hard Eight,1996,Hard_Eight,102,crime,Paul Thomas Anderson,nm0000759,Philip Baker Hall",
    "Hard Eight,1997,Hard_Eight,,crime,,,John C. Reilly|Simon & Garfunkel",
    "Night River,2001,Night_River,not a number,war,F_lix Cl_ment,,Félix Clément|Ann Lee",
    "Night River,2001,Night_River,not a number,war,F_lix Cl_ment,,Félix Clément|Ann Lee",
    "Blue City,2003,,-5,,Unknown,,N/A|Bo Kim",
    "Dusk,2003,Dusk_(film),88,drama|war|drama,Cy Park,,Di Moon|Ann Lee|Di Moon",
]
MAPPING = """\
    source: {key: films, name: The films list, type: CreativeWork}
    files: films.csv
    record: movie
    key: {distinct: page}
    fields:
      name: title
      production_year: year
      running_time: minutes
      genre: {column: genres, split: "|"}
      director: {name: director, id: director_id}
      actor: {name: {column: cast, split: "|"}}
    """
NESTED = [
    {"id": "tt0000001", "title": {"en": "Night River", "ko": "밤의 강"}, "year": 2001, "genres": [{"name": "War"}, 7],
     "credits": {"cast": [{"name": "Ann Lee", "imdb": "nm0000001", "character": "Mia", "order": 1},
                          {"name": "Bo Kim", "character": "Joon"}],
                 "crew": [{"name": "Cy Park", "job": "Directed by"}, {"name": "Di Moon", "job": "Editing"}, "x"]}},
    {"id": "tt0000002", "title": {"en": "Blue City"}, "year": "20x3",
     "credits": {"cast": [{"name": "Bo Kim", "order": "first"}], "crew": [{"name": "Cy Park"}]}},
]
NESTED_MAPPING = mapping("films.json", NESTED_FIELDS + "production_year: year\n", "id: id", source="api")


def _mapping(root: Path, name: str, text: str) -> Mapping:
    path = root / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_mapping(path, name, read_yaml, lambda key, raw, shown: _parse_source(key, raw, shown, []), (root,))


def _state(entries: Entries) -> list[tuple[object, ...]]:
    """All an entry holds, in order: what the read that follows a row depends on, and what it gives."""
    return [(k, e.origin, e.label, e.strong, list(e.values.values()), e.rows, e.billed) for k, e in entries.items()]


def _read(mapping: Mapping, tapes: Tapes | None) -> tuple[list[tuple[object, ...]], list[Note]]:
    notes: list[Note] = []
    return _state(read_entries([mapping], PARSERS, notes, tapes)), notes


def _edited(rows: list[str], rng: random.Random) -> list[str]:
    """The rows after one edit a curator makes: a cell changed, a row added, removed, repeated or moved."""
    rows = list(rows)
    at = rng.randrange(len(rows))
    what = rng.choice(["cell", "add", "remove", "repeat", "move"])
    if what == "cell":
        cells = rows[at].split(",")
        column = rng.randrange(len(cells))
        cells[column] = rng.choice(["", "Carmen", "1916", "1997", "Hard_Eight", "Raoul Walsh", "Ann Lee|Bo Kim",
                                    "Simon & Garfunkel", "F_lix Cl_ment", "nm0000759", "77", "Carmen_(Walsh)"])
        rows[at] = ",".join(cells)
    elif what == "add":
        rows.insert(at, rng.choice(ROWS).replace("Night", "Day"))
    elif what == "remove" and len(rows) > 1:
        del rows[at]
    elif what == "repeat":
        rows.insert(rng.randrange(len(rows) + 1), rows[at])
    else:
        rows.insert(rng.randrange(len(rows)), rows.pop(at))
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_edited_rows_read_with_the_tapes_of_the_last_read_give_what_a_fresh_read_gives(tmp_path, seed):
    rng = random.Random(seed)
    rows = list(ROWS)
    (tmp_path / "films.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", MAPPING)
    tapes = Tapes()
    first = _read(mapping, tapes)
    assert first == _read(mapping, None)
    replayed = 0
    for _ in range(6):
        rows = _edited(rows, rng)
        (tmp_path / "films.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        again = Tapes(tapes.now)
        assert _read(mapping, again) == _read(mapping, None)
        replayed += sum(1 for d, tape in again.now.items() if tapes.now.get(d) is tape)
        tapes = again
    assert replayed > 0  # the edits left rows to replay


def test_items_lists_and_values_that_do_not_parse_are_replayed_alike(tmp_path):
    (tmp_path / "films.json").write_text(json.dumps(NESTED, ensure_ascii=False), encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", NESTED_MAPPING)
    tapes = Tapes()
    fresh = _read(mapping, tapes)
    assert any("not a number" in n.message or "year" in n.message for n in fresh[1])  # the read made notes
    again = Tapes(tapes.now)
    assert _read(mapping, again) == fresh
    assert all(tapes.now[d] is tape for d, tape in again.now.items())  # every row replayed


def test_a_row_replayed_is_not_keyed_again(tmp_path, monkeypatch):
    (tmp_path / "films.csv").write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", MAPPING)
    tapes = Tapes()
    _read(mapping, tapes)
    keyed: list[object] = []
    real = Identity.keys
    monkeypatch.setattr(Identity, "keys", lambda self, row, *a, **k: keyed.append(row) or real(self, row, *a, **k))
    edited = [*ROWS[:4], ROWS[4].replace("102", "103"), *ROWS[5:]]
    (tmp_path / "films.csv").write_text(HEADER + "\n".join(edited) + "\n", encoding="utf-8")
    _read(mapping, Tapes(tapes.now))
    assert [row["minutes"] for row in keyed] == ["103"] * 3  # the film, its director and its actor: that row alone


def test_the_same_cells_under_other_columns_are_not_replayed(tmp_path):
    (tmp_path / "films.csv").write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", MAPPING)
    tapes = Tapes()
    _read(mapping, tapes)
    swapped = HEADER.replace("director,director_id", "director_id,director")  # the same cells, read otherwise
    (tmp_path / "films.csv").write_text(swapped + "\n".join(ROWS) + "\n", encoding="utf-8")
    again = Tapes(tapes.now)
    assert _read(mapping, again) == _read(mapping, None)
    assert not any(tapes.now.get(d) is tape for d, tape in again.now.items())


def test_a_tape_that_does_not_answer_its_replay_is_read_afresh(tmp_path, monkeypatch):
    (tmp_path / "films.csv").write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", MAPPING)
    tapes = Tapes()
    fresh = _read(mapping, tapes)
    short = {d: tape[:1] for d, tape in tapes.now.items()}  # (never written so: a damaged tape)
    long = {d: [*tape, tape[0]] for d, tape in tapes.now.items()}
    readers: list[object] = []
    real = kg.build.bulk._Reader.__init__
    monkeypatch.setattr(kg.build.bulk._Reader, "__init__", lambda self, *a: readers.append(a) or real(self, *a))
    assert _read(mapping, Tapes(short)) == fresh
    assert _read(mapping, Tapes(long)) == fresh
    assert len(readers) == 4  # each read begun again, without tapes


class _Out:
    """What a read's tapes give (a `TapesOut`), held."""

    def __init__(self) -> None:
        self.batches: list[dict[bytes, object]] = []
        self.closed: tuple[object, ...] | None = None

    def batch(self, tapes):
        self.batches.append(dict(tapes))

    def close(self, adds_to, new):
        self.closed = (adds_to, dict(new) if new is not None else None)

    def restart(self):
        self.batches = []


def _give(tapes: Tapes, rows: range) -> None:
    for n in rows:
        tapes.add(b"%d" % n, [(n, ())])
    tapes.close()


def test_tapes_without_a_file_to_add_to_are_given_all_a_batch_at_a_time(monkeypatch):
    monkeypatch.setattr(kg.build.bulk, "_BATCH", 3)
    out = _Out()
    _give(Tapes(None, out), range(8))
    assert [len(b) for b in out.batches] == [3, 3, 2] and out.closed == (None, None)
    assert {d for b in out.batches for d in b} == {b"%d" % n for n in range(8)}


def test_a_few_new_tapes_are_given_as_adding_to_the_file_of_them_all():
    out = _Out()
    before = {b"%d" % n: [(n, ())] for n in range(20)}
    _give(Tapes(before, out, set(before), "tapes-a.pickle"), range(2, 22))  # two rows new, two gone
    assert out.batches == [] and out.closed == ("tapes-a.pickle", {b"20": [(20, ())], b"21": [(21, ())]})


def test_many_new_tapes_are_given_all_again():
    out = _Out()
    before = {b"%d" % n: [(n, ())] for n in range(20)}
    _give(Tapes(before, out, set(before), "tapes-a.pickle"), range(14, 34))
    assert out.closed == (None, None)
    assert [d for b in out.batches for d in b] == [b"%d" % n for n in range(14, 34)]  # in the rows' order


def test_a_read_begun_again_gives_all_its_tapes():
    out = _Out()
    before = {b"%d" % n: [(n, ())] for n in range(20)}
    tapes = Tapes(before, out, set(before), "tapes-a.pickle")
    tapes.add(b"0", before[b"0"])
    tapes.restart()  # a tape did not answer: the read begins again without tapes, and keeps none of theirs
    _give(tapes, range(3))
    assert tapes.before == {} and out.closed == (None, None) and len(out.batches) == 1


def test_rows_whose_cells_join_alike_are_not_replayed_for_one_another(tmp_path):
    row = ",p,90,drama,Cy Park,,Ann Lee\n"
    (tmp_path / "films.csv").write_text(HEADER + "Film One\x1fTwo,2001" + row, encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", MAPPING)
    tapes = Tapes()
    _read(mapping, tapes)
    (tmp_path / "films.csv").write_text(HEADER + "Film One,Two\x1f2001" + row, encoding="utf-8")  # a cell's end moved
    assert _read(mapping, Tapes(tapes.now)) == _read(mapping, None)


def test_json_objects_whose_keys_come_in_another_order_are_not_replayed_for_one_another(tmp_path):
    films = [{"id": "tt0000001", "title": {"en": "Night River", "ko": "밤의 강"}, "year": 2001, "genres": [], "credits": {}}]
    (tmp_path / "films.json").write_text(json.dumps(films, ensure_ascii=False), encoding="utf-8")
    mapping = _mapping(tmp_path, "films.mapping.yaml", NESTED_MAPPING.replace("title.en", "title"))
    tapes = Tapes()
    _read(mapping, tapes)
    films[0]["title"] = {"ko": "밤의 강", "en": "Night River"}  # the title written as the object's text
    (tmp_path / "films.json").write_text(json.dumps(films, ensure_ascii=False), encoding="utf-8")
    assert _read(mapping, Tapes(tapes.now)) == _read(mapping, None)


@pytest.mark.parametrize("value", [
    LangText("탈주", "ko"), LangText("Break Away"), Money(Decimal("1250000.50"), "KRW"),
    CastEntry("lee-je-hoon", "gyu-nam", LangText("Gyu-nam", "en"), 1, "Leading"), CastEntry("koo-kyo-hwan", None, None),
    CrewEntry("lee-jong-pil", "Sound")], ids=repr)
def test_a_taped_value_pickles_back_as_it_was(value: object):
    again = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == value and type(again) is type(value)


def test_a_rows_digest_depends_on_its_values_not_on_which_of_them_are_one_object():
    shared = "".join(["Ann ", "Lee"])
    alike = {"cast": shared, "crew": shared}
    apart = {"cast": "".join(["Ann ", "Le", "e"]), "crew": "".join(["Ann", " Lee"])}
    assert kg.build.bulk._exact(alike) == kg.build.bulk._exact(apart)


@pytest.mark.parametrize("other", [{"year": "2001"}, {"year": 2001.0}, {"year": True}, {"year": [2001]}], ids=repr)
def test_json_cells_of_other_types_digest_apart(other):
    assert kg.build.bulk._exact({"year": 2001}) != kg.build.bulk._exact(other)
