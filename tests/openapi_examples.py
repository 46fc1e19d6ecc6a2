"""Valid request arguments (and answers) made from an OpenAPI document's schemas, for tests and benchmarks.

:class:`Examples` gives, for an operation of a loaded :class:`~myclient.openapi.SpecModel`, the keyword
arguments of a call that the spec accepts: every required parameter and a required body (optional ones on
request). A value is the first of the spec's own example, ``examples``, ``default``, ``enum`` and ``const``
that fits its schema (:meth:`Examples.conforms`), else one made for the schema: type and format correct,
within ``minLength``/``maxLength``, ``minimum``/``maximum``/``multipleOf``, ``minItems`` and ``pattern``
(a string is built from the regular expression itself). ``allOf`` is merged, the first ``oneOf``/``anyOf``
branch that fits is taken, ``readOnly`` properties stay out of requests and ``writeOnly`` ones out of answers.
When no valid value can be made, :class:`NotExampleable` says why.

:meth:`Examples.answer` makes the documented success response of an operation (status, media type, body),
so a mock transport can answer as the server would. Deterministic: the same document gives the same values.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from openapi_regex import NoSample, matches, sample_regex

from myclient.openapi import Operation, SpecModel
from myclient.openapi._model import Param
from myclient.results import is_json_type

__all__ = ["REQUEST", "RESPONSE", "Examples", "NotExampleable"]

REQUEST, RESPONSE = "request", "response"
MAX_DEPTH = 12
#: Strings for the formats worth knowing (JSON Schema and OpenAPI ones; ajv-formats checks most).
FORMATS = {
    "date-time": "2024-01-02T03:04:05Z", "date": "2024-01-02", "time": "03:04:05Z", "email": "user@example.com",
    "idn-email": "user@example.com", "uuid": "123e4567-e89b-42d3-a456-426614174000", "uri": "https://example.com/x",
    "url": "https://example.com/x", "iri": "https://example.com/x", "uri-reference": "/x", "iri-reference": "/x",
    "uri-template": "https://example.com/{x}", "hostname": "example.com", "idn-hostname": "example.com",
    "ipv4": "192.0.2.1", "ipv6": "2001:db8::1", "byte": "aGVsbG8=", "password": "s3cret-Pa55", "duration": "P1D",
    "int32": "1", "int64": "1", "json-pointer": "/x", "relative-json-pointer": "0", "regex": "^x$",
}  # fmt: skip
_FORMAT_CHECKS = {
    "date-time": re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:?\d\d)$"),
    "date": re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "uuid": re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"),
    "uri": re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$"),
    "ipv4": re.compile(r"^(\d{1,3}\.){3}\d{1,3}$"),
}
_TYPES = ("object", "array", "string", "integer", "number", "boolean")


class NotExampleable(Exception):
    """No value valid for a schema could be made; the message says which and why."""


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(k) for k in kind]
    return []


def _plain(value: Any) -> Any:
    """A private copy of a value taken from the document (callers may change what they get)."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


class Examples:
    """Values for the operations of one document (see the module docstring)."""

    def __init__(self, model: SpecModel, *, check_formats: bool = True) -> None:
        self.model = model
        self.refs = model.refs
        self.check_formats = check_formats
        self._flat: dict[int, tuple[Any, dict[str, Any]]] = {}

    # ------------------------------------------------------------------ operations

    def arguments(self, op: Operation, *, optional: bool = False) -> dict[str, Any]:
        """Keyword arguments for ``op``: the required parameters and body (all of them with ``optional``)."""
        raw = self._raw_params(op)
        out: dict[str, Any] = {}
        for param in op.params:
            if param.required or optional:
                try:
                    out[param.py_name] = self.param(param, raw.get((param.location, param.name), {}))
                except NotExampleable as exc:
                    raise NotExampleable(f"{param.location} parameter {param.name!r}: {exc}") from None
        if op.body is not None and (op.body.required or optional):
            try:
                out["body"] = self.body(op)
            except NotExampleable as exc:
                raise NotExampleable(f"body ({op.body.media_type}): {exc}") from None
        return out

    def param(self, param: Param, raw: Mapping[str, Any]) -> Any:
        """A value for one parameter: its own example first, then its schema's."""
        candidates = [raw.get("example")]
        examples = raw.get("examples")
        if isinstance(examples, Mapping):
            candidates += [self.refs.resolve(e).get("value") for e in examples.values() if isinstance(e, Mapping)]
        value = self._first_fitting(candidates, param.schema, REQUEST)
        if value is None:
            value = self.value(param.schema)
        if value == {}:  # an empty object serializes to nothing: give it its optional properties too
            value = self.value(param.schema, full=True)
        if param.location == "path" and value in ("", ".", ".."):
            enum = self._flatten(param.schema).get("enum")
            others = [v for v in enum or [] if v not in ("", ".", "..", None) and self.conforms(v, param.schema)]
            if not others:
                raise NotExampleable(f"path value {value!r} cannot be one segment")
            value = others[0]
        return value

    def body(self, op: Operation) -> Any:
        """A request body in the media type the runtime sends (``op.body.media_type``)."""
        assert op.body is not None
        media = op.body.media_type.lower()
        content = self._content(op)
        candidates: list[Any] = [content.get("example")]
        examples = content.get("examples")
        if isinstance(examples, Mapping):
            candidates += [self.refs.resolve(e).get("value") for e in examples.values() if isinstance(e, Mapping)]
        schema = op.body.schema
        value = self._first_fitting(candidates, schema, REQUEST)
        if value is None:
            value = self.value(schema if schema else {"type": "object"})
        if media.startswith("multipart/") or media == "application/x-www-form-urlencoded":
            if value == {}:  # no field at all is no body at all: send the optional fields
                value = self.value(schema, full=True)
                if value == {}:
                    raise NotExampleable("the schema has no field to send")
            if isinstance(value, str) and media == "application/x-www-form-urlencoded":
                return value
            if not isinstance(value, Mapping):
                raise NotExampleable(f"a {media} body must be an object, the schema gives {type(value).__name__}")
            if not media.startswith("multipart/"):
                return value
            return {k: _as_file(v) if self._is_binary(schema, k) else v for k, v in value.items()}
        if "json" in media or media == "*/*":
            return value
        if isinstance(value, str):
            return value.encode() if self._flatten(schema).get("format") == "binary" else value
        return b"example body" if not isinstance(value, (bytes, str)) else value

    def answer(self, op: Operation) -> tuple[int, str | None, Any]:
        """The documented success answer of ``op``: status, media type and a body valid for its schema."""
        statuses = sorted(s for s in op.responses if s.isdecimal() and s.startswith("2"))
        status = int(statuses[0]) if statuses else 200
        success = op.success()
        if success is None or status == 204 or op.method == "HEAD" or success.media_type is None:
            return status, None, None
        if not is_json_type(success.media_type):
            return status, success.media_type, b"ok"
        try:
            return status, success.media_type, self.value(success.schema or {}, RESPONSE)
        except NotExampleable:
            return status, success.media_type, {}

    # ------------------------------------------------------------------ schemas

    def value(self, schema: Any, mode: str = REQUEST, depth: int = 0, *, full: bool = False) -> Any:
        """A value valid for ``schema`` (NotExampleable if none could be made).

        An object gets its required properties, and with ``full`` its optional ones too (where they can be made).
        """
        if depth > MAX_DEPTH:
            raise NotExampleable("the schema needs a value nested deeper than 12 levels (a recursive required field)")
        flat = self._flatten(schema)
        candidates = [flat.get("example")]
        if isinstance(flat.get("examples"), list):
            candidates += flat["examples"][:3]
        candidates += [flat.get("default"), flat.get("const")]
        if isinstance(flat.get("enum"), list):
            candidates += flat["enum"]
        fitting = self._first_fitting(candidates, flat, mode, depth)
        if fitting is not None:
            return fitting
        if isinstance(flat.get("enum"), list) and flat["enum"]:
            raise NotExampleable(f"no value of enum {flat['enum'][:5]} fits the schema")
        choices = flat.get("oneOf") or flat.get("anyOf")
        if isinstance(choices, list) and choices:
            return self._choice(flat, choices, mode, depth)
        kinds = [k for k in _types(flat) if k in _TYPES]
        kind = kinds[0] if kinds else ("object" if "properties" in flat or "additionalProperties" in flat
                                       else "array" if "items" in flat else "string")
        if kind == "object":
            return self._object(flat, mode, depth, full)
        if kind == "array":
            return self._array(flat, mode, depth)
        if kind in ("integer", "number"):
            return _number(flat, kind == "integer")
        if kind == "boolean":
            return True
        return self._string(flat)

    def _first_fitting(self, candidates: list[Any], schema: Any, mode: str, depth: int = 0) -> Any:
        for candidate in candidates:
            if candidate is not None and self.conforms(candidate, schema, mode, depth):
                return _plain(candidate)
        return None

    def _choice(self, flat: Mapping[str, Any], choices: list[Any], mode: str, depth: int) -> Any:
        base = {k: v for k, v in flat.items()
                if k not in ("oneOf", "anyOf", "discriminator", "example", "examples", "default", "enum", "const")}
        reasons = []
        for full, option in [(full, option) for full in (False, True) for option in choices]:
            merged = self._merge([base, self._flatten(option)]) if base.keys() - {"description", "title"} \
                else self._flatten(option)
            try:
                candidate = self.value(merged, mode, depth + 1, full=full)
            except NotExampleable as exc:
                reasons.append(str(exc))
                continue
            if self.conforms(candidate, flat, mode, depth):
                return candidate
            reasons.append(f"{_short(candidate)} fits no branch or more than one")
        raise NotExampleable(f"no branch of oneOf/anyOf gives a valid value ({'; '.join(reasons[:3])})")

    def _object(self, flat: Mapping[str, Any], mode: str, depth: int, full: bool) -> dict[str, Any]:
        props = flat.get("properties") if isinstance(flat.get("properties"), Mapping) else {}
        required = [r for r in flat.get("required") or [] if isinstance(r, str)]
        out: dict[str, Any] = {}
        extra = flat.get("additionalProperties")
        for name in required:
            sub = props.get(name, extra if isinstance(extra, Mapping) else {})
            if self._skipped(sub, mode):
                continue
            try:
                out[name] = self.value(sub, mode, depth + 1)
            except NotExampleable as exc:
                raise NotExampleable(f"{name}: {exc}") from None
        for name, sub in props.items() if full else ():
            if name not in out and not self._skipped(sub, mode):
                try:
                    out[name] = self.value(sub, mode, depth + 1)
                except NotExampleable:
                    continue
        minimum = flat.get("minProperties")
        if isinstance(minimum, int) and len(out) < minimum:
            for name, sub in props.items():
                if len(out) >= minimum:
                    break
                if name not in out and not self._skipped(sub, mode):
                    out[name] = self.value(sub, mode, depth + 1)
            n = 1
            while len(out) < minimum and extra is not False:
                out[f"key{n}"] = self.value(extra if isinstance(extra, Mapping) else {}, mode, depth + 1)
                n += 1
        return out

    def _array(self, flat: Mapping[str, Any], mode: str, depth: int) -> list[Any]:
        low, high = flat.get("minItems"), flat.get("maxItems")
        count = max(low if isinstance(low, int) else 0, 1)
        if isinstance(high, int):
            count = min(count, high)
        if count == 0:
            return []
        items = flat.get("items") if isinstance(flat.get("items"), Mapping) else {}
        first = self.value(items, mode, depth + 1)
        values = [first]
        enum = self._flatten(items).get("enum")
        for i in range(1, count):
            if flat.get("uniqueItems") and isinstance(enum, list) and i < len(enum):
                values.append(_plain(enum[i]))
            elif flat.get("uniqueItems") and isinstance(first, (int, str)) and not isinstance(first, bool):
                values.append(first + i if isinstance(first, int) else f"{first}{i}")
            else:
                values.append(_plain(first))
        return values

    def _string(self, flat: Mapping[str, Any]) -> str:
        low = flat.get("minLength") if isinstance(flat.get("minLength"), int) else 0
        high = flat.get("maxLength") if isinstance(flat.get("maxLength"), int) else None
        pattern = flat.get("pattern")
        if isinstance(pattern, str):
            try:
                return sample_regex(pattern, low, high)
            except NoSample as exc:
                raise NotExampleable(str(exc)) from None
        text = FORMATS.get(str(flat.get("format")), "abc")
        if len(text) < low:
            text += "x" * (low - len(text))
        if high is not None and len(text) > high:
            text = text[:high]
            if flat.get("format") in _FORMAT_CHECKS:
                raise NotExampleable(f"format {flat['format']} does not fit maxLength {high}")
        return text

    def _skipped(self, schema: Any, mode: str) -> bool:
        flat = self._flatten(schema)
        return bool(flat.get("readOnly")) if mode == REQUEST else bool(flat.get("writeOnly"))

    def _is_binary(self, schema: Any, name: str) -> bool:
        props = self._flatten(schema).get("properties")
        sub = self._flatten(props.get(name)) if isinstance(props, Mapping) else {}
        return sub.get("format") in ("binary", "base64") or (
            sub.get("type") == "array" and self._flatten(sub.get("items")).get("format") == "binary")

    # ------------------------------------------------------------------ validation

    def conforms(self, value: Any, schema: Any, mode: str = REQUEST, depth: int = 0) -> bool:
        """Whether ``value`` is valid for ``schema`` (types, enums, bounds, patterns, formats, required, branches)."""
        if depth > MAX_DEPTH + 4:
            return True
        flat = self._flatten(schema)
        if value is None:
            return bool(flat.get("nullable")) or "null" in _types(flat) or flat.get("enum") == [None] or not flat
        if isinstance(flat.get("enum"), list) and flat["enum"] and value not in flat["enum"]:
            return False
        if "const" in flat and value != flat["const"]:
            return False
        kinds = [k for k in _types(flat) if k != "null"]
        if kinds and not any(_is_type(value, k) for k in kinds):
            return False
        one_of, any_of = flat.get("oneOf"), flat.get("anyOf")
        if isinstance(one_of, list) and one_of and sum(self.conforms(value, b, mode, depth + 1) for b in one_of) != 1:
            return False
        if isinstance(any_of, list) and any_of and not any(self.conforms(value, b, mode, depth + 1) for b in any_of):
            return False
        if isinstance(value, str):
            return self._string_ok(value, flat)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _number_ok(value, flat)
        if isinstance(value, list):
            items = flat.get("items")
            low, high = flat.get("minItems"), flat.get("maxItems")
            if (isinstance(low, int) and len(value) < low) or (isinstance(high, int) and len(value) > high):
                return False
            return all(self.conforms(v, items or {}, mode, depth + 1) for v in value)
        if isinstance(value, dict):
            return self._object_ok(value, flat, mode, depth)
        return True

    def _string_ok(self, value: str, flat: Mapping[str, Any]) -> bool:
        low, high, pattern = flat.get("minLength"), flat.get("maxLength"), flat.get("pattern")
        if (isinstance(low, int) and len(value) < low) or (isinstance(high, int) and len(value) > high):
            return False
        if isinstance(pattern, str) and not matches(pattern, value):
            return False
        check = _FORMAT_CHECKS.get(str(flat.get("format")))
        return not (self.check_formats and check is not None and not check.match(value))

    def _object_ok(self, value: dict[str, Any], flat: Mapping[str, Any], mode: str, depth: int) -> bool:
        props = flat.get("properties") if isinstance(flat.get("properties"), Mapping) else {}
        for name in flat.get("required") or []:
            if isinstance(name, str) and name not in value and not self._skipped(props.get(name, {}), mode):
                return False
        extra = flat.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                if self._skipped(props[key], mode) or not self.conforms(item, props[key], mode, depth + 1):
                    return False
            elif (extra is False and not flat.get("_open")) or (
                    isinstance(extra, Mapping) and not self.conforms(item, extra, mode, depth + 1)):
                return False
        low, high = flat.get("minProperties"), flat.get("maxProperties")
        return not ((isinstance(low, int) and len(value) < low) or (isinstance(high, int) and len(value) > high))

    # ------------------------------------------------------------------ document plumbing

    def _flatten(self, schema: Any) -> dict[str, Any]:
        """``schema`` with its ``$ref`` followed and its ``allOf`` merged into one mapping (cached)."""
        key = id(schema)
        cached = self._flat.get(key)
        if cached is not None:
            return cached[1]
        resolved = self.refs.resolve(schema)
        if not isinstance(resolved, Mapping):
            resolved = {}
        parts = resolved.get("allOf")
        if isinstance(parts, list) and parts:
            own = {k: v for k, v in resolved.items() if k != "allOf"}
            self._flat[key] = (schema, {})  # a cycle through allOf ends here
            flat = self._merge([own, *(self._flatten(p) for p in parts)])
        else:
            flat = dict(resolved)
        self._flat[key] = (schema, flat)  # the schema kept alive: its id stays its own
        return flat

    @staticmethod
    def _merge(parts: list[Mapping[str, Any]]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        props: dict[str, Any] = {}
        required: list[str] = []
        for part in parts:
            for key, item in part.items():
                if key == "properties" and isinstance(item, Mapping):
                    for name, sub in item.items():
                        props[name] = {"allOf": [props[name], sub]} if name in props else sub
                elif key == "required" and isinstance(item, list):
                    required += [r for r in item if r not in required]
                elif key == "additionalProperties" and item is False and len(parts) > 1:
                    merged["_open"] = True  # closed per branch, the union is what ajv sees too: keep lenient
                    merged.setdefault(key, item)
                elif key in ("minimum", "minLength", "minItems", "minProperties") and key in merged:
                    merged[key] = max(merged[key], item) if isinstance(item, (int, float)) else merged[key]
                elif key in ("maximum", "maxLength", "maxItems", "maxProperties") and key in merged:
                    merged[key] = min(merged[key], item) if isinstance(item, (int, float)) else merged[key]
                else:
                    merged.setdefault(key, item)
        if props:
            merged["properties"] = props
        if required:
            merged["required"] = required
        return merged

    def _content(self, op: Operation) -> Mapping[str, Any]:
        raw = self._raw_operation(op)
        body = self.refs.resolve(raw.get("requestBody"))
        content = body.get("content") if isinstance(body, Mapping) else None
        chosen = content.get(op.body.media_type) if isinstance(content, Mapping) and op.body else None
        return chosen if isinstance(chosen, Mapping) else {}

    def _raw_operation(self, op: Operation) -> Mapping[str, Any]:
        item = self.refs.resolve((self.model.document.get("paths") or {}).get(op.path))
        raw = item.get(op.method.lower()) if isinstance(item, Mapping) else None
        return raw if isinstance(raw, Mapping) else {}

    def _raw_params(self, op: Operation) -> dict[tuple[str, str], Mapping[str, Any]]:
        item = self.refs.resolve((self.model.document.get("paths") or {}).get(op.path))
        listed = [*(item.get("parameters") or [] if isinstance(item, Mapping) else []),
                  *(self._raw_operation(op).get("parameters") or [])]
        out: dict[tuple[str, str], Mapping[str, Any]] = {}
        for entry in listed:
            resolved = self.refs.resolve(entry)
            if isinstance(resolved, Mapping):
                out[(str(resolved.get("in")), str(resolved.get("name")))] = resolved
        return out


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "array": list, "object": dict}.get(kind)
    return expected is None or isinstance(value, expected)


def _bounds(flat: Mapping[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    low, high = flat.get("minimum"), flat.get("maximum")
    low_x, high_x = flat.get("exclusiveMinimum"), flat.get("exclusiveMaximum")
    if isinstance(low_x, (int, float)) and not isinstance(low_x, bool):
        low, low_x = low_x, True  # OpenAPI 3.1: the bound itself
    if isinstance(high_x, (int, float)) and not isinstance(high_x, bool):
        high, high_x = high_x, True
    return (low if isinstance(low, (int, float)) else None, bool(low_x),
            high if isinstance(high, (int, float)) else None, bool(high_x))


def _number_ok(value: float, flat: Mapping[str, Any]) -> bool:
    low, low_x, high, high_x = _bounds(flat)
    if low is not None and (value < low or (low_x and value == low)):
        return False
    if high is not None and (value > high or (high_x and value == high)):
        return False
    step = flat.get("multipleOf")
    return not (isinstance(step, (int, float)) and step > 0 and abs(value / step - round(value / step)) > 1e-9)


def _number(flat: Mapping[str, Any], integer: bool) -> int | float:
    low, low_x, high, high_x = _bounds(flat)
    value: float = 1
    if low is not None and (value < low or (low_x and value <= low)):
        value = low + 1 if integer or high is None or high - low >= 2 else (low + high) / 2
        value = int(value) if integer and float(value).is_integer() else (int(value) + 1 if integer else value)
    if high is not None and (value > high or (high_x and value >= high)):
        value = high - 1 if high_x else high
        if low is not None and value < low:
            value = (low + high) / 2
    step = flat.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        value = step * max(1, -(-value // step))
    if integer:
        if not float(value).is_integer():
            raise NotExampleable(f"no integer within the bounds of {_short(dict(flat))}")
        return int(value)
    if not _number_ok(value, flat):
        raise NotExampleable(f"no number within the bounds of {_short(dict(flat))}")
    return int(value) if float(value).is_integer() else value


def _as_file(value: Any) -> Any:
    """A multipart field the schema calls binary: bytes (a list of them for an array of files)."""
    if isinstance(value, list):
        return [_as_file(v) for v in value]
    return value.encode() if isinstance(value, str) else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
