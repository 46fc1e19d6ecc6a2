"""Code generation: an OpenAPI 3 document becomes a small, typed package built on myclient.

``python -m myclient.codegen SPEC --package NAME --out DIR`` (or ``generate(...)``/``write(...)``) writes
``NAME/__init__.py`` (a ``myclient.Client`` subclass with one group per tag), ``NAME/models.py`` (the data
types, as TypedDicts), one module per tag with its ``myclient.ApiGroup`` subclass, and ``py.typed``. The
generated code imports only myclient and the standard library; ``myclient.codegen.runtime`` is what it calls.
This package's ``__init__`` stays light: generated code imports ``runtime`` without loading the generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._generate import generate, write

__all__ = ["generate", "write"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import _generate

        return getattr(_generate, name)
    raise AttributeError(f"module 'myclient.codegen' has no attribute {name!r}")
