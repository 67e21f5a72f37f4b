"""Keys from names: readable where the name is in Latin script, distinct and stable where it is not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg.ids import is_key, slugify


@pytest.mark.parametrize(("text", "key"), [
    ("Rogue One (2016)", "rogue-one-2016"),
    ("Amélie", "amelie"),
    ("Straße", "strasse"),
    ("Søren Kierkegaard", "soren-kierkegaard"),
    ("Łódź", "lodz"),
    ("Hawaiʻi", "hawaii"),
    ("괴물", "xn-hd0b39x"),
    ("Крылья", "xn-j1aco8bgs"),
    ("Mr. 괴물", "xn-mr-eq4pq78d"),
])
def test_a_name_becomes_a_key(text, key):
    assert slugify(text) == key


def test_names_in_another_script_do_not_collide():
    keys = {slugify(t) for t in ("괴물", "살인의 추억", "탈주", "東京物語", "Крылья", "Mr. 괴물", "Mr.")}
    assert len(keys) == 7


@given(st.text(max_size=40))
def test_a_key_is_always_valid_or_empty(text):
    key = slugify(text)
    assert key == "" or is_key(key)


def test_a_key_made_from_a_very_long_name_stays_short_and_tells_long_names_apart():
    from kg.ids import MAX_SLUG, slugify

    a, b = slugify("y" * 100_000), slugify("y" * 99_999 + "z")
    assert len(a) <= MAX_SLUG and len(b) <= MAX_SLUG and a != b and is_key(a) and is_key(b)
    assert slugify("Rogue One (2016)") == "rogue-one-2016"  # short names as before
