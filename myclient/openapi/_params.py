"""Serializing operation arguments the way the spec says: path, query, header and cookie styles, and bodies.

OpenAPI 3 styles: ``simple`` (path, header), ``label`` and ``matrix`` (path), ``form`` (query, cookie; exploded
arrays repeat the name, unexploded ones join with commas), ``spaceDelimited``/``pipeDelimited`` (query arrays)
and ``deepObject`` (query objects: ``name[key]=value``). Scalars are written as JSON writes them (``true``, not
``True``). Path values always go through ``myclient.path`` so each stays one segment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..exceptions import UsageError
from ..groups import path as fill_path
from ._model import Operation, Param

__all__ = ["Request", "build_request", "scalar"]


def scalar(value: Any) -> str:
    """A parameter value as text: booleans and None as JSON writes them, numbers and strings as they are."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _pairs(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        return [(str(k), v) for k, v in value.items()]
    return []


def _query(param: Param, value: Any) -> list[tuple[str, str]]:
    name, style, explode = param.name, param.style, param.explode
    if isinstance(value, (list, tuple)):
        items = [scalar(v) for v in value]
        if style == "form" and explode:
            return [(name, v) for v in items]
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        return [(name, separator.join(items))]
    if isinstance(value, Mapping):
        pairs = _pairs(value)
        if style == "deepObject":
            return [(f"{name}[{k}]", scalar(v)) for k, v in pairs]
        if explode:
            return [(k, scalar(v)) for k, v in pairs]
        return [(name, ",".join(f"{k},{scalar(v)}" for k, v in pairs))]
    return [(name, scalar(value))]


def _simple(value: Any, explode: bool) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(scalar(v) for v in value)
    if isinstance(value, Mapping):
        joiner = "=" if explode else ","
        return ",".join(f"{k}{joiner}{scalar(v)}" for k, v in _pairs(value))
    return scalar(value)


def _path_value(param: Param, value: Any) -> str:
    if param.style == "label":
        return "." + _simple(value, param.explode).replace(",", "." if param.explode else ",")
    if param.style == "matrix":
        if isinstance(value, (list, tuple)) and param.explode:
            return "".join(f";{param.name}={scalar(v)}" for v in value)
        return f";{param.name}={_simple(value, param.explode)}"
    return _simple(value, param.explode)


class Request:
    """The pieces of one call: the path (filled), query pairs, headers, cookies and the body arguments."""

    __slots__ = ("body_args", "cookies", "headers", "path", "query")

    def __init__(self) -> None:
        self.path = ""
        self.query: list[tuple[str, str]] = []
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}
        self.body_args: dict[str, Any] = {}


def build_request(op: Operation, arguments: Mapping[str, Any]) -> Request:
    """Check and serialize ``arguments`` (Python names) for ``op``; UsageError before anything is sent."""
    known = {p.py_name: p for p in op.params}
    unknown = sorted(set(arguments) - set(known) - {"body"})
    if unknown:
        names = ", ".join(sorted(known) + (["body"] if op.body else []))
        raise UsageError(f"{op.group}.{op.name}() got unexpected argument(s) {', '.join(unknown)} "
                         f"(it takes: {names or 'no arguments'})")
    missing = [p.py_name for p in op.params if p.required and arguments.get(p.py_name) is None]
    if op.body is not None and op.body.required and arguments.get("body") is None:
        missing.append("body")
    if missing:
        raise UsageError(f"{op.group}.{op.name}() needs {', '.join(missing)} ({op.method} {op.path})")
    request = Request()
    segments: dict[str, str] = {}
    for param in op.params:
        value = arguments.get(param.py_name)
        if value is None:
            continue
        if param.location == "path":
            segments[param.name] = _path_value(param, value)
        elif param.location == "query":
            request.query.extend(_query(param, value))
        elif param.location == "header":
            request.headers[param.name] = _simple(value, param.explode)
        else:
            request.cookies[param.name] = _simple(value, param.explode)
    request.path = _fill(op, segments)
    if "body" in arguments and arguments["body"] is not None:
        request.body_args = _body(op, arguments["body"])
    return request


def _fill(op: Operation, segments: dict[str, str]) -> str:
    """The operation's path with each ``{name}`` replaced by its percent-encoded value."""
    template = op.path
    safe: dict[str, str] = {}
    renamed = template
    for index, name in enumerate(sorted(segments, key=len, reverse=True)):
        key = f"p{index}"
        renamed = renamed.replace("{" + name + "}", "{" + key + "}")
        safe[key] = segments[name]
    try:
        return fill_path(renamed, **safe)
    except UsageError as exc:
        raise UsageError(f"{op.group}.{op.name}(): {exc}") from None


def _body(op: Operation, value: Any) -> dict[str, Any]:
    """The request arguments for the body, by the media type the operation uses."""
    media = (op.body.media_type if op.body is not None else "application/json").lower()
    if media == "application/x-www-form-urlencoded":
        if not isinstance(value, Mapping):
            raise UsageError(f"{op.group}.{op.name}(): a form body must be a mapping")
        return {"data": {k: scalar(v) if not isinstance(v, (list, tuple)) else [scalar(i) for i in v]
                         for k, v in value.items()}}
    if media.startswith("multipart/"):
        if not isinstance(value, Mapping):
            raise UsageError(f"{op.group}.{op.name}(): a multipart body must be a mapping of fields")
        parts: dict[str, Any] = {}
        for key, item in value.items():
            is_file = isinstance(item, (bytes, bytearray, tuple)) or hasattr(item, "read")
            parts[str(key)] = item if is_file else (None, scalar(item))
        return {"files": parts}
    if "json" in media or media == "*/*":
        return {"json": value}
    if isinstance(value, (bytes, bytearray, str)) or hasattr(value, "read"):
        return {"data": value, "content_type": op.body.media_type if op.body else media}
    return {"json": value}
