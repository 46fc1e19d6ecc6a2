"""Small hand-made OpenAPI documents for the unit tests of myclient.openapi, and ways to call them.

``doc(paths)`` is a 3.0.3 document on :data:`BASE`; ``op(...)`` an operation answering 200 JSON; ``query(...)``
a query parameter. ``recording(document)`` loads it on a recording MockTransport; ``sent(rs, document, name,
**arguments)`` calls one operation through ``responses`` (requests prepares the request as on the network)
and returns the request that went out.
"""

from __future__ import annotations

import re
from typing import Any

import responses

from myclient.openapi import SpecClient, load
from myclient.testing.mock import MockTransport

__all__ = ["BASE", "doc", "op", "query", "recording", "sent"]

BASE = "https://api.example.test/v1"


def doc(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "Acme", "version": "1"}, "servers": [{"url": BASE}],
            "paths": paths, **extra}


def op(operation_id: str | None = None, **fields: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": {"type": "object"}}}}}, **fields}
    if operation_id:
        found["operationId"] = operation_id
    return found


def query(name: str, schema: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, **fields}


def recording(document: dict[str, Any], **settings: Any) -> tuple[SpecClient, MockTransport]:
    transport = MockTransport()
    transport.add("*", "", json={"ok": True})
    return load(document, transport=transport, retry=None, **settings), transport


def sent(rs: responses.RequestsMock, document: dict[str, Any], name: str, **arguments: Any) -> Any:
    """Call operation ``name`` against ``responses`` and return the prepared request that went out."""
    for method in (responses.GET, responses.POST):
        rs.add_callback(method, _ANYWHERE, callback=lambda r: (200, {"Content-Type": "application/json"}, "{}"))
    client = load(document, retry=None)
    client.operation(name)(**arguments)
    return rs.calls[-1].request


_ANYWHERE = re.compile(r"https://api\.example\.test/.*")

