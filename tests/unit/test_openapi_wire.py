"""myclient.openapi on the wire: every query, path, header and cookie style, JSON, form, multipart and raw
bodies, and answers decoded by documented status and content type (documented error bodies on ``e.data``).

Most checks go through ``responses``, so requests prepares each request as it would on the network.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from openapi_docs import BASE, doc, op, query, recording, sent

import myclient
from myclient.openapi import load
from myclient.testing.mock import MockTransport

# ------------------------------------------------------------------------------------- parameters


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
def test_multipart_fields_files_and_arrays_of_files(rs: responses.RequestsMock, tmp_path: Any) -> None:
    schema = {"type": "object", "properties": {"files": {"type": "array", "items": {"type": "string",
                                                                                    "format": "binary"}}}}
    document = body_op("multipart/form-data", schema)
    document["paths"]["/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]["encoding"] = {
        "files": {"contentType": "image/png, image/jpeg"}}
    (tmp_path / "report.csv").write_bytes(b"a,b\n")
    with (tmp_path / "report.csv").open("rb") as report:
        request = sent(rs, document, "upload", body={
            "title": "Q1", "count": 2, "meta": {"a": 1}, "files": [b"first", ("b.txt", b"second", "text/plain")],
            "tags": ["x", "y"], "blob": b"\x00", "report": report})
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert _multipart(request) == [
        ("title", None, None, b"Q1"), ("count", None, None, b"2"), ("meta", None, None, b'{"a":1}'),
        ("files", "files", "image/png", b"first"), ("files", "b.txt", "text/plain", b"second"),
        ("tags", None, None, b"x"), ("tags", None, None, b"y"),
        ("blob", "blob", "application/octet-stream", b"\x00"),  # a file part always says its type
        ("report", "report.csv", "application/octet-stream", b"a,b\n")]


def _multipart(request: Any) -> list[tuple[str, str | None, str | None, bytes]]:
    """(name, filename, Content-Type, content) of each part, in order."""
    import email.parser
    import email.policy

    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    return [(part.get_param("name", header="content-disposition"), part.get_filename(), part["Content-Type"],
             part.get_payload(decode=True)) for part in message.iter_parts()]


def test_values_that_cannot_be_written_are_usage_errors_and_bytes_are_text() -> None:
    document = doc({"/m": {"post": op("m", parameters=[query("f", {})], requestBody={
        "content": {"multipart/form-data": {"schema": {"type": "object"}}}})}})
    client, transport = recording(document)
    for bad in ({"meta": {"raw": b"x"}}, {"meta": {"ratio": float("nan")}}):
        with pytest.raises(myclient.UsageError, match=r"^default\.m\(\): body: field 'meta': a parameter value "
                                                      "cannot be written as JSON"):
            client.default.m(body=bad)
    with pytest.raises(myclient.UsageError, match=r"^default\.m\(\): f: a parameter value of bytes must be UTF-8"):
        client.default.m(f=b"\xff")
    assert transport.calls == []
    client.default.m(f=b"caf\xc3\xa9")
    client.default.m(f=[b"a", b"b"])
    assert [c.params for c in transport.calls] == [[("f", "café")], [("f", "a"), ("f", "b")]]


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

