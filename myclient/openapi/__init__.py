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

from ..client import Client
from ..exceptions import UsageError
from ..groups import ApiGroup, group
from ._model import Operation, SpecModel, snake
from ._runtime import OperationMethod, SpecRuntime
from ._security import Security
from ._spec import child, read_document

__all__ = ["Operation", "SpecClient", "SpecModel", "load", "read_document", "server_url", "snake"]


class SpecClient(Client):
    """A Client built from an OpenAPI document; ``spec`` is its normalized model, groups are attributes."""

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
    model = SpecModel(read_document(spec))
    base = base_url or server_url(model, server_variables)
    if not base or not re.match(r"^https?://", base):
        raise UsageError(f"the document's server URL is {base!r}; pass base_url='https://...' "
                         "(an absolute http(s) URL)")
    security = Security(model, credentials, token, base_url=base)
    runtime = SpecRuntime(security, paginate or {})
    namespace: dict[str, Any] = {"spec": model, "__doc__": f"A client for {model.title} {model.version}".strip()}
    for group_name, operations in model.groups.items():
        methods: dict[str, Any] = {op.name: OperationMethod(op, runtime) for op in operations}
        methods["__doc__"] = f"Operations tagged {operations[0].tag!r}."
        cls = type(_class_name(group_name), (ApiGroup,), methods)
        namespace[group_name] = group(cls)
    client_cls = type(_class_name(model.title) + "Client", (SpecClient,), namespace)
    client: SpecClient = client_cls(base, **client_settings)
    security.bind(client.adapter)
    return client


def _class_name(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text) or ["Api"]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else "Api" + name
