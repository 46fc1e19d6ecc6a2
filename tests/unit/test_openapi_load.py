"""myclient.openapi.load on small hand-made documents: names and groups, arguments checked before sending,
schemas that must not break loading or calling, the forms a document comes in, servers with variables.
Parameters, bodies and answers on the wire are in test_openapi_wire.py, security in test_openapi_security.py,
the adapter's features (retries, hooks, Result, deadline, pagination) in test_openapi_adapter.py.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from openapi_docs import doc, op, query, recording

import myclient
from myclient.openapi import load
from myclient.testing.mock import MockTransport

# ---------------------------------------------------------------------------------------------- names


def test_groups_follow_the_first_tag_and_untagged_operations_go_to_default() -> None:
    client, transport = recording(doc({
        "/users": {"get": op("listUsers", tags=["User Accounts", "Admin"]), "post": op("createUser")},
        "/health": {"get": op("getHealth", tags=[])},
    }))
    assert client.operations() == ["user_accounts.list_users", "default.create_user", "default.get_health"]
    assert client.user_accounts.list_users() == {"ok": True}
    client.default.create_user()
    assert [(c.method, urlsplit(c.url).path) for c in transport.calls] == [("GET", "/v1/users"), ("POST", "/v1/users")]
    assert client.operation("createUser") is not None and client.operation("default.get_health") is not None
    with pytest.raises(myclient.UsageError, match="no operation 'nope'"):
        client.operation("nope")


def test_operation_ids_become_snake_case_and_method_path_names_the_rest() -> None:
    client, _ = recording(doc({
        "/users/{userId}": {"parameters": [{"name": "userId", "in": "path", "required": True,
                                            "schema": {"type": "string"}}],
                            "get": op("getUserByID"), "delete": op()},
        "/v2/HTTPServer-stats": {"get": op("fetch HTTPServer.stats!")},
        "/class": {"get": op("class")},
    }))
    assert client.operations() == ["default.get_user_by_id", "default.delete_users_user_id",
                                   "default.fetch_http_server_stats", "default.class_"]


def test_name_collisions_are_resolved_the_same_way_every_time() -> None:
    paths = {
        "/a": {"get": op("listItems", tags=["items"]), "post": op("list_items", tags=["items"]),
               "put": op("ListItems", tags=["items"])},
        "/b": {"get": op("paginate", tags=["items"]), "post": op("x", tags=["spec"])},
        "/c": {"get": op("y", tags=["Spec"]), "post": op("z", tags=["Adapter"])},
    }
    first = load(doc(paths)).operations()
    assert first == ["items.list_items", "items.list_items_2", "items.list_items_3", "items.paginate_2",
                     "spec_2.x", "spec_3.y", "adapter_2.z"]  # tags "spec" and "Spec" are two tags
    assert load(doc(paths)).operations() == first


def test_parameter_names_never_clash_with_the_body_or_call_options() -> None:
    client, transport = recording(doc({"/things/{id}": {"post": op(
        "make", parameters=[
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
            query("timeout", {"type": "integer"}, required=True), query("body", {"type": "string"}),
            {"name": "id", "in": "header", "schema": {"type": "string"}}],
        requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})}}))
    client.default.make(id=7, query_timeout=30, query_body="b", header_id="h", body={"a": 1}, timeout=5)
    call = transport.calls[0]
    assert urlsplit(call.url).path == "/v1/things/7"
    assert call.params == [("timeout", "30"), ("body", "b")]
    assert call.headers["id"] == "h" and call.json == {"a": 1}
    assert call.options.timeout == (5.0, 5.0)  # the call option, not the query parameter


# ------------------------------------------------------------------------------------ checked first


def test_missing_required_arguments_raise_usage_error_and_nothing_is_sent() -> None:
    client, transport = recording(doc({"/orgs/{org}/members": {"post": op(
        "addMember", parameters=[
            {"name": "org", "in": "path", "required": True, "schema": {"type": "string"}},
            query("role", {"type": "string"}, required=True), query("notify", {"type": "boolean"}),
            {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}}],
        requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})}}))
    with pytest.raises(myclient.UsageError) as missing:
        client.default.add_member(org="acme", notify=True)
    assert "needs role, x_trace, body" in str(missing.value) and "POST /orgs/{org}/members" in str(missing.value)
    with pytest.raises(myclient.UsageError, match="unexpected argument"):
        client.default.add_member(org="acme", role="r", x_trace="t", body={}, colour="red")
    with pytest.raises(myclient.UsageError, match="needs org"):
        client.default.add_member(org=None, role="r", x_trace="t", body={})
    assert transport.calls == []


def test_a_body_is_refused_where_the_spec_documents_none() -> None:
    client, transport = recording(doc({"/items/{id}": {"get": op("getItem", parameters=[
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}])}}))
    with pytest.raises(myclient.UsageError, match=r"unexpected argument\(s\) body \(it takes: id\)"):
        client.default.get_item(id=1, body={"x": 1})
    assert transport.calls == []


# ------------------------------------------------------------------------------------------ schemas


def test_refs_composition_and_odd_schemas_load_and_call() -> None:
    components = {
        "schemas": {
            "Node": {"type": "object", "properties": {"children": {"type": "array",
                                                                   "items": {"$ref": "#/components/schemas/Node"}}}},
            "A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"},  # a cycle of refs
            "Pet": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["cat", "dog"]}, "owner": {"type": "string", "nullable": True}},
                "additionalProperties": {"type": "integer"}}]},
            "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
            "Either": {"oneOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "string"}],
                       "discriminator": {"propertyName": "kind"}},
            "Any": {"anyOf": [{"type": "integer"}, {"$ref": "#/components/schemas/Node"}]},
        },
        "parameters": {"Limit": {"$ref": "#/components/parameters/RealLimit"},
                       "RealLimit": {"name": "limit", "in": "query", "required": True,
                                     "schema": {"$ref": "#/components/schemas/Any"}}},
        "requestBodies": {"Pet": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Either"}}}}},
        "responses": {"Tree": {"description": "a tree", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Node"}}}}},
    }
    document = doc({
        "/pets": {"$ref": "#/x-paths/pets"},
        "/loops": {"get": op("loop", parameters=[{"$ref": "#/components/parameters/Limit"}],
                             responses={"200": {"$ref": "#/components/responses/Tree"}},
                             requestBody={"content": {"application/json": {
                                 "schema": {"$ref": "#/components/schemas/A"}}}})},
        "/missing": {"get": op("missing", parameters=[{"$ref": "#/components/parameters/Nope"}],
                               requestBody={"$ref": "#/components/requestBodies/Nope"})},
    }, components=components, **{"x-paths": {"pets": {"post": op("addPet", requestBody={
        "$ref": "#/components/requestBodies/Pet"}, responses={"201": {"$ref": "#/components/responses/Tree"}})}}})
    transport = MockTransport()
    tree = {"children": [{"children": []}]}
    transport.add("*", "", json=tree)
    client = load(document, transport=transport)
    assert client.operations() == ["default.add_pet", "default.loop", "default.missing"]
    pet = {"id": 1, "kind": "cat", "owner": None, "legs": 4}
    assert client.default.add_pet(body=pet) == tree
    assert client.default.loop(limit=5, body={"x": 1}) == tree
    assert client.default.missing() == tree
    with pytest.raises(myclient.UsageError, match="needs body"):
        client.default.add_pet()
    assert transport.calls[0].json == pet and transport.calls[1].params == [("limit", "5")]


def test_a_yaml_document_a_path_and_text_load_alike(tmp_path: Any) -> None:
    text = "openapi: 3.0.3\ninfo: {title: Y, version: '1'}\nservers: [{url: 'https://y.example'}]\n" \
           "paths:\n  /a:\n    get: {operationId: getA, responses: {'200': {description: ok}}}\n"
    (tmp_path / "spec.yaml").write_text(text)
    (tmp_path / "spec.json").write_text(json.dumps(doc({"/a": {"get": op("getA")}})))
    for spec in (text, tmp_path / "spec.yaml", str(tmp_path / "spec.json"), (tmp_path / "spec.json").read_bytes()):
        assert load(spec).operations() == ["default.get_a"]
    with pytest.raises(myclient.UsageError, match=r"only OpenAPI 3\.x"):
        load({"swagger": "2.0", "paths": {}})
    with pytest.raises(myclient.UsageError, match="cannot read the OpenAPI document"):
        load(tmp_path / "missing.json")


# ------------------------------------------------------------------------------------------ servers


def test_servers_with_variables() -> None:
    servers = [{"url": "https://{region}.api.example.test/{version}", "variables": {
        "region": {"default": "eu", "enum": ["eu", "us"]}, "version": {"default": "v2"}}}]
    document = doc({"/ping": {"get": op("ping")}}, servers=servers)
    transport = MockTransport()
    transport.add("*", "", json={})
    load(document, transport=transport).default.ping()
    load(document, transport=transport, server_variables={"region": "us"}).default.ping()
    load(document, transport=transport, base_url="https://other.example.test/x").default.ping()
    assert [c.url for c in transport.calls] == ["https://eu.api.example.test/v2/ping",
                                                "https://us.api.example.test/v2/ping",
                                                "https://other.example.test/x/ping"]
    with pytest.raises(myclient.UsageError, match=r"must be one of \['eu', 'us'\]"):
        load(document, server_variables={"region": "mars"})
    no_default = doc({}, servers=[{"url": "https://{tenant}.example.test", "variables": {"tenant": {}}}])
    with pytest.raises(myclient.UsageError, match="server variable 'tenant' has no default"):
        load(no_default)
    assert load(no_default, server_variables={"tenant": "acme"}).base_url == "https://acme.example.test"
    with pytest.raises(myclient.UsageError, match="pass base_url="):
        load(doc({}, servers=[{"url": "/relative"}]))
