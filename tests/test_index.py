"""The release's index files: listings, sitemap pages and search answer exactly as the SPARQL queries do."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kg import layout
from kg.build import index as writer
from kg.layout import current
from kg.serve import index, listings, search
from kg.serve.sparql import Dataset, Job, answer
from kg.serve.store import Releases
from server.entities import LISTED


@pytest.fixture(scope="module")
def both(released, tmp_path_factory):
    """The real data's release, and the same release without its index (read the slow way, by SPARQL)."""
    root = tmp_path_factory.mktemp("no-index")
    copy = root / "releases" / "r"
    shutil.copytree(current(released / "var"), copy)
    shutil.rmtree(copy / layout.INDEX_DIR)
    os.symlink("releases/r", root / "current")
    return Releases(released / "var").current(), Releases(root).current()


@pytest.mark.parametrize("kind", LISTED)
@pytest.mark.parametrize(("page", "size"), [(1, 100), (1, 3), (2, 3), (99, 3)])
def test_a_listing_from_the_index_is_the_listing_by_query(both, kind, page, size):
    indexed, queried = both
    assert listings.listing(indexed, kind, page, size) == listings.listing(queried, kind, page, size)


def test_a_whole_name_found_by_bisection_is_what_a_scan_of_the_names_finds(both):
    indexed, _ = both
    path = indexed.path / layout.INDEX_DIR / layout.NAMES_FILE
    lines = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) > 50
    for key in [*(line[0] for line in lines[::7]), lines[0][0], lines[-1][0], "break", "zzz-no-such-name", "a"]:
        scanned = [index.Match(*line[1:]) for line in lines if line[0] == key]
        assert list(index.exact(path, key)) == scanned, key


def test_a_release_with_an_index_of_another_version_is_listed_by_query(both, tmp_path: Path):
    indexed, queried = both
    info = json.loads((indexed.path / layout.INDEX_DIR / "index.json").read_text(encoding="utf-8"))
    assert info["version"] == layout.VERSION
    old = tmp_path / "releases" / "r"
    shutil.copytree(indexed.path, old)
    (old / layout.INDEX_DIR / "index.json").write_text(json.dumps({**info, "version": 1}), encoding="utf-8")
    os.symlink("releases/r", tmp_path / "current")
    assert listings.listing(Releases(tmp_path).current(), "movie") == listings.listing(queried, "movie")


def test_the_index_lists_every_entity_page_as_the_query_does(both):
    indexed, queried = both
    total = listings.page_count(indexed)
    assert total == listings.page_count(queried) > 20
    assert listings.pages(indexed, 0, total) == listings.pages(queried, 0, total)
    assert listings.pages(indexed, 5, 7) == listings.pages(queried, 0, total)[5:12]


@pytest.mark.parametrize("text", ["lee", "Break Away", "탈주", "festival", "so-young", "x"])
def test_a_search_in_the_index_finds_what_the_query_finds(both, text):
    indexed, queried = both
    query = search.search_query(indexed.meta["base_iri"], text)
    rows = json.loads(answer(queried, Job(query, Dataset(), "application/sparql-results+json", None, 0)).body)["results"][
        "bindings"] if query else []
    by_query = search.search_hits(rows, text)
    assert [(h.iri, h.name) for h in search.search(indexed, text)] == [(h.iri, h.name) for h in by_query]
    assert search.search(queried, text) is None  # no index: the server runs the query instead


def test_search_looks_only_at_names_not_at_iris(both):
    indexed, _ = both
    assert search.search(indexed, "films.example.org") == []


def test_pages_of_an_index_file_across_its_seek_points(tmp_path: Path):
    path = tmp_path / "lines.tsv"
    assert writer._write(path, (f"line {n}\tx" for n in range(250))) == 250
    assert [row[0] for row in index.read(path, 95, 10)] == [f"line {n}" for n in range(95, 105)]
    assert [row[0] for row in index.read(path, 200, 100)] == [f"line {n}" for n in range(200, 250)]
    assert index.read(path, 250, 10) == [] and index.read(path, -1, 10) == []


def test_spellings_that_start_with_the_text_are_found_even_after_many_that_contain_it(tmp_path: Path):
    path = tmp_path / "names.tsv"
    lines = [f"a{n:05d} ab\ta{n:05d} Ab\thttps://x.example/{n}\tA{n}\tThing" for n in range(index.MAX_MATCHES + 500)]
    lines += ["ab\tAb\thttps://x.example/exact\tAb\tThing", "abc\tAbc\thttps://x.example/prefix\tAbc\tThing"]
    writer._write(path, sorted(lines))
    found = list(index.search(path, "ab"))
    assert [m.iri for m in found[:2]] == ["https://x.example/exact", "https://x.example/prefix"]
    assert len(found) == index.MAX_MATCHES and len({m.iri for m in found}) == len(found)


def test_the_names_file_is_sorted_by_lower_case_so_every_spelling_that_starts_with_the_text_is_found(tmp_path: Path):
    import pyoxigraph as ox

    base = "https://x.example/"
    editorial = ox.NamedNode(f"{base}source/editorial")
    store = ox.Store()
    spellings = [f"A{n:05d} ab" for n in range(index.MAX_MATCHES + 100)] + ["Ab1", "Ac", "ab2"]
    for n, spelling in enumerate(spellings):
        e = ox.NamedNode(f"{base}thing/{n}")
        store.add(ox.Quad(e, ox.NamedNode("http://schema.org/name"), ox.Literal(spelling), ox.DefaultGraph()))
        store.add(ox.Quad(e, ox.NamedNode("http://schema.org/name"), ox.Literal(spelling), editorial))
    writer.write(writer.store_rows(store, base), tmp_path / "index", base)
    found = {m.spelling for m in index.search(tmp_path / "index" / "names.tsv", "ab")}
    assert {"Ab1", "ab2"} <= found


def _without_index(released: Path, tmp_path: Path):
    """An app serving a copy of the real data's release without its index (a release kg built before it)."""
    from kg.config import load_config
    from server import create_app

    root = tmp_path / "project"
    shutil.copytree(released / "data", root / "data")
    shutil.copytree(released / "shapes", root / "shapes")
    shutil.copytree(current(released / "var"), root / "var" / "releases" / "old")
    shutil.rmtree(root / "var" / "releases" / "old" / layout.INDEX_DIR)
    os.symlink("releases/old", root / "var" / "current")
    return create_app(load_config(root, query_workers=1, cache_mb=0))


def test_a_server_on_a_release_without_an_index_still_lists_maps_and_searches(released, tmp_path: Path):
    app = _without_index(released, tmp_path)
    try:
        client = app.test_client()
        hits = client.get("/search", query_string={"q": "talju"}, headers={"Accept": "application/json"}).json
        people = client.get("/person/").get_data(as_text=True)
        sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    finally:
        app.extensions["kg.executors"].close()
    assert [h["name"] for h in hits["results"]] == ["Break Away"]  # by SPARQL, in an executor
    assert "Leesong Hee-il" in people and "/movie/break-away</loc>" in sitemap


def test_a_search_by_sparql_past_its_deadline_says_when_to_ask_again(released, tmp_path: Path):
    from types import SimpleNamespace

    app = _without_index(released, tmp_path)
    executors = app.extensions["kg.executors"]
    try:  # the scan of every name, answered as an executor answers a query past its deadline
        app.extensions["kg.executors"] = SimpleNamespace(
            run=lambda job: SimpleNamespace(status=503, body=b"The query took longer than 30 s."))
        r = app.test_client().get("/search", query_string={"q": "talju"}, headers={"Accept": "application/json"})
    finally:
        executors.close()
    assert r.status_code == 503 and r.headers["Retry-After"] == "5" and r.json["status"] == 503


def test_serving_a_release_with_an_older_index_says_how_to_speed_it_up(released, tmp_path: Path):
    import requests

    from conftest import LiveServer, free_port

    root = tmp_path / "project"
    shutil.copytree(released / "data", root / "data")
    shutil.copytree(released / "shapes", root / "shapes")
    shutil.copytree(current(released / "var"), root / "var" / "releases" / "old")
    info_file = root / "var" / "releases" / "old" / layout.INDEX_DIR / "index.json"
    info_file.write_text(json.dumps({**json.loads(info_file.read_text(encoding="utf-8")), "version": 1}),
                         encoding="utf-8")
    os.symlink("releases/old", root / "var" / "current")
    server = LiveServer(root, free_port(), {"KG_QUERY_WORKERS": "1"})
    try:
        assert "Leesong Hee-il" in requests.get(server.url + "/person/", timeout=10).text  # listed by SPARQL
    finally:
        server.stop()
    log = (root / f"serve-{server.port}.log").read_text(encoding="utf-8")
    assert "built by an older kg" in log and "`kg build` writes the index files" in log


def test_serving_a_release_with_a_current_index_says_nothing_of_it(live):
    assert "built by an older kg" not in (live.root / f"serve-{live.port}.log").read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "key"), [
    ("Jae-hoon", "jae hoon"), ("Chloé in Paris", "chloe in paris"), ("O'Brien", "obrien"), ("Don’t Breathe", "dont breathe"),
    ("탈주", "탈주"), ("Straße", "strasse"), ("  Mr.  T ", "mr t"), ("Ørsted Ærø", "orsted aero"), ("Łódź", "lodz"),
])
def test_a_search_key_folds_case_accents_and_punctuation(text, key):
    assert layout.fold(text) == key



def _released_with(project, write, run_kg, people: dict[str, str]):
    """The release of the project with these people (key: name) added in an RDF file."""
    write(project, "people.ttl", "@prefix schema: <http://schema.org/> .\n" + "".join(
        f'<https://films.example.org/person/{key}> a schema:Person ; schema:name "{name}" .\n'
        for key, name in people.items()))
    code, output = run_kg(project, "build")
    assert code == 0, output
    return Releases(project / "var").current()


def test_a_letter_keys_fold_is_folded_by_search_too(project, write, run_kg):
    release = _released_with(project, write, run_kg, {"orsted": "Hans Christian Ørsted"})
    found = search.search(release, "orsted")
    assert found is not None
    assert ("https://films.example.org/person/orsted", None) in [(h.iri, h.edits) for h in found]  # not a close one


def test_a_single_letter_that_folds_to_two_is_still_a_whole_name_search(project, write, run_kg):
    release = _released_with(project, write, run_kg, {"ae": "Æ", "min-jae": "Min-jae"})
    found = search.search(release, "Æ")
    assert found is not None and [h.iri for h in found] == ["https://films.example.org/person/ae"]


def test_a_film_whose_year_the_curators_settled_is_filed_under_that_year_alone(project, write, run_kg):
    write(project, "decisions.yaml", "decisions:\n  - prefer movie/break-away production_year from finecut-press-kit\n")
    code, output = run_kg(project, "build")
    assert code == 0, output
    release = Releases(project / "var").current()
    film = "https://films.example.org/movie/break-away"
    assert film in [e for e, _ in listings.listing(release, "movie", size=1000, filters={"year": "2009"}).items]
    assert film not in [e for e, _ in listings.listing(release, "movie", size=1000, filters={"year": "2008"}).items]


def test_an_iri_with_a_comma_and_a_quoted_name_are_indexed_whole(project, write, run_kg):
    """The store's CSV leaves IRIs unquoted: the index once split <movie/a,b> into three fields and the build crashed."""
    write(project, "comma.ttl", """
        @prefix schema: <http://schema.org/> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <https://films.example.org/movie/a,b> a schema:Movie ; schema:name "A, \\"B\\"" ;
            schema:dateCreated "2001"^^xsd:gYear .
        """)
    code, output = run_kg(project, "build")
    assert code == 0, output
    release = Releases(project / "var").current()
    listed = listings.listing(release, "movie", size=1000)
    assert ("https://films.example.org/movie/a,b", 'A, "B"') in listed.items
    assert [h.iri for h in search.search(release, 'a, "b"') or []][:1] == ["https://films.example.org/movie/a,b"]


def _by_sparql(store, base: str) -> dict[str, object]:
    """The index rows as the SPARQL queries the index was first written from answer them on a whole store."""
    from collections import Counter

    editorial, name, alternate = f"<{base}source/editorial>", "<http://schema.org/name>", "<http://schema.org/alternateName>"

    def rows(query: str) -> list[tuple[str, ...]]:
        return [tuple(term.value for term in row) for row in store.query(query)]

    facets = sorted({p for facets in layout.FACETS.values() for ps in facets.values() for p in ps})
    return {
        "named": Counter(rows(f"SELECT ?e ?n WHERE {{ GRAPH {editorial} {{ ?e {name} ?n }} }}")),
        "typed": set(rows("SELECT ?e ?t WHERE { ?e a ?t FILTER(isIRI(?e) && !CONTAINS(STR(?e), '#')) }")),
        "least": dict(rows(f"SELECT ?e (MIN(STR(?n)) AS ?any) WHERE {{ ?e {name} ?n FILTER(isLiteral(?n)) }} "
                           "GROUP BY ?e")),
        "paged": {e for (e,) in rows(f"SELECT DISTINCT ?e WHERE {{ GRAPH {editorial} {{ ?e a ?t }} "
                                     "FILTER(isIRI(?e) && !CONTAINS(STR(?e), '#')) }")},
        "spelt": set(rows(f"SELECT DISTINCT ?n ?e WHERE {{ ?e {name}|{alternate} ?n "
                          "FILTER(isLiteral(?n) && isIRI(?e)) }")),
        "valued": {p: Counter(rows(f"SELECT DISTINCT ?e ?v WHERE {{ ?e <{p}> ?v }}")) for p in facets},
    }


def _as_answered(rows: writer.Rows) -> dict[str, object]:
    from collections import Counter

    return {"named": Counter(rows.named), "typed": rows.typed, "least": rows.least, "paged": rows.paged,
            "spelt": rows.spelt, "valued": {p: Counter(found) for p, found in rows.valued.items()}}


def test_the_index_rows_of_the_real_release_are_what_the_sparql_queries_answer(released):
    import pyoxigraph as ox

    release = current(released / "var")
    base = json.loads((release / "release.json").read_text(encoding="utf-8"))["base_iri"]
    store = ox.Store.read_only(str(release / layout.STORE_DIR))
    expected = _by_sparql(store, base)
    assert _as_answered(writer.store_rows(store, base)) == expected
    assert len(expected["typed"]) > 40 and sum(len(v) for v in expected["valued"].values()) > 10


def test_the_index_rows_of_hard_cases_are_what_the_sparql_queries_answer():
    import pyoxigraph as ox

    base = "https://x.example/"
    editorial, default = ox.NamedNode(f"{base}source/editorial"), ox.DefaultGraph()
    other = ox.NamedNode(f"{base}source/press")
    name, alternate = ox.NamedNode("http://schema.org/name"), ox.NamedNode("http://schema.org/alternateName")
    kind, made = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(
        "http://schema.org/dateCreated")
    film, part, comma = (ox.NamedNode(f"{base}movie/a"), ox.NamedNode(f"{base}movie/a#role-1"),
                         ox.NamedNode(f"{base}movie/b,c"))
    movie = ox.NamedNode("http://schema.org/Movie")
    statements = [
        (film, name, ox.Literal("Talju", language="ko-latn"), [editorial, other]),
        (film, name, ox.Literal("탈주", language="ko"), [editorial]),  # two editorial names
        (film, name, ox.Literal("Break Away"), [other]),
        (film, name, ox.NamedNode(f"{base}not-a-literal"), [other]),
        (film, alternate, ox.Literal("Escape", language="en"), [other]),
        (film, alternate, ox.Literal("Escape", language="fr"), [other]),  # one spelling, two terms
        (film, kind, movie, [editorial, other]),
        (film, made, ox.Literal("2024", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")), [other]),
        (film, made, ox.Literal("2024"), [other]),  # one value, two terms: two facet rows
        (part, kind, ox.NamedNode("http://schema.org/PerformanceRole"), [editorial]),
        (part, name, ox.Literal("Gyu-nam"), [other]),
        (comma, kind, movie, [editorial]),
        (comma, name, ox.Literal("A, B"), [editorial]),
    ]
    store = ox.Store()
    for s, p, o, graphs in statements:
        store.add(ox.Quad(s, p, o, default))
        for g in graphs:
            store.add(ox.Quad(s, p, o, g))
    assert _as_answered(writer.store_rows(store, base)) == _by_sparql(store, base)


def test_an_index_gathered_shard_by_shard_is_the_index_of_the_whole_store(project, run_kg, tmp_path: Path):
    import pyoxigraph as ox

    (project / "kg.toml").write_text("shards = 7\ntask_records = 3\nbuild_workers = 2\n", encoding="utf-8")
    assert run_kg(project, "build", "--full")[0] == 0
    release = current(project / "var")
    base = json.loads((release / "release.json").read_text(encoding="utf-8"))["base_iri"]
    whole = tmp_path / "whole"
    writer.write(writer.store_rows(ox.Store.read_only(str(release / layout.STORE_DIR)), base), whole, base)
    built = sorted(p.relative_to(release / layout.INDEX_DIR) for p in (release / layout.INDEX_DIR).iterdir())
    assert built == sorted(p.relative_to(whole) for p in whole.iterdir()) and len(built) > 10
    for name in built:
        assert (release / layout.INDEX_DIR / name).read_bytes() == (whole / name).read_bytes(), name


HARD_NAMES = ["a", "A", "a\x01", "a\x00b", "a\x00", "ab", "a b", "ä", "Ä", "", "z", "Z", "\x01", "탈주", "Ångström"]


def _hard_rows(names: list[tuple[int, str]], base: str) -> writer.Rows:
    rows = writer.Rows()
    for n, name in names:
        e = f"{base}movie/{n:02d}"
        rows.typed.add((e, "http://schema.org/Movie"))
        rows.paged.add(e)
        if name != "-":  # no name at all: listed first
            rows.least[e] = name
            rows.spelt.add((name or "x", e))
        rows.valued.setdefault("http://schema.org/genre", []).append((e, ["drama", "Drama", "drama\x00"][n % 3]))
    return rows


def test_lines_holding_other_line_breaks_merge_whole(tmp_path: Path):
    texts = ["a\rb", "c\x85d", "e\x0bf", "g\u2028h", "k\x00l", "m"]
    runs = []
    for part in range(2):
        lines = sorted(writer._keyed((text, "x"), text) for text in texts[part::2])
        path = tmp_path / f"{part}.run"
        path.write_bytes(b"".join(lines))
        runs.append((path, writer.Run({"f": (0, len(lines), 2)}, frozenset(), {}, {})))
    merged = list(writer._merged(runs, "f"))
    assert merged == [f"{t}\n".encode() for t in sorted(texts)]


def test_runs_of_entities_apart_merge_into_the_order_of_one_sort_of_them_all(tmp_path: Path):
    base = "https://x.example/"
    names = list(enumerate([*HARD_NAMES, "-", "-"]))
    whole, merged = tmp_path / "whole", tmp_path / "merged"
    writer.write(_hard_rows(names, base), whole, base)
    merged.mkdir()
    runs = []
    for part in range(3):  # each entity's rows in one run, as a shard holds them
        path = tmp_path / f"{part}.run"
        runs.append((path, writer.write_run(_hard_rows(names[part::3], base), path, base)))
    writer.write_runs(runs, merged)
    assert sorted(p.name for p in whole.iterdir()) == sorted(p.name for p in merged.iterdir())
    for path in whole.iterdir():
        assert (merged / path.name).read_bytes() == path.read_bytes(), path.name
    # those without a name first, then by the collated name, the name in lower case and the IRI
    listed = [line.split("\t")[0] for line in (whole / layout.listing_file("movie")).read_text().splitlines()]
    named = {f"{base}movie/{n:02d}": name for n, name in names if name != "-"}
    assert listed == sorted(named | {e: None for e in listed if e not in named},
                            key=lambda e: (e in named, layout.collated(named.get(e, "")), named.get(e, "").lower(), e))


def test_a_listing_puts_numbers_in_order_and_accented_letters_beside_plain_ones(tmp_path: Path):
    base = "https://x.example/"
    shuffled = ["Zoe", "Character 10", "émile", "Character 2", "괴물", "Emile", "Character 1", "Ørsted", "Ozu"]
    writer.write(_hard_rows(list(enumerate(shuffled)), base), tmp_path / "index", base)
    lines = (tmp_path / "index" / layout.listing_file("movie")).read_text().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["Character 1", "Character 2", "Character 10", "Emile", "émile",
                                                       "Ørsted", "Ozu", "Zoe", "괴물"]
