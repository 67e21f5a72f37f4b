"""The data format documentation covers every field a curator can write."""

from __future__ import annotations

from conftest import REPO
from kg.model import KINDS


def test_every_field_is_documented():
    text = (REPO / "data" / "README.md").read_text()
    missing = [f"{k.section}.{f.name}" for k in KINDS.values() for f in k.fields if f"| `{f.name}` |" not in text]
    assert missing == []


def test_every_project_term_is_documented():
    from kg.vocab import TERMS

    text = (REPO / "docs" / "vocabulary.md").read_text()
    assert [t.name for t in TERMS if f"`kgv:{t.name}`" not in text] == []


def _block_after(path, heading: str, lang: str) -> str:
    text = (REPO / path).read_text(encoding="utf-8")
    after = text[text.index(heading):]
    start = after.index(f"```{lang}\n") + len(f"```{lang}\n")
    return after[start:after.index("```", start)]


def test_the_complete_example_of_the_data_format_builds(empty_project, run_kg):
    (empty_project / "data" / "example.yaml").write_text(_block_after("data/README.md", "## A complete example",
                                                                      "yaml"), encoding="utf-8")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    code, output = run_kg(empty_project, "query", "SELECT ?n WHERE { <movie/break-away> "
                                                  "<http://schema.org/director>/<http://schema.org/name> ?n }")
    assert code == 0 and "Leesong Hee-il" in output


def test_the_review_example_builds_with_its_review(empty_project, run_kg):
    (empty_project / "data" / "review.yaml").write_text(_block_after("data/README.md", "### A review", "yaml"),
                                                        encoding="utf-8")
    code, output = run_kg(empty_project, "build")
    assert code == 0, output
    code, output = run_kg(empty_project, "query", "SELECT ?r WHERE { <movie/break-away> "
                                                  "<http://schema.org/review> ?r }")
    assert code == 0 and "source/variety-review" in output


def test_the_documented_query_for_preferred_values_leaves_the_others_out(empty_project, run_kg):
    (empty_project / "data" / "films.yaml").write_text(
        "sources: {a: {name: A}, b: {name: B}}\nmovies:\n  lucky:\n    name: Lucky\n    claims:\n"
        "      a: {name: Lucky, production_year: 1999}\n      b: {name: Lucky, production_year: 2000}\n"
        "decisions: [prefer movie/lucky production_year from b]\n", encoding="utf-8")
    assert run_kg(empty_project, "build")[0] == 0
    query = _block_after("data/README.md", "(the endpoint declares `schema:`", "sparql")
    code, output = run_kg(empty_project, "query", query)
    assert code == 0 and '"2000"' in output and '"1999"' not in output, output
