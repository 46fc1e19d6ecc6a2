"""What a generated package holds, decided before any text is written: groups, methods, arguments and types.

Names come from ``myclient.openapi``'s model (the ones a runtime-loaded client uses) and change only where
generated code reads better or needs it: a method name loses its group's name in front (GitHub's
``repos/get`` is ``client.repos.get``, not ``client.repos.repos_get``) unless that collides; a group
attribute that would hide a ``Client`` member gets a trailing ``_``; a method whose ``_detailed`` twin would
collide is numbered; an argument called ``options`` (the per-call options' name) is renamed by location.
Return types are the union over the documented 2xx answers (``default`` when there is none), typed by media
type: JSON → the schema's type, ``text/*`` → ``str``, other bodies → ``bytes``, no body (HEAD, 204) → ``None``.
"""

from __future__ import annotations

import keyword
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..openapi._model import Operation, Param, SpecModel, snake
from ..results import is_json_type
from ._names import Names, camel, constant
from ._schemas import ModelSet, first_sentence
from ._types import ANY, NONE, Type, atom, dict_of, union
from .runtime import GeneratedClient

__all__ = ["Argument", "Group", "Method", "Plan", "plan"]

#: Names a method must not take: the module names its annotations use.
_METHOD_RESERVED = frozenset({"models", "myclient", "builtins"})
_CLIENT_MEMBERS = frozenset(name for name in dir(GeneratedClient) if not name.startswith("__"))
_BYTES_BODY = union(atom("bytes"), atom("IO[bytes]"))


@dataclass
class Argument:
    """One keyword argument of a method: its Python name, its type, whether it is required, its description."""

    py: str
    type: Type
    required: bool
    doc: str
    param: Param | None = None


@dataclass
class Method:
    """One operation as a pair of methods (``name`` and ``name_detailed``) and its ``Op`` constant."""

    name: str
    op: Operation
    arguments: list[Argument]
    returns: Type
    constant: str


@dataclass
class Group:
    """One tag: the client attribute, the module, the class and its methods."""

    attr: str
    module: str
    cls: str
    tag: str
    doc: str
    methods: list[Method] = field(default_factory=list)


@dataclass
class Plan:
    """The whole package: client class name, groups, models and what the client class declares."""

    title: str
    version: str
    client: str
    groups: list[Group]
    models: ModelSet
    schemes: dict[str, Any]
    security: list[dict[str, list[str]]]


def plan(model: SpecModel) -> Plan:
    """Decide every name and type of the package for ``model`` (deterministic: document order throughout)."""
    models = ModelSet(model)
    classes = Names()
    client = classes.claim(camel(model.title, "Api") + "Client")
    tags = {str(t.get("name")): t for t in model.document.get("tags") or [] if isinstance(t, Mapping)}
    attrs: set[str] = set()
    modules = Names({"models"})
    groups: list[Group] = []
    for name, operations in model.groups.items():
        attr = name + "_" if name in _CLIENT_MEMBERS else name
        while attr in attrs:
            attr += "_"
        attrs.add(attr)
        tag = operations[0].tag
        doc = first_sentence(tags.get(tag, {}).get("description"))
        group = Group(attr, modules.claim(attr), classes.claim(camel(tag, "Group")), tag, doc)
        taken: set[str] = set()
        for op, wanted in zip(operations, _short_names(name, operations), strict=True):
            group.methods.append(_method(op, wanted, models, taken))
        groups.append(group)
    schemes = {name: _scheme(value) for name, value in model.security_schemes.items() if isinstance(value, Mapping)}
    security = model.document.get("security")
    default = [{str(k): [str(s) for s in v] if isinstance(v, list) else [] for k, v in r.items()}
               for r in security if isinstance(r, Mapping)] if isinstance(security, list) else []
    return Plan(model.title, model.version, client, groups, models, schemes, default)


def _scheme(scheme: Mapping[str, Any]) -> dict[str, Any]:
    """What the runtime needs of a security scheme (descriptions left out)."""
    names = ("type", "scheme", "in", "name", "openIdConnectUrl")
    kept = {k: scheme[k] for k in names if isinstance(scheme.get(k), str)}
    flows = scheme.get("flows")
    credentials = flows.get("clientCredentials") if isinstance(flows, Mapping) else None
    if isinstance(credentials, Mapping) and isinstance(credentials.get("tokenUrl"), str):
        scopes = credentials.get("scopes")
        kept["flows"] = {"clientCredentials": {"tokenUrl": credentials["tokenUrl"],
                                               "scopes": {str(s): "" for s in scopes} if isinstance(scopes, Mapping)
                                               else {}}}
    return kept


def _short_names(group: str, operations: list[Operation]) -> list[str]:
    """The methods' names, from the operationIds in snake_case.

    The group's name in front is dropped when that stays unique (``repos.repos_get`` → ``repos.get``); where
    names collide, the model's numbered ones are used. The model also numbers names a runtime-loaded group
    reserves (``upload`` → ``upload_2``); a generated group has no such members, so ``upload`` stays ``upload``.
    """
    full = [snake(op.operation_id) if op.operation_id else op.name for op in operations]
    counts = Counter(full)
    full = [name if counts[name] == 1 else op.name for name, op in zip(full, operations, strict=True)]
    prefix = group.rstrip("_") + "_"
    short = [name[len(prefix):] if name.startswith(prefix) else name for name in full]
    usable = [s.isidentifier() and not keyword.iskeyword(s) and not s[:1].isdigit() for s in short]
    counts = Counter([*short, *(name for name, ok in zip(full, usable, strict=True) if not ok)])
    return [s if ok and (counts[s] == 1 or s == name) else name
            for name, s, ok in zip(full, short, usable, strict=True)]


def _method(op: Operation, wanted: str, models: ModelSet, taken: set[str]) -> Method:
    base = wanted + "_" if wanted in _METHOD_RESERVED else wanted
    name, n = base, 2
    while name in taken or f"{name}_detailed" in taken:
        name, n = f"{base}_{n}", n + 1
    taken.update((name, f"{name}_detailed"))
    hint = camel(op.operation_id or f"{op.group}_{op.name}", "Operation")
    used = {p.py_name for p in op.params}
    arguments: list[Argument] = []
    for param in op.params:
        py = param.py_name
        if py == "options":
            py = snake(f"{param.location}_options")
            while py in used:
                py += "_"
            used.add(py)
        kind = models.type_of(param.schema, hint + camel(param.name, "Param"))
        arguments.append(Argument(py, kind, param.required, first_sentence(param.description), param))
    if op.body is not None:
        arguments.append(Argument("body", _body_type(op, models, hint + "Body"), op.body.required,
                                  first_sentence(op.body.description)))
    arguments.sort(key=lambda a: (not a.required, a.param is None))
    return Method(name, op, arguments, _returns(op, models, hint), constant(name))


def _body_type(op: Operation, models: ModelSet, hint: str) -> Type:
    assert op.body is not None
    media = op.body.media_type.lower()
    if "json" in media or media == "*/*":
        return models.type_of(op.body.schema, hint)
    if media in ("application/x-www-form-urlencoded", "multipart/form-data") or media.startswith("multipart/"):
        found = models.form_type(op.body.schema, hint) if media.startswith("multipart/") else models.type_of(
            op.body.schema, hint)
        return found if found.kind in ("any", "dict", "ref") else dict_of(ANY)
    if media.startswith("text/"):
        return atom("str")
    return _BYTES_BODY


def _returns(op: Operation, models: ModelSet, hint: str) -> Type:
    if op.method == "HEAD":
        return NONE
    statuses = sorted(s for s in op.responses if s.startswith("2")) or (["default"] if "default" in op.responses
                                                                          else [])
    if not statuses:
        return ANY
    found: list[Type] = []
    for index, status in enumerate(statuses):
        response = op.responses[status]
        name = hint + "Response" + ("" if index == 0 else status.upper())
        if response.media_type is None or status in ("204", "205"):
            found.append(NONE)  # 204 and 205 have no body, whatever the document says
        elif is_json_type(response.media_type) or response.media_type == "*/*":
            found.append(models.type_of(response.schema, name) if response.schema is not None else ANY)
        elif response.media_type.lower().startswith("text/"):
            found.append(atom("str"))
        else:
            found.append(atom("bytes"))
    return union(*found)
