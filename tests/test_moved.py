"""What became of the previous release's IRIs: redirected when merged or renamed, gone (410) when they vanished."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.build import moved
from kg.build.decisions import Merge
from kg.ids import Minter
from kg.layout import INDEX_DIR, MOVED_FILE, PAGES_FILE, listing_file
from kg.model import Origin

BASE = "https://films.example/"


def _release(root: Path, name: str, pages: list[str], moved_before: dict[str, object] | None = None) -> Path:
    release = root / name
    (release / INDEX_DIR).mkdir(parents=True)
    (release / INDEX_DIR / PAGES_FILE).write_text("".join(f"{iri}\n" for iri in pages), encoding="utf-8")
    if moved_before is not None:
        (release / MOVED_FILE).write_text(json.dumps(moved_before), encoding="utf-8")
    return release


def test_iris_that_vanish_are_gone_and_those_merged_redirect(tmp_path):
    before = _release(tmp_path, "before", [f"{BASE}movie/탈주", f"{BASE}movie/oldboy", f"{BASE}person/lee",
                                           "https://elsewhere.example/x"],
                      {"redirects": {f"{BASE}movie/escape": f"{BASE}movie/탈주"}, "gone": [f"{BASE}person/kim"],
                       "gone_names": {f"{BASE}person/kim": "Kim"}})
    (before / INDEX_DIR / listing_file("movie")).write_text(f"{BASE}movie/oldboy\tOldboy\n{BASE}movie/탈주\t탈주\n",
                                                            encoding="utf-8")
    now = _release(tmp_path, "now", [f"{BASE}movie/oldboy", f"{BASE}person/lee-jong-suk"])
    merge = Merge(("person", "lee"), ("person", "lee-jong-suk"), Origin("data/a.yaml", 3, "lee"), "merge")
    vanished, gone = moved.write(now, before, [merge], Minter(BASE))
    # 탈주 and the redirect to it vanish; lee redirects; the other site's IRI is not ours to call gone
    assert vanished == [f"{BASE}movie/escape", f"{BASE}movie/탈주"]
    assert gone == [f"{BASE}movie/escape", f"{BASE}movie/탈주", f"{BASE}person/kim"]
    written = json.loads((now / MOVED_FILE).read_text(encoding="utf-8"))
    assert written == {"redirects": {f"{BASE}person/lee": f"{BASE}person/lee-jong-suk"}, "gone": gone,
                       "gone_names": {f"{BASE}movie/탈주": "탈주", f"{BASE}person/kim": "Kim"}}  # (by their listings)


def test_an_iri_gone_before_that_an_entity_has_again_is_not_gone(tmp_path):
    before = _release(tmp_path, "before", [f"{BASE}movie/a"], {"redirects": {}, "gone": [f"{BASE}movie/탈주"]})
    now = _release(tmp_path, "now", [f"{BASE}movie/a", f"{BASE}movie/탈주"])
    assert moved.write(now, before, [], Minter(BASE)) == ([], [])


def test_a_first_release_has_nothing_gone(tmp_path):
    now = _release(tmp_path, "now", [f"{BASE}movie/a"])
    assert moved.write(now, None, [], Minter(BASE)) == ([], [])


@pytest.mark.parametrize("gone_before", [1, moved._Paged.FEW + 5])  # looked up in the file's bytes; in a set
def test_pages_as_before_leave_only_what_was_redirected_or_gone_to_decide(tmp_path, gone_before):
    pages = [f"{BASE}movie/a", f"{BASE}movie/ab", f"{BASE}person/b"]
    old_gone = [f"{BASE}movie/g{n}" for n in range(gone_before)]
    # `movie/a` redirected before and has a page now (not gone); `movie/x` redirected and vanished; a gone IRI
    # that is the start of one that has a page (`movie/a` of `movie/ab`) is still told apart
    before = _release(tmp_path, "before", pages, {"redirects": {f"{BASE}movie/x": f"{BASE}movie/a",
                                                                f"{BASE}movie/a": f"{BASE}movie/ab"},
                                                  "gone": [*old_gone, f"{BASE}person/b"]})
    now = _release(tmp_path, "now", pages)
    vanished, gone = moved.write(now, before, [], Minter(BASE))
    assert vanished == [f"{BASE}movie/x"]
    assert gone == sorted([*old_gone, f"{BASE}movie/x"])
