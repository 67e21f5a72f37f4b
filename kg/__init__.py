"""kg: a linked-data publisher for film knowledge graphs.

The public API, imported lazily so that the server does not load the build chain (rdflib, pyshacl).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BuildResult", "Config", "InputError", "build", "load_config", "__version__"]

if TYPE_CHECKING:
    from .config import Config, load_config
    from .release import BuildResult, build
    from .sources import InputError

_WHERE = {"Config": "config", "load_config": "config", "BuildResult": "release", "build": "release",
          "InputError": "sources"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
