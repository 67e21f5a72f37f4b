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
