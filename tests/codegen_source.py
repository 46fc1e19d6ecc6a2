"""Reading generated group modules in tests: what a method declares for the sync Client."""

from __future__ import annotations

import ast


def declared_return(source: str, method: str) -> str:
    """The return annotation of ``method``'s first ``@overload`` (the Client's) in a group module's text."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == method and node.returns is not None and any(
                isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list):
            return ast.unparse(node.returns)
    raise AssertionError(f"no @overload of {method} in the module")
