"""The one boundary of the layout: the server imports `kg.serve` and the flat kernel, never the build chain."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD_ONLY = ("rdflib", "pyshacl", "yaml", "kg.build")
SERVED = sorted(["server", *(f"server.{p.stem}" for p in (REPO / "server").glob("*.py") if p.stem != "__init__"),
                 "kg.serve", *(f"kg.serve.{p.stem}" for p in (REPO / "kg" / "serve").glob("*.py")
                               if p.stem != "__init__")])


def _loaded_after(statement: str) -> set[str]:
    probe = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def _build_only(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in BUILD_ONLY))


def test_importing_every_server_module_loads_nothing_of_the_build():
    assert _build_only(_loaded_after("\n".join(f"import {m}" for m in SERVED))) == []


def test_the_app_a_worker_runs_loads_nothing_of_the_build(released):
    statement = (f"from pathlib import Path\nfrom kg.config import load_config\nfrom server import create_app\n"
                 f"app = create_app(load_config(Path({str(released)!r}), query_workers=1))\n"
                 "c = app.test_client()\n"
                 "for path in ('/', '/movie/break-away', '/sparql?query=ASK%7B%7D', '/search?q=lee', '/download/kg.ttl'):\n"
                 "    assert c.get(path).status_code == 200, path\n"
                 "app.extensions['kg.executors'].close()")
    assert _build_only(_loaded_after(statement)) == []


@pytest.mark.parametrize("path", [p for d in ("server", "kg/serve") for p in sorted((REPO / d).glob("*.py"))],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_server_module_names_the_build_chain(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    named = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    named |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert _build_only(named) == []


def test_the_probe_sees_the_build_chain_when_it_is_loaded():
    # (pyshacl is imported when shapes are judged, not with the pipeline)
    loaded = _loaded_after("from pathlib import Path\nimport kg.build.pipeline\nfrom kg.build.validate import load_shapes\n"
                           "load_shapes(Path('shapes'))")
    assert {"rdflib", "pyshacl", "yaml", "kg.build"} <= set(_build_only(loaded))
