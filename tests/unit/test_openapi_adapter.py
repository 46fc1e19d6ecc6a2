"""Operations of a loaded spec go through the client's one adapter choke point, so everything it does
applies unchanged: retries, the deadline, hooks, middleware, ``detailed=``/Result, idempotency keys; and
list operations paginate by their ``x-myclient-pagination`` hint or a ``paginate=`` map given to ``load``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

import myclient
from myclient.openapi import load
from myclient.testing.mock import MockResponse, MockTransport

BASE = "https://api.example.test"


def document(**list_extra: Any) -> dict[str, Any]:
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
    return {"openapi": "3.0.3", "info": {"title": "A", "version": "1"}, "servers": [{"url": BASE}], "paths": {
        "/items": {"get": {"operationId": "listItems", "responses": ok, "parameters": [
            {"name": "limit", "in": "query", "schema": {"type": "integer"}}], **list_extra},
                   "post": {"operationId": "addItem", "responses": ok, "requestBody": {
                       "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}},
        "/items/{id}": {"get": {"operationId": "getItem", "responses": ok, "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]}},
    }}


def test_retries_apply_and_result_reports_them() -> None:
    transport = MockTransport()
    transport.add("GET", "/items/7", answers=[MockResponse(503), MockResponse(json={"id": 7},
                                                                            headers={"X-Request-Id": "r-1"})])
    waits: list[float] = []
    client = load(document(), transport=transport, sleep=waits.append)
    result = client.default.get_item.detailed(id=7)
    assert isinstance(result, myclient.Result)
    assert (result.status, result.data, result.attempts, result.request_id) == (200, {"id": 7}, 2, "r-1")
    assert result.content == b'{"id": 7}' and len(waits) == 1
    assert client.default.get_item(id=7) == {"id": 7}
    assert len(transport.calls) == 3


def test_a_post_is_not_retried_unless_it_carries_an_idempotency_key() -> None:
    transport = MockTransport()
    transport.add("POST", "/items", answers=[MockResponse(503), MockResponse(201, json={"id": 1})])
    with pytest.raises(myclient.ServiceUnavailable):
        load(document(), transport=transport, sleep=lambda s: None).default.add_item(body={"n": 1})
    assert len(transport.calls) == 1
    client = load(document(), transport=transport, sleep=lambda s: None, idempotency_key=True)
    assert client.default.add_item(body={"n": 1}) == {"id": 1}
    keys = [c.headers.get("Idempotency-Key") for c in transport.calls[1:]]
    assert len(keys) == 1 and keys[0]  # the 201 is the route's last answer: one call with a key


def test_the_deadline_bounds_retries() -> None:
    now = [0.0]

    def slow_503(call: Any) -> MockResponse:
        now[0] += 4.0  # every attempt takes 4 s of the fake clock
        return MockResponse(503)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    for deadline, attempts in ((None, 3), (5.0, 2)):
        transport = MockTransport()
        transport.add("GET", "/items/1", answers=[slow_503])
        client = load(document(), transport=transport, clock=lambda: now[0], sleep=sleep, deadline=deadline)
        with pytest.raises(myclient.ServiceUnavailable):
            client.default.get_item(id=1)
        assert len(transport.calls) == attempts


def test_hooks_and_middleware_see_every_operation_call() -> None:
    transport = MockTransport()
    transport.add("GET", "/items/2", answers=[MockResponse(503), MockResponse(json={"id": 2})])
    events: list[Any] = []
    seen: list[tuple[str, str]] = []

    def middleware(call: Any, next_step: Any) -> Any:
        seen.append((call.method, urlsplit(call.url).path))
        return next_step(call)

    hooks = {name: events.append for name in ("on_request", "on_response", "on_retry", "on_give_up")}
    client = load(document(), transport=transport, hooks=hooks, middleware=[middleware], sleep=lambda s: None)
    assert client.default.get_item(id=2) == {"id": 2}
    assert [(e.name, e.attempt, e.status) for e in events] == [
        ("on_request", 1, None), ("on_response", 1, 503), ("on_retry", 1, 503),
        ("on_request", 2, None), ("on_response", 2, 200)]
    assert {e.url for e in events} == {BASE + "/items/2"}
    assert seen == [("GET", "/items/2"), ("GET", "/items/2")]


def test_call_options_pass_through_and_parameters_stay_parameters() -> None:
    transport = MockTransport()
    transport.add("GET", "/items", json={"data": []})
    client = load(document(), transport=transport)
    client.default.list_items(limit=5, headers={"X-Extra": "1"}, timeout=3)
    call = transport.calls[-1]
    assert call.params == [("limit", "5")] and call.headers["X-Extra"] == "1" and call.options.timeout == (3.0, 3.0)
    with pytest.raises(myclient.UsageError, match=r"unexpected argument\(s\) params \(it takes: limit\)"):
        client.default.list_items(params={"limit": 1})  # the adapter's own argument is not an option here
    assert len(transport.calls) == 1


def test_x_myclient_pagination_walks_pages() -> None:
    transport = MockTransport()
    transport.add("GET", "/items", answers=[MockResponse(json={"data": [1, 2], "next": "c2"}),
                                            MockResponse(json={"data": [3], "next": None})])
    hint = {"style": "cursor", "param": "cursor", "next": "next", "items": "data"}
    client = load(document(**{"x-myclient-pagination": hint}), transport=transport)
    assert list(client.default.list_items.paginate(limit=2)) == [1, 2, 3]
    assert [sorted(dict(c.params).items()) for c in transport.calls] == [[("limit", "2")],
                                                                         [("cursor", "c2"), ("limit", "2")]]


@pytest.mark.parametrize("key", ["default.list_items", "list_items", "listItems"])
def test_a_paginate_map_given_to_load_selects_the_strategy(key: str) -> None:
    transport = MockTransport()
    transport.add("GET", "/items", answers=[MockResponse(json={"items": ["a", "b"]}),
                                            MockResponse(json={"items": ["c"]})])
    hint = {"style": "page", "param": "page", "size_param": "per_page", "size": 2, "items": "items"}
    spec_hint = {"x-myclient-pagination": {"style": "cursor"}}  # the map wins over the document
    client = load(document(**spec_hint), transport=transport, paginate={key: hint})
    assert list(client.default.list_items.paginate()) == ["a", "b", "c"]
    assert [str(dict(c.params)["page"]) for c in transport.calls] == ["1", "2"]


def test_pagination_without_a_hint_follows_link_headers() -> None:
    transport = MockTransport()
    transport.add("GET", "/items", answers=[
        MockResponse(json=[1], headers={"Link": f'<{BASE}/items?page=2>; rel="next"'}), MockResponse(json=[2])])
    assert list(load(document(), transport=transport).default.list_items.paginate()) == [1, 2]


def test_bad_pagination_hints_and_non_get_pagination_are_usage_errors() -> None:
    with pytest.raises(myclient.UsageError, match="pagination hint needs style"):
        load(document(**{"x-myclient-pagination": {"style": "bogus"}}))
    with pytest.raises(myclient.UsageError, match="pagination hint"):
        load(document(), paginate={"listItems": {"style": "cursor", "colour": "red"}})
    client = load(document(), transport=MockTransport())
    with pytest.raises(myclient.UsageError, match="only GET operations can be paginated"):
        client.default.add_item.paginate(body={})
