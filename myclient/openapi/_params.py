"""Serializing operation arguments the way the spec says: path, query, header and cookie styles, and bodies.

OpenAPI 3 styles: ``simple`` (path, header), ``label`` and ``matrix`` (path), ``form`` (query, cookie; exploded
arrays repeat the name, unexploded ones join with commas), ``spaceDelimited``/``pipeDelimited`` (query arrays)
and ``deepObject`` (query objects: ``name[key]=value``). Scalars are written as JSON writes them (``true``, not
``True``). Path values always go through ``myclient.path`` so each stays one segment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..exceptions import UsageError
from ..groups import path as fill_path
from ._model import Operation, Param

__all__ = ["Request", "build_request", "scalar"]


def scalar(value: Any) -> str:
    """A parameter value as text: booleans and None as JSON writes them, numbers and strings as they are.

    Bytes are UTF-8 text (never their ``b'...'`` repr); a nested object or array is written as JSON.
    """
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"a parameter value of bytes must be UTF-8 text, got {bytes(value[:20])!r}") from None
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"a parameter value cannot be written as JSON: {exc}") from None
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


Token = tuple[bool, str]
"""A piece of a path value: (True, a value to percent-encode) or (False, a delimiter of the style, literal)."""


def _path_tokens(param: Param, value: Any) -> list[Token]:
    """A path parameter in its style (simple, label, matrix) as values and the literal delimiters between them.

    The delimiters (``,`` ``.`` ``;`` ``=``) must reach the server as they are, so only the values are encoded:
    ``;id=a;id=b``, not ``%3Bid%3Da...``.
    """
    explode = param.explode
    groups: list[list[Token]]
    if isinstance(value, Mapping):
        inner = "=" if explode else ","
        groups = [[(True, k), (False, inner), (True, scalar(v))] for k, v in _pairs(value)]
    elif isinstance(value, (list, tuple)):
        groups = [[(True, scalar(v))] for v in value]
    else:
        groups = [[(True, scalar(value))]]
    if not groups:
        raise UsageError(f"path value {param.py_name!r} must not be empty (got {value!r})")
    if param.style == "label":
        return [(False, "."), *_joined(groups, "." if explode else ",")]
    if param.style == "matrix":
        name = quote(param.name, safe="")
        if explode and isinstance(value, Mapping):
            return [token for group in groups for token in [(False, ";"), *group]]
        if explode and isinstance(value, (list, tuple)):
            return [token for group in groups for token in [(False, f";{name}="), *group]]
        return [(False, f";{name}="), *_joined(groups, ",")]
    return _joined(groups, ",")


def _joined(groups: list[list[Token]], separator: str) -> list[Token]:
    out: list[Token] = []
    for index, group in enumerate(groups):
        if index:
            out.append((False, separator))
        out.extend(group)
    return out


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
    unknown = sorted(set(arguments) - set(known) - ({"body"} if op.body is not None else set()))
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
    segments: dict[str, tuple[str, list[Token]]] = {}
    for param in op.params:
        value = arguments.get(param.py_name)
        if value is None:
            continue
        try:
            if param.location == "path":
                segments[param.name] = (param.py_name, _path_tokens(param, value))
            elif param.location == "query":
                request.query.extend(_query(param, value))
            elif param.location == "header":
                request.headers[param.name] = _simple(value, param.explode)
            else:
                request.cookies[param.name] = _simple(value, param.explode)
        except UsageError as exc:
            raise UsageError(f"{op.group}.{op.name}(): {param.py_name}: {exc}") from None
    request.path = _fill(op, segments)
    if "body" in arguments and arguments["body"] is not None:
        try:
            request.body_args = _body(op, arguments["body"])
        except UsageError as exc:
            raise UsageError(f"{op.group}.{op.name}(): body: {exc}") from None
    return request


def _fill(op: Operation, segments: dict[str, tuple[str, list[Token]]]) -> str:
    """The operation's path with each ``{name}`` replaced by its value, every value through ``myclient.path``.

    A ``#fragment`` in the document's path key (some documents use one to tell apart operations on one
    path) is never sent, so it is dropped. Each value becomes a field named after the argument (``myclient.path``
    takes identifiers; its errors then name what the caller passed), the style's delimiters stay literal.
    """
    template, _, fragment = op.path.partition("#")
    if re.search(r"\{[^{}]*\}", fragment):
        raise UsageError(f"{op.group}.{op.name}(): the path {op.path!r} has fields after '#', which starts a URL "
                         "fragment (never sent)")
    fields = re.findall(r"\{([^{}]*)\}", template)
    undeclared = [name for name in fields if name not in segments]
    if undeclared:
        raise UsageError(f"{op.group}.{op.name}(): the path {op.path!r} has field(s) "
                         f"{', '.join('{' + n + '}' for n in undeclared)} that no path parameter declares")
    values: dict[str, str] = {}

    def field(name: str) -> str:
        py_name, tokens = segments[name]
        count = sum(1 for is_value, _ in tokens if is_value)
        out = []
        for is_value, text in tokens:
            if not is_value:
                out.append(text.replace("{", "{{").replace("}", "}}"))
                continue
            key = py_name if count == 1 else f"{py_name}__{len(values)}"  # no snake_case name holds "__"
            values[key] = text
            out.append("{" + key + "}")
        return "".join(out)

    parts = re.split(r"\{([^{}]*)\}", template)  # literal, field name, literal, ...
    filled = "".join(field(part) if index % 2 else part.replace("{", "{{").replace("}", "}}")
                     for index, part in enumerate(parts))
    try:
        return fill_path(filled, **values)
    except UsageError as exc:
        message = re.sub(r"'(\w+?)__\d+'", r"'\1'", str(exc))
        raise UsageError(f"{op.group}.{op.name}(): {message}") from None


def _field(name: str, value: Any) -> str | list[str]:
    """One form field as text (a list for a repeated field); errors name the field."""
    try:
        return [scalar(i) for i in value] if isinstance(value, (list, tuple)) else scalar(value)
    except UsageError as exc:
        raise UsageError(f"field {name!r}: {exc}") from None


def _part(name: str, value: Any, content_type: str | None) -> Any:
    """One multipart part: text for a plain value; for bytes or a file, a file part with a Content-Type.

    The type is the field's ``encoding`` in the spec, else ``application/octet-stream`` (OpenAPI's default
    for binary), so no file part goes out untyped. A ``(filename, content[, type])`` tuple is sent as given.
    """
    if isinstance(value, tuple):
        return value
    if isinstance(value, (bytes, bytearray)) or hasattr(value, "read"):
        given = getattr(value, "name", None)  # an open file's own name, as requests would take it
        filename = os.path.basename(given) if isinstance(given, str) and given[:1] != "<" else name
        return (filename or name, value, content_type or "application/octet-stream")
    return (None, scalar(value))


def _body(op: Operation, value: Any) -> dict[str, Any]:
    """The request arguments for the body, by the media type the operation uses."""
    media = (op.body.media_type if op.body is not None else "application/json").lower()
    if media == "application/x-www-form-urlencoded":
        if isinstance(value, (str, bytes, bytearray)):
            return {"data": value, "content_type": op.body.media_type if op.body else media}  # already encoded
        if not isinstance(value, Mapping):
            raise UsageError("a form body must be a mapping or its encoded text")
        return {"data": {k: _field(k, v) for k, v in value.items()}}
    if media.startswith("multipart/"):
        if not isinstance(value, Mapping):
            raise UsageError("a multipart body must be a mapping of fields")
        parts: list[tuple[str, Any]] = []
        encoding = op.body.encoding if op.body is not None else {}
        for key, item in value.items():
            for one in item if isinstance(item, list) else [item]:  # an array: one part per item, same name
                try:
                    parts.append((str(key), _part(str(key), one, encoding.get(str(key)))))
                except UsageError as exc:
                    raise UsageError(f"field {str(key)!r}: {exc}") from None
        return {"files": parts}
    if "json" in media or media == "*/*":
        return {"json": value}
    if isinstance(value, (bytes, bytearray, str)) or hasattr(value, "read"):
        return {"data": value, "content_type": op.body.media_type if op.body else media}
    return {"json": value}
