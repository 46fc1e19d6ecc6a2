"""An OpenAPI 3 document becomes a myclient client at run time: ``myclient.openapi.load(spec, ...)``.

Groups follow the first tag of each operation (``default`` when untagged), operations follow
``operationId`` in snake_case (method + path without one); path, query, header and cookie parameters
and the body are keyword arguments, checked before anything is sent and serialized as the spec says;
credentials are chosen per operation from its security requirements; every call goes through the
client's adapter. ``myclient.codegen`` writes the same client as typed code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..aio import AsyncClient
from ..client import Client
from ..exceptions import UsageError
from ..groups import ApiGroup, group
from ._model import Operation, SpecModel, snake
from ._runtime import OperationMethod, SpecRuntime
from ._security import Security
from ._spec import child, read_document

__all__ = ["AsyncSpecClient", "Operation", "SpecClient", "SpecModel", "load", "load_async", "read_document",
           "server_url", "snake"]


class _SpecOperations:
    """What both spec clients (sync and async) offer beside their groups."""

    spec: SpecModel

    def operation(self, name: str) -> Any:
        """An operation by operationId or ``group.name`` (a callable with ``.detailed`` and ``.paginate``)."""
        op = self.spec.by_id(name)
        if op is None:
            raise UsageError(f"no operation {name!r} in {self.spec.title}")
        return getattr(getattr(self, op.group), op.name)

    def operations(self) -> list[str]:
        """Every operation as ``group.name``, in the document's order."""
        return [f"{op.group}.{op.name}" for op in self.spec.operations]


class SpecClient(_SpecOperations, Client):
    """A Client built from an OpenAPI document; ``spec`` is its normalized model, groups are attributes."""


class AsyncSpecClient(_SpecOperations, AsyncClient):
    """An AsyncClient built from an OpenAPI document: the same groups, operations return awaitables."""


def server_url(model: SpecModel, variables: Mapping[str, str] | None = None, index: int = 0) -> str | None:
    """The URL of ``servers[index]`` with its variables filled (given values, else the defaults); None if none."""
    if not model.servers or index >= len(model.servers):
        return None
    server = model.servers[index]
    if not isinstance(server, Mapping) or not isinstance(server.get("url"), str):
        return None
    url = str(server["url"])
    declared = child(server, "variables")
    given = dict(variables or {})
    for name in re.findall(r"\{([^{}]+)\}", url):
        spec = child(declared, name)
        value = given.get(name, spec.get("default"))
        if value is None:
            raise UsageError(f"server variable {name!r} has no default; pass server_variables={{{name!r}: ...}}")
        allowed = spec.get("enum")
        if isinstance(allowed, list) and allowed and value not in allowed:
            raise UsageError(f"server variable {name!r} must be one of {allowed}, got {value!r}")
        url = url.replace("{" + name + "}", str(value))
    return url


def load(spec: Any, *, base_url: str | None = None, server_variables: Mapping[str, str] | None = None,
         credentials: Mapping[str, Any] | None = None, token: Any = None,
         paginate: Mapping[str, Any] | None = None, **client_settings: Any) -> SpecClient:
    """A client for the API an OpenAPI 3 document describes.

    ``spec`` is a path (JSON or YAML), a dict, or the document's text. ``base_url`` defaults to the first
    server (variables from ``server_variables``, else their defaults); a relative server URL needs
    ``base_url``. ``credentials`` maps security scheme names to what they need (see
    ``myclient.openapi._security``); ``token`` fills every bearer-like scheme. ``paginate`` maps operation
    names to pagination strategies (or hints), beside the spec's ``x-myclient-pagination``. Other keyword
    arguments are Client settings (``timeout``, ``retry``, ``session``, ``hooks``, ...).
    """
    client = _build(spec, SpecClient, base_url, server_variables, credentials, token, paginate, client_settings)
    assert isinstance(client, SpecClient)
    return client


def load_async(spec: Any, *, base_url: str | None = None, server_variables: Mapping[str, str] | None = None,
               credentials: Mapping[str, Any] | None = None, token: Any = None,
               paginate: Mapping[str, Any] | None = None, **client_settings: Any) -> AsyncSpecClient:
    """``load`` for an AsyncClient: ``await client.users.get_user(user_id=...)``."""
    client = _build(spec, AsyncSpecClient, base_url, server_variables, credentials, token, paginate, client_settings)
    assert isinstance(client, AsyncSpecClient)
    return client


def _build(spec: Any, base: type[Any], base_url: str | None, server_variables: Mapping[str, str] | None,
           credentials: Mapping[str, Any] | None, token: Any, paginate: Mapping[str, Any] | None,
           client_settings: dict[str, Any]) -> Any:
    """Read the document, build one group class per tag and the client class, and make the client."""
    model = SpecModel(read_document(spec))
    resolved = base_url_of(model, base_url, server_variables)
    security = Security(model, credentials, token, base_url=resolved)
    runtime = SpecRuntime(security, paginate or {})
    namespace: dict[str, Any] = {"spec": model, "__doc__": f"A client for {model.title} {model.version}".strip()}
    for group_name, operations in model.groups.items():
        methods: dict[str, Any] = {op.name: OperationMethod(op, runtime) for op in operations}
        methods["__doc__"] = f"Operations tagged {operations[0].tag!r}."
        cls = type(_class_name(group_name), (ApiGroup,), methods)
        namespace[group_name] = group(cls)
    client_cls = type(_class_name(model.title) + ("AsyncClient" if base is AsyncSpecClient else "Client"), (base,),
                      namespace)
    client = client_cls(resolved, **client_settings)
    security.bind(client.adapter if base is SpecClient else client.sync.adapter)
    return client


def base_url_of(model: SpecModel, base_url: str | None, variables: Mapping[str, str] | None) -> str:
    """``base_url``, else the first server's URL; UsageError when that is not an absolute http(s) URL."""
    base = base_url or server_url(model, variables)
    if not base or not re.match(r"^https?://", base):
        raise UsageError(f"the document's server URL is {base!r}; pass base_url='https://...' "
                         "(an absolute http(s) URL)")
    return base


def _class_name(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text) or ["Api"]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else "Api" + name
