"""Reading and checking an OpenAPI document's schemas, for the test helpers: :class:`Schemas`.

:meth:`Schemas.conforms` says whether a value is valid for a schema (types, ``enum``/``const``, bounds,
lengths, ``pattern`` via :func:`openapi_regex.matches`, the common formats, ``required``, ``properties`` and
``additionalProperties``, ``oneOf`` exactly one and ``anyOf`` at least one, ``nullable``), in a direction:
``REQUEST`` (``readOnly`` properties must be absent and are not required) or ``RESPONSE`` (the same for
``writeOnly``). :meth:`Schemas.mismatch` names the deepest place where a value does not fit.
``_flatten`` follows ``$ref`` (siblings such as ``nullable`` kept) and merges ``allOf`` into one mapping.
It is what Prism's validator (ajv) checks, closely enough to predict Prism's verdicts on the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from openapi_regex import matches

from myclient.openapi import SpecModel

__all__ = ["FORMAT_CHECKS", "MAX_DEPTH", "REQUEST", "RESPONSE", "Schemas", "bounds", "is_type", "number_ok", "short",
           "types_of"]

REQUEST, RESPONSE = "request", "response"
MAX_DEPTH = 12
FORMAT_CHECKS = {
    "date-time": re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:?\d\d)$"),
    "date": re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "uuid": re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"),
    "uri": re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$"),
    "ipv4": re.compile(r"^(\d{1,3}\.){3}\d{1,3}$"),
}


def types_of(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(k) for k in kind]
    return []


class Schemas:
    """The schemas of one document: flattened on demand (cached), and values checked against them."""

    def __init__(self, model: SpecModel, *, check_formats: bool = True) -> None:
        self.model = model
        self.refs = model.refs
        self.check_formats = check_formats
        self._flat: dict[int, tuple[Any, dict[str, Any]]] = {}

    def conforms(self, value: Any, schema: Any, mode: str = REQUEST, depth: int = 0) -> bool:
        """Whether ``value`` is valid for ``schema`` (types, enums, bounds, patterns, formats, required, branches)."""
        if depth > MAX_DEPTH + 4:
            return True
        flat = self._flatten(schema)
        if value is None:
            one_of, any_of = flat.get("oneOf"), flat.get("anyOf")
            if isinstance(one_of, list) and one_of:
                return sum(self.conforms(None, b, mode, depth + 1) for b in one_of) == 1
            if isinstance(any_of, list) and any_of:
                return any(self.conforms(None, b, mode, depth + 1) for b in any_of)
            enum = flat.get("enum")
            if isinstance(enum, list):
                return None in enum or bool(flat.get("nullable"))
            return bool(flat.get("nullable")) or "null" in types_of(flat) or not types_of(flat)
        if isinstance(flat.get("enum"), list) and flat["enum"] and value not in flat["enum"]:
            return False
        if "const" in flat and value != flat["const"]:
            return False
        kinds = [k for k in types_of(flat) if k != "null"]
        if kinds and not any(is_type(value, k) for k in kinds):
            return False
        one_of, any_of = flat.get("oneOf"), flat.get("anyOf")
        if isinstance(one_of, list) and one_of and sum(self.conforms(value, b, mode, depth + 1) for b in one_of) != 1:
            return False
        if isinstance(any_of, list) and any_of and not any(self.conforms(value, b, mode, depth + 1) for b in any_of):
            return False
        if isinstance(value, str):
            return self._string_ok(value, flat)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return number_ok(value, flat)
        if isinstance(value, list):
            items = flat.get("items")
            low, high = flat.get("minItems"), flat.get("maxItems")
            if (isinstance(low, int) and len(value) < low) or (isinstance(high, int) and len(value) > high):
                return False
            return all(self.conforms(v, items or {}, mode, depth + 1) for v in value)
        if isinstance(value, dict):
            return self._object_ok(value, flat, mode, depth)
        return True

    def mismatch(self, value: Any, schema: Any, mode: str = RESPONSE, where: str = "$") -> str | None:
        """Where and why ``value`` does not fit ``schema`` (the deepest place found), None when it fits."""
        if self.conforms(value, schema, mode):
            return None
        flat = self._flatten(schema)
        props = flat.get("properties") if isinstance(flat.get("properties"), Mapping) else {}
        if isinstance(value, dict):
            for key, item in value.items():
                if key in props and not self.conforms(item, props[key], mode):
                    return self.mismatch(item, props[key], mode, f"{where}.{key}")
            missing = [r for r in flat.get("required") or [] if r not in value]
            if missing:
                return f"{where}: required {missing} missing"
        if isinstance(value, list) and isinstance(flat.get("items"), Mapping):
            for index, item in enumerate(value):
                if not self.conforms(item, flat["items"], mode):
                    return self.mismatch(item, flat["items"], mode, f"{where}[{index}]")
        shown = {k: v for k, v in flat.items() if k not in ("properties", "description", "example", "items")}
        return f"{where}: {short(value)} does not fit {short(shown)}"

    def _string_ok(self, value: str, flat: Mapping[str, Any]) -> bool:
        low, high, pattern = flat.get("minLength"), flat.get("maxLength"), flat.get("pattern")
        if (isinstance(low, int) and len(value) < low) or (isinstance(high, int) and len(value) > high):
            return False
        if isinstance(pattern, str) and not matches(pattern, value):
            return False
        check = FORMAT_CHECKS.get(str(flat.get("format")))
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

    def _flatten(self, schema: Any) -> dict[str, Any]:
        """``schema`` with its ``$ref`` followed and its ``allOf`` merged into one mapping (cached)."""
        key = id(schema)
        cached = self._flat.get(key)
        if cached is not None:
            return cached[1]
        resolved = self.refs.resolve(schema)
        if not isinstance(resolved, Mapping):
            resolved = {}
        if isinstance(schema, Mapping) and "$ref" in schema and len(schema) > 1:  # siblings of $ref (nullable, ...)
            self._flat[key] = (schema, {})
            resolved = self._merge([{k: v for k, v in schema.items() if k != "$ref"}, self._flatten(resolved)])
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

    def _skipped(self, schema: Any, mode: str) -> bool:
        flat = self._flatten(schema)
        return bool(flat.get("readOnly")) if mode == REQUEST else bool(flat.get("writeOnly"))


def is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "array": list, "object": dict}.get(kind)
    return expected is None or isinstance(value, expected)


def bounds(flat: Mapping[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    low, high = flat.get("minimum"), flat.get("maximum")
    low_x, high_x = flat.get("exclusiveMinimum"), flat.get("exclusiveMaximum")
    if isinstance(low_x, (int, float)) and not isinstance(low_x, bool):
        low, low_x = low_x, True  # OpenAPI 3.1: the bound itself
    if isinstance(high_x, (int, float)) and not isinstance(high_x, bool):
        high, high_x = high_x, True
    return (low if isinstance(low, (int, float)) else None, bool(low_x),
            high if isinstance(high, (int, float)) else None, bool(high_x))


def number_ok(value: float, flat: Mapping[str, Any]) -> bool:
    low, low_x, high, high_x = bounds(flat)
    if low is not None and (value < low or (low_x and value == low)):
        return False
    if high is not None and (value > high or (high_x and value == high)):
        return False
    step = flat.get("multipleOf")
    return not (isinstance(step, (int, float)) and step > 0 and abs(value / step - round(value / step)) > 1e-9)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
