"""Search forgives a typo: when no name contains the text, names a few edits from it, closest first."""

from __future__ import annotations

import shutil
import textwrap
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from kg.build.index import _write_terms
from kg.layout import typos
from kg.serve.index import edits, similar

LOOKALIKES = """
sources:
  catalogue: {name: A film catalogue}
people:
  park-chan-wook: {name: Park Chan-wook}
  park-chan-hong: {name: Park Chan-hong}
  bong-joon-ho: {name: Bong Joon-ho}
  hirokazu-kore-eda: {name: Hirokazu Kore-eda}
  hirokazu-koreeda: {name: Hirokazu Koreeda}
  kore-eda-hirokazu: {name: Kore-eda Hirokazu}
movies:
  casablanca:
    name: Casablanca
    claims:
      catalogue: {name: Casablanca, director: [park-chan-wook]}
  casablanca-express:
    name: Casablanca Express
    claims:
      catalogue: {name: Casablanca Express, director: [park-chan-hong]}
  cassandra:
    name: Cassandra
    claims:
      catalogue: {name: Cassandra}
  casa-blanca:
    name: Casa Blanca
    claims:
      catalogue: {name: Casa Blanca}
  m:
    name: M
    claims:
      catalogue: {name: M}
  poetry:
    name: Poetry
    alternate_name: [{text: 시, lang: ko}]
    claims:
      catalogue: {name: Poetry}
  lucky-chan-sil:
    name: Lucky Chan-sil
    alternate_name: [{text: 찬실이는 복도 많지, lang: ko}]
    claims:
      catalogue: {name: Lucky Chan-sil}
"""


@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory):
    """A released project of names that look alike, served in-process (built once: every test only reads it)."""
    from kg.build.pipeline import build
    from kg.config import load_config
    from server import create_app

    root = tmp_path_factory.mktemp("lookalikes")
    shutil.copytree(REPO / "shapes", root / "shapes")
    (root / "data").mkdir()
    (root / "data" / "films.yaml").write_text(textwrap.dedent(LOOKALIKES).lstrip(), encoding="utf-8")
    assert build(load_config(root)).release_dir is not None
    return create_app(load_config(root)).test_client()


def _found(client, text: str) -> dict[str, Any]:
    r = client.get("/search", query_string={"q": text, "format": "json"})
    assert r.status_code == 200
    return r.json


def _names(client, text: str) -> list[str]:
    return [hit["name"] for hit in _found(client, text)["results"]]


def test_a_wrong_letter_finds_the_film(lookalikes):
    assert _names(lookalikes, "casablanka")[0] == "Casablanca"


def test_two_letters_swapped_find_the_film(lookalikes):
    assert _names(lookalikes, "cassnadra") == ["Cassandra"]


def test_a_missing_letter_finds_the_film(lookalikes):
    assert _names(lookalikes, "casblanca")[0] == "Casablanca"


def test_close_spellings_come_closest_first(lookalikes):
    # one edit from Casablanca (in both films' names), two from Casa Blanca: the letter and the space
    assert _names(lookalikes, "casablanka") == ["Casablanca", "Casablanca Express", "Casa Blanca"]


def test_a_typo_does_not_find_names_that_only_look_alike(lookalikes):
    assert "Cassandra" not in _names(lookalikes, "casablanka")


def test_a_correct_text_finds_only_the_names_containing_it_exact_first(lookalikes):
    found = _found(lookalikes, "casablanca")  # Casa Blanca is close, but not added to what contains the text
    assert [hit["name"] for hit in found["results"]] == ["Casablanca", "Casablanca Express"]
    assert found["approximate"] is False


def test_three_letters_are_too_few_to_guess_a_typo_from(lookalikes):
    assert _found(lookalikes, "csa")["results"] == []  # one edit from "casa", yet nothing found


def test_each_word_of_the_text_is_matched_with_a_word_of_the_name(lookalikes):
    assert _names(lookalikes, "parc chan-wook") == ["Park Chan-wook"]  # not Park Chan-hong: wook is not hong


def test_a_year_typed_after_a_misspelt_title_need_not_be_in_the_name(lookalikes):
    assert _names(lookalikes, "casablanka 1942")[0] == "Casablanca"


def test_a_name_is_found_with_a_space_typed_in_it(lookalikes):
    assert _names(lookalikes, "cassan dra") == ["Cassandra"]


@pytest.mark.parametrize("text", ["찬실이는복도많지", "찬실이는 복도 많지", "찬실이는 복도많지", "복도 많지", "복도많지",
                                  "찬실 이는"])
def test_a_korean_name_is_found_however_its_words_are_spaced(lookalikes, text):
    assert _names(lookalikes, text) == ["Lucky Chan-sil"]


@pytest.mark.parametrize("text", ["koreeda", "kore-eda", "Kore-Eda", "KOREEDA"])
def test_punctuation_in_a_word_is_no_word_break_either_way(lookalikes, text):
    assert sorted(_names(lookalikes, text)) == ["Hirokazu Kore-eda", "Hirokazu Koreeda", "Kore-eda Hirokazu"]
    assert _found(lookalikes, text)["approximate"] is False  # contained, not guessed from a typo


def test_a_name_is_found_without_its_hyphen(lookalikes):
    assert _names(lookalikes, "joonho") == ["Bong Joon-ho"]


def test_the_json_answer_says_the_hits_are_approximate(lookalikes):
    assert _found(lookalikes, "casablanka")["approximate"] is True


def test_the_search_page_says_the_hits_are_close_spellings(lookalikes):
    html = lookalikes.get("/search", query_string={"q": "casablanka"},
                          headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "No exact match for <q>casablanka</q>; showing close spellings" in html


def test_a_swap_counts_as_one_edit():
    assert (edits("cassnadra", "cassandra", 2), edits("abcd", "badc", 2), edits("abcdef", "uvwxyz", 2)) == (1, 2, 3)


def _typos_of(word: str) -> set[str]:
    """Every string one edit from `word`, and a few two edits away."""
    letters = "aexz"
    once = ({word[:i] + word[i + 1:] for i in range(len(word))}
            | {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
            | {word[:i] + c + word[i + 1:] for i in range(len(word)) for c in letters}
            | {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)})
    return once | {w[:i] + "x" + w[i:] for w in sorted(once)[::7] for i in range(len(w) + 1)}


def test_the_index_finds_every_term_as_close_as_comparing_each_would(tmp_path: Path):
    # the index cuts terms to 7 letters: the hard case is an 8-letter word two edits from a 7-letter term (lantern)
    keys = ["lantern", "abcdefgh", "abcdefghijk", "bcdefg", "casa blanca", "cassandra", "park chan wook", "wok"]
    _write_terms(tmp_path, keys, accumulate((len(k) + 1 for k in keys), initial=0))
    terms = {line.split("\t")[0] for line in (tmp_path / "terms.tsv").read_text(encoding="utf-8").splitlines()}
    words = {t for term in ("lantern", "abcdefgh", "casablanca", "cassandra", "chan") for t in _typos_of(term)}
    for word in sorted(w for w in words | {"lxntersn", "xylantern"} if typos(len(w))):
        most = typos(len(word))
        assert {t.text for t in similar(tmp_path, word)} == {t for t in terms if edits(word, t, most) <= most}, word


@pytest.mark.parametrize(("text", "names"), [("M", ["M"]), ("m", ["M"]), (" ", [])])
def test_a_single_letter_finds_the_names_that_are_it_and_no_others(lookalikes, text, names):
    # "m" is in Cassandra, Park Chan-wook, ...: a letter alone finds whole names, as a title of one letter needs
    assert _names(lookalikes, text) == names


def test_the_search_page_takes_a_single_letter(lookalikes):
    page = lookalikes.get("/search", query_string={"q": "M"}, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "1 entity with a name or spelling that is <q>M</q>" in page and 'minlength="' not in page


def test_one_hangul_syllable_is_a_search_of_its_own(client):
    # a syllable holds about as much as two letters: 탈 finds 탈주 (Break Away), as 'br' finds it
    found = client.get("/search", query_string={"q": "탈", "format": "suggest"}).get_json()
    assert "Break Away" in found[1] or "탈주" in found[1]
