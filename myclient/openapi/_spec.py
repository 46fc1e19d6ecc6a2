"""Reading an OpenAPI 3 document (a path, a URL-less dict, or JSON/YAML text) and resolving its ``$ref``s.

Only local references (``#/components/...``, and JSON pointers anywhere in the document) are
followed; they are resolved on use, so recursive schemas cost nothing until a consumer walks them,
and a cycle is reported to the consumer (``Refs.resolve`` follows chains of refs, never loops).
YAML needs PyYAML (``pip install myclient[openapi]``); JSON needs nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..exceptions import UsageError

__all__ = ["Refs", "child", "read_document"]


def child(node: Any, key: str) -> Mapping[str, Any]:
    """``node[key]`` when both are mappings, else an empty mapping (specs in the wild omit or misuse fields)."""
    value = node.get(key) if isinstance(node, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def read_document(source: Any) -> dict[str, Any]:
    """The OpenAPI document as a dict: ``source`` is a dict, a path to a .json/.yaml file, or their text."""
    if isinstance(source, Mapping):
        document: Any = dict(source)
    elif isinstance(source, (str, os.PathLike)):
        text = _text_of(source)
        document = _parse(text, str(source)[-5:].lower() if not _looks_like_text(str(source)) else "")
    elif isinstance(source, bytes):
        document = _parse(source.decode("utf-8"), "")
    else:
        raise UsageError(f"spec must be a path, a dict or the document's text, got {type(source).__name__}")
    if not isinstance(document, dict):
        raise UsageError("the OpenAPI document is not an object")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = document.get("swagger") or version
        raise UsageError(f"only OpenAPI 3.x documents are supported (this one says {found!r}); convert Swagger 2.0 "
                         "with a converter first")
    if not isinstance(document.get("paths", {}), Mapping):
        raise UsageError("the OpenAPI document's 'paths' is not an object")
    return document


def _looks_like_text(value: str) -> bool:
    head = value.lstrip()[:20]
    return "\n" in value or head.startswith(("{", "openapi:", "swagger:", "---", "%YAML"))


def _text_of(source: str | os.PathLike[str]) -> str:
    if isinstance(source, str) and _looks_like_text(source):
        return source
    path = Path(os.fspath(source)).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the OpenAPI document {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the OpenAPI document {str(path)!r} is not UTF-8 text") from None


def _parse(text: str, suffix: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith("{") or suffix.endswith("json"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise UsageError(f"the OpenAPI document is not valid JSON: {exc}") from None
    try:
        import yaml
    except ImportError:
        raise UsageError("reading a YAML OpenAPI document needs PyYAML: pip install 'myclient[openapi]'") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise UsageError(f"the OpenAPI document is not valid YAML: {str(exc).splitlines()[0]}") from None


class Refs:
    """Resolves local ``$ref`` pointers of one document (chains followed, cycles stopped)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._cache: dict[str, Any] = {}

    def pointer(self, ref: str) -> Any:
        """The object a ``#/a/b`` pointer names (None when it names nothing)."""
        if ref in self._cache:
            return self._cache[ref]
        if not ref.startswith("#"):
            return None  # an external reference: not followed (the consumer treats it as "any")
        node: Any = self.document
        for raw in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdecimal() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = None
                break
        self._cache[ref] = node
        return node

    def resolve(self, node: Any) -> Any:
        """``node`` with any chain of ``$ref`` followed (an unresolvable or cyclic ref gives {})."""
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen.add(ref)
            target = self.pointer(ref)
            if target is None:
                return {}
            node = target
        return node

    @staticmethod
    def name_of(node: Any) -> str | None:
        """The component name a ``{"$ref": "#/components/schemas/Name"}`` points at, if it is one."""
        if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref.startswith("#/components/schemas/"):
                return unquote(ref.rsplit("/", 1)[1]).replace("~1", "/").replace("~0", "~")
        return None
