"""kg: a linked-data publisher for film knowledge graphs.

Two subpackages hold the one boundary that matters: `kg.build` (everything `kg build` needs) and `kg.serve`
(a published release, read-only). The server imports `kg.serve` and this flat kernel only; the public API is
imported lazily so that it does not load the build chain (rdflib, pyshacl) either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BuildResult", "Config", "InputError", "load_config", "__version__"]

if TYPE_CHECKING:
    from kg.build.pipeline import BuildResult
    from kg.build.sources import InputError
    from kg.config import Config, load_config

_WHERE = {"Config": "kg.config", "load_config": "kg.config", "BuildResult": "kg.build.pipeline",
          "InputError": "kg.build.sources"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(name)
