"""Shared fixtures: a throw-away project (data/ + shapes/ + var/) and helpers to build it."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.config import Config, load_config
from kg.ids import Minter

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BASE = "https://films.example.org/"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project data and shapes in a temporary directory."""
    shutil.copytree(REPO / "data", tmp_path / "data")
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    return tmp_path


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    """A project with the real shapes and an empty data/ directory."""
    (tmp_path / "data").mkdir()
    shutil.copytree(REPO / "shapes", tmp_path / "shapes")
    return tmp_path


@pytest.fixture
def config(project: Path) -> Config:
    return load_config(project)


@pytest.fixture
def minter() -> Minter:
    return Minter(BASE)


@pytest.fixture
def write() -> Callable[[Path, str, str], Path]:
    """Write a dedented YAML file into a project's data/ directory."""

    def _write(root: Path, name: str, text: str) -> Path:
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def run_kg() -> Callable[..., tuple[int, str]]:
    """Run the kg CLI in-process; return (exit code, combined output)."""

    def _run(root: Path, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--root", str(root), *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return _run


def nquads(quads: list[ox.Quad]) -> set[str]:
    """Quads as a set of N-Quads lines: with no blank nodes, set equality is graph isomorphism."""
    return {str(q) for q in quads}


def parse_nquads(text: str) -> set[str]:
    """Expected quads written by hand as TriG, as N-Quads lines."""
    return {str(q) for q in ox.parse(text, format=ox.RdfFormat.TRIG)}
