"""myclient.openapi.load on small hand-made documents: names and groups, arguments checked before sending,
every parameter style on the wire, bodies, decoding per documented response, schemas that must not break
loading or calling, servers with variables. Security is in test_openapi_security.py, the adapter's features
(retries, hooks, Result, deadline, pagination) in test_openapi_adapter.py.

Wire-level checks go through ``responses``, so requests prepares each request as it would on the network.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

import myclient
from myclient.openapi import load
from myclient.testing.mock import MockTransport

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


def recording(document: dict[str, Any], **settings: Any) -> tuple[Any, MockTransport]:
    transport = MockTransport()
    transport.add("*", "", json={"ok": True})
    return load(document, transport=transport, retry=None, **settings), transport


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


# ------------------------------------------------------------------------------------- on the wire


def sent(rs: responses.RequestsMock, document: dict[str, Any], name: str, **arguments: Any) -> Any:
    """Call operation ``name`` against ``responses`` and return the prepared request that went out."""
    for method in (responses.GET, responses.POST):
        rs.add_callback(method, _ANY, callback=lambda r: (200, {"Content-Type": "application/json"}, "{}"))
    client = load(document, retry=None)
    client.operation(name)(**arguments)
    return rs.calls[-1].request


_ANY = re.compile(r"https://api\.example\.test/.*")


@pytest.mark.loose_mock
@pytest.mark.parametrize(("schema", "style", "explode", "value", "pairs", "raw"), [
    ({"type": "array", "items": {"type": "integer"}}, None, None, [1, 2], [("ids", "1"), ("ids", "2")], "ids=1&ids=2"),
    ({"type": "array", "items": {"type": "integer"}}, "form", False, [1, 2], [("ids", "1,2")], "ids=1%2C2"),
    ({"type": "array", "items": {"type": "string"}}, "spaceDelimited", False, ["a", "b c"], [("ids", "a b c")],
     "ids=a+b+c"),
    ({"type": "array", "items": {"type": "string"}}, "pipeDelimited", False, ["a", "b"], [("ids", "a|b")],
     "ids=a%7Cb"),
    ({"type": "object"}, "deepObject", True, {"role": "admin", "age": 3}, [("ids[role]", "admin"), ("ids[age]", "3")],
     "ids%5Brole%5D=admin&ids%5Bage%5D=3"),
    ({"type": "object"}, "form", True, {"role": "admin", "age": 3}, [("role", "admin"), ("age", "3")],
     "role=admin&age=3"),
    ({"type": "object"}, "form", False, {"role": "admin", "age": 3}, [("ids", "role,admin,age,3")],
     "ids=role%2Cadmin%2Cage%2C3"),
    ({"type": "boolean"}, None, None, False, [("ids", "false")], "ids=false"),
    ({"type": "string"}, None, None, "a&b=c", [("ids", "a&b=c")], "ids=a%26b%3Dc"),
])
def test_query_styles_are_serialized_as_the_spec_says(rs: responses.RequestsMock, schema: dict[str, Any],
                                                      style: str | None, explode: bool | None, value: Any,
                                                      pairs: list[tuple[str, str]], raw: str) -> None:
    param = query("ids", schema, required=True)
    if style:
        param["style"] = style
    if explode is not None:
        param["explode"] = explode
    request = sent(rs, doc({"/q": {"get": op("q", parameters=[param])}}), "q", ids=value)
    assert parse_qsl(urlsplit(request.url).query) == pairs
    assert urlsplit(request.url).query == raw


@pytest.mark.loose_mock
@pytest.mark.parametrize(("style", "explode", "value", "path"), [
    (None, None, ["a", "b"], "/v1/items/a,b"),
    (None, None, "a/b c", "/v1/items/a%2Fb%20c"),
    (None, True, {"x": 1, "y": 2}, "/v1/items/x=1,y=2"),
    ("label", False, ["a", "b"], "/v1/items/.a,b"),
    ("label", True, ["a", "b"], "/v1/items/.a.b"),
    ("matrix", False, ["a", "b"], "/v1/items/;id=a,b"),
    ("matrix", True, ["a", "b"], "/v1/items/;id=a;id=b"),
    ("matrix", False, 5, "/v1/items/;id=5"),
])
def test_path_styles_fill_one_segment(rs: responses.RequestsMock, style: str | None, explode: bool | None,
                                      value: Any, path: str) -> None:
    param: dict[str, Any] = {"name": "id", "in": "path", "required": True, "schema": {}}
    if style:
        param["style"] = style
    if explode is not None:
        param["explode"] = explode
    request = sent(rs, doc({"/items/{id}": {"get": op("get", parameters=[param])}}), "get", id=value)
    assert urlsplit(request.url).path == path


def test_a_path_value_cannot_leave_its_segment_and_errors_name_the_argument() -> None:
    client, transport = recording(doc({"/files/{file-id}": {"get": op("getFile", parameters=[
        {"name": "file-id", "in": "path", "required": True, "schema": {"type": "string"}}])}}))
    for bad in ("..", ".", ""):
        with pytest.raises(myclient.UsageError, match=r"get_file\(\): path value 'file_id' must not be empty"):
            client.default.get_file(file_id=bad)
    assert transport.calls == []
    client.default.get_file(file_id="../etc/passwd")
    assert urlsplit(transport.calls[0].url).path == "/v1/files/..%2Fetc%2Fpasswd"


def test_a_fragment_in_the_path_key_is_not_part_of_the_request() -> None:
    """Some documents tell operations on one path apart with ``#...`` in the key; a fragment is never sent."""
    client, transport = recording(doc({
        "/#Action=Start": {"post": op("start", parameters=[query("Action", {"enum": ["Start"]}, required=True)])},
        "/#Action=Stop": {"post": op("stop")},
        "/jobs/{id}#v2": {"get": op("job", parameters=[
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/bad#{id}": {"get": op("bad", parameters=[
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}])},
    }))
    result = client.default.start.detailed(action="Start")
    client.default.job(id="j1")
    assert [(c.url, c.params) for c in transport.calls] == [(BASE + "/", [("Action", "Start")]),
                                                            (BASE + "/jobs/j1", None)]
    assert "#" not in result.url
    with pytest.raises(myclient.UsageError, match=r"has fields after '#'"):
        client.default.bad(id="x")
    assert len(transport.calls) == 2


def test_a_path_field_no_parameter_declares_is_a_usage_error() -> None:
    client, transport = recording(doc({"/search?q={q}": {"get": op("search", parameters=[
        query("q", {"type": "string"}, required=True)])}}))
    with pytest.raises(myclient.UsageError, match=r"has field\(s\) \{q\} that no path parameter declares"):
        client.default.search(q="x")
    assert transport.calls == []


@pytest.mark.loose_mock
def test_header_and_cookie_parameters(rs: responses.RequestsMock) -> None:
    document = doc({"/h": {"get": op("h", parameters=[
        {"name": "X-Tags", "in": "header", "required": True, "schema": {"type": "array", "items": {"type": "string"}}},
        {"name": "X-Dry-Run", "in": "header", "schema": {"type": "boolean"}},
        {"name": "session", "in": "cookie", "required": True, "schema": {"type": "string"}},
        {"name": "theme", "in": "cookie", "schema": {"type": "string"}}])}})
    request = sent(rs, document, "h", x_tags=["a", "b"], x_dry_run=True, session="s1", theme="dark")
    assert request.headers["X-Tags"] == "a,b" and request.headers["X-Dry-Run"] == "true"
    assert sorted(request.headers["Cookie"].split("; ")) == ["session=s1", "theme=dark"]


# ------------------------------------------------------------------------------------------ bodies


def body_op(media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return doc({"/upload": {"post": op("upload", requestBody={
        "required": True, "content": {media: {"schema": schema or {"type": "object"}}}})}})


@pytest.mark.loose_mock
def test_json_form_and_raw_bodies(rs: responses.RequestsMock) -> None:
    request = sent(rs, body_op("application/json"), "upload", body={"name": "é", "tags": ["a"]})
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"name": "é", "tags": ["a"]}
    request = sent(rs, body_op("application/x-www-form-urlencoded"), "upload",
                   body={"name": "a b", "ok": True, "tags": ["x", "y"]})
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == "name=a+b&ok=true&tags=x&tags=y"
    request = sent(rs, body_op("application/octet-stream", {"type": "string", "format": "binary"}), "upload",
                   body=b"\x00\x01")
    assert request.headers["Content-Type"] == "application/octet-stream" and request.body == b"\x00\x01"


@pytest.mark.loose_mock
def test_a_form_body_may_be_given_already_encoded(rs: responses.RequestsMock) -> None:
    """Documents that type a form body as a string: the text is sent as it is, with the form content type."""
    request = sent(rs, body_op("application/x-www-form-urlencoded", {"type": "string"}), "upload",
                   body="text=I+like+apples")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == "text=I+like+apples"


@pytest.mark.loose_mock
def test_multipart_fields_files_and_arrays_of_files(rs: responses.RequestsMock) -> None:
    schema = {"type": "object", "properties": {"files": {"type": "array", "items": {"type": "string",
                                                                                    "format": "binary"}}}}
    request = sent(rs, body_op("multipart/form-data", schema), "upload", body={
        "title": "Q1", "count": 2, "meta": {"a": 1}, "files": [b"first", ("b.txt", b"second", "text/plain")],
        "tags": ["x", "y"]})
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    parts = _multipart(request)
    assert parts == [("title", None, b"Q1"), ("count", None, b"2"), ("meta", None, b'{"a":1}'),
                     ("files", "files", b"first"), ("files", "b.txt", b"second"), ("tags", None, b"x"),
                     ("tags", None, b"y")]


def test_values_that_cannot_be_written_are_usage_errors_and_bytes_are_text() -> None:
    document = doc({"/m": {"post": op("m", parameters=[query("f", {})], requestBody={
        "content": {"multipart/form-data": {"schema": {"type": "object"}}}})}})
    client, transport = recording(document)
    for bad in ({"meta": {"raw": b"x"}}, {"meta": {"ratio": float("nan")}}):
        with pytest.raises(myclient.UsageError, match="cannot be written as JSON"):
            client.default.m(body=bad)
    with pytest.raises(myclient.UsageError, match="must be UTF-8 text"):
        client.default.m(f=b"\xff")
    assert transport.calls == []
    client.default.m(f=b"caf\xc3\xa9")
    client.default.m(f=[b"a", b"b"])
    assert [c.params for c in transport.calls] == [[("f", "café")], [("f", "a"), ("f", "b")]]


def _multipart(request: Any) -> list[tuple[str, str | None, bytes]]:
    """(name, filename, content) of each part, in order."""
    import email.parser
    import email.policy

    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    return [(part.get_param("name", header="content-disposition"), part.get_filename(),
             part.get_payload(decode=True)) for part in message.iter_parts()]


# ------------------------------------------------------------------------------------------ answers


def answers_doc() -> dict[str, Any]:
    error = {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
    return doc({
        "/thing": {"get": op("getThing", responses={
            "200": {"description": "ok", "content": {"application/vnd.acme.thing+json; version=2": {
                "schema": {"type": "object"}}}},
            "404": {"description": "gone", "content": {"application/json": {"schema": error}}},
            "4XX": {"description": "other", "content": {"application/problem+json": {"schema": error}}}})},
        "/text": {"get": op("getText", responses={"200": {"description": "ok", "content": {
            "text/plain": {"schema": {"type": "string"}}}}})},
        "/blob": {"get": op("getBlob", responses={"200": {"description": "ok", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})},
        "/nothing": {"delete": op("deleteNothing", responses={"204": {"description": "gone"}})},
    })


def test_answers_are_decoded_by_documented_status_and_content_type() -> None:
    transport = MockTransport()
    transport.add("GET", "/thing", body=b'{"id": 1}', headers={"Content-Type": "application/vnd.acme.thing+json; "
                                                                           "version=2"})
    transport.add("GET", "/text", body="héllo".encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
    transport.add("GET", "/blob", body=b"\x89PNG", headers={"Content-Type": "application/octet-stream"})
    transport.add("DELETE", "/nothing", status=204)
    client = load(answers_doc(), transport=transport)
    assert client.default.get_thing() == {"id": 1}
    assert client.default.get_text() == "héllo"
    assert client.default.get_blob() == b"\x89PNG"
    assert client.default.delete_nothing() is None
    assert client.spec.by_id("getThing").success().is_json  # a vendor JSON type with parameters is JSON


def test_a_2xx_that_says_json_but_is_not_is_invalid_response() -> None:
    transport = MockTransport()
    transport.add("GET", "/thing", body=b"<html>", headers={"Content-Type": "application/json"})
    with pytest.raises(myclient.InvalidResponse, match="200 response to GET /thing is not JSON"):
        load(answers_doc(), transport=transport).default.get_thing()


def test_documented_error_bodies_are_decoded_onto_the_error(rs: responses.RequestsMock) -> None:
    gone = {"code": "gone", "message": "no such thing", "errors": [{"field": "id"}]}
    rs.add(responses.GET, BASE + "/thing", json=gone, status=404)
    rs.add(responses.GET, BASE + "/thing", body=b'{"code": "busy"}', status=409,
           content_type="application/problem+json")
    rs.add(responses.GET, BASE + "/text", json={"code": "boom"}, status=500)
    client = load(answers_doc(), retry=None)
    with pytest.raises(myclient.NotFound) as not_found:
        client.default.get_thing()
    assert not_found.value.data == gone
    assert not_found.value.errors == [{"field": "id"}] and "no such thing" in not_found.value.body
    assert "404 Not Found: GET https://api.example.test/v1/thing - no such thing" in str(not_found.value)
    with pytest.raises(myclient.Conflict) as conflict:
        client.default.get_thing()
    assert conflict.value.data == {"code": "busy"}  # documented by 4XX
    with pytest.raises(myclient.InternalServerError) as undocumented:
        client.default.get_text()
    assert undocumented.value.data is None  # not documented for this operation


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
