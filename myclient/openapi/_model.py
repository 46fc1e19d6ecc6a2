"""The operations of an OpenAPI document, normalized: names, groups, parameters, body, responses, security.

This is the one reading of a spec that both the runtime loader and the code generator use: every
path+method becomes an ``Operation`` with a Python name unique in its group (``operationId`` in
snake_case, else method+path), grouped by its first tag (``default`` when untagged); parameters get
Python names that clash neither with each other, the body, nor the per-call options. Naming is
deterministic: the same document always gives the same names.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any

from ..settings import CALL_OPTIONS
from ._spec import Refs, child

__all__ = ["Body", "Operation", "Param", "Response", "SpecModel", "snake"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Keyword names an operation method already uses, besides the per-call options.
_TAKEN = frozenset({"self", "detailed", "body"}) | CALL_OPTIONS
#: JSON media types, parameters allowed (``application/vnd.acme+json; version=2``); ``*/*`` is taken as JSON.
_JSON = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$|^\*/\*$")


def snake(text: str) -> str:
    """A Python identifier in snake_case from any operationId, tag or parameter name."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(text))
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    text = re.sub(r"_+", "_", text)
    if not text:
        text = "x"
    if text[0].isdigit():
        text = "n" + text
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or text in ("self", "cls"):
        text += "_"
    return text


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


class Param:
    """One parameter: wire ``name``, Python ``py_name``, ``location`` (path/query/header/cookie), serialization."""

    __slots__ = ("allow_reserved", "description", "explode", "location", "name", "py_name", "required", "schema",
                 "style")

    def __init__(self, raw: Mapping[str, Any], refs: Refs) -> None:
        self.name = str(raw.get("name", ""))
        self.location = str(raw.get("in", "query"))
        self.required = bool(raw.get("required")) or self.location == "path"
        schema = raw.get("schema")
        content = child(raw, "content")
        if schema is None and content:  # a parameter with content (JSON-encoded)
            first: Any = next(iter(content.values()), {})
            schema = first.get("schema") if isinstance(first, Mapping) else None
        self.schema: Any = schema if schema is not None else {}
        default_style = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
        self.style = str(raw.get("style") or default_style.get(self.location, "form"))
        explode = raw.get("explode")
        self.explode = bool(explode) if explode is not None else self.style == "form"
        self.allow_reserved = bool(raw.get("allowReserved"))
        self.description = str(raw.get("description") or "")
        self.py_name = ""


class Body:
    """The request body: the media type used (JSON preferred), its schema, whether it is required.

    ``encoding`` maps a multipart field to the Content-Type its ``encoding`` object gives it (the first one
    listed), for the parts the caller passes as bytes or files.
    """

    __slots__ = ("description", "encoding", "media_type", "media_types", "required", "schema")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        content = child(raw, "content")
        self.media_types = [str(k) for k in content] if content else []
        self.media_type = _pick_media_type(self.media_types)
        chosen = content.get(self.media_type) if content else None
        self.schema: Any = chosen.get("schema", {}) if isinstance(chosen, Mapping) else {}
        fields = child(chosen, "encoding")
        self.encoding: dict[str, str] = {
            str(name): str(child(fields, name)["contentType"]).split(",")[0].strip()
            for name in fields if isinstance(child(fields, name).get("contentType"), str)}
        self.required = bool(raw.get("required"))
        self.description = str(raw.get("description") or "")


def _pick_media_type(types: list[str]) -> str:
    for wanted in ("application/json", None, "application/x-www-form-urlencoded", "multipart/form-data"):
        for media in types:
            if (wanted is None and _JSON.match(media.lower())) or media.lower() == wanted:
                return media
    return types[0] if types else "application/json"


class Response:
    """One documented response: status (``"200"``, ``"4XX"``, ``"default"``), media type and schema."""

    __slots__ = ("description", "media_type", "schema", "status")

    def __init__(self, status: str, raw: Mapping[str, Any]) -> None:
        self.status = status
        content = child(raw, "content")
        types = [str(k) for k in content] if content else []
        self.media_type = _pick_media_type(types) if types else None
        chosen = content.get(self.media_type) if content and self.media_type else None
        self.schema: Any = chosen.get("schema") if isinstance(chosen, Mapping) else None
        self.description = str(raw.get("description") or "")

    @property
    def is_json(self) -> bool:
        """Whether the documented body is JSON."""
        return self.media_type is not None and bool(_JSON.match(self.media_type.lower()))


class Operation:
    """One path+method of the document, ready to call or to generate code for."""

    __slots__ = ("body", "deprecated", "description", "group", "method", "name", "operation_id", "pagination",
                 "params", "path", "responses", "security", "summary", "tag")

    def __init__(self, method: str, path: str, raw: Mapping[str, Any], shared: list[Any], refs: Refs,
                 default_security: Any) -> None:
        self.method = method.upper()
        self.path = path
        self.operation_id = str(raw.get("operationId") or "")
        tags = raw.get("tags")
        self.tag = str(tags[0]) if isinstance(tags, list) and tags else "default"
        self.summary = " ".join(str(raw.get("summary") or "").split())
        self.description = str(raw.get("description") or "")
        self.deprecated = bool(raw.get("deprecated"))
        self.params = self._params(shared, raw.get("parameters"), refs)
        body = refs.resolve(raw.get("requestBody"))
        self.body = Body(body) if isinstance(body, Mapping) and body else None
        self.responses: dict[str, Response] = {}
        responses = raw.get("responses")
        if isinstance(responses, Mapping):
            for status, value in responses.items():
                resolved = refs.resolve(value)
                if isinstance(resolved, Mapping):
                    self.responses[str(status)] = Response(str(status), resolved)
        security = raw.get("security", default_security)
        self.security: list[dict[str, list[str]]] = [dict(s) for s in security if isinstance(s, Mapping)] \
            if isinstance(security, list) else []
        hint = raw.get("x-myclient-pagination")
        self.pagination: dict[str, Any] | None = dict(hint) if isinstance(hint, Mapping) else None
        self.name = ""
        self.group = ""

    @staticmethod
    def _params(shared: list[Any], own: Any, refs: Refs) -> list[Param]:
        by_key: dict[tuple[str, str], Param] = {}
        for raw in [*shared, *(own if isinstance(own, list) else [])]:
            resolved = refs.resolve(raw)
            if isinstance(resolved, Mapping) and resolved.get("name") and resolved.get("in") in (
                    "path", "query", "header", "cookie"):
                param = Param(resolved, refs)
                by_key[(param.location, param.name)] = param  # an operation's own overrides the path's
        params = list(by_key.values())
        taken = set(_TAKEN)
        for param in sorted(params, key=lambda p: (p.location != "path", not p.required)):
            base = snake(param.name)
            if base in taken:
                base = f"{param.location}_{base}"
            param.py_name = _unique(base, taken)
        return params

    def success(self) -> Response | None:
        """The documented success response (lowest 2xx, else ``2XX``, else ``default``)."""
        for status in sorted(s for s in self.responses if s.isdecimal() and s.startswith("2")):
            return self.responses[status]
        return self.responses.get("2XX") or self.responses.get("default")

    def response_for(self, status: int) -> Response | None:
        """The documented response for ``status`` (exact, then ``4XX``-style, then ``default``)."""
        return (self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX")
                or self.responses.get(f"{str(status)[0]}xx") or self.responses.get("default"))

    def __repr__(self) -> str:
        return f"<Operation {self.group}.{self.name}: {self.method} {self.path}>"


class SpecModel:
    """The whole document normalized: operations by group, components, servers, security schemes."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.refs = Refs(document)
        info = child(document, "info")
        self.title = str(info.get("title") or "API")
        self.version = str(info.get("version") or "")
        components = child(document, "components")
        self.schemas: dict[str, Any] = dict(child(components, "schemas"))
        schemes = child(components, "securitySchemes")
        self.security_schemes: dict[str, Any] = {k: self.refs.resolve(v) for k, v in schemes.items()}
        servers = document.get("servers")
        self.servers: list[Any] = list(servers) if isinstance(servers, list) else []
        self.operations = self._operations(document)
        self.groups: dict[str, list[Operation]] = {}
        for op in self.operations:
            self.groups.setdefault(op.group, []).append(op)

    def _operations(self, document: Mapping[str, Any]) -> list[Operation]:
        found: list[Operation] = []
        default_security = document.get("security")
        paths = document.get("paths") or {}
        for path, item in paths.items():
            item = self.refs.resolve(item)
            if not isinstance(item, Mapping):
                continue
            listed = item.get("parameters")
            shared: list[Any] = listed if isinstance(listed, list) else []
            for method in METHODS:
                raw = item.get(method)
                if isinstance(raw, Mapping):
                    found.append(Operation(method, str(path), raw, shared, self.refs, default_security))
        group_names: dict[str, str] = {}
        taken_groups: set[str] = {"adapter", "session", "hooks", "base_url", "cid", "operations", "spec", "call"}
        names_by_group: dict[str, set[str]] = {}
        for op in found:
            if op.tag not in group_names:
                group_names[op.tag] = _unique(snake(op.tag), taken_groups)
            op.group = group_names[op.tag]
            taken = names_by_group.setdefault(op.group, {"paginate", "download", "upload"})
            base = snake(op.operation_id) if op.operation_id else snake(f"{op.method.lower()}_{op.path}")
            op.name = _unique(base, taken)
        return found

    def by_id(self, operation_id: str) -> Operation | None:
        """The operation with this operationId (or this ``group.name``)."""
        for op in self.operations:
            if op.operation_id == operation_id or f"{op.group}.{op.name}" == operation_id:
                return op
        return None
