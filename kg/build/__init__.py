"""Everything `kg build` needs: reading sources, mapping, validation, dumps, the store, publishing.

`kg.build.build(config)` runs a build; the server never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["BuildResult", "build"]

if TYPE_CHECKING:
    from kg.build.pipeline import BuildResult, build


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kg.build import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
