"""Valid request arguments (and answers) made from an OpenAPI document's schemas, for tests and benchmarks.

:class:`Examples` gives, for an operation of a loaded :class:`~myclient.openapi.SpecModel`, the keyword
arguments of a call that the spec accepts: every required parameter and a required body (optional ones on
request; a declared ``Accept`` header always). A value is the first of the spec's own example, ``examples``,
``default``, ``enum`` and ``const`` that fits its schema (:meth:`Examples.conforms`), else one made for the
schema: type and format correct, within ``minLength``/``maxLength``, ``minimum``/``maximum``/``multipleOf``,
``minItems`` and ``pattern`` (a string is built from the regular expression itself). ``allOf`` is merged, the
first ``oneOf``/``anyOf`` branch that fits is taken (for a parameter, one whose *text* fits a single branch),
``readOnly`` properties stay out of requests and ``writeOnly`` ones out of answers, siblings of a ``$ref``
(``nullable``) count. When no valid value can be made, :class:`NotExampleable` says why.

:meth:`Examples.answer` makes the documented success response of an operation (status, media type, body),
so a mock transport can answer as the server would; :meth:`Examples.mismatch` says where a value does not fit
a schema. Deterministic: the same document gives the same values.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from typing import Any

from openapi_regex import NoSample, sample_regex
from openapi_schemas import FORMAT_CHECKS, MAX_DEPTH, REQUEST, RESPONSE, Schemas, bounds, number_ok, short, types_of

from myclient.openapi import Operation
from myclient.openapi._model import Param
from myclient.results import is_json_type

__all__ = ["REQUEST", "RESPONSE", "Examples", "NotExampleable"]

#: Strings for the formats worth knowing (JSON Schema and OpenAPI ones; ajv-formats checks most).
FORMATS = {
    "date-time": "2024-01-02T03:04:05Z", "date": "2024-01-02", "time": "03:04:05Z", "email": "user@example.com",
    "idn-email": "user@example.com", "uuid": "123e4567-e89b-42d3-a456-426614174000", "uri": "https://example.com/x",
    "url": "https://example.com/x", "iri": "https://example.com/x", "uri-reference": "/x", "iri-reference": "/x",
    "uri-template": "https://example.com/{x}", "hostname": "example.com", "idn-hostname": "example.com",
    "ipv4": "192.0.2.1", "ipv6": "2001:db8::1", "byte": "aGVsbG8=", "password": "s3cret-Pa55", "duration": "P1D",
    "int32": "1", "int64": "1", "json-pointer": "/x", "relative-json-pointer": "0", "regex": "^x$",
}  # fmt: skip
_TYPES = ("object", "array", "string", "integer", "number", "boolean")


class NotExampleable(Exception):
    """No value valid for a schema could be made; the message says which and why."""


def _plain(value: Any) -> Any:
    """A private copy of a value taken from the document (callers may change what they get)."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


class Examples(Schemas):
    """Values for the operations of one document (see the module docstring)."""

    # ------------------------------------------------------------------ operations

    def arguments(self, op: Operation, *, optional: bool = False) -> dict[str, Any]:
        """Keyword arguments for ``op``: the required parameters and body (all of them with ``optional``)."""
        raw = self._raw_params(op)
        out: dict[str, Any] = {}
        for param in op.params:
            # A declared Accept header is given too: without it requests sends "*/*", which a strict server
            # (Prism) checks against the parameter's schema although OpenAPI says to ignore such a definition.
            if param.required or optional or (param.location == "header" and param.name.lower() == "accept"):
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
        value = self._one_branch_as_text(param, value)
        if param.location == "path" and value in ("", ".", ".."):
            enum = self._flatten(param.schema).get("enum")
            others = [v for v in enum or [] if v not in ("", ".", "..", None) and self.conforms(v, param.schema)]
            if not others:
                raise NotExampleable(f"path value {value!r} cannot be one segment")
            value = others[0]
        return value

    def _one_branch_as_text(self, param: Param, value: Any) -> Any:
        """A parameter travels as text, and a server reads ``1`` as an integer *and* a string: with ``oneOf``,
        pick a value whose text fits exactly one branch (``"abc"`` for ``oneOf: [integer, string]``)."""
        branches = self._flatten(param.schema).get("oneOf")
        if not isinstance(branches, list) or not branches or isinstance(value, (dict, list)):
            return value
        candidates = [value]
        for branch in branches:
            try:
                candidates.append(self.value(branch))
            except NotExampleable:
                continue
        for candidate in candidates:
            if not isinstance(candidate, (dict, list)) and sum(
                    self.conforms(self._as_read(candidate, b), b) for b in branches) == 1:
                return candidate
        raise NotExampleable("no value whose text fits exactly one branch of its oneOf")

    def _as_read(self, value: Any, schema: Any) -> Any:
        """``value`` sent as text and read back for ``schema`` the way a validating server coerces it."""
        text = "true" if value is True else "false" if value is False else str(value)
        kinds = types_of(self._flatten(schema))
        if "integer" in kinds and re.fullmatch(r"-?\d+", text):
            return int(text)
        if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
            return float(text)
        if "boolean" in kinds and text in ("true", "false"):
            return text == "true"
        return text

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

    def value(self, schema: Any, mode: str = REQUEST, *, full: bool = False) -> Any:
        """A value valid for ``schema`` (NotExampleable if none could be made, or the one made does not fit).

        An object gets its required properties, and with ``full`` its optional ones too (where they can be made).
        """
        made = self._make(schema, mode, 0, full=full)
        problem = self.mismatch(made, schema, mode)
        if problem:
            raise NotExampleable(f"no value fits: {problem}")  # contradicting allOf parts, and the like
        return made

    def _make(self, schema: Any, mode: str, depth: int, *, full: bool = False) -> Any:
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
        kinds = [k for k in types_of(flat) if k in _TYPES]
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
                candidate = self._make(merged, mode, depth + 1, full=full)
            except NotExampleable as exc:
                reasons.append(str(exc))
                continue
            if self.conforms(candidate, flat, mode, depth):
                return candidate
            reasons.append(f"{short(candidate)} fits no branch or more than one")
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
                out[name] = self._make(sub, mode, depth + 1)
            except NotExampleable as exc:
                raise NotExampleable(f"{name}: {exc}") from None
        for name, sub in props.items() if full else ():
            if name not in out and not self._skipped(sub, mode):
                try:
                    out[name] = self._make(sub, mode, depth + 1)
                except NotExampleable:
                    continue
        minimum = flat.get("minProperties")
        if isinstance(minimum, int) and len(out) < minimum:
            for name, sub in props.items():
                if len(out) >= minimum:
                    break
                if name not in out and not self._skipped(sub, mode):
                    out[name] = self._make(sub, mode, depth + 1)
            n = 1
            while len(out) < minimum and extra is not False:
                out[f"key{n}"] = self._make(extra if isinstance(extra, Mapping) else {}, mode, depth + 1)
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
        first = self._make(items, mode, depth + 1)
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
            if flat.get("format") in FORMAT_CHECKS:
                raise NotExampleable(f"format {flat['format']} does not fit maxLength {high}")
        return text

    def _is_binary(self, schema: Any, name: str) -> bool:
        props = self._flatten(schema).get("properties")
        sub = self._flatten(props.get(name)) if isinstance(props, Mapping) else {}
        return sub.get("format") in ("binary", "base64") or (
            sub.get("type") == "array" and self._flatten(sub.get("items")).get("format") == "binary")

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


def _number(flat: Mapping[str, Any], integer: bool) -> int | float:
    """1 when allowed, else a value near the bounds: on ``multipleOf`` and an integer when asked."""
    low, _, high, _ = bounds(flat)  # exclusive bounds: number_ok decides
    step = flat.get("multipleOf")
    step = step if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0 else None
    near: list[float] = [1, 0]
    if low is not None:
        near += [low + 1, low, low + 0.5]
    if high is not None:
        near += [high - 1, high, high - 0.5]
    if low is not None and high is not None:
        near.append((low + high) / 2)
    for guess in near:
        for value in ([math.ceil(guess / step) * step, math.floor(guess / step) * step] if step else [guess]):
            if integer and not float(value).is_integer():
                continue
            if number_ok(value, flat):
                return int(value) if float(value).is_integer() else value
    raise NotExampleable(f"no {'integer' if integer else 'number'} within the bounds of {short(dict(flat))}")


def _as_file(value: Any) -> Any:
    """A multipart field the schema calls binary: bytes (a list of them for an array of files)."""
    if isinstance(value, list):
        return [_as_file(v) for v in value]
    return value.encode() if isinstance(value, str) else value


