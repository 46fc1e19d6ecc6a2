"""What a generated client sends and returns: the same requests as ``myclient.openapi.load``, credentials per
operation, decoded answers, error bodies, ``Result``, and a group overridden by subclassing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from servers.codegen import build, run_mypy

import myclient
from myclient.openapi import load
from myclient.testing.mock import MockResponse, MockTransport

JSON_OK = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
ERROR = {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {
    "message": {"type": "string"}}}}}}

STYLES: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Styles", "version": "1"},
    "servers": [{"url": "https://{region}.api.example/v1", "variables": {"region": {"default": "eu"}}}],
    "paths": {
        "/items/{id}/{label}/{matrix}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": "getItem", "tags": ["items"], "parameters": [
                {"name": "label", "in": "path", "required": True, "style": "label", "explode": True,
                 "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "matrix", "in": "path", "required": True, "style": "matrix",
                 "schema": {"type": "object", "additionalProperties": {"type": "integer"}}},
                {"name": "tags", "in": "query", "explode": False, "schema": {"type": "array", "items": {
                    "type": "string"}}},
                {"name": "filter", "in": "query", "style": "deepObject", "explode": True, "schema": {
                    "type": "object", "properties": {"color": {"type": "string"}, "size": {"type": "integer"}}}},
                {"name": "ids", "in": "query", "style": "pipeDelimited", "schema": {"type": "array", "items": {
                    "type": "integer"}}},
                {"name": "flag", "in": "query", "schema": {"type": "boolean"}},
                {"name": "X-Trace-Id", "in": "header", "required": True, "schema": {"type": "string"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                {"name": "options", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": JSON_OK, "404": ERROR}}},
        "/forms": {"post": {"operationId": "sendForm", "tags": ["items"], "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                "name": {"type": "string"}, "count": {"type": "integer"}}}}}},
            "responses": {"204": {"description": "done"}}}},
        "/uploads": {"post": {"operationId": "upload", "tags": ["items"], "requestBody": {"content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"}, "note": {"type": "string"}}}}}},
            "responses": {"201": JSON_OK}}},
        "/blobs/{id}": {
            "put": {"operationId": "putBlob", "tags": ["blobs"], "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {
                    "type": "string", "format": "binary"}}}},
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}},
            "get": {"operationId": "getBlob", "tags": ["blobs"], "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok", "content": {"application/octet-stream": {}}}}}},
    },
}

SECURED: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Secured", "version": "2"},
    "servers": [{"url": "https://secure.example"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        "query_key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "basic": {"type": "http", "scheme": "basic"}}},
    "paths": {
        "/me": {"get": {"operationId": "me", "responses": {"200": JSON_OK}}},
        "/health": {"get": {"operationId": "health", "security": [], "responses": {"200": JSON_OK}}},
        "/keyed": {"get": {"operationId": "keyed", "security": [{"key": []}], "responses": {"200": JSON_OK}}},
        "/either": {"get": {"operationId": "either", "security": [{"basic": []}, {"query_key": []}],
                            "responses": {"200": JSON_OK}}},
    },
}

USERS: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Users", "version": "3"},
    "servers": [{"url": "https://users.example"}],
    "paths": {"/users/{user_id}": {"get": {
        "operationId": "getUser", "tags": ["users"], "summary": "Retrieve a user",
        "parameters": [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/User"}}}}, "404": ERROR}},
        "delete": {"operationId": "deleteUser", "tags": ["users"], "parameters": [
            {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"204": {"description": "gone"}}}}},
    "components": {"schemas": {"User": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "first_name": {"type": "string", "nullable": True}}}}},
}


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] in ("styles", "secured", "users_api", "user_code")]:
        del sys.modules[name]


def _sent(transport: MockTransport) -> tuple[Any, ...]:
    call = transport.calls[-1]
    return (call.method, call.url, {k: v for k, v in call.headers.items() if k.lower() not in (
        "x-correlation-id", "user-agent")}, call.json, call.data, call.files, call.options.cookies)


def test_requests_are_the_ones_the_runtime_loader_sends(out: Path) -> None:
    styles = build(STYLES, out, "styles")
    generated_transport, loaded_transport = MockTransport(), MockTransport()
    for transport in (generated_transport, loaded_transport):
        transport.add("*", "", answers=[lambda call: MockResponse(
            204 if "/forms" in call.url else 200, json={"ok": True} if "/forms" not in call.url else None)])
    generated = styles.StylesClient(transport=generated_transport)
    loaded = load(STYLES, transport=loaded_transport)
    assert generated.base_url == loaded.base_url == "https://eu.api.example/v1"
    item = {"id": "a/b", "label": ["x", "y"], "matrix": {"a": 1, "b": 2}, "tags": ["t1", "t2"],
            "filter": {"color": "red", "size": 3}, "ids": [1, 2], "flag": True, "x_trace_id": "tr-1",
            "session": "s1"}
    assert generated.items.get_item(**item, query_options="o") == {"ok": True}
    assert loaded.items.get_item(**item, options="o") == {"ok": True}
    assert _sent(generated_transport) == _sent(loaded_transport)
    call = generated_transport.calls[-1]
    assert call.url.startswith("https://eu.api.example/v1/items/a%2Fb/.x.y/")  # one segment each
    assert call.params == [("tags", "t1,t2"), ("filter[color]", "red"), ("filter[size]", "3"), ("ids", "1|2"),
                           ("flag", "true"), ("options", "o")]
    assert (call.headers["X-Trace-Id"], call.options.cookies) == ("tr-1", {"session": "s1"})
    assert generated.items.send_form(body={"name": "n", "count": 2}) is None
    loaded.items.send_form(body={"name": "n", "count": 2})
    assert _sent(generated_transport) == _sent(loaded_transport)
    generated.items.upload(body={"file": b"\x00bytes", "note": "hi"})
    loaded.items.upload_2(body={"file": b"\x00bytes", "note": "hi"})  # the loader reserves upload
    assert _sent(generated_transport) == _sent(loaded_transport)
    assert generated_transport.calls[-1].files == [("file", ("file", b"\x00bytes", "application/octet-stream")),
                                                   ("note", (None, "hi"))]


def test_answers_are_decoded_by_media_type(out: Path) -> None:
    styles = build(STYLES, out, "styles")
    transport = MockTransport()
    transport.add("PUT", "/blobs/7", body="stored", headers={"Content-Type": "text/plain"})
    transport.add("GET", "/blobs/7", body=b"\x89PNG", headers={"Content-Type": "application/octet-stream"})
    client = styles.StylesClient(transport=transport)
    assert client.blobs.put_blob(id=7, body=b"\x00\x01") == "stored"
    assert transport.calls[-1].data == b"\x00\x01"
    assert transport.calls[-1].headers["Content-Type"] == "application/octet-stream"
    assert client.blobs.get_blob(id=7) == b"\x89PNG"
    result = client.blobs.get_blob_detailed(id=7)
    assert (result.status, result.data, result.headers["Content-Type"]) == (200, b"\x89PNG", "application/octet-stream")


def test_arguments_are_checked_before_anything_is_sent(out: Path) -> None:
    styles = build(STYLES, out, "styles")
    transport = MockTransport()
    client = styles.StylesClient(transport=transport)
    with pytest.raises(myclient.UsageError, match=r"items.get_item\(\) needs x_trace_id"):
        client.items.get_item(id="1", label=["a"], matrix={}, x_trace_id=None)
    with pytest.raises(myclient.UsageError, match="must not be empty"):
        client.items.get_item(id="..", label=["a"], matrix={}, x_trace_id="t")
    assert transport.calls == []


def test_each_operation_gets_the_credentials_its_security_requires(out: Path, rs: responses.RequestsMock) -> None:
    secured = build(SECURED, out, "secured")
    for path in ("/me", "/health", "/keyed", "/either"):
        rs.get(f"https://secure.example{path}", json={"path": path})
    client = secured.SecuredClient(token="tok-1", credentials={"key": "k-2", "query_key": "q-3"})
    client.default.me()
    client.default.health()
    client.default.keyed()
    client.default.either()
    sent = {call.request.url.split("?")[0].rsplit("/", 1)[1]: call.request for call in rs.calls}
    assert sent["me"].headers["Authorization"] == "Bearer tok-1"
    assert "Authorization" not in sent["health"].headers and "X-Api-Key" not in sent["health"].headers
    assert sent["keyed"].headers["X-Api-Key"] == "k-2" and "Authorization" not in sent["keyed"].headers
    assert sent["either"].url.endswith("/either?api_key=q-3")  # basic has no credentials: the next alternative


def test_a_hand_made_call_and_a_copy_keep_the_credentials(out: Path, rs: responses.RequestsMock) -> None:
    secured = build(SECURED, out, "secured")
    rs.get("https://secure.example/me", json={})
    rs.get("https://secure.example/keyed", json={})
    client = secured.SecuredClient(credentials={"bearer": "tok-1", "basic": ("ann", "pw")})
    client.adapter.get("/me")
    assert rs.calls[-1].request.headers["Authorization"] == "Bearer tok-1"  # the API's default requirement
    copy = client.with_options(token="tok-2", timeout=3)
    copy.default.me()
    assert rs.calls[-1].request.headers["Authorization"] == "Bearer tok-2"
    copy.default.keyed()
    assert "X-Api-Key" not in rs.calls[-1].request.headers  # no key was given: sent without credentials


def test_credentials_that_cannot_apply_are_refused(out: Path) -> None:
    secured = build(SECURED, out, "secured")
    with pytest.raises(myclient.UsageError, match="unknown security scheme"):
        secured.SecuredClient(credentials={"nope": "x"})
    with pytest.raises(myclient.UsageError, match="not both"):
        secured.SecuredClient(credentials={"key": "k"}, auth=myclient.BasicAuth("a", "b"))
    users = build(USERS, out, "users_api")
    with pytest.raises(myclient.UsageError, match="has no security schemes"):
        users.UsersClient(credentials={"bearer": "x"})
    no_bearer = {**SECURED, "components": {"securitySchemes": {"key": SECURED["components"]["securitySchemes"]["key"]}},
                 "security": [{"key": []}]}
    keyed = build(no_bearer, out, "secured")
    with pytest.raises(myclient.UsageError, match="token= fills bearer schemes and this API has none"):
        keyed.SecuredClient(token="t")


def test_errors_carry_the_documented_body_and_results_the_typed_data(out: Path) -> None:
    users = build(USERS, out, "users_api")
    transport = MockTransport()
    transport.add("GET", "/users/u1", json={"id": "u1", "first_name": "Ada"}, headers={"X-Request-Id": "r1"})
    transport.add("GET", "/users/u2", status=404, json={"message": "no such user"})
    transport.add("DELETE", "/users/u1", status=204)
    client = users.UsersClient(transport=transport)
    assert client.users.get_user(user_id="u1") == {"id": "u1", "first_name": "Ada"}
    result = client.users.get_user_detailed(user_id="u1")
    assert (result.status, result.request_id, result.data["id"]) == (200, "r1", "u1")
    with pytest.raises(myclient.NotFound) as caught:
        client.users.get_user(user_id="u2")
    assert caught.value.data == {"message": "no such user"}
    assert client.users.delete_user(user_id="u1") is None


USER_CODE = '''\
import myclient
from myclient.codegen.runtime import Unpack
from users_api import UsersClient, models
from users_api.users import Users


class CachedUsers(Users[myclient.Adapter]):
    """Answers get_user from a cache; everything else as generated."""

    cache: dict[str, models.User] = {}

    def get_user(self, *, user_id: str, **options: Unpack[myclient.CallOptions]) -> models.User:
        if user_id not in self.cache:
            self.cache[user_id] = super().get_user(user_id=user_id, **options)
        return self.cache[user_id]


class MyUsersClient(UsersClient):
    users = myclient.group(CachedUsers)
'''


def test_one_operation_is_overridden_by_subclassing_its_group(out: Path) -> None:
    build(USERS, out, "users_api")
    (out / "user_code.py").write_text(USER_CODE)
    import user_code

    transport = MockTransport()
    route = transport.add("GET", "/users/u1", json={"id": "u1"})
    transport.add("DELETE", "/users/u1", status=204)
    client = user_code.MyUsersClient(transport=transport)
    assert isinstance(client.users, user_code.CachedUsers)
    assert client.users.get_user(user_id="u1") == {"id": "u1"}
    assert client.users.get_user(user_id="u1", timeout=2) == {"id": "u1"}
    assert len(route.calls) == 1  # the override answered the second call
    assert client.users.get_user_detailed(user_id="u1").data == {"id": "u1"}  # the twin is untouched
    assert len(route.calls) == 2
    assert client.users.delete_user(user_id="u1") is None
    proc = run_mypy(out, ["-p", "users_api", "-m", "user_code"])
    assert proc.returncode == 0, proc.stdout


ASYNC_USER_CODE = '''\
import asyncio

from users_async import UsersAsyncClient, UsersClient


def sync_use(client: UsersClient) -> None:
    reveal_type(client.users.get_user(user_id="u1"))


async def async_use(client: UsersAsyncClient) -> None:
    reveal_type(client.users.get_user(user_id="u1"))
    reveal_type(await client.users.get_user_detailed(user_id="u1"))
'''


def test_the_same_groups_serve_the_async_client_typed_for_it(out: Path) -> None:
    """Every generated operation has its async variant: the AsyncClient's groups return awaitables (mypy agrees)."""
    package = build(USERS, out, "users_async")
    transport = MockTransport()
    transport.add("GET", "/users/u1", json={"id": "u1"})

    async def use() -> tuple[Any, int]:
        async with package.UsersAsyncClient(transport=transport, token="t0k") as client:
            user = await client.users.get_user(user_id="u1")
            result = await client.users.get_user_detailed(user_id="u1")
            return user, result.status

    assert asyncio.run(use()) == ({"id": "u1"}, 200)
    assert len(transport.calls) == 2
    (out / "async_user_code.py").write_text(ASYNC_USER_CODE)
    proc = run_mypy(out, ["-p", "users_async", "-m", "async_user_code"])
    revealed = [line.split('Revealed type is "', 1)[1].rstrip('"') for line in proc.stdout.splitlines()
                if "Revealed type is" in line]
    user = "TypedDict(users_async.models.User"
    assert len(revealed) == 3, proc.stdout
    assert revealed[0].startswith(user), revealed  # on a Client: the data
    assert revealed[1].startswith(f"typing.Awaitable[{user}"), revealed  # on an AsyncClient: an awaitable of it
    assert revealed[2].startswith(f"myclient.results.Result[{user}"), revealed  # awaited detailed variant
