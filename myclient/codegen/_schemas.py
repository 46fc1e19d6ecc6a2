"""From JSON Schemas to models: every schema the operations reach becomes a TypedDict, a type alias or an inline type.

The rules: an object schema with properties is a TypedDict; ``allOf`` merges its parts' keys; ``oneOf``/``anyOf``
is a union; ``nullable``, ``x-nullable`` and ``type: [..., "null"]`` add ``| None``; string, integer and boolean
enums (and ``const``) are ``Literal``; ``additionalProperties`` alone is ``dict[str, T]``; arrays are ``list[T]``;
formats stay ``str`` (a date-time is a string on the wire); anything else is ``Any``. Component schemas keep their
names (CamelCase, made unique, assigned to every component up front so they never depend on what else is reached);
inline objects are named after where they appear (``GetUserResponse``, ``UserAddress``) and identical inline
objects share one class; long unions and literals become named aliases so signatures stay short. Components are
defined from a work queue, so long chains of references never recurse.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import unquote

from ..openapi._model import SpecModel
from ._names import Names, camel
from ._types import ANY, NONE, Type, atom, dict_of, list_of, literal, ref, render, union

__all__ = ["FILE", "AliasDef", "Field", "ModelSet", "TypedDictDef", "first_sentence"]

#: A union or Literal longer than this (as text) becomes a named alias in models.py.
HOIST = 60
#: An enum with more values than this stays its base type.
MAX_LITERALS = 256
#: What a file field of a multipart body accepts (the runtime sends bytes, a file, or (name, file[, type])).
FILE = union(atom("bytes"), atom("IO[bytes]"), atom("tuple[str, bytes | IO[bytes]]"),
             atom("tuple[str, bytes | IO[bytes], str]"))
_TYPED = frozenset({"type", "properties", "items", "allOf", "oneOf", "anyOf", "enum", "const", "$ref",
                    "additionalProperties", "patternProperties"})
_PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_COMPONENT = re.compile(r"^#/components/schemas/([^/]+)$")
_NOT_IN_KEY = frozenset({"description", "example", "examples", "externalDocs", "title", "x-examples"})


@dataclass
class Field:
    """One key of a TypedDict: its JSON name, its type, whether it is required."""

    key: str
    type: Type
    required: bool


@dataclass
class TypedDictDef:
    """A JSON object as a TypedDict."""

    name: str
    doc: str
    fields: list[Field]


@dataclass
class AliasDef:
    """Any other named schema, as a type alias."""

    name: str
    doc: str
    type: Type


Definition = Union[TypedDictDef, AliasDef]


def first_sentence(text: Any, limit: int = 100) -> str:
    """The first sentence (or line) of a description, cut to ``limit`` characters."""
    if not isinstance(text, str):
        return ""
    line = " ".join(text.strip().split("\n\n", 1)[0].split())
    match = re.match(r"(.+?[.!?])(\s|$)", line)
    line = match.group(1) if match else line
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _doc(schema: Mapping[str, Any]) -> str:
    return first_sentence(schema.get("title")) or first_sentence(schema.get("description"))


def _trivial(schema: Any) -> bool:
    """A schema that says nothing about the type (only constraints or annotations)."""
    return not isinstance(schema, Mapping) or not (_TYPED & set(schema))


def _members(schema: Mapping[str, Any], keyword: str) -> list[Any]:
    members = schema.get(keyword)
    if isinstance(members, list) and any(not _trivial(m) for m in members):
        return members
    return []


def _props(schema: Any) -> Mapping[str, Any]:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def _normalize(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _normalize(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalize(v) for v in node]
    return node if isinstance(node, (str, int, float, bool)) or node is None else str(node)


def _canonical(schema: Mapping[str, Any]) -> str:
    kept = {k: v for k, v in schema.items() if k not in _NOT_IN_KEY}
    return json.dumps(_normalize(kept), sort_keys=True, separators=(",", ":"))


class ModelSet:
    """The models of one document: ``type_of(schema, hint)`` gives a schema's type, ``finish()`` the definitions."""

    def __init__(self, model: SpecModel) -> None:
        self.refs = model.refs
        self.schemas = model.schemas
        self.names = Names()
        self.defs: dict[str, Definition] = {}
        self._components = {component: self.names.claim(camel(component)) for component in model.schemas}
        self._pointers: dict[str, str] = {}
        self._scheduled: set[str] = set()
        self._nullable_dicts: dict[str, bool] = {}
        self._queue: deque[tuple[str, Any]] = deque()
        self._inline: dict[str, str] = {}
        self._hoisted: dict[Type, str] = {}

    # -- the entry points ------------------------------------------------------------------------
    def type_of(self, schema: Any, hint: str) -> Type:
        """The type of ``schema``; new models it needs are named after ``hint``."""
        if not isinstance(schema, Mapping):
            return ANY
        target = schema.get("$ref")
        if isinstance(target, str):
            found = self._reference(target, hint, 0)
        else:
            found = self._hoist(self._plain(schema, hint), hint)
        return union(found, NONE) if self._nullable(schema) else found

    def form_type(self, schema: Any, hint: str) -> Type:
        """The type of a multipart body: like ``type_of``, with binary fields typed as files."""
        resolved = self.refs.resolve(schema)
        shape = self._shape(resolved) if isinstance(resolved, Mapping) else None
        if shape is None or not any(self._binary(v) for v in shape[0].values()):
            return self.type_of(schema, hint)
        name = self.names.claim(camel(hint))
        fields = [Field(key, FILE if self._binary(value) else self.type_of(value, name + camel(key, "Field")),
                        key in shape[1]) for key, value in shape[0].items()]
        self.defs[name] = TypedDictDef(name, _doc(resolved), fields)
        return ref(name)

    def finish(self) -> list[Definition]:
        """Every definition, components reached included, sorted by name (aliases cycling on themselves → Any)."""
        while self._queue:
            name, schema = self._queue.popleft()
            self.defs[name] = self._definition(name, schema)
        self._break_alias_cycles()
        return [self.defs[name] for name in sorted(self.defs, key=lambda n: (n.lower(), n))]

    # -- references --------------------------------------------------------------------------------
    def _reference(self, target: str, hint: str, depth: int) -> Type:
        match = _COMPONENT.match(target)
        if match:
            component = unquote(match.group(1)).replace("~1", "/").replace("~0", "~")
            name = self._components.get(component)
            if name is None:
                return ANY
            return self._named(name, self.schemas[component])
        if not target.startswith("#") or depth > 50:
            return ANY
        if target in self._pointers:
            return ref(self._pointers[target])
        node = self.refs.pointer(target)
        if not isinstance(node, Mapping):
            return ANY
        if isinstance(node.get("$ref"), str):
            return self._reference(node["$ref"], hint, depth + 1)
        name = self._pointers[target] = self.names.claim(camel(hint))
        return self._named(name, node)

    def _named(self, name: str, schema: Any) -> Type:
        """A reference to the model ``name`` (defined later from the queue).

        ``| None`` is added when the model is a nullable object: a TypedDict cannot say it (an alias says it
        itself), so every place that names it does.
        """
        if name not in self._scheduled:
            self._scheduled.add(name)
            self._queue.append((name, schema))
            self._nullable_dicts[name] = isinstance(schema, Mapping) and self._nullable(schema) and not isinstance(
                schema.get("$ref"), str) and self._shape(schema) is not None
        return union(ref(name), NONE) if self._nullable_dicts[name] else ref(name)

    def _definition(self, name: str, schema: Any) -> Definition:
        if not isinstance(schema, Mapping):
            return AliasDef(name, "", ANY)
        shape = None if isinstance(schema.get("$ref"), str) else self._shape(schema)
        if shape is not None:
            return TypedDictDef(name, _doc(schema), self._fields(name, shape))
        if isinstance(schema.get("$ref"), str):
            return AliasDef(name, _doc(schema), self.type_of(schema, name))
        found = self._plain(schema, name)
        return AliasDef(name, _doc(schema), union(found, NONE) if self._nullable(schema) else found)

    # -- schemas -----------------------------------------------------------------------------------
    @staticmethod
    def _nullable(schema: Mapping[str, Any]) -> bool:
        kinds = schema.get("type")
        return schema.get("nullable") is True or schema.get("x-nullable") is True or (
            isinstance(kinds, list) and "null" in kinds)

    def _plain(self, schema: Mapping[str, Any], hint: str) -> Type:
        for keyword in ("oneOf", "anyOf"):
            members = _members(schema, keyword)
            if members:
                return self._one_of(schema, members, hint)
        parts = schema.get("allOf")
        if isinstance(parts, list) and not _props(schema):
            typed = [p for p in parts if not _trivial(p)]
            if len(typed) == 1:
                return self.type_of(typed[0], hint)
        values = schema.get("enum")
        if isinstance(values, list) and values:
            return self._enum(schema, values, hint)
        if "const" in schema:
            return self._enum(schema, [schema["const"]], hint)
        shape = self._shape(schema)
        if shape is not None:
            return self._inline_dict(schema, shape, hint)
        kinds = schema.get("type")
        if isinstance(kinds, list):
            return union(*(self._kind(str(k), schema, hint) for k in kinds)) if kinds else ANY
        if kinds is None:
            if "items" in schema:
                kinds = "array"
            elif "additionalProperties" in schema or "properties" in schema:
                kinds = "object"
        return self._kind(str(kinds), schema, hint)

    def _kind(self, kind: str, schema: Mapping[str, Any], hint: str) -> Type:
        if kind in _PRIMITIVES:
            return atom(_PRIMITIVES[kind])
        if kind == "null":
            return NONE
        if kind == "array":
            items = schema.get("items")
            return list_of(self.type_of(items, hint + "Item") if isinstance(items, Mapping) else ANY)
        if kind == "object":
            extra = schema.get("additionalProperties")
            if isinstance(extra, Mapping) and extra:
                return dict_of(self.type_of(extra, hint + "Value"))
            return dict_of(ANY)
        return ANY

    def _enum(self, schema: Mapping[str, Any], values: list[Any], hint: str) -> Type:
        kept = [v for v in values if isinstance(v, (str, int))]  # bool is an int
        others = [v for v in values if v is not None and not isinstance(v, (str, int))]
        if others or not kept or len(kept) > MAX_LITERALS:
            rest = {k: v for k, v in schema.items() if k not in ("enum", "const")}
            found = self._plain(rest, hint) if not _trivial(rest) else ANY
        else:
            found = literal(kept)
        return union(found, NONE) if None in values else found

    def _one_of(self, schema: Mapping[str, Any], members: list[Any], hint: str) -> Type:
        own = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "discriminator", "nullable")}
        merge = bool(_props(own)) or isinstance(own.get("allOf"), list)
        found: list[Type] = []
        for index, member in enumerate(members, 1):
            name = hint + self._member_hint(member, index)
            found.append(self.type_of({"allOf": [own, member]} if merge else member, name))
        return union(*found)

    def _member_hint(self, member: Any, index: int) -> str:
        if isinstance(member, Mapping):
            target = member.get("$ref")
            if isinstance(target, str) and _COMPONENT.match(target):
                return camel(target.rsplit("/", 1)[1], f"Option{index}")
            if isinstance(member.get("title"), str):
                return camel(member["title"], f"Option{index}")
        return f"Option{index}"

    def _shape(self, schema: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]] | None:
        """The merged keys (and required ones) when ``schema`` is an object with properties, else None."""
        if _members(schema, "oneOf") or _members(schema, "anyOf"):
            return None
        parts = schema.get("allOf")
        if isinstance(parts, list) and not _props(schema) and len([p for p in parts if not _trivial(p)]) <= 1:
            return None
        props: dict[str, Any] = {}
        required: set[str] = set()
        self._collect(schema, props, required, set())
        return (props, required) if props else None

    def _collect(self, schema: Any, props: dict[str, Any], required: set[str], seen: set[str]) -> None:
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            if schema["$ref"] in seen:
                return
            seen.add(schema["$ref"])
            schema = self.refs.pointer(schema["$ref"])
        if not isinstance(schema, Mapping):
            return
        parts = schema.get("allOf")
        for part in parts if isinstance(parts, list) else []:
            self._collect(part, props, required, seen)
        for key, value in _props(schema).items():
            props[str(key)] = value
        listed = schema.get("required")
        if isinstance(listed, list):
            required.update(str(k) for k in listed if isinstance(k, (str, int)))

    def _fields(self, name: str, shape: tuple[dict[str, Any], set[str]]) -> list[Field]:
        props, required = shape
        return [Field(key, self.type_of(value, name + camel(key, "Field")), key in required)
                for key, value in props.items()]

    def _inline_dict(self, schema: Mapping[str, Any], shape: tuple[dict[str, Any], set[str]], hint: str) -> Type:
        key = _canonical(schema)
        name = self._inline.get(key)
        if name is None:
            name = self._inline[key] = self.names.claim(camel(hint))
            self.defs[name] = TypedDictDef(name, _doc(schema), self._fields(name, shape))
        return ref(name)

    def _hoist(self, found: Type, hint: str) -> Type:
        if found.kind not in ("union", "literal") or len(render(found)) <= HOIST:
            return found
        name = self._hoisted.get(found)
        if name is None:
            name = self._hoisted[found] = self.names.claim(camel(hint))
            self.defs[name] = AliasDef(name, "", found)
        return ref(name)

    def _binary(self, schema: Any) -> bool:
        resolved = self.refs.resolve(schema)
        return isinstance(resolved, Mapping) and resolved.get("format") == "binary"

    def _break_alias_cycles(self) -> None:
        """An alias that reaches itself outside a list or dict (``A = A | None``) is not a type: make it Any."""

        def bare(t: Type) -> list[str]:
            if t.kind == "ref":
                return [t.name]
            return [n for arg in t.args for n in bare(arg)] if t.kind == "union" else []

        aliases = {name: d for name, d in self.defs.items() if isinstance(d, AliasDef)}
        for name in sorted(aliases):
            stack, seen = list(bare(aliases[name].type)), set()
            while stack:
                current = stack.pop()
                if current == name:
                    aliases[name].type = ANY
                    break
                if current in aliases and current not in seen:
                    seen.add(current)
                    stack.extend(bare(aliases[current].type))
